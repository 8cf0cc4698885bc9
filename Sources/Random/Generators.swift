import Foundation

// The project's seeded random generators. Every seeded thing in Hyperlab (corpora, scenario variants,
// samplers, weight initialisation, data order, bootstrap resampling) draws from these two, so a seed names
// the same result on every platform and Swift version: nothing here calls the standard library's
// `random(in:using:)` or `shuffled(using:)`, whose algorithms are not guaranteed stable.

/// SplitMix64: a tiny 64-bit generator. Seeds `Xoshiro256`, derives sub-seeds, and serves where a small
/// generator whose whole state is one word is handy (checkpointed data order, bootstrap resampling).
public struct SplitMix64: RandomNumberGenerator, Sendable, Codable, Equatable {
    /// The current state.
    public var state: UInt64
    /// Starts from `seed`.
    public init(seed: UInt64) { state = seed }

    /// SplitMix64's output function (a strong 64-bit mixer), also useful on its own for hashing.
    @inlinable public static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next 64 random bits.
    @inlinable public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// A uniform double in [0, 1) with 53 random bits.
    @inlinable public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A uniform index in 0..<n (n > 0) by multiply-shift on the high 32 bits (bias below 2⁻³² for small n).
    public mutating func index(_ n: Int) -> Int { Int(((next() >> 32) &* UInt64(n)) >> 32) }

    /// A standard normal draw (Box–Muller, one value per two uniforms).
    public mutating func normal() -> Double {
        let u1 = max(unit(), 1e-300), u2 = unit()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}

/// xoshiro256** seeded through SplitMix64: the generator for long streams (corpora, scenarios, sampling).
public struct Xoshiro256: RandomNumberGenerator, Sendable {
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// Seeds the four state words from SplitMix64(seed).
    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
    }

    /// Seeds from a base seed and a text label (e.g. an arm id and a document index), so that each stream
    /// is independent of how many values other streams drew.
    public init(seed: UInt64, label: String) {
        self.init(seed: seed ^ Xoshiro256.labelHash(label))
    }

    /// FNV-1a 64 of the label's UTF-8 bytes, mixed through SplitMix64.
    public static func labelHash(_ label: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in label.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        var sm = SplitMix64(seed: h)
        return sm.next()
    }

    @inlinable static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The next 64 random bits.
    @inlinable public mutating func next() -> UInt64 {
        let result = Xoshiro256.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = Xoshiro256.rotl(s3, 45)
        return result
    }

    /// A uniform integer in `0..<n` (n > 0), by Lemire's multiply-and-reject method (platform independent).
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0, "below(0)")
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// A uniform integer in the closed range.
    public mutating func int(in range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.count) }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// True with probability p.
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// A uniformly chosen element (the array must not be empty).
    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// An index chosen with probability proportional to `weights` (non-negative, not all zero).
    public mutating func weightedIndex(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        precondition(total > 0, "weights sum to zero")
        var r = unit() * total
        for (i, w) in weights.enumerated() {
            if r < w { return i }
            r -= w
        }
        return weights.lastIndex(where: { $0 > 0 }) ?? 0
    }

    /// A Fisher–Yates shuffle of the array.
    public mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) { items.swapAt(i, below(i + 1)) }
    }
}
