/// Splits text (as Unicode scalars with their `CharClass` bits) into the "words" that byte-level
/// BPE merges independently, following llama.cpp's pre-tokenizers (`llm_tokenizer_bpe` +
/// `unicode_regex_split`): a pre-tokenizer is a sequence of stages; each stage re-splits every
/// segment produced by the previous one, and a segment boundary acts like end-of-text for the
/// next stage (no match crosses it). Text a stage does not match is kept as its own segment.
///
/// Every stage is a hand-written scanner — no regex engine is involved.
struct PreTokenizer: Sendable {
    enum Stage: Sendable {
        /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` (GPT-2).
        case gpt2
        /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,k}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
        /// with k = `maxDigits` (3 for Llama 3, 1 for Qwen 2).
        case llama3(maxDigits: Int)
        /// `\p{N}`: every number character becomes its own segment.
        case eachNumber
        /// `\p{N}+`: runs of number characters become segments.
        case numberRuns
        /// `[\p{P}\$\+<=>\^~\|]+`: runs of punctuation (and those ASCII symbols) become segments.
        case punctuationRuns
        /// `[0-9][0-9][0-9]`: leftmost non-overlapping triples of ASCII digits become segments.
        case asciiDigitTriples
    }

    /// The stages, applied in order.
    let stages: [Stage]
    /// The llama.cpp pre-tokenizer family this was resolved to (for diagnostics).
    let family: String

    /// Resolves a `tokenizer.ggml.pre` name the way llama.cpp does.
    ///
    /// Unknown names (llama.cpp refuses to load them) fall back to llama.cpp's "default"
    /// pre-tokenizer, as does a missing name; `isKnown` reports whether the name was recognized.
    static func resolve(_ name: String?) -> (pre: PreTokenizer, isKnown: Bool) {
        let n = name ?? ""
        switch n {
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
             "jina-v5-nano", "dbrx", "smaug-bpe", "glm4", "chatglm-bpe":
            return (PreTokenizer(stages: [.llama3(maxDigits: 3)], family: "llama3"), true)
        case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open",
             "grok-2":
            return (PreTokenizer(stages: [.llama3(maxDigits: 1)], family: "qwen2"), true)
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b", "mellum2":
            return (PreTokenizer(stages: [.eachNumber, .gpt2], family: "smollm"), true)
        case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
             "modern-bert", "mpt", "olmo", "jais", "trillion", "granite-docling", "exaone4", "jina-v1-en",
             "jina-v2-code", "roberta-bpe":
            return (PreTokenizer(stages: [.gpt2], family: "gpt2"), true)
        case "default", "":
            return (defaultPre, true)
        default:
            return (defaultPre, false)
        }
    }

    /// llama.cpp's fallback pre-tokenizer (`LLAMA_VOCAB_PRE_TYPE_DEFAULT`).
    static let defaultPre = PreTokenizer(
        stages: [.punctuationRuns, .gpt2, .numberRuns, .asciiDigitTriples], family: "default")

    /// Splits `cps` (with classes `cls`) into word lengths, in scalars.
    func split(_ cps: UnsafeBufferPointer<UInt32>, _ cls: UnsafeBufferPointer<UInt16>) -> [Int] {
        var segs: [Int] = cps.isEmpty ? [] : [cps.count]
        for stage in stages {
            var out: [Int] = []
            out.reserveCapacity(cps.count / 3 + 4)
            var start = 0
            for len in segs {
                let end = start + len
                switch stage {
                case .gpt2: PreTokenizer.gpt2(cps, cls, start, end, &out)
                case .llama3(let k): PreTokenizer.llama3(cps, cls, start, end, k, &out)
                case .eachNumber: PreTokenizer.eachNumber(cls, start, end, &out)
                case .numberRuns: PreTokenizer.runs(cps, cls, start, end, &out) { _, f in f & CharClass.number != 0 }
                case .punctuationRuns: PreTokenizer.runs(cps, cls, start, end, &out, PreTokenizer.isPunctuationClass)
                case .asciiDigitTriples: PreTokenizer.digitTriples(cps, start, end, &out)
                }
                start = end
            }
            segs = out
        }
        return segs
    }

    // MARK: - stages

    private static let apostrophe: UInt32 = 0x27
    private static let space: UInt32 = 0x20
    private static let cr: UInt32 = 0x0D
    private static let lf: UInt32 = 0x0A
    private static let wln: UInt16 = CharClass.whitespace | CharClass.letter | CharClass.number

    /// Matches `'s|'t|'re|'ve|'m|'ll|'d` at `pos` (case-insensitively if asked); returns its length or 0.
    @inline(__always)
    private static func contraction(_ cps: UnsafeBufferPointer<UInt32>, _ pos: Int, _ end: Int, caseless: Bool) -> Int {
        guard cps[pos] == apostrophe, pos + 1 < end else { return 0 }
        @inline(__always) func low(_ c: UInt32) -> UInt32 {
            caseless && c >= 0x41 && c <= 0x5A ? c + 0x20 : c
        }
        let a = low(cps[pos + 1])
        if a == 0x73 || a == 0x74 || a == 0x6D || a == 0x64 { return 2 }  // s t m d
        if pos + 2 < end {
            let b = low(cps[pos + 2])
            if (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C) { return 3 }  // re ve ll
        }
        return 0
    }

    static func gpt2(_ cps: UnsafeBufferPointer<UInt32>, _ cls: UnsafeBufferPointer<UInt16>,
                     _ start: Int, _ end: Int, _ out: inout [Int]) {
        @inline(__always) func F(_ i: Int) -> UInt16 { i < end ? cls[i] : 0 }
        var pos = start
        var prev = start
        @inline(__always) func emit(_ e: Int) {
            if e > prev { out.append(e - prev) }
            prev = e
        }
        while pos < end {
            let c = cps[pos]
            let f = cls[pos]
            let k = contraction(cps, pos, end, caseless: false)
            if k > 0 { pos += k; emit(pos); continue }
            let f2 = c == space ? F(pos + 1) : f
            if f2 & CharClass.letter != 0 {
                if c == space { pos += 1 }
                while F(pos) & CharClass.letter != 0 { pos += 1 }
                emit(pos); continue
            }
            if f2 & CharClass.number != 0 {
                if c == space { pos += 1 }
                while F(pos) & CharClass.number != 0 { pos += 1 }
                emit(pos); continue
            }
            if f2 & wln == 0 && f2 != 0 {
                if c == space { pos += 1 }
                while true {
                    let g = F(pos)
                    if g == 0 || g & wln != 0 { break }
                    pos += 1
                }
                emit(pos); continue
            }
            var nws = 0
            while F(pos + nws) & CharClass.whitespace != 0 { nws += 1 }
            if nws > 1 && pos + nws < end {
                pos += nws - 1; emit(pos); continue
            }
            if nws > 0 {
                pos += nws; emit(pos); continue
            }
            pos += 1
            emit(pos)
        }
    }

    static func llama3(_ cps: UnsafeBufferPointer<UInt32>, _ cls: UnsafeBufferPointer<UInt16>,
                       _ start: Int, _ end: Int, _ maxDigits: Int, _ out: inout [Int]) {
        @inline(__always) func F(_ i: Int) -> UInt16 { i < end ? cls[i] : 0 }
        @inline(__always) func C(_ i: Int) -> UInt32 { i < end ? cps[i] : 0xFFFF_FFFF }
        var pos = start
        var prev = start
        @inline(__always) func emit(_ e: Int) {
            if e > prev { out.append(e - prev) }
            prev = e
        }
        while pos < end {
            let c = cps[pos]
            let f = cls[pos]
            let k = contraction(cps, pos, end, caseless: true)
            if k > 0 { pos += k; emit(pos); continue }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if !(c == cr || c == lf || f & CharClass.number != 0) {
                if f & CharClass.letter != 0 || F(pos + 1) & CharClass.letter != 0 {
                    pos += 1
                    while F(pos) & CharClass.letter != 0 { pos += 1 }
                    emit(pos); continue
                }
            }
            // \p{N}{1,k}
            if f & CharClass.number != 0 {
                var ini = pos
                while F(pos) & CharClass.number != 0 {
                    pos += 1
                    if pos - ini >= maxDigits { emit(pos); ini = pos }
                }
                emit(pos); continue
            }
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
            let f2 = c == space ? F(pos + 1) : f
            if f2 & wln == 0 && f != 0 {
                if c == space { pos += 1 }
                while true {
                    let g = F(pos)
                    if g == 0 || g & wln != 0 { break }
                    pos += 1
                }
                while C(pos) == cr || C(pos) == lf { pos += 1 }
                emit(pos); continue
            }
            var nws = 0
            var lastNL = 0
            while F(pos + nws) & CharClass.whitespace != 0 {
                let c2 = cps[pos + nws]
                if c2 == cr || c2 == lf { lastNL = pos + nws + 1 }
                nws += 1
            }
            if lastNL > 0 { pos = lastNL; emit(pos); continue }           // \s*[\r\n]+
            if nws > 1 && pos + nws < end { pos += nws - 1; emit(pos); continue }  // \s+(?!\S)
            if nws > 0 { pos += nws; emit(pos); continue }                 // \s+
            pos += 1
            emit(pos)
        }
    }

    static func eachNumber(_ cls: UnsafeBufferPointer<UInt16>, _ start: Int, _ end: Int, _ out: inout [Int]) {
        var runStart = start
        var i = start
        while i < end {
            if cls[i] & CharClass.number != 0 {
                if i > runStart { out.append(i - runStart) }
                out.append(1)
                runStart = i + 1
            }
            i += 1
        }
        if end > runStart { out.append(end - runStart) }
    }

    /// ASCII members of `[\p{P}\$\+<=>\^~\|]` as llama.cpp's collapsed regex spells them.
    private static let asciiPunct: [Bool] = {
        var t = [Bool](repeating: false, count: 128)
        for r in [0x21...0x23, 0x25...0x2A, 0x2C...0x2F, 0x3A...0x3B, 0x3F...0x40, 0x5B...0x5D] {
            for c in r { t[c] = true }
        }
        for c in [0x5F, 0x7B, 0x7D, 0x24, 0x2B, 0x3C, 0x3D, 0x3E, 0x5E, 0x7E, 0x7C] { t[c] = true }
        return t
    }()

    static func isPunctuationClass(_ c: UInt32, _ f: UInt16) -> Bool {
        if c < 128 { return asciiPunct[Int(c)] }
        return f & CharClass.whitespace == 0 && f & CharClass.punctuation != 0
    }

    /// Maximal runs of matching characters become segments, as do the stretches between them.
    static func runs(_ cps: UnsafeBufferPointer<UInt32>, _ cls: UnsafeBufferPointer<UInt16>,
                     _ start: Int, _ end: Int, _ out: inout [Int], _ match: (UInt32, UInt16) -> Bool) {
        var i = start
        var gapStart = start
        while i < end {
            if match(cps[i], cls[i]) {
                if i > gapStart { out.append(i - gapStart) }
                let s = i
                while i < end && match(cps[i], cls[i]) { i += 1 }
                out.append(i - s)
                gapStart = i
            } else {
                i += 1
            }
        }
        if end > gapStart { out.append(end - gapStart) }
    }

    static func digitTriples(_ cps: UnsafeBufferPointer<UInt32>, _ start: Int, _ end: Int, _ out: inout [Int]) {
        @inline(__always) func d(_ i: Int) -> Bool { cps[i] >= 0x30 && cps[i] <= 0x39 }
        var i = start
        var gapStart = start
        while i + 3 <= end {
            if d(i) && d(i + 1) && d(i + 2) {
                if i > gapStart { out.append(i - gapStart) }
                out.append(3)
                i += 3
                gapStart = i
            } else {
                i += 1
            }
        }
        if end > gapStart { out.append(end - gapStart) }
    }
}
