import Foundation
import Tokenization
import XCTest

/// decode(encode(x)) == x on varied hand-written text and on random strings.
final class RoundTripTests: XCTestCase {
    static let samples: [String] = [
        "", " ", "  ", "\n", "\n\n\n", "\t", " \t \n ", "\r\n", "a", "A", "'", "''", "'s", "'S",
        "Hello, world!", "The quick brown fox jumps over the lazy dog.",
        "It's, you're, they'll, I'd, we've, I'M, YOU'RE, ShE'lL",
        "   leading spaces", "trailing spaces   ", "many          spaces   between", "tab\tseparated\tvalues\t",
        "mixed \t\n whitespace \r\n runs \n\n\n\n end",
        "Numbers: 0 1 12 123 1234 12345 123456 3.14159 -42 1e10 0x1F 1,000,000 $9.99 50%",
        "Dates 2024-01-15T10:30:00Z and phone +1 (555) 123-4567",
        "café naïve résumé coöperate Zürich São Paulo façade",
        "Ελληνικά κείμενο με τόνους", "Русский текст: Съешь же ещё этих мягких французских булок",
        "日本語のテキストです。漢字とひらがなとカタカナ。", "中文文本，包括标点符号！", "한국어 텍스트입니다",
        "العربية: مرحبا بالعالم ١٢٣", "עברית: שלום עולם", "हिन्दी पाठ: नमस्ते दुनिया", "ภาษาไทย สวัสดีชาวโลก",
        "Emoji: 😀🦙👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️ ✨🎉", "flags 🇺🇸🇫🇷🇯🇵",
        "combining: e\u{301} a\u{308} n\u{303} Z\u{335}\u{31B}\u{320}\u{349}", "zero\u{200B}width\u{200C}joiners\u{200D}",
        "nbsp\u{00A0}thin\u{2009}ideographic\u{3000}em\u{2003}space", "line\u{2028}separator\u{2029}para",
        "private \u{E000}\u{F8FF} use, replacement \u{FFFD}, bom \u{FEFF}", "control \u{01}\u{07}\u{1B}[0m\u{7F}",
        "math ∑∫√∞≠≤≥ ∀x∈ℝ: x²≥0, ½ + ¼ = ¾, Ⅻ", "currency € £ ¥ ₹ ₿ ¢", "quotes “double” ‘single’ «guillemets» „low“",
        "dashes - – — ‒ ―, ellipsis … and bullets • ‣",
        "func main() {\n\tfmt.Println(\"Hello, 世界\")\n}\n",
        "def f(x):\n    return x ** 2  # square\n\nprint(f(3))\n",
        "let xs = [1, 2, 3].map { $0 * 2 } // Swift\n",
        "<html><body><div class=\"a\">Text &amp; more</div></body></html>",
        "SELECT * FROM users WHERE id = 42 AND name LIKE '%bob%';",
        "{\"key\": [1, 2.5, null, true], \"nested\": {\"a\": \"b\"}}",
        "https://example.com/path?query=1&other=two#frag", "user@example.com",
        "<|im_start|>user\nhi<|im_end|>", "<start_of_turn>user\nhi<end_of_turn>", "<bos><eos><pad><unk>",
        "<|endoftext|> <repo_name> <b>bold</b> <table><tr><td>1</td></tr></table>",
        "\u{1F600}\u{1F600}\u{1F600}", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙", "𓀀𓀁 ancient", "a\u{0}b",
        String(repeating: "a", count: 500), String(repeating: "ab ", count: 200), String(repeating: "\n", count: 40),
        String(repeating: " ", count: 70), String(repeating: "\t", count: 40), String(repeating: "9", count: 100),
        String(repeating: "🦙", count: 30),
    ]

    func roundTrip(_ tok: Tokenizer, _ s: String, file: StaticString = #filePath, line: UInt = #line) {
        let ids = tok.encode(s, addBOS: false)
        XCTAssertEqual(tok.decode(ids), s, "plain round trip of \(s.debugDescription)", file: file, line: line)
        for id in ids { XCTAssert(id >= 0 && id < tok.vocabularySize, file: file, line: line) }
        let sp = tok.encode(s, addBOS: false, parseSpecial: true)
        XCTAssertEqual(tok.decode(sp), s, "special round trip of \(s.debugDescription)", file: file, line: line)
        XCTAssertEqual(tok.decodeBytes(ids), Array(s.utf8), file: file, line: line)
    }

    func testSamplesSmolLM() throws {
        let tok = try Models.smollm()
        for s in Self.samples { roundTrip(tok, s) }
    }

    func testSamplesGemma() throws {
        let tok = try Models.gemma()
        for s in Self.samples { roundTrip(tok, s) }
    }

    /// Random strings over all of Unicode (weighted towards ASCII and common scripts).
    static func randomStrings(count: Int, seed: UInt64, excluding skip: (UInt32) -> Bool = { _ in false }) -> [String] {
        var rng = SplitMix64(seed: seed)
        let ranges: [ClosedRange<UInt32>] = [
            0x20...0x7E, 0x09...0x0D, 0x00...0x1F, 0x80...0x24F, 0x300...0x36F, 0x370...0x52F, 0x590...0x6FF,
            0x900...0x97F, 0xE00...0xE7F, 0x2000...0x206F, 0x20A0...0x22FF, 0x3000...0x30FF, 0x4E00...0x9FFF,
            0xAC00...0xD7A3, 0xE000...0xF8FF, 0xFE00...0xFFFD, 0x1F300...0x1FAFF, 0x10000...0x10FFFF,
        ]
        var out: [String] = []
        for _ in 0..<count {
            let n = Int(rng.next() % 48)
            var s = String.UnicodeScalarView()
            for _ in 0..<n {
                let pick = Int(rng.next() % 100)
                let r = pick < 45 ? ranges[0] : ranges[Int(rng.next() % UInt64(ranges.count))]
                let v = r.lowerBound + UInt32(rng.next() % UInt64(r.upperBound - r.lowerBound + 1))
                if let sc = Unicode.Scalar(v), !skip(v) { s.append(sc) }
            }
            out.append(String(s))
        }
        return out
    }

    func testRandomStringsSmolLM() throws {
        let tok = try Models.smollm()
        for s in Self.randomStrings(count: 1500, seed: 7, excluding: Self.smolLMUnrepresentable) { roundTrip(tok, s) }
    }

    /// SmolLM2's byte-level vocabulary has no token for bytes 0x04 0x06 0x13 0x14 0x16 0x1D (nor for
    /// the UTF-8 lead bytes 0xF1/0xF2 of U+40000..U+BFFFF); like llama.cpp we drop such bytes.
    static func smolLMUnrepresentable(_ v: UInt32) -> Bool {
        [0x04, 0x06, 0x13, 0x14, 0x16, 0x1D].contains(v) || (0x40000..<0xC0000).contains(v)
    }

    func testSmolLMDropsBytesWithoutTokens() throws {
        let tok = try Models.smollm()
        XCTAssertEqual(tok.encode("\u{04}"), [])
        XCTAssertEqual(tok.decode(tok.encode("a\u{1D}b")), "ab")
        XCTAssertEqual(tok.decodeBytes(tok.encode("x\u{50000}y")), [0x78, 0x90, 0x80, 0x80, 0x79])
    }

    func testRandomStringsGemma() throws {
        let tok = try Models.gemma()
        for s in Self.randomStrings(count: 1500, seed: 11) { roundTrip(tok, s) }
    }

    func testAddBOSDefaults() throws {
        let g = try Models.gemma()
        XCTAssertTrue(g.addsBOS)
        XCTAssertEqual(g.encode("Hi").first, g.bosID)
        XCTAssertEqual(g.encode("Hi", addBOS: false).first, g.encode("Hi").dropFirst().first)
        XCTAssertEqual(g.encode("").count, 1)
        XCTAssertEqual(g.decode(g.encode("Hi"), skipSpecial: true), "Hi")
        XCTAssertEqual(g.decode(g.encode("Hi")), "<bos>Hi")
        let s = try Models.smollm()
        XCTAssertFalse(s.addsBOS)
        XCTAssertEqual(s.encode("Hi"), s.encode("Hi", addBOS: false))
        XCTAssertEqual(s.encode("Hi", addBOS: true).first, 1)
        XCTAssertEqual(s.encode("", addBOS: false), [])
    }
}

/// A small deterministic PRNG for reproducible property tests.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One tokenizer shared by several threads gives the same ids as sequential use.
final class ConcurrencyTests: XCTestCase {
    func testConcurrentEncode() throws {
        let tok = try Models.smollm()
        let texts = RoundTripTests.randomStrings(count: 400, seed: 99, excluding: RoundTripTests.smolLMUnrepresentable)
            + RoundTripTests.samples
        let fresh = try Tokenizer(vocabulary: tok.vocabulary)   // empty word cache, filled concurrently
        let expected = texts.map { tok.encode($0) }
        let lock = NSLock()
        nonisolated(unsafe) var results = [[Int]](repeating: [], count: texts.count)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for (i, t) in texts.enumerated() where i % 8 == worker || i % 3 == 0 {
                let ids = fresh.encode(t)
                lock.lock(); results[i] = ids; lock.unlock()
            }
        }
        XCTAssertEqual(results, expected)
    }
}
