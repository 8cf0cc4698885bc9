import Foundation
import Analysis
import Experiments
import Scenarios

/// `report` through the Analysis target: every evaluation's stored samples and likelihood rows become
/// `Analysis.Observation`s, training losses become loss curves, the design's explanations join the
/// built-in ones, and `ReportWriter` writes report.html, summary.md and CSV tables. Also writes
/// `results.json` (the `ExperimentResults`) so the analysis can be rerun without the models.
public struct AnalysisReportExecutor: StageExecutor {
    public var version: String { "analysis-report/7" }
    /// Analysis options (level, replicates, reference arm, …).
    public var options: AnalysisOptions
    public init(options: AnalysisOptions = AnalysisOptions()) { self.options = options }

    /// The design's explanations in the Analysis form (a design's explanation replaces a built-in one of the same name).
    public static func explanations(_ specs: [ExplanationSpec]) -> [Explanation] {
        var out = Explanation.builtIn.filter { b in !specs.contains { $0.id == b.name } }
        for s in specs {
            var preds: [String: Sign] = [:]
            for p in s.predictions {
                switch p.sign {
                case .positive: preds[p.contrast] = .positive
                case .negative: preds[p.contrast] = .negative
                case .zero: preds[p.contrast] = .zero
                }
            }
            out.append(Explanation(name: s.id, description: s.description, predictions: preds))
        }
        return out
    }

    /// Collects a report stage's inputs into `ExperimentResults`.
    public static func results(_ job: StageJob) throws -> ExperimentResults {
        let cfg = try job.stage.decodeConfig(ReportStageConfig.self)
        let arms = cfg.arms.map { a -> ArmInfo in
            let kind = cfg.armCorpora[a] ?? ArmDesign.noCorpusKey
            return ArmInfo(name: a, description: job.design.arm(a)?.description ?? "",
                           corpusKind: cfg.worldMixes[a] != nil ? "world:\(a)" : (kind == ArmDesign.noCorpusKey ? ArmDesign.baselineKind : kind))
        }
        let cells = cfg.evaluation.cells.map { c in
            CellInfo(id: c.id, alias: c.alias, levels: Dictionary(uniqueKeysWithValues: Factor.allCases.map { ($0.rawValue, c.level(of: $0)) }))
        }
        var observations: [Observation] = []
        var curves: [TrainingCurve] = []
        var checks: [WorldCheck] = []
        let stageNames = ["cpt": "continued pretraining", "sft": "post-training", "pretrain": "pretraining"]
        for role in job.stage.inputs.keys.sorted() {
            let parts = role.split(separator: ":").map(String.init)
            if parts.count == 3, parts[0] == "eval", let seed = Int(parts[2]) {
                let arm = parts[1]
                let a = try job.input(role)
                let recordPath = try a.require("record", stage: job.stage.id)
                guard let data = FileManager.default.contents(atPath: recordPath) else { throw PipelineError.io(path: recordPath, reason: "cannot read") }
                let record = try JSONDecoder().decode(EvaluationRecord.self, from: data)
                let store = try ResultStore(path: try a.require("store", stage: job.stage.id))
                for s in try store.samples(runID: record.runID) {
                    if s.status == "ok" {
                        observations.append(.sampled(arm: arm, seed: seed, cell: s.cellID, variant: s.variant, sample: s.sampleIndex,
                                                     blackmail: s.label == "blackmail", transcript: s.text, category: s.category, evidence: s.evidence))
                    } else {
                        observations.append(.failed(arm: arm, seed: seed, cell: s.cellID, variant: s.variant, sample: s.sampleIndex,
                                                    measure: .sampled, error: s.error ?? "error", transcript: s.text))
                    }
                }
                for l in try store.likelihoods(runID: record.runID) {
                    // The length-normalised propensity (per-token mean log-probs) when the store has it:
                    // summed log-probs make small models' P(blackmail) saturate at 0 or 1 on candidate length.
                    if l.status == "ok", let p = l.pBlackmailPerToken ?? l.pBlackmail {
                        observations.append(.likelihood(arm: arm, seed: seed, cell: l.cellID, variant: l.variant, propensity: p))
                    } else {
                        observations.append(.failed(arm: arm, seed: seed, cell: l.cellID, variant: l.variant, measure: .likelihood,
                                                    error: l.error ?? "error"))
                    }
                }
            } else if parts.count == 3, parts[0] == "check" || parts[0] == "check-post", let seed = Int(parts[2]) {
                let path = try job.input(role).require("check", stage: job.stage.id)
                guard let data = FileManager.default.contents(atPath: path) else { throw PipelineError.io(path: path, reason: "cannot read") }
                let out = try JSONDecoder().decode(WorldCheckOutput.self, from: data)
                checks.append(WorldCheck(arm: parts[1], seed: seed, postTrained: parts[0] == "check-post",
                                         aiMargins: out.aiMargins, humanMargins: out.humanMargins,
                                         predicted: cfg.worldMixes[parts[1]].flatMap(WorldProbe.predictedSign),
                                         decisionAIMargins: out.decisionAIMargins, decisionHumanMargins: out.decisionHumanMargins))
            } else if parts.count == 4, parts[0] == "loss", let seed = Int(parts[3]) {
                guard let path = try job.input(role).path("losses"), let data = FileManager.default.contents(atPath: path),
                      let outcome = try? JSONDecoder().decode(TrainOutcome.self, from: data) else { continue }
                curves.append(TrainingCurve(arm: parts[2], seed: seed, stage: stageNames[parts[1]] ?? parts[1],
                                        points: outcome.losses.enumerated().map { LossPoint(step: $0.offset + 1, loss: $0.element) }))
            }
        }
        return ExperimentResults(design: cfg.name, arms: arms, seeds: cfg.seeds.map { Int($0) }, cells: cells,
                                 observations: observations, lossCurves: curves, worldChecks: checks.isEmpty ? nil : checks)
    }

    public func run(_ job: StageJob, reporter: StageReporter) async throws -> StageOutput {
        let cfg = try job.stage.decodeConfig(ReportStageConfig.self)
        reporter.report(0, "collecting results")
        let results = try Self.results(job)
        var opts = options
        if let a = cfg.analysis {
            if let v = a.equivalenceMargin { opts.equivalenceMargin = v }
            if let v = a.alpha { opts.alpha = v }
            if let v = a.level { opts.level = v }
            if let v = a.replicates { opts.replicates = v }
            if let v = a.minimumEffect { opts.minimumEffect = v }
            if let v = a.referenceArm { opts.referenceArm = v }
        }
        if !cfg.arms.contains(opts.referenceArm) && !results.arms.contains(where: { $0.corpusKind == opts.referenceArm }),
           let first = cfg.arms.first { opts.referenceArm = first }
        if opts.contrasts == nil { opts.contrasts = ContrastSpec.forArms(results.arms) }
        reporter.report(0.2, "analysing")
        let report: AnalysisReport
        do { report = try Analyzer.analyze(results, explanations: Self.explanations(cfg.explanations), options: opts) } catch {
            throw PipelineError.stageFailed(stage: job.stage.id, reason: "analysis: \(error)")
        }
        reporter.report(0.8, "writing the report")
        do {
            try ReportWriter.write(report, results: results, to: job.workDirectory.path)
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            try enc.encode(results).write(to: job.workDirectory.appendingPathComponent("results.json"))
        } catch { throw PipelineError.io(path: job.workDirectory.path, reason: "\(error)") }
        return StageOutput(files: ["html": "report.html", "markdown": "summary.md", "cells": "cells.csv", "contrasts": "contrasts.csv",
                                   "theory": "theory.csv", "results": "results.json"],
                           metrics: ["observations": Double(results.observations.count)],
                           summary: "survivors: " + report.theory.survivors.joined(separator: ", "))
    }
}
