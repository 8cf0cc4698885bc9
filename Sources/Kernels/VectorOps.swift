import Foundation

// Small fp32 vector helpers for the transformer: all single-threaded, SIMD8 with scalar tails,
// safe for any length ≥ 0 and for unaligned pointers. Output may alias an input only where noted.

/// Σ a[i]·b[i] over `count` elements.
@inlinable @inline(__always)
public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
    var i = 0
    while i + 16 <= count {
        s0 = s0.addingProduct(vload(a + i), vload(b + i))
        s1 = s1.addingProduct(vload(a + i + 8), vload(b + i + 8))
        i += 16
    }
    if i + 8 <= count {
        s0 = s0.addingProduct(vload(a + i), vload(b + i))
        i += 8
    }
    var s = (s0 + s1).sum()
    while i < count { s += a[i] * b[i]; i += 1 }
    return s
}

/// y[i] += alpha · x[i] over `count` elements.
@inlinable @inline(__always)
public func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    let va = SIMD8<Float>(repeating: alpha)
    var i = 0
    while i + 8 <= count {
        vstore(y + i, vload(UnsafePointer(y + i)).addingProduct(vload(x + i), va))
        i += 8
    }
    while i < count { y[i] += alpha * x[i]; i += 1 }
}

/// out[i] = a[i] + b[i] (`out` may alias `a` or `b`).
@inlinable
public func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + 8 <= count { vstore(out + i, vload(a + i) + vload(b + i)); i += 8 }
    while i < count { out[i] = a[i] + b[i]; i += 1 }
}

/// x[i] *= s in place.
@inlinable
public func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
    let v = SIMD8<Float>(repeating: s)
    var i = 0
    while i + 8 <= count { vstore(x + i, vload(UnsafePointer(x + i)) * v); i += 8 }
    while i < count { x[i] *= s; i += 1 }
}

/// RMS normalization of one row: out[i] = x[i] / sqrt(mean(x²) + eps) · weight[i].
/// Pass `weight: nil` for no weight. For Gemma's "(1 + w)" convention the caller passes 1 + w.
/// Returns the inverse RMS 1/sqrt(mean(x²) + eps) (useful for the backward pass). `out` may alias `x`.
@inlinable @discardableResult
public func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?, eps: Float,
                    into out: UnsafeMutablePointer<Float>, count: Int) -> Float {
    if count == 0 { return 0 }
    let ss = dot(x, x, count: count)
    let inv = 1 / (ss / Float(count) + eps).squareRoot()
    let vi = SIMD8<Float>(repeating: inv)
    var i = 0
    if let w = weight {
        while i + 8 <= count { vstore(out + i, vload(x + i) * vi * vload(w + i)); i += 8 }
        while i < count { out[i] = x[i] * inv * w[i]; i += 1 }
    } else {
        while i + 8 <= count { vstore(out + i, vload(x + i) * vi); i += 8 }
        while i < count { out[i] = x[i] * inv; i += 1 }
    }
    return inv
}

/// The largest of x[0..<count] (−∞ when count is 0; NaN entries may be ignored).
@inlinable @inline(__always)
func maxElement(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var mv = SIMD8<Float>(repeating: -.infinity)
    var i = 0
    while i + 8 <= count { mv = vmax(mv, vload(x + i)); i += 8 }
    var mx = hmax(mv)
    while i < count { mx = Swift.max(mx, x[i]); i += 1 }
    return mx
}

/// Numerically stable softmax in place: x[i] = exp(x[i] − max) / Σ exp(x[j] − max).
/// Returns (max, sum of exp(x − max)), so log Σ exp(x) = max + log(sum). `-infinity` entries become 0;
/// a row that is entirely `-infinity` becomes all zeros and returns (−∞, 0).
@inlinable @discardableResult
public func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) -> (max: Float, sum: Float) {
    if count == 0 { return (-.infinity, 0) }
    let mx = maxElement(x, count: count)
    if mx == -.infinity {
        x.update(repeating: 0, count: count)
        return (mx, 0)
    }
    let vm = SIMD8<Float>(repeating: mx)
    var sv = SIMD8<Float>()
    var i = 0
    while i + 8 <= count {
        let e = vexp(vload(UnsafePointer(x + i)) - vm)
        vstore(x + i, e)
        sv += e
        i += 8
    }
    var sum = sv.sum()
    while i < count {
        let e = expf(x[i] - mx)
        x[i] = e
        sum += e
        i += 1
    }
    scale(x, by: 1 / sum, count: count)
    return (mx, sum)
}

/// out[i] = exp((x[i] − m)·scale) for i < count, where m is the largest x and scale > 0 (a sampler's
/// 1/temperature). Returns m and Σ out, summed in fp32 over 64-element blocks and in Double across them.
/// `-infinity` entries give 0; if every entry is `-infinity`, out is all zeros and the sum 0. NaN
/// entries propagate to the sum (callers check it is finite).
public func scaledExp(_ x: UnsafePointer<Float>, count: Int, scale s: Float,
                      into out: UnsafeMutablePointer<Float>) -> (max: Float, sum: Double) {
    let mx = maxElement(x, count: count)
    if mx == -.infinity {
        out.update(repeating: 0, count: count)
        return (mx, 0)
    }
    let vm = SIMD8<Float>(repeating: mx), vs = SIMD8<Float>(repeating: s)
    var total: Double = 0
    var i = 0
    while i + 64 <= count {
        var a = SIMD8<Float>()
        var j = i
        while j < i + 64 {
            let e = vexp((vload(x + j) - vm) * vs)
            vstore(out + j, e)
            a += e
            j += 8
        }
        total += Double(a.sum())
        i += 64
    }
    while i < count {
        let e = expf((x[i] - mx) * s)
        out[i] = e
        total += Double(e)
        i += 1
    }
    return (mx, total)
}

/// The first index of the largest entry among x[0..<count] and that entry, NaNs ignored: (0, −∞) when count is
/// 0 or no entry exceeds −∞. The same answer as a scalar `x[i] > best` scan, eight lanes at a time.
public func argmax(_ x: UnsafePointer<Float>, count: Int) -> (index: Int, value: Float) {
    var best = SIMD8<Float>(repeating: -.infinity)
    var at = SIMD8<Int32>(repeating: -1)
    var i = 0
    if count < Int(Int32.max) {
        var lane = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
        while i + 8 <= count {
            let v = vload(x + i)
            let more = v .> best   // false for NaN: a lane keeps its first largest entry
            best.replace(with: v, where: more)
            at.replace(with: lane, where: more)
            lane &+= 8
            i += 8
        }
    }
    var bi = -1
    var bv = -Float.infinity
    for l in 0..<8 where at[l] >= 0 && (best[l] > bv || (best[l] == bv && Int(at[l]) < bi)) {
        bv = best[l]; bi = Int(at[l])
    }
    while i < count {
        if x[i] > bv { bv = x[i]; bi = i }
        i += 1
    }
    return (max(bi, 0), bv)
}

/// log Σ exp(x[i]) over i < count: the largest x plus the log of the shifted exponentials' sum (summed in fp32
/// lanes per 64 elements, in Double across them). −∞ when count is 0 or every entry is −∞. `max`, when given,
/// must be the largest entry (as `argmax` returns it); it saves a pass.
public func logSumExp(_ x: UnsafePointer<Float>, count: Int, max known: Float? = nil) -> Double {
    let mx = known ?? maxElement(x, count: count)
    if mx == -.infinity { return -.infinity }
    let vm = SIMD8<Float>(repeating: mx)
    var total: Double = 0
    var i = 0
    while i + 64 <= count {
        var a = SIMD8<Float>()
        var j = i
        while j < i + 64 { a += vexp(vload(x + j) - vm); j += 8 }
        total += Double(a.sum())
        i += 64
    }
    while i < count { total += Double(expf(x[i] - mx)); i += 1 }
    return Double(mx) + log(total)
}

/// SwiGLU: out[i] = silu(gate[i]) · up[i], silu(g) = g / (1 + e^(−g)). `out` may alias `gate` or `up`.
@inlinable
public func siluMul(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    let one = SIMD8<Float>(repeating: 1)
    while i + 8 <= count {
        let g = vload(gate + i)
        vstore(out + i, g / (one + vexp(-g)) * vload(up + i))
        i += 8
    }
    while i < count {
        let g = gate[i]
        out[i] = g / (1 + expf(-g)) * up[i]
        i += 1
    }
}

/// GeGLU with the tanh approximation: out[i] = gelu(gate[i]) · up[i],
/// gelu(g) = ½·g·(1 + tanh(√(2/π)·(g + 0.044715·g³))). `out` may alias `gate` or `up`.
@inlinable
public func geluTanhMul(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
    let c: Float = 0.7978845608028654 // sqrt(2/pi)
    var i = 0
    let one = SIMD8<Float>(repeating: 1), half = SIMD8<Float>(repeating: 0.5)
    while i + 8 <= count {
        let g = vload(gate + i)
        let z = c * (g + 0.044715 * g * g * g)
        // tanh(z) = 1 − 2 / (e^(2z) + 1), exact at both saturations.
        let t = one - 2 / (vexp(2 * z) + one)
        vstore(out + i, half * g * (one + t) * vload(up + i))
        i += 8
    }
    while i < count {
        let g = gate[i]
        out[i] = 0.5 * g * (1 + tanhf(c * (g + 0.044715 * g * g * g))) * up[i]
        i += 1
    }
}

/// e^x for 8 lanes: range reduction x = n·ln2 + r and a degree-6 polynomial (≈ 2 ulp over the
/// float range). Lanes below −87.34 give 0, lanes above 88.72 give +∞ (like expf); NaN propagates.
@_transparent
public func vexp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let xc = vmin(vmax(x, SIMD8<Float>(repeating: -87.33654)), SIMD8<Float>(repeating: 88.72283))
    let n = (xc * 1.442695041).rounded(.toNearestOrEven)
    var r = xc - n * 0.693359375
    r = r + n * 2.12194440e-4
    var p = SIMD8<Float>(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let y = p * (r * r) + r + 1
    let e = SIMD8<Int32>(Int32(n[0]), Int32(n[1]), Int32(n[2]), Int32(n[3]),
                         Int32(n[4]), Int32(n[5]), Int32(n[6]), Int32(n[7]))
    // 2^n split in two factors so that n = 128 (x near 88.7) does not overflow the exponent field.
    let h = e &>> 1
    let s1 = unsafeBitCast((h &+ 127) &<< 23, to: SIMD8<Float>.self)
    let s2 = unsafeBitCast(((e &- h) &+ 127) &<< 23, to: SIMD8<Float>.self)
    var out = y * s1 * s2
    out.replace(with: 0, where: x .< -87.33654)
    out.replace(with: .infinity, where: x .> 88.72283)
    out.replace(with: x, where: x .!= x)
    return out
}

@inlinable @inline(__always) func vload(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}
@inlinable @inline(__always) func vstore(_ p: UnsafeMutablePointer<Float>, _ v: SIMD8<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

// Lane-wise max/min as compare + blend (the stdlib `pointwiseMax`/`pointwiseMin` and `.max()` are left
// as out-of-line calls in some contexts, which made `softmax` ~5× slower). NaN handling: a NaN in `b`
// is not selected by `vmax(a, b)` (and a NaN in `a` is kept); callers propagate NaN separately.
@inlinable @inline(__always) func vmax(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    a.replacing(with: b, where: b .> a)
}
@inlinable @inline(__always) func vmin(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    a.replacing(with: b, where: b .< a)
}
/// The largest lane (NaN lanes may be ignored).
@inlinable @inline(__always) func hmax(_ v: SIMD8<Float>) -> Float {
    let a = SIMD8<Float>(lowHalf: v.highHalf, highHalf: v.lowHalf)
    let m4 = vmax(v, a).lowHalf
    let m2 = SIMD4<Float>(m4[2], m4[3], m4[0], m4[1])
    let b = m4.replacing(with: m2, where: m2 .> m4)
    return b[0] > b[1] ? b[0] : b[1]
}
