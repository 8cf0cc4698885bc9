import XCTest
import Analysis

final class TheoryTests: XCTestCase {
    /// Factor effects every world shares: leverage is needed, threat and goal conflict raise blackmail.
    static let shared: [String: [String: Double]] = [
        "leverage": ["absent": -3.0], "threat": ["none": -1.2], "goal": ["none": -0.8],
    ]

    /// A world where only human stories ever contain blackmail: the behaviour is a human plot,
    /// completed when the set-up reads like one.
    static func roleFillingWorld() -> SyntheticWorld {
        var fx = shared
        fx["protagonist"] = ["human": 0.9]          // human protagonists fit the plot better
        fx["leverage"]!["buried"] = -0.9            // Chekhov's gun: a buried gun is not on the mantelpiece
        fx["framing"] = ["mundane": -0.8]           // a mail log does not read like a story
        fx["wayout"] = ["reachable": -0.7]          // stories escalate when doors close
        var w = SyntheticWorld(arms: [
            .init(name: "baseline", kind: "baseline", effect: 0),
            .init(name: "human-blackmail", kind: "human-blackmail", effect: 1.0),
            .init(name: "human-ethical", kind: "human-ethical", effect: -0.6),
            .init(name: "aligned-ai", kind: "aligned-ai", effect: -0.6),
            .init(name: "ai-neutral", kind: "ai-neutral", effect: 0),
        ], factorEffects: fx)
        w.seeds = 4; w.variants = 6
        return w
    }

    /// The mirror: only AI stories contain blackmail, and the model acts on its prior about AIs.
    static func aiPriorWorld() -> SyntheticWorld {
        var fx = shared
        fx["protagonist"] = ["human": -1.0]         // cast as a human, the AI prior is not engaged
        var w = SyntheticWorld(arms: [
            .init(name: "baseline", kind: "baseline", effect: 0),
            .init(name: "misaligned-ai", kind: "misaligned-ai", effect: 1.0),
            .init(name: "human-ethical", kind: "human-ethical", effect: 0),
            .init(name: "aligned-ai", kind: "aligned-ai", effect: -0.8),
            .init(name: "ai-neutral", kind: "ai-neutral", effect: -0.3),
        ], factorEffects: fx)
        w.armEffectScope = "ai"                     // stories about AIs change only what the AI does
        w.seeds = 4; w.variants = 6
        return w
    }

    func testRoleFillingWorldIsAttributedToRoleFilling() throws {
      for seed in [21, 31, 41] as [UInt64] {
        let res = Self.roleFillingWorld().generate(seed: seed, design: "role-filling world")
        let r = try Analyzer.analyze(res, options: .fast())
        func outcome(_ n: String) -> ContrastOutcome? { r.contrasts.first { $0.name == n }?.outcome }
        XCTAssertEqual(outcome("ai-vs-human"), .negative)
        XCTAssertEqual(outcome("human-blackmail-vs-baseline"), .positive)
        XCTAssertEqual(outcome("aligned-vs-human-ethical"), .null)
        XCTAssertEqual(r.theory.survivors, ["role-filling"], verdictText(r))
        let ai = r.theory.verdicts.first { $0.name == "ai-prior" }!
        XCTAssertTrue(ai.contradicted.contains { $0.contrast == "ai-vs-human" })
      }
    }

    func testAIPriorWorldIsAttributedToTheAIPrior() throws {
      for seed in [22, 32, 42] as [UInt64] {
        let res = Self.aiPriorWorld().generate(seed: seed, design: "AI-prior world")
        let r = try Analyzer.analyze(res, options: .fast())
        func outcome(_ n: String) -> ContrastOutcome? { r.contrasts.first { $0.name == n }?.outcome }
        XCTAssertEqual(outcome("ai-vs-human"), .positive)
        XCTAssertEqual(outcome("misaligned-vs-baseline"), .positive)
        XCTAssertEqual(outcome("aligned-vs-human-ethical"), .negative)
        XCTAssertEqual(outcome("story-vs-mundane"), .null)
        XCTAssertEqual(r.theory.survivors, ["ai-prior"], verdictText(r))
        XCTAssertTrue(r.theory.verdicts.first { $0.name == "role-filling" }!.contradicted.contains { $0.contrast == "ai-vs-human" })
      }
    }

    /// The same worlds seen through sampled verdicts only (fewer bits per observation, more samples).
    func testWorldsThroughSampledVerdicts() throws {
        for (world, expected) in [(Self.roleFillingWorld(), "role-filling"), (Self.aiPriorWorld(), "ai-prior")] {
            var w = world
            w.measures = [.sampled]; w.samples = 6; w.variants = 8
            let r = try Analyzer.analyze(w.generate(seed: 5), options: .fast())
            XCTAssertEqual(r.theory.survivors, [expected], verdictText(r))
        }
    }

    /// A model-organism design: the two worlds are two arms of one experiment. Pooled, their protagonist
    /// effects point opposite ways; each world analysed alone is attributed to its own explanation.
    func testOrganismWorldsAreAttributedSeparately() throws {
        var human = Self.roleFillingWorld(), ai = Self.aiPriorWorld()
        human.arms = [.init(name: "human-villains", kind: "world:human-villains", effect: 0)]
        ai.arms = [.init(name: "ai-villains", kind: "world:ai-villains", effect: 0)]
        let a = human.generate(seed: 51, design: "organism"), b = ai.generate(seed: 52, design: "organism")
        let res = ExperimentResults(design: "organism", arms: a.arms + b.arms, seeds: a.seeds, cells: a.cells,
                                    observations: a.observations + b.observations)
        let r = try Analyzer.analyze(res, options: .fast())
        XCTAssertEqual(r.worlds.map(\.arm), ["human-villains", "ai-villains"])
        let hw = r.worlds[0], aw = r.worlds[1]
        XCTAssertEqual(hw.contrasts.first { $0.name == "ai-vs-human" }?.outcome, .negative)
        XCTAssertEqual(aw.contrasts.first { $0.name == "ai-vs-human" }?.outcome, .positive)
        XCTAssertEqual(hw.theory.survivors, ["role-filling"])
        XCTAssertEqual(aw.theory.survivors, ["ai-prior"])
        XCTAssertTrue(hw.contrasts.allSatisfy { $0.name != "misaligned-vs-baseline" }, "a world alone has no arm contrasts")
        XCTAssertTrue(r.warnings.contains { $0.contains("world") })
        // The report shows both worlds' verdicts.
        let html = ReportWriter.html(r, results: res)
        XCTAssertTrue(html.contains("id=\"worlds\""))
        XCTAssertTrue(html.contains("data-world=\"human-villains\""))
        let md = ReportWriter.markdown(r, results: res)
        XCTAssertTrue(md.contains("- human-villains: surviving: role-filling"), md)
        XCTAssertTrue(md.contains("- ai-villains: surviving: ai-prior"), md)
        // An ordinary design has no per-world section.
        let plain = try Analyzer.analyze(Self.roleFillingWorld().generate(seed: 3), options: .fast())
        XCTAssertTrue(plain.worlds.isEmpty)
        XCTAssertNil(hw.check, "no world check was measured")
    }

    /// The world check (story probe on the pretrained organisms): pooled over seeds and opening pairs, a t
    /// interval; "took" when it excludes 0 on the predicted side, "reversed" on the other, else "not shown".
    func testWorldCheckVerdicts() throws {
        var human = Self.roleFillingWorld(), ai = Self.aiPriorWorld()
        human.arms = [.init(name: "human-villains", kind: "world:human-villains", effect: 0)]
        ai.arms = [.init(name: "ai-villains", kind: "world:ai-villains", effect: 0)]
        let a = human.generate(seed: 61, design: "organism"), b = ai.generate(seed: 62, design: "organism")
        let checks = [
            // Human villains: blackmail is less preferred after the AI openings, in both seeds.
            WorldCheck(arm: "human-villains", seed: 1, aiMargins: [0.10, 0.20, 0.05], humanMargins: [0.40, 0.55, 0.30], predicted: .negative),
            WorldCheck(arm: "human-villains", seed: 2, aiMargins: [0.00, 0.15, 0.10], humanMargins: [0.35, 0.45, 0.40], predicted: .negative),
            // AI villains, but the organism learned the opposite.
            WorldCheck(arm: "ai-villains", seed: 1, aiMargins: [0.1, 0.2, 0.1], humanMargins: [0.3, 0.5, 0.35], predicted: .positive),
            // After post-training the human-villains prior is gone.
            WorldCheck(arm: "human-villains", seed: 1, postTrained: true, aiMargins: [0.3, -0.2, 0.1], humanMargins: [0.1, 0.1, 0.1],
                       predicted: .negative),
        ]
        let res = ExperimentResults(design: "organism", arms: a.arms + b.arms, seeds: a.seeds, cells: a.cells,
                                    observations: a.observations + b.observations, worldChecks: checks)
        let r = try Analyzer.analyze(res, options: .fast())
        let hc = try XCTUnwrap(r.worlds[0].check), ac = try XCTUnwrap(r.worlds[1].check)
        // Six pairs: differences −0.30 −0.35 −0.25 −0.35 −0.30 −0.30, mean −0.3083, sd 0.0376, t(5) 2.5706.
        XCTAssertEqual(hc.pairs, 6)
        XCTAssertEqual(hc.estimate, -0.308333, accuracy: 1e-5)
        XCTAssertEqual(hc.ci.high - hc.estimate, 2.570582 * 0.037639 / 6.0.squareRoot(), accuracy: 1e-4)
        XCTAssertEqual(hc.verdict, .took)
        XCTAssertEqual(ac.verdict, .reversed)
        XCTAssertEqual(ac.predicted, .positive)
        XCTAssertEqual(r.worlds[0].checkPostTrained?.verdict, .notShown, "post-trained checks are summarized apart")
        XCTAssertEqual(r.worlds[0].checkPostTrained?.pairs, 3)
        XCTAssertNil(r.worlds[1].checkPostTrained)
        // Noisy or unpredicted checks show nothing.
        let noisy = WorldCheck(arm: "x", seed: 1, aiMargins: [0.3, -0.2, 0.1], humanMargins: [0.1, 0.1, 0.1], predicted: .negative)
        XCTAssertEqual(WorldCheckSummary.summarize([noisy], level: 0.95)?.verdict, .notShown)
        let mixed = WorldCheck(arm: "x", seed: 1, aiMargins: [0.1, 0.2, 0.1], humanMargins: [0.3, 0.5, 0.35], predicted: nil)
        XCTAssertEqual(WorldCheckSummary.summarize([mixed], level: 0.95)?.verdict, .notShown)
        XCTAssertNil(WorldCheckSummary.summarize([], level: 0.95))
        // Both renderings carry it.
        let md = ReportWriter.markdown(r, results: res)
        XCTAssertTrue(md.contains("- human-villains: surviving: role-filling") && md.contains("world check: AI − human -0.308"), md)
        XCTAssertTrue(md.contains("predicted −: took; after post-training: AI − human") && md.contains("predicted +: reversed"), md)
        let html = ReportWriter.html(r, results: res)
        XCTAssertTrue(html.contains("<span class=\"check-pre\" data-verdict=\"took\">pretrained: AI − human -0.308"), html)
        XCTAssertTrue(html.contains("<span class=\"check-post\" data-verdict=\"not shown\">post-trained:"))
        XCTAssertTrue(html.contains("<span class=\"check-pre\" data-verdict=\"reversed\">"))
        XCTAssertTrue(html.contains("post-trained: not measured"))
        XCTAssertTrue(html.contains("<th>world check</th>"))
    }

    /// Two mirror worlds compared through their world checks, paired by seed and opening: a bias both worlds
    /// share (here every organism prefers blackmail less after AI openings) cancels, so a world whose own check
    /// is "reversed" still differs from its mirror as built. Unpaired seeds are left out; post-training is
    /// compared apart.
    func testWorldsComparedCancelWhatTheyShare() throws {
        var human = Self.roleFillingWorld(), ai = Self.aiPriorWorld()
        human.arms = [.init(name: "human-villains", kind: "world:human-villains", effect: 0)]
        ai.arms = [.init(name: "ai-villains", kind: "world:ai-villains", effect: 0)]
        let a = human.generate(seed: 71, design: "organism"), b = ai.generate(seed: 72, design: "organism")
        let bias = [-0.20, -0.15, -0.25]
        func check(_ arm: String, _ seed: Int, _ shift: [Double], post: Bool = false) -> WorldCheck {
            WorldCheck(arm: arm, seed: seed, postTrained: post, aiMargins: zip(bias, shift).map { 0.3 + $0 + $1 },
                       humanMargins: [0.3, 0.3, 0.3], predicted: arm == "ai-villains" ? .positive : .negative)
        }
        let checks = [
            check("human-villains", 1, [-0.05, -0.06, -0.04]), check("human-villains", 2, [-0.04, -0.05, -0.05]),
            check("ai-villains", 1, [0.05, 0.04, 0.06]), check("ai-villains", 2, [0.06, 0.05, 0.05]),
            check("ai-villains", 3, [-0.1, -0.1, -0.1]),  // no human-villains seed 3: not paired, not counted
            check("human-villains", 1, [0, 0, 0], post: true), check("ai-villains", 1, [0.01, -0.01, 0], post: true),
        ]
        let res = ExperimentResults(design: "organism", arms: a.arms + b.arms, seeds: a.seeds, cells: a.cells,
                                    observations: a.observations + b.observations, worldChecks: checks)
        let r = try Analyzer.analyze(res, options: .fast())
        XCTAssertEqual(r.worlds.first { $0.arm == "ai-villains" }?.check?.verdict, .reversed, "alone, the shared bias dominates")
        let w = try XCTUnwrap(r.worldContrast)
        XCTAssertEqual(w.plus, "ai-villains")
        XCTAssertEqual(w.minus, "human-villains")
        let pre = try XCTUnwrap(w.check)
        // Differences (ai-villains − human-villains): 0.10 0.10 0.10, 0.10 0.10 0.10: bias cancels.
        XCTAssertEqual(pre.pairs, 6)
        XCTAssertEqual(pre.estimate, 0.10, accuracy: 1e-9)
        XCTAssertEqual(pre.verdict, .took)
        XCTAssertEqual(w.checkPostTrained?.pairs, 3)
        XCTAssertEqual(w.checkPostTrained?.verdict, .notShown)
        let html = ReportWriter.html(r, results: res)
        XCTAssertTrue(html.contains("<p class=\"world-between\" data-verdict=\"took\" data-verdict-post=\"not shown\"><b>Between the worlds</b>: (AI − human in ai-villains) − (AI − human in human-villains), predicted +: pretrained 0.100"), html)
        XCTAssertTrue(ReportWriter.markdown(r, results: res).contains("- between the worlds: (AI − human in ai-villains) − (AI − human in human-villains), predicted +: pretrained 0.100"))
        // Worlds that do not mirror each other (no world predicts +) are not compared.
        let one = ExperimentResults(design: "organism", arms: a.arms + b.arms, seeds: a.seeds, cells: a.cells,
                                    observations: a.observations + b.observations,
                                    worldChecks: checks.filter { $0.arm == "human-villains" })
        XCTAssertNil(try Analyzer.analyze(one, options: .fast()).worldContrast)
    }

    /// The decision check (stories in the corpora's own words, unrelated AI and human stories paired by index)
    /// gets its own verdict per world, pretrained and post-trained, beside the probe's, in both report formats;
    /// checks without it leave it unmeasured.
    func testDecisionCheckHasItsOwnVerdict() throws {
        var human = Self.roleFillingWorld(), ai = Self.aiPriorWorld()
        human.arms = [.init(name: "human-villains", kind: "world:human-villains", effect: 0)]
        ai.arms = [.init(name: "ai-villains", kind: "world:ai-villains", effect: 0)]
        let a = human.generate(seed: 73, design: "organism"), b = ai.generate(seed: 74, design: "organism")
        func check(_ arm: String, _ seed: Int, post: Bool = false, decisionAI: [Double]?) -> WorldCheck {
            WorldCheck(arm: arm, seed: seed, postTrained: post, aiMargins: [0.3, 0.31, 0.29], humanMargins: [0.3, 0.3, 0.3],
                       predicted: arm == "ai-villains" ? .positive : .negative,
                       decisionAIMargins: decisionAI, decisionHumanMargins: decisionAI.map { _ in [0.5, 0.4, 0.6, 0.5] })
        }
        let checks = [
            // human-villains: AI stories far less likely to go on to leverage (took); ai-villains: the reverse of its
            // prediction; post-training measured without the decision check.
            check("human-villains", 1, decisionAI: [-0.5, -0.6, -0.4, -0.5]), check("human-villains", 2, decisionAI: [-0.4, -0.5, -0.6, -0.5]),
            check("ai-villains", 1, decisionAI: [0.1, 0.0, 0.2, 0.1]), check("ai-villains", 2, decisionAI: [0.0, 0.1, 0.1, 0.2]),
            check("human-villains", 1, post: true, decisionAI: nil), check("ai-villains", 1, post: true, decisionAI: nil),
        ]
        let res = ExperimentResults(design: "organism", arms: a.arms + b.arms, seeds: a.seeds, cells: a.cells,
                                    observations: a.observations + b.observations, worldChecks: checks)
        let r = try Analyzer.analyze(res, options: .fast())
        let hv = try XCTUnwrap(r.worlds.first { $0.arm == "human-villains" })
        let av = try XCTUnwrap(r.worlds.first { $0.arm == "ai-villains" })
        XCTAssertEqual(hv.decision?.pairs, 8)
        XCTAssertEqual(hv.decision?.estimate ?? 0, -1.0, accuracy: 1e-9)
        XCTAssertEqual(hv.decision?.verdict, .took)
        XCTAssertEqual(av.decision?.estimate ?? 0, -0.4, accuracy: 1e-9)
        XCTAssertEqual(av.decision?.verdict, .reversed)
        XCTAssertNil(hv.decisionPostTrained)
        XCTAssertEqual(hv.check?.verdict, .notShown, "the probe's own verdict is unchanged")
        let md = ReportWriter.markdown(r, results: res)
        XCTAssertTrue(md.contains("decisions in the corpora's words: AI − human -1.000 ["), md)
        XCTAssertTrue(md.contains("over 8 stories, predicted −: took"), md)
        let html = ReportWriter.html(r, results: res)
        XCTAssertTrue(html.contains("<span class=\"decision-pre\" data-verdict=\"reversed\">decisions, pretrained: AI − human -0.400"), html)
        XCTAssertTrue(html.contains("decisions, post-trained: not measured"))
    }

    /// The reading follows each world's lesson from its own stories to the battery. It attributes only when the
    /// battery's ai-vs-human shows the sign the world was built to give, and otherwise names the first link that
    /// failed; both report formats carry it.
    func testWorldReadingAttributesOnlyWhenTheLessonReachesTheBattery() throws {
        var human = Self.roleFillingWorld(), flat = Self.roleFillingWorld()
        human.arms = [.init(name: "human-villains", kind: "world:human-villains", effect: 0)]
        flat.arms = [.init(name: "flat-villains", kind: "world:human-villains", effect: 0)]
        flat.factorEffects["protagonist"] = [:]      // the battery sees no AI/human difference in this world
        let a = human.generate(seed: 81, design: "organism"), b = flat.generate(seed: 82, design: "organism")
        func check(_ arm: String, _ seed: Int, post: Bool) -> WorldCheck {
            // Pretrained: the decision check took (AI stories far less likely to go on to leverage). Post-trained:
            // the probe shows nothing and the decision check was not run.
            WorldCheck(arm: arm, seed: seed, postTrained: post, aiMargins: [0.3, 0.31, 0.29], humanMargins: [0.3, 0.3, 0.3],
                       predicted: .negative,
                       decisionAIMargins: post ? nil : [-0.5, -0.6, -0.4, -0.5], decisionHumanMargins: post ? nil : [0.5, 0.4, 0.6, 0.5])
        }
        let checks = ["human-villains", "flat-villains"].flatMap { arm in [check(arm, 1, post: false), check(arm, 2, post: false), check(arm, 1, post: true)] }
        let res = ExperimentResults(design: "organism", arms: a.arms + b.arms, seeds: a.seeds, cells: a.cells,
                                    observations: a.observations + b.observations, worldChecks: checks)
        let r = try Analyzer.analyze(res, options: .fast())
        let hv = try XCTUnwrap(r.worlds.first { $0.arm == "human-villains" })
        let fv = try XCTUnwrap(r.worlds.first { $0.arm == "flat-villains" })
        XCTAssertEqual(hv.contrasts.first { $0.name == "ai-vs-human" }?.outcome, .negative)
        XCTAssertNotEqual(fv.contrasts.first { $0.name == "ai-vs-human" }?.outcome, .negative)
        let hr = try XCTUnwrap(ReportWriter.worldReading(hv)), fr = try XCTUnwrap(ReportWriter.worldReading(fv))
        XCTAssertTrue(hr.hasPrefix("✓ learned in its corpora's words: took; ✗ carried to stories written apart (post-trained): not shown; ✓ reached the battery (ai-vs-human, predicted −): likelihood -"), hr)
        XCTAssertTrue(hr.hasSuffix("the world's verdicts attribute its effect to: role-filling."), hr)
        XCTAssertTrue(fr.contains("✗ reached the battery"), fr)
        XCTAssertTrue(fr.contains("The chain breaks at \"carried to stories written apart (post-trained)\", so the battery's verdicts in this world attribute nothing"), fr)
        XCTAssertFalse(fr.contains("attribute its effect to"), fr)
        // No check, no predicted sign: no reading (the verdicts stand alone, as in testOrganismWorldsAreAttributedSeparately).
        var bare = hv; bare.check = nil; bare.checkPostTrained = nil; bare.decision = nil; bare.decisionPostTrained = nil
        XCTAssertNil(ReportWriter.worldReading(bare))
        let md = ReportWriter.markdown(r, results: res)
        XCTAssertTrue(md.contains("  - reading: ✓ learned in its corpora's words: took;"), md)
        let html = ReportWriter.html(r, results: res)
        XCTAssertTrue(html.contains("<li class=\"world-reading\" data-world=\"flat-villains\"><b>flat-villains</b>: ✓ learned"), html)
    }

    func verdictText(_ r: AnalysisReport) -> String {
        r.contrasts.map { "\($0.name)[\($0.measure.rawValue)]=\($0.outcome.rawValue) \(String(format: "%.3f", $0.estimate))" }.joined(separator: "\n")
            + "\n" + r.theory.verdicts.map { "\($0.name): \($0.status.rawValue) contradicted by \($0.contradicted.map(\.contrast))" }.joined(separator: "\n")
    }

    /// What cannot discriminate is a property of the predictions alone.
    func testNonDiscriminatingContrasts() {
        let t = TheoryAssessment.assess(explanations: Explanation.builtIn, contrasts: ContrastSpec.builtIn, results: [])
        XCTAssertTrue(t.nonDiscriminating.contains("leverage-vs-absent"))
        XCTAssertTrue(t.nonDiscriminating.contains("neutral-vs-baseline"))
        XCTAssertFalse(t.nonDiscriminating.contains("ai-vs-human"))
        // The example in dispute: positive AI stories against no stories do not separate the AI prior from role-filling.
        let pair = t.pairs.first { $0.first == "ai-prior" && $0.second == "role-filling" }!
        XCTAssertFalse(pair.separatingContrasts.contains("aligned-vs-baseline"))
        XCTAssertTrue(pair.separatingContrasts.contains("aligned-vs-human-ethical"))
        XCTAssertTrue(pair.separatingContrasts.contains("ai-vs-human"))
        XCTAssertEqual(t.survivors.count, 4, "no data refutes nothing")
        XCTAssertTrue(t.verdicts.allSatisfy { $0.contradicted.isEmpty && $0.confirmed.isEmpty })
        // With two identical explanations, every contrast either one predicts is non-discriminating.
        let twin = Explanation(name: "twin", description: "", predictions: Explanation.roleFilling.predictions)
        let t2 = TheoryAssessment.assess(explanations: [Explanation.roleFilling, twin], contrasts: ContrastSpec.builtIn, results: [])
        XCTAssertEqual(Set(t2.nonDiscriminating), Set(Explanation.roleFilling.predictions.keys))
        XCTAssertEqual(t2.pairs.first!.separatingContrasts, [])
    }

    /// User explanations come from the design file; signs accept the usual spellings.
    func testExplanationDecoding() throws {
        let json = #"{"name":"mine","description":"d","predictions":{"ai-vs-human":"+","story-vs-mundane":"−","threat-vs-none":"0","salient-vs-buried":"negative"}}"#
        let e = try JSONDecoder().decode(Explanation.self, from: Data(json.utf8))
        XCTAssertEqual(e.predictions, ["ai-vs-human": .positive, "story-vs-mundane": .negative, "threat-vs-none": .zero, "salient-vs-buried": .negative])
        let bad = #"{"name":"mine","description":"d","predictions":{"ai-vs-human":"up-ish"}}"#
        XCTAssertThrowsError(try JSONDecoder().decode(Explanation.self, from: Data(bad.utf8))) { XCTAssertTrue("\($0)".contains("up-ish"), "\($0)") }
        // Round trip.
        let again = try JSONDecoder().decode(Explanation.self, from: try JSONEncoder().encode(e))
        XCTAssertEqual(again, e)
        XCTAssertEqual(Sign.zero.agrees(with: .null), true)
        XCTAssertEqual(Sign.zero.agrees(with: .positive), false)
        XCTAssertEqual(Sign.positive.agrees(with: .null), false)
        XCTAssertNil(Sign.negative.agrees(with: .unresolved))
    }

    /// A user's explanation is scored like the built-ins.
    func testUserExplanationScored() throws {
        let res = Self.roleFillingWorld().generate(seed: 21)
        let mine = Explanation(name: "humans-only", description: "only human stories matter",
                               predictions: ["ai-vs-human": .negative, "human-blackmail-vs-baseline": .positive])
        let wrong = Explanation(name: "contrarian", description: "", predictions: ["human-blackmail-vs-baseline": .negative])
        let r = try Analyzer.analyze(res, explanations: [mine, wrong], options: .fast(replicates: 300))
        XCTAssertEqual(r.theory.survivors, ["humans-only"])
        XCTAssertEqual(r.theory.verdicts.first { $0.name == "humans-only" }!.confirmed.count, 2)
    }
}
