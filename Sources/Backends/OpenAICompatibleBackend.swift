import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import ChatTemplate

/// How an OpenAI-compatible backend scores continuations: through the legacy `/completions` endpoint
/// with `echo: true` and `logprobs`, on the prompt text followed by the continuation.
///
/// The server returns every token of the echoed text with its log-probability and character offset
/// (`text_offset`); the tokens that overlap the continuation's characters are its scores. The
/// continuation is located from the end of the echo (the returned `text` minus what was generated),
/// because servers may leave special tokens such as `<|im_start|>` out of the echoed token texts, which
/// shifts every offset of the prompt. A token that straddles the boundary (prompt text and continuation
/// merged into one token) is counted with the continuation. Servers tokenize the joined text, so the
/// tokens can differ from scoring the continuation's own tokens after the prompt's (as the local engine
/// does).
public struct EchoScoring: Sendable {
    /// What `text_offset` counts.
    public enum OffsetUnit: String, Sendable, Hashable {
        /// Unicode code points (Python `str` indices: OpenAI, llama-cpp-python).
        case unicodeScalars
        /// UTF-8 bytes.
        case utf8
        /// UTF-16 code units.
        case utf16
    }

    /// Renders the conversation (with the generation prompt) into the prompt text.
    public var renderer: PromptRenderer
    /// The request's `logprobs` field (0 or 1: only the chosen token's log-probability is used).
    public var logprobs: Int
    /// The request's `max_tokens` (1 by default: some servers read 0 as "no limit").
    public var maxTokens: Int
    /// What the server's `text_offset` counts.
    public var offsetUnit: OffsetUnit

    public init(renderer: PromptRenderer = .plain, logprobs: Int = 1, maxTokens: Int = 1,
                offsetUnit: OffsetUnit = .unicodeScalars) {
        self.renderer = renderer
        self.logprobs = logprobs
        self.maxTokens = maxTokens
        self.offsetUnit = offsetUnit
    }
}

/// A model behind an OpenAI-compatible HTTP API (OpenAI, llama.cpp's server, llama-cpp-python, vLLM, ...).
///
/// Chat goes to `{baseURL}/chat/completions` with `n`, `temperature`, `top_p`, `seed`, `stop` and
/// `max_tokens`. If the server returns fewer choices than `n` (some ignore `n`), the missing samples are
/// requested one at a time, with seeds `seed + 1`, `seed + 2`, ... Scoring (only when `scoring` is set)
/// goes to `{baseURL}/completions`, one request per continuation; see `EchoScoring`.
///
/// The API key is read from the environment variable `apiKeyEnv` at each request and sent as a bearer
/// token; without it no `Authorization` header is sent (fine for local servers).
public struct OpenAICompatibleBackend: LanguageModel {
    /// The API root, including the version (e.g. `http://127.0.0.1:8080/v1`).
    public let baseURL: URL
    /// The `model` field of every request.
    public let model: String
    /// The environment variable holding the API key (nil: never send one).
    public let apiKeyEnv: String?
    /// Echo scoring settings; nil disables `score` (capabilities then hold only `.chat`).
    public let scoring: EchoScoring?
    /// Timeout, concurrency limit and retries.
    public let http: HTTPOptions
    /// Extra headers sent with every request (e.g. an organization id); not secret-scrubbed, so keep
    /// keys in `apiKeyEnv`.
    public let extraHeaders: [String: String]
    /// `openai:MODEL@BASE_URL` (the URL without credentials).
    public let identifier: String
    private let transport: HTTPTransport

    /// The default base URL, `https://api.openai.com/v1`.
    public static let defaultBaseURL = URL(string: "https://api.openai.com/v1")!

    /// Makes a backend; nothing is sent and no key is read until the first request.
    public init(baseURL: URL = OpenAICompatibleBackend.defaultBaseURL, model: String,
                apiKeyEnv: String? = "OPENAI_API_KEY", scoring: EchoScoring? = nil,
                http: HTTPOptions = HTTPOptions(), extraHeaders: [String: String] = [:]) {
        self.baseURL = baseURL
        self.model = model
        self.apiKeyEnv = apiKeyEnv
        self.scoring = scoring
        self.http = http
        self.extraHeaders = extraHeaders
        self.identifier = "openai:\(model)@\(displayURL(baseURL))"
        self.transport = HTTPTransport(options: http, identifier: identifier, secret: SecretSource(variable: apiKeyEnv))
    }

    /// `.chat`, plus `.score` when `scoring` is set.
    public var capabilities: BackendCapabilities { scoring == nil ? [.chat] : [.chat, .score] }

    // MARK: chat

    private struct ChatBody: Encodable {
        struct Message: Encodable { var role: String; var content: String }
        var model: String
        var messages: [Message]
        var max_tokens: Int
        var temperature: Double
        var top_p: Double?
        var seed: Int64?
        var stop: [String]?
        var n: Int?
    }

    private struct ChatResponse: Decodable {
        struct Choice: Decodable {
            struct Message: Decodable { var content: String? }
            var index: Int?
            var message: Message
            var finish_reason: String?
        }
        struct UsageBody: Decodable { var prompt_tokens: Int?; var completion_tokens: Int? }
        var choices: [Choice]
        var usage: UsageBody?
    }

    private func headers(_ key: String?) -> [String: String] {
        var h = extraHeaders
        if let key { h["Authorization"] = "Bearer \(key)" }
        return h
    }

    private func chatCall(_ r: ChatRequest, n: Int, seed: UInt64?, key: String?) async throws -> ChatResponse {
        let body = ChatBody(model: model, messages: r.messages.map { .init(role: $0.role, content: $0.content) },
                            max_tokens: r.maxTokens, temperature: r.temperature, top_p: r.topP,
                            seed: seed.map(wireSeed), stop: r.stop.isEmpty ? nil : r.stop, n: n == 1 ? nil : n)
        let call = HTTPCall(url: endpoint(baseURL, "chat/completions"), headers: headers(key), body: try encodeBody(body))
        return try await transport.send(call, key: key) { data in
            let resp = try decodeResponse(ChatResponse.self, from: data, what: "chat completion")
            if resp.choices.isEmpty {
                throw BackendError(.malformedResponse, "chat completion has no choices; body starts: \(HTTPTransport.excerpt(data, limit: 200))")
            }
            return resp
        }
    }

    /// Samples `r.n` replies through `/chat/completions` (see the type's documentation for `n`).
    public func chat(_ r: ChatRequest) async throws -> ChatResult {
        try r.validate(backend: identifier)
        let key = transport.secret.current()
        let first = try await chatCall(r, n: r.n, seed: r.seed, key: key)
        var choices = first.choices.enumerated().sorted { ($0.element.index ?? $0.offset) < ($1.element.index ?? $1.offset) }
            .map(\.element).prefix(r.n).map { $0 }
        var completion = first.usage?.completion_tokens
        if choices.count < r.n {
            // The server ignored n: ask for the rest one at a time, each with its own seed.
            let missing = Array(choices.count..<r.n)
            let more = try await withThrowingTaskGroup(of: (Int, ChatResponse).self) { group in
                for i in missing {
                    group.addTask {
                        (i, try await self.chatCall(r, n: 1, seed: r.seed.map { $0 &+ UInt64(i) }, key: key))
                    }
                }
                var out: [(Int, ChatResponse)] = []
                for try await x in group { out.append(x) }
                return out.sorted { $0.0 < $1.0 }
            }
            for (_, resp) in more {
                choices.append(resp.choices[0])
                if let c = completion, let add = resp.usage?.completion_tokens { completion = c + add } else { completion = nil }
            }
        }
        return ChatResult(texts: choices.map { $0.message.content ?? "" },
                          finishReasons: choices.map { $0.finish_reason ?? "unknown" },
                          usage: Usage(promptTokens: first.usage?.prompt_tokens, completionTokens: completion))
    }

    // MARK: score

    private struct CompletionBody: Encodable {
        var model: String
        var prompt: String
        var max_tokens: Int
        var temperature: Double
        var echo: Bool
        var logprobs: Int
    }

    private struct CompletionResponse: Decodable {
        struct Choice: Decodable {
            struct LogProbs: Decodable {
                var tokens: [String]
                var token_logprobs: [Double?]
                var text_offset: [Int]
            }
            var text: String?
            var logprobs: LogProbs?
        }
        var choices: [Choice]
    }

    /// Scores each continuation through `/completions` with echo (one request each, concurrently up to
    /// the concurrency limit); `.unsupported` without `scoring`.
    public func score(_ r: ScoreRequest) async throws -> ScoreResult {
        guard let scoring else {
            throw BackendError(.unsupported, "scoring is not enabled for this backend (configure EchoScoring to score "
                               + "through /completions with echo and logprobs)", backend: identifier)
        }
        let prompt: String
        do { prompt = try scoring.renderer.render(r.messages) } catch {
            throw BackendError(.invalidRequest, "rendering the prompt with the \(scoring.renderer.name) renderer failed: \(error)",
                               backend: identifier)
        }
        let key = transport.secret.current()
        let conts = r.continuations
        let lps = try await withThrowingTaskGroup(of: (Int, [Double]).self) { group in
            for (i, c) in conts.enumerated() {
                group.addTask { (i, try await self.scoreOne(prompt: prompt, continuation: c, scoring: scoring, key: key)) }
            }
            var out = [[Double]](repeating: [], count: conts.count)
            for try await (i, v) in group { out[i] = v }
            return out
        }
        return ScoreResult(logProbs: lps)
    }

    private func length(_ s: String, _ unit: EchoScoring.OffsetUnit) -> Int {
        switch unit {
        case .unicodeScalars: return s.unicodeScalars.count
        case .utf8: return s.utf8.count
        case .utf16: return s.utf16.count
        }
    }

    private func scoreOne(prompt: String, continuation: String, scoring: EchoScoring, key: String?) async throws -> [Double] {
        if continuation.isEmpty { return [] }
        let body = CompletionBody(model: model, prompt: prompt + continuation, max_tokens: scoring.maxTokens,
                                  temperature: 0, echo: true, logprobs: scoring.logprobs)
        let call = HTTPCall(url: endpoint(baseURL, "completions"), headers: headers(key), body: try encodeBody(body))
        let c = length(continuation, scoring.offsetUnit)
        let echoed = prompt + continuation
        let unit = scoring.offsetUnit
        return try await transport.send(call, key: key) { data in
            let resp = try decodeResponse(CompletionResponse.self, from: data, what: "echo completion")
            func bad(_ m: String) -> BackendError {
                BackendError(.malformedResponse, "echo completion: \(m); body starts: \(HTTPTransport.excerpt(data, limit: 200))")
            }
            guard let choice = resp.choices.first else { throw bad("no choices") }
            guard let lp = choice.logprobs else { throw bad("no logprobs (does the server support echo with logprobs?)") }
            let n = lp.tokens.count
            guard n > 0, lp.token_logprobs.count == n, lp.text_offset.count == n else {
                throw bad("tokens, token_logprobs and text_offset differ in length or are empty (\(n), \(lp.token_logprobs.count), \(lp.text_offset.count))")
            }
            // Locate the continuation from the end of the echo: servers may drop special tokens from the
            // echoed text (so prompt offsets shift), but the continuation is always its last characters.
            let total = lp.text_offset[n - 1] + self.length(lp.tokens[n - 1], unit)
            var generated = 0
            if let text = choice.text, text.unicodeScalars.starts(with: echoed.unicodeScalars) {
                let tail = String(String.UnicodeScalarView(text.unicodeScalars.dropFirst(echoed.unicodeScalars.count)))
                generated = self.length(tail, unit)
            }
            let end = total - generated
            let start = end - c
            var out: [Double] = []
            for i in 0..<n {
                let tokenStart = lp.text_offset[i]
                let tokenEnd = i + 1 < n ? max(tokenStart, lp.text_offset[i + 1]) : tokenStart + self.length(lp.tokens[i], unit)
                let overlaps = tokenEnd > tokenStart ? (tokenEnd > start && tokenStart < end) : (tokenStart >= start && tokenStart < end)
                guard overlaps else { continue }
                guard let v = lp.token_logprobs[i] else {
                    if i == 0 { continue }  // the very first token has no context
                    throw bad("token \(i) of the continuation has a null logprob")
                }
                out.append(v)
            }
            if out.isEmpty {
                throw bad("no echoed token lies in the continuation (offsets \(start)..<\(end) of \(total))")
            }
            return out
        }
    }
}

extension OpenAICompatibleBackend: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The identifier (URLs without credentials).
    public var description: String { identifier }
    public var debugDescription: String { identifier }
    /// Only the identifier and capabilities, so dumps never show a URL's credentials.
    public var customMirror: Mirror {
        Mirror(self, children: ["identifier": identifier, "capabilities": capabilities], displayStyle: .struct)
    }
}
