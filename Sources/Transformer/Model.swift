import Foundation
import GGUF
import Kernels
/// Callers of `forward(_:activations:)` name the precision without importing Kernels.
@_exported import enum Kernels.ActivationPrecision
import Tokenization
import ChatTemplate

/// What logits a forward pass should produce for one sequence of a batch.
public enum LogitRequest: Sendable, Equatable {
    /// None: the pass only fills the cache (a shared prompt whose continuations carry their own scores).
    case none
    /// The last new position only (prompt processing before sampling).
    case last
    /// Every new position (teacher-forced scoring).
    case all
}

/// Logits produced by one forward pass: `rowCount` rows of `vocabularySize` floats.
public final class Logits: @unchecked Sendable {
    public let rowCount: Int
    public let vocabularySize: Int
    let storage: UnsafeMutablePointer<Float>
    /// For each batch item, the range of its rows.
    public let rowsOfItem: [Range<Int>]

    init(rows: Int, vocab: Int, rowsOfItem: [Range<Int>]) {
        rowCount = rows
        vocabularySize = vocab
        storage = .allocate(capacity: max(1, rows * vocab))
        self.rowsOfItem = rowsOfItem
    }
    deinit { storage.deallocate() }

    /// Row `r` as a buffer (valid while this object lives).
    public func row(_ r: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: storage + r * vocabularySize, count: vocabularySize)
    }
    /// A copy of row `r`.
    public func rowArray(_ r: Int) -> [Float] { Array(row(r)) }
}

/// A loaded GGUF model: configuration, weights, tokenizer and chat template, and the forward pass.
///
/// One forward pass runs at a time (calls are serialized); within a pass the work is spread over the
/// thread pool.
public final class Model: @unchecked Sendable {
    public let config: ModelConfig
    public let weights: ModelWeights
    public let tokenizer: Tokenizer
    /// The model's own chat template, or nil for a base model without one.
    public let chatTemplate: ChatTemplate?
    public let file: GGUFFile
    public let pool: ThreadPool
    /// The longest sequence the engine will run (the model's trained context unless lowered).
    public let contextLimit: Int
    private let lock = NSLock()
    /// Recently computed prompts (see `prefill`).
    let promptCache = PromptCache(capacity: 3)

    /// Loads a model from a GGUF file. `contextLimit` caps sequence length (default: the model's own).
    ///
    /// `adapters` are LoRA adapter files in llama.cpp's GGUF form, each with a user scale (1 = as
    /// trained): every weight they target is merged at load into a dense fp32 copy,
    /// W + Σ scale·(alpha/r)·B·A (see `LoRAAdapter`). An adapter made for another architecture, or whose
    /// tensor names or shapes do not match this model, is rejected with a `LoRAAdapterError`.
    public init(path: String, contextLimit: Int? = nil, adapters: [(path: String, scale: Float)] = [],
                pool: ThreadPool = .shared) throws {
        let file = try GGUFFile(path: path)
        let config = try ModelConfig(gguf: file)
        self.file = file
        self.config = config
        var weights = try ModelWeights(gguf: file, config: config)
        if !adapters.isEmpty {
            let loaded = try adapters.map { (adapter: try LoRAAdapter(path: $0.path), scale: $0.scale) }
            try weights.apply(adapters: loaded, architecture: file.architecture ?? "", pool: pool)
        }
        self.weights = weights
        self.tokenizer = try Tokenizer(gguf: file)
        if let source = file.metadata["tokenizer.chat_template"]?.string {
            self.chatTemplate = try ChatTemplate(source: source)
        } else {
            self.chatTemplate = nil
        }
        self.pool = pool
        self.contextLimit = min(contextLimit ?? config.contextLength, config.contextLength)
    }

    /// A fresh, empty sequence.
    public func newSequence() -> KVSequence {
        KVSequence(layerCount: config.layerCount, kvDim: config.kvDim, vDim: config.vDim)
    }

    /// Renders a conversation with the model's chat template, or the documented plain format when the
    /// model has none (see `ChatTemplate.plain`).
    public func renderChat(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> String {
        guard let template = chatTemplate else {
            return ChatTemplate.plain(messages: messages, addGenerationPrompt: addGenerationPrompt)
        }
        let bos = tokenizer.bosID.map { tokenizer.tokenText($0) } ?? ""
        let eos = tokenizer.eosID.map { tokenizer.tokenText($0) } ?? ""
        return try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt, bosToken: bos, eosToken: eos)
    }

    /// Runs new tokens through the model for several sequences at once, appending them to each
    /// sequence's cache, and returns the requested logits.
    ///
    /// All linear layers see the batch's tokens as one matrix; attention runs per sequence against its
    /// own (possibly shared-prefix) cache. Rows of the output head are computed only where requested.
    ///
    /// `activations: .int8` lets batches of 10 rows or more on Q4_0 / Q4_1 / Q4_K weights quantize their activations to
    /// 8 bits (`ActivationPrecision`): for sampling steps, whose logits only pick the next token. Scoring and
    /// prompt processing keep the default. `.float32` multiplies fp32 activations by dequantized weights
    /// everywhere (slower; the reference the training forward pass is checked against).
    ///
    /// `eightBitLeadingItems`: with `.int16`, the first that many items (each exactly one token with a `.last`
    /// logit request: sampling rows) take 8-bit activations while the rest keep 16 bits. A continuous-batching
    /// step then samples its decoding rows as a pure decoding step would while its prompt rows, whose keys and
    /// values outlive the step, keep the scoring path's precision. Every matrix runs twice, once per part; the
    /// split is made only when the 8-bit part is wide enough to take the 8-bit kernels
    /// (`ActivationPrecision.int8MinimumRows`).
    @discardableResult
    public func forward(_ batch: [(sequence: KVSequence, tokens: [Int], logits: LogitRequest)],
                        activations: ActivationPrecision = .int16, eightBitLeadingItems: Int = 0) throws -> Logits {
        lock.lock(); defer { lock.unlock() }
        let c = config
        var seen = Set<ObjectIdentifier>()
        for item in batch {
            guard seen.insert(ObjectIdentifier(item.sequence)).inserted else {
                throw ModelError.invalidArgument("a sequence appears twice in one batch")
            }
            guard item.sequence.length + item.tokens.count <= contextLimit else {
                throw ModelError.contextOverflow(limit: contextLimit, requested: item.sequence.length + item.tokens.count)
            }
            for t in item.tokens where t < 0 || t >= c.vocabularySize {
                throw ModelError.invalidArgument("token id \(t) is outside the vocabulary (0..<\(c.vocabularySize))")
            }
        }
        let T = batch.reduce(0) { $0 + $1.tokens.count }
        guard eightBitLeadingItems >= 0 && eightBitLeadingItems <= batch.count,
              batch.prefix(eightBitLeadingItems).allSatisfy({ $0.tokens.count == 1 && $0.logits == .last }) else {
            throw ModelError.invalidArgument("eightBitLeadingItems must count leading one-token items with a .last logit request")
        }
        // Rows [0, lead) multiply with 8-bit activations, the rest with `activations` (one part when no split pays).
        let lead = activations == .int16 && eightBitLeadingItems >= ActivationPrecision.int8MinimumRows ? eightBitLeadingItems : 0
        func split(_ n: Int) -> [(rows: Range<Int>, precision: ActivationPrecision)] {
            lead == 0 ? [(0..<n, activations)] : lead == n ? [(0..<n, .int8)] : [(0..<lead, .int8), (lead..<n, .int16)]
        }
        let parts = split(T)
        // Which rows need logits, and where each item's rows land in the output.
        var logitRows: [Int] = []
        var rowsOfItem: [Range<Int>] = []
        var rowStart = 0
        for item in batch {
            let lo = logitRows.count
            switch item.logits {
            case .none: break
            case .last: if !item.tokens.isEmpty { logitRows.append(rowStart + item.tokens.count - 1) }
            case .all: logitRows += (rowStart..<(rowStart + item.tokens.count))
            }
            rowsOfItem.append(lo..<logitRows.count)
            rowStart += item.tokens.count
        }
        let logits = Logits(rows: logitRows.count, vocab: c.vocabularySize, rowsOfItem: rowsOfItem)
        guard T > 0 else { return logits }

        var positions = [Int](); positions.reserveCapacity(T)
        for item in batch { positions += (item.sequence.length..<(item.sequence.length + item.tokens.count)) }
        for item in batch { item.sequence.reserve(item.tokens.count) }

        let s = Scratch(T: T, config: c)
        defer { s.free() }
        let x = s.x
        // Embeddings.
        var t = 0
        for item in batch {
            for tok in item.tokens {
                weights.tokenEmbedding.row(tok, into: x + t * c.dim)
                if c.embeddingScale != 1 { Kernels.scale(x + t * c.dim, by: c.embeddingScale, count: c.dim) }
                t += 1
            }
        }
        let ropeGlobal = RopeTable(positions: positions, dims: c.ropeDims, base: c.ropeBase, scale: c.ropeScale)
        let ropeLocal = c.slidingLayers.contains(true) && (c.ropeBaseLocal != c.ropeBase || c.ropeScale != 1)
            ? RopeTable(positions: positions, dims: c.ropeDims, base: c.ropeBaseLocal, scale: 1) : ropeGlobal

        for (l, w) in weights.layers.enumerated() {
            let sliding = c.slidingLayers[l]
            rmsNormRows(x, T, c.dim, w.attnNorm, c.normEpsilon, out: s.h)
            for p in parts {
                LinearWeight.apply([w.wq, w.wk, w.wv], s.h + p.rows.lowerBound * c.dim, rows: p.rows.count,
                                   into: [s.q + p.rows.lowerBound * c.qDim, s.k + p.rows.lowerBound * c.kvDim, s.v + p.rows.lowerBound * c.vDim],
                                   activations: p.precision, pool: pool)
            }
            if let b = w.bq { addBias(s.q, T, c.qDim, b) }
            if let b = w.bk { addBias(s.k, T, c.kvDim, b) }
            if let b = w.bv { addBias(s.v, T, c.vDim, b) }
            if let qn = w.qNorm, let kn = w.kNorm {
                rmsNormRows(s.q, T * c.headCount, c.headDim, qn, c.normEpsilon, out: s.q)
                rmsNormRows(s.k, T * c.kvHeadCount, c.headDim, kn, c.normEpsilon, out: s.k)
            }
            let rope = sliding ? ropeLocal : ropeGlobal
            rope.apply(s.q, rows: T, heads: c.headCount, headDim: c.headDim, style: c.ropeStyle)
            rope.apply(s.k, rows: T, heads: c.kvHeadCount, headDim: c.headDim, style: c.ropeStyle)
            // Store the new keys and values in each sequence's cache.
            var r = 0
            for item in batch {
                let seq = item.sequence
                let off = seq.length - seq.parentLength
                let n = item.tokens.count
                (seq.keys[l] + off * c.kvDim).update(from: s.k + r * c.kvDim, count: n * c.kvDim)
                (seq.values[l] + off * c.vDim).update(from: s.v + r * c.vDim, count: n * c.vDim)
                r += n
            }
            attention(batch: batch, layer: l, sliding: sliding, q: s.q, out: s.attn)
            for p in parts {
                w.wo.apply(s.attn + p.rows.lowerBound * c.headCount * c.valueHeadDim, rows: p.rows.count,
                           into: s.h + p.rows.lowerBound * c.dim, activations: p.precision, pool: pool)
            }
            if let pn = w.postAttnNorm { rmsNormRows(s.h, T, c.dim, pn, c.normEpsilon, out: s.h) }
            add(x, s.h, T * c.dim)
            rmsNormRows(x, T, c.dim, w.ffnNorm, c.normEpsilon, out: s.h)
            for p in parts {
                LinearWeight.apply([w.wGate, w.wUp], s.h + p.rows.lowerBound * c.dim, rows: p.rows.count,
                                   into: [s.gate + p.rows.lowerBound * c.ffnDim, s.up + p.rows.lowerBound * c.ffnDim],
                                   activations: p.precision, pool: pool)
            }
            gatedActivation(s.gate, s.up, T * c.ffnDim, c.activation, pool: pool)
            for p in parts {
                w.wDown.apply(s.gate + p.rows.lowerBound * c.ffnDim, rows: p.rows.count, into: s.h + p.rows.lowerBound * c.dim,
                              activations: p.precision, pool: pool)
            }
            if let pn = w.postFFNNorm { rmsNormRows(s.h, T, c.dim, pn, c.normEpsilon, out: s.h) }
            add(x, s.h, T * c.dim)
        }
        for item in batch {
            item.sequence.length += item.tokens.count
            item.sequence.ownTokens += item.tokens
        }
        // The output head, only on rows that need it.
        if !logitRows.isEmpty {
            let R = logitRows.count
            let hr = UnsafeMutablePointer<Float>.allocate(capacity: R * c.dim)
            defer { hr.deallocate() }
            for (i, r) in logitRows.enumerated() {
                rmsNormRow(x + r * c.dim, c.dim, weights.outputNorm, c.normEpsilon, out: hr + i * c.dim)
            }
            // The leading items' logit rows are the first `lead` (one each), so the head splits as the layers do.
            for p in split(R) {
                weights.output.apply(hr + p.rows.lowerBound * c.dim, rows: p.rows.count,
                                     into: logits.storage + p.rows.lowerBound * c.vocabularySize, activations: p.precision, pool: pool)
            }
        }
        return logits
    }

    /// Causal (and, on sliding layers, windowed) attention of the batch's new queries over each
    /// sequence's cache. With one new token the query heads sharing a KV head run as one small matrix.
    private func attention(batch: [(sequence: KVSequence, tokens: [Int], logits: LogitRequest)], layer: Int,
                           sliding: Bool, q: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let c = config
        let group = c.headsPerKVHead
        let hd = c.headDim, vhd = c.valueHeadDim
        let outStride = c.headCount * vhd
        let window = sliding ? c.slidingWindow : nil
        // head: the KV head. block: for items of several tokens, which block of `rowBlock` query rows; for one-token
        // items whose context is split (see below), which part of it, of `parts`, with its partial results at `slot`.
        struct Unit { var item: Int; var row0: Int; var head: Int; var block = 0; var parts = 1; var slot = 0 }
        let rowBlock = 64
        var units: [Unit] = []
        var decoding: [(item: Int, row0: Int)] = []
        var row0 = 0
        for (i, item) in batch.enumerated() {
            if item.tokens.count == 1 {
                decoding.append((i, row0))
            } else if !item.tokens.isEmpty {
                for g in 0..<c.kvHeadCount {
                    for b in 0..<((item.tokens.count + rowBlock - 1) / rowBlock) {
                        units.append(Unit(item: i, row0: row0, head: g, block: b))
                    }
                }
            }
            row0 += item.tokens.count
        }
        // One-token items forked from the same prompt read its keys as one matrix (see
        // `SharedPrefixGroup`); the rest run per item.
        var (shared, alone) = SharedPrefixGroup.partition(decoding, batch: batch, layer: layer, window: window)
        for g in shared.indices { shared[g].preparePacked(layer: layer, config: c) }
        let sharedUnits = SharedPrefixGroup.units(shared, kvHeads: c.kvHeadCount, threads: pool.threadCount)
        // One-token items KV-head-major: consecutive units read the same head's slice of the cache, which
        // forked streams share (their prompt), so it stays in cache while every stream passes over it.
        // Too few of them to keep every thread busy (one stream decoding: one unit per KV head), each splits its
        // context into parts of about a share each (only when every share holds ≥ 64 keys), whose partial
        // softmax results merge afterwards. One thread never splits.
        let decodeUnits = c.kvHeadCount * alone.count
        let threads = pool.threadCount
        let wantParts = threads > 1 && decodeUnits > 0 && decodeUnits < 2 * threads
            ? min(4, (2 * threads + decodeUnits - 1) / decodeUnits) : 1   // ≤ 4: the merge's weights are a SIMD4
        var splitSlots = 0
        for g in 0..<c.kvHeadCount {
            for d in alone {
                let seq = batch[d.item].sequence
                let width = seq.length + 1 - firstVisiblePosition(seq.length, window: window)
                let parts = width >= 64 * wantParts ? wantParts : 1
                for part in 0..<parts {
                    units.append(Unit(item: d.item, row0: d.row0, head: g, block: part, parts: parts, slot: splitSlots + part))
                }
                if parts > 1 { splitSlots += parts }
            }
        }
        // Per part: each query row's normalized partial output (vhd floats), then its softmax max and sum.
        let partStride = group * (vhd + 2)
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: max(1, splitSlots * partStride))
        defer { partials.deallocate() }
        let scaleQ = c.attentionScale
        // The shared groups' units (the largest) go first, so the small ones fill in behind them.
        pool.parallelFor(sharedUnits.count + units.count) { index in
            if index < sharedUnits.count {
                let su = sharedUnits[index]
                shared[su.group].attend(kvHead: su.kvHead, streams: su.streams, config: c, q: q, out: out, pool: pool)
                return
            }
            let u = units[index - sharedUnits.count]
            let seq = batch[u.item].sequence
            let n = batch[u.item].tokens.count
            let p0 = seq.length
            let L = p0 + n
            let lo = firstVisiblePosition(p0, window: window)
            let width = L - lo
            if n == 1 {
                // One new token: the group's query heads against the cached keys (all of them, or this unit's part),
                // with SIMD dot products (a GEMM call per head would cost more than the arithmetic).
                let m = group, kvHead = u.head
                let chunk = (width + u.parts - 1) / u.parts
                let a = lo + u.block * chunk, b = min(L, a + chunk), w = b - a
                let qBase = q + u.row0 * c.qDim + u.head * group * hd
                let split = u.parts > 1
                let oBase = split ? partials + u.slot * partStride : out + u.row0 * outStride + u.head * group * vhd
                let scores = UnsafeMutablePointer<Float>.allocate(capacity: m * w)
                defer { scores.deallocate() }
                let segs = seq.segments(layer: layer, from: a, to: b)
                for sg in segs {
                    attentionScores(q: qBase, qStride: hd, rows: m, headDim: hd, keys: sg.keys + kvHead * hd,
                                    keyStride: c.kvDim, count: sg.count, scale: scaleQ,
                                    into: scores + (sg.start - a), ldScores: w)
                }
                for r in 0..<m {
                    let (mx, sum) = softmax(scores + r * w, count: w)
                    if split { oBase[m * vhd + 2 * r] = mx; oBase[m * vhd + 2 * r + 1] = sum }
                }
                if segs.isEmpty {
                    for r in 0..<m { (oBase + r * vhd).update(repeating: 0, count: vhd) }
                }
                for (si, sg) in segs.enumerated() {
                    attentionWeightedSum(weights: scores + (sg.start - a), ldWeights: w, rows: m,
                                         values: sg.values + kvHead * vhd, valueStride: c.vDim, count: sg.count,
                                         valueDim: vhd, into: oBase, outStride: vhd, accumulate: si > 0)
                }
                return
            }
            // Several new tokens: one block of query rows of every query head of this KV head, stacked
            // (head-major) into one matrix, against only the keys the block can see (causal and windowed):
            // two GEMMs per cache segment, so each segment's keys and values are packed once for the group.
            let r0 = u.block * rowBlock, r1 = min(n, r0 + rowBlock)
            let rows = r1 - r0, M = group * rows
            let blo = firstVisiblePosition(p0 + r0, window: window)
            let bhi = p0 + r1
            let bw = bhi - blo
            let qs = UnsafeMutablePointer<Float>.allocate(capacity: M * hd + M * bw + M * vhd)
            defer { qs.deallocate() }
            let scores = qs + M * hd, os = scores + M * bw
            for j in 0..<group {
                let head = u.head * group + j
                for r in 0..<rows {
                    (qs + (j * rows + r) * hd).update(from: q + (u.row0 + r0 + r) * c.qDim + head * hd, count: hd)
                }
            }
            let segs = seq.segments(layer: layer, from: blo, to: bhi)
            for sg in segs {
                sgemm(transA: false, transB: true, m: M, n: sg.count, k: hd, alpha: scaleQ,
                      a: qs, lda: hd, b: sg.keys + u.head * hd, ldb: c.kvDim,
                      beta: 0, c: scores + (sg.start - blo), ldc: bw, pool: pool)
            }
            for i in 0..<M {
                let pos = p0 + r0 + i % rows
                let first = max(blo, firstVisiblePosition(pos, window: window))
                let row = scores + i * bw
                let a = first - blo, b = pos - blo + 1
                for j in 0..<a { row[j] = 0 }
                _ = softmax(row + a, count: b - a)
                for j in b..<bw { row[j] = 0 }
            }
            if segs.isEmpty { os.update(repeating: 0, count: M * vhd) }
            for (si, sg) in segs.enumerated() {
                sgemm(transA: false, transB: false, m: M, n: vhd, k: sg.count,
                      a: scores + (sg.start - blo), lda: bw, b: sg.values + u.head * vhd, ldb: c.vDim,
                      beta: si == 0 ? 0 : 1, c: os, ldc: vhd, pool: pool)
            }
            for j in 0..<group {
                let head = u.head * group + j
                for r in 0..<rows {
                    (out + (u.row0 + r0 + r) * outStride + head * vhd).update(from: os + (j * rows + r) * vhd, count: vhd)
                }
            }
        }
        // Split contexts: each query row's output is its parts' outputs weighted by their share of the softmax
        // mass, sum_p·e^(max_p − max).
        if splitSlots > 0 {
            for u in units where u.parts > 1 && u.block == 0 {
                let oBase = out + u.row0 * outStride + u.head * group * vhd
                for r in 0..<group {
                    var top = -Float.infinity
                    for p in 0..<u.parts { top = max(top, partials[(u.slot + p) * partStride + group * vhd + 2 * r]) }
                    var weights = SIMD4<Float>()   // parts ≤ 4
                    var total: Float = 0
                    for p in 0..<u.parts {
                        let f = partials + (u.slot + p) * partStride + group * vhd + 2 * r
                        weights[p] = f[0] == -.infinity ? 0 : f[1] * expf(f[0] - top)
                        total += weights[p]
                    }
                    let o = oBase + r * vhd
                    o.update(repeating: 0, count: vhd)
                    guard total > 0 else { continue }
                    for p in 0..<u.parts where weights[p] > 0 {
                        axpy(weights[p] / total, partials + (u.slot + p) * partStride + r * vhd, o, count: vhd)
                    }
                }
            }
        }
    }

    /// Per-pass activation buffers.
    private final class Scratch {
        let x, h, q, k, v, attn, gate, up: UnsafeMutablePointer<Float>
        init(T: Int, config c: ModelConfig) {
            x = .allocate(capacity: T * c.dim)
            h = .allocate(capacity: T * max(c.dim, c.qDim))
            q = .allocate(capacity: T * c.qDim)
            k = .allocate(capacity: T * c.kvDim)
            v = .allocate(capacity: T * c.vDim)
            attn = .allocate(capacity: T * c.headCount * c.valueHeadDim)
            gate = .allocate(capacity: T * c.ffnDim)
            up = .allocate(capacity: T * c.ffnDim)
        }
        func free() { for p in [x, h, q, k, v, attn, gate, up] { p.deallocate() } }
    }
}
