import Foundation
import XCTest
import GGUF
import Kernels
import Transformer
import Training

/// Small deterministic random source for tests.
struct TestRNG {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    mutating func sym() -> Double { Double(next() >> 11) / 4503599627370496.0 - 1 }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

enum Tiny {
    /// Tiny Llama: GQA (2 query heads per kv head), interleaved rope, untied head.
    static func llama(vocab: Int = 13, layers: Int = 2) -> ModelConfig {
        ModelConfig(architecture: .llama, vocabularySize: vocab, dim: 8, layerCount: layers, headCount: 4,
                    kvHeadCount: 2, headDim: 4, ffnDim: 12)
    }
    /// Tiny Qwen2: q/k/v biases, halves rope, partial rope, linear rope scaling.
    static func qwen2(vocab: Int = 13) -> ModelConfig {
        ModelConfig(architecture: .qwen2, vocabularySize: vocab, dim: 8, layerCount: 2, headCount: 2,
                    kvHeadCount: 1, headDim: 4, ffnDim: 10, ropeBase: 100, ropeScale: 0.5, ropeDims: 2)
    }
    /// Tiny Gemma 3: QK norm, post-norms, GELU, embedding scale, a sliding window of 3 on layer 0
    /// (shorter than the sequences used), a different local rope base, head width ≠ dim/heads.
    static func gemma3(vocab: Int = 13, window: Int = 3) -> ModelConfig {
        ModelConfig(architecture: .gemma3, vocabularySize: vocab, dim: 8, layerCount: 2, headCount: 2,
                    kvHeadCount: 1, headDim: 6, ffnDim: 12, normEpsilon: 1e-6, ropeBase: 1000, ropeBaseLocal: 50,
                    slidingWindow: window, slidingLayers: [true, false])
    }

    static func batch(_ c: ModelConfig, rows: Int, length: Int, seed: UInt64, maskEvery: Int = 3) -> TrainBatch {
        var rng = TestRNG(seed)
        let inputs = (0..<(rows * length)).map { _ in Int32(rng.int(c.vocabularySize)) }
        let targets = (0..<(rows * length)).map { i in i % maskEvery == 1 ? Int32(-1) : Int32(rng.int(c.vocabularySize)) }
        return TrainBatch(rows: rows, length: length, inputs: inputs, targets: targets, seed: seed &+ 7)
    }

    /// Moves every tensor (trainable and frozen) away from its initial value, so that norms are not
    /// all 1 and LoRA B is not 0 (which would hide gradient paths).
    static func perturb<S: TrainScalar>(_ net: TrainNetwork<S>, seed: UInt64, scale: Double = 0.3) throws {
        var rng = TestRNG(seed)
        for t in net.allTensorNames {
            let v = net.values(of: t.name)!
            let isNorm = t.shape.count == 1 && !t.name.hasSuffix(".bias")
            try net.setValues(of: t.name, v.map { x in
                isNorm ? S(1 + 0.3 * rng.sym()) : x + S(scale * rng.sym())
            })
        }
    }
}

/// Writes a network's merged tensors as a GGUF model file the inference engine can load
/// (byte-level GPT-2 tokenizer over a 260-token vocabulary).
func writeGGUF(_ model: TrainModel, to path: String) throws {
    let c = model.config
    let arch = c.architecture.rawValue
    var w = GGUFWriter()
    w.setMetadata("general.architecture", .string(arch))
    w.setMetadata("\(arch).embedding_length", .uint32(UInt32(c.dim)))
    w.setMetadata("\(arch).block_count", .uint32(UInt32(c.layerCount)))
    w.setMetadata("\(arch).feed_forward_length", .uint32(UInt32(c.ffnDim)))
    w.setMetadata("\(arch).attention.head_count", .uint32(UInt32(c.headCount)))
    w.setMetadata("\(arch).attention.head_count_kv", .uint32(UInt32(c.kvHeadCount)))
    w.setMetadata("\(arch).attention.key_length", .uint32(UInt32(c.headDim)))
    w.setMetadata("\(arch).attention.value_length", .uint32(UInt32(c.valueHeadDim)))
    w.setMetadata("\(arch).attention.layer_norm_rms_epsilon", .float32(c.normEpsilon))
    w.setMetadata("\(arch).rope.freq_base", .float32(c.ropeBase))
    w.setMetadata("\(arch).rope.dimension_count", .uint32(UInt32(c.ropeDims)))
    w.setMetadata("\(arch).context_length", .uint32(UInt32(c.contextLength)))
    if c.ropeScale != 1 {
        w.setMetadata("\(arch).rope.scaling.type", .string("linear"))
        w.setMetadata("\(arch).rope.scaling.factor", .float32(1 / c.ropeScale))
    }
    if c.architecture == .gemma3 {
        w.setMetadata("\(arch).attention.sliding_window", .uint32(UInt32(c.slidingWindow ?? 512)))
        w.setMetadata("\(arch).attention.sliding_window_pattern", .uint32(2))
        w.setMetadata("\(arch).rope.freq_base_swa", .float32(c.ropeBaseLocal))
    }
    var tokens: [String] = []
    for b in 0..<256 { tokens.append(byteSymbol(UInt8(b))) }
    tokens += ["<s>", "</s>", "<pad>", "<unk>"]
    precondition(c.vocabularySize == tokens.count)
    w.setMetadata("tokenizer.ggml.model", .string("gpt2"))
    w.setMetadata("tokenizer.ggml.pre", .string("default"))
    w.setMetadata("tokenizer.ggml.tokens", .array(tokens.map { .string($0) }))
    w.setMetadata("tokenizer.ggml.token_type", .array((0..<260).map { .int32($0 < 256 ? 1 : 3) }))
    w.setMetadata("tokenizer.ggml.merges", .array([]))
    w.setMetadata("tokenizer.ggml.bos_token_id", .uint32(256))
    w.setMetadata("tokenizer.ggml.eos_token_id", .uint32(257))
    for t in model.mergedTensors() {
        try w.addTensor(name: t.name, shape: t.shape, values: t.values, type: .f32)
    }
    try w.write(to: path)
}

/// GPT-2's byte-to-symbol mapping.
func byteSymbol(_ b: UInt8) -> String {
    let printable = Array(33...126) + Array(161...172) + Array(174...255)
    if printable.contains(Int(b)) { return String(UnicodeScalar(b)) }
    var n = 0
    for x in 0..<256 where !printable.contains(x) {
        if x == Int(b) { return String(UnicodeScalar(UInt32(256 + n))!) }
        n += 1
    }
    fatalError()
}

func tempPath(_ stem: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("\(stem)-\(UUID().uuidString).gguf").path
}
