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

/// log p(id | row) for one row of logits: logit − log Σ exp(logits) (`Kernels.logSumExp`: SIMD exponentials
/// in fp32 lanes, combined in double precision).
public func logProbability(of id: Int, in row: UnsafeBufferPointer<Float>) -> Double {
    Double(row[id]) - logSumExp(row.baseAddress!, count: row.count)
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
        let n = tokens.count
        var lps = [Double](repeating: 0, count: n - 1)
        var am = [Int](repeating: 0, count: n)
        // Rows are independent: split them over the pool.
        lps.withUnsafeMutableBufferPointer { lp in
            am.withUnsafeMutableBufferPointer { a in
                pool.parallelForRanges(n) { range in
                    for r in range {
                        let row = logits.row(r)
                        // One pass finds the argmax and the largest logit, which the log-sum-exp then reuses.
                        let (at, top) = argmax(row.baseAddress!, count: row.count)
                        a[r] = at
                        if r + 1 < n {
                            lp[r] = Double(row[tokens[r + 1]]) - logSumExp(row.baseAddress!, count: row.count, max: top.isFinite ? top : nil)
                        }
                    }
                }
            }
        }
        return (lps, am, logits.rowArray(n - 1))
    }
}
