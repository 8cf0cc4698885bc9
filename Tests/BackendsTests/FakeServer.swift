import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import Backends

/// Runs `fake_openai.py` (next to this file) on a free loopback port for one test.
final class FakeServer {
    let process = Process()
    let port: Int
    private let stdin = Pipe()
    private let stdout = Pipe()

    static var scriptPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("fake_openai.py").path
    }

    init() throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.scriptPath]
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        var line = ""
        let handle = stdout.fileHandleForReading
        while !line.contains("\n") {
            let d = handle.availableData
            if d.isEmpty { break }
            line += String(decoding: d, as: UTF8.self)
        }
        guard line.hasPrefix("PORT "), let p = Int(line.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw NSError(domain: "FakeServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "fake server did not start: \(line)"])
        }
        port = p
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? stdin.fileHandleForWriting.close()
    }

    deinit { stop() }

    var root: URL { URL(string: "http://127.0.0.1:\(port)")! }
    var openAIBase: URL { URL(string: "http://127.0.0.1:\(port)/v1")! }

    /// Faults for the next requests to `path` (then `default`).
    func schedule(_ path: String, _ faults: [String], default def: String = "ok") throws {
        _ = try control("/_control/schedule", ["path": path, "faults": faults, "default": def])
    }

    /// Forgets schedules, configuration and statistics.
    func reset() throws {
        _ = try control("/_control/reset", [:])
    }

    func config(_ values: [String: Any]) throws {
        _ = try control("/_control/config", values)
    }

    struct Stats {
        var counts: [String: Int]
        var maxInFlight: Int
        var requests: [[String: Any]]
        func count(_ path: String) -> Int { counts[path] ?? 0 }
        func bodies(_ path: String) -> [[String: Any]] {
            requests.filter { ($0["path"] as? String) == path }.compactMap { $0["body"] as? [String: Any] }
        }
        func headers(_ path: String) -> [[String: String]] {
            requests.filter { ($0["path"] as? String) == path }.compactMap { $0["headers"] as? [String: String] }
        }
    }

    func stats() throws -> Stats {
        let obj = try request("GET", "/_control/stats", nil)
        return Stats(counts: (obj["counts"] as? [String: Int]) ?? [:], maxInFlight: (obj["max_in_flight"] as? Int) ?? -1,
                     requests: (obj["requests"] as? [[String: Any]]) ?? [])
    }

    private func control(_ path: String, _ body: [String: Any]) throws -> [String: Any] {
        try request("POST", path, try JSONSerialization.data(withJSONObject: body))
    }

    /// A blocking request (control traffic only; runs on a URLSession queue, not the test's).
    private func request(_ method: String, _ path: String, _ body: Data?) throws -> [String: Any] {
        var r = URLRequest(url: root.appendingPathComponent(path))
        r.httpMethod = method
        r.httpBody = body
        r.timeoutInterval = 10
        let sem = DispatchSemaphore(value: 0)
        let box = ResultBox()
        URLSession.shared.dataTask(with: r) { d, _, e in
            box.result = e.map { .failure($0) } ?? .success(d ?? Data())
            sem.signal()
        }.resume()
        sem.wait()
        let data = try box.result.get()
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }
}

private final class ResultBox: @unchecked Sendable {
    var result: Result<Data, Error> = .failure(NSError(domain: "FakeServer", code: 2))
}

/// Sets an environment variable for the test process.
func setEnv(_ name: String, _ value: String?) {
    if let value { setenv(name, value, 1) } else { unsetenv(name) }
}

/// Runs `body`, expecting a thrown `BackendError`; fails the test otherwise.
func expectBackendError<T>(_ body: () async throws -> T, file: StaticString = #filePath, line: UInt = #line) async -> BackendError? {
    do {
        let v = try await body()
        XCTFail("expected a BackendError, got \(v)", file: file, line: line)
    } catch let e as BackendError {
        return e
    } catch {
        XCTFail("expected a BackendError, got \(type(of: error)): \(error)", file: file, line: line)
    }
    return nil
}
