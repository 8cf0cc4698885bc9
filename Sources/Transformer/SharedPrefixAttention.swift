import Kernels

/// The first cached position a query at `position` attends to: 0, or on a sliding-window layer the start of
/// its window of `window` positions (itself included).
@inline(__always) func firstVisiblePosition(_ position: Int, window: Int?) -> Int {
    guard let w = window else { return 0 }
    return max(0, position - w + 1)
}

/// Decoding streams forked from one prompt, attending over it together.
///
/// When many one-token items share the first run of their caches (the prompt they forked from), each
/// stream's query heads would otherwise walk the same keys and values on their own: a dot product per
/// key, per stream. Stacked, the group's queries for one KV head form a matrix, and the shared part
/// becomes two GEMMs, scores = Q·Kᵀ and out = P·V, which run near the machine's peak. Only each
/// stream's own positions (its sampled tokens) still go through the per-row kernels. The softmax is
/// over each row's full width (shared plus own), so the result equals the per-stream path up to fp32
/// summation order.
struct SharedPrefixGroup {
    /// The run of cached positions every member reads first; it starts at their first visible position.
    let prefix: KVSequence.Segment
    struct Member {
        /// The member's index in the batch, and its (single) row in the batch's activations.
        var item: Int
        var row0: Int
        /// Its remaining cache runs, after `prefix`.
        var rest: [KVSequence.Segment]
        /// Visible positions after `prefix`.
        var restCount: Int
    }
    var members: [Member]
    /// The prefix's keys and values packed for the GEMMs (`preparePacked`), when its run starts where its owner's
    /// own positions start; else each unit packs them as it goes (a sliding window that cut into the run).
    var packed: KVSequence.PackedRun?

    /// Shared runs shorter than this stay on the per-stream path (the GEMMs' packing would not pay).
    static let minimumShared = 16

    /// Splits one-token items into groups that share a first cache run (two members or more) and the
    /// items left to run alone.
    static func partition(_ decoding: [(item: Int, row0: Int)],
                          batch: [(sequence: KVSequence, tokens: [Int], logits: LogitRequest)],
                          layer: Int, window: Int?) -> (groups: [SharedPrefixGroup], alone: [(item: Int, row0: Int)]) {
        guard decoding.count >= 2 else { return ([], decoding) }
        struct Key: Hashable { var keys: UnsafeMutablePointer<Float>; var start: Int; var count: Int }
        var index: [Key: Int] = [:]
        var groups: [SharedPrefixGroup] = []
        var alone: [(item: Int, row0: Int)] = []
        for d in decoding {
            let seq = batch[d.item].sequence
            let p0 = seq.length
            let lo = firstVisiblePosition(p0, window: window)
            let segs = seq.segments(layer: layer, from: lo, to: p0 + 1)
            guard segs.count >= 2, segs[0].count >= minimumShared else { alone.append(d); continue }
            let first = segs[0]
            let key = Key(keys: first.keys, start: first.start, count: first.count)
            let rest = Array(segs.dropFirst())
            let member = Member(item: d.item, row0: d.row0, rest: rest, restCount: rest.reduce(0) { $0 + $1.count })
            if let g = index[key] {
                groups[g].members.append(member)
            } else {
                index[key] = groups.count
                groups.append(SharedPrefixGroup(prefix: first, members: [member]))
            }
        }
        // A "group" of one gains nothing: it runs alone.
        for g in groups where g.members.count < 2 { alone += g.members.map { ($0.item, $0.row0) } }
        return (groups.filter { $0.members.count >= 2 }, alone)
    }

    /// Finds or makes the owner's packed copy of the prefix (see `packed`). Called before the parallel units run.
    mutating func preparePacked(layer: Int, config c: ModelConfig) {
        let owner = prefix.owner
        guard prefix.start == owner.parentLength else { packed = nil; return }
        packed = owner.packedRun(prefix, layer: layer, kvHeads: c.kvHeadCount, headDim: c.headDim, valueHeadDim: c.valueHeadDim)
    }

    /// Work units: (group, KV head, a slice of the group's members), enough of them to keep every thread
    /// busy while each GEMM keeps a useful number of rows.
    static func units(_ groups: [SharedPrefixGroup], kvHeads: Int,
                      threads: Int) -> [(group: Int, kvHead: Int, streams: Range<Int>)] {
        var out: [(group: Int, kvHead: Int, streams: Range<Int>)] = []
        for (gi, g) in groups.enumerated() {
            let n = g.members.count
            let slices = max(1, min(n, (2 * threads + kvHeads - 1) / kvHeads))
            for h in 0..<kvHeads {
                for s in 0..<slices {
                    let a = s * n / slices, b = (s + 1) * n / slices
                    if b > a { out.append((gi, h, a..<b)) }
                }
            }
        }
        return out
    }

    /// Attention of `streams` members' query heads on KV head `kvHead`, written to their rows of `out`.
    /// Single-threaded (one unit of a parallel loop).
    func attend(kvHead: Int, streams: Range<Int>, config c: ModelConfig, q: UnsafeMutablePointer<Float>,
                out: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let group = c.headsPerKVHead
        let hd = c.headDim, vhd = c.valueHeadDim
        let outStride = c.headCount * vhd
        let n = streams.count
        let rows = n * group
        let shared = prefix.count
        var widest = 0
        for i in streams { widest = max(widest, members[i].restCount) }
        let ld = shared + widest
        let qs = UnsafeMutablePointer<Float>.allocate(capacity: rows * hd)
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: rows * ld)
        let o = UnsafeMutablePointer<Float>.allocate(capacity: rows * vhd)
        defer { qs.deallocate(); scores.deallocate(); o.deallocate() }
        // Gather: row (stream i, head j) of the stacked queries.
        for (i, m) in streams.enumerated() {
            let src = q + members[m].row0 * c.qDim + kvHead * group * hd
            (qs + i * group * hd).update(from: src, count: group * hd)
        }
        if let p = packed {
            sgemmPackedB(m: rows, n: shared, k: hd, alpha: c.attentionScale, a: qs, lda: hd,
                         packedB: p.keys + kvHead * p.keyStride, c: scores, ldc: ld)
        } else {
            sgemm(transA: false, transB: true, m: rows, n: shared, k: hd, alpha: c.attentionScale,
                  a: qs, lda: hd, b: prefix.keys + kvHead * hd, ldb: c.kvDim, beta: 0, c: scores, ldc: ld, pool: pool)
        }
        for (i, m) in streams.enumerated() {
            let member = members[m]
            let base = scores + i * group * ld
            for sg in member.rest {
                attentionScores(q: qs + i * group * hd, qStride: hd, rows: group, headDim: hd,
                                keys: sg.keys + kvHead * hd, keyStride: c.kvDim, count: sg.count,
                                scale: c.attentionScale, into: base + (sg.start - prefix.start), ldScores: ld)
            }
            for r in 0..<group { _ = softmax(base + r * ld, count: shared + member.restCount) }
        }
        if let p = packed {
            sgemmPackedB(m: rows, n: vhd, k: shared, a: scores, lda: ld, packedB: p.values + kvHead * p.valueStride,
                         panelStride: p.valuePanelStride, c: o, ldc: vhd)
        } else {
            sgemm(transA: false, transB: false, m: rows, n: vhd, k: shared, a: scores, lda: ld,
                  b: prefix.values + kvHead * vhd, ldb: c.vDim, beta: 0, c: o, ldc: vhd, pool: pool)
        }
        for (i, m) in streams.enumerated() {
            let member = members[m]
            for sg in member.rest {
                attentionWeightedSum(weights: scores + i * group * ld + (sg.start - prefix.start), ldWeights: ld, rows: group,
                                     values: sg.values + kvHead * vhd, valueStride: c.vDim, count: sg.count,
                                     valueDim: vhd, into: o + i * group * vhd, outStride: vhd, accumulate: true)
            }
            // Scatter: the member's heads of this KV head, in its output row.
            let dst = out + member.row0 * outStride + kvHead * group * vhd
            dst.update(from: o + i * group * vhd, count: group * vhd)
        }
    }
}
