import Foundation
import Kernels
// Samplers draw from the project's seeded generators; users of Transformer get them with it.
@_exported import Random

/// How the next token is chosen.
///
/// With `temperature` ≤ 0 the choice is greedy (argmax). Otherwise logits are divided by the
/// temperature, turned into probabilities, and filtered in this order: top-k (keep the k most likely;
/// 0 = off), top-p (keep the smallest set whose mass reaches p; 1 = off), min-p (drop tokens below
/// `minP` × the top probability; 0 = off). One draw from the renormalized rest, with the seeded RNG.
public struct SamplingParameters: Sendable, Codable, Equatable {
    public var temperature: Double
    public var topK: Int
    public var topP: Double
    public var minP: Double
    public var seed: UInt64

    public init(temperature: Double = 0.8, topK: Int = 0, topP: Double = 1, minP: Double = 0, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.seed = seed
    }

    public static let greedy = SamplingParameters(temperature: 0)
}

/// Draws tokens from logits under `SamplingParameters`, keeping its own RNG state.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var rng: Xoshiro256

    public init(_ parameters: SamplingParameters, stream: UInt64 = 0) {
        self.parameters = parameters
        // Each stream of a multi-sample request has its own sequence of draws, independent of batching.
        self.rng = Xoshiro256(seed: parameters.seed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
    }

    /// The index of the largest value (the first one on ties).
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        guard let p = logits.baseAddress else { return 0 }
        return Kernels.argmax(p, count: logits.count).index
    }

    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int {
        let p = parameters
        let n = logits.count
        if p.temperature <= 0 || n == 0 { return Sampler.argmax(logits) }
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { buffer -> Int in
            let probs = buffer.baseAddress!
            // Unnormalized probabilities e = exp((logit − max)/T): the top token maps to 1.
            let (_, total) = scaledExp(logits.baseAddress!, count: n, scale: Float(1 / p.temperature), into: probs)
            guard total.isFinite, total > 0 else { return Sampler.argmax(logits) }
            if p.minP <= 0 && (p.topK <= 0 || p.topK >= n) && p.topP >= 1 {
                return drawAll(UnsafePointer(probs), n, total: total)
            }
            var candidates: [Int]
            if p.minP > 0 {
                let floor = Float(p.minP)
                candidates = (0..<n).filter { probs[$0] >= floor }
            } else {
                candidates = Array(0..<n)
            }
            let needTop = (p.topK > 0 && p.topK < candidates.count) || p.topP < 1
            if needTop {
                var k = p.topK > 0 ? min(p.topK, candidates.count) : min(64, candidates.count)
                while true {
                    let top = Sampler.largest(k, of: candidates, by: UnsafePointer(probs))
                    if p.topP >= 1 { candidates = top; break }
                    var mass: Double = 0
                    var cut = top.count
                    for (j, id) in top.enumerated() {
                        mass += Double(probs[id]) / total
                        if mass >= p.topP { cut = j + 1; break }
                    }
                    if cut < top.count || mass >= p.topP || k >= candidates.count || (p.topK > 0 && k == p.topK) {
                        candidates = Array(top.prefix(cut))
                        break
                    }
                    k = min(candidates.count, k * 4)
                }
            }
            var kept: Double = 0
            for id in candidates { kept += Double(probs[id]) }
            var u = rng.unit() * kept
            for id in candidates {
                u -= Double(probs[id])
                if u < 0 { return id }
            }
            return candidates.last ?? Sampler.argmax(logits)
        }
    }

    /// One draw from the whole vocabulary in proportion to `probs` (Σ = `total`, as `scaledExp` sums it):
    /// whole 64-token blocks are skipped by their sums, then the chosen block is walked token by token.
    private mutating func drawAll(_ probs: UnsafePointer<Float>, _ n: Int, total: Double) -> Int {
        var u = rng.unit() * total
        var i = 0
        while i + 64 <= n {
            var a = SIMD8<Float>()
            var j = i
            while j < i + 64 { a += UnsafeRawPointer(probs + j).loadUnaligned(as: SIMD8<Float>.self); j += 8 }
            let bs = Double(a.sum())
            if u < bs, let k = Sampler.walk(probs + i, 64, u) { return i + k }
            u -= bs
            i += 64
        }
        if let k = Sampler.walk(probs + i, n - i, u) { return i + k }
        // Rounding left u just past the last mass: take the last token that has some (total > 0, so one does).
        var last = n - 1
        while last > 0 && probs[last] <= 0 { last -= 1 }
        return last
    }

    /// The index in probs[0..<count] where the running sum first exceeds `u`; if it never does (rounding),
    /// the last index with mass; nil when none has any.
    private static func walk(_ probs: UnsafePointer<Float>, _ count: Int, _ u0: Double) -> Int? {
        var u = u0
        var last: Int? = nil
        for j in 0..<count where probs[j] > 0 {
            u -= Double(probs[j])
            if u < 0 { return j }
            last = j
        }
        return last
    }

    /// The `k` ids with the largest values, in descending order (ties by lower id).
    static func largest(_ k: Int, of ids: [Int], by value: UnsafePointer<Float>) -> [Int] {
        if k >= ids.count {
            return ids.sorted { value[$0] != value[$1] ? value[$0] > value[$1] : $0 < $1 }
        }
        // A min-heap of the best k seen so far.
        var heap: [Int] = []
        heap.reserveCapacity(k)
        func less(_ a: Int, _ b: Int) -> Bool { value[a] != value[b] ? value[a] < value[b] : a > b }
        func siftDown(_ i0: Int) {
            var i = i0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && less(heap[l], heap[m]) { m = l }
                if r < heap.count && less(heap[r], heap[m]) { m = r }
                if m == i { return }
                heap.swapAt(i, m); i = m
            }
        }
        for id in ids {
            if heap.count < k {
                heap.append(id)
                var i = heap.count - 1
                while i > 0 {
                    let parent = (i - 1) / 2
                    if less(heap[i], heap[parent]) { heap.swapAt(i, parent); i = parent } else { break }
                }
            } else if less(heap[0], id) {
                heap[0] = id
                siftDown(0)
            }
        }
        return heap.sorted { value[$0] != value[$1] ? value[$0] > value[$1] : $0 < $1 }
    }
}
