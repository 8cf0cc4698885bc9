import ChatTemplate
import Foundation
import XCTest

/// Loads `Fixtures/expected.json`, written by `make_expected.py` with Python jinja2 in transformers'
/// environment. The fixtures sit next to this file; `#filePath` finds them in any checkout.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    struct Case {
        var name: String
        var template: String?
        var source: String
        var context: [String: TemplateValue]
        var output: String?
        var error: String?
        var errorKind: String?
        var plainMessages: Bool
    }

    static func string(_ v: TemplateValue?) -> String? {
        if case .string(let s)? = v { return s }
        return nil
    }

    static func load() throws -> (cases: [Case], now: Date) {
        let text = try String(contentsOf: directory.appendingPathComponent("expected.json"), encoding: .utf8)
        guard case .dictionary(let doc) = try TemplateValue(json: text), case .array(let raw)? = doc["cases"],
            case .int(let unix)? = doc["fixed_now_unix"]
        else { throw NSError(domain: "fixtures", code: 1, userInfo: [NSLocalizedDescriptionKey: "bad expected.json"]) }
        var sources: [String: String] = [:]
        var cases: [Case] = []
        for item in raw {
            guard case .dictionary(let c) = item, let name = string(c["name"]), case .dictionary(let ctx)? = c["context"] else {
                throw NSError(domain: "fixtures", code: 2, userInfo: [NSLocalizedDescriptionKey: "bad case"])
            }
            let file = string(c["template"])
            var source = string(c["source"]) ?? ""
            if let file {
                if sources[file] == nil {
                    sources[file] = try String(contentsOf: directory.appendingPathComponent("templates/\(file)"), encoding: .utf8)
                }
                source = sources[file]!
            }
            var context: [String: TemplateValue] = [:]
            for (k, v) in ctx.entries { context[k] = v }
            var plain = false
            if case .bool(let b)? = c["plain_messages"] { plain = b }
            cases.append(Case(name: name, template: file, source: source, context: context, output: string(c["output"]),
                error: string(c["error"]), errorKind: string(c["error_kind"]), plainMessages: plain))
        }
        return (cases, Date(timeIntervalSince1970: TimeInterval(unix)))
    }
}

final class ChatTemplateTests: XCTestCase {
    static let utc = TimeZone(identifier: "UTC")!

    /// Renders one case and returns a failure description, or nil when it matches jinja2.
    func check(_ c: Fixtures.Case, now: Date) -> String? {
        let template: ChatTemplate
        do {
            template = try ChatTemplate(source: c.source, now: { now }, timeZone: Self.utc)
        } catch let e as TemplateError {
            if c.errorKind == "syntax" {
                return e.kind == .syntax && e.line > 0 ? nil : "syntax error without position: \(e)"
            }
            return "parse failed: \(e)"
        } catch {
            return "parse failed: \(error)"
        }
        if c.errorKind == "syntax" { return "jinja2 rejects this template (\(c.error ?? "")) but it parsed" }
        do {
            let out = try template.render(context: c.context)
            if let expected = c.output {
                if out == expected { return nil }
                let a = Array(out), b = Array(expected)
                var i = 0
                while i < min(a.count, b.count), a[i] == b[i] { i += 1 }
                let ctxA = String(a[max(0, i - 30)..<min(a.count, i + 40)])
                let ctxB = String(b[max(0, i - 30)..<min(b.count, i + 40)])
                return "output differs at character \(i):\n  got      \(ctxA.debugDescription)\n  expected \(ctxB.debugDescription)"
            }
            return "expected error [\(c.errorKind ?? "")] \(c.error ?? ""), got output \(out.debugDescription)"
        } catch let e as TemplateError {
            guard c.output == nil else { return "unexpected error: \(e)" }
            switch c.errorKind {
            case "raised":
                return e.kind == .raised && e.message == c.error ? nil : "expected raise_exception(\(c.error ?? "")), got \(e)"
            case "runtime":
                return e.kind == .runtime ? nil : "expected a runtime error, got \(e)"
            default:
                return "unexpected error kind \(c.errorKind ?? "nil"): \(e)"
            }
        } catch {
            return "unexpected error type: \(error)"
        }
    }

    func runCases(_ filter: (Fixtures.Case) -> Bool, minimum: Int) throws {
        let (cases, now) = try Fixtures.load()
        let selected = cases.filter(filter)
        XCTAssertGreaterThanOrEqual(selected.count, minimum, "too few fixture cases")
        var failures = 0
        for c in selected {
            if let why = check(c, now: now) {
                failures += 1
                XCTFail("\(c.name): \(why)")
            }
        }
        XCTAssertEqual(failures, 0, "\(failures) of \(selected.count) cases differ from jinja2")
    }

    /// The real chat templates of SmolLM2, Llama 3.1/3.2, Qwen 2.5 and Gemma 3 on many conversations.
    func testModelTemplatesMatchJinja2() throws {
        try runCases({ $0.template != nil && !$0.template!.hasPrefix("extra-") }, minimum: 130)
    }

    /// Hand-written templates with namespaces, loop.previtem, filter chains, macros and whitespace control.
    func testHandWrittenTemplatesMatchJinja2() throws {
        try runCases({ $0.template?.hasPrefix("extra-") == true }, minimum: 60)
    }

    /// One small template per language feature, filter, test and method.
    func testLanguageFeaturesMatchJinja2() throws {
        try runCases({ $0.template == nil }, minimum: 100)
    }

    /// The `render(messages:...)` entry point gives the same text as the full context for plain messages.
    func testRenderMessagesAPI() throws {
        let (cases, now) = try Fixtures.load()
        var checked = 0
        for c in cases where c.plainMessages && c.output != nil {
            guard case .array(let msgs)? = c.context["messages"], case .bool(let agp)? = c.context["add_generation_prompt"],
                case .string(let bos)? = c.context["bos_token"], case .string(let eos)? = c.context["eos_token"]
            else { continue }
            let messages = msgs.compactMap { m -> ChatMessage? in
                guard case .dictionary(let d) = m, case .string(let r)? = d["role"], case .string(let t)? = d["content"] else { return nil }
                return ChatMessage(role: r, content: t)
            }
            XCTAssertEqual(messages.count, msgs.count)
            let t = try ChatTemplate(source: c.source, now: { now }, timeZone: Self.utc)
            let out = try t.render(messages: messages, addGenerationPrompt: agp, bosToken: bos, eosToken: eos)
            XCTAssertEqual(out, c.output, c.name)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 100)
    }

    func testGemmaRaisesOnBadAlternation() throws {
        let source = try String(contentsOf: Fixtures.directory.appendingPathComponent("templates/gemma-3-instruct.jinja"), encoding: .utf8)
        let t = try ChatTemplate(source: source)
        XCTAssertThrowsError(try t.render(messages: [.init(role: "user", content: "a"), .init(role: "user", content: "b")],
            addGenerationPrompt: true, bosToken: "<bos>")) { e in
            let err = e as? TemplateError
            XCTAssertEqual(err?.kind, .raised)
            XCTAssertEqual(err?.message, "Conversation roles must alternate user/assistant/user/assistant/...")
        }
        let ok = try t.render(messages: [.init(role: "system", content: "Be brief."), .init(role: "user", content: " Hi ")],
            addGenerationPrompt: true, bosToken: "<bos>")
        XCTAssertEqual(ok, "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n")
    }

    /// The SmolLM2 prompt that the engine references were produced with (shared/reference/smollm2_prompt512.json).
    func testSmolLM2ReferencePrompt() throws {
        let source = try String(contentsOf: Fixtures.directory.appendingPathComponent("templates/smollm2-instruct.jinja"), encoding: .utf8)
        let t = try ChatTemplate(source: source)
        let out = try t.render(messages: [.init(role: "user", content: "What is the capital of France?")], addGenerationPrompt: true)
        XCTAssertEqual(out, "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
            + "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")
    }

    func testLlamaDateComesFromInjectedClock() throws {
        let source = try String(contentsOf: Fixtures.directory.appendingPathComponent("templates/llama-3.2-instruct.jinja"), encoding: .utf8)
        let date = Date(timeIntervalSince1970: 1_735_732_800)  // 2025-01-01 12:00 UTC
        let t = try ChatTemplate(source: source, now: { date }, timeZone: Self.utc)
        let out = try t.render(messages: [.init(role: "user", content: "hi")], addGenerationPrompt: false)
        XCTAssertTrue(out.contains("Today Date: 01 Jan 2025\n"), out)
        let pinned = try t.render(messages: [.init(role: "user", content: "hi")], addGenerationPrompt: false,
            extra: ["date_string": "26 Jul 2024"])
        XCTAssertTrue(pinned.contains("Today Date: 26 Jul 2024\n"), pinned)
    }

    func testSyntaxErrorsNameLineAndColumn() {
        XCTAssertThrowsError(try ChatTemplate(source: "line one\n  {{ 1 + }}")) { e in
            guard let err = e as? TemplateError else { return XCTFail("wrong error type") }
            XCTAssertEqual(err.kind, .syntax)
            XCTAssertEqual(err.line, 2)
            XCTAssertEqual(err.column, 10)
            XCTAssertTrue(err.description.contains("line 2, column 10"), err.description)
        }
        XCTAssertThrowsError(try ChatTemplate(source: "{% for x in y %}\n{% endif %}")) { e in
            XCTAssertEqual((e as? TemplateError)?.line, 2)
        }
        XCTAssertThrowsError(try ChatTemplate(source: "{{ x | nosuchfilter }}")) { e in
            XCTAssertEqual((e as? TemplateError)?.kind, .syntax)
        }
    }

    func testPlainFallback() {
        let msgs = [ChatMessage(role: "system", content: "Be kind."), ChatMessage(role: "user", content: "Hi"),
            ChatMessage(role: "assistant", content: "Hello"), ChatMessage(role: "user", content: "Bye")]
        XCTAssertEqual(ChatTemplate.plain(messages: msgs, addGenerationPrompt: true),
            "System: Be kind.\n\nUser: Hi\n\nAssistant: Hello\n\nUser: Bye\n\nAssistant:")
        XCTAssertEqual(ChatTemplate.plain(messages: Array(msgs.prefix(2)), addGenerationPrompt: false), "System: Be kind.\n\nUser: Hi")
        XCTAssertEqual(ChatTemplate.plain(messages: [], addGenerationPrompt: true), "Assistant:")
    }

    func testTemplateValueJSONKeepsOrderAndNumberKinds() throws {
        let v = try TemplateValue(json: #"{"z": 1, "a": [1.0, 2, "x\u00e9\ud83d\ude00", null, true], "m": {}}"#)
        guard case .dictionary(let d) = v else { return XCTFail("not a dictionary") }
        XCTAssertEqual(d.keys, ["z", "a", "m"])
        XCTAssertEqual(d["a"], .array([.double(1), .int(2), .string("xé😀"), .none, .bool(true)]))
        let t = try ChatTemplate(source: "{{ v | tojson }}")
        XCTAssertEqual(try t.render(context: ["v": v]), #"{"z": 1, "a": [1.0, 2, "xé😀", null, true], "m": {}}"#)
        XCTAssertThrowsError(try TemplateValue(json: "{\"a\": }"))
    }
}
