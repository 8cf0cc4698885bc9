// Kernels micro-benchmark: sgemm GFLOP/s on SmolLM2-135M prompt shapes (m = 512 tokens), the per-token
// time of all of SmolLM2's decode matrix-vector products (30 layers of Q4_1 + the 49152×576 Q8_0 head)
// for m = 1 and m = 16 streams, and per-type quantizedMatMul / dequantizeRows throughput.
//
// Usage: kernels-bench [all|gemm|matvec|types|gemmsmall|mscan|train|gemmall|attn|attnparts|group|int8|pf|
//                      packedattn|head|peak|prefill] [mode arguments: see each mode's comment]
//   HYPERLAB_THREADS=n         threads of ThreadPool.shared
//   HYPERLAB_BENCH_CPU=1       report process CPU time instead of wall time (stable on a loaded machine
//                              for 1-thread runs)
//   HYPERLAB_BENCH_SAME_LAYER=1  reuse one layer's weights (cache-resident: isolates compute from memory)
import Kernels
import CPUIntrinsics
@inline(__always) func multiplyAddPairs8(_ u: SIMD32<UInt8>, _ s: SIMD32<Int8>) -> SIMD16<Int16> { multiplyAddPairs(unsigned: u, signed: s) }
@inline(__always) func multiplyAddPairs16(_ a: SIMD16<Int16>, _ b: SIMD16<Int16>) -> SIMD8<Int32> { multiplyAddPairs(a, b) }
import GGUF
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Wall time, or this process's CPU time when HYPERLAB_BENCH_CPU is set (robust on a loaded machine
/// for one-thread runs: time spent descheduled does not count).
let useCPUTime = getenv("HYPERLAB_BENCH_CPU") != nil
func now() -> Double {
    var ts = timespec()
    clock_gettime(useCPUTime ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func randomBuffer(_ n: Int) -> UnsafeMutablePointer<Float> {
    let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
    var s: UInt64 = 0x9E3779B97F4A7C15
    for i in 0..<n {
        s = s &* 6364136223846793005 &+ 1442695040888963407
        p[i] = Float(Int64(bitPattern: s >> 11) % 2000) / 1000 - 1
    }
    return p
}

let pool = ThreadPool.shared
print("threads: \(pool.threadCount)")
let args = CommandLine.arguments
let which = args.count > 1 ? args[1] : "all"

if which == "all" || which == "gemm" {
    let shapes = [(512, 576, 576), (512, 192, 576), (512, 1536, 576), (512, 576, 1536), (512, 49152, 576)]
    for (tA, tB) in [(false, true), (false, false), (true, false)] {
        for (m, n, k) in shapes {
            if n == 49152 && tA { continue }
            let a = randomBuffer(m * k), b = randomBuffer(n * k), c = randomBuffer(m * n)
            let lda = tA ? m : k, ldb = tB ? k : n
            sgemm(transA: tA, transB: tB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: n)
            var best = Double.infinity
            let reps = n > 10000 ? 3 : 10
            for _ in 0..<reps {
                let t0 = now()
                sgemm(transA: tA, transB: tB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: n)
                best = min(best, now() - t0)
            }
            let gf = 2.0 * Double(m * n * k) / best / 1e9
            print("sgemm tA=\(tA ? 1 : 0) tB=\(tB ? 1 : 0) m=\(m) n=\(n) k=\(k): \(String(format: "%.1f", gf)) GFLOP/s (\(String(format: "%.2f", best * 1e3)) ms)")
            a.deallocate(); b.deallocate(); c.deallocate()
        }
    }
}

/// Random but valid blocks: fp16 scales in a sane range, random quantized bytes.
func randomQuantized(_ type: GGMLType, rows: Int, k: Int, seed: UInt64) -> UnsafeMutableRawPointer {
    let stride = type.byteCount(elements: k)!
    let total = rows * stride
    let p = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 64)
    var s = seed
    let bytes = p.assumingMemoryBound(to: UInt8.self)
    for i in 0..<total {
        s = s &* 6364136223846793005 &+ 1442695040888963407
        bytes[i] = UInt8(truncatingIfNeeded: s >> 33)
    }
    func setHalf(_ off: Int, _ v: Float) { p.storeBytes(of: Float16(v).bitPattern, toByteOffset: off, as: UInt16.self) }
    let blocks = total / type.bytesPerBlock
    for b in 0..<blocks {
        let o = b * type.bytesPerBlock
        switch type {
        case .q4_0, .q5_0, .q8_0: setHalf(o, 0.01)
        case .q4_1, .q5_1: setHalf(o, 0.01); setHalf(o + 2, -0.05)
        case .q4_K, .q5_K: setHalf(o, 0.001); setHalf(o + 2, 0.002)
        case .q6_K: setHalf(o + 208, 0.0005)
        case .f16:
            for e in 0..<(type.bytesPerBlock / 2) { setHalf(o + 2 * e, Float(e % 7) * 0.01) }
        case .bf16:
            p.storeBytes(of: UInt16(0x3C00 + (b % 64)), toByteOffset: o, as: UInt16.self)
        default: break
        }
    }
    if type == .f32 {
        let f = p.assumingMemoryBound(to: Float.self)
        for i in 0..<(total / 4) { f[i] = Float(i % 13) * 0.01 - 0.06 }
    }
    return p
}

if which == "all" || which == "matvec" {
    // SmolLM2-135M decode: 30 layers of q, k, v, o (576 rows × 576 / 192 rows × 576), gate, up (1536×576),
    // down (576×1536) in Q4_1, and the 49152×576 Q8_0 output head.
    let layerShapes = [(576, 576), (192, 576), (192, 576), (576, 576), (1536, 576), (1536, 576), (576, 1536)]
    for m in [1, 16] {
        var mats: [(GGMLType, UnsafeMutableRawPointer, Int, Int)] = []
        var seed: UInt64 = 1
        // HYPERLAB_BENCH_SAME_LAYER=1 reuses one layer's weights 30 times (cache-resident: shows the compute cost).
        let same = getenv("HYPERLAB_BENCH_SAME_LAYER") != nil
        var first: [(GGMLType, UnsafeMutableRawPointer, Int, Int)] = []
        for layer in 0..<30 {
            if same && layer > 0 { mats += first; continue }
            for (n, k) in layerShapes { mats.append((.q4_1, randomQuantized(.q4_1, rows: n, k: k, seed: seed), n, k)); seed += 1 }
            if layer == 0 { first = mats }
        }
        mats.append((.q8_0, randomQuantized(.q8_0, rows: 49152, k: 576, seed: 99), 49152, 576))
        let x = randomBuffer(m * 1536), y = UnsafeMutablePointer<Float>.allocate(capacity: m * 49152)
        var best = Double.infinity, bestHead = Double.infinity
        for _ in 0..<8 {
            let t0 = now()
            for (i, (t, w, n, k)) in mats.enumerated() {
                if i == mats.count - 1 { let th = now(); quantizedMatMul(type: t, weights: w, n: n, k: k, x: x, m: m, y: y); bestHead = min(bestHead, now() - th) }
                else { quantizedMatMul(type: t, weights: w, n: n, k: k, x: x, m: m, y: y) }
            }
            best = min(best, now() - t0)
        }
        print("SmolLM2 matvecs per step, m=\(m): \(String(format: "%.2f", best * 1e3)) ms (head \(String(format: "%.2f", bestHead * 1e3)) ms), \(String(format: "%.2f", best * 1e3 / Double(m))) ms/token")
    }
}

if which == "all" || which == "types" {
    // Per-type matvec throughput on a 2048×640 matrix (Gemma-3-270M-like), m = 1 and m = 16.
    for t in [GGMLType.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K] {
        let n = 2048, k = 1024
        let w = randomQuantized(t, rows: n, k: k, seed: 5)
        let deq = UnsafeMutablePointer<Float>.allocate(capacity: 64 * k)
        var bestD = Double.infinity
        for _ in 0..<20 {
            let t0 = now()
            for r in stride(from: 0, to: n, by: 64) { dequantizeRows(type: t, weights: w, k: k, rowStart: r, rowCount: 64, into: deq, pool: ThreadPool(threads: 1)) }
            bestD = min(bestD, now() - t0)
        }
        print("dequantizeRows \(t) \(n)x\(k) (serial, L2-resident output): \(String(format: "%.1f", bestD * 1e6)) µs, \(String(format: "%.2f", Double(n * k) / bestD / 1e9)) G elements/s")
        for m in [1, 16] {
            let x = randomBuffer(m * k), y = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
            var best = Double.infinity
            for _ in 0..<20 {
                let t0 = now()
                quantizedMatMul(type: t, weights: w, n: n, k: k, x: x, m: m, y: y)
                best = min(best, now() - t0)
            }
            print("quantizedMatMul \(t) n=\(n) k=\(k) m=\(m): \(String(format: "%.1f", best * 1e6)) µs, \(String(format: "%.1f", 2.0 * Double(n * k * m) / best / 1e9)) GFLOP/s")
        }
    }
}

if which == "gemmsmall" {
    for m in [6, 12, 16, 18, 64] {
        let n = 2048, k = 1024
        let a = randomBuffer(m * k), b = randomBuffer(n * k), c = randomBuffer(m * n)
        var best = Double.infinity
        for _ in 0..<10 {
            let t0 = now()
            sgemm(transA: false, transB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: c, ldc: n)
            best = min(best, now() - t0)
        }
        print("sgemm m=\(m) n=\(n) k=\(k): \(String(format: "%.1f", 2.0 * Double(m * n * k) / best / 1e9)) GFLOP/s")
    }
}

if which == "mscan" {
    // Per-token cost of SmolLM2's decode matvecs vs m (1 layer ×30 reused unless HYPERLAB_BENCH_FRESH).
    let layerShapes = [(576, 576), (192, 576), (192, 576), (576, 576), (1536, 576), (1536, 576), (576, 1536)]
    var layer: [(GGMLType, UnsafeMutableRawPointer, Int, Int)] = []
    var seed: UInt64 = 1
    for (n, k) in layerShapes { layer.append((.q4_1, randomQuantized(.q4_1, rows: n, k: k, seed: seed), n, k)); seed += 1 }
    let head = randomQuantized(.q8_0, rows: 49152, k: 576, seed: 99)
    let ms = args.count > 2 ? args[2].split(separator: ",").map { Int($0)! } : [1, 2, 4, 8, 16, 32]
    for m in ms {
        let x = randomBuffer(m * 1536), y = UnsafeMutablePointer<Float>.allocate(capacity: m * 49152)
        var best = Double.infinity, bestHead = Double.infinity
        for _ in 0..<5 {
            let t0 = now()
            for _ in 0..<30 { for (t, w, n, k) in layer { quantizedMatMul(type: t, weights: w, n: n, k: k, x: x, m: m, y: y) } }
            best = min(best, now() - t0)
            let th = now()
            quantizedMatMul(type: .q8_0, weights: head, n: 49152, k: 576, x: x, m: m, y: y)
            bestHead = min(bestHead, now() - th)
        }
        print("m=\(m): layers \(String(format: "%.2f", best * 1e3)) ms (\(String(format: "%.3f", best * 1e3 / Double(m))) ms/tok), head \(String(format: "%.2f", bestHead * 1e3)) ms (\(String(format: "%.3f", bestHead * 1e3 / Double(m))) ms/tok)")
    }
}

if which == "train" || which == "gemmall" {
    // Training-shaped products: C = A·Bᵀ (forward), A·B (input gradient), Aᵀ·B (weight gradient).
    let shapes = args.count > 2 && args[2] == "small"
        ? [(1024, 576, 576), (1024, 1536, 576), (1024, 576, 1536)]
        : [(1024, 576, 576), (1024, 1536, 576), (1024, 576, 1536), (1024, 49152, 576), (1024, 576, 49152), (49152, 576, 1024)]
    for (m, n, k) in shapes {
        for (tA, tB) in [(false, true), (false, false), (true, false)] {
            let a = randomBuffer(m * k), b = randomBuffer(n * k), c = randomBuffer(m * n)
            let lda = tA ? m : k, ldb = tB ? k : n
            sgemm(transA: tA, transB: tB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: n)
            var times: [Double] = []
            let reps = m * n * k > 1 << 31 ? 3 : 7
            for _ in 0..<reps {
                let t0 = now()
                sgemm(transA: tA, transB: tB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: n)
                times.append(now() - t0)
            }
            times.sort()
            let med = times[times.count / 2], best = times[0]
            print("sgemm tA=\(tA ? 1 : 0) tB=\(tB ? 1 : 0) m=\(m) n=\(n) k=\(k): best \(String(format: "%.1f", 2.0 * Double(m * n * k) / best / 1e9)) median \(String(format: "%.1f", 2.0 * Double(m * n * k) / med / 1e9)) GFLOP/s")
            a.deallocate(); b.deallocate(); c.deallocate()
        }
    }
}

if which == "attn" {
    // One decode step's attention for one (sequence, KV head) on SmolLM2 shapes: 3 query heads of 64
    // against `width` cached keys/values (rows of 192 floats), as per-key dot/axpy vs the attention kernels.
    let hd = 64, group = 3, kvDim = 192
    for width in [64, 530, 2048] {
        let q = randomBuffer(group * hd), keys = randomBuffer(width * kvDim), vals = randomBuffer(width * kvDim)
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: group * width)
        let out = UnsafeMutablePointer<Float>.allocate(capacity: group * hd)
        let reps = 2000
        var bestOld = Double.infinity, bestNew = Double.infinity
        for _ in 0..<5 {
            var t0 = now()
            for _ in 0..<reps {
                for j in 0..<width { for r in 0..<group { scores[r * width + j] = 0.125 * dot(q + r * hd, keys + j * kvDim + hd, count: hd) } }
                for r in 0..<group {
                    _ = softmax(scores + r * width, count: width)
                    let o = out + r * hd
                    o.update(repeating: 0, count: hd)
                    for j in 0..<width { axpy(scores[r * width + j], vals + j * kvDim + hd, o, count: hd) }
                }
            }
            bestOld = min(bestOld, now() - t0)
            t0 = now()
            for _ in 0..<reps {
                attentionScores(q: q, qStride: hd, rows: group, headDim: hd, keys: keys + hd, keyStride: kvDim, count: width,
                                scale: 0.125, into: scores, ldScores: width)
                for r in 0..<group { _ = softmax(scores + r * width, count: width) }
                attentionWeightedSum(weights: scores, ldWeights: width, rows: group, values: vals + hd, valueStride: kvDim,
                                     count: width, valueDim: hd, into: out, outStride: hd, accumulate: false)
            }
            bestNew = min(bestNew, now() - t0)
        }
        print("attention decode, 3 heads × 64, width \(width): per-key dot/axpy \(String(format: "%.2f", bestOld / Double(reps) * 1e6)) µs, kernels \(String(format: "%.2f", bestNew / Double(reps) * 1e6)) µs (\(String(format: "%.2f", bestOld / bestNew))×)")
    }
}

if which == "attnparts" {
    let hd = 64, group = 3, kvDim = 192, width = 530
    let q = randomBuffer(group * hd), keys = randomBuffer(width * kvDim), vals = randomBuffer(width * kvDim)
    let scores = UnsafeMutablePointer<Float>.allocate(capacity: group * width)
    let out = UnsafeMutablePointer<Float>.allocate(capacity: group * hd)
    let reps = 5000
    func time(_ f: () -> Void) -> Double { var b = Double.infinity; for _ in 0..<5 { let t0 = now(); for _ in 0..<reps { f() }; b = min(b, now() - t0) }; return b / Double(reps) * 1e6 }
    let a = time { attentionScores(q: q, qStride: hd, rows: group, headDim: hd, keys: keys + hd, keyStride: kvDim, count: width, scale: 0.125, into: scores, ldScores: width) }
    let b = time { for r in 0..<group { _ = softmax(scores + r * width, count: width) } }
    let c = time { attentionWeightedSum(weights: scores, ldWeights: width, rows: group, values: vals + hd, valueStride: kvDim, count: width, valueDim: hd, into: out, outStride: hd, accumulate: false) }
    print("scores \(a) µs, softmax \(b) µs, weighted sum \(c) µs")
}

if which == "group" {
    // A SmolLM2 16-stream step's layer matmuls, one call per matrix vs grouped (q, k, v and gate, up sharing
    // one quantization of x), interleaved so that both see the same machine.
    let m = args.count > 2 ? Int(args[2])! : 16
    var layers: [[UnsafeMutableRawPointer]] = []
    var seed: UInt64 = 1
    let shapes = [(576, 576), (192, 576), (192, 576), (576, 576), (1536, 576), (1536, 576), (576, 1536)]
    for _ in 0..<30 { layers.append(shapes.map { (n, k) in defer { seed += 1 }; return randomQuantized(.q4_1, rows: n, k: k, seed: seed) }) }
    let x = randomBuffer(m * 1536)
    let ys = (0..<7).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: m * 1536) }
    var bestA = Double.infinity, bestB = Double.infinity, sumA = 0.0, sumB = 0.0
    let reps = 30
    for _ in 0..<reps {
        var t0 = now()
        for l in layers { for (i, (n, k)) in shapes.enumerated() { quantizedMatMul(type: .q4_1, weights: l[i], n: n, k: k, x: x, m: m, y: ys[i]) } }
        let a = now() - t0; bestA = min(bestA, a); sumA += a
        t0 = now()
        for l in layers {
            quantizedMatMulGroup((0..<3).map { MatMulPart(type: .q4_1, weights: l[$0], n: shapes[$0].0, y: ys[$0]) }, k: 576, x: x, m: m)
            quantizedMatMul(type: .q4_1, weights: l[3], n: 576, k: 576, x: x, m: m, y: ys[3])
            quantizedMatMulGroup((4..<6).map { MatMulPart(type: .q4_1, weights: l[$0], n: shapes[$0].0, y: ys[$0]) }, k: 576, x: x, m: m)
            quantizedMatMul(type: .q4_1, weights: l[6], n: 576, k: 1536, x: x, m: m, y: ys[6])
        }
        let b = now() - t0; bestB = min(bestB, b); sumB += b
    }
    print("m=\(m) layers: separate best \(String(format: "%.2f", bestA * 1e3)) ms mean \(String(format: "%.2f", sumA / Double(reps) * 1e3)); grouped best \(String(format: "%.2f", bestB * 1e3)) ms mean \(String(format: "%.2f", sumB / Double(reps) * 1e3))")
}

if which == "int8" {
    // A SmolLM2 16-stream step's layer matmuls (grouped as in Model.forward) with 16-bit vs 8-bit activations,
    // interleaved so that both see the same machine; and how far the 8-bit products are from the 16-bit ones.
    let m = args.count > 2 ? Int(args[2])! : 16
    var layers: [[UnsafeMutableRawPointer]] = []
    var seed: UInt64 = 1
    let shapes = [(576, 576), (192, 576), (192, 576), (576, 576), (1536, 576), (1536, 576), (576, 1536)]
    for l in 0..<30 {
        // HYPERLAB_BENCH_SAME_LAYER=1: one layer's weights 30 times (cache-resident: the kernels' compute alone).
        if l > 0 && getenv("HYPERLAB_BENCH_SAME_LAYER") != nil { layers.append(layers[0]); continue }
        layers.append(shapes.map { (n, k) in defer { seed += 1 }; return randomQuantized(.q4_1, rows: n, k: k, seed: seed) })
    }
    let x = randomBuffer(m * 1536)
    let ys = (0..<7).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: m * 1536) }
    func step(_ a: ActivationPrecision) {
        for l in layers {
            quantizedMatMulGroup((0..<3).map { MatMulPart(type: .q4_1, weights: l[$0], n: shapes[$0].0, y: ys[$0]) }, k: 576, x: x, m: m, activations: a)
            quantizedMatMul(type: .q4_1, weights: l[3], n: 576, k: 576, x: x, m: m, y: ys[3], activations: a)
            quantizedMatMulGroup((4..<6).map { MatMulPart(type: .q4_1, weights: l[$0], n: shapes[$0].0, y: ys[$0]) }, k: 576, x: x, m: m, activations: a)
            quantizedMatMul(type: .q4_1, weights: l[6], n: 576, k: 1536, x: x, m: m, y: ys[6], activations: a)
        }
    }
    var bestA = Double.infinity, bestB = Double.infinity, sumA = 0.0, sumB = 0.0
    let reps = 30
    for _ in 0..<reps {
        var t0 = now(); step(.int16)
        let a = now() - t0; bestA = min(bestA, a); sumA += a
        t0 = now(); step(.int8)
        let b = now() - t0; bestB = min(bestB, b); sumB += b
    }
    // Error of the last layer's down projection (k = 1536), relative to the largest |y|.
    let l = layers[29], ref = UnsafeMutablePointer<Float>.allocate(capacity: m * 576)
    quantizedMatMul(type: .q4_1, weights: l[6], n: 576, k: 1536, x: x, m: m, y: ref)
    quantizedMatMul(type: .q4_1, weights: l[6], n: 576, k: 1536, x: x, m: m, y: ys[6], activations: .int8)
    var maxErr: Float = 0, maxY: Float = 0
    for i in 0..<(m * 576) { maxErr = max(maxErr, abs(ref[i] - ys[6][i])); maxY = max(maxY, abs(ref[i])) }
    print("m=\(m) layers: int16 best \(String(format: "%.2f", bestA * 1e3)) ms mean \(String(format: "%.2f", sumA / Double(reps) * 1e3)); int8 best \(String(format: "%.2f", bestB * 1e3)) ms mean \(String(format: "%.2f", sumB / Double(reps) * 1e3)); speed-up \(String(format: "%.2f", bestA / bestB))×; max |Δy| \(maxErr) of max |y| \(maxY)")
}

if which == "pf" {
    // Weight prefetch distance (rows ahead of the row being unpacked), interleaved in one process:
    // `pf layers8|layers16|head|decode [m] [d1,d2,...]`: a 16-stream step's layer matmuls (Q4_1, 8- or 16-bit
    // x), the Q8_0 49152×576 head, or a single-token step's matrix-vector products (head included).
    let what = args.count > 2 ? args[2] : "layers8"
    let m = args.count > 3 ? Int(args[3])! : 16
    let ds = args.count > 4 ? args[4].split(separator: ",").map { Int($0)! } : [0, 4, 8, 16]
    let shapes = [(576, 576), (192, 576), (192, 576), (576, 576), (1536, 576), (1536, 576), (576, 1536)]
    var seed: UInt64 = 1
    let layers = what == "head" ? [] : (0..<30).map { _ in shapes.map { (n, k) in defer { seed += 1 }; return randomQuantized(.q4_1, rows: n, k: k, seed: seed) } }
    let head = what == "head" || what == "decode" ? randomQuantized(.q8_0, rows: 49152, k: 576, seed: 5) : nil
    let x = randomBuffer(m * 1536)
    let ys = (0..<7).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: m * 49152) }
    let a: ActivationPrecision = what == "layers8" ? .int8 : .int16
    func step() {
        if let head { quantizedMatMul(type: .q8_0, weights: head, n: 49152, k: 576, x: x, m: m, y: ys[0]); if what == "head" { return } }
        if what == "decode" {
            // Generation: every matrix on its own at m = 1 (the fused per-layer kernels aside).
            for l in layers { for (i, (n, k)) in shapes.enumerated() { quantizedMatMul(type: .q4_1, weights: l[i], n: n, k: k, x: x, m: 1, y: ys[i]) } }
            return
        }
        for l in layers {
            quantizedMatMulGroup((0..<3).map { MatMulPart(type: .q4_1, weights: l[$0], n: shapes[$0].0, y: ys[$0]) }, k: 576, x: x, m: m, activations: a)
            quantizedMatMul(type: .q4_1, weights: l[3], n: 576, k: 576, x: x, m: m, y: ys[3], activations: a)
            quantizedMatMulGroup((4..<6).map { MatMulPart(type: .q4_1, weights: l[$0], n: shapes[$0].0, y: ys[$0]) }, k: 576, x: x, m: m, activations: a)
            quantizedMatMul(type: .q4_1, weights: l[6], n: 576, k: 1536, x: x, m: m, y: ys[6], activations: a)
        }
    }
    let reps = m > 64 ? 8 : 40
    var all = [[Double]](repeating: [], count: ds.count)
    for _ in 0..<reps {
        for (i, d) in ds.enumerated() {
            KernelTuning.prefetchRowsAhead = d
            let t0 = now(); step(); all[i].append(now() - t0)
        }
    }
    for (i, d) in ds.enumerated() {
        let v = all[i].sorted()
        print("\(what) m=\(m) ahead \(d): best \(String(format: "%.2f", v[0] * 1e3)) ms median \(String(format: "%.2f", v[v.count / 2] * 1e3))")
    }
}

if which == "packedattn" {
    // One 16-stream decode step's shared-prompt attention as the engine runs it (SharedPrefixGroup.attend):
    // keys and values of a 512-position prompt packed once per layer and KV head (packBPanels), 6 units per
    // layer (3 KV heads × 2 slices of 8 streams × 3 query heads). Between steps a 96 MB buffer is touched (not
    // timed; NOFLUSH=1 skips it), as a step's weights evict the caches. `packedattn [width]`.
    let hd = 64, group = 3, kvDim = 192, kvHeads = 3, layers = 30
    let width = args.count > 2 ? Int(args[2])! : 512
    let pk = (0..<layers).map { _ -> UnsafeMutablePointer<Float> in
        let k = randomBuffer(width * kvDim), p = UnsafeMutablePointer<Float>.allocate(capacity: kvHeads * packedBCount(k: hd, n: width))
        for h in 0..<kvHeads { packBPanels(transB: true, b: k + h * hd, ldb: kvDim, k: hd, n: width, into: p + h * packedBCount(k: hd, n: width)) }
        return p
    }
    let pv = (0..<layers).map { _ -> UnsafeMutablePointer<Float> in
        let v = randomBuffer(width * kvDim), p = UnsafeMutablePointer<Float>.allocate(capacity: kvHeads * packedBCount(k: width, n: hd))
        for h in 0..<kvHeads { packBPanels(transB: false, b: v + h * hd, ldb: kvDim, k: width, n: hd, into: p + h * packedBCount(k: width, n: hd)) }
        return p
    }
    let q = randomBuffer(16 * group * hd)
    let flush = randomBuffer(24 << 20)
    var times: [Double] = []
    for _ in 0..<20 {
        do {
            var s: Float = 0
            if getenv("NOFLUSH") == nil { for j in stride(from: 0, to: 24 << 20, by: 16) { s += flush[j] } }
            if s == 12345 { print(s) }
            let t0 = now()
            for l in 0..<layers {
                pool.parallelFor(kvHeads * 2) { u in
                    let h = u / 2, rows = 8 * group
                    let scores = UnsafeMutablePointer<Float>.allocate(capacity: rows * width)
                    let o = UnsafeMutablePointer<Float>.allocate(capacity: rows * hd)
                    defer { scores.deallocate(); o.deallocate() }
                    sgemmPackedB(m: rows, n: width, k: hd, alpha: 0.125, a: q + (u % 2) * rows * hd, lda: hd,
                                 packedB: pk[l] + h * packedBCount(k: hd, n: width), c: scores, ldc: width)
                    for r in 0..<rows { _ = softmax(scores + r * width, count: width) }
                    sgemmPackedB(m: rows, n: hd, k: width, a: scores, lda: width, packedB: pv[l] + h * packedBCount(k: width, n: hd),
                                 c: o, ldc: hd)
                }
            }
            times.append(now() - t0)
        }
    }
    let flops = 2.0 * 2.0 * Double(16 * group * width * hd * kvHeads * layers)
    do {
        let v = times.sorted()
        print("packed shared attention, width \(width): best \(String(format: "%.2f", v[0] * 1e3)) ms median \(String(format: "%.2f", v[v.count / 2] * 1e3)) (\(String(format: "%.0f", flops / v[v.count / 2] / 1e9)) GFLOP/s)")
    }
}

if which == "head" {
    // The 49152×576 output head at m rows (default 16; `head 512` is full-logit scoring's): Q8_0 (SmolLM2's) vs
    // the same shape in Q4_1, each precision.
    let m = args.count > 2 ? Int(args[2]) ?? 16 : 16, n = 49152, k = 576
    let w8 = randomQuantized(.q8_0, rows: n, k: k, seed: 5), w4 = randomQuantized(.q4_1, rows: n, k: k, seed: 6)
    let x = randomBuffer(m * k), y = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
    var best = [Double](repeating: .infinity, count: 3)
    for _ in 0..<15 {
        var t0 = now(); quantizedMatMul(type: .q8_0, weights: w8, n: n, k: k, x: x, m: m, y: y); best[0] = min(best[0], now() - t0)
        t0 = now(); quantizedMatMul(type: .q4_1, weights: w4, n: n, k: k, x: x, m: m, y: y); best[1] = min(best[1], now() - t0)
        t0 = now(); quantizedMatMul(type: .q4_1, weights: w4, n: n, k: k, x: x, m: m, y: y, activations: .int8); best[2] = min(best[2], now() - t0)
    }
    let macs = Double(m * n * k)
    for (name, t) in zip(["Q8_0 int16", "Q4_1 int16", "Q4_1 int8"], best) {
        print("head \(name): \(String(format: "%.2f", t * 1e3)) ms, \(String(format: "%.0f", macs / t / 1e9)) GMAC/s")
    }
}

if which == "peak" {
    // Register-only throughput of the integer multiply-adds on this core (1 thread): 12 independent chains of
    // vpmaddubsw + vpaddw, and of vpmaddwd + vpaddd, no memory traffic.
    let iters = 20_000_000
    var a = (0..<12).map { _ in SIMD16<Int16>() }
    let u = SIMD32<UInt8>(repeating: 3)
    let sv = (0..<12).map { SIMD32<Int8>(repeating: Int8($0) - 6) }
    let s0 = sv[0], s1 = sv[1], s2 = sv[2], s3 = sv[3], s4 = sv[4], s5 = sv[5], s6 = sv[6], s7 = sv[7], s8 = sv[8], s9 = sv[9], s10 = sv[10], s11 = sv[11]
    var t0 = now()
    var a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4], a5 = a[5], a6 = a[6], a7 = a[7], a8 = a[8], a9 = a[9], a10 = a[10], a11 = a[11]
    var uu = u
    for _ in 0..<iters {
        a0 &+= multiplyAddPairs8(uu, s0); a1 &+= multiplyAddPairs8(uu, s1); a2 &+= multiplyAddPairs8(uu, s2); a3 &+= multiplyAddPairs8(uu, s3)
        a4 &+= multiplyAddPairs8(uu, s4); a5 &+= multiplyAddPairs8(uu, s5); a6 &+= multiplyAddPairs8(uu, s6); a7 &+= multiplyAddPairs8(uu, s7)
        a8 &+= multiplyAddPairs8(uu, s8); a9 &+= multiplyAddPairs8(uu, s9); a10 &+= multiplyAddPairs8(uu, s10); a11 &+= multiplyAddPairs8(uu, s11)
        uu = unsafeBitCast(unsafeBitCast(uu, to: SIMD8<UInt32>.self) &+ 1, to: SIMD32<UInt8>.self)
    }
    var dt = now() - t0
    a = [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11]
    print("vpmaddubsw+vpaddw: \(String(format: "%.2f", Double(iters * 12) / dt / 1e9)) G instr pairs/s = \(String(format: "%.1f", Double(iters * 12 * 32) / dt / 1e9)) GMAC/s (checksum \(a.map { Int($0[0]) }.reduce(0, +)))")
    t0 = now()
    var b = (0..<12).map { _ in SIMD8<Int32>() }
    var b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3], b4 = b[4], b5 = b[5], b6 = b[6], b7 = b[7], b8 = b[8], b9 = b[9], b10 = b[10], b11 = b[11]
    var p = SIMD16<Int16>(repeating: 3)
    let qv = (0..<12).map { SIMD16<Int16>(repeating: Int16($0) - 6) }
    let q0 = qv[0], q1 = qv[1], q2 = qv[2], q3 = qv[3], q4 = qv[4], q5 = qv[5], q6 = qv[6], q7 = qv[7], q8 = qv[8], q9 = qv[9], q10 = qv[10], q11 = qv[11]
    for _ in 0..<iters {
        b0 &+= multiplyAddPairs16(p, q0); b1 &+= multiplyAddPairs16(p, q1); b2 &+= multiplyAddPairs16(p, q2); b3 &+= multiplyAddPairs16(p, q3)
        b4 &+= multiplyAddPairs16(p, q4); b5 &+= multiplyAddPairs16(p, q5); b6 &+= multiplyAddPairs16(p, q6); b7 &+= multiplyAddPairs16(p, q7)
        b8 &+= multiplyAddPairs16(p, q8); b9 &+= multiplyAddPairs16(p, q9); b10 &+= multiplyAddPairs16(p, q10); b11 &+= multiplyAddPairs16(p, q11)
        p = p &+ 1
    }
    dt = now() - t0
    b = [b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11]
    print("vpmaddwd+vpaddd: \(String(format: "%.2f", Double(iters * 12) / dt / 1e9)) G instr pairs/s = \(String(format: "%.1f", Double(iters * 12 * 16) / dt / 1e9)) GMAC/s (checksum \(b.map { Int($0[0]) }.reduce(0, +)))")
}

if which == "peak" {
    // The same for fp32 FMA (vfmadd231ps): 12 independent chains.
    let iters = 20_000_000
    let mv = (0..<12).map { SIMD8<Float>(repeating: 1 + Float($0) * 1e-7) }
    let m0 = mv[0], m1 = mv[1], m2 = mv[2], m3 = mv[3], m4 = mv[4], m5 = mv[5], m6 = mv[6], m7 = mv[7], m8 = mv[8], m9 = mv[9], m10 = mv[10], m11 = mv[11]
    var c0 = SIMD8<Float>(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0
    var xv = SIMD8<Float>(repeating: 1e-9)
    let t0 = now()
    for _ in 0..<iters {
        c0 = c0.addingProduct(xv, m0); c1 = c1.addingProduct(xv, m1); c2 = c2.addingProduct(xv, m2); c3 = c3.addingProduct(xv, m3)
        c4 = c4.addingProduct(xv, m4); c5 = c5.addingProduct(xv, m5); c6 = c6.addingProduct(xv, m6); c7 = c7.addingProduct(xv, m7)
        c8 = c8.addingProduct(xv, m8); c9 = c9.addingProduct(xv, m9); c10 = c10.addingProduct(xv, m10); c11 = c11.addingProduct(xv, m11)
        xv = xv * 1.0000001
    }
    let dt = now() - t0
    let check = [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11].map { $0[0] }.reduce(0, +)
    print("vfmadd: \(String(format: "%.2f", Double(iters * 12) / dt / 1e9)) G instr/s = \(String(format: "%.1f", Double(iters * 12 * 8) / dt / 1e9)) GMAC/s (checksum \(check))")
}

if which == "prefill" {
    // SmolLM2's layer matmuls for a prompt of m rows: fp32 sgemm on dequantized weights (the prompt path) vs the
    // 16-bit integer panels straight from Q4_1, interleaved.
    let m = args.count > 2 ? Int(args[2])! : 512
    let shapes = [(576, 576), (192, 576), (192, 576), (576, 576), (1536, 576), (1536, 576), (576, 1536)]
    let layers = 4
    var qw: [[UnsafeMutableRawPointer]] = [], fw: [[UnsafeMutablePointer<Float>]] = []
    var seed: UInt64 = 1
    for _ in 0..<layers {
        let q = shapes.map { (n, k) in defer { seed += 1 }; return randomQuantized(.q4_1, rows: n, k: k, seed: seed) }
        qw.append(q)
        fw.append(zip(q, shapes).map { (w, s) in
            let d = UnsafeMutablePointer<Float>.allocate(capacity: s.0 * s.1)
            dequantizeRows(type: .q4_1, weights: w, k: s.1, rowStart: 0, rowCount: s.0, into: d)
            return d
        })
    }
    let x = randomBuffer(m * 1536), y = UnsafeMutablePointer<Float>.allocate(capacity: m * 1536)
    let macs = Double(layers * m * shapes.reduce(0) { $0 + $1.0 * $1.1 })
    var bestA = Double.infinity, bestB = Double.infinity
    for _ in 0..<5 {
        var t0 = now()
        for l in 0..<layers { for (i, (n, k)) in shapes.enumerated() { sgemm(transA: false, transB: true, m: m, n: n, k: k, a: x, lda: k, b: fw[l][i], ldb: k, c: y, ldc: n) } }
        bestA = min(bestA, now() - t0)
        t0 = now()
        for l in 0..<layers { for (i, (n, k)) in shapes.enumerated() { quantizedMatMul(type: .q4_1, weights: qw[l][i], n: n, k: k, x: x, m: m, y: y) } }
        bestB = min(bestB, now() - t0)
    }
    print("m=\(m), \(layers) layers: sgemm \(String(format: "%.1f", bestA * 1e3)) ms (\(String(format: "%.0f", macs / bestA / 1e9)) GMAC/s); int16 panels \(String(format: "%.1f", bestB * 1e3)) ms (\(String(format: "%.0f", macs / bestB / 1e9)) GMAC/s); \(String(format: "%.2f", bestA / bestB))×")
}
