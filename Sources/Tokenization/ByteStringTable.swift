/// An interning table of byte strings: each distinct byte string gets a dense id (0, 1, 2, ...)
/// in insertion order. Lookups hash raw bytes in place, so no `String` is built on the hot path.
///
/// All strings live in one contiguous byte buffer; the hash index is open addressing with
/// linear probing over a power-of-two slot array.
struct ByteStringTable {
    private(set) var storage: [UInt8] = []
    private(set) var offsets: [Int32] = [0]
    /// 0 for an empty slot, else `hash << 32 | (id + 1)`; keeping the hash in the slot makes a
    /// miss or a mismatch cost one cache line.
    private var slots: [UInt64]
    private var mask: Int

    /// Number of interned strings.
    var count: Int { offsets.count - 1 }

    init(capacity: Int) {
        var n = 16
        while n < capacity * 2 { n <<= 1 }
        slots = [UInt64](repeating: 0, count: n)
        mask = n - 1
        offsets.reserveCapacity(capacity + 1)
        storage.reserveCapacity(capacity * 8)
    }

    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt32 {
        // FNV-1a, 32-bit, seeded with the length, then an avalanche step so that the low bits
        // used for the slot index are well mixed.
        var h: UInt32 = 2_166_136_261 ^ UInt32(truncatingIfNeeded: n)
        var i = 0
        while i < n {
            h = (h ^ UInt32(p[i])) &* 16_777_619
            i += 1
        }
        h ^= h >> 15
        h = h &* 0x2C1B_3C6D
        h ^= h >> 12
        return h
    }

    @inline(__always)
    private func probe(_ p: UnsafePointer<UInt8>, _ n: Int, _ h: UInt32) -> (id: Int32, slot: Int) {
        storage.withUnsafeBufferPointer { st in
            offsets.withUnsafeBufferPointer { off in
                slots.withUnsafeBufferPointer { sl in
                    var i = Int(h) & mask
                    while true {
                        let s = sl[i]
                        if s == 0 { return (-1, i) }
                        if UInt32(truncatingIfNeeded: s >> 32) == h {
                            let id = Int(UInt32(truncatingIfNeeded: s)) - 1
                            let a = Int(off[id]), b = Int(off[id + 1])
                            if b - a == n {
                                var k = 0
                                while k < n && st[a + k] == p[k] { k += 1 }
                                if k == n { return (Int32(id), i) }
                            }
                        }
                        i = (i + 1) & mask
                    }
                }
            }
        }
    }

    /// The id of the byte string at `p[0..<n]`, or -1 if absent.
    @inline(__always)
    func find(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int32 {
        probe(p, n, ByteStringTable.hash(p, n)).id
    }

    /// The id of `bytes`, or -1 if absent.
    func find(_ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBufferPointer { b in
            guard let base = b.baseAddress else {
                var z: UInt8 = 0
                return withUnsafePointer(to: &z) { find($0, 0) }
            }
            return find(base, b.count)
        }
    }

    /// Interns `p[0..<n]`; returns its id and whether it was newly inserted.
    @discardableResult
    mutating func insert(_ p: UnsafePointer<UInt8>, _ n: Int) -> (id: Int32, inserted: Bool) {
        if (count + 1) * 2 > slots.count { grow() }
        let h = ByteStringTable.hash(p, n)
        let (existing, slot) = probe(p, n, h)
        if existing >= 0 { return (existing, false) }
        let id = Int32(count)
        storage.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
        offsets.append(Int32(storage.count))
        slots[slot] = UInt64(h) << 32 | UInt64(id + 1)
        return (id, true)
    }

    @discardableResult
    mutating func insert(_ bytes: [UInt8]) -> (id: Int32, inserted: Bool) {
        bytes.withUnsafeBufferPointer { b in
            if let base = b.baseAddress { return insert(base, b.count) }
            var z: UInt8 = 0
            return withUnsafePointer(to: &z) { insert($0, 0) }
        }
    }

    /// Interns many strings at once into an empty table, giving string `i` the id `i`.
    ///
    /// Slots are filled in order of their home slot, so the hash index is written almost
    /// sequentially instead of with one cache miss per string (this matters for 262k-token
    /// vocabularies). Returns the first pair of equal strings found, if any (the table is then
    /// unusable).
    mutating func bulkInsert(_ strings: [String]) -> (first: Int, second: Int)? {
        precondition(count == 0, "bulkInsert needs an empty table")
        let n = strings.count
        while n * 2 > slots.count { grow() }
        for str in strings {
            var s = str
            s.withUTF8 { storage.append(contentsOf: $0) }
            offsets.append(Int32(storage.count))
        }
        var hashes = [UInt32](repeating: 0, count: n)
        storage.withUnsafeBufferPointer { st in
            let base = st.baseAddress ?? UnsafePointer(bitPattern: 1)!
            for i in 0..<n {
                let a = Int(offsets[i])
                hashes[i] = ByteStringTable.hash(base + a, Int(offsets[i + 1]) - a)
            }
        }
        // counting sort of ids by home slot (top bits)
        let bucketBits = 12
        let totalBits = mask.nonzeroBitCount
        let shift = max(0, totalBits - bucketBits)
        let nb = 1 << min(bucketBits, totalBits)
        var counts = [Int](repeating: 0, count: nb + 1)
        for h in hashes { counts[((Int(h) & mask) >> shift) + 1] += 1 }
        for b in 0..<nb { counts[b + 1] += counts[b] }
        var order = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            let b = (Int(hashes[i]) & mask) >> shift
            order[counts[b]] = Int32(i)
            counts[b] += 1
        }
        var dup: (Int, Int)? = nil
        storage.withUnsafeBufferPointer { st in
            offsets.withUnsafeBufferPointer { off in
                slots.withUnsafeMutableBufferPointer { sl in
                    for id32 in order {
                        let id = Int(id32)
                        let h = hashes[id]
                        let a = Int(off[id]), len = Int(off[id + 1]) - a
                        var i = Int(h) & mask
                        while true {
                            let sv = sl[i]
                            if sv == 0 {
                                sl[i] = UInt64(h) << 32 | UInt64(id + 1)
                                break
                            }
                            if UInt32(truncatingIfNeeded: sv >> 32) == h {
                                let other = Int(UInt32(truncatingIfNeeded: sv)) - 1
                                let oa = Int(off[other])
                                if Int(off[other + 1]) - oa == len {
                                    var k = 0
                                    while k < len && st[oa + k] == st[a + k] { k += 1 }
                                    if k == len {
                                        // equal strings: the lowest id is the one found
                                        if dup == nil { dup = (min(id, other), max(id, other)) }
                                        if id < other { sl[i] = UInt64(h) << 32 | UInt64(id + 1) }
                                        break
                                    }
                                }
                            }
                            i = (i + 1) & mask
                        }
                    }
                }
            }
        }
        return dup
    }

    /// Looks up many byte strings (`buf[start..<start+len]` for each range) at once, probing the
    /// hash index in slot order so that big tables are walked nearly sequentially. -1 marks absent strings.
    func bulkFind(_ buf: UnsafeBufferPointer<UInt8>, _ starts: [Int32], _ lens: [Int32]) -> [Int32] {
        let m = starts.count
        var result = [Int32](repeating: -1, count: m)
        guard m > 0, let base = buf.baseAddress else { return result }
        var hashes = [UInt32](repeating: 0, count: m)
        for i in 0..<m { hashes[i] = ByteStringTable.hash(base + Int(starts[i]), Int(lens[i])) }
        let bucketBits = 12
        let totalBits = mask.nonzeroBitCount
        let shift = max(0, totalBits - bucketBits)
        let nb = 1 << min(bucketBits, totalBits)
        var counts = [Int](repeating: 0, count: nb + 1)
        for h in hashes { counts[((Int(h) & mask) >> shift) + 1] += 1 }
        for b in 0..<nb { counts[b + 1] += counts[b] }
        var order = [Int32](repeating: 0, count: m)
        for i in 0..<m {
            let b = (Int(hashes[i]) & mask) >> shift
            order[counts[b]] = Int32(i)
            counts[b] += 1
        }
        for q in order {
            let i = Int(q)
            result[i] = probe(base + Int(starts[i]), Int(lens[i]), hashes[i]).id
        }
        return result
    }

    private mutating func grow() {
        let n = slots.count * 2
        var newSlots = [UInt64](repeating: 0, count: n)
        let m = n - 1
        for s in slots where s != 0 {
            var i = Int(UInt32(truncatingIfNeeded: s >> 32)) & m
            while newSlots[i] != 0 { i = (i + 1) & m }
            newSlots[i] = s
        }
        slots = newSlots
        mask = m
    }

    /// The bytes of string `id`.
    func bytes(_ id: Int) -> ArraySlice<UInt8> {
        storage[Int(offsets[id])..<Int(offsets[id + 1])]
    }

    /// Byte length of string `id`.
    @inline(__always)
    func length(_ id: Int) -> Int { Int(offsets[id + 1] - offsets[id]) }
}
