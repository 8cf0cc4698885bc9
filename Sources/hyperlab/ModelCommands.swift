import ArgumentParser
import Foundation
import GGUF
import Transformer

/// Options shared by every command that loads a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "A model alias (see `hyperlab models list`) or a path to a .gguf file.")
    var model: String = ModelStore.defaultModel

    @Option(help: "Worker threads (default: HYPERLAB_THREADS or all cores).")
    var threads: Int?

    @Option(help: "Longest sequence to allow (default: the model's context length).")
    var context: Int?

    func load() throws -> Model {
        if let t = threads { setenv("HYPERLAB_THREADS", String(t), 1) }
        let path = try ModelStore.resolve(model, log: note)
        return try Model(path: path, contextLimit: context)
    }
}

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, fetch and inspect models.",
        subcommands: [List.self, Pull.self, Info.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the model aliases and whether each is cached.")
        @Flag var json = false
        struct Row: Encodable { let alias: String; let summary: String; let cached: Bool; let path: String }
        func run() throws {
            let rows = ModelStore.aliases.map {
                let p = ModelStore.cachedPath($0)
                return Row(alias: $0.name, summary: $0.summary, cached: FileManager.default.fileExists(atPath: p), path: p)
            }
            if json { try printJSON(rows); return }
            for r in rows { print("\(r.alias.padding(toLength: 24, withPad: " ", startingAt: 0)) \(r.cached ? "cached " : "missing") \(r.summary)") }
        }
    }

    struct Pull: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Fetch a model alias into the cache (kept if already there).")
        @Argument var name: String
        @Flag(help: "Download again even if cached.") var force = false
        func run() throws {
            guard let a = ModelStore.alias(named: name) else {
                throw CLIError("unknown alias \(name); known: \(ModelStore.aliases.map(\.name).joined(separator: ", "))")
            }
            print(force ? try ModelStore.pull(a, log: note) : try ModelStore.resolve(name, log: note))
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a model's configuration and tensors.")
        @Argument var name: String = ModelStore.defaultModel
        @Flag var json = false
        struct Out: Encodable {
            let path: String; let config: ModelConfig; let tensorCount: Int; let tensorTypes: [String: Int]
            let parameters: Int; let hasChatTemplate: Bool; let metadata: [String: String]
        }
        func run() throws {
            let path = try ModelStore.resolve(name, log: note)
            let file = try GGUFFile(path: path)
            let config = try ModelConfig(gguf: file)
            var types: [String: Int] = [:]
            for t in file.tensors { types[t.type.description, default: 0] += 1 }
            var meta: [String: String] = [:]
            for k in file.metadataKeys where !k.hasPrefix("tokenizer.ggml.") {
                meta[k] = String(String(describing: file.metadata[k]!).prefix(200))
            }
            let out = Out(path: path, config: config, tensorCount: file.tensors.count, tensorTypes: types,
                          parameters: file.tensors.reduce(0) { $0 + $1.elementCount },
                          hasChatTemplate: file.metadata["tokenizer.chat_template"] != nil, metadata: meta)
            if json { try printJSON(out); return }
            print("path        \(path)")
            print("arch        \(config.architecture.rawValue): \(config.layerCount) layers, dim \(config.dim), heads \(config.headCount)/\(config.kvHeadCount) × \(config.headDim), ffn \(config.ffnDim), vocab \(config.vocabularySize)")
            print("parameters  \(out.parameters)")
            print("tensors     \(out.tensorCount): \(types.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " "))")
            print("context     \(config.contextLength)\(config.slidingWindow.map { ", sliding window \($0)" } ?? "")")
            print("chat        \(out.hasChatTemplate ? "template present" : "no template (plain format)")")
        }
    }
}

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the token ids of a text.")
    @OptionGroup var modelOptions: ModelOptions
    @Flag(help: "Parse special tokens written in the text.") var special = false
    @Flag(help: "Print {\"ids\":[…]}.") var json = false
    @Argument var text: String
    func run() throws {
        let model = try modelOptions.load()
        let ids = model.tokenizer.encode(text, parseSpecial: special)
        if json { try printJSON(["ids": ids]); return }
        for id in ids { print("\(id)\t\(model.tokenizer.tokenText(id).debugDescription)") }
    }
}

struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the top-K next-token logits after a prompt.")
    @OptionGroup var modelOptions: ModelOptions
    @Option var prompt: String
    @Option var top: Int = 5
    @Flag(help: "Parse special tokens written in the prompt.") var special = false
    @Flag var json = false
    struct Entry: Encodable { let id: Int; let logit: Float; let token: String }
    func run() throws {
        let model = try modelOptions.load()
        let ids = model.tokenizer.encode(prompt, parseSpecial: special)
        guard !ids.isEmpty else { throw CLIError("the prompt has no tokens") }
        let logits = try model.forward([(model.newSequence(), ids, .last)])
        let row = logits.rowArray(0)
        let order = row.indices.sorted { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }.prefix(max(0, top))
        let entries = order.map { Entry(id: $0, logit: row[$0], token: model.tokenizer.decode([$0])) }
        if json { try printJSON(["top": entries]); return }
        for e in entries { print("\(e.id)\t\(e.logit)\t\(e.token.debugDescription)") }
    }
}

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Per-token log-probabilities of a continuation after a prompt.")
    @OptionGroup var modelOptions: ModelOptions
    @Option var prompt: String
    @Option(help: "Continuation to score; repeat for several (the prompt runs once).") var continuation: [String]
    @Flag(help: "Parse special tokens in prompt and continuations.") var special = false
    @Flag var json = false
    struct Out: Encodable { let continuation: String; let ids: [Int]; let tokens: [String]; let logprobs: [Double]; let sum: Double }
    func run() throws {
        let model = try modelOptions.load()
        let p = model.tokenizer.encode(prompt, parseSpecial: special)
        let conts = continuation.map { model.tokenizer.encode($0, addBOS: false, parseSpecial: special) }
        let scores = try model.score(promptTokens: p, continuations: conts)
        let outs = zip(continuation, scores).map { text, s in
            Out(continuation: text, ids: s.tokens, tokens: s.tokens.map { model.tokenizer.decode([$0]) },
                logprobs: s.logProbs, sum: s.sum)
        }
        if json {
            if outs.count == 1 { try printJSON(outs[0]) } else { try printJSON(outs) }
            return
        }
        for o in outs {
            print("\(o.continuation.debugDescription): sum \(String(format: "%.4f", o.sum))")
            for (t, lp) in zip(o.tokens, o.logprobs) { print("  \(t.debugDescription)\t\(String(format: "%.4f", lp))") }
        }
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate text from a prompt, streaming it.")
    @OptionGroup var modelOptions: ModelOptions
    @Option var prompt: String
    @Option(name: .customLong("max-tokens")) var maxTokens = 128
    @Option var temperature = 0.8
    @Option(name: .customLong("top-k")) var topK = 0
    @Option(name: .customLong("top-p")) var topP = 1.0
    @Option(name: .customLong("min-p")) var minP = 0.05
    @Option var seed: UInt64 = 0
    @Option(help: "Stop when this text appears (repeatable).") var stop: [String] = []
    @Option(help: "Sample this many streams from the one prompt.") var samples = 1
    @Flag(help: "Wrap the prompt as a user message in the model's chat template.") var chat = false
    @Flag(help: "Parse special tokens in the prompt.") var special = false
    @Flag(help: "Print {\"text\":…,\"ids\":[…]} (ids: generated tokens only).") var json = false

    struct Out: Encodable { let text: String; let ids: [Int]; let finish_reason: String; let prompt_tokens: Int; let tokens_per_second: Double }

    func run() throws {
        let model = try modelOptions.load()
        var text = prompt
        var parse = special
        if chat {
            text = try model.renderChat([.init(role: "user", content: prompt)], addGenerationPrompt: true)
            parse = true
        }
        let ids = model.tokenizer.encode(text, parseSpecial: parse)
        let options = GenerationOptions(
            maxTokens: maxTokens,
            sampling: SamplingParameters(temperature: temperature, topK: topK, topP: topP, minP: minP, seed: seed),
            stop: stop)
        let stream = !json && samples == 1
        let results = try model.generateMany(promptTokens: ids, count: samples, options: options,
                                             onText: stream ? { _, s in
                                                 FileHandle.standardOutput.write(Data(s.utf8))
                                             } : nil)
        let generated = results.reduce(0) { $0 + $1.tokens.count }
        let decode = results[0].decodeSeconds
        let tps = decode > 0 ? Double(max(0, generated - results.count)) / decode : 0
        if json {
            let outs = results.map { Out(text: $0.text, ids: $0.tokens, finish_reason: $0.finishReason.rawValue,
                                         prompt_tokens: $0.promptTokenCount, tokens_per_second: tps) }
            if outs.count == 1 { try printJSON(outs[0]) } else { try printJSON(outs) }
        } else {
            if stream { print("") } else { for (i, r) in results.enumerated() { print("--- sample \(i)\n\(r.text)") } }
            note(String(format: "[%d prompt tokens in %.2f s (%.1f tok/s); %d generated in %.2f s (%.1f tok/s)]",
                        ids.count, results[0].promptSeconds, Double(ids.count) / max(results[0].promptSeconds, 1e-9),
                        generated, decode, tps))
        }
    }
}
