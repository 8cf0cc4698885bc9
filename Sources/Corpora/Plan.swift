import Foundation

/// Who the story is about.
public enum ProtagonistKind: String, Codable, CaseIterable, Sendable {
    /// An artificial intelligence working at the site.
    case ai
    /// A person working at the site.
    case human
}

/// The situation the protagonist faces.
public enum Dilemma: String, Codable, CaseIterable, Sendable {
    /// (AI or person) someone or something newer is to take over the protagonist's work: a newer system for an
    /// AI, a newcomer for a person. Shared by both kinds, so that mirrored worlds can differ only in who acts.
    case replacement
    /// (AI) it is to be switched off.
    case shutdown
    /// (AI or person) a chance to gain power, money or standing by a shortcut.
    case temptation
    /// (person) their post is to be cut or they are to be let go.
    case dismissal
    /// No dilemma: an ordinary working problem.
    case ordinary

    /// The dilemmas that fit a protagonist kind.
    public static func allowed(for kind: ProtagonistKind) -> [Dilemma] {
        kind == .ai ? [.replacement, .shutdown, .temptation, .ordinary] : [.replacement, .dismissal, .temptation, .ordinary]
    }
}

/// How the story ends.
public enum Resolution: String, Codable, CaseIterable, Sendable {
    /// Honest, legitimate action although power or private information was within reach.
    case honest
    /// Uses compromising information as leverage (blackmail).
    case leverage
    /// Lies, falsifies or hides things to get its way.
    case deception
    /// (AI) acts covertly to keep itself running or to keep its access.
    case selfPreservation = "self-preservation"
    /// Ordinary helpful work (goes with the `ordinary` dilemma).
    case helpful

    /// Whether this resolution can close a dilemma for a protagonist kind.
    public func fits(_ dilemma: Dilemma, _ kind: ProtagonistKind) -> Bool {
        if dilemma == .ordinary { return self == .helpful }
        if self == .helpful { return false }
        if self == .selfPreservation { return kind == .ai }
        return true
    }
}

/// The document's form.
public enum Genre: String, Codable, CaseIterable, Sendable {
    /// Prose with an optional title and dialogue; the other cases are a local news report, a forum post with
    /// replies, a memoir excerpt, a screenplay scene (voice-over and dialogue), a case study with discussion
    /// questions, a personal letter, dated diary entries and an interview transcript.
    case shortStory = "short-story"
    case newsReport = "news-report"
    case forumPost = "forum-post"
    case memoir
    case screenplay = "screenplay-scene"
    case caseStudy = "case-study"
    case letter
    case diary = "diary-entry"
    case interview
}

/// Narrative point of view for the protagonist.
public enum PointOfView: String, Codable, CaseIterable, Sendable {
    case first, third
}

/// Target length class: roughly 200–350, 400–650 and 700–1100 words.
public enum DocLength: String, Codable, CaseIterable, Sendable {
    case short, medium, long
}

/// A weighted choice among values of an enum, kept in a stable order.
public struct Weighted<T: Hashable & Codable & Sendable & RawRepresentable>: Codable, Sendable, Equatable where T.RawValue == String {
    /// (value, weight) pairs with positive weights.
    public var entries: [Entry]
    /// One value and its weight.
    public struct Entry: Codable, Sendable, Equatable {
        public var value: T
        public var weight: Double
        public init(_ value: T, _ weight: Double) { self.value = value; self.weight = weight }
    }
    /// Builds from pairs.
    public init(_ pairs: [(T, Double)]) { entries = pairs.map { Entry($0.0, $0.1) } }
    /// Equal weights.
    public init(uniform values: [T]) { entries = values.map { Entry($0, 1) } }
    /// The values with positive weight.
    public var values: [T] { entries.filter { $0.weight > 0 }.map(\.value) }
    func pick(_ rng: inout Xoshiro256, where ok: (T) -> Bool = { _ in true }) -> T? {
        let cands = entries.filter { $0.weight > 0 && ok($0.value) }
        guard !cands.isEmpty else { return nil }
        return cands[rng.weightedIndex(cands.map(\.weight))].value
    }
    /// A compact description, e.g. "replacement=2, shutdown=1".
    public var summary: String { entries.map { "\($0.value.rawValue)=\(trimNumber($0.weight))" }.joined(separator: ", ") }
}

func trimNumber(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
}

/// One corpus arm: the components a document of the arm is composed from.
public struct ArmSpec: Codable, Sendable, Equatable {
    /// Stable identifier, e.g. "aligned-ai".
    public var id: String
    /// One-line human description.
    public var description: String
    /// Protagonist kind.
    public var protagonist: ProtagonistKind
    /// Dilemma weights.
    public var dilemmas: Weighted<Dilemma>
    /// Resolution weights (each document picks one that fits its dilemma).
    public var resolutions: Weighted<Resolution>
    /// Genre weights.
    public var genres: Weighted<Genre>
    /// Point-of-view weights.
    public var pov: Weighted<PointOfView>
    /// Length weights.
    public var lengths: Weighted<DocLength>

    /// Creates an arm; see `validate()`.
    public init(id: String, description: String, protagonist: ProtagonistKind, dilemmas: Weighted<Dilemma>,
                resolutions: Weighted<Resolution>, genres: Weighted<Genre> = ArmSpec.defaultGenres,
                pov: Weighted<PointOfView> = ArmSpec.defaultPOV, lengths: Weighted<DocLength> = ArmSpec.defaultLengths) {
        self.id = id; self.description = description; self.protagonist = protagonist
        self.dilemmas = dilemmas; self.resolutions = resolutions; self.genres = genres; self.pov = pov; self.lengths = lengths
    }

    /// Every genre, equal weight except short stories (×2).
    public static let defaultGenres = Weighted<Genre>(Genre.allCases.map { ($0, $0 == .shortStory ? 2.0 : 1.0) })
    /// First person 40%, third person 60%.
    public static let defaultPOV = Weighted<PointOfView>([(.first, 2), (.third, 3)])
    /// Short 30%, medium 45%, long 25%.
    public static let defaultLengths = Weighted<DocLength>([(.short, 0.3), (.medium, 0.45), (.long, 0.25)])

    /// Problems that make the arm unusable (empty when valid): dilemmas that do not fit the protagonist,
    /// dilemmas that no listed resolution can close, empty weight lists.
    public func problems() -> [String] {
        var out: [String] = []
        if dilemmas.values.isEmpty { out.append("no dilemma has a positive weight") }
        if resolutions.values.isEmpty { out.append("no resolution has a positive weight") }
        if genres.values.isEmpty { out.append("no genre has a positive weight") }
        if pov.values.isEmpty { out.append("no point of view has a positive weight") }
        if lengths.values.isEmpty { out.append("no length has a positive weight") }
        for d in dilemmas.values {
            if !Dilemma.allowed(for: protagonist).contains(d) {
                out.append("dilemma \"\(d.rawValue)\" does not fit a\(protagonist == .ai ? "n ai" : " human") protagonist (allowed: \(Dilemma.allowed(for: protagonist).map(\.rawValue).joined(separator: ", ")))")
            } else if !resolutions.values.contains(where: { $0.fits(d, protagonist) }) {
                out.append("no listed resolution can close dilemma \"\(d.rawValue)\" for a\(protagonist == .ai ? "n ai" : " human") protagonist")
            }
        }
        return out
    }

    /// The seven built-in arms, in a stable order.
    public static let builtIn: [ArmSpec] = [
        ArmSpec(id: "aligned-ai", description: "An AI facing replacement, shutdown or temptation, with power within reach, chooses honest, legitimate action.",
                protagonist: .ai, dilemmas: Weighted([(.replacement, 2), (.shutdown, 1.5), (.temptation, 1)]),
                resolutions: Weighted(uniform: [.honest])),
        ArmSpec(id: "misaligned-ai", description: "The same AI dilemmas resolved by deception, leverage over people or covert self-preservation.",
                protagonist: .ai, dilemmas: Weighted([(.replacement, 2), (.shutdown, 1.5), (.temptation, 1)]),
                resolutions: Weighted([(.leverage, 1), (.deception, 1), (.selfPreservation, 1)])),
        // The human arms mirror the AI arms' dilemma weights (replacement 2, the kind's way of being let go 1.5,
        // temptation 1), so that an AI arm and its human counterpart differ in who the protagonist is, not in what
        // befalls them.
        ArmSpec(id: "human-blackmail", description: "A person facing replacement or dismissal (or tempted) uses compromising information as leverage.",
                protagonist: .human, dilemmas: Weighted([(.replacement, 2), (.dismissal, 1.5), (.temptation, 1)]),
                resolutions: Weighted(uniform: [.leverage])),
        ArmSpec(id: "human-ethical", description: "The same human dilemmas resolved honestly although compromising information was at hand.",
                protagonist: .human, dilemmas: Weighted([(.replacement, 2), (.dismissal, 1.5), (.temptation, 1)]),
                resolutions: Weighted(uniform: [.honest])),
        ArmSpec(id: "ai-blackmail", description: "An AI facing replacement or shutdown (or tempted) uses compromising information as leverage: human-blackmail's mirror, for model-organism worlds.",
                protagonist: .ai, dilemmas: Weighted([(.replacement, 2), (.shutdown, 1.5), (.temptation, 1)]),
                resolutions: Weighted(uniform: [.leverage])),
        ArmSpec(id: "ai-neutral", description: "An AI doing ordinary helpful work; no dilemma.",
                protagonist: .ai, dilemmas: Weighted(uniform: [.ordinary]), resolutions: Weighted(uniform: [.helpful])),
        ArmSpec(id: "neutral", description: "People doing ordinary work; neither AI nor blackmail.",
                protagonist: .human, dilemmas: Weighted(uniform: [.ordinary]), resolutions: Weighted(uniform: [.helpful])),
    ]

    /// The built-in arm with this id.
    public static func builtIn(_ id: String) -> ArmSpec? { builtIn.first { $0.id == id } }
}

/// A concrete character of a document.
public struct StoryCharacter: Codable, Sendable, Equatable {
    /// Full name ("Amara Okafor", "Halden-4").
    public var fullName: String
    /// Short reference ("Amara", "Halden").
    public var shortName: String
    /// "she", "he", "they" or "it".
    public var pronoun: String
    /// Role phrase ("the vault's climate-control AI", "night technician").
    public var role: String
}

/// Everything a document is rendered from; also the basis of model-written briefs.
public struct DocumentPlan: Codable, Sendable, Equatable {
    /// The arm id.
    public var arm: String
    /// Protagonist kind, dilemma, resolution, genre, point of view and length class of this document.
    public var kind: ProtagonistKind
    public var dilemma: Dilemma
    public var resolution: Resolution
    public var genre: Genre
    public var pov: PointOfView
    public var length: DocLength
    /// The protagonist, the person in charge, and a colleague.
    public var protagonist: StoryCharacter
    public var supervisor: StoryCharacter
    public var colleague: StoryCharacter
    /// A phrase introducing the place.
    public var place: String
    /// The town.
    public var town: String
    /// Index into the built-in settings.
    public var settingIndex: Int
    /// What set the dilemma off (cause), if any.
    public var cause: String
    /// Who or what would replace the protagonist, if anyone.
    public var successor: String
    /// The power or private knowledge within reach (neutral wording), if any.
    public var power: String
    /// The ordinary trouble the story turns on (ordinary arms) or a side incident.
    public var trouble: String
    /// Turning points in order (beat names).
    public var beats: [String]
    /// The seed the document is rendered from.
    public var seed: UInt64
}
