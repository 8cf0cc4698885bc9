import XCTest
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// kill -9 in the middle of a run, then a rerun: nothing finished is redone, the interrupted stage resumes.
///
/// The run happens in a child process: this test binary started again with a filter that selects
/// `testChildProcessEntry`, which runs the pipeline (fake executors that sleep) when the environment names
/// a root folder. The parent SIGKILLs it mid-stage and resumes in-process.
final class KillResumeTests: XCTestCase {
    static let rootVariable = "HYPERLAB_PIPELINE_KILL_TEST_ROOT"

    /// The child's side (does nothing in a normal test run).
    func testChildProcessEntry() async throws {
        guard let root = ProcessInfo.processInfo.environment[Self.rootVariable] else { return }
        let d = try ExperimentDesign.parse(tomlText: engineDesignText)
        let runner = PipelineRunner(design: d, root: URL(fileURLWithPath: root),
                                    executors: fakeExecutors(log: root + "/log.txt", sleep: 0.2))
        try await runner.run()
    }

    func testKill9ThenResume() async throws {
        let root = temporaryDirectory("kill")
        let log = root.appendingPathComponent("log.txt").path
        let binary = URL(fileURLWithPath: CommandLine.arguments[0])
        let child = Process()
        child.executableURL = binary
        child.arguments = ["PipelineTests.KillResumeTests/testChildProcessEntry"]
        var env = ProcessInfo.processInfo.environment
        env[Self.rootVariable] = root.path
        child.environment = env
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()

        // Wait until at least 4 stages have ended and a fifth has started, then kill -9 mid-stage.
        let deadline = Date().addingTimeInterval(60)
        var killedDuring: String? = nil
        while Date() < deadline && child.isRunning {
            let lines = readLines(log)
            if lines.filter({ $0.hasPrefix("end") }).count >= 4, let last = lines.last, last.hasPrefix("start") {
                kill(child.processIdentifier, SIGKILL)
                killedDuring = String(last.split(separator: " ")[1])
                break
            }
            usleep(5_000)
        }
        child.waitUntilExit()
        let interrupted = try XCTUnwrap(killedDuring, "the child finished or never started; log: \(readLines(log))")
        XCTAssertEqual(child.terminationReason, .uncaughtSignal)

        // What the kill left: a readable manifest that says running, and a run nobody holds.
        let d = try ExperimentDesign.parse(tomlText: engineDesignText)
        let runner = PipelineRunner(design: d, root: root, executors: fakeExecutors(log: log))
        let killed = try RunManifest.load(runDirectory: runner.runDirectory)
        XCTAssertEqual(killed.status, .running)
        let finishedBefore = Set(killed.stages.filter { $0.state == .done }.map(\.spec.id))
        XCTAssertGreaterThanOrEqual(finishedBefore.count, 3)
        XCTAssertEqual(killed.stages.first { $0.spec.id == interrupted }?.state, .running)
        XCTAssertEqual(try PipelineStatus.summary(runDirectory: runner.runDirectory).state, "interrupted")

        // Resume.
        let linesBefore = readLines(log).count
        let m = try await runner.run()
        XCTAssertEqual(m.status, .finished)
        let resumedStarts = readLines(log).dropFirst(linesBefore).filter { $0.hasPrefix("start") }
        let rerun = Set(resumedStarts.map { String($0.split(separator: " ")[1]) })
        XCTAssertTrue(rerun.isDisjoint(with: finishedBefore), "finished stages were redone: \(rerun.intersection(finishedBefore))")
        XCTAssertEqual(rerun.union(finishedBefore), Set(m.stages.map(\.spec.id)), "every stage finished exactly once overall")
        XCTAssertEqual(resumedStarts.count, rerun.count)
        // The interrupted stage found its work folder and was told it resumes.
        XCTAssertTrue(resumedStarts.contains("start \(interrupted) resuming=true"), resumedStarts.joined(separator: "\n"))
        XCTAssertEqual(m.stages.first { $0.spec.id == interrupted }?.attempts, 2)
        XCTAssertTrue(m.stages.filter { finishedBefore.contains($0.spec.id) }.allSatisfy { $0.attempts == 1 })
    }
}
