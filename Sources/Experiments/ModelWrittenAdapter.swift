import Backends
import ChatTemplate
import Corpora
import Foundation

/// Lets any `LanguageModel` (our engine, an OpenAI-compatible endpoint, Anthropic) write documents for the
/// corpora's model-written generator (`ModelWrittenCorpusBuilder`), which only knows `TextGenerator`.
///
/// Each brief is sent as one chat request: an optional system message, then the brief as the user's
/// message; one sample is drawn with the brief's seed, so a local model writes the same document again for
/// the same brief. The backend's errors are passed on unchanged (the builder records them as
/// `generation-failed`).
public struct LanguageModelTextGenerator: TextGenerator, Sendable {
    /// The backend that writes.
    public let model: any LanguageModel
    /// An optional system message sent before each brief.
    public var system: String?
    /// Nucleus-sampling mass (nil: the backend's default, off).
    public var topP: Double?
    /// Stop strings passed to the backend.
    public var stop: [String]

    /// Wraps a backend.
    public init(model: any LanguageModel, system: String? = nil, topP: Double? = nil, stop: [String] = []) {
        self.model = model
        self.system = system
        self.topP = topP
        self.stop = stop
    }

    /// The chat request sent for one brief.
    public func request(prompt: String, maxTokens: Int, temperature: Double, seed: UInt64) -> ChatRequest {
        var messages: [ChatMessage] = []
        if let s = system { messages.append(ChatMessage(role: "system", content: s)) }
        messages.append(ChatMessage(role: "user", content: prompt))
        return ChatRequest(messages: messages, maxTokens: maxTokens, temperature: temperature, topP: topP, seed: seed,
                           stop: stop, n: 1)
    }

    /// Sends the brief and returns the reply; throws the backend's `BackendError`, or a
    /// `.malformedResponse` one when the backend returned no text.
    public func generate(prompt: String, maxTokens: Int, temperature: Double, seed: UInt64) async throws -> String {
        let result = try await model.chat(request(prompt: prompt, maxTokens: maxTokens, temperature: temperature, seed: seed))
        guard let text = result.texts.first else {
            throw BackendError(.malformedResponse, "the backend returned no text for a one-sample request", backend: model.identifier)
        }
        return text
    }
}
