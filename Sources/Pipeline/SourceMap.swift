import Foundation

/// Where each key of a TOML document is written, for error messages that point at a line.
///
/// TOMLKit does not expose source positions, so the text is scanned line by line: table headers
/// (`[a.b]`, `[[arm]]`, with array-of-tables entries counted) set the current path, and every
/// `key = …` line (bare, quoted or dotted keys) is recorded under `path.key`. Array-of-tables
/// entries are written `arm[2]`, so the third arm's `steps` under `[arm.cpt]` is `arm[2].cpt.steps`.
public struct SourceMap: Sendable {
    /// 1-based line of each recorded path.
    public private(set) var lines: [String: Int] = [:]

    /// Scans TOML source text.
    public init(text: String) {
        var current: [String] = []
        var arrayCounts: [String: Int] = [:]
        var inMultiline = false
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNo = i + 1
            let line = SourceMap.stripComment(String(raw)).trimmingCharacters(in: .whitespaces)
            if inMultiline {
                if line.contains("\"\"\"") || line.contains("'''") { inMultiline = false }
                continue
            }
            if line.isEmpty { continue }
            if line.hasPrefix("[[") , let end = line.range(of: "]]") {
                let name = SourceMap.splitKey(String(line[line.index(line.startIndex, offsetBy: 2)..<end.lowerBound]))
                // The prefix of an array-of-tables path resolves to the latest entries of enclosing arrays.
                let resolved = resolve(name, counts: arrayCounts, lastIsArray: false)
                let arrayKey = resolved.joined(separator: ".")
                let n = arrayCounts[arrayKey, default: 0]
                arrayCounts[arrayKey] = n + 1
                current = resolved
                current[current.count - 1] += "[\(n)]"
                lines[current.joined(separator: "."), default: lineNo] = lineNo
                continue
            }
            if line.hasPrefix("["), let end = line.firstIndex(of: "]") {
                let name = SourceMap.splitKey(String(line[line.index(after: line.startIndex)..<end]))
                current = resolve(name, counts: arrayCounts, lastIsArray: true)
                lines[current.joined(separator: "."), default: lineNo] = lineNo
                continue
            }
            guard let eq = SourceMap.assignmentIndex(line) else { continue }
            let keyParts = SourceMap.splitKey(String(line[..<eq]))
            guard !keyParts.isEmpty else { continue }
            for k in 1...keyParts.count {
                let path = (current + keyParts.prefix(k)).joined(separator: ".")
                if lines[path] == nil { lines[path] = lineNo }
            }
            let value = line[line.index(after: eq)...]
            let tripleCount = value.components(separatedBy: "\"\"\"").count - 1 + value.components(separatedBy: "'''").count - 1
            if tripleCount % 2 == 1 { inMultiline = true }
        }
    }

    /// Resolves header components so that `arm.cpt` after the third `[[arm]]` becomes `arm[2].cpt`.
    private func resolve(_ name: [String], counts: [String: Int], lastIsArray: Bool) -> [String] {
        var out: [String] = []
        for (i, part) in name.enumerated() {
            let plain = (out + [part]).joined(separator: ".")
            let isLast = i == name.count - 1
            if let n = counts[plain], n > 0, !isLast || lastIsArray { out.append("\(part)[\(n - 1)]") } else { out.append(part) }
        }
        return out
    }

    /// The line of `path` (e.g. `arm[1].cpt.steps`), or of its nearest recorded ancestor.
    public func line(_ path: String) -> Int? {
        var p = path
        while true {
            if let l = lines[p] { return l }
            guard let dot = p.lastIndex(of: ".") else { return nil }
            p = String(p[..<dot])
        }
    }

    /// The text before an unquoted `#`.
    static func stripComment(_ l: String) -> String {
        var quote: Character? = nil
        var out = ""
        var escaped = false
        for ch in l {
            if let q = quote {
                if escaped { escaped = false } else if ch == "\\" && q == "\"" { escaped = true } else if ch == q { quote = nil }
            } else if ch == "\"" || ch == "'" {
                quote = ch
            } else if ch == "#" {
                break
            }
            out.append(ch)
        }
        return out
    }

    /// Index of the `=` of a `key = value` line (outside quotes), or nil.
    static func assignmentIndex(_ line: String) -> String.Index? {
        var quote: Character? = nil
        var i = line.startIndex
        while i < line.endIndex {
            let ch = line[i]
            if let q = quote { if ch == q { quote = nil } } else if ch == "\"" || ch == "'" { quote = ch } else if ch == "=" { return i }
            i = line.index(after: i)
        }
        return nil
    }

    /// Splits a (possibly dotted, possibly quoted) key into its parts.
    static func splitKey(_ key: String) -> [String] {
        var parts: [String] = []
        var cur = ""
        var quote: Character? = nil
        for ch in key {
            if let q = quote {
                if ch == q { quote = nil } else { cur.append(ch) }
            } else if ch == "\"" || ch == "'" {
                quote = ch
            } else if ch == "." {
                parts.append(cur.trimmingCharacters(in: .whitespaces)); cur = ""
            } else {
                cur.append(ch)
            }
        }
        parts.append(cur.trimmingCharacters(in: .whitespaces))
        return parts.filter { !$0.isEmpty }
    }
}
