import Foundation
import XCTest
import Backends
import ChatTemplate

final class SpecTests: XCTestCase {
    func testParsesEveryForm() throws {
        XCTAssertEqual(try BackendSpec(parsing: "local:smollm2-135m-instruct").kind, .local(model: "smollm2-135m-instruct"))
        XCTAssertEqual(try BackendSpec(parsing: "local:/tmp/a b/model.gguf").kind, .local(model: "/tmp/a b/model.gguf"))
        XCTAssertEqual(try BackendSpec(parsing: "openai:gpt-4o-mini").kind,
                       .openAI(model: "gpt-4o-mini", baseURL: URL(string: "https://api.openai.com/v1")!))
        XCTAssertEqual(try BackendSpec(parsing: " openai:smollm2@http://127.0.0.1:8080/v1 ").kind,
                       .openAI(model: "smollm2", baseURL: URL(string: "http://127.0.0.1:8080/v1")!))
        XCTAssertEqual(try BackendSpec(parsing: "OpenAI:org/model@v2@https://example.com/api/v1").kind,
                       .openAI(model: "org/model@v2", baseURL: URL(string: "https://example.com/api/v1")!))
        XCTAssertEqual(try BackendSpec(parsing: "anthropic:claude-sonnet-4-5").kind,
                       .anthropic(model: "claude-sonnet-4-5", baseURL: URL(string: "https://api.anthropic.com")!))
        XCTAssertEqual(try BackendSpec(parsing: "anthropic:claude-x@http://localhost:9000").kind,
                       .anthropic(model: "claude-x", baseURL: URL(string: "http://localhost:9000")!))
        XCTAssertEqual(try BackendSpec(parsing: "openai:m@http://127.0.0.1:8080/v1/").description, "openai:m@http://127.0.0.1:8080/v1")
    }

    func testRejectsBadSpecsClearly() {
        let cases: [(String, String)] = [
            ("smollm2", "no backend prefix"),
            ("gemini:pro", "unknown backend \"gemini\""),
            ("openai:", "nothing after"),
            ("openai:@http://127.0.0.1:1/v1", "model name is empty"),
            ("openai:m@http://", "not a valid http(s) URL"),
            ("anthropic:a b", "whitespace"),
        ]
        for (spec, needle) in cases {
            XCTAssertThrowsError(try BackendSpec(parsing: spec), spec) { error in
                guard let e = error as? BackendError else { return XCTFail("\(spec): \(error)") }
                XCTAssertEqual(e.kind, .configuration, spec)
                XCTAssertTrue(e.description.contains(needle), "\(spec): \(e.description)")
                XCTAssertTrue(e.description.contains(spec), "the message quotes the spec: \(e.description)")
            }
        }
    }

    func testMakesRemoteBackends() throws {
        let o = try BackendSpec.backend("openai:m@http://127.0.0.1:9/v1", options: .init(openAIScoring: EchoScoring()))
        XCTAssertEqual(o.identifier, "openai:m@http://127.0.0.1:9/v1")
        XCTAssertEqual(o.capabilities, [.chat, .score])
        let a = try BackendSpec.backend("anthropic:claude-x")
        XCTAssertEqual(a.identifier, "anthropic:claude-x@https://api.anthropic.com")
        XCTAssertEqual(a.capabilities, [.chat])
    }

    func testMissingLocalModelIsAConfigurationError() {
        XCTAssertThrowsError(try BackendSpec.backend("local:/nonexistent/model.gguf", options: .init(fetchModels: false))) { error in
            XCTAssertEqual((error as? BackendError)?.kind, .configuration)
            XCTAssertTrue("\(error)".contains("/nonexistent/model.gguf"), "\(error)")
        }
    }

    func testRetryPolicyBackoffGrowsAndIsCapped() {
        let p = RetryPolicy(maxAttempts: 6, baseDelay: 1, maxDelay: 5, jitter: 0.5)
        for _ in 0..<50 {
            let d1 = p.backoff(retry: 1), d3 = p.backoff(retry: 3), d6 = p.backoff(retry: 6)
            XCTAssertTrue((0.5...1).contains(d1), "\(d1)")
            XCTAssertTrue((2...4).contains(d3), "\(d3)")
            XCTAssertTrue((2.5...5).contains(d6), "\(d6)")
        }
        XCTAssertEqual(RetryPolicy(jitter: 0).backoff(retry: 2), 2)
    }

    func testErrorKindsAndRetryability() {
        let retryable: [BackendError.Kind] = [.rateLimited, .server(status: 502), .timeout, .transport]
        let final: [BackendError.Kind] = [.client(status: 400), .malformedResponse, .unsupported, .cancelled,
                                          .invalidRequest, .configuration, .engine]
        for k in retryable { XCTAssertTrue(BackendError(k, "x").isRetryable, "\(k)") }
        for k in final { XCTAssertFalse(BackendError(k, "x").isRetryable, "\(k)") }
        let e = BackendError(.server(status: 503), "overloaded", attempts: 4, backend: "openai:m@http://h")
        XCTAssertEqual(e.description, "openai:m@http://h: server_503 after 4 attempts: overloaded")
    }

    func testRequestsAreHashableAndCodable() throws {
        let a = ChatRequest(messages: [.init(role: "user", content: "x")], maxTokens: 3, seed: 1)
        var b = a
        XCTAssertEqual(Set([a, b]).count, 1)
        b.seed = 2
        XCTAssertEqual(Set([a, b]).count, 2)
        let back = try JSONDecoder().decode(ChatRequest.self, from: JSONEncoder().encode(a))
        XCTAssertEqual(back, a)
        let s = ScoreRequest(messages: [.init(role: "user", content: "x")], continuations: ["a", "b"])
        XCTAssertEqual(try JSONDecoder().decode(ScoreRequest.self, from: JSONEncoder().encode(s)), s)
        XCTAssertEqual(ScoreResult(logProbs: [[-1, -2], []]).sums, [-3, 0])
    }

    func testSemaphoreLimitsConcurrentHolders() async throws {
        let sem = AsyncSemaphore(permits: 2)
        let counter = Counter()
        try await withThrowingTaskGroup(of: Void.self) { g in
            for _ in 0..<8 {
                g.addTask {
                    try await sem.withPermit {
                        await counter.enter()
                        try await Task.sleep(nanoseconds: 20_000_000)
                        await counter.leave()
                    }
                }
            }
            try await g.waitForAll()
        }
        let peak = await counter.peak
        XCTAssertEqual(peak, 2)
    }
}

actor Counter {
    var now = 0
    var peak = 0
    func enter() { now += 1; peak = max(peak, now) }
    func leave() { now -= 1 }
}
