// Compiled once the hyperlab target depends on Server and swift-log (see the Package.swift lines in the
// serve report); until then the file is empty, so the rest of the CLI keeps building.
#if canImport(Server) && canImport(Logging)
import ArgumentParser
import Foundation
import Logging
import Server
import Transformer

/// `hyperlab serve`: an OpenAI-compatible HTTP server over a local model.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a model over an OpenAI-compatible HTTP API (chat, completions with logprobs, streaming).",
        discussion: """
            Endpoints: GET /v1/models, POST /v1/chat/completions, POST /v1/completions, GET /metrics (Prometheus), \
            GET /health. Concurrent requests share the model through continuous batching. Binds to loopback unless \
            --host says otherwise. SIGINT/SIGTERM stop taking requests and let running ones finish.
            """)

    @Option(name: .shortAndLong, help: "A model alias (see `hyperlab models list`) or a path to a .gguf file.")
    var model: String = ModelStore.defaultModel

    @Option(help: "Name clients use for the base model (default: the alias or the file name without .gguf).")
    var name: String?

    @Option(help: "A LoRA adapter (GGUF) to serve as an extra model named after its file; repeat for several.")
    var adapter: [String] = []

    @Option(help: "Address to bind.") var host: String = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port, printed at start).") var port: Int = 8080

    @Option(help: "Environment variable holding the API key clients must send as a bearer token (the key is never logged).")
    var apiKeyEnv: String?

    @Option(help: "Longest sequence to allow (default: the model's context length).") var context: Int?
    @Option(help: "Worker threads (default: HYPERLAB_THREADS or all cores).") var threads: Int?
    @Option(help: "Choices decoded together in one batch.") var maxBatch: Int = 16
    @Option(help: "Requests allowed to wait for the batch; more are answered 429.") var maxQueue: Int = 64
    @Option(help: "Largest max_tokens accepted (and the chat default).") var maxTokens: Int = 1024
    @Option(help: "Longest prompt accepted, in tokens (default: the context limit).") var maxPromptTokens: Int?
    @Option(help: "Largest request body, in bytes.") var maxBodyBytes: Int = 1 << 20
    @Option(help: "Seconds allowed to receive a request body.") var bodyTimeout: Int = 10
    @Option(help: "Seconds running requests get to finish on shutdown.") var shutdownGrace: Int = 30
    @Flag(help: "Log prompt texts (off by default).") var logPrompts = false
    @Option(help: "Log level (trace, debug, info, notice, warning, error, critical).") var logLevel: String = "info"

    func run() async throws {
        if let t = threads { setenv("HYPERLAB_THREADS", String(t), 1) }
        var apiKey: String? = nil
        if let env = apiKeyEnv {
            guard let v = ProcessInfo.processInfo.environment[env], !v.isEmpty else {
                throw ValidationError("--api-key-env \(env): the environment variable \(env) is not set or empty")
            }
            apiKey = v
        }
        if host != "127.0.0.1" && host != "localhost" && host != "::1" && apiKey == nil {
            FileHandle.standardError.write(Data("warning: serving on \(host) without --api-key-env: anyone who can reach it can use the model\n".utf8))
        }
        let path = try ModelStore.resolve(model, log: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        let base = try Model(path: path, contextLimit: context)
        let baseName = name ?? (ModelStore.alias(named: model) != nil ? model
                                : URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent)
        var models: [(name: String, model: Model)] = [(baseName, base)]
        for a in adapter {
            let adapterName = URL(fileURLWithPath: a).deletingPathExtension().lastPathComponent
            models.append((adapterName, try Serve.loadAdapted(path: path, adapter: a, context: context)))
        }
        var logger = Logger(label: "hyperlab.serve")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let config = ServerConfiguration(
            host: host, port: port, apiKey: apiKey, maxBodyBytes: maxBodyBytes, bodyTimeout: .seconds(bodyTimeout),
            maxPromptTokens: maxPromptTokens, maxGenerationTokens: maxTokens,
            engine: EngineLimits(maxActiveChoices: maxBatch, maxQueuedJobs: maxQueue),
            shutdownGrace: .seconds(shutdownGrace), logPrompts: logPrompts)
        let server = try HyperlabServer(models: models, configuration: config, logger: logger)
        let names = models.map(\.name).joined(separator: ", ")
        let log = logger
        let host = self.host
        try await server.run { port in
            log.notice("serving \(names) on http://\(host):\(port)/v1")
        }
    }

    /// The base model with one LoRA adapter merged into its weights.
    static func loadAdapted(path: String, adapter: String, context: Int?) throws -> Model {
        try Model(path: path, contextLimit: context, adapters: [(path: adapter, scale: 1)])
    }
}
#endif
