import Corpora
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

/// SHA-256 hex digests for identifying the frozen base model of a LoRA run; the hashing itself is the
/// Corpora target's `SHA256`, the project's one implementation.
public enum SHA256Digest {
    /// The digest of `bytes` as 64 lowercase hex digits.
    public static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        var h = SHA256()
        h.update(bytes.assumingMemoryBound(to: UInt8.self))
        return h.finalizeHex()
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
