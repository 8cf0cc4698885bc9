import XCTest
import Kernels

/// sgemm row blocks are resized to near-equal multiples of 6 rows and split into column slices when
/// several threads share the work: row counts just past a block boundary, m well beyond one block, and
/// 2–3 threads must still cover every element exactly once (checked against a double-precision loop).
final class SGEMMPartitionTests: XCTestCase {
    func testBlockPartitionsCoverEveryElement() {
        var rng = Rng(77)
        let cases = [(73, 130, 40), (145, 200, 33), (512, 96, 24), (217, 576, 17), (6, 700, 9), (433, 33, 700)]
        for threads in [2, 3] {
            let pool = ThreadPool(threads: threads)
            for (ci, (m, n, k)) in cases.enumerated() {
                let (tA, tB) = [(false, true), (false, false), (true, false), (true, true)][ci % 4]
                let a = randomFloats(m * k, &rng), b = randomFloats(n * k, &rng)
                let beta: Float = ci % 2 == 0 ? 0 : 0.5
                let c0 = randomFloats(m * n, &rng)
                var c = c0
                sgemm(transA: tA, transB: tB, m: m, n: n, k: k, alpha: 1.5, a: a, lda: tA ? m : k, b: b, ldb: tB ? k : n,
                      beta: beta, c: &c, ldc: n, pool: pool)
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<n {
                        var s = 0.0
                        for p in 0..<k {
                            let x = Double(tA ? a[p * m + i] : a[i * k + p]), y = Double(tB ? b[j * k + p] : b[p * n + j])
                            s += x * y
                        }
                        let expect = 1.5 * s + Double(beta) * Double(c0[i * n + j])
                        worst = max(worst, abs(Double(c[i * n + j]) - expect))
                    }
                }
                XCTAssertLessThan(worst, 1e-5 * Double(k) + 1e-5, "threads \(threads) m \(m) n \(n) k \(k) tA \(tA) tB \(tB)")
            }
        }
    }
}

/// `packBPanels` + `sgemmPackedB` against a float64 product: both B orientations, n not a multiple of the
/// 16-column panels, m not a multiple of the row tile, alpha, and a B packed for more rows and columns than the
/// product uses (a longer prompt's packed keys serving a shorter fork: the first k rows and n columns of each
/// panel, panels `panelStride` apart).
final class PackedBTests: XCTestCase {
    func testPackedProductMatchesReference() {
        var rng = Rng(809)
        for transB in [false, true] {
            for (m, n, k, packedK, packedN) in [(5, 37, 23, 23, 37), (17, 16, 64, 64, 16), (3, 70, 40, 96, 81), (8, 1, 9, 30, 33)] {
                let a = randomFloats(m * k, &rng)
                // op(B) is packedK × packedN; stored k-major (transB false: B[k][n]) or n-major (true: B[n][k]).
                let bStore = randomFloats(packedK * packedN, &rng)
                func bAt(_ p: Int, _ j: Int) -> Float { transB ? bStore[j * packedK + p] : bStore[p * packedN + j] }
                var packed = [Float](repeating: .nan, count: packedBCount(k: packedK, n: packedN))
                bStore.withUnsafeBufferPointer { bp in
                    packBPanels(transB: transB, b: bp.baseAddress!, ldb: transB ? packedK : packedN, k: packedK, n: packedN,
                                into: &packed)
                }
                var c = [Float](repeating: .nan, count: m * (n + 3))
                sgemmPackedB(m: m, n: n, k: k, alpha: 0.5, a: a, lda: k, packedB: packed,
                             panelStride: packedBPanelStride(k: packedK), c: &c, ldc: n + 3)
                for i in 0..<m {
                    for j in 0..<n {
                        var ref = 0.0, mag = 0.0
                        for p in 0..<k { ref += Double(a[i * k + p]) * Double(bAt(p, j)); mag += abs(Double(a[i * k + p]) * Double(bAt(p, j))) }
                        XCTAssertEqual(Double(c[i * (n + 3) + j]), 0.5 * ref, accuracy: 1e-5 * mag + 1e-6,
                                       "transB \(transB) m \(m) n \(n) k \(k) packed \(packedK)×\(packedN) (\(i), \(j))")
                    }
                }
            }
        }
    }
}
