import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import Backends
import ChatTemplate
import Transformer

/// The OpenAI-compatible backend against a real llama.cpp server (`python3 -m llama_cpp.server`) running
/// SmolLM2, cross-checked with our own engine on the same model. Skipped when llama-cpp-python's server
/// extras are not installed.
final class LlamaServerTests: XCTestCase {
    var process: Process?

    override func tearDown() {
        if let p = process, p.isRunning {
            // uvicorn's graceful shutdown on SIGTERM can hang; the server holds nothing worth saving.
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        process = nil
    }

    static func pythonCanImport(_ module: String) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import \(module)"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    /// A loopback port that was free a moment ago.
    static func freePort() throws -> Int {
        let p = Process()
        let out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"]
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw XCTSkip("no free port: \(text)") }
        return port
    }

    /// Waits until `GET /v1/models` answers 200.
    static func waitUntilReady(_ base: URL, process: Process, timeout: Double) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard process.isRunning else { throw NSError(domain: "llama_cpp.server", code: 1,
                                                         userInfo: [NSLocalizedDescriptionKey: "the server exited early"]) }
            var r = URLRequest(url: base.appendingPathComponent("models"))
            r.timeoutInterval = 2
            let ok: Bool = await withCheckedContinuation { c in
                URLSession.shared.dataTask(with: r) { _, resp, _ in
                    c.resume(returning: (resp as? HTTPURLResponse)?.statusCode == 200)
                }.resume()
            }
            if ok { return }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        throw NSError(domain: "llama_cpp.server", code: 2, userInfo: [NSLocalizedDescriptionKey: "not ready within \(timeout) s"])
    }

    func testChatAndScoreAgainstLlamaCppServer() async throws {
        let modelPath = try smolLM2Path()
        guard Self.pythonCanImport("llama_cpp.server") else {
            throw XCTSkip("llama-cpp-python's server is not importable (pip install 'llama-cpp-python[server]'); "
                          + "the real-server test is skipped")
        }
        let port = try Self.freePort()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-m", "llama_cpp.server", "--model", modelPath, "--host", "127.0.0.1", "--port", "\(port)",
                       "--n_threads", "1", "--n_ctx", "256", "--model_alias", "smollm2"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        let base = URL(string: "http://127.0.0.1:\(port)/v1")!
        try await Self.waitUntilReady(base, process: p, timeout: 60)

        let model = try Model(path: modelPath, contextLimit: 1024)
        let local = LocalModelBackend(model: model, name: "smollm2")
        let remote = try BackendSpec.backend("openai:smollm2@\(base.absoluteString)", options: .init(
            http: HTTPOptions(timeout: 120, maxConcurrentRequests: 1, retry: .none),
            openAIScoring: EchoScoring(renderer: .model(model)), openAIKeyEnv: nil))
        XCTAssertEqual(remote.capabilities, [.chat, .score])

        let messages = [ChatMessage(role: "user", content: "What is the capital of France?")]
        let chat = try await remote.chat(ChatRequest(messages: messages, maxTokens: 4, temperature: 0, seed: 1))
        XCTAssertEqual(chat.texts.count, 1)
        XCTAssertFalse(chat.texts[0].trimmingCharacters(in: .whitespaces).isEmpty, "\(chat.texts)")
        XCTAssertTrue(["stop", "length"].contains(chat.finishReasons[0]), "\(chat.finishReasons)")
        XCTAssertEqual(chat.usage.completionTokens, 4)
        let localPrompt = try local.promptTokens(messages)
        XCTAssertEqual(chat.usage.promptTokens, localPrompt.count, "llama.cpp renders and tokenizes the chat like our engine")

        // Scores from llama.cpp's logits against our engine's on the same text. llama.cpp quantizes
        // activations to 8 bits inside its matmuls, so single log-probs differ by up to ~0.5 here; an
        // off-by-one token alignment would differ by several nats.
        let conts = ["The capital of France is Paris.", "Bananas are yellow."]
        let theirs = try await remote.score(ScoreRequest(messages: messages, continuations: conts))
        let ours = try await local.score(ScoreRequest(messages: messages, continuations: conts))
        for i in conts.indices {
            XCTAssertEqual(theirs.logProbs[i].count, ours.logProbs[i].count, "same tokens for \(conts[i])")
            for (a, b) in zip(theirs.logProbs[i], ours.logProbs[i]) {
                XCTAssertEqual(a, b, accuracy: 0.6, "per-token log-prob of \(conts[i]): llama.cpp \(a), ours \(b)")
            }
            XCTAssertEqual(theirs.sums[i], ours.sums[i], accuracy: 0.8, conts[i])
        }
        XCTAssertGreaterThan(theirs.sums[0], theirs.sums[1] + 10, "Paris is far likelier than bananas")
    }
}
