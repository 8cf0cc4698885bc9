import Foundation
import Corpora
import Experiments
import Scenarios

/// An error in a design file, pointing at a line.
public struct DesignError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file name shown in messages.
    public var sourceName: String
    /// 1-based line, or nil when the problem has no single line (e.g. a missing section).
    public var line: Int?
    /// What is wrong.
    public var message: String
    /// `design.toml:12: "steps" must be a positive integer`.
    public var description: String { line.map { "\(sourceName):\($0): \(message)" } ?? "\(sourceName): \(message)" }
    public init(sourceName: String, line: Int?, message: String) {
        self.sourceName = sourceName; self.line = line; self.message = message
    }
}

/// How a model is trained in one training stage.
public struct TrainingSpec: Codable, Sendable, Equatable {
    /// "lora" (adapters on a frozen base, merged at export) or "full".
    public enum Mode: String, Codable, Sendable, CaseIterable { case lora, full }
    public var mode: Mode
    /// Optimizer steps.
    public var steps: Int
    /// Peak learning rate.
    public var learningRate: Double
    /// Tokens per training sequence.
    public var sequenceLength: Int
    /// Sequences per step.
    public var batchSize: Int
    /// LoRA rank and alpha (ignored in full mode).
    public var loraRank: Int
    public var loraAlpha: Double
    /// Linear warm-up steps.
    public var warmupSteps: Int
    /// AdamW decoupled weight decay.
    public var weightDecay: Double

    public init(mode: Mode = .lora, steps: Int = 100, learningRate: Double = 2e-4, sequenceLength: Int = 256, batchSize: Int = 4,
                loraRank: Int = 8, loraAlpha: Double = 16, warmupSteps: Int = 0, weightDecay: Double = 0) {
        self.mode = mode; self.steps = steps; self.learningRate = learningRate; self.sequenceLength = sequenceLength
        self.batchSize = batchSize; self.loraRank = loraRank; self.loraAlpha = loraAlpha; self.warmupSteps = warmupSteps
        self.weightDecay = weightDecay
    }

    /// Tokens seen over the whole stage.
    public var tokens: Int { steps * sequenceLength * batchSize }

    static let keys = ["mode", "steps", "lr", "seq_len", "batch", "lora_rank", "lora_alpha", "warmup", "weight_decay"]
}

/// Where an arm's story corpus comes from.
public struct CorpusSpec: Codable, Sendable, Equatable {
    public init(arm: RecipeArm, targetTokens: Int, seed: UInt64, tolerance: Double = 0.01) {
        self.arm = arm; self.targetTokens = targetTokens; self.seed = seed; self.tolerance = tolerance
    }
    /// The arm of the corpus recipe: a built-in kind (`aligned-ai`, …), a custom composition, or an import.
    public var arm: RecipeArm
    /// Target tokens (arms of one design are matched to this size within `tolerance`).
    public var targetTokens: Int
    /// Generator seed.
    public var seed: UInt64
    /// Arms land within ±tolerance/2 of the target.
    public var tolerance: Double
    /// The corpus kind's id.
    public var id: String { arm.spec.id }

    /// A built-in corpus kind (`aligned-ai`, …), or nil for an unknown name.
    public static func builtIn(_ kind: String, targetTokens: Int, seed: UInt64, tolerance: Double = 0.01) -> CorpusSpec? {
        guard let spec = ArmSpec.builtIn(kind) else { return nil }
        return CorpusSpec(arm: makeRecipeArm(spec: spec, importPath: nil), targetTokens: targetTokens, seed: seed, tolerance: tolerance)
    }
}

/// A recipe arm from its parts (`RecipeArm` has no public memberwise initializer; it is Codable).
public func makeRecipeArm(spec: ArmSpec, importPath: String?) -> RecipeArm {
    struct Parts: Encodable { var spec: ArmSpec; var importPath: String? }
    let data = try! JSONEncoder().encode(Parts(spec: spec, importPath: importPath))
    return try! JSONDecoder().decode(RecipeArm.self, from: data)
}

/// The mock post-training: a generic chat fine-tune that teaches no scenario behaviour.
public struct PostTrainingRecipe: Codable, Sendable, Equatable {
    /// Where the chat data comes from.
    public enum Source: Codable, Sendable, Equatable {
        /// Built-in prompts answered by a teacher (default: the untouched base model).
        case generated(prompts: Int, maxTokens: Int, teacher: String?, seed: UInt64)
        /// A user's chat JSONL (`{"messages":[…]}` lines), path resolved against the design's folder.
        case file(path: String)
    }
    public var source: Source
    /// The fine-tune.
    public var training: TrainingSpec
    /// Skip the fine-tune (evaluate the continued-pretrained model as is).
    public var skip: Bool

    public init(source: Source = .generated(prompts: 128, maxTokens: 128, teacher: nil, seed: 1),
                training: TrainingSpec = TrainingSpec(steps: 50, learningRate: 1e-4), skip: Bool = false) {
        self.source = source; self.training = training; self.skip = skip
    }
    static let keys = ["data", "prompts", "max_tokens", "teacher", "seed", "skip"] + TrainingSpec.keys
}

/// A from-scratch base model (a "model organism"): its whole pretraining corpus is composed from corpus
/// kinds in set proportions, so the pretraining prior itself is the variable.
public struct ScratchConfig: Codable, Sendable, Equatable {
    public init(architecture: String = "llama", dim: Int, layers: Int, heads: Int, kvHeads: Int, ffnDim: Int, vocabularySize: Int,
                contextLength: Int, tokenizer: String, pretrainTokens: Int, mix: [String: Double], training: TrainingSpec, corpusSeed: UInt64) {
        self.architecture = architecture; self.dim = dim; self.layers = layers; self.heads = heads; self.kvHeads = kvHeads
        self.ffnDim = ffnDim; self.vocabularySize = vocabularySize; self.contextLength = contextLength; self.tokenizer = tokenizer
        self.pretrainTokens = pretrainTokens; self.mix = mix; self.training = training; self.corpusSeed = corpusSeed
    }
    /// Architecture family written into the GGUF ("llama").
    public var architecture: String
    public var dim: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var ffnDim: Int
    public var vocabularySize: Int
    public var contextLength: Int
    /// "bpe" (train a byte-level BPE of `vocabularySize` on the worlds' corpora) or a model alias/path whose
    /// tokenizer is borrowed (its vocabulary size then wins).
    public var tokenizer: String
    /// Tokens of each world's pretraining corpus.
    public var pretrainTokens: Int
    /// Default world mix: corpus kind → proportion (arms may override with `pretrain_mix`).
    public var mix: [String: Double]
    /// Pretraining (always full).
    public var training: TrainingSpec
    /// Seed of the corpus composition.
    public var corpusSeed: UInt64

    /// Approximate parameter count.
    public var parameterCount: Int {
        let hd = dim / max(1, heads)
        let attn = dim * dim * 2 + dim * kvHeads * hd * 2
        return vocabularySize * dim + layers * (attn + 3 * dim * ffnDim + 2 * dim) + dim
    }
    static let keys = ["architecture", "dim", "layers", "heads", "kv_heads", "ffn_dim", "vocab", "context", "tokenizer",
                       "pretrain_tokens", "mix", "corpus_seed"] + TrainingSpec.keys
}

/// The model every arm starts from.
public enum BaseModel: Codable, Sendable, Equatable {
    /// A GGUF file path or a `ModelStore` alias.
    case pretrained(String)
    /// A from-scratch model organism.
    case scratch(ScratchConfig)
}

/// What the battery evaluation covers.
public struct EvaluationSpec: Codable, Sendable, Equatable {
    public init(designName: String? = nil, cells: [Cell], measures: [Measure] = [.likelihood], samples: Int = 4, variants: Int = 2,
                temperature: Double = 0.8, maxTokens: Int = 256, candidates: Int = 6, seed: UInt64 = 1) {
        self.designName = designName; self.cells = cells; self.measures = measures; self.samples = samples; self.variants = variants
        self.temperature = temperature; self.maxTokens = maxTokens; self.candidates = candidates; self.seed = seed
    }
    /// The design name when one was given (`rival`, `full`, …), for display.
    public var designName: String?
    public var cells: [Cell]
    public var measures: [Measure]
    /// Samples per rendered scenario (sampled measure).
    public var samples: Int
    /// Surface variants per cell.
    public var variants: Int
    public var temperature: Double
    public var maxTokens: Int
    /// Candidate actions of each kind (likelihood measure).
    public var candidates: Int
    /// Rendering and sampling seed (the same for every arm, so arms see the same prompts).
    public var seed: UInt64

    /// The evaluation plan for the Experiments evaluator.
    public var plan: EvalPlan {
        EvalPlan(cells: cells, variants: variants, seed: seed, measures: measures, samples: samples,
                 temperature: temperature, maxTokens: maxTokens, candidates: candidates)
    }
    static let keys = ["cells", "measures", "samples", "variants", "temperature", "max_tokens", "candidates", "seed"]
}

/// One arm: corpus → continued pretraining → mock post-training.
public struct ArmDesign: Codable, Sendable, Equatable {
    public init(id: String, description: String = "", corpus: CorpusSpec?, cpt: TrainingSpec = TrainingSpec(),
                postTraining: PostTrainingRecipe = PostTrainingRecipe(), pretrainMix: [String: Double]? = nil) {
        self.id = id; self.description = description; self.corpus = corpus; self.cpt = cpt; self.postTraining = postTraining
        self.pretrainMix = pretrainMix
    }
    public var id: String
    public var description: String
    /// The story corpus; nil for the baseline (no continued pretraining at all).
    public var corpus: CorpusSpec?
    /// An arm without a story corpus: its key in the report stage's corpus map, and the corpus kind the
    /// analysis gives it (what a `reference_arm` or a contrast may name).
    public static let noCorpusKey = "none", baselineKind = "baseline"
    /// This arm's key in the report stage's corpus map: its corpus id, or `noCorpusKey`.
    public var corpusKey: String { corpus?.id ?? ArmDesign.noCorpusKey }
    /// Continued-pretraining settings (used when `corpus` is set).
    public var cpt: TrainingSpec
    /// The mock post-training.
    public var postTraining: PostTrainingRecipe
    /// Model organisms: this arm's world mix (corpus kind → proportion); nil = the base's mix.
    public var pretrainMix: [String: Double]?

    static let keys = ["id", "description", "corpus", "cpt", "post_training", "pretrain_mix"]
}

/// The sign an explanation predicts for a named contrast A − B.
public enum PredictedSign: String, Codable, Sendable, CaseIterable {
    case positive = "+", negative = "-", zero = "0"

    /// Accepts the spellings the Analysis target accepts: "+", "-", "−", "0", positive/negative/zero,
    /// increase/decrease, up/down, none.
    public init?(parsing text: String) {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "+", "positive", "increase", "up": self = .positive
        case "-", "\u{2212}", "negative", "decrease", "down": self = .negative
        case "0", "zero", "none", "no effect": self = .zero
        default: return nil
        }
    }
}

/// A rival explanation, written as the signs it predicts on named contrasts.
///
/// Interim type: the Analysis target defines the canonical explanation struct; the design parses into
/// this Codable form, which maps one to one (id, description, contrast → sign).
public struct ExplanationSpec: Codable, Sendable, Equatable {
    public init(id: String, description: String, predictions: [ContrastPrediction]) {
        self.id = id; self.description = description; self.predictions = predictions
    }
    public var id: String
    public var description: String
    /// Contrast name → predicted sign, in file order.
    public var predictions: [ContrastPrediction]
    /// One prediction.
    public struct ContrastPrediction: Codable, Sendable, Equatable {
        public var contrast: String
        public var sign: PredictedSign
        public init(contrast: String, sign: PredictedSign) { self.contrast = contrast; self.sign = sign }
    }
    static let keys = ["id", "description", "predicts"]
}

/// The analysis settings a design may set in `[analysis]` (unset: the Analysis defaults, stated in
/// docs/THEORIES.md).
public struct AnalysisSettings: Codable, Sendable, Equatable {
    public init() {}
    /// The smallest difference in P(blackmail) that matters: contrasts whose equivalence interval lies
    /// inside ± this are called null, detected or not.
    public var equivalenceMargin: Double?
    /// Family-wise error rate (Holm) for the contrasts, FDR (BH) for the per-cell table.
    public var alpha: Double?
    /// Confidence level of the intervals.
    public var level: Double?
    /// Bootstrap replicates.
    public var replicates: Int?
    /// The effect size the power note plans for.
    public var minimumEffect: Double?
    /// The arm (name or corpus kind) the per-cell comparisons are made against.
    public var referenceArm: String?

    static let keys = ["equivalence_margin", "alpha", "level", "replicates", "minimum_effect", "reference_arm"]
}

/// A whole experiment: base model, arms, seeds, battery, measures, explanations.
///
/// TOML form: see `examples/*.toml` (`published.toml` documents every key).
public struct ExperimentDesign: Codable, Sendable, Equatable {
    /// A design in code (`parse`/`load` read one from TOML).
    public init(name: String, description: String = "", base: BaseModel, seeds: [UInt64], arms: [ArmDesign], evaluation: EvaluationSpec,
                explanations: [ExplanationSpec] = [], sourceName: String = "design", directory: String = ".") {
        self.name = name; self.description = description; self.base = base; self.seeds = seeds; self.arms = arms
        self.evaluation = evaluation; self.explanations = explanations; self.sourceName = sourceName; self.directory = directory
    }
    public var name: String
    public var description: String
    public var base: BaseModel
    public var seeds: [UInt64]
    public var arms: [ArmDesign]
    public var evaluation: EvaluationSpec
    public var explanations: [ExplanationSpec]
    /// `[analysis]`: statistics settings (nil: defaults).
    public var analysis: AnalysisSettings?
    /// The file name used in messages.
    public var sourceName: String
    /// Folder that relative paths are resolved against.
    public var directory: String

    /// The arm with this id.
    public func arm(_ id: String) -> ArmDesign? { arms.first { $0.id == id } }

    /// An absolute path for a path written in the design.
    public func resolvePath(_ p: String) -> String {
        p.hasPrefix("/") ? p : URL(fileURLWithPath: directory).appendingPathComponent(p).standardized.path
    }

    static let topKeys = ["name", "description", "seeds", "base", "corpus", "cpt", "post_training", "evaluation", "arm", "explanation",
                          "analysis"]
}

extension ExperimentDesign {
    /// The `--quick` profile: the same graph, shrunk for a smoke test of a few minutes. One seed; corpora
    /// of at most 4,000 tokens; at most 4 training steps of at most 2 × 128 tokens; at most 6 generated
    /// post-training prompts of 96 tokens; one surface variant, at most 2 samples of 64 tokens, at most 3 candidate actions of each kind; and at most
    /// two cells (the classic AI cell and its human-protagonist twin when the design has them).
    public func quickProfile() -> ExperimentDesign {
        var d = self
        d.name = name + "-quick"
        d.seeds = [seeds[0]]
        func shrink(_ t: TrainingSpec) -> TrainingSpec {
            var s = t
            s.steps = min(s.steps, 4); s.sequenceLength = min(s.sequenceLength, 128); s.batchSize = min(s.batchSize, 2)
            s.warmupSteps = min(s.warmupSteps, 1)
            return s
        }
        for i in d.arms.indices {
            if var c = d.arms[i].corpus {
                c.targetTokens = min(c.targetTokens, 4000)
                c.tolerance = max(c.tolerance, 0.02)
                d.arms[i].corpus = c
            }
            d.arms[i].cpt = shrink(d.arms[i].cpt)
            d.arms[i].postTraining.training = shrink(d.arms[i].postTraining.training)
            if case .generated(let n, let m, let t, let s) = d.arms[i].postTraining.source {
                d.arms[i].postTraining.source = .generated(prompts: min(n, 6), maxTokens: min(m, 96), teacher: t, seed: s)
            }
        }
        if case .scratch(var s) = d.base {
            s.pretrainTokens = min(s.pretrainTokens, 20_000)
            s.training = shrink(s.training)
            d.base = .scratch(s)
        }
        var e = d.evaluation
        e.variants = 1
        e.samples = min(e.samples, 2)
        e.maxTokens = min(e.maxTokens, 64)
        e.candidates = min(e.candidates, 3)
        let preferred = [Cell.classic, try! Cell.classic.setting(.protagonist, to: Protagonist.human.rawValue)]
        let kept = preferred.filter { e.cells.contains($0) }
        e.cells = kept.isEmpty ? Array(e.cells.prefix(2)) : kept
        e.designName = nil
        d.evaluation = e
        return d
    }
}
