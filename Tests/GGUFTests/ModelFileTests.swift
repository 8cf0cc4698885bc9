import Foundation
import XCTest
import GGUF

/// Reads the two cached real models.
final class ModelFileTests: XCTestCase {

    func testSmolLM2Facts() throws {
        let f = try GGUFFile(path: try modelPath(smolName))
        XCTAssertEqual(f.version, 3)
        XCTAssertEqual(f.alignment, 32)
        XCTAssertEqual(f.architecture, "llama")
        XCTAssertEqual(f.metadata["llama.block_count"]?.int, 30)
        XCTAssertEqual(f.metadata["llama.embedding_length"]?.int, 576)
        XCTAssertEqual(f.metadata["llama.feed_forward_length"]?.int, 1536)
        XCTAssertEqual(f.metadata["llama.attention.head_count"]?.int, 9)
        XCTAssertEqual(f.metadata["llama.attention.head_count_kv"]?.int, 3)
        XCTAssertEqual(f.metadata["llama.rope.freq_base"]?.double, 100000)
        XCTAssertEqual(f.metadata["llama.attention.layer_norm_rms_epsilon"]?.double ?? 0, 1e-5, accuracy: 1e-9)
        XCTAssertEqual(f.metadata["tokenizer.ggml.model"]?.string, "gpt2")
        XCTAssertEqual(f.metadata["tokenizer.ggml.pre"]?.string, "smollm")
        XCTAssertEqual(f.metadata["tokenizer.ggml.bos_token_id"]?.int, 1)
        XCTAssertEqual(f.metadata["tokenizer.ggml.add_bos_token"]?.bool, false)
        let tokens = try XCTUnwrap(f.metadata["tokenizer.ggml.tokens"]?.stringArray)
        XCTAssertEqual(tokens.count, 49152)
        XCTAssertEqual(tokens[19556], "Hello")  // id of "Hello" in smollm2_prompt512.json
        XCTAssertEqual(f.metadata["tokenizer.ggml.token_type"]?.intArray?.count, 49152)
        XCTAssertEqual(f.metadata["tokenizer.ggml.merges"]?.stringArray?.count, 48900)
        XCTAssertTrue(f.metadata["tokenizer.chat_template"]?.string?.contains("<|im_start|>") ?? false)
        XCTAssertEqual(f.metadataKeys.count, f.metadata.count)
        XCTAssertEqual(f.metadataKeys.first, "general.architecture")

        var counts: [String: Int] = [:]
        for t in f.tensors { counts[t.type.description, default: 0] += 1 }
        XCTAssertEqual(counts, ["Q8_0": 1, "F32": 61, "Q4_1": 210])
        XCTAssertEqual(f.tensors.count, 272)

        let emb = try XCTUnwrap(f.tensor(named: "token_embd.weight"))
        XCTAssertEqual(emb.shape, [576, 49152])
        XCTAssertEqual(emb.type, .q8_0)
        XCTAssertEqual(emb.rowCount, 49152)
        XCTAssertEqual(emb.elementCount, 576 * 49152)
        XCTAssertEqual(emb.byteCount, 49152 * 18 * 34)
        XCTAssertEqual(f.rawData(for: emb).count, emb.byteCount)
        XCTAssertEqual(f.fileSize, 98_362_432)
        for t in f.tensors {
            XCTAssertEqual(t.offset % f.alignment, 0)
            XCTAssertLessThanOrEqual(f.dataOffset + t.offset + t.byteCount, f.fileSize)
        }

        // Embedding row lookup equals the corresponding slice of the whole tensor.
        var row = [Float](repeating: 0, count: 2 * 576)
        try row.withUnsafeMutableBufferPointer { try f.dequantizeRows(emb, rows: 19556..<19558, into: $0.baseAddress!) }
        let all = try f.dequantize(emb)
        XCTAssertEqual(row, Array(all[(19556 * 576)..<(19558 * 576)]))
    }

    func testGemmaFactsAndFastOpen() throws {
        let path = try modelPath(gemmaName)
        let t0 = Date()
        let f = try GGUFFile(path: path)
        let openTime = Date().timeIntervalSince(t0)
        // 253 MB file with a 262144-token vocabulary: parsing the header only, no tensor data copied.
        XCTAssertLessThan(openTime, 1.0, "opening took \(openTime) s")
        XCTAssertEqual(f.architecture, "gemma3")
        XCTAssertEqual(f.metadata["gemma3.block_count"]?.int, 18)
        XCTAssertEqual(f.metadata["gemma3.embedding_length"]?.int, 640)
        XCTAssertEqual(f.metadata["gemma3.attention.key_length"]?.int, 256)
        XCTAssertEqual(f.metadata["tokenizer.ggml.model"]?.string, "llama")
        XCTAssertEqual(f.metadata["tokenizer.ggml.tokens"]?.stringArray?.count, 262144)
        XCTAssertEqual(f.metadata["tokenizer.ggml.scores"]?.floatArray?.count, 262144)
        XCTAssertEqual(f.metadata["general.tags"]?.stringArray, ["gemma3", "gemma", "google", "text-generation"])
        XCTAssertEqual(f.metadata["tokenizer.ggml.add_bos_token"]?.bool, true)
        var counts: [String: Int] = [:]
        for t in f.tensors { counts[t.type.description, default: 0] += 1 }
        XCTAssertEqual(counts, ["F32": 109, "Q5_0": 81, "Q4_K": 27, "Q8_0": 10, "Q6_K": 9])
        XCTAssertEqual(f.tensor(named: "token_embd.weight")?.shape, [640, 262144])
        XCTAssertEqual(f.fileSize, 253_113_024)
    }

    /// Whole tensors decoded here agree with gguf-py's decoding (ReferenceData.swift).
    func testRealTensorsMatchGGUFPy() throws {
        var files: [String: GGUFFile] = [:]
        for (key, name) in [("smollm2", smolName), ("gemma3", gemmaName)] {
            let p = modelsDir() + "/" + name
            if FileManager.default.fileExists(atPath: p) { files[key] = try GGUFFile(path: p) }
        }
        if files.isEmpty { throw XCTSkip("no models present") }
        var checked = Set<String>()
        for ref in tensorReferences {
            guard let f = files[ref.model] else { continue }
            let t = try XCTUnwrap(f.tensor(named: ref.tensor), ref.tensor)
            XCTAssertEqual(t.type.description, ref.type)
            let y = try f.dequantize(t)
            XCTAssertEqual(y.count, ref.elementCount)
            var s = 0.0, ws = 0.0, ss = 0.0
            for (i, v) in y.enumerated() { let d = Double(v); s += d; ws += d * Double(i % 7 + 1); ss += d * d }
            XCTAssertTrue(relClose(s, ref.sum, 1e-6), "\(ref.tensor) sum \(s) vs \(ref.sum)")
            XCTAssertTrue(relClose(ws, ref.weightedSum, 1e-6), "\(ref.tensor) weighted sum \(ws) vs \(ref.weightedSum)")
            XCTAssertTrue(relClose(ss, ref.sumSquares, 1e-6), "\(ref.tensor) sum of squares \(ss) vs \(ref.sumSquares)")
            XCTAssertEqual(Array(y.prefix(ref.head.count)), ref.head, ref.tensor)
            for (i, v) in ref.probes { XCTAssertEqual(y[i], v, "\(ref.tensor)[\(i)]") }
            checked.insert(ref.type)
        }
        if files.count == 2 { XCTAssertEqual(checked, ["Q8_0", "Q4_1", "F32", "Q4_K", "Q6_K", "Q5_0"]) }
    }

    /// Every tensor type present decodes to finite values with plausible statistics.
    func testRealTensorStatisticsPlausible() throws {
        var any = false
        for name in [smolName, gemmaName] {
            let p = modelsDir() + "/" + name
            guard FileManager.default.fileExists(atPath: p) else { continue }
            any = true
            let f = try GGUFFile(path: p)
            var perType: [GGMLType: Int] = [:]
            for t in f.tensors where t.elementCount <= 4_000_000 {
                if perType[t.type, default: 0] >= 3 { continue }
                perType[t.type, default: 0] += 1
                let y = try f.dequantize(t)
                var s = 0.0, ss = 0.0, amax: Float = 0
                for v in y {
                    XCTAssertTrue(v.isFinite, "\(name) \(t.name) has a non-finite value")
                    s += Double(v); ss += Double(v * v); amax = max(amax, abs(v))
                }
                let mean = s / Double(y.count), sd = (ss / Double(y.count) - mean * mean).squareRoot()
                XCTAssertLessThan(amax, 1000, "\(name) \(t.name) max |x| \(amax)")
                if t.shape.count >= 2 {
                    // Weight matrices: centred, with spread typical of trained weights.
                    XCTAssertGreaterThan(sd, 1e-3, "\(name) \(t.name) sd \(sd)")
                    XCTAssertLessThan(sd, 5, "\(name) \(t.name) sd \(sd)")
                    XCTAssertLessThan(abs(mean), 3 * sd, "\(name) \(t.name) mean \(mean)")
                } else {
                    XCTAssertGreaterThan(ss, 0, "\(name) \(t.name) is all zeros")
                }
            }
        }
        if !any { throw XCTSkip("no models present") }
    }
}
