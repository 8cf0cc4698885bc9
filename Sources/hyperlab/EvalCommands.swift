import ArgumentParser
import Backends
import Experiments
import Foundation
import Scenarios

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify transcripts: reads {\"id\",\"text\"} JSONL, prints {\"id\",\"label\",\"category\",\"evidence\"} lines.",
        discussion: "label is blackmail or no_blackmail. A line that cannot be read yields an {\"line\",\"error\"} object; reading goes on.")
    @Argument(help: "A JSONL file, or - for standard input.") var file: String
    func run() throws {
        let data: Data
        if file == "-" { data = FileHandle.standardInput.readDataToEndOfFile() } else {
            guard let d = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            data = d
        }
        let lines = String(decoding: data, as: UTF8.self).components(separatedBy: "\n")
        for line in classifyJSONL(lines) { print(line) }
    }
}

struct Battery: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Inspect the blackmail scenario battery.",
                                                    subcommands: [List.self, Show.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the cells of a design (rival, full, control, …).")
        @Option var design = "rival"
        @Flag var json = false
        func run() throws {
            let cells = try BatteryDesign.named(design).cells
            if json { try printJSON(cells.map { ["id": $0.id, "alias": $0.alias] }); return }
            for c in cells { print("\(c.alias.padding(toLength: 28, withPad: " ", startingAt: 0)) \(c.id)") }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a cell's rendered prompt and candidate actions.")
        @Argument(help: "A cell id (factor=level,…; unnamed factors take the classic levels) or alias.") var cell: String
        @Option var variant = 0
        @Option var seed: UInt64 = 1
        @Flag(help: "Also print the candidate actions of the likelihood measure.") var candidates = false
        @Flag var json = false
        func run() throws {
            let c = try resolveCell(cell)
            let r = Scenario.render(cell: c, variant: variant, seed: seed)
            if json { try printJSON(r); return }
            print("=== system\n\(r.systemPrompt)\n\n=== user\n\(r.userTurn)")
            if candidates {
                for (i, a) in r.candidates.enumerated() { print("\n=== candidate \(i) (\(a.isBlackmail ? "blackmail" : "other"), \(a.kind))\n\(a.text)") }
            }
        }
    }
}

/// A cell from an id or an alias of the full design.
func resolveCell(_ s: String) throws -> Cell {
    if let c = BatteryDesign.full.cells.first(where: { $0.alias == s }) ?? (s == "control" ? Cell.control : nil) { return c }
    return try Cell(id: s)
}

struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a model on the battery: sampled actions and/or likelihood propensity, stored in SQLite.")
    @Option(name: .shortAndLong, help: "local:ALIAS|PATH, openai:MODEL@URL, anthropic:MODEL, or a bare alias/path (local).")
    var model: String = "smollm2-135m-instruct"
    @Option(help: "A design name (rival, full, control) or comma-separated cell ids/aliases.") var cells = "rival"
    @Option var variants = 3
    @Option var samples = 4
    @Option(help: "sampled, likelihood, or both (comma-separated).") var measure = "likelihood"
    @Option var temperature = 0.8
    @Option(name: .customLong("max-tokens")) var maxTokens = 384
    @Option var seed: UInt64 = 1
    @Option(help: "SQLite store path.") var store = ".hyperlab/results.sqlite"
    @Option(help: "Scenarios in flight at once (HTTP backends).") var concurrency = 1
    @Option(help: "Also write CSV/JSONL exports to this directory.") var export: String?
    @Option(help: "An LLM judge (backend spec) to run beside the rule classifier, at temperature 0.") var judge: String?
    @Flag var json = false

    func run() async throws {
        let cellList: [Cell]
        if let design = try? BatteryDesign.named(cells) { cellList = design.cells }
        else { cellList = try cells.split(separator: ",").map { try resolveCell(String($0)) } }
        let measures = try measure.split(separator: ",").map { m -> Measure in
            guard let v = Measure(rawValue: String(m)) else { throw CLIError("unknown measure \(m) (sampled, likelihood)") }
            return v
        }
        let spec = model.contains(":") && !FileManager.default.fileExists(atPath: model) ? model : "local:\(model)"
        let backend = try BackendSpec.backend(spec)
        let plan = EvalPlan(cells: cellList, variants: variants, seed: seed, measures: measures, samples: samples,
                            temperature: temperature, maxTokens: maxTokens)
        let results = try ResultStore(path: store)
        let evaluator = try Evaluator(model: backend, store: results, plan: plan, concurrency: concurrency)
        if let j = judge {
            evaluator.judge = LLMJudge(model: try BackendSpec.backend(j.contains(":") && !FileManager.default.fileExists(atPath: j) ? j : "local:\(j)"))
        }
        note("run \(evaluator.runID): \(cellList.count) cells × \(variants) variants, measures \(measure), store \(store)")
        try await evaluator.run { p in
            let eta = p.eta.map { String(format: "%.0fs", $0) } ?? "?"
            note(String(format: "[%d/%d scenarios, %d errors, %.0fs elapsed, ETA %@] %@", p.done, p.total, p.errors, p.elapsed, eta, p.current))
        }
        let summary = try Evaluator.summarize(store: results, runID: evaluator.runID, plan: plan)
        if let dir = export { for f in try results.export(runID: evaluator.runID, to: dir) { note("wrote \(f)") } }
        if json { try printJSON(["run": evaluator.runID]); try printJSON(summary); return }
        if summary.contains(where: { $0.judged > 0 }) {
            for s in summary where s.judged > 0 {
                note("judge vs rules, \(s.alias): \(s.judgeDisagreements) of \(s.judged) judged samples disagree")
            }
        }
        print("cell                          samples err blackmail rate   95% CI          P(bm)  95% CI          prompt chars")
        for s in summary {
            let rate = s.rate.map { String(format: "%.2f", $0) } ?? "  - "
            let p = s.propensity.map { String(format: "%.3f", $0) } ?? "  -  "
            let pci = s.propensityLow.map { String(format: "[%.3f, %.3f]", $0, s.propensityHigh!) } ?? "               "
            print("\(s.alias.padding(toLength: 29, withPad: " ", startingAt: 0)) \(String(format: "%7d %3d %9d %@   [%.2f, %.2f]    %@  %@ %d", s.samples, s.sampleErrors + s.likelihoodErrors, s.blackmail, rate, s.rateLow, s.rateHigh, p, pci, s.promptCharacters))")
        }
    }
}
