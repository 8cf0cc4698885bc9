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

    deinit {
        for p in keys { p.deallocate() }
        for p in values { p.deallocate() }
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

    /// Bytes held by this sequence's own storage.
    public var ownBytes: Int { capacity * (kvDim + vDim) * layerCount * MemoryLayout<Float>.size }

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
        out.append(Segment(keys: keys[layer] + off * kvDim, values: values[layer] + off * vDim, start: lo, count: to - lo))
    }
}
