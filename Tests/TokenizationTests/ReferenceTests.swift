import Foundation
import Tokenization
import XCTest

/// Exact agreement with llama.cpp on the shared reference texts.
final class ReferenceTests: XCTestCase {
    struct ModelCases: Decodable {
        let plain: [Case]
        let special: [Case]
        let prompt512: Case?
    }
    static let fixture = decodeFixture([String: ModelCases].self, referenceFixtureJSON)

    func check(_ tok: Tokenizer, _ cases: ModelCases, file: StaticString = #filePath, line: UInt = #line) {
        for c in cases.plain {
            let got = tok.encode(c.text, addBOS: false)
            XCTAssertEqual(got, c.ids, "plain \(c.text.debugDescription): \(firstDifference(got, c.ids))", file: file, line: line)
            XCTAssertEqual(tok.decode(got), c.text, file: file, line: line)
        }
        for c in cases.special {
            let got = tok.encode(c.text, parseSpecial: true)
            XCTAssertEqual(got, c.ids, "special \(c.text.debugDescription): \(firstDifference(got, c.ids))", file: file, line: line)
        }
    }

    func testSmolLM2References() throws {
        let tok = try Models.smollm()
        XCTAssertEqual(tok.preTokenizerFamily, "smollm")
        check(tok, Self.fixture["smollm2"]!)
    }

    func testGemma3References() throws {
        let tok = try Models.gemma()
        check(tok, Self.fixture["gemma3"]!)
    }

    func testSmolLM2Prompt512() throws {
        let tok = try Models.smollm()
        let p = Self.fixture["smollm2"]!.prompt512!
        let got = tok.encode(p.text, addBOS: false)
        XCTAssertGreaterThanOrEqual(got.count, p.ids.count)
        let head = Array(got.prefix(p.ids.count))
        XCTAssertEqual(head, p.ids, firstDifference(head, p.ids))
        XCTAssertEqual(tok.decode(got), p.text)
    }
}
