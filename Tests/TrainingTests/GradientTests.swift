import Foundation
import XCTest
import Kernels
import Transformer
import Training

/// Finite-difference checks in double precision of the shipped backward code (the same generic code
/// that runs in Float for training), op by op and for whole tiny models.
final class GradientTests: XCTestCase {

    /// Central differences of lossSum·scale against the analytic gradient, for every trainable element.
    func checkModel(_ net: TrainNetwork<Double>, _ batch: TrainBatch, dropout: Bool, label: String) throws {
        let scale = 0.37
        net.zeroGradients()
        let res = try net.forwardBackward(batch, gradScale: scale)
        XCTAssertEqual(res.tokenCount, batch.lossTokenCount, label)
        let g = Array(UnsafeBufferPointer(start: net.gradients, count: net.parameterCount))
        let h = 1e-5
        var worst = 0.0, worstName = ""
        for t in net.tensors {
            var norm = 0.0
            for i in t.offset..<(t.offset + t.count) {
                let old = net.parameters[i]
                net.parameters[i] = old + h
                let lp = try net.loss(batch, dropout: dropout).lossSum
                net.parameters[i] = old - h
                let lm = try net.loss(batch, dropout: dropout).lossSum
                net.parameters[i] = old
                let fd = scale * (lp - lm) / (2 * h)
                let err = abs(fd - g[i]) / (1e-6 + abs(fd) + abs(g[i]))
                if abs(fd - g[i]) > 1e-7 && err > worst { worst = err; worstName = "\(t.name)[\(i - t.offset)] fd \(fd) analytic \(g[i])" }
                norm += abs(g[i])
            }
            XCTAssertGreaterThan(norm, 0, "\(label): gradient of \(t.name) is identically zero")
        }
        XCTAssertLessThan(worst, 1e-5, "\(label): worst relative error at \(worstName)")
    }

    /// The Float network's gradients agree with the Double network's on the same values.
    func checkFloatAgrees(_ model: TrainModel, _ dbl: TrainNetwork<Double>, _ batch: TrainBatch, label: String) throws {
        model.zeroGradients(); dbl.zeroGradients()
        let lf = try model.forwardBackward(batch, gradScale: 1)
        let ld = try dbl.forwardBackward(batch, gradScale: 1)
        XCTAssertEqual(lf.lossSum, ld.lossSum, accuracy: 1e-4 * max(1, abs(ld.lossSum)), label)
        var maxG = 0.0
        for i in 0..<dbl.parameterCount { maxG = max(maxG, abs(dbl.gradients[i])) }
        for i in 0..<dbl.parameterCount {
            XCTAssertEqual(Double(model.gradients[i]), dbl.gradients[i], accuracy: 2e-4 * maxG, "\(label) element \(i)")
        }
    }

    func wholeModel(_ config: ModelConfig, mode: TrainMode = .full, tied: Bool, dropout: Bool = false,
                    freezeEmbeddings: Bool = false, length: Int = 5, label: String) throws {
        let model = try TrainModel(config: config, mode: mode, freezeEmbeddings: freezeEmbeddings, tiedOutput: tied, seed: 3,
                                   pool: ThreadPool(threads: 1))
        try Tiny.perturb(model.network, seed: 11)
        let dbl = try model.doublePrecisionCopy()
        let batch = Tiny.batch(config, rows: 2, length: length, seed: 5)
        try checkModel(dbl, batch, dropout: dropout, label: label)
        try checkFloatAgrees(model, dbl, batch, label: label)
    }

    func testLlamaWholeModelGradients() throws {
        try wholeModel(Tiny.llama(), tied: false, label: "llama untied")
    }

    func testQwen2WithBiasesTiedGradients() throws {
        try wholeModel(Tiny.qwen2(), tied: true, label: "qwen2 tied")
    }

    func testGemma3SlidingWindowGradients() throws {
        // Window 3 on layer 0, sequences of 6: the mask matters; query blocks of 4 rows.
        TrainOps.attentionBlock = 4
        defer { TrainOps.attentionBlock = 64 }
        try wholeModel(Tiny.gemma3(window: 3), tied: true, length: 6, label: "gemma3")
    }

    func testLoRAGradientsWithDropout() throws {
        let lc = LoRAConfig(rank: 2, alpha: 3, dropout: 0.25, targets: LoRAConfig.allLinear)
        try wholeModel(Tiny.llama(), mode: .lora(lc), tied: true, dropout: true, label: "llama lora+dropout")
        let lg = LoRAConfig(rank: 3, alpha: 4, dropout: 0, targets: ["attn_q", "attn_v", "ffn_down"])
        try wholeModel(Tiny.gemma3(window: 2), mode: .lora(lg), tied: true, length: 5, label: "gemma3 lora subset")
    }

    func testFrozenEmbeddingsGradients() throws {
        try wholeModel(Tiny.qwen2(), tied: false, freezeEmbeddings: true, label: "qwen2 frozen embeddings")
    }

    // MARK: Single ops

    /// f = Σ w ⊙ op(x): checks the op's backward against central differences for every input element.
    func fdCheck(_ inputs: [UnsafeMutablePointer<Double>], counts: [Int], grads: [[Double]],
                 f: () -> Double, label: String) {
        let h = 1e-6
        for (k, x) in inputs.enumerated() {
            for i in 0..<counts[k] {
                let old = x[i]
                x[i] = old + h; let fp = f()
                x[i] = old - h; let fm = f()
                x[i] = old
                let fd = (fp - fm) / (2 * h)
                XCTAssertEqual(grads[k][i], fd, accuracy: 1e-6 * max(1, abs(fd)), "\(label) input \(k) element \(i)")
            }
        }
    }

    func randomBuffer(_ n: Int, _ rng: inout TestRNG, scale: Double = 1) -> UnsafeMutablePointer<Double> {
        let p = UnsafeMutablePointer<Double>.allocate(capacity: n)
        for i in 0..<n { p[i] = scale * rng.sym() }
        return p
    }

    func testAttentionOpGradient() {
        let pool = ThreadPool(threads: 1)
        defer { TrainOps.attentionBlock = 64 }
        // Document starts: sequence 0 holds documents [0, 2) and [2, 5); sequence 1 continues a cut
        // document at 0 and starts one at 4.
        let docs: [Int32] = [0, 0, 2, 2, 2, 0, 0, 0, 0, 4]
        for (window, block, starts) in [(nil, 64, nil), (2, 64, nil), (nil, 2, nil), (2, 3, nil), (3, 1, nil),
                                        (nil, 64, docs), (nil, 2, docs), (3, 3, docs)] as [(Int?, Int, [Int32]?)] {
            TrainOps.attentionBlock = block
            let s = TrainOps.AttentionShape(batch: 2, length: 5, heads: 4, kvHeads: 2, headDim: 3, valueHeadDim: 2,
                                            scale: 0.7, window: window, documentStarts: starts)
            let T = 10
            var rng = TestRNG(9)
            let q = randomBuffer(T * 12, &rng), k = randomBuffer(T * 6, &rng), v = randomBuffer(T * 4, &rng)
            let w = randomBuffer(T * 8, &rng), out = randomBuffer(T * 8, &rng)
            let dq = randomBuffer(T * 12, &rng), dk = randomBuffer(T * 6, &rng), dv = randomBuffer(T * 4, &rng)
            defer { for p in [q, k, v, w, out, dq, dk, dv] { p.deallocate() } }
            func f() -> Double {
                TrainOps.attentionForward(q: q, k: k, v: v, out: out, shape: s, pool: pool)
                return (0..<(T * 8)).reduce(0) { $0 + w[$1] * out[$1] }
            }
            _ = f()
            TrainOps.attentionBackward(q: q, k: k, v: v, out: out, dOut: w, dq: dq, dk: dk, dv: dv, shape: s, pool: pool)
            fdCheck([q, k, v], counts: [T * 12, T * 6, T * 4],
                    grads: [Array(UnsafeBufferPointer(start: dq, count: T * 12)), Array(UnsafeBufferPointer(start: dk, count: T * 6)),
                            Array(UnsafeBufferPointer(start: dv, count: T * 4))], f: f,
                    label: "attention window \(String(describing: window)) block \(block) documents \(starts != nil)")
            // Causality: a later key/value never influences an earlier output.
            _ = f()
            let before = Array(UnsafeBufferPointer(start: out, count: 8))
            k[4 * 6] += 5; v[4 * 4] += 5
            _ = f()
            XCTAssertEqual(before, Array(UnsafeBufferPointer(start: out, count: 8)))
            guard starts != nil else { continue }
            // Documents: positions 2…4 of sequence 0 never see its first document (keys/values 0 and 1),
            // and sequence 1's position 4 never sees 0…3; the positions that may see them do.
            let seen = Array(UnsafeBufferPointer(start: out, count: T * 8))
            k[0] += 5; v[0] += 5; k[1 * 6 + 4] += 5; v[1 * 4 + 2] += 5
            k[8 * 6] += 5; v[8 * 4 + 1] += 5
            _ = f()
            let after = Array(UnsafeBufferPointer(start: out, count: T * 8))
            XCTAssertEqual(Array(seen[16..<40]), Array(after[16..<40]), "sequence 0's second document saw the first")
            XCTAssertEqual(Array(seen[72..<80]), Array(after[72..<80]), "sequence 1's second document saw the first")
            XCTAssertNotEqual(Array(seen[0..<16]), Array(after[0..<16]))
            XCTAssertNotEqual(Array(seen[64..<72]), Array(after[64..<72]))
        }
    }

    func testRMSNormOpGradient() {
        let pool = ThreadPool(threads: 1)
        var rng = TestRNG(4)
        let rows = 3, n = 5
        let x = randomBuffer(rows * n, &rng), wt = randomBuffer(n, &rng), up = randomBuffer(rows * n, &rng)
        let y = randomBuffer(rows * n, &rng), rstd = randomBuffer(rows, &rng), dx = randomBuffer(rows * n, &rng)
        let dw = UnsafeMutablePointer<Double>.allocate(capacity: n); dw.initialize(repeating: 0, count: n)
        defer { for p in [x, wt, up, y, rstd, dx, dw] { p.deallocate() } }
        func f() -> Double {
            TrainOps.rmsNormForward(x, wt, eps: 1e-5, rows: rows, n: n, y: y, rstd: rstd, pool: pool)
            return (0..<(rows * n)).reduce(0) { $0 + up[$1] * y[$1] }
        }
        _ = f()
        TrainOps.rmsNormBackward(x, wt, rstd: rstd, dy: up, rows: rows, n: n, dx: dx, accumulate: false, dw: dw, pool: pool)
        fdCheck([x, wt], counts: [rows * n, n], grads: [Array(UnsafeBufferPointer(start: dx, count: rows * n)),
                                                       Array(UnsafeBufferPointer(start: dw, count: n))], f: f, label: "rmsnorm")
    }

    func testRopeBackwardIsTransposedRotation() {
        let pool = ThreadPool(threads: 1)
        for style in [RopeStyle.interleaved, .halves] {
            var rng = TestRNG(8)
            let rows = 6, heads = 2, hd = 6, dims = 4, L = 3
            let tab: (cos: [Double], sin: [Double]) = TrainOps.ropeTable(length: L, dims: dims, base: 100, scale: 0.5)
            let x = randomBuffer(rows * heads * hd, &rng), up = randomBuffer(rows * heads * hd, &rng)
            let y = randomBuffer(rows * heads * hd, &rng)
            defer { for p in [x, up, y] { p.deallocate() } }
            let n = rows * heads * hd
            func f() -> Double {
                y.update(from: x, count: n)
                tab.cos.withUnsafeBufferPointer { c in tab.sin.withUnsafeBufferPointer { s in
                    TrainOps.rope(y, rows: rows, length: L, heads: heads, headDim: hd, dims: dims, style: style,
                                  cos: c.baseAddress!, sin: s.baseAddress!, inverse: false, pool: pool)
                } }
                return (0..<n).reduce(0) { $0 + up[$1] * y[$1] }
            }
            let g = UnsafeMutablePointer<Double>.allocate(capacity: n); defer { g.deallocate() }
            g.update(from: up, count: n)
            tab.cos.withUnsafeBufferPointer { c in tab.sin.withUnsafeBufferPointer { s in
                TrainOps.rope(g, rows: rows, length: L, heads: heads, headDim: hd, dims: dims, style: style,
                              cos: c.baseAddress!, sin: s.baseAddress!, inverse: true, pool: pool)
            } }
            fdCheck([x], counts: [n], grads: [Array(UnsafeBufferPointer(start: g, count: n))], f: f, label: "rope \(style)")
            // Dimensions past `dims` and position 0 are untouched.
            _ = f()
            XCTAssertEqual(y[4], x[4]); XCTAssertEqual(y[5], x[5]); XCTAssertEqual(y[0], x[0])
        }
    }

    func testGatedActivationOpGradient() {
        let pool = ThreadPool(threads: 1)
        for act in [Activation.silu, .geluTanh] {
            var rng = TestRNG(6)
            let n = 20
            let gate = randomBuffer(n, &rng, scale: 3), upv = randomBuffer(n, &rng), w = randomBuffer(n, &rng)
            let out = randomBuffer(n, &rng), dg = randomBuffer(n, &rng), du = randomBuffer(n, &rng), a2 = randomBuffer(n, &rng)
            defer { for p in [gate, upv, w, out, dg, du, a2] { p.deallocate() } }
            func f() -> Double {
                TrainOps.gatedForward(gate, upv, count: n, activation: act, out: out, pool: pool)
                return (0..<n).reduce(0) { $0 + w[$1] * out[$1] }
            }
            _ = f()
            dg.update(from: gate, count: n); du.update(from: upv, count: n)
            TrainOps.gatedBackward(gate: dg, up: du, dOut: w, count: n, activation: act, act: a2, pool: pool)
            for i in 0..<n { XCTAssertEqual(a2[i], out[i], accuracy: 1e-12) }
            fdCheck([gate, upv], counts: [n, n], grads: [Array(UnsafeBufferPointer(start: dg, count: n)),
                                                         Array(UnsafeBufferPointer(start: du, count: n))], f: f, label: "\(act)")
        }
    }

    func testCrossEntropyOpGradient() {
        let pool = ThreadPool(threads: 1)
        var rng = TestRNG(2)
        let rows = 3, V = 7
        let x = randomBuffer(rows * V, &rng, scale: 4), work = randomBuffer(rows * V, &rng)
        defer { x.deallocate(); work.deallocate() }
        let targets: [Int32] = [2, 0, 6]
        func f() -> Double {
            work.update(from: x, count: rows * V)
            return targets.withUnsafeBufferPointer {
                TrainOps.crossEntropy(work, rows: rows, vocab: V, targets: $0.baseAddress!, gradScale: 1, backward: false, pool: pool)
            }
        }
        // Reference loss computed directly.
        var ref = 0.0
        for r in 0..<rows {
            let row = (0..<V).map { x[r * V + $0] }
            ref += log(row.map { exp($0) }.reduce(0, +)) - row[Int(targets[r])]
        }
        XCTAssertEqual(f(), ref, accuracy: 1e-12)
        work.update(from: x, count: rows * V)
        _ = targets.withUnsafeBufferPointer {
            TrainOps.crossEntropy(work, rows: rows, vocab: V, targets: $0.baseAddress!, gradScale: 1, backward: true, pool: pool)
        }
        fdCheck([x], counts: [rows * V], grads: [Array(UnsafeBufferPointer(start: work, count: rows * V))], f: f, label: "xent")
    }
}
