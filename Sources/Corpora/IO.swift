import Foundation

/// JSON string escaping (RFC 8259): quotes, backslashes and control characters; other text kept as UTF-8.
public func jsonEscape(_ s: String) -> String {
    var out = [UInt8]()
    out.reserveCapacity(s.utf8.count + 16)
    out.append(34)
    let hex = Array("0123456789abcdef".utf8)
    for b in s.utf8 {
        switch b {
        case 34: out += [92, 34]
        case 92: out += [92, 92]
        case 10: out += [92, 110]
        case 13: out += [92, 114]
        case 9: out += [92, 116]
        case 0..<32: out += [92, 117, 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]]
        default: out.append(b)
        }
    }
    out.append(34)
    return String(decoding: out, as: UTF8.self)
}

/// An error reading a user's corpus, naming the file and line.
public struct ImportError: Error, CustomStringConvertible, Equatable {
    /// The file shown in messages.
    public var sourceName: String
    /// 1-based line, if the problem is on one line.
    public var line: Int?
    /// What is wrong.
    public var message: String
    /// "mine.jsonl:12: missing "text" string"
    public var description: String { line.map { "\(sourceName):\($0): \(message)" } ?? "\(sourceName): \(message)" }
}

/// Reading a user's own corpus: JSONL lines `{"text": …}`, or plain text files.
public enum CorpusImport {
    /// Parses JSONL: one JSON object per line with a non-empty string "text" (other keys ignored; blank lines
    /// skipped). Every bad line is reported; the error lists up to 10 of them, each with its line number.
    public static func parseJSONL(_ text: String, sourceName: String) throws -> [String] {
        var docs: [String] = []
        var errors: [ImportError] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let n = i + 1
            guard let data = line.data(using: .utf8),
                  let obj = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
                errors.append(ImportError(sourceName: sourceName, line: n, message: "invalid JSON")); continue
            }
            guard let dict = obj as? [String: Any] else {
                errors.append(ImportError(sourceName: sourceName, line: n, message: "expected a JSON object with a \"text\" field")); continue
            }
            guard let t = dict["text"] as? String else {
                errors.append(ImportError(sourceName: sourceName, line: n, message: dict["text"] == nil ? "missing \"text\" field" : "\"text\" must be a string")); continue
            }
            if t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                errors.append(ImportError(sourceName: sourceName, line: n, message: "empty \"text\"")); continue
            }
            docs.append(t)
        }
        if errors.count == 1 { throw errors[0] }
        if errors.count > 1 {
            let shown = errors.prefix(10).map(\.description).joined(separator: "\n")
            throw ImportError(sourceName: sourceName, line: errors[0].line,
                              message: "\(errors.count) bad lines:\n" + shown + (errors.count > 10 ? "\n…" : ""))
        }
        return docs
    }

    /// Splits plain text into documents: lines consisting of `---` separate documents; otherwise the whole
    /// text is one document. Empty documents are dropped.
    public static func parsePlainText(_ text: String) -> [String] {
        var docs: [String] = []
        var cur: [Substring] = []
        for l in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if l.trimmingCharacters(in: .whitespaces) == "---" {
                docs.append(cur.joined(separator: "\n")); cur = []
            } else { cur.append(l) }
        }
        docs.append(cur.joined(separator: "\n"))
        return docs.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// Loads documents from a `.jsonl` file, a text file, or a folder (its `.jsonl` and `.txt` files in name order).
    public static func load(path: String) throws -> [String] {
        let url = URL(fileURLWithPath: path)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ImportError(sourceName: path, line: nil, message: "no such file or folder")
        }
        if isDir.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
                .filter { $0.hasSuffix(".jsonl") || $0.hasSuffix(".txt") }
            if names.isEmpty { throw ImportError(sourceName: path, line: nil, message: "folder holds no .jsonl or .txt files") }
            return try names.flatMap { try load(path: url.appendingPathComponent($0).path) }
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImportError(sourceName: path, line: nil, message: "cannot read file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ImportError(sourceName: path, line: nil, message: "file is not UTF-8 text")
        }
        if path.hasSuffix(".jsonl") || path.hasSuffix(".ndjson") {
            return try parseJSONL(text, sourceName: url.lastPathComponent)
        }
        return parsePlainText(text)
    }
}
