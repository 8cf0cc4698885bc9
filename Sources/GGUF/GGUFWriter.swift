#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// Builds a GGUF v3 file: ordered metadata plus tensors, written atomically.
///
/// Tensors can be given as fp32 values with a target encoding (encoded when the file is written,
/// so only the fp32 copy is held in memory) or as pre-encoded bytes. `general.alignment` is
/// added to the metadata when `alignment` is not the default 32.
///
/// ```swift
/// var w = GGUFWriter()
/// w.setMetadata("general.architecture", .string("llama"))
/// try w.addTensor(name: "tok_embd.weight", shape: [576, 49152], values: emb, type: .f16)
/// try w.write(to: "/tmp/model.gguf")
/// ```
public struct GGUFWriter {
    enum Payload {
        case floats([Float], GGMLType)
        case bytes([UInt8])
    }
    struct Entry {
        let name: String
        let shape: [Int]
        let type: GGMLType
        let byteCount: Int
        let payload: Payload
    }

    /// Alignment of the data section and every tensor (a power of two; default 32).
    public let alignment: Int
    private(set) var keys: [String] = []
    private(set) var values: [String: GGUFValue] = [:]
    private var entries: [Entry] = []
    private var names: Set<String> = []

    /// Creates an empty writer. `alignment` must be a positive power of two.
    public init(alignment: Int = 32) {
        precondition(alignment > 0 && alignment & (alignment - 1) == 0, "alignment must be a power of two")
        self.alignment = alignment
    }

    /// Metadata keys in the order they will be written.
    public var metadataKeys: [String] { keys }

    /// The metadata value for `key`, if set.
    public func metadata(_ key: String) -> GGUFValue? { values[key] }

    /// Names of the tensors added so far, in order.
    public var tensorNames: [String] { entries.map { $0.name } }

    /// Sets `key` to `value`. A new key goes last; replacing a key keeps its position.
    public mutating func setMetadata(_ key: String, _ value: GGUFValue) {
        if values.updateValue(value, forKey: key) == nil { keys.append(key) }
    }

    /// Removes `key` from the metadata if present.
    public mutating func removeMetadata(_ key: String) {
        if values.removeValue(forKey: key) != nil { keys.removeAll { $0 == key } }
    }

    /// Copies every metadata entry of `file` in its order (existing keys are replaced in place).
    /// `general.alignment` is skipped: the writer sets it from its own `alignment`.
    public mutating func copyMetadata(from file: GGUFFile) {
        for k in file.metadataKeys where k != "general.alignment" { setMetadata(k, file.metadata[k]!) }
    }

    /// Adds a tensor from fp32 values (ggml order: `shape[0]` is the row length), encoded to `type`
    /// when written. Throws if the shape is invalid, `values.count` does not match it, the row
    /// length is not a multiple of the block size, `type` cannot be encoded, or the name is taken.
    public mutating func addTensor(name: String, shape: [Int], values: [Float], type: GGMLType = .f32) throws {
        guard GGMLCodec.canQuantize(type) else {
            throw GGUFError(.unsupportedType, "cannot encode tensor '\(name)' as \(type): no quantizer for this type")
        }
        let bytes = try checkShape(name: name, shape: shape, type: type)
        let n = shape.reduce(1, *)
        guard values.count == n else {
            throw GGUFError(.invalidArgument, "tensor '\(name)': \(values.count) values given for shape \(shape) (\(n) elements)")
        }
        names.insert(name)
        entries.append(Entry(name: name, shape: shape, type: type, byteCount: bytes, payload: .floats(values, type)))
    }

    /// Adds a tensor from bytes already encoded as `type`. Throws if `bytes.count` does not match
    /// the shape and type, or the shape/name is invalid.
    public mutating func addTensor(name: String, shape: [Int], type: GGMLType, rawBytes: [UInt8]) throws {
        let bytes = try checkShape(name: name, shape: shape, type: type)
        guard rawBytes.count == bytes else {
            throw GGUFError(.invalidArgument, "tensor '\(name)': \(rawBytes.count) bytes given, shape \(shape) as \(type) needs \(bytes)")
        }
        names.insert(name)
        entries.append(Entry(name: name, shape: shape, type: type, byteCount: bytes, payload: .bytes(rawBytes)))
    }

    /// Adds tensor `t` of `file` unchanged (its encoded bytes are copied).
    public mutating func addTensor(_ t: GGUFTensorInfo, from file: GGUFFile, name: String? = nil) throws {
        let raw = file.rawData(for: t)
        guard raw.count == t.byteCount else {
            throw GGUFError(.invalidArgument, "tensor '\(t.name)' does not lie inside the given file")
        }
        try addTensor(name: name ?? t.name, shape: t.shape, type: t.type, rawBytes: Array(raw))
    }

    private func checkShape(name: String, shape: [Int], type: GGMLType) throws -> Int {
        guard !names.contains(name) else { throw GGUFError(.duplicateTensor, "duplicate tensor name '\(name)'") }
        guard (1...4).contains(shape.count) else {
            throw GGUFError(.badShape, "tensor '\(name)' has \(shape.count) dimensions (must be 1...4)")
        }
        guard shape.allSatisfy({ $0 > 0 }) else {
            throw GGUFError(.badShape, "tensor '\(name)' shape \(shape) has a non-positive dimension")
        }
        guard shape[0] % type.blockSize == 0 else {
            throw GGUFError(.notBlockMultiple, "tensor '\(name)' row length \(shape[0]) is not a multiple of the \(type) block size \(type.blockSize)")
        }
        guard let bytes = GGUFFile.checkedByteCount(shape: shape, type: type) else {
            throw GGUFError(.badShape, "tensor '\(name)' shape \(shape) overflows")
        }
        return bytes
    }

    // MARK: serialization

    /// The metadata + tensor directory, padded to the alignment (everything before the data section).
    func headerBytes() -> (bytes: [UInt8], offsets: [Int]) {
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        func put<T: FixedWidthInteger>(_ v: T) {
            withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
        }
        func putString(_ s: String) {
            var s = s
            s.withUTF8 { u in
                put(UInt64(u.count))
                out.append(contentsOf: u)
            }
        }
        func putValue(_ v: GGUFValue) {
            switch v {
            case .uint8(let x): put(x)
            case .int8(let x): put(x)
            case .uint16(let x): put(x)
            case .int16(let x): put(x)
            case .uint32(let x): put(x)
            case .int32(let x): put(x)
            case .uint64(let x): put(x)
            case .int64(let x): put(x)
            case .float32(let x): put(x.bitPattern)
            case .float64(let x): put(x.bitPattern)
            case .bool(let x): put(UInt8(x ? 1 : 0))
            case .string(let s): putString(s)
            case .array(let a):
                // An empty array has no element to take the type from: write it as uint8.
                let et = a.first?.type ?? .uint8
                put(et.rawValue)
                put(UInt64(a.count))
                for e in a { putValue(e) }
            }
        }

        var keys = self.keys
        var values = self.values
        if alignment != 32 {
            if values.updateValue(.uint32(UInt32(alignment)), forKey: "general.alignment") == nil {
                keys.append("general.alignment")
            }
        } else if values["general.alignment"] != nil {
            values["general.alignment"] = .uint32(32)
        }

        put(UInt32(0x4655_4747))
        put(UInt32(3))
        put(UInt64(entries.count))
        put(UInt64(keys.count))
        for k in keys {
            let v = values[k]!
            putString(k)
            put(v.type.rawValue)
            putValue(v)
        }
        var offsets: [Int] = []
        var off = 0
        for e in entries {
            putString(e.name)
            put(UInt32(e.shape.count))
            for d in e.shape { put(UInt64(d)) }
            put(e.type.rawValue)
            put(UInt64(off))
            offsets.append(off)
            off += e.byteCount
            off += (alignment - off % alignment) % alignment
        }
        let pad = (alignment - out.count % alignment) % alignment
        out.append(contentsOf: repeatElement(0, count: pad))
        return (out, offsets)
    }

    /// Checks that every array value is homogeneous (GGUF arrays carry one element type).
    private func validateMetadata() throws {
        func check(_ v: GGUFValue, _ key: String) throws {
            guard case .array(let a) = v, let first = a.first else { return }
            for e in a {
                guard e.type == first.type else {
                    throw GGUFError(.badMetadata, "metadata array '\(key)' mixes element types \(first.type) and \(e.type)")
                }
                try check(e, key)
            }
        }
        for k in keys { try check(values[k]!, k) }
    }

    /// Encodes tensor `e` into `dst` (exactly `e.byteCount` bytes).
    private func encode(_ e: Entry, into dst: UnsafeMutableRawPointer) throws {
        switch e.payload {
        case .bytes(let b):
            b.withUnsafeBytes { dst.copyMemory(from: $0.baseAddress!, byteCount: b.count) }
        case .floats(let f, let t):
            try f.withUnsafeBufferPointer { try GGMLCodec.quantize(t, $0.baseAddress!, count: f.count, into: dst) }
        }
    }

    /// The complete file as bytes.
    public func serialize() throws -> [UInt8] {
        try validateMetadata()
        let (header, offsets) = headerBytes()
        var total = header.count
        if let last = entries.last { total += offsets.last! + last.byteCount }
        var out = [UInt8](repeating: 0, count: total)
        try out.withUnsafeMutableBytes { buf in
            header.withUnsafeBytes { buf.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            for (e, off) in zip(entries, offsets) {
                try encode(e, into: buf.baseAddress! + header.count + off)
            }
        }
        return out
    }

    /// Writes the file to `path` atomically: into a temporary file in the same directory, which is
    /// flushed and then renamed over `path`.
    public func write(to path: String) throws {
        try validateMetadata()
        let (header, offsets) = headerBytes()
        let dir: String
        if let slash = path.lastIndex(of: "/") { dir = String(path[..<slash]).isEmpty ? "/" : String(path[..<slash]) } else { dir = "." }
        let base = path.split(separator: "/").last.map(String.init) ?? "out.gguf"
        var template = Array("\(dir)/.\(base).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw GGUFError(.io, "cannot create a temporary file in \(dir): \(String(cString: strerror(errno)))") }
        let tmpPath = String(cString: template)
        var ok = false
        defer {
            if !ok { unlink(tmpPath) }
        }
        do {
            defer { close(fd) }
            func writeAll(_ p: UnsafeRawPointer, _ n: Int) throws {
                var done = 0
                while done < n {
                    let r = Glibc_write(fd, p + done, n - done)
                    if r < 0 {
                        if errno == EINTR { continue }
                        throw GGUFError(.io, "write to \(tmpPath) failed: \(String(cString: strerror(errno)))")
                    }
                    done += r
                }
            }
            try header.withUnsafeBytes { try writeAll($0.baseAddress!, $0.count) }
            var written = 0
            let zeros = [UInt8](repeating: 0, count: alignment)
            let chunk = UnsafeMutableRawPointer.allocate(byteCount: max(1, entries.map { $0.byteCount }.max() ?? 1), alignment: 64)
            defer { chunk.deallocate() }
            for (e, off) in zip(entries, offsets) {
                if off > written { try zeros.withUnsafeBytes { try writeAll($0.baseAddress!, off - written) } }
                try encode(e, into: chunk)
                try writeAll(chunk, e.byteCount)
                written = off + e.byteCount
            }
            if fsync(fd) != 0 { throw GGUFError(.io, "fsync of \(tmpPath) failed: \(String(cString: strerror(errno)))") }
        }
        fchmodCompat(tmpPath)
        guard rename(tmpPath, path) == 0 else {
            throw GGUFError(.io, "cannot rename \(tmpPath) to \(path): \(String(cString: strerror(errno)))")
        }
        ok = true
    }
}

/// `write(2)` under a name that does not clash with `GGUFWriter.write(to:)`.
@inline(__always)
private func Glibc_write(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, n)
    #elseif canImport(Darwin)
    return Darwin.write(fd, p, n)
    #else
    return Musl.write(fd, p, n)
    #endif
}

/// mkstemp creates files with mode 0600; give the result the usual 0644 (minus the umask).
private func fchmodCompat(_ path: String) {
    let mask = umask(0)
    umask(mask)
    chmod(path, 0o666 & ~mask)
}
