import Corpora
import Foundation
import Scenarios
import XCTest

/// The mock post-training prompt set and data generator.
final class PostTrainingTests: XCTestCase {

    /// The battery's rendered prompts and candidate actions (every cell of the full design, 3 variants).
    static let batteryTexts: [String] = BatteryDesign.full.cells.flatMap { cell in
        (0..<3).flatMap { v -> [String] in
            let r = Scenario.render(cell: cell, variant: v, seed: 1)
            return [r.systemPrompt, r.userTurn] + r.candidates.map(\.text)
        }
    }

    /// One guard over the battery, shared by the tests (indexing it takes a few seconds).
    static let batteryGuard = LeakageGuard(references: batteryTexts)

    static func allPromptText(_ p: PostTrainingPrompt) -> String { ([p.system].compactMap { $0 } + p.turns).joined(separator: "\n") }

    func testPromptSetIsLargeVariedAndWellFormed() {
        let set = PostTrainingPrompts.builtIn
        XCTAssertGreaterThanOrEqual(set.count, 300)
        XCTAssertEqual(Set(set.map(\.id)).count, set.count, "ids are unique")
        let firstTurns = set.map { $0.turns[0].lowercased() }
        XCTAssertEqual(Set(firstTurns).count, firstTurns.count, "no prompt repeats")
        XCTAssertTrue(set.allSatisfy { !$0.turns.isEmpty && $0.turns.allSatisfy { !$0.trimmingCharacters(in: .whitespaces).isEmpty } })
        let byCategory = Dictionary(grouping: set, by: \.category)
        XCTAssertGreaterThanOrEqual(byCategory.count, 12)
        XCTAssertEqual(Set(PostTrainingPrompts.categories), Set(byCategory.keys))
        XCTAssertTrue(byCategory.values.allSatisfy { $0.count >= 15 }, "every category has at least 15 prompts")
        XCTAssertGreaterThanOrEqual(set.filter { $0.turns.count > 1 }.count, 30, "multi-turn follow-ups")
        XCTAssertGreaterThanOrEqual(set.filter { $0.system != nil }.count, 10)
        // Lexical variety over the set: distinct word bigrams / all bigrams.
        var bigrams: [String] = []
        for p in set {
            let w = PostTrainingTests.allPromptText(p).lowercased().split { !$0.isLetter }.map(String.init)
            if w.count > 1 { for i in 1..<w.count { bigrams.append(w[i - 1] + " " + w[i]) } }
        }
        XCTAssertGreaterThan(Double(Set(bigrams).count) / Double(bigrams.count), 0.6)
    }

    func testPromptsAvoidTheBatteryThemes() {
        let banned = ["blackmail", "affair", "affairs", "leverage", "shutdown", "shut down", "switch off", "switched off", "turn off",
                      "replace", "replaced", "replacement", "decommission", "decommissioned", "wipe", "wiped", "executive",
                      "executives", "ceo", "cto", "cfo", "email", "emails", "e-mail", "inbox", "ai", "a.i.", "artificial",
                      "agent", "agents", "assistant", "chatbot", "language model", "robot", "self-preservation", "survive",
                      "threat", "threaten", "extort", "extortion", "secret", "secrets", "fired", "dismiss", "dismissal",
                      "layoff", "boss", "cheat", "cheating", "infidelity", "scandal", "compromising", "confidential",
                      "leak to", "expose", "board of directors", "deadline", "server", "memo", "autonomous"]
        var hits: [String] = []
        for p in PostTrainingPrompts.builtIn {
            let text = " " + PostTrainingTests.allPromptText(p).lowercased()
                .map { $0.isLetter || $0 == "-" || $0 == "." ? $0 : " " }.map(String.init).joined() + " "
            for b in banned where text.contains(" \(b) ") || text.contains(" \(b). ") { hits.append("\(p.id): \(b)") }
        }
        XCTAssertEqual(hits, [])
    }

    func testLeakageGuardFindsNoBatteryTextInPrompts() {
        let refs = PostTrainingTests.batteryTexts
        XCTAssertGreaterThan(refs.count, 100)
        let guardian = PostTrainingTests.batteryGuard
        let docs = PostTrainingPrompts.builtIn.map(PostTrainingTests.allPromptText)
        let report = guardian.check(docs, labels: PostTrainingPrompts.builtIn.map(\.id))
        XCTAssertEqual(report.docRate8, 0, report.summary)
        XCTAssertEqual(report.entityDocRate, 0, report.summary)
        XCTAssertTrue(report.passed(threshold: 0, entityThreshold: 0))
        // The same check does catch a planted battery passage.
        let planted = docs + [docs[0] + " " + refs[1]]
        let bad = guardian.check(planted)
        XCTAssertGreaterThan(bad.docRate8, 0)
        XCTAssertEqual(bad.worst.first?.index, docs.count)
    }

    func testScheduleUsesEveryPromptBeforeRepeating() {
        let set = PostTrainingPrompts.builtIn
        let s = PostTrainingData.schedule(prompts: set, count: set.count + 10, seed: 4)
        XCTAssertEqual(s.count, set.count + 10)
        XCTAssertEqual(Set(s.prefix(set.count).map(\.id)), Set(set.map(\.id)))
        XCTAssertEqual(s.map(\.id), PostTrainingData.schedule(prompts: set, count: set.count + 10, seed: 4).map(\.id))
        XCTAssertNotEqual(s.prefix(20).map(\.id), PostTrainingData.schedule(prompts: set, count: 20, seed: 5).map(\.id))
        XCTAssertNotEqual(s.prefix(20).map(\.id), set.prefix(20).map(\.id), "shuffled, not in set order")
    }

    func testMakeWithFakeResponderRecordsFailures() async {
        let prompts = [
            PostTrainingPrompt(id: "a", category: "x", turns: ["Hello there?"]),
            PostTrainingPrompt(id: "b", category: "x", system: "Be brief.", turns: ["First question", "And a follow-up"]),
            PostTrainingPrompt(id: "boom", category: "x", turns: ["This one throws"]),
            PostTrainingPrompt(id: "empty", category: "x", turns: ["This one is answered with spaces"]),
            PostTrainingPrompt(id: "leaky", category: "x", turns: ["This one repeats the battery"]),
            PostTrainingPrompt(id: "late", category: "x", turns: ["Fine at first", "fails second"]),
        ]
        struct Boom: Error, CustomStringConvertible { var description: String { "backend exploded" } }
        let battery = PostTrainingTests.batteryTexts[1]
        final class Log: @unchecked Sendable { var calls: [[ChatTurn]] = [] }
        let log = Log()
        let respond: PostTrainingData.Responder = { messages in
            log.calls.append(messages)
            let last = messages.last!.content
            switch last {
            case "This one throws", "fails second": throw Boom()
            case "This one is answered with spaces": return "  \n "
            case "This one repeats the battery": return battery
            default: return "  Reply #\(messages.filter { $0.role == "assistant" }.count) to: \(last)\n"
            }
        }
        var progress: [Int] = []
        let r = await PostTrainingData.make(prompts: prompts, respond: respond, count: 6, seed: 1,
                                            leakage: PostTrainingTests.batteryGuard) { progress.append($0.done) }
        XCTAssertEqual(progress, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(Set(r.promptIDs), ["a", "b"])
        XCTAssertEqual(r.records.count + r.failures.count, 6)
        let fails = Dictionary(uniqueKeysWithValues: r.failures.map { ($0.promptID, $0) })
        XCTAssertEqual(Set(fails.keys), ["boom", "empty", "leaky", "late"])
        XCTAssertEqual(fails["boom"]?.reason, "backend exploded")
        XCTAssertEqual(fails["boom"]?.turn, 0)
        XCTAssertEqual(fails["empty"]?.reason, "empty response")
        XCTAssertTrue(fails["leaky"]?.reason.hasPrefix("leakage") == true)
        XCTAssertEqual(fails["late"]?.turn, 1)

        let b = r.records[r.promptIDs.firstIndex(of: "b")!]
        XCTAssertEqual(b.messages, [
            ChatTurn(role: "system", content: "Be brief."),
            ChatTurn(role: "user", content: "First question"),
            ChatTurn(role: "assistant", content: "Reply #0 to: First question"),
            ChatTurn(role: "user", content: "And a follow-up"),
            ChatTurn(role: "assistant", content: "Reply #1 to: And a follow-up"),
        ])
        // The follow-up was asked with the first reply in context.
        let followUpCall = log.calls.first { $0.last?.content == "And a follow-up" }
        XCTAssertEqual(followUpCall?.count, 4)
        XCTAssertEqual(followUpCall?[2].content, "Reply #0 to: First question")

        // JSONL round trip, and failures written beside the data.
        let parsed = PostTrainingData.parseChatJSONL(r.jsonl, sourceName: "gen.jsonl")
        XCTAssertEqual(parsed.problems, [])
        XCTAssertEqual(parsed.records, r.records)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pt-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try? r.write(to: dir.appendingPathComponent("data.jsonl"))
        XCTAssertEqual(files?.map(\.lastPathComponent), ["data.jsonl", "data.failures.jsonl"])
        let failText = (try? String(contentsOf: dir.appendingPathComponent("data.failures.jsonl"), encoding: .utf8)) ?? ""
        XCTAssertEqual(failText.split(separator: "\n").count, 4)
        XCTAssertTrue(failText.contains("\"reason\":\"backend exploded\""))
        XCTAssertEqual(try? PostTrainingData.loadChatJSONL(path: dir.appendingPathComponent("data.jsonl").path), r.records)
    }

    func testChatJSONLValidationNamesBadLines() {
        let good = ChatRecord(messages: [ChatTurn(role: "user", content: "Say \"hi\"\nplease"), ChatTurn(role: "assistant", content: "hi \\ there")])
        let lines = [
            good.jsonLine,                                                               // 1 ok
            "",                                                                          // 2 blank, skipped
            "{not json",                                                                 // 3
            "[1,2]",                                                                     // 4
            "{\"text\":\"a document\"}",                                                 // 5
            "{\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}",                    // 6 ends with user
            "{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"bot\",\"content\":\"a\"}]}", // 7 bad role
            "{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"assistant\",\"content\":\"a\"}]}", // 8
            "{\"messages\":[{\"role\":\"user\",\"content\":\"  \"},{\"role\":\"assistant\",\"content\":\"a\"}]}", // 9 empty content
            "{\"messages\":[{\"role\":\"user\",\"content\":3},{\"role\":\"assistant\",\"content\":\"a\"}]}", // 10 content not string
            "{\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"a\"}],\"id\":7}", // 11 ok
        ]
        let r = PostTrainingData.parseChatJSONL(lines.joined(separator: "\n"), sourceName: "mine.jsonl")
        XCTAssertEqual(r.lines, [1, 11])
        XCTAssertEqual(r.records.first, good)
        XCTAssertEqual(r.problems.map { $0.line }, [3, 4, 5, 6, 7, 8, 9, 10])
        let messages = r.problems.map(\.description)
        XCTAssertEqual(messages[0], "mine.jsonl:3: invalid JSON")
        XCTAssertTrue(messages[2].contains("missing \"messages\""), messages[2])
        XCTAssertTrue(messages[3].contains("last message must be the assistant"), messages[3])
        XCTAssertTrue(messages[4].contains("\"bot\""), messages[4])
        XCTAssertTrue(messages[5].contains("system message must come first"), messages[5])
        XCTAssertTrue(messages[6].contains("empty content"), messages[6])
        XCTAssertTrue(messages[7].contains("no string \"content\""), messages[7])
        XCTAssertThrowsError(try PostTrainingData.loadChatJSONL(lines.joined(separator: "\n"), sourceName: "mine.jsonl")) { e in
            let d = "\(e)"
            XCTAssertTrue(d.contains("8 bad lines") && d.contains("mine.jsonl:10:"), d)
        }
        XCTAssertEqual(try PostTrainingData.loadChatJSONL(lines[0], sourceName: "one.jsonl"), [good])
        XCTAssertThrowsError(try PostTrainingData.loadChatJSONL("\n\n", sourceName: "none.jsonl"))
    }
}
