import Foundation
import Training
import Transformer
import Trainer

/// A bigram language model with exact gradients: logits(next | prev) = W[prev] + b. W decays, b does not.
final class BigramDouble: TrainableModel {
    let vocab: Int
    let config: ModelConfig
    let tensors: [ParameterTensor]
    let parameterCount: Int
    let parameters: UnsafeMutablePointer<Float>
    let gradients: UnsafeMutablePointer<Float>

    init(vocab: Int, seed: UInt64 = 1) throws {
        self.vocab = vocab
        config = try scratchConfig(vocabularySize: vocab, dim: 8, layers: 1, heads: 2, kvHeads: 2, ffn: 8, context: 64)
        tensors = [ParameterTensor(name: "blk.0.bigram.weight", shape: [vocab, vocab], offset: 0, count: vocab * vocab, decay: true),
                   ParameterTensor(name: "blk.0.bigram.bias", shape: [vocab], offset: vocab * vocab, count: vocab, decay: false)]
        parameterCount = vocab * vocab + vocab
        parameters = .allocate(capacity: parameterCount)
        gradients = .allocate(capacity: parameterCount)
        var g = DataRNG(seed: seed)
        for i in 0..<parameterCount { parameters[i] = Float(Double(g.next() >> 11) / Double(1 << 53) - 0.5) * 0.1 }
        gradients.initialize(repeating: 0, count: parameterCount)
    }
    deinit { parameters.deallocate(); gradients.deallocate() }

    func zeroGradients() { gradients.update(repeating: 0, count: parameterCount) }

    func pass(_ batch: TrainBatch, gradScale: Float?) -> LossResult {
        var total = 0.0, n = 0
        var logits = [Double](repeating: 0, count: vocab)
        for i in 0..<(batch.rows * batch.length) {
            let t = Int(batch.targets[i]); if t < 0 { continue }
            let x = Int(batch.inputs[i])
            var mx = -Double.infinity
            for j in 0..<vocab { logits[j] = Double(parameters[x * vocab + j] + parameters[vocab * vocab + j]); mx = max(mx, logits[j]) }
            var z = 0.0
            for j in 0..<vocab { logits[j] = exp(logits[j] - mx); z += logits[j] }
            total += -(log(logits[t] / z)); n += 1
            if let s = gradScale {
                for j in 0..<vocab {
                    let gj = Float(logits[j] / z - (j == t ? 1 : 0)) * s
                    gradients[x * vocab + j] += gj
                    gradients[vocab * vocab + j] += gj
                }
            }
        }
        return LossResult(lossSum: total, tokenCount: n)
    }
    func forwardBackward(_ batch: TrainBatch, gradScale: Float) throws -> LossResult { pass(batch, gradScale: gradScale) }
    func loss(_ batch: TrainBatch) throws -> LossResult { pass(batch, gradScale: nil) }
    func mergedTensors() -> [(name: String, shape: [Int], values: [Float])] {
        tensors.map { t in (t.name, t.shape, Array(UnsafeBufferPointer(start: parameters + t.offset, count: t.count))) }
    }
}

/// A sparse first-order Markov chain over `vocab` symbols: each symbol has 2–3 successors.
func markovStream(vocab: Int, count: Int, seed: UInt64) -> [Int32] {
    var g = DataRNG(seed: seed)
    var succ: [[Int]] = []
    for _ in 0..<vocab { succ.append((0..<(2 + Int(g.next() % 2))).map { _ in Int(g.next() % UInt64(vocab)) }) }
    var out: [Int32] = [0]
    while out.count < count { let s = succ[Int(out.last!)]; out.append(Int32(s[Int(g.next() % UInt64(s.count))])) }
    return out
}

let smolPath = "/root/.cache/hyperlab/models/SmolLM2-135M-Instruct.Q4_1.gguf"

func temporaryDirectory(_ name: String) -> String {
    let d = NSTemporaryDirectory() + "trainer-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}
