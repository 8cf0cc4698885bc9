// x86 vector instructions that LLVM will not select from ordinary Swift code, called through the compiler's
// `Builtin.int_*` bridge to LLVM intrinsics. This one file is compiled with `-parse-stdlib` (it is the only
// way Swift code can name a `Builtin`), which also drops the implicit `import Swift`. Everything here is
// `@inlinable` and `@inline(__always)`, so a kernel in another module gets the single instruction inline.
// Other architectures get a lane-by-lane version with the same results.
import Swift

/// `vpmaddubsw`: for each 16-bit lane i, u[2i]·s[2i] + u[2i+1]·s[2i+1] with `u` unsigned and `s` signed
/// bytes, saturated to Int16. (No saturation occurs while Σ|u·s| over a pair stays ≤ 32767, e.g. u ≤ 15
/// and |s| ≤ 127.) Why a builtin: LLVM matches this pattern only in forms Swift does not produce; written
/// out, it becomes `vpmaddwd` on widened lanes, at half the work per instruction.
@inlinable @inline(__always)
public func multiplyAddPairs(unsigned u: SIMD32<UInt8>, signed s: SIMD32<Int8>) -> SIMD16<Int16> {
    #if arch(x86_64)
    var r = SIMD16<Int16>()
    r._storage._value = Builtin.int_x86_avx2_pmadd_ub_sw(u._storage._value, s._storage._value)
    return r
    #else
    var r = SIMD16<Int16>()
    for i in 0..<16 {
        let a = Int32(u[2 &* i]) &* Int32(s[2 &* i]), b = Int32(u[2 &* i &+ 1]) &* Int32(s[2 &* i &+ 1])
        r[i] = Int16(clamping: a &+ b)
    }
    return r
    #endif
}

/// `vpmaddwd`: for each 32-bit lane i, a[2i]·b[2i] + a[2i+1]·b[2i+1] (wrapping only when both products are
/// −32768·−32768).
@inlinable @inline(__always)
public func multiplyAddPairs(_ a: SIMD16<Int16>, _ b: SIMD16<Int16>) -> SIMD8<Int32> {
    #if arch(x86_64)
    var r = SIMD8<Int32>()
    r._storage._value = Builtin.int_x86_avx2_pmadd_wd(a._storage._value, b._storage._value)
    return r
    #else
    var r = SIMD8<Int32>()
    for i in 0..<8 {
        r[i] = Int32(a[2 &* i]) &* Int32(b[2 &* i]) &+ Int32(a[2 &* i &+ 1]) &* Int32(b[2 &* i &+ 1])
    }
    return r
    #endif
}

/// A hint to fetch the cache line holding `p` into every cache level (`prefetcht0` on x86): for weight streams
/// whose next rows the hardware prefetchers do not fetch early enough. No effect on results; a no-op where
/// LLVM has no prefetch instruction.
@inlinable @inline(__always)
public func prefetch(_ p: UnsafeRawPointer) {
    Builtin.int_prefetch_RawPointer(p._rawValue, Int32(0)._value, Int32(3)._value, Int32(1)._value)
}
