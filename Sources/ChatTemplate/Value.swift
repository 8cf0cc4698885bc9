import Foundation

/// A dictionary key: Python dict keys used by templates are strings or integers (bools hash as 0/1).
enum Key: Hashable {
    case str(String)
    case int(Int)

    var value: Value {
        switch self {
        case .str(let s): return .string(s)
        case .int(let n): return .int(n)
        }
    }
}

/// An insertion-ordered dictionary of interpreter values.
struct Dict {
    var keys: [Key] = []
    var map: [Key: Value] = [:]

    subscript(k: Key) -> Value? {
        get { map[k] }
        set {
            if let v = newValue {
                if map.updateValue(v, forKey: k) == nil { keys.append(k) }
            } else if map.removeValue(forKey: k) != nil {
                keys.removeAll { $0 == k }
            }
        }
    }
    subscript(s: String) -> Value? {
        get { map[.str(s)] }
        set { self[.str(s)] = newValue }
    }
    var count: Int { keys.count }
    var pairs: [(Key, Value)] { keys.map { ($0, map[$0]!) } }
}

/// The mutable object made by `namespace()`.
final class Namespace {
    var attrs = Dict()
}

/// Call arguments: positional values and keyword values in call order.
struct Args {
    var positional: [Value] = []
    var keyword: [(String, Value)] = []

    /// The argument at position `i`, or the keyword `name`.
    func get(_ i: Int, _ name: String) -> Value? {
        if i >= 0 && i < positional.count { return positional[i] }
        return keyword.first { $0.0 == name }?.1
    }
}

/// A callable: a global function, a bound method, a macro, `loop.cycle`...
final class Function {
    let name: String
    let body: (Args) throws -> Value
    init(_ name: String, _ body: @escaping (Args) throws -> Value) {
        self.name = name
        self.body = body
    }
}

/// A runtime value, with Python's semantics.
enum Value {
    /// jinja2's `Undefined`; the string says why (used when an operation on it fails).
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([Value])
    /// A Python tuple: behaves like a list but prints as `(a, b)` and never equals a list.
    case tuple([Value])
    case dict(Dict)
    case namespace(Namespace)
    case function(Function)

    init(_ t: TemplateValue, name: String = "value") {
        switch t {
        case .undefined: self = .undefined("'\(name)' is undefined")
        case .none: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let n): self = .int(n)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .array(a.map { Value($0) })
        case .dictionary(let d):
            var out = Dict()
            for (k, v) in d.entries { out[.str(k)] = Value(v) }
            self = .dict(out)
        }
    }

    var isUndefined: Bool { if case .undefined = self { return true } else { return false } }
    var isNone: Bool { if case .none = self { return true } else { return false } }

    /// The items of a list or tuple.
    var sequence: [Value]? {
        switch self {
        case .array(let a), .tuple(let a): return a
        default: return nil
        }
    }

    /// Python's type name, as used in error messages.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .function: return "function"
        }
    }

    /// Python truthiness.
    var truthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let n): return n != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a), .tuple(let a): return !a.isEmpty
        case .dict(let d): return d.count > 0
        case .namespace, .function: return true
        }
    }

    /// Python `str(value)` (jinja2 prints values this way; `Undefined` prints as "").
    var str: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return repr
        }
    }

    /// Python `repr(value)`.
    var repr: String { repr(depth: 0) }

    /// `repr` with a depth bound (a namespace can contain itself; Python prints such cycles as `...`).
    func repr(depth: Int) -> String {
        if depth > 64 { return "..." }
        switch self {
        case .undefined: return "Undefined"
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let n): return String(n)
        case .double(let d): return pyFloatRepr(d)
        case .string(let s): return pyStringRepr(s)
        case .array(let a): return "[" + a.map { $0.repr(depth: depth + 1) }.joined(separator: ", ") + "]"
        case .tuple(let a): return "(" + a.map { $0.repr(depth: depth + 1) }.joined(separator: ", ") + (a.count == 1 ? ",)" : ")")
        case .dict(let d):
            return "{" + d.pairs.map { "\($0.0.value.repr): \($0.1.repr(depth: depth + 1))" }.joined(separator: ", ") + "}"
        case .namespace(let ns):
            return "<Namespace {" + ns.attrs.pairs.map { "\($0.0.value.repr): \($0.1.repr(depth: depth + 1))" }.joined(separator: ", ") + "}>"
        case .function(let f): return "<function \(f.name)>"
        }
    }

    /// The numeric value when this is a bool, int or float.
    var number: Double? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let n): return Double(n)
        case .double(let d): return d
        default: return nil
        }
    }

    /// The integer value when this is a bool or an int.
    var integer: Int? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let n): return n
        default: return nil
        }
    }

    /// The dictionary key for this value, if it can be one.
    func key() throws -> Key {
        switch self {
        case .string(let s): return .str(s)
        case .int(let n): return .int(n)
        case .bool(let b): return .int(b ? 1 : 0)
        case .double(let d) where d == d.rounded() && abs(d) < 9e18: return .int(Int(d))
        default: throw TemplateError("unhashable or unsupported dictionary key of type '\(typeName)'")
        }
    }

    /// Converts back to the public value type (namespaces and functions are not representable).
    var publicValue: TemplateValue {
        switch self {
        case .undefined: return .undefined
        case .none: return .none
        case .bool(let b): return .bool(b)
        case .int(let n): return .int(n)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .array(let a), .tuple(let a): return .array(a.map { $0.publicValue })
        case .dict(let d):
            var out = TemplateDictionary()
            for (k, v) in d.pairs { out[k.value.str] = v.publicValue }
            return .dictionary(out)
        case .namespace(let ns):
            var out = TemplateDictionary()
            for (k, v) in ns.attrs.pairs { out[k.value.str] = v.publicValue }
            return .dictionary(out)
        case .function(let f): return .string("<function \(f.name)>")
        }
    }
}

// MARK: - Python equality and ordering

/// Python `a == b` (jinja2's `Undefined` equals only another `Undefined`).
func pyEqual(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.undefined, .undefined), (.none, .none): return true
    case (.string(let x), .string(let y)): return x == y
    case (.array(let x), .array(let y)), (.tuple(let x), .tuple(let y)):
        return x.count == y.count && zip(x, y).allSatisfy { pyEqual($0, $1) }
    case (.dict(let x), .dict(let y)):
        guard x.count == y.count else { return false }
        for (k, v) in x.pairs {
            guard let w = y[k], pyEqual(v, w) else { return false }
        }
        return true
    case (.namespace(let x), .namespace(let y)): return x === y
    case (.function(let x), .function(let y)): return x === y
    default:
        if let x = a.integer, let y = b.integer { return x == y }
        if let x = a.number, let y = b.number { return x == y }
        return false
    }
}

/// Python ordering for `<`, `>`, `<=`, `>=` and sorting; throws `TypeError`-like errors for mixed types.
func pyCompare(_ a: Value, _ b: Value) throws -> Int {
    switch (a, b) {
    case (.undefined, .undefined): return 0
    case (.string(let x), .string(let y)):
        // Python compares strings by code point.
        let xs = Array(x.unicodeScalars), ys = Array(y.unicodeScalars)
        for (p, q) in zip(xs, ys) where p != q { return p.value < q.value ? -1 : 1 }
        return xs.count == ys.count ? 0 : (xs.count < ys.count ? -1 : 1)
    case (.array(let x), .array(let y)), (.tuple(let x), .tuple(let y)):
        for (p, q) in zip(x, y) {
            if pyEqual(p, q) { continue }
            return try pyCompare(p, q)
        }
        return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
    default:
        if let x = a.integer, let y = b.integer { return x == y ? 0 : (x < y ? -1 : 1) }
        if let x = a.number, let y = b.number { return x == y ? 0 : (x < y ? -1 : 1) }
        if case .undefined(let why) = a { throw TemplateError(why) }
        if case .undefined(let why) = b { throw TemplateError(why) }
        throw TemplateError("'<' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
    }
}

// MARK: - Python formatting

/// Python `repr(float)`: the shortest round-tripping digits, positional when 1e-4 <= |x| < 1e16.
func pyFloatRepr(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
    // Swift's description gives the shortest round-trip digits; re-layout them the way Python does.
    var s = d.description
    var negative = false
    if s.hasPrefix("-") { negative = true; s.removeFirst() }
    var mantissa = s
    var exp = 0
    if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        mantissa = String(s[..<e])
        exp = Int(s[s.index(after: e)...]) ?? 0
    }
    var intPart = mantissa
    var fracPart = ""
    if let dot = mantissa.firstIndex(of: ".") {
        intPart = String(mantissa[..<dot])
        fracPart = String(mantissa[mantissa.index(after: dot)...])
    }
    var digits = intPart + fracPart
    var pointPos = intPart.count + exp  // decimal point position within digits
    // Strip leading zeros.
    while digits.count > 1, digits.hasPrefix("0") { digits.removeFirst(); pointPos -= 1 }
    // Strip trailing zeros.
    while digits.count > 1, digits.hasSuffix("0") { digits.removeLast() }
    let decExp = pointPos - 1  // exponent in d.ddd form
    var out: String
    if decExp >= -5 + 1 && decExp < 16 {
        if pointPos <= 0 {
            out = "0." + String(repeating: "0", count: -pointPos) + digits
        } else if pointPos >= digits.count {
            out = digits + String(repeating: "0", count: pointPos - digits.count) + ".0"
        } else {
            let idx = digits.index(digits.startIndex, offsetBy: pointPos)
            out = String(digits[..<idx]) + "." + String(digits[idx...])
        }
    } else {
        let first = String(digits.first!)
        let rest = String(digits.dropFirst())
        let e = abs(decExp)
        out = first + (rest.isEmpty ? "" : "." + rest) + "e" + (decExp < 0 ? "-" : "+") + (e < 10 ? "0" : "") + String(e)
    }
    return negative ? "-" + out : out
}

/// Whether Python's `str.isprintable()` holds for a scalar (approximation from Unicode categories).
func pyIsPrintable(_ u: Unicode.Scalar) -> Bool {
    if u == " " { return true }
    switch u.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
        return false
    default: return true
    }
}

/// Python `repr(str)`.
func pyStringRepr(_ s: String) -> String {
    let quote: Character = (s.contains("'") && !s.contains("\"")) ? "\"" : "'"
    var out = String(quote)
    for u in s.unicodeScalars {
        switch u {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if Character(u) == quote {
                out += "\\" + String(quote)
            } else if pyIsPrintable(u) {
                out.unicodeScalars.append(u)
            } else if u.value < 0x100 {
                out += "\\x" + hex(u.value, 2)
            } else if u.value < 0x10000 {
                out += "\\u" + hex(u.value, 4)
            } else {
                out += "\\U" + hex(u.value, 8)
            }
        }
    }
    out.append(quote)
    return out
}

func hex(_ v: UInt32, _ width: Int) -> String {
    let h = String(v, radix: 16)
    return String(repeating: "0", count: max(0, width - h.count)) + h
}

/// Python's `str.isspace()` for one scalar.
func pyIsSpace(_ u: Unicode.Scalar) -> Bool {
    switch u.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
    default: return false
    }
}

/// Python `str.strip(chars)` / `lstrip` / `rstrip`.
func pyStrip(_ s: String, chars: String? = nil, left: Bool = true, right: Bool = true) -> String {
    let set = chars.map { Set($0.unicodeScalars) }
    let strip: (Unicode.Scalar) -> Bool = { u in set.map { $0.contains(u) } ?? pyIsSpace(u) }
    let a = Array(s.unicodeScalars)
    var lo = 0, hi = a.count
    if left { while lo < hi, strip(a[lo]) { lo += 1 } }
    if right { while hi > lo, strip(a[hi - 1]) { hi -= 1 } }
    var out = String.UnicodeScalarView()
    out.append(contentsOf: a[lo..<hi])
    return String(out)
}

func stringFrom<S: Sequence>(_ scalars: S) -> String where S.Element == Unicode.Scalar {
    var v = String.UnicodeScalarView()
    v.append(contentsOf: scalars)
    return String(v)
}
