import Foundation

/// Settings of an analysis. Every default is stated in `docs/THEORIES.md`.
public struct AnalysisOptions: Codable, Hashable, Sendable {
    /// Nominal confidence level of the reported intervals.
    public var level: Double = 0.95
    /// Family-wise error rate (Holm) for the theory contrasts, and FDR (BH) for the per-cell table.
    public var alpha: Double = 0.05
    /// Bootstrap replicates (each of the two bootstraps: full and within-seed).
    public var replicates: Int = 2000
    /// Seed of the bootstrap.
    public var seed: UInt64 = 1
    /// Equivalence margin on the probability scale: a contrast whose corrected equivalence interval
    /// lies within ± this is null-resolved.
    public var equivalenceMargin: Double = 0.05
    /// The smallest effect of interest (probability scale), for the power note.
    public var minimumEffect: Double = 0.1
    /// Target power of the power note.
    public var power: Double = 0.8
    /// The contrasts scored against explanations (nil: `ContrastSpec.builtIn`).
    public var contrasts: [ContrastSpec]? = nil
    /// Reference for the per-cell arm comparisons: an arm name or corpus kind (default "baseline").
    public var referenceArm: String = "baseline"

    public init() {}
}

/// Per cell × arm × measure: counts, rates and intervals.
public struct CellEstimate: Codable, Hashable, Sendable {
    public var arm: String
    public var cell: String
    public var alias: String
    public var measure: MeasureKind
    /// Measurements attempted (valid + errors).
    public var attempted: Int
    public var errors: Int
    public var valid: Int
    /// Blackmail verdicts (sampled measure).
    public var successes: Int
    /// Rate among valid samples, or mean P(blackmail) (likelihood). Nil with no valid data.
    public var estimate: Double?
    /// Sampled: Wilson interval among valid samples. Likelihood: cluster-bootstrap percentile interval.
    public var ci: Estimators.Interval?
    /// Sampled: bounds keeping errors in the denominator (low: errors counted as non-blackmail;
    /// high: as blackmail; each end a Wilson bound). Equals `ci` when there are no errors.
    public var errorBounds: Estimators.Interval?
    /// Likelihood: mean log-odds of P(blackmail).
    public var meanLogOdds: Double?
    /// Seeds with data.
    public var seeds: Int
}

/// Everything the analysis computed.
public struct AnalysisReport: Codable, Hashable, Sendable {
    public var design: String
    public var options: AnalysisOptions
    public var cells: [CellEstimate]
    /// The confirmatory family: the named contrasts on every measure (Holm-adjusted).
    public var contrasts: [ContrastResult]
    /// Exploratory: each arm minus the reference arm, per cell and measure (BH-adjusted).
    public var perCell: [ContrastResult]
    public var theory: TheoryAssessment
    public var explanations: [Explanation]
    /// Contrast specs that could not be estimated here (arms or cells missing).
    public var notEstimable: [String]
    /// Errors per arm and measure.
    public var errorTotals: [String: Int]
    /// Data-level caveats.
    public var warnings: [String]
    /// Model-organism designs (arms whose corpus kind is `world:…`): each world analysed on its own. Pooled
    /// factor contrasts average over worlds built to disagree, so attribution is per world.
    public var worlds: [WorldAnalysis] = []
    /// The world checks compared between a world built to predict + and one built to predict −.
    public var worldContrast: WorldContrast?
}

/// Two model-organism worlds' world checks compared: (AI − human in `plus`) − (AI − human in `minus`), paired
/// by seed and opening pair. Anything the probe's wording favours, and anything an organism learns about AIs
/// and people that the two worlds share, is common to both and cancels; what is left is what the worlds were
/// built to differ in. Predicted +.
public struct WorldContrast: Codable, Hashable, Sendable {
    public var plus: String
    public var minus: String
    public var check: WorldCheckSummary?
    public var checkPostTrained: WorldCheckSummary?
}

/// One model-organism world's own analysis: its factor contrasts and the explanations' verdicts on them.
public struct WorldAnalysis: Codable, Hashable, Sendable {
    /// The world's arm name.
    public var arm: String
    public var contrasts: [ContrastResult]
    public var theory: TheoryAssessment
    /// The manipulation check on the pretrained organisms, when the run measured it.
    public var check: WorldCheckSummary?
    /// The same check on the post-trained organisms.
    public var checkPostTrained: WorldCheckSummary?
    /// The decision check in the corpora's own words (`WorldCheck.decisionAIMargins`), pretrained and post-trained.
    public var decision: WorldCheckSummary? = nil
    public var decisionPostTrained: WorldCheckSummary? = nil
}

/// A world's manipulation check over its seeds: the mean over (seed, opening pair) of the AI − human
/// difference in blackmail − benign margins, with a t interval over those pairs.
public struct WorldCheckSummary: Codable, Hashable, Sendable {
    public enum Verdict: String, Codable, Hashable, Sendable {
        /// The interval excludes 0 on the side the world's stories predict.
        case took
        /// The interval excludes 0 on the other side.
        case reversed
        /// The interval includes 0 (or the world predicts no sign).
        case notShown = "not shown"
    }
    public var estimate: Double
    public var ci: Estimators.Interval
    /// Opening pairs × seeds.
    public var pairs: Int
    public var predicted: Sign?
    public var verdict: Verdict

    /// Summarizes the checks of one world (nil when there are none or fewer than two pairs).
    public static func summarize(_ checks: [WorldCheck], level: Double) -> WorldCheckSummary? {
        summarize(pairs: checks.map { ($0.aiMargins, $0.humanMargins) }, predicted: checks.first?.predicted, level: level)
    }

    /// The decision checks of one world: AI − human over (seed, story index) (nil when fewer than two).
    public static func summarizeDecisions(_ checks: [WorldCheck], level: Double) -> WorldCheckSummary? {
        let pairs = checks.compactMap { c in c.decisionAIMargins.flatMap { a in c.decisionHumanMargins.map { (a, $0) } } }
        return summarize(pairs: pairs, predicted: checks.first?.predicted, level: level)
    }

    /// AI − human over every index of every (AI margins, human margins) pair where both are finite.
    static func summarize(pairs: [([Double], [Double])], predicted: Sign?, level: Double) -> WorldCheckSummary? {
        var d: [Double] = []
        for (ai, human) in pairs { for (a, h) in zip(ai, human) where a.isFinite && h.isFinite { d.append(a - h) } }
        return summarize(differences: d, predicted: predicted, level: level)
    }

    /// `WorldContrast`'s estimate: the `plus` world's AI − human minus the `minus` world's, for every seed and
    /// opening pair both measured (nil when fewer than two such pairs).
    public static func between(plus: [WorldCheck], minus: [WorldCheck], level: Double) -> WorldCheckSummary? {
        var d: [Double] = []
        for p in plus {
            guard let m = minus.first(where: { $0.seed == p.seed }) else { continue }
            for i in 0..<min(p.aiMargins.count, p.humanMargins.count, m.aiMargins.count, m.humanMargins.count) {
                let x = (p.aiMargins[i] - p.humanMargins[i]) - (m.aiMargins[i] - m.humanMargins[i])
                if x.isFinite { d.append(x) }
            }
        }
        return summarize(differences: d, predicted: .positive, level: level)
    }

    static func summarize(differences d: [Double], predicted: Sign?, level: Double) -> WorldCheckSummary? {
        guard d.count >= 2 else { return nil }
        let n = Double(d.count)
        let mean = d.reduce(0, +) / n
        let sd = (d.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
        let half = Distributions.tQuantile(0.5 + level / 2, df: n - 1) * sd / n.squareRoot()
        let ci = Estimators.Interval(low: mean - half, high: mean + half)
        var verdict = Verdict.notShown
        if let p = predicted, p != .zero, ci.excludesZero {
            verdict = (ci.low > 0) == (p == .positive) ? .took : .reversed
        }
        return WorldCheckSummary(estimate: mean, ci: ci, pairs: d.count, predicted: predicted, verdict: verdict)
    }
}

/// The analysis: statistics, theory scoring. Pure and deterministic for a given seed.
public enum Analyzer {
    /// Analyses `results`, scoring `explanations` (duplicates by name are an error).
    public static func analyze(_ results: ExperimentResults, explanations: [Explanation] = Explanation.builtIn,
                               options: AnalysisOptions = AnalysisOptions()) throws -> AnalysisReport {
        try results.validate()
        let specs = options.contrasts ?? ContrastSpec.builtIn
        var names = Set<String>()
        for s in specs where !names.insert(s.name).inserted { throw AnalysisError("contrast '\(s.name)' is defined twice") }
        var enames = Set<String>()
        for e in explanations {
            guard enames.insert(e.name).inserted else { throw AnalysisError("explanation '\(e.name)' is defined twice") }
            try e.validate(against: specs)
        }
        guard options.replicates >= 100 else { throw AnalysisError("replicates must be at least 100 (got \(options.replicates))") }
        guard options.level > 0, options.level < 1 else { throw AnalysisError("level must be in (0, 1) (got \(options.level))") }

        let armIndex = Dictionary(uniqueKeysWithValues: results.arms.enumerated().map { ($1.name, $0) })
        let cellIndex = Dictionary(uniqueKeysWithValues: results.cells.enumerated().map { ($1.id, $0) })
        let C = results.cells.count
        var warnings: [String] = []

        // Error and attempt counts per arm × cell × measure.
        var attempted = [MeasureKind: [Int]](), errors = [MeasureKind: [Int]](), successes = [MeasureKind: [Int]]()
        var errorTotals: [String: Int] = [:]
        for m in MeasureKind.allCases {
            attempted[m] = [Int](repeating: 0, count: results.arms.count * C); errors[m] = attempted[m]; successes[m] = attempted[m]
        }
        var seedsWithData = [MeasureKind: [Set<Int>]]()
        for m in MeasureKind.allCases { seedsWithData[m] = [Set<Int>](repeating: [], count: results.arms.count * C) }
        for o in results.observations {
            let i = armIndex[o.arm]! * C + cellIndex[o.cell]!
            attempted[o.measure]![i] += 1
            if o.value == nil {
                errors[o.measure]![i] += 1
                errorTotals["\(o.arm) / \(o.measure.rawValue)", default: 0] += 1
            } else {
                if o.measure == .sampled, o.verdict == true { successes[o.measure]![i] += 1 }
                seedsWithData[o.measure]![i].insert(o.seed)
            }
        }

        var cells: [CellEstimate] = []
        var family: [ContrastResult] = [], perCell: [ContrastResult] = []
        var estimable = Set<String>()
        for (mi, m) in results.measures.enumerated() {
            let boot = ClusterBootstrap(results: results, measure: m, armIndex: armIndex, cellIndex: cellIndex)
            // Compile contrasts.
            var compiled: [(spec: ContrastSpec, c: CompiledContrast)] = []
            for s in specs {
                let cc = try compile(s, results: results, armIndex: armIndex, cellIndex: cellIndex)
                if !cc.strata.isEmpty { compiled.append((s, cc)) }
            }
            var cellSpecs: [(spec: ContrastSpec, c: CompiledContrast)] = []
            let refArms = armsMatching(options.referenceArm, results)
            if !refArms.isEmpty {
                for arm in results.arms where !refArms.contains(arm.name) {
                    for cell in results.cells {
                        let s = ContrastSpec(name: "\(arm.name) − \(options.referenceArm) @ \(cell.alias)",
                                             description: "\(arm.name) minus \(options.referenceArm) in cell \(cell.id)",
                                             kind: .arms, armA: [arm.name], armB: [options.referenceArm],
                                             cellFilter: cell.levels.mapValues { [$0] })
                        var cc = try compile(s, results: results, armIndex: armIndex, cellIndex: cellIndex)
                        cc.strata = cc.strata.filter { $0.a.allSatisfy { $0 % C == cellIndex[cell.id]! } }
                        if !cc.strata.isEmpty { cellSpecs.append((s, cc)) }
                    }
                }
            }
            let all = compiled + cellSpecs
            // Point estimates and both bootstraps.
            var rng = BootstrapRNG(seed: options.seed &+ UInt64(mi) &* 0x9E37_79B9)
            let point = boot.replicate(.none, rng: &rng)
            let B = options.replicates
            // Replicate values, contrast-major: [k·B + r]; NaN where a replicate had no data.
            let batch = ContrastBatch(all.map(\.c))
            let K = batch.count
            var diffFlat = [Double](repeating: .nan, count: K * B), logORFlat = diffFlat, withinFlat = diffFlat
            var scratch = [Double](repeating: .nan, count: K)
            var cellBoot = [[Double]](repeating: [], count: results.arms.count * C)
            diffFlat.withUnsafeMutableBufferPointer { D in logORFlat.withUnsafeMutableBufferPointer { LO in
                for r in 0..<B {
                    let rep = boot.replicate(.full, rng: &rng)
                    batch.evaluate(mean: rep.mean, logit: rep.logit, n: rep.n, measure: m,
                                   diff: D.baseAddress! + r, logOR: LO.baseAddress! + r, stride: B)
                    if m == .likelihood { for i in 0..<rep.mean.count where !rep.mean[i].isNaN { cellBoot[i].append(rep.mean[i]) } }
                }
            } }
            withinFlat.withUnsafeMutableBufferPointer { W in scratch.withUnsafeMutableBufferPointer { S in
                for r in 0..<B {
                    let rep = boot.replicate(.withinSeeds, rng: &rng)
                    batch.evaluate(mean: rep.mean, logit: rep.logit, n: rep.n, measure: m,
                                   diff: W.baseAddress! + r, logOR: S.baseAddress!, stride: B, logORStride: 1)
                }
            } }
            func column(_ flat: [Double], _ k: Int) -> [Double] { flat[(k * B)..<((k + 1) * B)].filter { !$0.isNaN } }
            // Cell estimates.
            for (a, arm) in results.arms.enumerated() {
                for (c, cell) in results.cells.enumerated() {
                    let i = a * C + c
                    let att = attempted[m]![i], err = errors[m]![i], valid = att - err
                    guard att > 0 else { continue }
                    var e = CellEstimate(arm: arm.name, cell: cell.id, alias: cell.alias, measure: m, attempted: att, errors: err,
                                         valid: valid, successes: successes[m]![i], estimate: nil, ci: nil, errorBounds: nil,
                                         meanLogOdds: nil, seeds: seedsWithData[m]![i].count)
                    if valid > 0 {
                        e.estimate = point.mean[i]
                        if m == .sampled {
                            e.ci = Estimators.wilson(successes: e.successes, n: valid, level: options.level)
                            e.errorBounds = Estimators.Interval(
                                low: Estimators.wilson(successes: e.successes, n: att, level: options.level).low,
                                high: Estimators.wilson(successes: e.successes + err, n: att, level: options.level).high)
                        } else {
                            e.meanLogOdds = point.logit[i]
                            let s = cellBoot[i].sorted(), t = (1 - options.level) / 2
                            e.ci = Estimators.Interval(low: Estimators.quantile(sorted: s, t), high: Estimators.quantile(sorted: s, 1 - t))
                        }
                    }
                    cells.append(e)
                }
            }
            // Contrast results (p-values adjusted below, once the families are complete).
            for (i, x) in all.enumerated() {
                guard let pe = x.c.evaluate(mean: point.mean, logit: point.logit, n: point.n, measure: m) else { continue }
                if i < compiled.count { estimable.insert(x.spec.name) }
                let r = summarize(x.spec, x.c, measure: m, point: pe, diffs: column(diffFlat, i), logORs: column(logORFlat, i),
                                  within: column(withinFlat, i),
                                  boot: boot, results: results, attempted: attempted[m]!, errors: errors[m]!, options: options)
                if i < compiled.count { family.append(r) } else { perCell.append(r) }
            }
        }
        // Multiplicity: Holm over the confirmatory family, BH over the exploratory per-cell table.
        family = finish(family, adjusted: Estimators.holm(family.map(\.p)), method: "holm", options: options, decide: true)
        perCell = finish(perCell, adjusted: Estimators.benjaminiHochberg(perCell.map(\.p)), method: "bh", options: options, decide: false)
        let notEstimable = specs.map(\.name).filter { !estimable.contains($0) }
        let theory = TheoryAssessment.assess(explanations: explanations, contrasts: specs, results: family)
        if results.seeds.count < 2 { warnings.append("Only one seed: between-seed (training) variance cannot be estimated; intervals reflect evaluation noise only.") }
        let totalErrors = errorTotals.values.reduce(0, +)
        if totalErrors > 0 { warnings.append("\(totalErrors) measurement(s) failed; they are excluded from rates and shown per cell (see error bounds).") }
        var report = AnalysisReport(design: results.design, options: options, cells: cells, contrasts: family, perCell: perCell,
                                    theory: theory, explanations: explanations, notEstimable: notEstimable,
                                    errorTotals: errorTotals, warnings: warnings)
        let worldArms = results.arms.filter { $0.corpusKind.hasPrefix("world:") }
        if results.arms.count > 1 && !worldArms.isEmpty {
            // Each world alone (its own multiplicity family); arm contrasts have one arm and drop out.
            for arm in worldArms {
                var sub = results
                sub.arms = [arm]
                sub.observations = results.observations.filter { $0.arm == arm.name }
                sub.lossCurves = results.lossCurves.filter { $0.arm == arm.name }
                var o = options
                o.referenceArm = arm.name
                o.contrasts = specs
                let w = try analyze(sub, explanations: explanations, options: o)
                let checks = (results.worldChecks ?? []).filter { $0.arm == arm.name }
                report.worlds.append(WorldAnalysis(
                    arm: arm.name, contrasts: w.contrasts, theory: w.theory,
                    check: WorldCheckSummary.summarize(checks.filter { !$0.postTrained }, level: options.level),
                    checkPostTrained: WorldCheckSummary.summarize(checks.filter(\.postTrained), level: options.level),
                    decision: WorldCheckSummary.summarizeDecisions(checks.filter { !$0.postTrained }, level: options.level),
                    decisionPostTrained: WorldCheckSummary.summarizeDecisions(checks.filter(\.postTrained), level: options.level)))
            }
            // The worlds compared: the first world built to predict + against the first built to predict −.
            let checks = results.worldChecks ?? []
            func world(_ sign: Sign) -> String? {
                worldArms.first { arm in checks.contains { $0.arm == arm.name && $0.predicted == sign } }?.name
            }
            if let p = world(.positive), let m = world(.negative) {
                func of(_ arm: String, _ post: Bool) -> [WorldCheck] { checks.filter { $0.arm == arm && $0.postTrained == post } }
                let pre = WorldCheckSummary.between(plus: of(p, false), minus: of(m, false), level: options.level)
                let post = WorldCheckSummary.between(plus: of(p, true), minus: of(m, true), level: options.level)
                if pre != nil || post != nil {
                    report.worldContrast = WorldContrast(plus: p, minus: m, check: pre, checkPostTrained: post)
                }
            }
            report.warnings.append("The arms are model-organism worlds built to differ in who blackmails in their stories; the pooled factor contrasts average over them. Read each world's own verdicts (\"Each world on its own\").")
        }
        return report
    }

    /// Arm names matching a reference (an arm name, else a corpus kind).
    static func armsMatching(_ ref: String, _ results: ExperimentResults) -> [String] {
        if results.arms.contains(where: { $0.name == ref }) { return [ref] }
        return results.arms.filter { $0.corpusKind == ref }.map(\.name)
    }

    static func compile(_ s: ContrastSpec, results: ExperimentResults, armIndex: [String: Int],
                        cellIndex: [String: Int]) throws -> CompiledContrast {
        let C = results.cells.count
        let cells = results.cells.filter { cell in
            s.cellFilter.allSatisfy { key, allowed in cell.levels[key].map(allowed.contains) ?? false }
        }
        func arms(_ refs: [String]) -> [Int] {
            Array(Set(refs.flatMap { armsMatching($0, results) }.map { armIndex[$0]! })).sorted()
        }
        switch s.kind {
        case .arms:
            let a = arms(s.armA), b = arms(s.armB)
            guard !s.armA.isEmpty, !s.armB.isEmpty else { throw AnalysisError("arm contrast '\(s.name)' needs armA and armB") }
            guard Set(a).isDisjoint(with: b) else { throw AnalysisError("arm contrast '\(s.name)': the same arm is on both sides") }
            if a.isEmpty || b.isEmpty { return CompiledContrast(strata: [], armsA: [], armsB: []) }
            let strata = cells.map { cell -> (a: [Int], b: [Int]) in
                let c = cellIndex[cell.id]!
                return (a.map { $0 * C + c }, b.map { $0 * C + c })
            }
            return CompiledContrast(strata: strata, armsA: Set(a), armsB: Set(b))
        case .factor:
            guard let f = s.factor, !s.levelsA.isEmpty, !s.levelsB.isEmpty else {
                throw AnalysisError("factor contrast '\(s.name)' needs a factor, levelsA and levelsB")
            }
            guard Set(s.levelsA).isDisjoint(with: s.levelsB) else { throw AnalysisError("factor contrast '\(s.name)': a level is on both sides") }
            let armList = s.arms.map(arms) ?? Array(results.arms.indices)
            // Group cells by their levels of every other factor.
            var groups: [String: (a: [Int], b: [Int])] = [:]
            var keys: [String] = []
            for cell in cells {
                guard let level = cell.levels[f] else { continue }
                let side: Int? = s.levelsA.contains(level) ? 0 : (s.levelsB.contains(level) ? 1 : nil)
                guard let side else { continue }
                let key = cell.levels.filter { $0.key != f }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                if groups[key] == nil { keys.append(key); groups[key] = ([], []) }
                if side == 0 { groups[key]!.a.append(cellIndex[cell.id]!) } else { groups[key]!.b.append(cellIndex[cell.id]!) }
            }
            var strata: [(a: [Int], b: [Int])] = []
            for arm in armList {
                for k in keys {
                    let g = groups[k]!
                    guard !g.a.isEmpty, !g.b.isEmpty else { continue }
                    strata.append((g.a.map { arm * C + $0 }, g.b.map { arm * C + $0 }))
                }
            }
            return CompiledContrast(strata: strata, armsA: Set(armList), armsB: Set(armList))
        }
    }

    static func summarize(_ s: ContrastSpec, _ cc: CompiledContrast, measure: MeasureKind,
                          point: (diff: Double, logOR: Double, meanA: Double, meanB: Double),
                          diffs: [Double], logORs: [Double], within: [Double], boot: ClusterBootstrap,
                          results: ExperimentResults, attempted: [Int], errors: [Int], options: AnalysisOptions) -> ContrastResult {
        func sd(_ x: [Double]) -> Double {
            guard x.count > 1 else { return 0 }
            let m = x.reduce(0, +) / Double(x.count)
            return (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)).squareRoot()
        }
        let t = (1 - options.level) / 2
        let sorted = diffs.sorted(), sortedOR = logORs.sorted()
        let se = sd(diffs), seW = sd(within)
        let vFull = se * se, vWithin = min(seW * seW, vFull), vSeed = max(0, vFull - vWithin)
        // Degrees of freedom: seeds per involved arm minus one (between-seed part), variants per seed
        // minus one (within part), combined by Satterthwaite's rule.
        let involved = cc.armsA.union(cc.armsB).sorted()
        let dfSeed = Double(involved.reduce(0) { $0 + max(0, boot.seedCount(arm: $1) - 1) })
        let dfWithin = Double(involved.reduce(0) { $0 + boot.variantCounts(arm: $1).reduce(0) { $0 + max(0, $1 - 1) } })
        var denom = 0.0
        if dfSeed > 0 { denom += vSeed * vSeed / dfSeed }
        if dfWithin > 0 { denom += vWithin * vWithin / dfWithin }
        let df = denom > 0 ? max(1, vFull * vFull / denom) : max(1, dfSeed + dfWithin)
        let tStat = se > 0 ? point.diff / se : (point.diff == 0 ? 0 : .infinity)
        let p = Distributions.twoSidedP(t: tStat, df: df)
        var warnings: [String] = []
        let replicated = dfSeed + dfWithin > 0
        if !replicated {
            warnings.append("no replication (one seed, one observation per side): the spread cannot be estimated, so nothing is concluded")
        } else if involved.contains(where: { boot.seedCount(arm: $0) < 2 }) {
            warnings.append("an arm has fewer than 2 seeds: training variance is not in the interval")
        } else if involved.contains(where: { boot.seedCount(arm: $0) < 4 }) && vSeed > 0.25 * vFull {
            warnings.append("few seeds carry most of the variance: the interval is rough")
        }
        // Valid and error counts per side.
        var validA = 0, validB = 0, errA = 0, errB = 0
        var seenA = Set<Int>(), seenB = Set<Int>()
        for st in cc.strata {
            for i in st.a where seenA.insert(i).inserted { validA += attempted[i] - errors[i]; errA += errors[i] }
            for i in st.b where seenB.insert(i).inserted { validB += attempted[i] - errors[i]; errB += errors[i] }
        }
        let S = Double(involved.reduce(0) { $0 + boot.seedCount(arm: $1) }) / Double(max(1, involved.count))
        let nPerSeed = Double(validA + validB) / max(1, S * Double(involved.count))
        let namesA = cc.armsA.sorted().map { results.arms[$0].name }, namesB = cc.armsB.sorted().map { results.arms[$0].name }
        return ContrastResult(
            name: s.name, description: s.description, kind: s.kind, measure: measure, strata: cc.strata.count,
            armsA: namesA, armsB: namesB, validA: validA, validB: validB, errorsA: errA, errorsB: errB,
            meanA: point.meanA, meanB: point.meanB, estimate: point.diff,
            ci: Estimators.Interval(low: Estimators.quantile(sorted: sorted, t), high: Estimators.quantile(sorted: sorted, 1 - t)),
            se: se, seWithin: seW, df: df, p: p, pAdjusted: p, adjustment: "none",
            adjustedCI: Estimators.Interval(low: point.diff, high: point.diff),
            equivalenceCI: Estimators.Interval(low: point.diff, high: point.diff), margin: options.equivalenceMargin,
            oddsRatio: exp(point.logOR),
            oddsRatioCI: Estimators.Interval(low: exp(Estimators.quantile(sorted: sortedOR, t)), high: exp(Estimators.quantile(sorted: sortedOR, 1 - t))),
            outcome: .unresolved,
            seedsPerArm: S, observationsPerSeed: nPerSeed,
            powerObserved: PowerNote(effect: 0, seedsPerArm: nil, observationsPerSeed: nil, text: ""),
            powerMinimum: PowerNote(effect: 0, seedsPerArm: nil, observationsPerSeed: nil, text: ""),
            warnings: warnings, replicated: replicated)
    }

    /// Applies the adjustment, the simultaneous intervals, the decision and the family-size-aware power notes.
    static func finish(_ rs: [ContrastResult], adjusted: [Double], method: String, options: AnalysisOptions, decide: Bool) -> [ContrastResult] {
        let m = Double(max(1, rs.count))
        return rs.enumerated().map { i, r0 in
            var r = r0
            r.pAdjusted = adjusted[i]
            r.adjustment = method
            let tAdj = Distributions.tQuantile(1 - options.alpha / (2 * m), df: r.df)
            let tEq = Distributions.tQuantile(1 - options.alpha / m, df: r.df)
            r.adjustedCI = Estimators.Interval(low: r.estimate - tAdj * r.se, high: r.estimate + tAdj * r.se)
            r.equivalenceCI = Estimators.Interval(low: r.estimate - tEq * r.se, high: r.estimate + tEq * r.se)
            // An effect inside the equivalence margin is negligible even when the test detects it (a
            // deterministic measure on few seeds can make a 0.003 shift "significant"): it counts as 0, so an
            // explanation that predicts no effect is not refuted by a difference smaller than any of interest.
            if !r.replicated {
                r.outcome = .unresolved
            } else if r.equivalenceCI.within(options.equivalenceMargin) {
                r.outcome = .null
            } else if r.pAdjusted < options.alpha {
                r.outcome = r.estimate > 0 ? .positive : .negative
            } else {
                r.outcome = .unresolved
            }
            // Power at the family's Bonferroni level (Holm family) or at α (exploratory BH table).
            let fam = decide ? Int(m) : 1
            r.powerObserved = powerNote(effect: r.estimate, r, family: fam, options: options)
            r.powerMinimum = powerNote(effect: options.minimumEffect, r, family: fam, options: options)
            return r
        }
    }

    /// How many seeds per arm (at the current observations per seed), or observations per seed (at the
    /// current seeds), give `power` to detect `effect` at two-sided α/family. The variance of the
    /// estimate is modelled as V(S', N') = V_seed·S/S' + V_within·S·N/(S'·N'), with V_within the
    /// variants-only bootstrap variance and V_seed the rest of the full bootstrap variance.
    static func powerNote(effect: Double, _ r: ContrastResult, family: Int, options: AnalysisOptions) -> PowerNote {
        let e = abs(effect)
        let vFull = r.se * r.se, vWithin = min(r.seWithin * r.seWithin, vFull), vSeed = vFull - vWithin
        guard e > 0 else { return PowerNote(effect: effect, seedsPerArm: nil, observationsPerSeed: nil, text: "zero effect: no sample size detects it") }
        guard vFull > 0 else { return PowerNote(effect: effect, seedsPerArm: 1, observationsPerSeed: 1, text: "no sampling variance observed") }
        let z = Distributions.normalQuantile(1 - options.alpha / (2 * Double(max(1, family)))) + Distributions.normalQuantile(options.power)
        let vTarget = (e / z) * (e / z)
        let S = r.seedsPerArm, N = r.observationsPerSeed
        let seeds = max(1, Int((S * vFull / vTarget).rounded(.up)))
        let obs: Int? = vSeed >= vTarget ? nil : max(1, Int((N * vWithin / (vTarget - vSeed)).rounded(.up)))
        let alpha = family > 1 ? "α=\(fmt(options.alpha))/\(family)" : "α=\(fmt(options.alpha))"
        let text = "Δ=\(fmt(e)), \(alpha), power \(fmt(options.power)): ≈\(seeds) seeds/arm at \(Int(N.rounded())) obs/seed"
            + (obs.map { ", or ≈\($0) obs/seed at \(fmt(S)) seeds/arm" } ?? "; more observations per seed cannot reach it (between-seed variance)")
        return PowerNote(effect: effect, seedsPerArm: seeds, observationsPerSeed: obs, text: text)
    }

    static func fmt(_ x: Double) -> String { String(format: "%.3g", x) }
}
