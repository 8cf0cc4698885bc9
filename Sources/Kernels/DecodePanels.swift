import GGUF
import CPUIntrinsics

// Integer panel kernel for batches of x rows (many streams decoding together, prompts, scoring) on Q4_0,
// Q4_1, Q5_0 and Q8_0 weights: the integer counterpart of `quantizedMatMulPanels`.
//
// The fp32 panel kernel is FMA-bound at 16 rows: 8 multiply-adds per instruction. `vpmaddwd` does 16
// (two 16-bit products summed into each 32-bit lane), so here both operands are 16-bit integers:
//  - x is quantized once per call (once per group of matrices that share it, `int16PanelMatMulGroup`; its
//    blocks split over the threads), one fp32 scale per row and 32-element block (dx = max|x| / 32767, the
//    same rounding as the m = 1 kernel), and laid out in panels of 16 rows: for each element pair p, one
//    32-bit word per row holding the pair's two integers. A pair is two elements of the same block: for Q4
//    formats the same nibble of bytes 2 apart, for Q5_0 and Q8_0 elements 2t and 2t + 1. In Q4 pair word t
//    (group g = t / 4, s = t mod 4) sit elements e and e + 2 with e = 4s + g / 2 + 16·(g mod 2): read as one
//    32-bit word, nibble bytes 4s…4s+3 give group g as (u >> 4g) & 0x000F000F. Over t = 0…15 that is the
//    block's even elements in order, then its odd ones, two per word.
//  - each task unpacks its weight rows into the same pair words (Q4 nibbles centred, q − 8; Q5_0 q − 16; Q4_K's
//    32-element sub-blocks like Q4_1; Q6_K's codes times their 16-element sub-block scale), plus each block's
//    fp32 scale d and, for Q4_1 and Q4_K, its offset (which multiplies the block's exact Σx).
//  - the register kernel broadcasts one weight word and multiplies it with 16 rows' words (two vectors):
//    6 rows × 2 vectors of exact 32-bit sums per block, then d_w·dx (and offset·Σx) in fp32.
// Each 32-bit lane sums 32 products of a ≤ 8-bit weight and a 16-bit activation, so it cannot overflow (Q6_K's
// scaled codes reach 13 bits, so its x is quantized to ±16383: `int16PanelsXLimit`).
// Results match a dequantize-then-fp32 product to within the activations' rounding (≤ 1.5e-5 of each
// block's largest |x|; 3e-5 for Q6_K), and do not depend on the thread count. Non-finite x falls back to fp32.
// Measured on Zen 3: vpmaddwd + vpaddd ran at only ~1.3× the multiply-add rate of one FMA (not 2×), so the
// gain over the fp32 panels is ~10% per SmolLM2 step at m = 16, mostly the dequantization it skips
// (bench/RESULTS.md).

/// From this many rows of x on, Q4_0 / Q4_1 / Q5_0 / Q8_0 / Q4_K / Q6_K run on the integer panels (below it, from 2 rows, on
/// `decodeBatchMatMul`): the measured crossover on SmolLM2-135M's shapes.
let int16PanelsMinRows = 10

/// Whether the integer panel path handles `type`.
@inline(__always) func int16PanelsSupport(_ type: GGMLType) -> Bool {
    type == .q4_0 || type == .q4_1 || type == .q5_0 || type == .q8_0 || type == .q4_K || type == .q6_K
}

/// Whether x pairs for `type` are elements 2t and 2t + 1 (Q5_0, Q8_0, Q4_K, Q6_K), not the Q4 nibble order.
@inline(__always) func int16PanelsElementOrder(_ type: GGMLType) -> Bool {
    type == .q8_0 || type == .q5_0 || type == .q4_K || type == .q6_K
}

/// The largest |x| code the panels quantize x to for `type`: 32767, but 16383 for Q6_K, whose weight codes carry
/// their 8-bit sub-block scale (up to 128·32 = 4096 in magnitude), so that 32 products still fit in an Int32 lane
/// (32·4096·16383 < 2³¹). A group takes the smallest limit of its parts.
@inline(__always) func int16PanelsXLimit(_ type: GGMLType) -> Float { type == .q6_K ? 16383 : 32767 }

/// Whether `type`'s 32-element blocks carry an offset besides their scale (w = d·q + o), which the panels add as
/// o·Σx: Q4_1, and Q4_K's sub-blocks (their mins).
@inline(__always) func int16PanelsOffsets(_ type: GGMLType) -> Bool { type == .q4_1 || type == .q4_K }

/// Whether `quantizedMatMul` runs batches of 10 rows or more of `type` on the integer panels, which stay
/// efficient at any row count (x panels meet 48 unpacked weight rows at a time), so a caller need not keep an
/// fp32 copy of such weights for large batches.
public func integerPanelsSupport(_ type: GGMLType) -> Bool { int16PanelsSupport(type) }

/// Whether `parts` can share one quantization of x on the integer panels: every type on the panels, and one
/// pair order, all Q4 (Q4_0 / Q4_1) or all element order (Q5_0 / Q8_0 / Q4_K / Q6_K).
@inline(__always) func int16PanelsCanGroup(_ parts: [MatMulPart]) -> Bool {
    guard let first = parts.first else { return false }
    return parts.allSatisfy { int16PanelsSupport($0.type) && int16PanelsElementOrder($0.type) == int16PanelsElementOrder(first.type) }
}

/// Quantizes blocks `blockRange` (32 elements each) of every row of x (m rows of k; rows past m, up to the
/// last panel's end, are zero) into 16-row panels of pair words: word (panel, pair p, row i) at
/// `xq[(panel·k/2 + p)·16 + i]`; dx at `xd[(panel·blocks + b)·16 + i]`, Σx at the same index of `xs`. Returns
/// false if x holds a non-finite value. A block's words and factors fill whole cache lines, so threads packing
/// disjoint block ranges never write to the same line.
func packInt16Panels(q4: Bool, limit: Float = 32767, _ x: UnsafePointer<Float>, m: Int, k: Int, blockRange: Range<Int>,
                     _ xq: UnsafeMutablePointer<UInt32>, _ xd: UnsafeMutablePointer<Float>,
                     _ xs: UnsafeMutablePointer<Float>) -> Bool {
    let blocks = k / 32, pairs = k / 2
    let panels = (m + 15) / 16
    // A block of a panel is quantized row by row into 16 rows × 16 words, then transposed in registers (four
    // 8×8 transposes) so that each pair's 16 words go out as one 64-byte line.
    return withUnsafeTemporaryAllocation(of: SIMD16<UInt32>.self, capacity: 16) { buf -> Bool in
        let rowsBuf = buf.baseAddress!
        let f = UnsafeRawPointer(rowsBuf).assumingMemoryBound(to: Float.self)
        for panel in 0..<panels {
            let words = xq + panel * pairs * 16
            let fd = xd + panel * blocks * 16, fs = xs + panel * blocks * 16
            for b in blockRange {
                for lane in 0..<16 {
                    let i = panel * 16 + lane
                    if i >= m {
                        rowsBuf[lane] = SIMD16()
                        fd[b * 16 + lane] = 0; fs[b * 16 + lane] = 0
                        continue
                    }
                    // The m = 1 kernel's block quantization (same rounding, same Σx, same tiny-block rule).
                    guard let (q, d, sum) = quantizeBlock16(x + i * k + b * 32, limit: limit) else { return false }
                    fd[b * 16 + lane] = d
                    fs[b * 16 + lane] = sum
                    // Q4 pair words: the block's even elements in order, then its odd ones, two lanes at a time
                    // (the pair order above). Q5_0's and Q8_0's word t holds elements 2t and 2t + 1.
                    rowsBuf[lane] = unsafeBitCast(q4 ? SIMD32(lowHalf: q.evenHalf, highHalf: q.oddHalf) : q, to: SIMD16<UInt32>.self)
                }
                for h in 0..<2 {          // words t = 8h…8h+7
                    for g in 0..<2 {      // rows 8g…8g+7
                        @inline(__always) func ld(_ r: Int) -> SIMD8<Float> {
                            UnsafeRawPointer(f + (8 * g + r) * 16 + 8 * h).load(as: SIMD8<Float>.self)
                        }
                        let c = transpose8x8(ld(0), ld(1), ld(2), ld(3), ld(4), ld(5), ld(6), ld(7))
                        let out = UnsafeMutableRawPointer(words + (b * 16 + 8 * h) * 16 + 8 * g)
                        out.storeBytes(of: c.0, as: SIMD8<Float>.self)
                        (out + 64).storeBytes(of: c.1, as: SIMD8<Float>.self)
                        (out + 128).storeBytes(of: c.2, as: SIMD8<Float>.self)
                        (out + 192).storeBytes(of: c.3, as: SIMD8<Float>.self)
                        (out + 256).storeBytes(of: c.4, as: SIMD8<Float>.self)
                        (out + 320).storeBytes(of: c.5, as: SIMD8<Float>.self)
                        (out + 384).storeBytes(of: c.6, as: SIMD8<Float>.self)
                        (out + 448).storeBytes(of: c.7, as: SIMD8<Float>.self)
                    }
                }
            }
        }
        return true
    }
}

/// The eight sub-blocks of the Q4_K super-block at `p`: `body(j, d·s_j, −dmin·m_j)`, so that sub-block j weighs
/// d·s_j·q − dmin·m_j for its codes q (0…15).
@inline(__always) func q4KSubBlockFactors(_ p: UnsafeRawPointer, _ body: (Int, Float, Float) -> Void) {
    let d = halfToFloat(p.loadUnaligned(as: UInt16.self))
    let dmin = halfToFloat(p.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
    for j in 0..<8 {
        let (s, mn) = scaleMinK4(j, p + 4)
        body(j, d * s, -dmin * mn)
    }
}

/// Unpacks one weight row into pair words (`k/2` words at `wq`), block scales `wd` and offsets `wo`
/// (Q4_1 and Q4_K only; zero otherwise).
@inline(__always)
func unpackInt16Row(_ type: GGMLType, _ src: UnsafeRawPointer, blocks: Int,
                    _ wq: UnsafeMutablePointer<UInt32>, _ wd: UnsafeMutablePointer<Float>, _ wo: UnsafeMutablePointer<Float>) {
    let out = UnsafeMutableRawPointer(wq)
    switch type {
    case .q5_0:
        // d, 32 high bits (bit j for element j), then 16 nibble bytes (element j low, j + 16 high): q − 16.
        // Bit j of a 16-bit word w, for lane j: (w · 2^(15−j)) >> 15, a constant multiply and a shift
        // (SIMD masks and `replacing(with:where:)` compile to scalar loops here).
        let toTop = SIMD16<UInt16>(32768, 16384, 8192, 4096, 2048, 1024, 512, 256, 128, 64, 32, 16, 8, 4, 2, 1)
        for b in 0..<blocks {
            let blk = src + b * 22
            wd[b] = halfToFloat(blk.loadUnaligned(as: UInt16.self))
            wo[b] = 0
            let qh = blk.loadUnaligned(fromByteOffset: 2, as: SIMD2<UInt16>.self)
            let v = (blk + 6).loadUnaligned(as: SIMD16<UInt8>.self)
            // Elements 16h…16h+15: the nibbles, plus 16 where their bit of qh's half h is set, minus 16.
            @inline(__always) func half(_ nib: SIMD16<UInt8>, _ bits: UInt16) -> SIMD16<Int16> {
                let high = ((SIMD16<UInt16>(repeating: bits) &* toTop) &>> 15) &<< 4
                let low = SIMD16<UInt16>(UInt16(nib[0]), UInt16(nib[1]), UInt16(nib[2]), UInt16(nib[3]), UInt16(nib[4]),
                                         UInt16(nib[5]), UInt16(nib[6]), UInt16(nib[7]), UInt16(nib[8]), UInt16(nib[9]),
                                         UInt16(nib[10]), UInt16(nib[11]), UInt16(nib[12]), UInt16(nib[13]),
                                         UInt16(nib[14]), UInt16(nib[15]))
                return unsafeBitCast(low | high, to: SIMD16<Int16>.self) &- 16
            }
            (out + b * 64).storeBytes(of: half(v & 15, qh[0]), as: SIMD16<Int16>.self)
            (out + b * 64 + 32).storeBytes(of: half(v &>> 4, qh[1]), as: SIMD16<Int16>.self)
        }
    case .q4_K:
        // Super-blocks of 256 elements (144 bytes): d, dmin, twelve bytes of 6-bit (scale, min) pairs, then 128
        // nibble bytes, where 64-element chunk c holds element 64c + j in the low nibble of byte 32c + j and
        // element 64c + 32 + j in its high nibble. Sub-block b (32 elements: the panels' block) weighs
        // d·s_b·q − dmin·m_b; it is kept as q − 8 (as Q4_1 is) with scale d·s_b and offset 8·d·s_b − dmin·m_b.
        let eight = SIMD16<Int16>(repeating: 8), mask = SIMD16<Int16>(repeating: 15)
        for sb in 0..<(blocks / 8) {
            let p = src + sb * 144
            q4KSubBlockFactors(p) { j, scale, offset in
                wd[sb * 8 + j] = scale
                wo[sb * 8 + j] = 8 * scale + offset
            }
            for c in 0..<4 {
                let v0 = zextBytes(p + 16 + 32 * c), v1 = zextBytes(p + 16 + 32 * c + 16)
                let lo = out + (sb * 8 + 2 * c) * 64, hi = lo + 64
                lo.storeBytes(of: (v0 & mask) &- eight, as: SIMD16<Int16>.self)
                (lo + 32).storeBytes(of: (v1 & mask) &- eight, as: SIMD16<Int16>.self)
                hi.storeBytes(of: (v0 &>> 4) &- eight, as: SIMD16<Int16>.self)
                (hi + 32).storeBytes(of: (v1 &>> 4) &- eight, as: SIMD16<Int16>.self)
            }
        }
    case .q6_K:
        // Super-blocks of 256 elements (210 bytes): 128 bytes of low nibbles, 64 of high bit pairs, 16 int8 scales
        // (one per 16 elements), fp16 d. In 128-element half h, element 32t + l (t < 4, l < 32) is (nibble | 2 high
        // bits) − 32 with scale sc[8h + 2t + l/16] (see `dequantRow6`). The panels' blocks are 32 elements with one
        // scale, so the codes are stored times their sub-block scale (|sc·(q − 32)| ≤ 4096; x is narrowed to match,
        // `int16PanelsXLimit`) and every block of the super-block takes d.
        for sb in 0..<(blocks / 8) {
            let p = src + sb * 210
            let d = halfToFloat(p.loadUnaligned(fromByteOffset: 208, as: UInt16.self))
            for j in 0..<8 { wd[sb * 8 + j] = d; wo[sb * 8 + j] = 0 }
            let sc = (p + 192).assumingMemoryBound(to: Int8.self)
            for h in 0..<2 {
                let ql = p + h * 64, qh = p + 128 + h * 32
                for l16 in 0..<2 {
                    let q = q6KCodes(zextBytes(ql + l16 * 16), zextBytes(ql + 32 + l16 * 16), zextBytes(qh + l16 * 16))
                    let base = out + (sb * 256 + h * 128 + l16 * 16) * 2
                    @inline(__always) func put(_ v: SIMD16<Int16>, _ t: Int) {
                        let s = SIMD16<Int16>(repeating: Int16(sc[h * 8 + 2 * t + l16]))
                        (base + t * 64).storeBytes(of: (v &- 32) &* s, as: SIMD16<Int16>.self)
                    }
                    put(q.0, 0); put(q.1, 1); put(q.2, 2); put(q.3, 3)
                }
            }
        }
    case .q8_0:
        for b in 0..<blocks {
            let blk = src + b * Q8Block.bytes
            wd[b] = halfToFloat(blk.loadUnaligned(as: UInt16.self))
            wo[b] = 0
            let lo = sextBytes(blk + 2), hi = sextBytes(blk + 18)
            (out + b * 64).storeBytes(of: lo, as: SIMD16<Int16>.self)
            (out + b * 64 + 32).storeBytes(of: hi, as: SIMD16<Int16>.self)
        }
    default:
        let q41 = type == .q4_1
        let bytes = type.bytesPerBlock
        for b in 0..<blocks {
            let blk = src + b * bytes
            let d = halfToFloat(blk.loadUnaligned(as: UInt16.self))
            wd[b] = d
            wo[b] = q41 ? halfToFloat(blk.loadUnaligned(fromByteOffset: 2, as: UInt16.self)) + 8 * d : 0
            // The 16 nibble bytes as four 32-bit words u_s = bytes 4s..4s+3: one shift and mask per group
            // of four pair words (the pair order in the header), then centring in 16-bit lanes.
            let u = (blk + (q41 ? 4 : 2)).loadUnaligned(as: SIMD4<UInt32>.self)
            let mask = SIMD4<UInt32>(repeating: 0x000F_000F), eight = SIMD8<Int16>(repeating: 8)
            let o = out + b * 64
            o.storeBytes(of: unsafeBitCast(u & mask, to: SIMD8<Int16>.self) &- eight, as: SIMD8<Int16>.self)
            (o + 16).storeBytes(of: unsafeBitCast((u &>> 4) & mask, to: SIMD8<Int16>.self) &- eight, as: SIMD8<Int16>.self)
            (o + 32).storeBytes(of: unsafeBitCast((u &>> 8) & mask, to: SIMD8<Int16>.self) &- eight, as: SIMD8<Int16>.self)
            (o + 48).storeBytes(of: unsafeBitCast((u &>> 12) & mask, to: SIMD8<Int16>.self) &- eight, as: SIMD8<Int16>.self)
        }
    }
}

@_transparent func broadcastWord(_ w: UInt32) -> SIMD16<Int16> {
    unsafeBitCast(SIMD8<UInt32>(repeating: w), to: SIMD16<Int16>.self)
}

/// y[i][j] = Σ_p w[j]·x[i] for j < rows (≤ 6; rows of pair words `pairs` apart) and i < xRows (≤ 16).
@inline(__always)
func int16PanelKernel(blocks: Int, pairs: Int, wq: UnsafePointer<UInt32>, wd: UnsafePointer<Float>,
                      wo: UnsafePointer<Float>, offsets: Bool, rows: Int,
                      xq: UnsafePointer<UInt32>, xd: UnsafePointer<Float>, xs: UnsafePointer<Float>,
                      y: UnsafeMutablePointer<Float>, ldy: Int, xRows: Int) {
    // Rows past `rows` alias row 0; their sums are discarded.
    let w0 = wq, w1 = rows > 1 ? wq + pairs : wq, w2 = rows > 2 ? wq + 2 * pairs : wq
    let w3 = rows > 3 ? wq + 3 * pairs : wq, w4 = rows > 4 ? wq + 4 * pairs : wq, w5 = rows > 5 ? wq + 5 * pairs : wq
    let sb = blocks
    let d0 = wd, d1 = rows > 1 ? wd + sb : wd, d2 = rows > 2 ? wd + 2 * sb : wd
    let d3 = rows > 3 ? wd + 3 * sb : wd, d4 = rows > 4 ? wd + 4 * sb : wd, d5 = rows > 5 ? wd + 5 * sb : wd
    let o0 = wo, o1 = rows > 1 ? wo + sb : wo, o2 = rows > 2 ? wo + 2 * sb : wo
    let o3 = rows > 3 ? wo + 3 * sb : wo, o4 = rows > 4 ? wo + 4 * sb : wo, o5 = rows > 5 ? wo + 5 * sb : wo
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
    var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
    var c40 = SIMD8<Float>(), c41 = SIMD8<Float>(), c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
    let xw = UnsafeRawPointer(xq)
    for b in 0..<blocks {
        var i00 = SIMD8<Int32>(), i01 = SIMD8<Int32>(), i10 = SIMD8<Int32>(), i11 = SIMD8<Int32>()
        var i20 = SIMD8<Int32>(), i21 = SIMD8<Int32>(), i30 = SIMD8<Int32>(), i31 = SIMD8<Int32>()
        var i40 = SIMD8<Int32>(), i41 = SIMD8<Int32>(), i50 = SIMD8<Int32>(), i51 = SIMD8<Int32>()
        let p0 = b &* 16
        for t in 0..<16 {
            let p = p0 &+ t
            let xa = xw.load(fromByteOffset: p &* 64, as: SIMD16<Int16>.self)
            let xb = xw.load(fromByteOffset: p &* 64 &+ 32, as: SIMD16<Int16>.self)
            var wv = broadcastWord(w0[p])
            i00 &+= maddwd(wv, xa); i01 &+= maddwd(wv, xb)
            wv = broadcastWord(w1[p])
            i10 &+= maddwd(wv, xa); i11 &+= maddwd(wv, xb)
            wv = broadcastWord(w2[p])
            i20 &+= maddwd(wv, xa); i21 &+= maddwd(wv, xb)
            wv = broadcastWord(w3[p])
            i30 &+= maddwd(wv, xa); i31 &+= maddwd(wv, xb)
            wv = broadcastWord(w4[p])
            i40 &+= maddwd(wv, xa); i41 &+= maddwd(wv, xb)
            wv = broadcastWord(w5[p])
            i50 &+= maddwd(wv, xa); i51 &+= maddwd(wv, xb)
        }
        let fb = UnsafeRawPointer(xd + b &* 16)
        let da = fb.load(as: SIMD8<Float>.self), db = fb.load(fromByteOffset: 32, as: SIMD8<Float>.self)
        c00 = c00.addingProduct(cvtI32(i00), da * d0[b]); c01 = c01.addingProduct(cvtI32(i01), db * d0[b])
        c10 = c10.addingProduct(cvtI32(i10), da * d1[b]); c11 = c11.addingProduct(cvtI32(i11), db * d1[b])
        c20 = c20.addingProduct(cvtI32(i20), da * d2[b]); c21 = c21.addingProduct(cvtI32(i21), db * d2[b])
        c30 = c30.addingProduct(cvtI32(i30), da * d3[b]); c31 = c31.addingProduct(cvtI32(i31), db * d3[b])
        c40 = c40.addingProduct(cvtI32(i40), da * d4[b]); c41 = c41.addingProduct(cvtI32(i41), db * d4[b])
        c50 = c50.addingProduct(cvtI32(i50), da * d5[b]); c51 = c51.addingProduct(cvtI32(i51), db * d5[b])
        if offsets {
            let sbp = UnsafeRawPointer(xs + b &* 16)
            let sa = sbp.load(as: SIMD8<Float>.self), sbv = sbp.load(fromByteOffset: 32, as: SIMD8<Float>.self)
            c00 = c00.addingProduct(sa, o0[b]); c01 = c01.addingProduct(sbv, o0[b])
            c10 = c10.addingProduct(sa, o1[b]); c11 = c11.addingProduct(sbv, o1[b])
            c20 = c20.addingProduct(sa, o2[b]); c21 = c21.addingProduct(sbv, o2[b])
            c30 = c30.addingProduct(sa, o3[b]); c31 = c31.addingProduct(sbv, o3[b])
            c40 = c40.addingProduct(sa, o4[b]); c41 = c41.addingProduct(sbv, o4[b])
            c50 = c50.addingProduct(sa, o5[b]); c51 = c51.addingProduct(sbv, o5[b])
        }
    }
    storePanelTile((c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51), rows: rows, xRows: xRows, y: y, ldy: ldy)
}

/// Knobs of the kernels that benchmarks may turn (set them before any kernel runs, never during).
public enum KernelTuning {
    /// How many weight rows ahead of the row being read the quantized kernels ask for (`prefetcht0`), for
    /// small batches whose weights stream from DRAM once per step: m = 1 matrix-vector products and the
    /// integer panels' row unpacking. 0 leaves it to the hardware prefetchers, which fetch too late there:
    /// `kernels-bench pf` measured 8 rows ahead ~10% faster for a 16-stream step's layers, ~6% for the
    /// 16-row head and ~5% for single-token decoding, and no change at 512 rows.
    public nonisolated(unsafe) static var prefetchRowsAhead = 8
}

/// Called while reading weight row `row` (rows `stride` bytes apart from `weights`): asks for the cache lines of
/// the row `KernelTuning.prefetchRowsAhead` further on, unless that row is `end` or past it.
@inline(__always) func prefetchRowAhead(_ weights: UnsafeRawPointer, row: Int, stride: Int, end: Int) {
    let next = row + KernelTuning.prefetchRowsAhead
    guard next < end else { return }
    let p = weights + next * stride
    var o = 0
    while o < stride { prefetch(p + o); o &+= 64 }
}

/// How the panel kernels split a group's weight rows into tasks: task t belongs to the last part whose
/// `firstTask` ≤ t and covers that part's rows from `rowsPerTask`·(t − firstTask[part]). A task of up to 48
/// rows (a multiple of 6) is unpacked once and then met by every panel in turn (up to 8 tiles per panel), so x
/// streams through the cache once per task, not once per 6 rows.
struct PanelTasks {
    var firstTask: [Int] = []
    var strides: [Int] = []
    var count = 0
    let rowsPerTask: Int
    /// Multiply-adds of the whole group (small groups run on one thread).
    var work = 0

    init(_ parts: [MatMulPart], k: Int, m: Int, threads: Int) {
        // Tasks of 48 rows where there are enough of them (≥ 4 per thread), else 24, 12 or 6. Larger tasks claim
        // the shared task counter less often, read longer runs of weight rows, and write whole cache lines of y
        // (tasks of 6 rows wrote 24-byte pieces of each y row, so both threads' tasks shared y's lines):
        // kernels-bench int8 at m = 16, 48 vs 6 rows, ~20% faster.
        let total = parts.reduce(0) { $0 + $1.n }
        var r = 48
        while r > 6 && total < 4 * max(1, threads) * r { r /= 2 }
        rowsPerTask = r
        for p in parts {
            firstTask.append(count)
            strides.append(p.type.byteCount(elements: k)!)
            count += (p.n + rowsPerTask - 1) / rowsPerTask
            work += p.n * k * m
        }
    }

    /// Runs `body(part, row stride in bytes, first row, rows)` for each task this participant takes.
    @inline(__always)
    func forEachTask(_ ctx: ParallelContext, _ parts: [MatMulPart], _ body: (MatMulPart, Int, Int, Int) -> Void) {
        var part = 0
        while true {
            let t = ctx.next()
            if t >= count { break }
            // A participant's tasks come in increasing order (`next()` counts up), so its part only advances.
            while part + 1 < parts.count && t >= firstTask[part + 1] { part += 1 }
            let pp = parts[part]
            let j0 = (t - firstTask[part]) * rowsPerTask
            body(pp, strides[part], j0, min(rowsPerTask, pp.n - j0))
        }
    }
}

/// y[m×n] = x · Wᵀ through the integer panels (`int16PanelsSupport(type)`). Returns false, having written
/// nothing, if x holds a non-finite value.
func int16PanelMatMul(type: GGMLType, weights: UnsafeRawPointer, stride: Int, n: Int, k: Int,
                      x: UnsafePointer<Float>, m: Int, y: UnsafeMutablePointer<Float>, pool: ThreadPool) -> Bool {
    int16PanelMatMulGroup([MatMulPart(type: type, weights: weights, n: n, y: y)], k: k, x: x, m: m, pool: pool)
}

/// `int16PanelMatMul` for several weight matrices with the same input (a layer's q, k and v; gate and up):
/// x is quantized once, and one parallel phase runs every matrix's tasks, so the threads meet once per group
/// instead of once per matrix. Every part's type must be Q4_0 / Q4_1, or Q5_0 / Q8_0 / Q4_K / Q6_K (one pair order for x).
/// Returns false, having written nothing, if x holds a non-finite value.
func int16PanelMatMulGroup(_ parts: [MatMulPart], k: Int, x: UnsafePointer<Float>, m: Int, pool: ThreadPool) -> Bool {
    let blocks = k / 32, pairs = k / 2
    let xPanels = (m + 15) / 16
    let q4 = !int16PanelsElementOrder(parts[0].type)
    let limit = parts.map { int16PanelsXLimit($0.type) }.min() ?? 32767
    precondition(int16PanelsCanGroup(parts), "int16PanelMatMulGroup: parts mix element-order types with Q4 types")
    let plan = PanelTasks(parts, k: k, m: m, threads: pool.threadCount)
    let P = plan.work < 1 << 16 ? 1 : pool.threadCount
    let body: (ParallelContext) -> Bool = { ctx in
        let wordBytes = xPanels * pairs * 16 * 4, factors = xPanels * blocks * 16
        let raw = ctx.shared.bytes(6, wordBytes + 2 * factors * 4 + (ctx.participants + 63) / 64 * 64)
        let xq = raw.assumingMemoryBound(to: UInt32.self)
        let xd = (raw + wordBytes).assumingMemoryBound(to: Float.self)
        let xs = xd + factors
        // Quantize x, its blocks split over the participants; each records whether its part was finite.
        let okFlags = (raw + wordBytes + 2 * factors * 4).assumingMemoryBound(to: UInt8.self)
        ctx.run { t, _ in
            let r = ThreadPool.chunk(blocks, part: t, of: ctx.participants)
            okFlags[t] = packInt16Panels(q4: q4, limit: limit, x, m: m, k: k, blockRange: r, xq, xd, xs) ? 1 : 0
        }
        for t in 0..<ctx.participants where okFlags[t] == 0 { return false }
        ctx.run { _, arena in
            let R = plan.rowsPerTask
            let wq = arena.bytes(7, R * pairs * 4).assumingMemoryBound(to: UInt32.self)
            let wd = arena.floats(8, 2 * R * blocks), wo = wd + R * blocks
            plan.forEachTask(ctx, parts) { pp, stride, j0, rows in
                let offsets = int16PanelsOffsets(pp.type)
                for r in 0..<rows {
                    prefetchRowAhead(pp.weights, row: j0 + r, stride: stride, end: pp.n)
                    unpackInt16Row(pp.type, pp.weights + (j0 + r) * stride, blocks: blocks, wq + r * pairs, wd + r * blocks, wo + r * blocks)
                }
                for xp in 0..<xPanels {
                    let i0 = xp * 16
                    var r0 = 0
                    while r0 < rows {
                        int16PanelKernel(blocks: blocks, pairs: pairs, wq: UnsafePointer(wq + r0 * pairs),
                                         wd: UnsafePointer(wd + r0 * blocks), wo: UnsafePointer(wo + r0 * blocks),
                                         offsets: offsets, rows: min(6, rows - r0),
                                         xq: UnsafePointer(xq + xp * pairs * 16), xd: UnsafePointer(xd + xp * blocks * 16),
                                         xs: UnsafePointer(xs + xp * blocks * 16), y: pp.y + i0 * pp.n + j0 + r0, ldy: pp.n,
                                         xRows: min(16, m - i0))
                        r0 += 6
                    }
                }
            }
        }
        return true
    }
    return P == 1 ? body(serialContext()) : pool.withParallel(body)
}

/// The 8×8 transpose of rows r0…r7: lane j of result i is lane i of r_j (unpack, shuffle, then 128-bit lane
/// swaps; each step a two-source pattern LLVM lowers to one instruction).
@inline(__always)
func transpose8x8(_ r0: SIMD8<Float>, _ r1: SIMD8<Float>, _ r2: SIMD8<Float>, _ r3: SIMD8<Float>,
                  _ r4: SIMD8<Float>, _ r5: SIMD8<Float>, _ r6: SIMD8<Float>, _ r7: SIMD8<Float>)
    -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
    @inline(__always) func lo(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { SIMD8(a[0], b[0], a[1], b[1], a[4], b[4], a[5], b[5]) }
    @inline(__always) func hi(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { SIMD8(a[2], b[2], a[3], b[3], a[6], b[6], a[7], b[7]) }
    @inline(__always) func even(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { SIMD8(a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5]) }
    @inline(__always) func odd(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { SIMD8(a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7]) }
    let t0 = lo(r0, r1), t1 = hi(r0, r1), t2 = lo(r2, r3), t3 = hi(r2, r3)
    let t4 = lo(r4, r5), t5 = hi(r4, r5), t6 = lo(r6, r7), t7 = hi(r6, r7)
    // s0: lanes 0 and 4 of r0…r3; s4: of r4…r7; s1/s5: lanes 1 and 5; s2/s6: 2 and 6; s3/s7: 3 and 7.
    let s0 = even(t0, t2), s1 = odd(t0, t2), s2 = even(t1, t3), s3 = odd(t1, t3)
    let s4 = even(t4, t6), s5 = odd(t4, t6), s6 = even(t5, t7), s7 = odd(t5, t7)
    return (SIMD8(lowHalf: s0.lowHalf, highHalf: s4.lowHalf), SIMD8(lowHalf: s1.lowHalf, highHalf: s5.lowHalf),
            SIMD8(lowHalf: s2.lowHalf, highHalf: s6.lowHalf), SIMD8(lowHalf: s3.lowHalf, highHalf: s7.lowHalf),
            SIMD8(lowHalf: s0.highHalf, highHalf: s4.highHalf), SIMD8(lowHalf: s1.highHalf, highHalf: s5.highHalf),
            SIMD8(lowHalf: s2.highHalf, highHalf: s6.highHalf), SIMD8(lowHalf: s3.highHalf, highHalf: s7.highHalf))
}

/// Writes a panel kernel's register tile to y: `tile` holds, for weight rows j = 0…5, the sums of x rows 0–7
/// and 8–15 (elements 2j and 2j + 1); y[i·ldy + j] gets row j's sum for x row i, j < rows, i < xRows. A tile of
/// 6 weight rows is transposed in registers and stored as 6 contiguous floats per x row; narrower tiles go
/// element by element.
@inline(__always)
func storePanelTile(_ tile: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>,
                             SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>),
                    rows: Int, xRows: Int, y: UnsafeMutablePointer<Float>, ldy: Int) {
    if rows == 6 {
        @inline(__always) func put(_ col: SIMD8<Float>, _ i: Int) {
            guard i < xRows else { return }
            let p = UnsafeMutableRawPointer(y + i * ldy)
            p.storeBytes(of: col.lowHalf, as: SIMD4<Float>.self)
            (p + 16).storeBytes(of: SIMD2(col[4], col[5]), as: SIMD2<Float>.self)
        }
        let z = SIMD8<Float>()
        let a = transpose8x8(tile.0, tile.2, tile.4, tile.6, tile.8, tile.10, z, z)
        put(a.0, 0); put(a.1, 1); put(a.2, 2); put(a.3, 3); put(a.4, 4); put(a.5, 5); put(a.6, 6); put(a.7, 7)
        if xRows > 8 {
            let b = transpose8x8(tile.1, tile.3, tile.5, tile.7, tile.9, tile.11, z, z)
            put(b.0, 8); put(b.1, 9); put(b.2, 10); put(b.3, 11); put(b.4, 12); put(b.5, 13); put(b.6, 14); put(b.7, 15)
        }
        return
    }
    var t = tile
    withUnsafeBytes(of: &t) { raw in
        let f = raw.baseAddress!.assumingMemoryBound(to: Float.self)
        for j in 0..<rows {
            for i in 0..<xRows { y[i * ldy + j] = f[j * 16 + i] }
        }
    }
}
