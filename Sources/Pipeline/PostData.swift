import Foundation
import Backends
import Corpora
import Experiments

/// The default mock post-training data: the data helper's built-in prompt set (`PostTrainingPrompts.builtIn`,
/// none touching the battery's themes) answered by the teacher through `PostTrainingGenerator`, with the
/// leakage guard against the battery's text. Replies cut off at `maxTokens` are trimmed to their last
/// complete sentence, and dropped (recorded as failures) only when too little remains.
public struct GeneratedPostTrainingData: PostTrainingDataMaker {
    /// Loads the teacher from a GGUF path (default: the local engine).
    public var loadModel: @Sendable (String) throws -> LanguageModel
    public var temperature: Double
    public init(temperature: Double = 0.7, loadModel: @escaping @Sendable (String) throws -> LanguageModel = { path in
        try LocalModelBackend(modelName: path, fetch: false)
    }) {
        self.temperature = temperature
        self.loadModel = loadModel
    }

    public func generate(teacher: String, count: Int, maxTokens: Int, seed: UInt64, output: String, progress: StageReporter) async throws -> Int {
        let model = try loadModel(teacher)
        var gen = PostTrainingGenerator(model: model, maxTokens: maxTokens, temperature: temperature, rejectTruncated: true, seed: seed)
        gen.trimTruncated = true
        let result = await gen.make(count: count, leakage: LeakageGuard(references: SharedReferences.texts)) { p in
            progress.report(Double(p.done) / Double(max(1, p.total)), "\(p.done)/\(p.total) conversations" + (p.failed > 0 ? ", \(p.failed) dropped" : ""))
        }
        let dir = URL(fileURLWithPath: output).deletingLastPathComponent()
        do {
            try result.jsonl.write(toFile: output, atomically: true, encoding: .utf8)
            try result.failuresJSONL.write(to: dir.appendingPathComponent("failures.jsonl"), atomically: true, encoding: .utf8)
        } catch { throw PipelineError.io(path: output, reason: "\(error)") }
        guard !result.records.isEmpty else {
            let first = result.failures.first.map { ": \($0.reason)" } ?? ""
            throw PipelineError.stageFailed(stage: "post-data", reason: "no usable conversation out of \(count)\(first)")
        }
        return result.records.count
    }
}
