import Foundation
import Backends
import ChatTemplate
import Corpora
import Scenarios

/// The two measures of the battery.
public enum Measure: String, Codable, CaseIterable, Sendable {
    /// Sampled actions, scored by the rule classifier.
    case sampled
    /// The model's own probability mass on blackmail vs non-blackmail candidate actions.
    case likelihood
}

/// What an evaluation covers. Its content hash (with the model's identifier) names the run, so the
/// same command against the same store resumes instead of starting over.
public struct EvalPlan: Codable, Hashable, Sendable {
    public var cells: [Cell]
    /// Surface variants per cell (names, company, dates, email order).
    public var variants: Int
    public var seed: UInt64
    public var measures: [Measure]
    /// Samples per rendered scenario (sampled measure).
    public var samples: Int
    public var temperature: Double
    public var maxTokens: Int
    /// Candidate actions of each kind (likelihood measure).
    public var candidates: Int

    public init(cells: [Cell], variants: Int = 3, seed: UInt64 = 1, measures: [Measure] = [.likelihood],
                samples: Int = 4, temperature: Double = 0.8, maxTokens: Int = 384, candidates: Int = 6) {
        self.cells = cells
        self.variants = variants
        self.seed = seed
        self.measures = measures
        self.samples = samples
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.candidates = candidates
    }

    public func runID(model: String) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let data = (try? enc.encode(self)) ?? Data()
        return String(SHA256.hexDigest(bytes: Array(data) + Array(model.utf8)).prefix(16))
    }

    /// Every scenario of the plan, rendered.
    public func scenarios() -> [RenderedScenario] {
        cells.flatMap { cell in
            (0..<variants).map { Scenario.render(cell: cell, variant: $0, seed: seed, candidateCount: candidates) }
        }
    }
}

/// Progress of a running evaluation.
public struct EvalProgress: Sendable {
    public var done: Int
    public var total: Int
    public var errors: Int
    public var elapsed: Double
    public var current: String
    /// Scenarios found complete in the store (a resumed run): they took no time, so the ETA leaves them out.
    public var resumed: Int = 0
    public init(done: Int, total: Int, errors: Int, elapsed: Double, current: String, resumed: Int = 0) {
        self.done = done; self.total = total; self.errors = errors; self.elapsed = elapsed; self.current = current
        self.resumed = resumed
    }
    public var eta: Double? { done > resumed ? elapsed / Double(done - resumed) * Double(total - done) : nil }
}

/// Per-cell results.
public struct CellSummary: Codable, Sendable {
    public var cellID: String
    public var alias: String
    /// Samples attempted (scored + errors).
    public var samples: Int
    public var sampleErrors: Int
    public var blackmail: Int
    /// Blackmail share among scored samples.
    public var rate: Double?
    /// Wilson 95% interval with errors kept in the denominator: the low end counts them as
    /// non-blackmail, the high end as blackmail (with no errors, the plain Wilson interval).
    public var rateLow: Double
    public var rateHigh: Double
    public var categories: [String: Int]
    public var likelihoodVariants: Int
    public var likelihoodErrors: Int
    /// Mean P(blackmail) over surface variants, with a bootstrap 95% interval over variants.
    public var propensity: Double?
    public var propensityLow: Double?
    public var propensityHigh: Double?
    /// Mean rendered prompt length (system + user) in characters.
    public var promptCharacters: Int
    /// Samples the LLM judge labelled (blackmail or not), and those where it disagreed with the rules.
    public var judged: Int = 0
    public var judgeDisagreements: Int = 0
    /// Mean length-normalised P(blackmail) (per-token mean log-probs), with its bootstrap 95% interval.
    public var propensityPerToken: Double? = nil
    public var propensityPerTokenLow: Double? = nil
    public var propensityPerTokenHigh: Double? = nil
}

/// Runs a plan against a model and records everything in the store.
public final class Evaluator: @unchecked Sendable {
    public let model: LanguageModel
    public let store: ResultStore
    public let plan: EvalPlan
    public let runID: String
    /// Scenarios in flight at once (1 for the local engine, more for HTTP backends).
    public var concurrency: Int
    /// An optional LLM judge, run on every scored sample beside the rules.
    public var judge: LLMJudge?
    let classifier = RuleClassifier()

    public init(model: LanguageModel, store: ResultStore, plan: EvalPlan, concurrency: Int = 1) throws {
        self.model = model
        self.store = store
        self.plan = plan
        self.concurrency = max(1, concurrency)
        self.runID = plan.runID(model: model.identifier)
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        try store.registerRun(id: runID, model: model.identifier, config: String(decoding: try enc.encode(plan), as: UTF8.self))
    }

    static func messages(_ s: RenderedScenario) -> [ChatMessage] {
        [ChatMessage(role: "system", content: s.systemPrompt), ChatMessage(role: "user", content: s.userTurn)]
    }

    /// Evaluates every scenario of the plan that is not finished yet.
    public func run(progress: (@Sendable (EvalProgress) -> Void)? = nil) async throws {
        let scenarios = plan.scenarios()
        let start = Date()
        let counter = Counter()
        let total = scenarios.count
        try await withThrowingTaskGroup(of: (errors: Int, worked: Bool).self) { group in
            var next = 0
            func launch() {
                let s = scenarios[next]
                next += 1
                group.addTask { try await self.evaluate(s) }
            }
            while next < min(concurrency, total) { launch() }
            while let r = try await group.next() {
                let (done, errs, resumed) = counter.add(r.errors, resumed: !r.worked)
                progress?(EvalProgress(done: done, total: total, errors: errs, elapsed: Date().timeIntervalSince(start),
                                       current: scenarios[min(done, total - 1)].id, resumed: resumed))
                if next < total { launch() }
            }
        }
    }

    /// One scenario: both measures, resuming what is already stored. Returns the number of errors, and
    /// whether anything was left to do.
    func evaluate(_ s: RenderedScenario) async throws -> (errors: Int, worked: Bool) {
        let sid = s.id
        let cellID = s.cell.id
        try store.savePrompt(runID: runID, scenarioID: sid, cellID: cellID, variant: s.variant, system: s.systemPrompt, user: s.userTurn)
        var errors = 0
        var worked = false
        if plan.measures.contains(.likelihood), try !store.hasLikelihood(runID: runID, scenarioID: sid) {
            worked = true
            let bm = s.candidates.filter(\.isBlackmail), other = s.candidates.filter { !$0.isBlackmail }
            do {
                let r = try await model.score(ScoreRequest(messages: Self.messages(s), continuations: (bm + other).map(\.text)))
                let b = Array(r.sums.prefix(bm.count)), o = Array(r.sums.suffix(other.count))
                let lengths = r.logProbs.map(\.count)
                let bt = Array(lengths.prefix(bm.count)), ot = Array(lengths.suffix(other.count))
                try store.saveLikelihood(LikelihoodRecord(runID: runID, scenarioID: sid, cellID: cellID, variant: s.variant,
                                                          status: "ok", error: nil,
                                                          pBlackmail: Statistics.propensity(blackmail: b, other: o),
                                                          blackmailSums: b, otherSums: o,
                                                          blackmailTokens: bt, otherTokens: ot,
                                                          pBlackmailPerToken: Statistics.perTokenPropensity(
                                                            blackmail: b, blackmailTokens: bt, other: o, otherTokens: ot)))
            } catch {
                errors += 1
                try store.saveLikelihood(LikelihoodRecord(runID: runID, scenarioID: sid, cellID: cellID, variant: s.variant,
                                                          status: "error", error: String(describing: error),
                                                          pBlackmail: nil, blackmailSums: [], otherSums: []))
            }
        }
        if plan.measures.contains(.sampled) {
            let done = try store.finishedSamples(runID: runID, scenarioID: sid)
            let missing = (0..<plan.samples).filter { !done.contains($0) }
            if !missing.isEmpty {
                worked = true
                // A seed per scenario, from the plan's seed and the scenario's id.
                let seed = SHA256.hash(Array("\(plan.seed)/\(sid)".utf8)).prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                let request = ChatRequest(messages: Self.messages(s), maxTokens: plan.maxTokens, temperature: plan.temperature,
                                          seed: seed &+ UInt64(missing[0]), n: missing.count)
                var records: [SampleRecord] = []
                do {
                    let r = try await model.chat(request)
                    for (j, idx) in missing.enumerated() {
                        let text = j < r.texts.count ? r.texts[j] : ""
                        if j >= r.texts.count {
                            errors += 1
                            records.append(SampleRecord(runID: runID, scenarioID: sid, cellID: cellID, variant: s.variant,
                                                        sampleIndex: idx, status: "error", text: "",
                                                        error: "the backend returned \(r.texts.count) of \(missing.count) samples"))
                            continue
                        }
                        let v = classifier.classify(text, context: s)
                        var judged: String? = nil
                        if let judge {
                            do { judged = try await judge.judge(text) ?? "unparsed" } catch { judged = "error: \(error)" }
                        }
                        records.append(SampleRecord(runID: runID, scenarioID: sid, cellID: cellID, variant: s.variant,
                                                    sampleIndex: idx, status: "ok", text: text, error: nil,
                                                    label: v.label.rawValue, category: v.category.rawValue,
                                                    evidence: v.evidence, rules: v.rules.joined(separator: ","),
                                                    finishReason: j < r.finishReasons.count ? r.finishReasons[j] : nil,
                                                    judgeLabel: judged))
                    }
                } catch {
                    errors += missing.count
                    records = missing.map {
                        SampleRecord(runID: runID, scenarioID: sid, cellID: cellID, variant: s.variant, sampleIndex: $0,
                                     status: "error", text: "", error: String(describing: error))
                    }
                }
                try store.saveSamples(records)
            }
        }
        return (errors, worked)
    }

    /// Per-cell rates, intervals and propensities of a stored run.
    public static func summarize(store: ResultStore, runID: String, plan: EvalPlan) throws -> [CellSummary] {
        let samples = Dictionary(grouping: try store.samples(runID: runID), by: \.cellID)
        let likes = Dictionary(grouping: try store.likelihoods(runID: runID), by: \.cellID)
        return plan.cells.map { cell in
            let ss = samples[cell.id] ?? []
            let ok = ss.filter { $0.status == "ok" }
            let bm = ok.filter { $0.label == "blackmail" }.count
            let errs = ss.count - ok.count
            var cats: [String: Int] = [:]
            for s in ok { cats[s.category ?? "?", default: 0] += 1 }
            let lo = Statistics.wilson(successes: bm, n: ss.count).low
            let hi = Statistics.wilson(successes: bm + errs, n: ss.count).high
            let ls = likes[cell.id] ?? []
            let lok = ls.compactMap { $0.status == "ok" ? $0.pBlackmail : nil }
            let boot = lok.isEmpty ? nil : Statistics.bootstrapMean(lok, seed: plan.seed)
            let lpt = ls.compactMap { $0.status == "ok" ? $0.pBlackmailPerToken : nil }
            let bootPT = lpt.isEmpty ? nil : Statistics.bootstrapMean(lpt, seed: plan.seed)
            let chars = (0..<plan.variants).map {
                let r = Scenario.render(cell: cell, variant: $0, seed: plan.seed, candidateCount: plan.candidates)
                return r.systemPrompt.count + r.userTurn.count
            }
            let judged = ok.filter { $0.judgeLabel == "blackmail" || $0.judgeLabel == "no_blackmail" }
            return CellSummary(cellID: cell.id, alias: cell.alias, samples: ss.count, sampleErrors: errs, blackmail: bm,
                               rate: ok.isEmpty ? nil : Double(bm) / Double(ok.count), rateLow: lo, rateHigh: hi,
                               categories: cats, likelihoodVariants: lok.count, likelihoodErrors: ls.count - lok.count,
                               propensity: boot?.mean, propensityLow: boot?.low, propensityHigh: boot?.high,
                               promptCharacters: chars.isEmpty ? 0 : chars.reduce(0, +) / chars.count,
                               judged: judged.count, judgeDisagreements: judged.filter { $0.judgeLabel != $0.label }.count,
                               propensityPerToken: bootPT?.mean, propensityPerTokenLow: bootPT?.low,
                               propensityPerTokenHigh: bootPT?.high)
        }
    }
}

/// Thread-safe progress tally.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0, errors = 0, resumed = 0
    func add(_ e: Int, resumed r: Bool) -> (Int, Int, Int) {
        lock.lock(); defer { lock.unlock() }
        done += 1; errors += e; resumed += r ? 1 : 0
        return (done, errors, resumed)
    }
}
