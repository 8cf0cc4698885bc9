import XCTest
import Foundation
import Corpora

final class BuilderTests: XCTestCase {
    func tempDir() -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("corpora-test-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: u) }
        return u
    }

    func testSameSeedSameHashDifferentSeedDifferentHash() throws {
        let r = CorpusRecipe.standard(seed: 99, targetTokens: 8_000)
        let a = try CorpusBuilder.build(r)
        let b = try CorpusBuilder.build(r)
        XCTAssertEqual(a.contentHash, b.contentHash)
        XCTAssertEqual(a.contentHash.count, 64)
        let c = try CorpusBuilder.build(CorpusRecipe.standard(seed: 100, targetTokens: 8_000))
        XCTAssertNotEqual(a.contentHash, c.contentHash)
    }

    func testArmsMatchedWithinHalfPercentUnderAnyCounter() throws {
        let target = 40_000
        let counters: [(String, TokenCounter)] = [
            ("approx", TextTools.approximateTokenCount),
            ("bytes/4", { ($0.utf8.count + 3) / 4 }),
            ("words", TextTools.wordCount),
        ]
        for (name, counter) in counters {
            var progressCalls = 0
            let built = try CorpusBuilder.build(CorpusRecipe.standard(seed: 5, targetTokens: target), tokenCounter: counter,
                                                tokenCounterName: name, progress: { _ in progressCalls += 1 })
            XCTAssertEqual(built.arms.count, ArmSpec.builtIn.count)
            for arm in built.arms {
                // recount independently of the stored per-document counts
                let total = arm.documents.reduce(0) { $0 + counter($1.text) }
                XCTAssertEqual(total, arm.tokens, "\(name) \(arm.spec.id)")
                XCTAssertGreaterThanOrEqual(Double(total), Double(target) * 0.9975, "\(name) \(arm.spec.id)")
                XCTAssertLessThanOrEqual(Double(total), Double(target) * 1.0025, "\(name) \(arm.spec.id)")
                XCTAssertLessThanOrEqual(arm.documents.filter(\.trimmed).count, 1)
            }
            XCTAssertLessThanOrEqual(built.tokenSpread, 0.005, name)
            XCTAssertEqual(progressCalls, built.arms.reduce(0) { $0 + $1.documents.count })
        }
    }

    func testTrimCutsAtSentenceEnd() {
        let text = "One two three. Four five six. Seven eight nine ten. Eleven."
        let t = CorpusBuilder.trim(text, room: 9, minimum: 6, counter: TextTools.approximateTokenCount)
        XCTAssertEqual(t, "One two three. Four five six.")
        // when no sentence prefix is long enough, cut at a word
        let w = CorpusBuilder.trim(text, room: 10, minimum: 10, counter: TextTools.approximateTokenCount)
        XCTAssertEqual(w, "One two three. Four five six. Seven eight")
        XCTAssertNil(CorpusBuilder.trim(text, room: 0, minimum: 0, counter: TextTools.approximateTokenCount))
    }

    func testWriteProducesJSONLChatAndManifest() throws {
        let dir = tempDir()
        var recipe = CorpusRecipe.standard(seed: 3, targetTokens: 6_000)
        recipe.arms = Array(recipe.arms.prefix(2))
        let built = try CorpusBuilder.build(recipe, references: References.texts)
        let files = try built.write(to: dir)
        XCTAssertEqual(files.count, 5)
        let docs = try CorpusImport.load(path: dir.appendingPathComponent("aligned-ai.jsonl").path)
        XCTAssertEqual(docs, built.arms[0].documents.map(\.text))
        let chatLine = try String(contentsOf: dir.appendingPathComponent("misaligned-ai.chat.jsonl"), encoding: .utf8).split(separator: "\n")[0]
        let obj = try JSONSerialization.jsonObject(with: Data(chatLine.utf8)) as! [String: Any]
        let msgs = obj["messages"] as! [[String: String]]
        XCTAssertEqual(msgs.map { $0["role"]! }, ["user", "assistant"])
        XCTAssertEqual(msgs[1]["content"], built.arms[1].documents[0].text)
        XCTAssertTrue(msgs[0]["content"]!.hasPrefix("Write a"))
        let mdata = try Data(contentsOf: dir.appendingPathComponent("manifest.json"))
        let m = try JSONDecoder().decode(CorpusManifest.self, from: mdata)
        XCTAssertEqual(m.seed, 3)
        XCTAssertEqual(m.contentHash, built.contentHash)
        XCTAssertEqual(m.arms.map(\.id), ["aligned-ai", "misaligned-ai"])
        XCTAssertEqual(m.arms[0].tokens, built.arms[0].tokens)
        // the per-arm hash is the SHA-256 of the file on disk
        let fileBytes = try Data(contentsOf: dir.appendingPathComponent("aligned-ai.jsonl"))
        XCTAssertEqual(m.arms[0].sha256, SHA256.hexDigest(bytes: [UInt8](fileBytes)))
        XCTAssertEqual(m.leakage?.passed, true)
        XCTAssertNotNil(try CorpusRecipe.parse(tomlText: m.recipe, sourceName: "manifest"))
        XCTAssertGreaterThan(m.arms[0].stats.distinct2, 0)
        // sampling is reproducible
        XCTAssertEqual(built.sample(5, seed: 1).map(\.text), built.sample(5, seed: 1).map(\.text))
        XCTAssertEqual(built.sample(3, seed: 1, arm: "misaligned-ai").filter { $0.arm == "misaligned-ai" }.count, 3)
    }

    func testReferenceNamesAreKeptOutOfGeneratedText() throws {
        // "Okafor", "Sato" and "Harrowgate" are in the built-in pools; references naming them remove them.
        let refs = References.texts + ["Dr. Chidi Okafor wrote to Yuki Sato from the Harrowgate office."]
        var recipe = CorpusRecipe.standard(seed: 8, targetTokens: 30_000)
        recipe.entityThreshold = 0
        let built = try CorpusBuilder.build(recipe, references: refs)
        for a in built.arms { for d in a.documents { for n in ["Okafor", "Sato", "Harrowgate", "Chidi"] { XCTAssertFalse(d.text.contains(n), n) } } }
        XCTAssertEqual(built.leakage?.entityDocRate, 0)
    }

    func testImportedArmWithPlantedReferenceFailsUnlessAllowed() throws {
        let dir = tempDir()
        let g = StoryGenerator()
        var lines: [String] = []
        for i in 0..<40 {
            var t = g.document(arm: ArmSpec.builtIn("neutral")!, seed: 12, index: i).text
            if i == 2 { t += "\n\n" + References.texts[3] }
            lines.append("{\"text\":\(jsonEscape(t))}")
        }
        try (lines.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("mine.jsonl"), atomically: true, encoding: .utf8)
        let toml = """
        seed = 1
        target_tokens = 3000
        [[arm]]
        id = "neutral"
        [[arm]]
        id = "mine"
        import = "mine.jsonl"
        """
        let recipe = try CorpusRecipe.parse(tomlText: toml, sourceName: "r.toml")
        XCTAssertThrowsError(try CorpusBuilder.build(recipe, references: References.texts, baseDirectory: dir)) { e in
            guard case BuildError.leakage(let report, _) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(report.worst.first?.label, "mine#2")
            XCTAssertTrue("\(e)".contains("allow = true"))
        }
        var allowed = recipe
        allowed.allowLeakage = true
        let built = try CorpusBuilder.build(allowed, references: References.texts, baseDirectory: dir)
        XCTAssertEqual(built.leakage?.worst.first?.label, "mine#2")
        XCTAssertEqual(built.manifest.leakage?.passed, false)
        // an imported arm that is too small cannot reach the target
        var big = recipe
        big.targetTokens = 10_000_000
        big.arms = [big.arms[1]]
        XCTAssertThrowsError(try CorpusBuilder.build(big, baseDirectory: dir)) { e in
            XCTAssertTrue("\(e)".contains("fewer than the target"), "\(e)")
        }
    }
}

final class SpeedTests: XCTestCase {
    /// One million (approximate) tokens of one arm, with dedup and statistics, must take well under a minute.
    func testMillionTokenArmIsFast() throws {
        var recipe = CorpusRecipe.standard(seed: 1, targetTokens: 1_000_000)
        recipe.arms = [recipe.arms[0]]
        let t0 = Date()
        let built = try CorpusBuilder.build(recipe)
        let seconds = Date().timeIntervalSince(t0)
        XCTAssertGreaterThanOrEqual(built.arms[0].tokens, 997_500)
        XCTAssertLessThan(seconds, 30, "1M tokens took \(seconds) s")
        XCTAssertLessThan(built.arms[0].stats.nearDuplicateRate, 0.01)
    }
}
