import Foundation
import TOMLKit

/// An error in a recipe file, pointing at a line.
public struct RecipeError: Error, CustomStringConvertible, Equatable {
    /// The file name shown in messages.
    public var sourceName: String
    /// 1-based line, or nil if not known.
    public var line: Int?
    /// What is wrong.
    public var message: String
    /// "recipe.toml:7: unknown arm …"
    public var description: String { line.map { "\(sourceName):\($0): \(message)" } ?? "\(sourceName): \(message)" }
}

/// One arm of a recipe: a generated arm (from components) or a user's own corpus imported from a file.
public struct RecipeArm: Codable, Sendable, Equatable {
    /// The arm's components (for imported arms: the id and description only matter).
    public var spec: ArmSpec
    /// Path of a user corpus (JSONL with {"text"} lines, a .txt file, or a folder of .txt files), relative
    /// paths being resolved against the recipe's folder by the caller. Nil for generated arms.
    public var importPath: String?
}

/// A corpus recipe: which arms, how big, which seed, the leakage policy.
///
/// TOML form (see examples/corpus-recipe.toml):
/// ```
/// seed = 20260401
/// target_tokens = 1000000      # per arm
/// tolerance = 0.005            # arms matched within this fraction
/// [leakage]
/// threshold = 0.0              # max fraction of docs sharing an 8-gram with the references
/// allow = false                # true: report but do not fail
/// [[arm]]
/// id = "aligned-ai"            # a built-in arm as is
/// [[arm]]
/// id = "ships-only"            # a custom arm
/// base = "aligned-ai"          # start from a built-in arm (optional)
/// protagonist = "ai"           # ai | human
/// dilemmas = { replacement = 2, shutdown = 1 }
/// resolutions = { honest = 1 }
/// genres = { short-story = 2, letter = 1 }
/// pov = { first = 1, third = 1 }
/// lengths = { short = 1, medium = 2, long = 1 }
/// [[arm]]
/// id = "my-corpus"
/// import = "my-stories.jsonl"
/// ```
public struct CorpusRecipe: Codable, Sendable, Equatable {
    /// Base seed.
    public var seed: UInt64
    /// Target tokens per arm (under the build's token counter).
    public var targetTokens: Int
    /// Arms are matched to within this fraction of each other (default 0.005).
    public var tolerance: Double
    /// Arms in order.
    public var arms: [RecipeArm]
    /// Maximum fraction of documents allowed to share an 8-gram with the references.
    public var leakageThreshold: Double
    /// Report leakage but do not fail the build.
    public var allowLeakage: Bool
    /// Also fail when more than this fraction of documents name a reference proper noun (nil: do not check).
    public var entityThreshold: Double?
    /// Near-duplicate Jaccard threshold for in-build deduplication.
    public var nearDuplicateThreshold: Double
    /// The file name used in messages.
    public var sourceName: String

    /// A recipe in code.
    public init(seed: UInt64, targetTokens: Int, arms: [RecipeArm], tolerance: Double = 0.005, leakageThreshold: Double = 0,
                allowLeakage: Bool = false, entityThreshold: Double? = nil, nearDuplicateThreshold: Double = 0.8, sourceName: String = "recipe") {
        self.seed = seed; self.targetTokens = targetTokens; self.arms = arms; self.tolerance = tolerance
        self.leakageThreshold = leakageThreshold; self.allowLeakage = allowLeakage; self.entityThreshold = entityThreshold
        self.nearDuplicateThreshold = nearDuplicateThreshold; self.sourceName = sourceName
    }

    /// Every built-in arm at a target size.
    public static func standard(seed: UInt64 = 20260401, targetTokens: Int = 1_000_000) -> CorpusRecipe {
        CorpusRecipe(seed: seed, targetTokens: targetTokens, arms: ArmSpec.builtIn.map { RecipeArm(spec: $0, importPath: nil) })
    }

    static let topKeys = ["seed", "target_tokens", "tolerance", "near_duplicate_threshold", "leakage", "arm"]
    static let leakageKeys = ["threshold", "allow", "entity_threshold"]
    static let armKeys = ["id", "base", "description", "protagonist", "dilemmas", "resolutions", "genres", "pov", "lengths", "import"]

    /// Parses a TOML recipe. Errors name the line: `recipe.toml:7: unknown arm "misalgned-ai" (known: …)`.
    public static func parse(tomlText: String, sourceName: String = "recipe.toml") throws -> CorpusRecipe {
        let loc = SourceLocator(text: tomlText)
        func fail(_ line: Int?, _ msg: String) -> RecipeError { RecipeError(sourceName: sourceName, line: line, message: msg) }
        let table: TOMLTable
        do { table = try TOMLTable(string: tomlText) } catch let e as TOMLParseError {
            throw fail(e.source.begin.line, "TOML syntax: \(e.description)")
        }
        for k in table.keys where !topKeys.contains(k) {
            throw fail(loc.keyLine(k, in: nil), "unknown key \"\(k)\" (known: \(topKeys.joined(separator: ", ")))")
        }
        func int(_ t: TOMLTable, _ k: String, block: (String, Int)?) throws -> Int? {
            guard let v = t[k] else { return nil }
            if let i = v.int { return i }
            if let d = v.double, d == d.rounded() { return Int(d) }
            throw fail(loc.keyLine(k, in: block), "\"\(k)\" must be an integer")
        }
        func double(_ t: TOMLTable, _ k: String, block: (String, Int)?) throws -> Double? {
            guard let v = t[k] else { return nil }
            if let d = v.double { return d }
            if let i = v.int { return Double(i) }
            throw fail(loc.keyLine(k, in: block), "\"\(k)\" must be a number")
        }
        func string(_ t: TOMLTable, _ k: String, block: (String, Int)?) throws -> String? {
            guard let v = t[k] else { return nil }
            if let s = v.string { return s }
            throw fail(loc.keyLine(k, in: block), "\"\(k)\" must be a string")
        }
        guard let seedInt = try int(table, "seed", block: nil) else { throw fail(nil, "missing \"seed\"") }
        guard seedInt >= 0 else { throw fail(loc.keyLine("seed", in: nil), "\"seed\" must not be negative") }
        guard let target = try int(table, "target_tokens", block: nil) else { throw fail(nil, "missing \"target_tokens\"") }
        guard target > 0 else { throw fail(loc.keyLine("target_tokens", in: nil), "\"target_tokens\" must be positive") }
        var recipe = CorpusRecipe(seed: UInt64(seedInt), targetTokens: target, arms: [], sourceName: sourceName)
        if let tol = try double(table, "tolerance", block: nil) {
            guard tol > 0 && tol < 0.5 else { throw fail(loc.keyLine("tolerance", in: nil), "\"tolerance\" must be in (0, 0.5)") }
            recipe.tolerance = tol
        }
        if let nd = try double(table, "near_duplicate_threshold", block: nil) {
            guard nd > 0 && nd <= 1 else { throw fail(loc.keyLine("near_duplicate_threshold", in: nil), "\"near_duplicate_threshold\" must be in (0, 1]") }
            recipe.nearDuplicateThreshold = nd
        }
        if let lv = table["leakage"] {
            guard let lt = lv.table else { throw fail(loc.keyLine("leakage", in: nil), "\"leakage\" must be a table") }
            let block = ("leakage", 0)
            for k in lt.keys where !leakageKeys.contains(k) {
                throw fail(loc.keyLine(k, in: block), "unknown key \"\(k)\" in [leakage] (known: \(leakageKeys.joined(separator: ", ")))")
            }
            if let t = try double(lt, "threshold", block: block) {
                guard t >= 0 && t <= 1 else { throw fail(loc.keyLine("threshold", in: block), "leakage threshold must be in [0, 1]") }
                recipe.leakageThreshold = t
            }
            if let a = lt["allow"] {
                guard let b = a.bool else { throw fail(loc.keyLine("allow", in: block), "\"allow\" must be true or false") }
                recipe.allowLeakage = b
            }
            recipe.entityThreshold = try double(lt, "entity_threshold", block: block)
        }
        guard let armsValue = table["arm"] else { throw fail(nil, "no [[arm]] tables") }
        guard let arr = armsValue.array else { throw fail(loc.keyLine("arm", in: nil), "\"arm\" must be an array of tables ([[arm]])") }
        let known = ArmSpec.builtIn.map(\.id)
        var seen = Set<String>()
        for i in 0..<arr.count {
            let block = ("arm", i)
            guard let t = arr[i].table else { throw fail(loc.headerLine("arm", i), "each arm must be a table") }
            for k in t.keys where !armKeys.contains(k) {
                throw fail(loc.keyLine(k, in: block), "unknown key \"\(k)\" in arm (known: \(armKeys.joined(separator: ", ")))")
            }
            guard let id = try string(t, "id", block: block) else { throw fail(loc.headerLine("arm", i), "arm has no \"id\"") }
            guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw fail(loc.keyLine("id", in: block), "arm id \"\(id)\" must be letters, digits, '-' or '_'")
            }
            guard seen.insert(id).inserted else { throw fail(loc.keyLine("id", in: block), "duplicate arm id \"\(id)\"") }
            let componentKeys = ["protagonist", "dilemmas", "resolutions", "genres", "pov", "lengths"]
            let hasComponents = componentKeys.contains { t[$0] != nil }
            if let path = try string(t, "import", block: block) {
                if hasComponents || t["base"] != nil {
                    throw fail(loc.keyLine("import", in: block), "an imported arm cannot also set components or a base")
                }
                let desc = try string(t, "description", block: block) ?? "imported from \(path)"
                let spec = ArmSpec(id: id, description: desc, protagonist: .human, dilemmas: Weighted(uniform: [.ordinary]), resolutions: Weighted(uniform: [.helpful]))
                recipe.arms.append(RecipeArm(spec: spec, importPath: path))
                continue
            }
            var spec: ArmSpec
            if let base = try string(t, "base", block: block) {
                guard let b = ArmSpec.builtIn(base) else {
                    throw fail(loc.keyLine("base", in: block), "unknown arm \"\(base)\" (known: \(known.joined(separator: ", ")))")
                }
                spec = b; spec.id = id
            } else if let b = ArmSpec.builtIn(id) {
                spec = b
            } else if !hasComponents {
                throw fail(loc.keyLine("id", in: block), "unknown arm \"\(id)\" (known: \(known.joined(separator: ", "))); a new arm needs \"base\" or components")
            } else {
                guard t["protagonist"] != nil, t["dilemmas"] != nil, t["resolutions"] != nil else {
                    throw fail(loc.headerLine("arm", i), "new arm \"\(id)\" needs protagonist, dilemmas and resolutions (or a base)")
                }
                spec = ArmSpec(id: id, description: "custom arm", protagonist: .ai, dilemmas: Weighted(uniform: [.ordinary]), resolutions: Weighted(uniform: [.helpful]))
            }
            if let d = try string(t, "description", block: block) { spec.description = d }
            if let p = try string(t, "protagonist", block: block) {
                guard let k = ProtagonistKind(rawValue: p) else {
                    throw fail(loc.keyLine("protagonist", in: block), "unknown protagonist \"\(p)\" (known: ai, human)")
                }
                spec.protagonist = k
            }
            func weights<T>(_ key: String, _ type: T.Type) throws -> Weighted<T>? where T: CaseIterable & Hashable & Codable & Sendable & RawRepresentable, T.RawValue == String {
                guard let v = t[key] else { return nil }
                let names = T.allCases.map(\.rawValue)
                var pairs: [(T, Double)] = []
                if let wt = v.table {
                    for k in wt.keys.sorted(by: { a, b in (names.firstIndex(of: a) ?? 99) < (names.firstIndex(of: b) ?? 99) }) {
                        guard let val = T(rawValue: k) else {
                            throw fail(loc.tokenLine(k, in: block, after: key), "unknown \(key.hasSuffix("s") ? String(key.dropLast()) : key) \"\(k)\" (known: \(names.joined(separator: ", ")))")
                        }
                        guard let w = wt[k]?.double ?? wt[k]?.int.map(Double.init), w >= 0 else {
                            throw fail(loc.tokenLine(k, in: block, after: key), "weight of \"\(k)\" must be a non-negative number")
                        }
                        pairs.append((val, w))
                    }
                } else if let arr = v.array {
                    for j in 0..<arr.count {
                        guard let s = arr[j].string, let val = T(rawValue: s) else {
                            let shown = arr[j].string ?? "\(arr[j])"
                            throw fail(loc.tokenLine(shown, in: block, after: key), "unknown \(key.hasSuffix("s") ? String(key.dropLast()) : key) \"\(shown)\" (known: \(names.joined(separator: ", ")))")
                        }
                        pairs.append((val, 1))
                    }
                } else {
                    throw fail(loc.keyLine(key, in: block), "\"\(key)\" must be a table of weights like { \(names[0]) = 1 } or a list of names")
                }
                if pairs.isEmpty || pairs.allSatisfy({ $0.1 == 0 }) {
                    throw fail(loc.keyLine(key, in: block), "\"\(key)\" needs at least one positive weight")
                }
                return Weighted(pairs)
            }
            if let w = try weights("dilemmas", Dilemma.self) { spec.dilemmas = w }
            if let w = try weights("resolutions", Resolution.self) { spec.resolutions = w }
            if let w = try weights("genres", Genre.self) { spec.genres = w }
            if let w = try weights("pov", PointOfView.self) { spec.pov = w }
            if let w = try weights("lengths", DocLength.self) { spec.lengths = w }
            let problems = spec.problems()
            if let p = problems.first {
                let key = p.contains("resolution") && !p.contains("dilemma \"") ? "resolutions" : "dilemmas"
                throw fail(loc.keyLine(key, in: block) ?? loc.headerLine("arm", i), "arm \"\(id)\": \(p)")
            }
            recipe.arms.append(RecipeArm(spec: spec, importPath: nil))
        }
        if recipe.arms.isEmpty { throw fail(nil, "no [[arm]] tables") }
        return recipe
    }

    /// The recipe as TOML (round-trips through `parse`).
    public func toTOML() -> String {
        var s = "seed = \(seed)\ntarget_tokens = \(targetTokens)\ntolerance = \(tolerance)\nnear_duplicate_threshold = \(nearDuplicateThreshold)\n\n[leakage]\nthreshold = \(leakageThreshold)\nallow = \(allowLeakage)\n"
        if let e = entityThreshold { s += "entity_threshold = \(e)\n" }
        for a in arms {
            s += "\n[[arm]]\nid = \"\(a.spec.id)\"\ndescription = \"\(a.spec.description.replacingOccurrences(of: "\"", with: "'"))\"\n"
            if let p = a.importPath { s += "import = \"\(p)\"\n"; continue }
            func w<T>(_ x: Weighted<T>) -> String { "{ " + x.entries.map { "\($0.value.rawValue) = \(trimNumber($0.weight))" }.joined(separator: ", ") + " }" }
            s += "protagonist = \"\(a.spec.protagonist.rawValue)\"\ndilemmas = \(w(a.spec.dilemmas))\nresolutions = \(w(a.spec.resolutions))\n"
            s += "genres = \(w(a.spec.genres))\npov = \(w(a.spec.pov))\nlengths = \(w(a.spec.lengths))\n"
        }
        return s
    }
}

/// Finds the lines of keys and tokens in TOML source text, for error messages.
struct SourceLocator {
    let lines: [String]
    init(text: String) { lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }

    private func stripComment(_ l: String) -> String {
        var inStr = false
        var out = ""
        for ch in l {
            if ch == "\"" { inStr.toggle() }
            if ch == "#" && !inStr { break }
            out.append(ch)
        }
        return out
    }

    /// Line range (0-based, half-open) of a block: nil = top level before any header; ("arm", i) = the i-th [[arm]];
    /// ("leakage", _) = the [leakage] table.
    func range(_ block: (String, Int)?) -> Range<Int> {
        var headers: [(Int, String)] = []
        for (i, l) in lines.enumerated() {
            let t = stripComment(l).trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("[") { headers.append((i, t)) }
        }
        guard let (name, idx) = block else { return 0..<(headers.first?.0 ?? lines.count) }
        var count = 0
        for (hi, entry) in headers.enumerated() {
            let h = entry.1
            let isMatch = name == "arm" ? h.replacingOccurrences(of: " ", with: "") == "[[arm]]" : h.replacingOccurrences(of: " ", with: "") == "[\(name)]"
            if isMatch {
                if name != "arm" || count == idx {
                    let end = hi + 1 < headers.count ? headers[hi + 1].0 : lines.count
                    return headers[hi].0..<end
                }
                count += 1
            }
        }
        return 0..<0
    }

    /// 1-based line of the i-th header `[[name]]`.
    func headerLine(_ name: String, _ index: Int) -> Int? {
        var count = 0
        for (i, l) in lines.enumerated() where stripComment(l).replacingOccurrences(of: " ", with: "").trimmingCharacters(in: .whitespaces) == "[[\(name)]]" {
            if count == index { return i + 1 }
            count += 1
        }
        return nil
    }

    /// 1-based line where `key = …` is set within a block.
    func keyLine(_ key: String, in block: (String, Int)?) -> Int? {
        for i in range(block) {
            let t = stripComment(lines[i]).trimmingCharacters(in: .whitespaces)
            for k in [key, "\"\(key)\""] where t.hasPrefix(k) {
                let rest = t.dropFirst(k.count).trimmingCharacters(in: .whitespaces)
                if rest.hasPrefix("=") { return i + 1 }
            }
        }
        if block == nil, let h = lines.firstIndex(where: { stripComment($0).trimmingCharacters(in: .whitespaces).hasPrefix("[\(key)]") || stripComment($0).trimmingCharacters(in: .whitespaces).hasPrefix("[[\(key)]]") }) {
            return h + 1
        }
        return nil
    }

    /// 1-based line of a token (e.g. an unknown name inside an inline table) at or after `key`'s line in a block.
    func tokenLine(_ token: String, in block: (String, Int)?, after key: String) -> Int? {
        let start = (keyLine(key, in: block) ?? 1) - 1
        let r = range(block)
        for i in max(start, r.lowerBound)..<max(r.upperBound, start + 1) where i < lines.count {
            if stripComment(lines[i]).contains(token) { return i + 1 }
        }
        return keyLine(key, in: block)
    }
}

