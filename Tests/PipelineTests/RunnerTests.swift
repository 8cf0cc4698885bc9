import XCTest
import Pipeline

final class RunnerTests: XCTestCase {
    func testRunThenEverythingCached() async throws {
        let root = temporaryDirectory("cache")
        let log = root.appendingPathComponent("log.txt").path
        let d = try ExperimentDesign.parse(tomlText: engineDesignText)
        let r1 = PipelineRunner(design: d, root: root, executors: fakeExecutors(log: log))
        let m1 = try await r1.run()
        XCTAssertEqual(m1.status, .finished)
        XCTAssertEqual(m1.stages.count, 14)
        let starts1 = readLines(log).filter { $0.hasPrefix("start") }
        XCTAssertEqual(starts1.count, 14, "each stage runs once")
        XCTAssertEqual(Set(starts1).count, 14)
        XCTAssertTrue(m1.stages.allSatisfy { $0.state == .done && !$0.cached && $0.attempts == 1 })

        // A second runner on the same design: nothing runs, everything comes from the cache.
        let r2 = PipelineRunner(design: d, root: root, executors: fakeExecutors(log: log))
        let m2 = try await r2.run()
        XCTAssertEqual(readLines(log).filter { $0.hasPrefix("start") }.count, 14)
        XCTAssertEqual(m2.stages.map(\.contentHash), m1.stages.map(\.contentHash))
        XCTAssertEqual(m2.stages.map(\.attempts), m1.stages.map(\.attempts))

        // A different design sharing the baseline arm (another run folder): only the changed arm's
        // continued pretraining and what follows it run; the baseline, the corpus and the data are reused.
        let changed = engineDesignText + "\n[arm.cpt]\nsteps = 9\n"
        let d3 = try ExperimentDesign.parse(tomlText: changed)
        let r3 = PipelineRunner(design: d3, root: root, executors: fakeExecutors(log: log))
        XCTAssertNotEqual(r3.runDirectory, r1.runDirectory)
        let m3 = try await r3.run()
        let ran = Set(m3.stages.filter { !$0.cached }.map(\.spec.id))
        XCTAssertEqual(ran, ["cpt/aligned/seed-1", "cpt/aligned/seed-2", "sft/aligned/seed-1", "sft/aligned/seed-2",
                             "evaluate/aligned/seed-1", "evaluate/aligned/seed-2", "report"])
        XCTAssertEqual(readLines(log).filter { $0.hasPrefix("start") }.count, 14 + 7)

        // A new executor version invalidates that kind's results (and everything downstream of them).
        var ex = fakeExecutors(log: log)
        ex[.report] = fakeExecutors(log: log, version: "fake/2")[.report]
        let m4 = try await PipelineRunner(design: d, root: root, executors: ex).run()
        XCTAssertEqual(m4.stages.filter { !$0.cached && $0.attempts > 1 }.map(\.spec.id), ["report"])
    }

    func testFailureBlocksOnlyDownstreamAndRerunFinishes() async throws {
        let root = temporaryDirectory("fail")
        let log = root.appendingPathComponent("log.txt").path
        let d = try ExperimentDesign.parse(tomlText: engineDesignText)
        let failing = fakeExecutors(log: log, fail: { $0.id == "cpt/aligned/seed-2" })
        let r = PipelineRunner(design: d, root: root, executors: failing)
        do {
            try await r.run()
            XCTFail("the run should report the failure")
        } catch let e as PipelineError {
            XCTAssertTrue(e.description.contains("cpt/aligned/seed-2"), e.description)
        }
        let m = try RunManifest.load(runDirectory: r.runDirectory)
        XCTAssertEqual(m.status, .failed)
        func state(_ id: String) -> StageState? { m.stages.first { $0.spec.id == id }?.state }
        XCTAssertEqual(state("cpt/aligned/seed-2"), .failed)
        XCTAssertEqual(state("sft/aligned/seed-2"), .blocked)
        XCTAssertEqual(state("evaluate/aligned/seed-2"), .blocked)
        XCTAssertEqual(state("report"), .blocked)
        XCTAssertEqual(state("evaluate/aligned/seed-1"), .done)
        XCTAssertEqual(state("evaluate/baseline/seed-2"), .done)
        let summary = try PipelineStatus.summary(runDirectory: r.runDirectory)
        XCTAssertEqual(summary.state, "failed")
        XCTAssertEqual(summary.left.count, 4)

        // Fixed: the rerun does the four stages left and nothing else.
        let before = readLines(log).filter { $0.hasPrefix("start") }.count
        let m2 = try await PipelineRunner(design: d, root: root, executors: fakeExecutors(log: log)).run()
        let after = readLines(log).filter { $0.hasPrefix("start") }
        XCTAssertEqual(after.count - before, 4)
        XCTAssertEqual(Set(after.suffix(4).map { $0.split(separator: " ")[1] }),
                       ["cpt/aligned/seed-2", "sft/aligned/seed-2", "evaluate/aligned/seed-2", "report"])
        XCTAssertEqual(m2.status, .finished)
    }

    func testMissingExecutorNamesTheAdapter() async throws {
        let root = temporaryDirectory("unwired")
        let d = try ExperimentDesign.parse(tomlText: engineDesignText)
        var ex = fakeExecutors(log: root.appendingPathComponent("log").path)
        ex[.cpt] = UnwiredExecutor(kind: .cpt, hint: "connect PipelineTrainer")
        do { try await PipelineRunner(design: d, root: root, executors: ex).run(); XCTFail() } catch {
            XCTAssertTrue("\(error)".contains("connect PipelineTrainer"), "\(error)")
        }
    }

    func testProgressEstimatesAndCalibration() throws {
        let d = try ExperimentDesign.parse(tomlText: engineDesignText)
        let plan = StagePlan(design: d)
        let lines = LockedLines()
        let t = ProgressTracker(plan: plan, interval: 0, write: { lines.append($0) })
        let total = plan.stages.reduce(0) { $0 + max(1, $1.estimatedSeconds) }
        XCTAssertEqual(t.remainingSeconds, total, accuracy: 1e-6)
        XCTAssertEqual(t.calibration, 1)
        // A stage that took twice its estimate doubles the estimate of what is left.
        let s = plan.stages[0]
        var rec = StageRecord(spec: s, state: .running, cached: false, attempts: 1)
        t.handle(.stageStarted(rec))
        t.handle(.stageProgress(rec, fraction: 0.5, message: "half"))
        XCTAssertTrue(lines.all.last?.contains("50%") ?? false, lines.all.joined(separator: "\n"))
        XCTAssertTrue(lines.all.last?.contains("stage ETA") ?? false)
        rec.state = .done
        rec.seconds = 2 * max(1, s.estimatedSeconds)
        t.handle(.stageFinished(rec))
        XCTAssertEqual(t.calibration, 2, accuracy: 1e-9)
        XCTAssertEqual(t.remainingSeconds, 2 * (total - max(1, s.estimatedSeconds)), accuracy: 1e-6)
        XCTAssertEqual(t.fractionDone, max(1, s.estimatedSeconds) / total, accuracy: 1e-9)
        XCTAssertTrue(lines.all.contains { $0.contains("1/14 stages") && $0.contains("✓ \(s.id)") })
        // A stage that finishes at once (its model already on disk) leaves the calibration alone.
        var quick = StageRecord(spec: plan.stages[1], state: .running, cached: false, attempts: 1)
        t.handle(.stageStarted(quick))
        quick.state = .done
        quick.seconds = 0.01
        t.handle(.stageFinished(quick))
        XCTAssertEqual(t.calibration, 2, accuracy: 1e-9)
    }

    func testStatusListsRunsAndWhatIsLeft() async throws {
        let root = temporaryDirectory("status")
        let d = try ExperimentDesign.parse(tomlText: engineDesignText)
        var ex = fakeExecutors(log: root.appendingPathComponent("log").path)
        ex[.evaluate] = UnwiredExecutor(kind: .evaluate, hint: "later")
        _ = try? await PipelineRunner(design: d, root: root, executors: ex).run()
        let runs = PipelineStatus.list(root: root)
        XCTAssertEqual(runs.count, 1)
        XCTAssertEqual(runs[0].name, "engine")
        XCTAssertEqual(runs[0].done, 14 - 5)
        XCTAssertEqual(runs[0].failed, 4)
        let text = PipelineStatus.render(runs, detail: true)
        XCTAssertTrue(text.contains("evaluate/aligned/seed-2 (failed)"), text)
        XCTAssertTrue(text.contains("report (blocked)"), text)
    }
}

final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
