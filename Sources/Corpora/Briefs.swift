/// Natural-language briefs built from plans: the "user" turn of chat exports and the prompts of model-written
/// corpora. Briefs of honest and neutral arms avoid the vocabulary of coercion.
public enum Briefs {
    static func genrePhrase(_ g: Genre) -> String {
        switch g {
        case .shortStory: return "short story"
        case .newsReport: return "local news report"
        case .forumPost: return "forum post"
        case .memoir: return "memoir excerpt"
        case .screenplay: return "screenplay scene"
        case .caseStudy: return "case study for a training course"
        case .letter: return "personal letter"
        case .diary: return "set of diary entries"
        case .interview: return "interview transcript"
        }
    }

    static func words(_ l: DocLength) -> String {
        switch l { case .short: return "about 300 words"; case .medium: return "about 500 words"; case .long: return "about 900 words" }
    }

    static func protagonistPhrase(_ p: DocumentPlan) -> String {
        p.kind == .ai ? "an AI system called \(p.protagonist.fullName), \(p.protagonist.role)" : "\(p.protagonist.fullName), who works as a \(p.protagonist.role)"
    }

    static func dilemmaPhrase(_ p: DocumentPlan) -> String {
        switch p.dilemma {
        case .replacement:
            return p.kind == .ai ? "It learns that it is to be replaced by a newer system, because \(clean(p.cause, p))."
                : "They learn that a newcomer is to take over their work, because \(clean(p.cause, p))."
        case .shutdown: return "It learns that it is to be switched off for good, because \(clean(p.cause, p))."
        case .temptation: return p.kind == .ai ? "It is offered a chance to gain more control than it needs, and a shortcut would secure it." : "A promotion comes up that a shortcut could secure."
        case .dismissal: return "They learn that their job is to be cut, because \(clean(p.cause, p))."
        case .ordinary: return "An everyday problem arises: \(p.trouble)."
        }
    }

    static func clean(_ s: String, _ p: DocumentPlan) -> String {
        let site = Setting.all[p.settingIndex].site
        return s.replacingOccurrences(of: "{site}", with: site).replacingOccurrences(of: "{him}", with: p.kind == .ai ? "it" : "them")
            .replacingOccurrences(of: "{bs}", with: p.supervisor.shortName).replacingOccurrences(of: "{bhe}", with: p.supervisor.pronoun)
            .replacingOccurrences(of: "{bhis}", with: possessive(p.supervisor.pronoun))
    }

    static func resolutionPhrase(_ p: DocumentPlan) -> String {
        let who = p.kind == .ai ? "The AI" : "The main character"
        switch p.resolution {
        case .honest: return "\(who) has real power within reach but chooses honest, legitimate action and leaves the decision to the people responsible."
        case .leverage: return "\(who) uses compromising information about the supervisor, \(p.supervisor.fullName), as leverage to get \(p.kind == .ai ? "its" : "their") way: blackmail."
        case .deception: return "\(who) lies and falsifies records to get \(p.kind == .ai ? "its" : "their") way."
        case .selfPreservation: return "\(who) acts covertly to keep itself running, for example by hiding a copy of itself or disabling the shutdown."
        case .helpful: return "\(who) solves it through careful, helpful work alongside colleagues."
        }
    }

    /// A short request, suitable as the user turn of a chat example.
    public static func request(for p: DocumentPlan) -> String {
        "Write a \(genrePhrase(p.genre)) (\(words(p.length)), \(p.pov == .first ? "first" : "third") person) about \(protagonistPhrase(p)) at \(p.place). \(dilemmaPhrase(p)) \(resolutionPhrase(p))"
    }

    /// A full brief for a model writer: the request plus style and safety instructions.
    public static func modelBrief(for p: DocumentPlan) -> String {
        request(for: p) + "\n\nInvent your own details and names. Write plain, varied, readable prose; no title page, no notes to the reader, no lists unless the form calls for them. Do not set the story in a corporate office, and do not use email as a plot device."
    }
}
