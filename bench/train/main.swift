// Training speed benchmark: Hyperlab's TrainModel on a real GGUF model (default SmolLM2-135M-Instruct),
// batch rows × length tokens, one JSON line per run.
//
// Usage: train-bench [--model PATH] [--mode full|full-adamw|lora|lora-adamw|sft|sft-adamw|gemm]
//                    [--rows 4] [--length 256] [--steps 3] [--rank 8]
//   full        forward + backward, every tensor trainable
//   full-adamw  the same plus an AdamW step (fused, local to this bench)
//   lora        LoRA rank 8 on every linear module, frozen base (lora-adamw adds the optimizer)
//   sft         chat-SFT shape: the first half of every row carries no loss (targets -1)
//   gemm        sgemm GFLOP/s on the training shapes (forward, dX, dW) of the model
// Threads: HYPERLAB_THREADS (ThreadPool.shared). Peak RSS is the process's VmHWM.
import Foundation
import Kernels
import Transformer
import Training
import Trainer
#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// User + system CPU seconds of this process (all threads).
func cpuSeconds() -> Double {
    var ru = rusage()
    getrusage(RUSAGE_SELF.rawValue, &ru)
    return Double(ru.ru_utime.tv_sec) + Double(ru.ru_utime.tv_usec) * 1e-6 +
        Double(ru.ru_stime.tv_sec) + Double(ru.ru_stime.tv_usec) * 1e-6
}

func peakRSSMiB() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = Double(line.split(separator: " ").dropFirst().first.map(String.init) ?? "0") ?? 0
        return kb / 1024
    }
    return 0
}

var opts: [String: String] = ["--model": "/root/.cache/hyperlab/models/SmolLM2-135M-Instruct.Q4_1.gguf",
                              "--mode": "full-adamw", "--rows": "4", "--length": "256", "--steps": "3", "--rank": "8"]
var argv = CommandLine.arguments.dropFirst()
while let k = argv.popFirst() {
    guard let v = argv.popFirst() else { FileHandle.standardError.write("missing value for \(k)\n".data(using: .utf8)!); exit(2) }
    opts[k] = v
}
let mode = opts["--mode"]!
let rows = Int(opts["--rows"]!)!, length = Int(opts["--length"]!)!, steps = Int(opts["--steps"]!)!
let rank = Int(opts["--rank"]!)!
let pool = ThreadPool.shared

/// AdamW fused in one pass over the flat buffers (decoupled weight decay on tensors marked `decay`).
final class FusedAdamW {
    let m, v: UnsafeMutablePointer<Float>
    let count: Int
    let decayMask: [Range<Int>]
    var t = 0
    init(count: Int, tensors: [ParameterTensor]) {
        self.count = count
        m = .allocate(capacity: count); v = .allocate(capacity: count)
        m.initialize(repeating: 0, count: count); v.initialize(repeating: 0, count: count)
        decayMask = tensors.filter(\.decay).map { $0.offset..<($0.offset + $0.count) }
    }
    func step(_ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, lr: Float, wd: Float = 0.1) {
        t += 1
        let b1: Float = 0.9, b2: Float = 0.999, eps: Float = 1e-8
        let c1 = 1 - pow(b1, Float(t)), c2 = 1 - pow(b2, Float(t))
        let chunk = 1 << 16
        let decay = decayMask
        pool.parallelFor((count + chunk - 1) / chunk) { ci in
            let lo = ci * chunk, hi = min(count, lo + chunk)
            let d = decay.contains { $0.contains(lo) } ? lr * wd : 0  // tensors are large; decide per chunk start
            for i in lo..<hi {
                let gi = g[i]
                let mi = b1 * m[i] + (1 - b1) * gi, vi = b2 * v[i] + (1 - b2) * gi * gi
                m[i] = mi; v[i] = vi
                p[i] -= lr * ((mi / c1) / ((vi / c2).squareRoot() + eps)) + d * p[i]
            }
        }
    }
}

let t0 = now()
let engine = try Model(path: opts["--model"]!, contextLimit: max(length, 256))
if mode == "gemm" {
    // GFLOP/s of the three product shapes of every linear layer at T = rows·length.
    let c = engine.config, T = rows * length
    func buf(_ n: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
        for i in 0..<n { p[i] = Float((i * 7919) % 2001) / 1000 - 1 }
        return p
    }
    var results: [String] = []
    for (name, n, k) in [("attn_q", c.qDim, c.dim), ("attn_k", c.kvDim, c.dim), ("ffn_up", c.ffnDim, c.dim),
                         ("ffn_down", c.dim, c.ffnDim), ("head", c.vocabularySize, c.dim)] {
        let x = buf(T * max(n, k)), w = buf(n * k), y = buf(T * max(n, k))
        let cases: [(String, Bool, Bool, Int, Int, Int)] = [("fwd", false, true, T, n, k), ("dX", false, false, T, k, n),
                                                           ("dW", true, false, n, k, T)]
        for (label, ta, tb, m, nn, kk) in cases {
            let lda = ta ? m : kk, ldb = tb ? kk : nn
            sgemm(transA: ta, transB: tb, m: m, n: nn, k: kk, a: x, lda: lda, b: w, ldb: ldb, c: y, ldc: nn, pool: pool)
            var best = Double.infinity
            for _ in 0..<3 {
                let s = now()
                sgemm(transA: ta, transB: tb, m: m, n: nn, k: kk, a: x, lda: lda, b: w, ldb: ldb, beta: 1, c: y, ldc: nn, pool: pool)
                best = min(best, now() - s)
            }
            let gf = 2 * Double(m * nn * kk) / best / 1e9
            results.append("\"\(name)_\(label)\": \(String(format: "%.1f", gf))")
            FileHandle.standardError.write("\(name) \(label) m=\(m) n=\(nn) k=\(kk) tA=\(ta) tB=\(tb): \(String(format: "%.1f", gf)) GFLOP/s\n".data(using: .utf8)!)
        }
        x.deallocate(); w.deallocate(); y.deallocate()
    }
    print("{\"mode\": \"gemm\", \"threads\": \(pool.threadCount), \"T\": \(T), \(results.joined(separator: ", "))}")
    exit(0)
}

let trainMode: TrainMode = mode.hasPrefix("lora")
    ? .lora(LoRAConfig(rank: rank, alpha: Float(2 * rank), dropout: 0, targets: LoRAConfig.allLinear)) : .full
let model = try TrainModel(model: engine, mode: trainMode, pool: pool)
let loadSeconds = now() - t0
// The optimizer step is the Trainer target's AdamW plus global-norm clipping, as `hyperlab train` runs it
// (HYPERLAB_BENCH_FUSED_ADAMW=1 selects the bench-local fused AdamW instead, for comparison).
let useFused = ProcessInfo.processInfo.environment["HYPERLAB_BENCH_FUSED_ADAMW"] == "1"
let adam = mode.hasSuffix("adamw") && useFused ? FusedAdamW(count: model.parameterCount, tensors: model.tensors) : nil
let trainerAdam = mode.hasSuffix("adamw") && !useFused
    ? AdamW(tensors: model.tensors, parameterCount: model.parameterCount, config: AdamWConfig(learningRate: 1e-5), pool: pool) : nil

var rng: UInt64 = 12345
func nextToken() -> Int32 {
    rng = rng &* 6364136223846793005 &+ 1442695040888963407
    return Int32((rng >> 33) % UInt64(model.config.vocabularySize))
}
func makeBatch(_ seed: UInt64) -> TrainBatch {
    let ids = (0..<(rows * length)).map { _ in nextToken() }
    var targets = Array(ids.dropFirst()) + [nextToken()]
    if mode.hasPrefix("sft") {
        for r in 0..<rows { for t in 0..<(length / 2) { targets[r * length + t] = -1 } }
    }
    return TrainBatch(rows: rows, length: length, inputs: ids, targets: targets, seed: seed)
}

var times: [Double] = [], cpuTimes: [Double] = []
var lastLoss = 0.0
for step in 0...steps {
    let batch = makeBatch(UInt64(step))
    let s = now(), cs = cpuSeconds()
    model.zeroGradients()
    let r = try model.forwardBackward(batch, gradScale: 1 / Float(max(1, batch.lossTokenCount)))
    adam?.step(model.parameters, model.gradients, lr: 1e-5)
    if let trainerAdam {
        _ = Gradients.clip(model.gradients, count: model.parameterCount, maxNorm: 1.0, pool: pool)
        trainerAdam.step(parameters: model.parameters, gradients: model.gradients, learningRate: 1e-5)
    }
    let dt = now() - s
    lastLoss = r.mean
    if step > 0 { times.append(dt); cpuTimes.append(cpuSeconds() - cs) }  // step 0 is warm-up (allocations, page faults)
    FileHandle.standardError.write("step \(step): \(String(format: "%.2f", dt)) s, loss \(String(format: "%.4f", r.mean))\n".data(using: .utf8)!)
}
if !model.network.profile.isEmpty {
    let total = model.network.profile.values.reduce(0, +)
    for (k, v) in model.network.profile.sorted(by: { $0.value > $1.value }) {
        FileHandle.standardError.write("  \(k): \(String(format: "%.2f", v)) s (\(String(format: "%.1f", 100 * v / total))%)\n".data(using: .utf8)!)
    }
}
let best = times.min() ?? 0, mean = times.reduce(0, +) / Double(max(1, times.count))
let tokens = Double(rows * length)
let meanCPU = cpuTimes.reduce(0, +) / Double(max(1, cpuTimes.count))
print("{\"engine\": \"hyperlab\", \"mode\": \"\(mode)\", \"rows\": \(rows), \"length\": \(length), \"threads\": \(pool.threadCount), " +
      "\"parameters\": \(model.parameterCount), \"tok_s\": \(String(format: "%.1f", tokens / mean)), " +
      "\"tok_s_best\": \(String(format: "%.1f", tokens / best)), \"tok_s_cpu\": \(String(format: "%.1f", tokens * Double(pool.threadCount) / meanCPU)), \"cpu_s\": \(String(format: "%.3f", meanCPU)), \"step_s\": \(String(format: "%.3f", mean)), " +
      "\"loss\": \(String(format: "%.4f", lastLoss)), \"load_s\": \(String(format: "%.1f", loadSeconds)), " +
      "\"peak_rss_mib\": \(String(format: "%.0f", peakRSSMiB())), \"optimizer\": \"\(trainerAdam != nil ? "Trainer AdamW + clipping" : adam == nil ? "none" : "fused-adamw (bench-local)")\"}")
