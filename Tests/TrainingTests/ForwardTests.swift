import Foundation
import XCTest
import Kernels
import Transformer
import Training

/// The training forward pass against the inference engine (`Model.forward`), on synthetic GGUF models
/// written from a TrainModel's merged tensors and on the real SmolLM2.
final class ForwardTests: XCTestCase {

    func logSoftmax<C: Collection>(_ row: C) -> [Double] where C.Element == Float {
        let m = Double(row.max()!)
        let lse = m + log(row.reduce(0.0) { $0 + exp(Double($1) - m) })
        return row.map { Double($0) - lse }
    }

    /// Builds a random model, exports it to GGUF, loads it with the engine and compares every position's
    /// log-probabilities; also checks a TrainModel loaded back from that file gives the same logits.
    func engineMatch(_ config: ModelConfig, mode: TrainMode = .full, tied: Bool, length: Int, label: String) throws {
        let model = try TrainModel(config: config, mode: mode, tiedOutput: tied, seed: 21)
        try Tiny.perturb(model.network, seed: 4, scale: 0.05)
        let path = tempPath("train-\(label)")
        try writeGGUF(model, to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let engine = try Model(path: path)
        XCTAssertEqual(engine.config, model.config, label)
        XCTAssertEqual(engine.weights.tiedOutput, tied, label)
        var rng = TestRNG(77)
        let ids = (0..<length).map { _ in rng.int(config.vocabularySize) }
        let batch = TrainBatch(rows: 1, length: length, inputs: ids.map(Int32.init), targets: ids.map { _ in -1 })
        let ours = try model.logits(batch)
        let ref = try engine.forward([(engine.newSequence(), ids, .all)])
        let V = config.vocabularySize
        var worst = 0.0
        for t in 0..<length {
            let a = logSoftmax(ours[(t * V)..<((t + 1) * V)]), b = logSoftmax(ref.row(t)[0..<V])
            for v in 0..<V { worst = max(worst, abs(a[v] - b[v])) }
        }
        XCTAssertLessThan(worst, 2e-4, "\(label): log-prob difference")
        // Reloaded as a trainable model: identical logits.
        let back = try TrainModel(model: engine)
        XCTAssertEqual(back.tensors.map(\.name), try TrainModel(config: config, tiedOutput: tied).tensors.map(\.name))
        let again = try back.logits(batch)
        for i in 0..<ours.count { XCTAssertEqual(again[i], ours[i], accuracy: 1e-4 * max(1, abs(ours[i]))) }
    }

    static func wide(_ base: ModelConfig) -> ModelConfig {
        var c = base
        c.vocabularySize = 260
        return c
    }

    func testLlamaMatchesEngine() throws {
        try engineMatch(Self.wide(Tiny.llama()), tied: false, length: 40, label: "llama")
    }

    func testQwen2MatchesEngine() throws {
        try engineMatch(Self.wide(Tiny.qwen2()), tied: true, length: 40, label: "qwen2")
    }

    func testGemma3MatchesEngine() throws {
        // Sliding window 5 on layer 0 with 40-token sequences; the engine reads the layer pattern from GGUF.
        // Query blocks of 16 rows exercise the blocked attention.
        TrainOps.attentionBlock = 16
        defer { TrainOps.attentionBlock = 64 }
        try engineMatch(Self.wide(Tiny.gemma3(window: 5)), tied: true, length: 40, label: "gemma3")
    }

    func testLoRAMergedExportMatchesAdapterForward() throws {
        // engineMatch exports mergedTensors(): equality with the adapter model's own logits checks the merge.
        let lc = LoRAConfig(rank: 2, alpha: 4, dropout: 0.5, targets: LoRAConfig.allLinear)
        try engineMatch(Self.wide(Tiny.llama()), mode: .lora(lc), tied: true, length: 36, label: "llama-lora")
    }

    func testParameterLayoutAndFreezing() throws {
        let c = Tiny.llama()
        let full = try TrainModel(config: c, tiedOutput: false)
        XCTAssertEqual(full.parameterCount, full.tensors.reduce(0) { $0 + $1.count })
        var off = 0
        for t in full.tensors { XCTAssertEqual(t.offset, off); off += t.count; XCTAssertEqual(t.count, t.shape.reduce(1, *)) }
        XCTAssertTrue(full.tensors.contains { $0.name == "token_embd.weight" && $0.shape == [8, 13] && $0.decay })
        XCTAssertTrue(full.tensors.contains { $0.name == "blk.1.ffn_down.weight" && $0.shape == [12, 8] })
        XCTAssertTrue(full.tensors.contains { $0.name == "blk.0.attn_norm.weight" && !$0.decay })
        let frozenEmb = try TrainModel(config: c, freezeEmbeddings: true, tiedOutput: false)
        XCTAssertFalse(frozenEmb.tensors.contains { $0.name == "token_embd.weight" })
        XCTAssertEqual(frozenEmb.parameterCount, full.parameterCount - 8 * 13)
        let lora = try TrainModel(config: c, mode: .lora(LoRAConfig(rank: 2, targets: ["attn_q", "ffn_up"])))
        XCTAssertEqual(lora.tensors.map(\.name), ["blk.0.attn_q.weight.lora_a", "blk.0.attn_q.weight.lora_b",
                                                 "blk.0.ffn_up.weight.lora_a", "blk.0.ffn_up.weight.lora_b",
                                                 "blk.1.attn_q.weight.lora_a", "blk.1.attn_q.weight.lora_b",
                                                 "blk.1.ffn_up.weight.lora_a", "blk.1.ffn_up.weight.lora_b"])
        XCTAssertEqual(lora.tensors[0].shape, [8, 2]); XCTAssertEqual(lora.tensors[1].shape, [2, 16])
        // B = 0 at initialisation: the adapter starts as the identity edit.
        let merged = Dictionary(uniqueKeysWithValues: lora.mergedTensors().map { ($0.name, $0.values) })
        XCTAssertEqual(merged["blk.0.attn_q.weight"], lora.network.values(of: "blk.0.attn_q.weight"))
        XCTAssertNil(merged["blk.0.attn_q.weight.lora_a"])
        XCTAssertThrowsError(try TrainModel(config: c, mode: .lora(LoRAConfig(rank: 2, targets: ["attn_x"])))) { e in
            XCTAssertTrue("\(e)".contains("attn_x"), "\(e)")
        }
        // Initialisation statistics: std 0.02, depth-scaled output projections, unit norms.
        let big = try TrainModel(config: ModelConfig(architecture: .llama, vocabularySize: 64, dim: 64, layerCount: 8,
                                                     headCount: 4, kvHeadCount: 4, ffnDim: 128), seed: 1)
        func std(_ n: String) -> Double {
            let v = big.network.values(of: n)!.map(Double.init)
            let m = v.reduce(0, +) / Double(v.count)
            return (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count)).squareRoot()
        }
        XCTAssertEqual(std("blk.0.attn_q.weight"), 0.02, accuracy: 0.002)
        XCTAssertEqual(std("blk.0.ffn_down.weight"), 0.02 / 4, accuracy: 0.0005)
        XCTAssertEqual(big.network.values(of: "blk.3.ffn_norm.weight")!, [Float](repeating: 1, count: 64))
        XCTAssertNotEqual(big.network.values(of: "blk.0.attn_q.weight")!, big.network.values(of: "blk.1.attn_q.weight")!)
    }

    func testBatchValidationAndMaskedLoss() throws {
        let c = Tiny.llama()
        let m = try TrainModel(config: c)
        XCTAssertThrowsError(try m.loss(TrainBatch(rows: 1, length: 3, inputs: [1, 2], targets: [1, 2]))) { e in
            XCTAssertTrue("\(e)".contains("2 inputs for 1 rows"), "\(e)")
        }
        XCTAssertThrowsError(try m.loss(TrainBatch(rows: 1, length: 2, inputs: [1, 99], targets: [1, 2]))) { e in
            XCTAssertTrue("\(e)".contains("99"), "\(e)")
        }
        // Loss = Σ over unmasked positions of −log softmax(logits)[target], from the logits themselves.
        let b = Tiny.batch(c, rows: 2, length: 6, seed: 3)
        let logits = try m.logits(b)
        var ref = 0.0
        for t in 0..<12 where b.targets[t] >= 0 {
            let lp = logSoftmax(logits[(t * 13)..<((t + 1) * 13)])
            ref -= lp[Int(b.targets[t])]
        }
        let l = try m.loss(b)
        XCTAssertEqual(l.tokenCount, b.lossTokenCount)
        XCTAssertEqual(l.lossSum, ref, accuracy: 1e-4)
        // forwardBackward reports the same loss, and an all-masked batch gives zero loss and gradient.
        m.zeroGradients()
        XCTAssertEqual(try m.forwardBackward(b, gradScale: 1).lossSum, ref, accuracy: 1e-4)
        m.zeroGradients()
        var masked = b; masked.targets = masked.targets.map { _ in -1 }
        let r = try m.forwardBackward(masked, gradScale: 1)
        XCTAssertEqual(r.tokenCount, 0); XCTAssertEqual(r.lossSum, 0)
        XCTAssertTrue((0..<m.parameterCount).allSatisfy { m.gradients[$0] == 0 })
        // A smaller batch reuses the buffers of the larger one and gives the same loss as a fresh model.
        let small = Tiny.batch(c, rows: 1, length: 4, seed: 9)
        let fresh = try TrainModel(config: c)
        XCTAssertEqual(try m.loss(small).lossSum, try fresh.loss(small).lossSum, accuracy: 1e-5)
        XCTAssertEqual(try m.loss(b).lossSum, ref, accuracy: 1e-4)
    }

    func testSmolLM2MatchesEngine() throws {
        let path = "/root/.cache/hyperlab/models/SmolLM2-135M-Instruct.Q4_1.gguf"
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("SmolLM2 is not cached") }
        let engine = try Model(path: path, contextLimit: 256)
        let model = try TrainModel(model: engine)
        XCTAssertTrue(engine.weights.tiedOutput)
        XCTAssertEqual(model.parameterCount, 134_515_008)
        let ids = engine.tokenizer.encode("The quick brown fox jumps over the lazy dog, and then it runs far away into the forest where nobody can find it again.")
        XCTAssertGreaterThan(ids.count, 24)
        let n = ids.count
        let ours = try model.logits(TrainBatch(rows: 1, length: n, inputs: ids.map(Int32.init), targets: ids.map { _ in -1 }))
        // fp32 activations times dequantized weights, as training multiplies.
        let ref = try engine.forward([(engine.newSequence(), ids, .all)], activations: .float32)
        let V = engine.config.vocabularySize
        var worst = 0.0
        for t in 0..<n {
            let a = logSoftmax(ours[(t * V)..<((t + 1) * V)]), b = logSoftmax(ref.row(t)[0..<V])
            for v in 0..<V { worst = max(worst, abs(a[v] - b[v])) }
        }
        XCTAssertLessThan(worst, 5e-3, "SmolLM2 log-prob difference")
    }
}
