import Foundation
import Prometheus

/// The server's Prometheus metrics, in a registry of its own (served at `/metrics`).
///
/// - `hyperlab_requests_total{path,status}`: HTTP requests answered.
/// - `hyperlab_request_duration_seconds{endpoint}`: whole generation requests (to the last streamed byte).
/// - `hyperlab_time_to_first_token_seconds{endpoint}`: from arrival to the first generated token.
/// - `hyperlab_prompt_tokens_total{source}`: prompt tokens computed (`computed`) or reused from the
///   prefix cache (`cached`).
/// - `hyperlab_completion_tokens_total`: generated tokens.
/// - `hyperlab_queue_depth`, `hyperlab_active_choices`: the scheduler's load.
/// - `hyperlab_batch_rows`: sequences per forward pass; `hyperlab_forward_seconds_total`: time in them.
public final class ServerMetrics: EngineObserver, @unchecked Sendable {
    /// The registry holding every metric.
    public let registry = PrometheusCollectorRegistry()
    private let completionTokens: Counter
    private let promptComputed: Counter
    private let promptCached: Counter
    private let queueDepth: Gauge
    private let activeChoices: Gauge
    private let batchRows: ValueHistogram
    private let forwardSeconds: Counter
    private let lock = NSLock()
    private var queued = [ObjectIdentifier: Int]()
    private var active = [ObjectIdentifier: Int]()

    static let latencyBuckets: [Duration] = [.milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                             .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
                                             .seconds(120)]

    static let promptHelp = "Prompt tokens, computed or reused from the prefix cache."
    static func d(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// Makes the metrics.
    public init() {
        func d(_ name: String, _ help: String) -> MetricNameDescriptor { Self.d(name, help) }
        completionTokens = registry.makeCounter(descriptor: d("hyperlab_completion_tokens_total", "Generated tokens."))
        promptComputed = registry.makeCounter(descriptor: d("hyperlab_prompt_tokens_total", Self.promptHelp), labels: [("source", "computed")])
        promptCached = registry.makeCounter(descriptor: d("hyperlab_prompt_tokens_total", Self.promptHelp), labels: [("source", "cached")])
        queueDepth = registry.makeGauge(descriptor: d("hyperlab_queue_depth", "Requests waiting for the scheduler."))
        activeChoices = registry.makeGauge(descriptor: d("hyperlab_active_choices", "Choices being prefilled or decoded."))
        batchRows = registry.makeValueHistogram(descriptor: d("hyperlab_batch_rows", "Sequences per forward pass."),
                                                buckets: [1, 2, 4, 8, 16, 32, 64])
        forwardSeconds = registry.makeCounter(descriptor: d("hyperlab_forward_seconds_total", "Seconds spent in forward passes."))
    }

    /// Counts one answered HTTP request.
    public func request(path: String, status: Int) {
        let known = ["/v1/chat/completions", "/v1/completions", "/v1/models", "/metrics", "/health"]
        let p = known.contains(path) ? path : "other"  // bounded label values
        registry.makeCounter(descriptor: Self.d("hyperlab_requests_total", "HTTP requests answered."),
                             labels: [("path", p), ("status", String(status))]).increment()
    }

    /// Records a generation request's total time.
    public func requestDuration(endpoint: String, _ d: Duration) {
        registry.makeDurationHistogram(descriptor: Self.d("hyperlab_request_duration_seconds", "Generation request latency."),
                                       labels: [("endpoint", endpoint)], buckets: Self.latencyBuckets).record(d)
    }

    /// Records the time to a request's first generated token.
    public func timeToFirstToken(endpoint: String, _ d: Duration) {
        registry.makeDurationHistogram(descriptor: Self.d("hyperlab_time_to_first_token_seconds", "Time to the first generated token."),
                                       labels: [("endpoint", endpoint)], buckets: Self.latencyBuckets).record(d)
    }

    /// Counts generated tokens.
    public func completed(tokens: Int) { completionTokens.increment(by: Int64(tokens)) }

    public func engineStep(rows: Int, decodeRows: Int, tokens: Int, seconds: Double) {
        batchRows.record(Double(rows))
        forwardSeconds.increment(by: seconds)
    }

    public func enginePrefill(computed: Int, reused: Int) {
        promptComputed.increment(by: Int64(computed))
        promptCached.increment(by: Int64(reused))
    }

    public func engineLoad(engine: ObjectIdentifier, queued q: Int, activeChoices a: Int) {
        // Several engines (base + adapters) may report; the gauges show their sums.
        lock.lock()
        let key = engine
        queued[key] = q
        active[key] = a
        let tq = queued.values.reduce(0, +), ta = active.values.reduce(0, +)
        lock.unlock()
        queueDepth.set(Double(tq))
        activeChoices.set(Double(ta))
    }
}
