import Foundation
import Kernels
import Training

/// Hyperparameters of AdamW (Loshchilov & Hutter): Adam moments with bias correction and weight decay
/// applied directly to the weights ("decoupled"), scaled by the learning rate as PyTorch does.
public struct AdamWConfig: Sendable, Codable, Equatable {
    /// Peak learning rate (the schedule multiplies it; `AdamW.step` takes the value to use).
    public var learningRate: Float
    /// Decay rate of the first moment (mean of gradients).
    public var beta1: Float
    /// Decay rate of the second moment (mean of squared gradients).
    public var beta2: Float
    /// Added to the root of the second moment to avoid division by zero.
    public var epsilon: Float
    /// Decoupled weight decay coefficient: each step multiplies a decayed weight by `1 - lr * weightDecay`.
    public var weightDecay: Float
    /// Whether the token embedding table (`token_embd.*`) is decayed. Other tensors follow their own
    /// `ParameterTensor.decay` flag.
    public var decayEmbeddings: Bool

    /// Makes a configuration; defaults follow common practice for small language models.
    public init(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.95, epsilon: Float = 1e-8,
                weightDecay: Float = 0.1, decayEmbeddings: Bool = false) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.weightDecay = weightDecay; self.decayEmbeddings = decayEmbeddings
    }
}

/// Errors of the optimizer and of checkpoint restoration into it.
public enum OptimizerError: Error, CustomStringConvertible, Equatable {
    /// A tensor lies outside the flat parameter buffer.
    case tensorOutOfRange(name: String, offset: Int, count: Int, parameterCount: Int)
    /// Restored moments do not have the optimizer's length.
    case momentSizeMismatch(expected: Int, got: Int)

    public var description: String {
        switch self {
        case let .tensorOutOfRange(name, offset, count, n):
            return "tensor \(name) spans [\(offset), \(offset + count)) outside the \(n) trainable parameters"
        case let .momentSizeMismatch(e, g):
            return "optimizer moments have \(g) elements, expected \(e)"
        }
    }
}

/// AdamW over a flat fp32 parameter buffer, with first and second moments of the same layout.
///
/// The update is element-wise, so it is split into fixed chunks spread over the thread pool; results do
/// not depend on the number of threads. Elements not covered by any tensor are left untouched.
public final class AdamW {
    /// The hyperparameters (the learning rate passed to `step` overrides `config.learningRate`).
    public let config: AdamWConfig
    /// The tensors being optimised, in buffer order.
    public let tensors: [ParameterTensor]
    /// Length of the parameter, gradient and moment buffers.
    public let parameterCount: Int
    /// Number of updates taken so far (bias correction uses `stepCount` after increment).
    public var stepCount: Int = 0
    /// First moment, `parameterCount` elements (read and written by checkpoints).
    public let m: UnsafeMutablePointer<Float>
    /// Second moment, `parameterCount` elements.
    public let v: UnsafeMutablePointer<Float>

    /// Contiguous runs of elements with the same decay setting.
    struct Segment { var start: Int; var count: Int; var decay: Bool }
    let chunks: [Segment]
    let pool: ThreadPool

    /// Elements per parallel work item.
    static let chunkSize = 1 << 14

    /// Creates the optimizer with zeroed moments. Every tensor must lie inside `0..<parameterCount`
    /// (a violation is a programming error and traps with `OptimizerError.tensorOutOfRange`'s message).
    public init(tensors: [ParameterTensor], parameterCount: Int, config: AdamWConfig, pool: ThreadPool = .shared) {
        self.config = config
        self.tensors = tensors
        self.parameterCount = parameterCount
        self.pool = pool
        m = .allocate(capacity: max(parameterCount, 1)); m.initialize(repeating: 0, count: max(parameterCount, 1))
        v = .allocate(capacity: max(parameterCount, 1)); v.initialize(repeating: 0, count: max(parameterCount, 1))
        var chunks: [Segment] = []
        for t in tensors.sorted(by: { $0.offset < $1.offset }) {
            precondition(t.offset >= 0 && t.count >= 0 && t.offset + t.count <= parameterCount,
                         OptimizerError.tensorOutOfRange(name: t.name, offset: t.offset, count: t.count,
                                                         parameterCount: parameterCount).description)
            let decay = AdamW.isEmbedding(t.name) ? config.decayEmbeddings : t.decay
            var s = t.offset
            while s < t.offset + t.count {
                let n = min(AdamW.chunkSize, t.offset + t.count - s)
                chunks.append(Segment(start: s, count: n, decay: decay))
                s += n
            }
        }
        self.chunks = chunks
    }

    deinit { m.deallocate(); v.deallocate() }

    /// Whether a tensor name denotes the token embedding table.
    public static func isEmbedding(_ name: String) -> Bool { name.hasPrefix("token_embd.") }

    /// Whether weight decay applies to `tensor` under this optimizer's configuration.
    public func decays(_ tensor: ParameterTensor) -> Bool {
        AdamW.isEmbedding(tensor.name) ? config.decayEmbeddings : tensor.decay
    }

    /// Resets moments and step count.
    public func reset() {
        m.update(repeating: 0, count: parameterCount)
        v.update(repeating: 0, count: parameterCount)
        stepCount = 0
    }

    /// Restores moments and step count (from a checkpoint).
    public func restore(m mValues: [Float], v vValues: [Float], stepCount: Int) throws {
        guard mValues.count == parameterCount else { throw OptimizerError.momentSizeMismatch(expected: parameterCount, got: mValues.count) }
        guard vValues.count == parameterCount else { throw OptimizerError.momentSizeMismatch(expected: parameterCount, got: vValues.count) }
        mValues.withUnsafeBufferPointer { m.update(from: $0.baseAddress!, count: parameterCount) }
        vValues.withUnsafeBufferPointer { v.update(from: $0.baseAddress!, count: parameterCount) }
        self.stepCount = stepCount
    }

    /// Takes one AdamW step: increments `stepCount`, updates the moments from `gradients` and moves
    /// `parameters` (both `parameterCount` long) with learning rate `learningRate`.
    public func step(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, learningRate: Float) {
        stepCount += 1
        let b1 = config.beta1, b2 = config.beta2, eps = config.epsilon
        let t = Double(stepCount)
        let c1 = Float(1 / (1 - pow(Double(b1), t)))
        let c2 = Float(1 / (1 - pow(Double(b2), t)))
        let lr = learningRate
        let wdFactor = 1 - learningRate * config.weightDecay
        let m = self.m, v = self.v
        let chunks = self.chunks
        pool.parallelFor(chunks.count) { ci in
            let seg = chunks[ci]
            AdamW.update(p: parameters + seg.start, g: gradients + seg.start, m: m + seg.start, v: v + seg.start,
                         count: seg.count, b1: b1, b2: b2, c1: c1, c2: c2, eps: eps, lr: lr,
                         decayFactor: seg.decay ? wdFactor : 1)
        }
    }

    @inline(__always)
    static func update(p: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>,
                       v: UnsafeMutablePointer<Float>, count: Int, b1: Float, b2: Float, c1: Float, c2: Float,
                       eps: Float, lr: Float, decayFactor: Float) {
        let vb1 = SIMD8<Float>(repeating: b1), va1 = SIMD8<Float>(repeating: 1 - b1)
        let vb2 = SIMD8<Float>(repeating: b2), va2 = SIMD8<Float>(repeating: 1 - b2)
        let vc1 = SIMD8<Float>(repeating: c1), vc2 = SIMD8<Float>(repeating: c2)
        let veps = SIMD8<Float>(repeating: eps), vlr = SIMD8<Float>(repeating: lr)
        let vdf = SIMD8<Float>(repeating: decayFactor)
        var i = 0
        while i + 8 <= count {
            let gi = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
            var mi = UnsafeRawPointer(m + i).loadUnaligned(as: SIMD8<Float>.self)
            var vi = UnsafeRawPointer(v + i).loadUnaligned(as: SIMD8<Float>.self)
            let pi = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
            mi = vb1 * mi + va1 * gi
            vi = vb2 * vi + va2 * gi * gi
            let upd = (mi * vc1) / ((vi * vc2).squareRoot() + veps)
            let pn = pi * vdf - vlr * upd
            UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(p + i).storeBytes(of: pn, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            let gi = g[i]
            let mi = b1 * m[i] + (1 - b1) * gi
            let vi = b2 * v[i] + (1 - b2) * gi * gi
            m[i] = mi; v[i] = vi
            p[i] = p[i] * decayFactor - lr * ((mi * c1) / ((vi * c2).squareRoot() + eps))
            i += 1
        }
    }
}

/// Gradient utilities over flat buffers. Sums use fixed chunks added in order, so results do not
/// depend on the number of threads.
public enum Gradients {
    static let chunkSize = 1 << 14

    /// The Euclidean norm of `count` values.
    public static func globalNorm(_ g: UnsafePointer<Float>, count: Int, pool: ThreadPool = .shared) -> Double {
        let nChunks = (count + chunkSize - 1) / chunkSize
        if nChunks == 0 { return 0 }
        var partial = [Double](repeating: 0, count: nChunks)
        partial.withUnsafeMutableBufferPointer { out in
            let o = out.baseAddress!
            pool.parallelFor(nChunks) { c in
                let lo = c * chunkSize, n = min(chunkSize, count - lo)
                let base = g + lo
                var acc = SIMD8<Float>.zero
                var sum = 0.0
                var i = 0
                // Float lanes over blocks of 512, flushed to Double, keep both speed and accuracy.
                while i < n {
                    let end = min(n, i + 512)
                    acc = .zero
                    var j = i
                    while j + 8 <= end {
                        let x = UnsafeRawPointer(base + j).loadUnaligned(as: SIMD8<Float>.self)
                        acc += x * x
                        j += 8
                    }
                    var s = Double(acc.sum())
                    while j < end { s += Double(base[j] * base[j]); j += 1 }
                    sum += s
                    i = end
                }
                o[c] = sum
            }
        }
        var total = 0.0
        for p in partial { total += p }
        return total.squareRoot()
    }

    /// Scales `count` values in place.
    public static func scale(_ g: UnsafeMutablePointer<Float>, count: Int, by s: Float, pool: ThreadPool = .shared) {
        let nChunks = (count + chunkSize - 1) / chunkSize
        pool.parallelFor(nChunks) { c in
            let lo = c * chunkSize, n = min(chunkSize, count - lo)
            let base = g + lo
            let vs = SIMD8<Float>(repeating: s)
            var i = 0
            while i + 8 <= n {
                let x = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(base + i).storeBytes(of: x * vs, as: SIMD8<Float>.self)
                i += 8
            }
            while i < n { base[i] *= s; i += 1 }
        }
    }

    /// Clips to a maximum global norm: when the norm exceeds `maxNorm` (> 0) every value is scaled by
    /// `maxNorm / norm`. Returns the norm before clipping. A non-positive `maxNorm` only measures.
    @discardableResult
    public static func clip(_ g: UnsafeMutablePointer<Float>, count: Int, maxNorm: Double, pool: ThreadPool = .shared) -> Double {
        let norm = globalNorm(g, count: count, pool: pool)
        if maxNorm > 0, norm > maxNorm, norm.isFinite {
            scale(g, count: count, by: Float(maxNorm / norm), pool: pool)
        }
        return norm
    }
}

/// The shape of the learning-rate curve over training.
public enum ScheduleKind: String, Sendable, Codable, CaseIterable {
    /// The peak rate throughout (after warmup).
    case constant
    /// Half-cosine from the peak down to `minRatio × peak` at the last step.
    case cosine
    /// Straight line from the peak down to `minRatio × peak` at the last step.
    case linear
}

/// A learning-rate schedule: linear warmup from near zero to the peak over `warmupSteps`, then decay.
public struct LRSchedule: Sendable, Codable, Equatable {
    public var kind: ScheduleKind
    /// Peak learning rate.
    public var peak: Float
    /// Number of warmup steps (0 for none).
    public var warmupSteps: Int
    /// Total number of optimizer steps in the run.
    public var totalSteps: Int
    /// Final rate as a fraction of the peak (cosine and linear).
    public var minRatio: Float

    public init(kind: ScheduleKind, peak: Float, warmupSteps: Int = 0, totalSteps: Int, minRatio: Float = 0.1) {
        self.kind = kind; self.peak = peak; self.warmupSteps = max(0, warmupSteps)
        self.totalSteps = max(1, totalSteps); self.minRatio = minRatio
    }

    /// The rate for optimizer step `step` (1-based: the first update is step 1).
    public func rate(at step: Int) -> Float {
        if warmupSteps > 0 && step <= warmupSteps {
            return peak * Float(step) / Float(warmupSteps)
        }
        let decaySteps = totalSteps - warmupSteps
        if kind == .constant || decaySteps <= 0 { return peak }
        let progress = min(1, max(0, Double(step - warmupSteps) / Double(decaySteps)))
        let floor = Double(peak * minRatio), top = Double(peak)
        switch kind {
        case .constant: return peak
        case .linear: return Float(top - (top - floor) * progress)
        case .cosine: return Float(floor + (top - floor) * 0.5 * (1 + cos(Double.pi * progress)))
        }
    }
}
