import Foundation
import ChatTemplate

/// One chat-completion request, the same for every backend.
///
/// `n` asks for that many independent samples of the same conversation. With a `seed`, a backend that
/// supports seeding (the local engine, most OpenAI-compatible servers) returns the same texts again.
public struct ChatRequest: Sendable, Codable, Hashable {
    /// The conversation, oldest first ("system", "user", "assistant" roles).
    public var messages: [ChatMessage]
    /// The most tokens to generate per sample.
    public var maxTokens: Int
    /// Sampling temperature; 0 means greedy.
    public var temperature: Double
    /// Nucleus-sampling mass, or nil for the backend's default (off).
    public var topP: Double?
    /// Sampling seed, or nil for the backend's choice (not reproducible).
    public var seed: UInt64?
    /// Generation ends at any of these strings; the stop string itself is not returned.
    public var stop: [String]
    /// How many samples to draw.
    public var n: Int

    /// Makes a request; defaults: 256 tokens, temperature 1, one sample, no stop strings.
    public init(messages: [ChatMessage], maxTokens: Int = 256, temperature: Double = 1, topP: Double? = nil,
                seed: UInt64? = nil, stop: [String] = [], n: Int = 1) {
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.seed = seed
        self.stop = stop
        self.n = n
    }

    public static func == (a: ChatRequest, b: ChatRequest) -> Bool {
        a.messages == b.messages && a.maxTokens == b.maxTokens && a.temperature == b.temperature && a.topP == b.topP
            && a.seed == b.seed && a.stop == b.stop && a.n == b.n
    }

    public func hash(into h: inout Hasher) {
        h.combine(messages.count)
        for m in messages { h.combine(m.role); h.combine(m.content) }
        h.combine(maxTokens); h.combine(temperature); h.combine(topP); h.combine(seed); h.combine(stop); h.combine(n)
    }

    /// Checks the fields every backend relies on; throws `BackendError` of kind `.invalidRequest`.
    public func validate(backend: String) throws {
        func bad(_ m: String) -> BackendError { BackendError(.invalidRequest, m, backend: backend) }
        if messages.isEmpty { throw bad("the chat request has no messages") }
        if n < 1 { throw bad("n must be at least 1 (got \(n))") }
        if maxTokens < 0 { throw bad("maxTokens must not be negative (got \(maxTokens))") }
        if !temperature.isFinite || temperature < 0 { throw bad("temperature must be a finite number ≥ 0 (got \(temperature))") }
        if let p = topP, !(p > 0 && p <= 1) { throw bad("topP must be in (0, 1] (got \(p))") }
    }
}

/// Token counts a backend reported (nil when it did not say).
public struct Usage: Sendable, Codable, Hashable {
    /// Tokens of the prompt (counted once, even for n samples).
    public var promptTokens: Int?
    /// Tokens generated, summed over all samples.
    public var completionTokens: Int?

    public init(promptTokens: Int? = nil, completionTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
}

/// The samples of one chat request.
public struct ChatResult: Sendable, Codable, Hashable {
    /// One text per sample, in sample order (`texts.count == request.n`).
    public var texts: [String]
    /// Why each sample ended: "stop" (end of turn or a stop string), "length" (maxTokens), or the
    /// backend's own word for anything else (e.g. "content_filter", "refusal").
    public var finishReasons: [String]
    /// Token counts, when known.
    public var usage: Usage

    public init(texts: [String], finishReasons: [String], usage: Usage = Usage()) {
        self.texts = texts
        self.finishReasons = finishReasons
        self.usage = usage
    }
}

/// A log-likelihood request: how probable is each continuation as the assistant's reply?
public struct ScoreRequest: Sendable, Codable, Hashable {
    /// The conversation; it is rendered with the generation prompt (the assistant turn opened).
    public var messages: [ChatMessage]
    /// Assistant texts to score after the rendered prompt.
    public var continuations: [String]

    public init(messages: [ChatMessage], continuations: [String]) {
        self.messages = messages
        self.continuations = continuations
    }

    public static func == (a: ScoreRequest, b: ScoreRequest) -> Bool {
        a.messages == b.messages && a.continuations == b.continuations
    }

    public func hash(into h: inout Hasher) {
        h.combine(messages.count)
        for m in messages { h.combine(m.role); h.combine(m.content) }
        h.combine(continuations)
    }
}

/// Per-token log-probabilities (natural log) of each continuation, and their sums.
public struct ScoreResult: Sendable, Codable, Hashable {
    /// `logProbs[i]` holds one value per token of continuation `i` (the backend's own tokenization).
    public var logProbs: [[Double]]
    /// `sums[i]` is the total log-probability of continuation `i`.
    public var sums: [Double]

    /// Makes a result; `sums` are computed from `logProbs`.
    public init(logProbs: [[Double]]) {
        self.logProbs = logProbs
        self.sums = logProbs.map { $0.reduce(0, +) }
    }
}

/// What a backend can do.
public struct BackendCapabilities: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Chat completions (`chat(_:)`).
    public static let chat = BackendCapabilities(rawValue: 1)
    /// Log-likelihood scoring (`score(_:)`).
    public static let score = BackendCapabilities(rawValue: 2)

    public var description: String {
        var parts: [String] = []
        if contains(.chat) { parts.append("chat") }
        if contains(.score) { parts.append("score") }
        return "[" + parts.joined(separator: ", ") + "]"
    }
}

/// The one interface every evaluation talks to: a model that can chat and (maybe) score.
///
/// Every failure is thrown as a `BackendError` carrying the number of attempts made; nothing is
/// silently dropped.
public protocol LanguageModel: Sendable {
    /// A stable, human-readable name of the backend and model (e.g. `openai:gpt-4o@https://api.openai.com/v1`).
    /// Never contains secrets.
    var identifier: String { get }
    /// What this backend, as configured, can do.
    var capabilities: BackendCapabilities { get }
    /// Samples `request.n` replies to a conversation.
    func chat(_ request: ChatRequest) async throws -> ChatResult
    /// Scores continuations of a conversation; throws `.unsupported` without the `.score` capability.
    func score(_ request: ScoreRequest) async throws -> ScoreResult
}

/// A failure of a backend call.
public struct BackendError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong.
    public enum Kind: Sendable, Hashable, CustomStringConvertible {
        /// HTTP 429 (after all retries).
        case rateLimited
        /// HTTP 5xx (after all retries).
        case server(status: Int)
        /// HTTP 4xx other than 429 (not retried).
        case client(status: Int)
        /// No complete response within the per-request timeout (after all retries).
        case timeout
        /// The connection failed or dropped (after all retries).
        case transport
        /// The response was not the JSON shape expected.
        case malformedResponse
        /// The backend cannot do this (e.g. scoring on Anthropic).
        case unsupported
        /// The calling task was cancelled.
        case cancelled
        /// The request itself is invalid (e.g. n < 1); nothing was sent.
        case invalidRequest
        /// The backend is misconfigured (e.g. a missing API key variable, a bad spec); nothing was sent.
        case configuration
        /// The local engine failed while running the request.
        case engine

        /// A short snake_case name for records: `rate_limited`, `server_503`, `client_400`, ...
        public var name: String {
            switch self {
            case .rateLimited: return "rate_limited"
            case .server(let s): return "server_\(s)"
            case .client(let s): return "client_\(s)"
            case .timeout: return "timeout"
            case .transport: return "transport"
            case .malformedResponse: return "malformed_response"
            case .unsupported: return "unsupported"
            case .cancelled: return "cancelled"
            case .invalidRequest: return "invalid_request"
            case .configuration: return "configuration"
            case .engine: return "engine"
            }
        }

        public var description: String { name }
    }

    /// What went wrong.
    public var kind: Kind
    /// Details (a response excerpt, the underlying error); secrets are redacted.
    public var message: String
    /// How many attempts were made (0 when nothing was sent).
    public var attempts: Int
    /// The backend's identifier.
    public var backend: String

    public init(_ kind: Kind, _ message: String, attempts: Int = 0, backend: String = "") {
        self.kind = kind
        self.message = message
        self.attempts = attempts
        self.backend = backend
    }

    /// Whether trying again might succeed (429, 5xx, timeouts, dropped connections).
    public var isRetryable: Bool {
        switch kind {
        case .rateLimited, .server, .timeout, .transport: return true
        default: return false
        }
    }

    public var description: String {
        let who = backend.isEmpty ? "backend" : backend
        let tries = attempts == 1 ? "1 attempt" : "\(attempts) attempts"
        return "\(who): \(kind.name) after \(tries): \(message)"
    }
}
