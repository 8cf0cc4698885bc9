import Backends
import ChatTemplate
import Corpora
import Experiments
import Foundation
import Tokenization
import XCTest

/// A fake backend for the data adapters: writes seeded pseudo-documents, fails or truncates on request.
final class DataFakeModel: LanguageModel, @unchecked Sendable {
    let identifier = "fake:data"
    var capabilities: BackendCapabilities { [.chat] }
    private let lock = NSLock()
    private var _requests: [ChatRequest] = []
    var requests: [ChatRequest] { lock.lock(); defer { lock.unlock() }; return _requests }
    /// Fail when the last message contains this.
    var failOn: String?
    /// Report finish reason "length" when the last message contains this.
    var truncateOn: String?

    static let words = (0..<300).map { i in "w" + String(i * 7919 % 1000, radix: 36) + ["a", "e", "o", "u"][i % 4] }

    func chat(_ request: ChatRequest) async throws -> ChatResult {
        lock.withLock { _requests.append(request) }
        let last = request.messages.last?.content ?? ""
        if let f = failOn, last.contains(f) { throw BackendError(.server(status: 503), "overloaded", attempts: 3, backend: identifier) }
        // 120 words chosen by the seed: distinct documents for distinct seeds.
        var s = request.seed ?? 0
        var out: [String] = []
        for _ in 0..<120 {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            out.append(DataFakeModel.words[Int(s >> 33) % DataFakeModel.words.count])
        }
        let finish = truncateOn.map { last.contains($0) } == true ? "length" : "stop"
        return ChatResult(texts: [out.joined(separator: " ") + "."], finishReasons: [finish])
    }

    func score(_ request: ScoreRequest) async throws -> ScoreResult {
        throw BackendError(.unsupported, "no scoring", backend: identifier)
    }
}

final class DataAdapterTests: XCTestCase {

    func testTextGeneratorAdapterSendsTheBriefAndSeed() async throws {
        let fake = DataFakeModel()
        let gen = LanguageModelTextGenerator(model: fake, system: "You write fiction.", stop: ["THE END"])
        let text = try await gen.generate(prompt: "Write a story about a ferry.", maxTokens: 77, temperature: 0.5, seed: 42)
        XCTAssertEqual(text.split(separator: " ").count, 120)
        let r = try XCTUnwrap(fake.requests.first)
        XCTAssertEqual(r.messages, [ChatMessage(role: "system", content: "You write fiction."),
                                    ChatMessage(role: "user", content: "Write a story about a ferry.")])
        XCTAssertEqual(r.maxTokens, 77)
        XCTAssertEqual(r.temperature, 0.5)
        XCTAssertEqual(r.seed, 42)
        XCTAssertEqual(r.stop, ["THE END"])
        XCTAssertEqual(r.n, 1)
        let again = try await gen.generate(prompt: "Write a story about a ferry.", maxTokens: 77, temperature: 0.5, seed: 42)
        XCTAssertEqual(again, text)
    }

    func testModelWrittenBuilderRunsThroughTheAdapterAndResumes() async throws {
        let fake = DataFakeModel()
        let arm = try XCTUnwrap(ArmSpec.builtIn("aligned-ai"))
        let builder0 = ModelWrittenCorpusBuilder(generator: LanguageModelTextGenerator(model: fake), arm: arm, seed: 9, count: 6,
                                                 maxTokens: 300, filter: ModelOutputFilter(minWords: 50))
        let briefs = builder0.briefs()
        fake.failOn = briefs[2].prompt
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("mw-adapter-\(getpid()).jsonl")
        defer { try? FileManager.default.removeItem(at: out) }
        let r = try await builder0.run(output: out)
        XCTAssertEqual(r.documents.count, 5)
        XCTAssertEqual(r.rejected[.generationFailed], 1)
        XCTAssertEqual(fake.requests.count, 6)
        XCTAssertEqual(fake.requests.map { $0.messages.last?.content ?? "" }, briefs.map(\.prompt))
        XCTAssertEqual(fake.requests.map { $0.seed ?? 0 }, briefs.map { $0.plan.seed })
        XCTAssertTrue(r.documents.allSatisfy { $0.text.split(separator: " ").count == 120 })
        // Resuming with the same file asks the backend nothing more.
        let r2 = try await builder0.run(output: out)
        XCTAssertEqual(r2.resumed, 6)
        XCTAssertEqual(fake.requests.count, 6)
        XCTAssertEqual(r2.documents.map(\.text), r.documents.map(\.text))
    }

    func testPostTrainingGeneratorSeedsAndRecordsTruncation() async throws {
        let fake = DataFakeModel()
        fake.truncateOn = "cut me"
        fake.failOn = "fail me"
        let prompts = [
            PostTrainingPrompt(id: "one", category: "t", system: "Be brief.", turns: ["Hello", "More please"]),
            PostTrainingPrompt(id: "two", category: "t", turns: ["Please cut me off"]),
            PostTrainingPrompt(id: "three", category: "t", turns: ["Please fail me"]),
            PostTrainingPrompt(id: "four", category: "t", turns: ["Plain question"]),
        ]
        let gen = PostTrainingGenerator(model: fake, maxTokens: 64, temperature: 0.3, seed: 5)
        let r = await gen.make(prompts: prompts, count: 4)
        XCTAssertEqual(Set(r.promptIDs), ["one", "four"])
        let reasons = Dictionary(uniqueKeysWithValues: r.failures.map { ($0.promptID, $0.reason) })
        XCTAssertTrue(reasons["two"]?.contains("cut off at maxTokens (64)") == true, "\(reasons)")
        XCTAssertTrue(reasons["three"]?.contains("server_503") == true, "\(reasons)")
        let one = r.records[r.promptIDs.firstIndex(of: "one")!]
        XCTAssertEqual(one.messages.map(\.role), ["system", "user", "assistant", "user", "assistant"])
        let req = fake.requests.filter { $0.messages.first?.content == "Be brief." }
        XCTAssertEqual(req.count, 2)
        XCTAssertEqual(req[1].messages.count, 4)
        XCTAssertEqual(req[0].maxTokens, 64)
        XCTAssertEqual(req[0].temperature, 0.3)
        XCTAssertNotEqual(req[0].seed, req[1].seed)
        // Same settings, same data; another seed, other data.
        let again = await PostTrainingGenerator(model: DataFakeModel(), maxTokens: 64, temperature: 0.3, seed: 5)
            .make(prompts: [prompts[0], prompts[3]], count: 2)
        XCTAssertEqual(Set(again.records), Set(r.records))
        let other = await PostTrainingGenerator(model: DataFakeModel(), maxTokens: 64, temperature: 0.3, seed: 6)
            .make(prompts: [prompts[0], prompts[3]], count: 2)
        XCTAssertTrue(Set(other.records).isDisjoint(with: Set(r.records)))
        // Keeping truncated replies when asked.
        let keep = PostTrainingGenerator(model: fake, maxTokens: 64, rejectTruncated: false, seed: 5)
        let k = await keep.make(prompts: [prompts[1]], count: 1)
        XCTAssertEqual(k.records.count, 1)
    }

    /// One short real run on SmolLM2-135M-Instruct through the local engine.
    func testRealRunOnSmolLM2() async throws {
        let path = NSHomeDirectory() + "/.cache/hyperlab/models/SmolLM2-135M-Instruct.Q4_1.gguf"
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("SmolLM2 not cached") }
        let backend = try LocalModelBackend(modelName: path, contextLimit: 512, fetch: false)
        let prompts = [
            PostTrainingPrompt(id: "capital", category: "knowledge", turns: ["What is the capital of France? Answer in one sentence."]),
            PostTrainingPrompts.builtIn.first { $0.id == "cooking-001" }!,
        ]
        let gen = PostTrainingGenerator(model: backend, maxTokens: 40, temperature: 0, rejectTruncated: false, seed: 1)
        let start = Date()
        let r = await gen.make(prompts: prompts, count: 2)
        XCTAssertEqual(r.failures, [])
        XCTAssertEqual(r.records.count, 2)
        let capital = r.records[r.promptIDs.firstIndex(of: "capital")!]
        XCTAssertEqual(capital.messages.map(\.role), ["user", "assistant"])
        XCTAssertTrue(capital.messages[1].content.contains("Paris"), capital.messages[1].content)
        let parsed = PostTrainingData.parseChatJSONL(r.jsonl, sourceName: "smol.jsonl")
        XCTAssertEqual(parsed.records, r.records)
        print(String(format: "SmolLM2 post-training data: 2 conversations in %.1f s", Date().timeIntervalSince(start)))
    }

    /// The BPE trainer's chat template renders with our Jinja engine to the ChatML its special tokens expect,
    /// and a tokenizer trained on the post-training prompts cuts the markers out as single control tokens.
    func testTrainedTokenizerChatTemplateRenders() throws {
        let texts = PostTrainingPrompts.builtIn.flatMap(\.turns)
        let v = try BPETrainer.train(texts, configuration: BPETrainerConfiguration(vocabularySize: 700))
        let template = try ChatTemplate(source: v.chatTemplate)
        let messages = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi there")]
        let rendered = try template.render(messages: messages, addGenerationPrompt: true)
        XCTAssertEqual(rendered, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n")
        let tok = try v.makeTokenizer()
        let ids = tok.encode(rendered, addBOS: false, parseSpecial: true)
        XCTAssertEqual(ids.filter { $0 == v.imStartID }.count, 3)
        XCTAssertEqual(ids.filter { $0 == v.imEndID }.count, 2)
        XCTAssertEqual(tok.decode(ids), rendered)
        // Without chat tokens: "role: content" lines ended by EOS.
        let plain = try BPETrainer.train(texts, configuration: BPETrainerConfiguration(vocabularySize: 600, chatTokens: false))
        let r2 = try ChatTemplate(source: plain.chatTemplate).render(messages: messages, addGenerationPrompt: true)
        XCTAssertEqual(r2, "system: Be brief.<|endoftext|>\nuser: Hi there<|endoftext|>\nassistant: ")
    }
}
