import XCTest
import GGUF

/// Malformed and hostile inputs: each must raise a GGUFError naming the problem, never crash.
final class ValidationTests: XCTestCase {

    /// A small valid file: 3 metadata entries, tensors "a" (F32 32×2 at 0) and "b" (Q8_0 32 at 256).
    static func validFile(version: UInt32 = 3) -> [UInt8] {
        var r = RawGGUF()
        r.header(version: version, tensors: 2, kvs: 3)
        r.kvString("general.architecture", "test")
        r.str("list"); r.u32(9); r.u32(4); r.u64(3); r.u32(1); r.u32(2); r.u32(3)
        r.str("nested"); r.u32(9); r.u32(9); r.u64(2)
        r.u32(8); r.u64(1); r.str("x")
        r.u32(6); r.u64(2); r.u32(Float(1.5).bitPattern); r.u32(Float(-2).bitPattern)
        r.tensorInfo("a", dims: [32, 2], type: 0, offset: 0)
        r.tensorInfo("b", dims: [32], type: 8, offset: 256)
        r.pad(to: 32)
        for i in 0..<64 { withUnsafeBytes(of: Float(i).bitPattern.littleEndian) { r.bytes.append(contentsOf: $0) } }
        r.bytes += [0x00, 0x3C]  // Q8_0 scale 1.0
        for i in 0..<32 { r.u8(UInt8(bitPattern: Int8(i - 16))) }
        return r.bytes
    }

    func testValidSmallFileParses() throws {
        for v: UInt32 in [2, 3] {
            let f = try GGUFFile(bytes: Self.validFile(version: v))
            XCTAssertEqual(f.version, v)
            XCTAssertEqual(f.metadataKeys, ["general.architecture", "list", "nested"])
            XCTAssertEqual(f.architecture, "test")
            XCTAssertEqual(f.metadata["list"]?.intArray, [1, 2, 3])
            XCTAssertEqual(f.metadata["nested"], .array([.array([.string("x")]), .array([.float32(1.5), .float32(-2)])]))
            XCTAssertEqual(f.tensors.map { $0.name }, ["a", "b"])
            XCTAssertEqual(f.dataOffset % 32, 0)
            XCTAssertEqual(try f.dequantize(f.tensor(named: "a")!), (0..<64).map { Float($0) })
            XCTAssertEqual(try f.dequantize(f.tensor(named: "b")!), (0..<32).map { Float($0 - 16) })
            XCTAssertEqual(f.fileSize, f.dataOffset + 256 + 34)
            XCTAssertEqual(f["list"], .array([.uint32(1), .uint32(2), .uint32(3)]))
            XCTAssertEqual(try f.requireString("general.architecture"), "test")
            XCTAssertThrowsError(try f.requireInt("general.architecture")) { XCTAssertTrue("\($0)".contains("'general.architecture'")) }
            XCTAssertThrowsError(try f.requireInt("absent.key")) { XCTAssertTrue("\($0)".contains("missing metadata key 'absent.key'")) }
            XCTAssertThrowsError(try f.requireTensor("zzz")) { XCTAssertTrue("\($0)".contains("'zzz'")) }
            // Row access: row 1 of "a" is 32..63.
            var row = [Float](repeating: 0, count: 32)
            try row.withUnsafeMutableBufferPointer { try f.dequantizeRows(f.requireTensor("a"), rows: 1..<2, into: $0.baseAddress!) }
            XCTAssertEqual(row, (32..<64).map { Float($0) })
            XCTAssertThrowsError(try row.withUnsafeMutableBufferPointer { try f.dequantizeRows(f.requireTensor("a"), rows: 1..<3, into: $0.baseAddress!) })
            // A tensor description that does not fit this file is refused, not read out of bounds.
            let foreign = GGUFTensorInfo(name: "x", shape: [4096], type: .f32, offset: 0)
            XCTAssertEqual(f.rawData(for: foreign).count, 0)
            XCTAssertThrowsError(try f.dequantize(foreign))
        }
    }

    func testValueAccessors() {
        XCTAssertEqual(GGUFValue.uint64(UInt64.max).int, nil)
        XCTAssertEqual(GGUFValue.int8(-5).int, -5)
        XCTAssertEqual(GGUFValue.uint16(7).double, 7)
        XCTAssertEqual(GGUFValue.float32(0.5).int, nil)
        XCTAssertEqual(GGUFValue.float64(0.25).double, 0.25)
        XCTAssertEqual(GGUFValue.string("s").bool, nil)
        XCTAssertEqual(GGUFValue.array([.int32(1), .uint8(2)]).intArray, [1, 2])
        XCTAssertEqual(GGUFValue.array([.int32(1), .string("x")]).intArray, nil)
        XCTAssertEqual(GGUFValue.array([.float64(1.5), .int16(-2)]).floatArray, [1.5, -2])
        XCTAssertEqual(GGUFValue.array([.string("a")]).stringArray, ["a"])
        XCTAssertEqual(GGUFValue.array([.bool(true)]).stringArray, nil)
        XCTAssertEqual(GGUFValue.bool(true).array, nil)
    }

    func testBadMagic() {
        var b = Self.validFile()
        b[3] = UInt8(ascii: "X")
        assertGGUFError(b, .badMagic, mentions: ["magic", "GGUX"])
        assertGGUFError([], .truncated, mentions: ["magic"])
        assertGGUFError([0x47, 0x47], .truncated, mentions: ["magic"])
    }

    func testUnsupportedVersion() {
        var b = Self.validFile()
        b[4] = 1
        assertGGUFError(b, .unsupportedVersion, mentions: ["version 1"])
        b[4] = 4
        assertGGUFError(b, .unsupportedVersion, mentions: ["version 4"])
        b[4] = 0; b[7] = 3
        assertGGUFError(b, .unsupportedVersion, mentions: ["version", "big-endian"])
    }

    func testTruncatedEverywhere() {
        let b = Self.validFile()
        // Every proper prefix must fail cleanly (most as truncation, some as tensor data past the end).
        for n in 0..<b.count {
            do {
                _ = try GGUFFile(bytes: Array(b[0..<n]))
                XCTFail("prefix of \(n) bytes parsed")
            } catch let e as GGUFError {
                XCTAssertTrue([.truncated, .badString, .absurdCount, .dataOutOfBounds].contains(e.kind), "prefix \(n): \(e)")
            } catch { XCTFail("\(error)") }
        }
        assertGGUFError(Array(b[0..<10]), .truncated, mentions: ["tensor count", "byte 8"])
        var r = RawGGUF(); r.header(tensors: 0, kvs: 1); r.kvString("general.architecture", "llama")
        XCTAssertNoThrow(try GGUFFile(bytes: r.bytes))
        assertGGUFError(Array(r.bytes[0..<60]), .truncated, mentions: ["general.architecture", "byte 56"])
        assertGGUFError(Array(r.bytes.dropLast(2)), .badString, mentions: ["general.architecture", "length 5"])
    }

    func testAbsurdCounts() {
        var r = RawGGUF(); r.header(tensors: 1 << 40, kvs: 0); r.zeros(64)
        assertGGUFError(r.bytes, .absurdCount, mentions: ["tensor count", "1099511627776"])
        r = RawGGUF(); r.header(tensors: 0, kvs: UInt64.max); r.zeros(64)
        assertGGUFError(r.bytes, .absurdCount, mentions: ["metadata count"])
        r = RawGGUF(); r.header(tensors: 3, kvs: 0); r.zeros(60)  // 3 tensor infos need >= 72 bytes
        assertGGUFError(r.bytes, .absurdCount, mentions: ["tensor count 3"])
        // An array claiming 2^40 uint64 elements.
        r = RawGGUF(); r.header(tensors: 0, kvs: 1); r.str("big"); r.u32(9); r.u32(10); r.u64(1 << 40); r.zeros(16)
        assertGGUFError(r.bytes, .absurdCount, mentions: ["array length", "big"])
        // An array of strings: each needs >= 8 bytes, so 10 strings cannot fit in 40 bytes.
        r = RawGGUF(); r.header(tensors: 0, kvs: 1); r.str("strs"); r.u32(9); r.u32(8); r.u64(10); r.zeros(40)
        assertGGUFError(r.bytes, .absurdCount, mentions: ["array length 10", "strs"])
    }

    func testStringPastEOF() {
        var r = RawGGUF(); r.header(tensors: 0, kvs: 1); r.u64(1 << 50); r.zeros(20)
        assertGGUFError(r.bytes, .badString, mentions: ["length", "key of metadata entry 0"])
        r = RawGGUF(); r.header(tensors: 0, kvs: 1); r.str("name"); r.u32(8); r.u64(100); r.zeros(20)
        assertGGUFError(r.bytes, .badString, mentions: ["length 100", "name"])
        r = RawGGUF(); r.header(tensors: 1, kvs: 0); r.u64(UInt64.max); r.zeros(40)
        assertGGUFError(r.bytes, .badString, mentions: ["name of tensor 0"])
    }

    func testUnknownValueTypes() {
        var r = RawGGUF(); r.header(tensors: 0, kvs: 1); r.str("weird"); r.u32(13); r.zeros(16)
        assertGGUFError(r.bytes, .unknownValueType, mentions: ["value type 13", "weird"])
        r = RawGGUF(); r.header(tensors: 0, kvs: 1); r.str("arr"); r.u32(9); r.u32(99); r.u64(1); r.zeros(16)
        assertGGUFError(r.bytes, .unknownValueType, mentions: ["element type 99", "arr"])
        // Arrays nested 20 deep.
        r = RawGGUF(); r.header(tensors: 0, kvs: 1); r.str("deep"); r.u32(9)
        for _ in 0..<20 { r.u32(9); r.u64(1) }
        r.zeros(64)
        assertGGUFError(r.bytes, .unknownValueType, mentions: ["nest", "deep"])
        r = RawGGUF(); r.header(tensors: 0, kvs: 1); r.str("flag"); r.u32(7); r.u8(2); r.zeros(8)
        assertGGUFError(r.bytes, .badMetadata, mentions: ["bool", "flag"])
    }

    func testDuplicateKey() {
        var r = RawGGUF(); r.header(tensors: 0, kvs: 2); r.kvU32("k", 1); r.kvU32("k", 2)
        assertGGUFError(r.bytes, .duplicateKey, mentions: ["duplicate", "'k'"])
    }

    private func oneTensor(dims: [UInt64], type: UInt32 = 0, offset: UInt64 = 0, data: Int = 4096, name: String = "w") -> [UInt8] {
        var r = RawGGUF(); r.header(tensors: 1, kvs: 0)
        r.tensorInfo(name, dims: dims, type: type, offset: offset)
        r.pad(to: 32); r.zeros(data)
        return r.bytes
    }

    func testUnknownTensorType() {
        assertGGUFError(oneTensor(dims: [32], type: 4), .unknownTensorType, mentions: ["type 4", "'w'"])
        assertGGUFError(oneTensor(dims: [32], type: 0xFFFF_FFFF), .unknownTensorType, mentions: ["4294967295", "'w'"])
    }

    func testAbsurdDims() {
        var r = RawGGUF(); r.header(tensors: 1, kvs: 0); r.str("w"); r.u32(0); r.u32(0); r.u64(0); r.zeros(64)
        assertGGUFError(r.bytes, .badShape, mentions: ["'w'", "0 dimensions"])
        assertGGUFError(oneTensor(dims: [1, 1, 1, 1, 1]), .badShape, mentions: ["'w'", "5 dimensions"])
        r = RawGGUF(); r.header(tensors: 1, kvs: 0); r.str("w"); r.u32(1_000_000); r.zeros(64)
        assertGGUFError(r.bytes, .badShape, mentions: ["1000000 dimensions"])
        assertGGUFError(oneTensor(dims: [32, 0]), .badShape, mentions: ["'w'", "dimension 1 is 0"])
        assertGGUFError(oneTensor(dims: [UInt64(bitPattern: -32)]), .badShape, mentions: ["'w'", "-32"])
        assertGGUFError(oneTensor(dims: [32, 1 << 31, 1 << 31, 1 << 31]), .badShape, mentions: ["'w'", "overflow"])
    }

    func testRowNotBlockMultiple() {
        assertGGUFError(oneTensor(dims: [33, 2], type: 8), .notBlockMultiple, mentions: ["'w'", "33", "Q8_0", "32"])
        assertGGUFError(oneTensor(dims: [128, 2], type: 12), .notBlockMultiple, mentions: ["'w'", "Q4_K", "256"])
    }

    func testMisaligned() {
        assertGGUFError(oneTensor(dims: [8], offset: 16), .misaligned, mentions: ["'w'", "offset 16", "alignment 32"])
        var r = RawGGUF(); r.header(tensors: 0, kvs: 1); r.kvU32("general.alignment", 24)
        assertGGUFError(r.bytes, .misaligned, mentions: ["general.alignment", "24", "power of two"])
        r = RawGGUF(); r.header(tensors: 0, kvs: 1); r.kvU32("general.alignment", 0)
        assertGGUFError(r.bytes, .misaligned, mentions: ["general.alignment"])
        // With alignment 64 an offset of 32 is misaligned.
        r = RawGGUF(); r.header(tensors: 1, kvs: 1); r.kvU32("general.alignment", 64)
        r.tensorInfo("w", dims: [8], type: 0, offset: 32); r.pad(to: 64); r.zeros(128)
        assertGGUFError(r.bytes, .misaligned, mentions: ["'w'", "alignment 64"])
    }

    func testDataPastEOF() {
        assertGGUFError(oneTensor(dims: [32, 32], data: 4095), .dataOutOfBounds, mentions: ["'w'", "past the end"])
        assertGGUFError(oneTensor(dims: [32], offset: 1 << 60), .dataOutOfBounds, mentions: ["'w'"])
        assertGGUFError(oneTensor(dims: [32], offset: 4096 - 96), .dataOutOfBounds, mentions: ["'w'", "4000"])
        XCTAssertNoThrow(try GGUFFile(bytes: oneTensor(dims: [32, 32], data: 4096)))
    }

    func testOverlappingTensors() {
        var r = RawGGUF(); r.header(tensors: 2, kvs: 0)
        r.tensorInfo("first", dims: [64], type: 0, offset: 0)
        r.tensorInfo("second", dims: [8], type: 0, offset: 224)
        r.pad(to: 32); r.zeros(512)
        assertGGUFError(r.bytes, .overlappingTensors, mentions: ["'first'", "'second'", "overlap"])
        // Touching but not overlapping is fine.
        r = RawGGUF(); r.header(tensors: 2, kvs: 0)
        r.tensorInfo("first", dims: [64], type: 0, offset: 0)
        r.tensorInfo("second", dims: [8], type: 0, offset: 256)
        r.pad(to: 32); r.zeros(512)
        XCTAssertNoThrow(try GGUFFile(bytes: r.bytes))
    }

    func testDuplicateTensorName() {
        var r = RawGGUF(); r.header(tensors: 2, kvs: 0)
        r.tensorInfo("same", dims: [8], type: 0, offset: 0)
        r.tensorInfo("same", dims: [8], type: 0, offset: 32)
        r.pad(to: 32); r.zeros(64)
        assertGGUFError(r.bytes, .duplicateTensor, mentions: ["duplicate", "'same'"])
    }

    func testMissingFileIsIOError() {
        XCTAssertThrowsError(try GGUFFile(path: "/nonexistent/dir/model.gguf")) { e in
            XCTAssertEqual((e as? GGUFError)?.kind, .io)
            XCTAssertTrue("\(e)".contains("/nonexistent/dir/model.gguf"))
        }
    }

    /// Thousands of deterministic random mutations of a small valid file: never crash; either parse
    /// (and then every tensor decodes) or throw a GGUFError.
    func testMutationFuzzLoop() throws {
        var w = GGUFWriter()
        w.setMetadata("general.architecture", .string("llama"))
        w.setMetadata("tokens", .array(["a", "bc", "<s>"].map { .string($0) }))
        w.setMetadata("scores", .array([.float32(0.5), .float32(-1)]))
        w.setMetadata("n", .uint64(7))
        w.setMetadata("nested", .array([.array([.int8(1), .int8(-1)]), .array([])]))
        try w.addTensor(name: "f32", shape: [8, 2], values: (0..<16).map { Float($0) }, type: .f32)
        try w.addTensor(name: "q8", shape: [32], values: (0..<32).map { Float($0) / 7 }, type: .q8_0)
        try w.addTensor(name: "q4k", shape: [256], values: (0..<256).map { sin(Float($0)) }, type: .q4_K)
        let base = try w.serialize()
        XCTAssertNoThrow(try GGUFFile(bytes: base))

        var rng = SplitMix(2024)
        var parsed = 0, rejected = 0
        var kinds = Set<GGUFError.Kind>()
        for iter in 0..<4000 {
            var b = base
            switch iter % 5 {
            case 0:  // flip a few random bytes
                for _ in 0..<(1 + Int(rng.next() % 3)) { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            case 1:  // truncate
                b.removeLast(1 + Int(rng.next() % UInt64(b.count - 1)))
            case 2:  // overwrite a 64-bit field inside the header with a large or small value
                let at = Int(rng.next() % UInt64(min(b.count, 400) - 8))
                let v: UInt64 = rng.next() % 2 == 0 ? rng.next() : rng.next() % 300
                withUnsafeBytes(of: v.littleEndian) { for k in 0..<8 { b[at + k] = $0[k] } }
            case 3:  // insert junk
                let at = Int(rng.next() % UInt64(b.count))
                b.insert(contentsOf: (0..<(1 + Int(rng.next() % 9))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
            default:  // single bit flip in the header
                let at = Int(rng.next() % UInt64(min(b.count, 400)))
                b[at] ^= UInt8(1) << UInt8(rng.next() % 8)
            }
            do {
                let f = try GGUFFile(bytes: b)
                for t in f.tensors {
                    let y = try f.dequantize(t)
                    XCTAssertEqual(y.count, t.elementCount)
                    XCTAssertEqual(f.rawData(for: t).count, t.byteCount)
                }
                parsed += 1
            } catch let e as GGUFError {
                rejected += 1
                kinds.insert(e.kind)
                XCTAssertFalse(e.description.isEmpty)
            } catch {
                XCTFail("iteration \(iter): non-GGUF error \(error)")
            }
        }
        XCTAssertGreaterThan(parsed, 100)
        XCTAssertGreaterThan(rejected, 1000)
        XCTAssertGreaterThanOrEqual(kinds.count, 6, "error kinds seen: \(kinds)")
    }
}
