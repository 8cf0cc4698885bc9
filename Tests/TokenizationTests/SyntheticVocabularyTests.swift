import Foundation
import Tokenization
import XCTest

/// Behaviour on small hand-made vocabularies, independent of any model file.
final class SyntheticVocabularyTests: XCTestCase {
    /// GPT-2 stand-in character for each byte (as defined by GPT-2's bytes_to_unicode).
    static let byteChars: [String] = {
        var out = [String](repeating: "", count: 256)
        var n = 0
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            out[b] = String(Unicode.Scalar(UInt32(printable ? b : 256 + n))!)
            if !printable { n += 1 }
        }
        return out
    }()

    /// A byte-level BPE vocabulary: all 256 byte characters, then `extra` tokens.
    func bpe(_ extra: [String], merges: [String], pre: String = "gpt-2", types: [Int]? = nil) throws -> Tokenizer {
        let tokens = Self.byteChars + extra
        let tt = types.map { [Int](repeating: 1, count: 256) + $0 }
        return try Tokenizer(vocabulary: TokenizerVocabulary(model: "gpt2", pre: pre, tokens: tokens, tokenTypes: tt,
                                                              merges: merges))
    }

    func testBPEMergesLowestRankFirst() throws {
        // "abc": with "b c" ranked above "a b", the result is a + bc, then "a bc" → abc.
        let t = try bpe(["ab", "bc", "abc"], merges: ["b c", "a b", "a bc"])
        XCTAssertEqual(t.encode("abc"), [258])
        // without the final rule we stop at a + bc
        let t2 = try bpe(["ab", "bc"], merges: ["b c", "a b"])
        XCTAssertEqual(t2.encode("abc").map { t2.tokenText($0) }, ["a", "bc"])
        // reversed priorities: ab + c
        let t3 = try bpe(["ab", "bc"], merges: ["a b", "b c"])
        XCTAssertEqual(t3.encode("abc").map { t3.tokenText($0) }, ["ab", "c"])
    }

    func testBPELeftmostWinsTies() throws {
        let t = try bpe(["aa"], merges: ["a a"])
        XCTAssertEqual(t.encode("aaa").map { t.tokenText($0) }, ["aa", "a"])
        XCTAssertEqual(t.encode("aaaa").map { t.tokenText($0) }, ["aa", "aa"])
    }

    func testBPEWordsMergeIndependentlyAndUseByteCharacters() throws {
        // "Ġ" stands for the space byte; merges never cross pre-tokenizer words
        let t = try bpe(["Ġa", "ab"], merges: ["Ġ a", "a b"])
        XCTAssertEqual(t.encode(" ab").map { t.tokenText($0) }, ["Ġa", "b"])
        XCTAssertEqual(t.encode("ab ab").map { t.tokenText($0) }, ["ab", "Ġa", "b"])
        XCTAssertEqual(t.decode(t.encode("ab ab")), "ab ab")
        // a multi-byte character is several byte tokens
        XCTAssertEqual(t.encode("é").count, 2)
        XCTAssertEqual(t.decodeBytes(t.encode("é")), [0xC3, 0xA9])
    }

    func testSpecialTokensControlOnlyWithParseSpecial() throws {
        // 258 = <ctl> (control), 259 = <usr> (user-defined)
        let t = try bpe(["xy", "<ctl>", "<usr>"], merges: ["x y"], types: [1, 3, 4])
        XCTAssertEqual(t.encode("xy<ctl>xy", parseSpecial: true), [256, 257, 256].map { $0 })
        let plain = t.encode("xy<ctl>xy")
        XCTAssertFalse(plain.contains(257))
        XCTAssertEqual(t.decode(plain), "xy<ctl>xy")
        // user-defined tokens are cut out even without parseSpecial
        XCTAssertEqual(t.encode("xy<usr>xy"), [256, 258, 256])
        XCTAssertEqual(t.decode([257, 256], skipSpecial: true), "xy")
        XCTAssertEqual(t.decode([258, 256], skipSpecial: true), "<usr>xy")
    }

    func testLongerSpecialTokenWins() throws {
        let t = try bpe(["<a>", "<a><b>"], merges: [], types: [3, 3])
        XCTAssertEqual(t.encode("<a><b><a>", parseSpecial: true), [257, 256])
    }

    func testEndOfGenerationInference() throws {
        let tokens = Self.byteChars + ["<|im_end|>", "<|endoftext|>", "<end_of_turn>", "<eos>", "plain"]
        let v = TokenizerVocabulary(model: "gpt2", pre: "gpt-2", tokens: tokens, merges: [], bosID: 0, eosID: 256 + 3)
        XCTAssertEqual(v.eogIDs, [256, 257, 258, 259])
        let t = try Tokenizer(vocabulary: v)
        XCTAssertTrue(t.isEndOfGeneration(256))
        XCTAssertFalse(t.isEndOfGeneration(260))
        XCTAssertFalse(t.isEndOfGeneration(-1))
        // control-looking tokens become control tokens (dropped by skipSpecial)
        XCTAssertEqual(t.decode([256, 260], skipSpecial: true), "plain")
    }

    func testLlama3DefaultsAndIgnoreMerges() throws {
        // llama-bpe adds BOS by default and takes whole-word tokens without merging
        let tokens = Self.byteChars + ["abc", "ab", "<s>"]
        let v = TokenizerVocabulary(model: "gpt2", pre: "llama-bpe", tokens: tokens, merges: ["a b"], bosID: 258)
        XCTAssertTrue(v.addBOS)
        let t = try Tokenizer(vocabulary: v)
        XCTAssertEqual(t.encode("abc"), [258, 256])
        XCTAssertEqual(t.preTokenizerFamily, "llama3")
    }

    func testUnknownPreTokenizerFallsBackToDefault() throws {
        let t = try bpe([], merges: [], pre: "no-such-pre")
        XCTAssertFalse(t.preTokenizerWasRecognized)
        XCTAssertEqual(t.preTokenizerFamily, "default")
        XCTAssertEqual(t.preTokenize("a,b 12345"), ["a", ",", "b", " ", "123", "45"])
    }

    func testPreTokenizerSplits() throws {
        let smol = try bpe([], merges: [], pre: "smollm")
        XCTAssertEqual(smol.preTokenize("Hello  world's 2024!\n\n x"),
                       ["Hello", " ", " world", "'s", " ", "2", "0", "2", "4", "!", "\n\n", " x"])
        let l3 = try bpe([], merges: [], pre: "llama-bpe")
        XCTAssertEqual(l3.preTokenize("I'M 12345 ok?!\n\n  next\tTHEY'LL"),
                       ["I", "'M", " ", "123", "45", " ok", "?!\n\n", " ", " next", "\tTHEY", "'LL"])
        let q = try bpe([], merges: [], pre: "qwen2")
        XCTAssertEqual(q.preTokenize("ab 123"), ["ab", " ", "1", "2", "3"])
        let g = try bpe([], merges: [], pre: "gpt-2")
        XCTAssertEqual(g.preTokenize("you'RE  fine   "), ["you", "'", "RE", " ", " fine", "   "])
    }

    /// A SentencePiece vocabulary: specials, 256 byte tokens, then `pieces` with `scores`.
    func spm(_ pieces: [String], scores: [Float], addSpacePrefix: Bool = false) throws -> Tokenizer {
        var tokens = ["<unk>", "<s>", "</s>"]
        var types = [2, 3, 3]
        var sc: [Float] = [0, 0, 0]
        for b in 0..<256 {
            tokens.append(String(format: "<0x%02X>", b)); types.append(6); sc.append(0)
        }
        tokens += pieces
        types += [Int](repeating: 1, count: pieces.count)
        sc += scores
        return try Tokenizer(vocabulary: TokenizerVocabulary(model: "llama", tokens: tokens, scores: sc, tokenTypes: types,
                                                              bosID: 1, eosID: 2, unknownID: 0, addSpacePrefix: addSpacePrefix))
    }

    func testSentencePieceMergesByScore() throws {
        // 259 ▁, 260 a, 261 b, 262 ab, 263 ▁a
        let t = try spm(["▁", "a", "b", "ab", "▁a"], scores: [-1, -1, -1, -2, -3])
        // "ab" (-2) beats "▁a" (-3): ▁ + ab
        XCTAssertEqual(t.encode(" ab", addBOS: false), [259, 262])
        let t2 = try spm(["▁", "a", "b", "ab", "▁a"], scores: [-1, -1, -1, -3, -2])
        XCTAssertEqual(t2.encode(" ab", addBOS: false), [263, 261])
        XCTAssertEqual(t2.decode([263, 261]), " ab")
    }

    func testSentencePieceByteFallbackAndPrefix() throws {
        let t = try spm(["▁", "a"], scores: [-1, -1], addSpacePrefix: true)
        XCTAssertTrue(t.addsBOS)
        // "é" has no piece: two byte tokens <0xC3> <0xA9>; the space prefix gives ▁ first
        XCTAssertEqual(t.encode("aé"), [1, 259, 260, 3 + 0xC3, 3 + 0xA9])
        XCTAssertEqual(t.decode(t.encode("aé", addBOS: false)), "aé")
        XCTAssertEqual(t.decode(t.encode("aé")), "<s> aé")
    }

    func testErrors() {
        XCTAssertThrowsError(try Tokenizer(vocabulary: TokenizerVocabulary(model: "bert", tokens: ["a"]))) { e in
            XCTAssertTrue("\(e)".contains("bert"))
        }
        XCTAssertThrowsError(try Tokenizer(vocabulary: TokenizerVocabulary(model: "llama", tokens: [])))
        // duplicate texts are accepted; the lowest id wins
        let dup = try? Tokenizer(vocabulary: TokenizerVocabulary(model: "llama", tokens: ["b", "a", "c", "a", "a"]))
        XCTAssertEqual(dup?.id(of: "a"), 1)
        XCTAssertEqual(dup?.tokenText(4), "a")
        XCTAssertThrowsError(try Tokenizer(vocabulary: TokenizerVocabulary(model: "llama", tokens: ["a"], scores: [1, 2])))
    }
}
