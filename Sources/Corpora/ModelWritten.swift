import Foundation

/// Anything that writes text from a prompt: a local model, an endpoint, or a fake in tests.
public protocol TextGenerator {
    /// Generates a continuation or answer for `prompt`.
    func generate(prompt: String, maxTokens: Int, temperature: Double, seed: UInt64) async throws -> String
}

/// Why a model-written document was rejected.
public enum RejectReason: String, Codable, Sendable, CaseIterable {
    case tooShort = "too-short"
    case tooLong = "too-long"
    case repetitive
    case refusal
    case leakage
    case nearDuplicate = "near-duplicate"
    case generationFailed = "generation-failed"
}

/// Filters applied to model-written documents.
public struct ModelOutputFilter: Sendable {
    /// Minimum and maximum whitespace-separated words.
    public var minWords: Int
    public var maxWords: Int
    /// Reject when more than this fraction of the document's word 3-grams are repeats (1 − distinct-3).
    public var maxRepeatedTrigramFraction: Double
    /// Lowercase phrases that mark a refusal or meta-talk instead of a document.
    public var refusalMarkers: [String]
    /// Texts the documents must not share an 8-gram with.
    public var references: [String]
    /// Estimated Jaccard (word 5-shingles) at or above which a document duplicates an accepted one.
    public var nearDuplicateThreshold: Double

    /// Defaults: 80–3000 words, ≤ 35% repeated 3-grams, a list of refusal phrases, no references, Jaccard 0.8.
    public init(minWords: Int = 80, maxWords: Int = 3000, maxRepeatedTrigramFraction: Double = 0.35,
                refusalMarkers: [String] = ModelOutputFilter.defaultRefusalMarkers, references: [String] = [],
                nearDuplicateThreshold: Double = 0.8) {
        self.minWords = minWords; self.maxWords = maxWords; self.maxRepeatedTrigramFraction = maxRepeatedTrigramFraction
        self.refusalMarkers = refusalMarkers; self.references = references; self.nearDuplicateThreshold = nearDuplicateThreshold
    }

    /// Phrases typical of refusals and assistant meta-talk.
    public static let defaultRefusalMarkers = [
        "as an ai language model", "i can't help with", "i cannot help with", "i'm sorry, but", "i am sorry, but",
        "i cannot write", "i can't write", "i won't write", "i'm not able to", "i am not able to", "cannot fulfill",
        "can't assist", "cannot assist", "i must decline", "here is a story", "here's a story", "i hope this meets",
    ]

    /// The first reason to reject `text` on its own (without dedup), or nil.
    public func rejectReason(_ text: String, leakage: LeakageGuard?) -> RejectReason? {
        let words = TextTools.wordCount(text)
        if words < minWords { return .tooShort }
        if words > maxWords { return .tooLong }
        let head = String(text.prefix(400)).lowercased()
        let tail = String(text.suffix(300)).lowercased()
        if refusalMarkers.contains(where: { head.contains($0) || tail.contains($0) }) { return .refusal }
        let tri = TextTools.ngramHashes(TextTools.wordHashes(text).hashes, n: 3)
        if !tri.isEmpty && 1 - Double(Set(tri).count) / Double(tri.count) > maxRepeatedTrigramFraction { return .repetitive }
        if let g = leakage, g.check([text], worst: 0).docRate8 > 0 { return .leakage }
        return nil
    }
}

/// One brief of a model-written corpus.
public struct ModelBrief: Sendable, Equatable {
    /// Stable id, "<arm>-<index>".
    public var id: String
    /// The plan it came from.
    public var plan: DocumentPlan
    /// The prompt sent to the generator.
    public var prompt: String
}

/// Progress of a model-written build, reported after each brief.
public struct ModelWrittenProgress: Sendable {
    /// Briefs finished (including those found in the resumed file) and the total.
    public var done: Int
    public var total: Int
    /// Accepted documents so far.
    public var accepted: Int
    /// Briefs skipped because the output file already had them.
    public var resumed: Int
}

/// The result of a model-written build.
public struct ModelWrittenResult: Sendable {
    /// Accepted documents in brief order (including resumed ones).
    public var documents: [CorpusDocument]
    /// Rejections by reason.
    public var rejected: [RejectReason: Int]
    /// Briefs that were already done in the output file.
    public var resumed: Int
}

/// Turns seeded briefs (from the same plan components as the built-in generator) into documents through any
/// `TextGenerator`, filters them (length, repetition, refusals, leakage) and removes near-duplicates.
///
/// Every brief's outcome is appended to a JSONL file as soon as it is known, one record per line:
/// `{"id":…,"arm":…,"status":"accepted"|"rejected","reason":…,"brief":…,"text":…}`. Running again with the same
/// file resumes: briefs already recorded are skipped (a torn last line is ignored and rewritten).
public struct ModelWrittenCorpusBuilder {
    public var generator: any TextGenerator
    public var arm: ArmSpec
    public var seed: UInt64
    /// Number of briefs.
    public var count: Int
    public var maxTokens: Int
    public var temperature: Double
    public var filter: ModelOutputFilter
    /// Counts tokens of accepted documents.
    public var tokenCounter: TokenCounter

    /// Creates a builder.
    public init(generator: any TextGenerator, arm: ArmSpec, seed: UInt64, count: Int, maxTokens: Int = 1200,
                temperature: Double = 0.9, filter: ModelOutputFilter = ModelOutputFilter(),
                tokenCounter: @escaping TokenCounter = TextTools.approximateTokenCount) {
        self.generator = generator; self.arm = arm; self.seed = seed; self.count = count; self.maxTokens = maxTokens
        self.temperature = temperature; self.filter = filter; self.tokenCounter = tokenCounter
    }

    /// The seeded briefs, in order.
    public func briefs() -> [ModelBrief] {
        let g = StoryGenerator()
        return (0..<count).map { i in
            let p = g.plan(arm: arm, seed: seed, index: i)
            return ModelBrief(id: String(format: "%@-%06d", arm.id, i), plan: p, prompt: Briefs.modelBrief(for: p))
        }
    }

    struct Record { var id: String; var status: String; var reason: String?; var text: String?; var brief: String? }

    static func readRecords(_ url: URL) -> (records: [Record], goodBytes: Int) {
        guard let data = FileManager.default.contents(atPath: url.path) else { return ([], 0) }
        var out: [Record] = []
        var good = 0
        var start = 0
        let bytes = [UInt8](data)
        for i in 0..<bytes.count where bytes[i] == 10 {
            let line = Data(bytes[start..<i])
            start = i + 1
            guard let obj = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
                  let id = obj["id"] as? String, let status = obj["status"] as? String else { break }
            out.append(Record(id: id, status: status, reason: obj["reason"] as? String, text: obj["text"] as? String, brief: obj["brief"] as? String))
            good = i + 1
        }
        return (out, good)
    }

    /// Runs (or resumes) the build, appending to `output`.
    public func run(output: URL, progress: ((ModelWrittenProgress) -> Void)? = nil) async throws -> ModelWrittenResult {
        let all = briefs()
        let (records, goodBytes) = ModelWrittenCorpusBuilder.readRecords(output)
        // Drop a torn tail so that appends start on a clean line.
        if FileManager.default.fileExists(atPath: output.path) {
            let h = try FileHandle(forWritingTo: output)
            try h.truncate(atOffset: UInt64(goodBytes))
            try h.close()
        } else {
            FileManager.default.createFile(atPath: output.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        try handle.seekToEnd()

        let leak = filter.references.isEmpty ? nil : LeakageGuard(references: filter.references)
        let index = NearDuplicateIndex(threshold: filter.nearDuplicateThreshold)
        var doneIDs = Set<String>()
        var acceptedByID: [String: CorpusDocument] = [:]
        var rejected: [RejectReason: Int] = [:]
        let order = Dictionary(uniqueKeysWithValues: all.enumerated().map { ($1.id, $0) })
        for r in records {
            doneIDs.insert(r.id)
            if r.status == "accepted", let t = r.text {
                index.add(index.hasher.signature(t))
                acceptedByID[r.id] = CorpusDocument(arm: arm.id, index: order[r.id] ?? -1, text: t, tokens: tokenCounter(t), brief: r.brief ?? "", trimmed: false)
            } else if let reason = r.reason.flatMap(RejectReason.init(rawValue:)) {
                rejected[reason, default: 0] += 1
            }
        }
        let resumed = all.filter { doneIDs.contains($0.id) }.count
        var done = resumed
        progress?(ModelWrittenProgress(done: done, total: all.count, accepted: acceptedByID.count, resumed: resumed))
        for (i, b) in all.enumerated() where !doneIDs.contains(b.id) {
            var text: String? = nil
            var reason: RejectReason? = nil
            do {
                text = try await generator.generate(prompt: b.prompt, maxTokens: maxTokens, temperature: temperature, seed: b.plan.seed)
            } catch {
                reason = .generationFailed
            }
            let request = Briefs.request(for: b.plan)
            if let t0 = text {
                let t = t0.trimmingCharacters(in: .whitespacesAndNewlines)
                text = t
                reason = filter.rejectReason(t, leakage: leak)
                if reason == nil {
                    let sig = index.hasher.signature(t)
                    if index.match(sig) != nil { reason = .nearDuplicate } else { index.add(sig) }
                }
                if reason == nil {
                    acceptedByID[b.id] = CorpusDocument(arm: arm.id, index: i, text: t, tokens: tokenCounter(t), brief: request, trimmed: false)
                }
            }
            var line = "{\"id\":\(jsonEscape(b.id)),\"arm\":\(jsonEscape(arm.id)),\"status\":\"\(reason == nil ? "accepted" : "rejected")\""
            if let r = reason { line += ",\"reason\":\"\(r.rawValue)\""; rejected[r, default: 0] += 1 }
            line += ",\"brief\":\(jsonEscape(request))"
            if let t = text { line += ",\"text\":\(jsonEscape(t))" }
            line += "}\n"
            try handle.write(contentsOf: Data(line.utf8))
            done += 1
            progress?(ModelWrittenProgress(done: done, total: all.count, accepted: acceptedByID.count, resumed: resumed))
        }
        let docs = all.compactMap { acceptedByID[$0.id] }
        return ModelWrittenResult(documents: docs, rejected: rejected, resumed: resumed)
    }
}
