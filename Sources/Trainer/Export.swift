import Foundation
import GGUF
import Transformer
import Training

/// How an exported model stores its weight matrices.
///
/// One-dimensional tensors (norms, biases) are always written as F32, as llama.cpp expects. Q8_0 needs
/// rows whose length is a multiple of 32; a matrix whose rows are not falls back to F16 (as llama.cpp's
/// converter does).
public enum ExportType: String, Sendable, CaseIterable, Codable {
    case f32, f16, q8_0

    /// The tensor type used for matrices.
    public var ggmlType: GGMLType {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .q8_0: return .q8_0
        }
    }

    /// llama.cpp's `general.file_type` code (LLAMA_FTYPE_ALL_F32, MOSTLY_F16, MOSTLY_Q8_0).
    public var fileType: UInt32 {
        switch self {
        case .f32: return 0
        case .f16: return 1
        case .q8_0: return 7
        }
    }

    /// The type a tensor of this name and GGUF shape is written in: F32 for 1-D tensors and norms,
    /// F16 for a Q8_0 request whose row length is not a multiple of 32, else `ggmlType`.
    public func tensorType(name: String, shape: [Int]) -> GGMLType {
        if shape.count <= 1 || name.hasSuffix("_norm.weight") || name.hasSuffix(".bias") { return .f32 }
        if self == .q8_0 && shape[0] % GGMLType.q8_0.blockSize != 0 { return .f16 }
        return ggmlType
    }
}

/// Why an export failed.
public struct ExportError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, naming the tensor or key concerned.
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "export: \(message)" }
}

/// Writes a trainable model's full network (LoRA merged in) as a GGUF model file that both this
/// engine (`Model(path:)`) and llama.cpp load.
///
/// - With `base` (the file the model was loaded from), every metadata key of the base is copied
///   (architecture, hyperparameters, tokenizer, chat template) and the tensors keep the base's order.
///   A base tensor the model does not produce (e.g. `rope_freqs.weight`) is copied unchanged; a tensor
///   the model produces beyond the base's (e.g. an untied `output.weight`) is appended.
/// - Without `base` (a model trained from scratch), the architecture metadata is written from
///   `model.config` (the keys `ModelConfig` reads back), and the tokenizer must come in
///   `extraMetadata` (`tokenizer.ggml.model`, `tokenizer.ggml.tokens`, …).
///
/// `general.file_type` is set from `type`; `extraMetadata` is applied last and overrides any key.
/// The file is written atomically (a temporary file renamed over `path`).
public func exportGGUF(model: TrainableModel, base: GGUFFile?, to path: String, type: ExportType,
                       extraMetadata: [String: GGUFValue] = [:]) throws {
    let merged = model.mergedTensors()
    var byName: [String: Int] = [:]
    for (i, t) in merged.enumerated() {
        guard byName.updateValue(i, forKey: t.name) == nil else { throw ExportError("the model lists tensor '\(t.name)' twice") }
        guard t.shape.reduce(1, *) == t.values.count else {
            throw ExportError("tensor '\(t.name)' has \(t.values.count) values for shape \(t.shape)")
        }
    }
    var w = GGUFWriter()
    func add(_ t: (name: String, shape: [Int], values: [Float])) throws {
        try w.addTensor(name: t.name, shape: t.shape, values: t.values, type: type.tensorType(name: t.name, shape: t.shape))
    }
    if let base {
        w.copyMetadata(from: base)
        if let arch = base.architecture, arch != model.config.architecture.rawValue,
           !(arch == "mistral" && model.config.architecture == .llama) {
            throw ExportError("the base file's architecture \"\(arch)\" is not the model's \"\(model.config.architecture.rawValue)\"")
        }
        setFileType(&w, type)
        var written = Set<String>()
        for bt in base.tensors {
            if let i = byName[bt.name] {
                let t = merged[i]
                guard t.shape == bt.shape else {
                    throw ExportError("tensor '\(t.name)' has shape \(t.shape) in the model but \(bt.shape) in the base file")
                }
                try add(t)
            } else {
                try w.addTensor(bt, from: base)
            }
            written.insert(bt.name)
        }
        for t in merged where !written.contains(t.name) { try add(t) }
    } else {
        let tokenizerKeys = extraMetadata.keys.filter { $0.hasPrefix("tokenizer.") }
        guard extraMetadata["tokenizer.ggml.model"] != nil, extraMetadata["tokenizer.ggml.tokens"] != nil else {
            throw ExportError("a model exported without a base file needs its tokenizer in extraMetadata (tokenizer.ggml.model and tokenizer.ggml.tokens are missing\(tokenizerKeys.isEmpty ? "" : "; given: \(tokenizerKeys.sorted())"))")
        }
        if let tokens = extraMetadata["tokenizer.ggml.tokens"]?.array, tokens.count != model.config.vocabularySize {
            throw ExportError("the tokenizer has \(tokens.count) tokens but the model's vocabulary size is \(model.config.vocabularySize)")
        }
        for (k, v) in architectureMetadata(model.config) { w.setMetadata(k, v) }
        setFileType(&w, type)
        for t in merged { try add(t) }
    }
    for k in extraMetadata.keys.sorted() { w.setMetadata(k, extraMetadata[k]!) }
    try w.write(to: path)
}

/// Sets `general.file_type` (and the quantization version llama.cpp's converter writes).
private func setFileType(_ w: inout GGUFWriter, _ type: ExportType) {
    w.setMetadata("general.file_type", .uint32(type.fileType))
    if type == .q8_0 || w.metadata("general.quantization_version") != nil {
        w.setMetadata("general.quantization_version", .uint32(2))
    }
}

/// The GGUF metadata describing `config`'s architecture, in the keys `ModelConfig(gguf:)` and llama.cpp
/// read (`general.architecture`, `<arch>.embedding_length`, `<arch>.block_count`, …).
public func architectureMetadata(_ config: ModelConfig) -> [(key: String, value: GGUFValue)] {
    let a = config.architecture.rawValue
    var m: [(key: String, value: GGUFValue)] = [
        ("general.architecture", .string(a)),
        ("general.type", .string("model")),
        ("\(a).vocab_size", .uint32(UInt32(config.vocabularySize))),
        ("\(a).context_length", .uint32(UInt32(config.contextLength))),
        ("\(a).embedding_length", .uint32(UInt32(config.dim))),
        ("\(a).block_count", .uint32(UInt32(config.layerCount))),
        ("\(a).feed_forward_length", .uint32(UInt32(config.ffnDim))),
        ("\(a).attention.head_count", .uint32(UInt32(config.headCount))),
        ("\(a).attention.head_count_kv", .uint32(UInt32(config.kvHeadCount))),
        ("\(a).attention.layer_norm_rms_epsilon", .float32(config.normEpsilon)),
        ("\(a).rope.freq_base", .float32(config.ropeBase)),
        ("\(a).rope.dimension_count", .uint32(UInt32(config.ropeDims))),
    ]
    if config.headDim != config.dim / config.headCount || config.valueHeadDim != config.headDim {
        m.append(("\(a).attention.key_length", .uint32(UInt32(config.headDim))))
        m.append(("\(a).attention.value_length", .uint32(UInt32(config.valueHeadDim))))
    }
    if config.ropeScale != 1 {
        m.append(("\(a).rope.scaling.type", .string("linear")))
        m.append(("\(a).rope.scaling.factor", .float32(1 / config.ropeScale)))
    }
    if config.architecture == .gemma3 {
        if let window = config.slidingWindow { m.append(("\(a).attention.sliding_window", .uint32(UInt32(window)))) }
        // The period of global layers: the first global layer's index + 1 (every layer global: 1; none: more than the layer count).
        let pattern = (config.slidingLayers.firstIndex(of: false) ?? config.layerCount) + 1
        m.append(("\(a).attention.sliding_window_pattern", .uint32(UInt32(pattern))))
        m.append(("\(a).rope.freq_base_swa", .float32(config.ropeBaseLocal)))
    }
    return m
}
