/// Turns a stream of token ids into text incrementally, emitting only complete UTF-8 characters.
///
/// Byte-level and byte-fallback tokens can split one character across several tokens; the decoder
/// holds back an incomplete trailing sequence (at most 3 bytes) until the bytes that complete it
/// arrive. Bytes that can never form a character are emitted as U+FFFD.
///
/// ```swift
/// var stream = StreamingDecoder(tokenizer: tok)
/// for id in generated { print(stream.feed(id), terminator: "") }
/// print(stream.flush())
/// ```
public struct StreamingDecoder: Sendable {
    /// The tokenizer whose pieces are decoded.
    public let tokenizer: Tokenizer
    /// Whether control/unknown tokens are dropped instead of rendered as their text.
    public let skipSpecial: Bool
    private var pending: [UInt8] = []

    /// A decoder for ids of `tokenizer`; with `skipSpecial`, control tokens produce no text.
    public init(tokenizer: Tokenizer, skipSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecial = skipSpecial
    }

    /// Adds one token; returns the text completed by it (possibly empty).
    public mutating func feed(_ id: Int) -> String {
        if skipSpecial && tokenizer.isControl(id) { return "" }
        pending.append(contentsOf: tokenizer.tokenBytes(id))
        return emitComplete()
    }

    /// Adds raw bytes; returns the text completed by them.
    public mutating func feed(bytes: [UInt8]) -> String {
        pending.append(contentsOf: bytes)
        return emitComplete()
    }

    /// Returns whatever is held back (an incomplete sequence decodes to U+FFFD) and resets.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Bytes held back waiting for the rest of a character.
    public var pendingByteCount: Int { pending.count }

    private mutating func emitComplete() -> String {
        let cut = StreamingDecoder.completePrefixLength(pending)
        if cut == 0 { return "" }
        let s = String(decoding: pending[0..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return s
    }

    /// Length of the longest prefix of `b` that does not end inside a possibly-valid UTF-8 sequence.
    static func completePrefixLength(_ b: [UInt8]) -> Int {
        let n = b.count
        var j = n - 1
        var steps = 0
        // find the last non-continuation byte among the final 4
        while j >= 0 && steps < 4 && b[j] & 0xC0 == 0x80 { j -= 1; steps += 1 }
        if j < 0 || steps >= 4 { return n }
        let lead = b[j]
        let need: Int
        switch lead {
        case 0xC2...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF4: need = 4
        default: return n
        }
        let have = n - j
        return have < need ? j : n
    }
}
