import Foundation
import Trainer
import Transformer
import XCTest

/// `TrainRun` end to end on tiny models: what it builds and what it writes.
final class TrainRunTests: XCTestCase {
    func writeTexts(_ path: String) throws {
        var g = DataRNG(seed: 5)
        let words = ["the", "river", "stone", "light", "walks", "keeps", "under", "over", "green", "cold"]
        var lines: [String] = []
        for _ in 0..<80 {
            let text = (0..<(20 + Int(g.next() % 20))).map { _ in words[Int(g.next() % UInt64(words.count))] }.joined(separator: " ")
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: ["text": text]), as: UTF8.self))
        }
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    func settings(_ dir: String, context: Int?) -> TrainSettings {
        var s = TrainSettings()
        s.mode = .scratch
        s.tokenizer = "bpe:300"
        s.train = dir + "/train.jsonl"
        s.dim = 32; s.layers = 1; s.heads = 2; s.kvHeads = 2; s.ffn = 64
        s.seqLen = 32; s.batch = 2; s.steps = 2; s.evalEvery = 0; s.checkpointEvery = 0
        s.export = "f32"
        s.context = context
        s.out = dir + "/out-\(context ?? 0)"
        return s
    }

    /// A from-scratch model's context is a setting, not its training length: model organisms train on short
    /// rows but are evaluated on battery prompts of thousands of tokens.
    func testContextIsWrittenAndUsableBeyondTheTrainingLength() throws {
        let dir = temporaryDirectory("ctx"); defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeTexts(dir + "/train.jsonl")

        // Default: max(seq_len, 256) — a 300-token prompt does not fit.
        let d = settings(dir, context: nil)
        try TrainRun.execute(d, showProgress: false, log: { _ in })
        let small = try Model(path: d.out + "/model.gguf")
        XCTAssertEqual(small.config.contextLength, 256)
        let prompt = (0..<300).map { $0 % 200 + 10 }
        XCTAssertThrowsError(try small.forward([(small.newSequence(), prompt, .last)]))

        // context = 1024: the same prompt runs, and gives finite logits past the trained positions.
        let s = settings(dir, context: 1024)
        try TrainRun.execute(s, showProgress: false, log: { _ in })
        let model = try Model(path: s.out + "/model.gguf")
        XCTAssertEqual(model.config.contextLength, 1024)
        let out = try model.forward([(model.newSequence(), prompt, .last)])
        let row = out.row(out.rowsOfItem[0].lowerBound)
        XCTAssertEqual(row.count, model.config.vocabularySize)
        XCTAssertTrue(row.allSatisfy(\.isFinite))

        // A context shorter than the rows it trains on is refused before any work.
        var bad = settings(dir, context: 16)
        bad.out = dir + "/bad"
        XCTAssertThrowsError(try TrainRun.execute(bad, showProgress: false, log: { _ in })) {
            XCTAssertTrue("\($0)".contains("context"), "\($0)")
        }
        XCTAssertThrowsError(try TrainSettings.fromTOML("context = \"long\""))
        XCTAssertEqual(try TrainSettings.fromTOML("context = 2048").context, 2048)
    }

    /// A LoRA run writes its adapter; only when asked (`mergeLoRA`, which the pipeline sets) does it also
    /// write the base with the trained adapter merged in, and that file carries the training.
    func testLoRAWritesTheMergedModelOnlyWhenAsked() throws {
        let dir = temporaryDirectory("lora-merge"); defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeTexts(dir + "/train.jsonl")
        var base = settings(dir, context: nil)
        base.steps = 1
        try TrainRun.execute(base, showProgress: false, log: { _ in })
        let basePath = base.out + "/model.gguf"

        func lora(_ merge: Bool) throws -> String {
            var s = TrainSettings()
            s.mode = .lora
            s.model = basePath
            s.train = dir + "/train.jsonl"
            s.seqLen = 32; s.batch = 2; s.steps = 6; s.lr = 5e-2; s.rank = 4; s.alpha = 8
            s.evalEvery = 0; s.checkpointEvery = 0
            s.export = "f32"
            s.mergeLoRA = merge
            s.out = dir + "/lora-\(merge)"
            try TrainRun.execute(s, showProgress: false, log: { _ in })
            XCTAssertTrue(FileManager.default.fileExists(atPath: s.out + "/adapter.gguf"))
            return s.out
        }
        let plain = try lora(false)
        XCTAssertFalse(FileManager.default.fileExists(atPath: plain + "/model.gguf"), "no merged copy unless asked")
        let merged = try lora(true)
        let model = try Model(path: merged + "/model.gguf"), original = try Model(path: basePath)
        let ids = Array(10..<40)
        let a = try model.forward([(model.newSequence(), ids, .last)]), b = try original.forward([(original.newSequence(), ids, .last)])
        let diff = zip(a.rowArray(0), b.rowArray(0)).map { abs($0 - $1) }.max() ?? 0
        XCTAssertGreaterThan(diff, 1e-3, "the merged model must carry the trained adapter, not the untouched base")
    }
}
