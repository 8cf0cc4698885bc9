import Foundation
import Kernels

// Element-wise operations of the forward pass. All work on row-major fp32 buffers.

/// x ← x + y over `n` values.
@inline(__always)
func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) {
    Kernels.add(x, y, into: x, count: n)
}

func addBias(_ x: UnsafeMutablePointer<Float>, _ rows: Int, _ width: Int, _ bias: [Float]) {
    bias.withUnsafeBufferPointer { b in
        for r in 0..<rows { add(x + r * width, b.baseAddress!, width) }
    }
}

/// RMS-normalizes one row with weight `w` (Gemma's `1 + w` is already folded into its GGUF weights).
func rmsNormRow(_ x: UnsafePointer<Float>, _ n: Int, _ w: [Float], _ eps: Float, out: UnsafeMutablePointer<Float>) {
    w.withUnsafeBufferPointer { _ = rmsNorm(x, weight: $0.baseAddress!, eps: eps, into: out, count: n) }
}

/// Normalizes `rows` consecutive rows of width `n` with the same weight; `out` may alias `x`.
func rmsNormRows(_ x: UnsafePointer<Float>, _ rows: Int, _ n: Int, _ w: [Float], _ eps: Float, out: UnsafeMutablePointer<Float>) {
    w.withUnsafeBufferPointer { wb in
        for r in 0..<rows { _ = rmsNorm(x + r * n, weight: wb.baseAddress!, eps: eps, into: out + r * n, count: n) }
    }
}

/// gate ← act(gate) · up, over `n` values, in parallel chunks.
func gatedActivation(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int,
                     _ act: Activation, pool: ThreadPool) {
    let chunk = 4096
    let chunks = (n + chunk - 1) / chunk
    pool.parallelFor(chunks) { ci in
        let lo = ci * chunk, count = min(n, lo + chunk) - lo
        switch act {
        case .silu: siluMul(gate + lo, up + lo, into: gate + lo, count: count)
        case .geluTanh: geluTanhMul(gate + lo, up + lo, into: gate + lo, count: count)
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
