import ChatTemplate
import Foundation
import GGUF
import Tokenization
import Training
import Trainer
import Transformer
import XCTest

final class DataTests: XCTestCase {
    func testJSONLParsingReportsBadLines() throws {
        let good = """
        {"text": "hello world"}

        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hey"}]}
        """
        let recs = try JSONLData.parse(good)
        XCTAssertEqual(recs, [.text("hello world"),
                              .messages([ChatMessage(role: "user", content: "hi"), ChatMessage(role: "assistant", content: "hey")])])
        let bad = """
        {"text": "ok"}
        {"text": 3}
        not json
        {"messages": [{"role": "user", "content": "no answer"}]}
        {"other": 1}
        [1, 2]
        """
        XCTAssertThrowsError(try JSONLData.parse(bad, path: "x.jsonl")) { e in
            guard case DataError.badLines(let path, let lines) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(path, "x.jsonl")
            XCTAssertEqual(lines.map(\.line), [2, 3, 4, 5, 6])
            XCTAssertTrue(lines[0].reason.contains("not a string"))
            XCTAssertTrue(lines[1].reason.contains("invalid JSON"))
            XCTAssertTrue(lines[2].reason.contains("assistant"))
            XCTAssertTrue("\(e)".contains("line 3: invalid JSON"))
        }
    }

    func testPackingAndSplit() throws {
        let stream: [Int32] = Array(0..<23)
        let rows = try DataPrep.packStream(stream, length: 5)
        XCTAssertEqual(rows.count, 4)   // needs 5k+1 tokens: 21 ≤ 23 < 26
        for r in 0..<rows.count {
            XCTAssertEqual(rows.inputs[r], Array(Int32(5 * r)..<Int32(5 * r + 5)))
            XCTAssertEqual(rows.targets[r], Array(Int32(5 * r + 1)..<Int32(5 * r + 6)))
        }
        XCTAssertThrowsError(try DataPrep.packStream([1, 2], length: 5))
        XCTAssertNil(rows.documentStarts)
        XCTAssertNil(rows.batch([0, 1]).documentStarts)
        // Documents beginning at 0, 3, 4 and 12: within each row, each position's document start (a
        // document cut by a row boundary starts at the row's position 0).
        let docs = try DataPrep.packStream(stream, length: 5, documentStarts: [0, 3, 4, 12])
        XCTAssertEqual(docs.inputs, rows.inputs)
        XCTAssertEqual(docs.documentStarts, [[0, 0, 0, 3, 4], [0, 0, 0, 0, 0], [0, 0, 2, 2, 2], [0, 0, 0, 0, 0]])
        XCTAssertEqual(docs.batch([2, 0]).documentStarts, [0, 0, 2, 2, 2, 0, 0, 0, 3, 4])
        let items = Array(0..<200)
        let (tr, va) = DataPrep.split(items, validationFraction: 0.1, seed: 42)
        XCTAssertEqual(Set(tr).union(va), Set(items)); XCTAssertTrue(Set(tr).isDisjoint(with: va))
        XCTAssertGreaterThan(va.count, 5); XCTAssertLessThan(va.count, 40)
        let again = DataPrep.split(items, validationFraction: 0.1, seed: 42)
        XCTAssertEqual(again.validation, va)
        XCTAssertNotEqual(DataPrep.split(items, validationFraction: 0.1, seed: 43).validation, va)
        XCTAssertEqual(DataPrep.split([1, 2], validationFraction: 0.01, seed: 1).validation.count, 1)
    }

    func testCursorEpochsAndResume() {
        var c = DataCursor(seed: 9)
        let first = c.take(10, of: 10)
        XCTAssertEqual(Set(first), Set(0..<10)); XCTAssertNotEqual(first, Array(0..<10))
        XCTAssertEqual(c.epoch, 0); XCTAssertEqual(c.position, 10)
        var d = c
        let next = c.take(7, of: 10)
        XCTAssertEqual(c.epoch, 1)
        XCTAssertEqual(d.take(7, of: 10), next)   // a copied cursor continues identically
        XCTAssertNotEqual(Array(first[..<7]), next)
    }

    /// Chat SFT with SmolLM2's ChatML template: exactly the assistant replies (and their end-of-turn
    /// marker) carry loss; the system and user turns do not.
    func testChatAssistantSpans() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: smolPath), "SmolLM2 not cached")
        let model = try Model(path: smolPath, contextLimit: 512)
        let msgs = [ChatMessage(role: "user", content: "What is two plus two?"),
                    ChatMessage(role: "assistant", content: "Four."),
                    ChatMessage(role: "user", content: "And three plus three?"),
                    ChatMessage(role: "assistant", content: "Six, of course.")]
        let ct = try DataPrep.tokenizeChat(msgs, tokenizer: model.tokenizer) { try model.renderChat($0, addGenerationPrompt: $1) }
        XCTAssertEqual(ct.tokens.count, ct.isAssistant.count)
        let full = try model.renderChat(msgs, addGenerationPrompt: false)
        XCTAssertEqual(model.tokenizer.decode(ct.tokens.map(Int.init)), full)
        // Group flagged tokens into spans and decode them.
        var spans: [String] = [], cur: [Int] = []
        for (t, f) in zip(ct.tokens, ct.isAssistant) {
            if f { cur.append(Int(t)) } else if !cur.isEmpty { spans.append(model.tokenizer.decode(cur)); cur = [] }
        }
        if !cur.isEmpty { spans.append(model.tokenizer.decode(cur)) }
        XCTAssertEqual(spans.count, 2)
        XCTAssertTrue(spans[0].hasPrefix("Four.<|im_end|>"), spans[0])
        XCTAssertTrue(spans[1].hasPrefix("Six, of course.<|im_end|>"), spans[1])
        XCTAssertFalse(spans.joined().contains("plus"))
        // Packing: targets are the next token where that token is assistant output, else -1.
        let (rows, truncated) = DataPrep.packChats([ct, ct], length: 128, padID: 0)
        XCTAssertEqual(truncated, 0)
        XCTAssertEqual(rows.count, 1)
        let n = ct.tokens.count
        for i in 0..<(n - 1) {
            XCTAssertEqual(rows.inputs[0][i], ct.tokens[i])
            XCTAssertEqual(rows.targets[0][i], ct.isAssistant[i + 1] ? ct.tokens[i + 1] : -1)
        }
        XCTAssertEqual(rows.lossTokenCount, 2 * ct.isAssistant.filter { $0 }.count - (ct.isAssistant[0] ? 1 : 0))
        XCTAssertEqual(rows.targets[0][(2 * n - 1)...].allSatisfy { $0 == -1 }, true)
        // Too long: truncated, and split into its own row.
        let (short, tr) = DataPrep.packChats([ct], length: 10, padID: 0)
        XCTAssertEqual(tr, 1); XCTAssertLessThanOrEqual(short.count, 1)
    }

    func testSHA256() {
        XCTAssertEqual(SHA256Digest.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256Digest.hex([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        XCTAssertEqual(SHA256Digest.hex(long), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testSettingsFromTOML() throws {
        let s = try TrainSettings.fromTOML("""
        mode = "lora"
        model = "smollm2"
        rank = 4
        alpha = 8
        targets = ["attn_q", "attn_v"]
        seq-len = 96
        lr = 2e-4
        steps = 12
        schedule = "linear"
        freeze_embeddings = true
        seed = 9
        """)
        XCTAssertEqual(s.mode, .lora); XCTAssertEqual(s.model, "smollm2")
        XCTAssertEqual(s.rank, 4); XCTAssertEqual(s.alpha, 8); XCTAssertEqual(s.seqLen, 96)
        XCTAssertEqual(s.lr, 2e-4); XCTAssertEqual(s.steps, 12); XCTAssertEqual(s.schedule, .linear)
        XCTAssertTrue(s.freezeEmbeddings); XCTAssertEqual(s.seed, 9)
        XCTAssertEqual(try s.loraConfig().targets, ["attn_q", "attn_v"])
        XCTAssertEqual(s.trainerConfig.optimizer.learningRate, 2e-4)
        XCTAssertEqual(s.batch, TrainSettings().batch)   // untouched keys keep their defaults
        XCTAssertThrowsError(try TrainSettings.fromTOML("stepz = 3")) { XCTAssertTrue("\($0)".contains("stepz")) }
        XCTAssertThrowsError(try TrainSettings.fromTOML("steps = \"many\"")) { XCTAssertTrue("\($0)".contains("integer")) }
        var bad = s; bad.targets = "attn_q,mlp"
        XCTAssertThrowsError(try bad.loraConfig())
        let c = try scratchConfig(vocabularySize: 300, dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, context: 64)
        XCTAssertEqual(c.headDim, 16); XCTAssertEqual(c.kvDim, 32); XCTAssertEqual(c.layerCount, 2)
        XCTAssertThrowsError(try scratchConfig(vocabularySize: 300, dim: 60, layers: 2, heads: 8, kvHeads: 2, ffn: 128, context: 64))
    }
}
