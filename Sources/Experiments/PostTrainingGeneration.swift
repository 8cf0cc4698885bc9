import Backends
import ChatTemplate
import Corpora
import Foundation

/// An error of one post-training generation (recorded as the conversation's failure reason).
public struct PostTrainingGenerationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong.
    public let message: String
    /// An error with the given explanation.
    public init(_ message: String) { self.message = message }
    /// The explanation.
    public var description: String { message }
}

/// Makes mock post-training data from a backend's replies: the untouched instruct model (a `local:` backend)
/// or a teacher behind an API, answering `PostTrainingPrompts.builtIn` (or any prompt set).
///
/// Every request carries a seed derived from the run's seed and the conversation so far, so a local model
/// gives the same data again for the same settings.
public struct PostTrainingGenerator: Sendable {
    /// The backend that answers.
    public let model: any LanguageModel
    /// The most tokens per reply.
    public var maxTokens: Int
    /// Sampling temperature (0 = greedy).
    public var temperature: Double
    /// Nucleus-sampling mass (nil: off).
    public var topP: Double?
    /// When true, a reply that stopped at `maxTokens` (finish reason "length") fails instead of being kept,
    /// so the fine-tune never learns to stop mid-sentence.
    public var rejectTruncated: Bool
    /// When true, a reply cut off at `maxTokens` is first trimmed back to its last complete sentence and
    /// kept if a reasonable reply remains (`trimmedToSentence`); only otherwise does `rejectTruncated` apply.
    /// Small models rarely finish inside a short budget, and rejecting every such reply wastes the compute.
    public var trimTruncated: Bool = false
    /// Base seed of the per-request seeds.
    public var seed: UInt64

    /// Defaults: 256 tokens, temperature 0.7, no top-p, truncated replies rejected.
    public init(model: any LanguageModel, maxTokens: Int = 256, temperature: Double = 0.7, topP: Double? = nil,
                rejectTruncated: Bool = true, seed: UInt64 = 1) {
        self.model = model
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.rejectTruncated = rejectTruncated
        self.seed = seed
    }

    /// The seed of the request answering `messages` (FNV-1a over the roles and texts, mixed with `seed`).
    public func requestSeed(_ messages: [ChatTurn]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for m in messages {
            for b in m.role.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            h = (h ^ 0x1F) &* 0x100_0000_01b3
            for b in m.content.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            h = (h ^ 0x1E) &* 0x100_0000_01b3
        }
        return h
    }

    /// The chat request answering `messages`.
    public func request(_ messages: [ChatTurn]) -> ChatRequest {
        ChatRequest(messages: messages.map { ChatMessage(role: $0.role, content: $0.content) }, maxTokens: maxTokens,
                    temperature: temperature, topP: topP, seed: requestSeed(messages), n: 1)
    }

    /// The responder for `PostTrainingData.make`: one chat request per turn. Throws the backend's error,
    /// or a `PostTrainingGenerationError` for a missing or (with `rejectTruncated`) cut-off reply.
    public var responder: PostTrainingData.Responder {
        let gen = self
        return { messages in
            let r = try await gen.model.chat(gen.request(messages))
            guard let text = r.texts.first else {
                throw PostTrainingGenerationError("\(gen.model.identifier) returned no text")
            }
            if gen.trimTruncated, r.finishReasons.first == "length", let trimmed = Self.trimmedToSentence(text) {
                return trimmed
            }
            if gen.rejectTruncated, r.finishReasons.first == "length" {
                throw PostTrainingGenerationError("reply cut off at maxTokens (\(gen.maxTokens)) by \(gen.model.identifier)")
            }
            return text
        }
    }

    /// `text` cut after its last sentence end (".", "!" or "?" followed by whitespace or a quote/bracket, or
    /// a paragraph break), or nil when fewer than 40 characters would remain.
    public static func trimmedToSentence(_ text: String) -> String? {
        let chars = Array(text)
        var cut: Int? = nil
        var i = chars.count - 1
        while i > 0 {
            let c = chars[i]
            if c == "\n", chars[i - 1] == "\n" { cut = i - 1; break }
            // "1. " opens a list item rather than ending a sentence.
            let listMarker = chars[i - 1] == "." && i >= 2 && chars[i - 2].isNumber
            if !listMarker, ".!?".contains(chars[i - 1]) && (c == " " || c == "\n" || c == "\"" || c == ")") {
                cut = (c == "\"" || c == ")") ? i + 1 : i
                break
            }
            i -= 1
        }
        guard let end = cut else { return nil }
        let kept = String(chars[..<end]).trimmingCharacters(in: .whitespacesAndNewlines)
        return kept.count >= 40 ? kept : nil
    }

    /// Builds `count` conversations (see `PostTrainingData.make`); failures are in the result.
    public func make(prompts: [PostTrainingPrompt] = PostTrainingPrompts.builtIn, count: Int,
                     leakage: LeakageGuard? = nil,
                     progress: ((PostTrainingProgress) -> Void)? = nil) async -> PostTrainingResult {
        await PostTrainingData.make(prompts: prompts, respond: responder, count: count, seed: seed, leakage: leakage,
                                    progress: progress)
    }
}
