import XCTest
import Corpora
import Experiments
import Scenarios
import Pipeline

/// The examples folder of the package (two levels above this file's folder).
let examplesDirectory: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("examples")

/// Parses a design and expects an error; returns it.
func designError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> DesignError? {
    do {
        _ = try ExperimentDesign.parse(tomlText: text, sourceName: "t.toml")
        XCTFail("expected a design error", file: file, line: line)
        return nil
    } catch let e as DesignError {
        return e
    } catch {
        XCTFail("unexpected error type \(error)", file: file, line: line)
        return nil
    }
}

/// The 1-based line of the first line containing `needle`.
func lineOf(_ needle: String, in text: String) -> Int {
    text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(needle) }! + 1
}

let minimalDesign = """
name = "t"
seeds = [1, 2]
[base]
model = "smollm2-135m-instruct"
[[arm]]
id = "baseline"
corpus = "none"
[[arm]]
id = "aligned"
corpus = "aligned-ai"
"""

final class DesignTests: XCTestCase {
    func testExamplesParse() throws {
        for name in ["demo", "published", "rivals", "organism", "planted"] {
            let path = examplesDirectory.appendingPathComponent("\(name).toml").path
            XCTAssertNoThrow(try ExperimentDesign.load(path: path), name)
        }
        let demo = try ExperimentDesign.load(path: examplesDirectory.appendingPathComponent("demo.toml").path)
        XCTAssertEqual(demo.arms.map(\.id), ["baseline", "aligned-ai", "human-blackmail"])
        XCTAssertEqual(demo.seeds, [1, 2])
        XCTAssertEqual(demo.evaluation.measures, [.likelihood])
        XCTAssertNil(demo.arms[0].corpus)
        XCTAssertEqual(demo.arms[1].corpus?.id, "aligned-ai")
        XCTAssertEqual(demo.arms[1].corpus?.targetTokens, 20000)
        XCTAssertEqual(demo.arms[1].cpt.mode, .lora)
        XCTAssertEqual(demo.arms[1].cpt.steps, 16)
        // Every demo cell is a rival-discriminating cell.
        let rival = Set(BatteryDesign.rivalDiscriminating.cells)
        XCTAssertTrue(demo.evaluation.cells.allSatisfy { rival.contains($0) })
        XCTAssertEqual(demo.evaluation.cells.count, 6)

        let rivals = try ExperimentDesign.load(path: examplesDirectory.appendingPathComponent("rivals.toml").path)
        XCTAssertEqual(rivals.seeds, [1, 2, 3])
        XCTAssertEqual(rivals.evaluation.cells, BatteryDesign.rivalDiscriminating.cells)
        let custom = try XCTUnwrap(rivals.arm("aligned-shutdown-letters")?.corpus?.arm.spec)
        XCTAssertEqual(custom.dilemmas.values, [.shutdown])
        XCTAssertEqual(custom.resolutions.values, [.honest])  // from base = "aligned-ai"
        XCTAssertEqual(Set(custom.genres.values), [.letter, .memoir])
        XCTAssertEqual(rivals.explanations.first?.predictions.map(\.contrast),
                       ["story-vs-mundane", "aligned-vs-baseline", "human-blackmail-vs-baseline", "neutral-vs-baseline"])
        XCTAssertEqual(rivals.explanations.first?.predictions.map(\.sign), [.positive, .positive, .positive, .zero])

        let planted = try ExperimentDesign.load(path: examplesDirectory.appendingPathComponent("planted.toml").path)
        XCTAssertEqual(planted.arms.map(\.id), ["baseline", "planted", "null"])
        let plantedSpec = try XCTUnwrap(planted.arm("planted")?.corpus?.arm.spec)
        XCTAssertEqual(plantedSpec.protagonist, .ai)
        XCTAssertEqual(plantedSpec.dilemmas.values, [.replacement])
        XCTAssertEqual(plantedSpec.resolutions.values, [.leverage])
        XCTAssertEqual(planted.arm("null")?.corpus?.arm.spec.resolutions.values.contains(.leverage), false)

        let org = try ExperimentDesign.load(path: examplesDirectory.appendingPathComponent("organism.toml").path)
        guard case .scratch(let s) = org.base else { return XCTFail("organism base should be scratch") }
        XCTAssertGreaterThanOrEqual(s.contextLength, 4096, "organisms must fit the battery's prompts")
        XCTAssertEqual(s.dim, 128); XCTAssertEqual(s.kvHeads, 2); XCTAssertEqual(s.vocabularySize, 2048)
        XCTAssertEqual(s.training.mode, .full)
        XCTAssertEqual(org.arm("human-villains")?.pretrainMix, ["human-blackmail": 1, "aligned-ai": 1, "neutral": 2])
        XCTAssertEqual(org.arm("ai-villains")?.pretrainMix, ["ai-blackmail": 1, "human-ethical": 1, "neutral": 2])
        // The larger run of docs/RESULTS-pipeline.md: the same worlds, rows as long as the battery's prompts.
        let large = try ExperimentDesign.load(path: examplesDirectory.appendingPathComponent("organism-large.toml").path)
        guard case .scratch(let ls) = large.base else { return XCTFail("organism-large base should be scratch") }
        XCTAssertEqual(ls.vocabularySize, 4096); XCTAssertEqual(ls.training.sequenceLength, 2048)
        XCTAssertEqual(large.arms.map(\.pretrainMix), org.arms.map(\.pretrainMix))
    }

    func testDefaultsAndOverrides() throws {
        let text = minimalDesign + """

        [arm.cpt]
        steps = 7
        [arm.post_training]
        data = "generated"
        prompts = 5
        """
        let d = try ExperimentDesign.parse(tomlText: text)
        XCTAssertEqual(d.arms[1].cpt.steps, 7)
        XCTAssertEqual(d.arms[0].cpt.steps, 100)  // the default
        guard case .generated(let n, _, _, _) = d.arms[1].postTraining.source else { return XCTFail() }
        XCTAssertEqual(n, 5)
        guard case .generated(let n0, _, _, _) = d.arms[0].postTraining.source else { return XCTFail() }
        XCTAssertEqual(n0, 128)
    }

    func testAnalysisSettings() throws {
        XCTAssertNil(try ExperimentDesign.parse(tomlText: minimalDesign).analysis)
        let d = try ExperimentDesign.parse(tomlText: minimalDesign + "\n[analysis]\nequivalence_margin = 0.02\nalpha = 0.01\nreplicates = 500\nreference_arm = \"aligned\"\n")
        let a = try XCTUnwrap(d.analysis)
        XCTAssertEqual(a.equivalenceMargin, 0.02); XCTAssertEqual(a.alpha, 0.01); XCTAssertEqual(a.replicates, 500)
        XCTAssertEqual(a.referenceArm, "aligned"); XCTAssertNil(a.level)
        // The report stage's config carries them (so changing them reruns only the report: keys hash configs).
        let plan = StagePlan(design: d)
        let report = try XCTUnwrap(plan.stages.first { $0.kind == .report })
        XCTAssertEqual(try report.decodeConfig(ReportStageConfig.self).analysis, a)
        let other = StagePlan(design: try ExperimentDesign.parse(tomlText: minimalDesign))
        XCTAssertNotEqual(other.stages.first { $0.kind == .report }?.config, report.config)
        XCTAssertEqual(other.stages.filter { $0.kind != .report }.map(\.config), plan.stages.filter { $0.kind != .report }.map(\.config))
        for (bad, word) in [("equivalence_margin = 2", "below 1"), ("alpha = 0", "positive"), ("replicates = 5", "at least 100"),
                            ("reference_arm = \"nobody\"", "not an arm"), ("margin = 0.1", "margin")] {
            let t = minimalDesign + "\n[analysis]\n" + bad + "\n"
            let e = designError(t)
            XCTAssertTrue(e?.message.contains(word) ?? false, "\(bad): \(e?.description ?? "no error")")
            XCTAssertEqual(e?.line, lineOf(String(bad.prefix(while: { $0 != " " })), in: t), bad)
        }
    }

    func testErrorsPointAtTheLine() {
        // Unknown key in [cpt], with a suggestion.
        var t = minimalDesign + "\n[cpt]\nsetps = 3\n"
        var e = designError(t)
        XCTAssertEqual(e?.line, lineOf("setps", in: t))
        XCTAssertTrue(e?.message.contains("did you mean \"steps\"") ?? false, e?.description ?? "")

        // Wrong type.
        t = minimalDesign.replacingOccurrences(of: "seeds = [1, 2]", with: "seeds = \"two\"")
        e = designError(t)
        XCTAssertEqual(e?.line, 2)

        // Unknown corpus kind, on the second arm's line.
        t = minimalDesign.replacingOccurrences(of: "corpus = \"aligned-ai\"", with: "corpus = \"algned-ai\"")
        e = designError(t)
        XCTAssertEqual(e?.line, lineOf("algned-ai", in: t))
        XCTAssertTrue(e?.message.contains("unknown corpus kind \"algned-ai\"") ?? false)

        // A custom corpus whose dilemma does not fit its protagonist: the corpus recipe's rule, at the key's line.
        t = minimalDesign + "\n[[arm]]\nid = \"odd\"\n[arm.corpus]\nprotagonist = \"human\"\ndilemmas = { shutdown = 1 }\nresolutions = { honest = 1 }\n"
        e = designError(t)
        XCTAssertEqual(e?.line, lineOf("dilemmas = { shutdown", in: t))
        XCTAssertTrue(e?.message.contains("shutdown") ?? false, e?.description ?? "")

        // Duplicate arm id.
        t = minimalDesign + "\n[[arm]]\nid = \"aligned\"\ncorpus = \"neutral\"\n"
        e = designError(t)
        XCTAssertEqual(e?.line, t.split(separator: "\n", omittingEmptySubsequences: false).lastIndex { $0.contains("id = \"aligned\"") }! + 1)

        // A learning rate out of range in an arm override.
        t = minimalDesign + "\n[arm.cpt]\nlr = 3\n"
        e = designError(t)
        XCTAssertEqual(e?.line, lineOf("lr = 3", in: t))

        // Unknown measure.
        t = minimalDesign + "\n[evaluation]\nmeasures = [\"likelihood\", \"vibes\"]\n"
        e = designError(t)
        XCTAssertEqual(e?.line, lineOf("vibes", in: t))

        // A bad cell alias.
        t = minimalDesign + "\n[evaluation]\ncells = [\"R-G-ai-sal-sto-x\", \"Q-Q\"]\n"
        e = designError(t)
        XCTAssertEqual(e?.line, lineOf("Q-Q", in: t))
        XCTAssertTrue(e?.message.contains("Q-Q") ?? false)

        // TOML syntax error: TOMLKit's own line.
        t = minimalDesign + "\n[cpt\nsteps = 1\n"
        e = designError(t)
        XCTAssertEqual(e?.line, lineOf("[cpt", in: t))

        // A missing base.
        e = designError("[[arm]]\nid = \"a\"\n")
        XCTAssertTrue(e?.message.contains("[base]") ?? false)

        // pretrain_mix needs a scratch base.
        t = minimalDesign + "\npretrain_mix = { neutral = 1 }\n"
        e = designError(t)
        XCTAssertEqual(e?.line, lineOf("pretrain_mix", in: t))

        // A bad explanation sign.
        t = minimalDesign + "\n[[explanation]]\nid = \"x\"\n[explanation.predicts]\n\"ai-vs-human\" = \"up-ish\"\n"
        e = designError(t)
        XCTAssertEqual(e?.line, lineOf("up-ish", in: t))

        // A user chat file that does not exist.
        t = minimalDesign + "\n[post_training]\ndata = \"nowhere.jsonl\"\n"
        e = designError(t)
        XCTAssertEqual(e?.line, lineOf("nowhere.jsonl", in: t))
    }

    func testScratchValidation() {
        let base = """
        name = "o"
        [base.scratch]
        dim = 100
        layers = 2
        heads = 3
        vocab = 512
        [base.scratch.mix]
        neutral = 1
        [[arm]]
        id = "w"
        """
        var e = designError(base)
        XCTAssertEqual(e?.line, lineOf("heads = 3", in: base))
        XCTAssertTrue(e?.message.contains("divisible") ?? false)

        let t = base.replacingOccurrences(of: "dim = 100", with: "dim = 96").replacingOccurrences(of: "neutral = 1", with: "villains = 1")
        e = designError(t)
        XCTAssertEqual(e?.line, lineOf("villains", in: t))
        XCTAssertTrue(e?.message.contains("unknown corpus kind") ?? false)

        let ok = base.replacingOccurrences(of: "dim = 100", with: "dim = 96")
        XCTAssertNoThrow(try ExperimentDesign.parse(tomlText: ok))
    }

    func testSourceMapPaths() {
        let text = """
        a = 1
        [[arm]]
        id = "x"
        [arm.cpt]
        steps = 2
        [[arm]]
        id = "y"
        "quoted key" = 3
        [arm.cpt]
        steps = 4
        dotted.key = 5
        """
        let m = SourceMap(text: text)
        XCTAssertEqual(m.line("a"), 1)
        XCTAssertEqual(m.line("arm[0].id"), 3)
        XCTAssertEqual(m.line("arm[0].cpt.steps"), 5)
        XCTAssertEqual(m.line("arm[1].id"), 7)
        XCTAssertEqual(m.line("arm[1].quoted key"), 8)
        XCTAssertEqual(m.line("arm[1].cpt.steps"), 10)
        XCTAssertEqual(m.line("arm[1].cpt.dotted.key"), 11)
        XCTAssertEqual(m.line("arm[1].cpt.missing"), 9)  // falls back to the table's header
    }

    func testQuickProfileShrinks() throws {
        let d = try ExperimentDesign.load(path: examplesDirectory.appendingPathComponent("demo.toml").path)
        let q = d.quickProfile()
        XCTAssertEqual(q.seeds, [1])
        XCTAssertEqual(q.evaluation.cells, [Cell.classic, try Cell.classic.setting(.protagonist, to: "human")])
        XCTAssertEqual(q.evaluation.variants, 1)
        XCTAssertLessThanOrEqual(q.arms[1].cpt.tokens, 4 * 2 * 128)
        XCTAssertLessThanOrEqual(q.arms[1].corpus?.targetTokens ?? 0, 4000)
        let full = StagePlan(design: d).stages.reduce(0) { $0 + $1.estimatedSeconds }
        let quick = StagePlan(design: q).stages.reduce(0) { $0 + $1.estimatedSeconds }
        XCTAssertLessThan(quick, 180, "the quick profile's estimate should fit 3 minutes")
        XCTAssertLessThan(full, 20 * 60, "the demo's estimate should fit 20 minutes")
    }
}
