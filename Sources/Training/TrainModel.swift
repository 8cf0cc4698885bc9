import Foundation
import GGUF
import Kernels
import Transformer

/// A trainable fp32 transformer (Llama, Qwen2, Gemma 3): full fine-tuning or LoRA on a frozen base.
///
/// Build it from scratch (`init(config:...)`) or from a loaded inference `Model` (every weight is
/// dequantized to fp32). The math lives in `network`, a `TrainNetwork<Float>`; `doublePrecisionCopy()`
/// gives the same network in Double for gradient checks.
public final class TrainModel: TrainableModel {
    /// The fp32 network that does the work.
    public let network: TrainNetwork<Float>

    public var config: ModelConfig { network.config }
    public var tensors: [ParameterTensor] { network.tensors }
    public var parameterCount: Int { network.parameterCount }
    public var parameters: UnsafeMutablePointer<Float> { network.parameters }
    public var gradients: UnsafeMutablePointer<Float> { network.gradients }
    public var mode: TrainMode { network.mode }

    /// A new model with standard initialisation: weights ~ normal(0, 0.02), the attention output and MLP
    /// down projections scaled by 1/sqrt(2·layers) (GPT-2), norms = 1 (Gemma's GGUF norms are the
    /// multiplier itself), biases = 0; LoRA A ~ uniform(±1/sqrt(k)), B = 0. Deterministic in `seed`.
    public init(config: ModelConfig, mode: TrainMode = .full, freezeEmbeddings: Bool = false, tiedOutput: Bool = true,
                seed: UInt64 = 0, pool: ThreadPool = .shared) throws {
        let depthScale = 1 / (2 * Double(max(1, config.layerCount))).squareRoot()
        network = try TrainNetwork<Float>(config: config, mode: mode, freezeEmbeddings: freezeEmbeddings,
                                          tiedOutput: tiedOutput, hasBiases: config.hasQKVBias, pool: pool) { name, shape, dst in
            let count = shape.reduce(1, *)
            if TrainModel.initLoRA(name, shape, dst, seed) { return }
            if shape.count == 1 {
                let v: Float = name.hasSuffix(".bias") ? 0 : 1
                dst.update(repeating: v, count: count)
                return
            }
            var rng = trainRNG(seed: seed ^ TrainModel.nameHash(name))
            let std = 0.02 * (name.hasSuffix("attn_output.weight") || name.hasSuffix("ffn_down.weight") ? depthScale : 1)
            for i in 0..<count { dst[i] = Float(rng.normal() * std) }
        }
    }

    /// A trainable copy of a loaded model: every weight dequantized to fp32 (a tied output head stays
    /// one tensor), LoRA adapters merged at load included. `seed` drives the LoRA initialisation.
    public init(model: Model, mode: TrainMode = .full, freezeEmbeddings: Bool = false, seed: UInt64 = 0,
                pool: ThreadPool = .shared) throws {
        let file = model.file
        let hasBiases = model.config.hasQKVBias || model.weights.layers.first?.bq != nil
        network = try TrainNetwork<Float>(config: model.config, mode: mode, freezeEmbeddings: freezeEmbeddings,
                                          tiedOutput: model.weights.tiedOutput, hasBiases: hasBiases, pool: pool) { name, shape, dst in
            if TrainModel.initLoRA(name, shape, dst, seed) { return }
            let count = shape.reduce(1, *)
            // Linear weights come from the engine's own matrices, so adapters merged into `model` at load
            // are trained on, not silently dropped (norms and other vectors are never adapted).
            if let w = model.weights.linear(named: name), w.n * w.k == count, w.type == .f32 || kernelsSupport(w.type) {
                w.copyFloats(into: dst, pool: pool)
                return
            }
            guard let t = file.tensor(named: name) else { throw ModelError.missingTensor(name) }
            guard t.elementCount == count else { throw ModelError.badTensorShape(name: name, expected: shape, found: t.shape) }
            if kernelsSupport(t.type), t.type.byteCount(elements: t.rowLength) != nil {
                let raw = file.rawData(for: t)
                dequantizeRows(type: t.type, weights: raw.baseAddress!, k: t.rowLength, rowStart: 0,
                               rowCount: t.rowCount, into: dst, pool: pool)
            } else {
                let v = try file.dequantize(t)
                v.withUnsafeBufferPointer { dst.update(from: $0.baseAddress!, count: count) }
            }
        }
    }

    /// Fills a LoRA tensor (A uniform ±1/sqrt(k), B zero); false for other names.
    static func initLoRA(_ name: String, _ shape: [Int], _ dst: UnsafeMutablePointer<Float>, _ seed: UInt64) -> Bool {
        let count = shape.reduce(1, *)
        if name.hasSuffix(".lora_b") { dst.update(repeating: 0, count: count); return true }
        guard name.hasSuffix(".lora_a") else { return false }
        var rng = trainRNG(seed: seed ^ nameHash(name))
        let bound = 1 / Double(shape[0]).squareRoot()
        for i in 0..<count { dst[i] = Float((rng.unit() * 2 - 1) * bound) }
        return true
    }

    static func nameHash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return mix64(h)
    }

    public func zeroGradients() { network.zeroGradients() }

    public func forwardBackward(_ batch: TrainBatch, gradScale: Float) throws -> LossResult {
        try network.forwardBackward(batch, gradScale: gradScale)
    }

    public func loss(_ batch: TrainBatch) throws -> LossResult { try network.loss(batch) }

    /// Logits at every position (rows·length × vocabulary, row-major), no dropout.
    public func logits(_ batch: TrainBatch) throws -> [Float] { try network.logits(batch) }

    public func mergedTensors() -> [(name: String, shape: [Int], values: [Float])] { network.mergedTensors() }

    /// The same network in Double precision (for gradient checks).
    public func doublePrecisionCopy() throws -> TrainNetwork<Double> { try network.converted(to: Double.self) }

    /// Frees the activation buffers kept between passes (they are rebuilt on the next pass).
    public func releaseActivations() { network.releaseActivations() }
}
