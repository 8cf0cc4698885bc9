import Foundation
import Random

/// Distribution functions used by the analysis (standard normal and Student t).
public enum Distributions {
    /// Φ(x), the standard normal CDF.
    public static func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// Φ⁻¹(p), the standard normal quantile, for p in (0, 1) (±∞ at the ends).
    /// A rational start (Abramowitz & Stegun 26.2.23) refined by Newton steps on `normalCDF`.
    public static func normalQuantile(_ p: Double) -> Double {
        if p <= 0 { return -.infinity }
        if p >= 1 { return .infinity }
        if p == 0.5 { return 0 }
        let q = min(p, 1 - p)
        let t = (-2 * log(q)).squareRoot()
        let num: Double = 2.515517 + t * (0.802853 + t * 0.010328)
        let den: Double = 1 + t * (1.432788 + t * (0.189269 + t * 0.001308))
        var x = t - num / den
        if p < 0.5 { x = -x }
        for _ in 0..<4 {
            let density = exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
            guard density > 0 else { break }
            x -= (normalCDF(x) - p) / density
        }
        return x
    }

    /// The regularized incomplete beta function I_x(a, b), by its continued fraction (modified Lentz).
    public static func incompleteBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let lgSum: Double = lgamma(a + b), lgA: Double = lgamma(a), lgB: Double = lgamma(b)
        let lnFront: Double = lgSum - lgA - lgB + a * log(x) + b * log(1 - x)
        // The fraction converges fast for x < (a+1)/(a+b+2); otherwise use the symmetry I_x(a,b) = 1 − I_{1−x}(b,a).
        if x > (a + 1) / (a + b + 2) { return 1 - incompleteBeta(1 - x, b, a) }
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var f = d
        for m in 1...400 {
            let mm = Double(m)
            // Even step.
            var num = mm * (b - mm) * x / ((a + 2 * mm - 1) * (a + 2 * mm))
            d = 1 + num * d; if abs(d) < tiny { d = tiny }
            c = 1 + num / c; if abs(c) < tiny { c = tiny }
            d = 1 / d; f *= d * c
            // Odd step.
            num = -(a + mm) * (a + b + mm) * x / ((a + 2 * mm) * (a + 2 * mm + 1))
            d = 1 + num * d; if abs(d) < tiny { d = tiny }
            c = 1 + num / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            f *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return exp(lnFront) * f / a
    }

    /// The CDF of Student's t with `df` degrees of freedom (df may be fractional; ∞ gives the normal).
    public static func tCDF(_ x: Double, df: Double) -> Double {
        guard df.isFinite, df < 1e7 else { return normalCDF(x) }
        let tail = 0.5 * incompleteBeta(df / (df + x * x), df / 2, 0.5)
        return x >= 0 ? 1 - tail : tail
    }

    /// The quantile of Student's t with `df` degrees of freedom, for p in (0, 1).
    public static func tQuantile(_ p: Double, df: Double) -> Double {
        guard df.isFinite, df < 1e7 else { return normalQuantile(p) }
        if p <= 0 { return -.infinity }
        if p >= 1 { return .infinity }
        if p == 0.5 { return 0 }
        if p < 0.5 { return -tQuantile(1 - p, df: df) }
        var lo = 0.0, hi = max(1.0, normalQuantile(p))
        while tCDF(hi, df: df) < p { lo = hi; hi *= 2; if hi > 1e12 { return hi } }
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if tCDF(mid, df: df) < p { lo = mid } else { hi = mid }
            if hi - lo < 1e-12 * max(1, hi) { break }
        }
        return 0.5 * (lo + hi)
    }

    /// Two-sided p-value of a t statistic.
    public static func twoSidedP(t: Double, df: Double) -> Double {
        guard t.isFinite else { return t.isNaN ? 1 : 0 }
        return min(1, 2 * (1 - tCDF(abs(t), df: df)))
    }
}

/// The bootstrap's generator: the project's SplitMix64 (seeded, deterministic across platforms), whose
/// `index(_:)` draws resampling indices.
public typealias BootstrapRNG = SplitMix64
