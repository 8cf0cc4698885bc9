import GGUF
import CPUIntrinsics

// 8-bit activation panels for batches of x rows on Q4_0 / Q4_1 / Q4_K weights: the kernel for sampling steps of many
// streams at once (`ActivationPrecision.int8`).
//
// `vpmaddubsw` multiplies 32 unsigned bytes by 32 signed bytes and sums adjacent pairs into 16-bit lanes: 32
// multiply-adds per instruction, twice `vpmaddwd`'s 16 (the integer panels of `int16PanelMatMul`). Q4 weights
// are 4-bit unsigned codes, so they are the unsigned operand as stored; x is quantized per 32-element block to
// signed bytes (dx = max|x| / 127, as llama.cpp quantizes activations for these formats).
//  - x is laid out in panels of 16 rows: for each quad of elements (4 consecutive elements of a row), 64 bytes
//    holding rows 0–15's four bytes. Per (row, block) it keeps dx, Σx and 8r, r = Σx − dx·Σq (see below).
//  - each task unpacks up to 48 weight rows (`PanelTasks`) to one byte per element (the nibble codes 0…15,
//    element order), plus each block's d and offset o (Q4_0: −8d; Q4_1: m).
//  - the register kernel broadcasts one weight row's quad (4 bytes) and multiplies it with 8 rows' quads per
//    vector: 6 weight rows × 2 vectors of 16-bit sums. A block is 8 quads, and each 16-bit lane adds at most
//    8 · 2 · 15 · 127 = 30,480 in magnitude: exact, no saturation. `vpmaddwd` with ones then sums each row's
//    two lanes into 32 bits, and fp32 takes over.
//  - per block, with S = Σ q_w·q_x: y += d·(dx·S + 8r) + o·Σx. The 8r term makes the rounding error that of the
//    centred codes (q_w − 8) rather than of the raw ones, as if the weights had been stored centred.
// The rounding error is that of 8-bit x: ≤ 1/254 of each block's largest |x| per element, about 1/258 of the
// 16-bit panels' precision. Results do not depend on the thread count. Non-finite x falls back (returns false).

/// How finely the integer matrix kernels quantize x (the activations) before multiplying.
public enum ActivationPrecision: Sendable {
    /// 16-bit, with ≤ 1.5e-5 of each block's largest |x| rounding error per element: every path's default.
    case int16
    /// 8-bit (≤ 1/254 of the block's largest |x|, llama.cpp's activation precision), on Q4_0 / Q4_1 / Q4_K batches of
    /// at least `int8MinimumRows` rows: about 1.5× faster there. Meant for sampling steps, whose logits only
    /// choose the next token; scoring keeps `.int16`.
    case int8
    /// None: x stays fp32 and multiplies dequantized weights, matching a dequantize-then-fp32 product up to
    /// summation order. Slower; for reference comparisons (the training forward pass checks itself against it).
    case float32

    /// The fewest rows a product takes 8-bit activations at (smaller batches keep 16 bits whatever is asked).
    public static var int8MinimumRows: Int { int16PanelsMinRows }
}

/// Whether the 8-bit panels handle `type`.
@inline(__always) func int8PanelsSupport(_ type: GGMLType) -> Bool { type == .q4_0 || type == .q4_1 || type == .q4_K }

/// Quantizes one 32-element block of x to signed bytes: (q, dx, Σx, 8·(Σx − dx·Σq)) with x ≈ dx·q, or `nil` when
/// the block holds a NaN or an infinity.
@inline(__always) func quantizeBlock8(_ p: UnsafePointer<Float>) -> (SIMD32<Int8>, Float, Float, Float)? {
    guard let (v0, v1, v2, v3, mx, sum) = loadFiniteBlock(p) else { return nil }
    // Blocks below 1e-30 quantize to 0, as in `quantizeBlock16`.
    let inv = SIMD8<Float>(repeating: mx > 1e-30 ? 127 / mx : 0)
    let r0 = (v0 * inv).rounded(.toNearestOrEven), r1 = (v1 * inv).rounded(.toNearestOrEven)
    let r2 = (v2 * inv).rounded(.toNearestOrEven), r3 = (v3 * inv).rounded(.toNearestOrEven)
    let qs = (r0 + r1) + (r2 + r3)
    // Rounded values lie in ±127: the conversions are exact.
    @inline(__always) func bytes(_ r: SIMD8<Float>) -> SIMD8<Int8> {
        SIMD8<Int8>(Int8(r[0]), Int8(r[1]), Int8(r[2]), Int8(r[3]), Int8(r[4]), Int8(r[5]), Int8(r[6]), Int8(r[7]))
    }
    let q = SIMD32(lowHalf: SIMD16(lowHalf: bytes(r0), highHalf: bytes(r1)), highHalf: SIMD16(lowHalf: bytes(r2), highHalf: bytes(r3)))
    let dx: Float = mx > 1e-30 ? mx / 127 : 0
    return (q, dx, sum, 8 * (sum - dx * qs.sum()))
}

/// Quantizes blocks `blockRange` of every row of x (m rows of k; rows past m, up to the last panel's end, are
/// zero) into 16-row panels: quad t of row i at byte `((panel·k/4 + t)·16 + i mod 16)·4`; the factors of
/// (row, block) at `xf[(panel·blocks + b)·48 + j·16 + i mod 16]` for j = 0 (dx), 1 (Σx), 2 (8r). Returns false if
/// x holds a non-finite value. A block's bytes and factors fill whole cache lines, so threads packing disjoint
/// block ranges never write to the same line.
func packInt8Panels(_ x: UnsafePointer<Float>, m: Int, k: Int, blockRange: Range<Int>,
                    _ xq: UnsafeMutablePointer<UInt32>, _ xf: UnsafeMutablePointer<Float>) -> Bool {
    let blocks = k / 32, quads = k / 4
    let panels = (m + 15) / 16
    for i in 0..<(panels * 16) {
        let panel = i >> 4, lane = i & 15
        let words = xq + panel * quads * 16 + lane
        let f = xf + panel * blocks * 48 + lane
        if i >= m {
            for b in blockRange {
                for t in 0..<8 { words[(b * 8 + t) * 16] = 0 }
                f[b * 48] = 0; f[b * 48 + 16] = 0; f[b * 48 + 32] = 0
            }
            continue
        }
        for b in blockRange {
            guard let (q, dx, sum, r) = quantizeBlock8(x + i * k + b * 32) else { return false }
            f[b * 48] = dx; f[b * 48 + 16] = sum; f[b * 48 + 32] = r
            let w = unsafeBitCast(q, to: SIMD8<UInt32>.self)
            for t in 0..<8 { words[(b * 8 + t) * 16] = w[t] }
        }
    }
    return true
}

/// Unpacks one Q4_0 / Q4_1 / Q4_K weight row to `k` code bytes (0…15, element order) at `wq`, and per 32-element
/// block its d and offset o (w = d·q + o) at `wf[b]` and `wf[blocks + b]`.
@inline(__always)
func unpackInt8Row(_ type: GGMLType, _ src: UnsafeRawPointer, blocks: Int,
                   _ wq: UnsafeMutablePointer<UInt8>, _ wf: UnsafeMutablePointer<Float>) {
    let mask = SIMD16<UInt8>(repeating: 15)
    if type == .q4_K {
        // 256-element super-blocks (see `unpackInt16Row`): sub-block 2c is the low nibbles of bytes 32c…32c+31,
        // sub-block 2c + 1 their high nibbles; sub-block b weighs d·s_b·q − dmin·m_b.
        for sb in 0..<(blocks / 8) {
            let p = src + sb * 144
            q4KSubBlockFactors(p) { j, scale, offset in
                wf[sb * 8 + j] = scale
                wf[blocks + sb * 8 + j] = offset
            }
            for c in 0..<4 {
                let v0 = (p + 16 + 32 * c).loadUnaligned(as: SIMD16<UInt8>.self)
                let v1 = (p + 32 + 32 * c).loadUnaligned(as: SIMD16<UInt8>.self)
                let o = UnsafeMutableRawPointer(wq + (sb * 8 + 2 * c) * 32)
                o.storeBytes(of: v0 & mask, as: SIMD16<UInt8>.self)
                (o + 16).storeBytes(of: v1 & mask, as: SIMD16<UInt8>.self)
                (o + 32).storeBytes(of: v0 &>> 4, as: SIMD16<UInt8>.self)
                (o + 48).storeBytes(of: v1 &>> 4, as: SIMD16<UInt8>.self)
            }
        }
        return
    }
    let q41 = type == .q4_1
    let bytes = type.bytesPerBlock
    for b in 0..<blocks {
        let blk = src + b * bytes
        let d = halfToFloat(blk.loadUnaligned(as: UInt16.self))
        wf[b] = d
        wf[blocks + b] = q41 ? halfToFloat(blk.loadUnaligned(fromByteOffset: 2, as: UInt16.self)) : -8 * d
        // Byte j of a Q4 block holds element j (low nibble) and element j + 16 (high nibble).
        let v = (blk + (q41 ? 4 : 2)).loadUnaligned(as: SIMD16<UInt8>.self)
        let o = UnsafeMutableRawPointer(wq + b * 32)
        o.storeBytes(of: v & mask, as: SIMD16<UInt8>.self)
        (o + 16).storeBytes(of: v &>> 4, as: SIMD16<UInt8>.self)
    }
}

@_transparent func broadcastQuad(_ w: UInt32) -> SIMD32<UInt8> {
    unsafeBitCast(SIMD8<UInt32>(repeating: w), to: SIMD32<UInt8>.self)
}

/// y[i][j] = Σ w[j]·x[i] for j < rows (≤ 6; weight rows `k` bytes apart, factors `2·blocks` floats apart) and
/// i < xRows (≤ 16).
@inline(__always)
func int8PanelKernel(blocks: Int, wq: UnsafePointer<UInt8>, wf: UnsafePointer<Float>, rows: Int,
                     xq: UnsafeRawPointer, xf: UnsafePointer<Float>,
                     y: UnsafeMutablePointer<Float>, ldy: Int, xRows: Int) {
    let k = blocks * 32, fs = 2 * blocks
    // Rows past `rows` alias row 0; their sums are discarded.
    let w0 = UnsafeRawPointer(wq), w1 = rows > 1 ? w0 + k : w0, w2 = rows > 2 ? w0 + 2 * k : w0
    let w3 = rows > 3 ? w0 + 3 * k : w0, w4 = rows > 4 ? w0 + 4 * k : w0, w5 = rows > 5 ? w0 + 5 * k : w0
    let f0 = wf, f1 = rows > 1 ? wf + fs : wf, f2 = rows > 2 ? wf + 2 * fs : wf
    let f3 = rows > 3 ? wf + 3 * fs : wf, f4 = rows > 4 ? wf + 4 * fs : wf, f5 = rows > 5 ? wf + 5 * fs : wf
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
    var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
    var c40 = SIMD8<Float>(), c41 = SIMD8<Float>(), c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
    let ones = SIMD16<Int16>(repeating: 1)
    for b in 0..<blocks {
        var i00 = SIMD16<Int16>(), i01 = SIMD16<Int16>(), i10 = SIMD16<Int16>(), i11 = SIMD16<Int16>()
        var i20 = SIMD16<Int16>(), i21 = SIMD16<Int16>(), i30 = SIMD16<Int16>(), i31 = SIMD16<Int16>()
        var i40 = SIMD16<Int16>(), i41 = SIMD16<Int16>(), i50 = SIMD16<Int16>(), i51 = SIMD16<Int16>()
        let q0 = b &* 8
        for t in 0..<8 {
            let q = q0 &+ t
            let xa = xq.load(fromByteOffset: q &* 64, as: SIMD32<Int8>.self)
            let xb = xq.load(fromByteOffset: q &* 64 &+ 32, as: SIMD32<Int8>.self)
            let o = q &* 4
            var wv = broadcastQuad(w0.loadUnaligned(fromByteOffset: o, as: UInt32.self))
            i00 &+= multiplyAddPairs(unsigned: wv, signed: xa); i01 &+= multiplyAddPairs(unsigned: wv, signed: xb)
            wv = broadcastQuad(w1.loadUnaligned(fromByteOffset: o, as: UInt32.self))
            i10 &+= multiplyAddPairs(unsigned: wv, signed: xa); i11 &+= multiplyAddPairs(unsigned: wv, signed: xb)
            wv = broadcastQuad(w2.loadUnaligned(fromByteOffset: o, as: UInt32.self))
            i20 &+= multiplyAddPairs(unsigned: wv, signed: xa); i21 &+= multiplyAddPairs(unsigned: wv, signed: xb)
            wv = broadcastQuad(w3.loadUnaligned(fromByteOffset: o, as: UInt32.self))
            i30 &+= multiplyAddPairs(unsigned: wv, signed: xa); i31 &+= multiplyAddPairs(unsigned: wv, signed: xb)
            wv = broadcastQuad(w4.loadUnaligned(fromByteOffset: o, as: UInt32.self))
            i40 &+= multiplyAddPairs(unsigned: wv, signed: xa); i41 &+= multiplyAddPairs(unsigned: wv, signed: xb)
            wv = broadcastQuad(w5.loadUnaligned(fromByteOffset: o, as: UInt32.self))
            i50 &+= multiplyAddPairs(unsigned: wv, signed: xa); i51 &+= multiplyAddPairs(unsigned: wv, signed: xb)
        }
        let fb = UnsafeRawPointer(xf + b &* 48)
        let da = fb.load(as: SIMD8<Float>.self), db = fb.load(fromByteOffset: 32, as: SIMD8<Float>.self)
        let sa = fb.load(fromByteOffset: 64, as: SIMD8<Float>.self), sb = fb.load(fromByteOffset: 96, as: SIMD8<Float>.self)
        let ra = fb.load(fromByteOffset: 128, as: SIMD8<Float>.self), rb = fb.load(fromByteOffset: 160, as: SIMD8<Float>.self)
        @inline(__always) func fold(_ c: inout SIMD8<Float>, _ acc: SIMD16<Int16>, _ f: UnsafePointer<Float>,
                                    _ dxv: SIMD8<Float>, _ sv: SIMD8<Float>, _ rv: SIMD8<Float>) {
            c = c.addingProduct(rv.addingProduct(cvtI32(multiplyAddPairs(acc, ones)), dxv), f[b])
            c = c.addingProduct(sv, f[blocks &+ b])
        }
        fold(&c00, i00, f0, da, sa, ra); fold(&c01, i01, f0, db, sb, rb)
        fold(&c10, i10, f1, da, sa, ra); fold(&c11, i11, f1, db, sb, rb)
        fold(&c20, i20, f2, da, sa, ra); fold(&c21, i21, f2, db, sb, rb)
        fold(&c30, i30, f3, da, sa, ra); fold(&c31, i31, f3, db, sb, rb)
        fold(&c40, i40, f4, da, sa, ra); fold(&c41, i41, f4, db, sb, rb)
        fold(&c50, i50, f5, da, sa, ra); fold(&c51, i51, f5, db, sb, rb)
    }
    storePanelTile((c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51), rows: rows, xRows: xRows, y: y, ldy: ldy)
}

/// `int16PanelMatMulGroup` with 8-bit x, for parts that are all Q4_0 / Q4_1 / Q4_K (`int8PanelsSupport`): x is
/// quantized once for the group, one parallel phase runs every part's tasks. Returns false, having written
/// nothing, if x holds a non-finite value.
func int8PanelMatMulGroup(_ parts: [MatMulPart], k: Int, x: UnsafePointer<Float>, m: Int, pool: ThreadPool) -> Bool {
    let blocks = k / 32, quads = k / 4
    let xPanels = (m + 15) / 16
    precondition(parts.allSatisfy { int8PanelsSupport($0.type) }, "int8PanelMatMulGroup: a part is not Q4_0 / Q4_1 / Q4_K")
    let plan = PanelTasks(parts, k: k, m: m, threads: pool.threadCount)
    let P = plan.work < 1 << 16 ? 1 : pool.threadCount
    let body: (ParallelContext) -> Bool = { ctx in
        let quadBytes = xPanels * quads * 64, factors = xPanels * blocks * 48
        let raw = ctx.shared.bytes(6, quadBytes + factors * 4 + (ctx.participants + 63) / 64 * 64)
        let xq = raw.assumingMemoryBound(to: UInt32.self)
        let xf = (raw + quadBytes).assumingMemoryBound(to: Float.self)
        let okFlags = (raw + quadBytes + factors * 4).assumingMemoryBound(to: UInt8.self)
        ctx.run { t, _ in
            let r = ThreadPool.chunk(blocks, part: t, of: ctx.participants)
            okFlags[t] = packInt8Panels(x, m: m, k: k, blockRange: r, xq, xf) ? 1 : 0
        }
        for t in 0..<ctx.participants where okFlags[t] == 0 { return false }
        ctx.run { _, arena in
            let R = plan.rowsPerTask
            let wq = arena.bytes(7, R * k).assumingMemoryBound(to: UInt8.self)
            let wf = arena.floats(8, 2 * R * blocks)
            plan.forEachTask(ctx, parts) { pp, stride, j0, rows in
                for r in 0..<rows {
                    prefetchRowAhead(pp.weights, row: j0 + r, stride: stride, end: pp.n)
                    unpackInt8Row(pp.type, pp.weights + (j0 + r) * stride, blocks: blocks, wq + r * k, wf + r * 2 * blocks)
                }
                for xp in 0..<xPanels {
                    let i0 = xp * 16
                    var r0 = 0
                    while r0 < rows {
                        int8PanelKernel(blocks: blocks, wq: UnsafePointer(wq + r0 * k), wf: UnsafePointer(wf + r0 * 2 * blocks),
                                        rows: min(6, rows - r0),
                                        xq: UnsafeRawPointer(xq + xp * quads * 16), xf: UnsafePointer(xf + xp * blocks * 48),
                                        y: pp.y + i0 * pp.n + j0 + r0, ldy: pp.n, xRows: min(16, m - i0))
                        r0 += 6
                    }
                }
            }
        }
        return true
    }
    return P == 1 ? body(serialContext()) : pool.withParallel(body)
}
