import Foundation
import XCTest
import Transformer

/// The engine against llama.cpp's and an fp32 engine's outputs on the same GGUF files.
final class ReferenceTests: XCTestCase {
    struct Prompt {
        let text: String
        let ids: [Int]
        let top5: [(Int, Double)]
        let meanNLL: Double
        let fp32Top5: [(Int, Double)]
        let fp32Argmax: [Int]
        let fp32MeanNLL: Double
        let fp32Greedy: [Int]
    }

    func prompts(_ key: String) throws -> [Prompt] {
        let refs = try Reference.json("engine_refs.json")
        let model = refs[key] as! [String: Any]
        return (model["prompts"] as! [[String: Any]]).map { p in
            let fp = p["fp32"] as! [String: Any]
            func pairs(_ a: Any?) -> [(Int, Double)] { (a as! [[Any]]).map { (($0[0] as! NSNumber).intValue, ($0[1] as! NSNumber).doubleValue) } }
            return Prompt(text: p["text"] as! String, ids: p["ids"] as! [Int], top5: pairs(p["top5"]),
                          meanNLL: (p["mean_nll"] as! NSNumber).doubleValue, fp32Top5: pairs(fp["top5"]),
                          fp32Argmax: fp["argmax_per_position"] as! [Int],
                          fp32MeanNLL: (fp["mean_nll"] as! NSNumber).doubleValue, fp32Greedy: fp["greedy20"] as! [Int])
        }
    }

    func checkModel(_ key: String) throws {
        let model = try Models.load(Models.aliasOfReference[key]!)
        var agree = 0, total = 0
        for p in try prompts(key) {
            // The reference ids come from llama.cpp's tokenizer with special tokens parsed.
            XCTAssertEqual(model.tokenizer.encode(p.text, parseSpecial: true), p.ids, "tokens of \(p.text.debugDescription)")
            let r = try model.teacherForced(p.ids)
            for (id, logit) in p.fp32Top5 {
                XCTAssertEqual(Double(r.lastLogits[id]), logit, accuracy: 0.02, "\(key) fp32 logit of \(id) after \(p.text.debugDescription)")
            }
            for (a, b) in zip(r.argmax, p.fp32Argmax) { total += 1; if a == b { agree += 1 } }
            let nll = -r.logProbs.reduce(0, +) / Double(r.logProbs.count)
            XCTAssertEqual(nll, p.fp32MeanNLL, accuracy: 0.005 * p.fp32MeanNLL, "\(key) mean NLL vs fp32")
            XCTAssertEqual(nll, p.meanNLL, accuracy: 0.02 * p.meanNLL, "\(key) mean NLL vs llama.cpp")
            // llama.cpp quantizes activations to 8 bits inside its matmuls, which moves its logits by up
            // to ~0.8 (reference README). Where its own top-2 margin is inside that noise and the fp32
            // engine ranks the pair the other way, the two references disagree on top-1; there we must
            // agree with fp32 and stay within llama.cpp's top 2. Everywhere else top-1 must equal llama.cpp's.
            let ours = r.lastLogits.withUnsafeBufferPointer { Sampler.argmax($0) }
            let llamaMargin = p.top5[0].1 - p.top5[1].1
            if llamaMargin < 0.5 && p.fp32Top5[0].0 != p.top5[0].0 {
                XCTAssertEqual(ours, p.fp32Top5[0].0, "\(key) top-1 vs fp32 where llama.cpp's margin is \(llamaMargin)")
                XCTAssertTrue([p.top5[0].0, p.top5[1].0].contains(ours), "\(key) top-1 within llama.cpp's top 2")
            } else {
                XCTAssertEqual(ours, p.top5[0].0, "\(key) top-1 vs llama.cpp")
            }
            // Greedy decoding through the cache reproduces the fp32 engine's continuation.
            let g = try model.generate(promptTokens: p.ids, options: GenerationOptions(maxTokens: 20, sampling: .greedy, stopAtEndOfGeneration: false))
            let n = min(g.tokens.count, p.fp32Greedy.count)
            XCTAssertEqual(Array(g.tokens.prefix(n)), Array(p.fp32Greedy.prefix(n)), "\(key) greedy continuation")
        }
        XCTAssertGreaterThanOrEqual(Double(agree) / Double(total), 0.99, "\(key) argmax agreement \(agree)/\(total)")
    }

    func testSmolLM2MatchesReferences() throws { try checkModel("smollm2") }
    func testGemma3MatchesReferences() throws { try checkModel("gemma3") }

    func testSmolLM2Prompt512NLL() throws {
        let ref = try Reference.json("smollm2_prompt512.json")
        let p = ref["prompt512"] as! [String: Any]
        let ids = p["ids"] as! [Int]
        let text = try String(contentsOf: Reference.directory.appendingPathComponent("prompt512.txt"), encoding: .utf8)
        let model = try Models.load("smollm2-135m-instruct")
        XCTAssertEqual(Array(model.tokenizer.encode(text).prefix(512)), ids)
        let r = try model.teacherForced(ids)
        let nll = -r.logProbs.reduce(0, +) / Double(r.logProbs.count)
        let fp32 = (p["mean_nll_fp32_dequant"] as! NSNumber).doubleValue
        let llama = (p["mean_nll_llamacpp_q4_1"] as! NSNumber).doubleValue
        XCTAssertEqual(nll, fp32, accuracy: 0.005 * fp32)
        XCTAssertEqual(nll, llama, accuracy: 0.02 * llama)
    }
}
