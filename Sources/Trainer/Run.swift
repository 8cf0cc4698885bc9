import ChatTemplate
import Foundation
import GGUF
import Tokenization
import TOMLKit
import Training
import Transformer

/// How the model to train is made.
public enum TrainingMode: String, Sendable, Codable, CaseIterable {
    /// Every weight of a loaded GGUF model is trained (dequantized to fp32).
    case full
    /// Low-rank adapters on a frozen loaded model.
    case lora
    /// A new model with random weights, shaped by the `dim`/`layers`/... settings.
    case scratch
}

/// Every setting of `hyperlab train`, readable from TOML (keys as below, `-` or `_` both accepted).
public struct TrainSettings: Codable, Equatable, Sendable {
    public var mode: TrainingMode = .scratch
    /// Base model (alias or .gguf path) for full and LoRA modes.
    public var model: String?
    /// Scratch mode: a .gguf whose tokenizer (and chat template) to use, or "bpe:N" to train a byte-level
    /// BPE tokenizer of N tokens on the training texts.
    public var tokenizer: String = "bpe:512"
    // Scratch architecture.
    public var dim: Int = 128
    public var layers: Int = 4
    public var heads: Int = 4
    public var kvHeads: Int = 4
    public var ffn: Int = 384
    public var ropeBase: Float = 10000
    /// Scratch mode: the context length written into the model (what inference may use). Default
    /// max(seq_len, 256); set it to the longest prompt the model will be evaluated on (the battery's
    /// prompts run to ~4,000 tokens). Positions past seq_len are never trained, only rotated.
    public var context: Int?
    // LoRA.
    /// LoRA: also export the base with the trained adapter merged in (`model.gguf`), for consumers that load
    /// one file (the pipeline's later stages). Off by default: the adapter alone is the LoRA run's output.
    public var mergeLoRA: Bool = false
    public var rank: Int = 8
    public var alpha: Float = 16
    public var dropout: Float = 0
    /// Comma-separated modules (attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down) or "all".
    public var targets: String = "all"
    public var freezeEmbeddings: Bool = false
    // Data.
    public var train: String = ""
    public var val: String?
    /// Validation share of the training file when `val` is absent.
    public var valFraction: Double = 0.05
    public var format: DataFormat = .text
    public var seqLen: Int = 128
    // Optimisation.
    public var steps: Int = 200
    public var batch: Int = 8
    public var accum: Int = 1
    public var lr: Float = 1e-3
    public var minLrRatio: Float = 0.1
    public var warmup: Int = 10
    public var schedule: ScheduleKind = .cosine
    public var weightDecay: Float = 0.1
    public var decayEmbeddings: Bool = false
    public var beta1: Float = 0.9
    public var beta2: Float = 0.95
    public var clip: Double = 1.0
    public var evalEvery: Int = 50
    public var evalRows: Int = 0
    public var checkpointEvery: Int = 50
    public var seed: UInt64 = 1
    // Output.
    public var out: String = "train-out"
    /// Export format at the end: f32, f16, q8_0 or none.
    public var export: String = "f16"
    public var resume: Bool = false

    public init() {}

    /// Reads settings from TOML text; unknown keys are an error (so typos do not pass silently).
    public static func fromTOML(_ text: String, base: TrainSettings = TrainSettings()) throws -> TrainSettings {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch { throw SettingsError("invalid TOML: \(error)") }
        var s = base
        for key in table.keys {
            guard let value = table[key] else { continue }
            let v = value.tomlValue
            let k = key.replacingOccurrences(of: "-", with: "_")
            func str() throws -> String {
                guard let x = v.string else { throw SettingsError("\(key) must be a string") }
                return x
            }
            func int() throws -> Int {
                if let x = v.int { return x }
                throw SettingsError("\(key) must be an integer")
            }
            func dbl() throws -> Double {
                if let x = v.double { return x }
                if let x = v.int { return Double(x) }
                throw SettingsError("\(key) must be a number")
            }
            func bool() throws -> Bool {
                guard let x = v.bool else { throw SettingsError("\(key) must be true or false") }
                return x
            }
            switch k {
            case "mode": guard let m = TrainingMode(rawValue: try str()) else { throw SettingsError("mode must be full, lora or scratch") }; s.mode = m
            case "model": s.model = try str()
            case "tokenizer": s.tokenizer = try str()
            case "dim": s.dim = try int()
            case "layers": s.layers = try int()
            case "heads": s.heads = try int()
            case "kv_heads": s.kvHeads = try int()
            case "ffn": s.ffn = try int()
            case "rope_base": s.ropeBase = Float(try dbl())
            case "context": s.context = try int()
            case "merge_lora": s.mergeLoRA = try bool()
            case "rank": s.rank = try int()
            case "alpha": s.alpha = Float(try dbl())
            case "dropout": s.dropout = Float(try dbl())
            case "targets":
                if let arr = v.array { s.targets = arr.compactMap { $0.tomlValue.string }.joined(separator: ",") } else { s.targets = try str() }
            case "freeze_embeddings": s.freezeEmbeddings = try bool()
            case "train": s.train = try str()
            case "val": s.val = try str()
            case "val_fraction": s.valFraction = try dbl()
            case "format": guard let f = DataFormat(rawValue: try str()) else { throw SettingsError("format must be text or chat") }; s.format = f
            case "seq_len": s.seqLen = try int()
            case "steps": s.steps = try int()
            case "batch": s.batch = try int()
            case "accum": s.accum = try int()
            case "lr": s.lr = Float(try dbl())
            case "min_lr_ratio": s.minLrRatio = Float(try dbl())
            case "warmup": s.warmup = try int()
            case "schedule": guard let x = ScheduleKind(rawValue: try str()) else { throw SettingsError("schedule must be constant, cosine or linear") }; s.schedule = x
            case "weight_decay": s.weightDecay = Float(try dbl())
            case "decay_embeddings": s.decayEmbeddings = try bool()
            case "beta1": s.beta1 = Float(try dbl())
            case "beta2": s.beta2 = Float(try dbl())
            case "clip": s.clip = try dbl()
            case "eval_every": s.evalEvery = try int()
            case "eval_rows": s.evalRows = try int()
            case "checkpoint_every": s.checkpointEvery = try int()
            case "seed": s.seed = UInt64(try int())
            case "out": s.out = try str()
            case "export": s.export = try str()
            case "resume": s.resume = try bool()
            default: throw SettingsError("unknown setting \"\(key)\"")
            }
        }
        return s
    }

    /// The trainer settings these describe.
    public var trainerConfig: TrainerConfig {
        TrainerConfig(steps: steps, microBatchRows: batch, accumulation: accum,
                      optimizer: AdamWConfig(learningRate: lr, beta1: beta1, beta2: beta2, weightDecay: weightDecay,
                                             decayEmbeddings: decayEmbeddings),
                      schedule: schedule, warmupSteps: warmup, minLRRatio: minLrRatio, gradClip: clip,
                      evalEvery: evalEvery, evalRows: evalRows, checkpointEvery: checkpointEvery, seed: seed)
    }

    /// LoRA settings (targets parsed).
    public func loraConfig() throws -> LoRAConfig {
        let t: Set<String>
        if targets == "all" || targets.isEmpty { t = LoRAConfig.allLinear } else {
            t = Set(targets.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            let bad = t.subtracting(LoRAConfig.allLinear)
            guard bad.isEmpty else { throw SettingsError("unknown LoRA targets \(bad.sorted()); known: \(LoRAConfig.allLinear.sorted())") }
        }
        return LoRAConfig(rank: rank, alpha: alpha, dropout: dropout, targets: t)
    }
}

/// An invalid training setting.
public struct SettingsError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// A Llama-shaped configuration for a model trained from scratch.
public func scratchConfig(vocabularySize: Int, dim: Int, layers: Int, heads: Int, kvHeads: Int, ffn: Int,
                          context: Int, ropeBase: Float = 10000) throws -> ModelConfig {
    guard dim > 0, layers > 0, heads > 0, kvHeads > 0, ffn > 0, vocabularySize > 0, context > 0 else {
        throw SettingsError("model sizes must be positive")
    }
    guard dim % heads == 0 else { throw SettingsError("dim \(dim) is not a multiple of heads \(heads)") }
    guard heads % kvHeads == 0 else { throw SettingsError("heads \(heads) is not a multiple of kv heads \(kvHeads)") }
    let hd = dim / heads
    guard hd % 2 == 0 else { throw SettingsError("head width \(hd) must be even (rotary embeddings)") }
    // ModelConfig has no public memberwise initializer; it is Codable, so build it from its fields.
    let fields: [String: Any] = [
        "architecture": "llama", "vocabularySize": vocabularySize, "dim": dim, "layerCount": layers,
        "headCount": heads, "kvHeadCount": kvHeads, "headDim": hd, "valueHeadDim": hd, "ffnDim": ffn,
        "normEpsilon": 1e-5, "contextLength": context, "ropeBase": Double(ropeBase), "ropeBaseLocal": Double(ropeBase),
        "ropeScale": 1.0, "ropeDims": hd, "ropeStyle": "interleaved", "activation": "silu",
        "slidingLayers": [Bool](repeating: false, count: layers), "embeddingScale": 1.0,
        "attentionScale": 1 / Double(hd).squareRoot(), "hasQKNorm": false, "hasPostNorms": false, "hasQKVBias": false,
    ]
    let data = try JSONSerialization.data(withJSONObject: fields)
    return try JSONDecoder().decode(ModelConfig.self, from: data)
}

/// A complete training run as `hyperlab train` performs it: build the model, read and pack the data,
/// train (resuming from `out/checkpoint.bin` when asked), export.
public enum TrainRun {
    /// Runs training; `log` receives human-readable notes. Returns the summary.
    @discardableResult
    public static func execute(_ s: TrainSettings, sleepAfterStepMs: Int = 0, showProgress: Bool = true,
                               log: @escaping (String) -> Void) throws -> TrainingSummary {
        guard !s.train.isEmpty else { throw SettingsError("no training file (train)") }
        guard s.seqLen >= 2 else { throw SettingsError("seq_len must be at least 2") }
        if let c = s.context, c < s.seqLen { throw SettingsError("context (\(c)) is shorter than seq_len (\(s.seqLen))") }
        try FileManager.default.createDirectory(atPath: s.out, withIntermediateDirectories: true)
        let records = try JSONLData.load(path: s.train)
        let valRecords = try s.val.map { try JSONLData.load(path: $0) }

        // The model and tokenizer.
        var baseFile: GGUFFile?
        var basePath: String?
        let tokenizer: Tokenizer
        let render: ([ChatMessage], Bool) throws -> String
        let model: TrainModel
        var extraMetadata: [String: GGUFValue] = [:]
        var runInfo: [String: String] = ["mode": s.mode.rawValue]
        switch s.mode {
        case .full, .lora:
            guard let name = s.model else { throw SettingsError("\(s.mode.rawValue) mode needs a base model (model)") }
            let path = try ModelStore.resolve(name, log: log)
            let base = try Model(path: path)
            baseFile = base.file; basePath = path
            tokenizer = base.tokenizer
            render = { try base.renderChat($0, addGenerationPrompt: $1) }
            if s.mode == .lora {
                let lc = try s.loraConfig()
                model = try TrainModel(model: base, mode: .lora(lc), freezeEmbeddings: true, seed: s.seed)
                runInfo["base"] = path
                runInfo["base_sha256"] = try SHA256Digest.hex(file: path)
                runInfo["lora"] = "rank=\(lc.rank) alpha=\(lc.alpha) dropout=\(lc.dropout) targets=\(lc.targets.sorted().joined(separator: ","))"
            } else {
                model = try TrainModel(model: base, mode: .full, freezeEmbeddings: s.freezeEmbeddings, seed: s.seed)
                runInfo["base"] = path
            }
        case .scratch:
            let templateSource: String?
            if s.tokenizer.hasPrefix("bpe:") {
                guard let n = Int(s.tokenizer.dropFirst(4)), n > 0 else { throw SettingsError("tokenizer bpe:N needs a positive N") }
                var texts: [String] = []
                for r in records {
                    switch r {
                    case .text(let t): texts.append(t)
                    case .messages(let ms): texts += ms.map(\.content)
                    }
                }
                let vocab = try BPETrainer.train(texts, configuration: BPETrainerConfiguration(vocabularySize: n, addBOS: false))
                tokenizer = try vocab.makeTokenizer()
                extraMetadata = vocab.ggufMetadata
                templateSource = vocab.chatTemplate
                log("trained a BPE tokenizer of \(tokenizer.vocabularySize) tokens")
            } else {
                let path = try ModelStore.resolve(s.tokenizer, log: log)
                let file = try GGUFFile(path: path)
                tokenizer = try Tokenizer(gguf: file)
                for k in file.metadataKeys where k.hasPrefix("tokenizer.") { extraMetadata[k] = file.metadata[k]! }
                templateSource = file.metadata["tokenizer.chat_template"]?.string
            }
            let template = try templateSource.map { try ChatTemplate(source: $0) }
            let bos = tokenizer.bosID.map { tokenizer.tokenText($0) } ?? ""
            let eos = tokenizer.eosID.map { tokenizer.tokenText($0) } ?? ""
            render = { msgs, gen in
                guard let t = template else { return ChatTemplate.plain(messages: msgs, addGenerationPrompt: gen) }
                return try t.render(messages: msgs, addGenerationPrompt: gen, bosToken: bos, eosToken: eos)
            }
            let cfg = try scratchConfig(vocabularySize: tokenizer.vocabularySize, dim: s.dim, layers: s.layers, heads: s.heads,
                                        kvHeads: s.kvHeads, ffn: s.ffn, context: s.context ?? max(s.seqLen, 256), ropeBase: s.ropeBase)
            model = try TrainModel(config: cfg, mode: .full, freezeEmbeddings: s.freezeEmbeddings, tiedOutput: true, seed: s.seed)
            runInfo["tokenizer"] = s.tokenizer
        }
        log("model: \(s.mode.rawValue), \(model.parameterCount) trainable parameters in \(model.tensors.count) tensors")

        // The data.
        let (trainRecs, valRecs): ([TrainingRecord], [TrainingRecord]) = valRecords.map { (records, $0) }
            ?? DataPrep.split(records, validationFraction: s.valFraction, seed: s.seed)
        func rows(_ recs: [TrainingRecord], _ what: String) throws -> TokenRows {
            switch s.format {
            case .text:
                var docs: [String] = []
                for r in recs {
                    guard case .text(let t) = r else { throw SettingsError("\(what) holds a conversation but format is text") }
                    docs.append(t)
                }
                return try DataPrep.packDocuments(docs, tokenizer: tokenizer, length: s.seqLen)
            case .chat:
                var chats: [DataPrep.ChatTokens] = []
                for (i, r) in recs.enumerated() {
                    guard case .messages(let ms) = r else { throw SettingsError("\(what) holds a text record but format is chat") }
                    chats.append(try DataPrep.tokenizeChat(ms, tokenizer: tokenizer, line: i + 1, render: render))
                }
                let pad = Int32(tokenizer.eosID ?? 0)
                let (r, truncated) = DataPrep.packChats(chats, length: s.seqLen, padID: pad)
                if truncated > 0 { log("\(what): \(truncated) conversation(s) longer than seq_len were truncated") }
                return r
            }
        }
        var trainRows = try rows(trainRecs, "training data")
        var valRows: TokenRows? = nil
        if !valRecs.isEmpty {
            do {
                valRows = try rows(valRecs, "validation data")
            } catch DataError.tooFewTokens(_, let tokens, let needed) where valRecords == nil {
                // A split of a tiny corpus can leave less than one sequence for validation: train on
                // everything rather than fail, and say that there is no held-out loss.
                log("validation split has \(tokens) tokens, fewer than one sequence (\(needed)): "
                    + "training on all \(records.count) records without held-out loss")
                valRows = nil
                trainRows = try rows(records, "training data")
            }
        }
        log("data: \(trainRecs.count) training records → \(trainRows.count) rows of \(s.seqLen) (\(trainRows.lossTokenCount) loss tokens); "
            + "\(valRecs.count) validation records → \(valRows?.count ?? 0) rows")

        let trainer = try Trainer(model: model, train: trainRows, validation: valRows, config: s.trainerConfig, outputDirectory: s.out)
        trainer.runInfo = runInfo
        trainer.sleepAfterStepMs = sleepAfterStepMs
        trainer.showProgress = showProgress
        if s.resume, let cp = trainer.checkpointPath, FileManager.default.fileExists(atPath: cp) {
            try trainer.resume(from: Checkpoint.load(path: cp))
            log("resumed from \(cp) at step \(trainer.step)")
        } else if s.resume {
            log("no checkpoint in \(s.out); starting from step 0")
        }
        let summary = try trainer.run()

        // Export.
        if s.export != "none" {
            guard let type = ExportType(rawValue: s.export) else {
                throw SettingsError("export must be one of \(ExportType.allCases.map(\.rawValue)) or none")
            }
            if s.mode == .lora {
                let p = s.out + "/adapter.gguf"
                try exportLoRAAdapter(model: model, base: baseFile, to: p, alpha: s.alpha, type: type)
                log("wrote \(p) (LoRA adapter for \(basePath ?? "?"))")
                if s.mergeLoRA {
                    let merged = s.out + "/model.gguf"
                    try exportGGUF(model: model, base: baseFile, to: merged, type: type)
                    log("wrote \(merged) (base + adapter, merged)")
                }
            } else {
                let p = s.out + "/model.gguf"
                try exportGGUF(model: model, base: baseFile, to: p, type: type, extraMetadata: baseFile == nil ? extraMetadata : [:])
                log("wrote \(p)")
            }
        }
        return summary
    }
}
