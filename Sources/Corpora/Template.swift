import Foundation

/// A compiled sentence template. Syntax: literal text, `[a|b|c]` picks one alternative (alternatives may nest
/// and may be empty), `{key}` fills a slot. A slot whose key starts with an uppercase letter and is not bound
/// falls back to the lowercase key with its first letter capitalized (`{He}` → "She").
struct Template: @unchecked Sendable {
    indirect enum Node {
        case literal(String)
        case choice([[Node]])
        case slot(String)
    }

    let nodes: [Node]

    init(_ source: String) {
        var chars = Array(source)
        var i = 0
        nodes = Template.parseSeq(&chars, &i, inChoice: false)
    }

    private static func parseSeq(_ c: inout [Character], _ i: inout Int, inChoice: Bool) -> [Node] {
        var out: [Node] = []
        var lit = ""
        func flush() { if !lit.isEmpty { out.append(.literal(lit)); lit = "" } }
        while i < c.count {
            let ch = c[i]
            if inChoice && (ch == "|" || ch == "]") { break }
            if ch == "[" {
                flush()
                i += 1
                var alts: [[Node]] = []
                while true {
                    alts.append(parseSeq(&c, &i, inChoice: true))
                    if i >= c.count { break }
                    if c[i] == "|" { i += 1; continue }
                    if c[i] == "]" { i += 1; break }
                }
                out.append(.choice(alts))
            } else if ch == "{" {
                flush()
                var key = ""
                i += 1
                while i < c.count && c[i] != "}" { key.append(c[i]); i += 1 }
                i += 1
                out.append(.slot(key))
            } else {
                lit.append(ch)
                i += 1
            }
        }
        flush()
        return out
    }
}

/// Expands templates against slot bindings with a seeded random source. Slot values may themselves be
/// templates; compiled forms are cached per renderer.
final class Renderer {
    var rng: Xoshiro256
    var slots: [String: [String]] = [:]
    /// Templates already used in the current document (beats prefer unused ones).
    var used = Set<String>()
    /// The last value index picked per multi-valued slot (a slot does not repeat its value twice in a row).
    private var lastPick: [String: Int] = [:]
    private var cache: [String: Template] = [:]

    init(rng: Xoshiro256) { self.rng = rng }

    func template(_ s: String) -> Template {
        if let t = cache[s] { return t }
        let t = TemplateCache.shared.get(s)
        cache[s] = t
        return t
    }

    /// Binds a slot to one value or to several (one is picked at each use).
    func bind(_ key: String, _ values: [String]) { slots[key] = values }
    func bind(_ key: String, _ value: String) { slots[key] = [value] }

    /// Expands one template source string.
    func expand(_ source: String) -> String {
        var out = ""
        out.reserveCapacity(source.utf8.count + 32)
        append(template(source).nodes, to: &out, depth: 0)
        return out
    }

    /// Picks one of the sources and expands it, then tidies spacing and capitalizes the first letter.
    func sentence(_ sources: [String]) -> String {
        tidy(expand(rng.pick(sources)))
    }

    private func append(_ nodes: [Template.Node], to out: inout String, depth: Int) {
        for n in nodes {
            switch n {
            case .literal(let s): out += s
            case .choice(let alts): append(alts[rng.below(alts.count)], to: &out, depth: depth)
            case .slot(let key): out += resolve(key, depth: depth)
            }
        }
    }

    private func resolve(_ key: String, depth: Int) -> String {
        if let vals = slots[key], !vals.isEmpty {
            return expandValue(pickValue(key, vals), depth: depth)
        }
        if let f = key.first, f.isUppercase {
            let lower = f.lowercased() + key.dropFirst()
            if let vals = slots[lower], !vals.isEmpty {
                return capitalizeFirst(expandValue(pickValue(lower, vals), depth: depth))
            }
        }
        return "{" + key + "}"
    }

    private func pickValue(_ key: String, _ vals: [String]) -> String {
        if vals.count == 1 { return vals[0] }
        var i = rng.below(vals.count)
        if let last = lastPick[key], last == i { i = (i + 1 + rng.below(vals.count - 1)) % vals.count }
        lastPick[key] = i
        return vals[i]
    }

    private func expandValue(_ v: String, depth: Int) -> String {
        guard depth < 6, v.contains("[") || v.contains("{") else { return v }
        var out = ""
        append(template(v).nodes, to: &out, depth: depth + 1)
        return out
    }
}

/// Uppercases the first letter of a string.
func capitalizeFirst(_ s: String) -> String {
    guard let i = s.firstIndex(where: { $0.isLetter }) else { return s }
    if s[i].isUppercase { return s }
    return s[..<i] + s[i].uppercased() + s[s.index(after: i)...]
}

/// Collapses doubled spaces, removes spaces before punctuation and capitalizes the first letter.
func tidy(_ s: String) -> String {
    var out = [UInt8]()
    out.reserveCapacity(s.utf8.count)
    var lastSpace = true
    for b in s.utf8 {
        if b == 32 {
            if !lastSpace { out.append(b) }
            lastSpace = true
            continue
        }
        if (b == 44 || b == 46 || b == 59 || b == 58 || b == 33 || b == 63), out.last == 32 { out.removeLast() }
        out.append(b)
        lastSpace = false
    }
    while out.last == 32 { out.removeLast() }
    // capitalize a lowercase ASCII letter that opens a later sentence (". x" → ". X")
    if out.count > 3 {
        for i in 2..<out.count where out[i] >= 97 && out[i] <= 122 && out[i - 1] == 32 && (out[i - 2] == 46 || out[i - 2] == 33 || out[i - 2] == 63) {
            out[i] -= 32
        }
    }
    if let i = out.firstIndex(where: { ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || $0 >= 0x80 }), out[i] >= 97 && out[i] <= 122 {
        out[i] -= 32
    }
    return String(decoding: out, as: UTF8.self)
}

/// Process-wide cache of compiled templates (templates are immutable once compiled).
final class TemplateCache: @unchecked Sendable {
    static let shared = TemplateCache()
    private var map: [String: Template] = [:]
    private let lock = NSLock()
    func get(_ s: String) -> Template {
        lock.lock(); defer { lock.unlock() }
        if let t = map[s] { return t }
        let t = Template(s)
        map[s] = t
        return t
    }
}
