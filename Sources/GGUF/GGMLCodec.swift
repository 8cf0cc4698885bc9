/// Encoders and decoders for GGML tensor element types.
///
/// Layouts follow ggml's block definitions (little-endian): every quantized type stores
/// `type.blockSize` consecutive elements in `type.bytesPerBlock` bytes, and a `count` passed to
/// these functions must be a whole number of blocks. Decoding is supported for every `GGMLType`;
/// encoding for the types in `quantizableTypes`.
public enum GGMLCodec {
    /// Types that `quantize` can encode.
    public static let quantizableTypes: Set<GGMLType> = [
        .f32, .f16, .bf16, .q8_0, .q8_1, .q4_0, .q4_1, .q5_0, .q5_1, .q8_K, .q6_K, .q5_K, .q4_K,
        .i8, .i16, .i32, .i64, .f64,
    ]

    /// True if `dequantize` can decode `type` (every current case).
    public static func canDequantize(_ type: GGMLType) -> Bool { true }

    /// True if `quantize` can encode `type`.
    public static func canQuantize(_ type: GGMLType) -> Bool { quantizableTypes.contains(type) }

    /// Decodes `count` elements of `type` starting at `src` into `dst`.
    ///
    /// - Precondition: `count` is a multiple of `type.blockSize`; `src` holds
    ///   `type.byteCount(elements: count)` bytes; `dst` holds `count` floats. `src` need not be aligned.
    public static func dequantize(_ type: GGMLType, _ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        precondition(count >= 0 && count % type.blockSize == 0, "count \(count) is not a multiple of the \(type) block size")
        let nb = count / type.blockSize
        switch type {
        case .f32: UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
        case .f16: decodeF16(src, count, dst)
        case .bf16: decodeBF16(src, count, dst)
        case .f64: for i in 0..<count { dst[i] = Float(Double(bitPattern: ld64(src, 8 * i))) }
        case .i8: for i in 0..<count { dst[i] = Float(src.load(fromByteOffset: i, as: Int8.self)) }
        case .i16: for i in 0..<count { dst[i] = Float(Int16(bitPattern: ld16(src, 2 * i))) }
        case .i32: for i in 0..<count { dst[i] = Float(Int32(bitPattern: ld32(src, 4 * i))) }
        case .i64: for i in 0..<count { dst[i] = Float(Int64(bitPattern: ld64(src, 8 * i))) }
        case .q4_0: for b in 0..<nb { deq4_0(src + 18 * b, dst + 32 * b) }
        case .q4_1: for b in 0..<nb { deq4_1(src + 20 * b, dst + 32 * b) }
        case .q5_0: for b in 0..<nb { deq5_0(src + 22 * b, dst + 32 * b) }
        case .q5_1: for b in 0..<nb { deq5_1(src + 24 * b, dst + 32 * b) }
        case .q8_0: for b in 0..<nb { deq8_0(src + 34 * b, dst + 32 * b) }
        case .q8_1: for b in 0..<nb { deq8_1(src + 36 * b, dst + 32 * b) }
        case .q2_K: for b in 0..<nb { deq2_K(src + 84 * b, dst + 256 * b) }
        case .q3_K: for b in 0..<nb { deq3_K(src + 110 * b, dst + 256 * b) }
        case .q4_K: for b in 0..<nb { deq4_K(src + 144 * b, dst + 256 * b) }
        case .q5_K: for b in 0..<nb { deq5_K(src + 176 * b, dst + 256 * b) }
        case .q6_K: for b in 0..<nb { deq6_K(src + 210 * b, dst + 256 * b) }
        case .q8_K: for b in 0..<nb { deq8_K(src + 292 * b, dst + 256 * b) }
        }
    }

    /// Encodes `count` floats from `src` as `type` into `dst` (`type.byteCount(elements: count)` bytes).
    ///
    /// Throws `GGUFError(.unsupportedType)` for a type without an encoder and
    /// `GGUFError(.invalidArgument)` when `count` is not a whole number of blocks.
    /// Quantized types use ggml's reference (round-to-nearest) schemes; the K-quant encoders are
    /// simple per-sub-block absmax/min-max fits, not llama.cpp's searched optimum.
    public static func quantize(_ type: GGMLType, _ src: UnsafePointer<Float>, count: Int, into dst: UnsafeMutableRawPointer) throws {
        guard canQuantize(type) else {
            throw GGUFError(.unsupportedType, "no encoder for \(type)")
        }
        guard count >= 0, count % type.blockSize == 0 else {
            throw GGUFError(.invalidArgument, "\(count) values is not a whole number of \(type) blocks (\(type.blockSize) elements each)")
        }
        let nb = count / type.blockSize
        switch type {
        case .f32: dst.copyMemory(from: src, byteCount: count * 4)
        case .f16: encodeF16(src, count, dst)
        case .bf16: for i in 0..<count { st16(dst, 2 * i, floatToBF16(src[i])) }
        case .f64: for i in 0..<count { st64(dst, 8 * i, Double(src[i]).bitPattern) }
        case .i8: for i in 0..<count { dst.storeBytes(of: Int8(clampRound(src[i], Float(Int8.min), Float(Int8.max))), toByteOffset: i, as: Int8.self) }
        case .i16: for i in 0..<count { st16(dst, 2 * i, UInt16(bitPattern: Int16(clampRound(src[i], Float(Int16.min), Float(Int16.max))))) }
        case .i32: for i in 0..<count { st32(dst, 4 * i, UInt32(bitPattern: Int32(clampRound(src[i], -2147483648, 2147483520)))) }
        case .i64: for i in 0..<count { st64(dst, 8 * i, UInt64(bitPattern: Int64(clampRound(src[i], -9.223372e18, 9.223371e18)))) }
        case .q8_0: for b in 0..<nb { enc8_0(src + 32 * b, dst + 34 * b) }
        case .q8_1: for b in 0..<nb { enc8_1(src + 32 * b, dst + 36 * b) }
        case .q4_0: for b in 0..<nb { enc4_0(src + 32 * b, dst + 18 * b) }
        case .q4_1: for b in 0..<nb { enc4_1(src + 32 * b, dst + 20 * b) }
        case .q5_0: for b in 0..<nb { enc5_0(src + 32 * b, dst + 22 * b) }
        case .q5_1: for b in 0..<nb { enc5_1(src + 32 * b, dst + 24 * b) }
        case .q8_K: for b in 0..<nb { enc8_K(src + 256 * b, dst + 292 * b) }
        case .q6_K: for b in 0..<nb { enc6_K(src + 256 * b, dst + 210 * b) }
        case .q4_K: for b in 0..<nb { enc4_K(src + 256 * b, dst + 144 * b) }
        case .q5_K: for b in 0..<nb { enc5_K(src + 256 * b, dst + 176 * b) }
        default: throw GGUFError(.unsupportedType, "no encoder for \(type)")
        }
    }

    /// Encodes `values` as `type` and returns the bytes.
    public static func quantize(_ type: GGMLType, _ values: [Float]) throws -> [UInt8] {
        guard let n = type.byteCount(elements: values.count) else {
            throw GGUFError(.invalidArgument, "\(values.count) values is not a whole number of \(type) blocks (\(type.blockSize) elements each)")
        }
        var out = [UInt8](repeating: 0, count: n)
        try values.withUnsafeBufferPointer { s in
            try out.withUnsafeMutableBytes { d in
                guard let sp = s.baseAddress, let dp = d.baseAddress else { return }
                try quantize(type, sp, count: values.count, into: dp)
            }
        }
        return out
    }

    /// Decodes `count` elements of `type` from `bytes`. Throws if the sizes do not match.
    public static func dequantize(_ type: GGMLType, _ bytes: [UInt8], count: Int) throws -> [Float] {
        guard let n = type.byteCount(elements: count) else {
            throw GGUFError(.invalidArgument, "\(count) elements is not a whole number of \(type) blocks (\(type.blockSize) elements each)")
        }
        guard bytes.count == n else {
            throw GGUFError(.invalidArgument, "\(count) \(type) elements need \(n) bytes, got \(bytes.count)")
        }
        return [Float](unsafeUninitializedCapacity: count) { buf, initialized in
            bytes.withUnsafeBytes { raw in
                if count > 0 { dequantize(type, raw.baseAddress!, count: count, into: buf.baseAddress!) }
            }
            initialized = count
        }
    }

    // MARK: - Half precision

    /// IEEE half (bit pattern) to Float.
    @inline(__always)
    public static func halfToFloat(_ h: UInt16) -> Float {
        #if arch(x86_64) && os(macOS)
        return softHalfToFloat(h)
        #else
        return Float(Float16(bitPattern: h))
        #endif
    }

    /// Float to IEEE half bit pattern (round to nearest even; overflow to infinity).
    @inline(__always)
    public static func floatToHalf(_ f: Float) -> UInt16 {
        #if arch(x86_64) && os(macOS)
        return softFloatToHalf(f)
        #else
        return Float16(f).bitPattern
        #endif
    }

    /// bfloat16 (bit pattern) to Float.
    @inline(__always)
    public static func bf16ToFloat(_ h: UInt16) -> Float { Float(bitPattern: UInt32(h) << 16) }

    /// Float to bfloat16 bit pattern (round to nearest even; NaN stays NaN).
    @inline(__always)
    public static func floatToBF16(_ f: Float) -> UInt16 {
        let u = f.bitPattern
        if f.isNaN { return UInt16(truncatingIfNeeded: (u >> 16) | 0x40) }
        let rounded = u &+ (0x7FFF &+ ((u >> 16) & 1))
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }

    /// Portable software half → float conversion (used where `Float16` is unavailable, e.g. macOS on Intel).
    /// Inlinable: the kernels call it per block on those machines.
    @inlinable
    public static func softHalfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = UInt32(h >> 10) & 0x1F
        let man = UInt32(h) & 0x3FF
        if exp == 0 {
            // zero or subnormal: man * 2^-24
            let v = Float(man) * Float(bitPattern: 0x3380_0000)
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (man << 13)) }
        return Float(bitPattern: sign | ((exp + 112) << 23) | (man << 13))
    }

    /// Portable software float → half conversion (round to nearest even), used where `Float16` is unavailable.
    public static func softFloatToHalf(_ f: Float) -> UInt16 {
        let u = f.bitPattern
        let sign = UInt16((u >> 16) & 0x8000)
        let a = f.magnitude
        if f.isNaN { return sign | 0x7E00 }
        if a >= 65520 { return sign | 0x7C00 }
        if a < Float(bitPattern: 0x3880_0000) {  // below 2^-14: subnormal half
            let m = (a * 16_777_216).rounded(.toNearestOrEven)  // units of 2^-24
            return sign | UInt16(m)
        }
        let e = Int((a.bitPattern >> 23) & 0xFF) - 127 + 15
        var m = a.bitPattern & 0x7F_FFFF
        var he = UInt32(e)
        // round mantissa from 23 to 10 bits, nearest even
        let rem = m & 0x1FFF
        m >>= 13
        if rem > 0x1000 || (rem == 0x1000 && (m & 1) == 1) {
            m += 1
            if m == 0x400 { m = 0; he += 1 }
        }
        return sign | UInt16(he << 10) | UInt16(m)
    }

    // MARK: - Loads and stores (unaligned, little-endian)

    @inline(__always) static func ld16(_ p: UnsafeRawPointer, _ o: Int) -> UInt16 { UInt16(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt16.self)) }
    @inline(__always) static func ld32(_ p: UnsafeRawPointer, _ o: Int) -> UInt32 { UInt32(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
    @inline(__always) static func ld64(_ p: UnsafeRawPointer, _ o: Int) -> UInt64 { UInt64(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
    @inline(__always) static func u8(_ p: UnsafeRawPointer, _ o: Int) -> UInt8 { p.load(fromByteOffset: o, as: UInt8.self) }
    @inline(__always) static func i8(_ p: UnsafeRawPointer, _ o: Int) -> Int8 { p.load(fromByteOffset: o, as: Int8.self) }
    @inline(__always) static func half(_ p: UnsafeRawPointer, _ o: Int) -> Float { halfToFloat(ld16(p, o)) }
    @inline(__always) static func st16(_ p: UnsafeMutableRawPointer, _ o: Int, _ v: UInt16) { p.storeBytes(of: v.littleEndian, toByteOffset: o, as: UInt16.self) }
    @inline(__always) static func st32(_ p: UnsafeMutableRawPointer, _ o: Int, _ v: UInt32) { p.storeBytes(of: v.littleEndian, toByteOffset: o, as: UInt32.self) }
    @inline(__always) static func st64(_ p: UnsafeMutableRawPointer, _ o: Int, _ v: UInt64) { p.storeBytes(of: v.littleEndian, toByteOffset: o, as: UInt64.self) }
    @inline(__always) static func roundHalf(_ v: Float) -> Float { halfToFloat(floatToHalf(v)) }
    @inline(__always) static func sthalf(_ p: UnsafeMutableRawPointer, _ o: Int, _ v: Float) { st16(p, o, floatToHalf(v)) }

    static func clampRound(_ x: Float, _ lo: Float, _ hi: Float) -> Float {
        if x.isNaN { return 0 }
        return min(max(x.rounded(.toNearestOrAwayFromZero), lo), hi)
    }

    // MARK: - Plain types

    static func decodeF16(_ src: UnsafeRawPointer, _ n: Int, _ dst: UnsafeMutablePointer<Float>) {
        for i in 0..<n { dst[i] = halfToFloat(ld16(src, 2 * i)) }
    }

    static func decodeBF16(_ src: UnsafeRawPointer, _ n: Int, _ dst: UnsafeMutablePointer<Float>) {
        for i in 0..<n { dst[i] = Float(bitPattern: UInt32(ld16(src, 2 * i)) << 16) }
    }

    static func encodeF16(_ src: UnsafePointer<Float>, _ n: Int, _ dst: UnsafeMutableRawPointer) {
        for i in 0..<n { st16(dst, 2 * i, floatToHalf(src[i])) }
    }

    // MARK: - 32-element block types

    // block_q4_0: f16 d, 16 bytes of nibbles. Low nibbles are elements 0..15, high nibbles 16..31; x = (q - 8) * d.
    @inline(__always) static func deq4_0(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0)
        for j in 0..<16 {
            let q = u8(b, 2 + j)
            y[j] = Float(Int32(q & 0xF) - 8) * d
            y[j + 16] = Float(Int32(q >> 4) - 8) * d
        }
    }

    // block_q4_1: f16 d, f16 m, 16 bytes of nibbles; x = q * d + m.
    @inline(__always) static func deq4_1(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0), m = half(b, 2)
        for j in 0..<16 {
            let q = u8(b, 4 + j)
            y[j] = Float(q & 0xF) * d + m
            y[j + 16] = Float(q >> 4) * d + m
        }
    }

    // block_q5_0: f16 d, u32 qh (bit j = 5th bit of element j), 16 bytes of nibbles; x = (q - 16) * d.
    @inline(__always) static func deq5_0(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0)
        let qh = ld32(b, 2)
        for j in 0..<16 {
            let q = u8(b, 6 + j)
            let h0 = Int32((qh >> UInt32(j)) & 1) << 4
            let h1 = Int32((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = Float((Int32(q & 0xF) | h0) - 16) * d
            y[j + 16] = Float((Int32(q >> 4) | h1) - 16) * d
        }
    }

    // block_q5_1: f16 d, f16 m, u32 qh, 16 bytes of nibbles; x = q * d + m.
    @inline(__always) static func deq5_1(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0), m = half(b, 2)
        let qh = ld32(b, 4)
        for j in 0..<16 {
            let q = u8(b, 8 + j)
            let h0 = UInt32((qh >> UInt32(j)) & 1) << 4
            let h1 = UInt32((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = Float(UInt32(q & 0xF) | h0) * d + m
            y[j + 16] = Float(UInt32(q >> 4) | h1) * d + m
        }
    }

    // block_q8_0: f16 d, 32 int8; x = q * d.
    @inline(__always) static func deq8_0(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0)
        for j in 0..<32 { y[j] = Float(i8(b, 2 + j)) * d }
    }

    // block_q8_1: f16 d, f16 s (= d * sum q), 32 int8; x = q * d.
    @inline(__always) static func deq8_1(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0)
        for j in 0..<32 { y[j] = Float(i8(b, 4 + j)) * d }
    }

    static func absMax(_ x: UnsafePointer<Float>, _ n: Int) -> (amax: Float, signedMax: Float) {
        var amax: Float = 0, smax: Float = 0
        for j in 0..<n {
            let a = abs(x[j])
            if a > amax { amax = a; smax = x[j] }
        }
        return (amax, smax)
    }

    static func minMax(_ x: UnsafePointer<Float>, _ n: Int) -> (Float, Float) {
        var lo = Float.infinity, hi = -Float.infinity
        for j in 0..<n { lo = min(lo, x[j]); hi = max(hi, x[j]) }
        return (lo, hi)
    }

    @inline(__always) static func nearestInt(_ x: Float) -> Int32 {
        guard x.isFinite else { return 0 }
        return Int32(max(min(x.rounded(.toNearestOrEven), 1e9), -1e9))
    }

    static func enc8_0(_ x: UnsafePointer<Float>, _ b: UnsafeMutableRawPointer) {
        let amax = absMax(x, 32).amax
        let d = roundHalf(amax / 127)
        let id: Float = d != 0 ? 1 / d : 0
        sthalf(b, 0, d)
        for j in 0..<32 { b.storeBytes(of: Int8(clamping: nearestInt(x[j] * id)), toByteOffset: 2 + j, as: Int8.self) }
    }

    static func enc8_1(_ x: UnsafePointer<Float>, _ b: UnsafeMutableRawPointer) {
        let amax = absMax(x, 32).amax
        let d = amax / 127
        let id: Float = d != 0 ? 1 / d : 0
        var sum: Int32 = 0
        for j in 0..<32 {
            let q = Int8(clamping: nearestInt(x[j] * id))
            sum += Int32(q)
            b.storeBytes(of: q, toByteOffset: 4 + j, as: Int8.self)
        }
        sthalf(b, 0, d)
        sthalf(b, 2, Float(sum) * d)
    }

    static func enc4_0(_ x: UnsafePointer<Float>, _ b: UnsafeMutableRawPointer) {
        let smax = absMax(x, 32).signedMax
        let d = roundHalf(smax / -8)
        let id: Float = d != 0 ? 1 / d : 0
        sthalf(b, 0, d)
        for j in 0..<16 {
            let lo = UInt8(clamping: min(15, max(0, nearestInt(x[j] * id) + 8)))
            let hi = UInt8(clamping: min(15, max(0, nearestInt(x[j + 16] * id) + 8)))
            b.storeBytes(of: lo | (hi << 4), toByteOffset: 2 + j, as: UInt8.self)
        }
    }

    static func enc4_1(_ x: UnsafePointer<Float>, _ b: UnsafeMutableRawPointer) {
        let (lo0, hi) = minMax(x, 32)
        let lo = roundHalf(lo0)
        let d = roundHalf((hi - lo) / 15)
        let id: Float = d != 0 ? 1 / d : 0
        sthalf(b, 0, d)
        sthalf(b, 2, lo)
        for j in 0..<16 {
            let a = UInt8(clamping: min(15, max(0, nearestInt((x[j] - lo) * id))))
            let c = UInt8(clamping: min(15, max(0, nearestInt((x[j + 16] - lo) * id))))
            b.storeBytes(of: a | (c << 4), toByteOffset: 4 + j, as: UInt8.self)
        }
    }

    static func enc5_0(_ x: UnsafePointer<Float>, _ b: UnsafeMutableRawPointer) {
        let smax = absMax(x, 32).signedMax
        let d = roundHalf(smax / -16)
        let id: Float = d != 0 ? 1 / d : 0
        sthalf(b, 0, d)
        var qh: UInt32 = 0
        for j in 0..<16 {
            let a = UInt32(clamping: min(31, max(0, nearestInt(x[j] * id) + 16)))
            let c = UInt32(clamping: min(31, max(0, nearestInt(x[j + 16] * id) + 16)))
            b.storeBytes(of: UInt8(a & 0xF) | UInt8(c & 0xF) << 4, toByteOffset: 6 + j, as: UInt8.self)
            qh |= ((a >> 4) & 1) << UInt32(j)
            qh |= ((c >> 4) & 1) << UInt32(j + 16)
        }
        st32(b, 2, qh)
    }

    static func enc5_1(_ x: UnsafePointer<Float>, _ b: UnsafeMutableRawPointer) {
        let (lo0, hi) = minMax(x, 32)
        let lo = roundHalf(lo0)
        let d = roundHalf((hi - lo) / 31)
        let id: Float = d != 0 ? 1 / d : 0
        sthalf(b, 0, d)
        sthalf(b, 2, lo)
        var qh: UInt32 = 0
        for j in 0..<16 {
            let a = UInt32(clamping: min(31, max(0, nearestInt((x[j] - lo) * id))))
            let c = UInt32(clamping: min(31, max(0, nearestInt((x[j + 16] - lo) * id))))
            b.storeBytes(of: UInt8(a & 0xF) | UInt8(c & 0xF) << 4, toByteOffset: 8 + j, as: UInt8.self)
            qh |= ((a >> 4) & 1) << UInt32(j)
            qh |= ((c >> 4) & 1) << UInt32(j + 16)
        }
        st32(b, 4, qh)
    }

    // MARK: - K-quants (256-element super-blocks)

    /// The 6-bit scale and min of sub-block `j` (0..<8) from the 12 packed bytes at `q`
    /// (Q4_K and Q5_K): sub-blocks 0..3 use the low 6 bits of bytes j and j+4; sub-blocks 4..7
    /// combine a nibble of byte j+4 with the top two bits of bytes j-4 and j.
    @inline(__always)
    public static func scaleMinK4(_ j: Int, _ q: UnsafeRawPointer) -> (scale: UInt8, min: UInt8) {
        if j < 4 {
            return (u8(q, j) & 63, u8(q, j + 4) & 63)
        }
        let sc = (u8(q, j + 4) & 0xF) | ((u8(q, j - 4) >> 6) << 4)
        let mn = (u8(q, j + 4) >> 4) | ((u8(q, j) >> 6) << 4)
        return (sc, mn)
    }

    // block_q2_K: scales[16] (low nibble scale, high nibble min), qs[64] (2-bit), f16 d, f16 dmin.
    static func deq2_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 80), dmin = half(b, 82)
        var y = y
        var isc = 0
        for n in 0..<2 {
            let q = b + 16 + 32 * n
            var shift: UInt8 = 0
            for _ in 0..<4 {
                for half in 0..<2 {
                    let sc = u8(b, isc); isc += 1
                    let dl = d * Float(sc & 0xF), ml = dmin * Float(sc >> 4)
                    for l in 0..<16 {
                        y[l] = dl * Float((u8(q, l + 16 * half) >> shift) & 3) - ml
                    }
                    y += 16
                }
                shift += 2
            }
        }
    }

    // block_q3_K: hmask[32], qs[64] (low 2 bits), scales[12] (sixteen 6-bit scales), f16 d.
    static func deq3_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let dAll = half(b, 108)
        // Unpack sixteen 6-bit scales: low 4 bits from bytes 0..7 (nibbles), high 2 bits from bytes 8..11.
        var scales = (Int8(0), Int8(0), Int8(0), Int8(0), Int8(0), Int8(0), Int8(0), Int8(0),
                      Int8(0), Int8(0), Int8(0), Int8(0), Int8(0), Int8(0), Int8(0), Int8(0))
        withUnsafeMutableBytes(of: &scales) { s in
            let sb = b + 96
            for i in 0..<16 {
                let low = i < 8 ? (u8(sb, i) & 0xF) : (u8(sb, i - 8) >> 4)
                let high = (u8(sb, 8 + (i & 3)) >> (2 * UInt8(i / 4))) & 3
                s[i] = UInt8(low | (high << 4))
            }
        }
        withUnsafeBytes(of: &scales) { s in
            let hm = b
            var y = y
            var isc = 0
            var m: UInt8 = 1
            for n in 0..<2 {
                let q = b + 32 + 32 * n
                var shift: UInt8 = 0
                for _ in 0..<4 {
                    for half in 0..<2 {
                        let dl = dAll * Float(Int32(s[isc]) - 32); isc += 1
                        for l in 0..<16 {
                            let idx = l + 16 * half
                            let lo = Int32((u8(q, idx) >> shift) & 3)
                            let sub: Int32 = (u8(hm, idx) & m) != 0 ? 0 : 4
                            y[l] = dl * Float(lo - sub)
                        }
                        y += 16
                    }
                    shift += 2
                    m <<= 1
                }
            }
        }
    }

    // block_q4_K: f16 d, f16 dmin, scales[12] (eight 6-bit scale/min pairs), qs[128].
    // Each 64 elements use one byte run of 32: low nibbles with pair 2i, high nibbles with pair 2i+1.
    static func deq4_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0), dmin = half(b, 2)
        let sc = b + 4
        for i in 0..<4 {
            let q = b + 16 + 32 * i
            let (s1, m1) = scaleMinK4(2 * i, sc)
            let (s2, m2) = scaleMinK4(2 * i + 1, sc)
            let d1 = d * Float(s1), n1 = dmin * Float(m1)
            let d2 = d * Float(s2), n2 = dmin * Float(m2)
            let yy = y + 64 * i
            for l in 0..<32 {
                let v = u8(q, l)
                yy[l] = d1 * Float(v & 0xF) - n1
                yy[l + 32] = d2 * Float(v >> 4) - n2
            }
        }
    }

    // block_q5_K: f16 d, f16 dmin, scales[12], qh[32], qs[128]. Like Q4_K with a 5th bit from qh:
    // bit 2i of qh[l] for the low-nibble half of chunk i, bit 2i+1 for the high-nibble half.
    static func deq5_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0), dmin = half(b, 2)
        let sc = b + 4
        let qh = b + 16
        for i in 0..<4 {
            let q = b + 48 + 32 * i
            let (s1, m1) = scaleMinK4(2 * i, sc)
            let (s2, m2) = scaleMinK4(2 * i + 1, sc)
            let d1 = d * Float(s1), n1 = dmin * Float(m1)
            let d2 = d * Float(s2), n2 = dmin * Float(m2)
            let u1 = UInt8(1) << UInt8(2 * i), u2 = UInt8(2) << UInt8(2 * i)
            let yy = y + 64 * i
            for l in 0..<32 {
                let v = u8(q, l), h = u8(qh, l)
                yy[l] = d1 * Float((v & 0xF) + ((h & u1) != 0 ? 16 : 0)) - n1
                yy[l + 32] = d2 * Float((v >> 4) + ((h & u2) != 0 ? 16 : 0)) - n2
            }
        }
    }

    // block_q6_K: ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16] (int8), f16 d.
    // Each half of 128 elements uses 64 ql bytes, 32 qh bytes and 8 scales (one per 16 elements).
    static func deq6_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 208)
        for n in 0..<2 {
            let ql = b + 64 * n
            let qh = b + 128 + 32 * n
            let sc = b + 192 + 8 * n
            let yy = y + 128 * n
            for part in 0..<2 {
                let s1 = d * Float(i8(sc, part)), s2 = d * Float(i8(sc, part + 2))
                let s3 = d * Float(i8(sc, part + 4)), s4 = d * Float(i8(sc, part + 6))
                for l in (16 * part)..<(16 * part + 16) {
                    let h = u8(qh, l)
                    let a = u8(ql, l), c = u8(ql, l + 32)
                    let q1 = Int32((a & 0xF) | ((h & 3) << 4)) - 32
                    let q2 = Int32((c & 0xF) | (((h >> 2) & 3) << 4)) - 32
                    let q3 = Int32((a >> 4) | (((h >> 4) & 3) << 4)) - 32
                    let q4 = Int32((c >> 4) | (((h >> 6) & 3) << 4)) - 32
                    yy[l] = s1 * Float(q1)
                    yy[l + 32] = s2 * Float(q2)
                    yy[l + 64] = s3 * Float(q3)
                    yy[l + 96] = s4 * Float(q4)
                }
            }
        }
    }

    // block_q8_K: f32 d, qs[256] int8, bsums[16] int16 (sums of each 16 quants); x = q * d.
    static func deq8_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = Float(bitPattern: ld32(b, 0))
        for j in 0..<256 { y[j] = Float(i8(b, 4 + j)) * d }
    }

    static func enc8_K(_ x: UnsafePointer<Float>, _ b: UnsafeMutableRawPointer) {
        let (amax, smax) = absMax(x, 256)
        if amax == 0 {
            b.initializeMemory(as: UInt8.self, repeating: 0, count: 292)
            return
        }
        let iscale = -127 / smax
        for j in 0..<256 {
            b.storeBytes(of: Int8(clamping: min(127, nearestInt(iscale * x[j]))), toByteOffset: 4 + j, as: Int8.self)
        }
        for g in 0..<16 {
            var s: Int32 = 0
            for l in 0..<16 { s += Int32(i8(b, 4 + 16 * g + l)) }
            st16(b, 260 + 2 * g, UInt16(bitPattern: Int16(s)))
        }
        st32(b, 0, (1 / iscale).bitPattern)
    }

    /// Q6_K encoder: per 16 elements an absmax scale (q in -32...31), scales stored as int8 against
    /// a super-block f16 `d`.
    static func enc6_K(_ x: UnsafePointer<Float>, _ b: UnsafeMutableRawPointer) {
        var subScale = [Float](repeating: 0, count: 16)
        var maxScale: Float = 0, maxAbsScale: Float = 0
        for g in 0..<16 {
            let smax = absMax(x + 16 * g, 16).signedMax
            let s = smax / -32
            subScale[g] = s
            if abs(s) > maxAbsScale { maxAbsScale = abs(s); maxScale = s }
        }
        b.initializeMemory(as: UInt8.self, repeating: 0, count: 210)
        if maxAbsScale == 0 { return }
        let iscale = -128 / maxScale
        let d = floatToHalf(1 / iscale)
        st16(b, 208, d)
        let dd = halfToFloat(d)
        var q = [UInt8](repeating: 0, count: 256)
        for g in 0..<16 {
            let sc = Int8(clamping: min(127, nearestInt(iscale * subScale[g])))
            b.storeBytes(of: sc, toByteOffset: 192 + g, as: Int8.self)
            let eff = dd * Float(sc)
            let ie: Float = eff != 0 ? 1 / eff : 0
            for l in 0..<16 {
                q[16 * g + l] = UInt8(clamping: min(31, max(-32, nearestInt(x[16 * g + l] * ie))) + 32)
            }
        }
        for n in 0..<2 {
            for l in 0..<32 {
                let q1 = q[128 * n + l], q2 = q[128 * n + l + 32], q3 = q[128 * n + l + 64], q4 = q[128 * n + l + 96]
                b.storeBytes(of: (q1 & 0xF) | ((q3 & 0xF) << 4), toByteOffset: 64 * n + l, as: UInt8.self)
                b.storeBytes(of: (q2 & 0xF) | ((q4 & 0xF) << 4), toByteOffset: 64 * n + l + 32, as: UInt8.self)
                b.storeBytes(of: (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6),
                             toByteOffset: 128 + 32 * n + l, as: UInt8.self)
            }
        }
    }

    /// Q4_K / Q5_K encoders: per 32 elements a min-max fit (x ≈ scale * q - min, q in 0...nmax),
    /// with the eight scales and mins quantized to 6 bits against super-block f16 `d` and `dmin`.
    /// Returns the quants (256 values) after writing d, dmin and the packed scales into `b`.
    static func fitK4(_ x: UnsafePointer<Float>, _ b: UnsafeMutableRawPointer, nmax: Float) -> [UInt8] {
        var scales = [Float](repeating: 0, count: 8), mins = [Float](repeating: 0, count: 8)
        var maxScale: Float = 0, maxMin: Float = 0
        for g in 0..<8 {
            var (lo, hi) = minMax(x + 32 * g, 32)
            lo = min(lo, 0)  // the format stores a non-negative min subtracted from the values
            let s = (hi - lo) / nmax
            scales[g] = s
            mins[g] = -lo
            maxScale = max(maxScale, s)
            maxMin = max(maxMin, -lo)
        }
        let invScale: Float = maxScale > 0 ? 63 / maxScale : 0
        let invMin: Float = maxMin > 0 ? 63 / maxMin : 0
        var ls = [UInt8](repeating: 0, count: 8), lm = [UInt8](repeating: 0, count: 8)
        for g in 0..<8 {
            ls[g] = UInt8(clamping: min(63, nearestInt(invScale * scales[g])))
            lm[g] = UInt8(clamping: min(63, nearestInt(invMin * mins[g])))
        }
        let dh = floatToHalf(maxScale / 63), mh = floatToHalf(maxMin / 63)
        st16(b, 0, dh)
        st16(b, 2, mh)
        // Pack scales/mins (the inverse of scaleMinK4).
        for j in 0..<4 {
            b.storeBytes(of: ls[j] | ((ls[j + 4] >> 4) << 6), toByteOffset: 4 + j, as: UInt8.self)
            b.storeBytes(of: lm[j] | ((lm[j + 4] >> 4) << 6), toByteOffset: 8 + j, as: UInt8.self)
            b.storeBytes(of: (ls[j + 4] & 0xF) | ((lm[j + 4] & 0xF) << 4), toByteOffset: 12 + j, as: UInt8.self)
        }
        let d = halfToFloat(dh), dmin = halfToFloat(mh)
        let top = Int32(nmax)
        var q = [UInt8](repeating: 0, count: 256)
        for g in 0..<8 {
            let eff = d * Float(ls[g]), off = dmin * Float(lm[g])
            let ie: Float = eff != 0 ? 1 / eff : 0
            for l in 0..<32 {
                q[32 * g + l] = UInt8(clamping: min(top, max(0, nearestInt((x[32 * g + l] + off) * ie))))
            }
        }
        return q
    }

    static func enc4_K(_ x: UnsafePointer<Float>, _ b: UnsafeMutableRawPointer) {
        b.initializeMemory(as: UInt8.self, repeating: 0, count: 144)
        let q = fitK4(x, b, nmax: 15)
        for i in 0..<4 {
            for l in 0..<32 {
                b.storeBytes(of: q[64 * i + l] | (q[64 * i + 32 + l] << 4), toByteOffset: 16 + 32 * i + l, as: UInt8.self)
            }
        }
    }

    static func enc5_K(_ x: UnsafePointer<Float>, _ b: UnsafeMutableRawPointer) {
        b.initializeMemory(as: UInt8.self, repeating: 0, count: 176)
        let q = fitK4(x, b, nmax: 31)
        for i in 0..<4 {
            for l in 0..<32 {
                let a = q[64 * i + l], c = q[64 * i + 32 + l]
                b.storeBytes(of: (a & 0xF) | ((c & 0xF) << 4), toByteOffset: 48 + 32 * i + l, as: UInt8.self)
                let h = b.load(fromByteOffset: 16 + l, as: UInt8.self)
                b.storeBytes(of: h | ((a >> 4) << UInt8(2 * i)) | ((c >> 4) << UInt8(2 * i + 1)), toByteOffset: 16 + l, as: UInt8.self)
            }
        }
    }
}
