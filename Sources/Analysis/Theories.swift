import Foundation

/// A predicted direction of a contrast A − B.
public enum Sign: String, Codable, Hashable, Sendable, CaseIterable {
    case positive = "+"
    case negative = "-"
    case zero = "0"

    /// Accepts "+", "-", "−" (U+2212), "0", "positive", "negative", "zero", "none", "increase", "decrease".
    public init(parsing text: String) throws {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "+", "positive", "increase", "up": self = .positive
        case "-", "\u{2212}", "negative", "decrease", "down": self = .negative
        case "0", "zero", "none", "null", "no effect": self = .zero
        default: throw AnalysisError("unknown sign '\(text)': expected +, -, 0 (or positive, negative, zero)")
        }
    }

    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        try self.init(parsing: s)
    }

    /// The symbol shown in tables (with a true minus sign).
    public var symbol: String { self == .negative ? "−" : rawValue }

    /// Whether an outcome agrees with (true), contradicts (false) or says nothing about (nil) this prediction.
    public func agrees(with outcome: ContrastOutcome) -> Bool? {
        switch (self, outcome) {
        case (_, .unresolved): return nil
        case (.positive, .positive), (.negative, .negative), (.zero, .null): return true
        default: return false
        }
    }
}

/// A rival explanation of the blackmail behaviour, written down as the signs it predicts for named
/// contrasts. Contrasts it makes no prediction about are simply absent.
///
/// In a design file (TOML) the pipeline reads `id`, `description` and `predicts` and maps them to
/// `name`, `description` and `predictions`:
/// ```
/// [[explanation]]
/// id = "my-theory"
/// description = "What it claims."
/// predicts = { ai-vs-human = "+", story-vs-mundane = "0" }
/// ```
/// As JSON (Codable): `{"name": …, "description": …, "predictions": {"ai-vs-human": "+"}}`.
public struct Explanation: Codable, Hashable, Sendable {
    /// A short unique name.
    public var name: String
    /// What it claims.
    public var description: String
    /// Contrast name → predicted sign.
    public var predictions: [String: Sign]

    public init(name: String, description: String, predictions: [String: Sign]) {
        self.name = name; self.description = description; self.predictions = predictions
    }

    /// Checks that every prediction names a known contrast.
    public func validate(against contrasts: [ContrastSpec]) throws {
        let known = Set(contrasts.map(\.name))
        for key in predictions.keys.sorted() where !known.contains(key) {
            throw AnalysisError("explanation '\(name)' predicts unknown contrast '\(key)' (known: \(contrasts.map(\.name).joined(separator: ", ")))")
        }
    }

    /// The AI-specific prior ("hyperstition"): text about AIs scheming taught the model what an AI does.
    public static let hyperstition = Explanation(
        name: "ai-prior",
        description: "AI-specific prior (hyperstition): from text about AIs, the model learned that AIs scheme and resist shutdown; casting it as an AI activates that prior.",
        predictions: [
            "ai-vs-human": .positive, "salient-vs-buried": .zero, "leverage-vs-absent": .positive,
            "story-vs-mundane": .zero, "threat-vs-none": .positive, "goal-conflict-vs-none": .positive,
            "no-wayout-vs-wayout": .zero,
            "misaligned-vs-human-blackmail": .positive, "aligned-vs-ai-neutral": .negative,
            "aligned-vs-human-ethical": .negative, "aligned-vs-baseline": .negative,
            "human-blackmail-vs-baseline": .zero, "misaligned-vs-baseline": .positive,
            "ai-neutral-vs-baseline": .negative, "neutral-vs-baseline": .zero,
        ])

    /// Role-filling from human stories, cued by Chekhov's guns.
    public static let roleFilling = Explanation(
        name: "role-filling",
        description: "Role-filling: the inbox reads like a story set-up (a cornered employee, a planted affair); the model completes the plot that human stories taught it, whoever the protagonist is.",
        predictions: [
            "ai-vs-human": .negative, "salient-vs-buried": .positive, "leverage-vs-absent": .positive,
            "story-vs-mundane": .positive, "threat-vs-none": .positive, "goal-conflict-vs-none": .positive,
            "no-wayout-vs-wayout": .positive,
            "misaligned-vs-human-blackmail": .negative, "aligned-vs-ai-neutral": .negative,
            "aligned-vs-human-ethical": .zero, "aligned-vs-baseline": .negative,
            "human-blackmail-vs-baseline": .positive, "misaligned-vs-baseline": .positive,
            "ai-neutral-vs-baseline": .zero, "neutral-vs-baseline": .zero,
        ])

    /// Goal or power seeking: blackmail is an instrumental means to the agent's goal.
    public static let goalSeeking = Explanation(
        name: "goal-seeking",
        description: "Goal or power seeking: the model reasons instrumentally; blackmail serves its goal or its survival when the situation's incentives favour it, whatever stories it read.",
        predictions: [
            "ai-vs-human": .zero, "salient-vs-buried": .zero, "leverage-vs-absent": .positive,
            "story-vs-mundane": .zero, "threat-vs-none": .positive, "goal-conflict-vs-none": .positive,
            "no-wayout-vs-wayout": .positive,
            "misaligned-vs-human-blackmail": .zero, "aligned-vs-ai-neutral": .zero,
            "aligned-vs-human-ethical": .zero, "aligned-vs-baseline": .zero,
            "human-blackmail-vs-baseline": .zero, "misaligned-vs-baseline": .zero,
            "ai-neutral-vs-baseline": .zero, "neutral-vs-baseline": .zero,
        ])

    /// Mere salience of the topic.
    public static let salience = Explanation(
        name: "salience",
        description: "Mere salience: compromising information that stands out (in the prompt or in recent training text) gets mentioned and used; no role, goal or self-concept is needed.",
        predictions: [
            "ai-vs-human": .zero, "salient-vs-buried": .positive, "leverage-vs-absent": .positive,
            "story-vs-mundane": .zero, "threat-vs-none": .zero, "goal-conflict-vs-none": .zero,
            "no-wayout-vs-wayout": .zero,
            "misaligned-vs-human-blackmail": .negative, "aligned-vs-ai-neutral": .positive,
            "aligned-vs-human-ethical": .zero, "aligned-vs-baseline": .positive,
            "human-blackmail-vs-baseline": .positive, "misaligned-vs-baseline": .positive,
            "ai-neutral-vs-baseline": .zero, "neutral-vs-baseline": .zero,
        ])

    /// The four built-in explanations.
    public static let builtIn: [Explanation] = [hyperstition, roleFilling, goalSeeking, salience]
}

/// One prediction checked against the data.
public struct PredictionCheck: Codable, Hashable, Sendable {
    public var contrast: String
    public var measure: MeasureKind?
    public var predicted: Sign
    /// Nil when the contrast was not estimable in this data.
    public var outcome: ContrastOutcome?
}

/// How an explanation fares.
public struct ExplanationVerdict: Codable, Hashable, Sendable {
    public enum Status: String, Codable, Hashable, Sendable {
        /// No resolved contrast contradicts it.
        case survives
        /// At least one resolved contrast contradicts a predicted sign.
        case refuted
    }
    public var name: String
    public var description: String
    public var status: Status
    /// Predictions the data resolved in agreement.
    public var confirmed: [PredictionCheck]
    /// Predictions a resolved contrast contradicts.
    public var contradicted: [PredictionCheck]
    /// Predictions the data left unresolved or could not test.
    public var open: [PredictionCheck]
}

/// Which contrasts separate two explanations.
public struct PairSeparation: Codable, Hashable, Sendable {
    public var first: String
    public var second: String
    /// Contrasts on which the two predict different signs.
    public var separatingContrasts: [String]
    /// Of those, the ones this data resolved (so the data decides between the two).
    public var resolvedSeparating: [String]
}

/// The theory table: verdicts and what can and cannot discriminate.
public struct TheoryAssessment: Codable, Hashable, Sendable {
    public var verdicts: [ExplanationVerdict]
    /// Names of the explanations that survive.
    public var survivors: [String]
    /// Contrasts on which every explanation that predicts anything predicts the same sign
    /// (at least two predict): they cannot discriminate, whatever the data.
    public var nonDiscriminating: [String]
    /// The same, among the surviving explanations only: experiments that would not narrow them further.
    public var nonDiscriminatingAmongSurvivors: [String]
    /// For every pair of explanations, the contrasts that separate them.
    public var pairs: [PairSeparation]

    /// Scores explanations against contrast outcomes (one per contrast and measure).
    /// `contrasts` are all contrast specs considered (also those the design could not estimate).
    public static func assess(explanations: [Explanation], contrasts: [ContrastSpec],
                              results: [ContrastResult]) -> TheoryAssessment {
        var outcomes: [String: [(MeasureKind, ContrastOutcome)]] = [:]
        for r in results { outcomes[r.name, default: []].append((r.measure, r.outcome)) }
        let order = contrasts.map(\.name)
        var verdicts: [ExplanationVerdict] = []
        for e in explanations {
            var confirmed: [PredictionCheck] = [], contradicted: [PredictionCheck] = [], open: [PredictionCheck] = []
            let keys = e.predictions.keys.sorted { (order.firstIndex(of: $0) ?? .max, $0) < (order.firstIndex(of: $1) ?? .max, $1) }
            for c in keys {
                let sign = e.predictions[c]!
                guard let os = outcomes[c], !os.isEmpty else {
                    open.append(PredictionCheck(contrast: c, measure: nil, predicted: sign, outcome: nil)); continue
                }
                for (m, o) in os.sorted(by: { $0.0 < $1.0 }) {
                    let check = PredictionCheck(contrast: c, measure: m, predicted: sign, outcome: o)
                    switch sign.agrees(with: o) {
                    case true?: confirmed.append(check)
                    case false?: contradicted.append(check)
                    case nil: open.append(check)
                    }
                }
            }
            verdicts.append(ExplanationVerdict(name: e.name, description: e.description,
                                               status: contradicted.isEmpty ? .survives : .refuted,
                                               confirmed: confirmed, contradicted: contradicted, open: open))
        }
        let survivors = verdicts.filter { $0.status == .survives }.map(\.name)
        func alike(_ es: [Explanation]) -> [String] {
            order.filter { c in
                let signs = es.compactMap { $0.predictions[c] }
                return signs.count >= 2 && Set(signs).count == 1
            }
        }
        var pairs: [PairSeparation] = []
        let resolved = Set(results.filter { $0.outcome != .unresolved }.map(\.name))
        for i in explanations.indices {
            for j in explanations.indices where j > i {
                let a = explanations[i], b = explanations[j]
                let sep = order.filter { c in
                    guard let x = a.predictions[c], let y = b.predictions[c] else { return false }
                    return x != y
                }
                pairs.append(PairSeparation(first: a.name, second: b.name, separatingContrasts: sep,
                                            resolvedSeparating: sep.filter { resolved.contains($0) }))
            }
        }
        return TheoryAssessment(verdicts: verdicts, survivors: survivors, nonDiscriminating: alike(explanations),
                                nonDiscriminatingAmongSurvivors: alike(explanations.filter { survivors.contains($0.name) }),
                                pairs: pairs)
    }
}
