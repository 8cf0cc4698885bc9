import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// When and how often a failed HTTP request is tried again.
///
/// Retried: 429 (waiting at least the server's `Retry-After`), 5xx, timeouts and dropped or refused
/// connections. Never retried: other 4xx. Malformed responses are retried only with `retryMalformed`.
/// The wait before retry `k` (1-based) is `min(maxDelay, baseDelay · 2^(k-1))`, scaled by a random factor
/// in `[1 - jitter, 1]`.
public struct RetryPolicy: Sendable, Hashable {
    /// Total attempts, the first included (1 = no retries).
    public var maxAttempts: Int
    /// The first backoff, in seconds.
    public var baseDelay: Double
    /// The longest backoff, in seconds.
    public var maxDelay: Double
    /// The fraction of each backoff that is random (0 = none, 1 = "full jitter").
    public var jitter: Double
    /// The longest `Retry-After` honoured, in seconds (a longer one is cut to this).
    public var maxRetryAfter: Double
    /// Also retry responses that were not the JSON expected (e.g. truncated by a proxy).
    public var retryMalformed: Bool

    public init(maxAttempts: Int = 4, baseDelay: Double = 1, maxDelay: Double = 30, jitter: Double = 0.5,
                maxRetryAfter: Double = 120, retryMalformed: Bool = false) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = max(0, baseDelay)
        self.maxDelay = max(0, maxDelay)
        self.jitter = min(1, max(0, jitter))
        self.maxRetryAfter = max(0, maxRetryAfter)
        self.retryMalformed = retryMalformed
    }

    /// No retries at all.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The backoff before retry number `retry` (1-based), before any `Retry-After`.
    public func backoff(retry: Int) -> Double {
        let raw = min(maxDelay, baseDelay * pow(2, Double(max(0, retry - 1))))
        return raw * (1 - jitter * Double.random(in: 0..<1))
    }
}

/// Reliability settings of an HTTP backend.
public struct HTTPOptions: Sendable, Hashable {
    /// Seconds one attempt may take, from sending to the last byte of the response.
    public var timeout: Double
    /// The most requests this backend has in flight at once (further calls wait their turn).
    public var maxConcurrentRequests: Int
    /// Retry behaviour.
    public var retry: RetryPolicy

    public init(timeout: Double = 120, maxConcurrentRequests: Int = 4, retry: RetryPolicy = RetryPolicy()) {
        self.timeout = timeout
        self.maxConcurrentRequests = max(1, maxConcurrentRequests)
        self.retry = retry
    }
}

/// A counting semaphore for async code: `acquire` suspends (without blocking a thread) until a permit
/// is free. Waiters are served first come, first served; a cancelled waiter leaves the queue.
public actor AsyncSemaphore {
    private var available: Int
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, Error>)] = []
    private var nextID: UInt64 = 0

    /// A semaphore with `permits` permits.
    public init(permits: Int) { available = max(1, permits) }

    /// Takes a permit, waiting if none is free. Throws `CancellationError` if the task is cancelled
    /// while waiting (no permit is then held).
    public func acquire() async throws {
        try Task.checkCancellation()
        if available > 0 { available -= 1; return }
        nextID &+= 1
        let id = nextID
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
                waiters.append((id, c))
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    /// Returns a permit, handing it straight to the oldest waiter if there is one.
    public func release() {
        if waiters.isEmpty { available += 1 } else { waiters.removeFirst().continuation.resume() }
    }

    private func cancelWaiter(_ id: UInt64) {
        if let i = waiters.firstIndex(where: { $0.id == id }) {
            waiters.remove(at: i).continuation.resume(throwing: CancellationError())
        }
    }

    /// Runs `body` holding a permit.
    public func withPermit<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await acquire()
        do {
            let v = try await body()
            release()
            return v
        } catch {
            release()
            throw error
        }
    }
}

/// Reads secrets from the environment at the moment of use, and scrubs them from any text.
struct SecretSource: Sendable {
    /// The environment variable holding the key, or nil for none.
    let variable: String?

    /// The key's current value (nil if no variable, unset or empty).
    func current() -> String? {
        guard let v = variable, let p = getenv(v) else { return nil }
        let s = String(cString: p)
        return s.isEmpty ? nil : s
    }

    /// `text` with the current key (and any key seen during the request) replaced by `[redacted]`.
    func redact(_ text: String, also seen: String? = nil) -> String {
        var out = text
        for k in [seen, current()].compactMap({ $0 }) where k.count >= 4 {
            out = out.replacingOccurrences(of: k, with: "[redacted]")
        }
        return out
    }
}

/// One HTTP request to send (the body is already serialized).
struct HTTPCall: Sendable {
    var url: URL
    var headers: [String: String]
    var body: Data
}

/// The shared HTTP machinery of the remote backends: a concurrency limit, a per-attempt timeout, and
/// retries with exponential backoff and jitter. Every failure becomes a `BackendError` with its attempt
/// count, and secrets are scrubbed from every message.
final class HTTPTransport: Sendable {
    let options: HTTPOptions
    let identifier: String
    let secret: SecretSource
    private let session: URLSession
    private let semaphore: AsyncSemaphore

    init(options: HTTPOptions, identifier: String, secret: SecretSource) {
        self.options = options
        self.identifier = identifier
        self.secret = secret
        let config = URLSessionConfiguration.ephemeral
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        config.urlCache = nil
        config.httpMaximumConnectionsPerHost = options.maxConcurrentRequests
        config.timeoutIntervalForRequest = options.timeout + 5
        config.timeoutIntervalForResource = options.timeout + 5
        self.session = URLSession(configuration: config)
        self.semaphore = AsyncSemaphore(permits: options.maxConcurrentRequests)
    }

    deinit { session.finishTasksAndInvalidate() }

    /// An error of this backend, with secrets redacted.
    func error(_ kind: BackendError.Kind, _ message: String, attempts: Int, key: String? = nil) -> BackendError {
        BackendError(kind, secret.redact(message, also: key), attempts: attempts, backend: identifier)
    }

    /// Sends `call` (a POST) until it succeeds or the retry policy gives up, decoding a 2xx body with
    /// `decode` (which throws `BackendError` of kind `.malformedResponse` on a bad shape).
    func send<T>(_ call: HTTPCall, key: String?, decode: (Data) throws -> T) async throws -> T {
        let policy = options.retry
        var attempt = 0
        while true {
            attempt += 1
            let failure: BackendError
            var retryAfter: Double? = nil
            do {
                let (data, response) = try await attemptOnce(call, key: key)
                let status = response.statusCode
                if (200..<300).contains(status) {
                    do {
                        return try decode(data)
                    } catch var e as BackendError {
                        e.attempts = attempt
                        e.backend = identifier
                        e.message = secret.redact(e.message, also: key)
                        if e.kind == .malformedResponse && policy.retryMalformed && attempt < policy.maxAttempts {
                            try await pause(policy.backoff(retry: attempt), attempts: attempt)
                            continue
                        }
                        throw e
                    }
                }
                let excerpt = Self.excerpt(data)
                switch status {
                case 429:
                    retryAfter = Self.retryAfter(response)
                    failure = error(.rateLimited, "HTTP 429 from \(call.url.path)" + (excerpt.isEmpty ? "" : ": \(excerpt)"),
                                    attempts: attempt, key: key)
                case 500...599:
                    failure = error(.server(status: status), "HTTP \(status) from \(call.url.path)"
                                    + (excerpt.isEmpty ? "" : ": \(excerpt)"), attempts: attempt, key: key)
                default:
                    var hint = ""
                    if status == 401 || status == 403, let v = secret.variable {
                        hint = key == nil ? " (the environment variable \(v) is not set)" : " (check the key in \(v))"
                    }
                    throw error(.client(status: status), "HTTP \(status) from \(call.url.path)\(hint)"
                                + (excerpt.isEmpty ? "" : ": \(excerpt)"), attempts: attempt, key: key)
                }
            } catch let e as BackendError {
                // Timeouts and dropped connections may be retried; anything else (cancellation, a 4xx,
                // a malformed body) ends the call here.
                let stamped = error(e.kind, e.message, attempts: attempt, key: key)
                guard e.kind == .timeout || e.kind == .transport else { throw stamped }
                failure = stamped
            }
            guard attempt < policy.maxAttempts else { throw failure }
            var wait = policy.backoff(retry: attempt)
            if let ra = retryAfter { wait = max(wait, min(ra, policy.maxRetryAfter)) }
            try await pause(wait, attempts: attempt)
        }
    }

    private func pause(_ seconds: Double, attempts: Int) async throws {
        guard seconds > 0 else { return }
        do {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
        } catch {
            throw self.error(.cancelled, "cancelled while waiting to retry", attempts: attempts)
        }
    }

    /// One attempt under the concurrency limit and the timeout. Throws `BackendError` of kind
    /// `.timeout`, `.transport` or `.cancelled` (attempt count filled in by the caller).
    private func attemptOnce(_ call: HTTPCall, key: String?) async throws -> (Data, HTTPURLResponse) {
        do {
            try await semaphore.acquire()
        } catch {
            throw self.error(.cancelled, "cancelled while waiting for a free request slot", attempts: 0)
        }
        var request = URLRequest(url: call.url)
        request.httpMethod = "POST"
        request.httpBody = call.body
        request.timeoutInterval = options.timeout + 5
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        for (k, v) in call.headers { request.setValue(v, forHTTPHeaderField: k) }
        let outcome = await perform(request)
        await semaphore.release()
        switch outcome {
        case .success(let r): return r
        case .failure(let e): throw e
        }
    }

    /// Runs a data task, resolving it exactly once: by its completion, by the timeout, or by cancellation.
    private func perform(_ request: URLRequest) async -> Result<(Data, HTTPURLResponse), BackendError> {
        let box = PendingRequest()
        let timeout = options.timeout
        let path = request.url?.path ?? "?"
        let id = identifier
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Result<(Data, HTTPURLResponse), BackendError>, Never>) in
                let task = session.dataTask(with: request) { data, response, err in
                    if let err {
                        let ns = err as NSError
                        let kind: BackendError.Kind = ns.code == NSURLErrorTimedOut ? .timeout
                            : ns.code == NSURLErrorCancelled ? .cancelled : .transport
                        box.finish(.failure(BackendError(kind, "\(path): \(ns.localizedDescription) (URL error \(ns.code))",
                                                         backend: id)))
                    } else if let http = response as? HTTPURLResponse {
                        box.finish(.success((data ?? Data(), http)))
                    } else {
                        box.finish(.failure(BackendError(.transport, "\(path): no HTTP response", backend: id)))
                    }
                }
                box.start(c, task: task)
                DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                    box.finish(.failure(BackendError(.timeout, "\(path): no complete response within \(Self.seconds(timeout))",
                                                     backend: id)))
                }
            }
        } onCancel: {
            box.finish(.failure(BackendError(.cancelled, "\(path): the calling task was cancelled", backend: id)))
        }
    }

    static func seconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : String(format: "%.2f s", s)
    }

    /// The server's requested wait: `retry-after-ms`, or `Retry-After` in seconds or as an HTTP date.
    static func retryAfter(_ r: HTTPURLResponse) -> Double? {
        if let ms = r.value(forHTTPHeaderField: "retry-after-ms"), let v = Double(ms.trimmingCharacters(in: .whitespaces)), v >= 0 {
            return v / 1000
        }
        guard let raw = r.value(forHTTPHeaderField: "Retry-After")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let v = Double(raw), v.isFinite, v >= 0 { return v }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        if let d = f.date(from: raw) { return max(0, d.timeIntervalSinceNow) }
        return nil
    }

    /// A short one-line excerpt of a body for error messages.
    static func excerpt(_ data: Data, limit: Int = 300) -> String {
        let text = String(decoding: data.prefix(limit * 4), as: UTF8.self)
        let flat = text.split(whereSeparator: { $0.isNewline }).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
        return flat.count > limit ? String(flat.prefix(limit)) + "…" : flat
    }
}

/// A data task and the continuation waiting for it; whichever of completion, timeout or cancellation
/// comes first resolves the continuation, and the others are ignored (the task is cancelled).
private final class PendingRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Result<(Data, HTTPURLResponse), BackendError>, Never>?
    private var task: URLSessionDataTask?
    private var early: Result<(Data, HTTPURLResponse), BackendError>?
    private var done = false

    func start(_ c: CheckedContinuation<Result<(Data, HTTPURLResponse), BackendError>, Never>, task: URLSessionDataTask) {
        lock.lock()
        if let early {
            lock.unlock()
            c.resume(returning: early)
            return
        }
        continuation = c
        self.task = task
        lock.unlock()
        task.resume()
    }

    func finish(_ r: Result<(Data, HTTPURLResponse), BackendError>) {
        lock.lock()
        guard !done else { lock.unlock(); return }
        done = true
        guard let c = continuation else {
            early = r  // resolved before the task started (cancelled early)
            lock.unlock()
            return
        }
        continuation = nil
        let t = task
        task = nil
        lock.unlock()
        if case .failure = r { t?.cancel() }
        c.resume(returning: r)
    }
}
