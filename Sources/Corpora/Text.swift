/// A token counter: the number of tokens a text occupies under some tokenizer.
public typealias TokenCounter = (String) -> Int

/// Fast text primitives shared by statistics, deduplication and the leakage guard.
public enum TextTools {
    /// The default token-count approximation, used when no tokenizer is supplied: every maximal run of letters,
    /// digits and apostrophes counts as one token, plus one per further 8 characters of that run (long words
    /// split into several BPE pieces), and every other non-space character (punctuation, symbols) counts as one.
    /// Any byte ≥ 0x80 is treated as a letter. On English prose this is within ~15% of GPT-2-style BPE counts.
    public static func approximateTokenCount(_ text: String) -> Int {
        var count = 0
        var run = 0
        var s = text
        s.withUTF8 { buf in
            for b in buf {
                if isWordByte(b) {
                    run += 1
                } else {
                    if run > 0 { count += 1 + (run - 1) / 8; run = 0 }
                    if b != 32 && b != 10 && b != 9 && b != 13 { count += 1 }
                }
            }
        }
        if run > 0 { count += 1 + (run - 1) / 8 }
        return count
    }

    /// Whitespace-separated word count.
    public static func wordCount(_ text: String) -> Int {
        var n = 0
        var inWord = false
        for b in text.utf8 {
            let space = b == 32 || b == 10 || b == 9 || b == 13
            if !space && !inWord { n += 1 }
            inWord = !space
        }
        return n
    }

    @inline(__always) static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || (b >= 48 && b <= 57) || b == 39 || b >= 0x80
    }

    /// Normalized words of a text: maximal runs of letters/digits/apostrophes (and non-ASCII bytes), ASCII
    /// lowercased, each hashed with FNV-1a 64; with their UTF-8 byte ranges in the original text.
    public static func wordHashes(_ text: String) -> (hashes: [UInt64], starts: [Int], ends: [Int]) {
        var hashes: [UInt64] = []
        var starts: [Int] = []
        var ends: [Int] = []
        hashes.reserveCapacity(text.utf8.count / 5)
        var s = text
        s.withUTF8 { buf in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            var start = -1
            for i in 0..<buf.count {
                var b = buf[i]
                if isWordByte(b) && b != 39 || (b == 39 && start >= 0) {
                    if start < 0 { start = i; h = 0xcbf2_9ce4_8422_2325 }
                    if b >= 65 && b <= 90 { b += 32 }
                    h = (h ^ UInt64(b)) &* 0x100_0000_01b3
                } else if start >= 0 {
                    hashes.append(h); starts.append(start); ends.append(i); start = -1
                }
            }
            if start >= 0 { hashes.append(h); starts.append(start); ends.append(buf.count) }
        }
        return (hashes, starts, ends)
    }

    /// Hashes of all word n-grams (order-sensitive), from word hashes.
    public static func ngramHashes(_ words: [UInt64], n: Int) -> [UInt64] {
        guard words.count >= n, n > 0 else { return [] }
        var out = [UInt64](repeating: 0, count: words.count - n + 1)
        words.withUnsafeBufferPointer { w in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<o.count {
                    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(n)
                    for j in 0..<n { h = mix64(h ^ w[i + j]) }
                    o[i] = h
                }
            }
        }
        return out
    }

    /// A strong 64-bit mixer (SplitMix64 finalizer).
    @inline(__always) public static func mix64(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// MinHash signatures over word 5-shingles with LSH banding, for near-duplicate detection.
public struct MinHasher: Sendable {
    /// Number of hash functions (signature length).
    public let permutations: Int
    /// Shingle size in words.
    public let shingle: Int
    /// LSH bands (permutations must be divisible by bands).
    public let bands: Int
    private let a: [UInt64]
    private let b: [UInt64]

    /// Defaults: 128 permutations over word 5-shingles, 16 bands of 8 rows (a pair with Jaccard 0.8 becomes a
    /// candidate with probability ≈ 0.95; candidates are then confirmed on the signatures).
    public init(permutations: Int = 128, shingle: Int = 5, bands: Int = 16, seed: UInt64 = 0x5EED_0F_C0DE) {
        precondition(permutations % bands == 0, "permutations must be divisible by bands")
        self.permutations = permutations; self.shingle = shingle; self.bands = bands
        var rng = Xoshiro256(seed: seed)
        a = (0..<permutations).map { _ in rng.next() | 1 }
        b = (0..<permutations).map { _ in rng.next() }
    }

    /// The MinHash signature of a text.
    public func signature(_ text: String) -> [UInt64] {
        let words = TextTools.wordHashes(text).hashes
        var shingles = TextTools.ngramHashes(words, n: min(shingle, max(1, words.count)))
        if shingles.isEmpty { shingles = [0] }
        var sig = [UInt64](repeating: .max, count: permutations)
        sig.withUnsafeMutableBufferPointer { s in
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    for x in shingles {
                        for i in 0..<s.count {
                            let v = ap[i] &* x &+ bp[i]
                            if v < s[i] { s[i] = v }
                        }
                    }
                }
            }
        }
        return sig
    }

    /// Estimated Jaccard similarity: the fraction of equal signature positions.
    public static func similarity(_ x: [UInt64], _ y: [UInt64]) -> Double {
        var eq = 0
        for i in 0..<min(x.count, y.count) where x[i] == y[i] { eq += 1 }
        return Double(eq) / Double(max(1, min(x.count, y.count)))
    }

    func bandKeys(_ sig: [UInt64]) -> [UInt64] {
        let rows = permutations / bands
        return (0..<bands).map { band in
            var h: UInt64 = UInt64(band) &* 0x9E37_79B9_7F4A_7C15
            for r in 0..<rows { h = TextTools.mix64(h ^ sig[band * rows + r]) }
            return h
        }
    }
}

/// An incremental LSH index: add documents one by one and ask whether a new one nearly duplicates any earlier one.
public final class NearDuplicateIndex {
    /// The hasher used.
    public let hasher: MinHasher
    /// Estimated Jaccard at or above which two documents are near-duplicates.
    public let threshold: Double
    private var buckets: [[UInt64: [Int]]]
    private var signatures: [[UInt64]] = []

    /// An empty index.
    public init(hasher: MinHasher = MinHasher(), threshold: Double = 0.8) {
        self.hasher = hasher; self.threshold = threshold
        buckets = Array(repeating: [:], count: hasher.bands)
    }

    /// Number of documents added.
    public var count: Int { signatures.count }

    /// The index of an earlier document this signature nearly duplicates, if any.
    public func match(_ sig: [UInt64]) -> Int? {
        let keys = hasher.bandKeys(sig)
        var seen = Set<Int>()
        for (band, k) in keys.enumerated() {
            guard let list = buckets[band][k] else { continue }
            for j in list where seen.insert(j).inserted {
                if MinHasher.similarity(sig, signatures[j]) >= threshold { return j }
            }
        }
        return nil
    }

    /// Adds a signature (whether or not it matches) and returns its index.
    @discardableResult
    public func add(_ sig: [UInt64]) -> Int {
        let id = signatures.count
        signatures.append(sig)
        for (band, k) in hasher.bandKeys(sig).enumerated() { buckets[band][k, default: []].append(id) }
        return id
    }
}

/// Diversity and size statistics of a set of documents.
public struct CorpusStats: Codable, Sendable, Equatable {
    /// Number of documents.
    public var documents: Int
    /// Total words (whitespace-separated).
    public var words: Int
    /// Mean words per document.
    public var meanWords: Double
    /// Distinct n-grams / total n-grams over the whole set (normalized words), n = 1, 2, 3.
    public var distinct1: Double
    public var distinct2: Double
    public var distinct3: Double
    /// Mean within-document distinct-2.
    public var meanDocDistinct2: Double
    /// Fraction of documents that nearly duplicate (MinHash Jaccard ≥ threshold) an earlier document.
    public var nearDuplicateRate: Double
    /// Number of such documents.
    public var nearDuplicates: Int
    /// The Jaccard threshold used.
    public var nearDuplicateThreshold: Double

    /// Computes the statistics (MinHash: 128 permutations over word 5-shingles, LSH 16×8).
    public static func compute(_ documents: [String], nearDuplicateThreshold: Double = 0.8) -> CorpusStats {
        var s1 = Set<UInt64>(), s2 = Set<UInt64>(), s3 = Set<UInt64>()
        var t1 = 0, t2 = 0, t3 = 0, words = 0
        var docD2 = 0.0
        let index = NearDuplicateIndex(threshold: nearDuplicateThreshold)
        var dups = 0
        for d in documents {
            let w = TextTools.wordHashes(d).hashes
            words += TextTools.wordCount(d)
            for x in w { s1.insert(x) }
            t1 += w.count
            let g2 = TextTools.ngramHashes(w, n: 2), g3 = TextTools.ngramHashes(w, n: 3)
            for x in g2 { s2.insert(x) }
            for x in g3 { s3.insert(x) }
            t2 += g2.count; t3 += g3.count
            docD2 += g2.isEmpty ? 0 : Double(Set(g2).count) / Double(g2.count)
            let sig = index.hasher.signature(d)
            if index.match(sig) != nil { dups += 1 }
            index.add(sig)
        }
        let n = documents.count
        func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
        return CorpusStats(documents: n, words: words, meanWords: ratio(words, n), distinct1: ratio(s1.count, t1),
                           distinct2: ratio(s2.count, t2), distinct3: ratio(s3.count, t3),
                           meanDocDistinct2: n == 0 ? 0 : docD2 / Double(n), nearDuplicateRate: ratio(dups, n),
                           nearDuplicates: dups, nearDuplicateThreshold: nearDuplicateThreshold)
    }
}
