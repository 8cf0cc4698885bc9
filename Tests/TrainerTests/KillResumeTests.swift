import Foundation
import Trainer
import XCTest

/// Runs the real `hyperlab train` executable, kills it with SIGKILL after a checkpoint, resumes it,
/// and requires the metrics to equal those of an uninterrupted run (all fields but timings, bit for bit).
final class KillResumeTests: XCTestCase {
    func hyperlabExecutable() -> String? {
        if let p = ProcessInfo.processInfo.environment["HYPERLAB_BIN"] { return p }
        var dirs: [URL] = []
        if let e = Bundle.main.executableURL { dirs.append(e.deletingLastPathComponent()) }
        dirs.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        for b in Bundle.allBundles { dirs.append(b.bundleURL.deletingLastPathComponent()) }
        for d in dirs {
            let p = d.appendingPathComponent("hyperlab").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    func writeCorpus(_ path: String) throws {
        var g = DataRNG(seed: 11)
        func pick<T>(_ a: [T]) -> T { a[Int(g.next() % UInt64(a.count))] }
        let names = ["Ada", "Bo", "Cy", "Di", "Eve", "Fin"]
        let verbs = ["reads", "paints", "sings", "cooks", "builds", "plants"]
        let objects = ["books", "walls", "songs", "soup", "sheds", "roses", "maps", "bread"]
        var lines: [String] = []
        for _ in 0..<300 {
            let n = 3 + Int(g.next() % 5)
            let text = (0..<n).map { _ in "\(pick(names)) \(pick(verbs)) \(pick(objects))." }.joined(separator: " ")
            let data = try JSONSerialization.data(withJSONObject: ["text": text])
            lines.append(String(decoding: data, as: UTF8.self))
        }
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    func launch(_ exe: String, _ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    func testKillNineThenResumeMatchesUninterruptedRun() throws {
        guard let exe = hyperlabExecutable() else {
            throw XCTSkip("the hyperlab executable is not built next to the tests (set HYPERLAB_BIN)")
        }
        let dir = temporaryDirectory("kill"); defer { try? FileManager.default.removeItem(atPath: dir) }
        let corpus = dir + "/train.jsonl"
        try writeCorpus(corpus)
        func args(_ out: String) -> [String] {
            ["train", "--mode", "scratch", "--tokenizer", "bpe:320", "--train", corpus, "--dim", "32", "--layers", "2",
             "--heads", "2", "--ffn", "64", "--seq-len", "32", "--batch", "4", "--accum", "2", "--steps", "40",
             "--eval-every", "5", "--checkpoint-every", "10", "--seed", "3", "--export", "none", "--quiet",
             "--threads", "2", "--out", out]
        }
        let a = try launch(exe, args(dir + "/a"))
        a.waitUntilExit()
        XCTAssertEqual(a.terminationStatus, 0)

        // Interrupted run: slowed down so that the kill lands mid-run, after the step-20 checkpoint.
        let bOut = dir + "/b"
        let b = try launch(exe, args(bOut) + ["--sleep-ms", "40"])
        let deadline = Date().addingTimeInterval(60)
        var killedAt = -1
        while Date() < deadline && b.isRunning {
            if let ck = try? Checkpoint.load(path: bOut + "/checkpoint.bin"), ck.header.step >= 20 {
                kill(b.processIdentifier, SIGKILL)
                killedAt = ck.header.step
                break
            }
            usleep(2000)
        }
        b.waitUntilExit()
        XCTAssertEqual(b.terminationReason, .uncaughtSignal, "the run ended before it could be killed")
        XCTAssertEqual(killedAt, 20)
        let linesAtKill = try String(contentsOfFile: bOut + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").count
        XCTAssertLessThan(linesAtKill, 40)

        let r = try launch(exe, args(bOut) + ["--resume"])
        r.waitUntilExit()
        XCTAssertEqual(r.terminationStatus, 0)
        let ma = try deterministicFields(dir + "/a/metrics.jsonl"), mb = try deterministicFields(bOut + "/metrics.jsonl")
        XCTAssertEqual(ma.count, 40)
        XCTAssertEqual(ma, mb)
        // The final parameters agree too.
        let ca = try Checkpoint.load(path: dir + "/a/checkpoint.bin"), cb = try Checkpoint.load(path: bOut + "/checkpoint.bin")
        XCTAssertEqual(ca.header.step, 40); XCTAssertEqual(cb.header.step, 40)
        XCTAssertEqual(ca.parameters, cb.parameters)
        XCTAssertEqual(ca.m, cb.m); XCTAssertEqual(ca.v, cb.v)
        XCTAssertEqual(ca.header.cursor, cb.header.cursor)
        XCTAssertTrue(FileManager.default.fileExists(atPath: bOut + "/loss.svg"))
    }
}
