import Foundation
import Hummingbird
import Logging
import Transformer
import ChatTemplate

/// The OpenAI endpoints: request validation, tokenization, and turning engine events into responses.
struct OpenAIRoutes: Sendable {
    let server: HyperlabServer
    var config: ServerConfiguration { server.configuration }

    func listModels() throws -> Response {
        let now = Int(Date().timeIntervalSince1970)
        return try json(ModelListOut(data: server.models.map { .init(id: $0.name, created: now) }))
    }

    // MARK: body

    func readBody(_ request: Request) async throws -> Data {
        let limit = config.maxBodyBytes
        if let len = request.headers[.contentLength].flatMap({ Int($0) }), len > limit {
            throw APIError(status: 413, "The request body (\(len) bytes) exceeds the limit of \(limit) bytes.")
        }
        let timeout = config.bodyTimeout
        let buffer: ByteBuffer = try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask { try await request.body.collect(upTo: limit) }
            group.addTask { try await Task.sleep(for: timeout); return nil }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let b = first else {
                throw APIError(status: 408, "The request body did not arrive within \(timeout).", code: "request_timeout")
            }
            return b
        }
        return Data(buffer.readableBytesView)
    }

    func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        guard !data.isEmpty else { throw APIError.invalid("The request body is empty; send a JSON object.") }
        do { return try JSONDecoder().decode(T.self, from: data) } catch let e as DecodingError {
            throw APIError.invalid("Invalid JSON body: \(describe(e))")
        }
    }

    func json<T: Encodable>(_ value: T) throws -> Response {
        let enc = JSONEncoder()
        enc.outputFormatting = [.withoutEscapingSlashes]
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try enc.encode(value))))
    }

    // MARK: shared validation

    struct Common {
        var sampling: SamplingParameters
        var n: Int
        var stop: [String]
    }

    func common(temperature: Double?, topP: Double?, n: Int?, stop: StopField?, seed: Int64?,
                presence: Double?, frequency: Double?, logitBias: AnyJSON?) throws -> Common {
        let t = temperature ?? 1
        guard t >= 0 && t <= 2 else { throw APIError.invalid("'temperature' must be between 0 and 2, got \(t).", param: "temperature") }
        let p = topP ?? 1
        guard p > 0 && p <= 1 else { throw APIError.invalid("'top_p' must be in (0, 1], got \(p).", param: "top_p") }
        let n = n ?? 1
        guard n >= 1 && n <= config.maxChoices else {
            throw APIError.invalid("'n' must be between 1 and \(config.maxChoices), got \(n).", param: "n")
        }
        let stops = stop?.values ?? []
        guard stops.count <= 4 else { throw APIError.invalid("'stop' holds at most 4 sequences.", param: "stop") }
        for (v, name) in [(presence, "presence_penalty"), (frequency, "frequency_penalty")] where (v ?? 0) != 0 {
            throw APIError.invalid("'\(name)' is not supported by this server (only 0).", param: name)
        }
        if let lb = logitBias, !lb.isNull, !lb.isEmptyCollection {
            throw APIError.invalid("'logit_bias' is not supported by this server.", param: "logit_bias")
        }
        let s = seed.map { UInt64(bitPattern: $0) } ?? UInt64.random(in: 0...UInt64.max)
        return Common(sampling: SamplingParameters(temperature: t, topK: 0, topP: p, minP: 0, seed: s), n: n, stop: stops)
    }

    func checkLengths(prompts: [[Int]], maxTokens: Int, model: Model, explicit: Bool) throws {
        let promptLimit = min(config.maxPromptTokens ?? (model.contextLimit - 1), model.contextLimit - 1)
        for p in prompts {
            if p.isEmpty { throw APIError.invalid("The prompt has no tokens.", param: "prompt") }
            if p.count > promptLimit {
                throw APIError.invalid("The prompt has \(p.count) tokens; this server accepts at most \(promptLimit).",
                                       param: "messages", code: "context_length_exceeded")
            }
            if explicit && p.count + maxTokens > model.contextLimit {
                throw APIError.invalid("This model's maximum context length is \(model.contextLimit) tokens; the prompt has "
                                       + "\(p.count) and max_tokens asks for \(maxTokens).", param: "max_tokens",
                                       code: "context_length_exceeded")
            }
        }
    }

    func maxTokens(_ requested: Int?, param: String, default def: Int) throws -> Int {
        guard let m = requested else { return def }
        guard m >= 1 else { throw APIError.invalid("'\(param)' must be at least 1, got \(m).", param: param) }
        guard m <= config.maxGenerationTokens else {
            throw APIError.invalid("'\(param)' is too large: \(m). This server generates at most \(config.maxGenerationTokens) "
                                   + "tokens per choice.", param: param)
        }
        return m
    }

    func submit(_ engine: InferenceEngine, _ job: GenerationJob) throws -> (id: Int, events: AsyncStream<EngineEvent>) {
        do { return try engine.submit(job) } catch let e as EngineError { throw apiError(from: e) }
    }

    static func newID(_ prefix: String) -> String {
        prefix + String((0..<24).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
    }

    static func tokenString(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    // MARK: chat

    func chat(_ request: Request, context: some RequestContext) async throws -> Response {
        let start = ContinuousClock.now
        let body = try decode(ChatRequestBody.self, try await readBody(request))
        let served = try server.served(body.model)
        let model = served.engine.model
        guard !body.messages.isEmpty else { throw APIError.invalid("'messages' must not be empty.", param: "messages") }
        if let t = body.tools, !t.isNull, !t.isEmptyCollection {
            throw APIError.invalid("'tools' are not supported by this server.", param: "tools")
        }
        if let f = body.functions, !f.isNull, !f.isEmptyCollection {
            throw APIError.invalid("'functions' are not supported by this server.", param: "functions")
        }
        if let rf = body.response_format, !rf.isNull, let t = rf.typeField, t != "text" {
            throw APIError.invalid("'response_format' of type '\(t)' is not supported (only 'text').", param: "response_format")
        }
        if let a = body.audio, !a.isNull { throw APIError.invalid("'audio' output is not supported.", param: "audio") }
        var messages: [ChatMessage] = []
        for (i, m) in body.messages.enumerated() {
            let role: String
            switch m.role {
            case "system", "developer": role = "system"
            case "user", "assistant": role = m.role
            default: throw APIError.invalid("messages[\(i)].role '\(m.role)' is not supported (system, developer, user, assistant).",
                                            param: "messages[\(i)].role")
            }
            messages.append(ChatMessage(role: role, content: m.content?.text ?? ""))
        }
        let c = try common(temperature: body.temperature, topP: body.top_p, n: body.n, stop: body.stop, seed: body.seed,
                           presence: body.presence_penalty, frequency: body.frequency_penalty, logitBias: body.logit_bias)
        let topLP = body.top_logprobs ?? 0
        guard topLP >= 0 && topLP <= 20 else { throw APIError.invalid("'top_logprobs' must be between 0 and 20.", param: "top_logprobs") }
        if body.top_logprobs != nil && body.logprobs != true {
            throw APIError.invalid("'top_logprobs' requires 'logprobs' to be true.", param: "top_logprobs")
        }
        let stream = body.stream ?? false
        if body.stream_options != nil && !stream {
            throw APIError.invalid("'stream_options' is only allowed when 'stream' is true.", param: "stream_options")
        }
        let rendered: String
        do { rendered = try model.renderChat(messages) } catch {
            throw APIError.invalid("The messages could not be rendered with the model's chat template: \(error)", param: "messages")
        }
        let prompt = model.tokenizer.encode(rendered, parseSpecial: true)
        let explicit = body.max_completion_tokens ?? body.max_tokens
        let param = body.max_completion_tokens != nil ? "max_completion_tokens" : "max_tokens"
        let room = max(1, model.contextLimit - prompt.count)
        let maxTok = try maxTokens(explicit, param: param, default: min(config.maxGenerationTokens, room))
        try checkLengths(prompts: [prompt], maxTokens: maxTok, model: model, explicit: explicit != nil)
        if config.logPrompts { context.logger.info("prompt", metadata: ["text": "\(rendered)"]) }
        let job = GenerationJob(prompts: [prompt], n: c.n, maxTokens: maxTok, sampling: c.sampling, stop: c.stop,
                                logprobs: body.logprobs ?? false, topLogprobs: topLP)
        let (id, events) = try submit(served.engine, job)
        let meta = Meta(id: Self.newID("chatcmpl-"), created: Int(Date().timeIntervalSince1970), model: served.name)
        let metrics = server.metrics
        if stream {
            let includeUsage = body.stream_options?.include_usage ?? false
            return sse(engine: served.engine, jobID: id) { writer in
                var first = true
                // The role comes first, in a chunk of its own per choice.
                for i in 0..<job.choiceCount {
                    try await writer(ChatChunkOut(id: meta.id, created: meta.created, model: meta.model,
                                                choices: [.init(index: i, delta: .init(role: "assistant", content: ""))],
                                                system_fingerprint: "hyperlab"))
                }
                for await ev in events {
                    switch ev {
                    case .prompt: break
                    case .token(let i, let text, let lp):
                        if first { first = false; metrics.timeToFirstToken(endpoint: "chat", ContinuousClock.now - start) }
                        if text.isEmpty && lp == nil { continue }
                        try await writer(ChatChunkOut(id: meta.id, created: meta.created, model: meta.model,
                                                    choices: [.init(index: i, delta: .init(role: nil, content: text),
                                                                    logprobs: lp.map { ChatLogprobsOut(content: [Self.chatEntry($0)]) })],
                                                    system_fingerprint: "hyperlab"))
                    case .finished(let i, let reason, let text):
                        try await writer(ChatChunkOut(id: meta.id, created: meta.created, model: meta.model,
                                                    choices: [.init(index: i, delta: .init(role: nil, content: text.isEmpty ? nil : text),
                                                                    finish_reason: reason.rawValue)],
                                                    system_fingerprint: "hyperlab"))
                    case .done(let p, let cTok):
                        metrics.completed(tokens: cTok)
                        metrics.requestDuration(endpoint: "chat", ContinuousClock.now - start)
                        context.logger.info("chat done", metadata: ["prompt_tokens": "\(p)", "completion_tokens": "\(cTok)"])
                        if includeUsage {
                            try await writer(ChatChunkOut(id: meta.id, created: meta.created, model: meta.model, choices: [],
                                                        usage: UsageOut(prompt: p, completion: cTok), system_fingerprint: "hyperlab"))
                        }
                    case .failed(let e):
                        throw e
                    }
                }
            }
        }
        var texts = [String](repeating: "", count: job.choiceCount)
        var lps = [[ChatLogprobsOut.Entry]](repeating: [], count: job.choiceCount)
        var reasons = [String](repeating: "length", count: job.choiceCount)
        var usage = UsageOut(prompt: 0, completion: 0)
        try await collect(events, engine: served.engine, jobID: id) { ev in
            switch ev {
            case .prompt: break
            case .token(let i, let text, let lp):
                texts[i] += text
                if let lp { lps[i].append(Self.chatEntry(lp)) }
            case .finished(let i, let reason, let text): texts[i] += text; reasons[i] = reason.rawValue
            case .done(let p, let cTok): usage = UsageOut(prompt: p, completion: cTok)
            case .failed(let e): throw apiError(from: e)
            }
        }
        metrics.completed(tokens: usage.completion_tokens)
        metrics.requestDuration(endpoint: "chat", ContinuousClock.now - start)
        context.logger.info("chat done", metadata: ["prompt_tokens": "\(usage.prompt_tokens)",
                                                    "completion_tokens": "\(usage.completion_tokens)"])
        let wantLP = job.logprobs
        return try json(ChatResponseOut(
            id: meta.id, created: meta.created, model: meta.model,
            choices: (0..<job.choiceCount).map { i in
                ChatChoiceOut(index: i, message: .init(role: "assistant", content: texts[i]),
                              logprobs: wantLP ? ChatLogprobsOut(content: lps[i]) : nil, finish_reason: reasons[i])
            },
            usage: usage, system_fingerprint: "hyperlab"))
    }

    static func chatEntry(_ lp: TokenLogprob) -> ChatLogprobsOut.Entry {
        .init(token: tokenString(lp.bytes), logprob: lp.logprob ?? 0, bytes: lp.bytes,
              top_logprobs: lp.top.map { .init(token: tokenString($0.bytes), logprob: $0.logprob, bytes: $0.bytes) })
    }

    struct Meta { var id: String; var created: Int; var model: String }

    // MARK: completions

    func completions(_ request: Request, context: some RequestContext) async throws -> Response {
        let start = ContinuousClock.now
        let body = try decode(CompletionRequestBody.self, try await readBody(request))
        let served = try server.served(body.model)
        let model = served.engine.model
        if let s = body.suffix, !s.isEmpty { throw APIError.invalid("'suffix' is not supported by this server.", param: "suffix") }
        let c = try common(temperature: body.temperature, topP: body.top_p, n: body.n, stop: body.stop, seed: body.seed,
                           presence: body.presence_penalty, frequency: body.frequency_penalty, logitBias: body.logit_bias)
        if let b = body.best_of, b != c.n { throw APIError.invalid("'best_of' is not supported (only equal to n).", param: "best_of") }
        let lpCount = body.logprobs
        if let k = lpCount, k < 0 || k > 20 { throw APIError.invalid("'logprobs' must be between 0 and 20.", param: "logprobs") }
        let echo = body.echo ?? false
        let stream = body.stream ?? false
        if body.stream_options != nil && !stream {
            throw APIError.invalid("'stream_options' is only allowed when 'stream' is true.", param: "stream_options")
        }
        let texts: [String]
        let prompts: [[Int]]
        switch body.prompt {
        case .texts(let t):
            guard !t.isEmpty else { throw APIError.invalid("'prompt' must not be empty.", param: "prompt") }
            texts = t
            prompts = t.map { model.tokenizer.encode($0, parseSpecial: true) }
        case .tokens(let tt):
            guard !tt.isEmpty else { throw APIError.invalid("'prompt' must not be empty.", param: "prompt") }
            for p in tt where p.contains(where: { $0 < 0 || $0 >= model.config.vocabularySize }) {
                throw APIError.invalid("'prompt' holds a token id outside the vocabulary (0..<\(model.config.vocabularySize)).", param: "prompt")
            }
            prompts = tt
            texts = tt.map { model.tokenizer.decode($0) }
        }
        guard prompts.count * c.n <= config.engine.maxActiveChoices else {
            throw APIError.invalid("prompts × n = \(prompts.count * c.n) exceeds this server's batch of \(config.engine.maxActiveChoices).",
                                   param: "prompt")
        }
        // max_tokens 0 with echo scores the prompt only (one token is generated and dropped).
        let scoreOnly = echo && body.max_tokens == 0
        let maxTok = scoreOnly ? 1 : try maxTokens(body.max_tokens, param: "max_tokens", default: min(16, config.maxGenerationTokens))
        try checkLengths(prompts: prompts, maxTokens: maxTok, model: model, explicit: true)
        if config.logPrompts { context.logger.info("prompt", metadata: ["text": "\(texts)"]) }
        let job = GenerationJob(prompts: prompts, n: c.n, maxTokens: maxTok, sampling: c.sampling, stop: c.stop,
                                logprobs: lpCount != nil, topLogprobs: lpCount ?? 0, promptLogprobs: echo && lpCount != nil)
        let (id, events) = try submit(served.engine, job)
        let meta = Meta(id: Self.newID("cmpl-"), created: Int(Date().timeIntervalSince1970), model: served.name)
        let metrics = server.metrics
        let n = c.n
        if stream {
            let includeUsage = body.stream_options?.include_usage ?? false
            return sse(engine: served.engine, jobID: id) { writer in
                var first = true
                var offsets = prompts.indices.map { texts[$0].unicodeScalars.count }
                func chunk(_ i: Int, _ text: String, _ lp: CompletionLogprobsOut?, _ reason: String?) async throws {
                    try await writer(CompletionResponseOut(id: meta.id, created: meta.created, model: meta.model,
                                                           choices: [.init(index: i, text: text, logprobs: lp, finish_reason: reason)],
                                                           system_fingerprint: "hyperlab"))
                }
                if echo && lpCount == nil {
                    for i in 0..<job.choiceCount { try await chunk(i, texts[i / n], nil, nil) }
                }
                for await ev in events {
                    switch ev {
                    case .prompt(let i, let toks):
                        var out = CompletionLogprobsOut()
                        var off = 0
                        for t in toks { Self.append(t, to: &out, offset: &off) }
                        offsets[i / n] = off
                        try await chunk(i, texts[i / n], out, nil)
                    case .token(let i, let text, let lp):
                        if first { first = false; metrics.timeToFirstToken(endpoint: "completions", ContinuousClock.now - start) }
                        if scoreOnly { continue }
                        var out: CompletionLogprobsOut? = nil
                        if let lp { var o = CompletionLogprobsOut(); var off = offsets[i / n]; Self.append(lp, to: &o, offset: &off); out = o }
                        if text.isEmpty && out == nil { continue }
                        try await chunk(i, text, out, nil)
                    case .finished(let i, let reason, let text):
                        try await chunk(i, scoreOnly ? "" : text, nil, reason.rawValue)
                    case .done(let p, let cTok):
                        metrics.completed(tokens: cTok)
                        metrics.requestDuration(endpoint: "completions", ContinuousClock.now - start)
                        if includeUsage {
                            try await writer(CompletionResponseOut(id: meta.id, created: meta.created, model: meta.model, choices: [],
                                                                   usage: UsageOut(prompt: p, completion: scoreOnly ? 0 : cTok),
                                                                   system_fingerprint: "hyperlab"))
                        }
                    case .failed(let e): throw e
                    }
                }
            }
        }
        var outTexts = [String](repeating: "", count: job.choiceCount)
        var outLP = [CompletionLogprobsOut](repeating: CompletionLogprobsOut(), count: job.choiceCount)
        var offsets = (0..<job.choiceCount).map { texts[$0 / n].unicodeScalars.count }
        var reasons = [String](repeating: "length", count: job.choiceCount)
        var usage = UsageOut(prompt: 0, completion: 0)
        try await collect(events, engine: served.engine, jobID: id) { ev in
            switch ev {
            case .prompt(let i, let toks):
                var off = 0
                for t in toks { Self.append(t, to: &outLP[i], offset: &off) }
                offsets[i] = off
            case .token(let i, let text, let lp):
                if scoreOnly { return }
                outTexts[i] += text
                if let lp { Self.append(lp, to: &outLP[i], offset: &offsets[i]) }
            case .finished(let i, let reason, let text):
                if !scoreOnly { outTexts[i] += text }
                reasons[i] = reason.rawValue
            case .done(let p, let cTok): usage = UsageOut(prompt: p, completion: scoreOnly ? 0 : cTok)
            case .failed(let e): throw apiError(from: e)
            }
        }
        metrics.completed(tokens: usage.completion_tokens)
        metrics.requestDuration(endpoint: "completions", ContinuousClock.now - start)
        context.logger.info("completion done", metadata: ["prompt_tokens": "\(usage.prompt_tokens)",
                                                          "completion_tokens": "\(usage.completion_tokens)"])
        return try json(CompletionResponseOut(
            id: meta.id, created: meta.created, model: meta.model,
            choices: (0..<job.choiceCount).map { i in
                CompletionChoiceOut(index: i, text: (echo ? texts[i / n] : "") + outTexts[i],
                                    logprobs: job.logprobs ? outLP[i] : nil, finish_reason: reasons[i])
            },
            usage: usage, system_fingerprint: "hyperlab"))
    }

    /// Appends one token to a legacy logprobs object; `offset` counts Unicode scalars of the text so far.
    static func append(_ t: TokenLogprob, to out: inout CompletionLogprobsOut, offset: inout Int) {
        out.tokens.append(t.text)
        out.token_logprobs.append(t.logprob)
        if t.logprob == nil {
            out.top_logprobs.append(nil)
        } else {
            var top: [String: Double] = [:]
            for a in t.top { let k = tokenString(a.bytes); if top[k] == nil { top[k] = a.logprob } }
            out.top_logprobs.append(top)
        }
        out.text_offset.append(offset)
        offset += t.text.unicodeScalars.count
    }

    // MARK: plumbing

    /// Consumes a job's events; cancels the job if this task is cancelled.
    func collect(_ events: AsyncStream<EngineEvent>, engine: InferenceEngine, jobID: Int,
                 _ body: (EngineEvent) throws -> Void) async throws {
        try await withTaskCancellationHandler {
            for await ev in events { try body(ev) }
        } onCancel: {
            engine.cancel(jobID)
        }
    }

    /// A server-sent-events response: each value written becomes `data: <json>`, then `data: [DONE]`.
    /// A failure mid-stream is sent as an error object; a client that goes away cancels the job.
    func sse(engine: InferenceEngine, jobID: Int,
             _ produce: @escaping @Sendable (_ write: (any Encodable) async throws -> Void) async throws -> Void) -> Response {
        let body = ResponseBody { writer in
            let enc = JSONEncoder()
            enc.outputFormatting = [.withoutEscapingSlashes]
            do {
                try await withTaskCancellationHandler {
                    try await produce { value in
                        var buf = ByteBuffer(string: "data: ")
                        buf.writeBytes(try enc.encode(value))
                        buf.writeString("\n\n")
                        try await writer.write(buf)
                    }
                } onCancel: {
                    engine.cancel(jobID)
                }
            } catch let e as EngineError {
                try await writer.write(ByteBuffer(string: "data: " + String(decoding: apiError(from: e).json, as: UTF8.self) + "\n\n"))
            } catch {
                engine.cancel(jobID)
                throw error
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}
