extension ModelConfig {
    /// Builds a configuration directly (no GGUF file), e.g. for training a model from scratch or for
    /// tests. Defaults follow the Llama family; pass the Gemma/Qwen2-specific values explicitly.
    /// `headDim` defaults to `dim / headCount`, `valueHeadDim` and `ropeDims` to `headDim`,
    /// `slidingLayers` to all-global, `attentionScale` to 1/sqrt(headDim).
    public init(architecture: Architecture, vocabularySize: Int, dim: Int, layerCount: Int, headCount: Int,
                kvHeadCount: Int, headDim: Int? = nil, valueHeadDim: Int? = nil, ffnDim: Int,
                normEpsilon: Float = 1e-5, contextLength: Int = 2048, ropeBase: Float = 10_000,
                ropeBaseLocal: Float? = nil, ropeScale: Float = 1, ropeDims: Int? = nil,
                ropeStyle: RopeStyle? = nil, activation: Activation? = nil, slidingWindow: Int? = nil,
                slidingLayers: [Bool]? = nil, embeddingScale: Float? = nil, attentionScale: Float? = nil,
                hasQKNorm: Bool? = nil, hasPostNorms: Bool? = nil, hasQKVBias: Bool? = nil) {
        let hd = headDim ?? dim / max(1, headCount)
        self.architecture = architecture
        self.vocabularySize = vocabularySize
        self.dim = dim
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = hd
        self.valueHeadDim = valueHeadDim ?? hd
        self.ffnDim = ffnDim
        self.normEpsilon = normEpsilon
        self.contextLength = contextLength
        self.ropeBase = ropeBase
        self.ropeBaseLocal = ropeBaseLocal ?? (architecture == .gemma3 ? 10_000 : ropeBase)
        self.ropeScale = ropeScale
        self.ropeDims = ropeDims ?? hd
        self.ropeStyle = ropeStyle ?? (architecture == .llama ? .interleaved : .halves)
        self.activation = activation ?? (architecture == .gemma3 ? .geluTanh : .silu)
        self.slidingWindow = slidingWindow
        self.slidingLayers = slidingLayers ?? Array(repeating: false, count: layerCount)
        self.embeddingScale = embeddingScale ?? (architecture == .gemma3 ? Float(dim).squareRoot() : 1)
        self.attentionScale = attentionScale ?? 1 / Float(hd).squareRoot()
        self.hasQKNorm = hasQKNorm ?? (architecture == .gemma3)
        self.hasPostNorms = hasPostNorms ?? (architecture == .gemma3)
        self.hasQKVBias = hasQKVBias ?? (architecture == .qwen2)
    }
}
