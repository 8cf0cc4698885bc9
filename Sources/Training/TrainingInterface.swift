import Transformer

// The contract between the model math (this target, `Training`) and everything that drives it
// (the `Trainer` target: optimizer, data, checkpoints, export, the CLI). Keep it small and stable.

/// One named trainable tensor inside a model's flat parameter buffer.
public struct ParameterTensor: Sendable, Equatable, Codable {
    /// GGUF tensor name, e.g. "blk.3.attn_q.weight"; LoRA adapters use the base name with
    /// ".lora_a" / ".lora_b" appended, as llama.cpp's adapter files do.
    public var name: String
    /// GGUF dimension order: ne0 (the contiguous, inner dimension) first. A linear weight mapping k
    /// inputs to n outputs has shape [k, n].
    public var shape: [Int]
    /// Offset of the first element in the flat buffers (parameters, gradients, optimizer moments).
    public var offset: Int
    /// Number of elements.
    public var count: Int
    /// Whether AdamW's decoupled weight decay applies (false for norms, biases and, by default, embeddings
    /// follow the optimizer's own setting).
    public var decay: Bool

    public init(name: String, shape: [Int], offset: Int, count: Int, decay: Bool) {
        self.name = name; self.shape = shape; self.offset = offset; self.count = count; self.decay = decay
    }
}

/// A batch of `rows` training sequences of `length` tokens each, row-major.
/// `targets[i]` is the token id to predict at position i, or -1 where no loss is taken.
public struct TrainBatch: Sendable {
    public var rows: Int
    public var length: Int
    public var inputs: [Int32]
    public var targets: [Int32]
    /// Seed for anything random in the forward pass (LoRA dropout). Same seed, same result.
    public var seed: UInt64
    /// Packed documents: for each position (row-major, like `inputs`) the position in its row where its
    /// document begins. Attention never crosses into an earlier document. nil: each row is one sequence.
    public var documentStarts: [Int32]?

    public init(rows: Int, length: Int, inputs: [Int32], targets: [Int32], seed: UInt64 = 0,
                documentStarts: [Int32]? = nil) {
        self.rows = rows; self.length = length; self.inputs = inputs; self.targets = targets; self.seed = seed
        self.documentStarts = documentStarts
    }
    /// Number of positions that carry loss.
    public var lossTokenCount: Int { targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }
}

/// Summed cross-entropy (natural log) over the positions that carry loss.
public struct LossResult: Sendable, Equatable {
    public var lossSum: Double
    public var tokenCount: Int
    public init(lossSum: Double, tokenCount: Int) { self.lossSum = lossSum; self.tokenCount = tokenCount }
    /// Mean loss per token (0 when no token carries loss).
    public var mean: Double { tokenCount > 0 ? lossSum / Double(tokenCount) : 0 }
}

/// A model that can be trained: flat fp32 parameters and gradients, and a forward+backward pass.
public protocol TrainableModel: AnyObject {
    /// Shape of the network (architecture, widths, vocabulary...).
    var config: ModelConfig { get }
    /// The trainable tensors, in buffer order. In LoRA mode only the adapters; frozen tensors are absent.
    var tensors: [ParameterTensor] { get }
    /// Total number of trainable elements (the length of `parameters` and `gradients`).
    var parameterCount: Int { get }
    /// Trainable parameters, `parameterCount` elements.
    var parameters: UnsafeMutablePointer<Float> { get }
    /// Gradient accumulators, same layout as `parameters`.
    var gradients: UnsafeMutablePointer<Float> { get }
    /// Sets every gradient to zero.
    func zeroGradients()
    /// Runs forward and backward over `batch` and adds `gradScale * d(lossSum)/d(parameter)` into
    /// `gradients`. Returns the summed loss of the forward pass.
    func forwardBackward(_ batch: TrainBatch, gradScale: Float) throws -> LossResult
    /// Forward pass only (validation); no randomness (dropout off).
    func loss(_ batch: TrainBatch) throws -> LossResult
    /// Every tensor of the full network with LoRA merged in, in GGUF names and shapes, for export.
    func mergedTensors() -> [(name: String, shape: [Int], values: [Float])]
}
