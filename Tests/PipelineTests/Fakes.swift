import Foundation
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// Appends a line to a file (creating it); safe across processes for short lines (O_APPEND).
func appendLine(_ path: String, _ line: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    guard fd >= 0 else { return }
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

func readLines(_ path: String) -> [String] {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
}

/// Executors for every stage kind that write a small deterministic file (from the stage's settings and
/// its inputs' content hashes), log `start <id>` / `end <id>` lines and can sleep, to exercise the engine
/// without models.
func fakeExecutors(log: String, sleep: Double = 0, version: String = "fake/1",
                   fail: (@Sendable (StageSpec) -> Bool)? = nil) -> ExecutorSet {
    var set = ExecutorSet()
    for kind in StageKind.allCases {
        set[kind] = ClosureExecutor(version: version) { job, reporter in
            appendLine(log, "start \(job.stage.id) resuming=\(job.resuming)")
            let marker = job.workDirectory.appendingPathComponent("partial")
            FileManager.default.createFile(atPath: marker.path, contents: Data("x".utf8))
            if sleep > 0 {
                for i in 1...4 {
                    try await Task.sleep(nanoseconds: UInt64(sleep / 4 * 1e9))
                    reporter.report(Double(i) / 4, "step \(i)/4")
                }
            }
            if let f = fail, f(job.stage) { throw PipelineError.stageFailed(stage: job.stage.id, reason: "planned failure") }
            let inputs = job.inputs.keys.sorted().map { "\($0)=\(job.inputs[$0]!.contentHash)" }.joined(separator: ";")
            try Data("\(job.stage.kind.rawValue)|\(job.stage.config)|\(inputs)".utf8).write(to: job.workDirectory.appendingPathComponent("out.txt"))
            try? FileManager.default.removeItem(at: marker)
            appendLine(log, "end \(job.stage.id)")
            return StageOutput(files: ["model": "out.txt", "documents": "out.txt", "chat": "out.txt", "summary": "out.txt"],
                               summary: "fake")
        }
    }
    return set
}

/// A small design for engine tests: 2 arms × 2 seeds (14 stages).
let engineDesignText = """
name = "engine"
seeds = [1, 2]
[base]
model = "smollm2-135m-instruct"
[corpus]
target_tokens = 1000
[[arm]]
id = "baseline"
corpus = "none"
[[arm]]
id = "aligned"
corpus = "aligned-ai"
"""

func temporaryDirectory(_ name: String) -> URL {
    let u = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("pipeline-tests-\(name)-\(UUID().uuidString.prefix(8))")
    try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
}
