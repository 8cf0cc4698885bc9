import Foundation
import XCTest
import GGUF

final class WriterTests: XCTestCase {

    private func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "gguf-writer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }

    static let allValues: [(String, GGUFValue)] = [
        ("general.architecture", .string("llama")),
        ("u8", .uint8(255)), ("i8", .int8(-128)), ("u16", .uint16(65535)), ("i16", .int16(-32768)),
        ("u32", .uint32(4_000_000_000)), ("i32", .int32(-2_000_000_000)), ("f32", .float32(-1.25e-7)),
        ("bool.t", .bool(true)), ("bool.f", .bool(false)), ("str.empty", .string("")),
        ("str.utf8", .string("café 日本語 😀")), ("u64", .uint64(UInt64.max)), ("i64", .int64(Int64.min)),
        ("f64", .float64(3.141592653589793)), ("f32.inf", .float32(.infinity)),
        ("arr.u8", .array([.uint8(0), .uint8(1), .uint8(255)])),
        ("arr.str", .array([.string("a"), .string(""), .string("Ġhello")])),
        ("arr.f32", .array([.float32(0.5), .float32(-0.25)])),
        ("arr.i64", .array([.int64(-1), .int64(1 << 40)])),
        ("arr.bool", .array([.bool(true), .bool(false)])),
        ("arr.empty", .array([])),
        ("arr.nested", .array([.array([.int32(1), .int32(2)]), .array([.int32(3)]), .array([])])),
        ("arr.nested.str", .array([.array([.string("x")]), .array([.string("y"), .string("z")])])),
    ]

    func testRoundTripMetadataAndTensors() throws {
        var w = GGUFWriter()
        for (k, v) in Self.allValues { w.setMetadata(k, v) }
        w.setMetadata("u8", .uint8(7))  // replacing keeps the position
        var rng = SplitMix(7)
        let a = (0..<(64 * 3)).map { _ in rng.gaussian() }
        let b = (0..<(32 * 4)).map { _ in rng.gaussian() * 0.1 }
        let c = (0..<(256 * 2)).map { _ in rng.gaussian() }
        try w.addTensor(name: "exact", shape: [64, 3], values: a, type: .f32)
        try w.addTensor(name: "half", shape: [32, 4], values: b, type: .f16)
        try w.addTensor(name: "brain", shape: [32, 2, 2], values: b, type: .bf16)
        try w.addTensor(name: "q8", shape: [64, 3], values: a, type: .q8_0)
        try w.addTensor(name: "q4", shape: [32, 4], values: b, type: .q4_0)
        try w.addTensor(name: "q41", shape: [32, 4], values: b, type: .q4_1)
        let q6 = try GGMLCodec.quantize(.q6_K, c)
        try w.addTensor(name: "raw.q6k", shape: [256, 2], type: .q6_K, rawBytes: q6)
        try w.addTensor(name: "scalarish", shape: [1], values: [42], type: .f32)

        let bytes = try w.serialize()
        let f = try GGUFFile(bytes: bytes)
        XCTAssertEqual(f.version, 3)
        XCTAssertEqual(f.metadataKeys, Self.allValues.map { $0.0 })
        for (k, v) in Self.allValues where k != "u8" { XCTAssertEqual(f.metadata[k], v, k) }
        XCTAssertEqual(f.metadata["u8"], .uint8(7))
        XCTAssertEqual(f.metadata["general.alignment"], nil)
        XCTAssertEqual(f.tensors.map { $0.name }, ["exact", "half", "brain", "q8", "q4", "q41", "raw.q6k", "scalarish"])
        XCTAssertEqual(f.tensor(named: "brain")?.shape, [32, 2, 2])
        XCTAssertEqual(f.tensor(named: "brain")?.type, .bf16)
        for t in f.tensors { XCTAssertEqual(t.offset % 32, 0, t.name) }

        XCTAssertEqual(try f.dequantize(named: "exact"), a)
        XCTAssertEqual(try f.dequantize(named: "scalarish"), [42])
        let h = try f.dequantize(named: "half"), bf = try f.dequantize(named: "brain")
        for i in 0..<b.count {
            XCTAssertEqual(h[i], b[i], accuracy: abs(b[i]) * 0x1p-11 + 1e-7)
            XCTAssertEqual(bf[i], b[i], accuracy: abs(b[i]) * 0x1p-8)
        }
        let q8 = try f.dequantize(named: "q8")
        for blk in 0..<(a.count / 32) {
            let amax = a[(32 * blk)..<(32 * blk + 32)].map { abs($0) }.max()!
            for i in (32 * blk)..<(32 * blk + 32) { XCTAssertEqual(q8[i], a[i], accuracy: amax / 254 * 1.01 + 1e-6) }
        }
        let q4 = try f.dequantize(named: "q4"), q41 = try f.dequantize(named: "q41")
        for blk in 0..<(b.count / 32) {
            let s = b[(32 * blk)..<(32 * blk + 32)]
            let amax = s.map { abs($0) }.max()!, range = s.max()! - s.min()!
            for i in (32 * blk)..<(32 * blk + 32) {
                XCTAssertEqual(q4[i], b[i], accuracy: amax / 8 * 1.01)
                XCTAssertEqual(q41[i], b[i], accuracy: range / 30 * 1.02 + 1e-4)
            }
        }
        XCTAssertEqual(Array(f.rawData(for: f.tensor(named: "raw.q6k")!)), q6)
    }

    func testAlignmentAndAtomicWrite() throws {
        let dir = try tempDir()
        let path = dir + "/model.gguf"
        try Data("old contents".utf8).write(to: URL(fileURLWithPath: path))
        var w = GGUFWriter(alignment: 64)
        w.setMetadata("general.architecture", .string("x"))
        try w.addTensor(name: "a", shape: [8], values: [1, 2, 3, 4, 5, 6, 7, 8], type: .f32)
        try w.addTensor(name: "b", shape: [3], values: [9, 10, 11], type: .f32)
        // Integers with max |x| = 127 are exact in Q8_0 (scale 1).
        let cv = (0..<32).map { $0 == 5 ? Float(-127) : Float($0 * 3) }
        try w.addTensor(name: "c", shape: [32], values: cv, type: .q8_0)
        try w.write(to: path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["model.gguf"], "temporary file left behind")
        let f = try GGUFFile(path: path)
        XCTAssertEqual(f.alignment, 64)
        XCTAssertEqual(f.metadata["general.alignment"]?.int, 64)
        XCTAssertEqual(f.dataOffset % 64, 0)
        XCTAssertEqual(f.tensors.map { $0.offset }, [0, 64, 128])
        XCTAssertEqual(try f.dequantize(named: "b"), [9, 10, 11])
        XCTAssertEqual(try f.dequantize(named: "c"), cv)
        // write(to:) and serialize() produce the same bytes.
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: path))), try w.serialize())
        // Writing into a missing directory fails with an I/O error naming it.
        XCTAssertThrowsError(try w.write(to: dir + "/missing/x.gguf")) { e in
            XCTAssertEqual((e as? GGUFError)?.kind, .io)
            XCTAssertTrue("\(e)".contains("missing"))
        }
    }

    func testCopyModelTensorsUnchanged() throws {
        let src = try GGUFFile(path: try modelPath(smolName))
        var w = GGUFWriter()
        w.copyMetadata(from: src)
        for name in ["blk.0.attn_q.weight", "blk.0.attn_norm.weight"] { try w.addTensor(src.tensor(named: name)!, from: src) }
        let f = try GGUFFile(bytes: try w.serialize())
        XCTAssertEqual(f.metadataKeys, src.metadataKeys)
        XCTAssertEqual(f.metadata, src.metadata)
        for t in f.tensors {
            let o = src.tensor(named: t.name)!
            XCTAssertEqual(t.shape, o.shape); XCTAssertEqual(t.type, o.type)
            XCTAssertEqual(Array(f.rawData(for: t)), Array(src.rawData(for: o)))
        }
    }

    func testWriterRejectsBadInput() throws {
        var w = GGUFWriter()
        try w.addTensor(name: "x", shape: [32], values: [Float](repeating: 0, count: 32))
        func expect(_ kind: GGUFError.Kind, _ word: String, _ body: () throws -> Void) {
            XCTAssertThrowsError(try body()) { e in
                XCTAssertEqual((e as? GGUFError)?.kind, kind, "\(e)")
                XCTAssertTrue("\(e)".contains(word), "\(e)")
            }
        }
        expect(.duplicateTensor, "'x'") { try w.addTensor(name: "x", shape: [32], values: [Float](repeating: 0, count: 32)) }
        expect(.invalidArgument, "31 values") { try w.addTensor(name: "y", shape: [32], values: [Float](repeating: 0, count: 31)) }
        expect(.notBlockMultiple, "Q8_0") { try w.addTensor(name: "y", shape: [16, 2], values: [Float](repeating: 0, count: 32), type: .q8_0) }
        expect(.unsupportedType, "Q3_K") { try w.addTensor(name: "y", shape: [256], values: [Float](repeating: 0, count: 256), type: .q3_K) }
        expect(.badShape, "'y'") { try w.addTensor(name: "y", shape: [], values: [], type: .f32) }
        expect(.badShape, "'y'") { try w.addTensor(name: "y", shape: [4, 0], values: [], type: .f32) }
        expect(.invalidArgument, "bytes") { try w.addTensor(name: "y", shape: [32], type: .q8_0, rawBytes: [1, 2, 3]) }
        w.setMetadata("mixed", .array([.uint8(1), .string("no")]))
        expect(.badMetadata, "mixed") { _ = try w.serialize() }
    }
}
