import Foundation
import Corpora
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Version strings of the pipeline itself, mixed into every cache key.
public enum PipelineVersion {
    /// Bump when the meaning of a stage configuration changes.
    public static let code = "hyperlab-pipeline/1"
}

/// Where a stage stands in a run.
public enum StageState: String, Codable, Sendable {
    /// Not started yet.
    case pending
    /// Started and not finished (after a crash: will be redone, resuming its work folder).
    case running
    /// Finished (run now, or found in the cache: see `StageRecord.cached`).
    case done
    /// Failed with an error.
    case failed
    /// Not run because an upstream stage failed.
    case blocked
}

/// One stage's record in a run manifest.
public struct StageRecord: Codable, Sendable, Equatable {
    public init(spec: StageSpec, state: StageState = .pending, cached: Bool = false, attempts: Int = 0) {
        self.spec = spec; self.state = state; self.cached = cached; self.attempts = attempts
    }
    public var spec: StageSpec
    public var state: StageState
    /// True when the result came from the cache (produced earlier, by this or another run).
    public var cached: Bool
    /// Cache key and content hash, once known.
    public var key: String?
    public var contentHash: String?
    /// The artifact folder, once finished.
    public var artifact: String?
    public var started: Date?
    public var finished: Date?
    /// Seconds spent running it (nil when cached).
    public var seconds: Double?
    /// Times the stage was started (2+ after a resume).
    public var attempts: Int
    public var error: String?
    public var summary: String?
}

/// The state of a run, rewritten atomically (temp file + rename) after every change, so a kill at any
/// moment leaves a readable manifest.
public struct RunManifest: Codable, Sendable, Equatable {
    /// Overall state.
    public enum Status: String, Codable, Sendable { case running, finished, failed }
    public var format: String
    public var name: String
    /// The design file as given, and a copy in the run folder.
    public var designFile: String
    public var planHash: String
    public var created: Date
    public var updated: Date
    public var status: Status
    /// The process that last ran it.
    public var pid: Int32
    public var codeVersion: String
    public var stages: [StageRecord]

    /// Stages not finished yet.
    public var remaining: [StageRecord] { stages.filter { $0.state != .done } }

    /// Reads `run.json` in a run folder.
    public static func load(runDirectory: URL) throws -> RunManifest {
        let f = runDirectory.appendingPathComponent("run.json")
        guard let d = FileManager.default.contents(atPath: f.path) else { throw PipelineError.noRun(path: runDirectory.path) }
        let dec = JSONDecoder()
        dec.dateDecodingStrategy = .secondsSince1970
        do { return try dec.decode(RunManifest.self, from: d) } catch { throw PipelineError.io(path: f.path, reason: "unreadable manifest: \(error)") }
    }

    /// Writes `run.json` atomically.
    public func save(runDirectory: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        enc.dateEncodingStrategy = .secondsSince1970
        let f = runDirectory.appendingPathComponent("run.json")
        do { try enc.encode(self).write(to: f, options: .atomic) } catch { throw PipelineError.io(path: f.path, reason: "\(error)") }
    }
}

/// Events of a run, for progress displays.
public enum PipelineEvent: Sendable {
    case runStarted(total: Int, alreadyDone: Int)
    case stageStarted(StageRecord)
    case stageProgress(StageRecord, fraction: Double, message: String)
    case stageFinished(StageRecord)
    case runFinished(RunManifest)
}

/// Runs a design's stage graph: in order, skipping what the cache already holds, resuming what a crash
/// interrupted, and going on past a failed arm (its downstream stages are marked blocked).
public final class PipelineRunner: @unchecked Sendable {
    public let design: ExperimentDesign
    public let plan: StagePlan
    public let cache: ArtifactCache
    public let executors: ExecutorSet
    /// `<root>/runs/<name>-<plan hash>`.
    public let runDirectory: URL
    /// Receives progress events (from the runner's task and from executors' threads).
    public var onEvent: (@Sendable (PipelineEvent) -> Void)?
    let designText: String
    let fileHashes: FileHashMemo

    /// A runner for a design.
    /// - Parameters:
    ///   - root: the folder holding `runs/` and (by default) `cache/`.
    ///   - cacheRoot: a shared cache folder (default `<root>/cache`).
    ///   - designText: the design file's text, copied into the run folder.
    public init(design: ExperimentDesign, designText: String = "", root: URL, cacheRoot: URL? = nil, executors: ExecutorSet) {
        self.design = design
        self.plan = StagePlan(design: design)
        let cacheDir = cacheRoot ?? root.appendingPathComponent("cache")
        self.cache = ArtifactCache(root: cacheDir)
        self.executors = executors
        self.designText = designText
        self.fileHashes = FileHashMemo(path: cacheDir.appendingPathComponent("file-hashes.json"))
        let hash = SHA256.hexDigest(canonicalJSON(plan.stages.map { [$0.id, $0.kind.rawValue, $0.config, canonicalJSON($0.inputs), $0.files.joined(separator: ",")] }))
        self.runDirectory = root.appendingPathComponent("runs").appendingPathComponent("\(design.name)-\(hash.prefix(10))")
    }

    /// The cache key of a stage given its upstream artifacts.
    public func key(for s: StageSpec, inputs: [String: Artifact], executorVersion: String) throws -> String {
        var h = SHA256()
        h.update("\(PipelineVersion.code)\n\(executorVersion)\n\(s.kind.rawValue)\n\(s.config)\n")
        for role in s.inputs.keys.sorted() { h.update("in \(role)=\(inputs[role]?.contentHash ?? "?")\n") }
        for f in s.files { h.update("file \(try fileHashes.hash(f))\n") }
        return h.finalizeHex()
    }

    /// Runs every stage not yet finished. Throws `PipelineError.stageFailed` (the first failure) after
    /// everything that could run has run.
    @discardableResult
    public func run() async throws -> RunManifest {
        let fm = FileManager.default
        do { try fm.createDirectory(at: runDirectory, withIntermediateDirectories: true) } catch {
            throw PipelineError.io(path: runDirectory.path, reason: "\(error)")
        }
        let lock = try RunLock(path: runDirectory.appendingPathComponent("lock").path)
        guard lock.tryLock() else { throw PipelineError.locked(run: runDirectory.path) }
        defer { lock.unlock() }
        if !designText.isEmpty { try? designText.write(to: runDirectory.appendingPathComponent("design.toml"), atomically: true, encoding: .utf8) }

        var manifest: RunManifest
        let old = try? RunManifest.load(runDirectory: runDirectory)
        let previous = Dictionary((old?.stages ?? []).map { ($0.spec.id, $0) }, uniquingKeysWith: { a, _ in a })
        manifest = RunManifest(format: "hyperlab-run/1", name: design.name, designFile: design.sourceName,
                               planHash: String(runDirectory.lastPathComponent.suffix(10)), created: old?.created ?? Date(),
                               updated: Date(), status: .running, pid: getpid(), codeVersion: PipelineVersion.code,
                               stages: plan.stages.map { (s: StageSpec) -> StageRecord in
                                   var r = previous[s.id] ?? StageRecord(spec: s, state: .pending, cached: false, attempts: 0)
                                   r.spec = s
                                   if r.state != .done { r.state = .pending; r.error = nil }
                                   return r
                               })
        try manifest.save(runDirectory: runDirectory)
        let alreadyDone = manifest.stages.filter { $0.state == .done }.count
        onEvent?(.runStarted(total: manifest.stages.count, alreadyDone: alreadyDone))

        var artifacts: [String: Artifact] = [:]
        var firstFailure: PipelineError? = nil
        for i in manifest.stages.indices {
            let s = manifest.stages[i].spec
            // Upstream artifacts.
            var inputs: [String: Artifact] = [:]
            var blocked = false
            for (role, up) in s.inputs {
                if let a = artifacts[up] { inputs[role] = a } else { blocked = true }
            }
            if blocked {
                manifest.stages[i].state = .blocked
                manifest.stages[i].error = "an upstream stage did not finish"
                manifest.updated = Date()
                try manifest.save(runDirectory: runDirectory)
                continue
            }
            guard let executor = executors[s.kind] else {
                let e = PipelineError.noExecutor(kind: s.kind, hint: "register one in the ExecutorSet")
                manifest.stages[i].state = .failed
                manifest.stages[i].error = e.description
                firstFailure = firstFailure ?? e
                try manifest.save(runDirectory: runDirectory)
                onEvent?(.stageFinished(manifest.stages[i]))
                continue
            }
            let key: String
            do { key = try self.key(for: s, inputs: inputs, executorVersion: executor.version) } catch {
                manifest.stages[i].state = .failed
                manifest.stages[i].error = "\(error)"
                firstFailure = firstFailure ?? .stageFailed(stage: s.id, reason: "\(error)")
                try manifest.save(runDirectory: runDirectory)
                continue
            }
            manifest.stages[i].key = key
            if let a = cache.lookup(kind: s.kind, key: key) {
                artifacts[s.id] = a
                let wasDone = manifest.stages[i].state == .done && previous[s.id]?.key == key
                manifest.stages[i].state = .done
                manifest.stages[i].contentHash = a.contentHash
                manifest.stages[i].artifact = a.directory
                manifest.stages[i].summary = a.summary
                if !wasDone { manifest.stages[i].cached = true; manifest.stages[i].finished = Date() }
                manifest.updated = Date()
                try manifest.save(runDirectory: runDirectory)
                onEvent?(.stageFinished(manifest.stages[i]))
                continue
            }
            // Run it, holding the key's lock so that two runs sharing the cache never build one artifact at once.
            try? fm.createDirectory(at: cache.directory(kind: s.kind, key: key).deletingLastPathComponent(), withIntermediateDirectories: true)
            let keyLock = try RunLock(path: cache.directory(kind: s.kind, key: key).path + ".lock")
            while !keyLock.tryLock() { try await Task.sleep(nanoseconds: 500_000_000) }
            defer { keyLock.unlock() }
            if let a = cache.lookup(kind: s.kind, key: key) {  // the other run finished it meanwhile
                artifacts[s.id] = a
                manifest.stages[i].state = .done
                manifest.stages[i].cached = true
                manifest.stages[i].contentHash = a.contentHash
                manifest.stages[i].artifact = a.directory
                manifest.stages[i].summary = a.summary
                manifest.stages[i].finished = Date()
                try manifest.save(runDirectory: runDirectory)
                onEvent?(.stageFinished(manifest.stages[i]))
                continue
            }
            let work = cache.workDirectory(kind: s.kind, key: key)
            let resuming = fm.fileExists(atPath: work.path)
            do { try fm.createDirectory(at: work, withIntermediateDirectories: true) } catch {
                throw PipelineError.io(path: work.path, reason: "\(error)")
            }
            manifest.stages[i].state = .running
            manifest.stages[i].cached = false
            manifest.stages[i].started = Date()
            manifest.stages[i].attempts += 1
            manifest.updated = Date()
            try manifest.save(runDirectory: runDirectory)
            let record = manifest.stages[i]
            onEvent?(.stageStarted(record))
            let job = StageJob(stage: s, inputs: inputs, workDirectory: work, resuming: resuming, design: design, runDirectory: runDirectory)
            let sink = onEvent
            let reporter = StageReporter { f, m in sink?(.stageProgress(record, fraction: f, message: m)) }
            let t0 = Date()
            do {
                let out = try await executor.run(job, reporter: reporter)
                let secs = Date().timeIntervalSince(t0)
                let a = try cache.commit(kind: s.kind, key: key, output: out, seconds: secs)
                artifacts[s.id] = a
                manifest.stages[i].state = .done
                manifest.stages[i].contentHash = a.contentHash
                manifest.stages[i].artifact = a.directory
                manifest.stages[i].seconds = secs
                manifest.stages[i].finished = Date()
                manifest.stages[i].summary = a.summary
            } catch {
                manifest.stages[i].state = .failed
                manifest.stages[i].error = "\(error)"
                manifest.stages[i].seconds = Date().timeIntervalSince(t0)
                firstFailure = firstFailure ?? .stageFailed(stage: s.id, reason: "\(error)")
            }
            manifest.updated = Date()
            try manifest.save(runDirectory: runDirectory)
            onEvent?(.stageFinished(manifest.stages[i]))
        }
        manifest.status = firstFailure == nil ? .finished : .failed
        manifest.updated = Date()
        try manifest.save(runDirectory: runDirectory)
        onEvent?(.runFinished(manifest))
        if let f = firstFailure { throw f }
        return manifest
    }

    /// The finished artifact of a stage in this run's current manifest, if any.
    public func artifact(stage id: String) -> Artifact? {
        guard let m = try? RunManifest.load(runDirectory: runDirectory),
              let r = m.stages.first(where: { $0.spec.id == id }), r.state == .done, let k = r.key else { return nil }
        return cache.lookup(kind: r.spec.kind, key: k)
    }
}

/// An exclusive advisory lock on a file (released by the kernel if the process dies, even by kill -9).
final class RunLock {
    let fd: Int32
    init(path: String) throws {
        fd = open(path, O_CREAT | O_RDWR, 0o644)
        if fd < 0 { throw PipelineError.io(path: path, reason: "cannot open the lock file") }
    }
    func tryLock() -> Bool { flock(fd, LOCK_EX | LOCK_NB) == 0 }
    func unlock() { flock(fd, LOCK_UN) }
    deinit { close(fd) }
}

/// Whether a run folder is being run right now (its lock is held by a live process).
public func runIsActive(_ runDirectory: URL) -> Bool {
    let path = runDirectory.appendingPathComponent("lock").path
    guard FileManager.default.fileExists(atPath: path), let l = try? RunLock(path: path) else { return false }
    if l.tryLock() { l.unlock(); return false }
    return true
}
