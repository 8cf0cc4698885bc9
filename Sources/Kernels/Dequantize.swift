import GGUF

// Fast dequantization of GGML block formats to fp32.
//
// Block layouts (little-endian; `half` is IEEE fp16):
// - Q4_0 (18 B / 32): half d; u8 qs[16]. x[j] = d·((qs[j] & 15) − 8), x[j+16] = d·((qs[j] >> 4) − 8).
// - Q4_1 (20 B / 32): half d, m; u8 qs[16]. x[j] = d·(qs[j] & 15) + m, x[j+16] = d·(qs[j] >> 4) + m.
// - Q5_0 (22 B / 32): half d; u32 qh; u8 qs[16]. 5th bit of element i is bit i of qh; x = d·(q − 16).
// - Q5_1 (24 B / 32): half d, m; u32 qh; u8 qs[16]. x = d·q + m.
// - Q8_0 (34 B / 32): half d; i8 qs[32]. x = d·q.
// - Q4_K (144 B / 256): half d, dmin; u8 scales[12] (8 six-bit scale/min pairs); u8 qs[128].
//   Sub-block s (32 elements) has x = d·sc[s]·q − dmin·mn[s]; each 64 elements share 32 bytes of qs,
//   low nibbles first.
// - Q5_K (176 B / 256): as Q4_K plus u8 qh[32] before qs: the 5th bit of element l of sub-block s is
//   bit s of qh[l].
// - Q6_K (210 B / 256): u8 ql[128]; u8 qh[64]; i8 scales[16]; half d. x = d·scales[l/16]·(q − 32).

/// Whether `dequantizeRows` and `quantizedMatMul` accept `type`.
public func kernelsSupport(_ type: GGMLType) -> Bool {
    switch type {
    case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K: return true
    default: return false
    }
}

@inline(__always) func halfToFloat(_ bits: UInt16) -> Float {
    #if arch(x86_64) && os(macOS)
    return halfToFloatSoft(bits)
    #else
    return Float(Float16(bitPattern: bits))
    #endif
}

/// fp16 → fp32 by bit manipulation (handles subnormals, infinities and NaN): the GGUF codec's converter.
@inline(__always) func halfToFloatSoft(_ h: UInt16) -> Float { GGMLCodec.softHalfToFloat(h) }

@inline(__always) func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    halfToFloat(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}

// Widening conversions written lane by lane: LLVM turns them into vpmovzx/vpmovsx, while the generic
// stdlib `init(truncatingIfNeeded:)` is sometimes left as an out-of-line call in large functions.
@inline(__always) func widen(_ v: SIMD8<UInt8>) -> SIMD8<Int32> {
    SIMD8<Int32>(Int32(v[0]), Int32(v[1]), Int32(v[2]), Int32(v[3]), Int32(v[4]), Int32(v[5]), Int32(v[6]), Int32(v[7]))
}
@inline(__always) func widen(_ v: SIMD8<Int8>) -> SIMD8<Int32> {
    SIMD8<Int32>(Int32(v[0]), Int32(v[1]), Int32(v[2]), Int32(v[3]), Int32(v[4]), Int32(v[5]), Int32(v[6]), Int32(v[7]))
}
@inline(__always) func cvt(_ v: SIMD8<Int32>) -> SIMD8<Float> {
    SIMD8<Float>(Float(v[0]), Float(v[1]), Float(v[2]), Float(v[3]), Float(v[4]), Float(v[5]), Float(v[6]), Float(v[7]))
}
@inline(__always) func toFloat8(_ v: SIMD8<UInt8>) -> SIMD8<Float> { cvt(widen(v)) }
@inline(__always) func toFloat8(_ v: SIMD8<Int8>) -> SIMD8<Float> { cvt(widen(v)) }

/// Four SIMD8 vectors: the 32 values of a 32-element block in order.
@usableFromInline struct Block32 {
    @usableFromInline var v0, v1, v2, v3: SIMD8<Float>
    @inline(__always) init(_ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ v2: SIMD8<Float>, _ v3: SIMD8<Float>) {
        self.v0 = v0; self.v1 = v1; self.v2 = v2; self.v3 = v3
    }
}

/// Low and high nibbles of 16 bytes as 32 integers 0...15 in element order (low nibbles first).
@inline(__always) func nibbles(_ q: SIMD16<UInt8>) -> Block32 {
    let lo = q & 0x0F, hi = q &>> 4
    return Block32(toFloat8(lo.lowHalf), toFloat8(lo.highHalf), toFloat8(hi.lowHalf), toFloat8(hi.highHalf))
}

/// Like `nibbles`, widening each 8-byte half straight from memory (`vpmovzxbd ymm, m64`).
@inline(__always) func nibbles8(_ p: UnsafeRawPointer) -> Block32 {
    let a = widen(p.loadUnaligned(as: SIMD8<UInt8>.self))
    let b = widen(p.loadUnaligned(fromByteOffset: 8, as: SIMD8<UInt8>.self))
    return Block32(cvt(a & 15), cvt(b & 15), cvt(a &>> 4), cvt(b &>> 4))
}

/// The 32 bits of `qh` spread to 32 bytes holding 16 where the bit is set, else 0.
@inline(__always) func highBits16(_ qh: UInt32) -> (SIMD16<UInt8>, SIMD16<UInt8>) {
    let bits = SIMD16<UInt32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    let v = SIMD16<UInt32>(repeating: qh)
    let lo = ((v &>> bits) & 1) &<< 4
    let hi = ((v &>> (bits &+ 16)) & 1) &<< 4
    var a = SIMD16<UInt8>(), b = SIMD16<UInt8>()
    for i in 0..<16 { a[i] = UInt8(truncatingIfNeeded: lo[i]); b[i] = UInt8(truncatingIfNeeded: hi[i]) }
    return (a, b)
}

/// Integer values of a 32-element block (before scale/offset) of Q4_0/Q4_1/Q5_0/Q5_1/Q8_0, as floats.
@inline(__always) func blockInts(_ type: GGMLType, _ blk: UnsafeRawPointer) -> Block32 {
    switch type {
    case .q4_0:
        let b = nibbles(blk.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self))
        let e = SIMD8<Float>(repeating: 8)
        return Block32(b.v0 - e, b.v1 - e, b.v2 - e, b.v3 - e)
    case .q4_1:
        return nibbles8(blk + 4)
    case .q5_0, .q5_1:
        let off = type == .q5_0 ? 2 : 4
        let qh = SIMD8<UInt32>(repeating: blk.loadUnaligned(fromByteOffset: off, as: UInt32.self))
        let sh = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7)
        @inline(__always) func bit(_ s: UInt32) -> SIMD8<Int32> {
            unsafeBitCast(((qh &>> (sh &+ s)) & 1) &<< 4, to: SIMD8<Int32>.self)
        }
        let a = widen((blk + off + 4).loadUnaligned(as: SIMD8<UInt8>.self))
        let b = widen((blk + off + 4).loadUnaligned(fromByteOffset: 8, as: SIMD8<UInt8>.self))
        let bias = SIMD8<Int32>(repeating: type == .q5_0 ? 16 : 0)
        return Block32(cvt(((a & 15) | bit(0)) &- bias), cvt(((b & 15) | bit(8)) &- bias),
                       cvt(((a &>> 4) | bit(16)) &- bias), cvt(((b &>> 4) | bit(24)) &- bias))
    default: // .q8_0
        // Two 16-byte loads (SIMD32's lowHalf/highHalf on Int8 are left as out-of-line calls).
        let l = blk.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self)
        let h = blk.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self)
        return Block32(toFloat8(l.lowHalf), toFloat8(l.highHalf), toFloat8(h.lowHalf), toFloat8(h.highHalf))
    }
}

/// Decodes the 6-bit scale and min of sub-block `j` (0..<8) from a K-quant 12-byte scales array.
@inline(__always) func scaleMinK4(_ j: Int, _ q: UnsafeRawPointer) -> (Float, Float) {
    let b = q.assumingMemoryBound(to: UInt8.self)
    if j < 4 {
        return (Float(b[j] & 63), Float(b[j + 4] & 63))
    }
    let sc = (b[j + 4] & 0x0F) | ((b[j - 4] >> 6) << 4)
    let mn = (b[j + 4] >> 4) | ((b[j] >> 6) << 4)
    return (Float(sc), Float(mn))
}

@inline(__always) func store(_ b: Block32, _ dst: UnsafeMutablePointer<Float>) {
    st8(dst, b.v0); st8(dst + 8, b.v1); st8(dst + 16, b.v2); st8(dst + 24, b.v3)
}

/// Dequantizes one row of `k` elements (`k` a multiple of the type's block size) to fp32.
@inline(__always)
func dequantizeRow(_ type: GGMLType, _ src: UnsafeRawPointer, _ k: Int, _ dst: UnsafeMutablePointer<Float>) {
    switch type {
    case .f32: dequantRow0(type, src, k, dst)
    case .f16: dequantRow1(type, src, k, dst)
    case .bf16: dequantRow2(type, src, k, dst)
    case .q4_0, .q5_0, .q8_0: dequantRow3(type, src, k, dst)
    case .q4_1, .q5_1: dequantRow4(type, src, k, dst)
    case .q4_K, .q5_K: dequantRow5(type, src, k, dst)
    case .q6_K: dequantRow6(type, src, k, dst)
    default:
        preconditionFailure("Kernels: unsupported tensor type \(type) (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K)")
    }
}

/// Row dequantizer for .f32 (kept out of line so its SIMD conversions inline).
@inline(never)
func dequantRow0(_ type: GGMLType, _ src: UnsafeRawPointer, _ k: Int, _ dst: UnsafeMutablePointer<Float>) {
    dst.update(from: src.assumingMemoryBound(to: Float.self), count: k)
}

/// Row dequantizer for .f16 (kept out of line so its SIMD conversions inline).
@inline(never)
func dequantRow1(_ type: GGMLType, _ src: UnsafeRawPointer, _ k: Int, _ dst: UnsafeMutablePointer<Float>) {
    var i = 0
    while i + 8 <= k {
        let h = src.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<UInt16>.self)
        #if arch(x86_64) && os(macOS)
        for e in 0..<8 { dst[i + e] = halfToFloatSoft(h[e]) }
        #else
        st8(dst + i, halfs8(h))
        #endif
        i += 8
    }
    while i < k { dst[i] = half(src, 2 * i); i += 1 }
}

/// Row dequantizer for .bf16 (kept out of line so its SIMD conversions inline).
@inline(never)
func dequantRow2(_ type: GGMLType, _ src: UnsafeRawPointer, _ k: Int, _ dst: UnsafeMutablePointer<Float>) {
    var i = 0
    while i + 8 <= k {
        let h = src.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<UInt16>.self)
        st8(dst + i, unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: h) &<< 16, to: SIMD8<Float>.self))
        i += 8
    }
    while i < k {
        dst[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
        i += 1
    }
}

/// Row dequantizer for .q4_0, .q5_0, .q8_0 (kept out of line so its SIMD conversions inline).
@inline(never)
func dequantRow3(_ type: GGMLType, _ src: UnsafeRawPointer, _ k: Int, _ dst: UnsafeMutablePointer<Float>) {
    switch type {
    case .q4_0: dequantBlock32Row(FmtQ4_0.self, src, k, dst)
    case .q5_0: dequantBlock32Row(FmtQ5_0.self, src, k, dst)
    default: dequantBlock32Row(FmtQ8_0.self, src, k, dst)
    }
}

/// Row dequantizer for .q4_1, .q5_1 (kept out of line so its SIMD conversions inline).
@inline(never)
func dequantRow4(_ type: GGMLType, _ src: UnsafeRawPointer, _ k: Int, _ dst: UnsafeMutablePointer<Float>) {
    if type == .q4_1 { dequantBlock32Row(FmtQ4_1.self, src, k, dst) } else { dequantBlock32Row(FmtQ5_1.self, src, k, dst) }
}

/// Dequantizes a row of a 32-element block format (specialized per format).
@inline(__always)
func dequantBlock32Row<F: Block32Format>(_ fmt: F.Type, _ src: UnsafeRawPointer, _ k: Int, _ dst: UnsafeMutablePointer<Float>) {
    for blk in 0..<(k / 32) {
        let p = src + blk * F.bytes
        let d = SIMD8<Float>(repeating: half(p, 0))
        let q = F.ints(p)
        if F.hasMin {
            let m = SIMD8<Float>(repeating: half(p, 2))
            store(Block32(m.addingProduct(q.v0, d), m.addingProduct(q.v1, d),
                          m.addingProduct(q.v2, d), m.addingProduct(q.v3, d)), dst + blk * 32)
        } else {
            store(Block32(q.v0 * d, q.v1 * d, q.v2 * d, q.v3 * d), dst + blk * 32)
        }
    }
}

/// Row dequantizer for .q4_K, .q5_K (kept out of line so its SIMD conversions inline).
@inline(never)
func dequantRow5(_ type: GGMLType, _ src: UnsafeRawPointer, _ k: Int, _ dst: UnsafeMutablePointer<Float>) {
    let bytes = type.bytesPerBlock
    let five = type == .q5_K
    for blk in 0..<(k / 256) {
        let p = src + blk * bytes
        let d = half(p, 0), dmin = half(p, 2)
        let scales = p + 4
        let qh = p + 16
        let qs = p + (five ? 48 : 16)
        let out = dst + blk * 256
        for pair in 0..<4 {
            let (s1, m1) = scaleMinK4(2 * pair, scales)
            let (s2, m2) = scaleMinK4(2 * pair + 1, scales)
            let d1 = SIMD8<Float>(repeating: d * s1), n1 = SIMD8<Float>(repeating: -dmin * m1)
            let d2 = SIMD8<Float>(repeating: d * s2), n2 = SIMD8<Float>(repeating: -dmin * m2)
            for half16 in 0..<2 {
                let q = qs.loadUnaligned(fromByteOffset: pair * 32 + half16 * 16, as: SIMD16<UInt8>.self)
                var lo = q & 0x0F, hi = q &>> 4
                if five {
                    let h = qh.loadUnaligned(fromByteOffset: half16 * 16, as: SIMD16<UInt8>.self)
                    let sh = UInt8(2 * pair)
                    lo |= ((h &>> sh) & 1) &<< 4
                    hi |= ((h &>> (sh + 1)) & 1) &<< 4
                }
                let o1 = out + pair * 64 + half16 * 16
                st8(o1, n1.addingProduct(toFloat8(lo.lowHalf), d1))
                st8(o1 + 8, n1.addingProduct(toFloat8(lo.highHalf), d1))
                st8(o1 + 32, n2.addingProduct(toFloat8(hi.lowHalf), d2))
                st8(o1 + 40, n2.addingProduct(toFloat8(hi.highHalf), d2))
            }
        }
    }
}

/// Row dequantizer for .q6_K (kept out of line so its SIMD conversions inline).
@inline(never)
func dequantRow6(_ type: GGMLType, _ src: UnsafeRawPointer, _ k: Int, _ dst: UnsafeMutablePointer<Float>) {
    for blk in 0..<(k / 256) {
        let p = src + blk * 210
        let d = half(p, 208)
        let sc = (p + 192).assumingMemoryBound(to: Int8.self)
        let out = dst + blk * 256
        for h128 in 0..<2 {
            let ql = p + h128 * 64, qh = p + 128 + h128 * 32
            let o = out + h128 * 128
            let s = sc + h128 * 8
            for l16 in 0..<2 {
                let a = ql.loadUnaligned(fromByteOffset: l16 * 16, as: SIMD16<UInt8>.self)
                let b = ql.loadUnaligned(fromByteOffset: 32 + l16 * 16, as: SIMD16<UInt8>.self)
                let h = qh.loadUnaligned(fromByteOffset: l16 * 16, as: SIMD16<UInt8>.self)
                let q1 = (a & 0x0F) | ((h & 0x03) &<< 4)
                let q2 = (b & 0x0F) | (((h &>> 2) & 0x03) &<< 4)
                let q3 = (a &>> 4) | (((h &>> 4) & 0x03) &<< 4)
                let q4 = (b &>> 4) | (((h &>> 6) & 0x03) &<< 4)
                let off = SIMD8<Float>(repeating: 32)
                @inline(__always) func put(_ q: SIMD16<UInt8>, _ at: Int, _ scale: Int8) {
                    let f = SIMD8<Float>(repeating: d * Float(scale))
                    st8(o + at, (toFloat8(q.lowHalf) - off) * f)
                    st8(o + at + 8, (toFloat8(q.highHalf) - off) * f)
                }
                put(q1, l16 * 16, s[l16])
                put(q2, 32 + l16 * 16, s[l16 + 2])
                put(q3, 64 + l16 * 16, s[l16 + 4])
                put(q4, 96 + l16 * 16, s[l16 + 6])
            }
        }
    }
}

/// Dequantizes rows `rowStart ..< rowStart + rowCount` of a row-major matrix whose rows hold `k` elements
/// in GGML format `type` (row stride `type.byteCount(elements: k)` bytes) into `into` (rowCount × k floats).
/// Large requests are split over `pool`'s threads.
public func dequantizeRows(type: GGMLType, weights: UnsafeRawPointer, k: Int, rowStart: Int, rowCount: Int,
                           into: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared) {
    precondition(kernelsSupport(type), "dequantizeRows: unsupported tensor type \(type)")
    guard let stride = type.byteCount(elements: k) else {
        preconditionFailure("dequantizeRows: row length \(k) is not a multiple of \(type)'s block size \(type.blockSize)")
    }
    if rowCount <= 0 { return }
    let body: (Range<Int>) -> Void = { r in
        for row in r {
            dequantizeRow(type, weights + (rowStart + row) * stride, k, into + row * k)
        }
    }
    if rowCount * k < 1 << 16 {
        body(0..<rowCount)
    } else {
        pool.parallelForRanges(rowCount, body)
    }
}
