import Foundation
import XCTest
import Backends
import ChatTemplate
import Transformer

/// The path of the cached SmolLM2 model, or a skip.
func smolLM2Path() throws -> String {
    let path = ModelStore.cachedPath(ModelStore.alias(named: "smollm2-135m-instruct")!)
    guard FileManager.default.fileExists(atPath: path) else {
        throw XCTSkip("SmolLM2-135M-Instruct is not cached at \(path); run `hyperlab models pull smollm2-135m-instruct`")
    }
    return path
}

/// The local engine behind `LanguageModel`, checked against the engine's own API.
final class LocalBackendTests: XCTestCase {
    static var shared: (Model, LocalModelBackend)?

    func backend() throws -> (Model, LocalModelBackend) {
        if let s = Self.shared { return s }
        let model = try Model(path: try smolLM2Path(), contextLimit: 1024)
        let s = (model, LocalModelBackend(model: model, name: "smollm2-135m-instruct"))
        Self.shared = s
        return s
    }

    let messages = [ChatMessage(role: "system", content: "You are a helpful assistant."),
                    ChatMessage(role: "user", content: "Name a colour.")]

    /// The prompt tokens computed directly with the engine API.
    func enginePrompt(_ model: Model, _ msgs: [ChatMessage]) throws -> [Int] {
        model.tokenizer.encode(try model.renderChat(msgs, addGenerationPrompt: true), parseSpecial: true)
    }

    func testGreedyChatMatchesTheEngine() async throws {
        let (model, backend) = try backend()
        XCTAssertEqual(backend.identifier, "local:smollm2-135m-instruct")
        XCTAssertEqual(backend.capabilities, [.chat, .score])
        let r = try await backend.chat(ChatRequest(messages: messages, maxTokens: 10, temperature: 0))
        let prompt = try enginePrompt(model, messages)
        let direct = try model.generate(promptTokens: prompt, options: GenerationOptions(maxTokens: 10, sampling: .greedy))
        XCTAssertEqual(r.texts, [direct.text])
        XCTAssertEqual(r.finishReasons, [direct.finishReason.rawValue])
        XCTAssertEqual(r.usage.promptTokens, prompt.count)
        XCTAssertEqual(r.usage.completionTokens, direct.tokens.count)
        XCTAssertFalse(direct.text.isEmpty)
    }

    func testSeededSamplingIsReproducibleAndStreamsDiffer() async throws {
        let (_, backend) = try backend()
        let req = ChatRequest(messages: messages, maxTokens: 8, temperature: 1.2, seed: 1234, n: 3)
        let a = try await backend.chat(req)
        let b = try await backend.chat(req)
        XCTAssertEqual(a.texts, b.texts)
        XCTAssertEqual(a.texts.count, 3)
        XCTAssertEqual(a.finishReasons.count, 3)
        XCTAssertGreaterThan(Set(a.texts).count, 1, "three hot samples should not all agree: \(a.texts)")
        // A single-stream request is reproducible too. (Its text need not equal stream 0 of a batch:
        // one-row and batched decoding kernels round differently, which can flip a near-tie.)
        var one = req
        one.n = 1
        let single = try await backend.chat(one)
        let singleAgain = try await backend.chat(one)
        XCTAssertEqual(singleAgain.texts, single.texts)
        var other = req
        other.seed = 4321
        let c = try await backend.chat(other)
        XCTAssertNotEqual(c.texts, a.texts)
    }

    func testStopStringsCutTheText() async throws {
        let (model, backend) = try backend()
        let prompt = try enginePrompt(model, messages)
        let full = try model.generate(promptTokens: prompt, options: GenerationOptions(maxTokens: 12, sampling: .greedy)).text
        let chars = Array(full)
        guard chars.count >= 4 else { throw XCTSkip("greedy reply too short to test stop strings: \(full)") }
        let stop = String(chars[2..<4])
        let expected = String(full[..<full.range(of: stop)!.lowerBound])
        let r = try await backend.chat(ChatRequest(messages: messages, maxTokens: 12, temperature: 0, stop: [stop]))
        XCTAssertEqual(r.texts, [expected])
        XCTAssertEqual(r.finishReasons, ["stop"])
    }

    func testScoreEqualsEngineScore() async throws {
        let (model, backend) = try backend()
        let conts = ["Blue.", "The colour is red.", "", "Purple 🙂"]
        let r = try await backend.score(ScoreRequest(messages: messages, continuations: conts))
        let prompt = try enginePrompt(model, messages)
        let direct = try model.score(promptTokens: prompt,
                                     continuations: conts.map { model.tokenizer.encode($0, addBOS: false, addEOS: false, parseSpecial: false) })
        XCTAssertEqual(r.logProbs.count, conts.count)
        for (i, d) in direct.enumerated() {
            XCTAssertEqual(r.logProbs[i].count, d.logProbs.count, conts[i])
            for (x, y) in zip(r.logProbs[i], d.logProbs) { XCTAssertEqual(x, y, accuracy: 1e-9, conts[i]) }
            XCTAssertEqual(r.sums[i], d.sum, accuracy: 1e-9)
        }
        XCTAssertEqual(r.logProbs[2], [])
        XCTAssertTrue(r.logProbs[0].allSatisfy { $0 < 0 })
        // The prompt alone, teacher-forced, must agree with the scored continuation's first token.
        let tf = try model.teacherForced(prompt + model.tokenizer.encode("Blue.", addBOS: false, parseSpecial: false))
        XCTAssertEqual(tf.logProbs.suffix(r.logProbs[0].count).reduce(0, +), r.sums[0], accuracy: 1e-3)
    }

    func testConcurrentCallsAreSerializedAndAgree() async throws {
        let (_, backend) = try backend()
        let req = ChatRequest(messages: messages, maxTokens: 6, temperature: 0.8, seed: 99)
        let sequential = try await backend.chat(req)
        let results = try await withThrowingTaskGroup(of: ChatResult.self) { g in
            for _ in 0..<3 { g.addTask { try await backend.chat(req) } }
            var out: [ChatResult] = []
            for try await r in g { out.append(r) }
            return out
        }
        XCTAssertEqual(results.map(\.texts), Array(repeating: sequential.texts, count: 3))
    }

    func testEngineErrorsBecomeBackendErrors() async throws {
        let (_, backend) = try backend()
        let huge = String(repeating: "word ", count: 3000)
        let e = await expectBackendError { try await backend.chat(ChatRequest(messages: [.init(role: "user", content: huge)], maxTokens: 4)) }
        XCTAssertEqual(e?.kind, .invalidRequest)
        XCTAssertTrue(e?.message.contains("context") ?? false, e?.message ?? "")
        let e2 = await expectBackendError { try await backend.chat(ChatRequest(messages: self.messages, n: 0)) }
        XCTAssertEqual(e2?.kind, .invalidRequest)
    }

    func testSpecBuildsALocalBackendFromAPath() async throws {
        let path = try smolLM2Path()
        let b = try BackendSpec.backend("local:\(path)", options: .init(contextLimit: 256))
        XCTAssertEqual(b.identifier, "local:\(path)")
        let r = try await b.chat(ChatRequest(messages: messages, maxTokens: 3, temperature: 0))
        let (_, shared) = try backend()
        let ref = try await shared.chat(ChatRequest(messages: messages, maxTokens: 3, temperature: 0))
        XCTAssertEqual(r.texts, ref.texts)
    }
}
