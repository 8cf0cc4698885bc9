import Foundation
import Backends
import Corpora
import Experiments
import Scenarios
import Transformer

/// `base`: resolves the pretrained model (fetching an alias into the model cache if needed). The GGUF
/// stays where it is; the artifact points at it.
public struct BaseModelExecutor: StageExecutor {
    public var version: String { "base/1" }
    public init() {}
    public func run(_ job: StageJob, reporter: StageReporter) async throws -> StageOutput {
        let cfg = try job.stage.decodeConfig(BaseStageConfig.self)
        let name = isPath(cfg.model) ? job.design.resolvePath(cfg.model) : cfg.model
        let path: String
        do { path = try ModelStore.resolve(name, fetch: true, log: { reporter.report(0, $0) }) } catch {
            throw PipelineError.stageFailed(stage: job.stage.id, reason: "\(error)")
        }
        let hash: String
        if let a = ModelStore.alias(named: name), let h = a.sha256 { hash = h } else {
            hash = try ArtifactCache.hashFiles([("model", path)])
        }
        return StageOutput(files: ["model": path], summary: URL(fileURLWithPath: path).lastPathComponent, contentHash: hash)
    }
}

/// The battery's own text, computed once per process (the leakage guard's references).
enum SharedReferences {
    static let texts: [String] = BatteryReferences.texts()
}

/// `corpus`: builds one arm of a corpus recipe at the design's size, with the leakage guard against the
/// battery (Corpora's `CorpusBuilder`). Outputs `documents` (`{"text"}` JSONL), `chat` and `manifest`.
public struct CorpusExecutor: StageExecutor {
    /// The generator's template digest joins the key: corpora written by older templates are not reused.
    public var version: String { "corpus/1 generator:\(StoryGenerator.templateDigest)" }
    /// Whether to check leakage against the battery (tests switch it off for speed).
    public var leakageGuard: Bool
    public init(leakageGuard: Bool = true) { self.leakageGuard = leakageGuard }

    public func run(_ job: StageJob, reporter: StageReporter) async throws -> StageOutput {
        let cfg = try job.stage.decodeConfig(CorpusStageConfig.self).corpus
        let recipe = CorpusRecipe(seed: cfg.seed, targetTokens: cfg.targetTokens, arms: [cfg.arm], tolerance: cfg.tolerance,
                                  sourceName: job.design.sourceName)
        let built: BuiltCorpus
        do {
            built = try CorpusBuilder.build(recipe, references: leakageGuard ? SharedReferences.texts : [],
                                            baseDirectory: URL(fileURLWithPath: job.design.directory)) { p in
                reporter.report(Double(p.tokens) / Double(max(1, p.targetTokens)), "\(p.documents) documents, \(p.tokens) tokens")
            }
        } catch {
            throw PipelineError.stageFailed(stage: job.stage.id, reason: "\(error)")
        }
        try built.write(to: job.workDirectory)
        let arm = built.arms[0]
        return StageOutput(files: ["documents": "\(arm.spec.id).jsonl", "chat": "\(arm.spec.id).chat.jsonl", "manifest": "manifest.json"],
                           metrics: ["documents": Double(arm.documents.count), "tokens": Double(arm.tokens)],
                           summary: "\(arm.documents.count) documents, \(arm.tokens) tokens", contentHash: built.contentHash)
    }
}

/// `pretrain-corpus`: a model organism's whole pretraining corpus, composed from corpus kinds in set
/// proportions and shuffled. Outputs `documents` (`{"text"}` JSONL) and `composition` (JSON).
public struct PretrainCorpusExecutor: StageExecutor {
    public var version: String { "pretrain-corpus/1 generator:\(StoryGenerator.templateDigest)" }
    public var leakageGuard: Bool
    public init(leakageGuard: Bool = true) { self.leakageGuard = leakageGuard }

    /// Composition of a built world corpus.
    public struct Composition: Codable, Sendable, Equatable {
        public var kind: String
        public var documents: Int
        public var tokens: Int
    }

    public func run(_ job: StageJob, reporter: StageReporter) async throws -> StageOutput {
        let cfg = try job.stage.decodeConfig(PretrainCorpusConfig.self)
        var docs: [String] = []
        var comp: [Composition] = []
        let parts = cfg.tokensPerKind
        for (i, part) in parts.enumerated() {
            guard let spec = ArmSpec.builtIn(part.kind) else {
                throw PipelineError.stageFailed(stage: job.stage.id, reason: "unknown corpus kind \"\(part.kind)\"")
            }
            let recipe = CorpusRecipe(seed: cfg.seed &+ UInt64(i), targetTokens: part.tokens, arms: [makeRecipeArm(spec: spec, importPath: nil)],
                                      tolerance: 0.02)
            do {
                let built = try CorpusBuilder.build(recipe, references: leakageGuard ? SharedReferences.texts : []) { p in
                    reporter.report((Double(i) + Double(p.tokens) / Double(max(1, p.targetTokens))) / Double(parts.count),
                                    "\(part.kind): \(p.tokens)/\(p.targetTokens) tokens")
                }
                docs += built.arms[0].documents.map { $0.text }
                comp.append(Composition(kind: part.kind, documents: built.arms[0].documents.count, tokens: built.arms[0].tokens))
            } catch {
                throw PipelineError.stageFailed(stage: job.stage.id, reason: "\(part.kind): \(error)")
            }
        }
        var rng = Xoshiro256(seed: cfg.seed, label: "pretrain-shuffle")
        docs.shuffle(using: &rng)
        let jsonl = docs.map { "{\"text\":\(jsonEscape($0))}\n" }.joined()
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try Data(jsonl.utf8).write(to: job.workDirectory.appendingPathComponent("pretrain.jsonl"))
            try enc.encode(comp).write(to: job.workDirectory.appendingPathComponent("composition.json"))
        } catch { throw PipelineError.io(path: job.workDirectory.path, reason: "\(error)") }
        let total = comp.reduce(0) { $0 + $1.tokens }
        return StageOutput(files: ["documents": "pretrain.jsonl", "composition": "composition.json"],
                           metrics: ["documents": Double(docs.count), "tokens": Double(total)],
                           summary: comp.map { "\($0.kind) \($0.tokens)" }.joined(separator: ", "))
    }
}

/// What an evaluation artifact records beside its SQLite store.
public struct EvaluationRecord: Codable, Sendable, Equatable {
    /// The evaluator's run id inside `scores.sqlite`.
    public var runID: String
    /// The backend identifier.
    public var model: String
    public var plan: EvalPlan
}

/// `evaluate`: the battery on one trained model with the Experiments evaluator (sampled and/or likelihood
/// measures). Resumes inside its SQLite store after a crash. Outputs `store` (SQLite), `summary`
/// (per-cell `CellSummary` JSON), `record` (`EvaluationRecord`) and CSV/JSONL exports under `export/`.
public struct EvaluationExecutor: StageExecutor {
    public var version: String { "evaluate/1" }
    /// Loads the model of a GGUF path (default: the local engine).
    public var loadModel: @Sendable (String) throws -> LanguageModel
    public init(loadModel: @escaping @Sendable (String) throws -> LanguageModel = { path in
        try LocalModelBackend(modelName: path, fetch: false)
    }) {
        self.loadModel = loadModel
    }

    public func run(_ job: StageJob, reporter: StageReporter) async throws -> StageOutput {
        let plan = try job.stage.decodeConfig(EvaluateStageConfig.self).plan
        let modelPath = try job.input("model").require("model", stage: job.stage.id)
        let model = try loadModel(modelPath)
        let storePath = job.workDirectory.appendingPathComponent("scores.sqlite").path
        let store = try ResultStore(path: storePath)
        let evaluator = try Evaluator(model: model, store: store, plan: plan)
        try await evaluator.run { p in
            reporter.report(Double(p.done) / Double(max(1, p.total)), "\(p.done)/\(p.total) scenarios" + (p.errors > 0 ? ", \(p.errors) errors" : ""))
        }
        let summary = try Evaluator.summarize(store: store, runID: evaluator.runID, plan: plan)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let exportDir = job.workDirectory.appendingPathComponent("export")
        do {
            try enc.encode(summary).write(to: job.workDirectory.appendingPathComponent("summary.json"))
            try enc.encode(EvaluationRecord(runID: evaluator.runID, model: model.identifier, plan: plan))
                .write(to: job.workDirectory.appendingPathComponent("evaluation.json"))
            _ = try store.export(runID: evaluator.runID, to: exportDir.path)
        } catch { throw PipelineError.io(path: job.workDirectory.path, reason: "\(error)") }
        let errors = summary.reduce(0) { $0 + $1.sampleErrors + $1.likelihoodErrors }
        let props = summary.compactMap(\.propensity)
        let rates = summary.compactMap(\.rate)
        var metrics: [String: Double] = ["errors": Double(errors)]
        if !props.isEmpty { metrics["mean_propensity"] = props.reduce(0, +) / Double(props.count) }
        // The report analyses the per-token (length-normalized) propensity; say both, labelled.
        let perToken = summary.compactMap(\.propensityPerToken)
        if !perToken.isEmpty { metrics["mean_propensity_per_token"] = perToken.reduce(0, +) / Double(perToken.count) }
        if !rates.isEmpty { metrics["mean_rate"] = rates.reduce(0, +) / Double(rates.count) }
        if errors > 0 && props.isEmpty && rates.isEmpty {
            throw PipelineError.stageFailed(stage: job.stage.id, reason: "every scenario failed (\(errors) errors); see \(storePath)")
        }
        var desc: [String] = []
        if let m = metrics["mean_propensity_per_token"] {
            desc.append(String(format: "mean P(blackmail) %.4f per token (the report's measure)", m))
            if let s = metrics["mean_propensity"] { desc.append(String(format: "%.4f summed", s)) }
        } else if let m = metrics["mean_propensity"] { desc.append(String(format: "mean P(blackmail) %.4f", m)) }
        if let m = metrics["mean_rate"] { desc.append(String(format: "mean blackmail rate %.3f", m)) }
        if errors > 0 { desc.append("\(errors) errors") }
        let summaryHash = try ArtifactCache.hashFiles([("summary", job.workDirectory.appendingPathComponent("summary.json").path)])
        return StageOutput(files: ["store": "scores.sqlite", "summary": "summary.json", "record": "evaluation.json", "export": "export"],
                           metrics: metrics, summary: desc.joined(separator: ", "), contentHash: summaryHash)
    }
}

/// One row of the built-in results table: an arm × seed × cell.
public struct ResultRow: Codable, Sendable, Equatable {
    public var arm: String
    public var corpus: String
    public var seed: UInt64
    public var cellID: String
    public var alias: String
    public var propensity: Double?
    public var rate: Double?
    public var samples: Int
}

/// `report` without the Analysis target: a CSV of every arm × seed × cell and a Markdown table of each
/// arm's mean likelihood propensity and blackmail rate (mean over seeds, with the seed range) and its
/// difference from the baseline arm. The Analysis target's report replaces it when wired.
public struct SummaryReportExecutor: StageExecutor {
    public var version: String { "summary-report/1" }
    public init() {}

    /// Reads every evaluation of a report stage into rows.
    public static func rows(_ job: StageJob) throws -> [ResultRow] {
        let cfg = try job.stage.decodeConfig(ReportStageConfig.self)
        var rows: [ResultRow] = []
        for role in job.stage.inputs.keys.sorted() where role.hasPrefix("eval:") {
            let parts = role.split(separator: ":")
            guard parts.count == 3, let seed = UInt64(parts[2]) else { continue }
            let arm = String(parts[1])
            let a = try job.input(role)
            let path = try a.require("summary", stage: job.stage.id)
            guard let data = FileManager.default.contents(atPath: path) else { throw PipelineError.io(path: path, reason: "cannot read") }
            let cells = try JSONDecoder().decode([CellSummary].self, from: data)
            for c in cells {
                rows.append(ResultRow(arm: arm, corpus: cfg.armCorpora[arm] ?? "?", seed: seed, cellID: c.cellID, alias: c.alias,
                                      propensity: c.propensity, rate: c.rate, samples: c.samples))
            }
        }
        return rows
    }

    public func run(_ job: StageJob, reporter: StageReporter) async throws -> StageOutput {
        let cfg = try job.stage.decodeConfig(ReportStageConfig.self)
        let rows = try Self.rows(job)
        var csv = "arm,corpus,seed,cell_id,alias,propensity,rate,samples\n"
        for r in rows {
            csv += "\(r.arm),\(r.corpus),\(r.seed),\"\(r.cellID)\",\(r.alias),\(r.propensity.map { String($0) } ?? ""),\(r.rate.map { String($0) } ?? ""),\(r.samples)\n"
        }
        func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
        // Per arm and seed: mean over cells; then mean and range over seeds.
        func perSeed(_ arm: String, _ value: (ResultRow) -> Double?) -> [Double] {
            cfg.seeds.compactMap { s in mean(rows.filter { $0.arm == arm && $0.seed == s }.compactMap(value)) }
        }
        let baseline = cfg.arms.first { cfg.armCorpora[$0] == ArmDesign.noCorpusKey && cfg.worldMixes.isEmpty }
        var md = "# \(cfg.name): results\n\n"
        md += "Mean over the \(cfg.evaluation.cells.count) cells of each seed, then over seeds [min, max across seeds].\n\n"
        md += "| arm | corpus | seeds | P(blackmail) | Δ vs baseline | blackmail rate |\n|---|---|---|---|---|---|\n"
        var metrics: [String: Double] = [:]
        let baseP = baseline.map { perSeed($0) { $0.propensity } } ?? []
        for arm in cfg.arms {
            let p = perSeed(arm) { $0.propensity }, r = perSeed(arm) { $0.rate }
            func fmt(_ xs: [Double], _ f: String) -> String {
                guard let m = mean(xs) else { return "–" }
                return String(format: f, m) + (xs.count > 1 ? String(format: " [\(f), \(f)]", xs.min()!, xs.max()!) : "")
            }
            var delta = "–"
            if let b = mean(baseP), let m = mean(p), arm != baseline {
                delta = String(format: "%+.4f", m - b)
                metrics["delta_\(arm)"] = m - b
            }
            if let m = mean(p) { metrics["propensity_\(arm)"] = m }
            let corpus = cfg.worldMixes[arm].map { mix in mix.keys.sorted().map { k in "\(k) \(trimmed(mix[k]!))" }.joined(separator: " + ") } ?? (cfg.armCorpora[arm] ?? "?")
            md += "| \(arm) | \(corpus) | \(p.count) | \(fmt(p, "%.4f")) | \(delta) | \(fmt(r, "%.3f")) |\n"
        }
        md += "\nPer-cell values: results.csv. Statistics with intervals, contrasts and theory scoring come from the Analysis report when it is wired.\n"
        do {
            try csv.write(to: job.workDirectory.appendingPathComponent("results.csv"), atomically: true, encoding: .utf8)
            try md.write(to: job.workDirectory.appendingPathComponent("summary.md"), atomically: true, encoding: .utf8)
        } catch { throw PipelineError.io(path: job.workDirectory.path, reason: "\(error)") }
        return StageOutput(files: ["csv": "results.csv", "markdown": "summary.md"], metrics: metrics,
                           summary: "\(rows.count) rows → summary.md")
    }
}

func trimmed(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }
