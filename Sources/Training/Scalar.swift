import Foundation
import Random
import Kernels

/// The scalar type of a training network. `Float` is what training runs in (matrix products go to the
/// `Kernels.sgemm` micro-kernel, softmax to the SIMD kernel); `Double` runs the very same generic
/// forward and backward code with plain loops, for finite-difference gradient checks.
public protocol TrainScalar: BinaryFloatingPoint, Sendable {
    /// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, row-major with leading dimensions
    /// (the `Kernels.sgemm` contract; C is not read when beta == 0).
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int, pool: ThreadPool)
    /// Softmax of `count` values in place; returns log Σ exp(x) of the input.
    static func softmaxInPlace(_ x: UnsafeMutablePointer<Self>, count: Int) -> Self
    /// Σ a[i]·b[i].
    static func dot(_ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, count: Int) -> Self
    /// x[i] = e^x[i] over `count` values (Float: 8 lanes at a time).
    static func expInPlace(_ x: UnsafeMutablePointer<Self>, count: Int)
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
}

extension Float: TrainScalar {
    @inline(__always)
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, pool: ThreadPool) {
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
              beta: beta, c: c, ldc: ldc, pool: pool)
    }
    @inline(__always)
    public static func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) -> Float {
        let (mx, sum) = Kernels.softmax(x, count: count)
        return mx + Foundation.log(sum)
    }
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        Kernels.dot(a, b, count: count)
    }
    @inline(__always)
    public static func expInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let p = UnsafeMutableRawPointer(x + i)
            p.storeBytes(of: vexp(p.loadUnaligned(as: SIMD8<Float>.self)), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { x[i] = Foundation.exp(x[i]); i += 1 }
    }
    @inline(__always) public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
    @inline(__always) public static func log(_ x: Float) -> Float { Foundation.log(x) }
    @inline(__always) public static func tanh(_ x: Float) -> Float { Foundation.tanh(x) }
}

extension Double: TrainScalar {
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int, pool: ThreadPool) {
        // Plain loops: Double networks exist only for gradient checks on tiny shapes.
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += av * bv
                }
                let cij = c + i * ldc + j
                cij.pointee = beta == 0 ? alpha * s : alpha * s + beta * cij.pointee
            }
        }
    }
    public static func softmaxInPlace(_ x: UnsafeMutablePointer<Double>, count: Int) -> Double {
        var mx = -Double.infinity
        for i in 0..<count { mx = Swift.max(mx, x[i]) }
        var sum = 0.0
        for i in 0..<count { let e = Foundation.exp(x[i] - mx); x[i] = e; sum += e }
        for i in 0..<count { x[i] /= sum }
        return mx + Foundation.log(sum)
    }
    public static func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, count: Int) -> Double {
        var s = 0.0
        for i in 0..<count { s += a[i] * b[i] }
        return s
    }
    public static func expInPlace(_ x: UnsafeMutablePointer<Double>, count: Int) {
        for i in 0..<count { x[i] = Foundation.exp(x[i]) }
    }
    @inline(__always) public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) public static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inline(__always) public static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
}

/// Errors raised by the training model.
public enum TrainingError: Error, CustomStringConvertible, Sendable {
    case invalidBatch(String)
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .invalidBatch(let m): return "invalid training batch: \(m)"
        case .invalidConfiguration(let m): return "invalid training configuration: \(m)"
        }
    }
}

/// The generator for initialisation: SplitMix64 from a seed offset by a constant (deterministic across
/// platforms).
func trainRNG(seed: UInt64) -> SplitMix64 { SplitMix64(seed: seed ^ 0x5851_F42D_4C95_7F2D) }

@inline(__always) func mix64(_ x: UInt64) -> UInt64 { SplitMix64.mix(x) }
