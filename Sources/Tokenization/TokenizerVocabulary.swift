import GGUF

/// An error building a tokenizer from GGUF metadata or a vocabulary.
public struct TokenizerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, naming the offending key, token or value.
    public let message: String

    /// An error with the given explanation.
    public init(_ message: String) { self.message = message }

    /// "Tokenizer error: " followed by the message.
    public var description: String { "Tokenizer error: \(message)" }
}

/// llama.cpp's token types (`tokenizer.ggml.token_type`). Control and unknown tokens are only
/// recognized in text when encoding with `parseSpecial`; user-defined tokens always are; byte
/// tokens (`<0xXX>`) decode to one raw byte.
public enum TokenType: Int, Sendable {
    case undefined = 0
    case normal = 1
    case unknown = 2
    case control = 3
    case userDefined = 4
    case unused = 5
    case byte = 6
}

/// Everything a tokenizer needs, as read from a GGUF file's `tokenizer.ggml.*` metadata.
///
/// Defaults for missing keys follow llama.cpp's `llama_vocab::load`: SentencePiece ("llama")
/// vocabularies default to BOS 1, EOS 2, UNK 0, adding BOS and a space prefix; byte-level BPE
/// ("gpt2") vocabularies default to BOS = EOS = 11 and add BOS only for the Llama 3 family.
public struct TokenizerVocabulary: Sendable {
    /// `tokenizer.ggml.model`: "gpt2" (byte-level BPE) or "llama" (SentencePiece).
    public var model: String
    /// `tokenizer.ggml.pre`: the pre-tokenizer name for BPE vocabularies.
    public var pre: String?
    /// Token texts by id (byte-level stand-in characters for "gpt2", "▁" for spaces for "llama").
    public var tokens: [String]
    /// `tokenizer.ggml.scores`: SentencePiece merge priorities (higher merges first).
    public var scores: [Float]?
    /// `tokenizer.ggml.token_type` values (see `TokenType`).
    public var tokenTypes: [Int]?
    /// `tokenizer.ggml.merges`: BPE merge rules "left right", highest priority first.
    public var merges: [String]?
    /// Beginning-of-sequence token id (`tokenizer.ggml.bos_token_id`).
    public var bosID: Int?
    /// End-of-sequence token id (`tokenizer.ggml.eos_token_id`).
    public var eosID: Int?
    /// Unknown-token id (`tokenizer.ggml.unknown_token_id`).
    public var unknownID: Int?
    /// Padding token id (`tokenizer.ggml.padding_token_id`).
    public var paddingID: Int?
    /// `tokenizer.ggml.eot_token_id` (end of turn), if given.
    public var eotID: Int?
    /// `tokenizer.ggml.eom_token_id` (end of message), if given.
    public var eomID: Int?
    /// Whether encoding adds BOS by default.
    public var addBOS: Bool
    /// Whether encoding adds EOS by default.
    public var addEOS: Bool
    /// Whether SentencePiece encoding prepends a space to text at the start and after special tokens.
    public var addSpacePrefix: Bool
    /// End-of-generation ids: EOS, EOT, EOM, FIM pad/repo/sep ids, and tokens whose text names an
    /// end of turn (`<|im_end|>`, `<end_of_turn>`, `<|eot_id|>`, `<|endoftext|>`, ...), as llama.cpp infers them.
    public var eogIDs: Set<Int>

    /// Builds a vocabulary from parts; nil flags take llama.cpp's defaults for `model`/`pre`,
    /// and `eogIDs` is inferred from the ids and token texts (plus `extraEOGIDs`).
    public init(model: String, pre: String? = nil, tokens: [String], scores: [Float]? = nil, tokenTypes: [Int]? = nil,
                merges: [String]? = nil, bosID: Int? = nil, eosID: Int? = nil, unknownID: Int? = nil,
                paddingID: Int? = nil, eotID: Int? = nil, eomID: Int? = nil, addBOS: Bool? = nil,
                addEOS: Bool? = nil, addSpacePrefix: Bool? = nil, extraEOGIDs: [Int] = []) {
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.scores = scores
        self.tokenTypes = tokenTypes
        self.merges = merges
        let isSPM = model == "llama"
        self.bosID = bosID
        self.eosID = eosID
        self.unknownID = unknownID
        self.paddingID = paddingID
        self.eotID = eotID
        self.eomID = eomID
        let llama3Family: Set<String> = ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral",
                                         "midm-2.0", "lfm2", "jina-v5-nano", "tekken", "chameleon"]
        self.addBOS = addBOS ?? (isSPM || llama3Family.contains(pre ?? ""))
        self.addEOS = addEOS ?? false
        self.addSpacePrefix = addSpacePrefix ?? isSPM
        self.eogIDs = TokenizerVocabulary.inferEOG(tokens: tokens, eos: eosID, eot: eotID, eom: eomID, extra: extraEOGIDs)
    }

    /// Token texts llama.cpp treats as ending generation.
    static let eogTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
        "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
        "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<｜end▁of▁sentence｜>", "[e~[",
    ]

    /// Ids of tokens whose text is byte-for-byte one of `texts` (a cheap first-byte filter keeps
    /// this fast on 262k-token vocabularies; Swift `String` equality is not used because it is
    /// canonical-equivalence based and slow on non-ASCII text).
    static func ids(of texts: Set<String>, in tokens: [String]) -> [Int] {
        let wanted = texts.map { Array($0.utf8) }
        var firsts = [Bool](repeating: false, count: 256)
        var maxLen = 0
        for w in wanted { if let f = w.first { firsts[Int(f)] = true }; maxLen = max(maxLen, w.count) }
        var out: [Int] = []
        for (i, t) in tokens.enumerated() {
            let u = t.utf8
            guard let f = u.first, firsts[Int(f)], u.count <= maxLen else { continue }
            for w in wanted where w.count == u.count && u.elementsEqual(w) {
                out.append(i)
                break
            }
        }
        return out
    }

    static func inferEOG(tokens: [String], eos: Int?, eot: Int?, eom: Int?, extra: [Int]) -> Set<Int> {
        var s = Set<Int>()
        let n = tokens.count
        for id in extra where id >= 0 && id < n { s.insert(id) }
        for i in ids(of: eogTexts, in: tokens) { s.insert(i) }
        for id in [eos, eot, eom] { if let id, id >= 0, id < n { s.insert(id) } }
        // llama.cpp: with <|return|> and <|call|> (or <|calls|> and <|flush|>), "<|end|>" is not EOG.
        let texts = Set(s.map { tokens[$0] })
        if (texts.contains("<|return|>") && texts.contains("<|call|>") && texts.contains("<|end|>"))
            || ((texts.contains("<|call|>") || texts.contains("<|calls|>")) && texts.contains("<|flush|>")
                && texts.contains("<|end|>")) {
            s = s.filter { tokens[$0] != "<|end|>" }
        }
        // llama.cpp: with <|tool_response> or <|plamo:eos|>, "</s>" is a normal token, not EOG.
        if texts.contains("<|tool_response>") || texts.contains("<|plamo:eos|>") {
            s = s.filter { tokens[$0] != "</s>" }
        }
        return s
    }

    /// Reads the `tokenizer.ggml.*` keys of `gguf`.
    ///
    /// - Throws: `TokenizerError` when the model type, token list or an array has the wrong shape.
    public init(gguf: GGUFFile) throws {
        let md = gguf.metadata
        guard let model = md["tokenizer.ggml.model"]?.string else {
            throw TokenizerError("GGUF metadata has no string key 'tokenizer.ggml.model'")
        }
        guard model == "gpt2" || model == "llama" else {
            throw TokenizerError("unsupported tokenizer model '\(model)' (supported: 'gpt2' byte-level BPE, 'llama' SentencePiece)")
        }
        guard let tokens = md["tokenizer.ggml.tokens"]?.stringArray else {
            throw TokenizerError("GGUF metadata has no string array 'tokenizer.ggml.tokens'")
        }
        let n = tokens.count
        var scores: [Float]? = nil
        if let v = md["tokenizer.ggml.scores"] {
            guard let a = v.floatArray, a.count >= n else {
                throw TokenizerError("'tokenizer.ggml.scores' is not a numeric array with at least \(n) entries")
            }
            scores = Array(a.prefix(n))
        }
        var types: [Int]? = nil
        if let v = md["tokenizer.ggml.token_type"] {
            guard let a = v.intArray, a.count >= n else {
                throw TokenizerError("'tokenizer.ggml.token_type' is not an integer array with at least \(n) entries")
            }
            types = Array(a.prefix(n))
        }
        var merges: [String]? = nil
        if let v = md["tokenizer.ggml.merges"] {
            guard let a = v.stringArray else { throw TokenizerError("'tokenizer.ggml.merges' is not a string array") }
            merges = a
        } else if model == "gpt2" {
            throw TokenizerError("byte-level BPE vocabulary has no 'tokenizer.ggml.merges'")
        }
        let isSPM = model == "llama"
        // llama.cpp's per-model defaults, then the keys; out-of-range ids are ignored.
        func id(_ key: String, _ def: Int?) -> Int? {
            guard let v = md[key]?.int else { return def.flatMap { $0 < n ? $0 : nil } }
            return v >= 0 && v < n ? v : def.flatMap { $0 < n ? $0 : nil }
        }
        let pre = md["tokenizer.ggml.pre"]?.string
        let extra = ["tokenizer.ggml.fim_pad_token_id", "tokenizer.ggml.fim_rep_token_id",
                     "tokenizer.ggml.fim_sep_token_id"].compactMap { md[$0]?.int }
        self.init(model: model, pre: pre, tokens: tokens, scores: scores, tokenTypes: types, merges: merges,
                  bosID: id("tokenizer.ggml.bos_token_id", isSPM ? 1 : 11),
                  eosID: id("tokenizer.ggml.eos_token_id", isSPM ? 2 : 11),
                  unknownID: id("tokenizer.ggml.unknown_token_id", isSPM ? 0 : nil),
                  paddingID: id("tokenizer.ggml.padding_token_id", nil),
                  eotID: id("tokenizer.ggml.eot_token_id", nil),
                  eomID: id("tokenizer.ggml.eom_token_id", nil),
                  addBOS: md["tokenizer.ggml.add_bos_token"]?.bool,
                  addEOS: md["tokenizer.ggml.add_eos_token"]?.bool,
                  addSpacePrefix: md["tokenizer.ggml.add_space_prefix"]?.bool,
                  extraEOGIDs: extra)
    }
}
