/// A fragment of text after special-token partitioning: either a special token or a raw byte range.
struct Fragment {
    /// The special token id, or -1 for raw text.
    var token: Int32
    var start: Int
    var length: Int
}

/// Cuts special tokens out of text the way llama.cpp's `tokenizer_st_partition` does: special
/// tokens are taken longest first, and for each one every remaining raw fragment is split at each
/// of its occurrences, left to right.
///
/// To avoid scanning the text once per special token (Gemma has thousands), a byte trie first finds
/// which special tokens occur anywhere in the text; only those take part in the partition, which
/// gives the same result because partitioning never creates text that was not in the input.
struct SpecialMatcher {
    private var rootChild = [Int32](repeating: -1, count: 256)
    private var edges: [UInt64: Int32] = [:]
    private var terminal: [Int32] = [-1]   // node → token id (or -1); node 0 is the root
    private var tokenBytes: [Int32: [UInt8]] = [:]
    private var attrs: [UInt8]
    /// Whether any user-defined token exists (those are cut out even without `parseSpecial`).
    let hasUserDefined: Bool
    let isEmpty: Bool

    init(ids: [Int32], table: ByteStringTable, attrs: [UInt8]) {
        self.attrs = attrs
        var anyUser = false
        for id in ids {
            let bytes = Array(table.bytes(Int(id)))
            if bytes.isEmpty { continue }
            tokenBytes[id] = bytes
            if attrs[Int(id)] & Tokenizer.attrUserDefined != 0 { anyUser = true }
            var node: Int32 = 0
            for (k, b) in bytes.enumerated() {
                if k == 0 {
                    if rootChild[Int(b)] < 0 {
                        rootChild[Int(b)] = Int32(terminal.count)
                        terminal.append(-1)
                    }
                    node = rootChild[Int(b)]
                } else {
                    let key = UInt64(UInt32(node)) << 8 | UInt64(b)
                    if let c = edges[key] {
                        node = c
                    } else {
                        let c = Int32(terminal.count)
                        terminal.append(-1)
                        edges[key] = c
                        node = c
                    }
                }
            }
            if terminal[Int(node)] < 0 { terminal[Int(node)] = id }
        }
        hasUserDefined = anyUser
        isEmpty = tokenBytes.isEmpty
    }

    @inline(__always)
    private func allowed(_ id: Int32, parseSpecial: Bool) -> Bool {
        // without parseSpecial only user-defined tokens are cut out
        parseSpecial || attrs[Int(id)] & (Tokenizer.attrControl | Tokenizer.attrUnknown) == 0
    }

    /// Partitions `p[0..<n]` into special tokens and raw fragments.
    func partition(_ p: UnsafePointer<UInt8>, _ n: Int, parseSpecial: Bool) -> [Fragment] {
        let whole = [Fragment(token: -1, start: 0, length: n)]
        if isEmpty || (!parseSpecial && !hasUserDefined) { return whole }
        // which special tokens occur at all?
        var found = Set<Int32>()
        rootChild.withUnsafeBufferPointer { root in
            for i in 0..<n {
                var node = root[Int(p[i])]
                if node < 0 { continue }
                var j = i + 1
                while true {
                    let t = terminal[Int(node)]
                    if t >= 0 && allowed(t, parseSpecial: parseSpecial) { found.insert(t) }
                    if j >= n { break }
                    guard let c = edges[UInt64(UInt32(node)) << 8 | UInt64(p[j])] else { break }
                    node = c
                    j += 1
                }
            }
        }
        if found.isEmpty { return whole }
        let order = found.sorted { a, b in
            let la = tokenBytes[a]!.count, lb = tokenBytes[b]!.count
            return la != lb ? la > lb : a < b
        }
        var frags = whole
        for id in order {
            let tb = tokenBytes[id]!
            let L = tb.count
            var next: [Fragment] = []
            next.reserveCapacity(frags.count + 4)
            for f in frags {
                if f.token >= 0 { next.append(f); continue }
                var base = f.start
                let end = f.start + f.length
                while true {
                    let m = SpecialMatcher.find(tb, in: p, from: base, to: end)
                    if m < 0 {
                        if end > base { next.append(Fragment(token: -1, start: base, length: end - base)) }
                        break
                    }
                    if m > base { next.append(Fragment(token: -1, start: base, length: m - base)) }
                    next.append(Fragment(token: id, start: m, length: L))
                    base = m + L
                    if base >= end { break }
                }
            }
            frags = next
        }
        return frags
    }

    /// First index ≥ `from` where `needle` occurs entirely before `to`, or -1.
    static func find(_ needle: [UInt8], in p: UnsafePointer<UInt8>, from: Int, to: Int) -> Int {
        let L = needle.count
        if L == 0 || to - from < L { return -1 }
        let first = needle[0]
        var i = from
        let last = to - L
        while i <= last {
            if p[i] == first {
                var k = 1
                while k < L && p[i + k] == needle[k] { k += 1 }
                if k == L { return i }
            }
            i += 1
        }
        return -1
    }
}
