import Foundation
import XCTest
import GGUF

/// Directory of the cached real models (`HYPERLAB_MODELS_DIR` overrides).
func modelsDir() -> String {
    ProcessInfo.processInfo.environment["HYPERLAB_MODELS_DIR"] ?? "/root/.cache/hyperlab/models"
}

let smolName = "SmolLM2-135M-Instruct.Q4_1.gguf"
let gemmaName = "gemma-3-270m-q4_k_m.gguf"

/// Path of a cached model, or an XCTSkip when it is absent.
func modelPath(_ name: String) throws -> String {
    let p = modelsDir() + "/" + name
    guard FileManager.default.fileExists(atPath: p) else { throw XCTSkip("model \(p) not present") }
    return p
}

/// The 64-bit LCG also used by make_reference.py (top byte of each state).
func lcgBytes(seed: UInt64, count: Int) -> [UInt8] {
    var s = seed
    var out = [UInt8](repeating: 0, count: count)
    for i in 0..<count {
        s = s &* 6364136223846793005 &+ 1442695040888963407
        out[i] = UInt8(s >> 56)
    }
    return out
}

/// A deterministic PRNG for tests (SplitMix64).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func float(_ lo: Float, _ hi: Float) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
    /// Approximately normal (sum of uniforms).
    mutating func gaussian() -> Float {
        var s: Float = 0
        for _ in 0..<6 { s += float(-1, 1) }
        return s / 1.41
    }
}

/// Builds GGUF bytes by hand, independent of GGUFWriter, so tests can write malformed files.
struct RawGGUF {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func str(_ s: String) { u64(UInt64(s.utf8.count)); bytes.append(contentsOf: Array(s.utf8)) }
    mutating func header(version: UInt32 = 3, tensors: UInt64, kvs: UInt64) {
        bytes.append(contentsOf: Array("GGUF".utf8)); u32(version); u64(tensors); u64(kvs)
    }
    /// A key with a uint32 value.
    mutating func kvU32(_ k: String, _ v: UInt32) { str(k); u32(4); u32(v) }
    /// A key with a string value.
    mutating func kvString(_ k: String, _ v: String) { str(k); u32(8); str(v) }
    mutating func tensorInfo(_ name: String, dims: [UInt64], type: UInt32, offset: UInt64) {
        str(name); u32(UInt32(dims.count)); for d in dims { u64(d) }; u32(type); u64(offset)
    }
    mutating func pad(to a: Int) { while bytes.count % a != 0 { bytes.append(0) } }
    mutating func zeros(_ n: Int) { bytes.append(contentsOf: repeatElement(0, count: n)) }
}

/// Asserts that parsing `bytes` throws a GGUFError of `kind` whose message contains every one of `words`.
func assertGGUFError(_ bytes: [UInt8], _ kind: GGUFError.Kind, mentions words: [String],
                     file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try GGUFFile(bytes: bytes)
        XCTFail("expected \(kind) error, but the file parsed", file: file, line: line)
    } catch let e as GGUFError {
        XCTAssertEqual(e.kind, kind, "wrong kind; message: \(e)", file: file, line: line)
        for w in words {
            XCTAssertTrue(e.description.lowercased().contains(w.lowercased()),
                          "message \"\(e)\" does not mention \"\(w)\"", file: file, line: line)
        }
    } catch {
        XCTFail("unexpected error type \(error)", file: file, line: line)
    }
}

func relClose(_ a: Double, _ b: Double, _ tol: Double) -> Bool {
    abs(a - b) <= tol * max(1, abs(a), abs(b))
}
