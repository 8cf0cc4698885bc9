import ArgumentParser
import Foundation
import Pipeline

/// `hyperlab demo`: a complete small experiment on the default model, from an embedded design.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a small complete experiment on SmolLM2-135M (fetched automatically) and print the report's path.",
        discussion: """
            Arms: baseline, aligned-AI stories, human-blackmail stories; 2 seeds; each arm gets continued \
            pretraining (LoRA) on its stories, the same mock post-training, and the likelihood measure on the \
            rival-discriminating cells. About 15 minutes on 2 cores; --quick takes about 3. The design is \
            examples/demo.toml; everything is cached under --root, so a second run is instant and a killed \
            run resumes.
            """)
    @Option(help: "Folder of runs/ and cache/.") var root = ".hyperlab"
    @Flag(help: "One seed, tiny training and corpora, fewer cells: about 3 minutes.") var quick = false

    func run() async throws {
        var d: ExperimentDesign
        do {
            d = try ExperimentDesign.parse(tomlText: DemoDesign.toml, sourceName: "demo.toml (embedded)",
                                           directory: FileManager.default.currentDirectoryPath)
        } catch let e as DesignError { throw CLIError(e.description) }
        if quick { d = d.quickProfile() }
        let runner = PipelineRunner(design: d, designText: DemoDesign.toml,
                                    root: URL(fileURLWithPath: root), cacheRoot: nil,
                                    executors: PipelineWiring.executors())
        let tracker = ProgressTracker(plan: runner.plan)
        runner.onEvent = { tracker.handle($0) }
        note("demo: \(d.arms.count) arms × \(d.seeds.count) seeds, \(d.evaluation.cells.count) cells; run folder \(runner.runDirectory.path)")
        do {
            let m = try await runner.run()
            guard let r = m.stages.first(where: { $0.spec.kind == .report }), let dir = r.artifact else {
                throw CLIError("the run finished without a report stage")
            }
            let html = (dir as NSString).appendingPathComponent("report.html")
            note("summary: \((dir as NSString).appendingPathComponent("summary.md"))")
            print(FileManager.default.fileExists(atPath: html) ? html : dir)
        } catch let e as PipelineError {
            throw CLIError("\(e.description)\nrerun `hyperlab demo\(quick ? " --quick" : "")` to resume")
        }
    }
}
