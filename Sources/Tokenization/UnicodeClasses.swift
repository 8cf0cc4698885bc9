/// Per-code-point character classes as llama.cpp's pre-tokenizers see them.
///
/// Each assigned code point has exactly one category bit (from its Unicode general category:
/// N → number, L → letter, Z → separator, M → mark, P → punctuation, S → symbol,
/// C* except Cn → control, Cn → undefined) plus the `whitespace` bit for the White_Space set.
/// A value of 0 means "outside the current segment" (the scanners' end-of-text sentinel).
///
/// Categories follow Unicode 15.1, the version of llama.cpp's generated tables: characters the
/// Swift runtime knows from later Unicode versions are classed as unassigned, as llama.cpp sees them.
enum CharClass {
    static let undefined: UInt16 = 0x0001
    static let number: UInt16 = 0x0002
    static let letter: UInt16 = 0x0004
    static let separator: UInt16 = 0x0008
    static let mark: UInt16 = 0x0010
    static let punctuation: UInt16 = 0x0020
    static let symbol: UInt16 = 0x0040
    static let control: UInt16 = 0x0080
    static let whitespace: UInt16 = 0x0100

    /// Classes of the Basic Multilingual Plane, computed once.
    private static let bmp: [UInt16] = {
        var t = [UInt16](repeating: 0, count: 0x10000)
        for c in 0..<0x10000 {
            t[c] = compute(UInt32(c))
        }
        return t
    }()

    /// The class bits of code point `c`.
    @inline(__always)
    static func of(_ c: UInt32) -> UInt16 {
        if c < 0x10000 { return bmp.withUnsafeBufferPointer { $0[Int(c)] } }
        return compute(c)
    }

    static func isWhitespace(_ c: UInt32) -> Bool {
        switch c {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    static func compute(_ c: UInt32) -> UInt16 {
        guard let s = Unicode.Scalar(c) else {
            // surrogate code points (never present in a Swift string): category Cs → control
            return control
        }
        // llama.cpp's tables are Unicode 15.1; code points assigned later are unassigned there.
        if let age = s.properties.age, age.major > 15 || (age.major == 15 && age.minor > 1) {
            return isWhitespace(c) ? undefined | whitespace : undefined
        }
        var f: UInt16
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            f = letter
        case .nonspacingMark, .spacingMark, .enclosingMark:
            f = mark
        case .decimalNumber, .letterNumber, .otherNumber:
            f = number
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            f = punctuation
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            f = symbol
        case .spaceSeparator, .lineSeparator, .paragraphSeparator:
            f = separator
        case .control, .format, .surrogate, .privateUse:
            f = control
        case .unassigned:
            f = undefined
        @unknown default:
            f = undefined
        }
        if isWhitespace(c) { f |= whitespace }
        return f
    }
}

/// GPT-2's reversible byte ↔ printable-character mapping used by byte-level BPE vocabularies.
///
/// Bytes that are printable Latin-1 (`!`..`~`, `¡`..`¬`, `®`..`ÿ`) map to themselves; the other
/// 68 bytes map, in increasing order, to U+0100, U+0101, ... so every byte has a visible stand-in.
enum ByteLevel {
    /// Code point standing for each byte.
    static let byteToScalar: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var n: UInt32 = 0
        for b in 0..<256 {
            if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
                table[b] = UInt32(b)
            } else {
                table[b] = 256 + n
                n += 1
            }
        }
        return table
    }()

    /// UTF-8 bytes of the stand-in character for each byte.
    static let byteToUTF8: [[UInt8]] = byteToScalar.map { Array(String(Unicode.Scalar($0)!).utf8) }

    /// Inverse map indexed by code point (0..<324); -1 where a code point stands for no byte.
    static let scalarToByte: [Int16] = {
        var t = [Int16](repeating: -1, count: 324)
        for (b, s) in byteToScalar.enumerated() { t[Int(s)] = Int16(b) }
        return t
    }()

    /// Decodes a byte-level token text (stand-in characters) back to raw bytes. Characters that
    /// stand for no byte are kept as their own UTF-8 bytes.
    static func decode(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for s in text.unicodeScalars {
            let v = s.value
            if v < 324, scalarToByte[Int(v)] >= 0 {
                out.append(UInt8(scalarToByte[Int(v)]))
            } else {
                out.append(contentsOf: String(s).utf8)
            }
        }
        return out
    }

    /// Like `decode`, on the UTF-8 bytes `st[a..<b]`, writing to `out` from index `w`; returns the new end.
    static func decodeUTF8(_ st: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int,
                           into out: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        var w = start
        scalarToByte.withUnsafeBufferPointer { map in
            var i = a
            while i < b {
                let b0 = st[i]
                let l = b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4
                if l <= 2 && i + l <= b {
                    let c = l == 1 ? Int(b0) : Int(b0 & 0x1F) << 6 | Int(st[i + 1] & 0x3F)
                    if c < 324 && map[c] >= 0 {
                        out[w] = UInt8(map[c]); w += 1; i += l; continue
                    }
                }
                let e = min(i + l, b)
                while i < e { out[w] = st[i]; w += 1; i += 1 }
            }
        }
        return w
    }
}
