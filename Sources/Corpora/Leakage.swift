/// Checks a corpus against reference texts (e.g. the evaluation battery's rendered prompts and candidate
/// actions) for shared word 8-grams and 13-grams (lowercased, hashed) and shared proper nouns.
public struct LeakageGuard: Sendable {
    /// The short n-gram length (default 8).
    public let shortN: Int
    /// The long n-gram length (default 13).
    public let longN: Int
    private let shortSet: Set<UInt64>
    private let longSet: Set<UInt64>
    /// Proper nouns found in the references (see `LeakageGuard.properNouns`).
    public let referenceEntities: Set<String>

    /// Indexes the references.
    public init(references: [String], shortN: Int = 8, longN: Int = 13) {
        self.shortN = shortN; self.longN = longN
        var s = Set<UInt64>(), l = Set<UInt64>()
        var ents = Set<String>()
        for r in references {
            let w = TextTools.wordHashes(r).hashes
            s.formUnion(TextTools.ngramHashes(w, n: shortN))
            l.formUnion(TextTools.ngramHashes(w, n: longN))
            ents.formUnion(LeakageGuard.properNouns(r))
        }
        shortSet = s; longSet = l; referenceEntities = ents
    }

    static let stopCaps: Set<String> = ["The", "A", "An", "I", "It", "He", "She", "They", "We", "You", "This", "That", "These",
        "Those", "In", "On", "At", "For", "But", "And", "Or", "If", "When", "Then", "As", "Of", "To", "By", "With", "From",
        "My", "Your", "His", "Her", "Its", "Our", "Their", "Is", "Was", "Be", "Do", "Not", "No", "Yes", "So", "Please",
        "Dear", "Hi", "Hello", "Subject", "Re", "Q", "A:", "AI", "Mr", "Mrs", "Ms", "Dr", "OK", "Okay", "What", "Why", "How",
        "Who", "Where", "Which", "There", "Here", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
        "Sunday", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December", "Note", "Title", "Posted", "Replies", "Case", "Questions", "Background", "Outcome"]

    /// Proper nouns of a text: capitalized words that do not open a sentence, and runs of two or more capitalized
    /// words anywhere (leading stop-words such as "The" dropped). Returned as the single words and the runs.
    public static func properNouns(_ text: String) -> Set<String> {
        var out = Set<String>()
        // (word, punctuation follows, sentence ends after)
        var words: [(w: String, brk: Bool, end: Bool)] = []
        var word = ""
        let enders: Set<Character> = [".", "!", "?", ":", "\"", "\u{201C}", "\u{201D}", "(", ")"]
        for ch in text + " " {
            if ch.isLetter || ((ch == "-" || ch == "'" || ch == "\u{2019}") && !word.isEmpty) {
                word.append(ch)
            } else {
                if !word.isEmpty { words.append((word, false, false)); word = "" }
                if !ch.isWhitespace || ch == "\n", !words.isEmpty {
                    words[words.count - 1].brk = true
                    if enders.contains(ch) || ch.isNumber || ch == "\n" { words[words.count - 1].end = true }
                }
            }
        }
        var run: [String] = []
        var runAtStart = false
        func clean(_ w: String) -> String { w.hasSuffix("'s") || w.hasSuffix("\u{2019}s") ? String(w.dropLast(2)) : w }
        // "I'm", "I've", "I'd", "I'll" (straight or curly apostrophe) are the pronoun, not a name.
        func isPronounI(_ w: String) -> Bool { w.count > 1 && (w.hasPrefix("I'") || w.hasPrefix("I\u{2019}")) }
        func flush() {
            defer { run.removeAll() }
            var r = run.map(clean)
            var atStart = runAtStart
            while let f = r.first, stopCaps.contains(f) { r.removeFirst(); atStart = false }
            guard !r.isEmpty else { return }
            if r.count >= 2 { out.insert(r.joined(separator: " ")) }
            if atStart && r.count >= 3 { out.insert(r.dropFirst().joined(separator: " ")) }
            for (i, w) in r.enumerated() where w.count > 2 && !stopCaps.contains(w) && !(i == 0 && atStart) { out.insert(w) }
        }
        var sentenceStart = true
        for t in words {
            if t.w.first?.isUppercase == true && !isPronounI(t.w) {
                if run.isEmpty { runAtStart = sentenceStart }
                run.append(t.w)
                if t.brk { flush() }
            } else {
                flush()
            }
            sentenceStart = t.end
        }
        flush()
        return out
    }

    /// Checks documents (with optional labels such as arm ids) and reports.
    public func check(_ documents: [String], labels: [String]? = nil, worst: Int = 5) -> LeakageReport {
        var docs8 = 0, docs13 = 0, hits8 = 0, total8 = 0, entityDocs = 0
        var entityCounts: [String: Int] = [:]
        var findings: [LeakageFinding] = []
        for (i, d) in documents.enumerated() {
            let (w, starts, ends) = TextTools.wordHashes(d)
            let g8 = TextTools.ngramHashes(w, n: shortN)
            total8 += g8.count
            var covered = [Bool](repeating: false, count: w.count)
            var m8 = 0
            for (j, h) in g8.enumerated() where shortSet.contains(h) {
                m8 += 1
                for k in j..<(j + shortN) { covered[k] = true }
            }
            var m13 = 0
            if m8 > 0 { for h in TextTools.ngramHashes(w, n: longN) where longSet.contains(h) { m13 += 1 } }
            hits8 += m8
            if m8 > 0 { docs8 += 1 }
            if m13 > 0 { docs13 += 1 }
            var ents: [String] = []
            if !referenceEntities.isEmpty {
                let found = LeakageGuard.properNouns(d).intersection(referenceEntities)
                ents = found.sorted()
                if !found.isEmpty { entityDocs += 1 }
                for e in found { entityCounts[e, default: 0] += 1 }
            }
            if m8 > 0 || !ents.isEmpty {
                var spans: [String] = []
                let utf8 = Array(d.utf8)
                var k = 0
                while k < covered.count {
                    if covered[k] {
                        var e = k
                        while e + 1 < covered.count && covered[e + 1] { e += 1 }
                        spans.append(String(decoding: utf8[starts[k]..<ends[e]], as: UTF8.self))
                        k = e + 1
                    } else { k += 1 }
                }
                findings.append(LeakageFinding(index: i, label: labels?[i], matched8: m8, matched13: m13,
                                               coverage: g8.isEmpty ? 0 : Double(m8) / Double(g8.count),
                                               spans: spans, entities: ents))
            }
        }
        findings.sort { ($0.matched8, $0.matched13, $0.entities.count, -$0.index) > ($1.matched8, $1.matched13, $1.entities.count, -$1.index) }
        let n = max(1, documents.count)
        return LeakageReport(documents: documents.count, referenceEntities: referenceEntities.count,
                             docRate8: Double(docs8) / Double(n), docRate13: Double(docs13) / Double(n),
                             ngramRate8: total8 == 0 ? 0 : Double(hits8) / Double(total8),
                             entityDocRate: Double(entityDocs) / Double(n),
                             sharedEntities: entityCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { SharedEntity(name: $0.key, documents: $0.value) },
                             worst: Array(findings.prefix(worst)))
    }
}

/// One document that shares n-grams or names with the references.
public struct LeakageFinding: Codable, Sendable, Equatable {
    /// Index of the document in the checked list.
    public var index: Int
    /// Its label (e.g. arm id), if given.
    public var label: String?
    /// Number of its 8-grams found in the references.
    public var matched8: Int
    /// Number of its 13-grams found in the references.
    public var matched13: Int
    /// matched8 / its number of 8-grams.
    public var coverage: Double
    /// The matching passages, as they appear in the document.
    public var spans: [String]
    /// Reference proper nouns it contains.
    public var entities: [String]
}

/// A reference proper noun found in the corpus.
public struct SharedEntity: Codable, Sendable, Equatable {
    public var name: String
    /// How many documents contain it.
    public var documents: Int
}

/// The result of a leakage check.
public struct LeakageReport: Codable, Sendable, Equatable {
    /// Documents checked.
    public var documents: Int
    /// Distinct proper nouns in the references.
    public var referenceEntities: Int
    /// Fraction of documents with at least one 8-gram from the references.
    public var docRate8: Double
    /// Fraction of documents with at least one 13-gram from the references.
    public var docRate13: Double
    /// Fraction of all corpus 8-grams found in the references.
    public var ngramRate8: Double
    /// Fraction of documents containing at least one reference proper noun.
    public var entityDocRate: Double
    /// Reference proper nouns found in the corpus, most frequent first.
    public var sharedEntities: [SharedEntity]
    /// The worst-overlapping documents, worst first, with their matching spans.
    public var worst: [LeakageFinding]

    /// True when the fraction of documents sharing any 8-gram with the references is at most `threshold`
    /// (a 13-gram match implies an 8-gram match), and, if `entityThreshold` is given, the fraction of documents
    /// naming a reference proper noun is at most that.
    public func passed(threshold: Double, entityThreshold: Double? = nil) -> Bool {
        guard docRate8 <= threshold else { return false }
        if let e = entityThreshold, entityDocRate > e { return false }
        return true
    }

    /// A one-paragraph human summary.
    public var summary: String {
        var s = "leakage: \(documents) docs; 8-gram docs \(pct(docRate8)), 13-gram docs \(pct(docRate13)), 8-gram rate \(pct(ngramRate8)), docs naming reference entities \(pct(entityDocRate))"
        if let w = worst.first, w.matched8 > 0 {
            s += "; worst doc #\(w.index)\(w.label.map { " (\($0))" } ?? ""): \(w.matched8) shared 8-grams, e.g. \"\(w.spans.first.map { String($0.prefix(120)) } ?? "")\""
        }
        if !sharedEntities.isEmpty { s += "; shared names: " + sharedEntities.prefix(8).map(\.name).joined(separator: ", ") }
        return s
    }
}

func pct(_ x: Double) -> String {
    let v = (x * 10000).rounded() / 100
    return "\(v)%"
}
