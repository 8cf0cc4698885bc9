import ArgumentParser
import Foundation
import Trainer

/// `hyperlab train`: continued pretraining, chat SFT, LoRA or from-scratch training on the CPU.
/// Settings come from `--config file.toml` (keys as in `TrainSettings`), overridden by flags.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model (full, LoRA, or from scratch) on JSONL data; writes checkpoints, metrics.jsonl, loss.svg and a GGUF.",
        discussion: """
        Data: JSONL lines {"text": ...} (--format text: documents packed with EOS into fixed-length rows) or
        {"messages": [{"role": ..., "content": ...}]} (--format chat: loss only on assistant tokens).
        Interrupted runs continue exactly with --resume (same settings, same --out).
        """)

    @Option(help: "A TOML file of settings (keys like seq_len, lr, mode); flags override it.") var config: String?
    @Option(help: "full | lora | scratch") var mode: String?
    @Option(name: .shortAndLong, help: "Base model alias or .gguf (full, lora).") var model: String?
    @Option(help: "Scratch: a .gguf whose tokenizer to use, or bpe:N to train one of N tokens (default bpe:512).") var tokenizer: String?
    @Option(help: "Scratch: residual width.") var dim: Int?
    @Option(help: "Scratch: layers.") var layers: Int?
    @Option(help: "Scratch: attention heads.") var heads: Int?
    @Option(help: "Scratch: key/value heads.") var kvHeads: Int?
    @Option(help: "Scratch: MLP width.") var ffn: Int?
    @Option(help: "Scratch: context length written into the model (default max(seq-len, 256)).") var context: Int?
    @Option(help: "LoRA rank.") var rank: Int?
    @Option(help: "LoRA alpha.") var alpha: Float?
    @Option(help: "LoRA dropout.") var dropout: Float?
    @Option(help: "LoRA targets: comma list of attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_up,ffn_down, or all.") var targets: String?
    @Flag(help: "Keep the token embeddings fixed.") var freezeEmbeddings = false
    @Flag(help: "LoRA: also write model.gguf, the base with the trained adapter merged in.") var mergeLora = false
    @Option(help: "Training JSONL.") var train: String?
    @Option(help: "Validation JSONL (default: a seeded share of --train).") var val: String?
    @Option(help: "Validation share of --train when --val is absent.") var valFraction: Double?
    @Option(help: "text | chat") var format: String?
    @Option(help: "Tokens per training row.") var seqLen: Int?
    @Option(help: "Optimizer steps.") var steps: Int?
    @Option(help: "Rows per micro-batch.") var batch: Int?
    @Option(help: "Micro-batches accumulated per step.") var accum: Int?
    @Option(help: "Peak learning rate.") var lr: Float?
    @Option(help: "Final learning rate as a fraction of the peak.") var minLrRatio: Float?
    @Option(help: "Warmup steps.") var warmup: Int?
    @Option(help: "cosine | linear | constant") var schedule: String?
    @Option(help: "AdamW weight decay.") var weightDecay: Float?
    @Flag(help: "Apply weight decay to the token embeddings too.") var decayEmbeddings = false
    @Option(help: "Maximum global gradient norm (0: off).") var clip: Double?
    @Option(help: "Validate every N steps.") var evalEvery: Int?
    @Option(help: "At most N validation rows per evaluation (0: all).") var evalRows: Int?
    @Option(help: "Checkpoint every N steps.") var checkpointEvery: Int?
    @Option(help: "Seed of initialisation, data split and order.") var seed: UInt64?
    @Option(help: "Output directory.") var out: String?
    @Option(help: "Export at the end: f32 | f16 | q8_0 | none.") var export: String?
    @Flag(help: "Continue from OUT/checkpoint.bin if present.") var resume = false
    @Option(help: "Worker threads (default: HYPERLAB_THREADS or all cores).") var threads: Int?
    @Flag(help: "No progress line.") var quiet = false
    @Option(help: .hidden) var sleepMs: Int = 0

    func settings() throws -> TrainSettings {
        var s = TrainSettings()
        if let c = config {
            guard let text = try? String(contentsOfFile: c, encoding: .utf8) else { throw CLIError("cannot read \(c)") }
            s = try TrainSettings.fromTOML(text)
        }
        if let v = mode { guard let m = TrainingMode(rawValue: v) else { throw CLIError("--mode must be full, lora or scratch") }; s.mode = m }
        if let v = model { s.model = v }
        if let v = tokenizer { s.tokenizer = v }
        if let v = dim { s.dim = v }
        if let v = layers { s.layers = v }
        if let v = heads { s.heads = v }
        if let v = kvHeads { s.kvHeads = v } else if heads != nil && config == nil { s.kvHeads = s.heads }
        if let v = ffn { s.ffn = v }
        if let v = context { s.context = v }
        if let v = rank { s.rank = v }
        if let v = alpha { s.alpha = v }
        if let v = dropout { s.dropout = v }
        if let v = targets { s.targets = v }
        if freezeEmbeddings { s.freezeEmbeddings = true }
        if mergeLora { s.mergeLoRA = true }
        if let v = train { s.train = v }
        if let v = val { s.val = v }
        if let v = valFraction { s.valFraction = v }
        if let v = format { guard let f = DataFormat(rawValue: v) else { throw CLIError("--format must be text or chat") }; s.format = f }
        if let v = seqLen { s.seqLen = v }
        if let v = steps { s.steps = v }
        if let v = batch { s.batch = v }
        if let v = accum { s.accum = v }
        if let v = lr { s.lr = v }
        if let v = minLrRatio { s.minLrRatio = v }
        if let v = warmup { s.warmup = v }
        if let v = schedule { guard let k = ScheduleKind(rawValue: v) else { throw CLIError("--schedule must be cosine, linear or constant") }; s.schedule = k }
        if let v = weightDecay { s.weightDecay = v }
        if decayEmbeddings { s.decayEmbeddings = true }
        if let v = clip { s.clip = v }
        if let v = evalEvery { s.evalEvery = v }
        if let v = evalRows { s.evalRows = v }
        if let v = checkpointEvery { s.checkpointEvery = v }
        if let v = seed { s.seed = v }
        if let v = out { s.out = v }
        if let v = export { s.export = v }
        if resume { s.resume = true }
        return s
    }

    func run() throws {
        if let t = threads { setenv("HYPERLAB_THREADS", String(t), 1) }
        let s = try settings()
        let summary = try TrainRun.execute(s, sleepAfterStepMs: sleepMs, showProgress: !quiet, log: note)
        var line = "done: \(summary.steps) steps, loss \(String(format: "%.4f", summary.finalLoss))"
        if let v = summary.finalValidationLoss { line += ", val loss \(String(format: "%.4f", v)) (ppl \(String(format: "%.2f", exp(v))))" }
        note(line + ", \(String(format: "%.1f", summary.elapsed)) s; outputs in \(s.out)")
    }
}
