import XCTest
import GGUF
import Kernels

/// Single-token (m = 1) matrix-vector products on Q4_0 / Q4_1 / Q5_0 / Q8_0 / Q4_K / Q6_K weights, which quantize x to 16-bit
/// integers per 32-element block and sum the integer products exactly. Checked against a float64 dot
/// product of the reference-dequantized weights with the unquantized x.
final class DecodeTests: XCTestCase {
    let decodeTypes: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q8_0, .q4_K, .q6_K]

    /// `k` rounded up to a whole number of `type`'s blocks (256 for the K-quants).
    func fit(_ k: Int, _ type: GGMLType) -> Int { (k + type.blockSize - 1) / type.blockSize * type.blockSize }

    /// Reference y = W·x in float64, plus per row ‖w‖₂·‖x‖₂ (the scale the error is judged against).
    func reference(_ type: GGMLType, _ data: [UInt8], n: Int, k: Int, _ x: [Float]) -> ([Double], [Double]) {
        let w = data.withUnsafeBytes { referenceDequantize(type, $0.baseAddress!, count: n * k) }
        var xx: Double = 0
        for v in x { xx += Double(v) * Double(v) }
        var y = [Double](repeating: 0, count: n), scale = [Double](repeating: 0, count: n)
        for j in 0..<n {
            var s: Double = 0, ww: Double = 0
            for p in 0..<k {
                s += Double(w[j * k + p]) * Double(x[p])
                ww += Double(w[j * k + p]) * Double(w[j * k + p])
            }
            y[j] = s
            scale[j] = (ww * xx).squareRoot()
        }
        return (y, scale)
    }

    func matVec(_ type: GGMLType, _ data: [UInt8], n: Int, k: Int, _ x: [Float], threads: Int) -> [Float] {
        var y = [Float](repeating: .nan, count: n)
        data.withUnsafeBytes { raw in
            quantizedMatMul(type: type, weights: raw.baseAddress!, n: n, k: k, x: x, m: 1, y: &y,
                            pool: ThreadPool(threads: threads))
        }
        return y
    }

    /// Shapes with odd block counts, row counts that are not multiples of 4, and SmolLM2's shapes; the
    /// error must stay within 1e-5 of ‖w‖·‖x‖ (int16 activations: ~3e-6 expected at worst).
    func testMatchesFloat64ReferenceAcrossShapes() {
        var rng = Rng(101)
        for type in decodeTypes {
            for (n, k0) in [(1, 32), (5, 96), (67, 160), (130, 576), (37, 1536), (300, 64), (11, 2048)] {
                let k = fit(k0, type)
                let data = randomWeights(type, rows: n, k: k, &rng)
                let x = randomFloats(k, &rng)
                let y = matVec(type, data, n: n, k: k, x, threads: 2)
                let (ref, scale) = reference(type, data, n: n, k: k, x)
                var worst: Double = 0
                for j in 0..<n {
                    worst = max(worst, abs(Double(y[j]) - ref[j]) / scale[j])
                }
                XCTAssertLessThanOrEqual(worst, 1e-5, "\(type) n \(n) k \(k): relative error \(worst)")
            }
        }
    }

    /// x with a few huge outliers and whole zero blocks: each block has its own scale, so the small
    /// elements keep their precision and zero blocks contribute nothing.
    func testOutliersAndZeroBlocks() {
        var rng = Rng(102)
        let n = 40, k = 256
        for type in decodeTypes {
            let data = randomWeights(type, rows: n, k: k, &rng)
            var x = randomFloats(k, &rng).map { $0 * 1e-3 }
            x[3] = 250; x[77] = -4000
            for p in 128..<160 { x[p] = 0 }
            let y = matVec(type, data, n: n, k: k, x, threads: 1)
            let (ref, scale) = reference(type, data, n: n, k: k, x)
            for j in 0..<n {
                XCTAssertEqual(Double(y[j]), ref[j], accuracy: 1e-5 * scale[j], "\(type) row \(j)")
            }
            // Scaling x by a power of two scales y exactly (block scales absorb it).
            let y2 = matVec(type, data, n: n, k: k, x.map { $0 * 0.25 }, threads: 1)
            for j in 0..<n { XCTAssertEqual(y2[j], y[j] * 0.25, "\(type) row \(j): not scale-equivariant") }
        }
    }

    /// Extreme integers (Q4 nibbles all 15, Q8_0 all −128 or 127) times x at full int16 range, with x
    /// chosen so that its 16-bit quantization is exact: the integer sums must not overflow, and the
    /// result must match the reference to fp32 rounding.
    func testExtremeValuesDoNotOverflow() {
        let k = 128, n = 3
        // Hand-built 32-element blocks; the K-quants' integers (Q4_K 0…15, Q6_K −32…31, at most 16 or 32
        // per sum) cannot come near an int32 overflow.
        for type in decodeTypes where type.blockSize == 32 {
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
                    // Fifth bits and nibbles all clear (q = −16) or all set (q = 15).
                    for i in 0..<20 { data[o + 2 + i] = row == 1 ? 0x00 : 0xFF }
                default:
                    for i in 0..<32 { data[o + 2 + i] = row == 1 ? 0x80 : 0x7F }
                }
            }
            // Block maxima 32767/1024 make the quantization step exactly 1/1024; all values are on that grid.
            var x = [Float](repeating: 32767.0 / 1024, count: k)
            for p in stride(from: 40, to: k, by: 3) { x[p] = -Float(p * 211 % 32767) / 1024 }
            let y = matVec(type, data, n: n, k: k, x, threads: 1)
            let (ref, scale) = reference(type, data, n: n, k: k, x)
            for j in 0..<n {
                // An int32 overflow would be off by ~2^32 steps of 1/1024 · 0.5.
                XCTAssertEqual(Double(y[j]), ref[j], accuracy: 2e-6 * scale[j], "\(type) row \(j)")
            }
        }
    }

    /// NaN and infinity in x propagate to every row (as in an fp32 dot product) instead of being lost in
    /// the integer conversion.
    func testNonFiniteActivationsPropagate() {
        var rng = Rng(103)
        let n = 9
        for type in decodeTypes {
            let k = fit(64, type)
            let data = randomWeights(type, rows: n, k: k, &rng)
            for bad in [Float.nan, .infinity] {
                var x = randomFloats(k, &rng)
                x[45] = bad
                let y = matVec(type, data, n: n, k: k, x, threads: 1)
                for j in 0..<n { XCTAssertFalse(y[j].isFinite, "\(type) row \(j) with \(bad) in x gave \(y[j])") }
            }
        }
    }

    /// Tiny (subnormal) activations give tiny finite results, not NaN from an overflowing 1/scale.
    func testTinyActivationsStayFinite() {
        var rng = Rng(105)
        let n = 6
        for type in decodeTypes {
            let k = fit(96, type)
            let data = randomWeights(type, rows: n, k: k, &rng)
            var x = randomFloats(k, &rng)
            for p in 32..<64 { x[p] = Float(p - 47) * (Float.leastNormalMagnitude / 64) }   // subnormal
            let y = matVec(type, data, n: n, k: k, x, threads: 1)
            let (ref, scale) = reference(type, data, n: n, k: k, x)
            for j in 0..<n {
                XCTAssertTrue(y[j].isFinite, "\(type) row \(j)")
                XCTAssertEqual(Double(y[j]), ref[j], accuracy: 1e-5 * scale[j], "\(type) row \(j)")
            }
        }
    }

    /// Results do not depend on the thread count or on repetition.
    func testDeterministicAcrossThreadCounts() {
        var rng = Rng(104)
        let n = 2000
        for type in decodeTypes {
            let k = fit(576, type)
            let data = randomWeights(type, rows: n, k: k, &rng)
            let x = randomFloats(k, &rng)
            let a = matVec(type, data, n: n, k: k, x, threads: 1)
            let b = matVec(type, data, n: n, k: k, x, threads: 2)
            let c = matVec(type, data, n: n, k: k, x, threads: 3)
            XCTAssertEqual(a, b, "\(type): 1 vs 2 threads")
            XCTAssertEqual(a, c, "\(type): 1 vs 3 threads")
            XCTAssertEqual(a, matVec(type, data, n: n, k: k, x, threads: 2), "\(type): repeated call")
        }
    }
}
