import Foundation

// Request and response bodies of the OpenAI API subset the server speaks. Field names follow the API
// (snake_case), so these types map one to one onto the JSON.

/// An error in the OpenAI shape: `{"error": {"message", "type", "param", "code"}}` with an HTTP status.
public struct APIError: Error, CustomStringConvertible, Sendable {
    /// HTTP status code.
    public var status: Int
    /// Human-readable message.
    public var message: String
    /// OpenAI error type (`invalid_request_error`, `authentication_error`, `rate_limit_error`, `server_error`, ...).
    public var type: String
    /// The request field at fault, if any.
    public var param: String?
    /// A machine-readable code (`context_length_exceeded`, `model_not_found`, ...).
    public var code: String?

    /// Makes an error.
    public init(status: Int, _ message: String, type: String = "invalid_request_error", param: String? = nil, code: String? = nil) {
        self.status = status; self.message = message; self.type = type; self.param = param; self.code = code
    }

    public var description: String { "\(status) \(type): \(message)" }

    static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: 400, message, param: param, code: code)
    }

    struct Body: Encodable {
        struct Inner: Encodable {
            var message: String
            var type: String
            var param: String?
            var code: String?
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(message, forKey: .message)
                try c.encode(type, forKey: .type)
                try c.encode(param, forKey: .param)  // explicit nulls, as OpenAI sends
                try c.encode(code, forKey: .code)
            }
            enum CodingKeys: String, CodingKey { case message, type, param, code }
        }
        var error: Inner
    }

    /// The JSON body.
    public var json: Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.withoutEscapingSlashes]
        return (try? enc.encode(Body(error: .init(message: message, type: type, param: param, code: code)))) ?? Data()
    }
}

/// `stop`: a string or an array of strings.
struct StopField: Decodable {
    var values: [String]
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { values = [] } else if let s = try? c.decode(String.self) { values = [s] } else {
            values = try c.decode([String].self)
        }
    }
}

/// A message's `content`: a string, null, or an array of parts (only text parts are accepted).
struct ContentField: Decodable {
    var text: String
    struct Part: Decodable { var type: String; var text: String? }
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { text = ""; return }
        if let s = try? c.decode(String.self) { text = s; return }
        let parts = try c.decode([Part].self)
        var out = ""
        for p in parts {
            guard p.type == "text", let t = p.text else {
                throw APIError.invalid("content part type '\(p.type)' is not supported (text only)", param: "messages")
            }
            out += t
        }
        text = out
    }
}

/// `prompt`: a string, an array of strings, an array of token ids, or an array of token-id arrays.
enum PromptField: Decodable {
    case texts([String])
    case tokens([[Int]])
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .texts([s]); return }
        if let a = try? c.decode([String].self) { self = .texts(a); return }
        if let t = try? c.decode([Int].self) { self = .tokens([t]); return }
        if let tt = try? c.decode([[Int]].self) { self = .tokens(tt); return }
        throw APIError.invalid("'prompt' must be a string, an array of strings, or token ids", param: "prompt")
    }
}

/// Any JSON value (for fields that are only checked for presence).
struct AnyJSON: Decodable {
    var isNull: Bool
    var isEmptyCollection: Bool
    var stringValue: String?
    var typeField: String?
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        isNull = c.decodeNil()
        isEmptyCollection = false
        if isNull { return }
        if let s = try? c.decode(String.self) { stringValue = s; return }
        if let a = try? c.decode([AnyJSON].self) { isEmptyCollection = a.isEmpty; return }
        if let o = try? c.decode([String: AnyJSON].self) {
            isEmptyCollection = o.isEmpty
            typeField = o["type"]?.stringValue
            return
        }
        _ = try? c.decode(Double.self)
    }
}

struct ChatRequestBody: Decodable {
    struct Message: Decodable {
        var role: String
        var content: ContentField?
    }
    struct StreamOptions: Decodable { var include_usage: Bool? }
    var model: String
    var messages: [Message]
    var temperature: Double?
    var top_p: Double?
    var max_tokens: Int?
    var max_completion_tokens: Int?
    var stop: StopField?
    var seed: Int64?
    var n: Int?
    var stream: Bool?
    var stream_options: StreamOptions?
    var logprobs: Bool?
    var top_logprobs: Int?
    var tools: AnyJSON?
    var functions: AnyJSON?
    var response_format: AnyJSON?
    var logit_bias: AnyJSON?
    var audio: AnyJSON?
    var modalities: AnyJSON?
    var presence_penalty: Double?
    var frequency_penalty: Double?
}

struct CompletionRequestBody: Decodable {
    var model: String
    var prompt: PromptField
    var temperature: Double?
    var top_p: Double?
    var max_tokens: Int?
    var stop: StopField?
    var seed: Int64?
    var n: Int?
    var stream: Bool?
    var stream_options: ChatRequestBody.StreamOptions?
    var logprobs: Int?
    var echo: Bool?
    var suffix: String?
    var best_of: Int?
    var logit_bias: AnyJSON?
    var presence_penalty: Double?
    var frequency_penalty: Double?
}

// MARK: responses

struct UsageOut: Encodable {
    var prompt_tokens: Int
    var completion_tokens: Int
    var total_tokens: Int
    init(prompt: Int, completion: Int) { prompt_tokens = prompt; completion_tokens = completion; total_tokens = prompt + completion }
}

struct ChatLogprobsOut: Encodable {
    struct Top: Encodable { var token: String; var logprob: Double; var bytes: [UInt8] }
    struct Entry: Encodable { var token: String; var logprob: Double; var bytes: [UInt8]; var top_logprobs: [Top] }
    var content: [Entry]
}

struct ChatMessageOut: Encodable {
    var role: String?
    var content: String?
    var refusal: String? = nil
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(role, forKey: .role)
        try c.encodeIfPresent(content, forKey: .content)
        if role != nil { try c.encode(refusal, forKey: .refusal) }
    }
    enum CodingKeys: String, CodingKey { case role, content, refusal }
}

struct ChatChoiceOut: Encodable {
    var index: Int
    var message: ChatMessageOut
    var logprobs: ChatLogprobsOut?
    var finish_reason: String
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(message, forKey: .message)
        try c.encode(logprobs, forKey: .logprobs)
        try c.encode(finish_reason, forKey: .finish_reason)
    }
    enum CodingKeys: String, CodingKey { case index, message, logprobs, finish_reason }
}

struct ChatResponseOut: Encodable {
    var id: String
    var object = "chat.completion"
    var created: Int
    var model: String
    var choices: [ChatChoiceOut]
    var usage: UsageOut
    var system_fingerprint: String
}

struct ChatChunkChoiceOut: Encodable {
    var index: Int
    var delta: ChatMessageOut
    var logprobs: ChatLogprobsOut?
    var finish_reason: String?
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(delta, forKey: .delta)
        try c.encode(logprobs, forKey: .logprobs)
        try c.encode(finish_reason, forKey: .finish_reason)
    }
    enum CodingKeys: String, CodingKey { case index, delta, logprobs, finish_reason }
}

struct ChatChunkOut: Encodable {
    var id: String
    var object = "chat.completion.chunk"
    var created: Int
    var model: String
    var choices: [ChatChunkChoiceOut]
    var usage: UsageOut?
    var system_fingerprint: String
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(object, forKey: .object)
        try c.encode(created, forKey: .created)
        try c.encode(model, forKey: .model)
        try c.encode(choices, forKey: .choices)
        try c.encodeIfPresent(usage, forKey: .usage)
        try c.encode(system_fingerprint, forKey: .system_fingerprint)
    }
    enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage, system_fingerprint }
}

struct CompletionLogprobsOut: Encodable {
    var tokens: [String] = []
    var token_logprobs: [Double?] = []
    var top_logprobs: [[String: Double]?] = []
    var text_offset: [Int] = []
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tokens, forKey: .tokens)
        var lp = c.nestedUnkeyedContainer(forKey: .token_logprobs)
        for v in token_logprobs { if let v { try lp.encode(v) } else { try lp.encodeNil() } }
        var tp = c.nestedUnkeyedContainer(forKey: .top_logprobs)
        for v in top_logprobs { if let v { try tp.encode(v) } else { try tp.encodeNil() } }
        try c.encode(text_offset, forKey: .text_offset)
    }
    enum CodingKeys: String, CodingKey { case tokens, token_logprobs, top_logprobs, text_offset }
}

struct CompletionChoiceOut: Encodable {
    var index: Int
    var text: String
    var logprobs: CompletionLogprobsOut?
    var finish_reason: String?
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(text, forKey: .text)
        try c.encode(logprobs, forKey: .logprobs)
        try c.encode(finish_reason, forKey: .finish_reason)
    }
    enum CodingKeys: String, CodingKey { case index, text, logprobs, finish_reason }
}

struct CompletionResponseOut: Encodable {
    var id: String
    var object = "text_completion"
    var created: Int
    var model: String
    var choices: [CompletionChoiceOut]
    var usage: UsageOut?
    var system_fingerprint: String
}

struct ModelListOut: Encodable {
    struct Entry: Encodable { var id: String; var object = "model"; var created: Int; var owned_by = "hyperlab" }
    var object = "list"
    var data: [Entry]
}
