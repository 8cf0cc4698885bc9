import Foundation
import GGUF
import Transformer
import Training

/// Writes the LoRA adapters of a model trained in LoRA mode as a GGUF adapter file in llama.cpp's form,
/// loadable by this engine (`Model(path:adapters:)`) and by llama.cpp (`--lora`, `lora_path`).
///
/// Metadata: `general.architecture` (the base file's, else the model's), `general.type = "adapter"`,
/// `adapter.type = "lora"`, `adapter.lora.alpha = alpha`, then `extraMetadata`.
///
/// Tensors: `<base>.lora_a` and `<base>.lora_b` for every adapted weight. The model's factors already
/// follow llama.cpp's layout for a weight of shape [k, n]: A is [k, r] (r rows of k) and B is [r, n]
/// (n rows of r), the update being (alpha / r)·B·A; they are written as they are. A token-embedding
/// adapter is stored flipped, as llama.cpp reads it (lora_a = B as [r, vocab], lora_b = Aᵀ as [r, dim]).
///
/// `alpha` must be the alpha the model was trained with (the model applies alpha/r; llama.cpp applies
/// `scale·alpha/r`, r read from lora_b). `type` encodes the factors (F32 by default; a Q8_0 request
/// falls back to F16 for factors whose rows are not a multiple of 32, e.g. B of rank 8).
/// Adapted weights are checked against `base` (or, without one, against `model.config`).
public func exportLoRAAdapter(model: TrainableModel, base: GGUFFile?, to path: String, alpha: Float,
                              type: ExportType = .f32, extraMetadata: [String: GGUFValue] = [:]) throws {
    guard alpha > 0, alpha.isFinite else {
        throw ExportError("LoRA alpha must be positive (got \(alpha)); llama.cpp reads alpha 0 as \"no alpha/r scaling\"")
    }
    var aOf: [String: ParameterTensor] = [:], bOf: [String: ParameterTensor] = [:]
    var order: [String] = []
    for t in model.tensors {
        if t.name.hasSuffix(".lora_a") {
            let target = String(t.name.dropLast(7))
            if aOf[target] == nil && bOf[target] == nil { order.append(target) }
            aOf[target] = t
        } else if t.name.hasSuffix(".lora_b") {
            let target = String(t.name.dropLast(7))
            if aOf[target] == nil && bOf[target] == nil { order.append(target) }
            bOf[target] = t
        } else {
            throw ExportError("trainable tensor '\(t.name)' is not a LoRA factor: a LoRA adapter file cannot hold it (export the merged model with exportGGUF instead)")
        }
    }
    guard !order.isEmpty else { throw ExportError("the model has no LoRA tensors (is it in LoRA mode?)") }
    if let base {
        let rank = Dictionary(uniqueKeysWithValues: base.tensors.enumerated().map { ($1.name, $0) })
        order.sort { (rank[$0] ?? Int.max, $0) < (rank[$1] ?? Int.max, $1) }
    }
    let arch = base?.architecture ?? model.config.architecture.rawValue
    var w = GGUFWriter()
    w.setMetadata("general.architecture", .string(arch))
    w.setMetadata("general.type", .string("adapter"))
    w.setMetadata("adapter.type", .string("lora"))
    w.setMetadata("adapter.lora.alpha", .float32(alpha))
    for target in order {
        guard let ta = aOf[target], let tb = bOf[target] else {
            throw ExportError("the LoRA pair of '\(target)' lacks its \(aOf[target] == nil ? "lora_a" : "lora_b") tensor")
        }
        let kn: [Int]
        if let base {
            guard let bt = base.tensor(named: target) else {
                throw ExportError("LoRA target '\(target)' is not a tensor of the base file")
            }
            kn = bt.shape
        } else {
            guard let s = linearShape(target, config: model.config) else {
                throw ExportError("LoRA target '\(target)' is not a linear weight of a \(model.config.architecture.rawValue) model")
            }
            kn = s
        }
        guard kn.count == 2, ta.shape.count == 2, tb.shape.count == 2 else {
            throw ExportError("LoRA target '\(target)': base \(kn), lora_a \(ta.shape), lora_b \(tb.shape) are not all 2-D")
        }
        let (k, n) = (kn[0], kn[1]), r = ta.shape[1]
        guard ta.shape == [k, r], tb.shape == [r, n], r > 0 else {
            throw ExportError("LoRA target '\(target)' of shape [\(k), \(n)]: lora_a \(ta.shape) and lora_b \(tb.shape) should be [\(k), r] and [r, \(n)]")
        }
        let a = Array(UnsafeBufferPointer(start: model.parameters + ta.offset, count: ta.count))
        let b = Array(UnsafeBufferPointer(start: model.parameters + tb.offset, count: tb.count))
        let outA: (shape: [Int], values: [Float]), outB: (shape: [Int], values: [Float])
        if target.hasSuffix("token_embd.weight") {
            // llama.cpp gathers rows of lora_a per token: lora_a = B ([r, vocab]), lora_b = Aᵀ ([r, dim]).
            var at = [Float](repeating: 0, count: a.count)
            for j in 0..<r { for d in 0..<k { at[d * r + j] = a[j * k + d] } }
            outA = ([r, n], b)
            outB = ([r, k], at)
        } else {
            outA = ([k, r], a)
            outB = ([r, n], b)
        }
        try w.addTensor(name: target + ".lora_a", shape: outA.shape, values: outA.values,
                        type: type.tensorType(name: target + ".lora_a", shape: outA.shape))
        try w.addTensor(name: target + ".lora_b", shape: outB.shape, values: outB.values,
                        type: type.tensorType(name: target + ".lora_b", shape: outB.shape))
    }
    for k in extraMetadata.keys.sorted() { w.setMetadata(k, extraMetadata[k]!) }
    try w.write(to: path)
}

/// The GGUF shape [k, n] of linear weight `name` in a model of `config`, or nil when it is not one.
public func linearShape(_ name: String, config c: ModelConfig) -> [Int]? {
    switch name {
    case "token_embd.weight", "output.weight": return [c.dim, c.vocabularySize]
    default: break
    }
    let parts = name.split(separator: ".")
    guard parts.count == 4, parts[0] == "blk", let l = Int(parts[1]), l >= 0, l < c.layerCount, parts[3] == "weight" else { return nil }
    switch parts[2] {
    case "attn_q": return [c.dim, c.qDim]
    case "attn_k": return [c.dim, c.kvDim]
    case "attn_v": return [c.dim, c.vDim]
    case "attn_output": return [c.headCount * c.valueHeadDim, c.dim]
    case "ffn_gate", "ffn_up": return [c.dim, c.ffnDim]
    case "ffn_down": return [c.ffnDim, c.dim]
    default: return nil
    }
}
