import Foundation
import Kernels
import Transformer

// The differentiable operations of the transformer, each forward beside its backward (llm.c style).
// Every buffer is row-major; "rows" are token positions. All functions are generic over the scalar
// (`Float` for training, `Double` for gradient checks) and run the same code for both.
//
// Conventions: a backward function receives the gradient of the loss with respect to the op's output
// (`dy`) and ADDS into parameter gradients; `accumulate` says whether the input gradient `dx` is added
// to (`true`) or overwritten (`false`).

/// The differentiable operations the training model is built from, public so that each can be checked
/// by finite differences on its own.
public enum TrainOps {

    // MARK: RMSNorm

    /// y[r] = x[r] · rstd[r] · w, rstd = 1/sqrt(mean(x[r]²) + eps), for `rows` rows of width `n`.
    /// Writes `rstd[r]` for the backward pass. `y` may alias `x`.
    public static func rmsNormForward<S: TrainScalar>(_ x: UnsafePointer<S>, _ w: UnsafePointer<S>, eps: S,
                                                      rows: Int, n: Int, y: UnsafeMutablePointer<S>,
                                                      rstd: UnsafeMutablePointer<S>, pool: ThreadPool) {
        parallelRows(rows, n, pool) { r in
            let xr = x + r * n, yr = y + r * n
            let inv = 1 / (S.dot(xr, xr, count: n) / S(n) + eps).squareRoot()
            rstd[r] = inv
            for i in 0..<n { yr[i] = xr[i] * inv * w[i] }
        }
    }

    /// Backward of `rmsNormForward`: dx (+)= rstd·(w·dy) − x·rstd³·mean(w·dy·x); dw += Σ_r dy·x·rstd.
    /// `dw` may be nil (frozen weight). `dx` must not alias `dy` unless `accumulate` is false.
    public static func rmsNormBackward<S: TrainScalar>(_ x: UnsafePointer<S>, _ w: UnsafePointer<S>,
                                                       rstd: UnsafePointer<S>, dy: UnsafePointer<S>,
                                                       rows: Int, n: Int, dx: UnsafeMutablePointer<S>,
                                                       accumulate: Bool, dw: UnsafeMutablePointer<S>?,
                                                       pool: ThreadPool) {
        reduceRows(rows, n, pool, into: dw, width: n) { range, part in
            for r in range {
                let xr = x + r * n, dyr = dy + r * n, dxr = dx + r * n
                let inv = rstd[r]
                var s: S = 0
                for i in 0..<n { s += dyr[i] * w[i] * xr[i] }
                let c = s * inv * inv * inv / S(n)
                if let part = part { for i in 0..<n { part[i] += dyr[i] * xr[i] * inv } }
                if accumulate {
                    for i in 0..<n { dxr[i] += inv * w[i] * dyr[i] - c * xr[i] }
                } else {
                    for i in 0..<n { dxr[i] = inv * w[i] * dyr[i] - c * xr[i] }
                }
            }
        }
    }

    // MARK: Rotary position embedding

    /// Cosines and sines for positions 0..<length: `table[p·half + i]`, half = dims/2.
    public static func ropeTable<S: TrainScalar>(length: Int, dims: Int, base: Float, scale: Float) -> (cos: [S], sin: [S]) {
        let half = dims / 2
        var c = [S](repeating: 0, count: length * half), s = c
        for i in 0..<half {
            let inv = Foundation.pow(Double(base), -Double(2 * i) / Double(dims))
            for p in 0..<length {
                // Same arithmetic as the inference engine (position scaled in double, then rounded).
                let theta = Double(p) * Double(scale) * inv
                c[p * half + i] = S(Float(Foundation.cos(theta)))
                s[p * half + i] = S(Float(Foundation.sin(theta)))
            }
        }
        return (c, s)
    }

    /// Rotates the first `dims` dimensions of each head of `rows` rows (row r is at position r % length).
    /// `inverse: true` applies the transposed rotation, which is the backward pass.
    public static func rope<S: TrainScalar>(_ x: UnsafeMutablePointer<S>, rows: Int, length: Int, heads: Int,
                                            headDim: Int, dims: Int, style: RopeStyle,
                                            cos: UnsafePointer<S>, sin: UnsafePointer<S>, inverse: Bool,
                                            pool: ThreadPool) {
        let half = dims / 2
        parallelRows(rows, heads * headDim, pool) { r in
            let ct = cos + (r % length) * half, st = sin + (r % length) * half
            for h in 0..<heads {
                let v = x + (r * heads + h) * headDim
                let stride = style == .interleaved ? 1 : half
                let step = style == .interleaved ? 2 : 1
                for i in 0..<half {
                    let ia = i * step, ib = ia + stride
                    let a = v[ia], b = v[ib]
                    let c = ct[i], s = inverse ? -st[i] : st[i]
                    v[ia] = a * c - b * s
                    v[ib] = a * s + b * c
                }
            }
        }
    }

    // MARK: Gated MLP activation

    /// out = act(gate) · up (SwiGLU or GELU-tanh GeGLU), elementwise over `count` values.
    /// silu(g) = g / (1 + e^−g); gelu(g) = ½·g·(1 + tanh(z)), z = √(2/π)(g + 0.044715 g³), with
    /// tanh(z) = 1 − 2/(e^2z + 1) (the inference kernels' formulas, so Float results match them).
    public static func gatedForward<S: TrainScalar>(_ gate: UnsafePointer<S>, _ up: UnsafePointer<S>, count: Int,
                                                    activation: Activation, out: UnsafeMutablePointer<S>,
                                                    pool: ThreadPool) {
        parallelChunks(count, pool) { lo, hi in
            let n = hi - lo
            let e = UnsafeMutablePointer<S>.allocate(capacity: n)
            defer { e.deallocate() }
            let g = gate + lo, u = up + lo, o = out + lo
            switch activation {
            case .silu:
                for i in 0..<n { e[i] = -g[i] }
                S.expInPlace(e, count: n)
                for i in 0..<n { o[i] = g[i] / (1 + e[i]) * u[i] }
            case .geluTanh:
                let c = S(geluC), k = S(geluK)
                for i in 0..<n { let x = g[i]; e[i] = 2 * c * (x + k * x * x * x) }
                S.expInPlace(e, count: n)
                for i in 0..<n { o[i] = S(0.5) * g[i] * (2 - 2 / (e[i] + 1)) * u[i] }
            }
        }
    }

    static var geluC: Float { 0.7978845608028654 }
    static var geluK: Float { 0.044715 }

    /// Backward of `gatedForward`, in place: on return `gate` holds d(gate) and `up` holds d(up).
    /// If `act` is non-nil it receives the forward output act(gate)·up, computed from the same values.
    public static func gatedBackward<S: TrainScalar>(gate: UnsafeMutablePointer<S>, up: UnsafeMutablePointer<S>,
                                                     dOut: UnsafePointer<S>, count: Int, activation: Activation,
                                                     act: UnsafeMutablePointer<S>?, pool: ThreadPool) {
        parallelChunks(count, pool) { lo, hi in
            let n = hi - lo
            let e = UnsafeMutablePointer<S>.allocate(capacity: n)
            defer { e.deallocate() }
            let g = gate + lo, u = up + lo, d = dOut + lo
            switch activation {
            case .silu:
                for i in 0..<n { e[i] = -g[i] }
                S.expInPlace(e, count: n)
                for i in 0..<n {
                    let x = g[i], sg = 1 / (1 + e[i]), silu = x * sg, ui = u[i], di = d[i]
                    g[i] = di * ui * sg * (1 + x * (1 - sg))
                    u[i] = di * silu
                    e[i] = silu * ui
                }
            case .geluTanh:
                let c = S(geluC), k = S(geluK)
                for i in 0..<n { let x = g[i]; e[i] = 2 * c * (x + k * x * x * x) }
                S.expInPlace(e, count: n)
                for i in 0..<n {
                    let x = g[i], t = 1 - 2 / (e[i] + 1), ui = u[i], di = d[i]
                    let gelu = S(0.5) * x * (1 + t)
                    let dgelu = S(0.5) * (1 + t) + S(0.5) * x * (1 - t * t) * c * (1 + 3 * k * x * x)
                    g[i] = di * ui * dgelu
                    u[i] = di * gelu
                    e[i] = gelu * ui
                }
            }
            if let act = act { (act + lo).update(from: e, count: n) }
        }
    }

    // MARK: Attention

    /// Shapes of one multi-head attention call over `batch` sequences of `length` tokens.
    public struct AttentionShape: Sendable {
        public var batch: Int, length: Int, heads: Int, kvHeads: Int, headDim: Int, valueHeadDim: Int
        /// Multiplier on q·k.
        public var scale: Float
        /// Keys more than `window - 1` positions back are masked (sliding layers), nil for none.
        public var window: Int?
        /// Documents packed into one row: for each (sequence b, position i), at `b·length + i`, the position
        /// where i's document begins; keys before it are masked, so a document never attends to the one
        /// packed before it. Non-decreasing along each row. nil: every row is one document.
        public var documentStarts: [Int32]?
        public init(batch: Int, length: Int, heads: Int, kvHeads: Int, headDim: Int, valueHeadDim: Int,
                    scale: Float, window: Int?, documentStarts: [Int32]? = nil) {
            precondition(documentStarts == nil || documentStarts!.count == batch * length,
                         "AttentionShape: documentStarts needs one entry per position")
            self.batch = batch; self.length = length; self.heads = heads; self.kvHeads = kvHeads
            self.headDim = headDim; self.valueHeadDim = valueHeadDim; self.scale = scale; self.window = window
            self.documentStarts = documentStarts
        }
        var qDim: Int { heads * headDim }
        var kvDim: Int { kvHeads * headDim }
        var vDim: Int { kvHeads * valueHeadDim }
        var oDim: Int { heads * valueHeadDim }
        /// First key visible from query position i of sequence b (the window's and the document's start).
        /// Non-decreasing in i, so a block of queries starting at r0 sees no key before `first(b, r0)`.
        @inline(__always) func first(_ b: Int, _ i: Int) -> Int {
            let w = window.map { Swift.max(0, i - $0 + 1) } ?? 0
            guard let d = documentStarts else { return w }
            return Swift.max(w, Int(d[b * length + i]))
        }
    }

    /// Scratch floats `attentionForward` / `attentionBackward` need (pass at least this many, or nil).
    public static func attentionScratchCount(_ a: AttentionShape) -> Int {
        a.batch * Swift.max(a.heads, 2 * a.kvHeads) * a.length * a.length
    }

    /// Causal grouped-query attention, masked further by `shape.window` and `shape.documentStarts`.
    /// Layout: q [batch·length, heads·headDim], k [.., kvHeads·headDim], v [.., kvHeads·valueHeadDim],
    /// out [.., heads·valueHeadDim]. Probabilities are not stored: the
    /// backward pass recomputes them (an L×L block per head), which keeps activation memory linear in L.
    public static func attentionForward<S: TrainScalar>(q: UnsafePointer<S>, k: UnsafePointer<S>, v: UnsafePointer<S>,
                                                        out: UnsafeMutablePointer<S>, shape a: AttentionShape,
                                                        scratch: UnsafeMutablePointer<S>? = nil, pool: ThreadPool) {
        let L = a.length, group = a.heads / a.kvHeads
        let units = a.batch * a.heads
        let own = scratch == nil ? UnsafeMutablePointer<S>.allocate(capacity: units * L * L) : nil
        defer { own?.deallocate() }
        let work = scratch ?? own!
        pool.parallelFor(units) { unit in
            let b = unit / a.heads, h = unit % a.heads, g = h / group
            let p = work + unit * L * L
            let qh = q + b * L * a.qDim + h * a.headDim
            let kg = k + b * L * a.kvDim + g * a.headDim
            let vg = v + b * L * a.vDim + g * a.valueHeadDim
            attentionProbabilities(qh, kg, a, b, p)
            // O = P V, block by block over only the keys a block of queries can see.
            var r0 = 0
            while r0 < L {
                let r1 = Swift.min(L, r0 + attentionBlock), lo = a.first(b, r0)
                S.gemm(transA: false, transB: false, m: r1 - r0, n: a.valueHeadDim, k: r1 - lo, alpha: 1,
                       a: p + r0 * L + lo, lda: L, b: vg + lo * a.vDim, ldb: a.vDim, beta: 0,
                       c: out + (b * L + r0) * a.oDim + h * a.valueHeadDim, ldc: a.oDim, pool: serialPool)
                r0 = r1
            }
        }
    }

    /// Query rows per block: each block multiplies only against the keys it can see (causal and
    /// windowed), which skips about half of the L×L work at L = 256. Settable so tests can exercise
    /// the blocking on short sequences; not meant to change while a pass runs.
    nonisolated(unsafe) public static var attentionBlock = 64

    /// P = softmax(scale · q kᵀ) for sequence b with the causal (window, document) mask, zeros where masked.
    @inline(__always)
    static func attentionProbabilities<S: TrainScalar>(_ qh: UnsafePointer<S>, _ kg: UnsafePointer<S>,
                                                       _ a: AttentionShape, _ b: Int, _ p: UnsafeMutablePointer<S>) {
        let L = a.length
        var r0 = 0
        while r0 < L {
            let r1 = Swift.min(L, r0 + attentionBlock), lo = a.first(b, r0)
            S.gemm(transA: false, transB: true, m: r1 - r0, n: r1 - lo, k: a.headDim, alpha: S(a.scale),
                   a: qh + r0 * a.qDim, lda: a.qDim, b: kg + lo * a.kvDim, ldb: a.kvDim, beta: 0,
                   c: p + r0 * L + lo, ldc: L, pool: serialPool)
            for i in r0..<r1 {
                let row = p + i * L, first = a.first(b, i)
                for j in lo..<first { row[j] = 0 }
                _ = S.softmaxInPlace(row + first, count: i + 1 - first)
                for j in (i + 1)..<r1 { row[j] = 0 }
            }
            r0 = r1
        }
    }

    /// Backward of `attentionForward`: overwrites dq, dk, dv (same layouts as q, k, v) from dOut, using
    /// the forward output `out`. Work is split by (sequence, kv head) so key/value gradients of a group
    /// are summed without races.
    public static func attentionBackward<S: TrainScalar>(q: UnsafePointer<S>, k: UnsafePointer<S>, v: UnsafePointer<S>,
                                                         out: UnsafePointer<S>, dOut: UnsafePointer<S>,
                                                         dq: UnsafeMutablePointer<S>, dk: UnsafeMutablePointer<S>,
                                                         dv: UnsafeMutablePointer<S>, shape a: AttentionShape,
                                                         scratch: UnsafeMutablePointer<S>? = nil, pool: ThreadPool) {
        let L = a.length, group = a.heads / a.kvHeads
        let scale = S(a.scale)
        let units = a.batch * a.kvHeads
        let own = scratch == nil ? UnsafeMutablePointer<S>.allocate(capacity: units * 2 * L * L) : nil
        defer { own?.deallocate() }
        let work = scratch ?? own!
        pool.parallelFor(units) { unit in
            let b = unit / a.kvHeads, g = unit % a.kvHeads
            let p = work + unit * 2 * L * L
            let ds = p + L * L
            let kg = k + b * L * a.kvDim + g * a.headDim
            let vg = v + b * L * a.vDim + g * a.valueHeadDim
            let dkg = dk + b * L * a.kvDim + g * a.headDim
            let dvg = dv + b * L * a.vDim + g * a.valueHeadDim
            for i in 0..<L {
                (dkg + i * a.kvDim).update(repeating: 0, count: a.headDim)
                (dvg + i * a.vDim).update(repeating: 0, count: a.valueHeadDim)
            }
            for h in (g * group)..<((g + 1) * group) {
                let qh = q + b * L * a.qDim + h * a.headDim
                let oh = out + b * L * a.oDim + h * a.valueHeadDim
                let doh = dOut + b * L * a.oDim + h * a.valueHeadDim
                attentionProbabilities(qh, kg, a, b, p)
                var r0 = 0
                while r0 < L {
                    let r1 = Swift.min(L, r0 + attentionBlock), lo = a.first(b, r0)
                    let rows = r1 - r0, w = r1 - lo
                    let pb = p + r0 * L + lo, db = ds + r0 * L + lo
                    // dV += Pᵀ dO
                    S.gemm(transA: true, transB: false, m: w, n: a.valueHeadDim, k: rows, alpha: 1, a: pb, lda: L,
                           b: doh + r0 * a.oDim, ldb: a.oDim, beta: 1, c: dvg + lo * a.vDim, ldc: a.vDim, pool: serialPool)
                    // dP = dO Vᵀ
                    S.gemm(transA: false, transB: true, m: rows, n: w, k: a.valueHeadDim, alpha: 1,
                           a: doh + r0 * a.oDim, lda: a.oDim, b: vg + lo * a.vDim, ldb: a.vDim, beta: 0,
                           c: db, ldc: L, pool: serialPool)
                    // dS = P ⊙ (dP − rowsum(dO ⊙ O))
                    for i in r0..<r1 {
                        let delta = S.dot(doh + i * a.oDim, oh + i * a.oDim, count: a.valueHeadDim)
                        let pr = p + i * L, dr = ds + i * L, first = a.first(b, i)
                        for j in lo..<first { dr[j] = 0 }
                        for j in first...i { dr[j] = pr[j] * (dr[j] - delta) }
                        for j in (i + 1)..<r1 { dr[j] = 0 }
                    }
                    // dK += scale · dSᵀ Q ; dQ = scale · dS K
                    S.gemm(transA: true, transB: false, m: w, n: a.headDim, k: rows, alpha: scale, a: db, lda: L,
                           b: qh + r0 * a.qDim, ldb: a.qDim, beta: 1, c: dkg + lo * a.kvDim, ldc: a.kvDim, pool: serialPool)
                    S.gemm(transA: false, transB: false, m: rows, n: a.headDim, k: w, alpha: scale, a: db, lda: L,
                           b: kg + lo * a.kvDim, ldb: a.kvDim, beta: 0,
                           c: dq + (b * L + r0) * a.qDim + h * a.headDim, ldc: a.qDim, pool: serialPool)
                    r0 = r1
                }
            }
        }
    }

    // MARK: Cross-entropy

    /// For each of `rows` rows of logits (width `vocab`): loss = logsumexp(row) − row[target]; the row is
    /// replaced by gradScale · (softmax(row) − onehot(target)) when `backward`. Returns Σ loss in Double.
    public static func crossEntropy<S: TrainScalar>(_ logits: UnsafeMutablePointer<S>, rows: Int, vocab: Int,
                                                    targets: UnsafePointer<Int32>, gradScale: S, backward: Bool,
                                                    pool: ThreadPool) -> Double {
        let losses = UnsafeMutablePointer<Double>.allocate(capacity: max(1, rows))
        defer { losses.deallocate() }
        pool.parallelFor(rows) { r in
            let row = logits + r * vocab
            let t = Int(targets[r])
            let picked = row[t]
            let lse = S.softmaxInPlace(row, count: vocab)
            losses[r] = Double(lse - picked)
            if backward {
                row[t] -= 1
                if gradScale != 1 { for i in 0..<vocab { row[i] *= gradScale } }
            }
        }
        var s = 0.0
        for r in 0..<rows { s += losses[r] }
        return s
    }

    // MARK: Helpers

    /// A one-thread pool: matrix products issued from inside a parallel job run serially anyway; passing
    /// this makes it explicit.
    static let serialPool = ThreadPool(threads: 1)

    /// Calls body(r) for every row, in parallel when the work is large enough.
    @inline(__always)
    static func parallelRows(_ rows: Int, _ width: Int, _ pool: ThreadPool, _ body: (Int) -> Void) {
        if rows * width < 16_384 || pool.threadCount == 1 {
            for r in 0..<rows { body(r) }
            return
        }
        let chunks = min(rows, pool.threadCount * 4)
        pool.parallelFor(chunks) { c in
            let lo = rows * c / chunks, hi = rows * (c + 1) / chunks
            for r in lo..<hi { body(r) }
        }
    }

    /// Calls body(lo, hi) over chunks of 0..<count, in parallel.
    @inline(__always)
    static func parallelChunks(_ count: Int, _ pool: ThreadPool, _ body: (Int, Int) -> Void) {
        let chunk = 8192
        let n = (count + chunk - 1) / chunk
        if n <= 1 { body(0, count); return }
        pool.parallelFor(n) { c in body(c * chunk, min(count, (c + 1) * chunk)) }
    }

    /// Runs body over row ranges; each range gets its own zeroed partial-sum buffer of `width` values
    /// (nil when `into` is nil), and the partials are added into `into` in a fixed order (deterministic).
    static func reduceRows<S: TrainScalar>(_ rows: Int, _ n: Int, _ pool: ThreadPool, into: UnsafeMutablePointer<S>?,
                                           width: Int, _ body: (Range<Int>, UnsafeMutablePointer<S>?) -> Void) {
        let chunks = (rows * n < 16_384 || pool.threadCount == 1) ? 1 : min(rows, pool.threadCount * 2)
        if rows == 0 { return }
        let partials: UnsafeMutablePointer<S>? = into == nil ? nil : .allocate(capacity: chunks * width)
        partials?.initialize(repeating: 0, count: chunks * width)
        defer { partials?.deallocate() }
        if chunks == 1 {
            body(0..<rows, partials)
        } else {
            pool.parallelFor(chunks) { c in
                body((rows * c / chunks)..<(rows * (c + 1) / chunks), partials.map { $0 + c * width })
            }
        }
        if let into = into, let partials = partials {
            for c in 0..<chunks { for i in 0..<width { into[i] += partials[c * width + i] } }
        }
    }

    /// dBias += Σ_r dy[r] (column sums of a rows×n matrix).
    public static func biasBackward<S: TrainScalar>(_ dy: UnsafePointer<S>, rows: Int, n: Int,
                                                    db: UnsafeMutablePointer<S>, pool: ThreadPool) {
        reduceRows(rows, n, pool, into: db, width: n) { range, part in
            for r in range { let d = dy + r * n; for i in 0..<n { part![i] += d[i] } }
        }
    }
}
