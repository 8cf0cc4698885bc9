import Foundation
import GGUF

/// A tokenizer built from GGUF vocabulary metadata, reproducing llama.cpp's tokenization.
///
/// Two algorithms are supported:
/// - byte-level BPE (`tokenizer.ggml.model == "gpt2"`): text is split into words by the
///   pre-tokenizer named in `tokenizer.ggml.pre` (see `PreTokenizer`), each word's bytes are mapped
///   to GPT-2's printable stand-in characters and merged by merge rank (lowest rank first, leftmost
///   first on ties). Unknown pre-tokenizer names fall back to llama.cpp's "default" pre-tokenizer
///   (llama.cpp itself refuses to load them); `preTokenizerWasRecognized` tells which happened.
/// - SentencePiece (`"llama"`, e.g. Gemma 3): spaces become U+2581 "▁", characters are merged
///   pairwise by highest token score (leftmost first on ties), and characters left without a token
///   fall back to `<0xXX>` byte tokens.
///
/// Before either runs, the text is partitioned on special tokens as llama.cpp does: user-defined
/// tokens (type 4) are always cut out and emitted as themselves; control (3) and unknown (2) tokens
/// only when `parseSpecial` is true. Longer special tokens are cut first.
///
/// `decode(encode(x)) == x` for every string `x` (with `addBOS: false`) whose bytes the vocabulary
/// can represent. SentencePiece vocabularies with byte fallback represent everything; a byte-level
/// BPE vocabulary may lack stand-ins for a few bytes (SmolLM2 lacks 0x04 0x06 0x13 0x14 0x16 0x1D
/// and the UTF-8 lead bytes 0xF1 0xF2, i.e. code points U+40000..U+BFFFF), which are dropped
/// exactly as llama.cpp drops them. Decoding renders special tokens as their text unless
/// `skipSpecial` is set; unlike llama.cpp it never "cleans up" spaces around punctuation.
///
/// Character classes for the pre-tokenizers follow llama.cpp's Unicode 15.1 tables (newer
/// characters count as unassigned), so splits agree with llama.cpp even where Swift's runtime
/// knows a later Unicode version.
///
/// Instances are immutable after construction except for an internal, lock-protected cache of
/// BPE word results, so one tokenizer may be shared across threads.
public final class Tokenizer: @unchecked Sendable {
    /// The vocabulary this tokenizer was built from.
    public let vocabulary: TokenizerVocabulary

    // token attributes (llama.cpp's llama_token_attr subset)
    static let attrNormal: UInt8 = 1
    static let attrUnknown: UInt8 = 2
    static let attrControl: UInt8 = 4
    static let attrUserDefined: UInt8 = 8
    static let attrUnused: UInt8 = 16
    static let attrByte: UInt8 = 32

    let isSPM: Bool
    let nVocab: Int
    /// Token texts (ids 0..<nVocab); for BPE also merge parts/results that are not tokens (ids ≥ nVocab).
    let table: ByteStringTable
    let attrs: [UInt8]
    let pieceStore: [UInt8]
    let pieceOffsets: [Int32]
    let specials: SpecialMatcher
    let eog: [Bool]

    // byte-level BPE
    let pairs: [UInt64: UInt64]
    let byteSymbol: [Int32]
    let pre: PreTokenizer
    let ignoreMerges: Bool
    /// Whether `tokenizer.ggml.pre` named a pre-tokenizer this implementation knows (BPE only).
    public let preTokenizerWasRecognized: Bool
    /// The pre-tokenizer family in use ("smollm", "llama3", "qwen2", "gpt2" or "default"; nil for SentencePiece).
    public var preTokenizerFamily: String? { isSPM ? nil : pre.family }

    // SentencePiece
    let scores: [Float]
    let byteTokens: [Int32]

    private let cacheLock = NSLock()
    private var cacheKeys = ByteStringTable(capacity: 4096)
    private var cacheValues: [[Int32]] = []
    private static let cacheLimit = 100_000

    /// Builds the tokenizer for `vocabulary`.
    ///
    /// - Throws: `TokenizerError` for an unsupported model, an empty token list, or arrays whose
    ///   lengths disagree with the token list. Duplicate token texts are accepted (unlike llama.cpp);
    ///   `id(of:)` and encoding then use the lowest id of such a text.
    public init(vocabulary v: TokenizerVocabulary) throws {
        self.vocabulary = v
        guard v.model == "gpt2" || v.model == "llama" else {
            throw TokenizerError("unsupported tokenizer model '\(v.model)' (supported: 'gpt2', 'llama')")
        }
        isSPM = v.model == "llama"
        let n = v.tokens.count
        guard n > 0 else { throw TokenizerError("the vocabulary has no tokens") }
        nVocab = n
        if let t = v.tokenTypes, t.count != n {
            throw TokenizerError("token_type has \(t.count) entries but there are \(n) tokens")
        }
        if let s = v.scores, s.count != n {
            throw TokenizerError("scores has \(s.count) entries but there are \(n) tokens")
        }

        // token table, ids == token ids
        var table = ByteStringTable(capacity: n + (v.merges?.count ?? 0) + 512)
        var texts = v.tokens
        for i in 0..<n where texts[i].isEmpty { texts[i] = "[EMPTY_\(i)]" }   // as llama.cpp
        // llama.cpp rejects duplicate token texts; we accept them (a GGUF reader that repairs
        // invalid UTF-8 can create duplicates) and map such a text to its lowest id.
        _ = table.bulkInsert(texts)

        // attributes
        var attrs = [UInt8](repeating: Tokenizer.attrNormal, count: n)
        if let types = v.tokenTypes {
            for i in 0..<n {
                switch types[i] {
                case 1: attrs[i] = Tokenizer.attrNormal
                case 2: attrs[i] = Tokenizer.attrUnknown
                case 3: attrs[i] = Tokenizer.attrControl
                case 4: attrs[i] = Tokenizer.attrUserDefined
                case 5: attrs[i] = Tokenizer.attrUnused
                case 6: attrs[i] = Tokenizer.attrByte
                default: attrs[i] = 0
                }
            }
        }
        // llama.cpp forces "control" on tokens whose text marks an end of turn or a FIM role.
        let fimAndEOT: [String] = [
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
            "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>", "<|eom_id|>",
            "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>",
            "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>",
            "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>",
            "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
            "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>",
        ]
        for name in fimAndEOT {
            let id = table.find(Array(name.utf8))
            if id >= 0 && Int(id) < n { attrs[Int(id)] |= Tokenizer.attrControl }
        }
        // ... and on every end-of-generation token found by its text; the ones llama.cpp then
        // drops from the EOG set get "user-defined" (<|end|>) or "normal" (</s>) instead.
        for name in TokenizerVocabulary.eogTexts {
            let id = Int(table.find(Array(name.utf8)))
            guard id >= 0 && id < n else { continue }
            if v.eogIDs.contains(id) {
                attrs[id] |= Tokenizer.attrControl
            } else if name == "<|end|>" {
                attrs[id] = Tokenizer.attrUserDefined
            } else if name == "</s>" {
                attrs[id] = Tokenizer.attrNormal
            }
        }
        for name in ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"] {
            let id = table.find(Array(name.utf8))
            if id >= 0 && Int(id) < n { attrs[Int(id)] = Tokenizer.attrUserDefined }
        }
        self.attrs = attrs

        var eog = [Bool](repeating: false, count: n)
        for i in v.eogIDs where i >= 0 && i < n { eog[i] = true }
        self.eog = eog

        // special-token matcher
        var specialIDs: [Int32] = []
        for i in 0..<n where attrs[i] & (Tokenizer.attrControl | Tokenizer.attrUserDefined | Tokenizer.attrUnknown) != 0 {
            specialIDs.append(Int32(i))
        }
        specials = SpecialMatcher(ids: specialIDs, table: table, attrs: attrs)

        // model-specific parts
        if isSPM {
            scores = v.scores ?? [Float](repeating: 0, count: n)
            var bt = [Int32](repeating: Int32(v.unknownID ?? 0), count: 256)
            let hex = Array("0123456789ABCDEF".utf8)
            for b in 0..<256 {
                let name: [UInt8] = [0x3C, 0x30, 0x78, hex[b >> 4], hex[b & 15], 0x3E]   // <0xXX>
                let id = table.find(name)
                if id >= 0 {
                    bt[b] = id
                } else {
                    let single = table.find([UInt8(b)])
                    if single >= 0 { bt[b] = single }
                }
            }
            byteTokens = bt
            pairs = [:]
            byteSymbol = []
            pre = PreTokenizer.defaultPre
            preTokenizerWasRecognized = true
            ignoreMerges = false
        } else {
            scores = []
            byteTokens = []
            let (p, known) = PreTokenizer.resolve(v.pre)
            pre = p
            preTokenizerWasRecognized = known
            ignoreMerges = ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
                            "jina-v5-nano"].contains(v.pre ?? "")
            // Resolve every merge's left part, right part and concatenation to interned ids. The
            // parts are looked up in bulk (almost all are tokens); the rest are interned after.
            let merges = v.merges ?? []
            var scratch: [UInt8] = []
            scratch.reserveCapacity(merges.count * 16)
            var starts: [Int32] = [], lens: [Int32] = [], valid: [Int] = []
            starts.reserveCapacity(merges.count * 3); lens.reserveCapacity(merges.count * 3)
            for (rank, m) in merges.enumerated() {
                // split at the first space after the first byte (llama.cpp: word.find(' ', 1))
                let u = m.utf8
                var sp = -1
                var k = 0
                for byte in u {
                    if k >= 1 && byte == 0x20 { sp = k; break }
                    k += 1
                }
                guard sp > 0 else { continue }
                let s0 = Int32(scratch.count)
                scratch.append(contentsOf: u)
                let total = Int32(u.count)
                let sp32 = Int32(sp)
                // left, right, and left+right (written after the text as a copy without the space)
                starts.append(s0); lens.append(sp32)
                starts.append(s0 + sp32 + 1); lens.append(total - sp32 - 1)
                let s1 = Int32(scratch.count)
                scratch.append(contentsOf: u.prefix(sp))
                scratch.append(contentsOf: u.dropFirst(sp + 1))
                starts.append(s1); lens.append(total - 1)
                valid.append(rank)
            }
            var ids = scratch.withUnsafeBufferPointer { table.bulkFind($0, starts, lens) }
            scratch.withUnsafeBufferPointer { sb in
                for i in 0..<ids.count where ids[i] < 0 {
                    ids[i] = table.insert(sb.baseAddress! + Int(starts[i]), Int(lens[i])).id
                }
            }
            var pairs: [UInt64: UInt64] = [:]
            pairs.reserveCapacity(valid.count)
            for (j, rank) in valid.enumerated() {
                let l = ids[3 * j], r = ids[3 * j + 1], res = ids[3 * j + 2]
                let key = UInt64(UInt32(bitPattern: l)) << 32 | UInt64(UInt32(bitPattern: r))
                if pairs[key] == nil {
                    pairs[key] = UInt64(UInt32(rank)) << 32 | UInt64(UInt32(bitPattern: res))
                }
            }
            self.pairs = pairs
            var bs = [Int32](repeating: -1, count: 256)
            for b in 0..<256 { bs[b] = table.find(ByteLevel.byteToUTF8[b]) }
            byteSymbol = bs
        }
        self.table = table

        // decoded piece of every token; no piece is longer than its stored text, so one buffer
        // the size of all token texts suffices
        var offs = [Int32](repeating: 0, count: n + 1)
        let special = Tokenizer.attrUnknown | Tokenizer.attrControl | Tokenizer.attrUserDefined
        let spm = isSPM
        let total = table.storage.count
        let store = [UInt8](unsafeUninitializedCapacity: max(total, 1)) { out, initialized in
            var w = 0
            table.storage.withUnsafeBufferPointer { st in
                table.offsets.withUnsafeBufferPointer { off in
                    offs.withUnsafeMutableBufferPointer { po in
                        for i in 0..<n {
                            let a = Int(off[i]), b = Int(off[i + 1])
                            let at = attrs[i]
                            if at & special != 0 {
                                for k in a..<b { out[w] = st[k]; w += 1 }
                            } else if at & Tokenizer.attrNormal != 0 {
                                if spm {
                                    var k = a
                                    while k < b {
                                        if k + 2 < b && st[k] == 0xE2 && st[k + 1] == 0x96 && st[k + 2] == 0x81 {
                                            out[w] = 0x20; k += 3
                                        } else {
                                            out[w] = st[k]; k += 1
                                        }
                                        w += 1
                                    }
                                } else {
                                    w = ByteLevel.decodeUTF8(st, a, b, into: out, at: w)
                                }
                            } else if at & Tokenizer.attrByte != 0 {
                                if b - a == 6, let byte = UInt8(String(decoding: st[(a + 3)..<(a + 5)], as: UTF8.self), radix: 16) {
                                    out[w] = byte; w += 1
                                }
                            }
                            po[i + 1] = Int32(w)
                        }
                    }
                }
            }
            initialized = w
        }
        pieceStore = store
        pieceOffsets = offs
    }

    /// Reads the vocabulary from `gguf` and builds its tokenizer.
    public convenience init(gguf: GGUFFile) throws {
        try self.init(vocabulary: TokenizerVocabulary(gguf: gguf))
    }

    // MARK: - properties

    /// Number of tokens in the vocabulary.
    public var vocabularySize: Int { nVocab }
    /// The beginning-of-sequence token id, if any.
    public var bosID: Int? { vocabulary.bosID }
    /// The end-of-sequence token id, if any.
    public var eosID: Int? { vocabulary.eosID }
    /// Whether `encode` adds BOS by default (`tokenizer.ggml.add_bos_token`).
    public var addsBOS: Bool { vocabulary.addBOS }
    /// Whether `encode` adds EOS by default (`tokenizer.ggml.add_eos_token`).
    public var addsEOS: Bool { vocabulary.addEOS }
    /// All end-of-generation ids.
    public var endOfGenerationIDs: Set<Int> { vocabulary.eogIDs }

    /// Whether generation should stop at `id` (EOS, end-of-turn tokens, ...).
    public func isEndOfGeneration(_ id: Int) -> Bool {
        id >= 0 && id < nVocab && eog[id]
    }

    /// Whether `id` is a control or unknown token (the ones `decode(skipSpecial: true)` drops).
    public func isControl(_ id: Int) -> Bool {
        id >= 0 && id < nVocab && attrs[id] & (Tokenizer.attrControl | Tokenizer.attrUnknown) != 0
    }

    /// The token's type from `tokenizer.ggml.token_type` (`.normal` when the file has none;
    /// nil for out-of-range ids).
    public func tokenType(_ id: Int) -> TokenType? {
        guard id >= 0 && id < nVocab else { return nil }
        guard let t = vocabulary.tokenTypes else { return .normal }
        return TokenType(rawValue: t[id]) ?? .undefined
    }

    /// The raw bytes `id` decodes to (special tokens render as their text; out-of-range ids as nothing).
    public func tokenBytes(_ id: Int) -> [UInt8] {
        guard id >= 0 && id < nVocab else { return [] }
        return Array(pieceStore[Int(pieceOffsets[id])..<Int(pieceOffsets[id + 1])])
    }

    /// The token's text exactly as stored in the vocabulary ("" for out-of-range ids).
    public func tokenText(_ id: Int) -> String {
        guard id >= 0 && id < nVocab else { return "" }
        return vocabulary.tokens[id]
    }

    /// The id of the token whose stored text is exactly `piece`, if any.
    public func id(of piece: String) -> Int? {
        let r = table.find(Array(piece.utf8))
        return r >= 0 && Int(r) < nVocab ? Int(r) : nil
    }

    // MARK: - encode

    /// Tokenizes `text`.
    ///
    /// - Parameters:
    ///   - addBOS: add the BOS token first; nil uses the model default (`addsBOS`).
    ///   - addEOS: add the EOS token last; nil uses the model default (`addsEOS`).
    ///   - parseSpecial: recognize control tokens such as `<|im_start|>` written in the text;
    ///     when false they are tokenized as plain text (user-defined tokens are always recognized).
    public func encode(_ text: String, addBOS: Bool? = nil, addEOS: Bool? = nil, parseSpecial: Bool = false) -> [Int] {
        var t = text
        let out: [Int32] = t.withUTF8 { buf in encodeBytes(buf, addBOS: addBOS, addEOS: addEOS, parseSpecial: parseSpecial) }
        return out.map { Int($0) }
    }

    func encodeBytes(_ buf: UnsafeBufferPointer<UInt8>, addBOS: Bool?, addEOS: Bool?, parseSpecial: Bool) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(buf.count / 3 + 4)
        if addBOS ?? vocabulary.addBOS, let b = vocabulary.bosID { out.append(Int32(b)) }
        if buf.count > 0, let base = buf.baseAddress {
            let frags = specials.partition(base, buf.count, parseSpecial: parseSpecial)
            var prevSpecial = true
            for f in frags {
                if f.token >= 0 {
                    out.append(f.token)
                    prevSpecial = true
                } else if isSPM {
                    spmFragment(base + f.start, f.length, spacePrefix: vocabulary.addSpacePrefix && prevSpecial, &out)
                    prevSpecial = false
                } else {
                    bpeFragment(base + f.start, f.length, &out)
                }
            }
        }
        if addEOS ?? vocabulary.addEOS, let e = vocabulary.eosID { out.append(Int32(e)) }
        return out
    }

    /// The words byte-level BPE would merge independently for `text` (special tokens are not
    /// cut out first). For SentencePiece vocabularies, which have no pre-tokenizer, returns `[text]`.
    /// Meant for inspection and tests.
    public func preTokenize(_ text: String) -> [String] {
        if isSPM { return text.isEmpty ? [] : [text] }
        let cps = text.unicodeScalars.map { $0.value }
        let cls = cps.map { CharClass.of($0) }
        let lens = cps.withUnsafeBufferPointer { c in cls.withUnsafeBufferPointer { f in pre.split(c, f) } }
        var out: [String] = []
        var s = 0
        for l in lens {
            var w = String.UnicodeScalarView()
            for c in cps[s..<(s + l)] { w.append(Unicode.Scalar(c)!) }
            out.append(String(w))
            s += l
        }
        return out
    }

    // MARK: byte-level BPE

    func bpeFragment(_ p: UnsafePointer<UInt8>, _ n: Int, _ out: inout [Int32]) {
        // UTF-8 → scalars, classes and byte offsets
        var cps = [UInt32](); cps.reserveCapacity(n)
        var cls = [UInt16](); cls.reserveCapacity(n)
        var boff = [Int32](); boff.reserveCapacity(n + 1)
        var i = 0
        while i < n {
            let b0 = UInt32(p[i])
            var c: UInt32
            var l: Int
            if b0 < 0x80 { c = b0; l = 1 }
            else if b0 < 0xE0 { c = (b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F); l = 2 }
            else if b0 < 0xF0 { c = (b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F); l = 3 }
            else {
                c = (b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6 | UInt32(p[i + 3] & 0x3F)
                l = 4
            }
            cps.append(c)
            cls.append(CharClass.of(c))
            boff.append(Int32(i))
            i += l
        }
        boff.append(Int32(n))
        let words = cps.withUnsafeBufferPointer { c in cls.withUnsafeBufferPointer { f in pre.split(c, f) } }
        var s = 0
        for w in words {
            let a = Int(boff[s]), b = Int(boff[s + w])
            bpeWord(p + a, b - a, &out)
            s += w
        }
    }

    func bpeWord(_ p: UnsafePointer<UInt8>, _ n: Int, _ out: inout [Int32]) {
        // The cache is keyed by raw bytes: Swift `String` keys would conflate canonically
        // equivalent words (e.g. U+2001 and U+2003), which tokenize differently.
        cacheLock.lock()
        let hit = cacheKeys.find(p, n)
        if hit >= 0 {
            out.append(contentsOf: cacheValues[Int(hit)])
            cacheLock.unlock()
            return
        }
        cacheLock.unlock()
        let r = bpeMerge(p, n)
        cacheLock.lock()
        if cacheValues.count >= Tokenizer.cacheLimit {
            cacheKeys = ByteStringTable(capacity: 4096)
            cacheValues.removeAll(keepingCapacity: true)
        }
        if cacheKeys.insert(p, n).inserted { cacheValues.append(r) }
        cacheLock.unlock()
        out.append(contentsOf: r)
    }

    private struct BPEEntry {
        var rank: Int32
        var left: Int32
        var right: Int32
        var leftID: Int32
        var rightID: Int32
    }

    /// Merges one word's bytes (llama.cpp's llm_tokenizer_bpe_session::tokenize for one word).
    func bpeMerge(_ p: UnsafePointer<UInt8>, _ n: Int) -> [Int32] {
        if n == 0 { return [] }
        if ignoreMerges {
            var enc: [UInt8] = []
            for k in 0..<n { enc.append(contentsOf: ByteLevel.byteToUTF8[Int(p[k])]) }
            let id = table.find(enc)
            if id >= 0 && Int(id) < nVocab { return [id] }
        }
        var ids = [Int32](repeating: 0, count: n)
        var lens = [Int32](repeating: 1, count: n)
        var prev = [Int32](repeating: 0, count: n)
        var next = [Int32](repeating: 0, count: n)
        for k in 0..<n {
            ids[k] = byteSymbol[Int(p[k])]
            prev[k] = Int32(k - 1)
            next[k] = k + 1 < n ? Int32(k + 1) : -1
        }
        var heap: [BPEEntry] = []
        heap.reserveCapacity(n)

        @inline(__always) func before(_ a: BPEEntry, _ b: BPEEntry) -> Bool {
            a.rank < b.rank || (a.rank == b.rank && a.left < b.left)
        }
        func push(_ e: BPEEntry) {
            heap.append(e)
            var c = heap.count - 1
            while c > 0 {
                let par = (c - 1) >> 1
                if before(heap[c], heap[par]) { heap.swapAt(c, par); c = par } else { break }
            }
        }
        func pop() -> BPEEntry {
            let top = heap[0]
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var c = 0
                let m = heap.count
                while true {
                    let l = 2 * c + 1
                    if l >= m { break }
                    var best = l
                    if l + 1 < m && before(heap[l + 1], heap[l]) { best = l + 1 }
                    if before(heap[best], heap[c]) { heap.swapAt(best, c); c = best } else { break }
                }
            }
            return top
        }
        func addPair(_ l: Int32, _ r: Int32) {
            if l < 0 || r < 0 { return }
            let a = ids[Int(l)], b = ids[Int(r)]
            if a < 0 || b < 0 { return }
            let key = UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
            guard let v = pairs[key] else { return }
            push(BPEEntry(rank: Int32(truncatingIfNeeded: v >> 32), left: l, right: r, leftID: a, rightID: b))
        }
        for k in 1..<max(n, 1) { addPair(Int32(k - 1), Int32(k)) }
        while !heap.isEmpty {
            let e = pop()
            let l = Int(e.left), r = Int(e.right)
            if lens[l] == 0 || lens[r] == 0 || ids[l] != e.leftID || ids[r] != e.rightID { continue }
            let key = UInt64(UInt32(bitPattern: e.leftID)) << 32 | UInt64(UInt32(bitPattern: e.rightID))
            ids[l] = Int32(truncatingIfNeeded: pairs[key]! & 0xFFFF_FFFF)
            lens[l] += lens[r]
            lens[r] = 0
            next[l] = next[r]
            if next[r] >= 0 { prev[Int(next[r])] = Int32(l) }
            addPair(prev[l], Int32(l))
            addPair(Int32(l), next[l])
        }
        var res: [Int32] = []
        var k: Int32 = 0
        while k >= 0 {
            let s = Int(k)
            let id = ids[s]
            if id >= 0 && Int(id) < nVocab {
                res.append(id)
            } else {
                // no token for this symbol: emit single-byte tokens of its byte-level text (llama.cpp)
                for q in s..<(s + Int(lens[s])) {
                    for e in ByteLevel.byteToUTF8[Int(p[q])] {
                        let t = table.find([e])
                        if t >= 0 && Int(t) < nVocab { res.append(t) }
                    }
                }
            }
            k = next[s]
        }
        return res
    }

    // MARK: SentencePiece

    private struct SPMEntry {
        var score: Float
        var left: Int32
        var right: Int32
        var size: Int32
    }

    /// llama.cpp's llm_tokenizer_spm_session::tokenize on one raw-text fragment.
    func spmFragment(_ p: UnsafePointer<UInt8>, _ n: Int, spacePrefix: Bool, _ out: inout [Int32]) {
        // escape spaces as U+2581
        var text: [UInt8] = []
        text.reserveCapacity(n + n / 2 + 3)
        if spacePrefix { text.append(contentsOf: [0xE2, 0x96, 0x81]) }
        for k in 0..<n {
            if p[k] == 0x20 { text.append(contentsOf: [0xE2, 0x96, 0x81]) } else { text.append(p[k]) }
        }
        text.withUnsafeBufferPointer { tb in
            let t = tb.baseAddress!
            let m = tb.count
            var start: [Int32] = []; start.reserveCapacity(m)
            var lens: [Int32] = []; lens.reserveCapacity(m)
            var off = 0
            while off < m {
                let b = t[off]
                let l = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
                let len = min(l, m - off)
                start.append(Int32(off)); lens.append(Int32(len))
                off += len
            }
            let cnt = start.count
            var prev = [Int32](repeating: 0, count: cnt)
            var next = [Int32](repeating: 0, count: cnt)
            for k in 0..<cnt { prev[k] = Int32(k - 1); next[k] = k + 1 < cnt ? Int32(k + 1) : -1 }
            var heap: [SPMEntry] = []
            heap.reserveCapacity(cnt)
            @inline(__always) func before(_ a: SPMEntry, _ b: SPMEntry) -> Bool {
                a.score > b.score || (a.score == b.score && a.left < b.left)
            }
            func push(_ e: SPMEntry) {
                heap.append(e)
                var c = heap.count - 1
                while c > 0 {
                    let par = (c - 1) >> 1
                    if before(heap[c], heap[par]) { heap.swapAt(c, par); c = par } else { break }
                }
            }
            func pop() -> SPMEntry {
                let top = heap[0]
                let last = heap.removeLast()
                if !heap.isEmpty {
                    heap[0] = last
                    var c = 0
                    let mm = heap.count
                    while true {
                        let l = 2 * c + 1
                        if l >= mm { break }
                        var best = l
                        if l + 1 < mm && before(heap[l + 1], heap[l]) { best = l + 1 }
                        if before(heap[best], heap[c]) { heap.swapAt(best, c); c = best } else { break }
                    }
                }
                return top
            }
            func tryAdd(_ l: Int32, _ r: Int32) {
                if l < 0 || r < 0 { return }
                let size = Int(lens[Int(l)] + lens[Int(r)])
                let id = table.find(t + Int(start[Int(l)]), size)
                if id < 0 || Int(id) >= nVocab { return }
                push(SPMEntry(score: scores[Int(id)], left: l, right: r, size: Int32(size)))
            }
            for k in 1..<max(cnt, 1) { tryAdd(Int32(k - 1), Int32(k)) }
            while !heap.isEmpty {
                let e = pop()
                let l = Int(e.left), r = Int(e.right)
                if lens[l] == 0 || lens[r] == 0 || lens[l] + lens[r] != e.size { continue }
                lens[l] += lens[r]
                lens[r] = 0
                next[l] = next[r]
                if next[r] >= 0 { prev[Int(next[r])] = Int32(l) }
                tryAdd(prev[l], Int32(l))
                tryAdd(Int32(l), next[l])
            }
            var k: Int32 = cnt > 0 ? 0 : -1
            while k >= 0 {
                let s = Int(k)
                let a = Int(start[s]), len = Int(lens[s])
                let id = table.find(t + a, len)
                if id >= 0 && Int(id) < nVocab {
                    out.append(id)
                } else {
                    for q in a..<(a + len) { out.append(byteTokens[Int(t[q])]) }
                }
                k = next[s]
            }
        }
    }

    // MARK: - decode

    /// The bytes `ids` decode to. Control/unknown tokens are dropped when `skipSpecial` is set.
    /// For SentencePiece vocabularies with a space prefix, one leading space of the first token is removed.
    public func decodeBytes(_ ids: [Int], skipSpecial: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        let strip = isSPM && vocabulary.addSpacePrefix
        pieceStore.withUnsafeBufferPointer { ps in
            for (k, id) in ids.enumerated() {
                guard id >= 0 && id < nVocab else { continue }
                if skipSpecial && attrs[id] & (Tokenizer.attrControl | Tokenizer.attrUnknown) != 0 { continue }
                var a = Int(pieceOffsets[id])
                let b = Int(pieceOffsets[id + 1])
                if k == 0 && strip && a < b && ps[a] == 0x20 { a += 1 }
                bytes.append(contentsOf: ps[a..<b])
            }
        }
        return bytes
    }

    /// The text `ids` decode to (invalid UTF-8 is replaced by U+FFFD).
    public func decode(_ ids: [Int], skipSpecial: Bool = false) -> String {
        String(decoding: decodeBytes(ids, skipSpecial: skipSpecial), as: UTF8.self)
    }
}
