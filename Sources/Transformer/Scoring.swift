import Foundation
import Kernels

/// Per-token log-probabilities of one continuation.
public struct ContinuationScore: Sendable, Codable, Equatable {
    public var tokens: [Int]
    /// Natural-log probability of each token given everything before it.
    public var logProbs: [Double]
    public var sum: Double { logProbs.reduce(0, +) }
    public var mean: Double { logProbs.isEmpty ? 0 : sum / Double(logProbs.count) }
}

/// log p(id | row) for one row of logits: logit − log Σ exp(logits), with SIMD exponentials summed in
/// eight float lanes and combined in double precision.
public func logProbability(of id: Int, in row: UnsafeBufferPointer<Float>) -> Double {
    let n = row.count
    let p = row.baseAddress!
    var mv = SIMD8<Float>(repeating: -.infinity)
    var i = 0
    while i + 8 <= n { mv = pointwiseMax(mv, UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)); i += 8 }
    var m = mv.max()
    while i < n { m = max(m, p[i]); i += 1 }
    let vm = SIMD8<Float>(repeating: m)
    var acc = SIMD8<Float>()
    i = 0
    while i + 8 <= n { acc += vexp(UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self) - vm); i += 8 }
    var s: Double = 0
    for l in 0..<8 { s += Double(acc[l]) }
    while i < n { s += Double(expf(p[i] - m)); i += 1 }
    return Double(p[id] - m) - log(s)
}

extension Model {
    /// Scores several continuations of one prompt: the prompt runs once, each continuation forks from
    /// its cache, and the output head runs only at positions whose next token is scored. Continuations
    /// run in batched passes of at most `maxBatchTokens` tokens.
    ///
    /// With an empty prompt the first token of each continuation has no context and is not scored.
    public func score(promptTokens: [Int], continuations: [[Int]], maxBatchTokens: Int = 1024) throws -> [ContinuationScore] {
        var results = continuations.map { ContinuationScore(tokens: $0, logProbs: []) }
        var prompt = newSequence()
        var lastRow: [Float]? = nil
        if !promptTokens.isEmpty {
            let cached = try prefill(promptTokens)
            prompt = cached.sequence
            lastRow = cached.lastLogits
        }
        // Tokens each continuation must feed: all but its last (whose successor is not scored).
        var pending = Array(continuations.indices)
        while !pending.isEmpty {
            var batch: [Int] = []
            var tokens = 0
            while let i = pending.first {
                let n = max(0, continuations[i].count - 1)
                if !batch.isEmpty && tokens + n > maxBatchTokens { break }
                batch.append(i); tokens += n; pending.removeFirst()
            }
            let forks = batch.map { _ in prompt.fork() }
            let feed = batch.map { Array(continuations[$0].dropLast()) }
            let logits = try forward(zip(forks, feed).map { ($0, $1, LogitRequest.all) })
            for (j, i) in batch.enumerated() {
                let cont = continuations[i]
                guard !cont.isEmpty else { continue }
                var lps: [Double] = []
                if let first = lastRow {
                    lps.append(first.withUnsafeBufferPointer { logProbability(of: cont[0], in: $0) })
                }
                let rows = logits.rowsOfItem[j]
                for (r, row) in rows.enumerated() {
                    lps.append(logProbability(of: cont[r + 1], in: logits.row(row)))
                }
                results[i].logProbs = lps
            }
        }
        return results
    }

    /// Teacher-forced log-probabilities of every token of `tokens` after the first, with the argmax
    /// prediction at every position (for checking an engine against a reference).
    public func teacherForced(_ tokens: [Int]) throws -> (logProbs: [Double], argmax: [Int], lastLogits: [Float]) {
        guard !tokens.isEmpty else { return ([], [], []) }
        let seq = newSequence()
        let logits = try forward([(seq, tokens, .all)])
        var lps: [Double] = []
        var am: [Int] = []
        for r in 0..<tokens.count {
            let row = logits.row(r)
            am.append(Sampler.argmax(row))
            if r + 1 < tokens.count { lps.append(logProbability(of: tokens[r + 1], in: row)) }
        }
        return (lps, am, logits.rowArray(tokens.count - 1))
    }
}
