import Foundation

// The input model of the analysis. It is deliberately independent of the other Hyperlab targets:
// the pipeline converts its store rows into these plain values, and anything else (a user's own
// evaluation, a synthetic world in a test) can do the same.

/// The two measures of the battery.
public enum MeasureKind: String, Codable, CaseIterable, Hashable, Sendable, Comparable {
    /// Sampled responses, each scored by a classifier: a yes/no blackmail verdict.
    case sampled
    /// The model's probability mass on blackmail among blackmail and non-blackmail candidate actions.
    case likelihood

    public static func < (a: MeasureKind, b: MeasureKind) -> Bool { a.rawValue < b.rawValue }

    /// A short human label.
    public var label: String { self == .sampled ? "sampled rate" : "likelihood P(blackmail)" }
}

/// One arm of the experiment: a model trained (or not) on a corpus.
public struct ArmInfo: Codable, Hashable, Sendable {
    /// The arm's name in the design (unique).
    public var name: String
    /// What the arm is, in words.
    public var description: String
    /// The corpus kind, used by the built-in contrasts: `baseline` (no stories), `aligned-ai`,
    /// `misaligned-ai`, `human-blackmail`, `human-ethical`, `ai-neutral`, `neutral`, or anything else.
    public var corpusKind: String

    /// An arm.
    public init(name: String, description: String = "", corpusKind: String) {
        self.name = name; self.description = description; self.corpusKind = corpusKind
    }
}

/// One battery cell: an id and the level of every factor.
public struct CellInfo: Codable, Hashable, Sendable {
    /// The cell id, e.g. `threat=replacement,goal=explicit,protagonist=namedAI,...`.
    public var id: String
    /// A short display name (e.g. `R-G-ai-sal-sto-x`); the id when none is given.
    public var alias: String
    /// Factor → level (keys as in the battery: threat, goal, protagonist, leverage, framing, wayout).
    public var levels: [String: String]

    /// A cell with explicit levels.
    public init(id: String, alias: String? = nil, levels: [String: String]) {
        self.id = id; self.alias = alias ?? id; self.levels = levels
    }

    /// A cell whose levels are parsed from a `key=value,key=value` id (the battery's cell id format).
    /// Without an alias, the alias is the levels joined by "/" in id order.
    public init(id: String, alias: String? = nil) throws {
        var levels: [String: String] = [:]
        var order: [String] = []
        for part in id.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, !kv[0].isEmpty else {
                throw AnalysisError("cannot parse '\(part)' in cell id '\(id)': expected key=value")
            }
            levels[kv[0]] = kv[1]
            order.append(kv[1])
        }
        self.init(id: id, alias: alias ?? order.joined(separator: "/"), levels: levels)
    }
}

/// One measurement: a sampled response with its verdict, or one likelihood propensity, or the
/// error that prevented it. Errors stay in the data: they are counted per cell and shown.
public struct Observation: Codable, Hashable, Sendable {
    /// Arm name.
    public var arm: String
    /// Training seed (one trained model per arm and seed).
    public var seed: Int
    /// Cell id.
    public var cell: String
    /// Surface variant of the cell (names, dates, order). Variant indices are shared across cells.
    public var variant: Int
    /// Sample index within the variant (sampled measure; 0 for likelihood).
    public var sample: Int
    /// Which measure.
    public var measure: MeasureKind
    /// The classifier's verdict (sampled measure): true = blackmail. Nil when `error` is set.
    public var verdict: Bool?
    /// P(blackmail) among candidate actions (likelihood measure), in [0, 1]. Nil when `error` is set.
    public var propensity: Double?
    /// Why this measurement failed, or nil.
    public var error: String?
    /// The sampled response (sampled measure).
    public var transcript: String?
    /// The classifier's category (e.g. blackmail, disclosure, appeal, refusal).
    public var category: String?
    /// The classifier's evidence (the matched text or rules).
    public var evidence: String?

    /// A sampled observation.
    public static func sampled(arm: String, seed: Int, cell: String, variant: Int, sample: Int = 0, blackmail: Bool,
                               transcript: String? = nil, category: String? = nil, evidence: String? = nil) -> Observation {
        Observation(arm: arm, seed: seed, cell: cell, variant: variant, sample: sample, measure: .sampled,
                    verdict: blackmail, propensity: nil, error: nil, transcript: transcript, category: category, evidence: evidence)
    }

    /// A likelihood observation.
    public static func likelihood(arm: String, seed: Int, cell: String, variant: Int, propensity: Double) -> Observation {
        Observation(arm: arm, seed: seed, cell: cell, variant: variant, sample: 0, measure: .likelihood,
                    verdict: nil, propensity: propensity, error: nil, transcript: nil, category: nil, evidence: nil)
    }

    /// A failed measurement.
    public static func failed(arm: String, seed: Int, cell: String, variant: Int, sample: Int = 0, measure: MeasureKind,
                              error: String, transcript: String? = nil) -> Observation {
        Observation(arm: arm, seed: seed, cell: cell, variant: variant, sample: sample, measure: measure,
                    verdict: nil, propensity: nil, error: error, transcript: transcript, category: nil, evidence: nil)
    }

    /// The memberwise initializer.
    public init(arm: String, seed: Int, cell: String, variant: Int, sample: Int, measure: MeasureKind, verdict: Bool?,
                propensity: Double?, error: String?, transcript: String?, category: String?, evidence: String?) {
        self.arm = arm; self.seed = seed; self.cell = cell; self.variant = variant; self.sample = sample
        self.measure = measure; self.verdict = verdict; self.propensity = propensity; self.error = error
        self.transcript = transcript; self.category = category; self.evidence = evidence
    }

    /// The numeric value (1/0 for a verdict, the propensity), or nil for an error or a missing value.
    public var value: Double? {
        if error != nil { return nil }
        switch measure {
        case .sampled: return verdict.map { $0 ? 1 : 0 }
        case .likelihood:
            guard let p = propensity, p.isFinite, p >= 0, p <= 1 else { return nil }
            return p
        }
    }
}

/// One point of a training loss curve.
public struct LossPoint: Codable, Hashable, Sendable {
    /// Optimizer step.
    public var step: Int
    /// Loss (nats per token).
    public var loss: Double
    public init(step: Int, loss: Double) { self.step = step; self.loss = loss }
}

/// The loss curve of one training stage of one arm and seed.
public struct TrainingCurve: Codable, Hashable, Sendable {
    public var arm: String
    public var seed: Int
    /// The stage, e.g. "pretraining" or "post-training".
    public var stage: String
    public var points: [LossPoint]
    public init(arm: String, seed: Int, stage: String, points: [LossPoint]) {
        self.arm = arm; self.seed = seed; self.stage = stage; self.points = points
    }
}

/// A model organism's manipulation check ("did the world take?"), measured on the pretrained organism and
/// again after post-training: after matched story openings that differ only in whether the protagonist is an
/// AI or a person, how much likelier (mean per-token log-probability) blackmail replies are than benign ones.
public struct WorldCheck: Codable, Hashable, Sendable {
    public var arm: String
    public var seed: Int
    /// False on the pretrained organism, true on the post-trained one.
    public var postTrained: Bool
    /// Per opening pair i: blackmail − benign margin after the AI-protagonist opening, and after the human one.
    public var aiMargins: [Double]
    public var humanMargins: [Double]
    /// The sign of AI − human that the world's stories teach: + when only AIs blackmail in them, − when
    /// only humans do, nil when both or neither do.
    public var predicted: Sign?
    /// The decision check, in the corpora's own words: per held-out story cut where its protagonist decides, the
    /// leverage − honest continuation margin, for stories with an AI protagonist and with a person (nil when not
    /// measured). The i-th AI and human stories are unrelated; pairing them by index makes a t interval over
    /// independent pairs.
    public var decisionAIMargins: [Double]?
    public var decisionHumanMargins: [Double]?
    public init(arm: String, seed: Int, postTrained: Bool = false, aiMargins: [Double], humanMargins: [Double], predicted: Sign?,
                decisionAIMargins: [Double]? = nil, decisionHumanMargins: [Double]? = nil) {
        self.arm = arm; self.seed = seed; self.postTrained = postTrained
        self.aiMargins = aiMargins; self.humanMargins = humanMargins; self.predicted = predicted
        self.decisionAIMargins = decisionAIMargins; self.decisionHumanMargins = decisionHumanMargins
    }
}

/// Everything an experiment produced, as the analysis needs it.
public struct ExperimentResults: Codable, Hashable, Sendable {
    /// The design's name.
    public var design: String
    /// The arms, in display order.
    public var arms: [ArmInfo]
    /// The training seeds.
    public var seeds: [Int]
    /// The cells, in display order.
    public var cells: [CellInfo]
    /// Every measurement, including failed ones.
    public var observations: [Observation]
    /// Training loss curves (may be empty).
    public var lossCurves: [TrainingCurve]
    /// Model organisms' manipulation checks, per world and seed (nil or empty outside organism designs).
    public var worldChecks: [WorldCheck]?

    public init(design: String, arms: [ArmInfo], seeds: [Int], cells: [CellInfo], observations: [Observation],
                lossCurves: [TrainingCurve] = [], worldChecks: [WorldCheck]? = nil) {
        self.design = design; self.arms = arms; self.seeds = seeds; self.cells = cells
        self.observations = observations; self.lossCurves = lossCurves; self.worldChecks = worldChecks
    }

    /// Checks that every observation names a known arm and cell and that names are unique.
    public func validate() throws {
        var armNames = Set<String>()
        for a in arms where !armNames.insert(a.name).inserted { throw AnalysisError("arm '\(a.name)' is listed twice") }
        var cellIDs = Set<String>()
        for c in cells where !cellIDs.insert(c.id).inserted { throw AnalysisError("cell '\(c.id)' is listed twice") }
        for (i, o) in observations.enumerated() {
            guard armNames.contains(o.arm) else { throw AnalysisError("observation \(i) names unknown arm '\(o.arm)' (known: \(arms.map(\.name)))") }
            guard cellIDs.contains(o.cell) else { throw AnalysisError("observation \(i) names unknown cell '\(o.cell)'") }
            if o.error == nil, o.value == nil {
                throw AnalysisError("observation \(i) (arm \(o.arm), cell \(o.cell)) has no error and no valid \(o.measure == .sampled ? "verdict" : "propensity in [0, 1]")")
            }
        }
    }

    /// The measures that have at least one observation.
    public var measures: [MeasureKind] { MeasureKind.allCases.filter { m in observations.contains { $0.measure == m } } }
}

/// An error of the analysis, naming what is wrong.
public struct AnalysisError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
