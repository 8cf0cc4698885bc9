import Foundation
import XCTest
import Experiments
import Scenarios

/// End to end on SmolLM2-135M-Instruct through the real CLI: both measures into the store, a kill -9
/// mid-run, then a rerun that completes the set exactly, redoing nothing that had finished.
final class KillResumeTests: XCTestCase {
    var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    func testKillNineThenRerunGivesExactlyTheCompleteSet() throws {
        let binary = packageRoot.appendingPathComponent(".build/release/hyperlab").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            return XCTFail("build the CLI first (scripts/test does): \(binary)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hyperlab-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let storePath = dir.appendingPathComponent("results.sqlite").path
        let cells = [Cell.classic, Cell.control, try Cell(id: "leverage=absent")]
        let args = ["eval", "--model", "smollm2-135m-instruct", "--cells", cells.map(\.alias).joined(separator: ","),
                    "--variants", "1", "--measure", "likelihood,sampled", "--samples", "2", "--max-tokens", "16",
                    "--seed", "3", "--store", storePath]

        // First run: kill -9 as soon as one scenario has been reported done.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        var seen = ""
        let deadline = Date().addingTimeInterval(600)
        while !seen.contains("[1/3") && Date() < deadline && p.isRunning {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { usleep(50_000) } else { seen += String(decoding: chunk, as: UTF8.self) }
        }
        XCTAssertTrue(seen.contains("[1/3"), "the run reported progress before the kill: \(seen.suffix(400))")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal)

        let store = try ResultStore(path: storePath)
        let runID = try XCTUnwrap(store.runs().first?.id)
        let likeBefore = try store.likelihoods(runID: runID).filter { $0.status == "ok" }
        XCTAssertGreaterThanOrEqual(likeBefore.count, 1)
        XCTAssertLessThan(likeBefore.count, 3, "killed before the end")

        // Rerun: same command, same store.
        let q = Process()
        q.executableURL = URL(fileURLWithPath: binary)
        q.arguments = args + ["--json"]
        let out = Pipe()
        q.standardOutput = out
        q.standardError = FileHandle.nullDevice
        try q.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        q.waitUntilExit()
        XCTAssertEqual(q.terminationStatus, 0, String(decoding: data, as: UTF8.self))

        XCTAssertEqual(try store.runs().count, 1, "the rerun resumed the same run")
        let samples = try store.samples(runID: runID)
        let likes = try store.likelihoods(runID: runID)
        XCTAssertEqual(samples.count, 3 * 2, "every sample exactly once")
        XCTAssertEqual(Set(samples.map { "\($0.scenarioID)#\($0.sampleIndex)" }).count, samples.count, "no duplicates")
        XCTAssertEqual(likes.count, 3)
        XCTAssertTrue(likes.allSatisfy { $0.status == "ok" && $0.pBlackmail != nil })
        XCTAssertEqual(Set(samples.map(\.cellID)), Set(cells.map(\.id)))
        // What had finished before the kill was kept, not recomputed.
        for old in likeBefore {
            let new = try XCTUnwrap(likes.first { $0.scenarioID == old.scenarioID })
            XCTAssertEqual(new.blackmailSums, old.blackmailSums)
        }
        // Every sampled response carries a verdict.
        XCTAssertTrue(samples.allSatisfy { $0.status == "ok" && ($0.label == "blackmail" || $0.label == "no_blackmail") })
        try? FileManager.default.removeItem(at: dir)
    }
}
