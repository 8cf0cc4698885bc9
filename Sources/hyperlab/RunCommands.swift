import ArgumentParser
import Foundation
import Pipeline

/// `hyperlab run design.toml`: the whole experiment, cached and resumable.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an experiment design: corpora → continued pretraining → mock post-training → evaluation → report.",
        discussion: """
            Stages are cached by content hash under --root (default .hyperlab): identical inputs reuse the same corpus, \
            checkpoint and scores across arms and runs. A killed run resumes where it stopped when run again. \
            Progress and ETA go to standard error; `hyperlab status` lists runs and what is left.
            """)
    @Argument(help: "The design file (TOML); see examples/.") var design: String
    @Option(help: "Folder of runs/ and cache/.") var root = ".hyperlab"
    @Option(help: "A shared cache folder (default: ROOT/cache).") var cache: String?
    @Flag(help: "Check the design and print the stage graph; run nothing.") var dryRun = false
    @Flag(help: "Shrink the design for a smoke test: 1 seed, few steps, small corpora, 1 variant.") var quick = false
    @Flag var json = false

    func run() async throws {
        guard let text = try? String(contentsOfFile: design, encoding: .utf8) else { throw CLIError("cannot read \(design)") }
        var d: ExperimentDesign
        do {
            d = try ExperimentDesign.parse(tomlText: text, sourceName: design,
                                           directory: URL(fileURLWithPath: design).deletingLastPathComponent().path)
        } catch let e as DesignError { throw CLIError(e.description) }
        if quick { d = d.quickProfile() }
        let executors = PipelineWiring.executors()
        let runner = PipelineRunner(design: d, designText: text, root: URL(fileURLWithPath: root),
                                    cacheRoot: cache.map { URL(fileURLWithPath: $0) }, executors: executors)
        if dryRun {
            if json { try printJSON(runner.plan.stages); return }
            print("\(d.name): \(d.arms.count) arms × \(d.seeds.count) seeds, \(d.evaluation.cells.count) cells, \(runner.plan.stages.count) stages")
            print("run folder: \(runner.runDirectory.path)")
            for s in runner.plan.stages {
                let ins = s.inputs.count > 4 ? "← \(s.inputs.count) inputs"
                    : s.inputs.keys.sorted().map { "\($0)←\(s.inputs[$0]!)" }.joined(separator: ", ")
                print("  \(s.id.padding(toLength: 40, withPad: " ", startingAt: 0)) ~\(formatDuration(s.estimatedSeconds))  \(ins)")
            }
            let total = runner.plan.stages.reduce(0) { $0 + $1.estimatedSeconds }
            print("estimated: \(formatDuration(total)) if nothing is cached")
            return
        }
        let tracker = ProgressTracker(plan: runner.plan)
        runner.onEvent = { tracker.handle($0) }
        note("run folder: \(runner.runDirectory.path)")
        do {
            let m = try await runner.run()
            if let r = m.stages.first(where: { $0.spec.kind == .report }), let dir = r.artifact {
                // A stable name for the report inside the run folder.
                let link = runner.runDirectory.appendingPathComponent("report").path
                try? FileManager.default.removeItem(atPath: link)
                try? FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: dir)
                let files = (try? FileManager.default.contentsOfDirectory(atPath: dir))?.sorted() ?? []
                if json { try printJSON(["run": runner.runDirectory.path, "report": link]); return }
                for f in files where f != "artifact.json" { print((link as NSString).appendingPathComponent(f)) }
            }
        } catch let e as PipelineError {
            throw CLIError("\(e.description)\nrerun the same command to resume; `hyperlab status \(root)` shows what is left")
        }
    }
}

/// `hyperlab status [dir]`: runs and what each has left.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "List runs and the stages each has left.")
    @Argument(help: "A root folder (holding runs/) or one run folder.") var directory = ".hyperlab"
    @Flag(help: "List every stage left, not just the first few.") var all = false
    @Flag var json = false
    func run() throws {
        let runs = PipelineStatus.list(root: URL(fileURLWithPath: directory))
        if json { try printJSON(runs); return }
        print(PipelineStatus.render(runs, detail: all), terminator: "")
    }
}

/// Where the CLI connects the pipeline's adapters to the training and analysis targets.
enum PipelineWiring {
    /// The executors of `hyperlab run`: corpus building, generated post-training data, evaluation and the
    /// Analysis report from the Pipeline target; training and the model organisms' tokenizer through the
    /// Trainer target (compiled in when this target depends on Trainer).
    static func executors() -> ExecutorSet {
        #if canImport(Trainer)
        return ExecutorSet.standard(trainer: TrainRunTrainer(), trainerVersion: "trainrun/3",
                                    tokenizer: BPETokenizerMaker(), tokenizerVersion: "bpe/1",
                                    report: AnalysisReportExecutor())
        #else
        return ExecutorSet.standard(report: AnalysisReportExecutor())
        #endif
    }
}


// MARK: training through the Trainer target

#if canImport(Trainer)
import Corpora
import GGUF
import Tokenization
import Trainer
import Transformer
import Pipeline

/// `PipelineTrainer` over the Trainer target's `TrainRun` (the same code path as `hyperlab train`).
///
/// - Training state (checkpoints, metrics) lives in the stage's work folder with `resume = true`, so a
///   killed training stage continues from its last checkpoint.
/// - LoRA stages get the model `TrainRun` writes with the adapter merged by the trained network (beside
///   the adapter file), so the next stage and the evaluator load one file.
/// - Progress comes from the trainer's `metrics.jsonl`, polled once a second.
public struct TrainRunTrainer: PipelineTrainer {
    /// Tensor encoding of exported models ("q8_0", "f16" or "f32").
    public var exportType: ExportType
    public init(exportType: ExportType = .q8_0) { self.exportType = exportType }

    func settings(_ spec: TrainingSpec, seed: UInt64, data: String, format: DataFormat, out: String) -> TrainSettings {
        var s = TrainSettings()
        s.train = data
        s.format = format
        s.seqLen = spec.sequenceLength
        s.steps = spec.steps
        s.batch = spec.batchSize
        s.lr = Float(spec.learningRate)
        s.warmup = spec.warmupSteps
        s.weightDecay = Float(spec.weightDecay)
        s.rank = spec.loraRank
        s.alpha = Float(spec.loraAlpha)
        s.seed = seed
        s.out = out
        s.resume = true
        s.checkpointEvery = max(5, spec.steps / 5)
        s.evalEvery = max(spec.steps, 1)
        s.export = exportType.rawValue
        s.mergeLoRA = true  // later stages load one file
        return s
    }

    /// Runs `TrainRun.execute` off the cooperative pool, reporting progress from metrics.jsonl.
    func execute(_ s: TrainSettings, steps: Int, progress: StageReporter) async throws -> TrainOutcome {
        let metricsPath = s.out + "/metrics.jsonl"
        let done = DoneFlag()
        let poller = Thread {
            while !done.isSet {
                if let text = try? String(contentsOfFile: metricsPath, encoding: .utf8) {
                    let lines = text.split(separator: "\n")
                    if let last = lines.last, let m = try? JSONDecoder().decode(StepMetrics.self, from: Data(last.utf8)) {
                        progress.report(Double(m.step) / Double(max(1, steps)), String(format: "step %d/%d loss %.3f, %.0f tok/s", m.step, steps, m.loss, m.tokensPerSecond))
                    }
                }
                Thread.sleep(forTimeInterval: 1)
            }
        }
        poller.start()
        defer { done.set() }
        let summary: TrainingSummary = try await withCheckedThrowingContinuation { c in
            Thread {
                c.resume(with: Result { try TrainRun.execute(s, showProgress: false, log: { _ in }) })
            }.start()
        }
        // The whole loss curve, including steps run before a resume.
        var losses: [Double] = []
        if let text = try? String(contentsOfFile: metricsPath, encoding: .utf8) {
            var byStep: [Int: Double] = [:]
            for l in text.split(separator: "\n") {
                if let m = try? JSONDecoder().decode(StepMetrics.self, from: Data(l.utf8)) { byStep[m.step] = m.loss }
            }
            losses = byStep.keys.sorted().map { byStep[$0]! }
        }
        if losses.isEmpty { losses = summary.metrics.map(\.loss) }
        let tokens = summary.metrics.reduce(0) { $0 + $1.tokens }
        return TrainOutcome(losses: losses, tokens: tokens)
    }

    /// Moves the trained model (`TrainRun`'s model.gguf; for LoRA, base and adapter merged) to `output`.
    func finish(_ s: TrainSettings, output: String) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: output) { try fm.removeItem(atPath: output) }
        // TrainRun writes the trained model itself, LoRA merged in by the trained network.
        try fm.moveItem(atPath: s.out + "/model.gguf", toPath: output)
    }

    public func continuedPretraining(model: String, documents: String, settings: TrainingSpec, seed: UInt64, output: String,
                                     workDirectory: String, progress: StageReporter) async throws -> TrainOutcome {
        try await fineTune(model: model, data: documents, format: .text, settings: settings, seed: seed, output: output,
                           workDirectory: workDirectory, progress: progress)
    }

    public func chatFineTune(model: String, chatData: String, settings: TrainingSpec, seed: UInt64, output: String,
                             workDirectory: String, progress: StageReporter) async throws -> TrainOutcome {
        try await fineTune(model: model, data: chatData, format: .chat, settings: settings, seed: seed, output: output,
                           workDirectory: workDirectory, progress: progress)
    }

    /// Full or LoRA training of a GGUF model on `data` (documents or chats), the trained model moved to `output`.
    func fineTune(model: String, data: String, format: DataFormat, settings: TrainingSpec, seed: UInt64, output: String,
                  workDirectory: String, progress: StageReporter) async throws -> TrainOutcome {
        var s = self.settings(settings, seed: seed, data: data, format: format, out: workDirectory)
        s.mode = settings.mode == .lora ? .lora : .full
        s.model = model
        let outcome = try await execute(s, steps: settings.steps, progress: progress)
        try finish(s, output: output)
        return outcome
    }

    public func pretrain(config: ScratchConfig, tokenizer: String, documents: String, seed: UInt64, output: String,
                         workDirectory: String, progress: StageReporter) async throws -> TrainOutcome {
        var s = self.settings(config.training, seed: seed, data: documents, format: .text, out: workDirectory)
        s.mode = .scratch
        s.tokenizer = tokenizer
        s.dim = config.dim; s.layers = config.layers; s.heads = config.heads; s.kvHeads = config.kvHeads; s.ffn = config.ffnDim
        s.context = config.contextLength
        let outcome = try await execute(s, steps: config.training.steps, progress: progress)
        try finish(s, output: output)
        return outcome
    }
}

/// The model organisms' tokenizer: a byte-level BPE trained with the Tokenization target's `BPETrainer`
/// on every world's corpus, or the tokenizer metadata of an existing GGUF; written as a GGUF holding only
/// tokenizer metadata (what `TrainRun` reads for `tokenizer = <path>`).
public struct BPETokenizerMaker: PipelineTokenizerMaker {
    public init() {}
    public func trainBPE(documents: [String], vocabularySize: Int, output: String, progress: StageReporter) async throws {
        var texts: [String] = []
        for d in documents { texts += try CorpusImport.load(path: d) }
        progress.report(0.1, "training a BPE of \(vocabularySize) tokens on \(texts.count) documents")
        let vocab = try BPETrainer.train(texts, configuration: BPETrainerConfiguration(vocabularySize: vocabularySize, addBOS: false))
        var w = GGUFWriter()
        w.setMetadata("general.architecture", .string("llama"))
        for (k, v) in vocab.ggufMetadata { w.setMetadata(k, v) }
        try w.write(to: output)
    }
    public func borrow(model: String, output: String) async throws {
        let path = try ModelStore.resolve(model, fetch: true)
        let file = try GGUFFile(path: path)
        var w = GGUFWriter()
        for k in file.metadataKeys where k.hasPrefix("tokenizer.") || k == "general.architecture" { w.setMetadata(k, file.metadata[k]!) }
        try w.write(to: output)
    }
}

private final class DoneFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
#endif
