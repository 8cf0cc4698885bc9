import Foundation
import Transformer
import Tokenization

/// One generation request as the engine sees it: already tokenized and validated.
///
/// A job has `prompts.count × n` choices; choice `p * n + i` continues prompt `p` and draws from the
/// sampler stream `i` of `sampling.seed`, so its draws do not depend on other traffic.
public struct GenerationJob: Sendable {
    /// Token ids of each prompt (never empty).
    public var prompts: [[Int]]
    /// Choices per prompt.
    public var n: Int
    /// Most tokens generated per choice.
    public var maxTokens: Int
    /// Temperature, top-p and seed.
    public var sampling: SamplingParameters
    /// Stop strings (not included in the returned text).
    public var stop: [String]
    /// Report the log-probability of each generated token.
    public var logprobs: Bool
    /// How many most likely alternatives to report per generated token (0 = none).
    public var topLogprobs: Int
    /// Also report log-probabilities of the prompt's tokens (`/v1/completions` with `echo`).
    public var promptLogprobs: Bool

    /// Makes a job.
    public init(prompts: [[Int]], n: Int = 1, maxTokens: Int, sampling: SamplingParameters, stop: [String] = [],
                logprobs: Bool = false, topLogprobs: Int = 0, promptLogprobs: Bool = false) {
        self.prompts = prompts
        self.n = n
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stop = stop
        self.logprobs = logprobs
        self.topLogprobs = topLogprobs
        self.promptLogprobs = promptLogprobs
    }

    /// Total choices (`prompts.count × n`).
    public var choiceCount: Int { prompts.count * n }
}

/// One token with its log-probability and, when asked, the most likely alternatives.
public struct TokenLogprob: Sendable, Equatable {
    /// The token id.
    public var id: Int
    /// The token's UTF-8 bytes.
    public var bytes: [UInt8]
    /// The text this token released in its stream (empty when it only started a multi-byte character).
    public var text: String
    /// Natural-log probability of the token given everything before it (nil for a prompt's first token).
    public var logprob: Double?
    /// The most likely tokens at this position, most likely first: (id, bytes, logprob).
    public var top: [Alternative]

    /// A candidate token at one position.
    public struct Alternative: Sendable, Equatable {
        public var id: Int
        public var bytes: [UInt8]
        public var logprob: Double
    }
}

/// What the engine reports about a job, in order.
public enum EngineEvent: Sendable {
    /// Log-probabilities of a prompt's tokens (only with `promptLogprobs`), sent before any generated token.
    case prompt(choice: Int, tokens: [TokenLogprob])
    /// A generated token: the text it made final (possibly empty) and its log-probability when asked.
    case token(choice: Int, text: String, logprob: TokenLogprob?)
    /// A choice ended; `text` is its last piece of text (held back for stop strings until now).
    case finished(choice: Int, reason: FinishReason, text: String)
    /// Every choice has ended.
    case done(promptTokens: Int, completionTokens: Int)
    /// The job failed or was cancelled; no further events follow.
    case failed(EngineError)
}

/// Why the engine refused or ended a job.
public struct EngineError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The kind of failure.
    public enum Kind: String, Sendable { case queueFull, shuttingDown, cancelled, internalError }
    public var kind: Kind
    public var message: String
    public var description: String { message }
    public init(_ kind: Kind, _ message: String) { self.kind = kind; self.message = message }
}

/// Engine counters for observability, updated by the scheduler thread.
public protocol EngineObserver: AnyObject, Sendable {
    /// A forward pass ran with `rows` sequences, `decodeRows` of them single-token decode steps.
    func engineStep(rows: Int, decodeRows: Int, tokens: Int, seconds: Double)
    /// Prompt tokens computed and reused from the prefix cache for one prompt.
    func enginePrefill(computed: Int, reused: Int)
    /// Queue depth and active choices after a change.
    func engineLoad(engine: ObjectIdentifier, queued: Int, activeChoices: Int)
}

/// Settings of the scheduler.
public struct EngineLimits: Sendable {
    /// Most choices decoding at once (one forward pass holds all of them).
    public var maxActiveChoices: Int
    /// Most jobs waiting to start; further submissions fail with `queueFull`.
    public var maxQueuedJobs: Int
    /// Prompt tokens fed per prompt per step (long prompts are prefilled over several steps, so decoding
    /// streams keep moving).
    public var prefillChunk: Int
    /// Prompts kept for prefix sharing.
    public var prefixCacheEntries: Int

    /// Makes limits.
    public init(maxActiveChoices: Int = 16, maxQueuedJobs: Int = 64, prefillChunk: Int = 256, prefixCacheEntries: Int = 16) {
        self.maxActiveChoices = maxActiveChoices
        self.maxQueuedJobs = maxQueuedJobs
        self.prefillChunk = prefillChunk
        self.prefixCacheEntries = prefixCacheEntries
    }
}

/// Continuous batching over one `Model`.
///
/// One scheduler thread owns the model. Each step it admits waiting jobs (as many choices as fit under
/// `maxActiveChoices`), then runs a single `Model.forward` holding every decoding choice's next token
/// and a chunk of every prompt still being prefilled. A finished prompt is kept in a small prefix cache:
/// a later prompt that starts with it forks its `KVSequence` and computes only the rest, and the `n`
/// choices of one prompt all fork the same prompt sequence. Jobs join and leave between steps.
public final class InferenceEngine: @unchecked Sendable {
    /// The model (used only by the scheduler thread while it runs).
    public let model: Model
    /// The limits in force.
    public let limits: EngineLimits
    private weak var observer: (any EngineObserver)?

    private let cond = NSCondition()
    // Guarded by `cond`.
    private var queue: [Job] = []
    private var cancelled = Set<Int>()
    private var activeChoices = 0
    private var running = 0  // jobs admitted and not yet done
    private var draining = false
    private var stopped = false
    private var nextID = 0
    private var thread: Thread?
    private var finishedThread = false

    // Scheduler-thread state.
    private var decoding: [Choice] = []
    private var prefills: [Prefill] = []
    private var jobs: [Int: Job] = [:]
    private var cache: [CacheEntry] = []

    /// Starts the scheduler thread.
    public init(model: Model, limits: EngineLimits = EngineLimits(), observer: (any EngineObserver)? = nil) {
        self.model = model
        self.limits = limits
        self.observer = observer
        let t = Thread { self.loop() }  // the thread keeps the engine alive until `shutdown`
        t.name = "hyperlab-engine"
        t.stackSize = 8 << 20
        thread = t
        t.start()
    }

    /// Queues a job. Events arrive on the returned stream; dropping the stream (or calling `cancel`)
    /// cancels the job. Throws `queueFull` when `maxQueuedJobs` jobs already wait, `shuttingDown` after
    /// `shutdown` began.
    public func submit(_ spec: GenerationJob) throws -> (id: Int, events: AsyncStream<EngineEvent>) {
        precondition(!spec.prompts.isEmpty && spec.n >= 1)
        let (stream, continuation) = AsyncStream.makeStream(of: EngineEvent.self, bufferingPolicy: .unbounded)
        cond.lock()
        defer { cond.unlock() }
        if draining || stopped { throw EngineError(.shuttingDown, "the server is shutting down") }
        if queue.count >= limits.maxQueuedJobs {
            throw EngineError(.queueFull, "too many requests are waiting (\(limits.maxQueuedJobs) queued); retry later")
        }
        let id = nextID
        nextID += 1
        let job = Job(id: id, spec: spec, continuation: continuation)
        queue.append(job)
        continuation.onTermination = { [weak self] reason in
            if case .cancelled = reason { self?.cancel(id) }
        }
        observer?.engineLoad(engine: ObjectIdentifier(self), queued: queue.count, activeChoices: activeChoices)
        cond.signal()
        return (id, stream)
    }

    /// Cancels a job: it is dropped from the queue or the batch before the next step.
    public func cancel(_ id: Int) {
        cond.lock()
        cancelled.insert(id)
        cond.signal()
        cond.unlock()
    }

    /// Jobs waiting and running.
    public var load: (queued: Int, running: Int, activeChoices: Int) {
        cond.lock(); defer { cond.unlock() }
        return (queue.count, running, activeChoices)
    }

    /// Stops taking jobs, lets queued and running jobs finish for up to `grace`, cancels what is left
    /// (their streams end with `shuttingDown`), and stops the scheduler thread.
    public func shutdown(grace: Duration = .seconds(30)) async {
        locked { draining = true }
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            if locked({ queue.isEmpty && running == 0 }) { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        locked { stopped = true; cond.signal() }
        while !locked({ finishedThread }) { try? await Task.sleep(for: .milliseconds(10)) }
    }

    private func locked<T>(_ body: () -> T) -> T {
        cond.lock(); defer { cond.unlock() }
        return body()
    }

    // MARK: scheduler

    final class Job {
        let id: Int
        let spec: GenerationJob
        let continuation: AsyncStream<EngineEvent>.Continuation
        var openChoices = 0
        var promptTokens = 0
        var completionTokens = 0
        var ended = false
        init(id: Int, spec: GenerationJob, continuation: AsyncStream<EngineEvent>.Continuation) {
            self.id = id; self.spec = spec; self.continuation = continuation
        }
    }

    final class Choice {
        let job: Job
        let index: Int
        var sequence: KVSequence?
        var sampler: Sampler
        var scanner: StopScanner
        var pieces: StreamingDecoder
        var generated = 0
        var next = 0
        init(job: Job, index: Int, sampler: Sampler, tokenizer: Tokenizer) {
            self.job = job; self.index = index; self.sampler = sampler
            scanner = StopScanner(stops: job.spec.stop, tokenizer: tokenizer)
            pieces = StreamingDecoder(tokenizer: tokenizer)
        }
    }

    final class Prefill {
        let tokens: [Int]
        let sequence: KVSequence
        var fed: Int  // prompt tokens already in `sequence`
        let wantAll: Bool
        var promptLogprobs: [TokenLogprob] = []
        var waiting: [Choice] = []
        var pieces: StreamingDecoder
        init(tokens: [Int], sequence: KVSequence, fed: Int, wantAll: Bool, tokenizer: Tokenizer) {
            self.tokens = tokens; self.sequence = sequence; self.fed = fed; self.wantAll = wantAll
            pieces = StreamingDecoder(tokenizer: tokenizer)
        }
    }

    struct CacheEntry {
        var tokens: [Int]
        var sequence: KVSequence
        var lastLogits: [Float]
    }

    private func loop() {
        while true {
            cond.lock()
            while queue.isEmpty && decoding.isEmpty && prefills.isEmpty && cancelled.isEmpty && !stopped { cond.wait() }
            if stopped {
                let left = queue
                queue.removeAll()
                cond.unlock()
                let error = EngineError(.shuttingDown, "the server shut down before this request finished")
                for j in left { j.continuation.yield(.failed(error)); j.continuation.finish() }
                for j in Array(jobs.values) { fail(j, error) }
                decoding.removeAll(); prefills.removeAll(); cache.removeAll()
                cond.lock(); finishedThread = true; cond.unlock()
                return
            }
            let cancelNow = cancelled
            cancelled.removeAll()
            queue.removeAll { j in
                guard cancelNow.contains(j.id) else { return false }
                j.continuation.finish()
                return true
            }
            var admitted: [Job] = []
            while let j = queue.first, activeChoices == 0 || activeChoices + j.spec.choiceCount <= limits.maxActiveChoices {
                queue.removeFirst()
                activeChoices += j.spec.choiceCount
                running += 1
                admitted.append(j)
            }
            let queued = queue.count, active = activeChoices
            cond.unlock()
            if !admitted.isEmpty { observer?.engineLoad(engine: ObjectIdentifier(self), queued: queued, activeChoices: active) }

            for id in cancelNow { if let j = jobs[id] { fail(j, EngineError(.cancelled, "the request was cancelled")) } }
            for j in admitted { admit(j) }
            if decoding.isEmpty && prefills.isEmpty { continue }
            step()
        }
    }

    /// Sets up a job's choices: cached prompts start decoding at once, others join (or share) a prefill.
    private func admit(_ job: Job) {
        jobs[job.id] = job
        let spec = job.spec
        job.openChoices = spec.choiceCount
        for (p, prompt) in spec.prompts.enumerated() {
            job.promptTokens += prompt.count
            let choices = (0..<spec.n).map { i in
                Choice(job: job, index: p * spec.n + i, sampler: Sampler(spec.sampling, stream: UInt64(i)),
                       tokenizer: model.tokenizer)
            }
            if !spec.promptLogprobs, let hit = lookup(prompt) {
                if hit.tokens.count == prompt.count {
                    observer?.enginePrefill(computed: 0, reused: prompt.count)
                    for c in choices {
                        c.sequence = hit.sequence.fork()
                        if hit.lastLogits.withUnsafeBufferPointer({ accept(c, token: c.sampler.sample($0), row: $0) }) { decoding.append(c) }
                    }
                    continue
                }
                if let shared = prefills.first(where: { !$0.wantAll && $0.tokens == prompt }) {
                    shared.waiting += choices
                    continue
                }
                observer?.enginePrefill(computed: prompt.count - hit.tokens.count, reused: hit.tokens.count)
                let pf = Prefill(tokens: prompt, sequence: hit.sequence.fork(), fed: hit.tokens.count, wantAll: false,
                                 tokenizer: model.tokenizer)
                pf.waiting = choices
                prefills.append(pf)
                continue
            }
            if !spec.promptLogprobs, let shared = prefills.first(where: { !$0.wantAll && $0.tokens == prompt }) {
                shared.waiting += choices
                continue
            }
            observer?.enginePrefill(computed: prompt.count, reused: 0)
            let pf = Prefill(tokens: prompt, sequence: model.newSequence(), fed: 0, wantAll: spec.promptLogprobs,
                             tokenizer: model.tokenizer)
            pf.waiting = choices
            prefills.append(pf)
        }
    }

    private func lookup(_ tokens: [Int]) -> CacheEntry? {
        var best: Int? = nil
        for (i, e) in cache.enumerated() where e.tokens.count <= tokens.count {
            if e.tokens.count > (best.map { cache[$0].tokens.count } ?? 0) && tokens.starts(with: e.tokens) { best = i }
        }
        guard let b = best else { return nil }
        let e = cache.remove(at: b)
        cache.append(e)
        return e
    }

    private func remember(_ e: CacheEntry) {
        guard limits.prefixCacheEntries > 0 else { return }
        cache.removeAll { $0.tokens == e.tokens }
        cache.append(e)
        if cache.count > limits.prefixCacheEntries { cache.removeFirst(cache.count - limits.prefixCacheEntries) }
    }

    private enum Slot { case decode(Choice), prefill(Prefill, Range<Int>) }

    private func step() {
        var batch: [(sequence: KVSequence, tokens: [Int], logits: LogitRequest)] = []
        var slots: [Slot] = []
        for c in decoding {
            batch.append((c.sequence!, [c.next], .last))
            slots.append(.decode(c))
        }
        for p in prefills {
            let r = p.fed..<min(p.tokens.count, p.fed + max(1, limits.prefillChunk))
            let final = r.upperBound == p.tokens.count
            batch.append((p.sequence, Array(p.tokens[r]), p.wantAll ? .all : (final ? .last : .none)))
            slots.append(.prefill(p, r))
        }
        let t0 = Date()
        let logits: Logits
        do {
            // Decoding rows (first in the batch) only sample: wide groups of them may take 8-bit activations,
            // also in steps that prefill prompts. Prompt rows, whose keys and values the prompt cache keeps, and
            // steps with tokens whose logprobs a client asked for keep 16-bit ones, so reported logprobs are the
            // scoring path's.
            let eightBit = !decoding.contains { $0.job.spec.logprobs }
            logits = try model.forward(batch, activations: .int16, eightBitLeadingItems: eightBit ? decoding.count : 0)
        } catch {
            let e = EngineError(.internalError, "the forward pass failed: \(error)")
            for j in Array(jobs.values) { fail(j, e) }
            return
        }
        observer?.engineStep(rows: batch.count, decodeRows: decoding.count, tokens: batch.reduce(0) { $0 + $1.tokens.count },
                             seconds: Date().timeIntervalSince(t0))
        var stillDecoding: [Choice] = []
        var stillPrefilling: [Prefill] = []
        var started: [Choice] = []
        // The decoding choices' draws first, in parallel (each choice has its own sampler and RNG; decode
        // slots come first in `slots`), then their effects in order.
        var drawn = [Int](repeating: 0, count: decoding.count)
        let live = decoding
        drawn.withUnsafeMutableBufferPointer { out in
            model.pool.parallelFor(live.count) { k in
                let c = live[k]
                if !c.job.ended { out[k] = c.sampler.sample(logits.row(logits.rowsOfItem[k].lowerBound)) }
            }
        }
        for (k, slot) in slots.enumerated() {
            let rows = logits.rowsOfItem[k]
            switch slot {
            case .decode(let c):
                if c.job.ended { continue }
                if accept(c, token: drawn[k], row: logits.row(rows.lowerBound)) { stillDecoding.append(c) }
            case .prefill(let p, let r):
                p.fed = r.upperBound
                if p.wantAll {
                    for (j, row) in rows.enumerated() {
                        let pos = r.lowerBound + j  // row predicts token pos + 1
                        if pos == 0 { p.promptLogprobs.append(promptEntry(p, id: p.tokens[0], logprob: nil, row: nil)) }
                        if pos + 1 < p.tokens.count {
                            let id = p.tokens[pos + 1]
                            p.promptLogprobs.append(promptEntry(p, id: id, logprob: logProbability(of: id, in: logits.row(row)),
                                                                row: logits.row(row)))
                        }
                    }
                }
                guard p.fed == p.tokens.count else { stillPrefilling.append(p); continue }
                let last = logits.rowArray(rows.upperBound - 1)
                remember(CacheEntry(tokens: p.tokens, sequence: p.sequence, lastLogits: last))
                for c in p.waiting where !c.job.ended {
                    if p.wantAll { c.job.continuation.yield(.prompt(choice: c.index, tokens: p.promptLogprobs)) }
                    c.sequence = p.sequence.fork()
                    if last.withUnsafeBufferPointer({ accept(c, token: c.sampler.sample($0), row: $0) }) { started.append(c) }
                }
            }
        }
        decoding = stillDecoding.filter { !$0.job.ended } + started
        prefills = stillPrefilling.filter { p in p.waiting.contains { !$0.job.ended } }
    }

    private func promptEntry(_ p: Prefill, id: Int, logprob: Double?, row: UnsafeBufferPointer<Float>?) -> TokenLogprob {
        let text = p.pieces.feed(id)
        let top = row.map { topAlternatives($0, k: p.waiting.first?.job.spec.topLogprobs ?? 0) } ?? []
        return TokenLogprob(id: id, bytes: model.tokenizer.tokenBytes(id), text: text, logprob: logprob, top: top)
    }

    /// The `k` most likely tokens of a row with their log-probabilities.
    private func topAlternatives(_ row: UnsafeBufferPointer<Float>, k: Int) -> [TokenLogprob.Alternative] {
        guard k > 0 else { return [] }
        let best = Sampler.argmax(row)
        let lse = Double(row[best]) - logProbability(of: best, in: row)
        var top: [(Int, Float)] = []  // ascending by value, at most k
        for i in 0..<row.count {
            let v = row[i]
            if top.count < k || v > top[0].1 {
                var lo = 0, hi = top.count
                while lo < hi { let m = (lo + hi) / 2; if top[m].1 < v { lo = m + 1 } else { hi = m } }
                top.insert((i, v), at: lo)
                if top.count > k { top.removeFirst() }
            }
        }
        return top.reversed().map { .init(id: $0.0, bytes: model.tokenizer.tokenBytes($0.0), logprob: Double($0.1) - lse) }
    }

    /// Applies `tok`, choice `c`'s draw from `row` (its logits, for logprobs); returns whether the choice goes on.
    @discardableResult
    private func accept(_ c: Choice, token tok: Int, row: UnsafeBufferPointer<Float>) -> Bool {
        let job = c.job
        c.generated += 1
        job.completionTokens += 1
        var reason: FinishReason? = nil
        if model.tokenizer.isEndOfGeneration(tok) {
            reason = .stop
        } else {
            let piece = c.scanner.push(tok)
            var lp: TokenLogprob? = nil
            if job.spec.logprobs {
                let text = c.pieces.feed(tok)
                lp = TokenLogprob(id: tok, bytes: model.tokenizer.tokenBytes(tok), text: text,
                                  logprob: logProbability(of: tok, in: row), top: topAlternatives(row, k: job.spec.topLogprobs))
            }
            job.continuation.yield(.token(choice: c.index, text: piece, logprob: lp))
            if c.scanner.stopped { reason = .stop }
        }
        if reason == nil && (c.generated >= job.spec.maxTokens || c.sequence!.length + 1 > model.contextLimit) {
            reason = .length
        }
        guard let reason else { c.next = tok; return true }
        job.continuation.yield(.finished(choice: c.index, reason: reason, text: c.scanner.finish()))
        c.sequence = nil
        job.openChoices -= 1
        if job.openChoices == 0 {
            job.continuation.yield(.done(promptTokens: job.promptTokens, completionTokens: job.completionTokens))
            end(job)
        }
        return false
    }

    private func fail(_ job: Job, _ error: EngineError) {
        guard !job.ended else { return }
        job.continuation.yield(.failed(error))
        end(job)
        decoding.removeAll { $0.job === job }
        for p in prefills { p.waiting.removeAll { $0.job === job } }
        prefills.removeAll { $0.waiting.isEmpty }
    }

    private func end(_ job: Job) {
        job.ended = true
        job.continuation.finish()
        jobs[job.id] = nil
        cond.lock()
        activeChoices -= job.spec.choiceCount
        running -= 1
        let queued = queue.count, active = activeChoices
        cond.unlock()
        observer?.engineLoad(engine: ObjectIdentifier(self), queued: queued, activeChoices: active)
    }
}

/// Tracks one stream's text against stop strings, releasing only text that can no longer become part
/// of a stop string.
struct StopScanner {
    let stops: [String]
    var decoder: StreamingDecoder
    var text = ""
    var released = 0  // characters of `text` already handed out
    var stopped = false

    init(stops: [String], tokenizer: Tokenizer) {
        self.stops = stops.filter { !$0.isEmpty }
        decoder = StreamingDecoder(tokenizer: tokenizer)
    }

    /// Adds a token and returns the text that became final.
    mutating func push(_ id: Int) -> String {
        guard !stopped else { return "" }
        text += decoder.feed(id)
        var cut: String.Index? = nil
        for s in stops {
            if let r = text.range(of: s), cut == nil || r.lowerBound < cut! { cut = r.lowerBound }
        }
        if let cut {
            text = String(text[..<cut])
            stopped = true
            return take(upTo: text.count)
        }
        var hold = 0
        for s in stops {
            var k = min(s.count - 1, text.count)
            while k > hold {
                if text.hasSuffix(s.prefix(k)) { hold = k; break }
                k -= 1
            }
        }
        return take(upTo: text.count - hold)
    }

    /// The text still held back, at the end of the stream.
    mutating func finish() -> String {
        if !stopped { text += decoder.flush() }
        return take(upTo: text.count)
    }

    private mutating func take(upTo end: Int) -> String {
        guard end > released else { return "" }
        let a = text.index(text.startIndex, offsetBy: released)
        let b = text.index(a, offsetBy: end - released)
        released = end
        return String(text[a..<b])
    }
}
