import ChatTemplate
import Corpora
import Foundation
import Tokenization
import Training

/// One training example read from a JSONL file.
public enum TrainingRecord: Sendable, Equatable {
    /// A document for continued pretraining: `{"text": "..."}`.
    case text(String)
    /// A conversation for supervised fine-tuning: `{"messages": [{"role": ..., "content": ...}, ...]}`.
    case messages([ChatMessage])
}

/// How the training data is used.
public enum DataFormat: String, Sendable, Codable, CaseIterable {
    /// Documents packed into fixed-length sequences, loss on every next token.
    case text
    /// Conversations rendered with the chat template, loss only on assistant tokens.
    case chat
}

/// Errors reading or preparing training data.
public enum DataError: Error, CustomStringConvertible, Equatable {
    /// One unusable line of a JSONL file.
    public struct BadLine: Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }
    case unreadable(path: String, reason: String)
    /// Lines that could not be used (all of them are listed, up to 20 in the message).
    case badLines(path: String, lines: [BadLine])
    case empty(path: String)
    /// The corpus is too small for even one sequence.
    case tooFewTokens(what: String, tokens: Int, needed: Int)
    /// The chat template renders a conversation such that a prefix of it is not a prefix of the whole.
    case templateNotPrefixStable(line: Int)

    public var description: String {
        switch self {
        case let .unreadable(p, r): return "cannot read \(p): \(r)"
        case let .badLines(p, lines):
            let shown = lines.prefix(20).map { "  \($0)" }.joined(separator: "\n")
            return "\(p): \(lines.count) bad line(s)\n\(shown)" + (lines.count > 20 ? "\n  ..." : "")
        case let .empty(p): return "\(p) holds no records"
        case let .tooFewTokens(w, t, n): return "\(w) has \(t) tokens, fewer than the \(n) one sequence needs"
        case let .templateNotPrefixStable(l):
            return "record \(l): the chat template's rendering of a conversation prefix is not a prefix of the full rendering; assistant spans cannot be located"
        }
    }
}

/// Reading JSONL training files.
public enum JSONLData {
    /// Parses JSONL text: every non-blank line must be an object with a string `text` or a non-empty
    /// array `messages` of `{role, content}` string objects. Throws `DataError.badLines` naming every
    /// bad line (1-based) and why.
    public static func parse(_ text: String, path: String = "<input>") throws -> [TrainingRecord] {
        var records: [TrainingRecord] = []
        var bad: [DataError.BadLine] = []
        var lineNo = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            switch parseLine(line) {
            case .success(let r): records.append(r)
            case .failure(let reason): bad.append(.init(line: lineNo, reason: reason.message))
            }
        }
        if !bad.isEmpty { throw DataError.badLines(path: path, lines: bad) }
        if records.isEmpty { throw DataError.empty(path: path) }
        return records
    }

    /// Reads and parses a JSONL file (see `parse`).
    public static func load(path: String) throws -> [TrainingRecord] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw DataError.unreadable(path: path, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else { throw DataError.unreadable(path: path, reason: "not UTF-8") }
        return try parse(text, path: path)
    }

    struct Reason: Error { let message: String }

    static func parseLine(_ line: String) -> Result<TrainingRecord, Reason> {
        let obj: Any
        do { obj = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]) } catch {
            return .failure(Reason(message: "invalid JSON"))
        }
        guard let dict = obj as? [String: Any] else { return .failure(Reason(message: "not a JSON object")) }
        if let t = dict["text"] {
            guard let s = t as? String else { return .failure(Reason(message: "\"text\" is not a string")) }
            if s.isEmpty { return .failure(Reason(message: "\"text\" is empty")) }
            return .success(.text(s))
        }
        if let m = dict["messages"] {
            guard let arr = m as? [Any] else { return .failure(Reason(message: "\"messages\" is not an array")) }
            if arr.isEmpty { return .failure(Reason(message: "\"messages\" is empty")) }
            var msgs: [ChatMessage] = []
            for (i, e) in arr.enumerated() {
                guard let md = e as? [String: Any] else { return .failure(Reason(message: "message \(i) is not an object")) }
                guard let role = md["role"] as? String else { return .failure(Reason(message: "message \(i) has no string \"role\"")) }
                guard let content = md["content"] as? String else { return .failure(Reason(message: "message \(i) has no string \"content\"")) }
                msgs.append(ChatMessage(role: role, content: content))
            }
            if !msgs.contains(where: { $0.role == "assistant" }) {
                return .failure(Reason(message: "conversation has no assistant message (nothing to learn)"))
            }
            return .success(.messages(msgs))
        }
        return .failure(Reason(message: "object has neither \"text\" nor \"messages\""))
    }
}

/// Fixed-length training rows: `inputs` and `targets` of `length` tokens each (targets -1 carry no loss).
public struct TokenRows: Sendable, Equatable {
    /// Tokens per row.
    public var length: Int
    public var inputs: [[Int32]]
    public var targets: [[Int32]]
    /// For rows of packed documents: per input position, the position in its row where its document
    /// begins (see `TrainBatch.documentStarts`). nil when each row is one sequence (chats).
    public var documentStarts: [[Int32]]?

    public init(length: Int, inputs: [[Int32]] = [], targets: [[Int32]] = [], documentStarts: [[Int32]]? = nil) {
        self.length = length; self.inputs = inputs; self.targets = targets; self.documentStarts = documentStarts
    }
    /// Number of rows.
    public var count: Int { inputs.count }
    /// Number of positions carrying loss.
    public var lossTokenCount: Int { targets.reduce(0) { $0 + $1.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } } }

    /// A batch of the given rows, in order.
    public func batch(_ rows: [Int], seed: UInt64 = 0) -> TrainBatch {
        var inp: [Int32] = []; inp.reserveCapacity(rows.count * length)
        var tgt: [Int32] = []; tgt.reserveCapacity(rows.count * length)
        for r in rows { inp += inputs[r]; tgt += targets[r] }
        let starts = documentStarts.map { d in rows.flatMap { d[$0] } }
        return TrainBatch(rows: rows.count, length: length, inputs: inp, targets: tgt, seed: seed, documentStarts: starts)
    }
}

/// Deterministic splitting, packing and rendering of training data.
public enum DataPrep {
    /// Splits records into training and validation sets by record, deterministically from `seed`:
    /// each record goes to validation when a hash of (seed, index) falls below `validationFraction`.
    /// When the fraction is positive and there are at least two records, validation gets at least one
    /// and training keeps at least one.
    public static func split<T>(_ records: [T], validationFraction: Double, seed: UInt64) -> (train: [T], validation: [T]) {
        if validationFraction <= 0 || records.count < 2 { return (records, []) }
        var isVal = records.indices.map { i -> Bool in
            var s = DataRNG(seed: seed ^ (UInt64(i) &* 0x9E37_79B9_7F4A_7C15))
            return Double(s.next() >> 11) / Double(1 << 53) < validationFraction
        }
        if !isVal.contains(true) {
            var s = DataRNG(seed: seed); isVal[Int(s.next() % UInt64(records.count))] = true
        }
        if !isVal.contains(false) { isVal[0] = false }
        var tr: [T] = [], va: [T] = []
        for (i, r) in records.enumerated() { if isVal[i] { va.append(r) } else { tr.append(r) } }
        return (tr, va)
    }

    /// Tokenizes documents and packs them, each followed by `separator` (normally EOS), into one stream
    /// cut into rows of `length` inputs whose targets are the next tokens. Consecutive rows overlap by one
    /// token (the last target of a row is the first input of the next); a final partial row is dropped.
    /// The rows record where each document begins, so attention stays inside one document (a document
    /// cut by a row boundary continues from the row's start). The separator belongs to the document it ends.
    public static func packDocuments(_ documents: [String], tokenizer: Tokenizer, length: Int) throws -> TokenRows {
        let sep = tokenizer.eosID ?? tokenizer.bosID
        var stream: [Int32] = []
        var starts: [Int] = []
        for d in documents {
            var ids = tokenizer.encode(d, addBOS: tokenizer.addsBOS, addEOS: false, parseSpecial: false)
            if let s = sep { ids.append(s) }
            if ids.isEmpty { continue }
            starts.append(stream.count)
            stream += ids.map { Int32($0) }
        }
        return try packStream(stream, length: length, what: "the documents", documentStarts: starts)
    }

    /// Cuts a token stream into rows of `length` inputs with next-token targets (see `packDocuments`).
    /// `documentStarts`, when given, are the stream offsets where documents begin (ascending).
    public static func packStream(_ stream: [Int32], length: Int, what: String = "the token stream",
                                  documentStarts: [Int]? = nil) throws -> TokenRows {
        guard stream.count >= length + 1 else { throw DataError.tooFewTokens(what: what, tokens: stream.count, needed: length + 1) }
        var rows = TokenRows(length: length, documentStarts: documentStarts == nil ? nil : [])
        var start = 0
        var next = 0   // index into documentStarts of the first document beginning after the current position
        while start + length + 1 <= stream.count {
            rows.inputs.append(Array(stream[start..<(start + length)]))
            rows.targets.append(Array(stream[(start + 1)...(start + length)]))
            if let ds = documentStarts {
                var row = [Int32](repeating: 0, count: length)
                var current = 0   // the current document's start within this row (a cut document: 0)
                for i in 0..<length {
                    while next < ds.count && ds[next] <= start + i {
                        current = max(0, ds[next] - start)
                        next += 1
                    }
                    row[i] = Int32(current)
                }
                rows.documentStarts!.append(row)
            }
            start += length
        }
        return rows
    }

    /// One conversation as tokens plus a per-token flag telling whether the token is assistant output.
    public struct ChatTokens: Sendable, Equatable {
        public var tokens: [Int32]
        public var isAssistant: [Bool]
    }

    /// Renders a conversation with `render` (normally `Model.renderChat`) and tokenizes it, marking the
    /// tokens of every assistant message, including its end-of-turn marker.
    ///
    /// Assistant spans are located by rendering prefixes: the text of the conversation up to message i
    /// with the generation prompt ends where assistant message i begins, and the rendering up to and
    /// including message i ends where it stops. Each span is tokenized separately, so its tokens are exact.
    public static func tokenizeChat(_ messages: [ChatMessage], tokenizer: Tokenizer, line: Int = 0,
                                    render: ([ChatMessage], Bool) throws -> String) throws -> ChatTokens {
        let full = try render(messages, false)
        var cuts: [(Int, Bool)] = []   // (utf8 offset where a segment begins, segment is assistant)
        var pos = 0
        for (i, m) in messages.enumerated() where m.role == "assistant" {
            let before = try render(Array(messages[..<i]), true)
            let through = try render(Array(messages[...i]), false)
            guard full.utf8.starts(with: before.utf8), full.utf8.starts(with: through.utf8),
                  before.utf8.count >= pos, through.utf8.count >= before.utf8.count else {
                throw DataError.templateNotPrefixStable(line: line)
            }
            cuts.append((pos, false)); cuts.append((before.utf8.count, true))
            pos = through.utf8.count
        }
        cuts.append((pos, false))
        let bytes = Array(full.utf8)
        var tokens: [Int32] = []
        var flags: [Bool] = []
        if tokenizer.addsBOS, let bos = tokenizer.bosID, !full.hasPrefix(tokenizer.tokenText(bos)) {
            tokens.append(Int32(bos)); flags.append(false)
        }
        for (k, cut) in cuts.enumerated() {
            let end = k + 1 < cuts.count ? cuts[k + 1].0 : bytes.count
            if end <= cut.0 { continue }
            let piece = String(decoding: bytes[cut.0..<end], as: UTF8.self)
            let ids = tokenizer.encode(piece, addBOS: false, addEOS: false, parseSpecial: true)
            tokens += ids.map { Int32($0) }
            flags += [Bool](repeating: cut.1, count: ids.count)
        }
        return ChatTokens(tokens: tokens, isAssistant: flags)
    }

    /// Packs tokenized conversations greedily into rows of `length` inputs: a conversation goes into the
    /// current row when it fits (else a new row starts); a conversation longer than a row is truncated.
    /// A target carries loss only where the predicted token is assistant output; padding inputs are
    /// `padID` with target -1. Returns the rows and how many conversations were truncated.
    public static func packChats(_ chats: [ChatTokens], length: Int, padID: Int32) -> (rows: TokenRows, truncated: Int) {
        var rows = TokenRows(length: length)
        var truncated = 0
        var curTok: [Int32] = [], curFlag: [Bool] = []
        func flush() {
            if curTok.count < 2 { curTok = []; curFlag = []; return }
            var inp = [Int32](repeating: padID, count: length)
            var tgt = [Int32](repeating: -1, count: length)
            for i in 0..<min(length, curTok.count - 1) {
                inp[i] = curTok[i]
                if curFlag[i + 1] { tgt[i] = curTok[i + 1] }
            }
            if tgt.contains(where: { $0 >= 0 }) {
                rows.inputs.append(inp); rows.targets.append(tgt)
            }
            curTok = []; curFlag = []
        }
        for c in chats {
            var t = c.tokens, f = c.isAssistant
            if t.count > length + 1 { t = Array(t[..<(length + 1)]); f = Array(f[..<(length + 1)]); truncated += 1 }
            if curTok.count + t.count > length + 1 { flush() }
            curTok += t; curFlag += f
        }
        flush()
        return (rows, truncated)
    }
}

/// The trainer's generator (data order and per-batch seeds): the project's SplitMix64 (target Random), whose whole state is
/// one `UInt64`.
public typealias DataRNG = SplitMix64

/// Where the trainer is in its data: epoch and position within that epoch's shuffled order. Each epoch's
/// order is a Fisher–Yates shuffle seeded by (seed, epoch), so the cursor alone restores the stream.
public struct DataCursor: Sendable, Codable, Equatable {
    public var seed: UInt64
    public var epoch: Int
    public var position: Int
    public init(seed: UInt64, epoch: Int = 0, position: Int = 0) { self.seed = seed; self.epoch = epoch; self.position = position }

    /// The order of `count` rows in `epoch`.
    public static func permutation(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var order = Array(0..<count)
        var rng = DataRNG(seed: seed &+ UInt64(epoch) &* 0xD1B5_4A32_D192_ED03)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) {
                let j = Int(rng.next() % UInt64(i + 1))
                order.swapAt(i, j)
            }
        }
        return order
    }

    /// Takes the next `n` row indices out of `count` rows, moving to a new epoch when one runs out.
    public mutating func take(_ n: Int, of count: Int) -> [Int] {
        precondition(count > 0, "no rows to draw from")
        var out: [Int] = []
        var perm = DataCursor.permutation(count: count, seed: seed, epoch: epoch)
        while out.count < n {
            if position >= count {
                epoch += 1; position = 0
                perm = DataCursor.permutation(count: count, seed: seed, epoch: epoch)
            }
            out.append(perm[position]); position += 1
        }
        return out
    }
}
