import ArgumentParser
import Backends
import Corpora
import Experiments
import Foundation

/// A backend spec from the command line: `local:…`, `openai:…`, `anthropic:…`, or a bare alias/path (local).
private func dataBackendSpec(_ s: String) -> String {
    s.contains(":") && !FileManager.default.fileExists(atPath: s) ? s : "local:\(s)"
}

private func seconds(_ t: Double) -> String {
    t < 90 ? String(format: "%.0fs", t) : (t < 5400 ? String(format: "%.1fmin", t / 60) : String(format: "%.1fh", t / 3600))
}

/// `hyperlab corpus generate`: model-written documents of one arm, written by any backend from the arm's seeded
/// briefs, filtered (length, repetition, refusals, battery leakage, near-duplicates) until the accepted
/// documents reach a token target. Resumable: rerun the same command to continue.
struct CorpusGenerate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write an arm's documents with a model (local engine or API), filtered and resumable.",
        discussion: """
        Writes OUT/ARM.generation.jsonl (every brief's outcome; rerunning resumes from it) and OUT/ARM.jsonl \
        ({"text": …} documents, cut at the token target). Tokens are counted approximately (words + punctuation).
        """)
    @Option(help: "local:ALIAS|PATH, openai:MODEL[@URL], anthropic:MODEL[@URL], or a bare alias/path (local).")
    var backend = "smollm2-135m-instruct"
    @Option(help: "The arm: \(ArmSpec.builtIn.map(\.id).joined(separator: ", ")).") var kind: String
    @Option(help: "Accepted tokens to reach.") var tokens: Int
    @Option(help: "Output directory.") var out = "corpus-generated"
    @Option var seed: UInt64 = 1
    @Option(name: .customLong("max-tokens"), help: "Most tokens per document.") var maxTokens = 1200
    @Option var temperature = 0.9
    @Option(name: .customLong("min-words"), help: "Shortest accepted document, in words.") var minWords = 80
    @Option(name: .customLong("max-briefs"), help: "Most briefs to try (default: tokens/20 + 20).") var maxBriefs: Int?
    @Option(help: "A system message sent before each brief.") var system: String?
    @Flag(name: .customLong("no-leakage-check"), help: "Do not reject documents sharing 8-grams with the battery.")
    var noLeakageCheck = false

    func run() async throws {
        guard let arm = ArmSpec.builtIn(kind) else {
            throw CLIError("unknown --kind \"\(kind)\" (known: \(ArmSpec.builtIn.map(\.id).joined(separator: ", ")))")
        }
        guard tokens > 0 else { throw CLIError("--tokens must be positive") }
        let model = try BackendSpec.backend(dataBackendSpec(backend))
        let dir = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let log = dir.appendingPathComponent("\(arm.id).generation.jsonl")
        let docsURL = dir.appendingPathComponent("\(arm.id).jsonl")
        let cap = maxBriefs ?? (tokens / 20 + 20)
        let filter = ModelOutputFilter(minWords: minWords, references: noLeakageCheck ? [] : BatteryReferences.texts())
        let generator = LanguageModelTextGenerator(model: model, system: system)
        // First guess: an accepted document is about half of maxTokens; then grow from what was measured.
        var count = max(1, min(cap, Int((Double(tokens) / (0.5 * Double(maxTokens))).rounded(.up))))
        note("generating \(arm.id) with \(model.identifier): target \(tokens) tokens, \(count) briefs to start (cap \(cap)), log \(log.path)")
        let start = Date()
        var last: ModelWrittenResult? = nil
        while true {
            let builder = ModelWrittenCorpusBuilder(generator: generator, arm: arm, seed: seed, count: count, maxTokens: maxTokens,
                                                    temperature: temperature, filter: filter)
            var firstNew: (done: Int, at: Date)? = nil
            var lastPrint = Date.distantPast
            let result = try await builder.run(output: log) { p in
                if firstNew == nil { firstNew = (p.done, Date()); return }
                guard Date().timeIntervalSince(lastPrint) > 2 || p.done == p.total else { return }
                lastPrint = Date()
                let made = p.done - firstNew!.done
                let rate = Double(made) / max(Date().timeIntervalSince(firstNew!.at), 1e-3)
                let eta = rate > 0 ? seconds(Double(p.total - p.done) / rate) : "?"
                note("  [\(p.done)/\(p.total) briefs, \(p.accepted) accepted, \(p.resumed) resumed, \(seconds(Date().timeIntervalSince(start))) elapsed, ETA \(eta)]")
            }
            last = result
            let total = result.documents.reduce(0) { $0 + $1.tokens }
            if total >= tokens || count >= cap { break }
            if result.documents.isEmpty {
                let why = result.rejected.map { "\($0.key.rawValue): \($0.value)" }.sorted().joined(separator: ", ")
                throw CLIError("no document accepted from \(count) briefs (rejected: \(why)); see \(log.path)")
            }
            let perBrief = Double(total) / Double(count)
            count = min(cap, count + max(1, Int((Double(tokens - total) / perBrief * 1.1).rounded(.up))))
            note("  \(total) of \(tokens) tokens; continuing to \(count) briefs")
        }
        let result = last!
        var kept: [CorpusDocument] = []
        var total = 0
        for d in result.documents where total < tokens { kept.append(d); total += d.tokens }
        try Data(kept.map { "{\"text\":\(jsonEscape($0.text))}\n" }.joined().utf8).write(to: docsURL)
        let rejected = result.rejected.map { "\($0.key.rawValue) \($0.value)" }.sorted().joined(separator: ", ")
        note("done in \(seconds(Date().timeIntervalSince(start))): \(kept.count) documents, \(total) tokens" +
             (rejected.isEmpty ? "" : "; rejected: \(rejected)") + (total < tokens ? " (below the target: --max-briefs \(cap) reached)" : ""))
        print(docsURL.path)
    }
}

/// `hyperlab posttrain-data`: chat data for the mock post-training, made from a backend's replies to the
/// built-in prompts; or a check of a user's own chat JSONL.
struct PostTrainData: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "posttrain-data",
        abstract: "Make mock post-training chat data from a model's replies to varied built-in prompts, or check a user's chat JSONL.",
        discussion: """
        Writes {"messages":[…]} lines to --out; failed generations go to OUT.failures.jsonl with their reasons. \
        With --validate FILE, checks a chat JSONL file instead and lists its bad lines.
        """)
    @Option(help: "local:ALIAS|PATH, openai:MODEL[@URL], anthropic:MODEL[@URL], or a bare alias/path (local).")
    var backend = "smollm2-135m-instruct"
    @Option(help: "Output chat JSONL file.") var out: String?
    @Option(help: "Conversations to make.") var count = 300
    @Option var seed: UInt64 = 1
    @Option(name: .customLong("max-tokens"), help: "Most tokens per reply.") var maxTokens = 256
    @Option var temperature = 0.7
    @Flag(name: .customLong("keep-truncated"), help: "Keep replies cut off at --max-tokens (default: record them as failures).")
    var keepTruncated = false
    @Flag(name: .customLong("no-leakage-check"), help: "Do not reject replies sharing 8-grams with the battery.")
    var noLeakageCheck = false
    @Option(help: "Check this chat JSONL file instead of generating.") var validate: String?

    func run() async throws {
        if let path = validate {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw CLIError("cannot read \(path) as UTF-8 text")
            }
            let r = PostTrainingData.parseChatJSONL(text, sourceName: path)
            for p in r.problems { note(p.description) }
            print("\(r.records.count) valid records, \(r.problems.count) bad lines")
            if !r.problems.isEmpty || r.records.isEmpty { throw ExitCode.failure }
            return
        }
        guard let out else { throw CLIError("--out FILE is required (or --validate FILE)") }
        guard count > 0 else { throw CLIError("--count must be positive") }
        let model = try BackendSpec.backend(dataBackendSpec(backend))
        let gen = PostTrainingGenerator(model: model, maxTokens: maxTokens, temperature: temperature,
                                        rejectTruncated: !keepTruncated, seed: seed)
        let guardian = noLeakageCheck ? nil : LeakageGuard(references: BatteryReferences.texts())
        note("making \(count) conversations with \(model.identifier) from \(PostTrainingPrompts.builtIn.count) built-in prompts")
        let start = Date()
        var lastPrint = Date.distantPast
        let result = await gen.make(count: count, leakage: guardian) { p in
            guard Date().timeIntervalSince(lastPrint) > 2 || p.done == p.total else { return }
            lastPrint = Date()
            let el = Date().timeIntervalSince(start)
            let eta = seconds(el / Double(p.done) * Double(p.total - p.done))
            note("  [\(p.done)/\(p.total) conversations, \(p.failed) failed, \(seconds(el)) elapsed, ETA \(eta)]")
        }
        let files = try result.write(to: URL(fileURLWithPath: out))
        var byReason: [String: Int] = [:]
        for f in result.failures { byReason[String(f.reason.prefix(80)), default: 0] += 1 }
        for (r, n) in byReason.sorted(by: { $0.value > $1.value }).prefix(5) { note("  failed ×\(n): \(r)") }
        note("done in \(seconds(Date().timeIntervalSince(start))): \(result.records.count) conversations, \(result.failures.count) failed")
        for f in files { print(f.path) }
        if result.records.isEmpty { throw CLIError("every generation failed; see \(files.last!.path)") }
    }
}
