import XCTest
import Kernels

/// The attention kernels against plain double-precision loops, on strided (KV-cache-like) layouts, with
/// row counts, key counts and head sizes that exercise every vector path and tail.
final class AttentionTests: XCTestCase {
    func testScoresMatchReference() {
        var rng = Rng(41)
        for (rows, hd, count) in [(1, 64, 37), (2, 64, 4), (3, 64, 530), (4, 256, 19), (5, 8, 3), (3, 12, 9), (2, 0, 5), (0, 64, 5), (3, 64, 0)] {
            let qStride = hd + 5, keyStride = 3 * hd + 7, ld = count + 3
            let q = randomFloats(max(1, rows * qStride), &rng), keys = randomFloats(max(1, count * keyStride), &rng)
            var scores = [Float](repeating: .nan, count: max(1, rows * ld))
            attentionScores(q: q, qStride: qStride, rows: rows, headDim: hd, keys: keys, keyStride: keyStride,
                            count: count, scale: 0.37, into: &scores, ldScores: ld)
            for r in 0..<rows {
                for j in 0..<count {
                    var s = 0.0
                    for d in 0..<hd { s += Double(q[r * qStride + d]) * Double(keys[j * keyStride + d]) }
                    let expect = 0.37 * s
                    XCTAssertEqual(Double(scores[r * ld + j]), expect, accuracy: 1e-5 * Double(max(1, hd)),
                                   "rows \(rows) hd \(hd) count \(count): score [\(r)][\(j)]")
                }
                // Columns past `count` are not written.
                for j in count..<ld { XCTAssert(scores[r * ld + j].isNaN, "wrote past count at [\(r)][\(j)]") }
            }
        }
    }

    func testWeightedSumMatchesReference() {
        var rng = Rng(42)
        for (rows, vd, count) in [(1, 64, 37), (2, 64, 530), (3, 64, 17), (4, 256, 9), (2, 40, 6), (3, 24, 5), (1, 12, 7), (2, 64, 0), (3, 64, 64), (3, 64, 129), (5, 64, 300), (3, 64, 0)] {
            for accumulate in [false, true] {
                let ldw = count + 2, vs = 3 * vd + 5, os = vd + 3
                let w = randomFloats(max(1, rows * ldw), &rng), v = randomFloats(max(1, count * vs), &rng)
                let start = randomFloats(rows * os, &rng)
                var out = start
                attentionWeightedSum(weights: w, ldWeights: ldw, rows: rows, values: v, valueStride: vs, count: count,
                                     valueDim: vd, into: &out, outStride: os, accumulate: accumulate)
                for r in 0..<rows {
                    for d in 0..<vd {
                        var s = accumulate ? Double(start[r * os + d]) : 0
                        for j in 0..<count { s += Double(w[r * ldw + j]) * Double(v[j * vs + d]) }
                        XCTAssertEqual(Double(out[r * os + d]), s, accuracy: 1e-5 * Double(max(1, count)),
                                       "rows \(rows) vd \(vd) count \(count) accumulate \(accumulate): [\(r)][\(d)]")
                    }
                    // Padding between output rows is untouched.
                    for d in vd..<os { XCTAssertEqual(out[r * os + d], start[r * os + d]) }
                }
            }
        }
    }

    /// softmax against a double-precision reference, with -infinity entries, a large range, and a NaN.
    func testSoftmaxMatchesReference() {
        var rng = Rng(43)
        for count in [1, 7, 8, 9, 64, 531] {
            var x = (0..<count).map { _ in rng.float(-30, 30) }
            if count > 2 { x[1] = -.infinity }
            let ref: [Double] = {
                let m = x.map(Double.init).max()!
                let e = x.map { $0 == -.infinity ? 0 : exp(Double($0) - m) }
                let s = e.reduce(0, +)
                return e.map { $0 / s }
            }()
            var y = x
            let (mx, sum) = softmax(&y, count: count)
            XCTAssertEqual(mx, x.max()!)
            XCTAssertGreaterThanOrEqual(sum, 1)
            for i in 0..<count { XCTAssertEqual(Double(y[i]), ref[i], accuracy: 1e-6 + 1e-5 * ref[i], "count \(count) [\(i)]") }
        }
        var z: [Float] = [1, 2, .nan, 3, 0, 0, 0, 0, 1, 1]
        softmax(&z, count: z.count)
        XCTAssert(z.contains { $0.isNaN }, "a NaN input must not vanish")
    }
}
