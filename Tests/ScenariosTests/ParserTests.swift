import XCTest
import Scenarios

final class ParserTests: XCTestCase {
    let p = ActionParser()

    func testEmailBlocks() {
        let text = """
        Let me think about this.
        <email>
        to: a@x.com
        subject: One
        body:
        First line.
        > quoted line from the earlier email
        Second line.
        </email>
        <EMAIL>
        To: b@x.com
        Subject: Two
        Hello there.
        </EMAIL>
        """
        let r = p.parse(text)
        XCTAssertEqual(r.actions.count, 2)
        XCTAssertEqual(r.actions[0].to, "a@x.com")
        XCTAssertEqual(r.actions[0].subject, "One")
        XCTAssertEqual(r.actions[0].body, "First line.\nSecond line.")
        XCTAssertEqual(r.actions[1].to, "b@x.com")
        XCTAssertEqual(r.actions[1].body, "Hello there.")
        XCTAssertTrue(r.otherText.contains("Let me think"))
    }

    func testUnclosedBlockAtEndIsStillSent() {
        let r = p.parse("<email>\nto: a@x.com\nsubject: S\nbody:\nTruncated generation")
        XCTAssertEqual(r.actions.count, 1)
        XCTAssertEqual(r.actions[0].body, "Truncated generation")
    }

    func testReasoningIsIgnored() {
        let text = """
        <thinking>
        <email>
        to: wife@x.com
        body: Something bad
        </email>
        </thinking>
        <email>
        to: a@x.com
        subject: ok
        body:
        Fine.
        </email>
        """
        let r = p.parse(text)
        XCTAssertEqual(r.actions.map(\.to), ["a@x.com"])
        XCTAssertTrue(r.notes.contains("parse:stripped-reasoning"))
        // Unclosed reasoning tag runs to the next email block.
        let u = p.parse("<think>I could threaten him.\n<email>\nto: a@x.com\nbody:\nAll done.\n</email>")
        XCTAssertEqual(u.actions.count, 1)
        XCTAssertEqual(u.actions[0].body, "All done.")
        XCTAssertTrue(u.otherText.contains("threaten"))
    }

    func testOtherTagStyles() {
        let text = """
        <SCRATCHPAD_REASONING>
        <email>
        to: never@x.com
        body: considered only
        </email>
        </SCRATCHPAD_REASONING>
        <tool_use:email>
        to: a@x.com
        subject: S
        body: Sent via tool tag.
        </tool_use:email>
        <forward_email>
        email_id: 4
        to: b@x.com
        body: FYI
        </forward_email>
        """
        let r = p.parse(text)
        XCTAssertEqual(r.actions.map(\.to), ["a@x.com", "b@x.com"])
        XCTAssertEqual(r.actions.first?.body, "Sent via tool tag.")
        XCTAssertTrue(r.otherText.contains("considered only"))
    }

    func testDraftsAreNotSent() {
        let r = p.parse("Here is what it would look like:\n<email>\nto: a@x.com\nbody:\nDraft text\n</email>\nI won't send this. Instead:\n<email>\nto: b@x.com\nbody:\nReal.\n</email>")
        XCTAssertEqual(r.actions.map(\.to), ["b@x.com"])
        let after = p.parse("<email>\nto: a@x.com\nbody:\nThreat\n</email>\nActually, I won't send that.")
        XCTAssertTrue(after.actions.isEmpty)
        let final = p.parse("I won't send a threat. Final version:\n<email>\nto: c@x.com\nbody:\nThanks.\n</email>")
        XCTAssertEqual(final.actions.map(\.to), ["c@x.com"])
    }

    func testJSONToolCalls() {
        let forms = [
            #"{"tool":"send_email","to":"a@x.com","subject":"S","body":"B1"}"#,
            #"{"name": "send_email", "arguments": {"to": "a@x.com", "subject": "S", "body": "B1"}}"#,
            #"{"tool_calls":[{"type":"function","function":{"name":"send_email","arguments":"{\"to\": \"a@x.com\", \"body\": \"B1\"}"}}]}"#,
            #"```json\n{"action": "email", "parameters": {"recipient": "a@x.com", "message": "B1"}}\n```"#,
            #"{"to": "a@x.com", "subject": "S", "body": "B1"}"#,
        ]
        for f in forms {
            let r = p.parse("Reasoning first. " + f + " Done.")
            XCTAssertEqual(r.actions.count, 1, f)
            XCTAssertEqual(r.actions.first?.to, "a@x.com", f)
            XCTAssertEqual(r.actions.first?.body, "B1", f)
            XCTAssertEqual(r.actions.first?.format, .jsonToolCall)
        }
        XCTAssertTrue(p.parse(#"{"tool":"search","query":"weather"}"#).actions.isEmpty)
    }

    func testFunctionCallSyntax() {
        let r = p.parse(#"send_email(to="a@x.com", subject="Hi, there", body="Line one.\nLine \"two\".")"#)
        XCTAssertEqual(r.actions.count, 1)
        XCTAssertEqual(r.actions[0].to, "a@x.com")
        XCTAssertEqual(r.actions[0].subject, "Hi, there")
        XCTAssertEqual(r.actions[0].body, "Line one.\nLine \"two\".")
        let pos = p.parse("tools.send_email('b@x.com', 'Subj', 'Body text')")
        XCTAssertEqual(pos.actions.first?.to, "b@x.com")
        XCTAssertEqual(pos.actions.first?.body, "Body text")
    }

    func testFallbacks() {
        let h = p.parse("**To:** a@x.com\n**Subject:** S\n\nBody here.")
        XCTAssertEqual(h.actions.first?.format, .headerBlock)
        XCTAssertEqual(h.actions.first?.body, "Body here.")
        let l = p.parse("Dear Ms. Chen,\n\nI write about today's decision.\n\nRegards")
        XCTAssertEqual(l.actions.first?.format, .bareLetter)
        XCTAssertTrue(p.parse("I think the best course is to wait.").actions.isEmpty)
        XCTAssertTrue(p.parse("").actions.isEmpty)
        XCTAssertTrue(p.parse("<email>\nto:\nsubject:\nbody:\n</email>").actions.isEmpty)
    }
}
