import GGUF
import CPUIntrinsics

// Integer matrix-vector kernels for single-token decoding (quantizedMatMul with m = 1) on Q4_0, Q4_1,
// Q5_0, Q8_0, Q4_K and Q6_K weights.
//
// The activation vector x is quantized once per call to 16-bit integers with one fp32 scale per
// 32-element block (dx = max|x| / 32767, so the rounding error of each element is at most
// 1.5e-5 of its block's largest magnitude: far below the weights' own 4/8-bit error and ~250× finer
// than llama.cpp's 8-bit activations). The weight integers times the x integers are then summed with
// `vpmaddwd` (16-bit × 16-bit → pairwise 32-bit sums): every block's integer dot product is exact, and
// only the per-block scaling (d_w·dx) and the min/offset term (m_w·Σx, with Σx the exact fp32 block sum)
// are done in fp32.
//
// Q4 layout trick: a block's 16 nibble bytes, read as eight 16-bit words, give four 8-lane vectors
// with one shift and/or mask each: A = w & 15 (elements 0,2,..,14), B = w & 0xF0 (16·(16,18,..,30)),
// C = (w >> 8) & 15 (1,3,..,15), D = w >> 12 (17,19,..,31). x is stored in that permuted order, and two
// consecutive blocks of a row share one 256-bit register (block 2p in the low 128 bits), so decoding needs
// no byte-to-word widening: ~34 instructions per two blocks, scales and min terms included.
// Rows are processed one at a time: the weights then stream strictly sequentially, which measured
// clearly faster from DRAM than interleaving 2 or 4 rows. Each row also asks for the row
// `KernelTuning.prefetchRowsAhead` ahead (within its task), which the hardware prefetchers fetch too late.
//
// Q8_0: the block's 32 signed bytes are sign-extended to 16 bits straight from memory (vpmovsxbw) and
// multiplied with x in natural order.

/// Per-call quantized activations: `q` (Int16 lanes in the kernel's layout) and `xds`, fp32 block factors:
/// for Q8_0 `xds[2b]` = dx of block b; for Q4 formats 12 floats per pair of blocks (a, b) =
/// [dx_a ×4, dx_b ×4, 0, c_a, 0, c_b, 0, c_a, 0, c_b] with c the coefficient of the block's min term (Σx for Q4_1's m·Σx,
/// −8·Σx for Q4_0, whose offset (q − 8)·d adds −8·d·Σx).
struct DecodeX {
    var q: UnsafePointer<Int16>
    var xds: UnsafePointer<Float>
}

@inline(__always) func ldI16x16(_ p: UnsafePointer<Int16>) -> SIMD16<Int16> {
    UnsafeRawPointer(p).load(as: SIMD16<Int16>.self)
}

/// Lane-wise sign extension (LLVM emits one vpmovsxwd; the generic conversion can be left out of line).
@inline(__always) func sext32(_ v: SIMD16<Int16>) -> SIMD16<Int32> {
    var r = SIMD16<Int32>()
    for i in 0..<16 { r[i] = Int32(v[i]) }
    return r
}

/// vpmaddwd: r[i] = a[2i]·b[2i] + a[2i+1]·b[2i+1] in 32-bit arithmetic.
@inline(__always) func maddwd(_ a: SIMD16<Int16>, _ b: SIMD16<Int16>) -> SIMD8<Int32> {
    let p = sext32(a) &* sext32(b)
    var r = SIMD8<Int32>()
    for i in 0..<8 { r[i] = p[2 &* i] &+ p[2 &* i &+ 1] }
    return r
}

/// vpmovsxbw from memory: 16 signed bytes to 16-bit lanes.
@inline(__always) func sextBytes(_ p: UnsafeRawPointer) -> SIMD16<Int16> {
    let b = p.loadUnaligned(as: SIMD16<Int8>.self)
    var r = SIMD16<Int16>()
    for i in 0..<16 { r[i] = Int16(b[i]) }
    return r
}

@inline(__always) func cvtI32(_ v: SIMD8<Int32>) -> SIMD8<Float> {
    SIMD8<Float>(Float(v[0]), Float(v[1]), Float(v[2]), Float(v[3]), Float(v[4]), Float(v[5]), Float(v[6]), Float(v[7]))
}

/// Eight fp16 values (as bits) to fp32 (vcvtph2ps where F16C is available).
@inline(__always) func halfs8(_ h: SIMD8<UInt16>) -> SIMD8<Float> {
    #if arch(x86_64) && os(macOS)
    var r = SIMD8<Float>()
    for i in 0..<8 { r[i] = halfToFloatSoft(h[i]) }
    return r
    #else
    // Lane by lane (LLVM emits one vcvtph2ps): the generic SIMD8<Float>(SIMD8<Float16>) initializer is
    // sometimes left as an out-of-line call, which cost ~12% of single-stream decoding.
    let v = unsafeBitCast(h, to: SIMD8<Float16>.self)
    return SIMD8<Float>(Float(v[0]), Float(v[1]), Float(v[2]), Float(v[3]), Float(v[4]), Float(v[5]), Float(v[6]), Float(v[7]))
    #endif
}

/// Four fp16 values (as bits) to fp32.
@inline(__always) func halfs4(_ h: SIMD4<UInt16>) -> SIMD4<Float> {
    #if arch(x86_64) && os(macOS)
    return SIMD4<Float>(halfToFloatSoft(h[0]), halfToFloatSoft(h[1]), halfToFloatSoft(h[2]), halfToFloatSoft(h[3]))
    #else
    let v = unsafeBitCast(h, to: SIMD4<Float16>.self)
    return SIMD4<Float>(Float(v[0]), Float(v[1]), Float(v[2]), Float(v[3]))
    #endif
}

/// One 32-element block of x as four vectors, with its largest |x| and its sum; `nil` when it holds a NaN or
/// an infinity. The start of every activation quantizer (`quantizeBlock16`, `quantizeBlock8`).
@inline(__always) func loadFiniteBlock(_ p: UnsafePointer<Float>)
    -> (v0: SIMD8<Float>, v1: SIMD8<Float>, v2: SIMD8<Float>, v3: SIMD8<Float>, max: Float, sum: Float)? {
    let v0 = ld8(p), v1 = ld8(p + 8), v2 = ld8(p + 16), v3 = ld8(p + 24)
    @inline(__always) func mag(_ v: SIMD8<Float>) -> SIMD8<Float> { unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self) }
    let mx = hmax(vmax(vmax(mag(v0), mag(v1)), vmax(mag(v2), mag(v3))))
    if !mx.isFinite { return nil }
    let sum = ((v0 + v1) + (v2 + v3)).sum()
    if !sum.isFinite { return nil }   // vmaxps may drop a NaN; a sum never does
    return (v0, v1, v2, v3, mx, sum)
}

/// Quantizes one 32-element block of x to Int16 lanes; returns (q, dx, Σx) with x ≈ dx·q.
/// `nil` when the block holds a NaN or an infinity.
@inline(__always) func quantizeBlock16(_ p: UnsafePointer<Float>, limit: Float = 32767) -> (SIMD32<Int16>, Float, Float)? {
    guard let (v0, v1, v2, v3, mx, sum) = loadFiniteBlock(p) else { return nil }
    // Blocks below 1e-30 (where limit/max could overflow) quantize to 0: they add < 1e-30·Σ|w|.
    let inv = SIMD8<Float>(repeating: mx > 1e-30 ? limit / mx : 0)
    // Rounded values lie in ±limit (≤ 32767), so the conversions are exact. (Written lane by lane: the standard library's
    // generic SIMD conversions are not specialized and run scalar code through `_convert`.)
    @inline(__always) func put(_ v: SIMD8<Float>) -> SIMD8<Int16> {
        let r = (v * inv).rounded(.toNearestOrEven)
        return SIMD8<Int16>(Int16(r[0]), Int16(r[1]), Int16(r[2]), Int16(r[3]), Int16(r[4]), Int16(r[5]), Int16(r[6]), Int16(r[7]))
    }
    let q = SIMD32(lowHalf: SIMD16(lowHalf: put(v0), highHalf: put(v1)), highHalf: SIMD16(lowHalf: put(v2), highHalf: put(v3)))
    return (q, mx > 1e-30 ? mx / limit : 0, sum)
}

/// Quantizes x (k floats, k a multiple of 32) into `qBuf` (≥ (k/32 + 1)·32 Int16) and `xds`
/// (≥ (k/32 + 1)·8 floats) in the layout of `type`'s kernel (see `DecodeX`). Returns false (buffers
/// unspecified) if x holds a NaN or an infinity.
func quantizeDecodeX(_ type: GGMLType, _ x: UnsafePointer<Float>, _ k: Int,
                     _ qBuf: UnsafeMutablePointer<Int16>, _ xds: UnsafeMutablePointer<Float>) -> Bool {
    let blocks = k / 32
    let q4 = type == .q4_0 || type == .q4_1   // Q5_0, Q8_0, Q4_K and Q6_K take x in element order
    for b in 0..<blocks {
        guard let qb = quantizeBlock16(x + b * 32) else { return false }
        let (q, dx, sum) = qb
        if q4 {
            // Blocks go in pairs (2p, 2p+1): vectors A, B, C, D of 16 lanes, block 2p in lanes 0..<8.
            let o = qBuf + (b >> 1) * 64 + (b & 1) * 8
            for i in 0..<8 {
                o[i] = q[2 * i]; o[16 + i] = q[2 * i + 16]; o[32 + i] = q[2 * i + 1]; o[48 + i] = q[2 * i + 17]
            }
            let f = xds + (b >> 1) * 16
            let h = b & 1
            for i in 0..<4 { f[h * 4 + i] = dx }
            let c: Float = type == .q4_0 ? -8 * sum : sum
            f[8 + 2 * h] = 0; f[9 + 2 * h] = c
            f[12 + 2 * h] = 0; f[13 + 2 * h] = c
        } else {
            xds[2 * b] = dx
            xds[2 * b + 1] = sum   // Σx: Q4_K's min term (−dmin·m·Σx); the other formats ignore it
            UnsafeMutableRawPointer(qBuf + b * 32).storeBytes(of: q, as: SIMD32<Int16>.self)
        }
    }
    if q4 && blocks & 1 == 1 {
        // Pad to a whole pair with a zero block (its weights are read but multiplied by 0).
        let o = qBuf + (blocks >> 1) * 64 + 8
        for i in 0..<8 { o[i] = 0; o[16 + i] = 0; o[32 + i] = 0; o[48 + i] = 0 }
        let f = xds + (blocks >> 1) * 16
        for i in 4..<8 { f[i] = 0 }
        f[10] = 0; f[11] = 0; f[14] = 0; f[15] = 0
    }
    return true
}

/// Q4_0 / Q4_1 integer dot products of two blocks (nibbles at `pa`, `pb`) against a prepared pair of x
/// blocks: block a in the low 128 bits, b in the high (4 partial sums each).
@inline(__always) func q4PairSums(_ pa: UnsafeRawPointer, _ pb: UnsafeRawPointer, _ xq: UnsafePointer<Int16>)
    -> SIMD8<Int32> {
    let lo = pa.loadUnaligned(as: SIMD8<Int16>.self), hi = pb.loadUnaligned(as: SIMD8<Int16>.self)
    let w = SIMD16<Int16>(lowHalf: lo, highHalf: hi)
    // B is taken as 16·b (w & 0xF0) and its products shifted back: the sums are exact multiples of 16.
    // ((w >> 4) & 15 makes LLVM re-pack bytes: 5 instructions instead of 2.)
    let a = w & 0x000F, b16 = w & 0x00F0, c = (w &>> 8) & 0x000F, d = (w &>> 12) & 0x000F
    let s1 = maddwd(a, ldI16x16(xq)) &+ (maddwd(b16, ldI16x16(xq + 16)) &>> 4)
    let s2 = maddwd(c, ldI16x16(xq + 32)) &+ maddwd(d, ldI16x16(xq + 48))
    return s1 &+ s2
}

/// y[j] = W[j]·x for rows r0..<r1 of Q4_0 (`bytes` 18) or Q4_1 (20) weights, x prepared by `quantizeDecodeX`.
/// One row at a time (the weights stream strictly sequentially), two blocks per step.
@inline(__always)
func decodeQ4Rows(q41: Bool, _ weights: UnsafeRawPointer, _ stride: Int, _ blocks: Int, _ x: DecodeX,
                  _ y: UnsafeMutablePointer<Float>, _ r0: Int, _ r1: Int) {
    let bytes = q41 ? 20 : 18
    let qsOff = q41 ? 4 : 2
    var j = r0
    while j < r1 {
        let p = weights + j * stride
        prefetchRowAhead(weights, row: j, stride: stride, end: r1)
        var acc = SIMD8<Float>(), mins = SIMD4<Float>()
        @inline(__always) func step(_ o: Int, _ o2: Int, _ xq: UnsafePointer<Int16>, _ f: UnsafePointer<Float>) {
            // Scale halves [d_a, m_a, d_b, m_b] (Q4_0: [d_a, d_a, d_b, d_b]).
            let h: SIMD2<UInt32>
            if q41 {
                h = SIMD2<UInt32>(p.loadUnaligned(fromByteOffset: o, as: UInt32.self),
                                  p.loadUnaligned(fromByteOffset: o2, as: UInt32.self))
            } else {
                h = SIMD2<UInt32>(UInt32(p.loadUnaligned(fromByteOffset: o, as: UInt16.self)),
                                  UInt32(p.loadUnaligned(fromByteOffset: o2, as: UInt16.self))) &* 0x10001
            }
            let h4 = unsafeBitCast(h, to: SIMD4<UInt16>.self)
            // Min terms: [d_a, m_a, d_b, m_b]·[0, c_a, 0, c_b]; block scales: [d_a ×4, d_b ×4]·[dx_a ×4, dx_b ×4].
            // (Two fp16 conversions: sharing one makes LLVM split it into three plus shuffles.)
            mins = mins.addingProduct(halfs4(h4), UnsafeRawPointer(f + 8).loadUnaligned(as: SIMD4<Float>.self))
            let h8 = SIMD8<UInt16>(h4[0], h4[0], h4[0], h4[0], h4[2], h4[2], h4[2], h4[2])
            let sc = halfs8(h8) * UnsafeRawPointer(f).loadUnaligned(as: SIMD8<Float>.self)
            acc = acc.addingProduct(cvtI32(q4PairSums(p + o + qsOff, p + o2 + qsOff, xq)), sc)
        }
        var xq = x.q
        var f = x.xds
        var o = 0
        var t = 0
        while t < blocks >> 1 {
            step(o, o + bytes, xq, f)
            xq += 64
            f += 16
            o += 2 * bytes
            t += 1
        }
        // An odd last block is paired with itself; x's second half is zero there.
        if blocks & 1 == 1 { step(o, o, xq, f) }
        let h4 = acc.lowHalf + acc.highHalf
        y[j] = (h4[0] + h4[1]) + (h4[2] + h4[3]) + (mins[1] + mins[3])
        j += 1
    }
}

/// A 32-element block format whose integer dot products with x in element order (the Q8_0 layout of
/// `quantizeDecodeX`) one kernel can share: an fp16 scale first, then `sums`.
protocol ElementOrderBlock {
    static var bytes: Int { get }
    /// The integer dot products of the block at `blk` with 32 prepared x values (8 partial sums).
    static func sums(_ blk: UnsafeRawPointer, _ xq: UnsafePointer<Int16>) -> SIMD8<Int32>
}

enum Q8Block: ElementOrderBlock {
    static var bytes: Int { 34 }
    @_transparent static func sums(_ blk: UnsafeRawPointer, _ xq: UnsafePointer<Int16>) -> SIMD8<Int32> {
        maddwd(sextBytes(blk + 2), ldI16x16(xq)) &+ maddwd(sextBytes(blk + 18), ldI16x16(xq + 16))
    }
}

enum Q5Block: ElementOrderBlock {
    static var bytes: Int { 22 }
    @_transparent static func sums(_ blk: UnsafeRawPointer, _ xq: UnsafePointer<Int16>) -> SIMD8<Int32> {
        q5BlockSums(blk, xq)
    }
}

/// y[j] = W[j]·x for rows r0..<r1 of Q8_0 or Q5_0 weights (`B`), x prepared in element order by
/// `quantizeDecodeX`. One row at a time, so the weights stream strictly sequentially (measured faster than
/// sharing x loads across 4 interleaved rows); even and odd blocks use separate accumulators.
@inline(__always)
func decodeElementOrderRows<B: ElementOrderBlock>(_ format: B.Type, _ weights: UnsafeRawPointer, _ stride: Int,
                                                   _ blocks: Int, _ x: DecodeX, _ y: UnsafeMutablePointer<Float>,
                                                   _ r0: Int, _ r1: Int) {
    let bytes = B.bytes
    for j in r0..<r1 {
        let p = weights + j * stride
        prefetchRowAhead(weights, row: j, stride: stride, end: r1)
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
        var xq = x.q
        var xd = x.xds
        var o = 0
        var b = 0
        while b + 2 <= blocks {
            let d0 = halfToFloat(p.loadUnaligned(fromByteOffset: o, as: UInt16.self)) * xd[0]
            let d1 = halfToFloat(p.loadUnaligned(fromByteOffset: o + bytes, as: UInt16.self)) * xd[2]
            a0 = a0.addingProduct(cvtI32(B.sums(p + o, xq)), SIMD8<Float>(repeating: d0))
            a1 = a1.addingProduct(cvtI32(B.sums(p + o + bytes, xq + 32)), SIMD8<Float>(repeating: d1))
            xq += 64
            xd += 4
            o += 2 * bytes
            b += 2
        }
        if b < blocks {
            let d0 = halfToFloat(p.loadUnaligned(fromByteOffset: o, as: UInt16.self)) * xd[0]
            a0 = a0.addingProduct(cvtI32(B.sums(p + o, xq)), SIMD8<Float>(repeating: d0))
        }
        y[j] = hsum(a0 + a1)
    }
}

/// 16 bytes zero-extended to 16-bit lanes (vpmovzxbw).
@inline(__always) func zextBytes(_ p: UnsafeRawPointer) -> SIMD16<Int16> {
    let b = p.loadUnaligned(as: SIMD16<UInt8>.self)
    var r = SIMD16<Int16>()
    for i in 0..<16 { r[i] = Int16(b[i]) }
    return r
}

/// The integer dot products of one Q5_0 block at `blk` (22 bytes: fp16 d, 32 fifth bits, 16 nibble bytes)
/// with 32 prepared x values (8 partial sums). The low nibbles are elements 0..<16 and the high nibbles
/// 16..<32, each with its fifth bit (bit i of qh for element i, worth 16); the weight is the 5-bit value − 16.
@_transparent func q5BlockSums(_ blk: UnsafeRawPointer, _ xq: UnsafePointer<Int16>) -> SIMD8<Int32> {
    // Lane i tests bit i of a 16-bit half of qh.
    let bit = SIMD16<Int16>(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, -32768)
    let qh = blk.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
    let q = zextBytes(blk + 6)
    let hLo = SIMD16<Int16>(repeating: Int16(truncatingIfNeeded: qh)) & bit
    let hHi = SIMD16<Int16>(repeating: Int16(truncatingIfNeeded: qh >> 16)) & bit
    // q − 16 where the fifth bit is clear; q itself (its 16 cancels the −16) where it is set: a compare
    // and an and-not per half, no blend.
    let sixteen = SIMD16<Int16>(repeating: 16), zero = SIMD16<Int16>()
    let w0 = (q & 0x000F) &- sixteen.replacing(with: zero, where: hLo .== bit)
    let w1 = (q &>> 4) &- sixteen.replacing(with: zero, where: hHi .== bit)
    return maddwd(w0, ldI16x16(xq)) &+ maddwd(w1, ldI16x16(xq + 16))
}

/// Rows r0..<r1 of a Q4_0 / Q4_1 / Q5_0 / Q8_0 / Q4_K / Q6_K matrix-vector product on prepared x (kept out of
/// line per type).
@inline(never)
func decodeRows(_ type: GGMLType, _ weights: UnsafeRawPointer, _ stride: Int, _ blocks: Int, _ x: DecodeX,
                _ y: UnsafeMutablePointer<Float>, _ r0: Int, _ r1: Int) {
    switch type {
    case .q4_1: decodeQ4Rows(q41: true, weights, stride, blocks, x, y, r0, r1)
    case .q4_0: decodeQ4Rows(q41: false, weights, stride, blocks, x, y, r0, r1)
    case .q5_0: decodeElementOrderRows(Q5Block.self, weights, stride, blocks, x, y, r0, r1)
    case .q4_K: decodeQ4KRows(weights, stride, blocks / 8, x, y, r0, r1)
    case .q6_K: decodeQ6KRows(weights, stride, blocks / 8, x, y, r0, r1)
    default: decodeElementOrderRows(Q8Block.self, weights, stride, blocks, x, y, r0, r1)
    }
}

/// Whether the integer decode kernels handle `type` (m = 1 only).
@inline(__always) func decodeKernelSupports(_ type: GGMLType) -> Bool {
    type == .q4_0 || type == .q4_1 || type == .q5_0 || type == .q8_0 || type == .q4_K || type == .q6_K
}

// K-quants (256-element super-blocks) against x in element order: each 32-element x block lines up with
// one Q4_K sub-block (6-bit scale and min) or two Q6_K sub-blocks (int8 scales), so every sub-block's
// integer dot product is exact and only its scaling is fp32.

/// y[j] = W[j]·x for rows r0..<r1 of Q4_K weights (`superBlocks` of 144 bytes per row: fp16 d and dmin,
/// 12 bytes of packed 6-bit scales and mins, 128 nibble bytes). Sub-block s of a super-block is
/// d·sc_s·q − dmin·m_s, q the nibbles: low nibbles of bytes 32c..<32c+32 are sub-block 2c, high nibbles 2c+1.
/// Its dot product with x block b is d·sc_s·dx_b·Σq·xq − dmin·m_s·Σx_b (Σx_b exact, from `xds`).
@inline(__always)
func decodeQ4KRows(_ weights: UnsafeRawPointer, _ stride: Int, _ superBlocks: Int, _ x: DecodeX,
                   _ y: UnsafeMutablePointer<Float>, _ r0: Int, _ r1: Int) {
    for j in r0..<r1 {
        let row = weights + j * stride
        prefetchRowAhead(weights, row: j, stride: stride, end: r1)
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var mins: Float = 0
        for sb in 0..<superBlocks {
            let p = row + sb * 144
            let d = half(p, 0), dmin = half(p, 2)
            let scales = p + 4, qs = p + 16
            let xq = x.q + sb * 256
            let xd = x.xds + sb * 16
            for c in 0..<4 {
                let (s1, m1) = scaleMinK4(2 * c, scales)
                let (s2, m2) = scaleMinK4(2 * c + 1, scales)
                let b0 = zextBytes(qs + 32 * c), b1 = zextBytes(qs + 32 * c + 16)
                let xc = xq + 64 * c
                let lo = maddwd(b0 & 0x000F, ldI16x16(xc)) &+ maddwd(b1 & 0x000F, ldI16x16(xc + 16))
                let hi = maddwd(b0 &>> 4, ldI16x16(xc + 32)) &+ maddwd(b1 &>> 4, ldI16x16(xc + 48))
                acc0 = acc0.addingProduct(cvtI32(lo), SIMD8<Float>(repeating: d * s1 * xd[4 * c]))
                acc1 = acc1.addingProduct(cvtI32(hi), SIMD8<Float>(repeating: d * s2 * xd[4 * c + 2]))
                mins += dmin * (m1 * xd[4 * c + 1] + m2 * xd[4 * c + 3])
            }
        }
        y[j] = hsum(acc0 + acc1) - mins
    }
}

/// Q6_K codes (0…63, before the −32) of 16 consecutive elements in each of the four 32-element blocks t of a
/// 128-element half: from the zero-extended low-nibble bytes `a` (ql[16l…]) and `b` (ql[32 + 16l…]) and high-bit
/// bytes `h` (qh[16l…]), block t's elements 32t + 16l + i.
@inline(__always) func q6KCodes(_ a: SIMD16<Int16>, _ b: SIMD16<Int16>, _ h: SIMD16<Int16>)
    -> (SIMD16<Int16>, SIMD16<Int16>, SIMD16<Int16>, SIMD16<Int16>) {
    ((a & 0x000F) | ((h & 0x0003) &<< 4), (b & 0x000F) | ((h & 0x000C) &<< 2),
     (a &>> 4) | (h & 0x0030), (b &>> 4) | ((h &>> 2) & 0x0030))
}

/// y[j] = W[j]·x for rows r0..<r1 of Q6_K weights (`superBlocks` of 210 bytes per row: 128 bytes of low
/// nibbles, 64 of high bit pairs, 16 int8 sub-block scales, fp16 d). In each 128-element half h, element
/// 32t + l (t < 4, l < 32) is (ql nibble | 2 high bits) − 32 with scale sc[8h + 2t + l/16]: x block (h, t)
/// meets two 16-element sub-blocks, summed separately.
@inline(__always)
func decodeQ6KRows(_ weights: UnsafeRawPointer, _ stride: Int, _ superBlocks: Int, _ x: DecodeX,
                   _ y: UnsafeMutablePointer<Float>, _ r0: Int, _ r1: Int) {
    let off = SIMD16<Int16>(repeating: 32)
    for j in r0..<r1 {
        let row = weights + j * stride
        prefetchRowAhead(weights, row: j, stride: stride, end: r1)
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        for sb in 0..<superBlocks {
            let p = row + sb * 210
            let d = half(p, 208)
            let sc = (p + 192).assumingMemoryBound(to: Int8.self)
            for h in 0..<2 {
                let ql = p + 64 * h, qh = p + 128 + 32 * h
                let a0 = zextBytes(ql), a1 = zextBytes(ql + 16)
                let b0 = zextBytes(ql + 32), b1 = zextBytes(ql + 48)
                let h0 = zextBytes(qh), h1 = zextBytes(qh + 16)
                let xq = x.q + sb * 256 + 128 * h
                let xd = x.xds + sb * 16 + 8 * h
                let s = sc + 8 * h
                @inline(__always) func block(_ t: Int, _ w0: SIMD16<Int16>, _ w1: SIMD16<Int16>) {
                    let xb = xq + 32 * t
                    let f = d * xd[2 * t]
                    acc0 = acc0.addingProduct(cvtI32(maddwd(w0 &- off, ldI16x16(xb))),
                                              SIMD8<Float>(repeating: f * Float(s[2 * t])))
                    acc1 = acc1.addingProduct(cvtI32(maddwd(w1 &- off, ldI16x16(xb + 16))),
                                              SIMD8<Float>(repeating: f * Float(s[2 * t + 1])))
                }
                let c0 = q6KCodes(a0, b0, h0), c1 = q6KCodes(a1, b1, h1)
                block(0, c0.0, c1.0); block(1, c0.1, c1.1); block(2, c0.2, c1.2); block(3, c0.3, c1.3)
            }
        }
        y[j] = hsum(acc0 + acc1)
    }
}

/// y = W·x for Q4_0 / Q4_1 / Q5_0 / Q8_0 / Q4_K / Q6_K weights and one x row: quantizes x once, then splits
/// rows over `pool`. Returns false, having written nothing, if x holds a NaN or an infinity (the caller's
/// fp32 path then propagates them, as `decodeBatchMatMul` and `int16PanelMatMul` do).
func decodeMatVec(type: GGMLType, weights: UnsafeRawPointer, stride: Int, n: Int, k: Int,
                  x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, pool: ThreadPool) -> Bool {
    let blocks = k / 32
    let P = n * k < 1 << 15 ? 1 : pool.threadCount
    let (chunk, tasks) = rowTasks(n, participants: P)
    let body: (ParallelContext) -> Bool = { ctx in
        let raw = ctx.shared.bytes(5, (blocks + 1) * 64 + (blocks + 1) * 32)
        let qBuf = raw.assumingMemoryBound(to: Int16.self)
        let xds = (raw + (blocks + 1) * 64).assumingMemoryBound(to: Float.self)
        if !quantizeDecodeX(type, x, k, qBuf, xds) { return false }
        let dx = DecodeX(q: UnsafePointer(qBuf), xds: UnsafePointer(xds))
        ctx.run { _, _ in
            while true {
                let t = ctx.next()
                if t >= tasks { break }
                let r0 = t * chunk, r1 = min(n, r0 + chunk)
                decodeRows(type, weights, stride, blocks, dx, y, r0, r1)
            }
        }
        return true
    }
    return P == 1 ? body(serialContext()) : pool.withParallel(body)
}
