import Foundation
import Tokenization
import XCTest

/// The Llama 3, Qwen 2, GPT-2 and "default" pre-tokenizers, end to end against llama.cpp: SmolLM2's
/// tokens and merges with `tokenizer.ggml.pre` replaced (llama-bpe also switches on ignore_merges).
final class PreTokenizerFixtureTests: XCTestCase {
    static let fixture = decodeFixture([String: [Case]].self, preTokenizerFixtureJSON)

    func testOtherPreTokenizers() throws {
        let base = try Models.smollm().vocabulary
        XCTAssertEqual(Set(Self.fixture.keys), ["llama-bpe", "qwen2", "gpt-2", "default"])
        for (pre, cases) in Self.fixture {
            let v = TokenizerVocabulary(model: base.model, pre: pre, tokens: base.tokens, scores: base.scores,
                                        tokenTypes: base.tokenTypes, merges: base.merges, bosID: base.bosID,
                                        eosID: base.eosID, unknownID: base.unknownID, paddingID: base.paddingID,
                                        addBOS: false, addEOS: false, addSpacePrefix: false)
            let tok = try Tokenizer(vocabulary: v)
            XCTAssertTrue(tok.preTokenizerWasRecognized)
            XCTAssertGreaterThan(cases.count, 100)
            for c in cases {
                let got = tok.encode(c.text)
                XCTAssertEqual(got, c.ids, "\(pre) \(c.text.debugDescription): \(firstDifference(got, c.ids))")
            }
        }
    }
}
