import Foundation
import XCTest
import Transformer

/// Locates `../shared/reference` beside the package (or `HYPERLAB_REFERENCE_DIR`).
enum Reference {
    static var directory: URL {
        if let d = ProcessInfo.processInfo.environment["HYPERLAB_REFERENCE_DIR"] { return URL(fileURLWithPath: d) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/reference")
    }

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }
}

/// Loaded models, shared by every test in the process (fetched into the cache if missing).
enum Models {
    nonisolated(unsafe) private static var cache: [String: Model] = [:]
    private static let lock = NSLock()

    static func load(_ alias: String) throws -> Model {
        lock.lock(); defer { lock.unlock() }
        if let m = cache[alias] { return m }
        let path = try ModelStore.resolve(alias)
        let m = try Model(path: path, contextLimit: 4096)
        cache[alias] = m
        return m
    }

    static let aliasOfReference = ["smollm2": "smollm2-135m-instruct", "gemma3": "gemma3-270m"]
}
