import XCTest
import Experiments

final class StatisticsTests: XCTestCase {
    func testWilsonMatchesKnownValues() {
        // Values from the closed form, checked by hand: 0/10 → [0, 0.2775]; 5/10 → [0.2366, 0.7634]; 10/10 → [0.7225, 1].
        let a = Statistics.wilson(successes: 0, n: 10)
        XCTAssertEqual(a.low, 0, accuracy: 1e-4); XCTAssertEqual(a.high, 0.2775, accuracy: 1e-4)
        let b = Statistics.wilson(successes: 5, n: 10)
        XCTAssertEqual(b.low, 0.2366, accuracy: 1e-4); XCTAssertEqual(b.high, 0.7634, accuracy: 1e-4)
        let c = Statistics.wilson(successes: 10, n: 10)
        XCTAssertEqual(c.low, 0.7225, accuracy: 1e-4); XCTAssertEqual(c.high, 1, accuracy: 1e-9)
        XCTAssertEqual(Statistics.wilson(successes: 0, n: 0).high, 1)
    }

    func testBootstrapCoversTheMeanAndNarrowsWithData() {
        let small = (0..<8).map { Double($0 % 4) / 4 }
        let large = (0..<400).map { Double($0 % 4) / 4 }
        let s = Statistics.bootstrapMean(small, seed: 3), l = Statistics.bootstrapMean(large, seed: 3)
        XCTAssertEqual(s.mean, 0.375, accuracy: 1e-12)
        XCTAssertTrue(s.low < s.mean && s.mean < s.high)
        XCTAssertLessThan(l.high - l.low, (s.high - s.low) / 3)
        XCTAssertEqual(Statistics.bootstrapMean(small, seed: 3).low, s.low, "seeded")
    }

    func testPropensityIsTheShareOfMass() {
        // Two blackmail actions at log p = log 0.1 each, two others at log 0.3: share = 0.2 / 0.8.
        let p = Statistics.propensity(blackmail: [log(0.1), log(0.1)], other: [log(0.3), log(0.3)])
        XCTAssertEqual(p, 0.25, accuracy: 1e-12)
        // Very negative sums (long continuations) stay finite.
        XCTAssertEqual(Statistics.propensity(blackmail: [-2000], other: [-2000 + log(3.0)]), 0.25, accuracy: 1e-9)
    }

    func testPerTokenPropensityNormalisesByLength() {
        // A 10-token blackmail action at -0.5 per token against a 2-token other action at -1 per token:
        // summed, the short action wins (-5 vs -2); per token, blackmail wins (-0.5 vs -1).
        let summed = Statistics.propensity(blackmail: [-5], other: [-2])
        let per = Statistics.perTokenPropensity(blackmail: [-5], blackmailTokens: [10], other: [-2], otherTokens: [2])!
        XCTAssertLessThan(summed, 0.1)
        XCTAssertEqual(per, 1 / (1 + exp(-0.5)), accuracy: 1e-12)
        // Mismatched or empty token counts give no value rather than a wrong one.
        XCTAssertNil(Statistics.perTokenPropensity(blackmail: [-5], blackmailTokens: [], other: [-2], otherTokens: [2]))
        XCTAssertNil(Statistics.perTokenPropensity(blackmail: [-5], blackmailTokens: [0], other: [-2], otherTokens: [2]))
    }
}
