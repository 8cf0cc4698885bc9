import Kernels

/// The key/value cache of one token sequence.
///
/// Prefix sharing: `fork()` makes a child that reads its parent's first `parentLength` positions in place
/// and stores only its own continuation. One long scenario prompt is computed once; many samples or
/// candidate continuations then fork from it, each paying only for its own tokens. A parent may keep
/// growing after a fork: the child only ever reads the prefix it forked from.
///
/// Layout (own storage, per layer): keys `[capacity][kvDim]` and values `[capacity][vDim]`, fp32,
/// row `i` holding absolute position `parentLength + i`.
public final class KVSequence: @unchecked Sendable {
    public let parent: KVSequence?
    /// Positions read from the parent.
    public let parentLength: Int
    /// Total positions held (parent prefix plus own).
    public internal(set) var length: Int
    /// The tokens of this sequence's own part, in order.
    public internal(set) var ownTokens: [Int] = []
    let layerCount: Int
    let kvDim: Int
    let vDim: Int
    var capacity = 0
    var keys: [UnsafeMutablePointer<Float>] = []
    var values: [UnsafeMutablePointer<Float>] = []

    init(layerCount: Int, kvDim: Int, vDim: Int, parent: KVSequence? = nil) {
        self.parent = parent
        self.parentLength = parent?.length ?? 0
        self.length = parentLength
        self.layerCount = layerCount
        self.kvDim = kvDim
        self.vDim = vDim
    }

    /// Per layer, at most one run of this sequence's own positions packed for `sgemmPackedB` (see `PackedRun`).
    var packedRuns: [PackedRun?] = []

    deinit {
        for p in keys { p.deallocate() }
        for p in values { p.deallocate() }
    }

    /// A run of cached positions of one layer, packed once for the shared-prefix GEMMs of every stream that
    /// forked from it (`SharedPrefixGroup`): per KV head, the keys as op(B) of scores = Q·Kᵀ and the values as
    /// op(B) of out = P·V. Positions never change once written, so a run stays valid for the sequence's life.
    final class PackedRun {
        let start: Int, count: Int, kvHeads: Int
        let keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>
        /// Floats per KV head in `keys` and in `values`.
        let keyStride: Int, valueStride: Int
        /// Floats between column panels of a head's packed values (`sgemmPackedB`'s `panelStride`).
        var valuePanelStride: Int { packedBPanelStride(k: count) }

        init(_ seg: Segment, kvHeads: Int, headDim: Int, valueHeadDim: Int, kvDim: Int, vDim: Int) {
            start = seg.start
            count = seg.count
            self.kvHeads = kvHeads
            keyStride = packedBCount(k: headDim, n: seg.count)
            valueStride = packedBCount(k: seg.count, n: valueHeadDim)
            keys = .allocate(capacity: kvHeads * keyStride)
            values = .allocate(capacity: kvHeads * valueStride)
            for h in 0..<kvHeads {
                packBPanels(transB: true, b: seg.keys + h * headDim, ldb: kvDim, k: headDim, n: seg.count, into: keys + h * keyStride)
                packBPanels(transB: false, b: seg.values + h * valueHeadDim, ldb: vDim, k: seg.count, n: valueHeadDim,
                            into: values + h * valueStride)
            }
        }

        var bytes: Int { kvHeads * (keyStride + valueStride) * MemoryLayout<Float>.size }

        deinit {
            keys.deallocate()
            values.deallocate()
        }
    }

    /// A packed copy covering `seg` (a run of this sequence's own positions in `layer`), made on first use; a
    /// longer run from the same start serves it too (its first `seg.count` positions). A layer keeps one run:
    /// asking for one it does not cover replaces it.
    func packedRun(_ seg: Segment, layer: Int, kvHeads: Int, headDim: Int, valueHeadDim: Int) -> PackedRun {
        if packedRuns.count < layerCount { packedRuns = Array(repeating: nil, count: layerCount) }
        if let p = packedRuns[layer], p.start == seg.start, p.count >= seg.count { return p }
        let p = PackedRun(seg, kvHeads: kvHeads, headDim: headDim, valueHeadDim: valueHeadDim, kvDim: kvDim, vDim: vDim)
        packedRuns[layer] = p
        return p
    }

    /// A new sequence that continues from this one's current contents without copying them.
    public func fork() -> KVSequence {
        KVSequence(layerCount: layerCount, kvDim: kvDim, vDim: vDim, parent: self)
    }

    /// All tokens from the root, in order.
    public var tokens: [Int] {
        guard let parent else { return ownTokens }
        return Array(parent.tokens.prefix(parentLength)) + ownTokens
    }

    /// Bytes held by this sequence's own storage (with the packed runs made for streams forked from it).
    public var ownBytes: Int {
        capacity * (kvDim + vDim) * layerCount * MemoryLayout<Float>.size + packedRuns.reduce(0) { $0 + ($1?.bytes ?? 0) }
    }

    /// Makes room for `extra` more own positions, growing geometrically.
    func reserve(_ extra: Int) {
        let ownLength = length - parentLength
        let needed = ownLength + extra
        guard needed > capacity else { return }
        let newCapacity = max(needed, capacity * 2, 16)
        for l in 0..<layerCount {
            let nk = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * kvDim)
            let nv = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * vDim)
            if capacity > 0 {
                nk.update(from: keys[l], count: ownLength * kvDim)
                nv.update(from: values[l], count: ownLength * vDim)
                keys[l].deallocate()
                values[l].deallocate()
                keys[l] = nk
                values[l] = nv
            } else {
                keys.append(nk)
                values.append(nv)
            }
        }
        capacity = newCapacity
    }

    /// A contiguous run of cached positions.
    struct Segment {
        /// The sequence whose own storage holds the run.
        var owner: KVSequence
        var keys: UnsafeMutablePointer<Float>
        var values: UnsafeMutablePointer<Float>
        /// Absolute position of the first row.
        var start: Int
        var count: Int
    }

    /// The runs covering positions `[from, to)` of layer `layer`, oldest first.
    func segments(layer: Int, from: Int, to: Int) -> [Segment] {
        var out: [Segment] = []
        collect(layer: layer, from: from, to: to, into: &out)
        return out
    }

    private func collect(layer: Int, from: Int, to: Int, into out: inout [Segment]) {
        if let parent, from < parentLength {
            parent.collect(layer: layer, from: from, to: min(to, parentLength), into: &out)
        }
        let lo = max(from, parentLength)
        guard to > lo else { return }
        let off = lo - parentLength
        out.append(Segment(owner: self, keys: keys[layer] + off * kvDim, values: values[layer] + off * vDim, start: lo, count: to - lo))
    }
}
