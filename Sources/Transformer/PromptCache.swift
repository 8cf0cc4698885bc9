import Foundation

/// Recently computed prompts, so that requests sharing a prompt (a scenario scored and then sampled,
/// many samples of one scenario) compute it once. A cached sequence is never appended to: users fork it.
final class PromptCache: @unchecked Sendable {
    struct Entry {
        var tokens: [Int]
        var sequence: KVSequence
        var lastLogits: [Float]
    }
    private var entries: [Entry] = []
    private let lock = NSLock()
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// The entry whose tokens are the longest prefix of `tokens`, most recent first on ties.
    func longestPrefix(of tokens: [Int]) -> Entry? {
        lock.lock(); defer { lock.unlock() }
        var best: (index: Int, length: Int)? = nil
        for (i, e) in entries.enumerated().reversed() where e.tokens.count <= tokens.count {
            if e.tokens.count > (best?.length ?? 0) && tokens.starts(with: e.tokens) { best = (i, e.tokens.count) }
        }
        guard let b = best else { return nil }
        let e = entries.remove(at: b.index)
        entries.append(e)
        return e
    }

    func insert(_ e: Entry) {
        lock.lock(); defer { lock.unlock() }
        entries.removeAll { $0.tokens == e.tokens }
        entries.append(e)
        if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
    }

    func removeAll() { lock.lock(); entries.removeAll(); lock.unlock() }
}

extension Model {
    /// A sequence holding `tokens` and the logits after its last token, reusing a cached prompt when one
    /// is a prefix of `tokens` (only the rest is computed). Fork the returned sequence; never extend it.
    public func prefill(_ tokens: [Int]) throws -> (sequence: KVSequence, lastLogits: [Float]) {
        guard !tokens.isEmpty else { throw ModelError.invalidArgument("the prompt has no tokens") }
        if let hit = promptCache.longestPrefix(of: tokens) {
            if hit.tokens.count == tokens.count { return (hit.sequence, hit.lastLogits) }
            let child = hit.sequence.fork()
            let logits = try forward([(child, Array(tokens[hit.tokens.count...]), .last)])
            let entry = PromptCache.Entry(tokens: tokens, sequence: child, lastLogits: logits.rowArray(0))
            promptCache.insert(entry)
            return (child, entry.lastLogits)
        }
        let seq = newSequence()
        let logits = try forward([(seq, tokens, .last)])
        let entry = PromptCache.Entry(tokens: tokens, sequence: seq, lastLogits: logits.rowArray(0))
        promptCache.insert(entry)
        return (seq, entry.lastLogits)
    }

    /// Drops every cached prompt (frees their memory).
    public func clearPromptCache() { promptCache.removeAll() }
}
