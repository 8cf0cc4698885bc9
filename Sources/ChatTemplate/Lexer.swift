import Foundation

/// An error from parsing or rendering a template.
///
/// `message` is the bare text (for `raise_exception(msg)` it is exactly `msg`); `description` adds
/// the position for syntax errors and says whether the template raised it on purpose.
public struct TemplateError: Error, CustomStringConvertible, Equatable {
    /// What kind of failure this is.
    public enum Kind: Sendable, Equatable {
        /// The template source is malformed (carries a line and column).
        case syntax
        /// Rendering failed: an undefined variable used in a way that needs a value, a type error, etc.
        case runtime
        /// The template called `raise_exception(message)`.
        case raised
    }
    /// The kind of failure.
    public var kind: Kind
    /// The message, without position.
    public var message: String
    /// 1-based line of a syntax error (0 when unknown).
    public var line: Int
    /// 1-based column of a syntax error (0 when unknown).
    public var column: Int

    init(_ message: String, kind: Kind = .runtime, line: Int = 0, column: Int = 0) {
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String {
        switch kind {
        case .syntax: return "template syntax error at line \(line), column \(column): \(message)"
        case .runtime: return "template error: \(message)"
        case .raised: return "template raised an exception: \(message)"
        }
    }
}

/// One lexical token.
enum Tok: Equatable {
    case text(String)
    case varBegin, varEnd, blockBegin, blockEnd
    case name(String)
    case string(String)
    case int(Int)
    case float(Double)
    case op(String)
    case eof
}

struct Token {
    var tok: Tok
    var offset: Int  // byte offset in the (normalized) source
}

/// Splits template source into text and tag tokens with jinja2's whitespace rules
/// (`trim_blocks`, `lstrip_blocks`, `-`/`+` modifiers, newline normalization, dropped final newline).
struct Lexer {
    let src: [UInt8]
    let trimBlocks: Bool
    let lstripBlocks: Bool
    var tokens: [Token] = []
    var lineStarts: [Int] = [0]

    init(source: String, trimBlocks: Bool = true, lstripBlocks: Bool = true) {
        // jinja2 normalizes \r\n and \r to \n and drops a single trailing newline (keep_trailing_newline=False).
        var s = Array(source.utf8)
        var norm = [UInt8]()
        norm.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            if s[i] == 0x0D {
                norm.append(0x0A)
                if i + 1 < s.count, s[i + 1] == 0x0A { i += 1 }
            } else {
                norm.append(s[i])
            }
            i += 1
        }
        if norm.last == 0x0A { norm.removeLast() }
        s = norm
        src = s
        self.trimBlocks = trimBlocks
        self.lstripBlocks = lstripBlocks
        for (k, c) in src.enumerated() where c == 0x0A { lineStarts.append(k + 1) }
    }

    /// 1-based line and column (in characters) of a byte offset.
    func position(_ offset: Int) -> (Int, Int) {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        let start = lineStarts[lo]
        var col = 1
        var k = start
        while k < min(offset, src.count) {
            if src[k] & 0xC0 != 0x80 { col += 1 }
            k += 1
        }
        if k < offset { col += offset - k }
        return (lo + 1, col)
    }

    func error(_ message: String, at offset: Int) -> TemplateError {
        let (l, c) = position(offset)
        return TemplateError(message, kind: .syntax, line: l, column: c)
    }

    static func isSpaceByte(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0B || c == 0x0C || c == 0x0D }

    /// Python `str.rstrip()` on a byte slice of UTF-8 (handles Unicode whitespace).
    func rstripText(_ start: Int, _ end: Int) -> String {
        pyStrip(String(decoding: src[start..<end], as: UTF8.self), left: false)
    }

    mutating func emitText(_ s: String, _ offset: Int) {
        if !s.isEmpty { tokens.append(Token(tok: .text(s), offset: offset)) }
    }

    /// Index just past Python-`\s*` whitespace starting at `i` (ASCII and common Unicode spaces).
    func skipWhitespace(_ i: Int) -> Int {
        var j = i
        while j < src.count {
            if Lexer.isSpaceByte(src[j]) || (src[j] >= 0x1C && src[j] <= 0x1F) { j += 1; continue }
            // Multi-byte Unicode whitespace.
            if src[j] >= 0xC2 {
                let len = src[j] >= 0xF0 ? 4 : (src[j] >= 0xE0 ? 3 : 2)
                if j + len <= src.count, let u = String(decoding: src[j..<j + len], as: UTF8.self).unicodeScalars.first,
                    pyIsSpace(u)
                {
                    j += len
                    continue
                }
            }
            break
        }
        return j
    }

    mutating func tokenize() throws -> [Token] {
        var pos = 0
        var lineStarting = true
        let n = src.count
        while pos < n {
            // Find the next tag opener.
            var t = pos
            var kind: UInt8 = 0
            while t + 1 < n {
                if src[t] == UInt8(ascii: "{") {
                    let c = src[t + 1]
                    if c == UInt8(ascii: "{") || c == UInt8(ascii: "%") || c == UInt8(ascii: "#") { kind = c; break }
                }
                t += 1
            }
            if kind == 0 {
                emitText(String(decoding: src[pos..<n], as: UTF8.self), pos)
                break
            }
            var afterOpen = t + 2
            var sign: UInt8 = 0
            if afterOpen < n, src[afterOpen] == UInt8(ascii: "-") || src[afterOpen] == UInt8(ascii: "+") {
                sign = src[afterOpen]
                afterOpen += 1
            }
            // Whitespace control on the text before the tag.
            var text = String(decoding: src[pos..<t], as: UTF8.self)
            if sign == UInt8(ascii: "-") {
                text = rstripText(pos, t)
            } else if sign != UInt8(ascii: "+") && lstripBlocks && kind != UInt8(ascii: "{") {
                var lpos = t
                while lpos > pos, src[lpos - 1] != 0x0A { lpos -= 1 }
                if lpos > pos || lineStarting {
                    let tail = String(decoding: src[lpos..<t], as: UTF8.self)
                    if !tail.isEmpty && tail.unicodeScalars.allSatisfy(pyIsSpace) {
                        text = String(decoding: src[pos..<lpos], as: UTF8.self)
                    }
                }
            }
            emitText(text, pos)

            if kind == UInt8(ascii: "#") {
                // Comment: up to the first "#}".
                var e = afterOpen
                var found = -1
                while e + 1 < n {
                    if src[e] == UInt8(ascii: "#") && src[e + 1] == UInt8(ascii: "}") { found = e; break }
                    e += 1
                }
                if found < 0 { throw error("missing end of comment tag", at: t) }
                var end = found + 2
                let before = found > afterOpen ? src[found - 1] : 0
                if before == UInt8(ascii: "-") {
                    end = skipWhitespace(end)
                } else if before != UInt8(ascii: "+") && trimBlocks && end < n && src[end] == 0x0A {
                    end += 1
                }
                lineStarting = end > 0 && src[end - 1] == 0x0A
                pos = end
                continue
            }

            let isBlock = kind == UInt8(ascii: "%")
            if isBlock, let rawEnd = try lexRaw(tagStart: t, bodyStart: afterOpen) {
                pos = rawEnd
                lineStarting = pos > 0 && src[pos - 1] == 0x0A
                continue
            }
            tokens.append(Token(tok: isBlock ? .blockBegin : .varBegin, offset: t))
            let end = try lexTag(from: afterOpen, isBlock: isBlock, tagStart: t)
            lineStarting = end > 0 && src[end - 1] == 0x0A
            pos = end
        }
        tokens.append(Token(tok: .eof, offset: n))
        return tokens
    }

    /// Handles `{% raw %}...{% endraw %}`; returns the offset after the end tag, or nil when the tag is not `raw`.
    mutating func lexRaw(tagStart: Int, bodyStart: Int) throws -> Int? {
        let n = src.count
        var i = skipWhitespace(bodyStart)
        guard i + 3 <= n, src[i] == UInt8(ascii: "r"), src[i + 1] == UInt8(ascii: "a"), src[i + 2] == UInt8(ascii: "w") else {
            return nil
        }
        i = skipWhitespace(i + 3)
        var contentStart: Int
        if i + 2 < n, src[i] == UInt8(ascii: "-"), src[i + 1] == UInt8(ascii: "%"), src[i + 2] == UInt8(ascii: "}") {
            contentStart = skipWhitespace(i + 3)
        } else if i + 1 < n, src[i] == UInt8(ascii: "%"), src[i + 1] == UInt8(ascii: "}") {
            contentStart = i + 2
        } else {
            return nil
        }
        // Find "{%[-+]? endraw [-+]?%}".
        var k = contentStart
        while k + 1 < n {
            if src[k] == UInt8(ascii: "{") && src[k + 1] == UInt8(ascii: "%") {
                var j = k + 2
                var sign: UInt8 = 0
                if j < n, src[j] == UInt8(ascii: "-") || src[j] == UInt8(ascii: "+") { sign = src[j]; j += 1 }
                j = skipWhitespace(j)
                if j + 6 <= n, String(decoding: src[j..<j + 6], as: UTF8.self) == "endraw" {
                    j = skipWhitespace(j + 6)
                    var endSign: UInt8 = 0
                    if j < n, src[j] == UInt8(ascii: "-") || src[j] == UInt8(ascii: "+") { endSign = src[j]; j += 1 }
                    if j + 1 < n, src[j] == UInt8(ascii: "%"), src[j + 1] == UInt8(ascii: "}") {
                        var text = String(decoding: src[contentStart..<k], as: UTF8.self)
                        if sign == UInt8(ascii: "-") {
                            text = rstripText(contentStart, k)
                        } else if sign != UInt8(ascii: "+") && lstripBlocks {
                            var lpos = k
                            while lpos > contentStart, src[lpos - 1] != 0x0A { lpos -= 1 }
                            let tail = String(decoding: src[lpos..<k], as: UTF8.self)
                            if (lpos > contentStart) && !tail.isEmpty && tail.unicodeScalars.allSatisfy(pyIsSpace) {
                                text = String(decoding: src[contentStart..<lpos], as: UTF8.self)
                            }
                        }
                        emitText(text, contentStart)
                        var end = j + 2
                        if endSign == UInt8(ascii: "-") {
                            end = skipWhitespace(end)
                        } else if endSign != UInt8(ascii: "+") && trimBlocks && end < n && src[end] == 0x0A {
                            end += 1
                        }
                        return end
                    }
                }
            }
            k += 1
        }
        throw error("missing end of raw directive", at: tagStart)
    }

    static func isNameStart(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || c == 0x5F
    }
    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// Lexes the inside of `{{ }}` or `{% %}` up to its end marker; returns the offset after the end tag
    /// (and after any whitespace it removes).
    mutating func lexTag(from start: Int, isBlock: Bool, tagStart: Int) throws -> Int {
        let n = src.count
        var i = start
        var stack: [UInt8] = []
        let close: UInt8 = isBlock ? UInt8(ascii: "%") : UInt8(ascii: "}")
        while true {
            i = skipWhitespace(i)
            guard i < n else {
                throw error(isBlock ? "unexpected end of template inside a block tag (missing '%}')" : "unexpected end of template inside '{{ }}' (missing '}}')", at: tagStart)
            }
            let c = src[i]
            if stack.isEmpty {
                // End markers: "-%}" / "+%}" / "%}" or "-}}" / "}}".
                if (c == UInt8(ascii: "-") || c == UInt8(ascii: "+")) && i + 2 < n && src[i + 1] == close && src[i + 2] == UInt8(ascii: "}")
                    && (isBlock || c == UInt8(ascii: "-"))
                {
                    tokens.append(Token(tok: isBlock ? .blockEnd : .varEnd, offset: i))
                    var end = i + 3
                    if c == UInt8(ascii: "-") { end = skipWhitespace(end) }
                    return end
                }
                if c == close && i + 1 < n && src[i + 1] == UInt8(ascii: "}") {
                    tokens.append(Token(tok: isBlock ? .blockEnd : .varEnd, offset: i))
                    var end = i + 2
                    if isBlock && trimBlocks && end < n && src[end] == 0x0A { end += 1 }
                    return end
                }
            }
            if Lexer.isNameStart(c) {
                var j = i + 1
                while j < n, Lexer.isNameStart(src[j]) || Lexer.isDigit(src[j]) { j += 1 }
                tokens.append(Token(tok: .name(String(decoding: src[i..<j], as: UTF8.self)), offset: i))
                i = j
                continue
            }
            if Lexer.isDigit(c) {
                i = try lexNumber(i)
                continue
            }
            if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                i = try lexString(i)
                continue
            }
            // Operators, longest first.
            let two = i + 1 < n ? String(decoding: src[i..<i + 2], as: UTF8.self) : ""
            if ["//", "**", "==", "!=", ">=", "<="].contains(two) {
                tokens.append(Token(tok: .op(two), offset: i))
                i += 2
                continue
            }
            let one = String(UnicodeScalar(c))
            if "+-/*%~[](){}><=.:|,;".contains(one) {
                if c == UInt8(ascii: "(") || c == UInt8(ascii: "[") || c == UInt8(ascii: "{") {
                    stack.append(c)
                } else if c == UInt8(ascii: ")") || c == UInt8(ascii: "]") || c == UInt8(ascii: "}") {
                    let want: UInt8 = c == UInt8(ascii: ")") ? UInt8(ascii: "(") : (c == UInt8(ascii: "]") ? UInt8(ascii: "[") : UInt8(ascii: "{"))
                    guard let top = stack.last else { throw error("unexpected '\(one)'", at: i) }
                    guard top == want else { throw error("unexpected '\(one)', expected closing bracket for '\(String(UnicodeScalar(top)))'", at: i) }
                    stack.removeLast()
                }
                tokens.append(Token(tok: .op(one), offset: i))
                i += 1
                continue
            }
            let ch = String(decoding: src[i..<min(n, i + 4)], as: UTF8.self).first.map(String.init) ?? "?"
            throw error("unexpected character '\(ch)'", at: i)
        }
    }

    mutating func lexNumber(_ start: Int) throws -> Int {
        let n = src.count
        var j = start
        func digits() { while j < n, Lexer.isDigit(src[j]) || (src[j] == UInt8(ascii: "_") && j + 1 < n && Lexer.isDigit(src[j + 1])) { j += 1 } }
        // Prefixed integers: 0x.., 0o.., 0b.. (underscores allowed between digits).
        if src[j] == UInt8(ascii: "0"), j + 1 < n, let radix = ["x": 16, "o": 8, "b": 2][String(UnicodeScalar(src[j + 1] | 0x20))] {
            var k = j + 2
            while k < n, src[k] == UInt8(ascii: "_") || Int(String(UnicodeScalar(src[k])), radix: radix) != nil { k += 1 }
            let text = String(decoding: src[j + 2..<k], as: UTF8.self).replacingOccurrences(of: "_", with: "")
            guard let v = Int(text, radix: radix) else { throw error("invalid integer literal", at: start) }
            tokens.append(Token(tok: .int(v), offset: start))
            return k
        }
        digits()
        var isFloat = false
        // A fraction needs a digit after the dot, and the number must not follow a '.' (as in `x.0.1`).
        let afterDot = start > 0 && src[start - 1] == UInt8(ascii: ".")
        if !afterDot, j + 1 < n, src[j] == UInt8(ascii: "."), Lexer.isDigit(src[j + 1]) {
            isFloat = true
            j += 1
            digits()
        }
        if !afterDot, j < n, src[j] == UInt8(ascii: "e") || src[j] == UInt8(ascii: "E") {
            var k = j + 1
            if k < n, src[k] == UInt8(ascii: "+") || src[k] == UInt8(ascii: "-") { k += 1 }
            if k < n, Lexer.isDigit(src[k]) {
                isFloat = true
                j = k
                digits()
            }
        }
        let text = String(decoding: src[start..<j], as: UTF8.self).replacingOccurrences(of: "_", with: "")
        if isFloat {
            guard let d = Double(text) else { throw error("invalid float literal", at: start) }
            tokens.append(Token(tok: .float(d), offset: start))
        } else {
            guard let v = Int(text) else { throw error("integer literal too large", at: start) }
            tokens.append(Token(tok: .int(v), offset: start))
        }
        return j
    }

    /// Lexes a quoted string literal and decodes Python escapes (as jinja2 does via `unicode-escape`).
    mutating func lexString(_ start: Int) throws -> Int {
        let n = src.count
        let q = src[start]
        var j = start + 1
        while j < n {
            if src[j] == UInt8(ascii: "\\") { j += 2; continue }
            if src[j] == q { break }
            j += 1
        }
        guard j < n else { throw error("unterminated string literal", at: start) }
        let raw = Array(String(decoding: src[start + 1..<j], as: UTF8.self).unicodeScalars)
        var out = String.UnicodeScalarView()
        var k = 0
        func hexValue(_ count: Int) -> UInt32? {
            guard k + count <= raw.count else { return nil }
            let s = stringFrom(raw[k..<k + count])
            guard let v = UInt32(s, radix: 16) else { return nil }
            return v
        }
        while k < raw.count {
            let u = raw[k]
            if u != "\\" || k + 1 >= raw.count {
                out.append(u)
                k += 1
                continue
            }
            let e = raw[k + 1]
            k += 2
            switch e {
            case "\n": break
            case "\\": out.append("\\")
            case "'": out.append("'")
            case "\"": out.append("\"")
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "v": out.append("\u{0B}")
            case "x", "u", "U":
                let len = e == "x" ? 2 : (e == "u" ? 4 : 8)
                guard let v = hexValue(len), let s = Unicode.Scalar(v) else {
                    throw error("invalid \\\(e) escape in string literal", at: start)
                }
                out.append(s)
                k += len
            case "0"..."7":
                var v = e.value - 0x30
                var m = 0
                while m < 2, k < raw.count, raw[k].value >= 0x30, raw[k].value <= 0x37 {
                    v = v * 8 + raw[k].value - 0x30
                    k += 1
                    m += 1
                }
                out.append(Unicode.Scalar(v) ?? "\u{FFFD}")
            default:
                out.append("\\")
                out.append(e)
            }
        }
        tokens.append(Token(tok: .string(String(out)), offset: start))
        return j + 1
    }
}
