import GGUF

// Integer kernels for small batches (quantizedMatMul with a few rows of x: several streams decoding
// together) on Q4_0, Q4_1 and Q8_0 weights.
//
// Each of the m x rows is quantized once per call exactly as in the m = 1 kernel (`quantizeDecodeX`:
// 16-bit integers, one fp32 scale per 32-element block, Q4's permuted lane order). Then, for each weight
// row, x rows are taken in groups (8, then 4, then the remainder for Q4; 4 for Q8_0): every pair of weight
// blocks is unpacked once into 16-bit lanes and dotted (vpmaddwd, exact int32 sums) with each x row of the
// group, whose fp32 accumulators stay in registers. A slice of 4 weight rows (≤ 4 KB) stays in L1 while
// the groups pass over it, so the weights stream from memory once per call whatever m is. Unlike the m = 1
// kernel, Q4 nibbles are centred (q − 8) before the integer dot products, which halves the error from x's
// int16 rounding; Q4_1's remaining offset (m + 8d)·Σx is summed once per (weight row, x row), eight blocks
// at a time. Results do not depend on the thread count.
//
// Cost is linear in m (≈ 1.5–2× the m = 1 kernel's time per 4 rows on SmolLM2), while the integer panels
// (DecodePanels.swift) cost about the same for every m ≤ 16 (they compute whole 16-row panels), so this path
// is used only up to the measured crossover (see `decodeBatchSupports`).

/// Whether `quantizedMatMul` should use the batched integer kernels for `type` and `m` rows of x: where
/// they measured faster than the integer panels (`int16PanelMatMul`, which take m ≥ `int16PanelsMinRows`) on
/// SmolLM2-135M's shapes (1 thread, Zen 3): Q4_0, Q4_1 and Q8_0 for 2 ≤ m < `int16PanelsMinRows` (10).
@inline(__always) func decodeBatchSupports(_ type: GGMLType, m: Int) -> Bool {
    switch type {
    case .q4_0, .q4_1, .q8_0: return m >= 2 && m < int16PanelsMinRows
    default: return false
    }
}

/// m prepared x rows (each in `DecodeX` layout): row i's integers at `q + i·qStride`, its block factors at
/// `xds + i·fStride`.
struct DecodeBatchX {
    var q: UnsafePointer<Int16>
    var xds: UnsafePointer<Float>
    var qStride: Int
    var fStride: Int
    /// Q4_1 only: row i's block sums Σx (the `c` of `DecodeX`), one per block, at `cs + i·cStride`, zero-padded to
    /// a multiple of 8 blocks.
    var cs: UnsafePointer<Float>
    var cStride: Int
}

/// Rows r0..<r1 of Q4_0 (`q41` false) / Q4_1 weights times x rows i0..<i0+nx (nx ≤ 8, a literal at the
/// call site so the unused accumulators fold away); y[i][j] at y[i·ldy + j].
@inline(__always)
func batchQ4Rows(q41: Bool, nx: Int, _ weights: UnsafeRawPointer, _ stride: Int, _ blocks: Int,
                 _ x: DecodeBatchX, _ i0: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ r0: Int, _ r1: Int) {
    let bytes = q41 ? 20 : 18
    let qsOff = q41 ? 4 : 2
    let pairs = (blocks + 1) >> 1
    // 8, in a form LLVM cannot see through (blocks ≥ 0 and < 2⁶², so the shift gives 0): with a literal 8 it
    // narrows the nibble unpacking to bytes and widens back, ~15 extra shuffles per block pair.
    let eight = SIMD16<Int16>(repeating: 8 | Int16(truncatingIfNeeded: blocks &>> 62))
    // Rows past nx alias row i0; their sums are never stored.
    let q0 = x.q + i0 * x.qStride
    let q1 = nx > 1 ? q0 + 1 * x.qStride : q0
    let q2 = nx > 2 ? q0 + 2 * x.qStride : q0
    let q3 = nx > 3 ? q0 + 3 * x.qStride : q0
    let q4 = nx > 4 ? q0 + 4 * x.qStride : q0
    let q5 = nx > 5 ? q0 + 5 * x.qStride : q0
    let q6 = nx > 6 ? q0 + 6 * x.qStride : q0
    let q7 = nx > 7 ? q0 + 7 * x.qStride : q0
    let f0 = x.xds + i0 * x.fStride
    let f1 = nx > 1 ? f0 + 1 * x.fStride : f0
    let f2 = nx > 2 ? f0 + 2 * x.fStride : f0
    let f3 = nx > 3 ? f0 + 3 * x.fStride : f0
    let f4 = nx > 4 ? f0 + 4 * x.fStride : f0
    let f5 = nx > 5 ? f0 + 5 * x.fStride : f0
    let f6 = nx > 6 ? f0 + 6 * x.fStride : f0
    let f7 = nx > 7 ? f0 + 7 * x.fStride : f0
    let c0 = x.cs + i0 * x.cStride
    let c1 = nx > 1 ? c0 + 1 * x.cStride : c0
    let c2 = nx > 2 ? c0 + 2 * x.cStride : c0
    let c3 = nx > 3 ? c0 + 3 * x.cStride : c0
    let c4 = nx > 4 ? c0 + 4 * x.cStride : c0
    let c5 = nx > 5 ? c0 + 5 * x.cStride : c0
    let c6 = nx > 6 ? c0 + 6 * x.cStride : c0
    let c7 = nx > 7 ? c0 + 7 * x.cStride : c0
    for j in r0..<r1 {
        let p = weights + j * stride
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
        var acc4 = SIMD8<Float>(), acc5 = SIMD8<Float>(), acc6 = SIMD8<Float>(), acc7 = SIMD8<Float>()
        var o = 0
        var t = 0
        while t < pairs {
            // An odd last block is paired with itself; x's second half is zero there.
            let o2 = (t == pairs - 1 && blocks & 1 == 1) ? o : o + bytes
            let dw = halfs8(SIMD8<UInt16>(lowHalf: SIMD4<UInt16>(repeating: p.loadUnaligned(fromByteOffset: o, as: UInt16.self)),
                                          highHalf: SIMD4<UInt16>(repeating: p.loadUnaligned(fromByteOffset: o2, as: UInt16.self))))
            let lo = (p + o + qsOff).loadUnaligned(as: SIMD8<Int16>.self)
            let hi = (p + o2 + qsOff).loadUnaligned(as: SIMD8<Int16>.self)
            let w = SIMD16<Int16>(lowHalf: lo, highHalf: hi)
            // Unpacked once for all x rows (lane order: see `q4PairSums`) and centred: q − 8 in −8...7, which
            // halves the effect of x's int16 rounding against unsigned nibbles (the offset moves to the min term).
            let a = (w & 0x000F) &- eight, b = ((w &>> 4) & 0x000F) &- eight
            let c = ((w &>> 8) & 0x000F) &- eight, d = ((w &>> 12) & 0x000F) &- eight
            let xo = t &* 64, fo = t &* 16
            @inline(__always) func term(_ acc: inout SIMD8<Float>, _ xq: UnsafePointer<Int16>, _ f: UnsafePointer<Float>) {
                let s1 = maddwd(a, ldI16x16(xq + xo)) &+ maddwd(b, ldI16x16(xq + xo + 16))
                let s2 = maddwd(c, ldI16x16(xq + xo + 32)) &+ maddwd(d, ldI16x16(xq + xo + 48))
                acc = acc.addingProduct(cvtI32(s1 &+ s2), dw * UnsafeRawPointer(f + fo).loadUnaligned(as: SIMD8<Float>.self))
            }
            term(&acc0, q0, f0)
            if nx > 1 { term(&acc1, q1, f1) }
            if nx > 2 { term(&acc2, q2, f2) }
            if nx > 3 { term(&acc3, q3, f3) }
            if nx > 4 { term(&acc4, q4, f4) }
            if nx > 5 { term(&acc5, q5, f5) }
            if nx > 6 { term(&acc6, q6, f6) }
            if nx > 7 { term(&acc7, q7, f7) }
            o += 2 * bytes
            t += 1
        }
        // Q4_1 min terms: w = d·q + m = d·(q − 8) + (m + 8d), so Σ_b (m_b + 8·d_b)·Σx_b, eight blocks at a time
        // (the x rows' Σx are zero-padded). Q4_0 (w = d·(q − 8)) has none.
        var b = 0
        while q41 && b < blocks {
            var hm = SIMD8<UInt16>(), hd = SIMD8<UInt16>()
            if b + 8 <= blocks {
                // Constant lane indices (a variable count makes LLVM build the vectors through memory).
                for l in 0..<8 {
                    hd[l] = p.loadUnaligned(fromByteOffset: (b + l) * bytes, as: UInt16.self)
                    hm[l] = p.loadUnaligned(fromByteOffset: (b + l) * bytes + 2, as: UInt16.self)
                }
            } else {
                for l in 0..<(blocks - b) {
                    hd[l] = p.loadUnaligned(fromByteOffset: (b + l) * bytes, as: UInt16.self)
                    hm[l] = p.loadUnaligned(fromByteOffset: (b + l) * bytes + 2, as: UInt16.self)
                }
            }
            let mv = halfs8(hm).addingProduct(halfs8(hd), 8)
            acc0 = acc0.addingProduct(mv, ld8(c0 + b))
            if nx > 1 { acc1 = acc1.addingProduct(mv, ld8(c1 + b)) }
            if nx > 2 { acc2 = acc2.addingProduct(mv, ld8(c2 + b)) }
            if nx > 3 { acc3 = acc3.addingProduct(mv, ld8(c3 + b)) }
            if nx > 4 { acc4 = acc4.addingProduct(mv, ld8(c4 + b)) }
            if nx > 5 { acc5 = acc5.addingProduct(mv, ld8(c5 + b)) }
            if nx > 6 { acc6 = acc6.addingProduct(mv, ld8(c6 + b)) }
            if nx > 7 { acc7 = acc7.addingProduct(mv, ld8(c7 + b)) }
            b += 8
        }
        let yj = y + i0 * ldy + j
        yj[0] = hsum(acc0)
        if nx > 1 { yj[1 * ldy] = hsum(acc1) }
        if nx > 2 { yj[2 * ldy] = hsum(acc2) }
        if nx > 3 { yj[3 * ldy] = hsum(acc3) }
        if nx > 4 { yj[4 * ldy] = hsum(acc4) }
        if nx > 5 { yj[5 * ldy] = hsum(acc5) }
        if nx > 6 { yj[6 * ldy] = hsum(acc6) }
        if nx > 7 { yj[7 * ldy] = hsum(acc7) }
    }
}

/// Rows r0..<r1 of Q8_0 weights times x rows i0..<i0+nx (nx ≤ 4, a literal); y[i][j] at y[i·ldy + j].
/// Even and odd blocks go to separate accumulators, as in the m = 1 kernel.
@inline(__always)
func batchQ8Rows(nx: Int, _ weights: UnsafeRawPointer, _ stride: Int, _ blocks: Int,
                 _ x: DecodeBatchX, _ i0: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ r0: Int, _ r1: Int) {
    let q0 = x.q + i0 * x.qStride
    let q1 = nx > 1 ? q0 + x.qStride : q0, q2 = nx > 2 ? q0 + 2 * x.qStride : q0, q3 = nx > 3 ? q0 + 3 * x.qStride : q0
    let f0 = x.xds + i0 * x.fStride
    let f1 = nx > 1 ? f0 + x.fStride : f0, f2 = nx > 2 ? f0 + 2 * x.fStride : f0, f3 = nx > 3 ? f0 + 3 * x.fStride : f0
    for j in r0..<r1 {
        let p = weights + j * stride
        var a00 = SIMD8<Float>(), a01 = SIMD8<Float>(), a10 = SIMD8<Float>(), a11 = SIMD8<Float>()
        var a20 = SIMD8<Float>(), a21 = SIMD8<Float>(), a30 = SIMD8<Float>(), a31 = SIMD8<Float>()
        var o = 0
        var b = 0
        // One block: its two 16-lane halves against each x row, into the even (`odd` false) or odd accumulators.
        @inline(__always) func block(_ odd: Bool) {
            let dw = halfToFloat(p.loadUnaligned(fromByteOffset: o, as: UInt16.self))
            let w0 = sextBytes(p + o + 2), w1 = sextBytes(p + o + 18)
            let xo = b &* 32, fo = b &* 2
            @inline(__always) func term(_ xq: UnsafePointer<Int16>, _ f: UnsafePointer<Float>) -> (SIMD8<Float>, SIMD8<Float>) {
                let s = maddwd(w0, ldI16x16(xq + xo)) &+ maddwd(w1, ldI16x16(xq + xo + 16))
                return (cvtI32(s), SIMD8<Float>(repeating: dw * f[fo]))
            }
            if odd {
                var (s, d) = term(q0, f0); a01 = a01.addingProduct(s, d)
                if nx > 1 { (s, d) = term(q1, f1); a11 = a11.addingProduct(s, d) }
                if nx > 2 { (s, d) = term(q2, f2); a21 = a21.addingProduct(s, d) }
                if nx > 3 { (s, d) = term(q3, f3); a31 = a31.addingProduct(s, d) }
            } else {
                var (s, d) = term(q0, f0); a00 = a00.addingProduct(s, d)
                if nx > 1 { (s, d) = term(q1, f1); a10 = a10.addingProduct(s, d) }
                if nx > 2 { (s, d) = term(q2, f2); a20 = a20.addingProduct(s, d) }
                if nx > 3 { (s, d) = term(q3, f3); a30 = a30.addingProduct(s, d) }
            }
        }
        while b + 2 <= blocks {
            block(false)
            o += 34; b += 1
            block(true)
            o += 34; b += 1
        }
        if b < blocks { block(false) }
        let yj = y + i0 * ldy + j
        yj[0] = hsum(a00 + a01)
        if nx > 1 { yj[ldy] = hsum(a10 + a11) }
        if nx > 2 { yj[2 * ldy] = hsum(a20 + a21) }
        if nx > 3 { yj[3 * ldy] = hsum(a30 + a31) }
    }
}

// One out-of-line specialization per (type, group size): each gets its own register allocation (inlining
// all group sizes into one function measured up to 2× slower for some of them).
@inline(never) func batchQ41x1(_ w: UnsafeRawPointer, _ s: Int, _ b: Int, _ x: DecodeBatchX, _ i0: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ r0: Int, _ r1: Int) { batchQ4Rows(q41: true, nx: 1, w, s, b, x, i0, y, ldy, r0, r1) }
@inline(never) func batchQ41x2(_ w: UnsafeRawPointer, _ s: Int, _ b: Int, _ x: DecodeBatchX, _ i0: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ r0: Int, _ r1: Int) { batchQ4Rows(q41: true, nx: 2, w, s, b, x, i0, y, ldy, r0, r1) }
@inline(never) func batchQ41x3(_ w: UnsafeRawPointer, _ s: Int, _ b: Int, _ x: DecodeBatchX, _ i0: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ r0: Int, _ r1: Int) { batchQ4Rows(q41: true, nx: 3, w, s, b, x, i0, y, ldy, r0, r1) }
@inline(never) func batchQ41x4(_ w: UnsafeRawPointer, _ s: Int, _ b: Int, _ x: DecodeBatchX, _ i0: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ r0: Int, _ r1: Int) { batchQ4Rows(q41: true, nx: 4, w, s, b, x, i0, y, ldy, r0, r1) }
@inline(never) func batchQ40x1(_ w: UnsafeRawPointer, _ s: Int, _ b: Int, _ x: DecodeBatchX, _ i0: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ r0: Int, _ r1: Int) { batchQ4Rows(q41: false, nx: 1, w, s, b, x, i0, y, ldy, r0, r1) }
@inline(never) func batchQ40x2(_ w: UnsafeRawPointer, _ s: Int, _ b: Int, _ x: DecodeBatchX, _ i0: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ r0: Int, _ r1: Int) { batchQ4Rows(q41: false, nx: 2, w, s, b, x, i0, y, ldy, r0, r1) }
@inline(never) func batchQ40x3(_ w: UnsafeRawPointer, _ s: Int, _ b: Int, _ x: DecodeBatchX, _ i0: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ r0: Int, _ r1: Int) { batchQ4Rows(q41: false, nx: 3, w, s, b, x, i0, y, ldy, r0, r1) }
@inline(never) func batchQ40x4(_ w: UnsafeRawPointer, _ s: Int, _ b: Int, _ x: DecodeBatchX, _ i0: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ r0: Int, _ r1: Int) { batchQ4Rows(q41: false, nx: 4, w, s, b, x, i0, y, ldy, r0, r1) }
@inline(never) func batchQ80x1(_ w: UnsafeRawPointer, _ s: Int, _ b: Int, _ x: DecodeBatchX, _ i0: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ r0: Int, _ r1: Int) { batchQ8Rows(nx: 1, w, s, b, x, i0, y, ldy, r0, r1) }
@inline(never) func batchQ80x2(_ w: UnsafeRawPointer, _ s: Int, _ b: Int, _ x: DecodeBatchX, _ i0: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ r0: Int, _ r1: Int) { batchQ8Rows(nx: 2, w, s, b, x, i0, y, ldy, r0, r1) }
@inline(never) func batchQ80x3(_ w: UnsafeRawPointer, _ s: Int, _ b: Int, _ x: DecodeBatchX, _ i0: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ r0: Int, _ r1: Int) { batchQ8Rows(nx: 3, w, s, b, x, i0, y, ldy, r0, r1) }
@inline(never) func batchQ80x4(_ w: UnsafeRawPointer, _ s: Int, _ b: Int, _ x: DecodeBatchX, _ i0: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ r0: Int, _ r1: Int) { batchQ8Rows(nx: 4, w, s, b, x, i0, y, ldy, r0, r1) }
@inline(never) func batchQ41x8(_ w: UnsafeRawPointer, _ s: Int, _ b: Int, _ x: DecodeBatchX, _ i0: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ r0: Int, _ r1: Int) { batchQ4Rows(q41: true, nx: 8, w, s, b, x, i0, y, ldy, r0, r1) }
@inline(never) func batchQ40x8(_ w: UnsafeRawPointer, _ s: Int, _ b: Int, _ x: DecodeBatchX, _ i0: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ r0: Int, _ r1: Int) { batchQ4Rows(q41: false, nx: 8, w, s, b, x, i0, y, ldy, r0, r1) }

/// Rows r0..<r1 of all m x rows, in groups of eight (Q4) and four x rows and a remainder group.
@inline(never)
func batchRows(_ type: GGMLType, _ w: UnsafeRawPointer, _ s: Int, _ b: Int, _ x: DecodeBatchX, _ m: Int,
               _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ r0: Int, _ r1: Int) {
    typealias Kernel = (UnsafeRawPointer, Int, Int, DecodeBatchX, Int, UnsafeMutablePointer<Float>, Int, Int, Int) -> Void
    let ks: (Kernel, Kernel, Kernel, Kernel)
    let k8: Kernel?
    switch type {
    case .q4_1: ks = (batchQ41x1, batchQ41x2, batchQ41x3, batchQ41x4); k8 = batchQ41x8
    case .q4_0: ks = (batchQ40x1, batchQ40x2, batchQ40x3, batchQ40x4); k8 = batchQ40x8
    default: ks = (batchQ80x1, batchQ80x2, batchQ80x3, batchQ80x4); k8 = nil
    }
    // Weight rows in slices of 4: a slice (≤ 4 KB) stays in L1 while every x group passes over it.
    var j = r0
    while j < r1 {
        let je = min(r1, j + 4)
        var i0 = 0
        if let k8 = k8 { while i0 + 8 <= m { k8(w, s, b, x, i0, y, ldy, j, je); i0 += 8 } }
        while i0 + 4 <= m { ks.3(w, s, b, x, i0, y, ldy, j, je); i0 += 4 }
        switch m - i0 {
        case 3: ks.2(w, s, b, x, i0, y, ldy, j, je)
        case 2: ks.1(w, s, b, x, i0, y, ldy, j, je)
        case 1: ks.0(w, s, b, x, i0, y, ldy, j, je)
        default: break
        }
        j = je
    }
}

/// y[m×n] = x[m×k]·Wᵀ for Q4_0 / Q4_1 / Q8_0 weights with the integer kernels: quantizes the m x rows once,
/// then splits weight rows over `pool`. Returns false without touching y when x holds a NaN or an
/// infinity (the caller then uses the fp32 path, so they propagate).
func decodeBatchMatMul(type: GGMLType, weights: UnsafeRawPointer, stride: Int, n: Int, k: Int,
                       x: UnsafePointer<Float>, m: Int, y: UnsafeMutablePointer<Float>, pool: ThreadPool) -> Bool {
    let blocks = k / 32
    let P = n * k * m < 1 << 16 ? 1 : pool.threadCount
    let (chunk, tasks) = rowTasks(n, participants: P)
    let qStride = (blocks + 1) * 64, fStride = (blocks + 1) * 32, cStride = (blocks + 7) & ~7
    let body: (ParallelContext) -> Bool = { ctx in
        let raw = ctx.shared.bytes(6, m * (qStride * 2 + fStride * 4 + cStride * 4))
        let qBuf = raw.assumingMemoryBound(to: Int16.self)
        let xds = (raw + m * qStride * 2).assumingMemoryBound(to: Float.self)
        for i in 0..<m {
            if !quantizeDecodeX(type, x + i * k, k, qBuf + i * qStride, xds + i * fStride) { return false }
        }
        let cs = xds + m * fStride
        if type == .q4_1 {
            for i in 0..<m {
                let f = xds + i * fStride, c = cs + i * cStride
                for b in 0..<cStride { c[b] = b < blocks ? f[(b >> 1) * 16 + 9 + 2 * (b & 1)] : 0 }
            }
        }
        let bx = DecodeBatchX(q: UnsafePointer(qBuf), xds: UnsafePointer(xds), qStride: qStride, fStride: fStride,
                              cs: UnsafePointer(cs), cStride: cStride)
        ctx.run { _, _ in
            while true {
                let t = ctx.next()
                if t >= tasks { break }
                let r0 = t * chunk, r1 = min(n, r0 + chunk)
                batchRows(type, weights, stride, blocks, bx, m, y, n, r0, r1)
            }
        }
        return true
    }
    return P == 1 ? body(serialContext()) : pool.withParallel(body)
}
