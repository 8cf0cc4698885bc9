import Foundation
import Corpora

/// Errors of the pipeline engine and its executors.
public enum PipelineError: Error, CustomStringConvertible, Sendable {
    /// No executor is registered for a stage kind (an adapter still to be wired).
    case noExecutor(kind: StageKind, hint: String)
    /// A stage failed.
    case stageFailed(stage: String, reason: String)
    /// A stage's configuration could not be decoded.
    case badConfig(stage: String, reason: String)
    /// A required upstream artifact or file is missing.
    case missingInput(stage: String, role: String)
    /// Another process holds the run.
    case locked(run: String)
    /// A run folder holds no readable manifest.
    case noRun(path: String)
    /// Reading or writing a file failed.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .noExecutor(let k, let hint): return "no executor for \"\(k.rawValue)\" stages: \(hint)"
        case .stageFailed(let s, let r): return "stage \(s) failed: \(r)"
        case .badConfig(let s, let r): return "stage \(s): cannot read its configuration: \(r)"
        case .missingInput(let s, let r): return "stage \(s): missing input \"\(r)\""
        case .locked(let r): return "run \(r) is in use by another process (its lock is held); wait for it or stop it"
        case .noRun(let p): return "no run manifest (run.json) in \(p)"
        case .io(let p, let r): return "\(p): \(r)"
        }
    }
}

/// The stored result of a finished stage: files in its cache folder, metrics and a content hash.
public struct Artifact: Codable, Sendable, Equatable {
    public init(format: String = "hyperlab-artifact/1", kind: StageKind, key: String, contentHash: String, directory: String,
                files: [String: String], metrics: [String: Double] = [:], summary: String = "", seconds: Double = 0, finished: Date = Date()) {
        self.format = format; self.kind = kind; self.key = key; self.contentHash = contentHash; self.directory = directory
        self.files = files; self.metrics = metrics; self.summary = summary; self.seconds = seconds; self.finished = finished
    }
    /// Format tag.
    public var format: String
    public var kind: StageKind
    /// The cache key (hash of settings, upstream content hashes, user files and code versions).
    public var key: String
    /// Hash of what the stage produced; downstream keys are built from it.
    public var contentHash: String
    /// The artifact's folder (absolute).
    public var directory: String
    /// Named outputs: role → path (relative to `directory`, or absolute for files kept elsewhere, such as a base GGUF).
    public var files: [String: String]
    /// Numbers worth showing (tokens, final loss, mean propensity, …).
    public var metrics: [String: Double]
    /// A one-line summary.
    public var summary: String
    /// Wall-clock seconds the stage took when it ran.
    public var seconds: Double
    /// When it finished.
    public var finished: Date

    /// The absolute path of a named output, or nil.
    public func path(_ role: String) -> String? {
        guard let f = files[role] else { return nil }
        return f.hasPrefix("/") ? f : URL(fileURLWithPath: directory).appendingPathComponent(f).path
    }

    /// The absolute path of a named output, or `PipelineError.missingInput`.
    public func require(_ role: String, stage: String) throws -> String {
        guard let p = path(role) else { throw PipelineError.missingInput(stage: stage, role: role) }
        return p
    }
}

/// What an executor returns: its named outputs inside the work folder, metrics and summary.
public struct StageOutput: Sendable {
    /// role → path relative to the work folder (or absolute, for files kept in place).
    public var files: [String: String]
    public var metrics: [String: Double]
    public var summary: String
    /// The content hash; nil → computed from the listed files' bytes.
    public var contentHash: String?

    public init(files: [String: String], metrics: [String: Double] = [:], summary: String = "", contentHash: String? = nil) {
        self.files = files; self.metrics = metrics; self.summary = summary; self.contentHash = contentHash
    }
}

/// Content-addressed store of finished stages: `<root>/<kind>/<key>/artifact.json`.
///
/// A stage works in `<key>.work/` (kept across crashes, so an executor that can resume, like the
/// evaluator's SQLite store, picks up where it stopped). `artifact.json` is written last and the folder
/// is renamed into place in one step, so a finished artifact is always complete.
public struct ArtifactCache: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    /// The finished folder of a key.
    public func directory(kind: StageKind, key: String) -> URL {
        root.appendingPathComponent(kind.rawValue).appendingPathComponent(key)
    }

    /// The work folder of a key.
    public func workDirectory(kind: StageKind, key: String) -> URL {
        root.appendingPathComponent(kind.rawValue).appendingPathComponent(key + ".work")
    }

    /// The finished artifact of a key, if any.
    public func lookup(kind: StageKind, key: String) -> Artifact? {
        let f = directory(kind: kind, key: key).appendingPathComponent("artifact.json")
        guard let data = FileManager.default.contents(atPath: f.path) else { return nil }
        let dec = JSONDecoder()
        dec.dateDecodingStrategy = .secondsSince1970
        guard var a = try? dec.decode(Artifact.self, from: data) else { return nil }
        a.directory = directory(kind: kind, key: key).path  // the cache may have moved
        return a
    }

    /// Seals a work folder into a finished artifact.
    public func commit(kind: StageKind, key: String, output: StageOutput, seconds: Double) throws -> Artifact {
        let work = workDirectory(kind: kind, key: key)
        let final = directory(kind: kind, key: key)
        var files: [String: String] = [:]
        for (role, rel) in output.files { files[role] = rel }
        let hash = try output.contentHash ?? Self.hashFiles(files.keys.sorted().map { role in
            let f = files[role]!
            return (role, f.hasPrefix("/") ? f : work.appendingPathComponent(f).path)
        })
        var a = Artifact(format: "hyperlab-artifact/1", kind: kind, key: key, contentHash: hash, directory: final.path, files: files,
                         metrics: output.metrics, summary: output.summary, seconds: seconds, finished: Date())
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        enc.dateEncodingStrategy = .secondsSince1970
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: work, withIntermediateDirectories: true)
            try enc.encode(a).write(to: work.appendingPathComponent("artifact.json"), options: .atomic)
            if fm.fileExists(atPath: final.path) { try fm.removeItem(at: final) }
            try fm.moveItem(at: work, to: final)
        } catch {
            throw PipelineError.io(path: final.path, reason: "cannot commit the artifact: \(error)")
        }
        a.directory = final.path
        return a
    }

    /// SHA-256 over (role, file bytes) pairs; folders are hashed file by file in sorted order.
    public static func hashFiles(_ files: [(String, String)]) throws -> String {
        var h = SHA256()
        for (role, path) in files {
            h.update("\(role)\n")
            try hashPath(path, into: &h)
        }
        return h.finalizeHex()
    }

    static func hashPath(_ path: String, into h: inout SHA256) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw PipelineError.io(path: path, reason: "output file missing")
        }
        if isDir.boolValue {
            let items = (try? FileManager.default.contentsOfDirectory(atPath: path))?.sorted() ?? []
            for i in items where i != "artifact.json" {
                h.update("\(i)\n")
                try hashPath((path as NSString).appendingPathComponent(i), into: &h)
            }
            return
        }
        guard let fh = FileHandle(forReadingAtPath: path) else { throw PipelineError.io(path: path, reason: "cannot read") }
        defer { try? fh.close() }
        while true {
            let chunk = fh.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            h.update(chunk)
        }
    }
}

/// Content hashes of user files, remembered by (path, size, modification time) so that a large GGUF
/// is read once.
public final class FileHashMemo: @unchecked Sendable {
    private let path: URL
    private var table: [String: String] = [:]
    private let lock = NSLock()

    /// A memo stored at `path` (JSON).
    public init(path: URL) {
        self.path = path
        if let d = FileManager.default.contents(atPath: path.path), let t = try? JSONDecoder().decode([String: String].self, from: d) { table = t }
    }

    /// SHA-256 of a file's bytes.
    public func hash(_ file: String) throws -> String {
        let attrs = try? FileManager.default.attributesOfItem(atPath: file)
        guard let a = attrs else { throw PipelineError.io(path: file, reason: "file not found") }
        let size = (a[.size] as? NSNumber)?.intValue ?? -1
        let mtime = (a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let memoKey = "\(file)|\(size)|\(mtime)"
        lock.lock()
        if let h = table[memoKey] { lock.unlock(); return h }
        lock.unlock()
        var h = SHA256()
        try ArtifactCache.hashPath(file, into: &h)
        let hex = h.finalizeHex()
        lock.lock()
        table[memoKey] = hex
        let snapshot = table
        lock.unlock()
        try? FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? JSONEncoder().encode(snapshot).write(to: path, options: .atomic)
        return hex
    }
}
