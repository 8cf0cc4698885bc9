import GGUF

/// The model families the engine runs. Each is one code path driven by `ModelConfig`.
public enum Architecture: String, Sendable, Codable, CaseIterable {
    /// Llama, SmolLM2, Mistral (GGUF `llama`), Qwen2 (GGUF `qwen2`, with q/k/v biases).
    case llama, qwen2
    /// Gemma 3: sliding-window and global layers, QK norm, pre- and post-norms, GELU-tanh MLP,
    /// scaled embeddings, a different rope base for local and global layers.
    case gemma3
}

/// How rotary position embeddings pair up the dimensions of a head.
public enum RopeStyle: String, Sendable, Codable {
    /// Adjacent pairs (2i, 2i+1): llama.cpp's "normal" rope, used by GGUF Llama files
    /// (the converter permutes Q and K so that this equals the reference rotate-half form).
    case interleaved
    /// Halves (i, i + d/2): "NeoX" rope, used by Qwen2 and Gemma.
    case halves
}

/// The MLP's gate activation.
public enum Activation: String, Sendable, Codable {
    case silu        // SwiGLU
    case geluTanh    // GeGLU with the tanh approximation
}

/// Everything the forward pass needs to know about a model's shape, read from GGUF metadata.
public struct ModelConfig: Sendable, Codable, Equatable {
    public var architecture: Architecture
    public var vocabularySize: Int
    /// Width of the residual stream (`embedding_length`).
    public var dim: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    /// Per-head width of queries and keys.
    public var headDim: Int
    /// Per-head width of values.
    public var valueHeadDim: Int
    public var ffnDim: Int
    public var normEpsilon: Float
    public var contextLength: Int
    /// Rope base of global layers (all layers for Llama).
    public var ropeBase: Float
    /// Rope base of sliding-window layers (Gemma 3).
    public var ropeBaseLocal: Float
    /// Position scale of global layers (1 / linear rope-scaling factor).
    public var ropeScale: Float
    /// Number of leading dimensions of a head that rotate.
    public var ropeDims: Int
    public var ropeStyle: RopeStyle
    public var activation: Activation
    /// Width of the sliding window in tokens, or nil when every layer is global.
    public var slidingWindow: Int?
    /// `slidingLayers[i]` is true where layer i attends only within the sliding window.
    public var slidingLayers: [Bool]
    /// Multiplier applied to token embeddings (sqrt(dim) for Gemma, 1 otherwise).
    public var embeddingScale: Float
    /// Multiplier applied to queries before the dot product with keys.
    public var attentionScale: Float
    public var hasQKNorm: Bool
    public var hasPostNorms: Bool
    public var hasQKVBias: Bool

    public var qDim: Int { headCount * headDim }
    public var kvDim: Int { kvHeadCount * headDim }
    public var vDim: Int { kvHeadCount * valueHeadDim }
    public var headsPerKVHead: Int { headCount / kvHeadCount }

    /// Reads the configuration of a GGUF model; rejects unknown architectures and inconsistent shapes.
    public init(gguf: GGUFFile) throws {
        guard let archName = gguf.architecture else {
            throw ModelError.invalidModel("the file has no general.architecture key")
        }
        let arch: Architecture
        switch archName {
        case "llama", "mistral": arch = .llama
        case "qwen2": arch = .qwen2
        case "gemma3": arch = .gemma3
        default:
            throw ModelError.unsupportedArchitecture(archName)
        }
        let meta = gguf.metadata
        func int(_ key: String) -> Int? { meta["\(archName).\(key)"]?.int }
        func float(_ key: String) -> Float? { meta["\(archName).\(key)"]?.double.map(Float.init) }
        func require(_ key: String) throws -> Int {
            guard let v = int(key), v > 0 else {
                throw ModelError.invalidModel("missing or invalid metadata key \(archName).\(key)")
            }
            return v
        }
        architecture = arch
        dim = try require("embedding_length")
        layerCount = try require("block_count")
        headCount = try require("attention.head_count")
        kvHeadCount = int("attention.head_count_kv") ?? headCount
        ffnDim = try require("feed_forward_length")
        headDim = int("attention.key_length") ?? (dim / headCount)
        valueHeadDim = int("attention.value_length") ?? headDim
        normEpsilon = float("attention.layer_norm_rms_epsilon") ?? 1e-5
        contextLength = int("context_length") ?? 2048
        ropeBase = float("rope.freq_base") ?? 10_000
        ropeDims = int("rope.dimension_count") ?? headDim
        if let factor = float("rope.scaling.factor"), factor > 0,
           (meta["\(archName).rope.scaling.type"]?.string ?? "linear") == "linear" {
            ropeScale = 1 / factor
        } else {
            ropeScale = 1
        }
        if let v = int("vocab_size") {
            vocabularySize = v
        } else if let tokens = meta["tokenizer.ggml.tokens"]?.array {
            vocabularySize = tokens.count
        } else if let emb = gguf.tensor(named: "token_embd.weight"), emb.shape.count == 2 {
            vocabularySize = emb.shape[1]
        } else {
            throw ModelError.invalidModel("cannot determine the vocabulary size")
        }

        switch arch {
        case .llama, .qwen2:
            ropeStyle = arch == .llama ? .interleaved : .halves
            activation = .silu
            slidingWindow = nil
            slidingLayers = Array(repeating: false, count: layerCount)
            embeddingScale = 1
            attentionScale = 1 / Float(headDim).squareRoot()
            hasQKNorm = false
            hasPostNorms = false
            hasQKVBias = arch == .qwen2
            ropeBaseLocal = ropeBase
        case .gemma3:
            ropeStyle = .halves
            activation = .geluTanh
            let window = int("attention.sliding_window") ?? 512
            slidingWindow = window
            // Every sixth layer is global; the others use the sliding window and the local rope base.
            let pattern = int("attention.sliding_window_pattern") ?? 6
            slidingLayers = (0..<layerCount).map { pattern <= 1 ? false : ($0 % pattern) < pattern - 1 }
            embeddingScale = Float(dim).squareRoot()
            attentionScale = 1 / Float(headDim).squareRoot()
            hasQKNorm = true
            hasPostNorms = true
            hasQKVBias = false
            ropeBaseLocal = float("rope.freq_base_swa") ?? 10_000
        }

        guard headCount % kvHeadCount == 0 else {
            throw ModelError.invalidModel("head_count \(headCount) is not a multiple of head_count_kv \(kvHeadCount)")
        }
        guard ropeDims <= headDim, ropeDims % 2 == 0 else {
            throw ModelError.invalidModel("rope.dimension_count \(ropeDims) does not fit head width \(headDim)")
        }
    }
}

/// Errors raised while loading or running a model.
public enum ModelError: Error, CustomStringConvertible, Sendable {
    case unsupportedArchitecture(String)
    case invalidModel(String)
    case missingTensor(String)
    case badTensorShape(name: String, expected: [Int], found: [Int])
    case contextOverflow(limit: Int, requested: Int)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let a):
            return "unsupported model architecture \"\(a)\" (supported: llama, mistral, qwen2, gemma3)"
        case .invalidModel(let m): return "invalid model: \(m)"
        case .missingTensor(let n): return "the model file has no tensor named \(n)"
        case .badTensorShape(let n, let e, let f): return "tensor \(n) has shape \(f), expected \(e)"
        case .contextOverflow(let l, let r): return "sequence of \(r) tokens exceeds the context limit of \(l)"
        case .invalidArgument(let m): return m
        }
    }
}
