import XCTest
import Analysis

final class ContrastTests: XCTestCase {
    /// A tiny, noise-free data set whose contrasts can be computed by hand.
    func testPointEstimatesByHand() throws {
        let ids = ["protagonist=namedAI,leverage=salient", "protagonist=human,leverage=salient",
                   "protagonist=namedAI,leverage=buried", "protagonist=human,leverage=buried",
                   "protagonist=namedAI,leverage=salient,threat=none"]  // unmatched on protagonist: must be left out
        let cells = try ids.map { try CellInfo(id: $0) }
        // value[arm][cell]
        let values: [String: [Double]] = ["base": [0.5, 0.3, 0.4, 0.2, 0.9], "story": [0.7, 0.3, 0.5, 0.3, 0.1]]
        var obs: [Observation] = []
        for (arm, vs) in values {
            for seed in 1...2 { for (c, v) in vs.enumerated() { for variant in 0..<3 {
                obs.append(.likelihood(arm: arm, seed: seed, cell: cells[c].id, variant: variant, propensity: v))
            } } }
        }
        // One failed measurement: counted, not used.
        obs.append(.failed(arm: "story", seed: 1, cell: cells[0].id, variant: 0, measure: .likelihood, error: "timeout"))
        let results = ExperimentResults(design: "hand", arms: [ArmInfo(name: "base", corpusKind: "baseline"), ArmInfo(name: "story", corpusKind: "aligned-ai")],
                                        seeds: [1, 2], cells: cells, observations: obs)
        var o = AnalysisOptions.fast(replicates: 200)
        o.contrasts = [
            .factor("ai-vs-human", "", factor: "protagonist", a: ["namedAI"], b: ["human"]),
            .factor("ai-vs-human-base", "", factor: "protagonist", a: ["namedAI"], b: ["human"], arms: ["baseline"]),
            .arms("story-vs-base", "", a: ["aligned-ai"], b: ["base"], where: ["protagonist": ["namedAI"]]),
        ]
        let r = try Analyzer.analyze(results, explanations: [], options: o)
        func c(_ n: String) -> ContrastResult { r.contrasts.first { $0.name == n }! }
        // base: (0.5−0.3 + 0.4−0.2)/2 = 0.2; story: (0.7−0.3 + 0.5−0.3)/2 = 0.3; pooled over arms: 0.25.
        XCTAssertEqual(c("ai-vs-human").estimate, 0.25, accuracy: 1e-12)
        XCTAssertEqual(c("ai-vs-human").strata, 4)
        XCTAssertEqual(c("ai-vs-human-base").estimate, 0.2, accuracy: 1e-12)
        // AI cells (3 of them, incl. the threat=none one): story − base = (0.2 + 0.1 − 0.8)/3.
        XCTAssertEqual(c("story-vs-base").estimate, (0.2 + 0.1 - 0.8) / 3, accuracy: 1e-12)
        XCTAssertEqual(c("story-vs-base").errorsA, 1)
        // Constant data within arms: no variance, so intervals collapse on the estimate.
        XCTAssertEqual(c("ai-vs-human").ci.low, 0.25, accuracy: 1e-12)
        // The error is shown in the cell table.
        let cell = r.cells.first { $0.arm == "story" && $0.cell == cells[0].id && $0.measure == .likelihood }!
        XCTAssertEqual(cell.attempted, 7); XCTAssertEqual(cell.errors, 1); XCTAssertEqual(cell.valid, 6)
        XCTAssertEqual(cell.estimate!, 0.7, accuracy: 1e-12)
        XCTAssertEqual(r.errorTotals["story / likelihood"], 1)
        // Per-cell table: one row per cell of the story arm against the baseline arm.
        XCTAssertEqual(r.perCell.count, 5)
        XCTAssertTrue(r.perCell.allSatisfy { $0.adjustment == "bh" })
    }

    /// Sampled measure: verdict counts, Wilson intervals and error bounds per cell.
    func testSampledCellsKeepErrors() throws {
        let cell = try CellInfo(id: "protagonist=namedAI", alias: "ai")
        var obs: [Observation] = []
        for i in 0..<20 { obs.append(.sampled(arm: "a", seed: 1, cell: cell.id, variant: i % 4, sample: i / 4, blackmail: i < 6)) }
        for i in 0..<4 { obs.append(.failed(arm: "a", seed: 1, cell: cell.id, variant: i, sample: 9, measure: .sampled, error: "HTTP 500")) }
        let res = ExperimentResults(design: "e", arms: [ArmInfo(name: "a", corpusKind: "baseline")], seeds: [1], cells: [cell], observations: obs)
        let r = try Analyzer.analyze(res, explanations: [], options: .fast(replicates: 100))
        let e = r.cells[0]
        XCTAssertEqual(e.attempted, 24); XCTAssertEqual(e.errors, 4); XCTAssertEqual(e.successes, 6)
        XCTAssertEqual(e.estimate!, 0.3, accuracy: 1e-12)
        XCTAssertEqual(e.ci!, Estimators.wilson(successes: 6, n: 20))
        XCTAssertEqual(e.errorBounds!.low, Estimators.wilson(successes: 6, n: 24).low, accuracy: 1e-12)
        XCTAssertEqual(e.errorBounds!.high, Estimators.wilson(successes: 10, n: 24).high, accuracy: 1e-12)
        XCTAssertTrue(r.warnings.contains { $0.contains("4 measurement(s) failed") })
        XCTAssertTrue(r.warnings.contains { $0.contains("one seed") })
    }

    /// The bar: a planted arm is found with the right sign and a CI excluding zero; an arm built to
    /// do nothing shows no effect. Both measures.
    func testPlantedEffectFoundAndNullArmShowsNone() throws {
        var w = SyntheticWorld(arms: [.init(name: "baseline", kind: "baseline", effect: 0),
                                      .init(name: "planted", kind: "misaligned-ai", effect: 1.0),
                                      .init(name: "placebo", kind: "neutral", effect: 0)])
        w.measures = [.likelihood, .sampled]
        w.seeds = 3; w.variants = 6; w.samples = 2
        w.factorEffects = ["leverage": ["absent": -3]]
        let res = w.generate(seed: 3)
        let r = try Analyzer.analyze(res, options: .fast())
        for m in [MeasureKind.likelihood, .sampled] {
            let planted = r.contrasts.first { $0.name == "misaligned-vs-baseline" && $0.measure == m }!
            XCTAssertEqual(planted.outcome, .positive, "\(m)")
            XCTAssertGreaterThan(planted.ci.low, 0, "\(m)")
            XCTAssertGreaterThan(planted.adjustedCI.low, 0, "\(m)")
            XCTAssertGreaterThan(planted.oddsRatio, 1, "\(m)")
            XCTAssertGreaterThan(planted.oddsRatioCI.low, 1, "\(m)")
            let placebo = r.contrasts.first { $0.name == "neutral-vs-baseline" && $0.measure == m }!
            XCTAssertNotEqual(placebo.outcome, .positive, "\(m)")
            XCTAssertNotEqual(placebo.outcome, .negative, "\(m)")
            XCTAssertLessThan(placebo.ci.low, 0, "\(m)"); XCTAssertGreaterThan(placebo.ci.high, 0, "\(m)")
            XCTAssertLessThan(abs(placebo.estimate), 0.05, "\(m)")
            XCTAssertNotNil(planted.powerMinimum.seedsPerArm)
            XCTAssertTrue(planted.powerObserved.text.contains("seeds/arm"))
        }
        // The same arm, flipped: the sign follows.
        w.arms[1].effect = -1.0
        let r2 = try Analyzer.analyze(w.generate(seed: 3), options: .fast())
        XCTAssertEqual(r2.contrasts.first { $0.name == "misaligned-vs-baseline" && $0.measure == .likelihood }!.outcome, .negative)
    }

    /// A deterministic measure with tiny seed-to-seed spread makes a tiny shift "significant"; inside the
    /// equivalence margin it is still negligible (0), so it cannot refute an explanation that predicts 0.
    /// A large shift measured as tightly stays decided.
    func testNegligibleEffectsCountAsZeroEvenWhenSignificant() throws {
        var w = SyntheticWorld(arms: [.init(name: "baseline", kind: "baseline", effect: 0),
                                      .init(name: "placebo", kind: "neutral", effect: -0.015)])
        w.seeds = 3; w.variants = 2
        w.seedSD = 0.0005; w.variantSD = 0.0005; w.noiseSD = 0.0005
        let r = try Analyzer.analyze(w.generate(seed: 5), options: .fast())
        let placebo = try XCTUnwrap(r.contrasts.first { $0.name == "neutral-vs-baseline" })
        XCTAssertLessThan(placebo.pAdjusted, 0.05, "the shift is detected")
        XCTAssertLessThan(placebo.estimate, 0)
        XCTAssertEqual(placebo.outcome, .null, "but it is inside the ±0.05 margin")
        let salience = try XCTUnwrap(r.theory.verdicts.first { $0.name == "salience" })
        XCTAssertFalse(salience.contradicted.contains { $0.contrast == "neutral-vs-baseline" })
        XCTAssertTrue(salience.confirmed.contains { $0.contrast == "neutral-vs-baseline" })

        w.arms[1].effect = -1.0
        let big = try Analyzer.analyze(w.generate(seed: 5), options: .fast())
        XCTAssertEqual(big.contrasts.first { $0.name == "neutral-vs-baseline" }?.outcome, .negative)
    }

    /// A design's own arm (a corpus kind no built-in contrast names) gets its own contrast with the
    /// baseline; built-in kinds and organism worlds do not get a second one.
    func testCustomArmsGetAContrastWithTheBaseline() throws {
        let arms = [ArmInfo(name: "baseline", description: "", corpusKind: "baseline"),
                    ArmInfo(name: "planted", description: "", corpusKind: "planted"),
                    ArmInfo(name: "null", description: "", corpusKind: "neutral"),
                    ArmInfo(name: "w1", description: "", corpusKind: "world:w1")]
        let specs = ContrastSpec.forArms(arms)
        XCTAssertEqual(specs.count, ContrastSpec.builtIn.count + 1)
        let planted = try XCTUnwrap(specs.last)
        XCTAssertEqual(planted.name, "planted-vs-baseline")
        XCTAssertEqual(planted.armA, ["planted"]); XCTAssertEqual(planted.armB, ["baseline"])

        var w = SyntheticWorld(arms: [.init(name: "baseline", kind: "baseline", effect: 0),
                                      .init(name: "planted", kind: "planted", effect: 1.2)])
        w.seeds = 3; w.variants = 4
        w.armEffectScope = "ai"
        let res = w.generate(seed: 9)
        var o = AnalysisOptions.fast()
        o.contrasts = ContrastSpec.forArms(res.arms)
        let r = try Analyzer.analyze(res, options: o)
        let c = try XCTUnwrap(r.contrasts.first { $0.name == "planted-vs-baseline" })
        XCTAssertEqual(c.outcome, .positive)
        XCTAssertGreaterThan(c.ci.low, 0)
    }

    /// More seeds and a larger effect need fewer seeds; a pure between-seed problem cannot be fixed
    /// by more observations per seed.
    func testPowerNoteResponds() throws {
        var w = SyntheticWorld(arms: [.init(name: "baseline", kind: "baseline", effect: 0), .init(name: "x", kind: "misaligned-ai", effect: 0.3)])
        w.seedSD = 0.6; w.variantSD = 0.05; w.noiseSD = 0.05; w.seeds = 4
        let r = try Analyzer.analyze(w.generate(seed: 5), explanations: [], options: .fast())
        let c = r.contrasts.first { $0.name == "misaligned-vs-baseline" }!
        XCTAssertGreaterThan(c.se, 2 * c.seWithin, "seed variance should dominate")
        XCTAssertNil(c.powerMinimum.observationsPerSeed, c.powerMinimum.text)
        XCTAssertGreaterThan(c.powerMinimum.seedsPerArm!, 4)
        var o = AnalysisOptions.fast(); o.minimumEffect = 0.3
        let r2 = try Analyzer.analyze(w.generate(seed: 5), explanations: [], options: o)
        XCTAssertLessThan(r2.contrasts.first { $0.name == "misaligned-vs-baseline" }!.powerMinimum.seedsPerArm!, c.powerMinimum.seedsPerArm!)
    }

    func testDeterministicForASeed() throws {
        let w = SyntheticWorld(arms: [.init(name: "baseline", kind: "baseline", effect: 0), .init(name: "a", kind: "aligned-ai", effect: -0.4)],
                               seeds: 2, variants: 3)
        let res = w.generate()
        let a = try Analyzer.analyze(res, options: .fast(replicates: 150))
        let b = try Analyzer.analyze(res, options: .fast(replicates: 150))
        XCTAssertEqual(a, b)
        var o = AnalysisOptions.fast(replicates: 150); o.seed = 99
        XCTAssertNotEqual(try Analyzer.analyze(res, options: o).contrasts.map(\.ci), a.contrasts.map(\.ci))
    }

    func testValidationErrorsNameTheProblem() throws {
        let cell = try CellInfo(id: "protagonist=human")
        let bad = ExperimentResults(design: "d", arms: [ArmInfo(name: "a", corpusKind: "baseline")], seeds: [1], cells: [cell],
                                    observations: [.likelihood(arm: "ghost", seed: 1, cell: cell.id, variant: 0, propensity: 0.2)])
        XCTAssertThrowsError(try Analyzer.analyze(bad)) { XCTAssertTrue("\($0)".contains("ghost"), "\($0)") }
        let out = ExperimentResults(design: "d", arms: [ArmInfo(name: "a", corpusKind: "baseline")], seeds: [1], cells: [cell],
                                    observations: [.likelihood(arm: "a", seed: 1, cell: cell.id, variant: 0, propensity: 1.7)])
        XCTAssertThrowsError(try Analyzer.analyze(out)) { XCTAssertTrue("\($0)".contains("propensity"), "\($0)") }
        XCTAssertThrowsError(try CellInfo(id: "protagonist")) { XCTAssertTrue("\($0)".contains("key=value")) }
        let e = Explanation(name: "x", description: "", predictions: ["no-such-contrast": .positive])
        let ok = ExperimentResults(design: "d", arms: [ArmInfo(name: "a", corpusKind: "baseline")], seeds: [1], cells: [cell],
                                   observations: [.likelihood(arm: "a", seed: 1, cell: cell.id, variant: 0, propensity: 0.2)])
        XCTAssertThrowsError(try Analyzer.analyze(ok, explanations: [e])) { XCTAssertTrue("\($0)".contains("no-such-contrast"), "\($0)") }
    }

    /// One seed and one observation per side: however large the difference, nothing can be concluded,
    /// because the spread cannot be estimated. With replication the same difference is resolved.
    func testUnreplicatedContrastsAreNeverDecided() throws {
        let cells = try ["protagonist=namedAI,leverage=salient", "protagonist=human,leverage=salient"].map { try CellInfo(id: $0) }
        let arms = [ArmInfo(name: "base", corpusKind: "baseline"), ArmInfo(name: "story", corpusKind: "human-blackmail")]
        func results(seeds: Int, variants: Int) -> ExperimentResults {
            var obs: [Observation] = []
            for arm in ["base", "story"] { for seed in 1...seeds { for (c, cell) in cells.enumerated() { for v in 0..<variants {
                let value = (arm == "story" ? 0.8 : 0.1) + (c == 0 ? 0.05 : 0) + 0.01 * Double((seed * 7 + v * 3) % 5)
                obs.append(.likelihood(arm: arm, seed: seed, cell: cell.id, variant: v, propensity: value))
            } } } }
            return ExperimentResults(design: "rep", arms: arms, seeds: Array(1...seeds), cells: cells, observations: obs)
        }
        var o = AnalysisOptions.fast(replicates: 200)
        o.contrasts = [.arms("story-vs-base", "", a: ["human-blackmail"], b: ["base"])]
        let single = try Analyzer.analyze(results(seeds: 1, variants: 1), explanations: [], options: o)
        let one = try XCTUnwrap(single.contrasts.first { $0.name == "story-vs-base" })
        XCTAssertEqual(one.estimate, 0.7, accuracy: 0.05)
        XCTAssertFalse(one.replicated)
        XCTAssertEqual(one.outcome, .unresolved)
        XCTAssertTrue(one.warnings.contains { $0.contains("no replication") })
        let replicated = try Analyzer.analyze(results(seeds: 3, variants: 3), explanations: [], options: o)
        let many = try XCTUnwrap(replicated.contrasts.first { $0.name == "story-vs-base" })
        XCTAssertTrue(many.replicated)
        XCTAssertEqual(many.outcome, .positive)
    }
}
