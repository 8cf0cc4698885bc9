import Foundation
import Tokenization

/// Options of one generation request.
public struct GenerationOptions: Sendable, Codable, Equatable {
    public var maxTokens: Int
    public var sampling: SamplingParameters
    /// Generation ends when the text contains any of these; the stop string itself is not returned.
    public var stop: [String]
    /// End at the model's end-of-generation tokens (EOS, end-of-turn).
    public var stopAtEndOfGeneration: Bool

    public init(maxTokens: Int = 128, sampling: SamplingParameters = SamplingParameters(), stop: [String] = [],
                stopAtEndOfGeneration: Bool = true) {
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stop = stop
        self.stopAtEndOfGeneration = stopAtEndOfGeneration
    }
}

/// Why a generation ended.
public enum FinishReason: String, Sendable, Codable {
    /// A stop string or an end-of-generation token.
    case stop
    /// `maxTokens` reached, or the context limit.
    case length
}

/// The outcome of one generated stream.
public struct GenerationResult: Sendable, Codable, Equatable {
    public var text: String
    /// Generated token ids only (not the prompt); includes tokens consumed by a stop string.
    public var tokens: [Int]
    public var finishReason: FinishReason
    public var promptTokenCount: Int
    /// Seconds spent on the prompt and on decoding.
    public var promptSeconds: Double
    public var decodeSeconds: Double
}

/// Tracks one stream's text against stop strings, releasing only text that can no longer be the start
/// of a stop string.
struct StopScanner {
    let stops: [String]
    var decoder: StreamingDecoder
    var text = ""
    var emitted = 0  // characters of `text` already released
    var stopped = false

    init(stops: [String], tokenizer: Tokenizer) {
        self.stops = stops.filter { !$0.isEmpty }
        self.decoder = StreamingDecoder(tokenizer: tokenizer)
    }

    /// Adds a token; returns newly releasable text.
    mutating func push(_ id: Int) -> String {
        text += decoder.feed(id)
        for s in stops {
            if let r = text.range(of: s) {
                text = String(text[..<r.lowerBound])
                stopped = true
                return release(all: true)
            }
        }
        return release(all: false)
    }

    /// Flushes what is left at the end of the stream.
    mutating func finish() -> String {
        if !stopped { text += decoder.flush() }
        return release(all: true)
    }

    private mutating func release(all: Bool) -> String {
        var end = text.count
        if !all {
            // Hold back the longest suffix that is a proper prefix of some stop string.
            var hold = 0
            for s in stops {
                var k = min(s.count - 1, text.count)
                while k > hold {
                    if text.hasSuffix(String(s.prefix(k))) { hold = k; break }
                    k -= 1
                }
            }
            end -= hold
        }
        guard end > emitted else { return "" }
        let startIndex = text.index(text.startIndex, offsetBy: emitted)
        let endIndex = text.index(text.startIndex, offsetBy: end)
        emitted = end
        return String(text[startIndex..<endIndex])
    }
}

extension Model {
    /// Generates one continuation of `promptTokens`, calling `onText` with text as it becomes final.
    public func generate(promptTokens: [Int], options: GenerationOptions,
                         onText: ((String) -> Void)? = nil) throws -> GenerationResult {
        try generateMany(promptTokens: promptTokens, count: 1, options: options,
                         onText: onText.map { f in { _, s in f(s) } })[0]
    }

    /// Samples `count` continuations of one prompt. The prompt is computed once; every stream forks
    /// from its cache, and the live streams advance together, one batched forward pass per step.
    /// Stream `i` draws from its own RNG (seed, i): the same seed and count give the same texts. A stream's
    /// draws do not depend on `count`, but its text may: one-row and batched decoding kernels round
    /// differently, which can flip a near-tie between two tokens.
    public func generateMany(promptTokens: [Int], count: Int, options: GenerationOptions,
                             onText: ((Int, String) -> Void)? = nil) throws -> [GenerationResult] {
        guard !promptTokens.isEmpty else { throw ModelError.invalidArgument("the prompt has no tokens") }
        guard count >= 1 else { throw ModelError.invalidArgument("count must be at least 1") }
        guard promptTokens.count < contextLimit else {
            throw ModelError.contextOverflow(limit: contextLimit, requested: promptTokens.count + 1)
        }
        let t0 = Date()
        // The prompt runs once (or comes from the prompt cache); every stream draws its first token
        // from the prompt's last logits and forks from its cache.
        let (prompt, firstLogits) = try prefill(promptTokens)
        let promptSeconds = Date().timeIntervalSince(t0)
        let t1 = Date()
        var samplers = (0..<count).map { Sampler(options.sampling, stream: UInt64($0)) }
        var scanners = (0..<count).map { _ in StopScanner(stops: options.stop, tokenizer: tokenizer) }
        var generated = [[Int]](repeating: [], count: count)
        var finish = [FinishReason?](repeating: nil, count: count)
        var sequences = (0..<count).map { _ in prompt.fork() }
        var next = [Int](repeating: 0, count: count)
        firstLogits.withUnsafeBufferPointer { row in
            for i in 0..<count { next[i] = samplers[i].sample(row) }
        }
        var live = options.maxTokens > 0 ? Array(0..<count) : []
        while !live.isEmpty {
            var stepping: [Int] = []
            for i in live {
                let tok = next[i]
                generated[i].append(tok)
                if options.stopAtEndOfGeneration && tokenizer.isEndOfGeneration(tok) {
                    finish[i] = .stop
                } else {
                    let piece = scanners[i].push(tok)
                    if !piece.isEmpty { onText?(i, piece) }
                    if scanners[i].stopped { finish[i] = .stop }
                }
                if finish[i] == nil && (generated[i].count >= options.maxTokens
                                        || sequences[i].length + 1 > contextLimit) {
                    finish[i] = .length
                }
                if finish[i] == nil { stepping.append(i) }
            }
            live = stepping
            if live.isEmpty { break }
            // A sampling step: its logits only pick the next tokens, so wide batches may take 8-bit activations.
            let logits = try forward(live.map { (sequences[$0], [next[$0]], LogitRequest.last) }, activations: .int8)
            // Streams draw independently (each from its own RNG), so their draws run in parallel.
            let stepLive = live
            samplers.withUnsafeMutableBufferPointer { sp in
                next.withUnsafeMutableBufferPointer { np in
                    pool.parallelFor(stepLive.count) { j in
                        let i = stepLive[j]
                        np[i] = sp[i].sample(logits.row(logits.rowsOfItem[j].lowerBound))
                    }
                }
            }
        }
        let decodeSeconds = Date().timeIntervalSince(t1)
        sequences.removeAll()
        return (0..<count).map { i in
            let tail = scanners[i].finish()
            if !tail.isEmpty { onText?(i, tail) }
            return GenerationResult(text: scanners[i].text, tokens: generated[i], finishReason: finish[i] ?? .length,
                                    promptTokenCount: promptTokens.count, promptSeconds: promptSeconds,
                                    decodeSeconds: decodeSeconds)
        }
    }
}
