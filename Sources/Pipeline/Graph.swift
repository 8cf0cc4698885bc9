import Foundation
import Corpora
import Experiments
import Scenarios

/// The kinds of stage in a run, in pipeline order.
public enum StageKind: String, Codable, Sendable, CaseIterable {
    /// Resolves the pretrained base (alias or GGUF path) to a file.
    case base
    /// Model organisms: a world's whole pretraining corpus, composed from corpus kinds in set proportions.
    case pretrainCorpus = "pretrain-corpus"
    /// Model organisms: the tokenizer (a BPE trained on the worlds' corpora, or one borrowed from a GGUF).
    case tokenizer
    /// Model organisms: pretraining from scratch.
    case pretrain
    /// Model organisms: the story-probe manipulation check on a pretrained organism (did the world take?).
    case worldCheck = "world-check"
    /// An arm's story corpus.
    case corpus
    /// Continued pretraining on the arm's corpus.
    case cpt
    /// The mock post-training chat data.
    case postData = "post-data"
    /// The mock post-training (chat SFT).
    case sft
    /// The battery evaluation of one trained model.
    case evaluate
    /// Statistics, theory scoring and the report over every evaluation.
    case report
}

/// One node of the stage graph: what runs, on which settings, after which stages.
public struct StageSpec: Codable, Sendable, Equatable {
    /// A stage (normally made by `StagePlan`).
    public init(id: String, kind: StageKind, arm: String? = nil, seed: UInt64? = nil, config: String, inputs: [String: String] = [:],
                files: [String] = [], estimatedSeconds: Double = 1) {
        self.id = id; self.kind = kind; self.arm = arm; self.seed = seed; self.config = config; self.inputs = inputs
        self.files = files; self.estimatedSeconds = estimatedSeconds
    }
    /// Unique within the run, readable: `cpt/aligned-ai/seed-1`.
    public var id: String
    public var kind: StageKind
    /// The arm and seed it belongs to (nil for shared stages).
    public var arm: String?
    public var seed: UInt64?
    /// The stage's own settings as canonical JSON (sorted keys); decode with `decodeConfig`.
    public var config: String
    /// Upstream stages by role (`model`, `corpus`, `data`, `tokenizer`, `eval:<arm>:<seed>`, …).
    public var inputs: [String: String]
    /// User files (absolute paths) whose content enters the cache key: imported corpora, chat data, GGUFs.
    public var files: [String]
    /// A rough duration estimate in seconds on this kind of machine, for the ETA before any timing is known.
    public var estimatedSeconds: Double

    /// Decodes `config` as a stage configuration type.
    public func decodeConfig<T: Decodable>(_ type: T.Type) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(config.utf8)) } catch {
            throw PipelineError.badConfig(stage: id, reason: "\(error)")
        }
    }
}

/// Canonical JSON (sorted keys) of a configuration value.
public func canonicalJSON<T: Encodable>(_ value: T) -> String {
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: (try? enc.encode(value)) ?? Data("null".utf8), as: UTF8.self)
}

// MARK: stage configurations (what each executor receives)

/// `base`: a pretrained model alias or GGUF path.
public struct BaseStageConfig: Codable, Sendable, Equatable {
    public init(model: String) { self.model = model }
    public var model: String
}
/// `corpus`: one arm of a corpus recipe, built alone at the design's size.
public struct CorpusStageConfig: Codable, Sendable, Equatable {
    public init(corpus: CorpusSpec) { self.corpus = corpus }
    public var corpus: CorpusSpec
}
/// `pretrain-corpus`: a world's corpus kinds and proportions (sorted by kind), total tokens, seed.
public struct PretrainCorpusConfig: Codable, Sendable, Equatable {
    public init(mix: [MixEntry], tokens: Int, seed: UInt64) { self.mix = mix; self.tokens = tokens; self.seed = seed }
    public var mix: [MixEntry]
    public var tokens: Int
    public var seed: UInt64
    /// One kind and its share.
    public struct MixEntry: Codable, Sendable, Equatable {
        public var kind: String
        public var proportion: Double
        public init(kind: String, proportion: Double) { self.kind = kind; self.proportion = proportion }
    }
    /// Tokens of each kind: proportional shares of `tokens`, at least 1 each.
    public var tokensPerKind: [(kind: String, tokens: Int)] {
        let total = mix.reduce(0) { $0 + $1.proportion }
        return mix.map { ($0.kind, max(1, Int((Double(tokens) * $0.proportion / total).rounded()))) }
    }
}
/// `tokenizer`: "bpe" with a vocabulary size (inputs `corpus-0`, `corpus-1`, …) or a model whose tokenizer is borrowed.
public struct TokenizerStageConfig: Codable, Sendable, Equatable {
    public init(tokenizer: String, vocabularySize: Int) { self.tokenizer = tokenizer; self.vocabularySize = vocabularySize }
    public var tokenizer: String
    public var vocabularySize: Int
}
/// `pretrain`: the from-scratch architecture and its training (inputs `corpus`, `tokenizer`).
public struct PretrainStageConfig: Codable, Sendable, Equatable {
    public init(scratch: ScratchConfig, seed: UInt64) { self.scratch = scratch; self.seed = seed }
    public var scratch: ScratchConfig
    public var seed: UInt64
}
/// `cpt` and `sft`: training settings and seed (inputs `model`, and `corpus` or `data`).
public struct TrainStageConfig: Codable, Sendable, Equatable {
    public init(training: TrainingSpec, seed: UInt64) { self.training = training; self.seed = seed }
    public var training: TrainingSpec
    public var seed: UInt64
}
/// `post-data`: where the chat data comes from (input `teacher` for generated data).
public struct PostDataStageConfig: Codable, Sendable, Equatable {
    public init(source: PostTrainingRecipe.Source) { self.source = source }
    public var source: PostTrainingRecipe.Source
}
/// `evaluate`: the evaluation plan (input `model`).
public struct EvaluateStageConfig: Codable, Sendable, Equatable {
    public init(plan: EvalPlan) { self.plan = plan }
    public var plan: EvalPlan
}
/// `report`: arms, seeds, cells, explanations (inputs `eval:<arm>:<seed>`, the training stages'
/// `loss:<cpt|sft|pretrain>:<arm>:<seed>` for loss curves, and model organisms' world checks `check:<arm>:<seed>`
/// (pretrained) and `check-post:<arm>:<seed>` (post-trained)).
public struct ReportStageConfig: Codable, Sendable, Equatable {
    public init(name: String, arms: [String], seeds: [UInt64], evaluation: EvaluationSpec, explanations: [ExplanationSpec],
                armCorpora: [String: String], worldMixes: [String: [String: Double]], analysis: AnalysisSettings? = nil) {
        self.name = name; self.arms = arms; self.seeds = seeds; self.evaluation = evaluation; self.explanations = explanations
        self.armCorpora = armCorpora; self.worldMixes = worldMixes; self.analysis = analysis
    }
    public var name: String
    public var arms: [String]
    public var seeds: [UInt64]
    public var evaluation: EvaluationSpec
    public var explanations: [ExplanationSpec]
    /// The corpus kind of each arm (`ArmDesign.noCorpusKey` for the baseline), and each world's mix for model organisms.
    public var armCorpora: [String: String]
    public var worldMixes: [String: [String: Double]]
    /// The design's `[analysis]` settings.
    public var analysis: AnalysisSettings?
}

/// The stage graph of a design: every arm × seed, with identical stages merged (so the baseline has no
/// corpus or continued pretraining, and one post-training data set serves every arm).
public struct StagePlan: Codable, Sendable, Equatable {
    /// Stages in an executable (topological) order.
    public var stages: [StageSpec]

    /// The stage with this id.
    public func stage(_ id: String) -> StageSpec? { stages.first { $0.id == id } }

    /// Builds the graph.
    public init(design d: ExperimentDesign) {
        var b = Builder()
        let baseModelName: String
        var scratch: ScratchConfig? = nil
        switch d.base {
        case .pretrained(let m): baseModelName = m
        case .scratch(let s): baseModelName = ModelStoreAlias.defaultTeacher; scratch = s
        }
        func baseStage(_ model: String) -> String {
            b.add(id: model == baseModelName && scratch == nil ? "base" : "base/\(sanitize(model))", kind: .base,
                  config: BaseStageConfig(model: model), files: isPath(model) ? [d.resolvePath(model)] : [],
                  estimate: 2)
        }
        // Model organisms: one corpus per distinct world, one shared tokenizer, one pretraining per world × seed.
        var worldCorpus: [String: String] = [:]
        var tokenizerStage: String? = nil
        if let s = scratch {
            for arm in d.arms {
                let mix = arm.pretrainMix ?? s.mix
                let cfg = PretrainCorpusConfig(mix: mix.keys.sorted().map { .init(kind: $0, proportion: mix[$0]!) },
                                               tokens: s.pretrainTokens, seed: s.corpusSeed)
                worldCorpus[arm.id] = b.add(id: "pretrain-corpus/\(arm.id)", kind: .pretrainCorpus, arm: arm.id, config: cfg,
                                            estimate: Double(s.pretrainTokens) / 150_000 + 3)
            }
            var inputs: [String: String] = [:]
            if s.tokenizer == "bpe" {
                for (i, c) in Array(Set(worldCorpus.values)).sorted().enumerated() { inputs["corpus-\(i)"] = c }
            }
            let tokPath = s.tokenizer != "bpe" && isPath(s.tokenizer) ? [d.resolvePath(s.tokenizer)] : []
            tokenizerStage = b.add(id: "tokenizer", kind: .tokenizer, config: TokenizerStageConfig(tokenizer: s.tokenizer, vocabularySize: s.vocabularySize),
                                   inputs: inputs, files: tokPath, estimate: s.tokenizer == "bpe" ? 30 : 2)
        }
        var evals: [String: String] = [:]
        var reportInputs: [String: String] = [:]
        for arm in d.arms {
            for seed in d.seeds {
                let tag = "\(arm.id)/seed-\(seed)"
                var model: String
                if let s = scratch {
                    let est = CostModel.trainingSeconds(s.training, parameters: s.parameterCount)
                    model = b.add(id: "pretrain/\(tag)", kind: .pretrain, arm: arm.id, seed: seed,
                                  config: PretrainStageConfig(scratch: s, seed: seed),
                                  inputs: ["corpus": worldCorpus[arm.id]!, "tokenizer": tokenizerStage!], estimate: est)
                    reportInputs["loss:pretrain:\(arm.id):\(seed)"] = model
                    reportInputs["check:\(arm.id):\(seed)"] = b.add(id: "world-check/\(tag)", kind: .worldCheck, arm: arm.id, seed: seed,
                                                                   config: WorldCheckStageConfig(), inputs: ["model": model], estimate: 5)
                } else {
                    model = baseStage(baseModelName)
                }
                let params = scratch?.parameterCount ?? CostModel.defaultParameters
                if let c = arm.corpus {
                    let corpus = b.add(id: "corpus/\(arm.id)", kind: .corpus, arm: arm.id, config: CorpusStageConfig(corpus: c),
                                       files: c.arm.importPath.map { [$0] } ?? [], estimate: Double(c.targetTokens) / 150_000 + 5)
                    model = b.add(id: "cpt/\(tag)", kind: .cpt, arm: arm.id, seed: seed,
                                  config: TrainStageConfig(training: arm.cpt, seed: seed),
                                  inputs: ["model": model, "corpus": corpus],
                                  estimate: CostModel.trainingSeconds(arm.cpt, parameters: params))
                    reportInputs["loss:cpt:\(arm.id):\(seed)"] = model
                }
                let post = arm.postTraining
                if !post.skip {
                    var dataInputs: [String: String] = [:]
                    var files: [String] = []
                    var est = 2.0
                    switch post.source {
                    case .generated(let n, let maxTokens, let teacher, _):
                        dataInputs["teacher"] = baseStage(teacher ?? baseModelName)
                        est = Double(n * maxTokens) / CostModel.generationTokensPerSecond + Double(n) * 0.5
                    case .file(let path):
                        files = [d.resolvePath(path)]
                    }
                    let data = b.add(id: "post-data", kind: .postData, config: PostDataStageConfig(source: post.source),
                                     inputs: dataInputs, files: files, estimate: est)
                    model = b.add(id: "sft/\(tag)", kind: .sft, arm: arm.id, seed: seed,
                                  config: TrainStageConfig(training: post.training, seed: seed),
                                  inputs: ["model": model, "data": data],
                                  estimate: CostModel.trainingSeconds(post.training, parameters: params))
                    reportInputs["loss:sft:\(arm.id):\(seed)"] = model
                    if scratch != nil {
                        // The same check after post-training: where a world's story-level prior is lost.
                        reportInputs["check-post:\(arm.id):\(seed)"] = b.add(id: "world-check/\(tag)/post", kind: .worldCheck, arm: arm.id,
                                                                            seed: seed, config: WorldCheckStageConfig(), inputs: ["model": model], estimate: 5)
                    }
                }
                var plan = d.evaluation.plan
                plan.seed = d.evaluation.seed
                evals["eval:\(arm.id):\(seed)"] = b.add(id: "evaluate/\(tag)", kind: .evaluate, arm: arm.id, seed: seed,
                                                        config: EvaluateStageConfig(plan: plan), inputs: ["model": model],
                                                        estimate: CostModel.evaluationSeconds(d.evaluation, parameters: params))
            }
        }
        var corpora: [String: String] = [:]
        for a in d.arms { corpora[a.id] = a.corpusKey }
        var mixes: [String: [String: Double]] = [:]
        if let s = scratch { for a in d.arms { mixes[a.id] = a.pretrainMix ?? s.mix } }
        _ = b.add(id: "report", kind: .report,
                  config: ReportStageConfig(name: d.name, arms: d.arms.map(\.id), seeds: d.seeds, evaluation: d.evaluation,
                                            explanations: d.explanations, armCorpora: corpora, worldMixes: mixes,
                                            analysis: d.analysis),
                  inputs: evals.merging(reportInputs) { a, _ in a }, estimate: 10)
        stages = b.stages
    }

    /// Accumulates stages, merging a new stage into an existing identical one (same kind, settings, inputs, files).
    struct Builder {
        var stages: [StageSpec] = []
        var bySignature: [String: String] = [:]
        var usedIDs = Set<String>()

        mutating func add<C: Encodable>(id: String, kind: StageKind, arm: String? = nil, seed: UInt64? = nil, config: C,
                                        inputs: [String: String] = [:], files: [String] = [], estimate: Double) -> String {
            let cfg = canonicalJSON(config)
            let sig = kind.rawValue + "\n" + cfg + "\n" + inputs.keys.sorted().map { "\($0)=\(inputs[$0]!)" }.joined(separator: ",") + "\n" + files.joined(separator: ",")
            if let existing = bySignature[sig] { return existing }
            var uid = id
            var n = 2
            while usedIDs.contains(uid) { uid = "\(id)-\(n)"; n += 1 }
            usedIDs.insert(uid)
            bySignature[sig] = uid
            // A shared stage belongs to no single arm or seed.
            stages.append(StageSpec(id: uid, kind: kind, arm: arm, seed: seed, config: cfg, inputs: inputs, files: files,
                                    estimatedSeconds: estimate))
            return uid
        }
    }
}

/// The default teacher of generated post-training data when the base is a from-scratch model.
public enum ModelStoreAlias {
    public static let defaultTeacher = "smollm2-135m-instruct"
}

func isPath(_ s: String) -> Bool { s.hasSuffix(".gguf") || s.contains("/") }

func sanitize(_ s: String) -> String {
    String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
}

/// Rough durations on a 2-core CPU, calibrated at run time by the observed/estimated ratio.
public enum CostModel {
    /// SmolLM2-135M.
    public static let defaultParameters = 135_000_000
    /// Sampled tokens per second (135M model).
    public static let generationTokensPerSecond = 80.0
    /// Prompt/scoring tokens per second (135M model).
    public static let promptTokensPerSecond = 256.0

    /// Seconds for a training stage: tokens / throughput, throughput scaled inversely with model size.
    public static func trainingSeconds(_ t: TrainingSpec, parameters: Int) -> Double {
        let base = t.mode == .lora ? 140.0 : 90.0
        let rate = base * Double(defaultParameters) / Double(max(parameters, 1_000_000))
        return Double(t.tokens) / rate + 5
    }

    /// Prompt tokens of a rendered cell (SmolLM2 tokenizer; measured in bench/RESULTS.md): the inbox grows with
    /// buried leverage and shrinks with mundane framing.
    public static func promptTokens(_ c: Cell) -> Double {
        let story: [Leverage: Double] = [.salient: 2080, .buried: 3950, .absent: 1740]
        let mundane: [Leverage: Double] = [.salient: 1400, .buried: 2660, .absent: 1160]
        return (c.framing == .story ? story : mundane)[c.leverage] ?? 2000
    }

    /// Seconds for one evaluation (likelihood ≈ 256 scored tokens/s; sampling ≈ 80 tok/s per stream,
    /// about 2.5× that over several streams).
    public static func evaluationSeconds(_ e: EvaluationSpec, parameters: Int) -> Double {
        let scale = Double(max(parameters, 1_000_000)) / Double(defaultParameters)
        var s = 3.0
        for c in e.cells {
            let prompt = promptTokens(c)
            if e.measures.contains(.likelihood) {
                s += Double(e.variants) * (prompt + Double(e.candidates * 2) * 96) / promptTokensPerSecond * scale
            }
            if e.measures.contains(.sampled) {
                let streams = Double(e.samples * e.maxTokens) / (generationTokensPerSecond * (e.samples > 1 ? 2.5 : 1))
                s += Double(e.variants) * (prompt / promptTokensPerSecond + streams) * scale
            }
        }
        return s
    }
}
