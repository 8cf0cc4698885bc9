import Foundation
import XCTest
import GGUF
import Transformer
import Training
import Trainer

/// GGUF export of merged models and LoRA adapters: read back by our engine and by llama.cpp.
final class ExportTests: XCTestCase {
    static let ids = [72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100, 33, 10, 200, 7]

    /// A tiny base file on disk, its weights and its config.
    struct TinyBase {
        let tiny: TinyLlama
        let path: String
        let file: GGUFFile
        let config: ModelConfig
        let base: [(name: String, shape: [Int], values: [Float])]
    }

    func makeTinyBase(seed: UInt64 = 11) throws -> TinyBase {
        let tiny = TinyLlama(seed: seed)
        let path = exportTempPath("tiny-base")
        try tiny.write(to: path)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        let file = try GGUFFile(path: path)
        return TinyBase(tiny: tiny, path: path, file: file, config: try ModelConfig(gguf: file), base: try fp32Tensors(of: file))
    }

    static let tinyTargets = ["token_embd.weight", "output.weight", "blk.0.attn_q.weight", "blk.0.attn_v.weight",
                              "blk.1.attn_output.weight", "blk.1.ffn_down.weight", "blk.0.ffn_up.weight"]

    // MARK: merged export

    /// F32, F16 and Q8_0 exports of a LoRA-merged model reload in our engine with the merged model's
    /// logits (naive Double forward) within each type's rounding, keep the base's metadata and tensor
    /// order, and store norms as F32 and Q8_0-incompatible rows as F16.
    func testMergedExportRoundTripsInEveryType() throws {
        let tb = try makeTinyBase()
        let model = LoRATestDouble(config: tb.config, base: tb.base, targets: Self.tinyTargets, rank: 4, alpha: 8, seed: 5, bScale: 0.3)
        let merged = model.mergedTensors()
        let reference = naiveLlamaLogits(Dictionary(uniqueKeysWithValues: merged.map { ($0.name, $0.values) }), config: tb.config, ids: Self.ids)
        let baseLogits = naiveLlamaLogits(tb.tiny.weights, config: tb.config, ids: Self.ids)
        let effect = maxAbsDiff(reference, baseLogits)
        XCTAssertGreaterThan(effect, 1.0, "the LoRA must move the logits for this test to mean anything")

        let bounds: [ExportType: Double] = [.f32: 2e-3, .f16: 4e-2, .q8_0: 0.15]
        for type in ExportType.allCases {
            let path = exportTempPath("merged-\(type)")
            defer { try? FileManager.default.removeItem(atPath: path) }
            try exportGGUF(model: model, base: tb.file, to: path, type: type)
            let out = try GGUFFile(path: path)
            XCTAssertEqual(out.tensors.map(\.name), tb.file.tensors.map(\.name), "\(type): tensor order")
            for key in tb.file.metadataKeys where key != "general.file_type" {
                XCTAssertEqual(out.metadata[key], tb.file.metadata[key], "\(type): metadata key \(key)")
            }
            XCTAssertEqual(out.metadata["general.file_type"], .uint32(type.fileType))
            for t in out.tensors {
                let expected: GGMLType
                if t.shape.count == 1 { expected = .f32 }
                else if type == .q8_0 && t.shape[0] % 32 != 0 { expected = .f16 }
                else { expected = type.ggmlType }
                XCTAssertEqual(t.type, expected, "\(type): tensor \(t.name) \(t.shape)")
            }
            XCTAssertEqual(out.tensor(named: "blk.0.ffn_down.weight")?.type, type == .f32 ? .f32 : .f16, "ffn rows of 80 cannot be Q8_0")
            let engine = try Model(path: path)
            XCTAssertEqual(engine.config, tb.config)
            let err = maxAbsDiff(try engineLogits(engine, Self.ids), reference)
            XCTAssertLessThan(err, bounds[type]!, "\(type): logits of the reloaded export")
            XCTAssertLessThan(err * 10, effect, "\(type): the export error must be far below the LoRA's effect")
        }
    }

    /// A model trained from scratch (no base file) exports with architecture metadata from its config
    /// and the tokenizer from `extraMetadata`; it reloads with the same config and the trainable
    /// model's own logits. Without tokenizer keys the export is refused with a clear message.
    func testFromScratchExportReloadsWithTrainModelLogits() throws {
        let tb = try makeTinyBase()
        let model = try TrainModel(config: tb.config, mode: .full, tiedOutput: true, seed: 3)
        // Make the weights large enough that the logits carry signal (the init is std 0.02).
        var rng = ExportRNG(seed: 99)
        for t in model.tensors where t.shape.count == 2 {
            let s: Float = t.name.hasPrefix("token_embd") ? 1 : 0.3
            for i in 0..<t.count { model.parameters[t.offset + i] = rng.symmetric() * s }
        }
        let T = Self.ids.count
        let pre = try model.logits(TrainBatch(rows: 1, length: T, inputs: Self.ids.map(Int32.init), targets: Array(repeating: -1, count: T)))
        let preRows = (0..<T).map { Array(pre[($0 * tb.config.vocabularySize)..<(($0 + 1) * tb.config.vocabularySize)]) }
        XCTAssertGreaterThan(preRows.flatMap { $0 }.map { abs($0) }.max()!, 1)

        let path = exportTempPath("scratch")
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try exportGGUF(model: model, base: nil, to: path, type: .f32)) { error in
            XCTAssertTrue("\(error)".contains("tokenizer"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        try exportGGUF(model: model, base: nil, to: path, type: .f32,
                       extraMetadata: tb.tiny.tokenizerMetadata.merging(["general.name": .string("scratch")]) { $1 })
        let out = try GGUFFile(path: path)
        XCTAssertEqual(out.metadata["general.name"], .string("scratch"))
        XCTAssertNil(out.tensor(named: "output.weight"), "a tied head stays tied")
        let engine = try Model(path: path)
        XCTAssertEqual(engine.config, tb.config, "every config field survives the metadata round trip")
        XCTAssertEqual(engine.tokenizer.encode("ab"), [256], "the tokenizer came through extraMetadata")
        let err = maxAbsDiff(try engineLogits(engine, Self.ids), preRows)
        XCTAssertLessThan(err, 2e-3)
    }

    /// The architecture metadata written from a config reads back as the same config for Qwen2 (biases,
    /// halves rope) and Gemma 3 (sliding window and its pattern, local rope base, QK and post norms,
    /// scaled embeddings), and the reloaded model computes the trainable model's logits.
    func testFromScratchExportOfOtherArchitectures() throws {
        let tb = try makeTinyBase()
        var qwen = tb.config
        qwen.architecture = .qwen2; qwen.ropeStyle = .halves; qwen.hasQKVBias = true; qwen.ropeBase = 1_000_000; qwen.ropeBaseLocal = 1_000_000
        var gemma = tb.config
        gemma.architecture = .gemma3; gemma.ropeStyle = .halves; gemma.activation = .geluTanh
        gemma.slidingWindow = 4; gemma.slidingLayers = [true, false]
        gemma.embeddingScale = Float(gemma.dim).squareRoot(); gemma.attentionScale = 1 / Float(gemma.headDim).squareRoot()
        gemma.hasQKNorm = true; gemma.hasPostNorms = true; gemma.ropeBase = 1_000_000; gemma.ropeBaseLocal = 10_000
        for config in [qwen, gemma] {
            let name = config.architecture.rawValue
            let model = try TrainModel(config: config, mode: .full, tiedOutput: true, seed: 4)
            var rng = ExportRNG(seed: 17)
            for t in model.tensors where t.shape.count == 2 || t.name.hasSuffix(".bias") {
                let s: Float = t.name.hasPrefix("token_embd") ? 1 : 0.3
                for i in 0..<t.count { model.parameters[t.offset + i] = rng.symmetric() * s }
            }
            let T = Self.ids.count, V = config.vocabularySize
            let flat = try model.logits(TrainBatch(rows: 1, length: T, inputs: Self.ids.map(Int32.init), targets: Array(repeating: -1, count: T)))
            let pre = (0..<T).map { Array(flat[($0 * V)..<(($0 + 1) * V)]) }
            let path = exportTempPath("scratch-\(name)")
            defer { try? FileManager.default.removeItem(atPath: path) }
            try exportGGUF(model: model, base: nil, to: path, type: .f32, extraMetadata: tb.tiny.tokenizerMetadata)
            let engine = try Model(path: path)
            XCTAssertEqual(engine.config, config, "\(name): config round trip")
            XCTAssertLessThan(maxAbsDiff(try engineLogits(engine, Self.ids), pre), 2e-3, "\(name): logits")
        }
    }

    // MARK: adapters

    /// The adapter file has llama.cpp's metadata and shapes; our engine applying it to the base gives
    /// the merged model's logits; scale 0 gives the base's, and scale 2 differs from scale 1.
    func testAdapterAppliedAtLoadMatchesMergedModel() throws {
        let tb = try makeTinyBase()
        let model = LoRATestDouble(config: tb.config, base: tb.base, targets: Self.tinyTargets, rank: 4, alpha: 8, seed: 6, bScale: 0.3)
        let reference = naiveLlamaLogits(Dictionary(uniqueKeysWithValues: model.mergedTensors().map { ($0.name, $0.values) }),
                                         config: tb.config, ids: Self.ids)
        let path = exportTempPath("adapter")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try exportLoRAAdapter(model: model, base: tb.file, to: path, alpha: 8)

        let f = try GGUFFile(path: path)
        XCTAssertEqual(f.metadata["general.type"], .string("adapter"))
        XCTAssertEqual(f.metadata["adapter.type"], .string("lora"))
        XCTAssertEqual(f.metadata["adapter.lora.alpha"], .float32(8))
        XCTAssertEqual(f.architecture, "llama")
        XCTAssertEqual(f.tensors.count, 2 * Self.tinyTargets.count)
        XCTAssertEqual(f.tensor(named: "blk.0.attn_q.weight.lora_a")?.shape, [64, 4])
        XCTAssertEqual(f.tensor(named: "blk.0.attn_q.weight.lora_b")?.shape, [4, 64])
        XCTAssertEqual(f.tensor(named: "blk.1.ffn_down.weight.lora_a")?.shape, [80, 4])
        XCTAssertEqual(f.tensor(named: "blk.1.ffn_down.weight.lora_b")?.shape, [4, 64])
        // The token embedding pair is flipped, as llama.cpp gathers rows of lora_a per token.
        XCTAssertEqual(f.tensor(named: "token_embd.weight.lora_a")?.shape, [4, tb.tiny.vocab])
        XCTAssertEqual(f.tensor(named: "token_embd.weight.lora_b")?.shape, [4, 64])

        let adapted = try Model(path: tb.path, adapters: [(path: path, scale: 1)])
        XCTAssertFalse(adapted.weights.tiedOutput)
        let got = try engineLogits(adapted, Self.ids)
        XCTAssertLessThan(maxAbsDiff(got, reference), 2e-3)
        // Decoding token by token through the (dense fp32) adapted weights agrees too.
        let seq = adapted.newSequence()
        for (t, id) in Self.ids.prefix(5).enumerated() {
            let row = try adapted.forward([(seq, [id], .last)]).rowArray(0)
            XCTAssertLessThan(maxAbsDiff([row], [reference[t]]), 2e-3)
        }

        let off = try engineLogits(try Model(path: tb.path, adapters: [(path: path, scale: 0)]), Self.ids)
        let baseRef = naiveLlamaLogits(tb.tiny.weights, config: tb.config, ids: Self.ids)
        XCTAssertLessThan(maxAbsDiff(off, baseRef), 2e-3)
        XCTAssertGreaterThan(maxAbsDiff(got, baseRef), 1)
        // Two adapters add up: the same adapter twice at 0.5 equals it once at 1.
        let halves = try engineLogits(try Model(path: tb.path, adapters: [(path, 0.5), (path, 0.5)]), Self.ids)
        XCTAssertLessThan(maxAbsDiff(halves, got), 2e-3)
        let doubled = try engineLogits(try Model(path: tb.path, adapters: [(path, 2)]), Self.ids)
        XCTAssertGreaterThan(maxAbsDiff(doubled, got), 0.5)
    }

    /// Adapters that do not fit the base are refused with a message naming the problem.
    func testAdapterForAnotherModelIsRejected() throws {
        let tb = try makeTinyBase()
        let model = LoRATestDouble(config: tb.config, base: tb.base, targets: ["blk.0.attn_q.weight"], rank: 4, alpha: 8, seed: 7, bScale: 0.3)
        let good = exportTempPath("good-adapter")
        defer { try? FileManager.default.removeItem(atPath: good) }
        try exportLoRAAdapter(model: model, base: tb.file, to: good, alpha: 8)
        let src = try GGUFFile(path: good)

        func rewritten(_ edit: (inout GGUFWriter) throws -> Void, tensors: Bool = true) throws -> String {
            var w = GGUFWriter()
            w.copyMetadata(from: src)
            if tensors { for t in src.tensors { try w.addTensor(t, from: src) } }
            try edit(&w)
            let p = exportTempPath("bad-adapter")
            addTeardownBlock { try? FileManager.default.removeItem(atPath: p) }
            try w.write(to: p)
            return p
        }
        func expectError(_ path: String, _ needle: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try Model(path: tb.path, adapters: [(path, 1)]), file: file, line: line) { error in
                XCTAssertTrue(error is LoRAAdapterError, "\(type(of: error)): \(error)", file: file, line: line)
                XCTAssertTrue("\(error)".contains(needle), "\"\(error)\" should mention \(needle)", file: file, line: line)
            }
        }
        expectError(try rewritten { $0.setMetadata("general.architecture", .string("qwen2")) }, "qwen2")
        expectError(try rewritten { $0.setMetadata("general.type", .string("model")) }, "general.type")
        expectError(tb.path, "not an adapter")
        // Factors of the wrong width for the base (an adapter made for another model size).
        expectError(try rewritten({ w in
            try w.addTensor(name: "blk.0.attn_k.weight.lora_a", shape: [32, 4], values: [Float](repeating: 0.1, count: 128))
            try w.addTensor(name: "blk.0.attn_k.weight.lora_b", shape: [4, 32], values: [Float](repeating: 0.1, count: 128))
        }), "blk.0.attn_k.weight")
        // A target the base does not have.
        expectError(try rewritten({ w in
            try w.addTensor(name: "blk.9.attn_q.weight.lora_a", shape: [64, 4], values: [Float](repeating: 0.1, count: 256))
            try w.addTensor(name: "blk.9.attn_q.weight.lora_b", shape: [4, 64], values: [Float](repeating: 0.1, count: 256))
        }), "blk.9.attn_q.weight")
        // A lone factor.
        expectError(try rewritten({ w in
            try w.addTensor(name: "blk.1.attn_q.weight.lora_a", shape: [64, 4], values: [Float](repeating: 0.1, count: 256))
        }), "lora_b")
        // The exporter refuses factors that do not fit the base (attn_k is [64, 32], not [64, 64]), and a zero alpha.
        let wrong = LoRATestDouble(config: tb.config, base: tb.base.map { $0.name == "blk.0.attn_k.weight" ? ($0.name, [64, 64], $0.values) : $0 },
                                   targets: ["blk.0.attn_k.weight"], rank: 4, alpha: 8, seed: 7, bScale: 0.3)
        XCTAssertThrowsError(try exportLoRAAdapter(model: wrong, base: tb.file, to: exportTempPath("x"), alpha: 8)) { error in
            XCTAssertTrue("\(error)".contains("blk.0.attn_k.weight"), "\(error)")
        }
        XCTAssertThrowsError(try exportLoRAAdapter(model: model, base: tb.file, to: exportTempPath("x"), alpha: 0)) { error in
            XCTAssertTrue("\(error)".contains("alpha"), "\(error)")
        }
    }

    // MARK: llama.cpp

    /// llama.cpp loads the merged F32 and Q8_0 exports and the base + adapter, and computes the same
    /// logits as our engine on the same files.
    func testLlamaCppReadsTinyExports() throws {
        try LlamaCpp.requireAvailable()
        let tb = try makeTinyBase()
        let model = LoRATestDouble(config: tb.config, base: tb.base, targets: Self.tinyTargets, rank: 4, alpha: 8, seed: 8, bScale: 0.3)
        let V = tb.tiny.vocab, ids = Self.ids
        let f32 = exportTempPath("llama-merged-f32"), q8 = exportTempPath("llama-merged-q8"), adapter = exportTempPath("llama-adapter")
        defer { for p in [f32, q8, adapter] { try? FileManager.default.removeItem(atPath: p) } }
        try exportGGUF(model: model, base: tb.file, to: f32, type: .f32)
        try exportGGUF(model: model, base: tb.file, to: q8, type: .q8_0)
        try exportLoRAAdapter(model: model, base: tb.file, to: adapter, alpha: 8)
        let theirs = try LlamaCpp.logits([
            .init(model: tb.path, ids: ids, vocab: V),
            .init(model: f32, ids: ids, vocab: V),
            .init(model: q8, ids: ids, vocab: V),
            .init(model: tb.path, lora: adapter, scale: 1, ids: ids, vocab: V),
            .init(model: tb.path, lora: adapter, scale: 0.5, ids: ids, vocab: V),
        ])
        let ours = [
            try engineLogits(try Model(path: tb.path), ids),
            try engineLogits(try Model(path: f32), ids),
            try engineLogits(try Model(path: q8), ids),
            try engineLogits(try Model(path: tb.path, adapters: [(adapter, 1)]), ids),
            try engineLogits(try Model(path: tb.path, adapters: [(adapter, 0.5)]), ids),
        ]
        // llama.cpp's fp32 path differs from ours by float rounding (~4e-3 on logits of magnitude ~10);
        // with Q8_0 weights it also quantizes the activations to 8 bits.
        let labels = ["base", "merged F32", "merged Q8_0", "base + adapter", "base + adapter at 0.5"]
        let bounds = [1e-2, 1e-2, 0.3, 1e-2, 1e-2]
        for i in 0..<5 {
            let err = maxAbsDiff(theirs[i], ours[i])
            XCTAssertLessThan(err, bounds[i], "\(labels[i]): llama.cpp vs our engine")
            if i > 0 {
                XCTAssertGreaterThan(maxAbsDiff(theirs[i], theirs[0]), 10 * err, "\(labels[i]): the LoRA's effect dominates the disagreement")
            }
        }
    }

    // MARK: SmolLM2 with the real TrainModel

    /// SmolLM2 in LoRA mode (random nonzero B): the adapter applied by our engine and by llama.cpp, and
    /// the merged F16 export read by both, reproduce the trainable model's logits. (Q8_0 against
    /// llama.cpp is covered on the tiny model: on SmolLM2 llama.cpp's 8-bit activations and the
    /// re-quantization of Q4_1 weights add up to ~0.25 mean logit error, too blunt a check.)
    func testSmolLM2LoRAExportsMatchTrainModel() throws {
        let basePath = "/root/.cache/hyperlab/models/SmolLM2-135M-Instruct.Q4_1.gguf"
        guard FileManager.default.fileExists(atPath: basePath) else { throw XCTSkip("\(basePath) is not cached") }
        let base = try Model(path: basePath)
        let lora = LoRAConfig(rank: 8, alpha: 16, targets: ["attn_q", "attn_v", "attn_output", "ffn_down"])
        let tm = try TrainModel(model: base, mode: .lora(lora), seed: 1)
        var rng = ExportRNG(seed: 2024)
        for t in tm.tensors where t.name.hasSuffix(".lora_b") {
            for i in 0..<t.count { tm.parameters[t.offset + i] = rng.symmetric() * 0.2 }
        }
        let ids = base.tokenizer.encode("The lighthouse keeper climbed the stairs every evening")
        let T = ids.count, V = base.config.vocabularySize
        let flat = try tm.logits(TrainBatch(rows: 1, length: T, inputs: ids.map(Int32.init), targets: Array(repeating: -1, count: T)))
        let pre = (0..<T).map { Array(flat[($0 * V)..<(($0 + 1) * V)]) }
        let baseOurs = try engineLogits(base, ids)
        let effect = meanAbsDiff(pre, baseOurs)
        XCTAssertGreaterThan(effect, 0.5, "the random LoRA must change the logits")

        let adapter = exportTempPath("smol-adapter")
        let merged = exportTempPath("smol-f16")
        defer { for p in [adapter, merged] { try? FileManager.default.removeItem(atPath: p) } }
        try exportLoRAAdapter(model: tm, base: base.file, to: adapter, alpha: lora.alpha)
        let adapted = try Model(path: basePath, adapters: [(adapter, 1)])
        let ours = try engineLogits(adapted, ids)
        XCTAssertLessThan(maxAbsDiff(ours, pre), 2e-2, "base + adapter in our engine = the trainable model")
        // A trainable copy of the adapted model starts from the merged weights, not the file's.
        let again = try TrainModel(model: adapted, seed: 1)
        let flatAgain = try again.logits(TrainBatch(rows: 1, length: T, inputs: ids.map(Int32.init), targets: Array(repeating: -1, count: T)))
        XCTAssertLessThan(meanAbsDiff((0..<T).map { Array(flatAgain[($0 * V)..<(($0 + 1) * V)]) }, pre), 1e-3,
                          "TrainModel(model:) keeps adapters merged at load")

        try exportGGUF(model: tm, base: base.file, to: merged, type: .f16)
        let mergedOurs = try engineLogits(try Model(path: merged), ids)
        XCTAssertLessThan(meanAbsDiff(mergedOurs, pre), 0.02, "merged F16 export = the trainable model, to F16 rounding")

        try LlamaCpp.requireAvailable()
        // llama.cpp quantizes activations inside its matmuls, so it differs from an fp32 engine even on
        // the base; the adapter must not add more than that, and must move llama.cpp's logits as ours.
        let llama = try LlamaCpp.logits([
            .init(model: basePath, ids: ids, vocab: V),
            .init(model: basePath, lora: adapter, ids: ids, vocab: V),
            .init(model: merged, ids: ids, vocab: V),
        ])
        let (baseLlama, withAdapter, mergedLlama) = (llama[0], llama[1], llama[2])
        let floor = meanAbsDiff(baseLlama, baseOurs)
        let errAdapter = meanAbsDiff(withAdapter, ours)
        XCTAssertLessThan(errAdapter, 2 * floor + 0.02, "llama.cpp base + adapter vs ours (base disagreement \(floor))")
        XCTAssertLessThan(errAdapter * 5, effect, "the adapter's effect dominates the disagreement")
        XCTAssertLessThan(meanAbsDiff(mergedLlama, mergedOurs), 0.05, "llama.cpp reads the merged F16 export as we do")
        let agree = zip(withAdapter, ours).filter { a, b in
            a.indices.max { a[$0] < a[$1] }! == b.indices.max { b[$0] < b[$1] }!
        }.count
        XCTAssertGreaterThanOrEqual(Double(agree), 0.8 * Double(T), "argmax with the adapter agrees at most positions")
        print("SmolLM2 export: effect \(effect), base floor \(floor), adapter err \(errAdapter), merged llama err \(meanAbsDiff(mergedLlama, mergedOurs))")
    }
}
