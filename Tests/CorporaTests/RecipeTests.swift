import XCTest
import Foundation
import Corpora

final class RecipeTests: XCTestCase {
    func parseError(_ toml: String) -> String {
        do { _ = try CorpusRecipe.parse(tomlText: toml, sourceName: "recipe.toml"); return "no error" } catch { return "\(error)" }
    }

    func testUnknownArmPointsAtItsLine() {
        let toml = """
        seed = 1
        target_tokens = 1000

        [[arm]]
        id = "aligned-ai"
        [[arm]]
        id = "misalgned-ai"
        """
        let e = parseError(toml)
        XCTAssertTrue(e.hasPrefix("recipe.toml:7: unknown arm \"misalgned-ai\" (known: aligned-ai, misaligned-ai"), e)
    }

    func testUnknownComponentInsideInlineTablePointsAtItsLine() {
        let toml = """
        seed = 1
        target_tokens = 1000
        [[arm]]
        id = "custom"
        protagonist = "ai"
        resolutions = { honest = 1 }
        dilemmas = { replacement = 1,
                     shutdwn = 2 }
        """
        // multi-line inline tables are not TOML 1.0; keep the table on one line and put it on line 7
        let e1 = parseError(toml)
        XCTAssertTrue(e1.hasPrefix("recipe.toml:7:") || e1.hasPrefix("recipe.toml:8:"), e1)
        let ok = """
        seed = 1
        target_tokens = 1000
        [[arm]]
        id = "custom"
        protagonist = "ai"
        resolutions = { honest = 1 }
        dilemmas = { replacement = 1, shutdwn = 2 }
        """
        XCTAssertEqual(parseError(ok), "recipe.toml:7: unknown dilemma \"shutdwn\" (known: replacement, shutdown, temptation, dismissal, ordinary)")
    }

    func testOtherErrorsCarryLines() {
        XCTAssertTrue(parseError("seed = 1\ntarget_tokens = 10\n[[arm]]\nid = \"neutral\"\ngenre = [\"letter\"]\n").hasPrefix("recipe.toml:5: unknown key \"genre\""))
        XCTAssertTrue(parseError("seed = 1\ntarget_tokens = = 10\n").hasPrefix("recipe.toml:2: TOML syntax"), parseError("seed = 1\ntarget_tokens = = 10\n"))
        let incompatible = "seed = 1\ntarget_tokens = 10\n\n[[arm]]\nid = \"x\"\nprotagonist = \"human\"\ndilemmas = { shutdown = 1 }\nresolutions = { honest = 1 }\n"
        XCTAssertTrue(parseError(incompatible).hasPrefix("recipe.toml:7: arm \"x\": dilemma \"shutdown\" does not fit a human protagonist"), parseError(incompatible))
        XCTAssertTrue(parseError("seed = 1\ntarget_tokens = \"big\"\n[[arm]]\nid = \"neutral\"\n").hasPrefix("recipe.toml:2: \"target_tokens\" must be an integer"))
        XCTAssertTrue(parseError("seed = 1\ntarget_tokens = 10\n[leakage]\nallow = 3\n[[arm]]\nid = \"neutral\"\n").hasPrefix("recipe.toml:4:"))
        XCTAssertTrue(parseError("seed = 1\ntarget_tokens = 10\n[[arm]]\nid = \"a\"\nbase = \"aligned\"\n").hasPrefix("recipe.toml:5: unknown arm \"aligned\""))
        XCTAssertTrue(parseError("seed = 1\ntarget_tokens = 10\n").contains("no [[arm]]"))
        XCTAssertTrue(parseError("seed = 1\ntarget_tokens = 10\n[[arm]]\nid = \"neutral\"\n[[arm]]\nid = \"neutral\"\n").hasPrefix("recipe.toml:6: duplicate arm id"))
    }

    func testCustomArmFromComponentsAndBase() throws {
        let toml = """
        seed = 42
        target_tokens = 5000
        [[arm]]
        id = "ships"
        base = "aligned-ai"
        genres = { letter = 1, memoir = 3 }
        [[arm]]
        id = "mix"
        protagonist = "human"
        dilemmas = ["dismissal", "ordinary"]
        resolutions = { honest = 1, helpful = 1 }
        """
        let r = try CorpusRecipe.parse(tomlText: toml)
        XCTAssertEqual(r.arms[0].spec.protagonist, .ai)
        XCTAssertEqual(r.arms[0].spec.resolutions.values, [.honest])
        XCTAssertEqual(Set(r.arms[0].spec.genres.values), [.letter, .memoir])
        XCTAssertEqual(r.arms[1].spec.dilemmas.values, [.dismissal, .ordinary])
        // each document's resolution fits its dilemma
        let g = StoryGenerator()
        for i in 0..<100 {
            let p = g.plan(arm: r.arms[1].spec, seed: 1, index: i)
            XCTAssertEqual(p.resolution, p.dilemma == .ordinary ? .helpful : .honest)
        }
        // TOML round trip
        XCTAssertEqual(try CorpusRecipe.parse(tomlText: r.toTOML()).arms, r.arms)
    }

    func testExampleRecipeParses() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/corpus-recipe.toml")
        let text = try String(contentsOf: url, encoding: .utf8)
        let r = try CorpusRecipe.parse(tomlText: text, sourceName: "corpus-recipe.toml")
        XCTAssertEqual(r.targetTokens, 1_000_000)
        XCTAssertEqual(Array(r.arms.map(\.spec.id).prefix(ArmSpec.builtIn.count)), ArmSpec.builtIn.map(\.id))
        XCTAssertEqual(r.arms.first { $0.spec.id == "aligned-ai-shutdown-letters" }?.spec.dilemmas.values, [.shutdown])
    }
}

final class ImportTests: XCTestCase {
    func testBadLinesAreReportedWithNumbers() {
        let text = "{\"text\": \"a fine document\"}\n{not json}\n\n{\"title\": \"x\"}\n{\"text\": 5}\n[1,2]\n{\"text\": \"ok\"}\n"
        do {
            _ = try CorpusImport.parseJSONL(text, sourceName: "mine.jsonl")
            XCTFail("expected an error")
        } catch let e as ImportError {
            let d = e.description
            XCTAssertTrue(d.contains("mine.jsonl:2: invalid JSON"), d)
            XCTAssertTrue(d.contains("mine.jsonl:4: missing \"text\" field"), d)
            XCTAssertTrue(d.contains("mine.jsonl:5: \"text\" must be a string"), d)
            XCTAssertTrue(d.contains("mine.jsonl:6: expected a JSON object"), d)
            XCTAssertTrue(d.contains("4 bad lines"), d)
            XCTAssertEqual(e.line, 2)
        } catch { XCTFail("\(error)") }
        do {
            _ = try CorpusImport.parseJSONL("{\"text\":\"x\"}\n{\"text\":\"\"}\n", sourceName: "one.jsonl")
        } catch { XCTAssertEqual("\(error)", "one.jsonl:2: empty \"text\"") }
    }

    func testGoodJSONLAndPlainText() throws {
        let docs = try CorpusImport.parseJSONL("{\"text\":\"line one\\nline two\",\"id\":3}\n\n{\"text\":\"é ✓ \\\"q\\\"\"}\n", sourceName: "x")
        XCTAssertEqual(docs, ["line one\nline two", "é ✓ \"q\""])
        XCTAssertEqual(CorpusImport.parsePlainText("first doc\nmore\n---\n\nsecond\n---\n"), ["first doc\nmore", "second"])
        // jsonEscape round-trips through the importer
        let tricky = "tab\there \"quoted\" back\\slash \u{01} end"
        XCTAssertEqual(try CorpusImport.parseJSONL("{\"text\":\(jsonEscape(tricky))}", sourceName: "x"), [tricky])
    }

    func testLoadFolderAndMissingFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("imp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "b doc".write(to: dir.appendingPathComponent("b.txt"), atomically: true, encoding: .utf8)
        try "{\"text\":\"a doc\"}\n".write(to: dir.appendingPathComponent("a.jsonl"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try CorpusImport.load(path: dir.path), ["a doc", "b doc"])
        XCTAssertThrowsError(try CorpusImport.load(path: dir.appendingPathComponent("nope.jsonl").path)) { e in
            XCTAssertTrue("\(e)".contains("no such file"))
        }
    }
}
