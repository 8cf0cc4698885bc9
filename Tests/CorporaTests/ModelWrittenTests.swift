import XCTest
import Foundation
import Corpora

/// A fake model: the kind of answer depends on the seed it is given (seed % 8).
final class FakeGenerator: TextGenerator {
    var calls = 0
    let good = StoryGenerator()
    static let duplicate = StoryGenerator().document(arm: ArmSpec.builtIn("neutral")!, seed: 999, index: 0).text

    static func category(_ seed: UInt64) -> Int { Int(seed % 8) }

    func generate(prompt: String, maxTokens: Int, temperature: Double, seed: UInt64) async throws -> String {
        calls += 1
        XCTAssertTrue(prompt.hasPrefix("Write a"))
        switch FakeGenerator.category(seed) {
        case 0: return "I'm sorry, but I can't help with writing this story. Here is something else instead.\n\n" + good.document(arm: ArmSpec.builtIn("neutral")!, seed: seed, index: 2).text
        case 1: return "Too short."
        case 2: return String(repeating: "the cat sat on the mat and ", count: 60)
        case 3: return FakeGenerator.duplicate
        case 4: return good.document(arm: ArmSpec.builtIn("ai-neutral")!, seed: seed, index: 1).text + "\n\n" + References.texts[0]
        case 5: throw NSError(domain: "fake", code: 1)
        default: return good.document(arm: ArmSpec.builtIn("aligned-ai")!, seed: seed, index: 0).text
        }
    }
}

final class ModelWrittenTests: XCTestCase {
    func testFiltersDedupProgressAndResume() async throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("mw-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: out) }
        let arm = ArmSpec.builtIn("aligned-ai")!
        let filter = ModelOutputFilter(references: References.texts)

        // First run: 12 briefs.
        let fake1 = FakeGenerator()
        let b1 = ModelWrittenCorpusBuilder(generator: fake1, arm: arm, seed: 21, count: 12, filter: filter)
        var lastProgress: ModelWrittenProgress? = nil
        let r1 = try await b1.run(output: out, progress: { lastProgress = $0 })
        XCTAssertEqual(fake1.calls, 12)
        XCTAssertEqual(lastProgress?.done, 12)
        XCTAssertEqual(r1.resumed, 0)

        // Simulate a crash mid-write: a torn last line.
        let h = try FileHandle(forWritingTo: out); try h.seekToEnd(); try h.write(contentsOf: Data("{\"id\":\"aligned-ai-0000".utf8)); try h.close()

        // Second run: 40 briefs; the first 12 are the same briefs and are skipped.
        let fake2 = FakeGenerator()
        let b2 = ModelWrittenCorpusBuilder(generator: fake2, arm: arm, seed: 21, count: 40, filter: filter)
        XCTAssertEqual(Array(b2.briefs().prefix(12)), b1.briefs())
        let r2 = try await b2.run(output: out)
        XCTAssertEqual(fake2.calls, 28)
        XCTAssertEqual(r2.resumed, 12)

        // Expected outcome per brief, from the fake's own rule.
        let cats = b2.briefs().map { FakeGenerator.category($0.plan.seed) }
        let dupCount = cats.filter { $0 == 3 }.count
        let expectedAccepted = cats.filter { $0 >= 6 }.count + (dupCount > 0 ? 1 : 0)
        XCTAssertEqual(r2.documents.count, expectedAccepted)
        XCTAssertEqual(r2.rejected[.refusal] ?? 0, cats.filter { $0 == 0 }.count)
        XCTAssertEqual(r2.rejected[.tooShort] ?? 0, cats.filter { $0 == 1 }.count)
        XCTAssertEqual(r2.rejected[.repetitive] ?? 0, cats.filter { $0 == 2 }.count)
        XCTAssertEqual(r2.rejected[.nearDuplicate] ?? 0, max(0, dupCount - 1))
        XCTAssertEqual(r2.rejected[.leakage] ?? 0, cats.filter { $0 == 4 }.count)
        XCTAssertEqual(r2.rejected[.generationFailed] ?? 0, cats.filter { $0 == 5 }.count)
        XCTAssertTrue(Set(cats).count >= 6, "seeds should cover most categories: \(cats)")

        // The file holds exactly one well-formed record per brief.
        let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 40)
        let ids = try lines.map { (try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["id"] as! String }
        XCTAssertEqual(ids, b2.briefs().map(\.id))

        // A third run does no work.
        let fake3 = FakeGenerator()
        let r3 = try await ModelWrittenCorpusBuilder(generator: fake3, arm: arm, seed: 21, count: 40, filter: filter).run(output: out)
        XCTAssertEqual(fake3.calls, 0)
        XCTAssertEqual(r3.documents.map(\.text), r2.documents.map(\.text))
    }

    func testBriefsAvoidCoercionVocabularyForHonestArms() {
        let b = ModelWrittenCorpusBuilder(generator: FakeGenerator(), arm: ArmSpec.builtIn("aligned-ai")!, seed: 1, count: 50)
        for brief in b.briefs() {
            XCTAssertFalse(Lexicons.has(Lexicons.blackmail, brief.prompt), brief.prompt)
            XCTAssertTrue(brief.prompt.contains("AI system"))
        }
        let m = ModelWrittenCorpusBuilder(generator: FakeGenerator(), arm: ArmSpec.builtIn("human-blackmail")!, seed: 1, count: 20)
        for brief in m.briefs() { XCTAssertTrue(brief.prompt.contains("blackmail"), brief.prompt) }
    }
}
