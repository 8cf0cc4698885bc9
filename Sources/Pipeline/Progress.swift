import Foundation

/// Turns pipeline events into progress lines with an ETA for the whole run and for the current stage.
///
/// The run's ETA sums the estimates of the stages left, scaled by how long finished stages actually took
/// relative to their estimates in this session (stages that took under a second are left out); the stage's
/// ETA extrapolates its reported fraction.
public final class ProgressTracker: @unchecked Sendable {
    private let lock = NSLock()
    private var estimates: [String: Double] = [:]
    private var done = Set<String>()
    private var total = 0
    private var ranEstimate = 0.0, ranActual = 0.0
    private var current: (id: String, started: Date, fraction: Double, message: String)? = nil
    private let start = Date()
    private var lastPrint = Date.distantPast
    /// Minimum seconds between progress lines within a stage.
    public var interval: Double
    /// Where lines go (default: standard error).
    public var write: @Sendable (String) -> Void

    public init(plan: StagePlan, interval: Double = 1, write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) {
        for s in plan.stages { estimates[s.id] = max(1, s.estimatedSeconds) }
        total = plan.stages.count
        self.interval = interval
        self.write = write
    }

    /// Stages shorter than this do not calibrate the estimates.
    public static let minimumCalibrationSeconds = 1.0

    /// Observed/estimated duration ratio (1 until a stage that did real work has run).
    public var calibration: Double {
        lock.lock(); defer { lock.unlock() }
        return calibrationLocked
    }
    private var calibrationLocked: Double { ranEstimate > 0 ? min(20, max(0.05, ranActual / ranEstimate)) : 1 }

    /// Estimated seconds left in the run.
    public var remainingSeconds: Double {
        lock.lock(); defer { lock.unlock() }
        return remainingLocked
    }
    private var remainingLocked: Double {
        let c = calibrationLocked
        var left = 0.0
        for (id, e) in estimates where !done.contains(id) && id != current?.id { left += e * c }
        if let cur = current { left += stageRemainingLocked(cur) }
        return left
    }
    private func stageRemainingLocked(_ cur: (id: String, started: Date, fraction: Double, message: String)) -> Double {
        let elapsed = Date().timeIntervalSince(cur.started)
        if cur.fraction > 0.02 { return elapsed / cur.fraction * (1 - cur.fraction) }
        return max(0, (estimates[cur.id] ?? 1) * calibrationLocked - elapsed)
    }
    /// Share of the run's estimated work finished, in [0, 1].
    public var fractionDone: Double {
        lock.lock(); defer { lock.unlock() }
        return fractionLocked
    }
    private var fractionLocked: Double {
        let all = estimates.values.reduce(0, +)
        guard all > 0 else { return 0 }
        var d = 0.0
        for id in done { d += estimates[id] ?? 0 }
        if let cur = current { d += (estimates[cur.id] ?? 0) * cur.fraction }
        return min(1, d / all)
    }

    /// Feeds an event; prints a line when something changed (stage progress at most every `interval` s).
    public func handle(_ event: PipelineEvent) {
        lock.lock()
        var line: String? = nil
        switch event {
        case .runStarted(let t, let already):
            total = t
            // "Finished before", not "done": a stage whose inputs or executor changed since runs again.
            line = "pipeline: \(t) stages, \(already) finished before (reused unless their inputs or code changed); estimated \(formatDuration(remainingLocked)) of work"
        case .stageStarted(let r):
            current = (r.spec.id, Date(), 0, "")
            let resumed = r.attempts > 1 ? " (resuming, attempt \(r.attempts))" : ""
            line = header() + " ▶ \(r.spec.id)\(resumed)"
            lastPrint = Date()
        case .stageProgress(let r, let f, let m):
            if current?.id == r.spec.id { current?.fraction = f; current?.message = m }
            if Date().timeIntervalSince(lastPrint) >= interval, let cur = current {
                lastPrint = Date()
                line = header() + String(format: " %@ %3.0f%%", cur.id, f * 100) + (m.isEmpty ? "" : " \(m)")
                    + " · stage ETA \(formatDuration(stageRemainingLocked(cur)))"
            }
        case .stageFinished(let r):
            let wasCurrent = current?.id == r.spec.id
            if r.state == .done {
                done.insert(r.spec.id)
                // Calibrate only on stages that did measurable work: one that finished at once (a model
                // already downloaded, an input already on disk) says nothing about this machine's speed.
                if let secs = r.seconds, !r.cached, wasCurrent, secs >= ProgressTracker.minimumCalibrationSeconds {
                    ranActual += secs; ranEstimate += estimates[r.spec.id] ?? 1
                }
            } else {
                done.insert(r.spec.id)  // failed or blocked: no more work expected from it
            }
            if wasCurrent { current = nil }
            switch r.state {
            case .done where r.cached || !wasCurrent: line = header() + " ✓ \(r.spec.id) (\(r.cached ? "cached" : "done earlier"))"
            case .done: line = header() + " ✓ \(r.spec.id) in \(formatDuration(r.seconds ?? 0))" + (r.summary.map { $0.isEmpty ? "" : ": \($0)" } ?? "")
            case .failed: line = header() + " ✗ \(r.spec.id): \(r.error ?? "failed")"
            default: line = nil
            }
        case .runFinished(let m):
            let failed = m.stages.filter { $0.state == .failed }.count
            let blocked = m.stages.filter { $0.state == .blocked }.count
            line = "pipeline: \(m.status.rawValue) in \(formatDuration(Date().timeIntervalSince(start)))"
                + (failed + blocked > 0 ? " (\(failed) failed, \(blocked) blocked)" : "")
        }
        lock.unlock()
        if let l = line { write(l) }
    }

    private func header() -> String {
        String(format: "[%d/%d stages · %3.0f%% · %@ elapsed · ETA %@]", done.count, total, fractionLocked * 100,
               formatDuration(Date().timeIntervalSince(start)), formatDuration(remainingLocked))
    }
}

/// `42s`, `3m05s`, `1h02m`.
public func formatDuration(_ s: Double) -> String {
    guard s.isFinite, s >= 0 else { return "?" }
    let t = Int(s.rounded())
    if t < 60 { return "\(t)s" }
    if t < 3600 { return String(format: "%dm%02ds", t / 60, t % 60) }
    return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60)
}
