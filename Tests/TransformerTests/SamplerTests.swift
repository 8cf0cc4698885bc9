import XCTest
import Transformer

final class SamplerTests: XCTestCase {
    let logits: [Float] = [2.0, 1.0, 0.5, 0.0, -1.0, -3.0]

    func draw(_ p: SamplingParameters, _ n: Int) -> [Int] {
        var s = Sampler(p)
        var counts = [Int](repeating: 0, count: logits.count)
        logits.withUnsafeBufferPointer { b in for _ in 0..<n { counts[s.sample(b)] += 1 } }
        return counts
    }

    func testGreedyAndTopKOne() {
        XCTAssertEqual(draw(.greedy, 10)[0], 10)
        XCTAssertEqual(draw(SamplingParameters(temperature: 1, topK: 1, seed: 3), 50)[0], 50)
    }

    func testFrequenciesFollowSoftmax() {
        let n = 60_000
        let counts = draw(SamplingParameters(temperature: 1, seed: 11), n)
        let e = logits.map { exp(Double($0)) }
        let z = e.reduce(0, +)
        for i in logits.indices {
            let p = e[i] / z
            let sd = (p * (1 - p) / Double(n)).squareRoot()
            XCTAssertEqual(Double(counts[i]) / Double(n), p, accuracy: 5 * sd + 1e-4, "token \(i)")
        }
    }

    func testTemperatureTopPAndMinPFilter() {
        // Low temperature concentrates mass on the top token.
        XCTAssertGreaterThan(draw(SamplingParameters(temperature: 0.1, seed: 1), 2000)[0], 1990)
        // top-p 0.5: softmax mass of token 0 is ~0.53, so only token 0 survives.
        XCTAssertEqual(draw(SamplingParameters(temperature: 1, topP: 0.5, seed: 2), 500)[0], 500)
        // min-p 0.3: tokens with p < 0.3·p_max are dropped (e^-1 = 0.37 stays, e^-1.5 = 0.22 goes).
        let c = draw(SamplingParameters(temperature: 1, minP: 0.3, seed: 4), 5000)
        XCTAssertEqual(c[2] + c[3] + c[4] + c[5], 0)
        XCTAssertGreaterThan(c[1], 0)
        // top-k 3 never yields a token outside the three largest.
        let k = draw(SamplingParameters(temperature: 2, topK: 3, seed: 5), 5000)
        XCTAssertEqual(k[3] + k[4] + k[5], 0)
        XCTAssertGreaterThan(k[2], 0)
    }

    /// A vocabulary-sized row takes the vectorized path (64-token blocks skipped by their sums, then a
    /// tail): draws land only on tokens with mass, in softmax proportions at the given temperature.
    func testLargeRowFollowsSoftmaxAcrossBlocksAndTail() {
        var row = [Float](repeating: -.infinity, count: 1000)   // 15 blocks of 64, then a 40-token tail
        let hot: [Int: Float] = [5: 1.0, 63: -0.5, 64: 0.0, 700: 2.0, 990: 0.5, 999: 1.5]
        for (i, v) in hot { row[i] = v }
        for t in [1.0, 0.5] {
            var s = Sampler(SamplingParameters(temperature: t, seed: 13))
            var counts: [Int: Int] = [:]
            let n = 40_000
            row.withUnsafeBufferPointer { b in for _ in 0..<n { counts[s.sample(b), default: 0] += 1 } }
            XCTAssertEqual(Set(counts.keys), Set(hot.keys), "only tokens with mass are drawn")
            let z = hot.values.map { exp(Double($0) / t) }.reduce(0, +)
            for (i, v) in hot {
                let p = exp(Double(v) / t) / z
                let sd = (p * (1 - p) / Double(n)).squareRoot()
                XCTAssertEqual(Double(counts[i] ?? 0) / Double(n), p, accuracy: 5 * sd + 1e-4, "token \(i) at T=\(t)")
            }
        }
        // All mass on the last token of a block and the tail's last token.
        var two = [Float](repeating: -.infinity, count: 200)
        two[127] = 0; two[199] = 0
        var s = Sampler(SamplingParameters(temperature: 1, seed: 2))
        let draws = two.withUnsafeBufferPointer { b in (0..<2000).map { _ in s.sample(b) } }
        XCTAssertEqual(Set(draws), [127, 199])
    }

    func testSeedDeterminismAndStreams() {
        XCTAssertEqual(draw(SamplingParameters(temperature: 1, seed: 9), 200), draw(SamplingParameters(temperature: 1, seed: 9), 200))
        var a = Sampler(SamplingParameters(temperature: 1, seed: 9), stream: 0)
        var b = Sampler(SamplingParameters(temperature: 1, seed: 9), stream: 1)
        let seqA = logits.withUnsafeBufferPointer { buf in (0..<50).map { _ in a.sample(buf) } }
        let seqB = logits.withUnsafeBufferPointer { buf in (0..<50).map { _ in b.sample(buf) } }
        XCTAssertNotEqual(seqA, seqB)
    }
}
