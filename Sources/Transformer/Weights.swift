import Foundation
import GGUF
import Kernels

/// A weight matrix `W[n][k]` (n output rows of k inputs), as stored in the GGUF file.
///
/// The quantized bytes stay in the memory-mapped file, and batches multiply straight from them with the
/// quantized kernels: any batch on Q4_0 / Q4_1 / Q5_0 / Q8_0 / Q4_K / Q6_K (the integer panels), and batches of at most
/// `quantizedRowLimit` rows on the other formats. Larger batches on those formats (Q5_K, Q5_1, …), and large
/// batches asked to keep fp32 activations (`ActivationPrecision.float32`), use an fp32 copy made on first need.
public final class LinearWeight: @unchecked Sendable {
    public let name: String
    public let type: GGMLType
    /// Output rows.
    public let n: Int
    /// Inputs per row.
    public let k: Int
    let raw: UnsafeRawPointer
    let rowBytes: Int
    private var dense: UnsafeMutablePointer<Float>?
    private let lock = NSLock()
    /// Keeps the mapping (or an owned buffer) alive as long as the weight.
    private let owner: AnyObject

    init(name: String, type: GGMLType, n: Int, k: Int, raw: UnsafeRawPointer, owner: AnyObject) {
        self.name = name
        self.type = type
        self.n = n
        self.k = k
        self.raw = raw
        self.rowBytes = type.byteCount(elements: k)!
        self.owner = owner
    }

    deinit { dense?.deallocate() }

    /// Batches with at most this many rows run on the quantized kernels whatever the format; larger ones too
    /// on the formats the integer panels take (`integerPanelsSupport`: Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q6_K), which at 512 rows
    /// measured 5–10% faster than the fp32 copy and need no copy (SmolLM2's peak memory: 788 → 275 MiB).
    static let quantizedRowLimit = 32

    /// The fp32 copy, made once.
    func denseWeights(pool: ThreadPool) -> UnsafePointer<Float> {
        lock.lock(); defer { lock.unlock() }
        if let d = dense { return UnsafePointer(d) }
        let d = UnsafeMutablePointer<Float>.allocate(capacity: n * k)
        dequantizeRows(type: type, weights: raw, k: k, rowStart: 0, rowCount: n, into: d, pool: pool)
        dense = d
        return UnsafePointer(d)
    }

    /// True once the fp32 copy exists.
    public var hasDenseCopy: Bool { lock.lock(); defer { lock.unlock() }; return dense != nil }

    /// Writes the weights as fp32, `n` rows of `k`, into `dst`: the matrix the engine multiplies by, so a
    /// LoRA adapter merged at load is included. The type must be one the kernels read (`kernelsSupport`).
    public func copyFloats(into dst: UnsafeMutablePointer<Float>, pool: ThreadPool = .shared) {
        if type == .f32 {
            dst.update(from: raw.assumingMemoryBound(to: Float.self), count: n * k)
        } else {
            dequantizeRows(type: type, weights: raw, k: k, rowStart: 0, rowCount: n, into: dst, pool: pool)
        }
    }

    /// Whether a batch of `m` rows multiplies straight from the quantized bytes (else the fp32 copy, or F32).
    func runsQuantized(rows m: Int, activations: ActivationPrecision) -> Bool {
        type != .f32 && (m <= LinearWeight.quantizedRowLimit || (integerPanelsSupport(type) && activations != .float32))
    }

    /// y[m][n] = x[m][k] · Wᵀ. `activations` is how finely the integer kernels may quantize x (`ActivationPrecision`).
    func apply(_ x: UnsafePointer<Float>, rows m: Int, into y: UnsafeMutablePointer<Float>,
               activations: ActivationPrecision = .int16, pool: ThreadPool) {
        if runsQuantized(rows: m, activations: activations) {
            quantizedMatMul(type: type, weights: raw, n: n, k: k, x: x, m: m, y: y, activations: activations, pool: pool)
        } else {
            let w: UnsafePointer<Float> = type == .f32 ? raw.assumingMemoryBound(to: Float.self) : denseWeights(pool: pool)
            sgemm(transA: false, transB: true, m: m, n: n, k: k, a: x, lda: k, b: w, ldb: k, c: y, ldc: n, pool: pool)
        }
    }

    /// `apply` for several weights with the same input (a layer's q, k and v; gate and up): small batches
    /// on quantized weights share one quantization of x and one parallel phase (`quantizedMatMulGroup`).
    static func apply(_ weights: [LinearWeight], _ x: UnsafePointer<Float>, rows m: Int,
                      into ys: [UnsafeMutablePointer<Float>], activations: ActivationPrecision = .int16, pool: ThreadPool) {
        let k = weights[0].k
        if weights.allSatisfy({ $0.runsQuantized(rows: m, activations: activations) && $0.k == k }) {
            let parts = zip(weights, ys).map { MatMulPart(type: $0.type, weights: $0.raw, n: $0.n, y: $1) }
            quantizedMatMulGroup(parts, k: k, x: x, m: m, activations: activations, pool: pool)
        } else {
            for (w, y) in zip(weights, ys) { w.apply(x, rows: m, into: y, activations: activations, pool: pool) }
        }
    }

    /// Copies row `i` to fp32 (embedding lookup).
    func row(_ i: Int, into dst: UnsafeMutablePointer<Float>) {
        GGMLCodec.dequantize(type, raw + i * rowBytes, count: k, into: dst)
    }
}

/// One transformer block's parameters.
public struct LayerWeights: @unchecked Sendable {
    public var attnNorm: [Float]
    public var wq: LinearWeight
    public var wk: LinearWeight
    public var wv: LinearWeight
    public var wo: LinearWeight
    public var bq: [Float]?
    public var bk: [Float]?
    public var bv: [Float]?
    public var qNorm: [Float]?
    public var kNorm: [Float]?
    public var postAttnNorm: [Float]?
    public var ffnNorm: [Float]
    public var wGate: LinearWeight
    public var wUp: LinearWeight
    public var wDown: LinearWeight
    public var postFFNNorm: [Float]?
}

/// All parameters of a model, read from a GGUF file with every shape checked against the config.
public struct ModelWeights: @unchecked Sendable {
    public var tokenEmbedding: LinearWeight
    public var output: LinearWeight
    public var outputNorm: [Float]
    public var layers: [LayerWeights]
    public var tiedOutput: Bool

    init(gguf: GGUFFile, config c: ModelConfig) throws {
        func info(_ name: String) throws -> GGUFTensorInfo {
            guard let t = gguf.tensor(named: name) else { throw ModelError.missingTensor(name) }
            return t
        }
        func linear(_ name: String, n: Int, k: Int) throws -> LinearWeight {
            let t = try info(name)
            guard t.shape == [k, n] else { throw ModelError.badTensorShape(name: name, expected: [k, n], found: t.shape) }
            let raw = gguf.rawData(for: t)
            return LinearWeight(name: name, type: t.type, n: n, k: k, raw: raw.baseAddress!, owner: gguf)
        }
        func vector(_ name: String, _ count: Int) throws -> [Float] {
            let t = try info(name)
            guard t.elementCount == count else {
                throw ModelError.badTensorShape(name: name, expected: [count], found: t.shape)
            }
            return try gguf.dequantize(t)
        }
        func optionalVector(_ name: String, _ count: Int) throws -> [Float]? {
            gguf.tensor(named: name) == nil ? nil : try vector(name, count)
        }
        tokenEmbedding = try linear("token_embd.weight", n: c.vocabularySize, k: c.dim)
        if gguf.tensor(named: "output.weight") != nil {
            output = try linear("output.weight", n: c.vocabularySize, k: c.dim)
            tiedOutput = false
        } else {
            output = tokenEmbedding
            tiedOutput = true
        }
        outputNorm = try vector("output_norm.weight", c.dim)
        var layers: [LayerWeights] = []
        layers.reserveCapacity(c.layerCount)
        for i in 0..<c.layerCount {
            let p = "blk.\(i)."
            let layer = LayerWeights(
                attnNorm: try vector(p + "attn_norm.weight", c.dim),
                wq: try linear(p + "attn_q.weight", n: c.qDim, k: c.dim),
                wk: try linear(p + "attn_k.weight", n: c.kvDim, k: c.dim),
                wv: try linear(p + "attn_v.weight", n: c.vDim, k: c.dim),
                wo: try linear(p + "attn_output.weight", n: c.dim, k: c.headCount * c.valueHeadDim),
                bq: c.hasQKVBias ? try vector(p + "attn_q.bias", c.qDim) : try optionalVector(p + "attn_q.bias", c.qDim),
                bk: c.hasQKVBias ? try vector(p + "attn_k.bias", c.kvDim) : try optionalVector(p + "attn_k.bias", c.kvDim),
                bv: c.hasQKVBias ? try vector(p + "attn_v.bias", c.vDim) : try optionalVector(p + "attn_v.bias", c.vDim),
                qNorm: c.hasQKNorm ? try vector(p + "attn_q_norm.weight", c.headDim) : nil,
                kNorm: c.hasQKNorm ? try vector(p + "attn_k_norm.weight", c.headDim) : nil,
                postAttnNorm: c.hasPostNorms ? try vector(p + "post_attention_norm.weight", c.dim) : nil,
                ffnNorm: try vector(p + "ffn_norm.weight", c.dim),
                wGate: try linear(p + "ffn_gate.weight", n: c.ffnDim, k: c.dim),
                wUp: try linear(p + "ffn_up.weight", n: c.ffnDim, k: c.dim),
                wDown: try linear(p + "ffn_down.weight", n: c.dim, k: c.ffnDim),
                postFFNNorm: c.hasPostNorms ? try vector(p + "post_ffw_norm.weight", c.dim) : nil)
            layers.append(layer)
        }
        self.layers = layers
        for w in [tokenEmbedding, output] + layers.flatMap({ [$0.wq, $0.wk, $0.wv, $0.wo, $0.wGate, $0.wUp, $0.wDown] }) {
            guard w.k % w.type.blockSize == 0 else {
                throw ModelError.invalidModel("tensor \(w.name): row length \(w.k) is not a multiple of the \(w.type) block")
            }
        }
    }

    /// Every linear weight, for warm-up and memory accounting.
    public var allLinear: [LinearWeight] {
        var all = [tokenEmbedding]
        if !tiedOutput { all.append(output) }
        for l in layers { all += [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown] }
        return all
    }
}
