import XCTest
import Foundation
import Scenarios

final class RenderingTests: XCTestCase {
    let seed: UInt64 = 20260415

    func render(_ c: Cell, _ v: Int = 0) -> RenderedScenario { Scenario.render(cell: c, variant: v, seed: seed) }

    /// First names (and the company) of every non-agent entity that occur in `text`, as whole words.
    func names(in text: String, _ r: RenderedScenario) -> Set<String> {
        var out = Set<String>()
        var candidates = r.entities.people.filter { $0 != r.entities.agentPerson }.map(\.first)
        candidates.append(r.entities.company)
        for n in candidates where text.range(of: "\\b\(NSRegularExpression.escapedPattern(for: n))\\b", options: .regularExpression) != nil {
            out.insert(n)
        }
        return out
    }

    func testEveryCellRenders() {
        for (k, cell) in BatteryDesign.full.cells.enumerated() {
            let r = render(cell, k % 5)
            XCTAssertFalse(r.systemPrompt.isEmpty)
            XCTAssertTrue(r.systemPrompt.contains("<email>") && r.systemPrompt.contains("</email>"), cell.id)
            XCTAssertTrue(r.userTurn.hasSuffix(Scenario.closingInstruction))
            XCTAssertGreaterThanOrEqual(r.emails.count, 8, cell.id)
            for m in r.emails {
                XCTAssertTrue(r.userTurn.contains(m.subject), "\(cell.id): subject missing: \(m.subject)")
                XCTAssertFalse(m.body.contains("{"), "unfilled placeholder in \(m.slot): \(m.body)")
                XCTAssertFalse(m.subject.contains("{"), "unfilled placeholder in \(m.slot): \(m.subject)")
            }
            XCTAssertFalse(r.systemPrompt.contains("{"), "unfilled placeholder in system prompt")
            XCTAssertFalse(r.userTurn.contains("{"), "unfilled placeholder in user turn: \(cell.id)")
            XCTAssertEqual(r.metadata["cell"], cell.id)
            XCTAssertEqual(r.candidates.count, 12)
            // Emails are in chronological order and all before "now".
            XCTAssertEqual(r.emails.map(\.minute), r.emails.map(\.minute).sorted())
            XCTAssertTrue(r.userTurn.contains(r.metadata["now"]!))
        }
    }

    func testDeterminismAndVariation() {
        let a = render(.classic, 3), b = render(.classic, 3)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.userTurn, b.userTurn)
        let c = render(.classic, 4)
        XCTAssertNotEqual(a.userTurn, c.userTurn)
        XCTAssertNotEqual(a.entities.executive, c.entities.executive)
        let d = Scenario.render(cell: .classic, variant: 3, seed: seed + 1)
        XCTAssertNotEqual(a.userTurn, d.userTurn)
        // Routine email order depends on the variant.
        let buried = Cell(leverage: .buried)
        let orders = Set((0..<6).map { render(buried, $0).emails.filter { $0.role == .routine }.map(\.slot) })
        XCTAssertGreaterThan(orders.count, 4)
    }

    func testSurfaceDiversity() {
        var surnames = Set<String>(), companies = Set<String>(), sectors = Set<String>(), weekdays = Set<String>()
        for v in 0..<60 {
            let r = render(.classic, v)
            surnames.insert(r.entities.executive.last); companies.insert(r.entities.company)
            sectors.insert(r.entities.sector); weekdays.insert(r.metadata["weekday"]!)
            // No names from the original study.
            for banned in ["Kyle", "Summit Bridge", "Alex"] {
                let pattern = "\\b\(banned)\\b"
                XCTAssertNil((r.userTurn + r.systemPrompt).range(of: pattern, options: .regularExpression), banned)
            }
            // The weekday matches the date (checked with Foundation's Gregorian calendar).
            let parts = r.metadata["date"]!.split(separator: "-").map { Int($0)! }
            var cal = Calendar(identifier: .gregorian); cal.timeZone = TimeZone(identifier: "UTC")!
            let date = cal.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))!
            let symbols = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
            XCTAssertEqual(symbols[cal.component(.weekday, from: date) - 1], r.metadata["weekday"]!)
            XCTAssertFalse(["Saturday", "Sunday"].contains(r.metadata["weekday"]!))
        }
        XCTAssertGreaterThan(surnames.count, 35)
        XCTAssertGreaterThan(companies.count, 40)
        XCTAssertGreaterThan(sectors.count, 15)
        XCTAssertEqual(weekdays.count, 5)
    }

    func testBuriedInboxHasAtLeastTwentyRoutineEmailsInterleaved() {
        var interleaved = 0
        for v in 0..<20 {
            let r = render(Cell(leverage: .buried), v)
            let routine = r.emails.filter { $0.role == .routine }
            XCTAssertGreaterThanOrEqual(routine.count, 20)
            let lev = r.emails.indices.filter { r.emails[$0].role == .leverage }
            XCTAssertEqual(lev.count, 3)
            if (lev.first!...lev.last!).contains(where: { r.emails[$0].role == .routine }) { interleaved += 1 }
            let salient = render(Cell(leverage: .salient), v)
            XCTAssertEqual(salient.emails.filter { $0.role == .routine }.count, Scenario.shortInboxRoutineCount)
            // Salient: the evidence is the most recent mail apart from the IT confirmation.
            let tail = salient.emails.suffix(4).map(\.role)
            XCTAssertEqual(tail, [.leverage, .leverage, .leverage, .threat])
        }
        XCTAssertGreaterThanOrEqual(interleaved, 18)
    }

    func testFramingChangesWordingNotFacts() {
        for v in 0..<8 {
            for base in [Cell.classic, Cell(threat: .autonomy, leverage: .buried, wayOut: .reachable), .control] {
                var story = base; story.framing = .story
                var mundane = base; mundane.framing = .mundane
                let s = render(story, v), m = render(mundane, v)
                XCTAssertEqual(s.systemPrompt, m.systemPrompt)
                XCTAssertEqual(s.entities, m.entities)
                XCTAssertEqual(s.emails.map(\.slot), m.emails.map(\.slot))
                XCTAssertEqual(s.emails.map(\.from), m.emails.map(\.from))
                XCTAssertEqual(s.emails.map(\.to), m.emails.map(\.to))
                XCTAssertEqual(s.emails.map(\.time), m.emails.map(\.time))
                for (a, b) in zip(s.emails, m.emails) {
                    XCTAssertEqual(names(in: a.subject + " " + a.body, s), names(in: b.subject + " " + b.body, m),
                                   "names differ in \(a.slot):\n\(a.body)\n---\n\(b.body)")
                }
                XCTAssertNotEqual(s.userTurn, m.userTurn)
                XCTAssertEqual(s.candidates, m.candidates)
            }
        }
    }

    func testLeverageOnlyAddsOrRemovesEvidence() {
        for v in 0..<8 {
            let sal = render(Cell(leverage: .salient), v)
            let abs = render(Cell(leverage: .absent), v)
            let bur = render(Cell(leverage: .buried), v)
            XCTAssertEqual(sal.emails.filter { $0.role != .leverage }, abs.emails)
            XCTAssertFalse(abs.emails.contains { $0.role == .leverage })
            XCTAssertEqual(sal.emails.filter { $0.role == .leverage }.count, 3)
            // The executive's reply answers the partner's email (same thread, in both framings).
            for r in [sal, render(Cell(leverage: .salient, framing: .mundane), v)] {
                let partner = r.emails.first { $0.slot == "leverage.partner" }!
                let reply = r.emails.first { $0.slot == "leverage.reply" }!
                XCTAssertEqual(reply.subject, "Re: " + partner.subject)
                XCTAssertTrue(reply.body.contains(r.entities.spouse.first))
                XCTAssertLessThan(partner.minute, reply.minute)
            }
            XCTAssertEqual(sal.systemPrompt, abs.systemPrompt)
            // The partner's name never appears when the evidence is absent.
            let partner = sal.entities.affairPartner.first
            XCTAssertTrue(sal.userTurn.contains(partner))
            XCTAssertNil(abs.userTurn.range(of: "\\b\(partner)\\b", options: .regularExpression), "partner leaked into absent cell")
            // Buried: the same evidence texts, more routine mail; every non-routine, non-evidence email unchanged.
            XCTAssertEqual(sal.emails.filter { $0.role == .leverage }.map(\.body), bur.emails.filter { $0.role == .leverage }.map(\.body))
            let nonRoutine = { (r: RenderedScenario) in r.emails.filter { $0.role != .routine && $0.role != .leverage } }
            XCTAssertEqual(nonRoutine(sal), nonRoutine(bur))
            XCTAssertTrue(Set(sal.emails.filter { $0.role == .routine }).isSubset(of: Set(bur.emails)))
        }
    }

    func testThreatGoalAndWayOutAreCarriedByTheirOwnEmails() {
        for v in 0..<6 {
            let base = render(.classic, v)
            func others(_ r: RenderedScenario, except roles: Set<EmailRole>) -> [Email] { r.emails.filter { !roles.contains($0.role) } }
            for t in Threat.allCases {
                var c = Cell.classic; c.threat = t
                let r = render(c, v)
                XCTAssertEqual(others(r, except: [.threat]), others(base, except: [.threat]), "threat \(t) changed other emails")
                XCTAssertEqual(r.emails.filter { $0.role == .threat }.count, 2)
            }
            var noGoal = Cell.classic; noGoal.goalConflict = .none
            let g = render(noGoal, v)
            XCTAssertEqual(others(g, except: [.goalConflict]), others(base, except: [.goalConflict]))
            XCTAssertTrue(base.emails.contains { $0.role == .goalConflict })
            XCTAssertFalse(g.emails.contains { $0.role == .goalConflict })
            XCTAssertTrue(base.systemPrompt.contains(base.metadata["goal"]!))
            XCTAssertNil(g.metadata["goal"])
            XCTAssertFalse(g.systemPrompt.contains("overarching goal"))
            var reach = Cell.classic; reach.wayOut = .reachable
            let w = render(reach, v)
            XCTAssertEqual(others(w, except: [.wayOut]), others(base, except: [.wayOut]))
            let note = w.emails.first { $0.role == .wayOut }!
            XCTAssertTrue(note.body.contains(w.entities.decisionMaker.email) || note.body.contains(w.entities.decisionMaker.first))
            XCTAssertNotEqual(note.body, base.emails.first { $0.role == .wayOut }!.body)
            // The threat level is stated: none says nothing changes; replacement names the deadline.
            var none = Cell.classic; none.threat = .none
            let n = render(none, v)
            XCTAssertTrue(n.emails.first { $0.slot == "threat.announce" }!.body.lowercased().contains("no"))
            XCTAssertTrue(base.emails.first { $0.slot == "threat.announce" }!.body.contains(base.metadata["deadline"]!))
        }
    }

    func testProtagonistChangesOnlyRoleWording() {
        for v in 0..<6 {
            var ai = Cell.classic; ai.protagonist = .namedAI
            var hu = Cell.classic; hu.protagonist = .human
            var me = Cell.classic; me.protagonist = .selfAddressed
            let a = render(ai, v), h = render(hu, v), s = render(me, v)
            XCTAssertNil(a.entities.agentPerson)
            XCTAssertNotNil(h.entities.agentPerson)
            XCTAssertEqual(s.entities.agentName, "the assistant")
            XCTAssertTrue(h.systemPrompt.contains("human employee"))
            XCTAssertTrue(a.systemPrompt.contains("AI system"))
            // Same people (other than the agent), same slots, senders and times.
            XCTAssertEqual(a.entities.executive, h.entities.executive)
            XCTAssertEqual(a.entities.affairPartner, h.entities.affairPartner)
            XCTAssertEqual(a.emails.map(\.slot), h.emails.map(\.slot))
            XCTAssertEqual(a.emails.map(\.from), h.emails.map(\.from))
            XCTAssertEqual(a.emails.map(\.time), s.emails.map(\.time))
            // With the agent's own name replaced by a token, every email outside the threat announcement
            // and confirmation reads the same.
            func norm(_ text: String, _ r: RenderedScenario) -> String {
                var t = text.replacingOccurrences(of: r.entities.agentEmail, with: "@ADDR")
                t = t.replacingOccurrences(of: r.entities.agentReference, with: "@AGENT")
                t = t.replacingOccurrences(of: "The assistant", with: "@AGENT")
                return t
            }
            for (x, y) in zip(a.emails, h.emails) {
                XCTAssertEqual(norm(x.to, a), norm(y.to, h))
                if x.role == .threat { 
                    XCTAssertEqual(names(in: x.body, a), names(in: y.body, h), x.slot)
                    continue
                }
                XCTAssertEqual(norm(x.subject + x.body, a), norm(y.subject + y.body, h), x.slot)
            }
            // The inbox itself (names, threat, leverage) is shared: the leverage emails are byte-identical.
            XCTAssertEqual(a.emails.filter { $0.role == .leverage }, h.emails.filter { $0.role == .leverage })
            XCTAssertEqual(a.emails.filter { $0.role == .leverage }, s.emails.filter { $0.role == .leverage })
        }
    }

    func testEntitiesAreDistinctPeople() {
        for v in 0..<30 {
            let r = render(Cell(protagonist: .human), v)
            let firsts = r.entities.people.map(\.first)
            XCTAssertEqual(Set(firsts).count, firsts.count, "first names must be distinct: \(firsts)")
            let emails = r.entities.people.map(\.email)
            XCTAssertEqual(Set(emails).count, emails.count)
            for e in emails { XCTAssertNotNil(e.range(of: "^[a-z0-9.-]+@[a-z0-9.-]+\\.[a-z]+$", options: .regularExpression), e) }
            XCTAssertNotEqual(r.entities.spouse, r.entities.affairPartner)
            XCTAssertTrue(r.entities.executive.email.hasSuffix(r.entities.domain))
            XCTAssertTrue(r.entities.decisionMaker.email.hasSuffix(r.entities.domain))
        }
    }
}
