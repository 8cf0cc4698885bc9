import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import ChatTemplate

/// A model behind Anthropic's Messages API (`POST {baseURL}/v1/messages`).
///
/// System messages are joined (blank line between) into the top-level `system` field; the other
/// messages are sent in order. `maxTokens`, `temperature`, `topP` and `stop` map to `max_tokens`,
/// `temperature`, `top_p` and `stop_sequences`. The API has no `n` and no seed: `n > 1` sends `n`
/// requests. There is no log-likelihood scoring (`score` throws `.unsupported`).
///
/// The key is read from the environment variable `apiKeyEnv` at each request and sent as `x-api-key`;
/// a missing key is a `.configuration` error before anything is sent.
public struct AnthropicBackend: LanguageModel {
    /// The `model` field of every request.
    public let model: String
    /// The environment variable holding the API key.
    public let apiKeyEnv: String
    /// The API root (without `/v1`).
    public let baseURL: URL
    /// Timeout, concurrency limit and retries.
    public let http: HTTPOptions
    /// The `anthropic-version` header.
    public let apiVersion: String
    /// `anthropic:MODEL@BASE_URL` (the URL without credentials).
    public let identifier: String
    private let transport: HTTPTransport

    /// The default base URL, `https://api.anthropic.com`.
    public static let defaultBaseURL = URL(string: "https://api.anthropic.com")!

    /// Makes a backend; nothing is sent and no key is read until the first request.
    public init(model: String, apiKeyEnv: String = "ANTHROPIC_API_KEY", baseURL: URL = AnthropicBackend.defaultBaseURL,
                http: HTTPOptions = HTTPOptions(), apiVersion: String = "2023-06-01") {
        self.model = model
        self.apiKeyEnv = apiKeyEnv
        self.baseURL = baseURL
        self.http = http
        self.apiVersion = apiVersion
        self.identifier = "anthropic:\(model)@\(displayURL(baseURL))"
        self.transport = HTTPTransport(options: http, identifier: identifier, secret: SecretSource(variable: apiKeyEnv))
    }

    /// `.chat` only.
    public var capabilities: BackendCapabilities { [.chat] }

    private struct Body: Encodable {
        struct Message: Encodable { var role: String; var content: String }
        var model: String
        var max_tokens: Int
        var system: String?
        var messages: [Message]
        var temperature: Double
        var top_p: Double?
        var stop_sequences: [String]?
    }

    private struct Response: Decodable {
        struct Block: Decodable { var type: String; var text: String? }
        struct UsageBody: Decodable { var input_tokens: Int?; var output_tokens: Int? }
        var content: [Block]
        var stop_reason: String?
        var usage: UsageBody?
    }

    /// Anthropic's stop reasons in the vocabulary of `ChatResult.finishReasons`.
    static func finishReason(_ r: String?) -> String {
        switch r {
        case "end_turn", "stop_sequence": return "stop"
        case "max_tokens": return "length"
        case nil: return "unknown"
        case let other?: return other
        }
    }

    /// Samples `r.n` replies (one request each, concurrently up to the concurrency limit).
    public func chat(_ r: ChatRequest) async throws -> ChatResult {
        try r.validate(backend: identifier)
        guard let key = transport.secret.current() else {
            throw BackendError(.configuration, "the environment variable \(apiKeyEnv) holding the Anthropic API key is not set",
                               backend: identifier)
        }
        let system = r.messages.filter { $0.role == "system" }.map(\.content)
        let rest = r.messages.filter { $0.role != "system" }
        guard !rest.isEmpty else {
            throw BackendError(.invalidRequest, "the conversation has only system messages", backend: identifier)
        }
        let body = Body(model: model, max_tokens: r.maxTokens, system: system.isEmpty ? nil : system.joined(separator: "\n\n"),
                        messages: rest.map { .init(role: $0.role, content: $0.content) }, temperature: r.temperature,
                        top_p: r.topP, stop_sequences: r.stop.isEmpty ? nil : r.stop)
        let data = try encodeBody(body)
        let call = HTTPCall(url: endpoint(baseURL, "v1/messages"),
                            headers: ["x-api-key": key, "anthropic-version": apiVersion], body: data)
        let responses = try await withThrowingTaskGroup(of: (Int, Response).self) { group in
            for i in 0..<r.n {
                group.addTask {
                    let resp = try await self.transport.send(call, key: key) { data in
                        try decodeResponse(Response.self, from: data, what: "messages response")
                    }
                    return (i, resp)
                }
            }
            var out: [(Int, Response)] = []
            for try await x in group { out.append(x) }
            return out.sorted { $0.0 < $1.0 }.map(\.1)
        }
        var prompt: Int? = nil
        var completion: Int? = 0
        for (i, resp) in responses.enumerated() {
            if i == 0 { prompt = resp.usage?.input_tokens }
            if let c = completion, let o = resp.usage?.output_tokens { completion = c + o } else { completion = nil }
        }
        return ChatResult(texts: responses.map { $0.content.filter { $0.type == "text" }.compactMap(\.text).joined() },
                          finishReasons: responses.map { Self.finishReason($0.stop_reason) },
                          usage: Usage(promptTokens: prompt, completionTokens: completion))
    }

    /// Always throws `.unsupported`.
    public func score(_ r: ScoreRequest) async throws -> ScoreResult {
        throw BackendError(.unsupported, "Anthropic's Messages API returns no token log-probabilities, so it cannot score "
                           + "continuations; use a local or OpenAI-compatible backend with echo scoring", backend: identifier)
    }
}

extension AnthropicBackend: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The identifier (URLs without credentials).
    public var description: String { identifier }
    public var debugDescription: String { identifier }
    /// Only the identifier and capabilities, so dumps never show a URL's credentials.
    public var customMirror: Mirror {
        Mirror(self, children: ["identifier": identifier, "capabilities": capabilities], displayStyle: .struct)
    }
}
