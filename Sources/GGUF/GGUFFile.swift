#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// The layout of one tensor in a GGUF file.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The tensor's name, e.g. `blk.0.attn_q.weight`.
    public let name: String
    /// Dimensions in ggml order: `shape[0]` is the row length (innermost, contiguous), then rows, etc.
    public let shape: [Int]
    /// Element encoding.
    public let type: GGMLType
    /// Byte offset of the data, relative to the start of the file's data section.
    public let offset: Int

    /// Creates a tensor description (the reader validates these; no checks are made here).
    public init(name: String, shape: [Int], type: GGMLType, offset: Int) {
        self.name = name
        self.shape = shape
        self.type = type
        self.offset = offset
    }

    /// Number of elements (product of `shape`).
    public var elementCount: Int { shape.reduce(1, *) }
    /// Number of bytes of data.
    public var byteCount: Int { rowCount * rowByteCount }
    /// Number of rows: `elementCount / shape[0]`.
    public var rowCount: Int { shape.isEmpty ? 1 : shape.dropFirst().reduce(1, *) }
    /// Row length in elements (`shape[0]`).
    public var rowLength: Int { shape.first ?? 1 }
    /// Bytes per row.
    public var rowByteCount: Int { (rowLength / type.blockSize) * type.bytesPerBlock }
}

/// A GGUF (v2 or v3) file: its metadata, tensor directory and tensor data.
///
/// `init(path:)` maps the file read-only (`MAP_PRIVATE`) and parses only the header, so opening
/// is fast and tensor data is paged in on demand. `init(bytes:)` copies a byte array (tests,
/// fuzzing). Every structure is validated; a truncated, corrupt or hostile file raises a
/// `GGUFError` and never traps. Tensor pointers from `rawData(for:)` stay valid while the
/// `GGUFFile` is alive.
public final class GGUFFile: @unchecked Sendable {
    /// Format version (2 or 3).
    public let version: UInt32
    /// Alignment of the data section and of every tensor offset (`general.alignment`, default 32).
    public let alignment: Int
    /// Absolute byte offset of the data section.
    public let dataOffset: Int
    /// Metadata by key.
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    /// Path the file was mapped from (nil for in-memory files).
    public let path: String?

    private let base: UnsafeRawPointer?
    private let size: Int
    private let isMapped: Bool
    private let tensorIndex: [String: Int]

    /// Total size of the file in bytes.
    public var fileSize: Int { size }

    /// `general.architecture`, e.g. "llama" or "gemma3".
    public var architecture: String? { metadata["general.architecture"]?.string }

    /// Maps the file at `path` read-only and parses its header.
    public init(path: String) throws {
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw GGUFError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw GGUFError(.io, "cannot stat \(path): \(String(cString: strerror(errno)))") }
        let size = Int(st.st_size)
        var mapped: UnsafeRawPointer? = nil
        if size > 0 {
            let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
            if p == MAP_FAILED || p == nil {
                throw GGUFError(.io, "cannot mmap \(path) (\(size) bytes): \(String(cString: strerror(errno)))")
            }
            mapped = UnsafeRawPointer(p!)
        }
        let header: Header
        do {
            header = try Header.parse(UnsafeRawBufferPointer(start: mapped, count: size))
        } catch {
            if let m = mapped { munmap(UnsafeMutableRawPointer(mutating: m), size) }
            throw error
        }
        self.base = mapped
        self.size = size
        self.isMapped = true
        self.path = path
        self.version = header.version
        self.alignment = header.alignment
        self.dataOffset = header.dataOffset
        self.metadata = header.metadata
        self.metadataKeys = header.keys
        self.tensors = header.tensors
        self.tensorIndex = header.tensorIndex
    }

    /// Parses a copy of `bytes` (for tests and fuzzing).
    public init(bytes: [UInt8]) throws {
        let size = bytes.count
        var copy: UnsafeMutableRawPointer? = nil
        if size > 0 {
            let p = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
            bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: size) }
            copy = p
        }
        let header: Header
        do {
            header = try Header.parse(UnsafeRawBufferPointer(start: copy.map { UnsafeRawPointer($0) }, count: size))
        } catch {
            copy?.deallocate()
            throw error
        }
        self.base = copy.map { UnsafeRawPointer($0) }
        self.size = size
        self.isMapped = false
        self.path = nil
        self.version = header.version
        self.alignment = header.alignment
        self.dataOffset = header.dataOffset
        self.metadata = header.metadata
        self.metadataKeys = header.keys
        self.tensors = header.tensors
        self.tensorIndex = header.tensorIndex
    }

    deinit {
        if let base {
            if isMapped {
                munmap(UnsafeMutableRawPointer(mutating: base), size)
            } else {
                UnsafeMutableRawPointer(mutating: base).deallocate()
            }
        }
    }

    /// The metadata value for `key`, if present.
    public subscript(_ key: String) -> GGUFValue? { metadata[key] }

    /// The metadata value for `key`; throws `GGUFError(.badMetadata)` naming the key when it is missing.
    public func require(_ key: String) throws -> GGUFValue {
        guard let v = metadata[key] else { throw GGUFError(.badMetadata, "missing metadata key '\(key)'") }
        return v
    }

    /// The integer metadata value for `key`; throws naming the key when missing or not an integer.
    public func requireInt(_ key: String) throws -> Int {
        let v = try require(key)
        guard let i = v.int else { throw GGUFError(.badMetadata, "metadata key '\(key)' is \(v.type) \(v), expected an integer") }
        return i
    }

    /// The numeric metadata value for `key` as Double; throws naming the key when missing or not numeric.
    public func requireDouble(_ key: String) throws -> Double {
        let v = try require(key)
        guard let d = v.double else { throw GGUFError(.badMetadata, "metadata key '\(key)' is \(v.type) \(v), expected a number") }
        return d
    }

    /// The string metadata value for `key`; throws naming the key when missing or not a string.
    public func requireString(_ key: String) throws -> String {
        let v = try require(key)
        guard let s = v.string else { throw GGUFError(.badMetadata, "metadata key '\(key)' is \(v.type) \(v), expected a string") }
        return s
    }

    /// The tensor called `name`; throws `GGUFError(.invalidArgument)` naming it when absent.
    public func requireTensor(_ name: String) throws -> GGUFTensorInfo {
        guard let t = tensor(named: name) else { throw GGUFError(.invalidArgument, "no tensor named '\(name)'") }
        return t
    }

    /// The tensor called `name`, if any.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The whole file's bytes (valid while this object lives).
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    /// The encoded bytes of tensor `t` (valid while this object lives). Returns an empty buffer
    /// if `t` does not describe a range inside this file (e.g. it came from another file).
    public func rawData(for t: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        guard let base, let range = checkedRange(t) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// Decodes the whole tensor to fp32 (row-major in ggml order: row `r` is elements `r*shape[0] ..< (r+1)*shape[0]`).
    public func dequantize(_ t: GGUFTensorInfo) throws -> [Float] {
        guard let base, let range = checkedRange(t) else {
            throw GGUFError(.invalidArgument, "tensor '\(t.name)' does not lie inside this file")
        }
        let n = t.elementCount
        return [Float](unsafeUninitializedCapacity: n) { buf, initialized in
            GGMLCodec.dequantize(t.type, base + range.lowerBound, count: n, into: buf.baseAddress!)
            initialized = n
        }
    }

    /// Decodes the whole tensor called `name` to fp32.
    public func dequantize(named name: String) throws -> [Float] {
        guard let t = tensor(named: name) else { throw GGUFError(.invalidArgument, "no tensor named '\(name)'") }
        return try dequantize(t)
    }

    /// Decodes rows `rows` of tensor `t` into `dst` (which must hold `rows.count * t.shape[0]` floats).
    /// Useful for embedding lookups.
    public func dequantizeRows(_ t: GGUFTensorInfo, rows: Range<Int>, into dst: UnsafeMutablePointer<Float>) throws {
        guard let base, let range = checkedRange(t) else {
            throw GGUFError(.invalidArgument, "tensor '\(t.name)' does not lie inside this file")
        }
        guard rows.lowerBound >= 0, rows.upperBound <= t.rowCount else {
            throw GGUFError(.invalidArgument, "rows \(rows) out of range 0..<\(t.rowCount) for tensor '\(t.name)'")
        }
        let rb = t.rowByteCount
        GGMLCodec.dequantize(t.type, base + range.lowerBound + rows.lowerBound * rb,
                             count: rows.count * t.rowLength, into: dst)
    }

    /// Absolute byte range of `t`'s data, or nil if it does not fit inside this file.
    private func checkedRange(_ t: GGUFTensorInfo) -> Range<Int>? {
        guard let bytes = Self.checkedByteCount(shape: t.shape, type: t.type), t.offset >= 0 else { return nil }
        let (start, o1) = dataOffset.addingReportingOverflow(t.offset)
        let (end, o2) = start.addingReportingOverflow(bytes)
        guard !o1, !o2, end <= size else { return nil }
        return start..<end
    }

    /// Byte count for a shape and type, or nil if the shape is invalid or the size overflows.
    static func checkedByteCount(shape: [Int], type: GGMLType) -> Int? {
        guard !shape.isEmpty, shape.count <= 4 else { return nil }
        var n = 1
        for d in shape {
            guard d > 0 else { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = p
        }
        guard shape[0] % type.blockSize == 0 else { return nil }
        return type.byteCount(elements: n)
    }
}

// MARK: - Parsing

/// The parsed header of a GGUF file.
struct Header {
    var version: UInt32 = 0
    var alignment = 32
    var dataOffset = 0
    var metadata: [String: GGUFValue] = [:]
    var keys: [String] = []
    var tensors: [GGUFTensorInfo] = []
    var tensorIndex: [String: Int] = [:]

    static let maxDims = 4
    static let maxArrayDepth = 16

    static func parse(_ buf: UnsafeRawBufferPointer) throws -> Header {
        var c = Cursor(buf: buf)
        var h = Header()
        guard buf.count >= 4 else {
            throw GGUFError(.truncated, "file is \(buf.count) bytes, too short for the 4-byte magic", offset: 0)
        }
        let magic = try c.u32("magic")
        if magic != 0x4655_4747 {  // "GGUF" little-endian
            let b = (0..<4).map { buf[$0] }
            let shown = b.map { (32..<127).contains($0) ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
            throw GGUFError(.badMagic, "bad magic \"\(shown)\": not a GGUF file (expected \"GGUF\")", offset: 0)
        }
        let version = try c.u32("version")
        guard version == 2 || version == 3 else {
            var hint = ""
            if version == 1 { hint = " (GGUF v1 is obsolete)" }
            else if version.byteSwapped == 2 || version.byteSwapped == 3 { hint = " (a big-endian file?)" }
            throw GGUFError(.unsupportedVersion, "unsupported GGUF version \(version)\(hint); only 2 and 3 are read", offset: 4)
        }
        h.version = version
        let tensorCountOffset = c.pos
        let rawTensorCount = try c.u64("tensor count")
        let kvCountOffset = c.pos
        let rawKVCount = try c.u64("metadata count")

        // Bound the counts by the bytes left: a key/value needs >= 13 bytes, a tensor info >= 24.
        let remaining = buf.count - c.pos
        guard rawKVCount <= UInt64(remaining / 13) else {
            throw GGUFError(.absurdCount, "metadata count \(rawKVCount) cannot fit in the \(remaining) bytes left in the file", offset: kvCountOffset)
        }
        let kvCount = Int(rawKVCount)
        guard rawTensorCount <= UInt64((remaining - kvCount * 13) / 24) else {
            throw GGUFError(.absurdCount, "tensor count \(rawTensorCount) cannot fit in the \(remaining) bytes left in the file", offset: tensorCountOffset)
        }
        let tensorCount = Int(rawTensorCount)

        h.keys.reserveCapacity(kvCount)
        h.metadata.reserveCapacity(kvCount)
        for i in 0..<kvCount {
            let keyOffset = c.pos
            let key = try c.string("key of metadata entry \(i)")
            if h.metadata[key] != nil {
                throw GGUFError(.duplicateKey, "duplicate metadata key '\(key)'", offset: keyOffset)
            }
            let typeOffset = c.pos
            let rawType = try c.u32("value type of '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw GGUFError(.unknownValueType, "unknown value type \(rawType) for metadata key '\(key)'", offset: typeOffset)
            }
            let value = try c.value(type, key: { key }, depth: 0)
            h.metadata[key] = value
            h.keys.append(key)
        }

        if let a = h.metadata["general.alignment"] {
            guard let v = a.int, v > 0, v <= 1 << 30, v & (v - 1) == 0 else {
                throw GGUFError(.misaligned, "general.alignment = \(a) is not a positive power of two")
            }
            h.alignment = v
        }

        h.tensors.reserveCapacity(tensorCount)
        h.tensorIndex.reserveCapacity(tensorCount)
        for i in 0..<tensorCount {
            let infoOffset = c.pos
            let name = try c.string("name of tensor \(i)")
            if h.tensorIndex[name] != nil {
                throw GGUFError(.duplicateTensor, "duplicate tensor name '\(name)'", offset: infoOffset)
            }
            let dimsOffset = c.pos
            let nDims = try c.u32("dimension count of tensor '\(name)'")
            guard nDims >= 1, nDims <= UInt32(maxDims) else {
                throw GGUFError(.badShape, "tensor '\(name)' has \(nDims) dimensions (must be 1...\(maxDims))", offset: dimsOffset)
            }
            var shape: [Int] = []
            shape.reserveCapacity(Int(nDims))
            var elements = 1
            for d in 0..<Int(nDims) {
                let dimOffset = c.pos
                let raw = try c.u64("dimension \(d) of tensor '\(name)'")
                guard raw >= 1, raw <= UInt64(Int.max) else {
                    let shown = raw > UInt64(Int.max) ? "\(Int64(bitPattern: raw)) (\(raw) unsigned)" : "\(raw)"
                    throw GGUFError(.badShape, "tensor '\(name)' dimension \(d) is \(shown); dimensions must be positive", offset: dimOffset)
                }
                let (p, o) = elements.multipliedReportingOverflow(by: Int(raw))
                guard !o, p <= 1 << 52 else {
                    throw GGUFError(.badShape, "tensor '\(name)' element count overflows (shape so far \(shape + [Int(clamping: raw)]))", offset: dimOffset)
                }
                elements = p
                shape.append(Int(raw))
            }
            let typeOffset = c.pos
            let rawType = try c.u32("type of tensor '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else {
                throw GGUFError(.unknownTensorType, "tensor '\(name)' has unknown or unsupported ggml type \(rawType)", offset: typeOffset)
            }
            guard shape[0] % type.blockSize == 0 else {
                throw GGUFError(.notBlockMultiple, "tensor '\(name)' row length \(shape[0]) is not a multiple of the \(type) block size \(type.blockSize)", offset: dimsOffset)
            }
            guard type.byteCount(elements: elements) != nil else {
                throw GGUFError(.badShape, "tensor '\(name)' byte size overflows", offset: dimsOffset)
            }
            let offOffset = c.pos
            let rawOff = try c.u64("data offset of tensor '\(name)'")
            guard rawOff <= UInt64(Int.max / 2) else {
                throw GGUFError(.dataOutOfBounds, "tensor '\(name)' data offset \(rawOff) is past the end of the file (\(buf.count) bytes)", offset: offOffset)
            }
            let off = Int(rawOff)
            guard off % h.alignment == 0 else {
                throw GGUFError(.misaligned, "tensor '\(name)' data offset \(off) is not a multiple of the alignment \(h.alignment)", offset: offOffset)
            }
            h.tensorIndex[name] = h.tensors.count
            h.tensors.append(GGUFTensorInfo(name: name, shape: shape, type: type, offset: off))
        }

        // Data section starts at the next multiple of the alignment.
        let pad = (h.alignment - c.pos % h.alignment) % h.alignment
        h.dataOffset = c.pos + pad

        // Check each tensor's data lies inside the file, then that no two overlap.
        var ranges: [(start: Int, end: Int, index: Int)] = []
        ranges.reserveCapacity(h.tensors.count)
        for (i, t) in h.tensors.enumerated() {
            let bytes = t.type.byteCount(elements: t.elementCount)!  // checked above
            let (start, o1) = h.dataOffset.addingReportingOverflow(t.offset)
            let (end, o2) = start.addingReportingOverflow(bytes)
            guard !o1, !o2, end <= buf.count else {
                throw GGUFError(.dataOutOfBounds, "tensor '\(t.name)' data (\(bytes) bytes at data offset \(t.offset), absolute \(h.dataOffset) + \(t.offset)) runs past the end of the file (\(buf.count) bytes)", offset: o1 ? nil : start)
            }
            ranges.append((start, end, i))
        }
        ranges.sort { $0.start < $1.start }
        if ranges.count > 1 {
            for k in 1..<ranges.count where ranges[k].start < ranges[k - 1].end {
                let a = h.tensors[ranges[k - 1].index], b = h.tensors[ranges[k].index]
                throw GGUFError(.overlappingTensors, "tensor '\(b.name)' data (from data offset \(b.offset)) overlaps tensor '\(a.name)' (data offset \(a.offset), \(a.byteCount) bytes)", offset: ranges[k].start)
            }
        }
        return h
    }
}

/// A bounds-checked little-endian reader over a byte buffer.
struct Cursor {
    let buf: UnsafeRawBufferPointer
    var pos = 0

    var remaining: Int { buf.count - pos }

    @inline(__always)
    mutating func need(_ n: Int, _ what: @autoclosure () -> String) throws {
        if n > remaining {
            throw GGUFError(.truncated, "file ends while reading \(what()) (needs \(n) bytes, \(remaining) left)", offset: pos)
        }
    }

    @inline(__always)
    mutating func load<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        try need(MemoryLayout<T>.size, what())
        let v = buf.loadUnaligned(fromByteOffset: pos, as: T.self)
        pos += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 { try load(UInt32.self, what()) }
    mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 { try load(UInt64.self, what()) }

    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let lenOffset = pos
        let len = try u64("length of \(what())")
        guard len <= UInt64(remaining) else {
            throw GGUFError(.badString, "length \(len) of \(what()) runs past the end of the file (\(remaining) bytes left)", offset: lenOffset)
        }
        let n = Int(len)
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: buf[pos..<(pos + n)]), as: UTF8.self)
        pos += n
        return s
    }

    mutating func value(_ type: GGUFValueType, key keyDesc: () -> String, depth: Int) throws -> GGUFValue {
        var key: String { keyDesc() }
        switch type {
        case .uint8: return .uint8(try load(UInt8.self, "value of '\(key)'"))
        case .int8: return .int8(try load(Int8.self, "value of '\(key)'"))
        case .uint16: return .uint16(try load(UInt16.self, "value of '\(key)'"))
        case .int16: return .int16(try load(Int16.self, "value of '\(key)'"))
        case .uint32: return .uint32(try load(UInt32.self, "value of '\(key)'"))
        case .int32: return .int32(try load(Int32.self, "value of '\(key)'"))
        case .uint64: return .uint64(try load(UInt64.self, "value of '\(key)'"))
        case .int64: return .int64(try load(Int64.self, "value of '\(key)'"))
        case .float32: return .float32(Float(bitPattern: try load(UInt32.self, "value of '\(key)'")))
        case .float64: return .float64(Double(bitPattern: try load(UInt64.self, "value of '\(key)'")))
        case .bool:
            let at = pos
            let b = try load(UInt8.self, "value of '\(key)'")
            guard b <= 1 else { throw GGUFError(.badMetadata, "bool value of '\(key)' is \(b) (must be 0 or 1)", offset: at) }
            return .bool(b == 1)
        case .string: return .string(try string("string value of '\(key)'"))
        case .array:
            let typeOffset = pos
            let rawType = try u32("array element type of '\(key)'")
            guard let elemType = GGUFValueType(rawValue: rawType) else {
                throw GGUFError(.unknownValueType, "unknown array element type \(rawType) in metadata key '\(key)'", offset: typeOffset)
            }
            if elemType == .array && depth + 1 >= Header.maxArrayDepth {
                throw GGUFError(.unknownValueType, "arrays nest deeper than \(Header.maxArrayDepth) levels in metadata key '\(key)'", offset: typeOffset)
            }
            let countOffset = pos
            let count = try u64("array length of '\(key)'")
            let minSize = UInt64(elemType.minimumEncodedSize)
            guard count <= UInt64(remaining) / minSize else {
                throw GGUFError(.absurdCount, "array length \(count) of '\(key)' (\(elemType) elements) cannot fit in the \(remaining) bytes left in the file", offset: countOffset)
            }
            let n = Int(count)
            var out: [GGUFValue] = []
            out.reserveCapacity(n)
            switch elemType {
            case .uint8: for i in 0..<n { out.append(.uint8(buf.load(fromByteOffset: pos + i, as: UInt8.self))) }; pos += n
            case .int8: for i in 0..<n { out.append(.int8(buf.load(fromByteOffset: pos + i, as: Int8.self))) }; pos += n
            case .uint16: for i in 0..<n { out.append(.uint16(UInt16(littleEndian: buf.loadUnaligned(fromByteOffset: pos + 2 * i, as: UInt16.self)))) }; pos += 2 * n
            case .int16: for i in 0..<n { out.append(.int16(Int16(littleEndian: buf.loadUnaligned(fromByteOffset: pos + 2 * i, as: Int16.self)))) }; pos += 2 * n
            case .uint32: for i in 0..<n { out.append(.uint32(UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: pos + 4 * i, as: UInt32.self)))) }; pos += 4 * n
            case .int32: for i in 0..<n { out.append(.int32(Int32(littleEndian: buf.loadUnaligned(fromByteOffset: pos + 4 * i, as: Int32.self)))) }; pos += 4 * n
            case .float32: for i in 0..<n { out.append(.float32(Float(bitPattern: UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: pos + 4 * i, as: UInt32.self))))) }; pos += 4 * n
            case .uint64: for i in 0..<n { out.append(.uint64(UInt64(littleEndian: buf.loadUnaligned(fromByteOffset: pos + 8 * i, as: UInt64.self)))) }; pos += 8 * n
            case .int64: for i in 0..<n { out.append(.int64(Int64(littleEndian: buf.loadUnaligned(fromByteOffset: pos + 8 * i, as: Int64.self)))) }; pos += 8 * n
            case .float64: for i in 0..<n { out.append(.float64(Double(bitPattern: UInt64(littleEndian: buf.loadUnaligned(fromByteOffset: pos + 8 * i, as: UInt64.self))))) }; pos += 8 * n
            case .bool, .string, .array:
                for i in 0..<n {
                    if elemType == .string {
                        out.append(.string(try string("string \(key)[\(i)]")))
                    } else {
                        out.append(try value(elemType, key: { "\(keyDesc())[\(i)]" }, depth: depth + 1))
                    }
                }
            }
            return .array(out)
        }
    }
}
