import Foundation
import ChatTemplate
import Transformer

/// Our own engine behind the `LanguageModel` protocol.
///
/// Engine calls are synchronous and CPU-bound, so they run one at a time on a dedicated serial queue
/// (never on the cooperative thread pool); async callers wait on a continuation. A request cancelled
/// before its turn comes is not run.
///
/// - chat: the conversation is rendered with the model's chat template (or `ChatTemplate.plain`) and the
///   generation prompt, tokenized with special tokens parsed, and `n` streams are sampled from one
///   prompt pass (`Model.generateMany`). Stream `i` uses the request's seed and its own RNG stream, so
///   a seeded request is reproducible. Without a seed a random one is drawn.
/// - score: the prompt is computed once and every continuation (tokenized on its own, no BOS, special
///   tokens not parsed) is scored by forking its cache (`Model.score`).
public final class LocalModelBackend: LanguageModel, @unchecked Sendable {
    /// The engine.
    public let model: Model
    /// `local:<name>`.
    public let identifier: String
    private let queue: DispatchQueue

    /// Wraps a loaded model; `name` becomes the identifier `local:<name>`.
    public init(model: Model, name: String) {
        self.model = model
        self.identifier = "local:\(name)"
        self.queue = DispatchQueue(label: "hyperlab.backends.local.\(name)", qos: .userInitiated)
    }

    /// Loads a model by alias (fetched into the cache if needed) or GGUF path.
    public convenience init(modelName: String, contextLimit: Int? = nil, fetch: Bool = true) throws {
        let path: String
        do { path = try ModelStore.resolve(modelName, fetch: fetch) } catch {
            throw BackendError(.configuration, "\(error)", backend: "local:\(modelName)")
        }
        let model: Model
        do { model = try Model(path: path, contextLimit: contextLimit) } catch {
            throw BackendError(.configuration, "loading \(path): \(error)", backend: "local:\(modelName)")
        }
        self.init(model: model, name: modelName)
    }

    /// `.chat` and `.score`.
    public var capabilities: BackendCapabilities { [.chat, .score] }

    /// Runs `body` on the engine queue; `.cancelled` if the task is cancelled before it starts.
    private func onEngine<T>(_ body: @escaping () throws -> T) async throws -> T {
        let flag = CancelFlag()
        let id = identifier
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
                queue.async {
                    if flag.isSet {
                        c.resume(throwing: BackendError(.cancelled, "cancelled before the engine ran the request", backend: id))
                        return
                    }
                    c.resume(with: Result { try body() })
                }
            }
        } onCancel: {
            flag.set()
        }
    }

    private func wrap(_ error: Error, attempts: Int = 1) -> BackendError {
        if var e = error as? BackendError { e.backend = identifier; return e }
        if let m = error as? ModelError {
            switch m {
            case .contextOverflow, .invalidArgument: return BackendError(.invalidRequest, m.description, attempts: attempts, backend: identifier)
            default: return BackendError(.engine, m.description, attempts: attempts, backend: identifier)
            }
        }
        if error is TemplateError {
            return BackendError(.invalidRequest, "rendering the chat template failed: \(error)", attempts: attempts, backend: identifier)
        }
        return BackendError(.engine, "\(error)", attempts: attempts, backend: identifier)
    }

    /// The prompt tokens of a conversation: rendered with the generation prompt, special tokens parsed,
    /// BOS added per the model's default (once, even if the template writes it too).
    public func promptTokens(_ messages: [ChatMessage]) throws -> [Int] {
        let text = try model.renderChat(messages, addGenerationPrompt: true)
        var ids = model.tokenizer.encode(text, parseSpecial: true)
        if ids.count >= 2, let bos = model.tokenizer.bosID, ids[0] == bos, ids[1] == bos { ids.removeFirst() }
        return ids
    }

    /// The tokens of a continuation as scored: no BOS/EOS, special tokens not parsed.
    public func continuationTokens(_ text: String) -> [Int] {
        model.tokenizer.encode(text, addBOS: false, addEOS: false, parseSpecial: false)
    }

    /// Samples `r.n` streams from one prompt pass (`topP` nil = off; no top-k or min-p).
    public func chat(_ r: ChatRequest) async throws -> ChatResult {
        try r.validate(backend: identifier)
        let seed = r.seed ?? UInt64.random(in: 0...UInt64.max)
        let options = GenerationOptions(
            maxTokens: r.maxTokens,
            sampling: SamplingParameters(temperature: r.temperature, topK: 0, topP: r.topP ?? 1, minP: 0, seed: seed),
            stop: r.stop, stopAtEndOfGeneration: true)
        do {
            return try await onEngine { [model] in
                let prompt = try self.promptTokens(r.messages)
                let results = try model.generateMany(promptTokens: prompt, count: r.n, options: options)
                return ChatResult(texts: results.map(\.text), finishReasons: results.map(\.finishReason.rawValue),
                                  usage: Usage(promptTokens: prompt.count, completionTokens: results.reduce(0) { $0 + $1.tokens.count }))
            }
        } catch {
            throw wrap(error)
        }
    }

    /// Scores every continuation after one shared prompt pass.
    public func score(_ r: ScoreRequest) async throws -> ScoreResult {
        do {
            return try await onEngine { [model] in
                let prompt = try self.promptTokens(r.messages)
                let conts = r.continuations.map { self.continuationTokens($0) }
                let scores = try model.score(promptTokens: prompt, continuations: conts)
                return ScoreResult(logProbs: scores.map(\.logProbs))
            }
        } catch {
            throw wrap(error)
        }
    }
}

extension PromptRenderer {
    /// Renders with a local model's own chat template (or the plain format if it has none), e.g. to score
    /// through a server that runs the same model.
    public static func model(_ m: Model) -> PromptRenderer {
        PromptRenderer(name: "model") { try m.renderChat($0, addGenerationPrompt: true) }
    }
}

private final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
