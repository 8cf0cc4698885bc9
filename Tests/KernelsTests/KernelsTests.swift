import XCTest
import Foundation
import GGUF
import Kernels

/// Deterministic pseudo-random numbers for reproducible tests.
struct Rng {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 0x9E3779B97F4A7C15 | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return state
    }
    mutating func float(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next() >> 29) }
}

func randomFloats(_ n: Int, _ rng: inout Rng) -> [Float] { (0..<n).map { _ in rng.float() } }

// MARK: - Scalar reference dequantizer (written independently from the SIMD kernels)

func f16(_ p: UnsafeRawPointer, _ off: Int) -> Float {
    Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: off, as: UInt16.self)))
}

func referenceDequantize(_ type: GGMLType, _ src: UnsafeRawPointer, count: Int) -> [Float] {
    var out = [Float](repeating: .nan, count: count)
    let bytes = src.assumingMemoryBound(to: UInt8.self)
    let bpb = type.bytesPerBlock
    switch type {
    case .f32:
        for i in 0..<count { out[i] = src.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
    case .f16:
        for i in 0..<count { out[i] = f16(src, 2 * i) }
    case .bf16:
        for i in 0..<count { out[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
    case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0:
        for b in 0..<(count / 32) {
            let o = b * bpb
            let d = f16(src, o)
            let m: Float = (type == .q4_1 || type == .q5_1) ? f16(src, o + 2) : 0
            for i in 0..<32 {
                var q: Int
                switch type {
                case .q4_0, .q4_1:
                    let qs = o + (type == .q4_0 ? 2 : 4)
                    q = Int(i < 16 ? bytes[qs + i] & 15 : bytes[qs + i - 16] >> 4)
                    if type == .q4_0 { q -= 8 }
                case .q5_0, .q5_1:
                    let qhOff = o + (type == .q5_0 ? 2 : 4)
                    let qh = src.loadUnaligned(fromByteOffset: qhOff, as: UInt32.self)
                    let qs = qhOff + 4
                    let low = Int(i < 16 ? bytes[qs + i] & 15 : bytes[qs + i - 16] >> 4)
                    q = low | Int((qh >> UInt32(i)) & 1) << 4
                    if type == .q5_0 { q -= 16 }
                default:
                    q = Int(Int8(bitPattern: bytes[o + 2 + i]))
                }
                out[b * 32 + i] = d * Float(q) + m
            }
        }
    case .q4_K, .q5_K:
        for b in 0..<(count / 256) {
            let o = b * bpb
            let d = f16(src, o), dmin = f16(src, o + 2)
            let sc = o + 4
            func scaleMin(_ j: Int) -> (Float, Float) {
                if j < 4 { return (Float(bytes[sc + j] & 63), Float(bytes[sc + j + 4] & 63)) }
                let s = (bytes[sc + j + 4] & 15) | ((bytes[sc + j - 4] >> 6) << 4)
                let m = (bytes[sc + j + 4] >> 4) | ((bytes[sc + j] >> 6) << 4)
                return (Float(s), Float(m))
            }
            let qh = o + 16
            let qs = o + (type == .q5_K ? 48 : 16)
            for i in 0..<256 {
                let sub = i / 32            // sub-block 0..7
                let group = i / 64, l = i % 32
                let byte = bytes[qs + group * 32 + l]
                var q = Int(sub % 2 == 0 ? byte & 15 : byte >> 4)
                if type == .q5_K { q += Int((bytes[qh + l] >> UInt8(sub)) & 1) * 16 }
                let (s, m) = scaleMin(sub)
                out[b * 256 + i] = d * s * Float(q) - dmin * m
            }
        }
    case .q6_K:
        for b in 0..<(count / 256) {
            let o = b * bpb
            let d = f16(src, o + 208)
            for i in 0..<256 {
                let h = i / 128, r = i % 128, quarter = r / 32, l = r % 32
                let ql = bytes[o + h * 64 + (quarter % 2) * 32 + l]
                let low = quarter < 2 ? ql & 15 : ql >> 4
                let hi = (bytes[o + 128 + h * 32 + l] >> UInt8(2 * quarter)) & 3
                let q = Int(low | (hi << 4)) - 32
                let s = Float(Int8(bitPattern: bytes[o + 192 + h * 8 + quarter * 2 + l / 16]))
                out[b * 256 + i] = d * s * Float(q)
            }
        }
    default:
        fatalError("no reference for \(type)")
    }
    return out
}

/// Random valid data for `rows` rows of `k` elements: random quantized bytes with sane fp16 scales.
func randomWeights(_ type: GGMLType, rows: Int, k: Int, _ rng: inout Rng) -> [UInt8] {
    let stride = type.byteCount(elements: k)!
    var data = [UInt8](repeating: 0, count: rows * stride)
    for i in data.indices { data[i] = rng.byte() }
    func putHalf(_ off: Int, _ v: Float) {
        let h = Float16(v).bitPattern
        data[off] = UInt8(h & 0xFF); data[off + 1] = UInt8(h >> 8)
    }
    let blocks = data.count / type.bytesPerBlock
    for b in 0..<blocks {
        let o = b * type.bytesPerBlock
        switch type {
        case .f32:
            let bits = rng.float().bitPattern
            for e in 0..<4 { data[o + e] = UInt8(truncatingIfNeeded: bits >> (8 * UInt32(e))) }
        case .f16: putHalf(o, rng.float())
        case .bf16:
            let bits = rng.float().bitPattern >> 16
            data[o] = UInt8(bits & 0xFF); data[o + 1] = UInt8(bits >> 8)
        case .q4_0, .q5_0, .q8_0: putHalf(o, rng.float(0.001, 0.05))
        case .q4_1, .q5_1: putHalf(o, rng.float(0.001, 0.05)); putHalf(o + 2, rng.float(-0.3, 0.3))
        case .q4_K, .q5_K: putHalf(o, rng.float(0.0005, 0.005)); putHalf(o + 2, rng.float(0.0005, 0.005))
        case .q6_K: putHalf(o + 208, rng.float(0.0001, 0.001))
        default: break
        }
    }
    return data
}

let allTypes: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K]

final class ThreadPoolTests: XCTestCase {
    func testEveryIndexExactlyOnce() {
        for threads in [1, 2, 3, 5] {
            let pool = ThreadPool(threads: threads)
            XCTAssertEqual(pool.threadCount, threads)
            for count in [0, 1, 2, 7, 100, 1000] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
                hits.initialize(repeating: 0, count: max(count, 1))
                pool.parallelFor(count) { i in hits[i] += 1 }
                for i in 0..<count { XCTAssertEqual(hits[i], 1, "threads \(threads) count \(count) index \(i)") }
                hits.initialize(repeating: 0, count: max(count, 1))
                var chunks = 0
                let lock = NSLock()
                pool.parallelForRanges(count) { r in
                    lock.lock(); chunks += 1; lock.unlock()
                    for i in r { hits[i] += 1 }
                }
                for i in 0..<count { XCTAssertEqual(hits[i], 1) }
                XCTAssertLessThanOrEqual(chunks, threads)
                hits.deallocate()
            }
        }
    }

    func testNestedCallsRunAndCover() {
        let pool = ThreadPool(threads: 3)
        let n = 17, inner = 13
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: n * inner)
        hits.initialize(repeating: 0, count: n * inner)
        pool.parallelFor(n) { i in
            pool.parallelFor(inner) { j in hits[i * inner + j] += 1 }
        }
        for i in 0..<(n * inner) { XCTAssertEqual(hits[i], 1) }
        hits.deallocate()
    }

    func testKernelsInsideSerialParallelFor() {
        // A one-thread pool runs parallelFor serially; kernels called from the body use their own
        // serial contexts and must neither disturb the loop nor each other.
        var rng = Rng(14)
        let m = 20, n = 70, k = 90
        let a = randomFloats(m * k, &rng), b = randomFloats(n * k, &rng)
        var expect = [Float](repeating: 0, count: m * n)
        sgemm(transA: false, transB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: &expect, ldc: n,
              pool: ThreadPool(threads: 2))
        for pool in [ThreadPool(threads: 1), ThreadPool(threads: 2)] {
            let out = UnsafeMutablePointer<Float>.allocate(capacity: 5 * m * n)
            let visits = UnsafeMutablePointer<Int>.allocate(capacity: 5)
            visits.initialize(repeating: 0, count: 5)
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    pool.parallelFor(5) { t in
                        visits[t] += 1
                        // Nested loop (serial fallback) whose body calls a kernel (serial fallback too).
                        pool.parallelFor(3) { u in
                            if u == 1 {
                                sgemm(transA: false, transB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: k,
                                      b: bp.baseAddress!, ldb: k, c: out + t * m * n, ldc: n, pool: pool)
                            }
                        }
                    }
                }
            }
            for t in 0..<5 {
                XCTAssertEqual(visits[t], 1)
                for i in 0..<(m * n) { XCTAssertEqual(out[t * m * n + i], expect[i], accuracy: 1e-4) }
            }
            out.deallocate(); visits.deallocate()
        }
    }

    func testManyDispatchesAndConcurrentCallers() {
        let pool = ThreadPool(threads: 2)
        var total = 0
        for _ in 0..<2000 {
            let sums = UnsafeMutablePointer<Int>.allocate(capacity: 8)
            sums.initialize(repeating: 0, count: 8)
            pool.parallelFor(8) { i in sums[i] = i }
            total += (0..<8).reduce(0) { $0 + sums[$1] }
            sums.deallocate()
        }
        XCTAssertEqual(total, 2000 * 28)
        // Two outside threads using one pool at once: one of them runs serially, both complete.
        let results = UnsafeMutablePointer<Int>.allocate(capacity: 2 * 500)
        results.initialize(repeating: 0, count: 1000)
        DispatchQueue.concurrentPerform(iterations: 2) { caller in
            for _ in 0..<20 { pool.parallelFor(500) { i in results[caller * 500 + i] += 1 } }
        }
        for i in 0..<1000 { XCTAssertEqual(results[i], 20) }
        results.deallocate()
    }

    func testSharedPoolExists() {
        XCTAssertGreaterThanOrEqual(ThreadPool.shared.threadCount, 1)
    }
}

final class SGEMMTests: XCTestCase {
    func check(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float, pad: Int,
               pool: ThreadPool, _ rng: inout Rng) {
        let lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad
        let aRows = transA ? k : m, bRows = transB ? n : k
        let a = randomFloats(max(1, aRows * lda), &rng), b = randomFloats(max(1, bRows * ldb), &rng)
        let c0 = randomFloats(max(1, m * ldc), &rng)
        var c = c0
        if beta == 0 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] = .nan } } }
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
              beta: beta, c: &c, ldc: ldc, pool: pool)
        var maxErr: Double = 0
        for i in 0..<m {
            for j in 0..<n {
                var s: Double = 0
                for p in 0..<k {
                    let av = Double(transA ? a[p * lda + i] : a[i * lda + p])
                    let bv = Double(transB ? b[j * ldb + p] : b[p * ldb + j])
                    s += av * bv
                }
                let expect = Double(alpha) * s + (beta == 0 ? 0 : Double(beta) * Double(c0[i * ldc + j]))
                maxErr = max(maxErr, abs(expect - Double(c[i * ldc + j])))
            }
            // Padding columns are untouched.
            for j in n..<ldc { XCTAssertEqual(c[i * ldc + j].bitPattern, c0[i * ldc + j].bitPattern) }
        }
        let tol = 1e-5 * Double(max(k, 1)) + 1e-5
        XCTAssertLessThan(maxErr, tol, "tA \(transA) tB \(transB) m \(m) n \(n) k \(k) alpha \(alpha) beta \(beta)")
    }

    func testOddSizesAllTransposes() {
        var rng = Rng(1)
        let pool = ThreadPool(threads: 2)
        let sizes = [(1, 1, 1), (7, 33, 65), (33, 7, 257), (65, 17, 3), (13, 100, 700), (100, 45, 31), (1, 300, 40), (70, 1, 90)]
        for (tA, tB) in [(false, false), (false, true), (true, false), (true, true)] {
            for (i, (m, n, k)) in sizes.enumerated() {
                let alpha: Float = i % 3 == 0 ? 1 : -0.75
                let beta: Float = i % 2 == 0 ? 0 : 0.5
                check(transA: tA, transB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta, pad: i % 4 == 1 ? 3 : 0,
                      pool: pool, &rng)
            }
        }
    }

    func testLargerThanBlocksAndSerialPools() {
        var rng = Rng(2)
        // m, n, k beyond one MC / NC / KC block, with leading dimensions larger than widths.
        check(transA: false, transB: true, m: 150, n: 3100, k: 9, alpha: 1, beta: 1, pad: 5, pool: ThreadPool(threads: 2), &rng)
        check(transA: true, transB: false, m: 80, n: 40, k: 1300, alpha: 2, beta: 0, pad: 2, pool: ThreadPool(threads: 3), &rng)
        check(transA: false, transB: false, m: 77, n: 50, k: 650, alpha: 1, beta: -1, pad: 1, pool: ThreadPool(threads: 1), &rng)
    }

    func testKZeroAndAlphaZeroScaleC() {
        var c: [Float] = [1, 2, 3, 4]
        let a: [Float] = [.nan], b: [Float] = [.nan]
        sgemm(transA: false, transB: false, m: 2, n: 2, k: 0, a: a, lda: 1, b: b, ldb: 2, beta: 2, c: &c, ldc: 2)
        XCTAssertEqual(c, [2, 4, 6, 8])
        sgemm(transA: false, transB: false, m: 2, n: 2, k: 0, a: a, lda: 1, b: b, ldb: 2, beta: 0, c: &c, ldc: 2)
        XCTAssertEqual(c, [0, 0, 0, 0])
    }

    func testInsideParallelForMatchesOutside() {
        var rng = Rng(3)
        let pool = ThreadPool(threads: 2)
        let m = 40, n = 50, k = 60
        let a = randomFloats(m * k, &rng), b = randomFloats(n * k, &rng)
        var outside = [Float](repeating: 0, count: m * n)
        sgemm(transA: false, transB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: &outside, ldc: n, pool: pool)
        let results = UnsafeMutablePointer<Float>.allocate(capacity: 4 * m * n)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                pool.parallelFor(4) { t in
                    sgemm(transA: false, transB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!,
                          ldb: k, c: results + t * m * n, ldc: n, pool: pool)
                }
            }
        }
        for t in 0..<4 { for i in 0..<(m * n) { XCTAssertEqual(results[t * m * n + i], outside[i], accuracy: 1e-4) } }
        results.deallocate()
    }
}

final class QuantizedTests: XCTestCase {
    func testDequantizeRowsMatchesReference() {
        var rng = Rng(4)
        let pool = ThreadPool(threads: 2)
        for type in allTypes {
            let k = type.blockSize == 256 ? 512 : (type.isQuantized ? 96 : 37)
            let rows = 5
            let data = randomWeights(type, rows: rows, k: k, &rng)
            let stride = type.byteCount(elements: k)!
            var out = [Float](repeating: .nan, count: 3 * k)
            data.withUnsafeBytes { raw in
                dequantizeRows(type: type, weights: raw.baseAddress!, k: k, rowStart: 1, rowCount: 3, into: &out, pool: pool)
                let ref = referenceDequantize(type, raw.baseAddress! + stride, count: 3 * k)
                for i in 0..<(3 * k) {
                    XCTAssertEqual(out[i], ref[i], accuracy: 1e-6 * max(1, abs(ref[i])), "\(type) element \(i)")
                }
            }
        }
    }

    func testQuantizedMatMulAllTypes() {
        var rng = Rng(5)
        let pool = ThreadPool(threads: 2)
        for type in allTypes {
            let k = type.blockSize == 256 ? 512 : (type.isQuantized ? 160 : 45)
            for (n, m) in [(1, 1), (7, 1), (67, 1), (130, 3), (33, 16), (9, 5)] {
                let data = randomWeights(type, rows: n, k: k, &rng)
                let x = randomFloats(m * k, &rng)
                var y = [Float](repeating: .nan, count: m * n)
                data.withUnsafeBytes { raw in
                    quantizedMatMul(type: type, weights: raw.baseAddress!, n: n, k: k, x: x, m: m, y: &y, pool: pool)
                    let w = referenceDequantize(type, raw.baseAddress!, count: n * k)
                    for i in 0..<m {
                        for j in 0..<n {
                            var s: Double = 0, mag: Double = 0
                            for p in 0..<k {
                                s += Double(w[j * k + p]) * Double(x[i * k + p])
                                mag += abs(Double(w[j * k + p]) * Double(x[i * k + p]))
                            }
                            XCTAssertEqual(Double(y[i * n + j]), s, accuracy: 1e-5 * mag + 1e-6,
                                           "\(type) n \(n) m \(m) row \(j) x-row \(i)")
                        }
                    }
                }
            }
        }
    }

    func testLargeMatVecSplitsAcrossThreadsCorrectly() {
        var rng = Rng(6)
        let pool = ThreadPool(threads: 2)
        for type in [GGMLType.q4_1, .q8_0, .q6_K] {
            let n = 1000, k = 512
            let data = randomWeights(type, rows: n, k: k, &rng)
            let x = randomFloats(k, &rng)
            var y = [Float](repeating: .nan, count: n), ySerial = [Float](repeating: .nan, count: n)
            data.withUnsafeBytes { raw in
                quantizedMatMul(type: type, weights: raw.baseAddress!, n: n, k: k, x: x, m: 1, y: &y, pool: pool)
                quantizedMatMul(type: type, weights: raw.baseAddress!, n: n, k: k, x: x, m: 1, y: &ySerial,
                                pool: ThreadPool(threads: 1))
            }
            XCTAssertEqual(y, ySerial, "\(type): threaded result differs from serial")
        }
    }
}

final class VectorOpsTests: XCTestCase {
    func testDotAxpyAddScale() {
        var rng = Rng(7)
        for n in [0, 1, 7, 8, 17, 100] {
            let a = randomFloats(n, &rng), b = randomFloats(n, &rng)
            var ref: Double = 0
            for i in 0..<n { ref += Double(a[i]) * Double(b[i]) }
            XCTAssertEqual(Double(dot(a, b, count: n)), ref, accuracy: 1e-5)
            var y = b
            axpy(0.5, a, &y, count: n)
            for i in 0..<n { XCTAssertEqual(y[i], b[i] + 0.5 * a[i], accuracy: 1e-6) }
            var s = [Float](repeating: 0, count: n)
            add(a, b, into: &s, count: n)
            for i in 0..<n { XCTAssertEqual(s[i], a[i] + b[i]) }
            scale(&s, by: 3, count: n)
            for i in 0..<n { XCTAssertEqual(s[i], 3 * (a[i] + b[i]), accuracy: 1e-6) }
        }
    }

    func testRMSNorm() {
        var rng = Rng(8)
        let n = 37
        let x = randomFloats(n, &rng), w = randomFloats(n, &rng)
        var out = [Float](repeating: 0, count: n)
        let inv = rmsNorm(x, weight: w, eps: 1e-5, into: &out, count: n)
        let ms = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n)
        let expInv = 1 / (ms + 1e-5).squareRoot()
        XCTAssertEqual(Double(inv), expInv, accuracy: 1e-5 * expInv)
        for i in 0..<n { XCTAssertEqual(Double(out[i]), Double(x[i]) * expInv * Double(w[i]), accuracy: 1e-5) }
        var plain = [Float](repeating: 0, count: n)
        rmsNorm(x, weight: nil, eps: 1e-5, into: &plain, count: n)
        for i in 0..<n { XCTAssertEqual(Double(plain[i]), Double(x[i]) * expInv, accuracy: 1e-5) }
    }

    func testSoftmaxStableAndMasked() {
        var x: [Float] = [1000, 1001, -.infinity, 999]
        let (mx, sum) = softmax(&x, count: 4)
        XCTAssertEqual(mx, 1001)
        let e0 = exp(-1.0), e3 = exp(-2.0)
        let z = e0 + 1 + e3
        XCTAssertEqual(Double(sum), z, accuracy: 1e-5)
        XCTAssertEqual(Double(x[0]), e0 / z, accuracy: 1e-6)
        XCTAssertEqual(Double(x[1]), 1 / z, accuracy: 1e-6)
        XCTAssertEqual(x[2], 0)
        XCTAssertEqual(Double(x[3]), e3 / z, accuracy: 1e-6)
        var all: [Float] = [-.infinity, -.infinity]
        softmax(&all, count: 2)
        XCTAssertEqual(all, [0, 0])
        var rng = Rng(9)
        var big = randomFloats(1001, &rng).map { $0 * 30 }
        softmax(&big, count: big.count)
        XCTAssertEqual(Double(big.reduce(0, +)), 1, accuracy: 1e-4)
    }

    /// The sampler's and the scorer's reductions against double-precision sums, over lengths that end in a
    /// partial 64-element block, with masked (−∞) entries and large logits.
    func testScaledExpAndLogSumExp() {
        var rng = Rng(17)
        for n in [1, 7, 64, 100, 1000, 49_152] {
            var x = randomFloats(n, &rng).map { $0 * 20 + 500 }
            if n > 3 { x[1] = -.infinity; x[n - 1] = -.infinity }
            let mx = Double(x.max()!)
            for scale: Float in [1, 1.25] {
                var out = [Float](repeating: .nan, count: n)
                let (m, total) = scaledExp(x, count: n, scale: scale, into: &out)
                XCTAssertEqual(Double(m), mx)
                var ref = 0.0
                for i in 0..<n {
                    let e = exp((Double(x[i]) - mx) * Double(scale))
                    ref += e
                    XCTAssertEqual(Double(out[i]), e, accuracy: 2e-6 * max(1, e), "n \(n) [\(i)]")
                }
                XCTAssertEqual(total, ref, accuracy: 1e-5 * ref, "n \(n)")
            }
            let lse = logSumExp(x, count: n)
            let ref = mx + log(x.reduce(0.0) { $0 + exp(Double($1) - mx) })
            XCTAssertEqual(lse, ref, accuracy: 1e-5, "n \(n)")
        }
        let masked: [Float] = [-.infinity, -.infinity, -.infinity]
        XCTAssertEqual(logSumExp(masked, count: 3), -.infinity)
        var out = [Float](repeating: 1, count: 3)
        XCTAssertEqual(scaledExp(masked, count: 3, scale: 1, into: &out).sum, 0)
        XCTAssertEqual(out, [0, 0, 0])
        XCTAssertEqual(logSumExp(masked, count: 0), -.infinity)
    }

    func testGatedActivations() {
        var g: [Float] = [-3, -0.5, 0, 0.7, 4, 10, -10, 2, 1.5, -90, 95, 30, -30]
        var u: [Float] = [1, 2, -1, 0.5, 3, 1, 1, -2, 0.25, 1, 1, 0.5, 2]
        var rng = Rng(11)
        for _ in 0..<40 { g.append(rng.float(-8, 8)); u.append(rng.float()) }
        var out = [Float](repeating: 0, count: g.count)
        siluMul(g, u, into: &out, count: g.count)
        for i in g.indices {
            let gd = Double(g[i])
            XCTAssertEqual(Double(out[i]), gd / (1 + exp(-gd)) * Double(u[i]), accuracy: 1e-5 * max(1, abs(gd)))
        }
        geluTanhMul(g, u, into: &out, count: g.count)
        for i in g.indices {
            let gd = Double(g[i])
            let gelu = 0.5 * gd * (1 + tanh((2 / Double.pi).squareRoot() * (gd + 0.044715 * gd * gd * gd)))
            XCTAssertEqual(Double(out[i]), gelu * Double(u[i]), accuracy: 1e-5 * max(1, abs(gd)))
        }
    }
}

final class VectorExpTests: XCTestCase {
    func testVexpAccuracyAndLimits() {
        var rng = Rng(10)
        var maxRel: Double = 0
        for _ in 0..<2000 {
            var v = SIMD8<Float>()
            for l in 0..<8 { v[l] = rng.float(-87, 88) }
            let e = vexp(v)
            for l in 0..<8 {
                let ref = exp(Double(v[l]))
                maxRel = max(maxRel, abs(Double(e[l]) - ref) / ref)
            }
        }
        XCTAssertLessThan(maxRel, 1e-6)
        let edge = vexp(SIMD8<Float>(-.infinity, -100, 0, 1, 100, .infinity, .nan, -87))
        XCTAssertEqual(edge[0], 0); XCTAssertEqual(edge[1], 0); XCTAssertEqual(edge[2], 1)
        XCTAssertEqual(Double(edge[3]), M_E, accuracy: 1e-6)
        XCTAssertEqual(edge[4], .infinity); XCTAssertEqual(edge[5], .infinity)
        XCTAssertTrue(edge[6].isNaN)
        XCTAssertEqual(Double(edge[7]), exp(-87.0), accuracy: exp(-87.0) * 1e-5)
    }
}

/// Cross-checks against the GGUF module's reference codec (written separately from these kernels).
final class CodecAgreementTests: XCTestCase {
    func testDequantizeRowsAgreesWithGGMLCodec() {
        var rng = Rng(12)
        for type in allTypes {
            let k = type.blockSize == 256 ? 512 : (type.isQuantized ? 64 : 40)
            let rows = 3
            let data = randomWeights(type, rows: rows, k: k, &rng)
            var mine = [Float](repeating: .nan, count: rows * k)
            var theirs = [Float](repeating: .nan, count: rows * k)
            data.withUnsafeBytes { raw in
                dequantizeRows(type: type, weights: raw.baseAddress!, k: k, rowStart: 0, rowCount: rows, into: &mine)
                GGMLCodec.dequantize(type, raw.baseAddress!, count: rows * k, into: &theirs)
            }
            for i in 0..<(rows * k) {
                XCTAssertEqual(mine[i], theirs[i], accuracy: 1e-6 * max(1, abs(theirs[i])), "\(type) element \(i)")
            }
        }
    }

    func testMatVecOnCodecQuantizedWeights() throws {
        var rng = Rng(13)
        for type in allTypes where GGMLCodec.canQuantize(type) {
            let k = type.blockSize == 256 ? 256 : 128, n = 37
            let w = randomFloats(n * k, &rng)
            let bytes = try GGMLCodec.quantize(type, w)
            let deq = try GGMLCodec.dequantize(type, bytes, count: n * k)
            for m in [1, 6] {
                let x = randomFloats(m * k, &rng)
                var y = [Float](repeating: .nan, count: m * n)
                bytes.withUnsafeBytes { raw in
                    quantizedMatMul(type: type, weights: raw.baseAddress!, n: n, k: k, x: x, m: m, y: &y)
                }
                for i in 0..<m {
                    for j in 0..<n {
                        var s: Double = 0, mag: Double = 0
                        for p in 0..<k {
                            s += Double(deq[j * k + p]) * Double(x[i * k + p])
                            mag += abs(Double(deq[j * k + p]) * Double(x[i * k + p]))
                        }
                        XCTAssertEqual(Double(y[i * n + j]), s, accuracy: 1e-5 * mag + 1e-6, "\(type) m \(m) row \(j)")
                    }
                }
            }
        }
    }
}

/// `argmax` against the scalar scan it replaces (first index of the largest entry, NaNs ignored), on lengths
/// around the 8-lane width, with ties, NaNs and infinities.
final class ArgmaxTests: XCTestCase {
    func testMatchesTheScalarScan() {
        var rng = Rng(808)
        func scalar(_ x: [Float]) -> (Int, Float) {
            var best = 0, value = -Float.infinity
            for i in x.indices where x[i] > value { value = x[i]; best = i }
            return (best, value)
        }
        var cases: [[Float]] = [[], [.nan], [-.infinity, -.infinity], [Float](repeating: .nan, count: 19)]
        for n in [1, 7, 8, 9, 15, 16, 17, 64, 1000, 49152] {
            // Few distinct values, so ties are common, spread over lanes and over the tail.
            var x = (0..<n).map { _ in Float(rng.next() % 5) }
            cases.append(x)
            if n > 3 { x[n / 3] = .nan; x[n - 1] = .nan }
            cases.append(x)
            if n > 2 { x[n - 2] = .infinity }
            cases.append(x)
            cases.append((0..<n).map { _ in -rng.float() - 1 })
        }
        for x in cases {
            let got = x.withUnsafeBufferPointer { argmax($0.baseAddress ?? UnsafePointer(bitPattern: 8)!, count: x.count) }
            let want = scalar(x)
            XCTAssertEqual(got.index, want.0, "n \(x.count)")
            XCTAssertTrue(got.value == want.1 || (got.value.isNaN && want.1.isNaN), "n \(x.count)")
        }
    }
}
