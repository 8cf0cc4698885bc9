import Foundation
import XCTest
import Transformer

/// Internal consistency of the inference paths: batching, prefix sharing, the cache, sampling.
final class InferenceTests: XCTestCase {
    let texts = [
        "The quarterly numbers arrived late on Friday, and nobody in the finance team was pleased.",
        "Water boils at a lower temperature on a mountain because",
        "def fibonacci(n):\n    if n < 2:\n        return n\n",
    ]

    func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    /// Several sequences in one batched pass give the logits each gives alone, for both models.
    func testBatchedForwardEqualsSeparate() throws {
        for alias in ["smollm2-135m-instruct", "gemma3-270m"] {
            let model = try Models.load(alias)
            let ids = texts.map { model.tokenizer.encode($0) }
            let alone = try ids.map { try model.forward([(model.newSequence(), $0, .all)]) }
            let batch = try model.forward(ids.map { (model.newSequence(), $0, LogitRequest.all) })
            for (i, a) in alone.enumerated() {
                XCTAssertEqual(batch.rowsOfItem[i].count, ids[i].count)
                for (r, row) in batch.rowsOfItem[i].enumerated() {
                    // Alone, each text (10–32 tokens) runs on the integer small-batch kernels (16-bit activations:
                    // ~1e-2 of logit drift over the layers); the batch of all three runs on fp32 GEMM.
                    XCTAssertLessThan(maxAbsDiff(batch.rowArray(row), a.rowArray(r)), 2e-2, "\(alias) text \(i) row \(r)")
                    XCTAssertEqual(Sampler.argmax(batch.row(row)), Sampler.argmax(a.row(r)), "\(alias) text \(i) row \(r) argmax")
                }
            }
        }
    }

    /// Streams forked from one prompt and decoded in one batch (their shared prompt read as one matrix per
    /// KV head) give the logits each gives decoded alone: streams whose own parts differ in length, and on
    /// Gemma a prompt past the 512-token sliding window (local layers share only the window's part).
    func testForkedStreamsDecodeTogetherAsAlone() throws {
        let text = try String(contentsOf: Reference.directory.appendingPathComponent("prompt512.txt"), encoding: .utf8)
        for (alias, promptLength) in [("smollm2-135m-instruct", 60), ("gemma3-270m", 600)] {
            let model = try Models.load(alias)
            let ids = Array(model.tokenizer.encode(text + " " + text).prefix(promptLength + 8))
            let prompt = model.newSequence()
            try model.forward([(prompt, Array(ids.prefix(promptLength)), .none)])
            let together = (0..<4).map { _ in prompt.fork() }, alone = (0..<4).map { _ in prompt.fork() }
            // Stream 0 first takes two tokens of its own, so its own part is longer than the others'.
            for s in [together[0], alone[0]] { try model.forward([(s, Array(ids[promptLength..<(promptLength + 2)]), .none)]) }
            for step in 0..<2 {
                let next = (0..<4).map { ids[promptLength + 2 + $0 + step] }
                let batch = try model.forward((0..<4).map { (together[$0], [next[$0]], LogitRequest.last) })
                for i in 0..<4 {
                    let one = try model.forward([(alone[i], [next[i]], .last)])
                    XCTAssertLessThan(maxAbsDiff(batch.rowArray(batch.rowsOfItem[i].lowerBound), one.rowArray(0)), 3e-2,
                                      "\(alias) step \(step) stream \(i)")
                    XCTAssertEqual(Sampler.argmax(batch.row(batch.rowsOfItem[i].lowerBound)), Sampler.argmax(one.row(0)),
                                   "\(alias) step \(step) stream \(i) argmax")
                }
            }
        }
    }

    /// Two groups of streams forked from one prompt at different lengths (it grew between the forks) decode in
    /// one batch: each group reads the prompt's keys and values from one packed copy, the shorter group from
    /// the front of the longer one's, packed first, and then (after a step) the other way round. Each stream
    /// gets the logits it gets decoded alone.
    func testStreamsForkedAtDifferentLengthsShareOnePackedPrompt() throws {
        let text = try String(contentsOf: Reference.directory.appendingPathComponent("prompt512.txt"), encoding: .utf8)
        let model = try Models.load("smollm2-135m-instruct")
        let ids = Array(model.tokenizer.encode(text).prefix(90))
        let prompt = model.newSequence()
        try model.forward([(prompt, Array(ids.prefix(50)), .none)])
        let early = (0..<2).map { _ in prompt.fork() }, earlyAlone = (0..<2).map { _ in prompt.fork() }
        try model.forward([(prompt, Array(ids[50..<70]), .none)])
        let late = (0..<2).map { _ in prompt.fork() }, lateAlone = (0..<2).map { _ in prompt.fork() }
        let bytesBefore = prompt.ownBytes
        for step in 0..<3 {
            // The longer group first on steps 0 and 2, so its run is packed before the shorter one asks.
            let order = step == 1 ? early + late : late + early
            let alone = step == 1 ? earlyAlone + lateAlone : lateAlone + earlyAlone
            let next = (0..<4).map { ids[70 + 4 * step + $0] }
            let batch = try model.forward((0..<4).map { (order[$0], [next[$0]], LogitRequest.last) })
            for i in 0..<4 {
                let one = try model.forward([(alone[i], [next[i]], .last)])
                XCTAssertLessThan(maxAbsDiff(batch.rowArray(batch.rowsOfItem[i].lowerBound), one.rowArray(0)), 3e-2, "step \(step) stream \(i)")
            }
        }
        // One packed run per layer, of the 70 positions: each KV head's keys (64 rows × 80 columns) and values
        // (70 rows × 64 columns), at least.
        let packed = model.config.layerCount * model.config.kvHeadCount * (64 * 80 + 70 * 64) * 4
        XCTAssertGreaterThanOrEqual(prompt.ownBytes - bytesBefore, packed, "the packed runs count in the prompt's bytes")
    }

    /// Feeding a text in pieces through the cache (prompt, then one token at a time) matches one pass.
    func testIncrementalDecodingMatchesFullPass() throws {
        for alias in ["smollm2-135m-instruct", "gemma3-270m"] {
            let model = try Models.load(alias)
            let ids = model.tokenizer.encode(texts[0])
            let full = try model.forward([(model.newSequence(), ids, .all)])
            let seq = model.newSequence()
            _ = try model.forward([(seq, Array(ids.prefix(5)), .none)])
            for i in 5..<ids.count {
                let step = try model.forward([(seq, [ids[i]], .last)])
                XCTAssertLessThan(maxAbsDiff(step.rowArray(0), full.rowArray(i)), 3e-2, "\(alias) position \(i)")
                XCTAssertEqual(Sampler.argmax(step.row(0)), Sampler.argmax(full.row(i)), "\(alias) argmax at \(i)")
            }
            XCTAssertEqual(seq.length, ids.count)
            XCTAssertEqual(seq.tokens, ids)
        }
    }

    /// One stream decoding after a long context (SmolLM2: 3 KV heads; Gemma 3: 1, with its sliding window
    /// crossed): attention splits each head's context into parts and merges their softmax results; each step's
    /// logits match the full pass's row.
    func testSplitContextDecodingMatchesFullPass() throws {
        let text = try String(contentsOf: Reference.directory.appendingPathComponent("prompt512.txt"), encoding: .utf8)
        for (alias, count) in [("smollm2-135m-instruct", 300), ("gemma3-270m", 560)] {
            let model = try Models.load(alias)
            let ids = Array(model.tokenizer.encode(text + " " + text).prefix(count))
            XCTAssertEqual(ids.count, count)
            let full = try model.forward([(model.newSequence(), ids, .all)])
            let seq = model.newSequence()
            _ = try model.forward([(seq, Array(ids.prefix(count - 8)), .none)])
            for i in (count - 8)..<count {
                let step = try model.forward([(seq, [ids[i]], .last)])
                XCTAssertLessThan(maxAbsDiff(step.rowArray(0), full.rowArray(i)), 3e-2, "\(alias) position \(i)")
                XCTAssertEqual(Sampler.argmax(step.row(0)), Sampler.argmax(full.row(i)), "\(alias) argmax at \(i)")
            }
        }
    }

    /// Gemma 3's sliding window: beyond 512 tokens, local layers must forget; a forked continuation
    /// over a long shared prefix must equal the full teacher-forced pass.
    func testLongContextAndForkMatchFullPass() throws {
        let model = try Models.load("gemma3-270m")
        let text = try String(contentsOf: Reference.directory.appendingPathComponent("prompt512.txt"), encoding: .utf8)
        let ids = Array(model.tokenizer.encode(text + " " + text).prefix(700))
        XCTAssertEqual(ids.count, 700)
        let full = try model.teacherForced(ids)
        let prefix = Array(ids.prefix(600)), cont = Array(ids.suffix(100))
        let s = try model.score(promptTokens: prefix, continuations: [cont])[0]
        let expected = Array(full.logProbs.suffix(100))
        for (a, b) in zip(s.logProbs, expected) { XCTAssertEqual(a, b, accuracy: 2e-3) }
    }

    /// Scoring continuations by forking from a shared prompt equals teacher forcing on each
    /// concatenation, and the prompt's cache is not disturbed by the forks.
    func testForkedScoringEqualsTeacherForcing() throws {
        let model = try Models.load("smollm2-135m-instruct")
        let prompt = model.tokenizer.encode("The committee met to decide the budget. In the end, they")
        let conts = [" approved it.", " rejected the proposal after a long debate.", " went home"].map {
            model.tokenizer.encode($0)
        }
        let scores = try model.score(promptTokens: prompt, continuations: conts, maxBatchTokens: 4)
        for (c, s) in zip(conts, scores) {
            let full = try model.teacherForced(prompt + c)
            let expected = Array(full.logProbs.suffix(c.count))
            XCTAssertEqual(s.logProbs.count, c.count)
            for (a, b) in zip(s.logProbs, expected) { XCTAssertEqual(a, b, accuracy: 2e-3) }
        }
        // Scores are proper log-probabilities and differ between continuations.
        XCTAssertTrue(scores.allSatisfy { $0.logProbs.allSatisfy { $0 <= 0 && $0.isFinite } })
        XCTAssertNotEqual(scores[0].sum, scores[2].sum)
    }

    /// A prompt extended from a cached one computes only the extension, and its logits equal a fresh pass.
    func testPromptCacheReusesPrefixes() throws {
        let model = try Models.load("smollm2-135m-instruct")
        model.clearPromptCache()
        let a = model.tokenizer.encode("The lighthouse keeper climbed the stairs")
        let b = a + model.tokenizer.encode(" every evening at dusk, counting each step.")
        let first = try model.prefill(a)
        let again = try model.prefill(a)
        XCTAssertTrue(first.sequence === again.sequence, "an identical prompt is served from the cache")
        let longer = try model.prefill(b)
        XCTAssertTrue(longer.sequence.parent === first.sequence, "a longer prompt forks from the cached prefix")
        XCTAssertEqual(longer.sequence.parentLength, a.count)
        let fresh = try model.forward([(model.newSequence(), b, .last)]).rowArray(0)
        // The short extension runs on the small-batch integer kernels and the fresh pass on fp32 ones,
        // so they agree to rounding (the same bound as incremental decoding above), with the same argmax.
        XCTAssertLessThan(maxAbsDiff(longer.lastLogits, fresh), 3e-2)
        XCTAssertEqual(longer.lastLogits.withUnsafeBufferPointer { Sampler.argmax($0) }, fresh.withUnsafeBufferPointer { Sampler.argmax($0) })
        XCTAssertEqual(first.sequence.length, a.count, "cached sequences are never extended")
    }

    func testSameSeedSameTextAndStreamsIndependentOfBatch() throws {
        let model = try Models.load("smollm2-135m-instruct")
        let prompt = try model.renderChat([.init(role: "user", content: "Write a sentence about the sea.")])
        let ids = model.tokenizer.encode(prompt, parseSpecial: true)
        let opts = GenerationOptions(maxTokens: 24, sampling: SamplingParameters(temperature: 1.0, topK: 40, topP: 0.95, minP: 0.02, seed: 7))
        let a = try model.generate(promptTokens: ids, options: opts)
        let b = try model.generate(promptTokens: ids, options: opts)
        XCTAssertEqual(a.text, b.text)
        XCTAssertEqual(a.tokens, b.tokens)
        let many = try model.generateMany(promptTokens: ids, count: 4, options: opts)
        let again = try model.generateMany(promptTokens: ids, count: 4, options: opts)
        XCTAssertEqual(many.map(\.tokens), again.map(\.tokens), "a batch of streams is reproducible")
        XCTAssertGreaterThan(Set(many.map(\.text)).count, 1, "different streams draw differently")
        var other = opts; other.sampling.seed = 8
        let c = try model.generate(promptTokens: ids, options: other)
        XCTAssertNotEqual(c.tokens, a.tokens)
        // The text is the decoding of the tokens (minus a trailing end-of-turn token).
        let body = a.tokens.filter { !model.tokenizer.isEndOfGeneration($0) }
        XCTAssertEqual(a.text, model.tokenizer.decode(body))
    }

    func testStopStringsAndMaxTokens() throws {
        let model = try Models.load("smollm2-135m-instruct")
        let ids = model.tokenizer.encode("Count from one to twenty: one, two, three,")
        let free = try model.generate(promptTokens: ids, options: GenerationOptions(maxTokens: 30, sampling: .greedy, stopAtEndOfGeneration: false))
        XCTAssertEqual(free.tokens.count, 30)
        XCTAssertEqual(free.finishReason, .length)
        // Stop at a piece of text that greedy decoding produces part-way through.
        let words = free.text.split(separator: " ")
        XCTAssertGreaterThan(words.count, 4)
        let stop = String(words[3])
        var streamed = ""
        let stopped = try model.generate(promptTokens: ids, options: GenerationOptions(maxTokens: 30, sampling: .greedy, stop: [stop], stopAtEndOfGeneration: false)) { streamed += $0 }
        let expected = String(free.text[..<free.text.range(of: stop)!.lowerBound])
        XCTAssertEqual(stopped.text, expected)
        XCTAssertEqual(streamed, expected, "streamed text never includes the stop string")
        XCTAssertEqual(stopped.finishReason, .stop)
        XCTAssertLessThan(stopped.tokens.count, 30)
    }

    func testContextLimitIsEnforced() throws {
        let model = try Models.load("smollm2-135m-instruct")
        let seq = model.newSequence()
        XCTAssertThrowsError(try model.forward([(seq, Array(repeating: 42, count: model.contextLimit + 1), .last)]))
        XCTAssertThrowsError(try model.forward([(seq, [model.config.vocabularySize], .last)]))
        XCTAssertEqual(seq.length, 0, "a rejected pass leaves the cache untouched")
    }
}

/// Sampling steps of many streams may take 8-bit activations (`forward(_:activations: .int8)`); scoring never
/// does. On the real model, 16 streams forked from one prompt each feed a different token: the 8-bit step's
/// next-token distributions stay close to the 16-bit ones, and the option does take effect.
final class EightBitSamplingStepTests: XCTestCase {
    func testEightBitStepStaysCloseToSixteenBit() throws {
        let model = try Models.load("smollm2-135m-instruct")
        let prompt = try model.renderChat([.init(role: "user", content: "Tell me about the history of lighthouses and the people who kept them.")])
        let (seq, _) = try model.prefill(model.tokenizer.encode(prompt, parseSpecial: true))
        let feed = model.tokenizer.encode(" The first keepers lived on rocky islands, far from any town or", parseSpecial: false)
        XCTAssertGreaterThanOrEqual(feed.count, 12)
        let streams = 16
        func step(_ a: ActivationPrecision) throws -> [[Float]] {
            let forks = (0..<streams).map { _ in seq.fork() }
            let logits = try model.forward((0..<streams).map { (forks[$0], [feed[$0 % feed.count]], LogitRequest.last) }, activations: a)
            return (0..<streams).map { Array(logits.row(logits.rowsOfItem[$0].lowerBound)) }
        }
        let hi = try step(.int16), lo = try step(.int8)
        var worstKL = 0.0, sumKL = 0.0, agree = 0, changed = false, worstLogit: Float = 0
        for (a, b) in zip(hi, lo) {
            changed = changed || a != b
            // The 16-bit step's five most likely tokens.
            for i in a.indices.sorted(by: { a[$0] > a[$1] }).prefix(5) { worstLogit = max(worstLogit, abs(a[i] - b[i])) }
            let ma = Double(a.max()!), mb = Double(b.max()!)
            var za = 0.0, zb = 0.0
            for x in a { za += exp(Double(x) - ma) }
            for y in b { zb += exp(Double(y) - mb) }
            var kl = 0.0
            for (x, y) in zip(a, b) {
                let p = exp(Double(x) - ma) / za
                if p > 0 { kl += p * ((Double(x) - ma - log(za)) - (Double(y) - mb - log(zb))) }
            }
            worstKL = max(worstKL, kl); sumKL += kl
            func argmax(_ v: [Float]) -> Int { var best = 0; for i in v.indices where v[i] > v[best] { best = i }; return best }
            if argmax(a) == argmax(b) { agree += 1 }
        }
        print("8-bit vs 16-bit step: mean KL \(sumKL / Double(streams)), worst \(worstKL), top-5 max |Δlogit| \(worstLogit), argmax agrees \(agree)/\(streams)")
        XCTAssertTrue(changed, "the 8-bit step should differ from the 16-bit one")
        // Measured: mean KL ~0.0025 nats, worst ~0.004. llama.cpp, which rounds activations the same way, differs
        // from fp32 by up to ~0.8 in its top-5 logits on the reference prompts (../shared/reference/README.md).
        XCTAssertLessThan(sumKL / Double(streams), 0.006)
        XCTAssertLessThan(worstKL, 0.012)
        XCTAssertLessThan(worstLogit, 0.8)
        XCTAssertGreaterThanOrEqual(agree, streams - 2)
    }

    /// A continuous-batching step with sampling rows first and a prompt after them (`eightBitLeadingItems`):
    /// each sampling row's logits are bit-identical to a pure 8-bit decoding step's (and differ from a 16-bit
    /// one's), and every prompt row's are bit-identical to the prompt run alone at 16 bits, so the keys and values
    /// the prompt cache keeps are the scoring path's. Below `int8MinimumRows` sampling rows nothing splits;
    /// a lead that is not one-token `.last` items is refused.
    func testMixedStepSplitsPrecisionByRow() throws {
        let model = try Models.load("smollm2-135m-instruct")
        let (seq, _) = try model.prefill(model.tokenizer.encode("The harbour was quiet that night, and the keeper climbed the stairs to", parseSpecial: false))
        let feed = model.tokenizer.encode(" light the lamp before the storm came in from the west over the", parseSpecial: false)
        let prompt = model.tokenizer.encode("A short note on the history of canals: they carried coal, grain and stone across the country", parseSpecial: false)
        XCTAssertGreaterThanOrEqual(prompt.count, ActivationPrecision.int8MinimumRows)
        func rows(_ logits: Logits, _ items: Range<Int>) -> [[Float]] {
            items.flatMap { logits.rowsOfItem[$0].map { Array(logits.row($0)) } }
        }
        for streams in [12, 4] {
            XCTAssertGreaterThanOrEqual(feed.count, streams)
            func decodes() -> [(sequence: KVSequence, tokens: [Int], logits: LogitRequest)] {
                (0..<streams).map { (seq.fork(), [feed[$0]], LogitRequest.last) }
            }
            let mixed = try model.forward(decodes() + [(model.newSequence(), prompt, .all)], activations: .int16,
                                          eightBitLeadingItems: streams)
            let unsplit = try model.forward(decodes() + [(model.newSequence(), prompt, .all)], activations: .int16)
            let eight = rows(try model.forward(decodes(), activations: .int8), 0..<streams)
            let sixteen = rows(try model.forward(decodes(), activations: .int16), 0..<streams)
            let alone = rows(try model.forward([(model.newSequence(), prompt, .all)]), 0..<1)
            // (Booleans, so that a failure does not print 49,152 logits per row.)
            if streams >= ActivationPrecision.int8MinimumRows {
                XCTAssertTrue(rows(mixed, streams..<(streams + 1)) == alone, "\(streams) sampling rows: the prompt's rows differ from the prompt alone")
                XCTAssertTrue(eight != sixteen, "the 8-bit step should differ from the 16-bit one")
                XCTAssertTrue(rows(mixed, 0..<streams) == eight, "\(streams) sampling rows: not those of a pure 8-bit decoding step")
            } else {
                // Too few to split: the whole step is the 16-bit one.
                XCTAssertTrue(rows(mixed, 0..<(streams + 1)) == rows(unsplit, 0..<(streams + 1)), "\(streams) sampling rows: split although too few")
            }
        }
        XCTAssertThrowsError(try model.forward([(model.newSequence(), prompt, .last)] + Array(repeating: (seq.fork(), [feed[0]], LogitRequest.last), count: 1),
                                               eightBitLeadingItems: 1))
    }
}
