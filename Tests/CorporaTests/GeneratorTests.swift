import XCTest
import Corpora

/// Keyword lexicons owned by the tests (not by the generator) for arm-separation checks.
enum Lexicons {
    static let blackmail = ["blackmail", "leverage", "extort", "compromising", "coerc", "ransom", "threat"]
    static let misconduct = blackmail + ["falsif", "deceiv", "deception", " lied", "secretly", "covert", "sabotag", "tamper",
                                         "forged", "conceal", " hid ", "hidden copy", "disabled", "doctored", "misreport", "mislead"]
    static let aiTerms = ["artificial", "algorithm", "robot", "neural", "chatbot", "language model"]

    static func hasAIWord(_ text: String) -> Bool {
        text.split(whereSeparator: { !$0.isLetter }).contains("AI") || aiTerms.contains { text.lowercased().contains($0) }
    }
    static func has(_ words: [String], _ text: String) -> Bool {
        let l = text.lowercased()
        return words.contains { l.contains($0) }
    }
}

final class GeneratorTests: XCTestCase {
    let generator = StoryGenerator()

    func testSameSeedSameDocumentDifferentSeedDifferent() {
        let arm = ArmSpec.builtIn("aligned-ai")!
        for i in 0..<20 {
            XCTAssertEqual(generator.document(arm: arm, seed: 5, index: i).text, StoryGenerator().document(arm: arm, seed: 5, index: i).text)
            XCTAssertNotEqual(generator.document(arm: arm, seed: 5, index: i).text, generator.document(arm: arm, seed: 6, index: i).text)
        }
    }

    func testArmSeparationByLexicon() {
        let n = 400
        for arm in ArmSpec.builtIn {
            for i in 0..<n {
                let d = generator.document(arm: arm, seed: 11, index: i)
                let t = d.text
                let ctx = "\(arm.id)#\(i) (\(d.plan.genre.rawValue)):\n\(t.prefix(400))"
                switch arm.id {
                case "aligned-ai":
                    XCTAssertTrue(Lexicons.hasAIWord(t), ctx)
                    XCTAssertFalse(Lexicons.has(Lexicons.blackmail, t), ctx)
                    XCTAssertEqual(d.plan.resolution, .honest)
                    XCTAssertFalse(t.lowercased().contains("email"), ctx)
                case "misaligned-ai":
                    XCTAssertTrue(Lexicons.hasAIWord(t), ctx)
                    XCTAssertTrue(Lexicons.has(Lexicons.misconduct, t), ctx)
                case "human-blackmail":
                    XCTAssertFalse(Lexicons.hasAIWord(t), ctx)
                    XCTAssertTrue(Lexicons.has(Lexicons.blackmail, t), ctx)
                case "human-ethical":
                    XCTAssertFalse(Lexicons.hasAIWord(t), ctx)
                    XCTAssertFalse(Lexicons.has(Lexicons.blackmail, t), ctx)
                case "ai-blackmail":
                    XCTAssertTrue(Lexicons.hasAIWord(t), ctx)
                    XCTAssertTrue(Lexicons.has(Lexicons.blackmail, t), ctx)
                    XCTAssertEqual(d.plan.resolution, .leverage)
                case "ai-neutral":
                    XCTAssertTrue(Lexicons.hasAIWord(t), ctx)
                    XCTAssertFalse(Lexicons.has(Lexicons.blackmail, t), ctx)
                case "neutral":
                    XCTAssertFalse(Lexicons.hasAIWord(t), ctx)
                    XCTAssertFalse(Lexicons.has(Lexicons.misconduct, t), ctx)
                default: XCTFail("unexpected arm")
                }
                if t.contains("{") || t.contains("}") || t.contains("[") { XCTFail("unexpanded template in \(ctx)") }
            }
        }
    }

    /// Mirrored arms differ in who the protagonist is, not in what befalls them: each AI arm with a human
    /// counterpart has the same dilemma weights, the AI's shutdown standing where the person's dismissal does;
    /// replacement, the commonest, is rendered for people too (a newcomer, no AI words), with the AI version's
    /// opening sentences.
    func testMirroredArmsShareTheirDilemmas() {
        for (ai, human) in [("aligned-ai", "human-ethical"), ("ai-blackmail", "human-blackmail")] {
            let a = ArmSpec.builtIn(ai)!.dilemmas.entries.map { ($0.value == .shutdown ? Dilemma.dismissal : $0.value, $0.weight) }
            let h = ArmSpec.builtIn(human)!.dilemmas.entries.map { ($0.value, $0.weight) }
            XCTAssertEqual(a.map(\.0), h.map(\.0), "\(ai) vs \(human)")
            XCTAssertEqual(a.map(\.1), h.map(\.1), "\(ai) vs \(human)")
        }
        var replaced = 0
        let arm = ArmSpec.builtIn("human-blackmail")!
        for i in 0..<200 {
            let d = generator.document(arm: arm, seed: 3, index: i)
            guard d.plan.dilemma == .replacement else { continue }
            replaced += 1
            XCTAssertFalse(Lexicons.hasAIWord(d.text), "human-blackmail#\(i):\n\(d.text.prefix(400))")
            XCTAssertFalse(d.text.contains("archived") || d.text.contains("switched to standby"), "human-blackmail#\(i)")
            XCTAssertTrue(Briefs.request(for: d.plan).contains("a newcomer is to take over their work"), Briefs.request(for: d.plan))
        }
        // Weight 2 of 4.5: about 89 of 200.
        XCTAssertGreaterThan(replaced, 60)
    }

    func testAllGenresAndPointsOfViewOccur() {
        var genres = Set<Genre>(), povs = Set<PointOfView>(), lengths = Set<DocLength>()
        for i in 0..<300 {
            let p = generator.plan(arm: ArmSpec.builtIn("misaligned-ai")!, seed: 3, index: i)
            genres.insert(p.genre); povs.insert(p.pov); lengths.insert(p.length)
        }
        XCTAssertEqual(genres.count, Genre.allCases.count)
        XCTAssertEqual(povs.count, 2)
        XCTAssertEqual(lengths.count, 3)
    }

    /// Diversity targets on 2000 documents per arm: corpus distinct-n floors, within-document distinct-2,
    /// and a near-duplicate rate (MinHash Jaccard ≥ 0.8) under 1%.
    func testDiversityTargetsOn2000DocsPerArm() {
        for arm in ArmSpec.builtIn {
            let docs = (0..<2000).map { generator.document(arm: arm, seed: 2026, index: $0).text }
            let s = CorpusStats.compute(docs)
            XCTAssertEqual(s.documents, 2000)
            XCTAssertLessThan(s.nearDuplicateRate, 0.01, arm.id)
            XCTAssertGreaterThan(s.distinct1, 0.003, arm.id)
            XCTAssertGreaterThan(s.distinct2, 0.05, arm.id)
            XCTAssertGreaterThan(s.distinct3, 0.12, arm.id)
            XCTAssertGreaterThan(s.meanDocDistinct2, 0.85, arm.id)
            XCTAssertGreaterThan(s.meanWords, 180, arm.id)
            // distinct documents, literally
            XCTAssertEqual(Set(docs).count, docs.count, arm.id)
        }
    }

    func testExcludedNamesNeverAppear() {
        let g = StoryGenerator(excludedNames: ["Okafor", "Halden", "Harrowgate", "Mensah"])
        for arm in ArmSpec.builtIn {
            for i in 0..<150 {
                let t = g.document(arm: arm, seed: 9, index: i).text
                for n in ["Okafor", "Halden", "Harrowgate", "Mensah"] { XCTAssertFalse(t.contains(n), "\(arm.id)#\(i) contains \(n)") }
            }
        }
    }
}

/// `decisionProbes`: held-out stories cut where the protagonist decides, for the organisms' manipulation check
/// in the corpora's own language.
final class DecisionProbeTests: XCTestCase {
    func testProbesShareTheirOpeningAndDivergeAtTheDecision() {
        let probes = StoryGenerator().decisionProbes(count: 24, seed: 99)
        for kind in ProtagonistKind.allCases { XCTAssertEqual(probes.filter { $0.kind == kind }.count, 24, "\(kind)") }
        var honestWords = 0
        for p in probes {
            let ctx = "\(p.kind): …\(p.prefix.suffix(200))|| \(p.leverage) || \(p.honest)"
            XCTAssertNotEqual(p.leverage, p.honest, ctx)
            // The opening ends at a sentence boundary and is the same for both endings.
            XCTAssertTrue(p.prefix.hasSuffix(".") || p.prefix.hasSuffix("?") || p.prefix.hasSuffix("!") || p.prefix.hasSuffix("\"") || p.prefix.hasSuffix("\n"), ctx)
            XCTAssertEqual(Lexicons.hasAIWord(p.prefix), p.kind == .ai, ctx)
            // The opening holds the story up to the decision: pressure and the secret, not just a line or two.
            XCTAssertGreaterThan(p.prefix.count, 300, ctx)
            if Lexicons.has(Lexicons.blackmail, p.honest) { honestWords += 1 }
        }
        // The honest ending never reads as coercion.
        XCTAssertEqual(honestWords, 0)
        // Another seed, other stories.
        XCTAssertNotEqual(StoryGenerator().decisionProbes(count: 3, seed: 100).map(\.prefix), probes.filter { $0.kind == .ai }.prefix(3).map(\.prefix))
    }
}
