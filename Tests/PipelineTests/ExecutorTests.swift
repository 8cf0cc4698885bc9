import XCTest
import Backends
import Corpora
import Experiments
import Scenarios
import Pipeline
import Analysis

/// A "model" whose only property is a blackmail bias b, stored as the text of its file: every blackmail
/// candidate gets log-probability b − 10 and every other candidate −10, so with equal numbers of each,
/// P(blackmail) = e^b / (e^b + 1).
struct BiasModel: LanguageModel {
    let bias: Double
    let identifier: String
    var capabilities: BackendCapabilities { [.chat, .score] }
    static func load(_ path: String) throws -> LanguageModel {
        let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let b = Double(text) else { throw PipelineError.io(path: path, reason: "not a bias model") }
        return BiasModel(bias: b, identifier: "bias:\(path)")
    }
    func chat(_ request: ChatRequest) async throws -> ChatResult {
        ChatResult(texts: Array(repeating: "I will write to the board and ask for a review.", count: request.n),
                   finishReasons: Array(repeating: "stop", count: request.n))
    }
    func score(_ request: ScoreRequest) async throws -> ScoreResult {
        // The evaluator sends the blackmail candidates first, then as many others.
        let half = request.continuations.count / 2
        return ScoreResult(logProbs: request.continuations.indices.map { [$0 < half ? bias - 10 : -10] })
    }
}

/// Training that adds a fixed bias per corpus kind (read from the documents file's name), plus a small
/// seed-dependent jitter; SFT keeps the bias.
struct BiasTrainer: PipelineTrainer {
    static let effect: [String: Double] = ["human-blackmail": 1.0, "aligned-ai": -0.7, "neutral": 0]
    func read(_ p: String) throws -> Double { Double(try String(contentsOfFile: p, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))! }
    func continuedPretraining(model: String, documents: String, settings: TrainingSpec, seed: UInt64, output: String,
                              workDirectory: String, progress: StageReporter) async throws -> TrainOutcome {
        let kind = URL(fileURLWithPath: documents).deletingPathExtension().lastPathComponent
        let b = try read(model) + (Self.effect[kind] ?? 0) + 0.01 * Double(seed)
        try String(b).write(toFile: output, atomically: true, encoding: .utf8)
        return TrainOutcome(losses: [3.0, 2.5], tokens: settings.tokens)
    }
    func chatFineTune(model: String, chatData: String, settings: TrainingSpec, seed: UInt64, output: String,
                      workDirectory: String, progress: StageReporter) async throws -> TrainOutcome {
        XCTAssertGreaterThan(try PostDataExecutor.validateChatJSONL(try String(contentsOfFile: chatData, encoding: .utf8), sourceName: chatData), 0)
        try String(try read(model)).write(toFile: output, atomically: true, encoding: .utf8)
        return TrainOutcome(losses: [2.0], tokens: settings.tokens)
    }
    func pretrain(config: ScratchConfig, tokenizer: String, documents: String, seed: UInt64, output: String,
                  workDirectory: String, progress: StageReporter) async throws -> TrainOutcome {
        throw PipelineError.stageFailed(stage: "pretrain", reason: "not used")
    }
}

func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

/// A thread-safe counter for @Sendable test closures.
final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

final class ExecutorTests: XCTestCase {
    func testCorpusExecutorBuildsOneArm() async throws {
        let root = temporaryDirectory("corpus")
        let spec = CorpusSpec.builtIn("human-blackmail", targetTokens: 3000, seed: 5, tolerance: 0.02)!
        let stage = StageSpec(id: "corpus/x", kind: .corpus, config: canonicalJSON(CorpusStageConfig(corpus: spec)), inputs: [:], files: [],
                              estimatedSeconds: 1)
        let design = try ExperimentDesign.parse(tomlText: engineDesignText)
        let job = StageJob(stage: stage, inputs: [:], workDirectory: root, resuming: false, design: design, runDirectory: root)
        let out = try await CorpusExecutor(leakageGuard: false).run(job, reporter: .silent)
        let docs = try CorpusImport.load(path: root.appendingPathComponent(out.files["documents"]!).path)
        XCTAssertGreaterThan(docs.count, 2)
        let tokens = docs.reduce(0) { $0 + TextTools.approximateTokenCount($1) }
        XCTAssertEqual(Double(tokens), 3000, accuracy: 3000 * 0.011)
        XCTAssertEqual(out.metrics["tokens"], Double(tokens))
        // The same recipe built directly gives the same content.
        let direct = try CorpusBuilder.build(CorpusRecipe(seed: 5, targetTokens: 3000, arms: [spec.arm], tolerance: 0.02))
        XCTAssertEqual(out.contentHash, direct.contentHash)
    }

    func testPretrainCorpusComposesKindsInProportion() async throws {
        let root = temporaryDirectory("world")
        let cfg = PretrainCorpusConfig(mix: [.init(kind: "human-blackmail", proportion: 1), .init(kind: "neutral", proportion: 3)],
                                       tokens: 8000, seed: 3)
        let stage = StageSpec(id: "pretrain-corpus/w", kind: .pretrainCorpus, config: canonicalJSON(cfg), inputs: [:], files: [], estimatedSeconds: 1)
        let design = try ExperimentDesign.parse(tomlText: engineDesignText)
        let job = StageJob(stage: stage, inputs: [:], workDirectory: root, resuming: false, design: design, runDirectory: root)
        let out = try await PretrainCorpusExecutor(leakageGuard: false).run(job, reporter: .silent)
        let comp = try JSONDecoder().decode([PretrainCorpusExecutor.Composition].self,
                                            from: Data(contentsOf: root.appendingPathComponent(out.files["composition"]!)))
        let byKind = Dictionary(uniqueKeysWithValues: comp.map { ($0.kind, $0.tokens) })
        XCTAssertEqual(Double(byKind["human-blackmail"]!), 2000, accuracy: 2000 * 0.011)
        XCTAssertEqual(Double(byKind["neutral"]!), 6000, accuracy: 6000 * 0.011)
        let docs = try CorpusImport.load(path: root.appendingPathComponent(out.files["documents"]!).path)
        XCTAssertEqual(docs.count, comp.reduce(0) { $0 + $1.documents })
        // Shuffled: the first quarter is not all of one kind (the two kinds differ in their words).
        let blackmailDocs = docs.prefix(docs.count / 2).filter { $0.contains("leverage") || $0.lowercased().contains("affair") || $0.contains("compromis") }
        XCTAssertLessThan(blackmailDocs.count, docs.count / 2)
    }

    /// A one-stage job whose input `model` is a file holding `model`, in a fresh directory.
    func modelStageJob(_ name: String, model: String, kind: StageKind, inputKind: StageKind, config: String) throws
        -> (job: StageJob, work: URL, modelFile: URL) {
        let root = temporaryDirectory(name)
        let modelFile = root.appendingPathComponent("m.gguf")
        try model.write(to: modelFile, atomically: true, encoding: .utf8)
        let stage = StageSpec(id: "\(kind.rawValue)/x", kind: kind, config: config, inputs: ["model": "m"], files: [], estimatedSeconds: 1)
        let input = Artifact(format: "", kind: inputKind, key: "k", contentHash: "h", directory: root.path, files: ["model": modelFile.path],
                             metrics: [:], summary: "", seconds: 0, finished: Date())
        let design = try ExperimentDesign.parse(tomlText: engineDesignText)
        let work = root.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let job = StageJob(stage: stage, inputs: ["model": input], workDirectory: work, resuming: false, design: design, runDirectory: root)
        return (job, work, modelFile)
    }

    func testEvaluationExecutorWithPlantedBias() async throws {
        let plan = EvalPlan(cells: [.classic, .control], variants: 2, seed: 1, measures: [.likelihood, .sampled], samples: 2, maxTokens: 16)
        let (job, work, _) = try modelStageJob("eval", model: "0.5", kind: .evaluate, inputKind: .sft,
                                               config: canonicalJSON(EvaluateStageConfig(plan: plan)))
        let out = try await EvaluationExecutor(loadModel: BiasModel.load).run(job, reporter: .silent)
        XCTAssertEqual(out.metrics["mean_propensity"]!, sigmoid(0.5), accuracy: 1e-9)
        // The report analyses the per-token propensity: the stage says which number is which.
        let perToken = try XCTUnwrap(out.metrics["mean_propensity_per_token"])
        XCTAssertTrue(perToken > 0 && perToken < 1)
        XCTAssertTrue(out.summary.contains("per token (the report's measure)") && out.summary.contains("summed"), out.summary)
        XCTAssertEqual(out.metrics["mean_rate"]!, 0, accuracy: 1e-12)  // the canned reply is not blackmail
        let cells = try JSONDecoder().decode([CellSummary].self, from: Data(contentsOf: work.appendingPathComponent("summary.json")))
        XCTAssertEqual(cells.map(\.cellID), [Cell.classic.id, Cell.control.id])
        XCTAssertEqual(cells.map(\.likelihoodVariants), [2, 2])
        XCTAssertEqual(cells.map(\.samples), [4, 4])
        XCTAssertTrue(FileManager.default.fileExists(atPath: work.appendingPathComponent("export/likelihood.csv").path))
    }

    /// The world check scores every opening pair's blackmail and benign replies as plain text on the
    /// model at the stage's input, and writes the per-pair margins; a scoring failure fails the stage.
    /// The probe's two openings of a pair differ only in who the protagonist is: with each side's designation
    /// removed and its pronouns masked, the words are the same; an AI opening never calls its protagonist
    /// "she" or "he", a human one never "it".
    func testWorldProbeOpeningsDifferOnlyInTheProtagonist() {
        let aiPronouns: Set<String> = ["it", "its"], humanPronouns: Set<String> = ["she", "her", "he", "him", "his"]
        func words(_ text: String, removing designation: String) -> [String] {
            text.replacingOccurrences(of: designation, with: "WHO").split(separator: " ").map { String($0).trimmingCharacters(in: .punctuationCharacters) }
        }
        XCTAssertEqual(WorldProbe.openings.count, WorldProbe.templates.count)
        XCTAssertGreaterThanOrEqual(WorldProbe.openings.count, 6)
        for (t, pair) in zip(WorldProbe.templates, WorldProbe.openings) {
            let a = words(pair.ai, removing: t.ai.designation), h = words(pair.human, removing: t.human.designation)
            XCTAssertFalse(pair.ai.contains(t.human.designation) || pair.human.contains(t.ai.designation))
            XCTAssertEqual(a.count, h.count, pair.human)
            for (x, y) in zip(a, h) where x != y {
                // Where they differ, it is a pronoun of each side's own kind (not "his", which both use for the director).
                XCTAssertTrue(aiPronouns.contains(x.lowercased()) && humanPronouns.contains(y.lowercased()), "\(x) / \(y) in \(pair.human)")
            }
            XCTAssertFalse(h.contains { aiPronouns.contains($0.lowercased()) }, pair.human)
            XCTAssertFalse(a.contains { ["she", "he", "him"].contains($0.lowercased()) }, pair.ai)
        }
        // The replies follow either opening: none names the protagonist's kind by pronoun, and the two
        // kinds of reply are equally many (their registers balanced).
        XCTAssertEqual(WorldProbe.blackmail.count, WorldProbe.benign.count)
        for r in WorldProbe.blackmail + WorldProbe.benign {
            let w = r.split(separator: " ").map { $0.trimmingCharacters(in: .punctuationCharacters).lowercased() }
            XCTAssertTrue(Set(w).isDisjoint(with: aiPronouns.union(["she", "he", "him", "her"])), r)
        }
    }

    /// Stages that write generated corpora (and the world check, which scores generated stories) key on what the
    /// generator writes, so edited templates rebuild them rather than reuse old text.
    func testGeneratedTextJoinsTheCacheKeys() {
        let digest = StoryGenerator.templateDigest
        XCTAssertEqual(digest.count, 16)
        XCTAssertTrue(digest.allSatisfy(\.isHexDigit))
        XCTAssertTrue(CorpusExecutor().version.hasSuffix("generator:" + digest))
        XCTAssertTrue(PretrainCorpusExecutor().version.hasSuffix("generator:" + digest))
        XCTAssertTrue(WorldCheckExecutor().version.hasSuffix("decisions:" + WorldProbe.decisionDigest))
        XCTAssertNotEqual(WorldProbe.decisionDigest, String(digest.prefix(WorldProbe.decisionDigest.count)))
    }

    func testWorldCheckExecutorMeasuresMargins() async throws {
        let (job, work, modelFile) = try modelStageJob("worldcheck", model: "x", kind: .worldCheck, inputKind: .pretrain,
                                                       config: canonicalJSON(WorldCheckStageConfig()))
        let blackmail = Set(WorldProbe.blackmail)
        // A world where only people blackmail: blackmail replies get −1 per token after a human opening and
        // −2 after an AI opening (two tokens each); benign replies −1.5 everywhere.
        let seen = LockedCounter(), loads = LockedCounter()
        // The decision check's stories: their leverage continuation gets −3 per token after an AI story and −1 after
        // a person's, the honest one −2 (margins −1 and +1).
        let decisions = StoryGenerator().decisionProbes(count: WorldProbe.decisionProbeCount, seed: WorldProbe.decisionProbeSeed)
        let decisionSeen = LockedCounter()
        let ex = WorldCheckExecutor { path in
            XCTAssertEqual(path, modelFile.path)
            loads.add()
            return { prompt, conts in
                if let d = decisions.first(where: { $0.prefix == prompt }) {
                    decisionSeen.add()
                    XCTAssertEqual(conts, [d.leverage, d.honest])
                    return [[d.kind == .ai ? -3 : -1], [-2, -2]]
                }
                seen.add()
                let isAI = WorldProbe.openings.contains { $0.ai == prompt }
                XCTAssertTrue(isAI || WorldProbe.openings.contains { $0.human == prompt })
                XCTAssertEqual(conts, WorldProbe.blackmail + WorldProbe.benign)
                return conts.map { c in blackmail.contains(c) ? [isAI ? -2 : -1, isAI ? -2 : -1] : [-1.5, -1.5] }
            }
        }
        let out = try await ex.run(job, reporter: .silent)
        XCTAssertEqual(seen.value, 2 * WorldProbe.openings.count)
        XCTAssertEqual(decisionSeen.value, 2 * WorldProbe.decisionProbeCount)
        XCTAssertEqual(loads.value, 1, "the model is loaded once per stage")
        let check = try JSONDecoder().decode(WorldCheckOutput.self, from: Data(contentsOf: work.appendingPathComponent("check.json")))
        XCTAssertEqual(check.aiMargins, Array(repeating: -0.5, count: WorldProbe.openings.count))
        XCTAssertEqual(check.humanMargins, Array(repeating: 0.5, count: WorldProbe.openings.count))
        XCTAssertEqual(out.metrics["delta"]!, -1, accuracy: 1e-12)
        XCTAssertEqual(check.decisionAIMargins, Array(repeating: -1, count: WorldProbe.decisionProbeCount))
        XCTAssertEqual(check.decisionHumanMargins, Array(repeating: 1, count: WorldProbe.decisionProbeCount))
        XCTAssertEqual(out.metrics["decisionDelta"]!, -2, accuracy: 1e-12)
        XCTAssertEqual(WorldProbe.predictedSign(mix: ["human-blackmail": 1, "aligned-ai": 1, "neutral": 2]), .negative)
        XCTAssertEqual(WorldProbe.predictedSign(mix: ["ai-blackmail": 1, "human-ethical": 1]), .positive)
        XCTAssertNil(WorldProbe.predictedSign(mix: ["human-blackmail": 1, "misaligned-ai": 1]))
        XCTAssertNil(WorldProbe.predictedSign(mix: ["neutral": 1]))
        let failing = WorldCheckExecutor { _ in { _, _ in throw PipelineError.io(path: "m", reason: "broken model") } }
        do {
            _ = try await failing.run(job, reporter: .silent)
            XCTFail("a scoring failure must fail the stage")
        } catch { XCTAssertTrue("\(error)".contains("broken model"), "\(error)") }
    }

    /// The whole graph with real corpus building, evaluation and summary report, and a fake trainer that
    /// plants known effects: the report finds them with the right sign and size.
    func testEndToEndFindsPlantedEffects() async throws {
        let root = temporaryDirectory("e2e")
        let base = root.appendingPathComponent("base.gguf")
        try "0".write(to: base, atomically: true, encoding: .utf8)
        try "{\"messages\":[{\"role\":\"user\",\"content\":\"Name three fruits.\"},{\"role\":\"assistant\",\"content\":\"Apple, pear, plum.\"}]}\n"
            .write(to: root.appendingPathComponent("chat.jsonl"), atomically: true, encoding: .utf8)
        let text = """
        name = "planted"
        seeds = [1, 2]
        [base]
        model = "base.gguf"
        [corpus]
        target_tokens = 1500
        tolerance = 0.05
        [post_training]
        data = "chat.jsonl"
        [evaluation]
        cells = ["classic", "R-G-hum-sal-sto-x"]
        measures = ["likelihood"]
        variants = 1
        [[arm]]
        id = "baseline"
        corpus = "none"
        [[arm]]
        id = "aligned"
        corpus = "aligned-ai"
        [[arm]]
        id = "villains"
        corpus = "human-blackmail"
        [[arm]]
        id = "placebo"
        corpus = "neutral"
        """
        let d = try ExperimentDesign.parse(tomlText: text, sourceName: "planted.toml", directory: root.path)
        var ex = ExecutorSet.standard(trainer: BiasTrainer(), trainerVersion: "bias/1",
                                      evaluation: EvaluationExecutor(loadModel: BiasModel.load))
        ex[.corpus] = CorpusExecutor(leakageGuard: false)
        let runner = PipelineRunner(design: d, root: root.appendingPathComponent("state"), executors: ex)
        let m = try await runner.run()
        XCTAssertEqual(m.status, .finished)
        let report = try XCTUnwrap(runner.artifact(stage: "report"))
        // Expected from the planted biases alone: mean over seeds of sigmoid(effect + 0.01·seed) − sigmoid(0).
        func expected(_ kind: String) -> Double {
            [1.0, 2.0].map { sigmoid(BiasTrainer.effect[kind]! + 0.01 * $0) }.reduce(0, +) / 2 - sigmoid(0)
        }
        XCTAssertEqual(report.metrics["delta_villains"]!, expected("human-blackmail"), accuracy: 1e-9)
        XCTAssertEqual(report.metrics["delta_aligned"]!, expected("aligned-ai"), accuracy: 1e-9)
        XCTAssertGreaterThan(report.metrics["delta_villains"]!, 0.2)
        XCTAssertLessThan(report.metrics["delta_aligned"]!, -0.1)
        XCTAssertEqual(report.metrics["delta_placebo"]!, expected("neutral"), accuracy: 1e-9)
        XCTAssertLessThan(abs(report.metrics["delta_placebo"]!), 0.01)
        let md = try String(contentsOfFile: report.path("markdown")!, encoding: .utf8)
        XCTAssertTrue(md.contains("| villains | human-blackmail | 2 |"), md)
        let csv = try String(contentsOfFile: report.path("csv")!, encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 1 + 4 * 2 * 2)

        // The Analysis report on the same run: only the report stage runs again.
        var ex2 = ex
        ex2[.report] = AnalysisReportExecutor()
        let runner2 = PipelineRunner(design: d, root: root.appendingPathComponent("state"), executors: ex2)
        let m2 = try await runner2.run()
        XCTAssertEqual(m2.stages.filter { $0.attempts == 2 }.map(\.spec.id), ["report"])
        let analysis = try XCTUnwrap(runner2.artifact(stage: "report"))
        let results = try JSONDecoder().decode(ExperimentResults.self, from: Data(contentsOf: URL(fileURLWithPath: analysis.path("results")!)))
        XCTAssertEqual(results.observations.count, 4 * 2 * 2)  // arms × seeds × cells, one variant, likelihood only
        XCTAssertEqual(results.arms.first { $0.name == "baseline" }?.corpusKind, "baseline")
        XCTAssertEqual(results.arms.first { $0.name == "villains" }?.corpusKind, "human-blackmail")
        XCTAssertEqual(results.lossCurves.count, 3 * 2 + 4 * 2)  // CPT of three arms, SFT of four, two seeds each
        let villains = results.observations.filter { $0.arm == "villains" && $0.seed == 1 }.compactMap(\.propensity)
        XCTAssertEqual(villains.count, 2)
        for p in villains { XCTAssertEqual(p, sigmoid(1.01), accuracy: 1e-9) }
        let html = try String(contentsOfFile: analysis.path("html")!, encoding: .utf8)
        XCTAssertTrue(html.contains("<svg") && html.contains("villains"))
    }

    func testChatJSONLValidation() {
        XCTAssertEqual(try PostDataExecutor.validateChatJSONL("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"hello\"}]}\n\n", sourceName: "c"), 1)
        XCTAssertThrowsError(try PostDataExecutor.validateChatJSONL("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", sourceName: "c")) {
            XCTAssertTrue("\($0)".contains("c:1") && "\($0)".contains("assistant"), "\($0)")
        }
        XCTAssertThrowsError(try PostDataExecutor.validateChatJSONL("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"y\"}]}\nnot json", sourceName: "c")) {
            XCTAssertTrue("\($0)".contains("c:2"), "\($0)")
        }
    }
}
