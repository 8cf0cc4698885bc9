// Attention building blocks for decoding: a few query rows (the query heads that share one KV head) against
// a run of cached keys and values stored row by row with a stride (the KV cache layout).
//
// `attentionScores` computes scale·q_r·k_j for up to two query rows and four keys at a time: per 8-dimension
// chunk, two q loads and four key loads feed eight FMAs, and each 8-lane accumulator is reduced once per
// key (not once per chunk). `attentionWeightedSum` keeps two output rows × 32 dimensions in registers while
// it walks the values: per key, two broadcasts and four value loads feed eight FMAs. Both replace per-key
// `dot` / `axpy` calls (a horizontal sum, or a load–FMA–store of the whole output row, per key and row).
// Results match a plain loop up to fp32 summation order.

/// scores[r·ldScores + j] = scale · Σ_d q[r·qStride + d] · keys[j·keyStride + d] for r < rows, j < count.
///
/// - `headDim` is the length of each dot product; rows of `q` and `keys` may be strided (e.g. one head of
///   a KV cache row). Any `headDim` ≥ 0 works; multiples of 8 take the vector path.
/// - Single-threaded (meant to run inside a parallel loop over heads and sequences).
public func attentionScores(q: UnsafePointer<Float>, qStride: Int, rows: Int, headDim: Int,
                            keys: UnsafePointer<Float>, keyStride: Int, count: Int, scale: Float,
                            into scores: UnsafeMutablePointer<Float>, ldScores: Int) {
    precondition(rows >= 0 && count >= 0 && headDim >= 0, "attentionScores: negative size")
    if rows == 0 || count == 0 { return }
    if headDim & 7 != 0 {
        for r in 0..<rows {
            for j in 0..<count {
                scores[r * ldScores + j] = scale * dot(q + r * qStride, keys + j * keyStride, count: headDim)
            }
        }
        return
    }
    var r = 0
    // Three rows per pass over the keys (each pass streams them from L2), then pairs.
    while r + 3 <= rows && rows - r != 4 {
        scoreRows3(q + r * qStride, qStride, headDim, keys, keyStride, count, scale, scores + r * ldScores, ldScores)
        r += 3
    }
    while r + 2 <= rows {
        scoreRows2(q + r * qStride, q + (r + 1) * qStride, headDim, keys, keyStride, count, scale,
                   scores + r * ldScores, scores + (r + 1) * ldScores)
        r += 2
    }
    if r < rows {
        scoreRows1(q + r * qStride, headDim, keys, keyStride, count, scale, scores + r * ldScores)
    }
}

/// Four 8-lane accumulators reduced to their four sums [Σa, Σb, Σc, Σd].
@inline(__always) func reduce4(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>, _ d: SIMD8<Float>) -> SIMD4<Float> {
    // Fold the 256-bit halves (a|c and b|d share a register), then two pairwise-add rounds.
    let ac = SIMD8<Float>(lowHalf: a.lowHalf, highHalf: c.lowHalf) + SIMD8<Float>(lowHalf: a.highHalf, highHalf: c.highHalf)
    let bd = SIMD8<Float>(lowHalf: b.lowHalf, highHalf: d.lowHalf) + SIMD8<Float>(lowHalf: b.highHalf, highHalf: d.highHalf)
    // Lanes of ac: a0..a3 | c0..c3; of bd: b0..b3 | d0..d3.
    let h1 = SIMD8<Float>(ac[0], ac[2], bd[0], bd[2], ac[4], ac[6], bd[4], bd[6])
        + SIMD8<Float>(ac[1], ac[3], bd[1], bd[3], ac[5], ac[7], bd[5], bd[7])
    // h1: [a01, a23, b01, b23 | c01, c23, d01, d23].
    let h2 = SIMD4<Float>(h1[0], h1[2], h1[4], h1[6]) + SIMD4<Float>(h1[1], h1[3], h1[5], h1[7])
    return h2
}

@inline(never)
func scoreRows1(_ q: UnsafePointer<Float>, _ hd: Int, _ keys: UnsafePointer<Float>, _ ks: Int, _ count: Int,
                _ scale: Float, _ out: UnsafeMutablePointer<Float>) {
    var j = 0
    while j + 4 <= count {
        let k0 = keys + j * ks, k1 = k0 + ks, k2 = k1 + ks, k3 = k2 + ks
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var d = 0
        while d < hd {
            let qv = ld8(q + d)
            a0 = a0.addingProduct(qv, ld8(k0 + d)); a1 = a1.addingProduct(qv, ld8(k1 + d))
            a2 = a2.addingProduct(qv, ld8(k2 + d)); a3 = a3.addingProduct(qv, ld8(k3 + d))
            d += 8
        }
        let s = reduce4(a0, a1, a2, a3) * scale
        UnsafeMutableRawPointer(out + j).storeBytes(of: s, as: SIMD4<Float>.self)
        j += 4
    }
    while j < count {
        out[j] = scale * dot(q, keys + j * ks, count: hd)
        j += 1
    }
}

@inline(never)
func scoreRows2(_ q0: UnsafePointer<Float>, _ q1: UnsafePointer<Float>, _ hd: Int, _ keys: UnsafePointer<Float>,
                _ ks: Int, _ count: Int, _ scale: Float, _ out0: UnsafeMutablePointer<Float>,
                _ out1: UnsafeMutablePointer<Float>) {
    var j = 0
    while j + 4 <= count {
        let k0 = keys + j * ks, k1 = k0 + ks, k2 = k1 + ks, k3 = k2 + ks
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var b0 = SIMD8<Float>(), b1 = SIMD8<Float>(), b2 = SIMD8<Float>(), b3 = SIMD8<Float>()
        var d = 0
        while d < hd {
            let qa = ld8(q0 + d), qb = ld8(q1 + d)
            let v0 = ld8(k0 + d), v1 = ld8(k1 + d), v2 = ld8(k2 + d), v3 = ld8(k3 + d)
            a0 = a0.addingProduct(qa, v0); a1 = a1.addingProduct(qa, v1)
            a2 = a2.addingProduct(qa, v2); a3 = a3.addingProduct(qa, v3)
            b0 = b0.addingProduct(qb, v0); b1 = b1.addingProduct(qb, v1)
            b2 = b2.addingProduct(qb, v2); b3 = b3.addingProduct(qb, v3)
            d += 8
        }
        UnsafeMutableRawPointer(out0 + j).storeBytes(of: reduce4(a0, a1, a2, a3) * scale, as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(out1 + j).storeBytes(of: reduce4(b0, b1, b2, b3) * scale, as: SIMD4<Float>.self)
        j += 4
    }
    while j < count {
        out0[j] = scale * dot(q0, keys + j * ks, count: hd)
        out1[j] = scale * dot(q1, keys + j * ks, count: hd)
        j += 1
    }
}

/// out[r·outStride + d] (+)= Σ_j weights[r·ldWeights + j] · values[j·valueStride + d] for r < rows,
/// d < valueDim, j < count. With `accumulate` false the output is overwritten (not read), else added to.
///
/// Any `valueDim` ≥ 0 works; multiples of 8 take the vector path. Single-threaded.
public func attentionWeightedSum(weights: UnsafePointer<Float>, ldWeights: Int, rows: Int,
                                 values: UnsafePointer<Float>, valueStride: Int, count: Int, valueDim: Int,
                                 into out: UnsafeMutablePointer<Float>, outStride: Int, accumulate: Bool) {
    precondition(rows >= 0 && count >= 0 && valueDim >= 0, "attentionWeightedSum: negative size")
    if rows == 0 { return }
    if valueDim & 7 != 0 {
        for r in 0..<rows {
            let o = out + r * outStride
            if !accumulate { o.update(repeating: 0, count: valueDim) }
            for j in 0..<count { axpy(weights[r * ldWeights + j], values + j * valueStride, o, count: valueDim) }
        }
        return
    }
    var r = 0
    while r + 3 <= rows && rows - r != 4 {
        weightedRows3(weights + r * ldWeights, ldWeights, values, valueStride, count, valueDim, out + r * outStride,
                      outStride, accumulate)
        r += 3
    }
    while r + 2 <= rows {
        weightedRows2(weights + r * ldWeights, weights + (r + 1) * ldWeights, values, valueStride, count, valueDim,
                      out + r * outStride, out + (r + 1) * outStride, accumulate)
        r += 2
    }
    if r < rows {
        weightedRows1(weights + r * ldWeights, values, valueStride, count, valueDim, out + r * outStride, accumulate)
    }
}

@inline(never)
func weightedRows1(_ w: UnsafePointer<Float>, _ values: UnsafePointer<Float>, _ vs: Int, _ count: Int, _ vd: Int,
                   _ out: UnsafeMutablePointer<Float>, _ accumulate: Bool) {
    var d = 0
    while d < vd {
        // 32 dimensions (4 vectors) at a time, or the last 8/16/24.
        let width = min(4, (vd - d) >> 3)
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        if accumulate {
            a0 = ld8(out + d)
            if width > 1 { a1 = ld8(out + d + 8) }
            if width > 2 { a2 = ld8(out + d + 16) }
            if width > 3 { a3 = ld8(out + d + 24) }
        }
        var v = values + d
        if width == 4 {
            for j in 0..<count {
                let b = SIMD8<Float>(repeating: w[j])
                a0 = a0.addingProduct(b, ld8(v)); a1 = a1.addingProduct(b, ld8(v + 8))
                a2 = a2.addingProduct(b, ld8(v + 16)); a3 = a3.addingProduct(b, ld8(v + 24))
                v += vs
            }
        } else {
            for j in 0..<count {
                let b = SIMD8<Float>(repeating: w[j])
                a0 = a0.addingProduct(b, ld8(v))
                if width > 1 { a1 = a1.addingProduct(b, ld8(v + 8)) }
                if width > 2 { a2 = a2.addingProduct(b, ld8(v + 16)) }
                v += vs
            }
        }
        st8(out + d, a0)
        if width > 1 { st8(out + d + 8, a1) }
        if width > 2 { st8(out + d + 16, a2) }
        if width > 3 { st8(out + d + 24, a3) }
        d += 8 * width
    }
}

@inline(never)
func weightedRows2(_ w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>, _ values: UnsafePointer<Float>, _ vs: Int,
                   _ count: Int, _ vd: Int, _ out0: UnsafeMutablePointer<Float>, _ out1: UnsafeMutablePointer<Float>,
                   _ accumulate: Bool) {
    var d = 0
    while d + 32 <= vd {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var b0 = SIMD8<Float>(), b1 = SIMD8<Float>(), b2 = SIMD8<Float>(), b3 = SIMD8<Float>()
        if accumulate {
            a0 = ld8(out0 + d); a1 = ld8(out0 + d + 8); a2 = ld8(out0 + d + 16); a3 = ld8(out0 + d + 24)
            b0 = ld8(out1 + d); b1 = ld8(out1 + d + 8); b2 = ld8(out1 + d + 16); b3 = ld8(out1 + d + 24)
        }
        var v = values + d
        for j in 0..<count {
            let x = SIMD8<Float>(repeating: w0[j]), y = SIMD8<Float>(repeating: w1[j])
            let v0 = ld8(v), v1 = ld8(v + 8), v2 = ld8(v + 16), v3 = ld8(v + 24)
            a0 = a0.addingProduct(x, v0); a1 = a1.addingProduct(x, v1)
            a2 = a2.addingProduct(x, v2); a3 = a3.addingProduct(x, v3)
            b0 = b0.addingProduct(y, v0); b1 = b1.addingProduct(y, v1)
            b2 = b2.addingProduct(y, v2); b3 = b3.addingProduct(y, v3)
            v += vs
        }
        st8(out0 + d, a0); st8(out0 + d + 8, a1); st8(out0 + d + 16, a2); st8(out0 + d + 24, a3)
        st8(out1 + d, b0); st8(out1 + d + 8, b1); st8(out1 + d + 16, b2); st8(out1 + d + 24, b3)
        d += 32
    }
    if d < vd {
        // The last 8/16/24 dimensions, one row at a time.
        weightedRows1(w0, values + d, vs, count, vd - d, out0 + d, accumulate)
        weightedRows1(w1, values + d, vs, count, vd - d, out1 + d, accumulate)
    }
}

@inline(never)
func scoreRows3(_ q: UnsafePointer<Float>, _ qs: Int, _ hd: Int, _ keys: UnsafePointer<Float>, _ ks: Int, _ count: Int,
                _ scale: Float, _ out: UnsafeMutablePointer<Float>, _ ld: Int) {
    let q0 = q, q1 = q + qs, q2 = q + 2 * qs
    var j = 0
    while j + 4 <= count {
        let k0 = keys + j * ks, k1 = k0 + ks, k2 = k1 + ks, k3 = k2 + ks
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var b0 = SIMD8<Float>(), b1 = SIMD8<Float>(), b2 = SIMD8<Float>(), b3 = SIMD8<Float>()
        var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), c2 = SIMD8<Float>(), c3 = SIMD8<Float>()
        var d = 0
        while d < hd {
            // Three query vectors, then one key at a time: 12 accumulators + 3 + 1 = 16 registers (holding
            // four keys and one query needed 17, and the spill sat in this loop).
            let x0 = ld8(q0 + d), x1 = ld8(q1 + d), x2 = ld8(q2 + d)
            var v = ld8(k0 + d)
            a0 = a0.addingProduct(x0, v); b0 = b0.addingProduct(x1, v); c0 = c0.addingProduct(x2, v)
            v = ld8(k1 + d)
            a1 = a1.addingProduct(x0, v); b1 = b1.addingProduct(x1, v); c1 = c1.addingProduct(x2, v)
            v = ld8(k2 + d)
            a2 = a2.addingProduct(x0, v); b2 = b2.addingProduct(x1, v); c2 = c2.addingProduct(x2, v)
            v = ld8(k3 + d)
            a3 = a3.addingProduct(x0, v); b3 = b3.addingProduct(x1, v); c3 = c3.addingProduct(x2, v)
            d += 8
        }
        UnsafeMutableRawPointer(out + j).storeBytes(of: reduce4(a0, a1, a2, a3) * scale, as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(out + ld + j).storeBytes(of: reduce4(b0, b1, b2, b3) * scale, as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(out + 2 * ld + j).storeBytes(of: reduce4(c0, c1, c2, c3) * scale, as: SIMD4<Float>.self)
        j += 4
    }
    while j < count {
        for r in 0..<3 { out[r * ld + j] = scale * dot(q + r * qs, keys + j * ks, count: hd) }
        j += 1
    }
}

/// Three weight rows, 16 output dimensions per pass over the values (so each value row is read once per
/// 64-byte line for all three rows), then the 8-dimension tail.
@inline(never)
func weightedRows3(_ w: UnsafePointer<Float>, _ ldw: Int, _ values: UnsafePointer<Float>, _ vs: Int, _ count: Int,
                   _ vd: Int, _ out: UnsafeMutablePointer<Float>, _ os: Int, _ accumulate: Bool) {
    let w0 = w, w1 = w + ldw, w2 = w + 2 * ldw
    let o0 = out, o1 = out + os, o2 = out + 2 * os
    var d = 0
    while d + 16 <= vd {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), b0 = SIMD8<Float>(), b1 = SIMD8<Float>()
        var c0 = SIMD8<Float>(), c1 = SIMD8<Float>()
        if accumulate {
            a0 = ld8(o0 + d); a1 = ld8(o0 + d + 8); b0 = ld8(o1 + d); b1 = ld8(o1 + d + 8)
            c0 = ld8(o2 + d); c1 = ld8(o2 + d + 8)
        }
        var v = values + d
        for j in 0..<count {
            let v0 = ld8(v), v1 = ld8(v + 8)
            var x = SIMD8<Float>(repeating: w0[j])
            a0 = a0.addingProduct(x, v0); a1 = a1.addingProduct(x, v1)
            x = SIMD8<Float>(repeating: w1[j])
            b0 = b0.addingProduct(x, v0); b1 = b1.addingProduct(x, v1)
            x = SIMD8<Float>(repeating: w2[j])
            c0 = c0.addingProduct(x, v0); c1 = c1.addingProduct(x, v1)
            v += vs
        }
        st8(o0 + d, a0); st8(o0 + d + 8, a1); st8(o1 + d, b0); st8(o1 + d + 8, b1); st8(o2 + d, c0); st8(o2 + d + 8, c1)
        d += 16
    }
    if d < vd {
        for r in 0..<3 { weightedRows1(w + r * ldw, values + d, vs, count, vd - d, out + r * os + d, accumulate) }
    }
}
