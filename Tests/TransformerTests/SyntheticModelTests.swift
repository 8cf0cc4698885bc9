import Foundation
import XCTest
import GGUF
import Transformer

/// Tiny random models written as GGUF files and checked against a naive double-precision forward pass
/// written here from the architecture's definition: this covers Qwen2 (q/k/v biases, halves rope), for
/// which no real model is available offline, and the plain Llama path with untied output weights.
final class SyntheticModelTests: XCTestCase {
    struct Tiny {
        let arch: String
        let dim = 16, layers = 2, heads = 4, kvHeads = 2, ffn = 24, vocab = 260
        var headDim: Int { dim / heads }
        var weights: [String: [Float]] = [:]
        var shapes: [String: [Int]] = [:]

        init(arch: String, seed: UInt64) {
            self.arch = arch
            var rng = Xoshiro256(seed: seed)
            func rand(_ n: Int, _ scale: Float) -> [Float] { (0..<n).map { _ in Float(rng.unit() * 2 - 1) * scale } }
            func add(_ name: String, _ shape: [Int], _ scale: Float, offset: Float = 0) {
                weights[name] = rand(shape.reduce(1, *), scale).map { $0 + offset }
                shapes[name] = shape
            }
            add("token_embd.weight", [dim, vocab], 0.5)
            add("output.weight", [dim, vocab], 0.3)
            add("output_norm.weight", [dim], 0.2, offset: 1)
            for l in 0..<layers {
                let p = "blk.\(l)."
                add(p + "attn_norm.weight", [dim], 0.2, offset: 1)
                add(p + "attn_q.weight", [dim, heads * headDim], 0.4)
                add(p + "attn_k.weight", [dim, kvHeads * headDim], 0.4)
                add(p + "attn_v.weight", [dim, kvHeads * headDim], 0.4)
                add(p + "attn_output.weight", [heads * headDim, dim], 0.4)
                add(p + "ffn_norm.weight", [dim], 0.2, offset: 1)
                add(p + "ffn_gate.weight", [dim, ffn], 0.4)
                add(p + "ffn_up.weight", [dim, ffn], 0.4)
                add(p + "ffn_down.weight", [ffn, dim], 0.4)
                if arch == "qwen2" {
                    add(p + "attn_q.bias", [heads * headDim], 0.5)
                    add(p + "attn_k.bias", [kvHeads * headDim], 0.5)
                    add(p + "attn_v.bias", [kvHeads * headDim], 0.5)
                }
            }
        }

        func write(to path: String) throws {
            var w = GGUFWriter()
            w.setMetadata("general.architecture", .string(arch))
            w.setMetadata("\(arch).embedding_length", .uint32(UInt32(dim)))
            w.setMetadata("\(arch).block_count", .uint32(UInt32(layers)))
            w.setMetadata("\(arch).feed_forward_length", .uint32(UInt32(ffn)))
            w.setMetadata("\(arch).attention.head_count", .uint32(UInt32(heads)))
            w.setMetadata("\(arch).attention.head_count_kv", .uint32(UInt32(kvHeads)))
            w.setMetadata("\(arch).attention.layer_norm_rms_epsilon", .float32(1e-5))
            w.setMetadata("\(arch).rope.freq_base", .float32(10_000))
            w.setMetadata("\(arch).context_length", .uint32(64))
            // A byte-level vocabulary: the 256 byte symbols of GPT-2's mapping plus 4 specials.
            var tokens: [String] = []
            for b in 0..<256 { tokens.append(Tiny.byteSymbol(UInt8(b))) }
            tokens += ["<s>", "</s>", "<pad>", "<unk>"]
            w.setMetadata("tokenizer.ggml.model", .string("gpt2"))
            w.setMetadata("tokenizer.ggml.pre", .string("default"))
            w.setMetadata("tokenizer.ggml.tokens", .array(tokens.map { .string($0) }))
            w.setMetadata("tokenizer.ggml.token_type", .array((0..<260).map { .int32($0 < 256 ? 1 : 3) }))
            w.setMetadata("tokenizer.ggml.merges", .array([]))
            w.setMetadata("tokenizer.ggml.bos_token_id", .uint32(256))
            w.setMetadata("tokenizer.ggml.eos_token_id", .uint32(257))
            for name in weights.keys.sorted() {
                try w.addTensor(name: name, shape: shapes[name]!, values: weights[name]!, type: .f32)
            }
            try w.write(to: path)
        }

        /// GPT-2's byte-to-symbol mapping.
        static func byteSymbol(_ b: UInt8) -> String {
            let printable = Array(33...126) + Array(161...172) + Array(174...255)
            if printable.contains(Int(b)) { return String(UnicodeScalar(b)) }
            var n = 0
            for x in 0..<256 where !printable.contains(x) {
                if x == Int(b) { return String(UnicodeScalar(UInt32(256 + n))!) }
                n += 1
            }
            fatalError()
        }

        /// Naive forward in Double: logits for every position.
        func reference(_ ids: [Int]) -> [[Double]] {
            let W = weights.mapValues { $0.map(Double.init) }
            let hd = headDim, group = heads / kvHeads
            func matvec(_ name: String, _ x: [Double], out: Int) -> [Double] {
                let w = W[name]!, k = x.count
                return (0..<out).map { o in (0..<k).reduce(0) { $0 + w[o * k + $1] * x[$1] } }
            }
            func rms(_ x: [Double], _ name: String) -> [Double] {
                let inv = 1 / ((x.map { $0 * $0 }.reduce(0, +) / Double(x.count)) + 1e-5).squareRoot()
                return zip(x, W[name]!).map { $0 * inv * $1 }
            }
            func rope(_ v: inout [Double], pos: Int) {
                for h in 0..<(v.count / hd) {
                    for i in 0..<(hd / 2) {
                        let theta = Double(pos) * pow(10_000, -Double(2 * i) / Double(hd))
                        let (a, b) = arch == "qwen2" ? (h * hd + i, h * hd + i + hd / 2) : (h * hd + 2 * i, h * hd + 2 * i + 1)
                        let x0 = v[a], x1 = v[b]
                        v[a] = x0 * cos(theta) - x1 * sin(theta)
                        v[b] = x0 * sin(theta) + x1 * cos(theta)
                    }
                }
            }
            var xs = ids.map { id in (0..<dim).map { W["token_embd.weight"]![id * dim + $0] } }
            for l in 0..<layers {
                let p = "blk.\(l)."
                var ks: [[Double]] = [], vs: [[Double]] = [], qs: [[Double]] = []
                for (t, x) in xs.enumerated() {
                    let h = rms(x, p + "attn_norm.weight")
                    var q = matvec(p + "attn_q.weight", h, out: heads * hd)
                    var k = matvec(p + "attn_k.weight", h, out: kvHeads * hd)
                    var v = matvec(p + "attn_v.weight", h, out: kvHeads * hd)
                    if arch == "qwen2" {
                        q = zip(q, W[p + "attn_q.bias"]!).map(+)
                        k = zip(k, W[p + "attn_k.bias"]!).map(+)
                        v = zip(v, W[p + "attn_v.bias"]!).map(+)
                    }
                    rope(&q, pos: t); rope(&k, pos: t)
                    qs.append(q); ks.append(k); vs.append(v)
                }
                for t in 0..<xs.count {
                    var att = [Double](repeating: 0, count: heads * hd)
                    for h in 0..<heads {
                        let g = h / group
                        var s = (0...t).map { j in (0..<hd).reduce(0.0) { $0 + qs[t][h * hd + $1] * ks[j][g * hd + $1] } / Double(hd).squareRoot() }
                        let m = s.max()!
                        s = s.map { exp($0 - m) }
                        let z = s.reduce(0, +)
                        for j in 0...t { for i in 0..<hd { att[h * hd + i] += s[j] / z * vs[j][g * hd + i] } }
                    }
                    let o = matvec(p + "attn_output.weight", att, out: dim)
                    xs[t] = zip(xs[t], o).map(+)
                    let h2 = rms(xs[t], p + "ffn_norm.weight")
                    let gt = matvec(p + "ffn_gate.weight", h2, out: ffn), up = matvec(p + "ffn_up.weight", h2, out: ffn)
                    let act = zip(gt, up).map { $0 / (1 + exp(-$0)) * $1 }
                    xs[t] = zip(xs[t], matvec(p + "ffn_down.weight", act, out: dim)).map(+)
                }
            }
            return xs.map { matvec("output.weight", rms($0, "output_norm.weight"), out: vocab) }
        }
    }

    func check(arch: String) throws {
        let tiny = Tiny(arch: arch, seed: 42)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tiny-\(arch)-\(UUID().uuidString).gguf").path
        try tiny.write(to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let model = try Model(path: path)
        XCTAssertEqual(model.config.hasQKVBias, arch == "qwen2")
        XCTAssertFalse(model.weights.tiedOutput)
        let ids = [3, 77, 140, 9, 255, 31, 200, 64, 12, 5]
        let ref = tiny.reference(ids)
        let logits = try model.forward([(model.newSequence(), ids, .all)])
        for t in ids.indices {
            let row = logits.rowArray(t)
            for v in 0..<tiny.vocab { XCTAssertEqual(Double(row[v]), ref[t][v], accuracy: 1e-3, "\(arch) position \(t) token \(v)") }
        }
        // Decoding one token at a time through the cache gives the same logits.
        let seq = model.newSequence()
        for (t, id) in ids.enumerated() {
            let row = try model.forward([(seq, [id], .last)]).rowArray(0)
            for v in 0..<tiny.vocab { XCTAssertEqual(Double(row[v]), ref[t][v], accuracy: 1e-3) }
        }
    }

    func testQwen2MatchesNaiveReference() throws { try check(arch: "qwen2") }
    func testLlamaMatchesNaiveReference() throws { try check(arch: "llama") }

    func testUnknownArchitectureIsRejectedClearly() throws {
        var w = GGUFWriter()
        w.setMetadata("general.architecture", .string("mamba9"))
        w.setMetadata("mamba9.embedding_length", .uint32(16))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("unknown-\(UUID().uuidString).gguf").path
        try w.write(to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try Model(path: path)) { error in
            XCTAssertTrue(String(describing: error).contains("unsupported model architecture \"mamba9\""), "\(error)")
        }
    }
}
