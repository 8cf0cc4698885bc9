import Foundation

/// A value passed into a template (a message list, a tool schema, a flag...).
///
/// It mirrors the Python objects that `transformers`' `apply_chat_template` hands to jinja2:
/// `None`, booleans, integers, floats, strings, lists and insertion-ordered dictionaries.
/// Dictionary order matters: `tojson` writes keys in insertion order unless `sort_keys=true`.
public enum TemplateValue: Sendable, Equatable {
    /// A variable that does not exist (jinja2's `Undefined`): prints as "", is falsy, `is defined` is false.
    case undefined
    /// Python `None`.
    case none
    /// Python `bool`.
    case bool(Bool)
    /// Python `int` (64-bit here).
    case int(Int)
    /// Python `float`.
    case double(Double)
    /// Python `str`.
    case string(String)
    /// Python `list`.
    case array([TemplateValue])
    /// Python `dict` with string keys, in insertion order.
    case dictionary(TemplateDictionary)

    /// Builds a dictionary value from ordered key/value pairs (a later duplicate key replaces the earlier value in place).
    public static func dict(_ pairs: [(String, TemplateValue)]) -> TemplateValue {
        var d = TemplateDictionary()
        for (k, v) in pairs { d[k] = v }
        return .dictionary(d)
    }

    /// Parses JSON text into a value, keeping object key order and telling integers (`1`) from floats (`1.0`),
    /// as Python's `json.loads` does.
    public init(json: String) throws {
        var p = JSONReader(Array(json.utf8))
        self = try p.parseDocument()
    }
}

/// An insertion-ordered dictionary with string keys (Python 3.7+ `dict` semantics).
public struct TemplateDictionary: Sendable, Equatable {
    /// The keys in insertion order.
    public private(set) var keys: [String] = []
    private var storage: [String: TemplateValue] = [:]

    /// An empty dictionary.
    public init() {}

    /// Number of entries.
    public var count: Int { keys.count }

    /// Reads or writes an entry; writing `nil` removes it. A new key is appended at the end.
    public subscript(key: String) -> TemplateValue? {
        get { storage[key] }
        set {
            if let v = newValue {
                if storage.updateValue(v, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// The entries in insertion order.
    public var entries: [(key: String, value: TemplateValue)] { keys.map { ($0, storage[$0]!) } }

    /// Dictionaries are equal when they hold the same entries, whatever their order (as in Python).
    public static func == (a: TemplateDictionary, b: TemplateDictionary) -> Bool { a.storage == b.storage }
}

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) { self = .dict(elements) }
    public init(nilLiteral: ()) { self = .none }
}

/// An error met while parsing JSON text into a ``TemplateValue``.
public struct TemplateJSONError: Error, CustomStringConvertible {
    /// What is wrong and at which byte offset.
    public let description: String
}

/// A small JSON reader that preserves key order and the int/float distinction.
struct JSONReader {
    let b: [UInt8]
    var i = 0
    init(_ bytes: [UInt8]) { b = bytes }

    mutating func parseDocument() throws -> TemplateValue {
        let v = try parseValue()
        skipWS()
        if i != b.count { throw fail("trailing characters") }
        return v
    }

    func fail(_ what: String) -> TemplateJSONError { TemplateJSONError(description: "JSON: \(what) at byte \(i)") }

    mutating func skipWS() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    mutating func parseValue() throws -> TemplateValue {
        skipWS()
        guard i < b.count else { throw fail("unexpected end") }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            var d = TemplateDictionary()
            skipWS()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .dictionary(d) }
            while true {
                skipWS()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                let k = try parseString()
                skipWS()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                i += 1
                d[k] = try parseValue()
                skipWS()
                guard i < b.count else { throw fail("unexpected end") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return .dictionary(d) }
                throw fail("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            i += 1
            var a: [TemplateValue] = []
            skipWS()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            while true {
                a.append(try parseValue())
                skipWS()
                guard i < b.count else { throw fail("unexpected end") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                throw fail("expected ',' or ']'")
            }
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"):
            try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"):
            try expectWord("null"); return .none
        case UInt8(ascii: "N"):
            try expectWord("NaN"); return .double(.nan)
        case UInt8(ascii: "I"):
            try expectWord("Infinity"); return .double(.infinity)
        default:
            return try parseNumber()
        }
    }

    mutating func expectWord(_ w: String) throws {
        let u = Array(w.utf8)
        guard i + u.count <= b.count, Array(b[i..<i + u.count]) == u else { throw fail("bad literal") }
        i += u.count
    }

    mutating func parseNumber() throws -> TemplateValue {
        let start = i
        var isFloat = false
        if i < b.count, b[i] == UInt8(ascii: "-") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "I") { try expectWord("Infinity"); return .double(-.infinity) }
        }
        while i < b.count {
            let c = b[i]
            if c >= 0x30 && c <= 0x39 { i += 1 } else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
                || c == UInt8(ascii: "+") || c == UInt8(ascii: "-")
            {
                isFloat = true; i += 1
            } else { break }
        }
        let text = String(decoding: b[start..<i], as: UTF8.self)
        if text.isEmpty || text == "-" { throw fail("unexpected character") }
        if !isFloat, let n = Int(text) { return .int(n) }
        guard let d = Double(text) else { throw fail("bad number '\(text)'") }
        return .double(d)
    }

    mutating func parseString() throws -> String {
        i += 1  // opening quote
        var out = [UInt8]()
        while true {
            guard i < b.count else { throw fail("unterminated string") }
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; break }
            if c == UInt8(ascii: "\\") {
                i += 1
                guard i < b.count else { throw fail("bad escape") }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if code >= 0xD800 && code < 0xDC00, i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                        let save = i
                        i += 2
                        let low = try hex4()
                        if low >= 0xDC00 && low < 0xE000 {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else { i = save }
                    }
                    let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw fail("bad escape")
                }
            } else {
                out.append(c)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= b.count, let v = UInt32(String(decoding: b[i..<i + 4], as: UTF8.self), radix: 16) else {
            throw fail("bad \\u escape")
        }
        i += 4
        return v
    }
}
