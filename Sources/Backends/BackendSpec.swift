import Foundation
import ChatTemplate

/// A backend named on the command line.
///
/// Forms:
/// - `local:NAME` — a model alias (e.g. `local:smollm2-135m-instruct`) or a GGUF path (`local:/path/m.gguf`).
/// - `openai:MODEL` or `openai:MODEL@BASE_URL` — an OpenAI-compatible API (default
///   `https://api.openai.com/v1`; a local server is e.g. `openai:smollm2@http://127.0.0.1:8080/v1`).
/// - `anthropic:MODEL` or `anthropic:MODEL@BASE_URL` — Anthropic's Messages API.
///
/// A model name may itself contain `@`; only an `@` followed by `http://` or `https://` starts the URL.
public struct BackendSpec: Sendable, Hashable, CustomStringConvertible {
    /// Which kind of backend, with its parameters.
    public enum Kind: Sendable, Hashable {
        case local(model: String)
        case openAI(model: String, baseURL: URL)
        case anthropic(model: String, baseURL: URL)
    }

    /// The parsed backend.
    public let kind: Kind

    /// A spec from its parts.
    public init(kind: Kind) { self.kind = kind }

    /// Parses a spec string; throws `BackendError` of kind `.configuration` naming the problem.
    public init(parsing raw: String) throws {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        func fail(_ m: String) -> BackendError {
            BackendError(.configuration, "bad backend spec \"\(text)\": \(m). Expected local:MODEL_OR_PATH, "
                         + "openai:MODEL[@BASE_URL] or anthropic:MODEL[@BASE_URL]")
        }
        guard let colon = text.firstIndex(of: ":") else { throw fail("no backend prefix") }
        let scheme = text[..<colon].lowercased()
        let rest = String(text[text.index(after: colon)...])
        guard !rest.isEmpty else { throw fail("nothing after \"\(scheme):\"") }

        func modelAndURL(default base: URL) throws -> (String, URL) {
            var model = rest
            var url = base
            if let at = rest.range(of: "@http://", options: .backwards) ?? rest.range(of: "@https://", options: .backwards) {
                model = String(rest[..<at.lowerBound])
                let u = String(rest[rest.index(after: at.lowerBound)...])
                guard let parsed = URL(string: u), let host = parsed.host, !host.isEmpty,
                      parsed.scheme == "http" || parsed.scheme == "https" else {
                    throw fail("\"\(u)\" is not a valid http(s) URL")
                }
                url = parsed
            }
            guard !model.isEmpty else { throw fail("the model name is empty") }
            guard !model.contains(where: { $0.isWhitespace }) else { throw fail("the model name contains whitespace") }
            return (model, url)
        }

        switch scheme {
        case "local":
            kind = .local(model: rest)
        case "openai":
            let (m, u) = try modelAndURL(default: OpenAICompatibleBackend.defaultBaseURL)
            kind = .openAI(model: m, baseURL: u)
        case "anthropic":
            let (m, u) = try modelAndURL(default: AnthropicBackend.defaultBaseURL)
            kind = .anthropic(model: m, baseURL: u)
        default:
            throw fail("unknown backend \"\(scheme)\"")
        }
    }

    /// The spec written back (secrets never appear: URLs lose any user/password).
    public var description: String {
        switch kind {
        case .local(let m): return "local:\(m)"
        case .openAI(let m, let u): return "openai:\(m)@\(displayURL(u))"
        case .anthropic(let m, let u): return "anthropic:\(m)@\(displayURL(u))"
        }
    }

    /// Settings for building a backend from a spec.
    public struct Options: Sendable {
        /// Reliability of HTTP backends.
        public var http: HTTPOptions
        /// Echo scoring for OpenAI-compatible backends (nil: chat only).
        public var openAIScoring: EchoScoring?
        /// The environment variable holding the OpenAI-compatible API key (nil: send none).
        public var openAIKeyEnv: String?
        /// The environment variable holding the Anthropic API key.
        public var anthropicKeyEnv: String
        /// Context limit of local models (nil: the model's own).
        public var contextLimit: Int?
        /// Fetch local model aliases that are not cached yet.
        public var fetchModels: Bool

        public init(http: HTTPOptions = HTTPOptions(), openAIScoring: EchoScoring? = nil,
                    openAIKeyEnv: String? = "OPENAI_API_KEY", anthropicKeyEnv: String = "ANTHROPIC_API_KEY",
                    contextLimit: Int? = nil, fetchModels: Bool = true) {
            self.http = http
            self.openAIScoring = openAIScoring
            self.openAIKeyEnv = openAIKeyEnv
            self.anthropicKeyEnv = anthropicKeyEnv
            self.contextLimit = contextLimit
            self.fetchModels = fetchModels
        }
    }

    /// Builds the backend (loading a local model from disk).
    public func makeBackend(_ options: Options = Options()) throws -> any LanguageModel {
        switch kind {
        case .local(let m):
            return try LocalModelBackend(modelName: m, contextLimit: options.contextLimit, fetch: options.fetchModels)
        case .openAI(let m, let u):
            return OpenAICompatibleBackend(baseURL: u, model: m, apiKeyEnv: options.openAIKeyEnv,
                                           scoring: options.openAIScoring, http: options.http)
        case .anthropic(let m, let u):
            return AnthropicBackend(model: m, apiKeyEnv: options.anthropicKeyEnv, baseURL: u, http: options.http)
        }
    }

    /// Parses and builds in one step.
    public static func backend(_ spec: String, options: Options = Options()) throws -> any LanguageModel {
        try BackendSpec(parsing: spec).makeBackend(options)
    }
}
