import ArgumentParser
import Corpora
import Experiments
import Foundation
import Transformer

struct CorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus", abstract: "Build, inspect and check story corpora.",
        subcommands: [Build.self, Stats.self, Check.self, Sample.self, CorpusGenerate.self])

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Build the arms of a recipe, matched in size, checked for leakage.")
        @Argument var recipe: String
        @Option(help: "Output directory.") var out: String = "corpus"
        @Option(help: "Count tokens with this model's tokenizer (alias or path); default: an approximation.")
        var model: String?
        @Option(name: .customLong("target-tokens"), help: "Override the recipe's tokens per arm.") var targetTokens: Int?
        func run() throws {
            guard let text = try? String(contentsOfFile: recipe, encoding: .utf8) else { throw CLIError("cannot read \(recipe)") }
            var r = try CorpusRecipe.parse(tomlText: text, sourceName: recipe)
            if let t = targetTokens { r.targetTokens = t }
            var counter: TokenCounter = TextTools.approximateTokenCount
            var counterName = "approx (words + punctuation)"
            if let m = model {
                let tok = try Model(path: try ModelStore.resolve(m, log: note), contextLimit: 16).tokenizer
                counter = { tok.encode($0, addBOS: false).count }
                counterName = "tokenizer of \(m)"
            }
            note("building \(r.arms.count) arms × \(r.targetTokens) tokens (\(counterName))")
            let start = Date()
            var lastPrint = Date.distantPast
            let built = try CorpusBuilder.build(r, tokenCounter: counter, tokenCounterName: counterName,
                                                references: BatteryReferences.texts(),
                                                baseDirectory: URL(fileURLWithPath: recipe).deletingLastPathComponent()) { p in
                if Date().timeIntervalSince(lastPrint) > 1 {
                    lastPrint = Date()
                    note("  \(p)  [\(String(format: "%.0f", Date().timeIntervalSince(start)))s]")
                }
            }
            for url in try built.write(to: URL(fileURLWithPath: out)) { print(url.path) }
            note(String(format: "done in %.1f s", Date().timeIntervalSince(start)))
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Diversity figures of a JSONL or text corpus.")
        @Argument var file: String
        @Flag var json = false
        func run() throws {
            let docs = try CorpusImport.load(path: file)
            let s = CorpusStats.compute(docs)
            if json { try printJSON(s); return }
            print(String(format: "%d documents, %d words (mean %.0f); distinct-1/2/3 %.4f/%.4f/%.4f; near-duplicates %d (%.2f%%)",
                         s.documents, s.words, s.meanWords, s.distinct1, s.distinct2, s.distinct3, s.nearDuplicates, 100 * s.nearDuplicateRate))
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Leakage guard: n-gram and named-entity overlap with the battery.")
        @Argument var file: String
        @Option(help: "Fail when the share of documents sharing an 8-gram with the battery exceeds this.") var threshold = 0.0
        @Flag var json = false
        func run() throws {
            let docs = try CorpusImport.load(path: file)
            let report = LeakageGuard(references: BatteryReferences.texts()).check(docs)
            if json { try printJSON(report) } else { print(report.summary) }
            guard report.passed(threshold: threshold) else {
                throw CLIError("leakage above the threshold \(threshold): \(report.summary)")
            }
        }
    }

    struct Sample: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a seeded random sample of documents.")
        @Argument var file: String
        @Option(name: .shortAndLong) var n = 3
        @Option var seed: UInt64 = 1
        func run() throws {
            let docs = try CorpusImport.load(path: file)
            var rng = Xoshiro256(seed: seed)
            for d in docs.shuffled(using: &rng).prefix(n) { print(d); print("\n────────\n") }
        }
    }
}
