import Foundation
import ChatTemplate

/// Decodes a response body, turning any JSON or shape problem into a `.malformedResponse` error that
/// names the missing or mistyped field and quotes the start of the body.
func decodeResponse<T: Decodable>(_ type: T.Type, from data: Data, what: String) throws -> T {
    do {
        return try JSONDecoder().decode(T.self, from: data)
    } catch let e as DecodingError {
        let detail: String
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.isEmpty ? "the top level" : String(p.drop(while: { $0 == "." }))
        }
        switch e {
        case .keyNotFound(let key, let c):
            let at = c.codingPath.isEmpty ? "" : " in \(path(c))"
            detail = "missing field '\(key.stringValue)'\(at)"
        case .valueNotFound(_, let c): detail = "null where a value was expected at \(path(c))"
        case .typeMismatch(let t, let c): detail = "expected \(t) at \(path(c))"
        case .dataCorrupted(let c):
            detail = c.codingPath.isEmpty ? "not valid JSON" : "invalid value at \(path(c))"
        @unknown default: detail = "undecodable"
        }
        throw BackendError(.malformedResponse, "\(what): \(detail); body starts: \(HTTPTransport.excerpt(data, limit: 200))")
    } catch {
        throw BackendError(.malformedResponse, "\(what): \(error); body starts: \(HTTPTransport.excerpt(data, limit: 200))")
    }
}

/// Encodes a request body.
func encodeBody<T: Encodable>(_ value: T) throws -> Data {
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return try enc.encode(value)
}

/// A seed as the signed 63-bit integer HTTP APIs accept.
func wireSeed(_ s: UInt64) -> Int64 { Int64(bitPattern: s & UInt64(Int64.max)) }

/// `url` with any user name or password removed, for identifiers and messages.
func displayURL(_ url: URL) -> String {
    guard var c = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return url.absoluteString }
    c.user = nil
    c.password = nil
    c.query = nil
    c.fragment = nil
    var s = c.string ?? url.absoluteString
    while s.hasSuffix("/") { s.removeLast() }
    return s
}

/// `base` joined with a path such as `chat/completions`, with exactly one slash between them.
func endpoint(_ base: URL, _ path: String) -> URL {
    var s = base.absoluteString
    while s.hasSuffix("/") { s.removeLast() }
    return URL(string: s + "/" + path) ?? base.appendingPathComponent(path)
}

/// Turns a conversation into the prompt text a completions endpoint continues: a chat template with
/// the generation prompt, or the plain format.
public struct PromptRenderer: Sendable {
    /// A short name for identifiers ("plain", "template", "model").
    public let name: String
    private let body: @Sendable ([ChatMessage]) throws -> String

    /// A renderer from any function.
    public init(name: String, _ render: @escaping @Sendable ([ChatMessage]) throws -> String) {
        self.name = name
        self.body = render
    }

    /// Renders `messages` with the generation prompt.
    public func render(_ messages: [ChatMessage]) throws -> String { try body(messages) }

    /// `ChatTemplate.plain`: "User: …\n\nAssistant:".
    public static let plain = PromptRenderer(name: "plain") { ChatTemplate.plain(messages: $0, addGenerationPrompt: true) }

    /// A Jinja chat template (e.g. a local GGUF's), with the given BOS/EOS token texts.
    public static func template(_ t: ChatTemplate, bosToken: String = "", eosToken: String = "") -> PromptRenderer {
        PromptRenderer(name: "template") {
            try t.render(messages: $0, addGenerationPrompt: true, bosToken: bosToken, eosToken: eosToken)
        }
    }
}
