// Single-precision general matrix multiply: packed panels and a 6×16 register-blocked micro-kernel.
//
// Layout of the packed buffers (both 64-byte aligned):
// - A block: `mc` rows cut into micro-panels of MR = 6 rows; a micro-panel stores, for each p in 0..<kc,
//   the 6 values op(A)[i0 + r][pc + p] contiguously (rows past m are zero).
// - B block: `nc` columns cut into micro-panels of NR = 16 columns; a micro-panel stores, for each p,
//   the 16 values op(B)[pc + p][j0 + c] contiguously (columns past n are zero).
// The micro-kernel keeps a 6×16 tile of C in 12 `SIMD8<Float>` accumulators and does 12 FMAs per p.

@usableFromInline let gemmMR = 6
@usableFromInline let gemmNR = 16
/// Rows of A packed per task (a multiple of MR); the A block stays in L2.
let gemmMC = 72
/// Columns of B packed per outer iteration (a multiple of NR); the B block stays in L3.
let gemmNC = 1024
/// K fits one block up to this size, else it is split into near-equal blocks of at most gemmKCSplit.
let gemmKCMax = 640
let gemmKCSplit = 384

@inline(__always) func ld8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}
@inline(__always) func ld8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}
@inline(__always) func st8(_ p: UnsafeMutablePointer<Float>, _ v: SIMD8<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, all row-major with leading dimensions.
///
/// - `transA == false`: A is stored m×k (element (i,p) at `a[i*lda + p]`); `true`: A is stored k×m
///   (element (i,p) of op(A) at `a[p*lda + i]`).
/// - `transB == false`: B is stored k×n (`b[p*ldb + j]`); `true`: B is stored n×k (`b[j*ldb + p]`), the
///   usual weight layout: for W = [out][in], y = x·Wᵀ is `sgemm(transB: true, ...)` with b = W.
/// - When `beta == 0`, C is not read (it may hold NaNs or garbage).
///
/// Work is split over `pool`'s threads; a call from inside a pool job runs on the calling thread.
public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, pool: ThreadPool = .shared) {
    precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative dimension (m: \(m), n: \(n), k: \(k))")
    precondition(ldc >= n, "sgemm: ldc \(ldc) < n \(n)")
    precondition(lda >= (transA ? m : k) && ldb >= (transB ? k : n), "sgemm: leading dimension too small")
    if m == 0 || n == 0 { return }
    if k == 0 || alpha == 0 {
        scaleMatrix(c, rows: m, cols: n, ld: ldc, beta: beta)
        return
    }
    let kBlocks = k <= gemmKCMax ? 1 : (k + gemmKCSplit - 1) / gemmKCSplit
    let kcMax = (k + kBlocks - 1) / kBlocks
    // Small products are not worth waking the workers.
    let serial = m * n * k < 64 * 64 * 64
    let run: (ParallelContext) -> Void = { ctx in
        let P = ctx.participants
        var jc = 0
        while jc < n {
            let nc = min(gemmNC, n - jc)
            let nPanels = (nc + gemmNR - 1) / gemmNR
            var pc = 0
            while pc < k {
                let kc = min(kcMax, k - pc)
                let betaHere: Float = pc == 0 ? beta : 1
                let pb = ctx.shared.floats(0, nPanels * gemmNR * kc)
                // Phase 1: pack the B block (panels split evenly over participants).
                // Groups of 4 panels, scheduled dynamically (a descheduled thread does not stall the phase).
                let groups = (nPanels + 3) / 4
                ctx.run { _, _ in
                    while true {
                        let g = ctx.next()
                        if g >= groups { break }
                        for panel in (g * 4)..<min(nPanels, g * 4 + 4) {
                            let j0 = jc + panel * gemmNR
                            packB(transB: transB, b: b, ldb: ldb, pc: pc, kc: kc, j0: j0, cols: min(gemmNR, n - j0),
                                  into: pb + panel * gemmNR * kc)
                        }
                    }
                }
                // Phase 2: tasks = (row block) × (column slice), scheduled dynamically. Row blocks are
                // near-equal (a multiple of MR rows, at most MC), and with several participants there are
                // at least ~6 tasks per participant where the columns allow (slices of ≥ 4 panels), so a
                // participant that is descheduled for a while does not leave the others idle at the end.
                let mBlocks = (m + gemmMC - 1) / gemmMC
                let mcHere = min(gemmMC, ((m + mBlocks - 1) / mBlocks + gemmMR - 1) / gemmMR * gemmMR)
                var jSplit = 1
                if P > 1 && mBlocks < 6 * P {
                    jSplit = min((6 * P + mBlocks - 1) / mBlocks, max(1, nPanels / 4))
                }
                let panelsPerSlice = (nPanels + jSplit - 1) / jSplit
                let mBlocksHere = (m + mcHere - 1) / mcHere
                let tasks = mBlocksHere * jSplit
                ctx.run { _, arena in
                    let pa = arena.floats(0, gemmMC * kc)
                    var packedBlock = -1
                    while true {
                        let task = ctx.next()
                        if task >= tasks { break }
                        let mb = task / jSplit, js = task % jSplit
                        let i0 = mb * mcHere
                        let mc = min(mcHere, m - i0)
                        if mb != packedBlock {
                            packA(transA: transA, a: a, lda: lda, i0: i0, rows: mc, pc: pc, kc: kc, into: pa)
                            packedBlock = mb
                        }
                        let p0 = js * panelsPerSlice, p1 = min(nPanels, p0 + panelsPerSlice)
                        if p0 >= p1 { continue }
                        for panel in p0..<p1 {
                            let j = jc + panel * gemmNR
                            let cols = min(gemmNR, n - j)
                            let bp = UnsafePointer(pb + panel * gemmNR * kc)
                            var ir = 0
                            while ir < mc {
                                let rows = min(gemmMR, mc - ir)
                                microKernel6x16(kc: kc, a: UnsafePointer(pa + ir * kc), b: bp,
                                                c: c + (i0 + ir) * ldc + j, ldc: ldc, rows: rows, cols: cols,
                                                alpha: alpha, beta: betaHere)
                                ir += gemmMR
                            }
                        }
                    }
                }
                pc += kc
            }
            jc += nc
        }
    }
    if serial {
        run(serialContext())
    } else {
        pool.withParallel(run)
    }
}

/// C = beta · C over an m×n window (beta 0 writes zeros without reading).
func scaleMatrix(_ c: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int, beta: Float) {
    for i in 0..<rows {
        let row = c + i * ld
        if beta == 0 {
            row.update(repeating: 0, count: cols)
        } else if beta != 1 {
            for j in 0..<cols { row[j] *= beta }
        }
    }
}

/// Packs rows i0..<i0+rows, columns pc..<pc+kc of op(A) into MR-row micro-panels.
@inline(__always)
func packA(transA: Bool, a: UnsafePointer<Float>, lda: Int, i0: Int, rows: Int, pc: Int, kc: Int,
           into pa: UnsafeMutablePointer<Float>) {
    var ir = 0
    while ir < rows {
        let r = min(gemmMR, rows - ir)
        let dst = pa + ir * kc
        if transA {
            // op(A)[i][p] = a[p*lda + i]: each p gives r contiguous values.
            var src = a + pc * lda + i0 + ir
            if r == gemmMR {
                for p in 0..<kc {
                    let d = dst + p * gemmMR
                    d[0] = src[0]; d[1] = src[1]; d[2] = src[2]; d[3] = src[3]; d[4] = src[4]; d[5] = src[5]
                    src += lda
                }
            } else {
                for p in 0..<kc {
                    let d = dst + p * gemmMR
                    for q in 0..<gemmMR { d[q] = q < r ? src[q] : 0 }
                    src += lda
                }
            }
        } else {
            let base = a + (i0 + ir) * lda + pc
            if r == gemmMR {
                let s0 = base, s1 = base + lda, s2 = base + 2 * lda, s3 = base + 3 * lda
                let s4 = base + 4 * lda, s5 = base + 5 * lda
                var p = 0
                while p + 8 <= kc {
                    let v0 = ld8(s0 + p), v1 = ld8(s1 + p), v2 = ld8(s2 + p)
                    let v3 = ld8(s3 + p), v4 = ld8(s4 + p), v5 = ld8(s5 + p)
                    for e in 0..<8 {
                        let d = dst + (p + e) * gemmMR
                        d[0] = v0[e]; d[1] = v1[e]; d[2] = v2[e]; d[3] = v3[e]; d[4] = v4[e]; d[5] = v5[e]
                    }
                    p += 8
                }
                while p < kc {
                    let d = dst + p * gemmMR
                    d[0] = s0[p]; d[1] = s1[p]; d[2] = s2[p]; d[3] = s3[p]; d[4] = s4[p]; d[5] = s5[p]
                    p += 1
                }
            } else {
                for q in 0..<gemmMR {
                    if q < r {
                        let s = base + q * lda
                        for p in 0..<kc { dst[p * gemmMR + q] = s[p] }
                    } else {
                        for p in 0..<kc { dst[p * gemmMR + q] = 0 }
                    }
                }
            }
        }
        ir += gemmMR
    }
}

/// Packs columns j0..<j0+cols (cols ≤ NR), rows pc..<pc+kc of op(B) into one NR-column micro-panel.
@inline(__always)
func packB(transB: Bool, b: UnsafePointer<Float>, ldb: Int, pc: Int, kc: Int, j0: Int, cols: Int,
           into pb: UnsafeMutablePointer<Float>) {
    if transB {
        // op(B)[p][j] = b[j*ldb + p]: transpose 8×8 tiles through SIMD loads.
        if cols == gemmNR {
            var p = 0
            while p + 8 <= kc {
                for half in 0..<2 {
                    let s = b + (j0 + half * 8) * ldb + pc + p
                    let r0 = ld8(s), r1 = ld8(s + ldb), r2 = ld8(s + 2 * ldb), r3 = ld8(s + 3 * ldb)
                    let r4 = ld8(s + 4 * ldb), r5 = ld8(s + 5 * ldb), r6 = ld8(s + 6 * ldb), r7 = ld8(s + 7 * ldb)
                    for e in 0..<8 {
                        st8(pb + (p + e) * gemmNR + half * 8,
                            SIMD8<Float>(r0[e], r1[e], r2[e], r3[e], r4[e], r5[e], r6[e], r7[e]))
                    }
                }
                p += 8
            }
            while p < kc {
                for q in 0..<gemmNR { pb[p * gemmNR + q] = b[(j0 + q) * ldb + pc + p] }
                p += 1
            }
        } else {
            for q in 0..<gemmNR {
                if q < cols {
                    let s = b + (j0 + q) * ldb + pc
                    for p in 0..<kc { pb[p * gemmNR + q] = s[p] }
                } else {
                    for p in 0..<kc { pb[p * gemmNR + q] = 0 }
                }
            }
        }
    } else {
        var src = b + pc * ldb + j0
        if cols == gemmNR {
            for p in 0..<kc {
                st8(pb + p * gemmNR, ld8(src))
                st8(pb + p * gemmNR + 8, ld8(src + 8))
                src += ldb
            }
        } else {
            for p in 0..<kc {
                let d = pb + p * gemmNR
                for q in 0..<gemmNR { d[q] = q < cols ? src[q] : 0 }
                src += ldb
            }
        }
    }
}

/// C[0..<rows][0..<cols] = alpha · Apanel·Bpanel + beta · C (C not read when beta == 0).
@inline(__always)
func microKernel6x16(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                     ldc: Int, rows: Int, cols: Int, alpha: Float, beta: Float) {
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>()
    var c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
    var c20 = SIMD8<Float>(), c21 = SIMD8<Float>()
    var c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
    var c40 = SIMD8<Float>(), c41 = SIMD8<Float>()
    var c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
    var ap = a, bp = b
    for _ in 0..<kc {
        let b0 = UnsafeRawPointer(bp).load(as: SIMD8<Float>.self)
        let b1 = UnsafeRawPointer(bp + 8).load(as: SIMD8<Float>.self)
        var av = SIMD8<Float>(repeating: ap[0])
        c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1)
        av = SIMD8<Float>(repeating: ap[1])
        c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1)
        av = SIMD8<Float>(repeating: ap[2])
        c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1)
        av = SIMD8<Float>(repeating: ap[3])
        c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1)
        av = SIMD8<Float>(repeating: ap[4])
        c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1)
        av = SIMD8<Float>(repeating: ap[5])
        c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1)
        ap += gemmMR
        bp += gemmNR
    }
    let va = SIMD8<Float>(repeating: alpha)
    if rows == gemmMR && cols == gemmNR {
        @inline(__always) func put(_ row: Int, _ x0: SIMD8<Float>, _ x1: SIMD8<Float>) {
            let p = c + row * ldc
            if beta == 0 {
                st8(p, x0 * va); st8(p + 8, x1 * va)
            } else {
                let vb = SIMD8<Float>(repeating: beta)
                st8(p, (x0 * va).addingProduct(ld8(p), vb))
                st8(p + 8, (x1 * va).addingProduct(ld8(p + 8), vb))
            }
        }
        put(0, c00, c01); put(1, c10, c11); put(2, c20, c21)
        put(3, c30, c31); put(4, c40, c41); put(5, c50, c51)
        return
    }
    var tile = (c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51)
    withUnsafeBytes(of: &tile) { raw in
        let t = raw.baseAddress!.assumingMemoryBound(to: Float.self)
        for r in 0..<rows {
            let p = c + r * ldc
            for q in 0..<cols {
                let v = alpha * t[r * gemmNR + q]
                p[q] = beta == 0 ? v : v + beta * p[q]
            }
        }
    }
}

/// Floats between consecutive column panels of a B that `packBPanels` packed with k rows.
public func packedBPanelStride(k: Int) -> Int { gemmNR * k }

/// Floats that `packBPanels` writes for an op(B) of k rows × n columns.
public func packedBCount(k: Int, n: Int) -> Int { (n + gemmNR - 1) / gemmNR * gemmNR * k }

/// Packs op(B) (k × n; `transB` as in `sgemm`) once, for repeated products by `sgemmPackedB`: NR-column
/// micro-panels over all k rows, the layout `sgemm` packs into on every call. Worth it when the same B meets
/// many small A (the keys and values of a prompt that many decoding streams attend to, step after step).
public func packBPanels(transB: Bool, b: UnsafePointer<Float>, ldb: Int, k: Int, n: Int,
                        into pb: UnsafeMutablePointer<Float>) {
    var j0 = 0
    while j0 < n {
        packB(transB: transB, b: b, ldb: ldb, pc: 0, kc: k, j0: j0, cols: min(gemmNR, n - j0), into: pb + j0 * k)
        j0 += gemmNR
    }
}

/// C[m×n] = alpha · A[m×k] · op(B), with A row-major (`lda`) and op(B) from `packBPanels`; C is not read. The
/// packed B may be larger than this product needs: its first n columns and first k rows are used, with
/// `panelStride` floats between column panels (NR × the k it was packed with; default NR × k). Runs on the
/// calling thread: for units of a parallel loop whose B is shared and already packed.
public func sgemmPackedB(m: Int, n: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                         packedB: UnsafePointer<Float>, panelStride: Int? = nil, c: UnsafeMutablePointer<Float>, ldc: Int) {
    let ps = panelStride ?? gemmNR * k
    precondition(m >= 0 && n >= 0 && k >= 0 && lda >= k && ldc >= n && ps >= gemmNR * k, "sgemmPackedB: bad dimensions")
    if m == 0 || n == 0 { return }
    if k == 0 || alpha == 0 {
        scaleMatrix(c, rows: m, cols: n, ld: ldc, beta: 0)
        return
    }
    let pa = UnsafeMutablePointer<Float>.allocate(capacity: (m + gemmMR - 1) / gemmMR * gemmMR * k)
    defer { pa.deallocate() }
    packA(transA: false, a: a, lda: lda, i0: 0, rows: m, pc: 0, kc: k, into: pa)
    var j = 0
    while j < n {
        let bp = packedB + (j / gemmNR) * ps
        var ir = 0
        while ir < m {
            microKernel6x16(kc: k, a: UnsafePointer(pa + ir * k), b: bp, c: c + ir * ldc + j, ldc: ldc,
                            rows: min(gemmMR, m - ir), cols: min(gemmNR, n - j), alpha: alpha, beta: 0)
            ir += gemmMR
        }
        j += gemmNR
    }
}
