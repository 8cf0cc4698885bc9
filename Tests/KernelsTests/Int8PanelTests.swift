import XCTest
import GGUF
import Kernels
import CPUIntrinsics

/// 8-bit activations (`ActivationPrecision.int8`): `vpmaddubsw` through `multiplyAddPairs`, and the Q4_0 / Q4_1
/// panels that use it for batches of 10 rows or more. Products are checked against a float64 product of the
/// reference-dequantized weights, within the worst case that 8-bit rounding of x allows.
final class Int8PanelTests: XCTestCase {
    func matMul(_ type: GGMLType, _ data: [UInt8], n: Int, k: Int, _ x: [Float], m: Int,
                _ a: ActivationPrecision, threads: Int = 2) -> [Float] {
        var y = [Float](repeating: .nan, count: m * n)
        data.withUnsafeBytes { raw in
            quantizedMatMul(type: type, weights: raw.baseAddress!, n: n, k: k, x: x, m: m, y: &y, activations: a,
                            pool: ThreadPool(threads: threads))
        }
        return y
    }

    /// The instruction against its definition: unsigned × signed byte pairs summed, saturated to Int16, on
    /// random bytes and on the extremes that saturate (255·127·2 and 255·−128·2).
    func testMultiplyAddPairsMatchesDefinition() {
        var rng = Rng(801)
        var cases: [(SIMD32<UInt8>, SIMD32<Int8>)] = []
        for _ in 0..<200 {
            var u = SIMD32<UInt8>(), s = SIMD32<Int8>()
            for i in 0..<32 { u[i] = rng.byte(); s[i] = Int8(bitPattern: rng.byte()) }
            cases.append((u, s))
        }
        cases.append((SIMD32(repeating: 255), SIMD32(repeating: 127)))
        cases.append((SIMD32(repeating: 255), SIMD32(repeating: -128)))
        for (u, s) in cases {
            let r = multiplyAddPairs(unsigned: u, signed: s)
            for i in 0..<16 {
                let v = Int(u[2 * i]) * Int(s[2 * i]) + Int(u[2 * i + 1]) * Int(s[2 * i + 1])
                XCTAssertEqual(Int(r[i]), min(32767, max(-32768, v)))
            }
        }
        var a = SIMD16<Int16>(), b = SIMD16<Int16>()
        for i in 0..<16 { a[i] = Int16(bitPattern: UInt16(truncatingIfNeeded: rng.next())); b[i] = Int16(bitPattern: UInt16(truncatingIfNeeded: rng.next())) }
        let w = multiplyAddPairs(a, b)
        for i in 0..<8 {
            XCTAssertEqual(w[i], Int32(a[2 * i]) &* Int32(b[2 * i]) &+ Int32(a[2 * i + 1]) &* Int32(b[2 * i + 1]))
        }
    }

    /// For every (row i, weight row j): |y − ref| within Σ_p |d_b·(q_p − 8)| · max_b|x_i| / 254 (the worst case of
    /// rounding x to 8 bits, with the centred codes the kernel's correction term gives) plus fp32 slack; and,
    /// to fp32 slack, the product the scheme defines: x rounded to dx·q (dx = max / 127, ties to even) under the
    /// centred part of each weight, d·(q_w − 8), and exact under the rest, m + 8d (Q4_1) or 0 (Q4_0).
    /// Covers partial panels and weight-row tails (m 10…48, n not a multiple of 6), one- and many-block rows.
    func testWithinTheRoundingBoundOfEightBitActivations() {
        var rng = Rng(802)
        let cases = [(10, 23, 160), (16, 66, 576), (17, 13, 1536), (32, 9, 96), (48, 5, 160), (29, 61, 32), (16, 7, 64)]
        let superBlockCases = [(10, 23, 256), (16, 66, 512), (17, 13, 1536), (29, 9, 768)]
        for type in [GGMLType.q4_0, .q4_1, .q4_K] {
            for (m, n, k) in type == .q4_K ? superBlockCases : cases {
                let data = randomWeights(type, rows: n, k: k, &rng)
                var x = randomFloats(m * k, &rng)
                // Different scales per row and an outlier, as real activations have.
                for i in 0..<m { for p in 0..<k { x[i * k + p] *= Float(1 + i % 5) * 0.7 } }
                x[(m - 1) * k + k / 2] = 40
                let y = matMul(type, data, n: n, k: k, x, m: m, .int8)
                let w = data.withUnsafeBytes { referenceDequantize(type, $0.baseAddress!, count: n * k) }
                let blocks = k / 32
                var tightest = 0.0
                for i in 0..<m {
                    let xmax = (0..<blocks).map { b in (0..<32).map { Double(abs(x[i * k + b * 32 + $0])) }.max()! }
                    // x as the scheme rounds it (fp32 arithmetic, as the kernel does).
                    var xr = [Double](repeating: 0, count: k)
                    for b in 0..<blocks {
                        let mx = Float(xmax[b])
                        let inv: Float = mx > 1e-30 ? 127 / mx : 0, dx: Float = mx > 1e-30 ? mx / 127 : 0
                        for t in 0..<32 { xr[b * 32 + t] = Double(dx) * Double((x[i * k + b * 32 + t] * inv).rounded(.toNearestOrEven)) }
                    }
                    for j in 0..<n {
                        var s = 0.0, bound = 0.0, mag = 0.0, scheme = 0.0
                        for b in 0..<blocks {
                            let (d, mOff) = data.withUnsafeBytes { blockFactors(type, $0.baseAddress!, row: j, k: k, block: b) }
                            for t in 0..<32 {
                                let p = b * 32 + t
                                let wv = Double(w[j * k + p]), xv = Double(x[i * k + p])
                                s += wv * xv
                                mag += abs(wv * xv)
                                bound += abs(wv - mOff - 8 * d) * xmax[b] / 254   // |d·(q − 8)|
                                scheme += (wv - mOff - 8 * d) * xr[p] + (mOff + 8 * d) * xv
                            }
                        }
                        let err = abs(Double(y[i * n + j]) - s)
                        XCTAssertLessThanOrEqual(err, bound * 1.0001 + 1e-5 * mag + 1e-6,
                                                 "\(type) m \(m) n \(n) k \(k) (\(i), \(j))")
                        if bound > 0 { tightest = max(tightest, err / bound) }
                        XCTAssertLessThanOrEqual(abs(Double(y[i * n + j]) - scheme), 1e-5 * mag + 1e-6,
                                                 "\(type) m \(m) n \(n) k \(k) (\(i), \(j)): not the scheme's product")
                    }
                }
                // Not 16-bit in disguise: 8-bit rounding shows (16-bit would be ~100× below the bound).
                XCTAssertGreaterThan(tightest, 0.02, "\(type) m \(m) n \(n) k \(k)")
            }
        }
    }

    /// Same bits for 1, 2 and 3 threads; a group gives each part what it gets alone; non-finite x propagates
    /// (the 8-bit path declines and the fp32 fallback carries the NaN).
    func testDeterministicGroupedAndNonFinite() {
        var rng = Rng(803)
        let k = 576
        let parts: [(GGMLType, Int)] = [(.q4_1, 200), (.q4_0, 67), (.q4_1, 13)]
        let data = parts.map { randomWeights($0.0, rows: $0.1, k: k, &rng) }
        for m in [10, 16, 27] {
            var x = randomFloats(m * k, &rng)
            let alone = parts.indices.map { matMul(parts[$0].0, data[$0], n: parts[$0].1, k: k, x, m: m, .int8, threads: 1) }
            for i in parts.indices {
                XCTAssertEqual(alone[i], matMul(parts[i].0, data[i], n: parts[i].1, k: k, x, m: m, .int8, threads: 2), "m \(m): 1 vs 2 threads")
                XCTAssertEqual(alone[i], matMul(parts[i].0, data[i], n: parts[i].1, k: k, x, m: m, .int8, threads: 3), "m \(m): 1 vs 3 threads")
            }
            for poison in [false, true] {
                if poison { x[(m / 2) * k + 7] = .infinity }
                let ref = poison ? [] : alone
                let pool = ThreadPool(threads: 2)
                let ptrs = parts.map { UnsafeMutablePointer<Float>.allocate(capacity: m * $0.1) }
                defer { ptrs.forEach { $0.deallocate() } }
                data[0].withUnsafeBytes { d0 in data[1].withUnsafeBytes { d1 in data[2].withUnsafeBytes { d2 in
                    let raw = [d0.baseAddress!, d1.baseAddress!, d2.baseAddress!]
                    let mp = parts.indices.map { MatMulPart(type: parts[$0].0, weights: raw[$0], n: parts[$0].1, y: ptrs[$0]) }
                    quantizedMatMulGroup(mp, k: k, x: x, m: m, activations: .int8, pool: pool)
                } } }
                for i in parts.indices {
                    let y = Array(UnsafeBufferPointer(start: ptrs[i], count: m * parts[i].1))
                    if poison {
                        let row = m / 2, n = parts[i].1
                        XCTAssertTrue((0..<n).allSatisfy { !y[row * n + $0].isFinite }, "m \(m) part \(i)")
                    } else {
                        XCTAssertEqual(y, ref[i], "m \(m) part \(i): grouped vs alone")
                    }
                }
            }
        }
    }

    /// Where the 8-bit panels do not apply (Q8_0 and F16 weights; fewer than 10 rows) `.int8` changes nothing;
    /// where they do (Q4_0 / Q4_1, ≥ 10 rows), it does change the result (the option is not ignored).
    func testOnlyWideQuantizedBatchesChange() {
        var rng = Rng(804)
        let k = 96
        for (type, m) in [(GGMLType.q8_0, 16), (.f16, 16), (.q4_1, 9), (.q4_0, 2), (.q4_1, 1), (.q8_0, 1)] {
            let data = randomWeights(type, rows: 11, k: k, &rng)
            let x = randomFloats(m * k, &rng)
            XCTAssertEqual(matMul(type, data, n: 11, k: k, x, m: m, .int8), matMul(type, data, n: 11, k: k, x, m: m, .int16), "\(type) m \(m)")
        }
        for type in [GGMLType.q4_1, .q4_0] {
            let data = randomWeights(type, rows: 11, k: k, &rng)
            let x = randomFloats(16 * k, &rng)
            XCTAssertNotEqual(matMul(type, data, n: 11, k: k, x, m: 16, .int8), matMul(type, data, n: 11, k: k, x, m: 16, .int16), "\(type)")
        }
    }

    /// `.float32` keeps x in fp32 on every path (m = 1, 2…9, ≥ 10; all three integer formats): the product equals a
    /// float64 product of the reference-dequantized weights to fp32 summation slack, 1e-6 of Σ|w·x|. Each row of x
    /// has a block holding one huge value among small ones, so 16-bit rounding of x (a step of max/32767) misses
    /// that bound, and the test checks that `.int16` does miss it (it could not pass by ignoring the option).
    func testFloat32ActivationsSkipEveryIntegerPath() {
        var rng = Rng(805)
        let k = 96, n = 13
        for type in [GGMLType.q4_0, .q4_1, .q8_0] {
            let data = randomWeights(type, rows: n, k: k, &rng)
            let w = data.withUnsafeBytes { referenceDequantize(type, $0.baseAddress!, count: n * k) }
            for m in [1, 3, 12, 40] {
                var x = randomFloats(m * k, &rng).map { $0 * 1e-2 }
                for i in 0..<m { x[i * k + 5] = 3000 }
                func worst(_ a: ActivationPrecision) -> Double {
                    let y = matMul(type, data, n: n, k: k, x, m: m, a)
                    var worst = 0.0
                    for i in 0..<m {
                        for j in 0..<n {
                            var ref = 0.0, mag = 0.0
                            for p in 0..<k {
                                ref += Double(w[j * k + p]) * Double(x[i * k + p])
                                mag += abs(Double(w[j * k + p]) * Double(x[i * k + p]))
                            }
                            worst = max(worst, abs(Double(y[i * n + j]) - ref) / mag)
                        }
                    }
                    return worst
                }
                XCTAssertLessThan(worst(.float32), 1e-6, "\(type) m \(m)")
                XCTAssertGreaterThan(worst(.int16), 1e-6, "\(type) m \(m): the case cannot tell fp32 from 16-bit x")
            }
        }
    }

    /// One panel of x against a tall matrix (≥ 8192 rows: 48-row tasks, as an output head runs): 16-bit Q8_0 and
    /// Q4_1, and 8-bit Q4_1, agree with the fp32 path within their rounding (1e-4 and 1e-2 of Σ|w·x|), on every
    /// row including the tail task's, with the same bits on 1 and 2 threads.
    func testTallMatricesWithOnePanel() {
        var rng = Rng(807)
        let n = 8197, k = 64, m = 13
        for (type, precision, tolerance) in [(GGMLType.q8_0, ActivationPrecision.int16, 1e-4), (.q4_1, .int16, 1e-4), (.q4_1, .int8, 1e-2)] {
            let data = randomWeights(type, rows: n, k: k, &rng)
            let x = randomFloats(m * k, &rng)
            let y = matMul(type, data, n: n, k: k, x, m: m, precision)
            XCTAssertEqual(y, matMul(type, data, n: n, k: k, x, m: m, precision, threads: 1), "\(type) \(precision): 1 vs 2 threads")
            let ref = matMul(type, data, n: n, k: k, x, m: m, .float32)
            let w = data.withUnsafeBytes { referenceDequantize(type, $0.baseAddress!, count: n * k) }
            for i in 0..<m {
                for j in 0..<n {
                    var mag: Float = 0
                    for p in 0..<k { mag += abs(w[j * k + p] * x[i * k + p]) }
                    if abs(y[i * n + j] - ref[i * n + j]) > Float(tolerance) * mag + 1e-6 {
                        XCTFail("\(type) \(precision) (\(i), \(j)): \(y[i * n + j]) vs \(ref[i * n + j])"); return
                    }
                }
            }
        }
    }
}

/// (d, o) of 32-element block `block` of weight row `row` (rows of `k` elements) of a 4-bit format, whose
/// weights are d·q + o for codes q in 0…15: Q4_0 (d, −8d), Q4_1 (d, m), Q4_K (d·scale, −dmin·min) of its
/// sub-block (6-bit scale and min, packed twelve bytes for eight sub-blocks as ggml's format defines).
func blockFactors(_ type: GGMLType, _ p: UnsafeRawPointer, row: Int, k: Int, block: Int) -> (Double, Double) {
    let rowStart = row * type.byteCount(elements: k)!
    switch type {
    case .q4_K:
        let o = rowStart + (block / 8) * 144, j = block % 8
        let d = Double(f16(p, o)), dmin = Double(f16(p, o + 2))
        let q = p.assumingMemoryBound(to: UInt8.self) + o + 4
        let sc = j < 4 ? q[j] & 63 : (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4)
        let mn = j < 4 ? q[j + 4] & 63 : (q[j + 4] >> 4) | ((q[j] >> 6) << 4)
        return (d * Double(sc), -dmin * Double(mn))
    default:
        let o = rowStart + block * type.bytesPerBlock
        let d = Double(f16(p, o))
        return (d, type == .q4_1 ? Double(f16(p, o + 2)) : -8 * d)
    }
}
