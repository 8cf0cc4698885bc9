import Foundation

/// A run as `hyperlab status` shows it.
public struct RunStatusSummary: Codable, Sendable, Equatable {
    /// The run folder.
    public var directory: String
    public var name: String
    /// running (a live process holds it), interrupted (it says running but nobody holds it), finished, failed.
    public var state: String
    public var total: Int
    public var done: Int
    /// Of the done stages, how many came from the cache.
    public var cached: Int
    public var failed: Int
    /// Stage ids left, in order, with their state.
    public var left: [String]
    /// Estimated seconds of work left (from the stage estimates, scaled by the run's observed speed).
    public var estimatedSecondsLeft: Double
    public var updated: Date
}

/// Reads run folders for `hyperlab status`.
public enum PipelineStatus {
    /// The summary of one run folder.
    public static func summary(runDirectory: URL) throws -> RunStatusSummary {
        let m = try RunManifest.load(runDirectory: runDirectory)
        let active = runIsActive(runDirectory)
        var state = m.status.rawValue
        if m.status == .running && !active { state = "interrupted" }
        let ran = m.stages.filter { $0.state == .done && !$0.cached && $0.seconds != nil }
        let est = ran.reduce(0) { $0 + $1.spec.estimatedSeconds }, act = ran.reduce(0) { $0 + ($1.seconds ?? 0) }
        let scale = est > 0 ? min(20, max(0.05, act / est)) : 1
        let left = m.stages.filter { $0.state != .done }
        return RunStatusSummary(directory: runDirectory.path, name: m.name, state: state, total: m.stages.count,
                                done: m.stages.count - left.count, cached: m.stages.filter { $0.state == .done && $0.cached }.count,
                                failed: m.stages.filter { $0.state == .failed }.count,
                                left: left.map { "\($0.spec.id) (\($0.state.rawValue))" },
                                estimatedSecondsLeft: left.reduce(0) { $0 + $1.spec.estimatedSeconds } * scale, updated: m.updated)
    }

    /// Every run under `<root>/runs`, newest first; `root` may also be a run folder itself.
    public static func list(root: URL) -> [RunStatusSummary] {
        if FileManager.default.fileExists(atPath: root.appendingPathComponent("run.json").path) {
            return (try? summary(runDirectory: root)).map { [$0] } ?? []
        }
        let runs = root.appendingPathComponent("runs")
        let items = (try? FileManager.default.contentsOfDirectory(atPath: runs.path)) ?? []
        return items.compactMap { try? summary(runDirectory: runs.appendingPathComponent($0)) }.sorted { $0.updated > $1.updated }
    }

    /// A human-readable table of runs and what each has left.
    public static func render(_ runs: [RunStatusSummary], detail: Bool = false) -> String {
        if runs.isEmpty { return "no runs\n" }
        var out = ""
        for r in runs {
            out += "\(r.name)  \(r.state)  \(r.done)/\(r.total) stages done (\(r.cached) from cache)"
            if r.failed > 0 { out += ", \(r.failed) failed" }
            if !r.left.isEmpty { out += ", ~\(formatDuration(r.estimatedSecondsLeft)) left" }
            out += "\n  \(r.directory)\n"
            let shown = detail ? r.left : Array(r.left.prefix(6))
            for l in shown { out += "    · \(l)\n" }
            if shown.count < r.left.count { out += "    … and \(r.left.count - shown.count) more\n" }
        }
        return out
    }
}
