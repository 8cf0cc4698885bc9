import XCTest
import GGUF
import Kernels

/// Small-batch (m ≥ 2) products on Q4_0 / Q4_1 / Q5_0 / Q8_0 weights, which quantize every x row to 16-bit
/// integers per 32-element block and sum integer products exactly: up to 9 rows in `decodeBatchMatMul`
/// (Q5_0: the fp32 panels), from 10 rows in the integer panels (16 rows each; a partial last panel is zero-padded). Checked row by
/// row against a float64 product of the reference-dequantized weights with the unquantized x.
final class DecodeBatchTests: XCTestCase {
    let types: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q8_0]

    func matMul(_ type: GGMLType, _ data: [UInt8], n: Int, k: Int, _ x: [Float], m: Int, threads: Int) -> [Float] {
        var y = [Float](repeating: .nan, count: m * n)
        data.withUnsafeBytes { raw in
            quantizedMatMul(type: type, weights: raw.baseAddress!, n: n, k: k, x: x, m: m, y: &y,
                            pool: ThreadPool(threads: threads))
        }
        return y
    }

    /// Worst |y − ref| / (‖w_j‖·‖x_i‖) over all (i, j), with ref in float64.
    func worstError(_ type: GGMLType, _ data: [UInt8], n: Int, k: Int, _ x: [Float], m: Int, _ y: [Float]) -> Double {
        let w = data.withUnsafeBytes { referenceDequantize(type, $0.baseAddress!, count: n * k) }
        var worst: Double = 0
        for i in 0..<m {
            var xx: Double = 0
            for p in 0..<k { xx += Double(x[i * k + p]) * Double(x[i * k + p]) }
            for j in 0..<n {
                var s: Double = 0, ww: Double = 0
                for p in 0..<k {
                    let wv = Double(w[j * k + p])
                    s += wv * Double(x[i * k + p])
                    ww += wv * wv
                }
                let scale = (ww * xx).squareRoot()
                let e = abs(Double(y[i * n + j]) - s) / max(scale, 1e-30)
                if !(e <= worst) { worst = e.isNaN ? .infinity : e }
            }
        }
        return worst
    }

    /// Q4_K (256-element super-blocks whose 32-element sub-blocks carry a 6-bit scale and min) and Q6_K (16-element
    /// sub-blocks with int8 scales) on the integer panels from 10 rows, alone and grouped with another part of the
    /// same type: within 1e-5 of ‖w‖·‖x‖, and grouped equal to alone.
    func testKQuantsOnTheIntegerPanels() {
        var rng = Rng(207)
        for type in [GGMLType.q4_K, .q6_K] {
          for (m, n, k) in [(10, 23, 256), (16, 66, 512), (17, 13, 1536), (48, 5, 256), (33, 7, 768)] {
            let data = randomWeights(type, rows: n, k: k, &rng)
            let x = randomFloats(m * k, &rng)
            let y = matMul(type, data, n: n, k: k, x, m: m, threads: 2)
            let worst = worstError(type, data, n: n, k: k, x, m: m, y)
            XCTAssertLessThanOrEqual(worst, 1e-5, "\(type) m \(m) n \(n) k \(k): relative error \(worst)")
            let other = randomWeights(type, rows: 9, k: k, &rng)
            var y0 = [Float](repeating: .nan, count: m * n), y1 = [Float](repeating: .nan, count: m * 9)
            data.withUnsafeBytes { d0 in other.withUnsafeBytes { d1 in
                y0.withUnsafeMutableBufferPointer { p0 in y1.withUnsafeMutableBufferPointer { p1 in
                    quantizedMatMulGroup([MatMulPart(type: type, weights: d0.baseAddress!, n: n, y: p0.baseAddress!),
                                          MatMulPart(type: type, weights: d1.baseAddress!, n: 9, y: p1.baseAddress!)],
                                         k: k, x: x, m: m, pool: ThreadPool(threads: 2))
                } }
            } }
            XCTAssertEqual(y0, y, "\(type) m \(m): grouped vs alone")
            XCTAssertEqual(y1, matMul(type, other, n: 9, k: k, x, m: m, threads: 1), "\(type) m \(m): second part")
          }
        }
    }

    /// Q6_K's panel codes carry their sub-block scale: the largest, (−128)·(0 − 32) = 4096, against x whose
    /// every element is its block's maximum. 32 such products per 32-bit lane overflow with x at ±32767 and fit
    /// at ±16383; the exact answer is k·4096·d per row.
    func testQ6KExtremeCodesDoNotOverflow() {
        let k = 512, n = 12, m = 16
        let stride = GGMLType.q6_K.byteCount(elements: k)!
        var data = [UInt8](repeating: 0, count: n * stride)   // low nibbles and high bits 0: q − 32 = −32
        let d: Float = 0.25
        for r in 0..<n {
            for sb in 0..<(k / 256) {
                let o = r * stride + sb * 210
                for j in 0..<16 { data[o + 192 + j] = UInt8(bitPattern: -128) }
                let h = Float16(d).bitPattern
                data[o + 208] = UInt8(h & 0xFF); data[o + 209] = UInt8(h >> 8)
            }
        }
        for sign in [Float(1), -1] {
            let x = [Float](repeating: 3 * sign, count: m * k)
            let y = matMul(.q6_K, data, n: n, k: k, x, m: m, threads: 2)
            let exact = Double(k) * 4096 * Double(d) * 3 * Double(sign)
            for v in y { XCTAssertEqual(Double(v), exact, accuracy: abs(exact) * 1e-6, "sign \(sign)") }
        }
    }

    /// Every remainder of the x-row grouping (m = 2, 3, 5, 7, 13, 32 ...), odd block counts and row
    /// counts that are not multiples of 4, one- and two-block rows: within 1e-5 of ‖w‖·‖x‖.
    func testMatchesFloat64ReferenceAcrossBatchSizes() {
        var rng = Rng(201)
        let cases = [(2, 67, 160), (3, 5, 96), (4, 130, 576), (5, 37, 1536), (7, 300, 64), (8, 19, 32),
                     (9, 40, 128), (3, 200, 32), (6, 30, 64),
                     (10, 23, 160), (13, 41, 224), (14, 20, 96), (16, 66, 576), (32, 9, 96),
                     (11, 7, 32), (17, 13, 1536), (20, 6, 64), (29, 61, 96), (48, 5, 160)]
        for type in types {
            for (m, n, k) in cases {
                let data = randomWeights(type, rows: n, k: k, &rng)
                let x = randomFloats(m * k, &rng)
                let y = matMul(type, data, n: n, k: k, x, m: m, threads: 2)
                let worst = worstError(type, data, n: n, k: k, x, m: m, y)
                XCTAssertLessThanOrEqual(worst, 1e-5, "\(type) m \(m) n \(n) k \(k): relative error \(worst)")
            }
        }
    }

    /// Rows of x with very different magnitudes, outliers and whole zero blocks: every row and block has
    /// its own scale, so a small row is not drowned by a large one.
    func testRowsWithDifferentScalesAndOutliers() {
        var rng = Rng(202)
        let n = 40, k = 576
        for type in types {
          for m in [6, 12, 21] {
            let data = randomWeights(type, rows: n, k: k, &rng)
            var x = randomFloats(m * k, &rng)
            for p in 0..<k { x[k + p] *= 1e-4; x[3 * k + p] *= 3e3 }
            for p in 0..<k { x[2 * k + p] *= 1e-3 }
            x[2 * k + 3] = 250; x[2 * k + 77] = -4000
            for p in 128..<160 { x[4 * k + p] = 0 }
            for p in 0..<k { x[5 * k + p] = 0 }
            let y = matMul(type, data, n: n, k: k, x, m: m, threads: 1)
            let worst = worstError(type, data, n: n, k: k, x, m: m, Array(y))
            XCTAssertLessThanOrEqual(worst, 1e-5, "\(type) m \(m): relative error \(worst)")
            for j in 0..<n { XCTAssertEqual(y[5 * n + j], 0, "\(type) m \(m) row \(j): an all-zero x row must give 0") }
          }
        }
    }

    /// Extreme integers (Q4 nibbles all 15, Q5_0 all 15 or −16, Q8_0 all −128 or 127) times x at full int16 range in every
    /// row, on the quantization grid: the int32 sums must not overflow.
    func testExtremeValuesDoNotOverflow() {
        let k = 128, n = 3
        for type in types {
          for m in [5, 11] {
            let rowBytes = type.byteCount(elements: k)!
            var data = [UInt8](repeating: 0, count: n * rowBytes)
            func putHalf(_ off: Int, _ v: Float) {
                let h = Float16(v).bitPattern
                data[off] = UInt8(h & 0xFF); data[off + 1] = UInt8(h >> 8)
            }
            for b in 0..<(n * k / 32) {
                let o = b * type.bytesPerBlock
                let row = b / (k / 32)
                putHalf(o, 0.5)
                switch type {
                case .q4_1:
                    putHalf(o + 2, 0.25)
                    for i in 0..<16 { data[o + 4 + i] = 0xFF }
                case .q4_0:
                    for i in 0..<16 { data[o + 2 + i] = row == 1 ? 0x00 : 0xFF }
                case .q5_0:
                    // All high bits and nibbles set (q − 16 = 15), or none (−16).
                    for i in 0..<20 { data[o + 2 + i] = row == 1 ? 0x00 : 0xFF }
                default:
                    for i in 0..<32 { data[o + 2 + i] = row == 1 ? 0x80 : 0x7F }
                }
            }
            var x = [Float](repeating: 32767.0 / 1024, count: m * k)
            for i in 0..<m {
                for p in stride(from: 40 + i, to: k, by: 3) { x[i * k + p] = -Float((p * 211 + i) % 32767) / 1024 }
                if i == 2 { for p in 0..<k { x[i * k + p] = -x[i * k + p] } }
            }
            let y = matMul(type, data, n: n, k: k, x, m: m, threads: 1)
            let worst = worstError(type, data, n: n, k: k, x, m: m, y)
            XCTAssertLessThanOrEqual(worst, 2e-6, "\(type) m \(m): relative error \(worst)")
          }
        }
    }

    /// A NaN or an infinity in one row of x shows up in that row's outputs (as in fp32); the other rows
    /// stay correct.
    func testNonFiniteActivationsPropagate() {
        var rng = Rng(203)
        let n = 9, k = 64
        for type in types {
          for m in [4, 12] {
            let data = randomWeights(type, rows: n, k: k, &rng)
            for bad in [Float.nan, .infinity] {
                var x = randomFloats(m * k, &rng)
                x[2 * k + 45] = bad
                let y = matMul(type, data, n: n, k: k, x, m: m, threads: 1)
                for j in 0..<n { XCTAssertFalse(y[2 * n + j].isFinite, "\(type) row \(j) with \(bad) in x gave \(y[2 * n + j])") }
                var good = x, yGood = y
                good.removeSubrange((2 * k)..<(3 * k))
                yGood.removeSubrange((2 * n)..<(3 * n))
                let worst = worstError(type, data, n: n, k: k, good, m: m - 1, yGood)
                XCTAssertLessThanOrEqual(worst, 1e-5, "\(type) m \(m): finite rows next to \(bad): relative error \(worst)")
            }
          }
        }
    }

    /// The weight prefetch (`KernelTuning.prefetchRowsAhead`) is only a hint: off, at its default and far past the
    /// last row, the m = 1 kernels (every decode type, K-quants included) and the 16- and 8-bit panels give
    /// bit-identical results, and prefetching past a matrix's end reads nothing it should not.
    func testPrefetchDistanceChangesNothing() {
        var rng = Rng(205)
        let saved = KernelTuning.prefetchRowsAhead
        defer { KernelTuning.prefetchRowsAhead = saved }
        let pool = ThreadPool(threads: 2)
        let cases: [(GGMLType, Int, Int, ActivationPrecision)] = [
            (.q4_0, 1, 576, .int16), (.q4_1, 1, 576, .int16), (.q5_0, 1, 576, .int16), (.q8_0, 1, 576, .int16),
            (.q4_K, 1, 512, .int16), (.q6_K, 1, 512, .int16),
            (.q4_1, 16, 576, .int16), (.q8_0, 16, 576, .int16), (.q5_0, 23, 160, .int16),
            (.q4_0, 16, 576, .int8), (.q4_1, 21, 160, .int8)]
        for (type, m, k, precision) in cases {
            let n = 301
            let data = randomWeights(type, rows: n, k: k, &rng)
            let x = randomFloats(m * k, &rng)
            var results: [[Float]] = []
            for ahead in [0, saved, 8, 100_000] {
                KernelTuning.prefetchRowsAhead = ahead
                var y = [Float](repeating: .nan, count: m * n)
                data.withUnsafeBytes { raw in
                    quantizedMatMul(type: type, weights: raw.baseAddress!, n: n, k: k, x: x, m: m, y: &y,
                                    activations: precision, pool: pool)
                }
                results.append(y)
            }
            XCTAssertFalse(results[0].contains { !$0.isFinite }, "\(type) m \(m): non-finite output")
            for r in results.dropFirst() { XCTAssertEqual(r, results[0], "\(type) m \(m) \(precision)") }
        }
    }

    /// Results do not depend on the thread count or on repetition.
    func testDeterministicAcrossThreadCounts() {
        var rng = Rng(204)
        let n = 2000, k = 576
        for type in types {
            let data = randomWeights(type, rows: n, k: k, &rng)
            for m in [2, 7, 9, 10, 14, 16, 27] {
                let x = randomFloats(m * k, &rng)
                let a = matMul(type, data, n: n, k: k, x, m: m, threads: 1)
                XCTAssertEqual(a, matMul(type, data, n: n, k: k, x, m: m, threads: 2), "\(type) m \(m): 1 vs 2 threads")
                XCTAssertEqual(a, matMul(type, data, n: n, k: k, x, m: m, threads: 3), "\(type) m \(m): 1 vs 3 threads")
                XCTAssertEqual(a, matMul(type, data, n: n, k: k, x, m: m, threads: 2), "\(type) m \(m): repeated call")
            }
        }
    }

    /// A group of matrices sharing x (a layer's q, k, v) gives each matrix exactly what `quantizedMatMul`
    /// gives it alone, on the shared-quantization path (m ≥ 10, Q4_0 with Q4_1, or Q8_0 alone, with odd row
    /// counts and a partial last panel), below it, and where the types cannot share (Q8_0 with Q4_1, or
    /// F16). NaN in x still propagates to every product.
    func testGroupMatchesSeparateProducts() {
        var rng = Rng(303)
        let groups: [[(GGMLType, Int)]] = [[(.q4_0, 23), (.q4_1, 7), (.q4_1, 40)], [(.q8_0, 13), (.q8_0, 6)],
                                           [(.q8_0, 9), (.q4_1, 12)], [(.f16, 5), (.q4_0, 11)]]
        for parts in groups {
            for (m, k) in [(16, 96), (10, 160), (21, 64), (4, 96), (33, 32)] {
                let data = parts.map { randomWeights($0.0, rows: $0.1, k: k, &rng) }
                var x = randomFloats(m * k, &rng)
                for poison in [false, true] {
                    if poison { x[(m / 2) * k + 5] = .nan }
                    let alone = parts.indices.map { matMul(parts[$0].0, data[$0], n: parts[$0].1, k: k, x, m: m, threads: 2) }
                    var ys = parts.map { [Float](repeating: -7, count: m * $0.1) }
                    let pool = ThreadPool(threads: 2)
                    withExtendedLifetime(data) {
                        x.withUnsafeBufferPointer { xb in
                            let ptrs = ys.indices.map { i in UnsafeMutablePointer<Float>.allocate(capacity: ys[i].count) }
                            defer { ptrs.forEach { $0.deallocate() } }
                            let mp = parts.indices.map { i in
                                MatMulPart(type: parts[i].0, weights: data[i].withUnsafeBytes { $0.baseAddress! }, n: parts[i].1, y: ptrs[i])
                            }
                            quantizedMatMulGroup(mp, k: k, x: xb.baseAddress!, m: m, pool: pool)
                            for i in ys.indices { ys[i] = Array(UnsafeBufferPointer(start: ptrs[i], count: ys[i].count)) }
                        }
                    }
                    for i in parts.indices {
                        let label = "\(parts.map { $0.0 }) m \(m) k \(k) part \(i)\(poison ? " with NaN" : "")"
                        if poison {
                            let row = m / 2, n = parts[i].1
                            XCTAssertTrue((0..<n).allSatisfy { ys[i][row * n + $0].isNaN }, label)
                        } else {
                            XCTAssertEqual(ys[i], alone[i], label)
                        }
                    }
                }
            }
        }
    }
}
