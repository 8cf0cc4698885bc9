import Foundation
import XCTest
import Backends
import ChatTemplate

/// The OpenAI-compatible and Anthropic backends against a real loopback HTTP server that injects faults.
final class HTTPBackendTests: XCTestCase {
    var server: FakeServer!
    let keyEnv = "HYPERLAB_TEST_OPENAI_KEY_\(UInt32.random(in: 0...UInt32.max))"
    let anthropicEnv = "HYPERLAB_TEST_ANTHROPIC_KEY_\(UInt32.random(in: 0...UInt32.max))"

    static let chatPath = "/v1/chat/completions"
    static let completionsPath = "/v1/completions"
    static let messagesPath = "/v1/messages"

    /// Fast retries so fault tests take milliseconds.
    static func fast(attempts: Int = 3, timeout: Double = 5, concurrency: Int = 4, retryMalformed: Bool = false) -> HTTPOptions {
        HTTPOptions(timeout: timeout, maxConcurrentRequests: concurrency,
                    retry: RetryPolicy(maxAttempts: attempts, baseDelay: 0.01, maxDelay: 0.05, jitter: 0.5,
                                       retryMalformed: retryMalformed))
    }

    /// One server for the whole class (starting Python per test costs ~0.5 s); each test resets it.
    static var sharedServer: FakeServer?

    override class func tearDown() {
        sharedServer?.stop()
        sharedServer = nil
        super.tearDown()
    }

    override func setUpWithError() throws {
        if Self.sharedServer == nil || Self.sharedServer?.process.isRunning != true {
            Self.sharedServer = try FakeServer()
        }
        server = Self.sharedServer
        try server.reset()
    }

    override func tearDown() {
        server = nil
        setEnv(keyEnv, nil)
        setEnv(anthropicEnv, nil)
    }

    func openAI(_ http: HTTPOptions = fast(), scoring: EchoScoring? = nil) -> OpenAICompatibleBackend {
        OpenAICompatibleBackend(baseURL: server.openAIBase, model: "fake-model", apiKeyEnv: keyEnv, scoring: scoring, http: http)
    }

    let conversation = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "hello there")]

    // MARK: success paths

    func testOpenAIChatSendsEveryFieldAndOrdersChoices() async throws {
        let backend = openAI()
        setEnv(keyEnv, "sk-live-key-1234")  // read at request time, after the backend was made
        let r = ChatRequest(messages: conversation, maxTokens: 5, temperature: 0.7, topP: 0.9, seed: 42, stop: ["zzz"], n: 3)
        let result = try await backend.chat(r)
        XCTAssertEqual(result.texts, ["reply 0: hello there", "reply 1: hello there", "reply 2: hello there"])
        XCTAssertEqual(result.finishReasons, ["stop", "stop", "stop"])
        XCTAssertEqual(result.usage.promptTokens, 4)
        XCTAssertEqual(result.usage.completionTokens, 12)
        let stats = try server.stats()
        XCTAssertEqual(stats.count(Self.chatPath), 1)
        let body = try XCTUnwrap(stats.bodies(Self.chatPath).first)
        XCTAssertEqual(body["model"] as? String, "fake-model")
        XCTAssertEqual(body["n"] as? Int, 3)
        XCTAssertEqual(body["max_tokens"] as? Int, 5)
        XCTAssertEqual(body["temperature"] as? Double, 0.7)
        XCTAssertEqual(body["top_p"] as? Double, 0.9)
        XCTAssertEqual(body["seed"] as? Int, 42)
        XCTAssertEqual(body["stop"] as? [String], ["zzz"])
        let msgs = try XCTUnwrap(body["messages"] as? [[String: String]])
        XCTAssertEqual(msgs, [["role": "system", "content": "Be brief."], ["role": "user", "content": "hello there"]])
        XCTAssertEqual(stats.headers(Self.chatPath).first?["authorization"], "Bearer sk-live-key-1234")
    }

    func testOpenAIStopAndLengthFinishReasonsAndOptionalFieldsOmitted() async throws {
        let backend = openAI()
        let stopped = try await backend.chat(ChatRequest(messages: [.init(role: "user", content: "a b c d e")],
                                                         maxTokens: 50, temperature: 0, stop: [" c"]))
        XCTAssertEqual(stopped.texts, ["reply 0: a b"])
        XCTAssertEqual(stopped.finishReasons, ["stop"])
        let long = try await backend.chat(ChatRequest(messages: [.init(role: "user", content: "a b c d e")], maxTokens: 3, temperature: 0))
        XCTAssertEqual(long.texts, ["reply 0: a"])
        XCTAssertEqual(long.finishReasons, ["length"])
        let bodies = try server.stats().bodies(Self.chatPath)
        XCTAssertEqual(bodies.count, 2)
        for key in ["top_p", "seed", "n"] { XCTAssertNil(bodies[1][key], "\(key) should be omitted when unset") }
        XCTAssertNil(bodies[1]["stop"])
        // No key variable set: no Authorization header at all.
        XCTAssertNil(try server.stats().headers(Self.chatPath)[1]["authorization"])
    }

    func testServerIgnoringNIsFilledWithSeededSingleRequests() async throws {
        try server.config(["ignore_n": true])
        let result = try await openAI().chat(ChatRequest(messages: conversation, maxTokens: 10, seed: 100, n: 3))
        XCTAssertEqual(result.texts.count, 3)
        XCTAssertEqual(result.texts, Array(repeating: "reply 0: hello there", count: 3))
        let bodies = try server.stats().bodies(Self.chatPath)
        XCTAssertEqual(bodies.count, 3)
        XCTAssertEqual(Set(bodies.compactMap { $0["seed"] as? Int }), [100, 101, 102])
    }

    func testAnthropicChat() async throws {
        let backend = AnthropicBackend(model: "claude-fake", apiKeyEnv: anthropicEnv, baseURL: server.root, http: Self.fast())
        setEnv(anthropicEnv, "sk-ant-test-5678")
        let msgs = [ChatMessage(role: "system", content: "S1"), ChatMessage(role: "system", content: "S2"),
                    ChatMessage(role: "user", content: "first"), ChatMessage(role: "assistant", content: "ok"),
                    ChatMessage(role: "user", content: "second")]
        let r = try await backend.chat(ChatRequest(messages: msgs, maxTokens: 64, temperature: 0.5, topP: 0.8, stop: ["###"], n: 2))
        XCTAssertEqual(r.texts, ["claude: second|system=S1\n\nS2", "claude: second|system=S1\n\nS2"])
        XCTAssertEqual(r.finishReasons, ["stop", "stop"])
        XCTAssertEqual(r.usage.promptTokens, 7)
        let stats = try server.stats()
        XCTAssertEqual(stats.count(Self.messagesPath), 2, "n = 2 is two requests")
        let body = try XCTUnwrap(stats.bodies(Self.messagesPath).first)
        XCTAssertEqual(body["system"] as? String, "S1\n\nS2")
        XCTAssertEqual((body["messages"] as? [[String: String]])?.map { $0["role"]! }, ["user", "assistant", "user"])
        XCTAssertEqual(body["max_tokens"] as? Int, 64)
        XCTAssertEqual(body["top_p"] as? Double, 0.8)
        XCTAssertEqual(body["stop_sequences"] as? [String], ["###"])
        let h = try XCTUnwrap(stats.headers(Self.messagesPath).first)
        XCTAssertEqual(h["x-api-key"], "sk-ant-test-5678")
        XCTAssertEqual(h["anthropic-version"], "2023-06-01")
        // Length finish reason.
        let short = try await backend.chat(ChatRequest(messages: [.init(role: "user", content: "one two three")], maxTokens: 2))
        XCTAssertEqual(short.texts, ["claude: one"])
        XCTAssertEqual(short.finishReasons, ["length"])
    }

    func testAnthropicWithoutKeyIsAConfigurationErrorAndSendsNothing() async throws {
        let backend = AnthropicBackend(model: "claude-fake", apiKeyEnv: anthropicEnv, baseURL: server.root, http: Self.fast())
        let e = await expectBackendError { try await backend.chat(ChatRequest(messages: self.conversation)) }
        XCTAssertEqual(e?.kind, .configuration)
        XCTAssertEqual(e?.attempts, 0)
        XCTAssertTrue(e?.description.contains(anthropicEnv) ?? false)
        XCTAssertEqual(try server.stats().count(Self.messagesPath), 0)
    }

    func testScoringCapabilities() async throws {
        XCTAssertEqual(openAI().capabilities, [.chat])
        XCTAssertEqual(openAI(scoring: EchoScoring()).capabilities, [.chat, .score])
        let e = await expectBackendError { try await self.openAI().score(ScoreRequest(messages: self.conversation, continuations: ["x"])) }
        XCTAssertEqual(e?.kind, .unsupported)
        let anthropic = AnthropicBackend(model: "claude-fake", apiKeyEnv: anthropicEnv, baseURL: server.root)
        XCTAssertEqual(anthropic.capabilities, [.chat])
        let e2 = await expectBackendError { try await anthropic.score(ScoreRequest(messages: self.conversation, continuations: ["x"])) }
        XCTAssertEqual(e2?.kind, .unsupported)
        XCTAssertEqual(e2?.isRetryable, false)
        XCTAssertEqual(try server.stats().requests.count, 0)
    }

    // MARK: scoring through echo logprobs

    func testScoreTakesTheContinuationTokensByCharacterOffset() async throws {
        let backend = openAI(scoring: EchoScoring())
        // Eight emoji before the boundary: counting UTF-16 units instead of code points would shift it by 8.
        let msgs = [ChatMessage(role: "user", content: "hi 🙂🙂🙂🙂🙂🙂🙂🙂")]
        let r = try await backend.score(ScoreRequest(messages: msgs, continuations: [" Yes, I will.", "Yes", "", " café 🙂 ok"]))
        // The fake server's rule: token logprob = -0.25 × its length in code points.
        XCTAssertEqual(r.logProbs[0], [-1.25, -0.5, -1.5])  // " Yes,", " I", " will."
        // "Assistant:Yes" is one token straddling the boundary: it counts for the continuation.
        XCTAssertEqual(r.logProbs[1], [-0.25 * Double("\n\nAssistant:Yes".unicodeScalars.count)])
        XCTAssertEqual(r.logProbs[2], [])
        XCTAssertEqual(r.logProbs[3], [-1.25, -0.5, -0.75])  // " café", " 🙂", " ok"
        XCTAssertEqual(r.sums, [-3.25, -3.75, 0, -2.5])
        let bodies = try server.stats().bodies(Self.completionsPath)
        XCTAssertEqual(bodies.count, 3, "an empty continuation needs no request")
        let prompts = Set(bodies.compactMap { $0["prompt"] as? String })
        XCTAssertTrue(prompts.contains("User: hi 🙂🙂🙂🙂🙂🙂🙂🙂\n\nAssistant: Yes, I will."))
        for b in bodies {
            XCTAssertEqual(b["echo"] as? Bool, true)
            XCTAssertEqual(b["logprobs"] as? Int, 1)
            XCTAssertEqual(b["max_tokens"] as? Int, 1)
            XCTAssertEqual(b["model"] as? String, "fake-model")
        }
    }

    func testScoreRendersWithTheSuppliedTemplate() async throws {
        let template = try ChatTemplate(source: "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}")
        let backend = openAI(scoring: EchoScoring(renderer: .template(template)))
        let r = try await backend.score(ScoreRequest(messages: [.init(role: "user", content: "q")], continuations: [" a bb"]))
        XCTAssertEqual(r.logProbs, [[-0.5, -0.75]])
        let prompt = try server.stats().bodies(Self.completionsPath).first?["prompt"] as? String
        XCTAssertEqual(prompt, "<|user|>q\n<|assistant|> a bb")
        // A server that leaves special tokens out of the echo shifts every offset; the result must not change.
        try server.config(["hide_special": true])
        let hidden = try await backend.score(ScoreRequest(messages: [.init(role: "user", content: "q")], continuations: [" a bb", "a"]))
        // The echo is now "q\n a bb": tokens "q", "\n a" (straddling the boundary), " bb"; and "q", "\na".
        XCTAssertEqual(hidden.logProbs, [[-0.75, -0.75], [-0.5]])
    }

    func testScoreWithoutLogprobsIsMalformed() async throws {
        try server.schedule(Self.completionsPath, ["missing"])
        let e = await expectBackendError {
            try await self.openAI(scoring: EchoScoring()).score(ScoreRequest(messages: self.conversation, continuations: [" x"]))
        }
        XCTAssertEqual(e?.kind, .malformedResponse)
        XCTAssertTrue(e?.message.contains("choices") ?? false, e?.message ?? "")
    }

    // MARK: faults retried, then success

    /// Schedules `faults` then success on the chat path; checks the result and the request count.
    func retriedThenOK(_ faults: [String], options: HTTPOptions = fast(attempts: 4, timeout: 0.5),
                       file: StaticString = #filePath, line: UInt = #line) async throws {
        try server.schedule(Self.chatPath, faults)
        let r = try await openAI(options).chat(ChatRequest(messages: conversation, maxTokens: 20))
        XCTAssertEqual(r.texts, ["reply 0: hello there"], file: file, line: line)
        XCTAssertEqual(try server.stats().count(Self.chatPath), faults.count + 1, file: file, line: line)
    }

    func testRateLimitRetried() async throws { try await retriedThenOK(["429:0", "429:0"]) }
    func testServerErrorsRetried() async throws { try await retriedThenOK(["500", "503", "502"]) }
    func testTimeoutRetried() async throws { try await retriedThenOK(["slow:3"]) }
    func testDroppedConnectionRetried() async throws { try await retriedThenOK(["drop"]) }
    func testTruncatedBodyRetried() async throws { try await retriedThenOK(["truncate"]) }
    func testMalformedRetriedOnlyWhenAsked() async throws {
        try await retriedThenOK(["malformed", "missing"], options: Self.fast(attempts: 3, retryMalformed: true))
    }

    func testRetryAfterIsHonoured() async throws {
        try server.schedule(Self.chatPath, ["429:1"])
        let t0 = Date()
        _ = try await openAI().chat(ChatRequest(messages: conversation))
        let waited = Date().timeIntervalSince(t0)
        XCTAssertGreaterThanOrEqual(waited, 0.95, "Retry-After: 1 must delay the retry by a second (backoff alone is ~10 ms)")
        try server.schedule(Self.chatPath, ["429ms:400"])
        let t1 = Date()
        _ = try await openAI().chat(ChatRequest(messages: conversation))
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(t1), 0.38)
        XCTAssertLessThan(Date().timeIntervalSince(t1), 5)
    }

    // MARK: faults exhausting the retries

    func exhausted(_ fault: String, attempts: Int = 3, timeout: Double = 0.4,
                   file: StaticString = #filePath, line: UInt = #line) async throws -> BackendError? {
        try server.schedule(Self.chatPath, [], default: fault)
        let backend = openAI(Self.fast(attempts: attempts, timeout: timeout))
        let e = await expectBackendError({ try await backend.chat(ChatRequest(messages: self.conversation)) }, file: file, line: line)
        XCTAssertEqual(e?.attempts, attempts, "attempts", file: file, line: line)
        XCTAssertEqual(try server.stats().count(Self.chatPath), attempts, "requests the server saw", file: file, line: line)
        XCTAssertEqual(e?.backend, backend.identifier, file: file, line: line)
        return e
    }

    func testRateLimitExhausted() async throws {
        let e = try await exhausted("429:0")
        XCTAssertEqual(e?.kind, .rateLimited)
        XCTAssertEqual(e?.isRetryable, true)
    }

    func testServerErrorExhausted() async throws {
        let e = try await exhausted("503", attempts: 2)
        XCTAssertEqual(e?.kind, .server(status: 503))
        XCTAssertTrue(e?.message.contains("status 503") ?? false, "the body excerpt is kept: \(e?.message ?? "")")
    }

    func testTimeoutExhausted() async throws {
        let t0 = Date()
        let e = try await exhausted("slow:3", attempts: 2, timeout: 0.3)
        XCTAssertEqual(e?.kind, .timeout)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 2.5, "each attempt is cut at the timeout")
    }

    func testDroppedConnectionExhausted() async throws {
        let e = try await exhausted("drop")
        XCTAssertEqual(e?.kind, .transport)
    }

    func testClientErrorIsNotRetried() async throws {
        let e = try await exhausted("400", attempts: 1)
        XCTAssertEqual(e?.kind, .client(status: 400))
        XCTAssertEqual(e?.isRetryable, false)
        // With retries allowed, a 404 still gets exactly one attempt.
        try server.schedule(Self.chatPath, ["404"])
        let e2 = await expectBackendError { try await self.openAI(Self.fast(attempts: 5)).chat(ChatRequest(messages: self.conversation)) }
        XCTAssertEqual(e2?.kind, .client(status: 404))
        XCTAssertEqual(e2?.attempts, 1)
        XCTAssertEqual(try server.stats().count(Self.chatPath), 2)
    }

    func testMalformedIsNotRetriedByDefault() async throws {
        try server.schedule(Self.chatPath, ["malformed", "ok"])
        let e = await expectBackendError { try await self.openAI(Self.fast(attempts: 5)).chat(ChatRequest(messages: self.conversation)) }
        XCTAssertEqual(e?.kind, .malformedResponse)
        XCTAssertEqual(e?.attempts, 1)
        XCTAssertTrue(e?.message.contains("{not json") ?? false, "an excerpt of the body: \(e?.message ?? "")")
        try server.schedule(Self.chatPath, ["missing"])
        let e2 = await expectBackendError { try await self.openAI(Self.fast(attempts: 5)).chat(ChatRequest(messages: self.conversation)) }
        XCTAssertEqual(e2?.kind, .malformedResponse)
        XCTAssertTrue(e2?.message.contains("missing field 'choices'") ?? false, e2?.message ?? "")
        XCTAssertEqual(try server.stats().count(Self.chatPath), 2)
    }

    func testConnectionRefusedIsATransportError() async throws {
        let base = URL(string: "http://127.0.0.1:\(try LlamaServerTests.freePort())/v1")!  // nothing listens there
        let backend = OpenAICompatibleBackend(baseURL: base, model: "m", apiKeyEnv: nil, http: Self.fast(attempts: 2))
        let e = await expectBackendError { try await backend.chat(ChatRequest(messages: self.conversation)) }
        XCTAssertEqual(e?.kind, .transport)
        XCTAssertEqual(e?.attempts, 2)
    }

    func testInvalidRequestsSendNothing() async throws {
        let backend = openAI()
        for bad in [ChatRequest(messages: []), ChatRequest(messages: conversation, n: 0),
                    ChatRequest(messages: conversation, maxTokens: -1), ChatRequest(messages: conversation, topP: 1.5)] {
            let e = await expectBackendError { try await backend.chat(bad) }
            XCTAssertEqual(e?.kind, .invalidRequest)
            XCTAssertEqual(e?.attempts, 0)
        }
        XCTAssertEqual(try server.stats().requests.count, 0)
    }

    // MARK: concurrency and cancellation

    func testConcurrencyLimitIsRespected() async throws {
        for limit in [1, 3] {
            try server.reset()
            try server.schedule(Self.chatPath, [], default: "slow:0.25")
            let backend = openAI(Self.fast(timeout: 10, concurrency: limit))
            let conversation = self.conversation
            try await withThrowingTaskGroup(of: ChatResult.self) { group in
                for _ in 0..<6 { group.addTask { try await backend.chat(ChatRequest(messages: conversation)) } }
                for try await r in group { XCTAssertEqual(r.texts.count, 1) }
            }
            let stats = try server.stats()
            XCTAssertEqual(stats.count(Self.chatPath), 6)
            XCTAssertEqual(stats.maxInFlight, limit, "limit \(limit): the server saw \(stats.maxInFlight) requests at once")
        }
    }

    func testCancellationStopsAWaitingRequest() async throws {
        try server.schedule(Self.chatPath, [], default: "slow:5")
        let backend = openAI(Self.fast(timeout: 30))
        let conversation = self.conversation
        let task = Task { try await backend.chat(ChatRequest(messages: conversation)) }
        try await Task.sleep(nanoseconds: 300_000_000)
        let t0 = Date()
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("expected cancellation")
        } catch let e as BackendError {
            XCTAssertEqual(e.kind, .cancelled)
            XCTAssertEqual(e.attempts, 1)
        }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 2)
    }

    // MARK: secrets

    func testTheKeyNeverLeaks() async throws {
        let key = "sk-secret-\(UUID().uuidString)"
        setEnv(keyEnv, key)
        setEnv(anthropicEnv, key)
        var texts: [String] = []
        let userURL = URL(string: "http://user:\(key)@127.0.0.1:\(server.port)/v1")!
        let withCredentials = OpenAICompatibleBackend(baseURL: userURL, model: "m", apiKeyEnv: keyEnv)
        texts += [withCredentials.identifier, String(describing: withCredentials), String(reflecting: withCredentials)]
        var dumped = ""
        dump(withCredentials, to: &dumped)
        texts.append(dumped)
        let openai = OpenAICompatibleBackend(baseURL: server.openAIBase, model: "m", apiKeyEnv: keyEnv, scoring: EchoScoring(),
                                             http: Self.fast(attempts: 2))
        let anthropic = AnthropicBackend(model: "c", apiKeyEnv: anthropicEnv, baseURL: server.root, http: Self.fast(attempts: 2))
        texts += [openai.identifier, anthropic.identifier, String(describing: openai), String(reflecting: anthropic)]
        let spec = try BackendSpec(parsing: "openai:m@http://user:\(key)@127.0.0.1:\(server.port)/v1")
        texts += [spec.description, try spec.makeBackend().identifier]
        // Every error body of the fake server quotes the credentials it received.
        try server.schedule(Self.chatPath, ["401", "500", "500", "malformed", "missing"])
        try server.schedule(Self.messagesPath, ["403", "malformed"])
        try server.schedule(Self.completionsPath, ["400", "malformed"])
        for _ in 0..<4 {
            if let e = await expectBackendError({ try await openai.chat(ChatRequest(messages: self.conversation)) }) {
                texts += [e.description, e.message, String(reflecting: e), e.localizedDescription]
            }
        }
        for _ in 0..<2 {
            if let e = await expectBackendError({ try await anthropic.chat(ChatRequest(messages: self.conversation)) }) {
                texts += [e.description, String(reflecting: e)]
            }
            if let e = await expectBackendError({
                try await openai.score(ScoreRequest(messages: self.conversation, continuations: [" x"]))
            }) {
                texts += [e.description, String(reflecting: e)]
            }
        }
        let stats = try server.stats()
        XCTAssertTrue(stats.headers(Self.chatPath).contains { $0["authorization"] == "Bearer \(key)" }, "the key was sent")
        XCTAssertEqual(stats.requests.count, 9, "5 chat, 2 messages, 2 completions requests")
        XCTAssertGreaterThan(texts.count, 20)
        for t in texts {
            XCTAssertFalse(t.contains(key), "the key leaked into: \(t)")
            XCTAssertFalse(t.contains(String(key.dropFirst(3))), "part of the key leaked into: \(t)")
        }
        XCTAssertTrue(texts.contains { $0.contains("[redacted]") }, "the fake server's echoed key was redacted")
    }
}
