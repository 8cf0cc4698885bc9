import Foundation
import Tokenization
import XCTest

/// Exact agreement with llama.cpp on 270 extra texts per model (hand-written multilingual, code,
/// numbers, whitespace and special-token texts, plus random strings over all of Unicode).
final class LlamaCppFixtureTests: XCTestCase {
    struct ModelCases: Decodable {
        let plain: [Case]
        let special: [Case]
    }
    static let fixture = decodeFixture([String: ModelCases].self, llamaCppFixtureJSON)

    func check(_ tok: Tokenizer, _ cases: ModelCases, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertGreaterThan(cases.plain.count, 200, file: file, line: line)
        var failures = 0
        for c in cases.plain {
            let got = tok.encode(c.text, addBOS: false)
            if got != c.ids {
                failures += 1
                XCTFail("plain \(c.text.debugDescription): \(firstDifference(got, c.ids))", file: file, line: line)
            }
        }
        for c in cases.special {
            let got = tok.encode(c.text, addBOS: false, parseSpecial: true)
            if got != c.ids {
                failures += 1
                XCTFail("special \(c.text.debugDescription): \(firstDifference(got, c.ids))", file: file, line: line)
            }
        }
        XCTAssertEqual(failures, 0, file: file, line: line)
    }

    func testSmolLM2() throws {
        check(try Models.smollm(), Self.fixture["smollm2"]!)
    }

    func testGemma3() throws {
        check(try Models.gemma(), Self.fixture["gemma3"]!)
    }
}
