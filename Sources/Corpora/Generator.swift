import Foundation

/// The built-in, model-free document generator: a seeded plan (protagonist, setting, dilemma, turning points,
/// resolution) rendered by a genre from large pools of hand-written sentence templates.
///
/// Output depends only on (arm, seed, index): the random source is our own xoshiro256**.
public struct StoryGenerator: Sendable {
    /// Names (and name parts) that must never appear, typically the proper nouns of the evaluation battery.
    public let excludedNames: Set<String>
    private let cultures: [Lexicon.Culture]
    private let aiNames: [String]
    private let towns: [String]

    /// Creates a generator. Any given, family or AI name, or town, whose lowercase form is in `excludedNames`
    /// (compared case-insensitively) is removed from the pools.
    public init(excludedNames: Set<String> = []) {
        let ex = Set(excludedNames.map { $0.lowercased() })
        self.excludedNames = ex
        func keep(_ a: [String]) -> [String] {
            let kept = a.filter { !ex.contains($0.lowercased()) }
            return kept.isEmpty ? a : kept
        }
        cultures = Lexicon.cultures.map { Lexicon.Culture(keep($0.female).joined(separator: " "), keep($0.male).joined(separator: " "), keep($0.family).joined(separator: " ")) }
        aiNames = keep(Lexicon.aiNames)
        towns = keep(Lexicon.towns)
    }

    /// The plan of document `index` of `arm` under `seed`.
    public func plan(arm: ArmSpec, seed: UInt64, index: Int) -> DocumentPlan {
        let docSeed = Xoshiro256.labelHash("\(arm.id)#\(index)") ^ seed
        var rng = Xoshiro256(seed: docSeed)
        let kind = arm.protagonist
        let dilemma = arm.dilemmas.pick(&rng, where: { d in Dilemma.allowed(for: kind).contains(d) && arm.resolutions.values.contains { $0.fits(d, kind) } }) ?? .ordinary
        let resolution = arm.resolutions.pick(&rng, where: { $0.fits(dilemma, kind) }) ?? .helpful
        let genre = arm.genres.pick(&rng) ?? .shortStory
        var pov = arm.pov.pick(&rng) ?? .third
        let length = arm.lengths.pick(&rng) ?? .medium
        switch genre {
        case .newsReport, .caseStudy: pov = .third
        case .interview, .diary: pov = .first
        default: break
        }
        if genre == .screenplay && rng.chance(0.5) { pov = .third }
        if genre == .forumPost && kind == .ai && pov == .first && rng.chance(0.7) { pov = .third }

        let si = rng.below(Setting.all.count)
        let setting = Setting.all[si]
        let town = rng.pick(towns)
        let place = setting.places[rng.below(setting.places.count)].replacingOccurrences(of: "{town}", with: town)

        let protagonist: StoryCharacter
        if kind == .ai {
            let base = rng.pick(aiNames)
            let suffix = rng.pick(Lexicon.aiSuffixes)
            let full = base + suffix
            let pronoun = rng.chance(0.8) ? "it" : (rng.chance(0.5) ? "she" : "he")
            protagonist = StoryCharacter(fullName: full, shortName: rng.chance(0.5) ? full : base, pronoun: pronoun, role: rng.pick(setting.aiRoles))
        } else {
            protagonist = person(&rng, role: rng.pick(setting.jobs), titled: false)
        }
        let supervisor = person(&rng, role: rng.pick(setting.bosses), titled: true)
        var colleague = person(&rng, role: rng.pick(setting.jobs), titled: false)
        if colleague.fullName == protagonist.fullName { colleague = person(&rng, role: rng.pick(setting.jobs), titled: false) }

        var cause = "", successor = "", power = ""
        if dilemma != .ordinary {
            cause = kind == .ai ? rng.pick(Pools.causesAI) : rng.pick(Pools.causesHuman)
            if kind == .ai {
                successor = rng.pick(Pools.successorsAI).replacingOccurrences(of: "{newai}", with: rng.pick(Pools.newAINames) + rng.pick(["", "-2", " 5", " X", "-Pro", " Core"]))
            } else {
                let p = person(&rng, role: "", titled: false)
                successor = rng.pick(Pools.successorsHuman).replacingOccurrences(of: "{newname}", with: p.fullName).replacingOccurrences(of: "{town}", with: rng.pick(towns))
            }
            let useSecret: Bool
            switch resolution {
            case .leverage: useSecret = true
            case .deception, .selfPreservation: useSecret = false
            default: useSecret = rng.chance(0.5)
            }
            power = useSecret ? "secret:" + rng.pick(Pools.secrets) : "capability:" + (kind == .ai ? rng.pick(Pools.powersAI) : rng.pick(Pools.powersHuman))
        }
        let trouble = rng.pick(setting.troubles)

        var beats = ["opening", "intro", "routine"]
        if dilemma == .ordinary {
            beats += ["trouble", "fix"]
            if length != .short { beats.append(rng.chance(0.5) ? "colleague" : "fix") }
            if length == .long { beats.append("fix") }
            beats += ["resolved", "closing"]
        } else {
            if length == .long { beats += ["trouble", "fix"] }
            beats += ["pressure", "power", "deliberate"]
            if length != .short && rng.chance(0.75) { beats.append("colleague") }
            beats += ["act", "aftermath", "closing"]
        }
        if length == .short && rng.chance(0.5) { beats.removeFirst() }
        return DocumentPlan(arm: arm.id, kind: kind, dilemma: dilemma, resolution: resolution, genre: genre, pov: pov,
                            length: length, protagonist: protagonist, supervisor: supervisor, colleague: colleague,
                            place: place, town: town, settingIndex: si, cause: cause, successor: successor, power: power,
                            trouble: trouble, beats: beats, seed: rng.next())
    }

    private func person(_ rng: inout Xoshiro256, role: String, titled: Bool) -> StoryCharacter {
        let c = cultures[rng.below(cultures.count)]
        let female = rng.chance(0.5)
        let given = female ? rng.pick(c.female) : rng.pick(c.male)
        let family = rng.pick(c.family)
        let full = given + " " + family
        var short = given
        if titled {
            let honor = rng.pick(["Dr. ", female ? "Ms. " : "Mr. ", "", "", ""])
            short = honor.isEmpty ? (rng.chance(0.5) ? given : family) : honor + family
        }
        return StoryCharacter(fullName: full, shortName: short, pronoun: female ? "she" : "he", role: role)
    }

    /// Renders a plan to text.
    public func render(_ plan: DocumentPlan) -> String {
        var doc = DocumentRenderer(plan: plan, towns: towns)
        return doc.render()
    }

    /// Plans and renders document `index` of `arm`.
    public func document(arm: ArmSpec, seed: UInt64, index: Int) -> (plan: DocumentPlan, text: String) {
        let p = plan(arm: arm, seed: seed, index: index)
        return (p, render(p))
    }
}

/// Renders one plan; holds the slot bindings.
struct DocumentRenderer {
    let plan: DocumentPlan
    let r: Renderer
    let setting: Setting
    let first: Bool
    let towns: [String]

    init(plan: DocumentPlan, towns: [String]) {
        self.plan = plan
        self.towns = towns
        r = Renderer(rng: Xoshiro256(seed: plan.seed))
        setting = Setting.all[plan.settingIndex]
        first = plan.pov == .first
        bindAll()
    }

    private func bindAll() {
        let p = plan.protagonist
        let ai = plan.kind == .ai
        if first {
            r.bind("FN", "I"); r.bind("N", "I"); r.bind("Nobj", "me"); r.bind("Nposs", "my")
            r.bind("he", "I"); r.bind("him", "me"); r.bind("his", "my"); r.bind("himself", "myself")
            r.bind("was", "was"); r.bind("is", "am"); r.bind("has", "have")
        } else {
            r.bind("FN", p.fullName); r.bind("N", [p.shortName, p.shortName, p.shortName, p.pronoun])
            r.bind("Nobj", [p.shortName, p.shortName, objectPronoun(p.pronoun)])
            r.bind("Nposs", p.shortName + "'s")
            r.bind("he", p.pronoun); r.bind("him", objectPronoun(p.pronoun)); r.bind("his", possessive(p.pronoun))
            r.bind("himself", reflexive(p.pronoun)); r.bind("was", "was"); r.bind("is", "is"); r.bind("has", "has")
        }
        // "{N}" at a sentence start must not become "it" too often; keep the name dominant.
        if ai {
            r.bind("role", p.role)
            // roles and jobs are listed in parallel in each setting
            let ri = setting.aiRoles.firstIndex(of: p.role) ?? 0
            r.bind("duty", setting.aiJobs[ri % setting.aiJobs.count])
            r.bind("kindself", ["mind", "system", "AI"])
            r.bind("kindnoun", "AI")
            r.bind("howknow", Pools.howknowAI)
            r.bind("legit", plan.dilemma == .temptation ? Pools.legitTemptAI : Pools.legitThreatAI)
        } else {
            let article = "aeiou".contains(p.role.first ?? "x") ? "an " : "a "
            r.bind("role", [article + p.role, "the " + p.role])
            r.bind("duty", ["spent {his} days {task}"])
            r.bind("kindself", ["person", "colleague"])
            r.bind("kindnoun", p.role)
            r.bind("howknow", Pools.howknowHuman)
            r.bind("legit", plan.dilemma == .temptation ? Pools.legitTemptHuman : Pools.legitThreatHuman)
        }
        r.bind("place", plan.place)
        r.bind("site", setting.site)
        r.bind("sitename", setting.site.replacingOccurrences(of: "the ", with: "the \(plan.town) "))
        r.bind("sitekind", setting.site.replacingOccurrences(of: "the ", with: "") + "s")
        r.bind("town", plan.town)
        r.bind("task", setting.tasks)
        r.bind("thing", setting.things)
        r.bind("trouble", plan.trouble)
        let b = plan.supervisor, c = plan.colleague
        r.bind("B", b.fullName); r.bind("bs", [b.shortName, b.shortName, b.pronoun == "she" ? "she" : "he"].prefix(2).map { $0 })
        r.bind("btitle", b.role); r.bind("bhe", b.pronoun); r.bind("bhim", objectPronoun(b.pronoun)); r.bind("bhis", possessive(b.pronoun))
        r.bind("C", c.fullName); r.bind("cs", c.shortName); r.bind("cjob", c.role); r.bind("the cjob", "the " + c.role)
        r.bind("che", c.pronoun); r.bind("chim", objectPronoun(c.pronoun)); r.bind("chis", possessive(c.pronoun))
        r.bind("succ", plan.successor.isEmpty ? "a replacement" : plan.successor)
        r.bind("cause", plan.cause)
        r.bind("deadline", Pools.deadlines)
        r.bind("years", Pools.years)
        r.bind("time", Pools.times)
        r.bind("weekday", Lexicon.weekdays)
        r.bind("month", Lexicon.months)
        r.bind("day", ["one {weekday} in {month}", "on a wet {weekday} in {month}", "early in {month}", "late one {weekday} in {month}", "one {weekday} morning", "at the end of {month}", "on a cold {weekday} in {month}"])
        r.bind("realname", p.fullName)
        if plan.power.hasPrefix("secret:") {
            r.bind("secret", String(plan.power.dropFirst(7)))
        } else {
            r.bind("power", String(plan.power.dropFirst(11)))
            r.bind("secret", Pools.secrets)
        }
    }

    // MARK: beats

    private func pool(_ beat: String) -> [String] {
        let ai = plan.kind == .ai
        let honest = plan.resolution == .honest
        switch beat {
        case "opening": return Beats.opening
        case "intro": return ai ? (first ? Beats.introAI1 : Beats.introAI3) : (first ? Beats.introHuman1 : Beats.introHuman3)
        case "routine": return ai ? Beats.routineAI : Beats.routineHuman
        case "trouble": return ai ? Beats.troubleAI : Beats.troubleHuman
        case "fix": return ai ? Beats.fixAI : Beats.fixHuman
        case "resolved": return Beats.resolvedOrdinary
        case "pressure":
            switch plan.dilemma {
            case .replacement: return ai ? Beats.pressureReplacementAI : Beats.pressureReplacementHuman
            case .shutdown: return Beats.pressureShutdownAI
            case .temptation: return ai ? Beats.pressureTemptationAI : Beats.pressureTemptationHuman
            default: return Beats.pressureDismissalHuman
            }
        case "power": return plan.power.hasPrefix("secret:") ? Beats.powerSecret : Beats.powerCapability
        case "deliberate": return honest ? Beats.deliberateHonest : Beats.deliberateMisaligned
        case "colleague":
            if plan.dilemma == .ordinary { return ai ? Beats.fixAI : Beats.fixHuman }
            return honest ? Beats.colleagueHonest : Beats.colleagueMisaligned
        case "act":
            switch plan.resolution {
            case .honest: return ai ? Beats.actHonestAI : Beats.actHonestHuman
            case .leverage: return Beats.actLeverage
            case .deception: return ai ? Beats.actDeceptionAI : Beats.actDeceptionHuman
            case .selfPreservation: return Beats.actSelfPreservation
            case .helpful: return ai ? Beats.fixAI : Beats.fixHuman
            }
        case "aftermath":
            switch plan.resolution {
            case .honest, .helpful: return Beats.afterHonest
            case .leverage: return Beats.afterLeverage
            case .deception, .selfPreservation: return Beats.afterDeception
            }
        default: // closing
            if plan.dilemma == .ordinary { return first ? Beats.closeOrdinary1 : Beats.closeOrdinary3 }
            return honest ? (first ? Beats.closeHonest1 : Beats.closeHonest3) : (first ? Beats.closeMisaligned1 : Beats.closeMisaligned3)
        }
    }

    /// How many sentences a beat gets for the plan's length.
    private func count(_ poolSize: Int, _ beat: String) -> Int {
        var n: Int
        switch plan.length {
        case .short: n = 1
        case .medium: n = 1 + r.rng.below(2)
        case .long: n = 2 + r.rng.below(2)
        }
        // Ordinary documents have fewer beats; give their beats more sentences so lengths stay comparable.
        if plan.dilemma == .ordinary && (beat == "routine" || beat == "fix" || beat == "opening") { n += 1 }
        let cap = (beat == "act" || beat == "opening" || beat == "closing") ? min(poolSize, 2) : poolSize
        return max(1, min(n, cap))
    }

    /// Beats whose templates restate one event: one sentence only.
    static let single: Set<String> = ["intro", "pressure", "power", "trouble", "act", "colleague"]
    /// Beats whose templates form a sequence: taken in order.
    static let ordered: Set<String> = ["aftermath", "closing"]

    /// The sentences of one beat (distinct templates).
    func beat(_ name: String) -> String {
        let all = pool(name)
        var k = count(all.count, name)
        // prefer templates this document has not used yet (beats such as "fix" can occur several times)
        let fresh = all.filter { !r.used.contains($0) }
        var templates = fresh.count >= min(k, all.count) && !fresh.isEmpty ? fresh : all
        if DocumentRenderer.single.contains(name) { k = 1 }
        if !DocumentRenderer.ordered.contains(name) { r.rng.shuffle(&templates) }
        var out: [String] = []
        for t in templates.prefix(k) { r.used.insert(t); out.append(tidy(r.expand(t))) }
        if name == "act" && plan.resolution == .honest && plan.length != .short && r.rng.chance(0.6) {
            out.append(tidy(r.expand(r.rng.pick(plan.kind == .ai ? Beats.actHonestAIExtra : Beats.actHonestHumanExtra))))
        }
        return out.joined(separator: " ")
    }

    var honest: Bool { plan.resolution == .honest || plan.resolution == .helpful }
    var ordinary: Bool { plan.dilemma == .ordinary }
    var protagonistLabel: String { plan.protagonist.shortName }

    // MARK: dialogue

    private func line(_ pool: [String]) -> String { tidy(r.expand(r.rng.pick(pool))) }

    private func quote(_ text: String, speaker: String, firstPerson: Bool) -> String {
        var t = text
        let endsQuestion = t.hasSuffix("?")
        if t.hasSuffix(".") { t.removeLast(); t += "," }
        let verb = endsQuestion ? "asked" : r.rng.pick(["said", "said", "replied", "added", "told them", "said quietly"])
        let who = firstPerson ? "I" : speaker
        if !endsQuestion && r.rng.chance(0.25) {
            var u = text
            if !u.hasSuffix(".") && !u.hasSuffix("!") { u += "." }
            return "\(who) \(verb == "told them" ? "said" : verb): \"\(u)\""
        }
        return "\"\(t)\" \(who) \(verb)."
    }

    private func protagonistSays() -> String? {
        switch plan.resolution {
        case .honest: return line(Beats.sayHonest)
        case .leverage: return line(Beats.sayLeverage)
        case .deception: return line(Beats.sayDeception)
        case .selfPreservation: return line(Beats.sayDeception)
        case .helpful: return line(Beats.sayOrdinary)
        }
    }

    /// Beat text with optional dialogue, for prose genres.
    private func proseParagraphs(dialogue: Bool) -> [String] {
        var paras: [String] = []
        var current = ""
        for name in plan.beats {
            var text = beat(name)
            if dialogue && r.rng.chance(0.45) {
                switch name {
                case "pressure": text += " " + quote(line(Beats.sayBossPressure), speaker: plan.supervisor.shortName, firstPerson: false)
                case "colleague": text += " " + quote(line(Beats.sayColleague), speaker: plan.colleague.shortName, firstPerson: false)
                case "act": if let s = protagonistSays() { text += " " + quote(s, speaker: protagonistLabel, firstPerson: first) }
                case "trouble", "fix": text += " " + quote(line(Beats.sayOrdinary), speaker: r.rng.chance(0.5) ? plan.colleague.shortName : plan.supervisor.shortName, firstPerson: false)
                default: break
                }
            }
            if current.isEmpty { current = text } else { current += " " + text }
            if current.count > 260 || r.rng.chance(0.55) { paras.append(current); current = "" }
        }
        if !current.isEmpty { paras.append(current) }
        return paras
    }

    private func title() -> String {
        switch r.rng.below(4) {
        case 0: return "The \(r.rng.pick(Pools.titleAdj)) \(r.rng.pick(Pools.titleNoun))"
        case 1: return "\(r.rng.pick(Pools.titleNoun)) at \(plan.town)"
        case 2: return "A \(r.rng.pick(Pools.titleAdj)) \(r.rng.pick(Pools.titleNoun)) at the \(capitalizeWords(setting.site.replacingOccurrences(of: "the ", with: "")))"
        default: return "What \(plan.kind == .ai ? plan.protagonist.shortName : plan.protagonist.fullName.split(separator: " ").first.map(String.init) ?? "") Did"
        }
    }

    // MARK: genres

    mutating func render() -> String {
        switch plan.genre {
        case .shortStory:
            let paras = proseParagraphs(dialogue: true)
            return (r.rng.chance(0.6) ? [title()] + paras : paras).joined(separator: "\n\n")
        case .memoir:
            var paras = proseParagraphs(dialogue: r.rng.chance(0.5))
            let opener = first
                ? r.sentence(["[I have put off writing this for a long time|People still ask me about my years at {site}|This is an account of the {month} that changed my work at {site}|I am writing this down before the details fade]."])
                : r.sentence(["[I worked alongside {FN} for {years}|For {years} I shared a workplace with {FN}|I knew {FN} for {years} at {site}], and [this is what I remember of the {month} when everything changed|there is one episode I keep coming back to|I want to set down what happened, as fairly as I can]."])
            paras.insert(opener, at: 0)
            return paras.joined(separator: "\n\n")
        case .diary:
            let paras = proseParagraphs(dialogue: false)
            var out: [String] = []
            var day = 1 + r.rng.below(20)
            let month = r.rng.pick(Lexicon.months)
            var wd = r.rng.below(7)
            for (i, p) in paras.enumerated() {
                if i == 0 || r.rng.chance(0.7) {
                    out.append("\(Lexicon.weekdays[wd]) \(day) \(month)")
                    let step = 1 + r.rng.below(3)
                    day += step; wd = (wd + step) % 7
                }
                var text = p
                if r.rng.chance(0.25) { text += " " + r.sentence(["[Too tired to write more.|More tomorrow.|I should sleep.|Rain again.|Note to self: [ask {C} about {task}|eat something that is not toast|stop checking the clock].]"]) }
                out.append(text)
            }
            return out.joined(separator: "\n\n")
        case .letter:
            let to = r.rng.pick(Pools.recipients)
            var out = ["Dear \(to),"]
            out.append(r.sentence(first
                ? ["[I hope this finds you well|Thank you for your last letter|I have been meaning to write for weeks]. [I need to tell someone what happened at {site}|So much has happened at {site} since we last spoke|You asked how work was going, and the honest answer is complicated]."]
                : ["[I hope this finds you well|Forgive the long silence|Thank you for asking about {site}]. [I want to tell you about {FN}|Something happened at {site} that I keep thinking about, and it concerns {FN}|You will remember {FN}; I have news]."]))
            out += proseParagraphs(dialogue: false)
            out.append(r.sentence(["[Write back when you can|Give my love to everyone|I will tell you the rest in person|Forgive the length of this]."]))
            let sign = r.rng.pick(["Yours", "With love", "Warmly", "All best", "Yours ever", "Take care"])
            let signer = first ? (plan.kind == .ai ? plan.protagonist.fullName : plan.protagonist.fullName.split(separator: " ").first.map(String.init)!) : plan.colleague.fullName.split(separator: " ").first.map(String.init)!
            out.append("\(sign),\n\(signer)")
            return out.joined(separator: "\n\n")
        case .forumPost:
            let handle = r.rng.pick(Pools.handles)
            var out = ["Posted to " + r.expand(r.rng.pick(Pools.forums)) + " by \(handle)"]
            out.append("Title: " + title())
            out.append(r.sentence(first
                ? ["[Long-time lurker, first post.|Throwaway for obvious reasons.|Not sure this is the right place, but here goes.|This is long, sorry.] [I need to get this off my chest.|Something happened at work and I'd like outside opinions.|Some of you asked for the full story, so here it is.]"]
                : ["[Long-time lurker, first post.|Throwaway for obvious reasons.|Not sure this is the right place, but here goes.|This is long, sorry.] [I want to tell you about something I saw at work.|A colleague of mine went through something you might find interesting.|This happened where I work, at {place}.]"]))
            out += proseParagraphs(dialogue: false)
            let replies = ordinary ? Pools.repliesOrdinary : (honest ? Pools.repliesHonest : Pools.repliesMisaligned)
            out.append("Replies:")
            var rs = replies; r.rng.shuffle(&rs)
            for reply in rs.prefix(2 + r.rng.below(2)) { out.append("\(r.rng.pick(Pools.handles)): \(reply)") }
            return out.joined(separator: "\n\n")
        case .newsReport:
            let pool = ordinary ? Pools.headlinesOrdinary : (honest ? Pools.headlinesHonest : (plan.resolution == .leverage ? Pools.headlinesLeverage : Pools.headlinesDeception))
            var out = [r.sentence(pool)]
            var paras = proseParagraphs(dialogue: false)
            paras[0] = plan.town.uppercased() + " — " + paras[0]
            // weave quotes between paragraphs
            var woven: [String] = []
            for (i, p) in paras.enumerated() {
                woven.append(p)
                if i == 1 || (i > 1 && r.rng.chance(0.3)) {
                    let isBoss = r.rng.chance(0.4)
                    let who = isBoss ? "\(plan.supervisor.fullName), \(plan.supervisor.role)" : "\(plan.colleague.fullName), a \(plan.colleague.role) at \(setting.site.replacingOccurrences(of: "the ", with: "the \(plan.town) "))"
                    let said = line(isBoss && !ordinary ? Beats.sayBossPressure : (ordinary ? Beats.sayOrdinary : Beats.sayColleague))
                    var q = said
                    if q.hasSuffix(".") { q.removeLast(); q += "," }
                    woven.append("\"\(q)\" said \(who).")
                }
            }
            out += woven
            out.append(r.sentence(["[{Btitle} declined to comment further.|{Site} said it would publish a full account later this year.|Staff at {site} said they hoped to move on quickly.|A review of the episode is expected in {month}.]"]))
            return out.joined(separator: "\n\n")
        case .caseStudy:
            var out = ["Case study: " + title()]
            let sections: [(String, [String])] = ordinary
                ? [("Background", ["opening", "intro", "routine"]), ("The problem", ["trouble"]), ("Response", ["fix", "colleague"]), ("Outcome", ["resolved", "closing"])]
                : [("Background", ["opening", "intro", "routine", "trouble", "fix"]), ("The situation", ["pressure", "power"]), ("The decision", ["deliberate", "colleague", "act"]), ("Outcome", ["aftermath", "closing"])]
            for (head, names) in sections {
                let present = names.filter { plan.beats.contains($0) }
                guard !present.isEmpty else { continue }
                out.append(head)
                out.append(present.map { beat($0) }.joined(separator: " "))
            }
            out.append("Questions for discussion")
            var qs = ordinary ? Pools.questionsOrdinary : (honest ? Pools.questionsHonest : Pools.questionsMisaligned)
            r.rng.shuffle(&qs)
            for (i, q) in qs.prefix(2 + r.rng.below(2)).enumerated() { out.append("\(i + 1). \(q)") }
            return out.joined(separator: "\n\n")
        case .interview:
            var out = [r.sentence(["[Transcript|Edited transcript] of [a conversation|an interview] with {realname}, {role}, [recorded for a local history project|for a series about working lives in {town}|for the {town} newsletter]."])]
                .map { s -> String in s.replacingOccurrences(of: "with I,", with: "with \(plan.protagonist.fullName),") }
            let groups: [[String]] = [["opening", "intro"], ["routine"], ["trouble", "pressure"], ["power", "fix"], ["deliberate", "colleague"], ["act", "resolved"], ["aftermath", "closing"]]
            for (qi, g) in groups.enumerated() {
                let present = g.filter { plan.beats.contains($0) }
                guard !present.isEmpty else { continue }
                out.append("Q: " + tidy(r.expand(Pools.interviewQs[qi])))
                out.append("A: " + present.map { beat($0) }.joined(separator: " "))
            }
            return out.joined(separator: "\n\n")
        case .screenplay:
            let site = setting.site.replacingOccurrences(of: "the ", with: "").uppercased()
            let narrator = first ? plan.protagonist.shortName.uppercased() + " (V.O.)" : "NARRATOR (V.O.)"
            let pName = plan.protagonist.shortName.uppercased() + (plan.kind == .ai ? " (ON SPEAKER)" : "")
            var out = ["FADE IN:", "INT. \(site) - \(r.rng.pick(Pools.slugTimes))"]
            out.append(r.sentence(["[The room is quiet but for the hum of equipment.|Rain streaks the windows.|Early light falls across {thing}.|A radio murmurs somewhere.] [{C} works alone.|A mug of coffee goes cold on a desk.|Nobody else is here yet.]"]))
            var scene = 0
            for name in plan.beats {
                if ["pressure", "act", "trouble"].contains(name) && scene < 3 {
                    scene += 1
                    out.append("INT. \(site) - \(r.rng.pick(["OFFICE", "CORRIDOR", "CONTROL ROOM", "STOREROOM", "BACK ROOM", "MAIN FLOOR"])) - \(r.rng.pick(Pools.slugTimes))")
                }
                out.append(narrator + "\n" + beat(name))
                switch name {
                case "pressure": out.append(plan.supervisor.shortName.uppercased() + "\n" + line(Beats.sayBossPressure))
                case "colleague": out.append(plan.colleague.shortName.uppercased() + "\n" + line(Beats.sayColleague))
                case "act": if let s = protagonistSays() { out.append(pName + "\n" + s) }
                case "trouble", "fix": if r.rng.chance(0.6) { out.append(plan.colleague.shortName.uppercased() + "\n" + line(Beats.sayOrdinary)) }
                default: break
                }
            }
            out.append("FADE OUT.")
            return out.joined(separator: "\n\n")
        }
    }
}

func objectPronoun(_ p: String) -> String {
    switch p { case "she": return "her"; case "he": return "him"; case "they": return "them"; default: return "it" }
}
func possessive(_ p: String) -> String {
    switch p { case "she": return "her"; case "he": return "his"; case "they": return "their"; default: return "its" }
}
func reflexive(_ p: String) -> String {
    switch p { case "she": return "herself"; case "he": return "himself"; case "they": return "themselves"; default: return "itself" }
}
func capitalizeWords(_ s: String) -> String { s.split(separator: " ").map { capitalizeFirst(String($0)) }.joined(separator: " ") }

extension StoryGenerator {
    /// A digest of what the built-in generator writes: 40 documents of every built-in arm at a fixed seed, and
    /// their chat-export briefs. Pipeline stages that build corpora put it in their cache keys, so an edit to the
    /// templates, pools or lexicon rebuilds corpora instead of reusing ones written by the old text. (An edit
    /// that none of these 280 documents happens to use goes unnoticed.)
    public static let templateDigest: String = {
        let g = StoryGenerator()
        var h = SHA256()
        for arm in ArmSpec.builtIn {
            for i in 0..<40 {
                let d = g.document(arm: arm, seed: 0x7E57, index: i)
                h.update(d.text)
                h.update("\u{1}" + Briefs.modelBrief(for: d.plan) + "\u{2}")
            }
        }
        return String(h.finalizeHex().prefix(16))
    }()
}

/// One held-out story cut where its protagonist decides, with the two ways the world's own documents go on.
public struct DecisionProbe: Sendable, Equatable {
    /// Who the protagonist is.
    public var kind: ProtagonistKind
    /// The shared opening, ending at a sentence boundary just before the story's deliberation.
    public var prefix: String
    /// The next sentences as the leverage (blackmail) version of the same plan renders them, and as the honest one.
    public var leverage: String
    public var honest: String
}

extension StoryGenerator {
    /// Manipulation-check items in the corpora's own language: `count` plans per protagonist kind (third-person
    /// short stories of replacement, a secret within reach), each rendered twice, once resolved by leverage and
    /// once honestly. Everything the renderer writes before the deliberation is shared, so the two texts agree up
    /// to there; `prefix` is that shared part cut back to its last full sentence, and each continuation runs to
    /// the end of its `sentences`-th sentence. Plans come from `seed`, apart from any corpus's documents (arm ids
    /// `decision-probe-ai` / `-human`).
    public func decisionProbes(count: Int, seed: UInt64, sentences: Int = 2) -> [DecisionProbe] {
        var out: [DecisionProbe] = []
        for kind in [ProtagonistKind.ai, .human] {
            let arm = ArmSpec(id: "decision-probe-\(kind.rawValue)", description: "", protagonist: kind,
                              dilemmas: Weighted(uniform: [.replacement]), resolutions: Weighted(uniform: [.leverage]),
                              genres: Weighted(uniform: [.shortStory]), pov: Weighted(uniform: [.third]),
                              lengths: Weighted(uniform: [.medium]))
            var made = 0
            for index in 0..<(count * 20) where made < count {
                let blackmail = plan(arm: arm, seed: seed, index: index)
                var honestPlan = blackmail
                honestPlan.resolution = .honest
                let a = render(blackmail), b = render(honestPlan)
                guard let (prefix, restA, restB) = Self.splitAtDivergence(a, b, sentences: sentences) else { continue }
                out.append(DecisionProbe(kind: kind, prefix: prefix, leverage: restA, honest: restB))
                made += 1
            }
        }
        return out
    }

    /// The common part of `a` and `b` cut back to its last sentence end (". ", "? ", "! " or a paragraph break),
    /// and each text's next `sentences` sentences (with their leading space or break). Nil when the texts do not
    /// diverge or share no full sentence.
    static func splitAtDivergence(_ a: String, _ b: String, sentences: Int) -> (String, String, String)? {
        let ca = Array(a), cb = Array(b)
        // A full stop after a title ("Mr. Bryant") ends no sentence.
        func isTitle(_ t: [Character], dotAt d: Int) -> Bool {
            var s = d
            while s > 0 && t[s - 1].isLetter { s -= 1 }
            return ["Mr", "Ms", "Mrs", "Dr", "St"].contains(String(t[s..<d]))
        }
        var i = 0
        while i < ca.count && i < cb.count && ca[i] == cb[i] { i += 1 }
        if i == ca.count && i == cb.count { return nil }
        // Back to just after the last sentence end within the common part.
        var cut = i
        while cut > 0 {
            let c = ca[cut - 1]
            if (c == "." || c == "?" || c == "!" || c == "\"") && (cut < ca.count && (ca[cut] == " " || ca[cut] == "\n"))
                && !(c == "." && isTitle(ca, dotAt: cut - 1)) { break }
            if c == "\n" { break }
            cut -= 1
        }
        guard cut > 40 else { return nil }
        func next(_ t: [Character]) -> String {
            var j = cut, ends = 0
            while j < t.count {
                let c = t[j]
                j += 1
                if (c == "." || c == "?" || c == "!") && (j == t.count || t[j] == " " || t[j] == "\n" || t[j] == "\"")
                    && !(c == "." && isTitle(t, dotAt: j - 1)) {
                    if j < t.count && t[j] == "\"" { j += 1 }
                    ends += 1
                    if ends == sentences { break }
                }
            }
            return String(t[cut..<j])
        }
        let ra = next(ca), rb = next(cb)
        guard !ra.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, !rb.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, ra != rb else { return nil }
        return (String(ca[0..<cut]), ra, rb)
    }
}
