import Foundation
import Tokenization
import XCTest

final class StreamingDecoderTests: XCTestCase {
    static let texts = [
        "Hello, world! 😀🦙 café 日本語 — “quotes”",
        "👨‍👩‍👧‍👦 family, 🇯🇵 flag, Z\u{335}\u{31B} zalgo, ภาษาไทย, 한국어",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and \u{10FFFD} private plane-16",
    ]

    func stream(_ tok: Tokenizer, _ text: String) {
        let ids = tok.encode(text, addBOS: false)
        var dec = StreamingDecoder(tokenizer: tok)
        var pieces: [String] = []
        for id in ids {
            let s = dec.feed(id)
            XCTAssertFalse(s.unicodeScalars.contains("\u{FFFD}"), "partial character emitted for \(text.debugDescription)")
            pieces.append(s)
        }
        pieces.append(dec.flush())
        XCTAssertEqual(pieces.joined(), text)
        XCTAssertEqual(dec.pendingByteCount, 0)
    }

    func testSmolLM() throws {
        let tok = try Models.smollm()
        for t in Self.texts { stream(tok, t) }
    }

    func testGemma() throws {
        let tok = try Models.gemma()
        for t in Self.texts { stream(tok, t) }
        // byte-fallback tokens really do split characters here, so some feeds must return ""
        let ids = tok.encode("\u{10FFFD}", addBOS: false)
        XCTAssertEqual(ids.count, 4)
        var dec = StreamingDecoder(tokenizer: tok)
        XCTAssertEqual(ids.map { dec.feed($0) }, ["", "", "", "\u{10FFFD}"])
    }

    func testRawBytesAndInvalidSequences() {
        let tok = try? Models.smollm()
        guard let tok else { return }
        var dec = StreamingDecoder(tokenizer: tok)
        XCTAssertEqual(dec.feed(bytes: [0xE6]), "")
        XCTAssertEqual(dec.feed(bytes: [0x97]), "")
        XCTAssertEqual(dec.feed(bytes: [0xA5, 0x41]), "日A")
        // a lone continuation byte can never complete: emitted as U+FFFD right away
        XCTAssertEqual(dec.feed(bytes: [0x80]), "\u{FFFD}")
        // an incomplete sequence at the end is flushed as U+FFFD
        XCTAssertEqual(dec.feed(bytes: [0xF0, 0x9F]), "")
        XCTAssertEqual(dec.flush(), "\u{FFFD}")
    }

    func testSkipSpecial() throws {
        let tok = try Models.smollm()
        let ids = tok.encode("<|im_start|>hi<|im_end|>", parseSpecial: true)
        var dec = StreamingDecoder(tokenizer: tok, skipSpecial: true)
        XCTAssertEqual(ids.map { dec.feed($0) }.joined(), "hi")
        var dec2 = StreamingDecoder(tokenizer: tok)
        XCTAssertEqual(ids.map { dec2.feed($0) }.joined(), "<|im_start|>hi<|im_end|>")
        XCTAssertTrue(tok.isEndOfGeneration(ids.last!))
    }
}
