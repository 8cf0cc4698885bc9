import Foundation

/// Closed-form estimators: proportions, multiple-comparison adjustments, sample sizes.
public enum Estimators {
    /// An interval.
    public struct Interval: Codable, Hashable, Sendable {
        public var low: Double
        public var high: Double
        public init(low: Double, high: Double) { self.low = low; self.high = high }
        /// True when the interval lies strictly on one side of zero.
        public var excludesZero: Bool { low > 0 || high < 0 }
        /// True when the interval lies within [−margin, margin].
        public func within(_ margin: Double) -> Bool { low >= -margin && high <= margin }
    }

    /// The Wilson score interval for `successes` out of `n` at two-sided `level` (0.95 → 95%).
    /// With n = 0 there is no information: (0, 1).
    public static func wilson(successes: Int, n: Int, level: Double = 0.95) -> Interval {
        guard n > 0 else { return Interval(low: 0, high: 1) }
        let z = Distributions.normalQuantile(1 - (1 - level) / 2)
        let nn = Double(n), p = Double(successes) / nn, z2 = z * z
        let denom = 1 + z2 / nn
        let center = (p + z2 / (2 * nn)) / denom
        let half = z / denom * (p * (1 - p) / nn + z2 / (4 * nn * nn)).squareRoot()
        return Interval(low: max(0, center - half), high: min(1, center + half))
    }

    /// Holm's step-down adjustment (controls the family-wise error rate). Returns adjusted p-values
    /// in the input order; NaN inputs stay NaN and do not count toward the family size.
    public static func holm(_ p: [Double]) -> [Double] {
        let idx = p.indices.filter { !p[$0].isNaN }.sorted { p[$0] < p[$1] }
        let m = idx.count
        var out = [Double](repeating: .nan, count: p.count)
        var running = 0.0
        for (rank, i) in idx.enumerated() {
            running = max(running, min(1, Double(m - rank) * p[i]))
            out[i] = running
        }
        return out
    }

    /// The Benjamini–Hochberg step-up adjustment (controls the false discovery rate). Returns
    /// q-values in the input order; NaN inputs stay NaN and do not count toward the family size.
    public static func benjaminiHochberg(_ p: [Double]) -> [Double] {
        let idx = p.indices.filter { !p[$0].isNaN }.sorted { p[$0] < p[$1] }
        let m = idx.count
        var out = [Double](repeating: .nan, count: p.count)
        var running = 1.0
        for rank in stride(from: m - 1, through: 0, by: -1) {
            let i = idx[rank]
            running = min(running, Double(m) / Double(rank + 1) * p[i])
            out[i] = min(1, running)
        }
        return out
    }

    /// Observations per group needed to detect p1 vs p2 with a two-sided test of level `alpha` at
    /// `power` (normal approximation for two independent proportions, no continuity correction):
    /// n = [z₁₋α/₂·√(2p̄q̄) + z_power·√(p₁q₁ + p₂q₂)]² / (p₁ − p₂)².
    public static func samplesPerGroup(p1: Double, p2: Double, alpha: Double = 0.05, power: Double = 0.8) -> Int? {
        let d = abs(p1 - p2)
        guard d > 0 else { return nil }
        let za = Distributions.normalQuantile(1 - alpha / 2), zb = Distributions.normalQuantile(power)
        let pb = (p1 + p2) / 2
        let a = za * (2 * pb * (1 - pb)).squareRoot() + zb * (p1 * (1 - p1) + p2 * (1 - p2)).squareRoot()
        return Int((a * a / (d * d)).rounded(.up))
    }

    /// Linear-interpolated quantile of sorted values (q in [0, 1]).
    public static func quantile(sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let pos = min(max(q, 0), 1) * Double(sorted.count - 1)
        let lo = Int(pos.rounded(.down)), hi = min(sorted.count - 1, lo + 1)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - Double(lo))
    }

    /// log(p / (1 − p)) with p clamped to [eps, 1 − eps].
    public static func logit(_ p: Double, eps: Double = 1e-6) -> Double {
        let q = min(max(p, eps), 1 - eps)
        return log(q / (1 - q))
    }
}
