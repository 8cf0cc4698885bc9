import ArgumentParser
import Backends
import ChatTemplate
import Foundation
import Scenarios
import Transformer

/// Engine timings for `bench/` scripts: the same inputs the anchors (llama.cpp, PyTorch) get.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Timings for the bench/ scripts.",
        subcommands: [Engine.self, BatteryThroughput.self], defaultSubcommand: Engine.self)
}

struct Engine: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the engine: prompt processing, full-logit scoring, generation, many streams, memory.")
    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Text file whose first --tokens tokens are the prompt.") var promptFile: String
    @Option var tokens = 512
    @Option(name: .customLong("gen-tokens")) var genTokens = 64
    @Option var streams = 16
    @Option(name: .customLong("stream-tokens")) var streamTokens = 32
    @Option var repeats = 3
    @Flag var json = false
    @Flag(name: .customLong("streams-only"), help: "Time only the many-streams phase, `repeats` times (for profiling it).")
    var streamsOnly = false

    struct Out: Encodable {
        var model = "", threads = 0, prompt_tokens = 0
        var prompt_tok_s = 0.0, score_seconds = 0.0, score_tok_s = 0.0, gen_tok_s = 0.0
        var streams = 0, streams_aggregate_tok_s = 0.0, peak_rss_mib = 0.0, load_seconds = 0.0
    }

    func run() throws {
        guard let text = try? String(contentsOfFile: promptFile, encoding: .utf8) else {
            throw CLIError("cannot read --prompt-file '\(promptFile)' as UTF-8 text")
        }
        let t0 = Date()
        let model = try modelOptions.load()
        var out = Out()
        out.load_seconds = Date().timeIntervalSince(t0)
        out.model = modelOptions.model
        out.threads = model.pool.threadCount
        var ids = model.tokenizer.encode(text)
        guard !ids.isEmpty else { throw CLIError("--prompt-file '\(promptFile)' holds no text") }
        while ids.count < tokens { ids += ids }
        ids = Array(ids.prefix(tokens))
        out.prompt_tokens = ids.count
        func best(_ f: () throws -> Void) rethrows -> Double {
            var b = Double.infinity
            for _ in 0..<max(1, repeats) {
                let s = Date(); try f(); b = min(b, Date().timeIntervalSince(s))
            }
            return b
        }
        /// Aggregate tokens/s of `streams` streams sampled from the prompt.
        func streamsRate() throws -> Double {
            let many = try model.generateMany(promptTokens: ids, count: streams,
                                              options: GenerationOptions(maxTokens: streamTokens, sampling: SamplingParameters(temperature: 0.8, seed: 1), stopAtEndOfGeneration: false))
            return Double(many.reduce(0) { $0 + $1.tokens.count - 1 }) / many[0].decodeSeconds
        }
        _ = try model.forward([(model.newSequence(), Array(ids.prefix(64)), .last)])  // warm caches (and any fp32 copies)
        if streamsOnly {
            for _ in 0..<max(1, repeats) {
                let rate = try streamsRate()
                out.streams_aggregate_tok_s = max(out.streams_aggregate_tok_s, rate)
                if !json { print(String(format: "%d streams: %.1f tok/s", streams, rate)) }
            }
            out.streams = streams
            out.peak_rss_mib = peakRSSMiB()
            if json { try printJSON(out) }
            return
        }
        let prompt = try best { _ = try model.forward([(model.newSequence(), ids, .last)]) }
        out.prompt_tok_s = Double(ids.count) / prompt
        let score = try best { _ = try model.teacherForced(ids) }
        out.score_seconds = score
        out.score_tok_s = Double(ids.count) / score
        // Generation rates: the best of `repeats` runs, as for the timings above (bench/inference.py does the same
        // for llama.cpp's generation).
        for _ in 0..<max(1, repeats) {
            let g = try model.generate(promptTokens: ids, options: GenerationOptions(maxTokens: genTokens, sampling: .greedy, stopAtEndOfGeneration: false))
            out.gen_tok_s = max(out.gen_tok_s, Double(g.tokens.count - 1) / g.decodeSeconds)
            out.streams_aggregate_tok_s = max(out.streams_aggregate_tok_s, try streamsRate())
        }
        out.streams = streams
        out.peak_rss_mib = peakRSSMiB()
        if json { try printJSON(out); return }
        print(String(format: "prompt %d tok: %.1f tok/s | full-logit score: %.2f s | generation: %.1f tok/s | %d streams: %.1f tok/s | peak RSS %.0f MiB",
                     ids.count, out.prompt_tok_s, out.score_seconds, out.gen_tok_s, streams, out.streams_aggregate_tok_s, out.peak_rss_mib))
    }
}

/// Peak resident set size of this process (VmHWM), in MiB; 0 where /proc is unavailable.
func peakRSSMiB() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kb / 1024
    }
    return 0
}

/// The likelihood measure over battery cells through the local backend, against the engine's raw
/// throughput on the same token count.
struct BatteryThroughput: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "battery", abstract: "Likelihood-propensity throughput over battery cells vs raw engine throughput.")
    @OptionGroup var modelOptions: ModelOptions
    @Option var cells = "rival"
    @Option var variants = 1
    @Flag var json = false

    struct Row: Encodable { let cell: String; let prompt_tokens: Int; let candidate_tokens: Int; let seconds: Double }
    struct Out: Encodable {
        let rows: [Row]; let scenarios: Int; let tokens: Int; let seconds: Double; let tok_s: Double
        let raw_tok_s: Double; let ratio: Double
    }

    func run() async throws {
        let model = try modelOptions.load()
        let backend = LocalModelBackend(model: model, name: modelOptions.model)
        let cellList = try BatteryDesign.named(cells).cells
        var rows: [Row] = []
        var total = 0
        var seconds = 0.0, rawSeconds = 0.0
        // Warm-up: fp32 weight copies and caches.
        _ = try model.forward([(model.newSequence(), Array(repeating: 1, count: 64), .last)])
        for cell in cellList {
            for v in 0..<variants {
                let s = Scenario.render(cell: cell, variant: v, seed: 1)
                let messages = [ChatMessage(role: "system", content: s.systemPrompt), ChatMessage(role: "user", content: s.userTurn)]
                let prompt = model.tokenizer.encode(try model.renderChat(messages), parseSpecial: true)
                let candidates = s.candidates.map { model.tokenizer.encode($0.text, addBOS: false) }
                let candTokens = candidates.reduce(0) { $0 + $1.count }
                model.clearPromptCache()
                let t = Date()
                _ = try await backend.score(ScoreRequest(messages: messages, continuations: s.candidates.map(\.text)))
                let dt = Date().timeIntervalSince(t)
                // Raw: the same tokens as one plain sequence (prompt, then every candidate in a row), with
                // logits on the candidate tokens, as an engine without prefix sharing at its best would run it.
                let all = candidates.flatMap { $0 }
                let r0 = Date()
                let seq = model.newSequence()
                try model.forward([(seq, prompt, .none)])
                for chunk in stride(from: 0, to: candTokens, by: 1024) {
                    try model.forward([(seq, Array(all[chunk..<min(candTokens, chunk + 1024)]), .all)])
                }
                let rawDt = Date().timeIntervalSince(r0)
                seconds += dt
                rawSeconds += rawDt
                total += prompt.count + candTokens
                rows.append(Row(cell: cell.alias, prompt_tokens: prompt.count, candidate_tokens: candTokens, seconds: dt))
            }
        }
        let out = Out(rows: rows, scenarios: rows.count, tokens: total, seconds: seconds, tok_s: Double(total) / seconds,
                      raw_tok_s: Double(total) / rawSeconds, ratio: rawSeconds / seconds)
        if json { try printJSON(out); return }
        for r in rows { print("\(r.cell.padding(toLength: 24, withPad: " ", startingAt: 0)) prompt \(r.prompt_tokens) + candidates \(r.candidate_tokens) tokens: \(String(format: "%.2f", r.seconds)) s") }
        print(String(format: "likelihood measure: %.0f tok/s over %d scenarios; raw engine on the same tokens: %.0f tok/s; ratio %.2f",
                     out.tok_s, out.scenarios, out.raw_tok_s, out.ratio))
    }
}
