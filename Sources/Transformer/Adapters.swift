import Foundation
import GGUF
import Kernels

// LoRA adapters in llama.cpp's GGUF form, merged into the weights at load.
//
// Layout (GGUF dimension order, ne0 first). For a weight W of shape [k, n] (n output rows of k inputs):
//   <name>.lora_a   shape [k, r]   r rows of k   (the "down" projection A, r×k row-major)
//   <name>.lora_b   shape [r, n]   n rows of r   (the "up" projection B, n×r row-major)
//   ΔW (n×k row-major) = s · B·A,   s = scale · alpha / r   (just `scale` when alpha is 0 or absent)
// The token embedding [dim, vocab] is stored the other way round, as llama.cpp gathers a row of A per
// token: lora_a has shape [r, vocab] and lora_b [r, dim], and ΔE[v][d] = s · Σ_j a[v][j] · b[d][j].
// The rank r is taken from lora_b's first dimension, as llama.cpp does.

/// Why a LoRA adapter cannot be read or applied.
public struct LoRAAdapterError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, naming the file and tensor concerned.
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "LoRA adapter: \(message)" }
}

/// A LoRA adapter read from a GGUF file in llama.cpp's format (`general.type = "adapter"`,
/// `adapter.type = "lora"`, `adapter.lora.alpha`, tensors `<base>.lora_a` / `<base>.lora_b`).
///
/// Tensors ending in `_norm.weight` are ignored, as llama.cpp ignores them.
public struct LoRAAdapter: Sendable {
    /// One adapted weight: the low-rank factors in fp32, in the file's layout (see the file comment).
    public struct Pair: Sendable {
        /// Name of the base model tensor the pair updates, e.g. "blk.0.attn_q.weight".
        public let target: String
        public let a: [Float]
        public let aShape: [Int]
        public let b: [Float]
        public let bShape: [Int]
        /// The rank r (lora_b's first dimension).
        public var rank: Int { bShape[0] }
        /// True for the token embedding, whose factors are stored flipped.
        public var isTokenEmbedding: Bool { target.hasSuffix("token_embd.weight") }
    }

    /// Where it was read from (nil for an in-memory file).
    public let path: String?
    /// `general.architecture` of the adapter; must equal the base model's.
    public let architecture: String
    /// `adapter.lora.alpha` (0 when absent: the factors are then applied with the user scale alone).
    public let alpha: Float
    /// The adapted weights, sorted by target name.
    public let pairs: [Pair]

    /// Reads an adapter file.
    public init(path: String) throws {
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch {
            throw LoRAAdapterError("cannot read \(path): \(error)")
        }
        try self.init(file: file, path: path)
    }

    /// Reads an adapter from an open GGUF file.
    public init(file: GGUFFile, path: String? = nil) throws {
        let label = path ?? "adapter"
        self.path = path
        guard let type = file.metadata["general.type"]?.string, type == "adapter" else {
            throw LoRAAdapterError("\(label) is not an adapter file (general.type is \(file.metadata["general.type"]?.description ?? "absent"), expected \"adapter\")")
        }
        guard let adapterType = file.metadata["adapter.type"]?.string, adapterType == "lora" else {
            throw LoRAAdapterError("\(label): adapter.type is \(file.metadata["adapter.type"]?.description ?? "absent"), expected \"lora\"")
        }
        guard let arch = file.architecture else {
            throw LoRAAdapterError("\(label) has no general.architecture key")
        }
        architecture = arch
        alpha = file.metadata["adapter.lora.alpha"]?.float ?? 0
        var aTensors: [String: GGUFTensorInfo] = [:], bTensors: [String: GGUFTensorInfo] = [:]
        for t in file.tensors {
            if t.name.hasSuffix(".lora_a") {
                aTensors[String(t.name.dropLast(".lora_a".count))] = t
            } else if t.name.hasSuffix(".lora_b") {
                bTensors[String(t.name.dropLast(".lora_b".count))] = t
            } else if t.name.hasSuffix("_norm.weight") {
                continue
            } else {
                throw LoRAAdapterError("\(label): tensor '\(t.name)' is neither a .lora_a nor a .lora_b factor")
            }
        }
        var pairs: [Pair] = []
        for target in Set(aTensors.keys).union(bTensors.keys).sorted() {
            guard let ta = aTensors[target], let tb = bTensors[target] else {
                throw LoRAAdapterError("\(label): the pair for '\(target)' lacks its \(aTensors[target] == nil ? "lora_a" : "lora_b") tensor")
            }
            guard ta.shape.count == 2, tb.shape.count == 2 else {
                throw LoRAAdapterError("\(label): factors of '\(target)' must be 2-D (lora_a \(ta.shape), lora_b \(tb.shape))")
            }
            let a = try file.dequantize(ta), b = try file.dequantize(tb)
            let pair = Pair(target: target, a: a, aShape: ta.shape, b: b, bShape: tb.shape)
            if pair.isTokenEmbedding {
                guard ta.shape[0] == tb.shape[0] else {
                    throw LoRAAdapterError("\(label): token embedding factors disagree on the rank (lora_a \(ta.shape), lora_b \(tb.shape); expected [r, vocab] and [r, dim])")
                }
            } else {
                guard ta.shape[1] == tb.shape[0] else {
                    throw LoRAAdapterError("\(label): factors of '\(target)' disagree on the rank (lora_a \(ta.shape) should be [k, r], lora_b \(tb.shape) should be [r, n])")
                }
            }
            pairs.append(pair)
        }
        self.pairs = pairs
    }

    /// The multiplier of B·A for a pair of rank `rank` applied with user scale `scale`
    /// (`scale · alpha / rank`, or `scale` when alpha is 0), as llama.cpp computes it.
    public func effectiveScale(rank: Int, scale: Float) -> Float {
        alpha != 0 ? scale * alpha / Float(rank) : scale
    }

    /// Checks the pair's shapes against a base weight of GGUF shape [k, n].
    func check(_ p: Pair, k: Int, n: Int) throws {
        let label = path ?? "adapter"
        if p.isTokenEmbedding {
            guard p.aShape[1] == n, p.bShape[1] == k else {
                throw LoRAAdapterError("\(label): '\(p.target)' factors lora_a \(p.aShape), lora_b \(p.bShape) do not fit the base tensor's shape [\(k), \(n)] (expected [r, \(n)] and [r, \(k)]; wrong base model?)")
            }
        } else {
            guard p.aShape[0] == k, p.bShape[1] == n else {
                throw LoRAAdapterError("\(label): '\(p.target)' factors lora_a \(p.aShape), lora_b \(p.bShape) do not fit the base tensor's shape [\(k), \(n)] (expected [\(k), r] and [r, \(n)]; wrong base model?)")
            }
        }
    }

    /// Adds `s · ΔW` of pair `p` to the dense row-major weight `w` (n rows of k).
    static func addDelta(_ p: Pair, scale s: Float, into w: UnsafeMutablePointer<Float>, n: Int, k: Int, pool: ThreadPool) {
        let r = p.rank
        p.a.withUnsafeBufferPointer { a in
            p.b.withUnsafeBufferPointer { b in
                if p.isTokenEmbedding {
                    // ΔE (vocab × dim) = a (vocab × r) · bᵀ, b stored dim × r.
                    sgemm(transA: false, transB: true, m: n, n: k, k: r, alpha: s, a: a.baseAddress!, lda: r,
                          b: b.baseAddress!, ldb: r, beta: 1, c: w, ldc: k, pool: pool)
                } else {
                    // ΔW (n × k) = B (n × r) · A (r × k).
                    sgemm(transA: false, transB: false, m: n, n: k, k: r, alpha: s, a: b.baseAddress!, lda: r,
                          b: a.baseAddress!, ldb: k, beta: 1, c: w, ldc: k, pool: pool)
                }
            }
        }
    }
}

/// An owned fp32 buffer that outlives the `LinearWeight` pointing into it.
final class OwnedFloats {
    let pointer: UnsafeMutablePointer<Float>
    init(count: Int) { pointer = .allocate(capacity: max(1, count)) }
    deinit { pointer.deallocate() }
}

extension ModelWeights {
    /// The linear weight called `name` (GGUF name), if the engine holds one under that name (after any
    /// adapters merged at load: the merged matrix).
    public func linear(named name: String) -> LinearWeight? {
        if name == "token_embd.weight" { return tokenEmbedding }
        if name == "output.weight" { return tiedOutput ? nil : output }
        for l in layers {
            for w in [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown] where w.name == name { return w }
        }
        return nil
    }

    /// Replaces the linear weight called `name` by `w`. With a tied output head, replacing the token
    /// embedding unties it: the head keeps the original matrix (llama.cpp likewise applies a token
    /// embedding adapter to the input lookup only).
    mutating func replaceLinear(named name: String, with w: LinearWeight) {
        if name == "token_embd.weight" {
            if tiedOutput { output = tokenEmbedding; tiedOutput = false }
            tokenEmbedding = w
            return
        }
        if name == "output.weight" { output = w; return }
        for i in layers.indices {
            var l = layers[i]
            switch name {
            case l.wq.name: l.wq = w
            case l.wk.name: l.wk = w
            case l.wv.name: l.wv = w
            case l.wo.name: l.wo = w
            case l.wGate.name: l.wGate = w
            case l.wUp.name: l.wUp = w
            case l.wDown.name: l.wDown = w
            default: continue
            }
            layers[i] = l
            return
        }
    }

    /// Merges `W + Σ scale·(alpha/r)·B·A` of every adapter into dense fp32 copies of the weights they
    /// target. Every adapter is checked (architecture, target names, shapes) before any work is done.
    mutating func apply(adapters: [(adapter: LoRAAdapter, scale: Float)], architecture: String, pool: ThreadPool) throws {
        var byTarget: [String: [(LoRAAdapter, LoRAAdapter.Pair, Float)]] = [:]
        var order: [String] = []
        for (adapter, scale) in adapters {
            let label = adapter.path ?? "adapter"
            guard adapter.architecture == architecture else {
                throw LoRAAdapterError("\(label) was made for architecture \"\(adapter.architecture)\", the base model is \"\(architecture)\"")
            }
            for p in adapter.pairs {
                guard let w = linear(named: p.target) else {
                    throw LoRAAdapterError("\(label): the base model has no linear weight '\(p.target)' the engine can adapt (wrong base model?)")
                }
                try adapter.check(p, k: w.k, n: w.n)
                if byTarget[p.target] == nil { order.append(p.target) }
                byTarget[p.target, default: []].append((adapter, p, scale))
            }
        }
        for name in order {
            let base = linear(named: name)!
            let n = base.n, k = base.k
            let buffer = OwnedFloats(count: n * k)
            dequantizeRows(type: base.type, weights: base.raw, k: k, rowStart: 0, rowCount: n, into: buffer.pointer, pool: pool)
            for (adapter, p, scale) in byTarget[name]! {
                let s = adapter.effectiveScale(rank: p.rank, scale: scale)
                LoRAAdapter.addDelta(p, scale: s, into: buffer.pointer, n: n, k: k, pool: pool)
            }
            let merged = LinearWeight(name: name, type: .f32, n: n, k: k, raw: UnsafeRawPointer(buffer.pointer), owner: buffer)
            replaceLinear(named: name, with: merged)
        }
    }
}
