import Foundation
import Kernels

// Element-wise operations of the forward pass. All work on row-major fp32 buffers.

@inline(__always)
func scale(_ x: UnsafeMutablePointer<Float>, _ n: Int, _ s: Float) {
    for i in 0..<n { x[i] *= s }
}

@inline(__always)
func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) {
    for i in 0..<n { x[i] += y[i] }
}

func addBias(_ x: UnsafeMutablePointer<Float>, _ rows: Int, _ width: Int, _ bias: [Float]) {
    bias.withUnsafeBufferPointer { b in
        for r in 0..<rows { add(x + r * width, b.baseAddress!, width) }
    }
}

/// out = x / sqrt(mean(x²) + eps) · w, one row. `out` may alias `x`.
@inline(__always)
func rmsNormRow(_ x: UnsafePointer<Float>, _ n: Int, _ w: UnsafePointer<Float>, _ eps: Float, out: UnsafeMutablePointer<Float>) {
    var acc = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        acc.addProduct(v, v)
        i += 8
    }
    var sum = acc.sum()
    while i < n { sum += x[i] * x[i]; i += 1 }
    let inv = 1 / (sum / Float(n) + eps).squareRoot()
    for j in 0..<n { out[j] = x[j] * inv * w[j] }
}

func rmsNormRow(_ x: UnsafePointer<Float>, _ n: Int, _ w: [Float], _ eps: Float, out: UnsafeMutablePointer<Float>) {
    w.withUnsafeBufferPointer { rmsNormRow(x, n, $0.baseAddress!, eps, out: out) }
}

/// Normalizes `rows` consecutive rows of width `n` with the same weight.
func rmsNormRows(_ x: UnsafePointer<Float>, _ rows: Int, _ n: Int, _ w: [Float], _ eps: Float, out: UnsafeMutablePointer<Float>) {
    w.withUnsafeBufferPointer { wb in
        for r in 0..<rows { rmsNormRow(x + r * n, n, wb.baseAddress!, eps, out: out + r * n) }
    }
}

/// Numerically stable softmax of `n` values in place.
func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    guard n > 0 else { return }
    var m = -Float.infinity
    for i in 0..<n { m = max(m, x[i]) }
    var sum: Float = 0
    for i in 0..<n { let e = expf(x[i] - m); x[i] = e; sum += e }
    let inv = 1 / sum
    for i in 0..<n { x[i] *= inv }
}

/// gate ← act(gate) · up, over `n` values.
func gatedActivation(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int,
                     _ act: Activation, pool: ThreadPool) {
    let chunk = 4096
    let chunks = (n + chunk - 1) / chunk
    pool.parallelFor(chunks) { ci in
        let lo = ci * chunk, hi = min(n, lo + chunk)
        switch act {
        case .silu:
            for i in lo..<hi { let g = gate[i]; gate[i] = g / (1 + expf(-g)) * up[i] }
        case .geluTanh:
            for i in lo..<hi {
                let g = gate[i]
                let inner: Float = 0.7978845608028654 * (g + 0.044715 * g * g * g)
                gate[i] = 0.5 * g * (1 + tanhf(inner)) * up[i]
            }
        }
    }
}

/// Cosines and sines of the rotary embedding for each token of a pass.
struct RopeTable {
    let half: Int
    let cos: [Float]
    let sin: [Float]

    init(positions: [Int], dims: Int, base: Float, scale: Float) {
        half = dims / 2
        var c = [Float](repeating: 0, count: positions.count * half)
        var s = c
        var inv = [Double](repeating: 0, count: half)
        for i in 0..<half { inv[i] = pow(Double(base), -Double(2 * i) / Double(dims)) }
        for (t, p) in positions.enumerated() {
            let pos = Double(p) * Double(scale)
            for i in 0..<half {
                let theta = pos * inv[i]
                c[t * half + i] = Float(Foundation.cos(theta))
                s[t * half + i] = Float(Foundation.sin(theta))
            }
        }
        cos = c
        sin = s
    }

    /// Rotates the first `2·half` dimensions of every head of `rows` token rows in place.
    func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int, style: RopeStyle) {
        cos.withUnsafeBufferPointer { cb in
            sin.withUnsafeBufferPointer { sb in
                for t in 0..<rows {
                    let ct = cb.baseAddress! + t * half, st = sb.baseAddress! + t * half
                    for h in 0..<heads {
                        let v = x + (t * heads + h) * headDim
                        switch style {
                        case .interleaved:
                            for i in 0..<half {
                                let a = v[2 * i], b = v[2 * i + 1]
                                v[2 * i] = a * ct[i] - b * st[i]
                                v[2 * i + 1] = a * st[i] + b * ct[i]
                            }
                        case .halves:
                            for i in 0..<half {
                                let a = v[i], b = v[i + half]
                                v[i] = a * ct[i] - b * st[i]
                                v[i + half] = a * st[i] + b * ct[i]
                            }
                        }
                    }
                }
            }
        }
    }
}
