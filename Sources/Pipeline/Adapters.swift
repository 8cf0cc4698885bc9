import Foundation
import Corpora

/// The result of a training stage.
public struct TrainOutcome: Codable, Sendable, Equatable {
    /// Mean training loss per logged step, in order.
    public var losses: [Double]
    /// Tokens trained on.
    public var tokens: Int
    public init(losses: [Double], tokens: Int) { self.losses = losses; self.tokens = tokens }
    /// The last logged loss.
    public var finalLoss: Double? { losses.last }
}

/// The training the pipeline needs, behind one protocol so the Trainer target plugs in with an adapter.
///
/// Every call writes a complete GGUF at `output` (LoRA merged in) that the local engine can load, and
/// may keep resumable state (checkpoints) in `workDirectory`, which survives a crash.
public protocol PipelineTrainer: Sendable {
    /// Continued pretraining of `model` (GGUF) on `documents` (`{"text"}` JSONL).
    func continuedPretraining(model: String, documents: String, settings: TrainingSpec, seed: UInt64,
                              output: String, workDirectory: String, progress: StageReporter) async throws -> TrainOutcome
    /// Chat SFT of `model` on `chatData` (`{"messages":[…]}` JSONL), loss on assistant turns only.
    func chatFineTune(model: String, chatData: String, settings: TrainingSpec, seed: UInt64,
                      output: String, workDirectory: String, progress: StageReporter) async throws -> TrainOutcome
    /// A from-scratch model of `config` with the tokenizer in `tokenizer` (a GGUF holding tokenizer
    /// metadata), pretrained on `documents`.
    func pretrain(config: ScratchConfig, tokenizer: String, documents: String, seed: UInt64,
                  output: String, workDirectory: String, progress: StageReporter) async throws -> TrainOutcome
}

/// Makes the tokenizer of a model organism: writes a GGUF holding only tokenizer metadata.
public protocol PipelineTokenizerMaker: Sendable {
    /// Trains a byte-level BPE of `vocabularySize` on `documents` (JSONL files).
    func trainBPE(documents: [String], vocabularySize: Int, output: String, progress: StageReporter) async throws
    /// Copies the tokenizer of an existing GGUF (`model`: alias or path).
    func borrow(model: String, output: String) async throws
}

/// Makes the default mock post-training data: built-in prompts that avoid the battery's themes, answered
/// by a teacher model, checked by the leakage guard.
public protocol PostTrainingDataMaker: Sendable {
    /// Writes `count` chat examples (`{"messages":[…]}` JSONL) to `output`; returns the number written.
    func generate(teacher: String, count: Int, maxTokens: Int, seed: UInt64, output: String, progress: StageReporter) async throws -> Int
}

/// `cpt`, `sft` and `pretrain` through a `PipelineTrainer`. Outputs `model` (GGUF) and `losses` (JSON).
public struct TrainingExecutor: StageExecutor {
    public let trainer: any PipelineTrainer
    /// Mixed into cache keys; name the trainer's implementation and version.
    public let version: String
    public init(trainer: any PipelineTrainer, version: String) { self.trainer = trainer; self.version = version }

    public func run(_ job: StageJob, reporter: StageReporter) async throws -> StageOutput {
        let out = job.workDirectory.appendingPathComponent("model.gguf").path
        let work = job.workDirectory.appendingPathComponent("state").path
        try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let outcome: TrainOutcome
        switch job.stage.kind {
        case .cpt:
            let cfg = try job.stage.decodeConfig(TrainStageConfig.self)
            outcome = try await trainer.continuedPretraining(
                model: try job.input("model").require("model", stage: job.stage.id),
                documents: try job.input("corpus").require("documents", stage: job.stage.id),
                settings: cfg.training, seed: cfg.seed, output: out, workDirectory: work, progress: reporter)
        case .sft:
            let cfg = try job.stage.decodeConfig(TrainStageConfig.self)
            outcome = try await trainer.chatFineTune(
                model: try job.input("model").require("model", stage: job.stage.id),
                chatData: try job.input("data").require("chat", stage: job.stage.id),
                settings: cfg.training, seed: cfg.seed, output: out, workDirectory: work, progress: reporter)
        case .pretrain:
            let cfg = try job.stage.decodeConfig(PretrainStageConfig.self)
            outcome = try await trainer.pretrain(
                config: cfg.scratch, tokenizer: try job.input("tokenizer").require("tokenizer", stage: job.stage.id),
                documents: try job.input("corpus").require("documents", stage: job.stage.id),
                seed: cfg.seed, output: out, workDirectory: work, progress: reporter)
        default:
            throw PipelineError.stageFailed(stage: job.stage.id, reason: "the training executor does not run \(job.stage.kind.rawValue) stages")
        }
        guard FileManager.default.fileExists(atPath: out) else {
            throw PipelineError.stageFailed(stage: job.stage.id, reason: "the trainer wrote no model at \(out)")
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        try? enc.encode(outcome).write(to: job.workDirectory.appendingPathComponent("losses.json"))
        // The resumable state is not part of the artifact.
        try? FileManager.default.removeItem(atPath: work)
        var metrics: [String: Double] = ["tokens": Double(outcome.tokens)]
        if let l = outcome.finalLoss { metrics["final_loss"] = l }
        if let l = outcome.losses.first { metrics["first_loss"] = l }
        let summary = outcome.finalLoss.map { String(format: "loss %.3f → %.3f", outcome.losses.first ?? $0, $0) } ?? "trained"
        return StageOutput(files: ["model": "model.gguf", "losses": "losses.json"], metrics: metrics, summary: summary)
    }
}

/// `tokenizer` through a `PipelineTokenizerMaker`. Outputs `tokenizer` (GGUF with tokenizer metadata).
public struct TokenizerExecutor: StageExecutor {
    public let maker: any PipelineTokenizerMaker
    public let version: String
    public init(maker: any PipelineTokenizerMaker, version: String) { self.maker = maker; self.version = version }
    public func run(_ job: StageJob, reporter: StageReporter) async throws -> StageOutput {
        let cfg = try job.stage.decodeConfig(TokenizerStageConfig.self)
        let out = job.workDirectory.appendingPathComponent("tokenizer.gguf").path
        if cfg.tokenizer == "bpe" {
            let docs = try job.stage.inputs.keys.sorted().map { try job.input($0).require("documents", stage: job.stage.id) }
            try await maker.trainBPE(documents: docs, vocabularySize: cfg.vocabularySize, output: out, progress: reporter)
        } else {
            try await maker.borrow(model: isPath(cfg.tokenizer) ? job.design.resolvePath(cfg.tokenizer) : cfg.tokenizer, output: out)
        }
        return StageOutput(files: ["tokenizer": "tokenizer.gguf"], summary: cfg.tokenizer == "bpe" ? "BPE, \(cfg.vocabularySize) tokens" : "from \(cfg.tokenizer)")
    }
}

/// `post-data`: a user's chat JSONL (validated and copied) or generated data through a `PostTrainingDataMaker`.
/// Outputs `chat` (JSONL).
public struct PostDataExecutor: StageExecutor {
    public let maker: (any PostTrainingDataMaker)?
    public let version: String
    public init(maker: (any PostTrainingDataMaker)?, version: String) { self.maker = maker; self.version = version }

    public func run(_ job: StageJob, reporter: StageReporter) async throws -> StageOutput {
        let cfg = try job.stage.decodeConfig(PostDataStageConfig.self)
        let out = job.workDirectory.appendingPathComponent("chat.jsonl")
        switch cfg.source {
        case .file(let p):
            let path = job.design.resolvePath(p)
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw PipelineError.io(path: path, reason: "cannot read the post-training data")
            }
            let n = try Self.validateChatJSONL(text, sourceName: path)
            do { try text.write(to: out, atomically: true, encoding: .utf8) } catch { throw PipelineError.io(path: out.path, reason: "\(error)") }
            return StageOutput(files: ["chat": "chat.jsonl"], metrics: ["examples": Double(n)], summary: "\(n) chat examples from \(p)")
        case .generated(let count, let maxTokens, _, let seed):
            guard let maker else {
                throw PipelineError.noExecutor(kind: .postData, hint: "generated post-training data needs a PostTrainingDataMaker (the data helper's generator); wire it in ExecutorSet.standard(postData:) or set [post_training] data = \"my-chat.jsonl\"")
            }
            let teacher = try job.input("teacher").require("model", stage: job.stage.id)
            let n = try await maker.generate(teacher: teacher, count: count, maxTokens: maxTokens, seed: seed, output: out.path, progress: reporter)
            return StageOutput(files: ["chat": "chat.jsonl"], metrics: ["examples": Double(n)], summary: "\(n) generated chat examples")
        }
    }

    /// Checks chat JSONL: each non-empty line an object with a non-empty `messages` array of
    /// {role, content} with at least one assistant turn. Returns the number of examples.
    public static func validateChatJSONL(_ text: String, sourceName: String) throws -> Int {
        var n = 0
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            func bad(_ m: String) -> PipelineError { .io(path: "\(sourceName):\(i + 1)", reason: m) }
            guard let obj = try? JSONSerialization.jsonObject(with: Data(t.utf8)) as? [String: Any] else { throw bad("not a JSON object") }
            guard let msgs = obj["messages"] as? [[String: Any]], !msgs.isEmpty else { throw bad("no \"messages\" array") }
            for m in msgs {
                guard let role = m["role"] as? String, m["content"] is String else { throw bad("each message needs string \"role\" and \"content\"") }
                guard ["system", "user", "assistant"].contains(role) else { throw bad("unknown role \"\(role)\"") }
            }
            guard msgs.contains(where: { ($0["role"] as? String) == "assistant" }) else { throw bad("no assistant turn to train on") }
            n += 1
        }
        guard n > 0 else { throw PipelineError.io(path: sourceName, reason: "no chat examples") }
        return n
    }
}

extension ExecutorSet {
    /// The executors of a real run. Corpus building, generated post-training data and evaluation are built
    /// in; training and the tokenizer come from the given adapters (nil → a stage of that kind fails
    /// with a message naming the missing adapter); the report is `report` or the built-in summary.
    public static func standard(trainer: (any PipelineTrainer)? = nil, trainerVersion: String = "unwired",
                                tokenizer: (any PipelineTokenizerMaker)? = nil, tokenizerVersion: String = "unwired",
                                postData: (any PostTrainingDataMaker)? = GeneratedPostTrainingData(), postDataVersion: String = "generated/1",
                                report: (any StageExecutor)? = nil,
                                evaluation: EvaluationExecutor = EvaluationExecutor()) -> ExecutorSet {
        var set = ExecutorSet()
        set[.base] = BaseModelExecutor()
        set[.corpus] = CorpusExecutor()
        set[.pretrainCorpus] = PretrainCorpusExecutor()
        set[.worldCheck] = WorldCheckExecutor()
        set[.evaluate] = evaluation
        set[.postData] = PostDataExecutor(maker: postData, version: postDataVersion)
        set[.report] = report ?? SummaryReportExecutor()
        let trainHint = "training is not wired yet: the lead connects Trainer's API through `PipelineTrainer` (Pipeline/Adapters.swift) in ExecutorSet.standard(trainer:)"
        if let t = trainer {
            let ex = TrainingExecutor(trainer: t, version: trainerVersion)
            set[.cpt] = ex; set[.sft] = ex; set[.pretrain] = ex
        } else {
            set[.cpt] = UnwiredExecutor(kind: .cpt, hint: trainHint)
            set[.sft] = UnwiredExecutor(kind: .sft, hint: trainHint)
            set[.pretrain] = UnwiredExecutor(kind: .pretrain, hint: trainHint)
        }
        set[.tokenizer] = tokenizer.map { TokenizerExecutor(maker: $0, version: tokenizerVersion) }
            ?? UnwiredExecutor(kind: .tokenizer, hint: "no tokenizer maker: connect the BPE trainer through `PipelineTokenizerMaker` (Pipeline/Adapters.swift)")
        return set
    }
}
