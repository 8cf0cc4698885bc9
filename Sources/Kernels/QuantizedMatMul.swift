import GGUF
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One weight matrix of a `quantizedMatMulGroup`: `n` rows in GGML format `type`, product written to `y` (m × n).
public struct MatMulPart {
    public var type: GGMLType
    public var weights: UnsafeRawPointer
    public var n: Int
    public var y: UnsafeMutablePointer<Float>

    public init(type: GGMLType, weights: UnsafeRawPointer, n: Int, y: UnsafeMutablePointer<Float>) {
        self.type = type
        self.weights = weights
        self.n = n
        self.y = y
    }
}

/// `quantizedMatMul` of the same x (m × k) by several weight matrices, with the same results. Where every
/// part runs on the integer panels (m ≥ 10, all Q4_0 / Q4_1, or all Q5_0 / Q8_0 / Q4_K / Q6_K), x is quantized once for the whole
/// group and one parallel phase covers all of its rows; otherwise each part runs on its own.
///
/// `activations: .int8` runs all-Q4_0 / Q4_1 / Q4_K groups of m ≥ 10 rows on the 8-bit panels (`ActivationPrecision`).
public func quantizedMatMulGroup(_ parts: [MatMulPart], k: Int, x: UnsafePointer<Float>, m: Int,
                                 activations: ActivationPrecision = .int16, pool: ThreadPool = .shared) {
    if activations == .int8, m >= int16PanelsMinRows, k > 0, k % 32 == 0,
       parts.allSatisfy({ int8PanelsSupport($0.type) && $0.n > 0 }),
       int8PanelMatMulGroup(parts, k: k, x: x, m: m, pool: pool) {
        return
    }
    if activations != .float32, parts.count > 1, m >= int16PanelsMinRows, k > 0, k % 32 == 0,
       int16PanelsCanGroup(parts), parts.allSatisfy({ $0.n > 0 }),
       int16PanelMatMulGroup(parts, k: k, x: x, m: m, pool: pool) {
        return
    }
    for p in parts {
        quantizedMatMul(type: p.type, weights: p.weights, n: p.n, k: k, x: x, m: m, y: p.y, activations: activations, pool: pool)
    }
}

/// y[m×n] = x[m×k] · Wᵀ for a weight matrix W of `n` rows × `k` elements stored in GGML format `type`
/// (row stride `type.byteCount(elements: k)` bytes; `k` a multiple of the block size).
///
/// Rows of W are split over `pool`'s threads. Designed for decoding (m = 1) and small batches (m ≤ ~32); on
/// Q4_0 / Q4_1 / Q5_0 / Q8_0 / Q4_K / Q6_K the integer panels also handle larger m (up to 48 weight rows per task).
/// For Q4_0 / Q4_1 / Q5_0 / Q8_0 / Q4_K / Q6_K weights with m = 1, Q4_0 / Q4_1 / Q8_0 with any m ≥ 2, and Q5_0 / Q4_K / Q6_K
/// with m ≥ 10 (Q6_K's x to ±16383: `int16PanelsXLimit`), each row of x is
/// quantized once per call to 16-bit integers with one fp32 scale per 32-element block (rounding error
/// ≤ 1.5e-5 of the block's largest |x|; llama.cpp uses 8 bits) and the block dot products are exact integer
/// sums (2 ≤ m ≤ 9: `decodeBatchMatMul`; m ≥ 10: the integer panels of `int16PanelMatMul`, where each measured
/// faster), so results match a dequantize-then-fp32 product to within ~1e-5 of ‖w_row‖·‖x‖ (NaN or infinity
/// in x falls back to an fp32 kernel and propagates).
/// Other types keep activations in fp32 and match up to summation order: for m = 1 the other
/// 32-element block formats use fused kernels that never materialize fp32 weights; otherwise a few rows at
/// a time are dequantized into per-thread scratch and reused for every row of x. Results are deterministic
/// (independent of the thread count). For large m on the other types prefer `dequantizeRows` + `sgemm`.
///
/// `activations: .int8` quantizes x to 8 bits instead where the 8-bit panels apply (Q4_0 / Q4_1 / Q4_K, m ≥ 10; see
/// `ActivationPrecision`); elsewhere it changes nothing. `.float32` skips every integer path and the fused m = 1
/// kernels (whose Σx offset term cancels badly when x has outliers): x stays fp32 against dequantized rows.
///
/// Supported types: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K (`kernelsSupport`).
public func quantizedMatMul(type: GGMLType, weights: UnsafeRawPointer, n: Int, k: Int, x: UnsafePointer<Float>,
                            m: Int, y: UnsafeMutablePointer<Float>, activations: ActivationPrecision = .int16,
                            pool: ThreadPool = .shared) {
    precondition(kernelsSupport(type), "quantizedMatMul: unsupported tensor type \(type)")
    guard let stride = type.byteCount(elements: k) else {
        preconditionFailure("quantizedMatMul: row length \(k) is not a multiple of \(type)'s block size \(type.blockSize)")
    }
    if n <= 0 || m <= 0 { return }
    if k == 0 {
        y.update(repeating: 0, count: m * n)
        return
    }
    let integer = activations != .float32
    if integer, decodeBatchSupports(type, m: m),
       decodeBatchMatMul(type: type, weights: weights, stride: stride, n: n, k: k, x: x, m: m, y: y, pool: pool) {
        return
    }
    if activations == .int8 && m >= int16PanelsMinRows && int8PanelsSupport(type),
       int8PanelMatMulGroup([MatMulPart(type: type, weights: weights, n: n, y: y)], k: k, x: x, m: m, pool: pool) {
        return
    }
    if integer && m >= int16PanelsMinRows && int16PanelsSupport(type),
       int16PanelMatMul(type: type, weights: weights, stride: stride, n: n, k: k, x: x, m: m, y: y, pool: pool) {
        return
    }
    if m >= 4 {
        quantizedMatMulPanels(type: type, weights: weights, stride: stride, n: n, k: k, x: x, m: m, y: y, pool: pool)
        return
    }
    if integer && m == 1 && decodeKernelSupports(type),
       decodeMatVec(type: type, weights: weights, stride: stride, n: n, k: k, x: x, y: y, pool: pool) {
        return
    }
    let fused = integer && m == 1 && (type == .q4_0 || type == .q4_1 || type == .q5_0 || type == .q5_1 || type == .q8_0)
    let work = n * k * max(1, m)
    let P = work < 1 << 15 ? 1 : pool.threadCount
    let (chunk, tasks) = rowTasks(n, participants: P)
    let body: (ParallelContext) -> Void = { ctx in
        ctx.run { _, arena in
            // Generic path scratch: 4 dequantized rows.
            let w = (fused || type == .f32) ? nil : arena.floats(1, 4 * k)
            while true {
                let t = ctx.next()
                if t >= tasks { break }
                let r0 = t * chunk, r1 = min(n, r0 + chunk)
                if fused {
                    matVecFused(type, weights, stride, k, x, y, r0, r1)
                    continue
                }
                var j = r0
                while j < r1 {
                    let rows = min(4, r1 - j)
                    var ptrs = (UnsafePointer<Float>(bitPattern: 0), UnsafePointer<Float>(bitPattern: 0),
                                UnsafePointer<Float>(bitPattern: 0), UnsafePointer<Float>(bitPattern: 0))
                    if let w = w {
                        for r in 0..<rows { dequantizeRow(type, weights + (j + r) * stride, k, w + r * k) }
                        ptrs = (UnsafePointer(w), UnsafePointer(w + k), UnsafePointer(w + 2 * k), UnsafePointer(w + 3 * k))
                    } else {
                        let f = weights.assumingMemoryBound(to: Float.self) + j * k
                        ptrs = (f, f + k, f + 2 * k, f + 3 * k)
                    }
                    // Rows past `rows` alias row 0 (their results are discarded).
                    let w0 = ptrs.0!
                    let w1 = rows > 1 ? ptrs.1! : w0, w2 = rows > 2 ? ptrs.2! : w0, w3 = rows > 3 ? ptrs.3! : w0
                    var i = 0
                    while i + 2 <= m {
                        let (a, b) = dot4x2(w0, w1, w2, w3, x + i * k, x + (i + 1) * k, k)
                        let ya = y + i * n + j, yb = y + (i + 1) * n + j
                        for r in 0..<rows { ya[r] = a[r]; yb[r] = b[r] }
                        i += 2
                    }
                    if i < m {
                        let a = dot4x1(w0, w1, w2, w3, x + i * k, k)
                        let ya = y + i * n + j
                        for r in 0..<rows { ya[r] = a[r] }
                    }
                    j += rows
                }
            }
        }
    }
    if P == 1 {
        body(serialContext())
    } else {
        pool.withParallel(body)
    }
}

/// Small-batch path (m ≥ 4). x is transposed once into panels of 16 rows (`xt[p][i]`, zero-padded);
/// each task dequantizes 6 weight rows into per-thread scratch and runs a 6×16 register-blocked kernel
/// whose accumulators are vectors over x's rows: per p, two x loads and six broadcast weights feed
/// 12 FMAs. Weights are decoded once per call whatever m is, and need no transposition.
func quantizedMatMulPanels(type: GGMLType, weights: UnsafeRawPointer, stride: Int, n: Int, k: Int,
                           x: UnsafePointer<Float>, m: Int, y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
    let xPanels = (m + 15) / 16
    let tasks = (n + 5) / 6
    let P = n * k * m < 1 << 16 ? 1 : pool.threadCount
    let body: (ParallelContext) -> Void = { ctx in
        let xt = ctx.shared.floats(2, xPanels * 16 * k)
        for xp in 0..<xPanels {
            packB(transB: true, b: x, ldb: k, pc: 0, kc: k, j0: xp * 16, cols: min(16, m - xp * 16), into: xt + xp * 16 * k)
        }
        ctx.run { _, arena in
            let rowsBuf = arena.floats(3, 6 * k)
            while true {
                let t = ctx.next()
                if t >= tasks { break }
                let j0 = t * 6
                let rows = min(6, n - j0)
                let w: UnsafePointer<Float>
                if type == .f32 {
                    w = weights.assumingMemoryBound(to: Float.self) + j0 * k
                } else {
                    for r in 0..<rows { dequantizeRow(type, weights + (j0 + r) * stride, k, rowsBuf + r * k) }
                    w = UnsafePointer(rowsBuf)
                }
                for xp in 0..<xPanels {
                    let i0 = xp * 16
                    rowsByXKernel(k: k, w: w, rows: rows, xt: UnsafePointer(xt + xp * 16 * k),
                                  y: y + i0 * n + j0, ldy: n, xRows: min(16, m - i0))
                }
            }
        }
    }
    if P == 1 {
        body(serialContext())
    } else {
        pool.withParallel(body)
    }
}

/// y[i][j] = Σ_p w[j][p]·xt[p][i] for j < rows (≤ 6, rows of w contiguous with stride k) and i < xRows (≤ 16).
@inline(__always)
func rowsByXKernel(k: Int, w: UnsafePointer<Float>, rows: Int, xt: UnsafePointer<Float>,
                   y: UnsafeMutablePointer<Float>, ldy: Int, xRows: Int) {
    // Rows past `rows` alias row 0; their sums are discarded.
    let w0 = w, w1 = rows > 1 ? w + k : w, w2 = rows > 2 ? w + 2 * k : w
    let w3 = rows > 3 ? w + 3 * k : w, w4 = rows > 4 ? w + 4 * k : w, w5 = rows > 5 ? w + 5 * k : w
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
    var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
    var c40 = SIMD8<Float>(), c41 = SIMD8<Float>(), c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
    var bp = xt
    for p in 0..<k {
        let b0 = UnsafeRawPointer(bp).load(as: SIMD8<Float>.self)
        let b1 = UnsafeRawPointer(bp + 8).load(as: SIMD8<Float>.self)
        var av = SIMD8<Float>(repeating: w0[p])
        c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1)
        av = SIMD8<Float>(repeating: w1[p])
        c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1)
        av = SIMD8<Float>(repeating: w2[p])
        c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1)
        av = SIMD8<Float>(repeating: w3[p])
        c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1)
        av = SIMD8<Float>(repeating: w4[p])
        c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1)
        av = SIMD8<Float>(repeating: w5[p])
        c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1)
        bp += 16
    }
    storePanelTile((c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51), rows: rows, xRows: xRows, y: y, ldy: ldy)
}

/// Two scratch arenas private to the calling thread (`shared` and `own` roles of a serial context),
/// created on first use and kept for the thread's lifetime, so serial kernel calls do not allocate.
func threadLocalArenas() -> (shared: ScratchArena, own: ScratchArena) {
    if let p = pthread_getspecific(arenaKey) {
        let pair = Unmanaged<ArenaPair>.fromOpaque(p).takeUnretainedValue()
        return (pair.shared, pair.own)
    }
    let pair = ArenaPair()
    pthread_setspecific(arenaKey, Unmanaged.passRetained(pair).toOpaque())
    return (pair.shared, pair.own)
}

/// How the row kernels split `n` weight rows over `participants`: tasks of `chunk` rows, a multiple of 4,
/// about 8 tasks per participant and at least 16 rows (the last task may be shorter).
@inline(__always) func rowTasks(_ n: Int, participants P: Int) -> (chunk: Int, tasks: Int) {
    let chunk = (max(16, n / (P * 8)) + 3) & ~3
    return (chunk, (n + chunk - 1) / chunk)
}

/// A serial parallel-context backed by the calling thread's private arenas.

func serialContext() -> ParallelContext {
    let (shared, own) = threadLocalArenas()
    return ParallelContext(state: nil, participants: 1, shared: shared, serialScratch: own)
}

final class ArenaPair {
    let shared = ScratchArena()
    let own = ScratchArena()
}

private let arenaKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { p in
        #if canImport(Darwin)
        Unmanaged<ArenaPair>.fromOpaque(p).release()
        #else
        if let p = p { Unmanaged<ArenaPair>.fromOpaque(p).release() }
        #endif
    }
    return key
}()

@inline(__always) func hsum(_ v: SIMD8<Float>) -> Float {
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    return b[0] + b[1]
}

/// Dot products of 4 weight rows with one x row.
@inline(__always)
func dot4x1(_ w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>, _ w2: UnsafePointer<Float>,
            _ w3: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ k: Int) -> SIMD4<Float> {
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
    var p = 0
    while p + 8 <= k {
        let xv = ld8(x + p)
        a0 = a0.addingProduct(ld8(w0 + p), xv)
        a1 = a1.addingProduct(ld8(w1 + p), xv)
        a2 = a2.addingProduct(ld8(w2 + p), xv)
        a3 = a3.addingProduct(ld8(w3 + p), xv)
        p += 8
    }
    var r = SIMD4<Float>(hsum(a0), hsum(a1), hsum(a2), hsum(a3))
    while p < k {
        r += SIMD4<Float>(w0[p], w1[p], w2[p], w3[p]) * x[p]
        p += 1
    }
    return r
}

/// Dot products of 4 weight rows with two x rows.
@inline(__always)
func dot4x2(_ w0: UnsafePointer<Float>, _ w1: UnsafePointer<Float>, _ w2: UnsafePointer<Float>,
            _ w3: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ x2: UnsafePointer<Float>,
            _ k: Int) -> (SIMD4<Float>, SIMD4<Float>) {
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
    var b0 = SIMD8<Float>(), b1 = SIMD8<Float>(), b2 = SIMD8<Float>(), b3 = SIMD8<Float>()
    var p = 0
    while p + 8 <= k {
        let xa = ld8(x + p), xb = ld8(x2 + p)
        let v0 = ld8(w0 + p), v1 = ld8(w1 + p), v2 = ld8(w2 + p), v3 = ld8(w3 + p)
        a0 = a0.addingProduct(v0, xa); b0 = b0.addingProduct(v0, xb)
        a1 = a1.addingProduct(v1, xa); b1 = b1.addingProduct(v1, xb)
        a2 = a2.addingProduct(v2, xa); b2 = b2.addingProduct(v2, xb)
        a3 = a3.addingProduct(v3, xa); b3 = b3.addingProduct(v3, xb)
        p += 8
    }
    var ra = SIMD4<Float>(hsum(a0), hsum(a1), hsum(a2), hsum(a3))
    var rb = SIMD4<Float>(hsum(b0), hsum(b1), hsum(b2), hsum(b3))
    while p < k {
        let wv = SIMD4<Float>(w0[p], w1[p], w2[p], w3[p])
        ra += wv * x[p]
        rb += wv * x2[p]
        p += 1
    }
    return (ra, rb)
}

/// A 32-element block format with a per-block fp16 scale `d` at offset 0 (and a min at offset 2).
protocol Block32Format {
    static var bytes: Int { get }
    static var hasMin: Bool { get }
    /// The block's integer values as floats (before scale and min).
    static func ints(_ p: UnsafeRawPointer) -> Block32
}
enum FmtQ4_0: Block32Format {
    static var bytes: Int { 18 }
    static var hasMin: Bool { false }
    @inline(__always) static func ints(_ p: UnsafeRawPointer) -> Block32 { blockInts(.q4_0, p) }
}
enum FmtQ4_1: Block32Format {
    static var bytes: Int { 20 }
    static var hasMin: Bool { true }
    @inline(__always) static func ints(_ p: UnsafeRawPointer) -> Block32 { blockInts(.q4_1, p) }
}
enum FmtQ5_0: Block32Format {
    static var bytes: Int { 22 }
    static var hasMin: Bool { false }
    @inline(__always) static func ints(_ p: UnsafeRawPointer) -> Block32 { blockInts(.q5_0, p) }
}
enum FmtQ5_1: Block32Format {
    static var bytes: Int { 24 }
    static var hasMin: Bool { true }
    @inline(__always) static func ints(_ p: UnsafeRawPointer) -> Block32 { blockInts(.q5_1, p) }
}
enum FmtQ8_0: Block32Format {
    static var bytes: Int { 34 }
    static var hasMin: Bool { false }
    @inline(__always) static func ints(_ p: UnsafeRawPointer) -> Block32 { blockInts(.q8_0, p) }
}

/// y[j] = W[j]·x for rows r0..<r1 of a 32-element block format, fused (no fp32 weight rows).
/// Per block: s = Σ q·x over the block (q the block's integers), y += d·s (+ m·Σx for Q4_1/Q5_1).
func matVecFused(_ type: GGMLType, _ weights: UnsafeRawPointer, _ stride: Int, _ k: Int,
                 _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ r0: Int, _ r1: Int) {
    switch type {
    case .q4_0: matVecFusedT(FmtQ4_0.self, weights, stride, k, x, y, r0, r1)
    case .q4_1: matVecFusedT(FmtQ4_1.self, weights, stride, k, x, y, r0, r1)
    case .q5_0: matVecFusedT(FmtQ5_0.self, weights, stride, k, x, y, r0, r1)
    case .q5_1: matVecFusedT(FmtQ5_1.self, weights, stride, k, x, y, r0, r1)
    default: matVecFusedT(FmtQ8_0.self, weights, stride, k, x, y, r0, r1)
    }
}

@inline(__always)
func matVecFusedT<F: Block32Format>(_ fmt: F.Type, _ weights: UnsafeRawPointer, _ stride: Int, _ k: Int,
                  _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ r0: Int, _ r1: Int) {
    let blocks = k / 32
    if F.hasMin {
        // Σx per block, shared by all rows of this task (the min term is m·Σx).
        withUnsafeTemporaryAllocation(of: Float.self, capacity: blocks) { xs in
            for b in 0..<blocks {
                let p = x + b * 32
                xs[b] = ((ld8(p) + ld8(p + 8)) + (ld8(p + 16) + ld8(p + 24))).sum()
            }
            matVecFusedRows(fmt, weights, stride, blocks, x, UnsafePointer(xs.baseAddress!), y, r0, r1)
        }
    } else {
        matVecFusedRows(fmt, weights, stride, blocks, x, x, y, r0, r1)
    }
}

@inline(__always)
func matVecFusedRows<F: Block32Format>(_ fmt: F.Type, _ weights: UnsafeRawPointer, _ stride: Int, _ blocks: Int,
                     _ x: UnsafePointer<Float>, _ xs: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                     _ r0: Int, _ r1: Int) {
    let bytes = F.bytes
    let hasMin = F.hasMin
    var j = r0
    // Two rows at a time share the x loads.
    while j + 2 <= r1 {
        let pa = weights + j * stride, pb = pa + stride
        var accA = SIMD8<Float>(), accB = SIMD8<Float>()
        var mA: Float = 0, mB: Float = 0
        for blk in 0..<blocks {
            let xp = x + blk * 32
            let x0 = ld8(xp), x1 = ld8(xp + 8), x2 = ld8(xp + 16), x3 = ld8(xp + 24)
            let ba = pa + blk * bytes, bb = pb + blk * bytes
            let qa = F.ints(ba), qb = F.ints(bb)
            let sa = (qa.v0 * x0).addingProduct(qa.v1, x1).addingProduct(qa.v2, x2).addingProduct(qa.v3, x3)
            let sb = (qb.v0 * x0).addingProduct(qb.v1, x1).addingProduct(qb.v2, x2).addingProduct(qb.v3, x3)
            accA = accA.addingProduct(sa, SIMD8<Float>(repeating: half(ba, 0)))
            accB = accB.addingProduct(sb, SIMD8<Float>(repeating: half(bb, 0)))
            if hasMin {
                let s = xs[blk]
                mA = mA.addingProduct(half(ba, 2), s)
                mB = mB.addingProduct(half(bb, 2), s)
            }
        }
        y[j] = hsum(accA) + mA
        y[j + 1] = hsum(accB) + mB
        j += 2
    }
    if j < r1 {
        let pa = weights + j * stride
        var accA = SIMD8<Float>()
        var mA: Float = 0
        for blk in 0..<blocks {
            let xp = x + blk * 32
            let x0 = ld8(xp), x1 = ld8(xp + 8), x2 = ld8(xp + 16), x3 = ld8(xp + 24)
            let ba = pa + blk * bytes
            let qa = F.ints(ba)
            let sa = (qa.v0 * x0).addingProduct(qa.v1, x1).addingProduct(qa.v2, x2).addingProduct(qa.v3, x3)
            accA = accA.addingProduct(sa, SIMD8<Float>(repeating: half(ba, 0)))
            if hasMin { mA = mA.addingProduct(half(ba, 2), xs[blk]) }
        }
        y[j] = hsum(accA) + mA
    }
}

