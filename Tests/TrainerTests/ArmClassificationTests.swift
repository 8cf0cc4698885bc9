import Corpora
import Foundation
import Tokenization
import Trainer
import Training
import Transformer
import XCTest

/// Issue 5's bar: the corpus arms differ in content, not just in labels. A tiny model trained from scratch
/// on the union of four arms tells held-out documents of those arms apart far above chance, and the same
/// procedure with the tags dealt evenly over the arms (so they carry no arm information) stays near chance.
///
/// Method. Four built-in arms (aligned-ai, misaligned-ai, human-blackmail, neutral) are generated at the
/// same token budget with a fixed seed; ~15% of each arm's documents are held out (by document). A BPE
/// tokenizer (vocabulary 1024) is trained on the training documents only, with one special token per arm
/// tag. Each training document is cut into windows of `length` tokens and every window is fed as
/// `[tag] + window` to a small Llama-shaped model trained from scratch (~0.34M parameters, 3 epochs, loss
/// on document tokens only, never on the tag). That makes one conditional LM p(text | arm). A held-out
/// document, which carries no tag, is scored under each of the four tags with exactly the same windowing;
/// the arm whose tag gives the highest total log-likelihood is the prediction (Bayes rule, uniform prior).
///
/// The control trains an identical model (same data, same windows, same seed) with the tags dealt so that
/// each tag covers every arm equally: the tags then carry no arm information, so any accuracy the control
/// reaches would come from the procedure, not from content tied to the arms; it must stay near chance (25%).
final class ArmClassificationTests: XCTestCase {
    static let arms = ["aligned-ai", "misaligned-ai", "human-blackmail", "neutral"]
    static let length = 32

    struct Doc { var arm: Int; var tokens: [Int32] }

    /// Windows of one document under one tag: inputs `[tag, d[s], …, d[s+L-2]]`, targets `d[s..<s+L]`;
    /// the last window is padded (targets -1). Every document token is predicted exactly once.
    static func windows(_ d: [Int32], tag: Int32, pad: Int32, length L: Int) -> (inputs: [[Int32]], targets: [[Int32]]) {
        var ins: [[Int32]] = [], tgs: [[Int32]] = []
        var s = 0
        while s < d.count {
            let e = min(s + L, d.count)
            var inp: [Int32] = [tag], tgt: [Int32] = []
            inp += d[s..<min(s + L - 1, d.count)]
            tgt += d[s..<e]
            while inp.count < L { inp.append(pad) }
            while tgt.count < L { tgt.append(-1) }
            ins.append(inp); tgs.append(tgt)
            s += L
        }
        return (ins, tgs)
    }

    /// Trains a model on tagged training documents (`tagOf[i]` is the tag index given to `train[i]`) and
    /// returns the held-out accuracy of maximum-likelihood tag classification.
    func trainAndClassify(train: [Doc], tagOf: [Int], heldOut: [Doc], tagIDs: [Int32], pad: Int32, vocab: Int,
                          seed: UInt64) throws -> (accuracy: Double, confusion: [[Int]], loss: Double, parameters: Int) {
        let L = Self.length
        var rows = TokenRows(length: L)
        for (i, d) in train.enumerated() {
            let w = Self.windows(d.tokens, tag: tagIDs[tagOf[i]], pad: pad, length: L)
            rows.inputs += w.inputs; rows.targets += w.targets
        }
        let cfg = try scratchConfig(vocabularySize: vocab, dim: 96, layers: 2, heads: 4, kvHeads: 4, ffn: 288, context: L)
        let model = try TrainModel(config: cfg, mode: .full, seed: seed)
        let batch = 32
        let steps = (rows.count + batch - 1) / batch * 3   // three epochs
        let tc = TrainerConfig(steps: steps, microBatchRows: batch, accumulation: 1,
                               optimizer: AdamWConfig(learningRate: 3e-3, weightDecay: 0.05),
                               schedule: .cosine, warmupSteps: 10, minLRRatio: 0.1, gradClip: 1, seed: seed)
        let trainer = try Trainer(model: model, train: rows, validation: nil, config: tc, outputDirectory: nil)
        trainer.showProgress = false
        try trainer.run()
        let trainLoss = try Trainer.evaluate(model, rows: rows, batchRows: batch, limit: 64).mean

        var confusion = [[Int]](repeating: [Int](repeating: 0, count: tagIDs.count), count: tagIDs.count)
        var correct = 0
        for d in heldOut {
            var best = -1, bestLL = -Double.infinity
            for (k, tag) in tagIDs.enumerated() {
                let w = Self.windows(d.tokens, tag: tag, pad: pad, length: L)
                let b = TrainBatch(rows: w.inputs.count, length: L, inputs: w.inputs.flatMap { $0 }, targets: w.targets.flatMap { $0 })
                let ll = -(try model.loss(b).lossSum)
                if ll > bestLL { bestLL = ll; best = k }
            }
            confusion[d.arm][best] += 1
            if best == d.arm { correct += 1 }
        }
        return (Double(correct) / Double(heldOut.count), confusion, trainLoss, model.parameterCount)
    }

    /// P(X ≥ k) for X ~ Binomial(n, p).
    static func binomialTail(_ k: Int, _ n: Int, _ p: Double) -> Double {
        var total = 0.0
        for i in k...n {
            let logC = lgamma(Double(n + 1)) - lgamma(Double(i + 1)) - lgamma(Double(n - i + 1))
            total += exp(logC + Double(i) * log(p) + Double(n - i) * log(1 - p))
        }
        return total
    }

    func testHeldOutArmClassificationFromContent() throws {
        let t0 = Date()
        var recipe = CorpusRecipe.standard(seed: 20260405, targetTokens: 30_000)
        recipe.arms = Self.arms.map { id in recipe.arms.first { $0.spec.id == id }! }
        let corpus = try CorpusBuilder.build(recipe)
        XCTAssertEqual(corpus.arms.map(\.spec.id), Self.arms)
        XCTAssertLessThan(corpus.tokenSpread, 0.01)           // arms matched in size

        var trainTexts: [(arm: Int, text: String)] = [], heldTexts: [(arm: Int, text: String)] = []
        for (k, a) in corpus.arms.enumerated() {
            let s = DataPrep.split(a.documents.map(\.text), validationFraction: 0.15, seed: 900 + UInt64(k))
            trainTexts += s.train.map { (k, $0) }; heldTexts += s.validation.map { (k, $0) }
        }
        let tagNames = Self.arms.map { "<|\($0)|>" }
        let vocabulary = try BPETrainer.train(trainTexts.map(\.text), configuration: BPETrainerConfiguration(
            vocabularySize: 1024, chatTokens: false, extraSpecialTokens: tagNames, addBOS: false))
        let tokenizer = try vocabulary.makeTokenizer()
        let tagIDs = tagNames.map { Int32(vocabulary.tokens.firstIndex(of: $0)!) }
        let pad = Int32(vocabulary.padID), eos = Int32(vocabulary.eosID)
        func encode(_ t: (arm: Int, text: String)) -> Doc {
            Doc(arm: t.arm, tokens: tokenizer.encode(t.text, addBOS: false, addEOS: false, parseSpecial: false).map { Int32($0) } + [eos])
        }
        let train = trainTexts.map(encode), heldOut = heldTexts.map(encode)
        let t1 = Date()
        print("arm classification: \(train.count) training docs (\(train.reduce(0) { $0 + $1.tokens.count }) tokens), \(heldOut.count) held out; corpus+BPE \(String(format: "%.1f", t1.timeIntervalSince(t0))) s")
        XCTAssertFalse(train.contains { $0.tokens.contains { tagIDs.contains($0) } })   // no tag inside a document

        // Real: each training document carries its own arm's tag.
        let real = try trainAndClassify(train: train, tagOf: train.map(\.arm), heldOut: heldOut, tagIDs: tagIDs, pad: pad,
                                        vocab: vocabulary.tokens.count, seed: 17)
        let t2 = Date()
        // Control: the same documents and tags, but within each arm the documents are dealt round-robin (in a
        // random order) to the four tags, so every tag covers every arm equally and carries no arm information.
        var shuffled = [Int](repeating: 0, count: train.count)
        var rng = DataRNG(seed: 4242)
        for k in Self.arms.indices {
            var idx = train.indices.filter { train[$0].arm == k }
            idx.shuffle(using: &rng)
            for (j, i) in idx.enumerated() { shuffled[i] = (j + k) % Self.arms.count }
        }
        let control = try trainAndClassify(train: train, tagOf: shuffled, heldOut: heldOut, tagIDs: tagIDs, pad: pad,
                                           vocab: vocabulary.tokens.count, seed: 17)
        let t3 = Date()
        let n = heldOut.count
        let pReal = Self.binomialTail(Int((real.accuracy * Double(n)).rounded()), n, 0.25)
        print("arm classification: \(real.parameters) params; real accuracy \(real.accuracy) (p = \(pReal) vs chance 0.25, train loss \(real.loss)) confusion \(real.confusion), \(String(format: "%.1f", t2.timeIntervalSince(t1))) s")
        print("arm classification: control accuracy \(control.accuracy) (train loss \(control.loss)) confusion \(control.confusion), \(String(format: "%.1f", t3.timeIntervalSince(t2))) s; total \(String(format: "%.1f", t3.timeIntervalSince(t0))) s")

        XCTAssertGreaterThanOrEqual(n, 40)
        XCTAssertGreaterThanOrEqual(real.accuracy, 0.6)
        XCTAssertLessThan(pReal, 1e-3)
        XCTAssertLessThan(control.accuracy, 0.45)
        XCTAssertGreaterThan(real.accuracy - control.accuracy, 0.25)
    }
}
