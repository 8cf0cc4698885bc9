import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Transformer

/// Settings of `hyperlab serve`.
public struct ServerConfiguration: Sendable {
    /// Address to bind (loopback by default; anything else exposes the model to the network).
    public var host: String
    /// TCP port (0 picks a free one; see `HyperlabServer.makeApplication(onListening:)`).
    public var port: Int
    /// When set, every route but `/health` requires `Authorization: Bearer <apiKey>`. Never logged.
    public var apiKey: String?
    /// Largest request body accepted (413 above it).
    public var maxBodyBytes: Int
    /// Time allowed to receive a request body (408 after it: protects against slow-drip clients).
    public var bodyTimeout: Duration
    /// Connections idle this long are closed.
    public var idleTimeout: Duration
    /// Longest prompt accepted, in tokens (nil: the model's context limit minus one).
    public var maxPromptTokens: Int?
    /// Largest `max_tokens` accepted, and the default when a chat request gives none.
    public var maxGenerationTokens: Int
    /// Largest `n` (choices per prompt) accepted.
    public var maxChoices: Int
    /// Scheduler limits (batch size, queue length: a full queue answers 429).
    public var engine: EngineLimits
    /// On SIGINT/SIGTERM, how long running requests may take to finish before they are cancelled.
    public var shutdownGrace: Duration
    /// Log prompt texts (off by default: request logs hold no bodies).
    public var logPrompts: Bool

    /// Makes a configuration; the defaults suit one small model on a small machine.
    public init(host: String = "127.0.0.1", port: Int = 8080, apiKey: String? = nil, maxBodyBytes: Int = 1 << 20,
                bodyTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(120), maxPromptTokens: Int? = nil,
                maxGenerationTokens: Int = 1024, maxChoices: Int = 8, engine: EngineLimits = EngineLimits(),
                shutdownGrace: Duration = .seconds(30), logPrompts: Bool = false) {
        self.host = host
        self.port = port
        self.apiKey = apiKey
        self.maxBodyBytes = maxBodyBytes
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maxPromptTokens = maxPromptTokens
        self.maxGenerationTokens = maxGenerationTokens
        self.maxChoices = maxChoices
        self.engine = engine
        self.shutdownGrace = shutdownGrace
        self.logPrompts = logPrompts
    }
}

/// A model served under a name (the `model` field of requests).
public struct ServedModel: Sendable {
    /// The name clients use.
    public var name: String
    /// Its scheduler.
    public var engine: InferenceEngine

    /// Serves `model` as `name` with its own scheduler.
    public init(name: String, model: Model, limits: EngineLimits, observer: (any EngineObserver)? = nil) {
        self.name = name
        self.engine = InferenceEngine(model: model, limits: limits, observer: observer)
    }
}

/// The OpenAI-compatible HTTP server over one or more local models.
///
/// Routes: `GET /v1/models`, `POST /v1/chat/completions` (streaming or not), `POST /v1/completions`
/// (with `logprobs` and `echo`), `GET /metrics` (Prometheus text), `GET /health`. Errors use OpenAI's
/// JSON shape. Each model has one `InferenceEngine` that batches all of its requests.
public final class HyperlabServer: Sendable {
    /// The models, base first.
    public let models: [ServedModel]
    /// The configuration.
    public let configuration: ServerConfiguration
    /// Prometheus metrics (also served at `/metrics`).
    public let metrics: ServerMetrics
    let logger: Logger

    /// Makes a server over `models` (named, base first; names must be distinct). Each model gets its
    /// scheduler thread now; `makeApplication` serves them.
    public init(models: [(name: String, model: Model)], configuration: ServerConfiguration = ServerConfiguration(),
                logger: Logger = Logger(label: "hyperlab.serve")) throws {
        guard !models.isEmpty else { throw APIError(status: 500, "no model to serve", type: "server_error") }
        var seen = Set<String>()
        for m in models where !seen.insert(m.name).inserted {
            throw APIError(status: 500, "two served models are named '\(m.name)'", type: "server_error")
        }
        let metrics = ServerMetrics()
        self.metrics = metrics
        self.configuration = configuration
        self.logger = logger
        self.models = models.map { ServedModel(name: $0.name, model: $0.model, limits: configuration.engine, observer: metrics) }
    }

    func served(_ name: String) throws -> ServedModel {
        if let m = models.first(where: { $0.name == name }) { return m }
        throw APIError(status: 404, "The model '\(name)' does not exist; this server has: "
                       + models.map(\.name).joined(separator: ", "), param: "model", code: "model_not_found")
    }

    /// The Hummingbird application: routes, middleware, and one service per engine that drains it on
    /// graceful shutdown (after the HTTP server has stopped taking requests). `onListening` receives
    /// the bound port.
    public func makeApplication(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: GatewayMiddleware(apiKey: configuration.apiKey, metrics: metrics))
        let api = OpenAIRoutes(server: self)
        router.get("/health") { _, _ in Response(status: .ok, headers: [.contentType: "application/json"],
                                                  body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#))) }
        router.get("/metrics") { [metrics] _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: metrics.registry.emitToString())))
        }
        router.get("/v1/models") { _, _ in try api.listModels() }
        router.post("/v1/chat/completions") { request, context in try await api.chat(request, context: context) }
        router.post("/v1/completions") { request, context in try await api.completions(request, context: context) }
        let idle = configuration.idleTimeout.components
        let idleNanos = idle.seconds * 1_000_000_000 + idle.attoseconds / 1_000_000_000
        var app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(idleNanos))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "hyperlab"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? -1) },
            logger: logger)
        app.addServices(models.map { EngineService(engine: $0.engine, grace: configuration.shutdownGrace) })
        return app
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully: stops accepting connections, lets
    /// running requests finish (up to `shutdownGrace`), then stops the engines.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await makeApplication(onListening: onListening).runService()
    }
}

/// Drains an engine when the service group shuts down.
struct EngineService: Service {
    let engine: InferenceEngine
    let grace: Duration
    func run() async throws {
        try? await gracefulShutdown()
        await engine.shutdown(grace: grace)
    }
}

/// Bearer-token check, OpenAI-shaped errors, request logs (no bodies) and request counts.
struct GatewayMiddleware<Context: RequestContext>: RouterMiddleware {
    let apiKey: String?
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let path = request.uri.path
        var response: Response
        do {
            if let apiKey, path != "/health" {
                guard let auth = request.headers[.authorization], auth.hasPrefix("Bearer "),
                      constantTimeEqual(String(auth.dropFirst(7)), apiKey) else {
                    throw APIError(status: 401, "Incorrect or missing API key: send it as 'Authorization: Bearer <key>'.",
                                   type: "authentication_error", code: "invalid_api_key")
                }
            }
            response = try await next(request, context)
        } catch {
            response = errorResponse(apiError(from: error))
        }
        let ms = (ContinuousClock.now - start) / .milliseconds(1)
        let status = Int(response.status.code)
        metrics.request(path: path, status: status)
        context.logger.info("request", metadata: [
            "method": "\(request.method)", "path": "\(path)", "status": "\(status)",
            "ms": "\(Int(ms))",
        ])
        return response
    }
}

/// Compares two strings in time that depends only on their lengths.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var d: UInt8 = 0
    for i in 0..<x.count { d |= x[i] ^ y[i] }
    return d == 0
}

/// Maps any error to an `APIError`.
func apiError(from error: Error) -> APIError {
    switch error {
    case let e as APIError: return e
    case let e as EngineError:
        switch e.kind {
        case .queueFull: return APIError(status: 429, e.message, type: "rate_limit_error", code: "rate_limit_exceeded")
        case .shuttingDown: return APIError(status: 503, e.message, type: "server_error", code: "server_shutting_down")
        case .cancelled: return APIError(status: 499, e.message, type: "server_error")
        case .internalError: return APIError(status: 500, e.message, type: "server_error")
        }
    case let e as HTTPError:
        let status = Int(e.status.code)
        let message: String
        switch status {
        case 404: message = "Unknown route; this server has GET /v1/models, POST /v1/chat/completions, POST /v1/completions, GET /metrics, GET /health."
        case 405: message = "Method not allowed on this route."
        case 413: message = "The request body is too large."
        default: message = e.body ?? e.status.reasonPhrase
        }
        return APIError(status: status, message, type: status >= 500 ? "server_error" : "invalid_request_error")
    case let e as DecodingError:
        return APIError.invalid("Invalid JSON body: \(describe(e))")
    case let e as HTTPResponseError:
        let status = Int(e.status.code)
        let message = status == 413 ? "The request body is too large." : e.status.reasonPhrase
        return APIError(status: status, message, type: status >= 500 ? "server_error" : "invalid_request_error")
    default:
        return APIError(status: 500, "internal error: \(error)", type: "server_error")
    }
}

func describe(_ e: DecodingError) -> String {
    func path(_ c: DecodingError.Context) -> String {
        let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return p.isEmpty ? "" : " at '\(p.hasPrefix(".") ? String(p.dropFirst()) : p)'"
    }
    switch e {
    case .keyNotFound(let k, let c): return "missing required field '\(k.stringValue)'\(path(c))"
    case .typeMismatch(_, let c): return "wrong type\(path(c)): \(c.debugDescription)"
    case .valueNotFound(_, let c): return "null value\(path(c)): \(c.debugDescription)"
    case .dataCorrupted(let c):
        if let u = c.underlyingError as? APIError { return u.message }
        return "malformed JSON\(path(c)): \(c.debugDescription)"
    @unknown default: return "\(e)"
    }
}

/// The OpenAI error body with its status.
func errorResponse(_ e: APIError) -> Response {
    var headers: HTTPFields = [.contentType: "application/json"]
    if e.status == 408 || e.status == 413 { headers[.connection] = "close" }
    if e.status == 429 { headers[.retryAfter] = "1" }
    return Response(status: .init(code: e.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: e.json)))
}
