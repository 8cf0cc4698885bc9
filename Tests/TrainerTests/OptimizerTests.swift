import Foundation
import Kernels
import Training
import Trainer
import XCTest

final class OptimizerTests: XCTestCase {
    /// AdamW against a plain Double reference, over three tensors (decayed, not decayed, embedding).
    func testAdamWMatchesReference() {
        let n = 1000 + 37 + 203
        let tensors = [ParameterTensor(name: "blk.0.ffn_up.weight", shape: [1000], offset: 0, count: 1000, decay: true),
                       ParameterTensor(name: "blk.0.attn_norm.weight", shape: [37], offset: 1000, count: 37, decay: false),
                       ParameterTensor(name: "token_embd.weight", shape: [203], offset: 1037, count: 203, decay: true)]
        let cfg = AdamWConfig(learningRate: 0.01, beta1: 0.8, beta2: 0.9, epsilon: 1e-6, weightDecay: 0.5, decayEmbeddings: false)
        let opt = AdamW(tensors: tensors, parameterCount: n, config: cfg)
        var g = DataRNG(seed: 7)
        func r() -> Float { Float(Double(g.next() >> 11) / Double(1 << 53) * 2 - 1) }
        var p = (0..<n).map { _ in r() }
        var refP = p.map(Double.init), refM = [Double](repeating: 0, count: n), refV = refM
        for step in 1...5 {
            var grad = (0..<n).map { _ in r() }
            let lr = Float(0.01 * Double(step))
            p.withUnsafeMutableBufferPointer { pp in grad.withUnsafeMutableBufferPointer { gg in
                opt.step(parameters: pp.baseAddress!, gradients: gg.baseAddress!, learningRate: lr)
            } }
            for i in 0..<n {
                let gi = Double(grad[i])
                refM[i] = 0.8 * refM[i] + 0.2 * gi
                refV[i] = 0.9 * refV[i] + 0.1 * gi * gi
                let mh = refM[i] / (1 - pow(0.8, Double(step))), vh = refV[i] / (1 - pow(0.9, Double(step)))
                let decays = i < 1000   // the norm never decays; the embedding does not with decayEmbeddings false
                if decays { refP[i] -= Double(lr) * 0.5 * refP[i] }
                refP[i] -= Double(lr) * mh / (vh.squareRoot() + 1e-6)
            }
        }
        XCTAssertEqual(opt.stepCount, 5)
        for i in 0..<n { XCTAssertEqual(Double(p[i]), refP[i], accuracy: 1e-5, "element \(i)") }
        for i in stride(from: 0, to: n, by: 97) { XCTAssertEqual(Double(opt.m[i]), refM[i], accuracy: 1e-6) }
    }

    /// Embeddings decay when asked, and the result does not depend on the number of threads.
    func testDecayEmbeddingsAndThreadIndependence() {
        let n = 70_001
        let tensors = [ParameterTensor(name: "token_embd.weight", shape: [n], offset: 0, count: n, decay: false)]
        func run(threads: Int, decayEmb: Bool) -> [Float] {
            let pool = ThreadPool(threads: threads)
            let opt = AdamW(tensors: tensors, parameterCount: n, config: AdamWConfig(learningRate: 0.1, weightDecay: 0.5, decayEmbeddings: decayEmb), pool: pool)
            var p = (0..<n).map { Float($0 % 17) - 8 }
            var gr = [Float](repeating: 0, count: n)
            for s in 0..<3 {
                for i in 0..<n { gr[i] = Float((i * 31 + s * 7) % 13) - 6 }
                opt.step(parameters: &p, gradients: &gr, learningRate: 0.1)
            }
            return p
        }
        let a = run(threads: 1, decayEmb: true), b = run(threads: 2, decayEmb: true), c = run(threads: 3, decayEmb: true)
        XCTAssertEqual(a, b); XCTAssertEqual(a, c)
        let noDecay = run(threads: 2, decayEmb: false)
        XCTAssertLessThan(abs(a[16]), abs(noDecay[16]) - 0.5)   // element 16 starts at 8: decay shrinks it
        XCTAssertNotEqual(a, noDecay)
    }

    func testClipping() {
        var g: [Float] = (0..<50_000).map { Float(($0 % 7) - 3) * 0.01 }
        let expected = g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let t1 = Gradients.globalNorm(&g, count: g.count, pool: ThreadPool(threads: 1))
        let t2 = Gradients.globalNorm(&g, count: g.count, pool: ThreadPool(threads: 2))
        XCTAssertEqual(t1, expected, accuracy: expected * 1e-6)
        XCTAssertEqual(t1, t2)   // bit-identical across thread counts
        let before = Gradients.clip(&g, count: g.count, maxNorm: 1.0)
        XCTAssertEqual(before, expected, accuracy: 1e-6 * expected)
        XCTAssertGreaterThan(expected, 1)
        XCTAssertEqual(Gradients.globalNorm(&g, count: g.count), 1.0, accuracy: 1e-5)
        // Below the limit nothing changes.
        let copy = g
        Gradients.clip(&g, count: g.count, maxNorm: 10)
        XCTAssertEqual(copy, g)
    }

    func testSchedules() {
        let cos = LRSchedule(kind: .cosine, peak: 1.0, warmupSteps: 10, totalSteps: 110, minRatio: 0.1)
        XCTAssertEqual(cos.rate(at: 1), 0.1, accuracy: 1e-6)
        XCTAssertEqual(cos.rate(at: 5), 0.5, accuracy: 1e-6)
        XCTAssertEqual(cos.rate(at: 10), 1.0, accuracy: 1e-6)
        XCTAssertEqual(cos.rate(at: 60), 0.55, accuracy: 1e-6)   // halfway: (1 + 0.1) / 2
        XCTAssertEqual(cos.rate(at: 110), 0.1, accuracy: 1e-6)
        XCTAssertEqual(cos.rate(at: 35), Float(0.1 + 0.9 * 0.5 * (1 + Foundation.cos(Double.pi * 0.25))), accuracy: 1e-6)
        let lin = LRSchedule(kind: .linear, peak: 2.0, warmupSteps: 0, totalSteps: 100, minRatio: 0)
        XCTAssertEqual(lin.rate(at: 50), 1.0, accuracy: 1e-6)
        XCTAssertEqual(lin.rate(at: 100), 0.0, accuracy: 1e-6)
        let c = LRSchedule(kind: .constant, peak: 3, warmupSteps: 4, totalSteps: 100)
        XCTAssertEqual(c.rate(at: 2), 1.5, accuracy: 1e-6)
        XCTAssertEqual(c.rate(at: 90), 3)
    }

    /// Accumulating two micro-batches with gradScale = 1/total equals one pass over both rows.
    func testAccumulationEqualsOneBigBatch() throws {
        let m = try BigramDouble(vocab: 11)
        let stream = markovStream(vocab: 11, count: 200, seed: 3)
        var rows = try DataPrep.packStream(stream, length: 16)
        rows.targets[1][3] = -1; rows.targets[1][4] = -1   // unequal loss token counts
        let a = rows.batch([0]), b = rows.batch([1]), ab = rows.batch([0, 1])
        let total = Float(a.lossTokenCount + b.lossTokenCount)
        m.zeroGradients()
        _ = try m.forwardBackward(a, gradScale: 1 / total); _ = try m.forwardBackward(b, gradScale: 1 / total)
        let acc = Array(UnsafeBufferPointer(start: m.gradients, count: m.parameterCount))
        m.zeroGradients()
        _ = try m.forwardBackward(ab, gradScale: 1 / Float(ab.lossTokenCount))
        let one = Array(UnsafeBufferPointer(start: m.gradients, count: m.parameterCount))
        XCTAssertEqual(ab.lossTokenCount, Int(total))
        for i in 0..<one.count { XCTAssertEqual(acc[i], one[i], accuracy: 1e-6) }
        XCTAssertGreaterThan(one.map(abs).max()!, 1e-3)
    }
}
