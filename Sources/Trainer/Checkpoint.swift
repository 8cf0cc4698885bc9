import Foundation
import Training
import Transformer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors saving or loading checkpoints.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case io(path: String, reason: String)
    case corrupt(path: String, reason: String)
    /// The checkpoint does not belong to the model or run being resumed.
    case mismatch(String)

    public var description: String {
        switch self {
        case let .io(p, r): return "checkpoint \(p): \(r)"
        case let .corrupt(p, r): return "checkpoint \(p) is corrupt: \(r)"
        case let .mismatch(m): return "checkpoint does not match this run: \(m)"
        }
    }
}

/// Everything a checkpoint records besides the float buffers.
public struct CheckpointHeader: Codable, Equatable, Sendable {
    /// Format version (1).
    public var version: Int = 1
    /// Optimizer steps completed.
    public var step: Int
    /// The trainer's settings (a resumed run must use the same).
    public var trainer: TrainerConfig
    /// Shape of the network.
    public var model: ModelConfig
    /// The trainable tensors, in buffer order.
    public var tensors: [ParameterTensor]
    public var parameterCount: Int
    /// AdamW's step count (bias correction).
    public var optimizerStep: Int
    /// Position in the training data (epoch and offset in its seeded permutation).
    public var cursor: DataCursor
    /// Length in bytes of the metrics file when the checkpoint was taken (a resumed run truncates to it).
    public var metricsBytes: Int
    /// Training time so far, seconds.
    public var elapsed: Double
    /// Training tokens (with loss) consumed so far.
    public var tokensSeen: Int
    /// Free-form description of how the model was built (mode, base model path and sha256, LoRA settings),
    /// written by the caller (the CLI) and checked on resume.
    public var run: [String: String]

    public init(step: Int, trainer: TrainerConfig, model: ModelConfig, tensors: [ParameterTensor], parameterCount: Int,
                optimizerStep: Int, cursor: DataCursor, metricsBytes: Int, elapsed: Double, tokensSeen: Int,
                run: [String: String]) {
        self.step = step; self.trainer = trainer; self.model = model; self.tensors = tensors
        self.parameterCount = parameterCount; self.optimizerStep = optimizerStep; self.cursor = cursor
        self.metricsBytes = metricsBytes; self.elapsed = elapsed; self.tokensSeen = tokensSeen; self.run = run
    }
}

/// A saved training state: header, trainable parameters and both AdamW moments.
///
/// File layout: the 8 bytes `HLCKPT01`, a little-endian UInt64 header length, the header as JSON, zero
/// padding to a multiple of 64 bytes, then `parameterCount` fp32 values each of parameters, m and v
/// (native little-endian).
public struct Checkpoint {
    public var header: CheckpointHeader
    public var parameters: [Float]
    public var m: [Float]
    public var v: [Float]

    public init(header: CheckpointHeader, parameters: [Float], m: [Float], v: [Float]) {
        self.header = header; self.parameters = parameters; self.m = m; self.v = v
    }

    static let magic = Array("HLCKPT01".utf8)

    /// Writes the checkpoint atomically: to `path.tmp`, fsync, rename over `path`, fsync the directory.
    /// A crash at any moment leaves either the old or the new file, never a torn one.
    public static func save(header: CheckpointHeader, parameters: UnsafePointer<Float>, m: UnsafePointer<Float>,
                            v: UnsafePointer<Float>, to path: String) throws {
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        let json = try enc.encode(header)
        var head = magic
        var len = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &len) { head += $0 }
        head += json
        while head.count % 64 != 0 { head.append(0) }
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CheckpointError.io(path: tmp, reason: String(cString: strerror(errno))) }
        func writeAll(_ p: UnsafeRawPointer, _ n: Int) throws {
            var done = 0
            while done < n {
                let r = write(fd, p + done, min(n - done, 1 << 26))
                if r < 0 {
                    if errno == EINTR { continue }
                    let e = String(cString: strerror(errno)); close(fd)
                    throw CheckpointError.io(path: tmp, reason: e)
                }
                done += r
            }
        }
        try head.withUnsafeBytes { try writeAll($0.baseAddress!, $0.count) }
        let n = header.parameterCount * MemoryLayout<Float>.size
        try writeAll(parameters, n)
        try writeAll(m, n)
        try writeAll(v, n)
        guard fsync(fd) == 0 else { let e = String(cString: strerror(errno)); close(fd); throw CheckpointError.io(path: tmp, reason: "fsync: \(e)") }
        close(fd)
        guard rename(tmp, path) == 0 else { throw CheckpointError.io(path: path, reason: "rename: \(String(cString: strerror(errno)))") }
        let dir = (path as NSString).deletingLastPathComponent
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    /// Reads a checkpoint written by `save`.
    public static func load(path: String) throws -> Checkpoint {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CheckpointError.io(path: path, reason: error.localizedDescription)
        }
        guard data.count >= 16, Array(data.prefix(8)) == magic else { throw CheckpointError.corrupt(path: path, reason: "bad magic") }
        let len = data.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))) }
        guard len > 0, 16 + len <= data.count else { throw CheckpointError.corrupt(path: path, reason: "bad header length") }
        let header: CheckpointHeader
        do { header = try JSONDecoder().decode(CheckpointHeader.self, from: data.subdata(in: 16..<(16 + len))) } catch {
            throw CheckpointError.corrupt(path: path, reason: "header: \(error)")
        }
        var start = 16 + len
        while start % 64 != 0 { start += 1 }
        let n = header.parameterCount
        guard data.count == start + 3 * n * 4 else {
            throw CheckpointError.corrupt(path: path, reason: "size \(data.count), expected \(start + 3 * n * 4)")
        }
        func floats(_ k: Int) -> [Float] {
            [Float](unsafeUninitializedCapacity: n) { buf, count in
                data.withUnsafeBytes { raw in
                    _ = memcpy(buf.baseAddress!, raw.baseAddress! + start + k * n * 4, n * 4)
                }
                count = n
            }
        }
        return Checkpoint(header: header, parameters: floats(0), m: floats(1), v: floats(2))
    }
}

/// SHA-256 (FIPS 180-4), for identifying the frozen base model of a LoRA run.
public enum SHA256Digest {
    static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]

    /// The digest of `bytes` as 64 lowercase hex digits.
    public static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        var w = [UInt32](repeating: 0, count: 64)
        func block(_ p: UnsafeRawPointer) {
            for i in 0..<16 { w[i] = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)) }
            for i in 16..<64 {
                let a = w[i - 15], b = w[i - 2]
                let s0 = (a >> 7 | a << 25) ^ (a >> 18 | a << 14) ^ (a >> 3)
                let s1 = (b >> 17 | b << 15) ^ (b >> 19 | b << 13) ^ (b >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
            for i in 0..<64 {
                let S1 = (e >> 6 | e << 26) ^ (e >> 11 | e << 21) ^ (e >> 25 | e << 7)
                let ch = (e & f) ^ (~e & g)
                let t1 = hh &+ S1 &+ ch &+ k[i] &+ w[i]
                let S0 = (a >> 2 | a << 30) ^ (a >> 13 | a << 19) ^ (a >> 22 | a << 10)
                let maj = (a & b) ^ (a & c) ^ (b & c)
                let t2 = S0 &+ maj
                hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
            }
            h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e; h[5] &+= f; h[6] &+= g; h[7] &+= hh
        }
        let n = bytes.count
        var off = 0
        if let base = bytes.baseAddress {
            while off + 64 <= n { block(base + off); off += 64 }
        }
        var tail = [UInt8](repeating: 0, count: (n - off) < 56 ? 64 : 128)
        for i in 0..<(n - off) { tail[i] = bytes[off + i] }
        tail[n - off] = 0x80
        let bits = UInt64(n) * 8
        for i in 0..<8 { tail[tail.count - 1 - i] = UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i))) }
        tail.withUnsafeBytes { t in
            var o = 0
            while o < t.count { block(t.baseAddress! + o); o += 64 }
        }
        return h.map { String(format: "%08x", $0) }.joined()
    }

    /// The digest of a byte array.
    public static func hex(_ bytes: [UInt8]) -> String { bytes.withUnsafeBytes { hex($0) } }

    /// The digest of a file (memory-mapped).
    public static func hex(file path: String) throws -> String {
        let d: Data
        do { d = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw CheckpointError.io(path: path, reason: error.localizedDescription)
        }
        return d.withUnsafeBytes { hex($0) }
    }
}
