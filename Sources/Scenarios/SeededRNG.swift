import Random

/// A small, platform-independent pseudo-random generator for rendering scenarios.
///
/// The state is the project's `Xoshiro256` (xoshiro256** seeded through SplitMix64). Every helper here
/// (`int(below:)`, `pick`, `shuffle`) is written out explicitly so that the same seed gives the
/// same scenario on every platform and Swift version: we never call the standard library's
/// `random(in:using:)` or `shuffled(using:)`, whose algorithms are not guaranteed stable.
public struct SeededRNG: Sendable {
    private var core: Xoshiro256

    /// Creates a generator from a 64-bit seed (any value, including 0, is fine).
    public init(seed: UInt64) { core = Xoshiro256(seed: seed) }

    /// Creates a generator for one (seed, stream, variant) triple: distinct streams give
    /// independent sequences from the same user seed.
    public init(seed: UInt64, stream: UInt64, variant: UInt64) {
        self.init(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03) ^ (variant &* 0x8CB9_2BA7_2F3D_8DD7))
    }

    /// The next raw 64-bit output (xoshiro256**).
    public mutating func next() -> UInt64 { core.next() }

    /// A uniform integer in `0..<n` (unbiased, by rejection). `n` must be positive.
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0, "SeededRNG.int(below:) needs a positive bound, got \(n)")
        let bound = UInt64(n)
        let limit = UInt64.max - (UInt64.max % bound)
        while true {
            let x = next()
            if x < limit { return Int(x % bound) }
        }
    }

    /// A uniform integer in the closed range.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + int(below: range.upperBound - range.lowerBound + 1)
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool {
        Double(next() >> 11) / Double(1 << 53) < p
    }

    /// One element of a non-empty array.
    public mutating func pick<T>(_ items: [T]) -> T {
        items[int(below: items.count)]
    }

    /// A Fisher–Yates shuffle.
    public mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            let j = int(below: i + 1)
            if i != j { items.swapAt(i, j) }
        }
    }

    /// A shuffled copy.
    public mutating func shuffled<T>(_ items: [T]) -> [T] {
        var copy = items
        shuffle(&copy)
        return copy
    }

    /// `k` distinct elements, in random order.
    public mutating func sample<T>(_ items: [T], _ k: Int) -> [T] {
        Array(shuffled(items).prefix(k))
    }
}
