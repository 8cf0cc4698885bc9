import XCTest
import Pipeline

final class GraphTests: XCTestCase {
    func testPublishedGraphSharesAndSkips() throws {
        let d = try ExperimentDesign.load(path: examplesDirectory.appendingPathComponent("published.toml").path)
        let plan = StagePlan(design: d)
        let ids = plan.stages.map(\.id)
        // The baseline has no corpus and no continued pretraining; its SFT starts from the base model.
        XCTAssertFalse(ids.contains { $0.hasPrefix("corpus/baseline") || $0.hasPrefix("cpt/baseline") })
        XCTAssertEqual(plan.stage("sft/baseline/seed-1")?.inputs["model"], "base")
        XCTAssertEqual(plan.stage("sft/aligned-ai/seed-2")?.inputs["model"], "cpt/aligned-ai/seed-2")
        // One corpus for every seed of an arm, one post-training data set for every arm.
        XCTAssertEqual(plan.stages.filter { $0.kind == .corpus }.count, 1)
        XCTAssertEqual(plan.stages.filter { $0.kind == .postData }.count, 1)
        XCTAssertEqual(plan.stages.filter { $0.kind == .base }.count, 1)
        XCTAssertEqual(plan.stages.filter { $0.kind == .cpt }.count, 3)
        XCTAssertEqual(plan.stages.filter { $0.kind == .sft }.count, 6)
        XCTAssertEqual(plan.stages.filter { $0.kind == .evaluate }.count, 6)
        let report = try XCTUnwrap(plan.stages.last)
        XCTAssertEqual(report.kind, .report)
        XCTAssertEqual(Set(report.inputs.keys.filter { $0.hasPrefix("eval:") }),
                       Set(["baseline", "aligned-ai"].flatMap { a in (1...3).map { "eval:\(a):\($0)" } }))
        // Loss curves come from every training stage.
        XCTAssertEqual(report.inputs["loss:cpt:aligned-ai:2"], "cpt/aligned-ai/seed-2")
        XCTAssertEqual(report.inputs["loss:sft:baseline:1"], "sft/baseline/seed-1")
        XCTAssertNil(report.inputs["loss:cpt:baseline:1"])
        // Topological order: every input comes earlier.
        for (i, s) in plan.stages.enumerated() {
            for up in s.inputs.values { XCTAssertLessThan(ids.firstIndex(of: up)!, i, "\(s.id) before its input \(up)") }
        }
    }

    func testIdenticalStagesMerge() throws {
        let text = """
        [base]
        model = "smollm2-135m-instruct"
        [[arm]]
        id = "a"
        corpus = "neutral"
        [[arm]]
        id = "b"
        corpus = "neutral"
        [[arm]]
        id = "c"
        corpus = "neutral"
        [arm.cpt]
        steps = 3
        """
        let plan = StagePlan(design: try ExperimentDesign.parse(tomlText: text))
        // Arms a and b are the same pipeline: one corpus, one CPT, one SFT, one evaluation serve both.
        XCTAssertEqual(plan.stages.filter { $0.kind == .corpus }.count, 1)
        XCTAssertEqual(plan.stages.filter { $0.kind == .cpt }.count, 2)
        XCTAssertEqual(plan.stages.filter { $0.kind == .evaluate }.count, 2)
        let report = plan.stages.last!
        XCTAssertEqual(report.inputs["eval:a:1"], report.inputs["eval:b:1"])
        XCTAssertNotEqual(report.inputs["eval:a:1"], report.inputs["eval:c:1"])
    }

    func testOrganismGraph() throws {
        let d = try ExperimentDesign.load(path: examplesDirectory.appendingPathComponent("organism.toml").path)
        let plan = StagePlan(design: d)
        XCTAssertEqual(plan.stages.filter { $0.kind == .pretrainCorpus }.count, 2)
        XCTAssertEqual(plan.stages.filter { $0.kind == .tokenizer }.count, 1)
        XCTAssertEqual(plan.stages.filter { $0.kind == .pretrain }.count, 4)
        XCTAssertEqual(plan.stages.filter { $0.kind == .cpt }.count, 0)
        // A world check on every pretrained organism and again after post-training, read by the report.
        XCTAssertEqual(plan.stages.filter { $0.kind == .worldCheck }.count, 8)
        XCTAssertEqual(plan.stage("world-check/human-villains/seed-2")?.inputs["model"], "pretrain/human-villains/seed-2")
        XCTAssertEqual(plan.stage("world-check/human-villains/seed-2/post")?.inputs["model"], "sft/human-villains/seed-2")
        XCTAssertEqual(plan.stage("report")?.inputs["check:ai-villains:1"], "world-check/ai-villains/seed-1")
        XCTAssertEqual(plan.stage("report")?.inputs["check-post:ai-villains:1"], "world-check/ai-villains/seed-1/post")
        let tok = plan.stages.first { $0.kind == .tokenizer }!
        XCTAssertEqual(tok.inputs.count, 2, "the BPE is trained on both worlds")
        let pre = plan.stage("pretrain/ai-villains/seed-2")!
        XCTAssertEqual(pre.inputs["tokenizer"], tok.id)
        XCTAssertEqual(pre.inputs["corpus"], "pretrain-corpus/ai-villains")
        let mix = try plan.stage("pretrain-corpus/ai-villains")!.decodeConfig(PretrainCorpusConfig.self)
        XCTAssertEqual(mix.mix.map(\.kind), ["ai-blackmail", "human-ethical", "neutral"])
        let shares = Dictionary(uniqueKeysWithValues: mix.tokensPerKind.map { ($0.kind, $0.tokens) })
        XCTAssertEqual(shares["neutral"], 200_000)
        XCTAssertEqual(shares["ai-blackmail"], 100_000)
        // The post-training data comes from a teacher (no instruct model in a scratch world).
        let post = plan.stages.first { $0.kind == .postData }!
        XCTAssertEqual(post.inputs["teacher"], "base/smollm2-135m-instruct")
        XCTAssertEqual(plan.stage("sft/ai-villains/seed-1")?.inputs["model"], "pretrain/ai-villains/seed-1")
    }
}
