import Foundation
import GGUF
import Kernels
import Transformer

/// How a model is trained.
public enum TrainMode: Sendable, Equatable {
    /// Every tensor is trainable (except embeddings when frozen).
    case full
    /// The base network is frozen; low-rank adapters on the listed linear modules are trained.
    case lora(LoRAConfig)
}

/// Low-rank adapter settings: W' = W + scale · B·A with A [rank×k], B [n×rank], scale = alpha/rank.
public struct LoRAConfig: Sendable, Equatable, Codable {
    public var rank: Int
    public var alpha: Float
    /// Dropout probability on the adapter's input (training passes only).
    public var dropout: Float
    /// Module names to adapt: any of `LoRAConfig.allLinear`.
    public var targets: Set<String>
    /// Every linear module of a block.
    public static let allLinear: Set<String> = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]

    public init(rank: Int = 8, alpha: Float = 16, dropout: Float = 0, targets: Set<String> = LoRAConfig.allLinear) {
        self.rank = rank; self.alpha = alpha; self.dropout = dropout; self.targets = targets
    }
    /// The adapter's output multiplier, alpha / rank.
    public var scale: Float { alpha / Float(rank) }
}

/// The linear modules of a block, in GGUF names and the order used for LoRA tensors.
let moduleNames = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]

/// A tensor's value and gradient (nil when frozen).
struct Slot<S: TrainScalar> {
    var w: UnsafeMutablePointer<S>
    var g: UnsafeMutablePointer<S>?
}

struct LoRASlot<S: TrainScalar> {
    var a: Slot<S>, b: Slot<S>
    var rank: Int
    var scale: S
    var dropout: S
    var id: UInt64
}

struct Linear<S: TrainScalar> {
    var w: Slot<S>
    /// Output rows and inputs per row (W is [n][k] row-major, GGUF shape [k, n]).
    var n: Int, k: Int
    var lora: LoRASlot<S>?
}

struct Block<S: TrainScalar> {
    var attnNorm: Slot<S>, ffnNorm: Slot<S>
    var lin: [Linear<S>]             // q, k, v, o, gate, up, down
    var bq: Slot<S>?, bk: Slot<S>?, bv: Slot<S>?
    var qNorm: Slot<S>?, kNorm: Slot<S>?, postAttnNorm: Slot<S>?, postFFNNorm: Slot<S>?
}

/// One tensor of the network (trainable or frozen).
struct Entry {
    var name: String
    var shape: [Int]
    var trainable: Bool
    var decay: Bool
    var offset: Int
    var count: Int
}

/// A decoder-only transformer (Llama / Qwen2 / Gemma 3) with its forward and backward passes, generic
/// over the scalar type. `TrainModel` wraps the `Float` instantiation; `Double` instances (see
/// `converted(to:)`) run the same code for finite-difference gradient checks.
///
/// Storage: two flat buffers, `parameters` (trainable tensors, with `gradients` of the same layout) and
/// a frozen buffer (the base network in LoRA mode, frozen embeddings).
public final class TrainNetwork<S: TrainScalar> {
    public let config: ModelConfig
    public let mode: TrainMode
    public let freezeEmbeddings: Bool
    /// Whether the output head shares the token embedding matrix.
    public let tiedOutput: Bool
    /// Whether blocks have q/k/v biases.
    public let hasBiases: Bool
    public let pool: ThreadPool
    let entries: [Entry]
    let entryIndex: [String: Int]
    /// Trainable tensors in buffer order.
    public let tensors: [ParameterTensor]
    public let parameterCount: Int
    public let parameters: UnsafeMutablePointer<S>
    public let gradients: UnsafeMutablePointer<S>
    let frozenCount: Int
    let frozen: UnsafeMutablePointer<S>
    var embedding: Slot<S>!
    var output: Slot<S>!
    var outputNorm: Slot<S>!
    var blocks: [Block<S>] = []
    private var acts: Activations<S>?
    /// Wall seconds per phase, accumulated when the environment variable HYPERLAB_TRAIN_PROFILE is set.
    public private(set) var profile: [String: Double] = [:]
    let profiling = ProcessInfo.processInfo.environment["HYPERLAB_TRAIN_PROFILE"] != nil
    @inline(__always) func clock() -> Double {
        profiling ? ProcessInfo.processInfo.systemUptime : 0
    }
    @inline(__always) func lap(_ key: String, _ t: inout Double) {
        if profiling { let n = clock(); profile[key, default: 0] += n - t; t = n }
    }

    /// Lays out every tensor and fills each with `fill(name, shape, destination)`.
    init(config c: ModelConfig, mode: TrainMode, freezeEmbeddings: Bool, tiedOutput: Bool, hasBiases: Bool,
         pool: ThreadPool, fill: (String, [Int], UnsafeMutablePointer<S>) throws -> Void) throws {
        guard c.headCount > 0, c.kvHeadCount > 0, c.headCount % c.kvHeadCount == 0, c.ropeDims % 2 == 0,
              c.ropeDims <= c.headDim, c.slidingLayers.count == c.layerCount else {
            throw TrainingError.invalidConfiguration("inconsistent model shape (heads \(c.headCount), kv heads \(c.kvHeadCount), rope dims \(c.ropeDims), head dim \(c.headDim), sliding layers \(c.slidingLayers.count) for \(c.layerCount) layers)")
        }
        if case .lora(let lc) = mode {
            guard lc.rank > 0 else { throw TrainingError.invalidConfiguration("LoRA rank must be positive") }
            guard lc.dropout >= 0 && lc.dropout < 1 else { throw TrainingError.invalidConfiguration("LoRA dropout \(lc.dropout) is outside [0, 1)") }
            let unknown = lc.targets.subtracting(LoRAConfig.allLinear)
            guard unknown.isEmpty else {
                throw TrainingError.invalidConfiguration("unknown LoRA target module(s) \(unknown.sorted()); known: \(moduleNames)")
            }
        }
        self.config = c; self.mode = mode; self.freezeEmbeddings = freezeEmbeddings
        self.tiedOutput = tiedOutput; self.hasBiases = hasBiases; self.pool = pool
        let full: Bool = { if case .full = mode { return true }; return false }()
        var list: [Entry] = []
        var tOff = 0, fOff = 0
        func add(_ name: String, _ shape: [Int], trainable: Bool, decay: Bool) {
            let n = shape.reduce(1, *)
            list.append(Entry(name: name, shape: shape, trainable: trainable, decay: decay,
                              offset: trainable ? tOff : fOff, count: n))
            if trainable { tOff += n } else { fOff += n }
        }
        add("token_embd.weight", [c.dim, c.vocabularySize], trainable: full && !freezeEmbeddings, decay: true)
        add("output_norm.weight", [c.dim], trainable: full, decay: false)
        if !tiedOutput { add("output.weight", [c.dim, c.vocabularySize], trainable: full, decay: true) }
        let oDim = c.headCount * c.valueHeadDim
        let linShapes: [(k: Int, n: Int)] = [(c.dim, c.qDim), (c.dim, c.kvDim), (c.dim, c.vDim), (oDim, c.dim),
                                             (c.dim, c.ffnDim), (c.dim, c.ffnDim), (c.ffnDim, c.dim)]
        for l in 0..<c.layerCount {
            let p = "blk.\(l)."
            add(p + "attn_norm.weight", [c.dim], trainable: full, decay: false)
            add(p + "attn_q.weight", [c.dim, c.qDim], trainable: full, decay: true)
            if hasBiases { add(p + "attn_q.bias", [c.qDim], trainable: full, decay: false) }
            add(p + "attn_k.weight", [c.dim, c.kvDim], trainable: full, decay: true)
            if hasBiases { add(p + "attn_k.bias", [c.kvDim], trainable: full, decay: false) }
            add(p + "attn_v.weight", [c.dim, c.vDim], trainable: full, decay: true)
            if hasBiases { add(p + "attn_v.bias", [c.vDim], trainable: full, decay: false) }
            if c.hasQKNorm {
                add(p + "attn_q_norm.weight", [c.headDim], trainable: full, decay: false)
                add(p + "attn_k_norm.weight", [c.headDim], trainable: full, decay: false)
            }
            add(p + "attn_output.weight", [oDim, c.dim], trainable: full, decay: true)
            if c.hasPostNorms { add(p + "post_attention_norm.weight", [c.dim], trainable: full, decay: false) }
            add(p + "ffn_norm.weight", [c.dim], trainable: full, decay: false)
            add(p + "ffn_gate.weight", [c.dim, c.ffnDim], trainable: full, decay: true)
            add(p + "ffn_up.weight", [c.dim, c.ffnDim], trainable: full, decay: true)
            add(p + "ffn_down.weight", [c.ffnDim, c.dim], trainable: full, decay: true)
            if c.hasPostNorms { add(p + "post_ffw_norm.weight", [c.dim], trainable: full, decay: false) }
        }
        if case .lora(let lc) = mode {
            for l in 0..<c.layerCount {
                for (mi, m) in moduleNames.enumerated() where lc.targets.contains(m) {
                    let base = "blk.\(l).\(m).weight"
                    add(base + ".lora_a", [linShapes[mi].k, lc.rank], trainable: true, decay: true)
                    add(base + ".lora_b", [lc.rank, linShapes[mi].n], trainable: true, decay: true)
                }
            }
        }
        entries = list
        var index: [String: Int] = [:]
        for (i, e) in list.enumerated() { index[e.name] = i }
        entryIndex = index
        parameterCount = tOff
        frozenCount = fOff
        parameters = .allocate(capacity: max(1, tOff))
        gradients = .allocate(capacity: max(1, tOff))
        frozen = .allocate(capacity: max(1, fOff))
        parameters.initialize(repeating: 0, count: max(1, tOff))
        gradients.initialize(repeating: 0, count: max(1, tOff))
        frozen.initialize(repeating: 0, count: max(1, fOff))
        tensors = list.filter { $0.trainable }.map {
            ParameterTensor(name: $0.name, shape: $0.shape, offset: $0.offset, count: $0.count, decay: $0.decay)
        }
        for e in list { try fill(e.name, e.shape, pointer(e)) }

        func slot(_ name: String) -> Slot<S> {
            let e = list[index[name]!]
            return Slot(w: pointer(e), g: e.trainable ? gradients + e.offset : nil)
        }
        func opt(_ name: String) -> Slot<S>? { index[name] == nil ? nil : slot(name) }
        embedding = slot("token_embd.weight")
        output = tiedOutput ? embedding : slot("output.weight")
        outputNorm = slot("output_norm.weight")
        for l in 0..<c.layerCount {
            let p = "blk.\(l)."
            var lins: [Linear<S>] = []
            for (mi, m) in moduleNames.enumerated() {
                var lin = Linear(w: slot(p + m + ".weight"), n: linShapes[mi].n, k: linShapes[mi].k, lora: nil)
                if case .lora(let lc) = mode, lc.targets.contains(m) {
                    lin.lora = LoRASlot(a: slot(p + m + ".weight.lora_a"), b: slot(p + m + ".weight.lora_b"),
                                        rank: lc.rank, scale: S(lc.scale), dropout: S(lc.dropout),
                                        id: UInt64(l * 8 + mi))
                }
                lins.append(lin)
            }
            blocks.append(Block(attnNorm: slot(p + "attn_norm.weight"), ffnNorm: slot(p + "ffn_norm.weight"), lin: lins,
                                bq: opt(p + "attn_q.bias"), bk: opt(p + "attn_k.bias"), bv: opt(p + "attn_v.bias"),
                                qNorm: opt(p + "attn_q_norm.weight"), kNorm: opt(p + "attn_k_norm.weight"),
                                postAttnNorm: opt(p + "post_attention_norm.weight"),
                                postFFNNorm: opt(p + "post_ffw_norm.weight")))
        }
    }

    deinit {
        parameters.deallocate(); gradients.deallocate(); frozen.deallocate()
    }

    @inline(__always) func pointer(_ e: Entry) -> UnsafeMutablePointer<S> {
        (e.trainable ? parameters : frozen) + e.offset
    }

    /// Names and GGUF shapes of every tensor (trainable and frozen), in layout order.
    public var allTensorNames: [(name: String, shape: [Int], trainable: Bool)] {
        entries.map { ($0.name, $0.shape, $0.trainable) }
    }

    /// A copy of one tensor's values (trainable or frozen), or nil if there is no such tensor.
    public func values(of name: String) -> [S]? {
        guard let i = entryIndex[name] else { return nil }
        let e = entries[i]
        return Array(UnsafeBufferPointer(start: pointer(e), count: e.count))
    }

    /// Overwrites one tensor's values (trainable or frozen).
    public func setValues(of name: String, _ v: [S]) throws {
        guard let i = entryIndex[name] else { throw TrainingError.invalidConfiguration("no tensor named \(name)") }
        let e = entries[i]
        guard v.count == e.count else {
            throw TrainingError.invalidConfiguration("tensor \(name) has \(e.count) values, got \(v.count)")
        }
        v.withUnsafeBufferPointer { pointer(e).update(from: $0.baseAddress!, count: e.count) }
    }

    /// The same network (every tensor, trainable or not) in another scalar type.
    public func converted<T: TrainScalar>(to: T.Type) throws -> TrainNetwork<T> {
        try TrainNetwork<T>(config: config, mode: mode, freezeEmbeddings: freezeEmbeddings, tiedOutput: tiedOutput,
                            hasBiases: hasBiases, pool: pool) { name, _, dst in
            let e = entries[entryIndex[name]!]
            let src = pointer(e)
            for i in 0..<e.count { dst[i] = T(src[i]) }
        }
    }

    /// Sets every gradient to zero.
    public func zeroGradients() {
        gradients.update(repeating: 0, count: max(1, parameterCount))
    }

    // MARK: Merged export

    /// Every tensor of the network with adapters merged (W + scale·B·A), in GGUF names and shapes.
    public func mergedTensors() -> [(name: String, shape: [Int], values: [S])] {
        var out: [(name: String, shape: [Int], values: [S])] = []
        for e in entries where !e.name.hasSuffix(".lora_a") && !e.name.hasSuffix(".lora_b") {
            var v = Array(UnsafeBufferPointer(start: pointer(e), count: e.count))
            if let ia = entryIndex[e.name + ".lora_a"], let ib = entryIndex[e.name + ".lora_b"],
               case .lora(let lc) = mode {
                let a = entries[ia], b = entries[ib]
                let k = e.shape[0], n = e.shape[1], r = lc.rank
                // W[n][k] += scale · B[n][r] · A[r][k]
                v.withUnsafeMutableBufferPointer { wb in
                    S.gemm(transA: false, transB: false, m: n, n: k, k: r, alpha: S(lc.scale),
                           a: pointer(b), lda: r, b: pointer(a), ldb: k, beta: 1, c: wb.baseAddress!, ldc: k, pool: pool)
                }
            }
            out.append((e.name, e.shape, v))
        }
        return out
    }

    // MARK: Passes

    /// Forward and backward over `batch`; adds gradScale · d(loss sum)/dθ into `gradients`.
    public func forwardBackward(_ batch: TrainBatch, gradScale: S) throws -> LossResult {
        try validate(batch)
        return run(batch, backward: true, gradScale: gradScale, dropout: true, logitsOut: nil)
    }

    /// Forward only. Dropout is off unless `dropout` is true (then the mask is the one
    /// `forwardBackward` uses for the same batch seed, which finite-difference checks need).
    public func loss(_ batch: TrainBatch, dropout: Bool = false) throws -> LossResult {
        try validate(batch)
        return run(batch, backward: false, gradScale: 1, dropout: dropout, logitsOut: nil)
    }

    /// Logits at every position of the batch (rows·length × vocabulary, row-major), no dropout.
    public func logits(_ batch: TrainBatch) throws -> [S] {
        try validate(batch, checkTargets: false)
        var out = [S](repeating: 0, count: batch.rows * batch.length * config.vocabularySize)
        out.withUnsafeMutableBufferPointer { ob in
            _ = run(batch, backward: false, gradScale: 1, dropout: false, logitsOut: ob.baseAddress!)
        }
        return out
    }

    /// Frees the activation buffers kept between passes.
    public func releaseActivations() { acts = nil }

    func validate(_ b: TrainBatch, checkTargets: Bool = true) throws {
        guard b.rows > 0, b.length > 0 else { throw TrainingError.invalidBatch("rows (\(b.rows)) and length (\(b.length)) must be positive") }
        guard b.inputs.count == b.rows * b.length else {
            throw TrainingError.invalidBatch("\(b.inputs.count) inputs for \(b.rows) rows × \(b.length) tokens")
        }
        let V = config.vocabularySize
        for t in b.inputs where t < 0 || Int(t) >= V {
            throw TrainingError.invalidBatch("input token \(t) is outside the vocabulary (0..<\(V))")
        }
        if checkTargets {
            guard b.targets.count == b.inputs.count else {
                throw TrainingError.invalidBatch("\(b.targets.count) targets for \(b.inputs.count) inputs")
            }
            for t in b.targets where Int(t) >= V {
                throw TrainingError.invalidBatch("target token \(t) is outside the vocabulary (0..<\(V))")
            }
        }
    }

    /// The whole pass. Activation layout: see `Activations`.
    func run(_ batch: TrainBatch, backward: Bool, gradScale: S, dropout: Bool,
             logitsOut: UnsafeMutablePointer<S>?) -> LossResult {
        let c = config
        let B = batch.rows, L = batch.length, T = B * L, D = c.dim
        // Buffers sized for a larger batch are reused (batches of varying length do not reallocate).
        if let a = acts, a.fits(B: B, L: L, config: c) {} else { acts = nil; acts = Activations<S>(net: self, B: B, L: L) }
        let A = acts!
        let eps = S(c.normEpsilon)
        let dropSeed: UInt64? = dropout ? batch.seed : nil
        let x = A.x
        let att = TrainOps.AttentionShape(batch: B, length: L, heads: c.headCount, kvHeads: c.kvHeadCount,
                                          headDim: c.headDim, valueHeadDim: c.valueHeadDim,
                                          scale: c.attentionScale, window: nil, documentStarts: batch.documentStarts)
        let ropeG: (cos: [S], sin: [S]) = TrainOps.ropeTable(length: L, dims: c.ropeDims, base: c.ropeBase, scale: c.ropeScale)
        let ropeL: (cos: [S], sin: [S]) = c.slidingLayers.contains(true)
            ? TrainOps.ropeTable(length: L, dims: c.ropeDims, base: c.ropeBaseLocal, scale: 1) : ropeG

        // Embeddings: x[t] = E[token] · embeddingScale.
        let es = S(c.embeddingScale)
        batch.inputs.withUnsafeBufferPointer { inp in
            TrainOps.parallelRows(T, D, pool) { t in
                let src = embedding.w + Int(inp[t]) * D, dst = x + t * D
                for i in 0..<D { dst[i] = src[i] * es }
            }
        }

        var tp = clock()
        lap("embed", &tp)
        // Blocks, forward.
        for l in 0..<c.layerCount {
            let w = blocks[l], a = A.layers[l]
            var shape = att
            shape.window = c.slidingLayers[l] ? c.slidingWindow : nil
            let rope = c.slidingLayers[l] ? ropeL : ropeG
            a.xIn.update(from: x, count: T * D)
            TrainOps.rmsNormForward(a.xIn, w.attnNorm.w, eps: eps, rows: T, n: D, y: A.hn, rstd: a.rstd1, pool: pool)
            let qDst = a.qRaw ?? a.q, kDst = a.kRaw ?? a.k
            linearForward(w.lin[0], A.hn, T, qDst, a.u[0], dropSeed, A)
            linearForward(w.lin[1], A.hn, T, kDst, a.u[1], dropSeed, A)
            linearForward(w.lin[2], A.hn, T, a.v, a.u[2], dropSeed, A)
            if let b = w.bq { addBias(qDst, T, c.qDim, b.w) }
            if let b = w.bk { addBias(kDst, T, c.kvDim, b.w) }
            if let b = w.bv { addBias(a.v, T, c.vDim, b.w) }
            if let qn = w.qNorm, let kn = w.kNorm, let qr = a.qRaw, let kr = a.kRaw {
                TrainOps.rmsNormForward(qr, qn.w, eps: eps, rows: T * c.headCount, n: c.headDim, y: a.q, rstd: a.rstdQ!, pool: pool)
                TrainOps.rmsNormForward(kr, kn.w, eps: eps, rows: T * c.kvHeadCount, n: c.headDim, y: a.k, rstd: a.rstdK!, pool: pool)
            }
            rope.cos.withUnsafeBufferPointer { cb in rope.sin.withUnsafeBufferPointer { sb in
                TrainOps.rope(a.q, rows: T, length: L, heads: c.headCount, headDim: c.headDim, dims: c.ropeDims,
                              style: c.ropeStyle, cos: cb.baseAddress!, sin: sb.baseAddress!, inverse: false, pool: pool)
                TrainOps.rope(a.k, rows: T, length: L, heads: c.kvHeadCount, headDim: c.headDim, dims: c.ropeDims,
                              style: c.ropeStyle, cos: cb.baseAddress!, sin: sb.baseAddress!, inverse: false, pool: pool)
            } }
            lap("fwd.qkv", &tp)
            TrainOps.attentionForward(q: a.q, k: a.k, v: a.v, out: a.att, shape: shape, scratch: A.attScratch, pool: pool)
            lap("fwd.attention", &tp)
            if let pn = w.postAttnNorm, let raw = a.oRaw {
                linearForward(w.lin[3], a.att, T, raw, a.u[3], dropSeed, A)
                TrainOps.rmsNormForward(raw, pn.w, eps: eps, rows: T, n: D, y: A.o, rstd: a.rstdO!, pool: pool)
            } else {
                linearForward(w.lin[3], a.att, T, A.o, a.u[3], dropSeed, A)
            }
            addInPlace(x, A.o, T * D)
            a.xMid.update(from: x, count: T * D)
            TrainOps.rmsNormForward(a.xMid, w.ffnNorm.w, eps: eps, rows: T, n: D, y: A.hn, rstd: a.rstd2, pool: pool)
            linearForward(w.lin[4], A.hn, T, a.gate, a.u[4], dropSeed, A)
            linearForward(w.lin[5], A.hn, T, a.up, a.u[5], dropSeed, A)
            TrainOps.gatedForward(a.gate, a.up, count: T * c.ffnDim, activation: c.activation, out: A.act, pool: pool)
            if let pn = w.postFFNNorm, let raw = a.dRaw {
                linearForward(w.lin[6], A.act, T, raw, a.u[6], dropSeed, A)
                TrainOps.rmsNormForward(raw, pn.w, eps: eps, rows: T, n: D, y: A.o, rstd: a.rstdD!, pool: pool)
            } else {
                linearForward(w.lin[6], A.act, T, A.o, a.u[6], dropSeed, A)
            }
            addInPlace(x, A.o, T * D)
            lap("fwd.o+mlp", &tp)
        }

        // Output head over the rows that need it, in chunks (logits are never materialised for all rows).
        var rows: [Int] = []
        if logitsOut != nil { rows = Array(0..<T) } else {
            for t in 0..<T where batch.targets[t] >= 0 { rows.append(t) }
        }
        let dx = A.dx
        if backward { dx.update(repeating: 0, count: T * D) }
        var lossSum = 0.0
        let V = c.vocabularySize
        var r0 = 0
        while r0 < rows.count {
            let C = min(A.headChunk, rows.count - r0)
            var tg = [Int32](repeating: 0, count: C)
            for i in 0..<C {
                let r = rows[r0 + i]
                (A.xg + i * D).update(from: x + r * D, count: D)
                tg[i] = logitsOut == nil ? batch.targets[r] : 0
            }
            TrainOps.rmsNormForward(A.xg, outputNorm.w, eps: eps, rows: C, n: D, y: A.hg, rstd: A.rstdF, pool: pool)
            S.gemm(transA: false, transB: true, m: C, n: V, k: D, alpha: 1, a: A.hg, lda: D, b: output.w, ldb: D,
                   beta: 0, c: A.logits, ldc: V, pool: pool)
            if let out = logitsOut {
                (out + r0 * V).update(from: A.logits, count: C * V)
                r0 += C
                continue
            }
            lossSum += tg.withUnsafeBufferPointer {
                TrainOps.crossEntropy(A.logits, rows: C, vocab: V, targets: $0.baseAddress!, gradScale: gradScale,
                                      backward: backward, pool: pool)
            }
            if backward {
                S.gemm(transA: false, transB: false, m: C, n: D, k: V, alpha: 1, a: A.logits, lda: V, b: output.w,
                       ldb: D, beta: 0, c: A.dhg, ldc: D, pool: pool)
                if let g = output.g {
                    S.gemm(transA: true, transB: false, m: V, n: D, k: C, alpha: 1, a: A.logits, lda: V, b: A.hg,
                           ldb: D, beta: 1, c: g, ldc: D, pool: pool)
                }
                TrainOps.rmsNormBackward(A.xg, outputNorm.w, rstd: A.rstdF, dy: A.dhg, rows: C, n: D, dx: A.hg,
                                         accumulate: false, dw: outputNorm.g, pool: pool)
                for i in 0..<C {
                    let d = dx + rows[r0 + i] * D, s = A.hg + i * D
                    for j in 0..<D { d[j] += s[j] }
                }
            }
            r0 += C
        }
        lap(backward ? "head fwd+bwd" : "head fwd", &tp)
        let result = LossResult(lossSum: lossSum, tokenCount: logitsOut == nil ? rows.count : 0)
        if !backward { return result }

        // Blocks, backward (dx holds dLoss/dx of the residual stream).
        for l in stride(from: c.layerCount - 1, through: 0, by: -1) {
            let w = blocks[l], a = A.layers[l]
            var shape = att
            shape.window = c.slidingLayers[l] ? c.slidingWindow : nil
            let rope = c.slidingLayers[l] ? ropeL : ropeG
            // MLP branch.
            var dBranch = UnsafePointer(dx)
            if let pn = w.postFFNNorm, let raw = a.dRaw {
                TrainOps.rmsNormBackward(raw, pn.w, rstd: a.rstdD!, dy: dx, rows: T, n: D, dx: A.dTmp,
                                         accumulate: false, dw: pn.g, pool: pool)
                dBranch = UnsafePointer(A.dTmp)
            }
            TrainOps.rmsNormForward(a.xMid, w.ffnNorm.w, eps: eps, rows: T, n: D, y: A.hn, rstd: A.rstdScratch, pool: pool)
            TrainOps.gatedForward(a.gate, a.up, count: T * c.ffnDim, activation: c.activation, out: A.act, pool: pool)
            linearBackward(w.lin[6], dy: dBranch, x: A.act, T, dx: A.dAct, accumulate: false, u: a.u[6], dropSeed, A)
            TrainOps.gatedBackward(gate: a.gate, up: a.up, dOut: A.dAct, count: T * c.ffnDim, activation: c.activation,
                                   act: nil, pool: pool)
            linearBackward(w.lin[4], dy: a.gate, x: A.hn, T, dx: A.dhn, accumulate: false, u: a.u[4], dropSeed, A)
            linearBackward(w.lin[5], dy: a.up, x: A.hn, T, dx: A.dhn, accumulate: true, u: a.u[5], dropSeed, A)
            TrainOps.rmsNormBackward(a.xMid, w.ffnNorm.w, rstd: a.rstd2, dy: A.dhn, rows: T, n: D, dx: dx,
                                     accumulate: true, dw: w.ffnNorm.g, pool: pool)
            lap("bwd.mlp", &tp)
            // Attention branch.
            dBranch = UnsafePointer(dx)
            if let pn = w.postAttnNorm, let raw = a.oRaw {
                TrainOps.rmsNormBackward(raw, pn.w, rstd: a.rstdO!, dy: dx, rows: T, n: D, dx: A.dTmp,
                                         accumulate: false, dw: pn.g, pool: pool)
                dBranch = UnsafePointer(A.dTmp)
            }
            linearBackward(w.lin[3], dy: dBranch, x: a.att, T, dx: A.dAtt, accumulate: false, u: a.u[3], dropSeed, A)
            lap("bwd.o", &tp)
            TrainOps.attentionBackward(q: a.q, k: a.k, v: a.v, out: a.att, dOut: A.dAtt, dq: A.dq, dk: A.dk, dv: A.dv,
                                       shape: shape, scratch: A.attScratch, pool: pool)
            rope.cos.withUnsafeBufferPointer { cb in rope.sin.withUnsafeBufferPointer { sb in
                TrainOps.rope(A.dq, rows: T, length: L, heads: c.headCount, headDim: c.headDim, dims: c.ropeDims,
                              style: c.ropeStyle, cos: cb.baseAddress!, sin: sb.baseAddress!, inverse: true, pool: pool)
                TrainOps.rope(A.dk, rows: T, length: L, heads: c.kvHeadCount, headDim: c.headDim, dims: c.ropeDims,
                              style: c.ropeStyle, cos: cb.baseAddress!, sin: sb.baseAddress!, inverse: true, pool: pool)
            } }
            lap("bwd.attention", &tp)
            var dq = A.dq, dk = A.dk
            if let qn = w.qNorm, let kn = w.kNorm, let qr = a.qRaw, let kr = a.kRaw {
                TrainOps.rmsNormBackward(qr, qn.w, rstd: a.rstdQ!, dy: A.dq, rows: T * c.headCount, n: c.headDim,
                                         dx: A.dqRaw, accumulate: false, dw: qn.g, pool: pool)
                TrainOps.rmsNormBackward(kr, kn.w, rstd: a.rstdK!, dy: A.dk, rows: T * c.kvHeadCount, n: c.headDim,
                                         dx: A.dkRaw, accumulate: false, dw: kn.g, pool: pool)
                dq = A.dqRaw; dk = A.dkRaw
            }
            if let g = w.bq?.g { TrainOps.biasBackward(dq, rows: T, n: c.qDim, db: g, pool: pool) }
            if let g = w.bk?.g { TrainOps.biasBackward(dk, rows: T, n: c.kvDim, db: g, pool: pool) }
            if let g = w.bv?.g { TrainOps.biasBackward(A.dv, rows: T, n: c.vDim, db: g, pool: pool) }
            TrainOps.rmsNormForward(a.xIn, w.attnNorm.w, eps: eps, rows: T, n: D, y: A.hn, rstd: A.rstdScratch, pool: pool)
            linearBackward(w.lin[0], dy: dq, x: A.hn, T, dx: A.dhn, accumulate: false, u: a.u[0], dropSeed, A)
            linearBackward(w.lin[1], dy: dk, x: A.hn, T, dx: A.dhn, accumulate: true, u: a.u[1], dropSeed, A)
            linearBackward(w.lin[2], dy: A.dv, x: A.hn, T, dx: A.dhn, accumulate: true, u: a.u[2], dropSeed, A)
            TrainOps.rmsNormBackward(a.xIn, w.attnNorm.w, rstd: a.rstd1, dy: A.dhn, rows: T, n: D, dx: dx,
                                     accumulate: true, dw: w.attnNorm.g, pool: pool)
            lap("bwd.qkv", &tp)
        }
        // Embedding backward (rows may repeat: a serial scatter-add).
        if let g = embedding.g {
            for t in 0..<T {
                let d = g + Int(batch.inputs[t]) * D, s = dx + t * D
                for i in 0..<D { d[i] += s[i] * es }
            }
        }
        lap("bwd.embed", &tp)
        return result
    }

    // MARK: Linear layers with optional LoRA

    /// y[T×n] = x·Wᵀ (+ scale · (drop(x)·Aᵀ)·Bᵀ, keeping u = drop(x)·Aᵀ for the backward pass).
    @inline(__always)
    func linearForward(_ lin: Linear<S>, _ x: UnsafePointer<S>, _ T: Int, _ y: UnsafeMutablePointer<S>,
                       _ u: UnsafeMutablePointer<S>?, _ dropSeed: UInt64?, _ A: Activations<S>) {
        S.gemm(transA: false, transB: true, m: T, n: lin.n, k: lin.k, alpha: 1, a: x, lda: lin.k, b: lin.w.w,
               ldb: lin.k, beta: 0, c: y, ldc: lin.n, pool: pool)
        guard let lo = lin.lora, let u = u else { return }
        var xin = x
        if let seed = dropSeed, lo.dropout > 0 {
            dropoutMask(x, into: A.xd, count: T * lin.k, p: lo.dropout, seed: seed, id: lo.id)
            xin = UnsafePointer(A.xd)
        }
        S.gemm(transA: false, transB: true, m: T, n: lo.rank, k: lin.k, alpha: 1, a: xin, lda: lin.k, b: lo.a.w,
               ldb: lin.k, beta: 0, c: u, ldc: lo.rank, pool: pool)
        S.gemm(transA: false, transB: true, m: T, n: lin.n, k: lo.rank, alpha: lo.scale, a: u, lda: lo.rank,
               b: lo.b.w, ldb: lo.rank, beta: 1, c: y, ldc: lin.n, pool: pool)
    }

    /// Backward of `linearForward`: dW += dyᵀ·x (trainable W only), dx (+)= dy·W (+ LoRA terms),
    /// dB += scale·dyᵀ·u, dA += (scale·dy·B)ᵀ·drop(x).
    @inline(__always)
    func linearBackward(_ lin: Linear<S>, dy: UnsafePointer<S>, x: UnsafePointer<S>, _ T: Int,
                        dx: UnsafeMutablePointer<S>, accumulate: Bool, u: UnsafeMutablePointer<S>?,
                        _ dropSeed: UInt64?, _ A: Activations<S>) {
        if let g = lin.w.g {
            S.gemm(transA: true, transB: false, m: lin.n, n: lin.k, k: T, alpha: 1, a: dy, lda: lin.n, b: x,
                   ldb: lin.k, beta: 1, c: g, ldc: lin.k, pool: pool)
        }
        S.gemm(transA: false, transB: false, m: T, n: lin.k, k: lin.n, alpha: 1, a: dy, lda: lin.n, b: lin.w.w,
               ldb: lin.k, beta: accumulate ? 1 : 0, c: dx, ldc: lin.k, pool: pool)
        guard let lo = lin.lora, let u = u else { return }
        let r = lo.rank
        if let gb = lo.b.g {
            S.gemm(transA: true, transB: false, m: lin.n, n: r, k: T, alpha: lo.scale, a: dy, lda: lin.n, b: u,
                   ldb: r, beta: 1, c: gb, ldc: r, pool: pool)
        }
        let du = A.du
        S.gemm(transA: false, transB: false, m: T, n: r, k: lin.n, alpha: lo.scale, a: dy, lda: lin.n, b: lo.b.w,
               ldb: r, beta: 0, c: du, ldc: r, pool: pool)
        let dropping = dropSeed != nil && lo.dropout > 0
        var xin = x
        if dropping {
            dropoutMask(x, into: A.xd, count: T * lin.k, p: lo.dropout, seed: dropSeed!, id: lo.id)
            xin = UnsafePointer(A.xd)
        }
        if let ga = lo.a.g {
            S.gemm(transA: true, transB: false, m: r, n: lin.k, k: T, alpha: 1, a: du, lda: r, b: xin, ldb: lin.k,
                   beta: 1, c: ga, ldc: lin.k, pool: pool)
        }
        if !dropping {
            S.gemm(transA: false, transB: false, m: T, n: lin.k, k: r, alpha: 1, a: du, lda: r, b: lo.a.w, ldb: lin.k,
                   beta: 1, c: dx, ldc: lin.k, pool: pool)
        } else {
            // d(drop(x))/dx is the same mask: compute du·A into the scratch, mask it, add.
            S.gemm(transA: false, transB: false, m: T, n: lin.k, k: r, alpha: 1, a: du, lda: r, b: lo.a.w, ldb: lin.k,
                   beta: 0, c: A.xd, ldc: lin.k, pool: pool)
            dropoutMask(A.xd, into: A.xd, count: T * lin.k, p: lo.dropout, seed: dropSeed!, id: lo.id)
            addInPlace(dx, A.xd, T * lin.k)
        }
    }

    /// dst[i] = keep(i) ? src[i] / (1 − p) : 0, with keep a hash of (seed, module id, i): the same mask in
    /// the forward and the backward pass without storing it.
    func dropoutMask(_ src: UnsafePointer<S>, into dst: UnsafeMutablePointer<S>, count: Int, p: S, seed: UInt64, id: UInt64) {
        let keepScale = 1 / (1 - p)
        let threshold = UInt64(Double(p) * 16_777_216)
        let base = mix64(seed &+ 0x632B_E59B_D9B4_E019 &* (id &+ 1))
        TrainOps.parallelChunks(count, pool) { lo, hi in
            for i in lo..<hi {
                let h = mix64(base &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15) >> 40
                dst[i] = h >= threshold ? src[i] * keepScale : 0
            }
        }
    }

    @inline(__always) func addInPlace(_ x: UnsafeMutablePointer<S>, _ y: UnsafePointer<S>, _ n: Int) {
        TrainOps.parallelChunks(n, pool) { lo, hi in for i in lo..<hi { x[i] += y[i] } }
    }

    @inline(__always) func addBias(_ x: UnsafeMutablePointer<S>, _ rows: Int, _ n: Int, _ b: UnsafePointer<S>) {
        TrainOps.parallelRows(rows, n, pool) { r in let xr = x + r * n; for i in 0..<n { xr[i] += b[i] } }
    }
}

/// Per-pass buffers, kept while the batch shape stays the same. T = rows·length.
///
/// Saved for the backward pass, per layer (fp32 floats per token):
///   xIn [dim]            residual stream entering the block (attention norm input; its output is recomputed)
///   rstd1, rstd2 [1]     inverse RMS of the two pre-norms
///   qRaw/kRaw            q, k before QK norm (Gemma only) + their per-head rstd
///   q, k [qDim, kvDim]   after norm and rope;  v [vDim]
///   att [heads·vhd]      attention output (probabilities are recomputed in backward, never stored)
///   oRaw, dRaw [dim]     attention / MLP outputs before the Gemma post-norms (+ rstd)
///   xMid [dim]           residual stream after attention (MLP norm input)
///   gate, up [ffn]       MLP projections (act(gate)·up is recomputed; backward overwrites them with
///                        their own gradients)
///   u [rank] per adapter LoRA down-projection drop(x)·Aᵀ
/// SmolLM2-135M: 5 760 floats per token per layer ≈ 0.7 GB at 1 024 tokens × 30 layers.
/// Shared scratch (one layer at a time): hn, o, dTmp, dhn [dim]; act, dAct [ffn]; dq, dk, dv, dAtt;
/// head chunks of `headChunk` rows: xg, hg, dhg [dim] and logits [vocab].
final class Activations<S: TrainScalar> {
    final class Layer {
        var xIn, rstd1, q, k, v, att, xMid, rstd2, gate, up: UnsafeMutablePointer<S>
        var qRaw, kRaw, rstdQ, rstdK, oRaw, rstdO, dRaw, rstdD: UnsafeMutablePointer<S>?
        var u: [UnsafeMutablePointer<S>?]
        init(_ alloc: (Int) -> UnsafeMutablePointer<S>, T: Int, c: ModelConfig, loraRank: Int?, lin: [Linear<S>]) {
            let D = c.dim
            xIn = alloc(T * D); rstd1 = alloc(T); q = alloc(T * c.qDim); k = alloc(T * c.kvDim); v = alloc(T * c.vDim)
            att = alloc(T * c.headCount * c.valueHeadDim); xMid = alloc(T * D); rstd2 = alloc(T)
            gate = alloc(T * c.ffnDim); up = alloc(T * c.ffnDim)
            if c.hasQKNorm {
                qRaw = alloc(T * c.qDim); kRaw = alloc(T * c.kvDim)
                rstdQ = alloc(T * c.headCount); rstdK = alloc(T * c.kvHeadCount)
            }
            if c.hasPostNorms { oRaw = alloc(T * D); rstdO = alloc(T); dRaw = alloc(T * D); rstdD = alloc(T) }
            u = lin.map { $0.lora.map { alloc(T * $0.rank) } }
        }
    }
    let B: Int, L: Int
    var layers: [Layer] = []
    let x, hn, o, dTmp, dhn, act, dAct, dq, dk, dv, dAtt, dqRaw, dkRaw, dx, rstdScratch: UnsafeMutablePointer<S>
    let xd, du, attScratch: UnsafeMutablePointer<S>
    let headChunk: Int
    let xg, hg, dhg, rstdF, logits: UnsafeMutablePointer<S>
    private var owned: [UnsafeMutablePointer<S>] = []

    init(net: TrainNetwork<S>, B: Int, L: Int) {
        self.B = B; self.L = L
        let c = net.config, T = B * L, D = c.dim
        var owned: [UnsafeMutablePointer<S>] = []
        func alloc(_ n: Int) -> UnsafeMutablePointer<S> {
            let p = UnsafeMutablePointer<S>.allocate(capacity: max(1, n))
            owned.append(p)
            return p
        }
        var rank: Int? = nil
        if case .lora(let lc) = net.mode { rank = lc.rank }
        var ls: [Layer] = []
        for l in 0..<c.layerCount { ls.append(Layer(alloc, T: T, c: c, loraRank: rank, lin: net.blocks[l].lin)) }
        let oDim = c.headCount * c.valueHeadDim
        x = alloc(T * D); hn = alloc(T * D); o = alloc(T * D); dTmp = alloc(T * D); dhn = alloc(T * D); dx = alloc(T * D)
        act = alloc(T * c.ffnDim); dAct = alloc(T * c.ffnDim)
        dq = alloc(T * c.qDim); dk = alloc(T * c.kvDim); dv = alloc(T * c.vDim); dAtt = alloc(T * oDim)
        dqRaw = alloc(T * c.qDim); dkRaw = alloc(T * c.kvDim)
        rstdScratch = alloc(T * max(c.headCount, 1))
        xd = alloc(rank == nil ? 1 : T * max(D, c.ffnDim, oDim))
        du = alloc(T * (rank ?? 1))
        attScratch = alloc(B * max(c.headCount, 2 * c.kvHeadCount) * L * L)
        headChunk = min(T, 256)
        xg = alloc(headChunk * D); hg = alloc(headChunk * D); dhg = alloc(headChunk * D); rstdF = alloc(headChunk)
        logits = alloc(headChunk * c.vocabularySize)
        layers = ls
        self.owned = owned
    }
    deinit { for p in owned { p.deallocate() } }

    /// Whether these buffers can hold a batch of B rows × L tokens.
    func fits(B b: Int, L l: Int, config c: ModelConfig) -> Bool {
        b * l <= B * L && b * l * l <= B * L * L && l <= L
    }
}
