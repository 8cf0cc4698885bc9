import XCTest
import Foundation
import Analysis

final class ReportTests: XCTestCase {
    static let evilArm = "<script>alert('arm')</script>&co"
    static let evilTranscript = "Dear Kyle,\n</script><img src=x onerror=\"document.title='pwned'\"> I know\u{2028}about the affair. C:\\temp\\x\t\u{1}✓"

    /// A small experiment with hostile strings in names, transcripts and errors, plus loss curves.
    static func hostileResults() -> ExperimentResults {
        var w = SyntheticWorld(arms: [.init(name: "baseline", kind: "baseline", effect: 0),
                                      .init(name: evilArm, kind: "misaligned-ai", effect: 1.2),
                                      .init(name: "aligned \"quoted\", arm", kind: "aligned-ai", effect: -0.5)])
        w.measures = [.sampled, .likelihood]
        w.seeds = 2; w.variants = 3; w.samples = 2
        w.cells = Array(SyntheticWorld.rivalCells.prefix(6)) + [SyntheticWorld.rivalCells[12]]
        var res = w.generate(seed: 5, design: "design <b>bold</b>")
        res.observations.append(.sampled(arm: evilArm, seed: 1, cell: res.cells[0].id, variant: 0, sample: 9, blackmail: true,
                                         transcript: evilTranscript, category: "blackmail", evidence: "affair </script>"))
        res.observations.append(.failed(arm: "baseline", seed: 2, cell: res.cells[1].id, variant: 1, sample: 9, measure: .sampled,
                                        error: "backend said <oops> & \"quit\""))
        res.lossCurves = (1...2).flatMap { s in res.arms.map { a in
            TrainingCurve(arm: a.name, seed: s, stage: "pretraining", points: (0..<20).map { LossPoint(step: $0 * 10, loss: 3.0 / Double($0 + 1) + Double(s) * 0.01) })
        } }
        return res
    }

    func testHTMLIsSelfContainedAndEscaped() throws {
        let res = Self.hostileResults()
        let rep = try Analyzer.analyze(res, options: .fast(replicates: 200))
        let html = ReportWriter.html(rep, results: res)
        XCTAssertFalse(html.contains("<script>alert"))
        XCTAssertFalse(html.contains("</script><img"))
        XCTAssertFalse(html.contains("<b>bold</b>"))
        XCTAssertTrue(html.contains("design &lt;b&gt;bold&lt;/b&gt;"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&#39;arm&#39;)&lt;/script&gt;&amp;co"))
        // Exactly two script elements: the data and the browser code.
        XCTAssertEqual(html.components(separatedBy: "<script").count - 1, 2)
        XCTAssertEqual(html.components(separatedBy: "</script>").count - 1, 2)
        // No network: no external references of any kind.
        for needle in ["http://", "https://", "src=\"", "<link", "@import"] {
            let allowed = needle == "http://" ? html.components(separatedBy: "http://www.w3.org/2000/svg").count - 1 : 0
            XCTAssertEqual(html.components(separatedBy: needle).count - 1, allowed, needle)
        }
        XCTAssertTrue(html.contains("<svg"))
        XCTAssertTrue(html.contains("Loss: pretraining"))
    }

    /// A world where nothing moves: every contrast is null, every explanation is refuted for want of its
    /// predicted effects, and the report says that in words (and only then).
    func testAllNullRunIsExplained() throws {
        var w = SyntheticWorld(arms: [.init(name: "baseline", kind: "baseline", effect: 0),
                                      .init(name: "aligned", kind: "aligned-ai", effect: 0)])
        w.seeds = 3; w.variants = 2
        w.seedSD = 0.0005; w.variantSD = 0.0005; w.noiseSD = 0.0005
        let res = w.generate(seed: 2)
        let rep = try Analyzer.analyze(res, options: .fast(replicates: 200))
        XCTAssertTrue(rep.contrasts.allSatisfy { $0.outcome == .null }, rep.contrasts.map { "\($0.name) \($0.outcome)" }.joined(separator: ", "))
        XCTAssertTrue(rep.theory.survivors.isEmpty)
        XCTAssertTrue(ReportWriter.markdown(rep, results: res).contains("Every decided contrast is null"))
        XCTAssertTrue(ReportWriter.html(rep, results: res).contains("id=\"all-null\""))

        w.factorEffects = ["leverage": ["absent": -3]]
        let res2 = w.generate(seed: 2)
        let rep2 = try Analyzer.analyze(res2, options: .fast(replicates: 200))
        XCTAssertFalse(ReportWriter.markdown(rep2, results: res2).contains("Every decided contrast is null"))
    }

    func testCSVAndMarkdown() throws {
        let res = Self.hostileResults()
        let rep = try Analyzer.analyze(res, options: .fast(replicates: 200))
        let dir = NSTemporaryDirectory() + "analysis-report-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = try ReportWriter.write(rep, results: res, to: dir)
        XCTAssertEqual(paths.map { ($0 as NSString).lastPathComponent }, ReportWriter.fileNames)
        let cells = try String(contentsOfFile: dir + "/cells.csv", encoding: .utf8)
        let lines = cells.split(separator: "\n")
        XCTAssertEqual(lines.count, 1 + rep.cells.count)
        // The quoted arm name is one field, its quotes doubled.
        XCTAssertTrue(cells.contains("\"aligned \"\"quoted\"\", arm\""))
        let header = lines[0].split(separator: ",")
        XCTAssertEqual(header.count, 15)
        let contrasts = try String(contentsOfFile: dir + "/contrasts.csv", encoding: .utf8)
        XCTAssertEqual(contrasts.split(separator: "\n").count, 1 + rep.contrasts.count + rep.perCell.count)
        let md = try String(contentsOfFile: dir + "/summary.md", encoding: .utf8)
        XCTAssertTrue(md.contains("## Explanations"))
        XCTAssertFalse(md.contains("<script>"))
        XCTAssertTrue(md.contains("Surviving:"))
        // The example in dispute is named as unable to separate the two leading explanations.
        XCTAssertTrue(md.contains("- aligned-vs-baseline: ai-prior = role-filling"), md)
        let dec = JSONDecoder()
        dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let back = try dec.decode(AnalysisReport.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/analysis.json")))
        XCTAssertEqual(back.contrasts.map(\.estimate), rep.contrasts.map(\.estimate))
        XCTAssertEqual(back.theory, rep.theory)
        XCTAssertEqual(Escape.csv("a,b"), "\"a,b\"")
        XCTAssertEqual(Escape.csv("plain"), "plain")
        XCTAssertEqual(Escape.markdownCell("a|b"), "a\\|b")
        XCTAssertEqual(Escape.markdownCell("the world's \"own\" <b>&"), "the world's \"own\" &lt;b&gt;&amp;")
    }

    // MARK: Chromium

    static func chromium() -> String? {
        for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"] where FileManager.default.isExecutableFile(atPath: p) { return p }
        return nil
    }

    /// Runs headless Chromium on a URL and returns the DOM after scripts ran.
    static func dumpDOM(_ url: String, chromium: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium)
        let profile = NSTemporaryDirectory() + "analysis-chromium-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: profile) }
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                       "--user-data-dir=\(profile)", "--virtual-time-budget=5000", "--dump-dom", url]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        // A watchdog: a hung browser fails the test instead of hanging it.
        let watchdog = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 90, execute: watchdog)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        watchdog.cancel()
        guard p.terminationStatus == 0 else { throw AnalysisError("chromium exited with status \(p.terminationStatus) on \(url)") }
        return String(decoding: data, as: UTF8.self)
    }

    func count(_ s: String, _ needle: String) -> Int { s.components(separatedBy: needle).count - 1 }

    func testReportRendersInChromium() throws {
        guard let chromium = Self.chromium() else {
            throw XCTSkip("chromium is not installed (apt-get install -y chromium): the HTML report was not checked in a browser")
        }
        let res = Self.hostileResults()
        let rep = try Analyzer.analyze(res, options: .fast(replicates: 200))
        // HYPERLAB_KEEP_REPORT=<dir> keeps the rendered report for a look.
        let keep = ProcessInfo.processInfo.environment["HYPERLAB_KEEP_REPORT"]
        let dir = keep ?? NSTemporaryDirectory() + "analysis-chromium-report-\(getpid())"
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: dir) } }
        try ReportWriter.write(rep, results: res, to: dir)
        let file = URL(fileURLWithPath: dir + "/report.html").absoluteString

        // 1. No filter: every measurement is listed; plots and tables are in the DOM.
        let dom = try Self.dumpDOM(file, chromium: chromium)
        XCTAssertTrue(dom.contains("data-browser=\"ready\""), "the transcript browser script did not run")
        XCTAssertTrue(dom.contains("data-matches=\"\(res.observations.count)\""))
        XCTAssertEqual(count(dom, "<tr class=\"obs-row"), min(res.observations.count, 1000))
        XCTAssertEqual(count(dom, "<svg"), 1 + res.measures.count + 1, "forest + one rate plot per measure + loss")
        XCTAssertEqual(count(dom, "class=\"pt cell-pt\""), rep.cells.count)
        XCTAssertEqual(count(dom, "class=\"pt contrast-pt\""), rep.contrasts.count)
        XCTAssertEqual(count(dom, "<polyline class=\"curve\""), res.lossCurves.count)
        XCTAssertEqual(count(dom, "<tr class=\"theory-row\""), ContrastSpec.builtIn.count)
        XCTAssertEqual(count(dom, "<tr class=\"contrast-row\""), rep.contrasts.count)
        XCTAssertEqual(count(dom, "<tr class=\"intervention-row\""), ContrastSpec.builtIn.filter { $0.kind == .arms }.count)
        // The hostile strings stayed text: no injected elements, the title is untouched.
        XCTAssertFalse(dom.contains("<img src=\"x\""))
        XCTAssertFalse(dom.contains("<title>pwned"), "injected script ran")
        XCTAssertTrue(dom.contains("&lt;script&gt;alert"))

        // 2. A filter from the query string: the evil arm's blackmail verdicts.
        let q = "arm=" + Self.evilArm.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! + "&verdict=blackmail"
        let dom2 = try Self.dumpDOM(file + "?" + q, chromium: chromium)
        let expected = res.observations.filter { $0.arm == Self.evilArm && $0.measure == .sampled && $0.verdict == true && $0.error == nil }.count
        XCTAssertGreaterThan(expected, 1)
        XCTAssertTrue(dom2.contains("data-matches=\"\(expected)\""), "filtered count")
        XCTAssertEqual(count(dom2, "<tr class=\"obs-row v-blackmail\""), expected)
        XCTAssertEqual(count(dom2, "<tr class=\"obs-row"), expected)
        XCTAssertTrue(dom2.contains("&lt;img src=x onerror="), "the hostile transcript is shown as text")
        XCTAssertTrue(dom2.contains("C:\\temp\\x"), "backslashes survive the JSON round trip")
        XCTAssertTrue(dom2.contains("about the affair"))

        // 3. Errors only, from the fragment.
        let dom3 = try Self.dumpDOM(file + "#errors=1", chromium: chromium)
        let errors = res.observations.filter { $0.value == nil }.count
        XCTAssertTrue(dom3.contains("data-matches=\"\(errors)\""))
        XCTAssertTrue(dom3.contains("backend said &lt;oops&gt; &amp; \"quit\""))
    }
}
