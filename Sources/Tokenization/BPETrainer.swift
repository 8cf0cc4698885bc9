import Foundation
import GGUF

/// An error training a byte-level BPE vocabulary.
public struct BPETrainerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong, naming the offending setting or value.
    public let message: String

    /// An error with the given explanation.
    public init(_ message: String) { self.message = message }

    /// "BPE trainer error: " followed by the message.
    public var description: String { "BPE trainer error: \(message)" }
}

/// Settings of a byte-level BPE training run.
public struct BPETrainerConfiguration: Sendable, Equatable {
    /// Total vocabulary size wanted: special tokens + 256 byte tokens + learned merges. Training stops
    /// earlier when no pair occurs at least `minPairFrequency` times.
    public var vocabularySize: Int
    /// The `tokenizer.ggml.pre` name whose pre-tokenizer splits the training text and is written to the
    /// metadata: "default" (llama.cpp's fallback rules), "gpt-2" (alias "gpt2"), or another name llama.cpp
    /// and `Tokenizer` both know that applies merges normally (the Llama 3 family, which looks whole words
    /// up before merging, is refused).
    public var pre: String
    /// Beginning-of-sequence token text.
    public var bosToken: String
    /// End-of-sequence token text.
    public var eosToken: String
    /// Padding token text.
    public var padToken: String
    /// Whether to add ChatML turn markers `<|im_start|>` and `<|im_end|>` as control tokens (and use them in
    /// the chat template); `<|im_end|>` then also ends generation.
    public var chatTokens: Bool
    /// Further control tokens to reserve (after the ones above).
    public var extraSpecialTokens: [String]
    /// Whether encoding adds BOS by default (`tokenizer.ggml.add_bos_token`).
    public var addBOS: Bool
    /// A pair must occur at least this often (summed over the corpus) to be merged.
    public var minPairFrequency: Int

    /// Defaults: pre-tokenizer "default", `<|startoftext|>` / `<|endoftext|>` / `<|pad|>`, ChatML tokens on,
    /// BOS added, pairs merged from frequency 2.
    public init(vocabularySize: Int, pre: String = "default", bosToken: String = "<|startoftext|>",
                eosToken: String = "<|endoftext|>", padToken: String = "<|pad|>", chatTokens: Bool = true,
                extraSpecialTokens: [String] = [], addBOS: Bool = true, minPairFrequency: Int = 2) {
        self.vocabularySize = vocabularySize
        self.pre = pre
        self.bosToken = bosToken
        self.eosToken = eosToken
        self.padToken = padToken
        self.chatTokens = chatTokens
        self.extraSpecialTokens = extraSpecialTokens
        self.addBOS = addBOS
        self.minPairFrequency = minPairFrequency
    }

    /// The special tokens in id order: pad, BOS, EOS, then `<|im_start|>`, `<|im_end|>` (if `chatTokens`),
    /// then `extraSpecialTokens`.
    public var specialTokens: [String] {
        [padToken, bosToken, eosToken] + (chatTokens ? ["<|im_start|>", "<|im_end|>"] : []) + extraSpecialTokens
    }
}

/// A trained byte-level BPE vocabulary, in the layout llama.cpp's "gpt2" tokenizer reads.
///
/// Token ids: the special tokens first (`configuration.specialTokens`, control type), then the 256
/// single-byte tokens in byte order (GPT-2's printable stand-in characters), then one token per merge
/// that produced a new text, in merge order.
public struct BPEVocabulary: Sendable {
    /// The settings it was trained with.
    public let configuration: BPETrainerConfiguration
    /// Token texts by id (byte-level stand-in characters for normal tokens).
    public let tokens: [String]
    /// `tokenizer.ggml.token_type` values by id (3 = control for specials, 1 = normal).
    public let tokenTypes: [Int]
    /// Merge rules "left right" in priority order (first = applied first).
    public let merges: [String]
    /// Id of the padding token.
    public let padID: Int
    /// Id of the beginning-of-sequence token.
    public let bosID: Int
    /// Id of the end-of-sequence token.
    public let eosID: Int
    /// Id of `<|im_start|>` when `chatTokens` is set.
    public let imStartID: Int?
    /// Id of `<|im_end|>` when `chatTokens` is set.
    public let imEndID: Int?
    /// The number of distinct pre-tokenized words seen in training.
    public let distinctWords: Int
    /// The number of pre-tokenized words seen in training.
    public let totalWords: Int

    init(configuration: BPETrainerConfiguration, tokens: [String], tokenTypes: [Int], merges: [String],
         distinctWords: Int, totalWords: Int) {
        self.configuration = configuration
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.merges = merges
        self.padID = 0
        self.bosID = 1
        self.eosID = 2
        self.imStartID = configuration.chatTokens ? 3 : nil
        self.imEndID = configuration.chatTokens ? 4 : nil
        self.distinctWords = distinctWords
        self.totalWords = totalWords
    }

    /// The chat template written to `tokenizer.chat_template` (a Jinja string in the subset our
    /// `ChatTemplate` and llama.cpp understand): ChatML with `<|im_start|>role\n…<|im_end|>\n` turns when
    /// the chat tokens exist, otherwise "role: content" lines ended by the EOS token. With
    /// `add_generation_prompt` the assistant turn is opened.
    public var chatTemplate: String {
        if configuration.chatTokens {
            return "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
        }
        let eos = configuration.eosToken.replacingOccurrences(of: "'", with: "\\'")
        return "{% for message in messages %}{{ message['role'] + ': ' + message['content'] + '\(eos)' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ 'assistant: ' }}{% endif %}"
    }

    /// The `tokenizer.*` GGUF metadata keys of this vocabulary: `tokenizer.ggml.model` ("gpt2"), `.pre`,
    /// `.tokens`, `.token_type`, `.merges`, `.bos_token_id`, `.eos_token_id`, `.padding_token_id`,
    /// `.add_bos_token`, `.add_eos_token` (false), and `tokenizer.chat_template`.
    public var ggufMetadata: [String: GGUFValue] {
        var md: [String: GGUFValue] = [:]
        md["tokenizer.ggml.model"] = .string("gpt2")
        md["tokenizer.ggml.pre"] = .string(configuration.pre)
        md["tokenizer.ggml.tokens"] = .array(tokens.map { .string($0) })
        md["tokenizer.ggml.token_type"] = .array(tokenTypes.map { .int32(Int32($0)) })
        md["tokenizer.ggml.merges"] = .array(merges.map { .string($0) })
        md["tokenizer.ggml.bos_token_id"] = .uint32(UInt32(bosID))
        md["tokenizer.ggml.eos_token_id"] = .uint32(UInt32(eosID))
        md["tokenizer.ggml.padding_token_id"] = .uint32(UInt32(padID))
        md["tokenizer.ggml.add_bos_token"] = .bool(configuration.addBOS)
        md["tokenizer.ggml.add_eos_token"] = .bool(false)
        md["tokenizer.chat_template"] = .string(chatTemplate)
        return md
    }

    /// The vocabulary as `Tokenizer` input (the same values the metadata carries).
    public var tokenizerVocabulary: TokenizerVocabulary {
        TokenizerVocabulary(model: "gpt2", pre: configuration.pre, tokens: tokens, tokenTypes: tokenTypes, merges: merges,
                            bosID: bosID, eosID: eosID, paddingID: padID, addBOS: configuration.addBOS, addEOS: false)
    }

    /// A tokenizer for this vocabulary.
    public func makeTokenizer() throws -> Tokenizer { try Tokenizer(vocabulary: tokenizerVocabulary) }

    /// Writes a GGUF file holding only this tokenizer (the `ggufMetadata` keys plus `general.name`, no
    /// tensors), readable by `Tokenizer(gguf:)`, e.g. as a pipeline's tokenizer artifact.
    public func writeTokenizerGGUF(to path: String, name: String = "bpe-tokenizer") throws {
        var w = GGUFWriter()
        w.setMetadata("general.name", .string(name))
        for (k, v) in ggufMetadata.sorted(by: { $0.key < $1.key }) { w.setMetadata(k, v) }
        try w.write(to: path)
    }
}

/// Trains byte-level BPE merges on a corpus.
///
/// The text is cut at the configured special-token texts (which never take part in merges), split into
/// words by the pre-tokenizer named in the configuration (the same code `Tokenizer` uses), and the words
/// are counted. Starting from the 256 byte symbols, the most frequent adjacent pair (summed over word
/// counts; ties broken by the smaller left id, then the smaller right id) is merged everywhere, left to
/// right, until the vocabulary is full or no pair is frequent enough. A pair whose joined text already is a
/// token (made from another split) is never merged, so every merge makes a new token; hence no pair merged
/// earlier can re-form later, and applying the merges in rank order (as `Tokenizer` and llama.cpp do, lowest rank first, leftmost on ties)
/// segments every training word exactly as training did.
///
/// Pair counts are updated incrementally (only words containing the merged pair are revisited) and the
/// best pair is kept in a lazy max-heap, so a few MB of text train to 8k tokens in seconds.
public struct BPETrainer {
    /// The settings.
    public let configuration: BPETrainerConfiguration
    private let pre: PreTokenizer
    private var words = ByteStringTable(capacity: 1 << 16)
    private var counts: [Int] = []
    private var totalWords = 0

    /// Llama-3-style names: their tokenizers look whole words up before merging.
    static let wholeWordPre: Set<String> = ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0",
                                            "lfm2", "jina-v5-nano"]

    /// Checks the settings.
    ///
    /// - Throws: `BPETrainerError` when the vocabulary cannot hold the specials and 256 bytes, the
    ///   pre-tokenizer name is unknown or of the whole-word kind, or special tokens are empty or repeated.
    public init(configuration: BPETrainerConfiguration) throws {
        var c = configuration
        if c.pre == "gpt2" { c.pre = "gpt-2" }
        let specials = c.specialTokens
        guard specials.allSatisfy({ !$0.isEmpty }) else { throw BPETrainerError("a special token text is empty") }
        guard Set(specials).count == specials.count else {
            throw BPETrainerError("special tokens repeat: \(specials)")
        }
        guard c.vocabularySize >= specials.count + 256 else {
            throw BPETrainerError("vocabularySize \(c.vocabularySize) is too small: \(specials.count) special tokens + 256 byte tokens need at least \(specials.count + 256)")
        }
        guard c.minPairFrequency >= 1 else { throw BPETrainerError("minPairFrequency must be at least 1 (got \(c.minPairFrequency))") }
        guard !BPETrainer.wholeWordPre.contains(c.pre) else {
            throw BPETrainerError("pre-tokenizer '\(c.pre)' looks whole words up before merging; use 'default' or 'gpt-2'")
        }
        let (p, known) = PreTokenizer.resolve(c.pre)
        guard known, !c.pre.isEmpty else {
            throw BPETrainerError("unknown pre-tokenizer '\(c.pre)' (use 'default', 'gpt-2', 'smollm' or 'qwen2')")
        }
        self.configuration = c
        self.pre = p
    }

    /// Adds text to the word counts (may be called many times before `train()`).
    public mutating func add(_ text: String) {
        var pieces = [text]
        for s in configuration.specialTokens where text.contains(s) {
            pieces = pieces.flatMap { $0.components(separatedBy: s) }
        }
        for piece in pieces where !piece.isEmpty { addFragment(piece) }
    }

    /// Adds many texts.
    public mutating func add<S: Sequence>(contentsOf texts: S) where S.Element == String {
        for t in texts { add(t) }
    }

    private mutating func addFragment(_ text: String) {
        var cps: [UInt32] = []
        cps.reserveCapacity(text.utf8.count)
        for s in text.unicodeScalars { cps.append(s.value) }
        let cls = cps.map { CharClass.of($0) }
        let lens = cps.withUnsafeBufferPointer { c in cls.withUnsafeBufferPointer { f in pre.split(c, f) } }
        var utf8: [UInt8] = []
        utf8.reserveCapacity(text.utf8.count)
        var boff = [Int](); boff.reserveCapacity(cps.count + 1)
        for c in cps {
            boff.append(utf8.count)
            let v = c
            if v < 0x80 { utf8.append(UInt8(v)) }
            else if v < 0x800 { utf8.append(UInt8(0xC0 | (v >> 6))); utf8.append(UInt8(0x80 | (v & 0x3F))) }
            else if v < 0x10000 {
                utf8.append(UInt8(0xE0 | (v >> 12))); utf8.append(UInt8(0x80 | ((v >> 6) & 0x3F))); utf8.append(UInt8(0x80 | (v & 0x3F)))
            } else {
                utf8.append(UInt8(0xF0 | (v >> 18))); utf8.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
                utf8.append(UInt8(0x80 | ((v >> 6) & 0x3F))); utf8.append(UInt8(0x80 | (v & 0x3F)))
            }
        }
        boff.append(utf8.count)
        utf8.withUnsafeBufferPointer { u in
            var s = 0
            for l in lens {
                let a = boff[s], b = boff[s + l]
                s += l
                let (id, inserted) = words.insert(u.baseAddress! + a, b - a)
                if inserted { counts.append(1) } else { counts[Int(id)] += 1 }
                totalWords += 1
            }
        }
    }

    private struct HeapEntry {
        var count: Int
        var key: UInt64
    }

    /// Learns the merges and returns the vocabulary.
    public func train() -> BPEVocabulary {
        let c = configuration
        let specials = c.specialTokens
        let base = specials.count
        // token texts (byte-level stand-ins) and a text → id index
        var tokenBytes: [[UInt8]] = specials.map { Array($0.utf8) }
        for b in 0..<256 { tokenBytes.append(ByteLevel.byteToUTF8[b]) }
        var index: [[UInt8]: Int32] = [:]
        for (i, t) in tokenBytes.enumerated() where index[t] == nil { index[t] = Int32(i) }
        var merges: [String] = []

        // words as symbol sequences
        let nw = counts.count
        var seqs: [[Int32]] = []
        seqs.reserveCapacity(nw)
        words.storage.withUnsafeBufferPointer { st in
            for w in 0..<nw {
                let a = Int(words.offsets[w]), b = Int(words.offsets[w + 1])
                var s = [Int32](); s.reserveCapacity(b - a)
                for k in a..<b { s.append(Int32(base + Int(st[k]))) }
                seqs.append(s)
            }
        }

        @inline(__always) func key(_ l: Int32, _ r: Int32) -> UInt64 { UInt64(UInt32(l)) << 32 | UInt64(UInt32(r)) }
        var pairCount: [UInt64: Int] = [:]
        var pairWords: [UInt64: [Int32]] = [:]
        for w in 0..<nw {
            let s = seqs[w], f = counts[w]
            guard s.count >= 2 else { continue }
            for k in 1..<s.count {
                let p = key(s[k - 1], s[k])
                pairCount[p, default: 0] += f
                pairWords[p, default: []].append(Int32(w))
            }
        }

        // lazy max-heap: larger count first, then smaller key
        var heap: [HeapEntry] = []
        heap.reserveCapacity(pairCount.count)
        @inline(__always) func above(_ a: HeapEntry, _ b: HeapEntry) -> Bool {
            a.count > b.count || (a.count == b.count && a.key < b.key)
        }
        func push(_ e: HeapEntry) {
            heap.append(e)
            var i = heap.count - 1
            while i > 0 {
                let p = (i - 1) >> 1
                if above(heap[i], heap[p]) { heap.swapAt(i, p); i = p } else { break }
            }
        }
        func pop() -> HeapEntry {
            let top = heap[0]
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var i = 0
                let m = heap.count
                while true {
                    let l = 2 * i + 1
                    if l >= m { break }
                    var best = l
                    if l + 1 < m && above(heap[l + 1], heap[l]) { best = l + 1 }
                    if above(heap[best], heap[i]) { heap.swapAt(best, i); i = best } else { break }
                }
            }
            return top
        }
        for (k, v) in pairCount { push(HeapEntry(count: v, key: k)) }

        var stamp = [Int32](repeating: -1, count: nw)
        var banned = Set<UInt64>()
        var changed: [UInt64: Bool] = [:]
        var step: Int32 = 0
        while tokenBytes.count < c.vocabularySize && !heap.isEmpty {
            let e = pop()
            guard !banned.contains(e.key), let current = pairCount[e.key], current == e.count else { continue }
            guard current >= c.minPairFrequency else { break }
            let l = Int32(truncatingIfNeeded: e.key >> 32), r = Int32(truncatingIfNeeded: e.key & 0xFFFF_FFFF)
            let merged = tokenBytes[Int(l)] + tokenBytes[Int(r)]
            if index[merged] != nil {
                // The text is a token already (made from another split): merging into it could re-form
                // pairs merged earlier, so this pair is never merged.
                banned.insert(e.key)
                pairCount[e.key] = nil
                continue
            }
            let newID = Int32(tokenBytes.count)
            tokenBytes.append(merged)
            index[merged] = newID
            merges.append(String(decoding: tokenBytes[Int(l)], as: UTF8.self) + " " + String(decoding: tokenBytes[Int(r)], as: UTF8.self))
            changed.removeAll(keepingCapacity: true)
            let affected = pairWords[e.key] ?? []
            pairWords[e.key] = nil
            for w32 in affected {
                let w = Int(w32)
                if stamp[w] == step { continue }
                stamp[w] = step
                let s = seqs[w], f = counts[w]
                // does it still contain the pair?
                var has = false
                for k in 1..<s.count where s[k - 1] == l && s[k] == r { has = true; break }
                if !has { continue }
                for k in 1..<s.count {
                    let p = key(s[k - 1], s[k])
                    pairCount[p, default: 0] -= f
                    changed[p] = true
                }
                var t: [Int32] = []
                t.reserveCapacity(s.count)
                var k = 0
                while k < s.count {
                    if k + 1 < s.count && s[k] == l && s[k + 1] == r { t.append(newID); k += 2 } else { t.append(s[k]); k += 1 }
                }
                if t.count >= 2 {
                    for k in 1..<t.count {
                        let p = key(t[k - 1], t[k])
                        pairCount[p, default: 0] += f
                        changed[p] = true
                        if t[k - 1] == newID || t[k] == newID { pairWords[p, default: []].append(w32) }
                    }
                }
                seqs[w] = t
            }
            pairCount[e.key] = nil
            for p in changed.keys where p != e.key && !banned.contains(p) {
                let v = pairCount[p] ?? 0
                if v <= 0 { pairCount[p] = nil } else { push(HeapEntry(count: v, key: p)) }
            }
            step += 1
        }

        let texts = tokenBytes.map { String(decoding: $0, as: UTF8.self) }
        let types = (0..<texts.count).map { $0 < base ? TokenType.control.rawValue : TokenType.normal.rawValue }
        return BPEVocabulary(configuration: c, tokens: texts, tokenTypes: types, merges: merges,
                             distinctWords: nw, totalWords: totalWords)
    }

    /// Trains on `texts` in one call.
    public static func train<S: Sequence>(_ texts: S, configuration: BPETrainerConfiguration) throws -> BPEVocabulary
    where S.Element == String {
        var t = try BPETrainer(configuration: configuration)
        t.add(contentsOf: texts)
        return t.train()
    }
}
