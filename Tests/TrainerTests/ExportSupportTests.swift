import Foundation
import XCTest
import GGUF
import Transformer
import Training

// Fixtures for the export tests: a tiny Llama with known weights, a LoRA test double, a naive Double
// forward pass, and llama.cpp (through llama-cpp-python) as an outside reader of the files.

/// SplitMix64: a small seeded generator for test weights.
struct ExportRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    mutating func symmetric() -> Float { Float(Double(next() >> 11) / Double(1 << 53) * 2 - 1) }
}

/// A tiny Llama (untied output, GQA) with fp32 weights, written as a GGUF file with a byte-level
/// BPE tokenizer. `ffn` = 80 is deliberately not a multiple of 32 (Q8_0 must fall back for ffn_down).
struct TinyLlama {
    let dim = 64, layers = 2, heads = 4, kvHeads = 2, ffn = 80, context = 64
    var headDim: Int { dim / heads }
    var vocab: Int { tokens.count }
    var names: [String] = []
    var shapes: [String: [Int]] = [:]
    var weights: [String: [Float]] = [:]
    let tokens: [String]

    init(seed: UInt64) {
        var toks = (0..<256).map { TinyLlama.byteSymbol(UInt8($0)) }
        toks += ["ab", "<s>", "</s>", "<unk>"]
        tokens = toks
        var rng = ExportRNG(seed: seed)
        func add(_ name: String, _ shape: [Int], _ scale: Float, offset: Float = 0) {
            names.append(name)
            shapes[name] = shape
            weights[name] = (0..<shape.reduce(1, *)).map { _ in rng.symmetric() * scale + offset }
        }
        add("token_embd.weight", [dim, vocab], 1.0)
        add("output_norm.weight", [dim], 0.2, offset: 1)
        add("output.weight", [dim, vocab], 0.3)
        for l in 0..<layers {
            let p = "blk.\(l)."
            add(p + "attn_norm.weight", [dim], 0.2, offset: 1)
            add(p + "attn_q.weight", [dim, heads * headDim], 0.25)
            add(p + "attn_k.weight", [dim, kvHeads * headDim], 0.25)
            add(p + "attn_v.weight", [dim, kvHeads * headDim], 0.25)
            add(p + "attn_output.weight", [heads * headDim, dim], 0.25)
            add(p + "ffn_norm.weight", [dim], 0.2, offset: 1)
            add(p + "ffn_gate.weight", [dim, ffn], 0.25)
            add(p + "ffn_up.weight", [dim, ffn], 0.25)
            add(p + "ffn_down.weight", [ffn, dim], 0.25)
        }
    }

    /// The tokenizer keys (what a from-scratch export receives in `extraMetadata`).
    var tokenizerMetadata: [String: GGUFValue] {
        [
            "tokenizer.ggml.model": .string("gpt2"),
            "tokenizer.ggml.pre": .string("default"),
            "tokenizer.ggml.tokens": .array(tokens.map { .string($0) }),
            "tokenizer.ggml.token_type": .array(tokens.indices.map { .int32($0 < 257 ? 1 : 3) }),
            "tokenizer.ggml.merges": .array([.string("a b")]),
            "tokenizer.ggml.bos_token_id": .uint32(257),
            "tokenizer.ggml.eos_token_id": .uint32(258),
            "tokenizer.ggml.unknown_token_id": .uint32(259),
        ]
    }

    func write(to path: String) throws {
        var w = GGUFWriter()
        w.setMetadata("general.architecture", .string("llama"))
        w.setMetadata("general.name", .string("tiny-llama-export-test"))
        w.setMetadata("llama.context_length", .uint32(UInt32(context)))
        w.setMetadata("llama.embedding_length", .uint32(UInt32(dim)))
        w.setMetadata("llama.block_count", .uint32(UInt32(layers)))
        w.setMetadata("llama.feed_forward_length", .uint32(UInt32(ffn)))
        w.setMetadata("llama.attention.head_count", .uint32(UInt32(heads)))
        w.setMetadata("llama.attention.head_count_kv", .uint32(UInt32(kvHeads)))
        w.setMetadata("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        w.setMetadata("llama.rope.freq_base", .float32(10_000))
        w.setMetadata("llama.rope.dimension_count", .uint32(UInt32(headDim)))
        for (k, v) in tokenizerMetadata.sorted(by: { $0.key < $1.key }) { w.setMetadata(k, v) }
        for n in names { try w.addTensor(name: n, shape: shapes[n]!, values: weights[n]!, type: .f32) }
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
        fatalError("unreachable")
    }
}

/// Naive Llama forward pass in Double over named fp32 weights (GGUF layout: a [k, n] weight is n rows
/// of k). Interleaved rope, GQA, RMSNorm, SwiGLU; `output.weight` or the tied embedding as the head.
func naiveLlamaLogits(_ W: [String: [Float]], config c: ModelConfig, ids: [Int]) -> [[Double]] {
    let hd = c.headDim, group = c.headCount / c.kvHeadCount
    func matvec(_ name: String, _ x: [Double], out: Int) -> [Double] {
        let w = W[name]!, k = x.count
        precondition(w.count == out * k, "\(name): \(w.count) values, expected \(out)×\(k)")
        return (0..<out).map { o in
            var s = 0.0
            for i in 0..<k { s += Double(w[o * k + i]) * x[i] }
            return s
        }
    }
    func rms(_ x: [Double], _ name: String) -> [Double] {
        let inv = 1 / ((x.reduce(0) { $0 + $1 * $1 } / Double(x.count)) + Double(c.normEpsilon)).squareRoot()
        return zip(x, W[name]!).map { $0 * inv * Double($1) }
    }
    func rope(_ v: inout [Double], pos: Int) {
        for h in 0..<(v.count / hd) {
            for i in 0..<(hd / 2) {
                let theta = Double(pos) * pow(Double(c.ropeBase), -Double(2 * i) / Double(hd))
                let a = h * hd + 2 * i, b = a + 1
                let x0 = v[a], x1 = v[b]
                v[a] = x0 * cos(theta) - x1 * sin(theta)
                v[b] = x0 * sin(theta) + x1 * cos(theta)
            }
        }
    }
    let emb = W["token_embd.weight"]!
    var xs = ids.map { id in (0..<c.dim).map { Double(emb[id * c.dim + $0]) } }
    for l in 0..<c.layerCount {
        let p = "blk.\(l)."
        var qs: [[Double]] = [], ks: [[Double]] = [], vs: [[Double]] = []
        for (t, x) in xs.enumerated() {
            let h = rms(x, p + "attn_norm.weight")
            var q = matvec(p + "attn_q.weight", h, out: c.qDim)
            var k = matvec(p + "attn_k.weight", h, out: c.kvDim)
            rope(&q, pos: t); rope(&k, pos: t)
            qs.append(q); ks.append(k); vs.append(matvec(p + "attn_v.weight", h, out: c.vDim))
        }
        for t in 0..<xs.count {
            var att = [Double](repeating: 0, count: c.qDim)
            for h in 0..<c.headCount {
                let g = h / group
                var s = (0...t).map { j in (0..<hd).reduce(0.0) { $0 + qs[t][h * hd + $1] * ks[j][g * hd + $1] } / Double(hd).squareRoot() }
                let m = s.max()!
                s = s.map { exp($0 - m) }
                let z = s.reduce(0, +)
                for j in 0...t { for i in 0..<hd { att[h * hd + i] += s[j] / z * vs[j][g * hd + i] } }
            }
            xs[t] = zip(xs[t], matvec(p + "attn_output.weight", att, out: c.dim)).map(+)
            let h2 = rms(xs[t], p + "ffn_norm.weight")
            let gt = matvec(p + "ffn_gate.weight", h2, out: c.ffnDim), up = matvec(p + "ffn_up.weight", h2, out: c.ffnDim)
            let act = zip(gt, up).map { $0 / (1 + exp(-$0)) * $1 }
            xs[t] = zip(xs[t], matvec(p + "ffn_down.weight", act, out: c.dim)).map(+)
        }
    }
    let head = W["output.weight"] != nil ? "output.weight" : "token_embd.weight"
    return xs.map { matvec(head, rms($0, "output_norm.weight"), out: c.vocabularySize) }
}

/// A LoRA test double: a frozen fp32 base and random low-rank factors on chosen weights, in the
/// contract's layout (A [k, r], B [r, n]; ΔW = (alpha/r)·B·A). The merge is written here, naively.
final class LoRATestDouble: TrainableModel {
    let config: ModelConfig
    let base: [(name: String, shape: [Int], values: [Float])]
    let rank: Int
    let alpha: Float
    let tensors: [ParameterTensor]
    let parameterCount: Int
    let parameters: UnsafeMutablePointer<Float>
    let gradients: UnsafeMutablePointer<Float>

    struct Unsupported: Error, CustomStringConvertible { var description: String { "the LoRA test double has no forward pass" } }

    init(config: ModelConfig, base: [(name: String, shape: [Int], values: [Float])], targets: [String],
         rank: Int, alpha: Float, seed: UInt64, bScale: Float) {
        self.config = config; self.base = base; self.rank = rank; self.alpha = alpha
        var ts: [ParameterTensor] = []
        var off = 0
        for t in targets {
            let shape = base.first { $0.name == t }!.shape
            ts.append(ParameterTensor(name: t + ".lora_a", shape: [shape[0], rank], offset: off, count: shape[0] * rank, decay: true))
            off += shape[0] * rank
            ts.append(ParameterTensor(name: t + ".lora_b", shape: [rank, shape[1]], offset: off, count: rank * shape[1], decay: true))
            off += rank * shape[1]
        }
        tensors = ts
        parameterCount = off
        parameters = .allocate(capacity: off)
        gradients = .allocate(capacity: off)
        gradients.initialize(repeating: 0, count: off)
        var rng = ExportRNG(seed: seed)
        for t in ts {
            let scale: Float = t.name.hasSuffix(".lora_b") ? bScale : 1 / Float(t.shape[0]).squareRoot()
            for i in 0..<t.count { parameters[t.offset + i] = rng.symmetric() * scale }
        }
    }
    deinit { parameters.deallocate(); gradients.deallocate() }

    func zeroGradients() { gradients.update(repeating: 0, count: parameterCount) }
    func forwardBackward(_ batch: TrainBatch, gradScale: Float) throws -> LossResult { throw Unsupported() }
    func loss(_ batch: TrainBatch) throws -> LossResult { throw Unsupported() }

    func mergedTensors() -> [(name: String, shape: [Int], values: [Float])] {
        let byName = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0) })
        let s = Double(alpha) / Double(rank)
        return base.map { t in
            guard let ta = byName[t.name + ".lora_a"], let tb = byName[t.name + ".lora_b"] else { return t }
            let k = t.shape[0], n = t.shape[1]
            var v = t.values
            for o in 0..<n {
                for i in 0..<k {
                    var d = 0.0
                    for j in 0..<rank { d += Double(parameters[tb.offset + o * rank + j]) * Double(parameters[ta.offset + j * k + i]) }
                    v[o * k + i] += Float(s * d)
                }
            }
            return (t.name, t.shape, v)
        }
    }
}

/// Every tensor of a GGUF file dequantized to fp32, in file order.
func fp32Tensors(of file: GGUFFile) throws -> [(name: String, shape: [Int], values: [Float])] {
    try file.tensors.map { ($0.name, $0.shape, try file.dequantize($0)) }
}

/// Logits of every position of `ids` in our engine, one row per position.
func engineLogits(_ model: Model, _ ids: [Int]) throws -> [[Float]] {
    let l = try model.forward([(model.newSequence(), ids, .all)])
    return (0..<l.rowCount).map { l.rowArray($0) }
}

/// Largest |a - b| over all rows.
func maxAbsDiff<A: BinaryFloatingPoint, B: BinaryFloatingPoint>(_ a: [[A]], _ b: [[B]]) -> Double {
    precondition(a.count == b.count, "row counts differ: \(a.count) vs \(b.count)")
    var m = 0.0
    for (ra, rb) in zip(a, b) {
        precondition(ra.count == rb.count)
        for (x, y) in zip(ra, rb) { m = max(m, abs(Double(x) - Double(y))) }
    }
    return m
}

/// Mean |a - b| over all entries.
func meanAbsDiff<A: BinaryFloatingPoint, B: BinaryFloatingPoint>(_ a: [[A]], _ b: [[B]]) -> Double {
    var s = 0.0, n = 0
    for (ra, rb) in zip(a, b) { for (x, y) in zip(ra, rb) { s += abs(Double(x) - Double(y)); n += 1 } }
    return s / Double(max(1, n))
}

/// A fresh path in the temporary directory.
func exportTempPath(_ stem: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("hyperlab-export-\(stem)-\(UUID().uuidString).gguf").path
}

/// llama.cpp (through llama-cpp-python, run by `export_llama_logits.py` beside this file).
enum LlamaCpp {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static var python: String { ProcessInfo.processInfo.environment["HYPERLAB_PYTHON"] ?? "python3" }
    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("export_llama_logits.py").path
    }

    /// Skips the calling test when llama_cpp cannot be imported.
    static func requireAvailable() throws {
        let (status, out) = try run(["-c", "import llama_cpp; print(llama_cpp.__version__)"])
        if status != 0 { throw XCTSkip("llama-cpp-python is not importable by \(python) (pip install llama-cpp-python): \(out.suffix(300))") }
    }

    /// One evaluation: `model` (plus an adapter at `scale`) over `ids`.
    struct Job {
        var model: String
        var lora: String? = nil
        var scale: Float = 1
        var ids: [Int]
        var vocab: Int
    }

    /// llama.cpp's logits at every position of each job's tokens (all jobs in one Python process).
    static func logits(_ jobs: [Job]) throws -> [[[Float]]] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("llama-logits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outs = jobs.indices.map { dir.appendingPathComponent("job\($0).f32").path }
        let spec: [[String: Any]] = zip(jobs, outs).map { job, out in
            ["model": job.model, "lora": job.lora ?? NSNull(), "scale": Double(job.scale), "tokens": job.ids, "out": out]
        }
        let specPath = dir.appendingPathComponent("jobs.json")
        try JSONSerialization.data(withJSONObject: spec).write(to: specPath)
        let (status, text) = try run([script, specPath.path])
        guard status == 0 else { throw Failure(description: "export_llama_logits.py failed (\(status)): \(text.suffix(2000))") }
        return try zip(jobs, outs).map { job, out in
            let data = try Data(contentsOf: URL(fileURLWithPath: out))
            let floats = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            guard floats.count == job.ids.count * job.vocab else {
                throw Failure(description: "export_llama_logits.py returned \(floats.count) floats for \(job.model), expected \(job.ids.count)×\(job.vocab)")
            }
            return (0..<job.ids.count).map { Array(floats[($0 * job.vocab)..<(($0 + 1) * job.vocab)]) }
        }
    }

    static func run(_ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
