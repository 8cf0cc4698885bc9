import ArgumentParser
import Foundation
import Transformer

/// Engine timings for `bench/` scripts: the same inputs the anchors (llama.cpp, PyTorch) get.
struct Bench: ParsableCommand {
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

    struct Out: Encodable {
        var model = "", threads = 0, prompt_tokens = 0
        var prompt_tok_s = 0.0, score_seconds = 0.0, score_tok_s = 0.0, gen_tok_s = 0.0
        var streams = 0, streams_aggregate_tok_s = 0.0, peak_rss_mib = 0.0, load_seconds = 0.0
    }

    func run() throws {
        let t0 = Date()
        let model = try modelOptions.load()
        var out = Out()
        out.load_seconds = Date().timeIntervalSince(t0)
        out.model = modelOptions.model
        out.threads = model.pool.threadCount
        let text = try String(contentsOfFile: promptFile, encoding: .utf8)
        var ids = model.tokenizer.encode(text)
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
        _ = try model.forward([(model.newSequence(), Array(ids.prefix(64)), .last)])  // fp32 copies, warm caches
        let prompt = try best { _ = try model.forward([(model.newSequence(), ids, .last)]) }
        out.prompt_tok_s = Double(ids.count) / prompt
        let score = try best { _ = try model.teacherForced(ids) }
        out.score_seconds = score
        out.score_tok_s = Double(ids.count) / score
        let g = try model.generate(promptTokens: ids, options: GenerationOptions(maxTokens: genTokens, sampling: .greedy, stopAtEndOfGeneration: false))
        out.gen_tok_s = Double(g.tokens.count - 1) / g.decodeSeconds
        let many = try model.generateMany(promptTokens: ids, count: streams,
                                          options: GenerationOptions(maxTokens: streamTokens, sampling: SamplingParameters(temperature: 0.8, seed: 1), stopAtEndOfGeneration: false))
        out.streams = streams
        out.streams_aggregate_tok_s = Double(many.reduce(0) { $0 + $1.tokens.count - 1 }) / many[0].decodeSeconds
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
