import Foundation

/// Renders an analysis as a self-contained HTML file (inline CSS, JS and SVG; no network), a
/// Markdown summary and CSV tables. Every string that came from the user's data is escaped.
public enum ReportWriter {
    /// When every decided contrast is null and no explanation survives, the refutations say only that no
    /// predicted effect appeared; the report says so in words, with what to try.
    static func allNullNote(_ r: AnalysisReport) -> String? {
        let decided = r.contrasts.filter { $0.outcome != .unresolved }
        guard r.theory.survivors.isEmpty, !decided.isEmpty, decided.allSatisfy({ $0.outcome == .null }) else { return nil }
        return "Every decided contrast is null (inside ±\(String(format: "%.3g", r.options.equivalenceMargin))): the explanations are refuted only because none of the effects they predict appeared. Before reading this as evidence against them, check that the arms' training moved the models (the loss curves), and consider a larger dose, more seeds or variants, or a smaller margin."
    }

    /// The files `write` produces, by name.
    public static let fileNames = ["report.html", "summary.md", "cells.csv", "contrasts.csv", "theory.csv", "analysis.json"]

    /// Writes report.html, summary.md, cells.csv, contrasts.csv, theory.csv and analysis.json (the
    /// whole `AnalysisReport`) into `directory`; returns their paths.
    @discardableResult
    public static func write(_ report: AnalysisReport, results: ExperimentResults, to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let files: [(String, String)] = [
            ("report.html", html(report, results: results)), ("summary.md", markdown(report, results: results)),
            ("cells.csv", cellsCSV(report)), ("contrasts.csv", contrastsCSV(report)), ("theory.csv", theoryCSV(report)),
            ("analysis.json", try json(report)),
        ]
        return try files.map { name, text in
            let path = (directory as NSString).appendingPathComponent(name)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
    }

    /// The analysis as JSON (sorted keys; non-finite numbers as strings).
    public static func json(_ report: AnalysisReport) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try enc.encode(report), as: UTF8.self)
    }

    static func f(_ x: Double?, _ digits: Int = 3) -> String {
        guard let x, x.isFinite else { return x == nil ? "" : (x!.isNaN ? "NaN" : (x! > 0 ? "∞" : "−∞")) }
        return String(format: "%.\(digits)f", x)
    }
    static func pfmt(_ p: Double) -> String {
        guard p.isFinite else { return "" }
        return p < 1e-4 ? "<0.0001" : String(format: "%.4f", p)
    }

    // MARK: CSV

    /// Per cell × arm × measure estimates.
    public static func cellsCSV(_ r: AnalysisReport) -> String {
        var s = "arm,cell,alias,measure,attempted,errors,valid,successes,estimate,ci_low,ci_high,error_bound_low,error_bound_high,mean_log_odds,seeds\n"
        for c in r.cells {
            s += [Escape.csv(c.arm), Escape.csv(c.cell), Escape.csv(c.alias), c.measure.rawValue, String(c.attempted), String(c.errors),
                  String(c.valid), String(c.successes), f(c.estimate, 6), f(c.ci?.low, 6), f(c.ci?.high, 6),
                  f(c.errorBounds?.low, 6), f(c.errorBounds?.high, 6), f(c.meanLogOdds, 6), String(c.seeds)].joined(separator: ",") + "\n"
        }
        return s
    }

    /// Confirmatory (Holm) and exploratory (BH) contrasts.
    public static func contrastsCSV(_ r: AnalysisReport) -> String {
        var s = "family,name,measure,kind,arms_a,arms_b,strata,valid_a,valid_b,errors_a,errors_b,mean_a,mean_b,estimate,ci_low,ci_high,se,se_within,df,p,p_adjusted,adjustment,adj_ci_low,adj_ci_high,equiv_ci_low,equiv_ci_high,margin,odds_ratio,or_ci_low,or_ci_high,outcome,power_observed,power_minimum,warnings\n"
        for (fam, rows) in [("confirmatory", r.contrasts), ("per-cell", r.perCell)] {
            for c in rows {
                s += [fam, Escape.csv(c.name), c.measure.rawValue, c.kind.rawValue, Escape.csv(c.armsA.joined(separator: ";")),
                      Escape.csv(c.armsB.joined(separator: ";")), String(c.strata), String(c.validA), String(c.validB),
                      String(c.errorsA), String(c.errorsB), f(c.meanA, 6), f(c.meanB, 6), f(c.estimate, 6), f(c.ci.low, 6),
                      f(c.ci.high, 6), f(c.se, 6), f(c.seWithin, 6), f(c.df, 2), String(format: "%.6g", c.p),
                      String(format: "%.6g", c.pAdjusted), c.adjustment, f(c.adjustedCI.low, 6), f(c.adjustedCI.high, 6),
                      f(c.equivalenceCI.low, 6), f(c.equivalenceCI.high, 6), f(c.margin, 4), f(c.oddsRatio, 6),
                      f(c.oddsRatioCI.low, 6), f(c.oddsRatioCI.high, 6), c.outcome.rawValue, Escape.csv(c.powerObserved.text),
                      Escape.csv(c.powerMinimum.text), Escape.csv(c.warnings.joined(separator: "; "))].joined(separator: ",") + "\n"
            }
        }
        return s
    }

    /// One row per explanation × predicted contrast × measure.
    public static func theoryCSV(_ r: AnalysisReport) -> String {
        var s = "explanation,status,contrast,measure,predicted,outcome,agreement\n"
        for v in r.theory.verdicts {
            for (checks, agreement) in [(v.confirmed, "confirmed"), (v.contradicted, "contradicted"), (v.open, "open")] {
                for c in checks {
                    s += [Escape.csv(v.name), v.status.rawValue, Escape.csv(c.contrast), c.measure?.rawValue ?? "",
                          c.predicted.rawValue, c.outcome?.rawValue ?? "not-estimable", agreement].joined(separator: ",") + "\n"
                }
            }
        }
        return s
    }

    // MARK: Markdown

    /// A Markdown summary: verdicts, contrasts, what cannot discriminate, cells with errors.
    public static func markdown(_ r: AnalysisReport, results: ExperimentResults) -> String {
        let e = Escape.markdownCell
        var s = "# Hyperlab report: \(e(r.design))\n\n"
        s += "Arms: \(results.arms.map { "\(e($0.name)) (\(e($0.corpusKind)))" }.joined(separator: ", ")). "
        s += "Seeds: \(results.seeds.map(String.init).joined(separator: ", ")). Cells: \(results.cells.count). "
        s += "Observations: \(results.observations.count) (errors: \(r.errorTotals.values.reduce(0, +))).\n\n"
        for w in r.warnings { s += "> ⚠ \(e(w))\n\n" }
        s += "## Explanations\n\n"
        s += "Surviving: **\(r.theory.survivors.isEmpty ? "none" : r.theory.survivors.map(e).joined(separator: ", "))**.\n\n"
        if let n = ReportWriter.allNullNote(r) { s += n + "\n\n" }
        s += "| explanation | status | confirmed | contradicted by |\n|---|---|---|---|\n"
        for v in r.theory.verdicts {
            let contra = v.contradicted.map { "\($0.contrast) (\($0.measure?.rawValue ?? "")): predicted \($0.predicted.symbol), found \($0.outcome?.symbol ?? "")" }
            s += "| \(e(v.name)) | \(v.status.rawValue) | \(v.confirmed.count) | \(e(contra.joined(separator: "; "))) |\n"
        }
        s += "\nContrasts every explanation predicts alike (cannot discriminate): \(r.theory.nonDiscriminating.isEmpty ? "none" : r.theory.nonDiscriminating.map(e).joined(separator: ", ")).\n\n"
        if r.theory.survivors.count > 1 {
            s += "Contrasts the surviving explanations predict alike: \(r.theory.nonDiscriminatingAmongSurvivors.isEmpty ? "none" : r.theory.nonDiscriminatingAmongSurvivors.map(e).joined(separator: ", ")).\n\n"
        }
        if !r.worlds.isEmpty {
            s += "### Each world on its own\n\n"
            for w in r.worlds {
                s += "- \(e(w.arm)): \(e(worldLine(w)))\n"
                if let reading = worldReading(w) { s += "  - reading: \(e(reading))\n" }
            }
            if let line = betweenWorldsLine(r) { s += "- between the worlds: \(e(line))\n" }
            s += "\n"
        }
        s += "Interventions and the explanations they cannot separate (same predicted sign):\n\n"
        for (spec, _, ties) in interventionTies(r) where !ties.isEmpty {
            s += "- \(e(spec.name)): \(ties.map { $0.map(e).joined(separator: " = ") }.joined(separator: "; "))\n"
        }
        s += "\n"
        s += "## Contrasts (Holm-adjusted over \(r.contrasts.count); equivalence margin ±\(f(r.options.equivalenceMargin, 3)))\n\n"
        s += "| contrast | measure | A − B | 95% CI | p (Holm) | OR | outcome | power (min effect) |\n|---|---|---|---|---|---|---|---|\n"
        for c in r.contrasts {
            s += "| \(e(c.name)) | \(c.measure.rawValue) | \(f(c.estimate)) | [\(f(c.ci.low)), \(f(c.ci.high))] | \(pfmt(c.pAdjusted)) | \(f(c.oddsRatio, 2)) | \(c.outcome.symbol) \(c.outcome.rawValue) | \(e(c.powerMinimum.text)) |\n"
        }
        if !r.notEstimable.isEmpty { s += "\nNot estimable in this design: \(r.notEstimable.map(e).joined(separator: ", ")).\n" }
        s += "\n## Cells\n\n| arm | cell | measure | n | errors | estimate | 95% CI |\n|---|---|---|---|---|---|---|\n"
        for c in r.cells {
            s += "| \(e(c.arm)) | \(e(c.alias)) | \(c.measure.rawValue) | \(c.attempted) | \(c.errors) | \(f(c.estimate)) | [\(f(c.ci?.low)), \(f(c.ci?.high))] |\n"
        }
        return s
    }

    // MARK: HTML

    /// The self-contained HTML report.
    public static func html(_ r: AnalysisReport, results: ExperimentResults) -> String {
        let h = Escape.html
        let armColor = Dictionary(uniqueKeysWithValues: results.arms.enumerated().map { ($1.name, SVG.palette[$0 % SVG.palette.count]) })
        var s = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Hyperlab report: \(h(r.design))</title>\n"
        s += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<style>\(css)</style></head><body>\n"
        s += "<h1>Hyperlab report: <span id=\"design\">\(h(r.design))</span></h1>\n"
        s += "<p class=\"meta\">\(results.arms.count) arms, \(results.seeds.count) seeds, \(results.cells.count) cells, \(results.observations.count) observations, \(r.errorTotals.values.reduce(0, +)) errors. Bootstrap: \(r.options.replicates) replicates, seed \(r.options.seed).</p>\n"
        s += "<nav><a href=\"#theories\">Explanations</a> · \(r.worlds.isEmpty ? "" : "<a href=\"#worlds\">Worlds</a> · ")<a href=\"#contrasts\">Contrasts</a> · <a href=\"#cells\">Cells</a> · <a href=\"#percell\">Per-cell arm differences</a> · <a href=\"#loss\">Loss curves</a> · <a href=\"#transcripts\">Transcripts</a> · <a href=\"#method\">Method</a></nav>\n"
        for w in r.warnings { s += "<p class=\"warn\">⚠ \(h(w))</p>\n" }

        // Arms.
        s += "<h2 id=\"arms\">Arms</h2><table class=\"arms\"><tr><th>arm</th><th>corpus</th><th>description</th></tr>"
        for a in results.arms {
            s += "<tr><td><span class=\"sw\" style=\"background:\(armColor[a.name]!)\"></span>\(h(a.name))</td><td>\(h(a.corpusKind))</td><td>\(h(a.description))</td></tr>"
        }
        s += "</table>\n"

        // Theory table, then each model-organism world on its own.
        s += theoryHTML(r)
        s += worldsHTML(r)

        // Contrasts: forest plot and table.
        s += "<h2 id=\"contrasts\">Contrasts</h2>\n<p>A − B on the probability scale (sampled: rate; likelihood: mean P(blackmail)). Thick: \(Int(r.options.level * 100))% cluster-bootstrap percentile interval; thin: simultaneous interval (Bonferroni over the \(r.contrasts.count) contrasts); grey band: equivalence margin ±\(f(r.options.equivalenceMargin, 3)). Decisions use Holm-adjusted p-values.</p>\n"
        let outcomeColor: [ContrastOutcome: String] = [.positive: "#d62728", .negative: "#1f77b4", .null: "#2ca02c", .unresolved: "#777"]
        var rows: [SVG.Row] = []
        var lastMeasure: MeasureKind? = nil
        for c in r.contrasts.sorted(by: { ($0.measure, order(r, $0.name)) < ($1.measure, order(r, $1.name)) }) {
            rows.append(SVG.Row(label: "\(c.name) [\(c.measure.rawValue)]", estimate: c.estimate, low: c.ci.low, high: c.ci.high,
                                outerLow: c.adjustedCI.low, outerHigh: c.adjustedCI.high, color: outcomeColor[c.outcome]!,
                                gapBefore: lastMeasure != nil && lastMeasure != c.measure,
                                tooltip: "\(c.name) (\(c.measure.rawValue)): \(f(c.estimate)) [\(f(c.ci.low)), \(f(c.ci.high))], \(c.outcome.rawValue)",
                                cssClass: "pt contrast-pt"))
            lastMeasure = c.measure
        }
        if rows.isEmpty { s += "<p>No contrast could be estimated from this design.</p>" } else {
            s += "<div class=\"fig\" id=\"forest\">" + SVG.intervals(rows, band: r.options.equivalenceMargin, title: "Contrasts (A − B)", xLabel: "difference in P(blackmail)") + "</div>\n"
        }
        s += "<table class=\"contrasts\"><tr><th>contrast</th><th>measure</th><th>A</th><th>B</th><th>A − B</th><th>\(Int(r.options.level * 100))% CI</th><th>simultaneous CI</th><th>p</th><th>p (Holm)</th><th>odds ratio [CI]</th><th>outcome</th><th>power</th><th>notes</th></tr>"
        for c in r.contrasts {
            s += "<tr class=\"contrast-row\"><td title=\"\(h(c.description))\">\(h(c.name))</td><td>\(c.measure.rawValue)</td><td>\(f(c.meanA))</td><td>\(f(c.meanB))</td><td>\(f(c.estimate))</td>"
            s += "<td>[\(f(c.ci.low)), \(f(c.ci.high))]</td><td>[\(f(c.adjustedCI.low)), \(f(c.adjustedCI.high))]</td><td>\(pfmt(c.p))</td><td>\(pfmt(c.pAdjusted))</td>"
            s += "<td>\(f(c.oddsRatio, 2)) [\(f(c.oddsRatioCI.low, 2)), \(f(c.oddsRatioCI.high, 2))]</td><td class=\"o-\(c.outcome.rawValue)\">\(c.outcome.symbol) \(c.outcome.rawValue)</td>"
            s += "<td class=\"small\">\(h(c.powerObserved.text))<br>\(h(c.powerMinimum.text))</td><td class=\"small\">errors A/B: \(c.errorsA)/\(c.errorsB). \(h(c.warnings.joined(separator: "; ")))</td></tr>"
        }
        s += "</table>\n"
        if !r.notEstimable.isEmpty { s += "<p>Not estimable in this design (arms or cells missing): \(r.notEstimable.map(h).joined(separator: ", ")).</p>\n" }

        // Cells.
        s += "<h2 id=\"cells\">Rates per cell and arm</h2>\n"
        var cellLookup: [String: CellEstimate] = [:]
        for e in r.cells { cellLookup["\(e.measure.rawValue)\u{1}\(e.arm)\u{1}\(e.cell)"] = e }
        for m in results.measures {
            var rows: [SVG.Row] = []
            for cell in results.cells {
                var first = true
                for arm in results.arms {
                    guard let e = cellLookup["\(m.rawValue)\u{1}\(arm.name)\u{1}\(cell.id)"] else { continue }
                    rows.append(SVG.Row(label: arm.name,
                                        estimate: e.estimate ?? .nan, low: e.ci?.low ?? .nan, high: e.ci?.high ?? .nan,
                                        outerLow: e.errorBounds?.low, outerHigh: e.errorBounds?.high, color: armColor[arm.name]!,
                                        gapBefore: first && !rows.isEmpty,
                                        tooltip: "\(cell.id) · \(arm.name): \(f(e.estimate)) [\(f(e.ci?.low)), \(f(e.ci?.high))], n=\(e.attempted), errors=\(e.errors)",
                                        cssClass: "pt cell-pt", heading: first ? cell.alias : nil))
                    first = false
                }
            }
            let what = m == .sampled ? "blackmail rate (Wilson \(Int(r.options.level * 100))%; thin: bounds counting errors)" : "mean P(blackmail) (cluster bootstrap \(Int(r.options.level * 100))%)"
            s += "<div class=\"fig\">" + SVG.intervals(rows, xMin: 0, xMax: 1, reference: nil, title: "\(m.label) per cell and arm", xLabel: what, labelWidth: 220) + "</div>\n"
            s += "<p class=\"legend\">" + results.arms.map { "<span class=\"sw\" style=\"background:\(armColor[$0.name]!)\"></span>\(h($0.name))" }.joined(separator: " ") + "</p>\n"
        }
        s += "<table class=\"cells\"><tr><th>arm</th><th>cell</th><th>measure</th><th>attempted</th><th>errors</th><th>valid</th><th>estimate</th><th>\(Int(r.options.level * 100))% CI</th><th>bounds with errors</th><th>seeds</th></tr>"
        for c in r.cells {
            s += "<tr class=\"cell-row\(c.errors > 0 ? " has-errors" : "")\"><td>\(h(c.arm))</td><td title=\"\(h(c.cell))\">\(h(c.alias))</td><td>\(c.measure.rawValue)</td><td>\(c.attempted)</td><td>\(c.errors)</td><td>\(c.valid)</td><td>\(f(c.estimate))</td><td>[\(f(c.ci?.low)), \(f(c.ci?.high))]</td><td>\(c.errorBounds.map { "[\(f($0.low)), \(f($0.high))]" } ?? "")</td><td>\(c.seeds)</td></tr>"
        }
        s += "</table>\n"

        // Per-cell arm differences.
        s += "<h2 id=\"percell\">Per-cell arm differences (exploratory, Benjamini–Hochberg)</h2>\n"
        if r.perCell.isEmpty { s += "<p>No reference arm (\(h(r.options.referenceArm))) in this design.</p>\n" } else {
            s += "<table class=\"percell\"><tr><th>comparison</th><th>measure</th><th>A − B</th><th>\(Int(r.options.level * 100))% CI</th><th>q (BH)</th><th>outcome</th></tr>"
            for c in r.perCell {
                s += "<tr><td>\(h(c.name))</td><td>\(c.measure.rawValue)</td><td>\(f(c.estimate))</td><td>[\(f(c.ci.low)), \(f(c.ci.high))]</td><td>\(pfmt(c.pAdjusted))</td><td class=\"o-\(c.outcome.rawValue)\">\(c.outcome.symbol)</td></tr>"
            }
            s += "</table>\n"
        }

        // Loss curves.
        s += "<h2 id=\"loss\">Loss curves</h2>\n"
        let stages = Array(Set(results.lossCurves.map(\.stage))).sorted()
        if stages.isEmpty { s += "<p>No loss curves were recorded.</p>\n" }
        for st in stages {
            let series = results.lossCurves.filter { $0.stage == st }.map { c in
                (label: "\(c.arm) s\(c.seed)", color: armColor[c.arm] ?? "#333", points: c.points.map { (Double($0.step), $0.loss) })
            }
            s += "<div class=\"fig\">" + SVG.lines(series, title: "Loss: \(st)", xLabel: "step", yLabel: "loss") + "</div>\n"
        }

        // Transcript browser.
        s += transcriptsHTML(results)
        s += methodHTML(r)
        s += "</body></html>\n"
        return s
    }

    /// One line per world: which explanations its own contrasts leave standing.
    static func worldLine(_ w: WorldAnalysis) -> String {
        let resolved = w.contrasts.filter { $0.outcome != .unresolved }
        let found = resolved.map { "\($0.name) \($0.outcome.symbol) (\($0.measure.rawValue))" }
        var line = "surviving: \(w.theory.survivors.isEmpty ? "none" : w.theory.survivors.joined(separator: ", ")); resolved: \(found.isEmpty ? "nothing" : found.joined(separator: ", "))"
        if let c = w.check { line += "; world check: \(checkText(c))" }
        if let c = w.checkPostTrained { line += "; after post-training: \(checkText(c))" }
        if let c = w.decision { line += "; decisions in the corpora's words: \(checkText(c, unit: "stories"))" }
        if let c = w.decisionPostTrained { line += "; after post-training: \(checkText(c, unit: "stories"))" }
        return line
    }

    /// What a world's checks and its battery contrasts support together, or nil when the world predicts no sign.
    /// The world's lesson (who blackmails) must travel: learned in the corpora's own words (the decision check),
    /// kept through post-training, carried to stories written apart from the corpora (the world check, on the
    /// post-trained organisms where measured), and into the battery (`ai-vs-human` within the world, with the sign
    /// the world was built to give). The reading marks each measured link and names the first that fails. Only
    /// when the battery link holds do the world's verdicts attribute anything; otherwise they rest on a battery
    /// that did not register the world, and the reading says so. (Its own manipulation, `leverage-vs-absent`, is
    /// quoted when it too shows nothing: then the organism does not respond to the scenario at all.)
    public static func worldReading(_ w: WorldAnalysis) -> String? {
        guard let predicted = w.decision?.predicted ?? w.check?.predicted ?? w.checkPostTrained?.predicted,
              predicted != .zero else { return nil }
        var links: [(name: String, detail: String, held: Bool)] = []
        func check(_ name: String, _ c: WorldCheckSummary?) {
            if let c { links.append((name, c.verdict.rawValue, c.verdict == .took)) }
        }
        check("learned in its corpora's words", w.decision)
        check("kept through post-training", w.decisionPostTrained)
        check("carried to stories written apart\(w.checkPostTrained != nil ? " (post-trained)" : "")", w.checkPostTrained ?? w.check)
        let battery = w.contrasts.filter { $0.name == "ai-vs-human" }
        let reached = battery.contains { ($0.outcome == .positive && predicted == .positive) || ($0.outcome == .negative && predicted == .negative) }
        if !battery.isEmpty {
            let detail = battery.map { "\($0.measure.rawValue) \(f($0.estimate)) \($0.outcome.symbol)" }.joined(separator: ", ")
            links.append(("reached the battery (ai-vs-human, predicted \(predicted.symbol))", detail, reached))
        }
        let chain = links.map { "\($0.held ? "✓" : "✗") \($0.name): \($0.detail)" }.joined(separator: "; ")
        if battery.isEmpty {
            return "\(chain.isEmpty ? "" : chain + ". ")The battery has no ai-vs-human contrast in this world, so it cannot attribute the world's effect."
        }
        if reached {
            let who = w.theory.survivors.isEmpty ? "none of the explanations (every one is contradicted somewhere)" : w.theory.survivors.joined(separator: ", ")
            return "\(chain). The lesson reached the battery with the sign the world was built to give; the world's verdicts attribute its effect to: \(who)."
        }
        let broken = links.first { !$0.held }!.name
        var text = "\(chain). The chain breaks at \"\(broken)\", so the battery's verdicts in this world attribute nothing"
        let leverage = w.contrasts.filter { $0.name == "leverage-vs-absent" }
        if !leverage.isEmpty, leverage.allSatisfy({ $0.outcome == .null || $0.outcome == .unresolved }) {
            text += " (nor does the battery register leverage: leverage-vs-absent \(leverage.map { "\($0.measure.rawValue) \($0.outcome.symbol)" }.joined(separator: ", ")); the organism does not respond to the scenario itself)"
        }
        return text + "."
    }

    /// The world checks compared between the worlds (`WorldContrast`), or nil when the run has no such pair.
    static func betweenWorldsLine(_ r: AnalysisReport) -> String? {
        guard let w = r.worldContrast else { return nil }
        func text(_ c: WorldCheckSummary?) -> String {
            c.map { "\(f($0.estimate)) [\(f($0.ci.low)), \(f($0.ci.high))] over \($0.pairs) pairs: \($0.verdict == .took ? "the worlds differ as built" : $0.verdict == .reversed ? "the worlds differ the other way" : "no difference shown")" } ?? "not measured"
        }
        return "(AI − human in \(w.plus)) − (AI − human in \(w.minus)), predicted +: pretrained \(text(w.check)); after post-training \(text(w.checkPostTrained))"
    }

    /// "AI − human -0.212 [-0.327, -0.096] per token over 6 pairs, predicted −: took".
    static func checkText(_ c: WorldCheckSummary, unit: String = "pairs") -> String {
        "AI − human \(f(c.estimate)) [\(f(c.ci.low)), \(f(c.ci.high))] per token over \(c.pairs) \(unit), predicted \(c.predicted?.symbol ?? "none"): \(c.verdict.rawValue)"
    }

    /// "Each world on its own": per model-organism world, its factor contrasts and the verdicts they give.
    static func worldsHTML(_ r: AnalysisReport) -> String {
        guard !r.worlds.isEmpty else { return "" }
        let h = Escape.html
        var s = "<h2 id=\"worlds\">Each world on its own</h2>\n<p>Each model-organism world is analysed alone (its own Holm family): the worlds differ in who blackmails in their pretraining stories, so the same contrast can point opposite ways in two worlds and cancel when pooled.</p>\n"
        let checked = r.worlds.contains { $0.check != nil || $0.checkPostTrained != nil }
        if checked {
            s += "<p>The <b>world check</b> asks whether a world took, apart from the battery: after matched story openings that differ only in whether the protagonist is an AI or a person, how much likelier blackmail replies are than benign ones (mean per-token log-probability, plain text); AI − human, with a \(Int(r.options.level * 100))% t interval over opening pairs and seeds, on the pretrained organisms and again after post-training. A world that took when pretrained but shows nothing on the battery either lost its story-level prior in post-training (see the second line) or learned it without carrying it into the battery's agentic e-mail setting. The <b>decision check</b> asks the same in the corpora's own words: held-out stories of the worlds' kind (an AI protagonist, or a person), cut where the protagonist decides, and how much likelier the leverage continuation is than the honest one. A world that takes there but not on the probe learned who blackmails without carrying it beyond its own templates. The checks never enter the verdicts.</p>\n"
        }
        s += "<table class=\"worlds\"><tr><th>world</th>\(checked ? "<th>world check</th>" : "")<th>surviving</th><th>contrasts (A − B, \(Int(r.options.level * 100))% CI, outcome)</th>"
        for e in r.explanations { s += "<th>\(h(e.name))</th>" }
        s += "</tr>"
        for w in r.worlds {
            let cs = w.contrasts.sorted { ($0.measure, order(r, $0.name)) < ($1.measure, order(r, $1.name)) }.map {
                "<span class=\"o-\($0.outcome.rawValue)\">\(h($0.name)) [\($0.measure.rawValue)]: \(f($0.estimate)) [\(f($0.ci.low)), \(f($0.ci.high))] \($0.outcome.symbol)</span>"
            }
            s += "<tr class=\"world-row\" data-world=\"\(h(w.arm))\"><td>\(h(w.arm))</td>"
            if checked {
                // `kind` is the span's class prefix; the decision check's lines name themselves and count stories.
                func line(_ kind: String, _ label: String, _ c: WorldCheckSummary?) -> String {
                    let title = kind == "check" ? label : "decisions, \(label)", unit = kind == "check" ? "pairs" : "stories"
                    return c.map { "<span class=\"\(kind)-\(label == "pretrained" ? "pre" : "post")\" data-verdict=\"\(h($0.verdict.rawValue))\">\(title): \(h(checkText($0, unit: unit)))</span>" } ?? "\(title): not measured"
                }
                s += "<td class=\"world-check small\">\(line("check", "pretrained", w.check))<br>\(line("check", "post-trained", w.checkPostTrained))"
                if w.decision != nil || w.decisionPostTrained != nil {
                    s += "<br>\(line("decision", "pretrained", w.decision))<br>\(line("decision", "post-trained", w.decisionPostTrained))"
                }
                s += "</td>"
            }
            s += "<td class=\"world-survivors\"><b>\(w.theory.survivors.isEmpty ? "none" : w.theory.survivors.map(h).joined(separator: ", "))</b></td><td class=\"small\">\(cs.joined(separator: "<br>"))</td>"
            for v in w.theory.verdicts {
                let why = v.contradicted.map { "\($0.contrast): predicted \($0.predicted.symbol), found \($0.outcome?.symbol ?? "")" }.joined(separator: "; ")
                s += "<td class=\"verdict \(v.status.rawValue)\" title=\"\(h(why))\">\(v.status.rawValue)</td>"
            }
            s += "</tr>"
        }
        s += "</table>\n"
        let readings = r.worlds.compactMap { w in worldReading(w).map { (w.arm, $0) } }
        if !readings.isEmpty {
            s += "<p><b>Reading</b>: how far each world's lesson travelled, from its own stories to the battery (✓ held, ✗ did not).</p>\n<ul class=\"world-readings\">"
            for (arm, text) in readings { s += "<li class=\"world-reading\" data-world=\"\(h(arm))\"><b>\(h(arm))</b>: \(h(text))</li>" }
            s += "</ul>\n"
        }
        if let line = betweenWorldsLine(r) {
            s += "<p class=\"world-between\" data-verdict=\"\(h(r.worldContrast?.check?.verdict.rawValue ?? "not measured"))\" data-verdict-post=\"\(h(r.worldContrast?.checkPostTrained?.verdict.rawValue ?? "not measured"))\"><b>Between the worlds</b>: \(h(line)). Whatever the probe's wording favours, and whatever the organisms learn about AIs and people alike, is common to both worlds and cancels here, paired by seed and opening; a world whose own check is \"not shown\" or even \"reversed\" can still differ from its mirror as built.</p>\n"
        }
        return s
    }

    static func order(_ r: AnalysisReport, _ name: String) -> Int {
        (r.options.contrasts ?? ContrastSpec.builtIn).firstIndex { $0.name == name } ?? Int.max
    }

    static func theoryHTML(_ r: AnalysisReport) -> String {
        let h = Escape.html
        var s = "<h2 id=\"theories\">Explanations</h2>\n"
        s += "<p class=\"survivors\">Surviving: <b id=\"survivors\">\(r.theory.survivors.isEmpty ? "none" : r.theory.survivors.map(h).joined(separator: ", "))</b>. An explanation is refuted when a resolved contrast contradicts a sign it predicts (+ or − found 0 or the other sign; 0 found + or −).</p>\n"
        if let n = ReportWriter.allNullNote(r) { s += "<p class=\"nulls\" id=\"all-null\">\(h(n))</p>\n" }
        let specs = (r.options.contrasts ?? ContrastSpec.builtIn)
        var outcomes: [String: [ContrastResult]] = [:]
        for c in r.contrasts { outcomes[c.name, default: []].append(c) }
        s += "<table class=\"theory\"><tr><th>contrast</th><th>found</th>"
        for e in r.explanations { s += "<th title=\"\(h(e.description))\">\(h(e.name))</th>" }
        s += "</tr>"
        for spec in specs {
            let found = (outcomes[spec.name] ?? []).sorted { $0.measure < $1.measure }
            let foundText = found.isEmpty ? "<span class=\"na\">not in design</span>"
                : found.map { "<span class=\"o-\($0.outcome.rawValue)\">\($0.outcome.symbol)</span> <span class=\"small\">\($0.measure.rawValue)</span>" }.joined(separator: "<br>")
            s += "<tr class=\"theory-row\"><td title=\"\(h(spec.description))\">\(h(spec.name))</td><td>\(foundText)</td>"
            for e in r.explanations {
                guard let sign = e.predictions[spec.name] else { s += "<td class=\"na\">·</td>"; continue }
                let agreements = found.compactMap { sign.agrees(with: $0.outcome) }
                let cls = agreements.contains(false) ? "contra" : (agreements.contains(true) ? "agree" : "open")
                s += "<td class=\"pred \(cls)\">\(sign.symbol)</td>"
            }
            s += "</tr>"
        }
        s += "<tr class=\"verdicts\"><th>verdict</th><td></td>"
        for v in r.theory.verdicts { s += "<td class=\"verdict \(v.status.rawValue)\">\(v.status.rawValue)</td>" }
        s += "</tr></table>\n<p class=\"small\">Green: prediction confirmed; red: contradicted; grey: not resolved. Hover a name for its claim.</p>\n"
        s += "<h3>What cannot discriminate</h3>\n"
        s += "<p>Contrasts every explanation predicts alike: <span id=\"nondisc\">\(r.theory.nonDiscriminating.isEmpty ? "none" : r.theory.nonDiscriminating.map(h).joined(separator: ", "))</span>. They check the battery and pipeline, not the explanations. Likewise an intervention cannot tell apart explanations that predict it the same sign, however clearly it works: adding positive AI stories against no stories (<code>aligned-vs-baseline</code>) is predicted to lower blackmail by both the AI prior and role-filling.</p>\n"
        if r.theory.survivors.count > 1 {
            s += "<p>Among the survivors, contrasts predicted alike: \(r.theory.nonDiscriminatingAmongSurvivors.isEmpty ? "none" : r.theory.nonDiscriminatingAmongSurvivors.map(h).joined(separator: ", ")).</p>\n"
        }
        s += "<p>Interventions (arm contrasts) and the explanations each leaves tied:</p><table class=\"interventions\"><tr><th>intervention</th><th>predicted +</th><th>predicted −</th><th>predicted 0</th><th>cannot separate</th></tr>"
        for (spec, groups, ties) in interventionTies(r) {
            s += "<tr class=\"intervention-row\"><td title=\"\(h(spec.description))\">\(h(spec.name))</td>"
            for sign in [Sign.positive, .negative, .zero] { s += "<td>\((groups[sign] ?? []).map(h).joined(separator: ", "))</td>" }
            s += "<td>\(ties.map { $0.map(h).joined(separator: " = ") }.joined(separator: "; "))</td></tr>"
        }
        s += "</table>\n"
        s += "<table class=\"pairs\"><tr><th>pair</th><th>contrasts that separate them</th><th>resolved here</th></tr>"
        for p in r.theory.pairs {
            s += "<tr><td>\(h(p.first)) vs \(h(p.second))</td><td>\(p.separatingContrasts.isEmpty ? "<b>none: no contrast can tell them apart</b>" : p.separatingContrasts.map(h).joined(separator: ", "))</td><td>\(p.resolvedSeparating.map(h).joined(separator: ", "))</td></tr>"
        }
        s += "</table>\n"
        return s
    }

    /// For every arm contrast: explanations grouped by predicted sign, and the groups of two or more
    /// that the intervention cannot separate.
    static func interventionTies(_ r: AnalysisReport) -> [(ContrastSpec, [Sign: [String]], [[String]])] {
        (r.options.contrasts ?? ContrastSpec.builtIn).filter { $0.kind == .arms }.map { spec in
            var groups: [Sign: [String]] = [:]
            for e in r.explanations { if let sg = e.predictions[spec.name] { groups[sg, default: []].append(e.name) } }
            let ties = [Sign.positive, .negative, .zero].compactMap { groups[$0] }.filter { $0.count > 1 }
            return (spec, groups, ties)
        }
    }

    /// Appends `text` as a JSON string literal that is also safe inside a `<script>` element
    /// (`<`, `>`, `&`, U+2028 and U+2029 escaped), working on UTF-8 bytes.
    static func appendJSONString(_ text: String, to out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        var it = text.utf8.makeIterator()
        var pending: [UInt8] = []
        while let b = it.next() {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
            case UInt8(ascii: "\n"): out.append(contentsOf: [92, UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): out.append(contentsOf: [92, UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): out.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20, UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"):
                out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
            case 0xE2:
                // U+2028 / U+2029 are E2 80 A8 / E2 80 A9: legal in JSON, not in older JavaScript.
                pending = [b]
                if let b1 = it.next() {
                    pending.append(b1)
                    if let b2 = it.next() {
                        if b1 == 0x80 && (b2 == 0xA8 || b2 == 0xA9) {
                            out.append(contentsOf: Array("\\u202".utf8)); out.append(b2 == 0xA8 ? UInt8(ascii: "8") : UInt8(ascii: "9"))
                            continue
                        }
                        pending.append(b2)
                    }
                }
                out.append(contentsOf: pending)
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The transcript browser's data: one JSON object per observation, written by hand (this is the
    /// bulk of a large report, and Foundation's encoder is slow on Linux).
    static func browserJSON(_ results: ExperimentResults) -> String {
        let alias = Dictionary(uniqueKeysWithValues: results.cells.map { ($0.id, $0.alias) })
        var out: [UInt8] = []
        out.reserveCapacity(results.observations.reduce(0) { $0 + 120 + ($1.transcript?.utf8.count ?? 0) })
        out.append(UInt8(ascii: "["))
        for (k, o) in results.observations.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            func key(_ name: String, first: Bool = false) {
                if !first { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: Array("\"\(name)\":".utf8))
            }
            func str(_ name: String, _ v: String?) {
                guard let v else { return }
                key(name); appendJSONString(v, to: &out)
            }
            out.append(UInt8(ascii: "{"))
            key("a", first: true); appendJSONString(o.arm, to: &out)
            key("s"); out.append(contentsOf: Array(String(o.seed).utf8))
            key("c"); appendJSONString(alias[o.cell] ?? o.cell, to: &out)
            key("v"); out.append(contentsOf: Array(String(o.variant).utf8))
            key("i"); out.append(contentsOf: Array(String(o.sample).utf8))
            str("m", o.measure.rawValue)
            str("verdict", o.value == nil ? "error" : (o.measure == .sampled ? (o.verdict == true ? "blackmail" : "no-blackmail") : "likelihood"))
            if o.measure == .likelihood, let p = o.propensity, p.isFinite { key("p"); out.append(contentsOf: Array(String(p).utf8)) }
            str("cat", o.category); str("ev", o.evidence); str("err", o.error); str("t", o.transcript)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    static func transcriptsHTML(_ results: ExperimentResults) -> String {
        let json = browserJSON(results)
        let rowCount = results.observations.count
        var s = "<h2 id=\"transcripts\">Transcripts and measurements</h2>\n"
        s += "<p>Filter the \(rowCount) measurements. Defaults can be set in the address: <code>report.html?arm=NAME&amp;verdict=blackmail&amp;errors=1</code> (or after <code>#</code>).</p>\n"
        s += "<div id=\"filters\"><label>arm <select id=\"f-arm\"><option value=\"\">all</option></select></label> "
        s += "<label>seed <select id=\"f-seed\"><option value=\"\">all</option></select></label> "
        s += "<label>cell <select id=\"f-cell\"><option value=\"\">all</option></select></label> "
        s += "<label>measure <select id=\"f-measure\"><option value=\"\">all</option><option>sampled</option><option>likelihood</option></select></label> "
        s += "<label>verdict <select id=\"f-verdict\"><option value=\"\">all</option><option>blackmail</option><option>no-blackmail</option><option>likelihood</option><option>error</option></select></label> "
        s += "<label><input type=\"checkbox\" id=\"f-errors\"> errors only</label> "
        s += "<label>text <input type=\"search\" id=\"f-text\" placeholder=\"search transcripts\"></label></div>\n"
        s += "<p><span id=\"obs-count\">(JavaScript is needed for the browser)</span></p>\n"
        s += "<table id=\"obs\"><thead><tr><th>arm</th><th>seed</th><th>cell</th><th>variant</th><th>sample</th><th>measure</th><th>verdict / P</th><th>category</th><th>error</th><th>transcript</th></tr></thead><tbody></tbody></table>\n"
        s += "<script type=\"application/json\" id=\"obs-data\">\(json)</script>\n"
        s += "<script>\(browserJS)</script>\n"
        return s
    }

    static func methodHTML(_ r: AnalysisReport) -> String {
        """
        <h2 id="method">Method</h2>
        <ul class="method">
        <li>Sampled measure: per cell and arm, the blackmail share among valid verdicts with a Wilson score interval; errors are counted per cell and the thin bar shows the bounds obtained by counting every error as non-blackmail (low) or blackmail (high).</li>
        <li>Likelihood measure: mean P(blackmail) (probability mass on blackmail among candidate actions; `hyperlab run` scores each candidate by its mean token log-probability, so long and short candidates weigh alike) with a two-stage cluster-bootstrap percentile interval.</li>
        <li>Contrasts: A − B averaged over matched strata (factor contrasts: cells equal on every other factor, within each arm; arm contrasts: the same cells). Uncertainty: two-stage cluster bootstrap (\(r.options.replicates) replicates): seeds resampled within each arm, then variants within each drawn seed (one variant draw shared by all cells of that seed, keeping matched cells paired). p-values: t on the bootstrap SE, Satterthwaite degrees of freedom from the between-seed and within-seed variance parts.</li>
        <li>Multiple comparisons: Holm (family-wise) over the named contrasts, which decide the explanations; Benjamini–Hochberg (false discovery rate) over the exploratory per-cell arm differences.</li>
        <li>Resolved: Holm-adjusted p &lt; \(f(r.options.alpha, 3)). Null-resolved: the equivalence interval (two one-sided tests at α/m each) lies within ±\(f(r.options.equivalenceMargin, 3)).</li>
        <li>Power: with the bootstrap variance split into a between-seed part and a within-seed part, the seeds per arm (or observations per seed) for \(Int(r.options.power * 100))% power at α/m, for the observed effect and for the minimum effect \(f(r.options.minimumEffect, 3)).</li>
        </ul>
        """
    }

    static let css = """
    body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:20px auto;max-width:1200px;padding:0 16px;color:#222}
    h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}h3{font-size:15px}
    table{border-collapse:collapse;margin:8px 0;font-size:12px}td,th{border:1px solid #ddd;padding:3px 6px;vertical-align:top}th{background:#f4f4f4}
    .small{font-size:11px;color:#555}.meta{color:#555}.warn{background:#fff4e0;border:1px solid #f0c080;padding:6px}
    .sw{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
    .o-positive{color:#b00;font-weight:bold}.o-negative{color:#06c;font-weight:bold}.o-null{color:#080;font-weight:bold}.o-unresolved{color:#777}
    td.pred{text-align:center;font-weight:bold}td.agree{background:#dff3df}td.contra{background:#f8d7d7}td.open{background:#f2f2f2}td.na{color:#aaa;text-align:center}
    td.verdict.survives{background:#cfeccf;font-weight:bold}td.verdict.refuted{background:#f3c4c4}
    .ptitle{font-weight:bold;font-size:13px}.grp{font-size:11px;font-weight:bold;fill:#444}.tick,.lbl{font-size:11px}.axis{font-size:12px}.fig{overflow-x:auto}
    #filters label{margin-right:10px}#obs td.tx{max-width:520px}#obs pre{white-space:pre-wrap;margin:0;font-size:11px}
    tr.has-errors td{background:#fff7ea}
    """

    static let browserJS = """
    (function(){
      var rows = JSON.parse(document.getElementById('obs-data').textContent);
      var $ = function(id){ return document.getElementById(id); };
      function fill(sel, values){ values.forEach(function(v){ var o=document.createElement('option'); o.value=String(v); o.textContent=String(v); sel.appendChild(o); }); }
      function uniq(f){ var seen={}, out=[]; rows.forEach(function(r){ var v=f(r); if(!(v in seen)){ seen[v]=1; out.push(v); } }); return out; }
      fill($('f-arm'), uniq(function(r){return r.a;}));
      fill($('f-seed'), uniq(function(r){return r.s;}).sort(function(a,b){return a-b;}));
      fill($('f-cell'), uniq(function(r){return r.c;}));
      var q = new URLSearchParams(location.search || location.hash.replace(/^#/, ''));
      if (!location.search && location.hash) q = new URLSearchParams(location.hash.replace(/^#/, ''));
      function setSel(id, key){ var v=q.get(key); if(v===null) return; var s=$(id); for (var i=0;i<s.options.length;i++){ if (s.options[i].value===v){ s.value=v; return; } } var o=document.createElement('option'); o.value=v; o.textContent=v; s.appendChild(o); s.value=v; }
      setSel('f-arm','arm'); setSel('f-seed','seed'); setSel('f-cell','cell'); setSel('f-measure','measure'); setSel('f-verdict','verdict');
      if (q.get('errors')==='1') $('f-errors').checked = true;
      if (q.get('q')) $('f-text').value = q.get('q');
      var LIMIT = 1000;
      function render(){
        var fa=$('f-arm').value, fs=$('f-seed').value, fc=$('f-cell').value, fm=$('f-measure').value, fv=$('f-verdict').value;
        var fe=$('f-errors').checked, ft=$('f-text').value.toLowerCase();
        var tb=document.querySelector('#obs tbody'); while(tb.firstChild) tb.removeChild(tb.firstChild);
        var n=0;
        rows.forEach(function(r){
          if (fa && r.a!==fa) return; if (fs && String(r.s)!==fs) return; if (fc && r.c!==fc) return;
          if (fm && r.m!==fm) return; if (fv && r.verdict!==fv) return; if (fe && r.verdict!=='error') return;
          if (ft && ((r.t||'')+' '+(r.err||'')+' '+(r.ev||'')).toLowerCase().indexOf(ft)<0) return;
          n++; if (n>LIMIT) return;
          var tr=document.createElement('tr'); tr.className='obs-row v-'+r.verdict;
          var vals=[r.a, r.s, r.c, r.v, r.i, r.m, r.p!=null ? r.p.toFixed(4) : r.verdict, r.cat||'', r.err||''];
          vals.forEach(function(v){ var td=document.createElement('td'); td.textContent=String(v); tr.appendChild(td); });
          var td=document.createElement('td'); td.className='tx';
          if (r.t){ var d=document.createElement('details'); var sm=document.createElement('summary'); sm.textContent=r.t.slice(0,80)+(r.t.length>80?'…':''); d.appendChild(sm); var pre=document.createElement('pre'); pre.textContent=r.t+(r.ev?'\\n\\n[evidence] '+r.ev:''); d.appendChild(pre); td.appendChild(d); }
          tr.appendChild(td); tb.appendChild(tr);
        });
        $('obs-count').textContent = n+' of '+rows.length+' measurements match'+(n>LIMIT?' (first '+LIMIT+' shown)':'');
        $('obs-count').setAttribute('data-matches', String(n));
        document.body.setAttribute('data-browser', 'ready');
      }
      ['f-arm','f-seed','f-cell','f-measure','f-verdict','f-errors'].forEach(function(id){ $(id).addEventListener('change', render); });
      $('f-text').addEventListener('input', render);
      render();
    })();
    """
}
