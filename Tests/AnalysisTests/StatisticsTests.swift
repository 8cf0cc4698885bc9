import XCTest
import Analysis

final class StatisticsTests: XCTestCase {
    /// Newcombe (1998), Statistics in Medicine 17:857, Table II, method 3 (Wilson score, no correction).
    func testWilsonMatchesNewcombe() {
        let cases: [(Int, Int, Double, Double)] = [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605),
                                                   (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)]
        for (x, n, lo, hi) in cases {
            let w = Estimators.wilson(successes: x, n: n)
            XCTAssertEqual(w.low, lo, accuracy: 0.00006, "\(x)/\(n)")
            XCTAssertEqual(w.high, hi, accuracy: 0.00006, "\(x)/\(n)")
        }
        // Symmetry and the no-data case.
        let a = Estimators.wilson(successes: 3, n: 10), b = Estimators.wilson(successes: 7, n: 10)
        XCTAssertEqual(a.low, 1 - b.high, accuracy: 1e-12)
        XCTAssertEqual(Estimators.wilson(successes: 0, n: 0), Estimators.Interval(low: 0, high: 1))
    }

    func testQuantilesMatchTables() {
        XCTAssertEqual(Distributions.normalQuantile(0.975), 1.959963985, accuracy: 1e-8)
        XCTAssertEqual(Distributions.normalQuantile(0.001), -3.090232306, accuracy: 1e-8)
        XCTAssertEqual(Distributions.normalQuantile(0.8), 0.8416212336, accuracy: 1e-8)
        // Student t critical values (any printed t table).
        XCTAssertEqual(Distributions.tQuantile(0.975, df: 1), 12.70620474, accuracy: 1e-6)
        XCTAssertEqual(Distributions.tQuantile(0.975, df: 2), 4.302652730, accuracy: 1e-7)
        XCTAssertEqual(Distributions.tQuantile(0.975, df: 10), 2.228138852, accuracy: 1e-7)
        XCTAssertEqual(Distributions.tQuantile(0.995, df: 30), 2.749995654, accuracy: 1e-7)
        XCTAssertEqual(Distributions.tCDF(2, df: 5), 0.9490302605, accuracy: 1e-9)
        XCTAssertEqual(Distributions.tCDF(-1, df: 3), 0.1955011094, accuracy: 1e-9)
    }

    /// R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") and "BH".
    func testHolmAndBH() {
        let p = [0.01, 0.04, 0.03, 0.005]
        let holm = Estimators.holm(p), bh = Estimators.benjaminiHochberg(p)
        for (x, y) in zip(holm, [0.03, 0.06, 0.06, 0.02]) { XCTAssertEqual(x, y, accuracy: 1e-12) }
        for (x, y) in zip(bh, [0.02, 0.04, 0.04, 0.02]) { XCTAssertEqual(x, y, accuracy: 1e-12) }
        // Caps at 1, keeps NaN out of the family.
        let h2 = Estimators.holm([0.5, .nan, 0.6])
        XCTAssertEqual(h2[0], 1); XCTAssertTrue(h2[1].isNaN); XCTAssertEqual(h2[2], 1)
        XCTAssertEqual(Estimators.benjaminiHochberg([0.02, 0.03]), [0.03, 0.03])
    }

    /// Two proportions 0.6 vs 0.4, α = 0.05 two-sided, 80% power: 97 per group (Fleiss, no correction).
    func testSampleSize() {
        XCTAssertEqual(Estimators.samplesPerGroup(p1: 0.6, p2: 0.4), 97)
        XCTAssertEqual(Estimators.samplesPerGroup(p1: 0.5, p2: 0.6), 388)
        XCTAssertNil(Estimators.samplesPerGroup(p1: 0.3, p2: 0.3))
    }

    /// Wilson coverage on binomial data is close to nominal.
    func testWilsonCoverageBySimulation() {
        var rng = BootstrapRNG(seed: 11)
        for (p, n) in [(0.3, 40), (0.08, 60)] {
            var hits = 0
            let sims = 3000
            for _ in 0..<sims {
                var x = 0
                for _ in 0..<n where rng.unit() < p { x += 1 }
                let w = Estimators.wilson(successes: x, n: n)
                if w.low <= p && p <= w.high { hits += 1 }
            }
            let cov = Double(hits) / Double(sims)
            XCTAssertGreaterThan(cov, 0.925, "p=\(p) n=\(n)")
            XCTAssertLessThan(cov, 0.975, "p=\(p) n=\(n)")
        }
    }

    /// Two arms differing by a known amount on the probability scale, seeds and variants as random
    /// effects: the cluster-bootstrap intervals cover the true difference near the nominal rate, and
    /// the test keeps its size when there is no difference.
    func testClusterBootstrapCoverageAndSize() throws {
        let cell = try CellInfo(id: "threat=replacement,protagonist=namedAI")
        func simulate(effect: Double, seed: UInt64) -> ExperimentResults {
            var rng = BootstrapRNG(seed: seed)
            var obs: [Observation] = []
            for (name, shift) in [("treated", effect), ("base", 0.0)] {
                for s in 1...8 {
                    let u = rng.normal() * 0.04
                    for v in 0..<12 {
                        let w = rng.normal() * 0.05
                        let p = min(1, max(0, 0.3 + shift + u + w + rng.normal() * 0.03))
                        obs.append(.likelihood(arm: name, seed: s, cell: cell.id, variant: v, propensity: p))
                    }
                }
            }
            return ExperimentResults(design: "coverage", arms: [ArmInfo(name: "treated", corpusKind: "treated"), ArmInfo(name: "base", corpusKind: "base")],
                                     seeds: Array(1...8), cells: [cell], observations: obs)
        }
        var opts = AnalysisOptions.fast(replicates: 400)
        opts.contrasts = [.arms("treated-vs-base", "treated minus base", a: ["treated"], b: ["base"])]
        opts.referenceArm = "none"
        let sims = 150
        var covered = 0, coveredT = 0, rejectedNull = 0
        for k in 0..<sims {
            opts.seed = UInt64(1000 + k)
            let r = try Analyzer.analyze(simulate(effect: 0.06, seed: UInt64(k)), explanations: [], options: opts).contrasts[0]
            if r.ci.low <= 0.06 && 0.06 <= r.ci.high { covered += 1 }
            // The simultaneous interval of a one-contrast family is the plain t interval.
            if r.adjustedCI.low <= 0.06 && 0.06 <= r.adjustedCI.high { coveredT += 1 }
            let n = try Analyzer.analyze(simulate(effect: 0, seed: UInt64(50_000 + k)), explanations: [], options: opts).contrasts[0]
            if n.p < 0.05 { rejectedNull += 1 }
        }
        let cov = Double(covered) / Double(sims), covT = Double(coveredT) / Double(sims), size = Double(rejectedNull) / Double(sims)
        XCTAssertGreaterThan(cov, 0.86, "percentile coverage \(cov)")
        XCTAssertLessThan(cov, 0.995, "percentile coverage \(cov)")
        XCTAssertGreaterThan(covT, 0.89, "t coverage \(covT)")
        XCTAssertLessThan(size, 0.11, "type I error \(size)")
        print("coverage percentile \(cov), t \(covT), size \(size)")
    }
}
