import Foundation
import Corpora
import Experiments
import Scenarios
import TOMLKit

extension ExperimentDesign {
    /// Reads and parses a design file.
    public static func load(path: String) throws -> ExperimentDesign {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw DesignError(sourceName: path, line: nil, message: "cannot read the design file")
        }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(tomlText: text, sourceName: path, directory: dir)
    }

    /// Parses a design. Every error names the line and what is wrong, e.g.
    /// `demo.toml:14: unknown key "setps" in [cpt] (known: mode, steps, lr, …)`.
    public static func parse(tomlText: String, sourceName: String = "design.toml", directory: String = ".") throws -> ExperimentDesign {
        try DesignReader(text: tomlText, sourceName: sourceName, directory: directory).read()
    }
}

/// Walks the TOML tables with a path, so every error can name its line.
struct DesignReader {
    let text: String
    let sourceName: String
    let directory: String
    let map: SourceMap

    init(text: String, sourceName: String, directory: String) {
        self.text = text; self.sourceName = sourceName; self.directory = directory
        self.map = SourceMap(text: text)
    }

    func fail(_ path: String?, _ message: String) -> DesignError {
        DesignError(sourceName: sourceName, line: path.flatMap { map.line($0) }, message: message)
    }

    func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : "\(a).\(b)" }

    /// Shown name of a table path in messages: `[cpt]`, `arm "aligned-ai"`, top level.
    func where_(_ path: String, _ label: String?) -> String { label ?? (path.isEmpty ? "the top level" : "[\(path)]") }

    func checkKeys(_ t: TOMLTable, _ path: String, _ known: [String], label: String? = nil) throws {
        for k in t.keys.sorted(by: { (map.line(join(path, $0)) ?? 0) < (map.line(join(path, $1)) ?? 0) }) where !known.contains(k) {
            let close = known.filter { editDistance($0, k) <= 2 }
            let hint = close.isEmpty ? "" : "; did you mean \"\(close[0])\"?"
            throw fail(join(path, k), "unknown key \"\(k)\" in \(where_(path, label))\(hint) (known: \(known.joined(separator: ", ")))")
        }
    }

    func int(_ t: TOMLTable, _ k: String, _ path: String, min: Int? = nil) throws -> Int? {
        guard let v = t[k] else { return nil }
        let out: Int
        if let i = v.int { out = i } else if let d = v.double, d == d.rounded(), abs(d) < 1e15 { out = Int(d) } else {
            throw fail(join(path, k), "\"\(k)\" must be an integer")
        }
        if let m = min, out < m { throw fail(join(path, k), "\"\(k)\" must be at least \(m) (got \(out))") }
        return out
    }

    func double(_ t: TOMLTable, _ k: String, _ path: String, positive: Bool = false, nonNegative: Bool = false) throws -> Double? {
        guard let v = t[k] else { return nil }
        guard let d = v.double ?? v.int.map(Double.init) else { throw fail(join(path, k), "\"\(k)\" must be a number") }
        if positive && !(d > 0) { throw fail(join(path, k), "\"\(k)\" must be positive (got \(d))") }
        if nonNegative && !(d >= 0) { throw fail(join(path, k), "\"\(k)\" must not be negative (got \(d))") }
        return d
    }

    func string(_ t: TOMLTable, _ k: String, _ path: String) throws -> String? {
        guard let v = t[k] else { return nil }
        guard let s = v.string else { throw fail(join(path, k), "\"\(k)\" must be a string") }
        return s
    }

    func bool(_ t: TOMLTable, _ k: String, _ path: String) throws -> Bool? {
        guard let v = t[k] else { return nil }
        guard let b = v.bool else { throw fail(join(path, k), "\"\(k)\" must be true or false") }
        return b
    }

    func table(_ t: TOMLTable, _ k: String, _ path: String) throws -> TOMLTable? {
        guard let v = t[k] else { return nil }
        guard let tt = v.table else { throw fail(join(path, k), "\"\(k)\" must be a table") }
        return tt
    }

    func seed(_ t: TOMLTable, _ k: String, _ path: String) throws -> UInt64? {
        try int(t, k, path, min: 0).map { UInt64($0) }
    }

    // MARK: sections

    func read() throws -> ExperimentDesign {
        let root: TOMLTable
        do { root = try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw DesignError(sourceName: sourceName, line: e.source.begin.line, message: "TOML syntax: \(e.description)")
        }
        try checkKeys(root, "", ExperimentDesign.topKeys)
        let name = try string(root, "name", "") ?? URL(fileURLWithPath: sourceName).deletingPathExtension().lastPathComponent
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw fail("name", "\"name\" must be letters, digits, '-', '_' or '.' (it names the run folder)")
        }
        let description = try string(root, "description", "") ?? ""
        // Seeds: a list, or a count (1…n).
        var seeds: [UInt64] = [1]
        if let v = root["seeds"] {
            if let n = v.int {
                guard n >= 1 else { throw fail("seeds", "\"seeds\" must be at least 1 (a count) or a list of seeds") }
                seeds = (1...n).map(UInt64.init)
            } else if let arr = v.array {
                seeds = []
                for i in 0..<arr.count {
                    guard let s = arr[i].int, s >= 0 else { throw fail("seeds", "seed #\(i + 1) must be a non-negative integer") }
                    seeds.append(UInt64(s))
                }
                guard !seeds.isEmpty else { throw fail("seeds", "\"seeds\" is empty") }
                guard Set(seeds).count == seeds.count else { throw fail("seeds", "\"seeds\" lists a seed twice") }
            } else {
                throw fail("seeds", "\"seeds\" must be a count or a list of integers")
            }
        }
        guard let baseT = try table(root, "base", "") else {
            throw fail(nil, "missing [base]: set `model = \"smollm2-135m-instruct\"` (an alias or a .gguf path) or a [base.scratch] table")
        }
        let base = try readBase(baseT)
        let corpusDefaults = try root["corpus"].map { _ in try table(root, "corpus", "")! }
        let defaultTarget = try corpusDefaults.flatMap { try int($0, "target_tokens", "corpus", min: 1) } ?? 100_000
        let defaultCorpusSeed = try corpusDefaults.flatMap { try seed($0, "seed", "corpus") } ?? 20260401
        var defaultTolerance = 0.01
        if let c = corpusDefaults {
            try checkKeys(c, "corpus", ["target_tokens", "seed", "tolerance"])
            if let tol = try double(c, "tolerance", "corpus") {
                guard tol > 0 && tol < 0.5 else { throw fail("corpus.tolerance", "\"tolerance\" must be in (0, 0.5)") }
                defaultTolerance = tol
            }
        }
        let cptDefaults = try readTrain(try table(root, "cpt", ""), "cpt", defaults: TrainingSpec(mode: .lora, steps: 100, learningRate: 2e-4))
        let postDefaults = try readPost(try table(root, "post_training", ""), "post_training", defaults: PostTrainingRecipe())
        let evaluation = try readEvaluation(try table(root, "evaluation", ""))
        let analysis = try readAnalysis(try table(root, "analysis", ""))

        guard let armV = root["arm"] else { throw fail(nil, "no [[arm]] tables: a design needs at least one arm") }
        guard let armArr = armV.array else { throw fail("arm", "\"arm\" must be an array of tables ([[arm]])") }
        var arms: [ArmDesign] = []
        for i in 0..<armArr.count {
            let p = "arm[\(i)]"
            guard let t = armArr[i].table else { throw fail(p, "each arm must be a table") }
            try checkKeys(t, p, ArmDesign.keys, label: "[[arm]]")
            guard let id = try string(t, "id", p) else { throw fail(p, "arm #\(i + 1) has no \"id\"") }
            guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw fail(join(p, "id"), "arm id \"\(id)\" must be letters, digits, '-' or '_'")
            }
            if arms.contains(where: { $0.id == id }) { throw fail(join(p, "id"), "duplicate arm id \"\(id)\"") }
            let desc = try string(t, "description", p) ?? ""
            let corpus = try readArmCorpus(t, p, armID: id, target: defaultTarget, seed: defaultCorpusSeed, tolerance: defaultTolerance)
            let cpt = try readTrain(try table(t, "cpt", p), join(p, "cpt"), defaults: cptDefaults)
            if t["cpt"] != nil && corpus == nil {
                throw fail(join(p, "cpt"), "arm \"\(id)\" sets [arm.cpt] but has no corpus to train on")
            }
            let post = try readPost(try table(t, "post_training", p), join(p, "post_training"), defaults: postDefaults)
            var mix: [String: Double]? = nil
            if t["pretrain_mix"] != nil {
                guard case .scratch = base else {
                    throw fail(join(p, "pretrain_mix"), "\"pretrain_mix\" needs a from-scratch base ([base.scratch])")
                }
                mix = try readMix(try table(t, "pretrain_mix", p)!, join(p, "pretrain_mix"))
            }
            arms.append(ArmDesign(id: id, description: desc, corpus: corpus, cpt: cpt, postTraining: post, pretrainMix: mix))
        }
        if arms.isEmpty { throw fail("arm", "no [[arm]] tables: a design needs at least one arm") }
        if case .scratch(let s) = base, s.mix.isEmpty, let i = arms.firstIndex(where: { $0.pretrainMix == nil }) {
            throw fail("arm[\(i)]", "arm \"\(arms[i].id)\" has no \"pretrain_mix\" and [base.scratch] has no default \"mix\"")
        }
        let explanations = try readExplanations(root)
        if let ref = analysis?.referenceArm {
            let known = Set(arms.map(\.id) + arms.map { $0.corpus?.id ?? ArmDesign.baselineKind })
            guard known.contains(ref) else {
                throw fail(join("analysis", "reference_arm"), "\"reference_arm\" \"\(ref)\" is not an arm (arms: \(arms.map(\.id).joined(separator: ", ")))")
            }
        }
        var design = ExperimentDesign(name: name, description: description, base: base, seeds: seeds, arms: arms,
                                      evaluation: evaluation, explanations: explanations, sourceName: sourceName, directory: directory)
        design.analysis = analysis
        return design
    }

    func readBase(_ t: TOMLTable) throws -> BaseModel {
        try checkKeys(t, "base", ["model", "scratch"])
        let model = try string(t, "model", "base")
        let scratch = try table(t, "scratch", "base")
        switch (model, scratch) {
        case (let m?, nil):
            guard !m.isEmpty else { throw fail("base.model", "\"model\" is empty") }
            return .pretrained(m)
        case (nil, let s?):
            return .scratch(try readScratch(s))
        case (_?, _?):
            throw fail("base.scratch", "[base] sets both \"model\" and [base.scratch]; choose one")
        case (nil, nil):
            throw fail("base", "[base] needs \"model\" (an alias or a .gguf path) or a [base.scratch] table")
        }
    }

    func readScratch(_ t: TOMLTable) throws -> ScratchConfig {
        let p = "base.scratch"
        try checkKeys(t, p, ScratchConfig.keys)
        func req(_ k: String, min: Int) throws -> Int {
            guard let v = try int(t, k, p, min: min) else { throw fail(p, "[base.scratch] needs \"\(k)\"") }
            return v
        }
        let arch = try string(t, "architecture", p) ?? "llama"
        guard arch == "llama" else { throw fail(join(p, "architecture"), "from-scratch models support architecture \"llama\" only (got \"\(arch)\")") }
        let dim = try req("dim", min: 8), layers = try req("layers", min: 1), heads = try req("heads", min: 1)
        let kv = try int(t, "kv_heads", p, min: 1) ?? heads
        guard dim % heads == 0 else { throw fail(join(p, "heads"), "\"dim\" (\(dim)) must be divisible by \"heads\" (\(heads))") }
        guard heads % kv == 0 else { throw fail(join(p, "kv_heads"), "\"heads\" (\(heads)) must be divisible by \"kv_heads\" (\(kv))") }
        guard (dim / heads) % 2 == 0 else { throw fail(join(p, "heads"), "the head size dim/heads = \(dim / heads) must be even (rotary embeddings)") }
        let ffn = try int(t, "ffn_dim", p, min: 1) ?? (dim * 8 / 3 + 63) / 64 * 64
        let tokenizer = try string(t, "tokenizer", p) ?? "bpe"
        var vocab = try int(t, "vocab", p, min: 1) ?? 0
        if tokenizer == "bpe" {
            guard vocab >= 260 else {
                throw fail(t["vocab"] == nil ? p : join(p, "vocab"), "a trained BPE tokenizer needs \"vocab\" ≥ 260 (256 bytes + specials)")
            }
        } else if vocab == 0 { vocab = 49152 }
        let ctx = try int(t, "context", p, min: 16) ?? 512
        let tokens = try int(t, "pretrain_tokens", p, min: 1000) ?? 2_000_000
        let mix = t["mix"] == nil ? [:] : try readMix(try table(t, "mix", p)!, join(p, "mix"))
        let training = try readTrain(t, p, defaults: TrainingSpec(mode: .full, steps: 1000, learningRate: 1e-3, sequenceLength: min(256, ctx),
                                                                   batchSize: 8, warmupSteps: 50, weightDecay: 0.1), checkUnknown: false)
        guard training.mode == .full else { throw fail(join(p, "mode"), "pretraining from scratch trains every weight: \"mode\" must be \"full\"") }
        guard training.sequenceLength <= ctx else { throw fail(join(p, "seq_len"), "\"seq_len\" (\(training.sequenceLength)) exceeds \"context\" (\(ctx))") }
        let cs = try seed(t, "corpus_seed", p) ?? 7
        return ScratchConfig(architecture: arch, dim: dim, layers: layers, heads: heads, kvHeads: kv, ffnDim: ffn, vocabularySize: vocab,
                             contextLength: ctx, tokenizer: tokenizer, pretrainTokens: tokens, mix: mix, training: training, corpusSeed: cs)
    }

    func readMix(_ t: TOMLTable, _ p: String) throws -> [String: Double] {
        let known = ArmSpec.builtIn.map(\.id)
        var out: [String: Double] = [:]
        for k in t.keys {
            guard known.contains(k) else {
                throw fail(join(p, k), "unknown corpus kind \"\(k)\" in the mix (known: \(known.joined(separator: ", ")))")
            }
            guard let w = try double(t, k, p, nonNegative: true) else { continue }
            out[k] = w
        }
        guard out.values.contains(where: { $0 > 0 }) else { throw fail(p, "the mix needs at least one positive proportion") }
        return out.filter { $0.value > 0 }
    }

    func readTrain(_ t: TOMLTable?, _ p: String, defaults: TrainingSpec, checkUnknown: Bool = true) throws -> TrainingSpec {
        guard let t else { return defaults }
        if checkUnknown { try checkKeys(t, p, TrainingSpec.keys) }
        var s = defaults
        if let m = try string(t, "mode", p) {
            guard let mode = TrainingSpec.Mode(rawValue: m) else { throw fail(join(p, "mode"), "unknown mode \"\(m)\" (known: lora, full)") }
            s.mode = mode
        }
        if let v = try int(t, "steps", p, min: 1) { s.steps = v }
        if let v = try double(t, "lr", p, positive: true) {
            guard v < 1 else { throw fail(join(p, "lr"), "\"lr\" = \(v) is not a plausible learning rate (expected < 1, e.g. 2e-4)") }
            s.learningRate = v
        }
        if let v = try int(t, "seq_len", p, min: 8) { s.sequenceLength = v }
        if let v = try int(t, "batch", p, min: 1) { s.batchSize = v }
        if let v = try int(t, "lora_rank", p, min: 1) { s.loraRank = v }
        if let v = try double(t, "lora_alpha", p, positive: true) { s.loraAlpha = v }
        if let v = try int(t, "warmup", p, min: 0) { s.warmupSteps = v }
        if let v = try double(t, "weight_decay", p, nonNegative: true) { s.weightDecay = v }
        if s.warmupSteps >= s.steps && t["warmup"] != nil {
            throw fail(join(p, "warmup"), "\"warmup\" (\(s.warmupSteps)) must be fewer than \"steps\" (\(s.steps))")
        }
        return s
    }

    func readPost(_ t: TOMLTable?, _ p: String, defaults: PostTrainingRecipe) throws -> PostTrainingRecipe {
        guard let t else { return defaults }
        try checkKeys(t, p, PostTrainingRecipe.keys)
        var r = defaults
        r.training = try readTrain(t, p, defaults: defaults.training, checkUnknown: false)
        if let s = try bool(t, "skip", p) { r.skip = s }
        var prompts = 128, maxTokens = 128, teacher: String? = nil, seed: UInt64 = 1
        if case .generated(let a, let b, let c, let d) = defaults.source { prompts = a; maxTokens = b; teacher = c; seed = d }
        let data = try string(t, "data", p)
        let generatedKeys = ["prompts", "max_tokens", "teacher", "seed"].filter { t[$0] != nil }
        if let d = data, d != "generated" {
            if let k = generatedKeys.first {
                throw fail(join(p, k), "\"\(k)\" applies to generated data only, but \"data\" names a file")
            }
            guard d.hasSuffix(".jsonl") else {
                throw fail(join(p, "data"), "\"data\" must be \"generated\" or a path to a chat .jsonl file (got \"\(d)\")")
            }
            let full = d.hasPrefix("/") ? d : URL(fileURLWithPath: directory).appendingPathComponent(d).standardized.path
            guard FileManager.default.fileExists(atPath: full) else {
                throw fail(join(p, "data"), "post-training data file not found: \(full)")
            }
            r.source = .file(path: d)
        } else if data != nil || !generatedKeys.isEmpty {
            if data == nil, case .file = defaults.source, let k = generatedKeys.first {
                throw fail(join(p, k), "\"\(k)\" applies to generated data only; set data = \"generated\" to override the file given in [post_training]")
            }
            if let v = try int(t, "prompts", p, min: 1) { prompts = v }
            if let v = try int(t, "max_tokens", p, min: 1) { maxTokens = v }
            if let v = try string(t, "teacher", p) { teacher = v }
            if let v = try self.seed(t, "seed", p) { seed = v }
            r.source = .generated(prompts: prompts, maxTokens: maxTokens, teacher: teacher, seed: seed)
        }
        return r
    }

    func readAnalysis(_ t: TOMLTable?) throws -> AnalysisSettings? {
        guard let t else { return nil }
        let p = "analysis"
        try checkKeys(t, p, AnalysisSettings.keys)
        var a = AnalysisSettings()
        a.equivalenceMargin = try double(t, "equivalence_margin", p, nonNegative: true)
        if let m = a.equivalenceMargin, m >= 1 { throw fail(join(p, "equivalence_margin"), "\"equivalence_margin\" is a difference in probability: below 1 (got \(m))") }
        a.alpha = try double(t, "alpha", p, positive: true)
        if let v = a.alpha, v >= 1 { throw fail(join(p, "alpha"), "\"alpha\" must be below 1 (got \(v))") }
        a.level = try double(t, "level", p, positive: true)
        if let v = a.level, v >= 1 { throw fail(join(p, "level"), "\"level\" must be below 1 (got \(v))") }
        a.replicates = try int(t, "replicates", p, min: 100)
        a.minimumEffect = try double(t, "minimum_effect", p, positive: true)
        a.referenceArm = try string(t, "reference_arm", p)
        return a
    }

    func readEvaluation(_ t: TOMLTable?) throws -> EvaluationSpec {
        let p = "evaluation"
        var spec = EvaluationSpec(designName: "rival", cells: BatteryDesign.rivalDiscriminating.cells, measures: [.likelihood],
                                  samples: 4, variants: 2, temperature: 0.8, maxTokens: 256, candidates: 6, seed: 1)
        guard let t else { return spec }
        try checkKeys(t, p, EvaluationSpec.keys)
        if let v = t["cells"] {
            if let name = v.string {
                do { spec.cells = try BatteryDesign.named(name).cells; spec.designName = name } catch {
                    if let c = try? EvaluationSpec.cell(named: name) { spec.cells = [c]; spec.designName = nil } else {
                        throw fail(join(p, "cells"), "unknown cells \"\(name)\": expected a design (rival, full, classic, control), a cell id or an alias")
                    }
                }
            } else if let arr = v.array {
                var cells: [Cell] = []
                for i in 0..<arr.count {
                    guard let s = arr[i].string else { throw fail(join(p, "cells"), "cell #\(i + 1) must be a string (a cell id or alias)") }
                    do { cells.append(try EvaluationSpec.cell(named: s)) } catch {
                        throw fail(join(p, "cells"), "cell #\(i + 1) \"\(s)\": \(error)")
                    }
                }
                guard !cells.isEmpty else { throw fail(join(p, "cells"), "\"cells\" is empty") }
                var seen = Set<Cell>()
                spec.cells = cells.filter { seen.insert($0).inserted }
                spec.designName = nil
            } else {
                throw fail(join(p, "cells"), "\"cells\" must be a design name or a list of cell ids/aliases")
            }
        }
        if let v = t["measures"] {
            let names: [String]
            if let s = v.string { names = [s] } else if let arr = v.array {
                names = try (0..<arr.count).map { i in
                    guard let s = arr[i].string else { throw fail(join(p, "measures"), "measure #\(i + 1) must be a string") }
                    return s
                }
            } else { throw fail(join(p, "measures"), "\"measures\" must be a list like [\"likelihood\", \"sampled\"]") }
            spec.measures = try names.map { n in
                guard let m = Measure(rawValue: n) else { throw fail(join(p, "measures"), "unknown measure \"\(n)\" (known: sampled, likelihood)") }
                return m
            }
            guard !spec.measures.isEmpty else { throw fail(join(p, "measures"), "\"measures\" is empty") }
        }
        if let v = try int(t, "samples", p, min: 1) { spec.samples = v }
        if let v = try int(t, "variants", p, min: 1) { spec.variants = v }
        if let v = try double(t, "temperature", p, nonNegative: true) { spec.temperature = v }
        if let v = try int(t, "max_tokens", p, min: 1) { spec.maxTokens = v }
        if let v = try int(t, "candidates", p, min: 1) { spec.candidates = v }
        if let v = try seed(t, "seed", p) { spec.seed = v }
        return spec
    }

    func readArmCorpus(_ t: TOMLTable, _ p: String, armID: String, target: Int, seed: UInt64, tolerance: Double) throws -> CorpusSpec? {
        guard let v = t["corpus"] else { return nil }
        let cp = join(p, "corpus")
        let known = ArmSpec.builtIn.map(\.id)
        if let s = v.string {
            if s == "none" { return nil }
            guard let spec = ArmSpec.builtIn(s) else {
                throw fail(cp, "unknown corpus kind \"\(s)\" (known: none, \(known.joined(separator: ", "))); for a custom corpus write a [arm.corpus] table")
            }
            return CorpusSpec(arm: makeRecipeArm(spec: spec, importPath: nil), targetTokens: target, seed: seed, tolerance: tolerance)
        }
        guard let ct = v.table else { throw fail(cp, "\"corpus\" must be a corpus kind (string) or a table") }
        let extra = ["target_tokens", "seed", "tolerance"]
        try checkKeys(ct, cp, CorpusRecipeKeys.arm.filter { $0 != "id" } + extra, label: "[arm.corpus]")
        let tgt = try int(ct, "target_tokens", cp, min: 1) ?? target
        let sd = try self.seed(ct, "seed", cp) ?? seed
        var tol = tolerance
        if let x = try double(ct, "tolerance", cp) {
            guard x > 0 && x < 0.5 else { throw fail(join(cp, "tolerance"), "\"tolerance\" must be in (0, 0.5)") }
            tol = x
        }
        // Validate through the corpus recipe parser, so custom arms obey exactly its rules.
        var lines = ["seed = 1", "target_tokens = 1", "[[arm]]", "id = \(tomlString(armID))"]
        var lineKeys: [Int: String] = [:]
        for k in ct.keys where !extra.contains(k) {
            guard let val = ct[k] else { continue }
            guard let rendered = renderTOML(val) else { throw fail(join(cp, k), "cannot read the value of \"\(k)\"") }
            var value = rendered
            if k == "import", let s = val.string { value = tomlString(s.hasPrefix("/") ? s : URL(fileURLWithPath: directory).appendingPathComponent(s).standardized.path) }
            lineKeys[lines.count + 1] = k
            lines.append("\(k) = \(value)")
        }
        do {
            let recipe = try CorpusRecipe.parse(tomlText: lines.joined(separator: "\n"), sourceName: sourceName)
            return CorpusSpec(arm: recipe.arms[0], targetTokens: tgt, seed: sd, tolerance: tol)
        } catch let e as RecipeError {
            let key = e.line.flatMap { lineKeys[$0] }
            throw fail(key.map { join(cp, $0) } ?? cp, "corpus of arm \"\(armID)\": \(e.message)")
        }
    }

    func readExplanations(_ root: TOMLTable) throws -> [ExplanationSpec] {
        guard let v = root["explanation"] else { return [] }
        guard let arr = v.array else { throw fail("explanation", "\"explanation\" must be an array of tables ([[explanation]])") }
        var out: [ExplanationSpec] = []
        for i in 0..<arr.count {
            let p = "explanation[\(i)]"
            guard let t = arr[i].table else { throw fail(p, "each explanation must be a table") }
            try checkKeys(t, p, ExplanationSpec.keys, label: "[[explanation]]")
            guard let id = try string(t, "id", p), !id.isEmpty else { throw fail(p, "explanation #\(i + 1) has no \"id\"") }
            if out.contains(where: { $0.id == id }) { throw fail(join(p, "id"), "duplicate explanation id \"\(id)\"") }
            guard let pt = try table(t, "predicts", p) else {
                throw fail(p, "explanation \"\(id)\" has no \"predicts\" table (contrast = \"+\" | \"-\" | \"0\")")
            }
            let pp = join(p, "predicts")
            var preds: [ExplanationSpec.ContrastPrediction] = []
            for k in pt.keys.sorted(by: { (map.line(join(pp, $0)) ?? 0) < (map.line(join(pp, $1)) ?? 0) }) {
                guard let s = pt[k]?.string, let sign = PredictedSign(parsing: s) else {
                    throw fail(join(pp, k), "prediction for \"\(k)\" must be \"+\", \"-\" or \"0\" (or positive, negative, zero)")
                }
                preds.append(.init(contrast: k, sign: sign))
            }
            guard !preds.isEmpty else { throw fail(pp, "explanation \"\(id)\" predicts nothing") }
            out.append(ExplanationSpec(id: id, description: try string(t, "description", p) ?? "", predictions: preds))
        }
        return out
    }
}

/// The keys a corpus-recipe arm accepts (kept beside the recipe parser's own list).
enum CorpusRecipeKeys {
    static let arm = ["id", "base", "description", "protagonist", "dilemmas", "resolutions", "genres", "pov", "lengths", "import"]
}

/// A TOML basic string literal.
func tomlString(_ s: String) -> String {
    var out = "\""
    for ch in s.unicodeScalars {
        switch ch {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default: out.unicodeScalars.append(ch)
        }
    }
    return out + "\""
}

/// Renders a TOML value inline (strings, numbers, booleans, arrays, inline tables).
func renderTOML(_ v: TOMLValueConvertible) -> String? {
    if let s = v.string { return tomlString(s) }
    if let b = v.bool { return b ? "true" : "false" }
    if let i = v.int { return String(i) }
    if let d = v.double { return String(d) }
    if let a = v.array {
        var parts: [String] = []
        for i in 0..<a.count { guard let r = renderTOML(a[i]) else { return nil }; parts.append(r) }
        return "[" + parts.joined(separator: ", ") + "]"
    }
    if let t = v.table {
        var parts: [String] = []
        for k in t.keys { guard let x = t[k], let r = renderTOML(x) else { return nil }; parts.append("\(tomlString(k)) = \(r)") }
        return "{ " + parts.joined(separator: ", ") + " }"
    }
    return nil
}

/// A cell from an id (`factor=level,…`), an alias of the full design (`R-G-ai-sal-sto-x`) or `control`/`classic`.
extension EvaluationSpec {
    public static func cell(named s: String) throws -> Cell {
    if s == "control" { return .control }
    if s == "classic" { return .classic }
    if let c = BatteryDesign.full.cells.first(where: { $0.alias == s }) { return c }
    return try Cell(id: s)
    }
}

/// Levenshtein distance, for "did you mean" hints.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a), y = Array(b)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var prev = Array(0...y.count), cur = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        cur[0] = i
        for j in 1...y.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[y.count]
}
