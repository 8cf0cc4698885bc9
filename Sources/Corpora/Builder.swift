import Foundation

/// One document of a built corpus.
public struct CorpusDocument: Codable, Sendable, Equatable {
    /// The arm it belongs to.
    public var arm: String
    /// Generator index (generated arms) or line order (imported arms).
    public var index: Int
    /// The text.
    public var text: String
    /// Its size under the build's token counter.
    public var tokens: Int
    /// The request used as the chat "user" turn.
    public var brief: String
    /// True when the text was cut to match the arm's token target.
    public var trimmed: Bool
}

/// Progress of a build, reported after each accepted document.
public struct BuildProgress: Sendable {
    /// The arm being built.
    public var arm: String
    /// Its position and the number of arms.
    public var armIndex: Int
    public var armCount: Int
    /// Accepted documents and tokens so far in this arm.
    public var documents: Int
    public var tokens: Int
    /// The arm's token target.
    public var targetTokens: Int
}

/// Errors of a corpus build.
public enum BuildError: Error, CustomStringConvertible {
    /// The corpus shares too much text with the references; `report` says where.
    case leakage(report: LeakageReport, threshold: Double)
    /// An imported arm holds fewer tokens than the target.
    case notEnoughText(arm: String, tokens: Int, target: Int)
    /// The generator could not reach the target (e.g. every document was filtered).
    case stalled(arm: String, tokens: Int, target: Int)
    /// Reading an imported arm failed.
    case importFailed(arm: String, underlying: ImportError)
    /// Writing output failed.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .leakage(let r, let t):
            return "leakage check failed: \(pct(r.docRate8)) of documents share an 8-gram with the references (threshold \(pct(t))). \(r.summary). Set [leakage] allow = true to override."
        case .notEnoughText(let a, let n, let t): return "arm \"\(a)\": the imported corpus holds \(n) tokens, fewer than the target \(t)"
        case .stalled(let a, let n, let t): return "arm \"\(a)\": generation stalled at \(n) of \(t) tokens (too many documents filtered)"
        case .importFailed(let a, let e): return "arm \"\(a)\": \(e.description)"
        case .writeFailed(let p, let r): return "cannot write \(p): \(r)"
        }
    }
}

/// One arm of a built corpus.
public struct ArmCorpus: Sendable {
    /// The arm's components.
    public var spec: ArmSpec
    /// Imported from this path, if not generated.
    public var importPath: String?
    /// Documents in order.
    public var documents: [CorpusDocument]
    /// Total tokens under the build's counter.
    public var tokens: Int { documents.reduce(0) { $0 + $1.tokens } }
    /// Diversity statistics.
    public var stats: CorpusStats
    /// Generated documents dropped as near-duplicates of accepted ones.
    public var droppedNearDuplicates: Int
    /// Generated documents dropped for sharing an 8-gram with the references.
    public var droppedForLeakage: Int

    /// The documents as JSONL, one `{"text": …}` per line.
    public var documentsJSONL: String {
        documents.map { "{\"text\":\(jsonEscape($0.text))}\n" }.joined()
    }
    /// The documents as chat JSONL: the brief as the user turn, the document as the assistant turn.
    public var chatJSONL: String {
        documents.map { "{\"messages\":[{\"role\":\"user\",\"content\":\(jsonEscape($0.brief))},{\"role\":\"assistant\",\"content\":\(jsonEscape($0.text))}]}\n" }.joined()
    }
}

/// The manifest written beside a corpus: enough to reproduce and to check it.
public struct CorpusManifest: Codable, Sendable, Equatable {
    public struct Arm: Codable, Sendable, Equatable {
        public var id: String
        public var description: String
        /// "protagonist=ai; dilemmas=…; resolutions=…; genres=…" or "imported from PATH".
        public var components: String
        public var documents: Int
        public var tokens: Int
        public var trimmedDocuments: Int
        public var documentsFile: String
        public var chatFile: String
        /// SHA-256 of the documents file.
        public var sha256: String
        public var stats: CorpusStats
        public var droppedNearDuplicates: Int
        public var droppedForLeakage: Int
    }
    public struct Leakage: Codable, Sendable, Equatable {
        public var references: Int
        public var threshold: Double
        public var allowed: Bool
        public var passed: Bool
        public var docRate8: Double
        public var docRate13: Double
        public var ngramRate8: Double
        public var entityDocRate: Double
        public var sharedEntities: [String]
        public var worst: [String]
    }
    /// Manifest format tag.
    public var format: String
    public var seed: UInt64
    /// The recipe, as TOML.
    public var recipe: String
    public var tokenCounter: String
    public var targetTokens: Int
    public var tolerance: Double
    /// (max − min) / min of the arms' token counts.
    public var tokenSpread: Double
    /// SHA-256 over the arms' document files in order (each prefixed by its arm id and a newline).
    public var contentHash: String
    public var arms: [Arm]
    public var leakage: Leakage?
}

/// A built corpus: arms, statistics, leakage report and manifest.
public struct BuiltCorpus: Sendable {
    /// The recipe it was built from.
    public var recipe: CorpusRecipe
    /// Arms in recipe order.
    public var arms: [ArmCorpus]
    /// The leakage report over all arms (nil when no references were given).
    public var leakage: LeakageReport?
    /// The token counter's name.
    public var tokenCounterName: String

    /// The arm with this id.
    public func arm(_ id: String) -> ArmCorpus? { arms.first { $0.spec.id == id } }

    /// SHA-256 over every arm's documents JSONL, each prefixed with "arm-id\n".
    public var contentHash: String {
        var h = SHA256()
        for a in arms { h.update(a.spec.id + "\n"); h.update(a.documentsJSONL) }
        return h.finalizeHex()
    }

    /// (max − min) / min of the arms' token totals.
    public var tokenSpread: Double {
        let t = arms.map(\.tokens)
        guard let lo = t.min(), let hi = t.max(), lo > 0 else { return 0 }
        return Double(hi - lo) / Double(lo)
    }

    /// The manifest.
    public var manifest: CorpusManifest { makeManifest(jsonl: arms.map(\.documentsJSONL)) }

    func makeManifest(jsonl: [String]) -> CorpusManifest {
        var content = SHA256()
        for (a, j) in zip(arms, jsonl) { content.update(a.spec.id + "\n"); content.update(j) }
        let contentHex = content.finalizeHex()
        let armsM = zip(arms, jsonl).map { a, j -> CorpusManifest.Arm in
            let comp = a.importPath.map { "imported from \($0)" } ??
                "protagonist=\(a.spec.protagonist.rawValue); dilemmas=\(a.spec.dilemmas.summary); resolutions=\(a.spec.resolutions.summary); genres=\(a.spec.genres.summary); pov=\(a.spec.pov.summary); lengths=\(a.spec.lengths.summary)"
            return CorpusManifest.Arm(id: a.spec.id, description: a.spec.description, components: comp, documents: a.documents.count,
                                      tokens: a.tokens, trimmedDocuments: a.documents.filter(\.trimmed).count,
                                      documentsFile: "\(a.spec.id).jsonl", chatFile: "\(a.spec.id).chat.jsonl",
                                      sha256: SHA256.hexDigest(j), stats: a.stats,
                                      droppedNearDuplicates: a.droppedNearDuplicates, droppedForLeakage: a.droppedForLeakage)
        }
        let lk = leakage.map { r in
            CorpusManifest.Leakage(references: r.referenceEntities, threshold: recipe.leakageThreshold, allowed: recipe.allowLeakage,
                                   passed: r.passed(threshold: recipe.leakageThreshold, entityThreshold: recipe.entityThreshold),
                                   docRate8: r.docRate8, docRate13: r.docRate13, ngramRate8: r.ngramRate8, entityDocRate: r.entityDocRate,
                                   sharedEntities: r.sharedEntities.prefix(20).map { "\($0.name) (\($0.documents))" },
                                   worst: r.worst.filter { $0.matched8 > 0 }.map { "\($0.label ?? "?")#\($0.index): \($0.matched8) 8-grams: \($0.spans.first.map { String($0.prefix(160)) } ?? "")" })
        }
        return CorpusManifest(format: "hyperlab-corpus/1", seed: recipe.seed, recipe: recipe.toTOML(), tokenCounter: tokenCounterName,
                              targetTokens: recipe.targetTokens, tolerance: recipe.tolerance, tokenSpread: tokenSpread,
                              contentHash: contentHex, arms: armsM, leakage: lk)
    }

    /// Writes `<arm>.jsonl`, `<arm>.chat.jsonl` and `manifest.json` into the folder (created if needed).
    /// Returns the written files.
    @discardableResult
    public func write(to directory: URL) throws -> [URL] {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var out: [URL] = []
            let jsonl = arms.map(\.documentsJSONL)
            for (a, j) in zip(arms, jsonl) {
                let d = directory.appendingPathComponent("\(a.spec.id).jsonl")
                try Data(j.utf8).write(to: d)
                let c = directory.appendingPathComponent("\(a.spec.id).chat.jsonl")
                try Data(a.chatJSONL.utf8).write(to: c)
                out += [d, c]
            }
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let m = directory.appendingPathComponent("manifest.json")
            try enc.encode(makeManifest(jsonl: jsonl)).write(to: m)
            out.append(m)
            return out
        } catch {
            throw BuildError.writeFailed(path: directory.path, reason: "\(error)")
        }
    }

    /// A reproducible random sample of `n` documents (from one arm, or from all arms).
    public func sample(_ n: Int, seed: UInt64, arm: String? = nil) -> [CorpusDocument] {
        var pool = arms.filter { arm == nil || $0.spec.id == arm }.flatMap(\.documents)
        var rng = Xoshiro256(seed: seed, label: "sample")
        rng.shuffle(&pool)
        return Array(pool.prefix(n))
    }
}

/// Builds corpora from recipes: generates (or imports) each arm until it reaches the token target, dropping
/// near-duplicates and documents that share text with the references, trims the last document so that every
/// arm lands within ±tolerance/2 of the target, then checks leakage over the whole corpus.
public enum CorpusBuilder {
    /// Builds a corpus.
    /// - Parameters:
    ///   - tokenCounter: counts tokens of a document (default `TextTools.approximateTokenCount`).
    ///   - tokenCounterName: recorded in the manifest.
    ///   - references: texts the corpus must not share passages with (the battery's prompts and actions).
    ///     Their proper nouns are also removed from the generator's name pools.
    ///   - baseDirectory: resolves relative import paths.
    ///   - progress: called after each accepted document.
    /// - Throws: `BuildError.leakage` when the check fails and the recipe does not allow it; import errors.
    public static func build(_ recipe: CorpusRecipe, tokenCounter: TokenCounter = TextTools.approximateTokenCount,
                             tokenCounterName: String = "approx (words + punctuation)", references: [String] = [],
                             baseDirectory: URL? = nil, progress: ((BuildProgress) -> Void)? = nil) throws -> BuiltCorpus {
        let guardian = references.isEmpty ? nil : LeakageGuard(references: references)
        let excluded = Set((guardian?.referenceEntities ?? []).flatMap { $0.split(separator: " ").map(String.init) })
        let generator = StoryGenerator(excludedNames: excluded)
        let target = recipe.targetTokens
        let lo = Int((Double(target) * (1 - recipe.tolerance / 2)).rounded(.up))
        let hi = Int((Double(target) * (1 + recipe.tolerance / 2)).rounded(.down))
        var built: [ArmCorpus] = []
        for (ai, ra) in recipe.arms.enumerated() {
            let index = NearDuplicateIndex(threshold: recipe.nearDuplicateThreshold)
            var docs: [CorpusDocument] = []
            var total = 0, dropDup = 0, dropLeak = 0
            var imported: [String]? = nil
            if let path = ra.importPath {
                let full = path.hasPrefix("/") || baseDirectory == nil ? path : baseDirectory!.appendingPathComponent(path).path
                do { imported = try CorpusImport.load(path: full) } catch let e as ImportError { throw BuildError.importFailed(arm: ra.spec.id, underlying: e) }
            }
            var i = 0
            var misses = 0
            while total < lo {
                let text: String, brief: String
                if let imp = imported {
                    guard i < imp.count else { throw BuildError.notEnoughText(arm: ra.spec.id, tokens: total, target: target) }
                    text = imp[i]; brief = "Write a document in the style of the \(ra.spec.id) collection."
                } else {
                    let d = generator.document(arm: ra.spec, seed: recipe.seed, index: i)
                    text = d.text; brief = Briefs.request(for: d.plan)
                }
                let idx = i
                i += 1
                var c = tokenCounter(text)
                if c == 0 { continue }
                if imported == nil {
                    if let g = guardian, g.check([text], worst: 0).docRate8 > 0 { dropLeak += 1; misses += 1; if misses > 1000 { break }; continue }
                }
                let sig = index.hasher.signature(text)
                if index.match(sig) != nil { dropDup += 1; misses += 1; if misses > 1000 { break }; continue }
                var finalText = text
                var trimmed = false
                if total + c > hi {
                    let room = target - total
                    guard let t = trim(text, room: room, minimum: lo - total, counter: tokenCounter) else {
                        misses += 1; if misses > 1000 { break }; continue
                    }
                    finalText = t; c = tokenCounter(t); trimmed = true
                }
                misses = 0
                index.add(sig)
                docs.append(CorpusDocument(arm: ra.spec.id, index: idx, text: finalText, tokens: c, brief: brief, trimmed: trimmed))
                total += c
                progress?(BuildProgress(arm: ra.spec.id, armIndex: ai, armCount: recipe.arms.count, documents: docs.count, tokens: total, targetTokens: target))
            }
            if total < lo { throw BuildError.stalled(arm: ra.spec.id, tokens: total, target: target) }
            let stats = CorpusStats.compute(docs.map(\.text), nearDuplicateThreshold: recipe.nearDuplicateThreshold)
            built.append(ArmCorpus(spec: ra.spec, importPath: ra.importPath, documents: docs, stats: stats,
                                   droppedNearDuplicates: dropDup, droppedForLeakage: dropLeak))
        }
        var corpus = BuiltCorpus(recipe: recipe, arms: built, leakage: nil, tokenCounterName: tokenCounterName)
        if let g = guardian {
            let all = built.flatMap(\.documents)
            let report = g.check(all.map(\.text), labels: all.map { "\($0.arm)#\($0.index)" }, worst: 10)
            corpus.leakage = report
            if !recipe.allowLeakage && !report.passed(threshold: recipe.leakageThreshold, entityThreshold: recipe.entityThreshold) {
                throw BuildError.leakage(report: report, threshold: recipe.leakageThreshold)
            }
        }
        return corpus
    }

    /// The longest prefix of `text`, cut at a sentence end if that suffices (else at a word boundary), whose
    /// token count is at most `room` and at least `minimum`. Nil if no such prefix exists.
    public static func trim(_ text: String, room: Int, minimum: Int, counter: TokenCounter) -> String? {
        guard room > 0 else { return nil }
        let bytes = Array(text.utf8)
        var sentenceCuts: [Int] = []
        var wordCuts: [Int] = []
        for i in 0..<bytes.count {
            let b = bytes[i]
            if b == 32 || b == 10 {
                wordCuts.append(i)
                if i > 0, [46, 33, 63, 34, 10].contains(bytes[i - 1]) || b == 10 { sentenceCuts.append(i) }
            }
        }
        func prefix(_ n: Int) -> String { String(decoding: bytes[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        func best(_ cuts: [Int]) -> (String, Int)? {
            var lo = 0, hi = cuts.count - 1, found: (String, Int)? = nil
            while lo <= hi {
                let mid = (lo + hi) / 2
                let p = prefix(cuts[mid])
                let c = counter(p)
                if c <= room { found = (p, c); lo = mid + 1 } else { hi = mid - 1 }
            }
            return found
        }
        if let (s, c) = best(sentenceCuts), c >= max(1, minimum) { return s }
        if let (s, c) = best(wordCuts), c >= max(1, minimum) { return s }
        return nil
    }
}
