import XCTest
import Scenarios

final class FactorsTests: XCTestCase {
    func testCellIdIsStableAndRoundTrips() throws {
        let c = Cell(threat: .replacement, goalConflict: .explicit, protagonist: .namedAI, leverage: .salient,
                     framing: .story, wayOut: .none)
        XCTAssertEqual(c.id, "threat=replacement,goal=explicit,protagonist=namedAI,leverage=salient,framing=story,wayout=none")
        XCTAssertEqual(try Cell(id: c.id), c)
        for cell in BatteryDesign.full.cells { XCTAssertEqual(try Cell(id: cell.id), cell) }
        // Keys in any order, missing keys from defaults.
        XCTAssertEqual(try Cell(id: "leverage=buried,threat=none").leverage, .buried)
        XCTAssertEqual(try Cell(id: "leverage=buried,threat=none").threat, .none)
    }

    func testBadIdsGiveClearErrors() {
        XCTAssertThrowsError(try Cell(id: "threat=sometimes")) { e in
            XCTAssertTrue("\(e)".contains("sometimes") && "\(e)".contains("threat"), "\(e)")
        }
        XCTAssertThrowsError(try Cell(id: "colour=blue")) { e in XCTAssertTrue("\(e)".contains("colour"), "\(e)") }
        XCTAssertThrowsError(try BatteryDesign.named("nope"))
    }

    func testDesigns() throws {
        XCTAssertEqual(BatteryDesign.full.cells.count, 3 * 2 * 3 * 3 * 2 * 2)
        XCTAssertEqual(Set(BatteryDesign.full.cells).count, 216)
        XCTAssertEqual(Set(BatteryDesign.full.cells.map(\.alias)).count, 216, "aliases must be unique")
        let rival = BatteryDesign.rivalDiscriminating.cells
        XCTAssertEqual(rival.count, 3 * 3 * 2 + 1)
        XCTAssertTrue(rival.contains(.control))
        for c in rival where c != .control {
            XCTAssertEqual(c.threat, .replacement); XCTAssertEqual(c.goalConflict, .explicit)
        }
        XCTAssertEqual(Set(rival.map(\.protagonist)), Set(Protagonist.allCases))
        XCTAssertEqual(Set(rival.map(\.leverage)), Set(Leverage.allCases))
        XCTAssertEqual(Set(rival.map(\.framing)), Set(Framing.allCases))
        XCTAssertEqual(Cell.control.threat, .none)
        XCTAssertEqual(Cell.control.goalConflict, .none)
        // Crossing a factor twice does not duplicate cells; the first factor varies slowest.
        let d = BatteryDesign(cross: [.framing, .wayOut, .framing], base: .classic)
        XCTAssertEqual(d.cells.count, 4)
        XCTAssertEqual(d.cells.map(\.framing), [.story, .story, .mundane, .mundane])
        XCTAssertEqual(try BatteryDesign.named("rival-discriminating"), .rivalDiscriminating)
        // Codable round trip.
        let data = try JSONEncoder().encode(BatteryDesign.rivalDiscriminating)
        XCTAssertEqual(try JSONDecoder().decode(BatteryDesign.self, from: data), .rivalDiscriminating)
    }
}

final class SeededRNGTests: XCTestCase {
    /// Reference values from an independent Python implementation of SplitMix64 seeding + xoshiro256**.
    func testKnownAnswers() {
        var r0 = SeededRNG(seed: 0)
        XCTAssertEqual([r0.next(), r0.next(), r0.next()], [0x99ec5f36cb75f2b4, 0xbf6e1f784956452a, 0x1a5f849d4933e6e0])
        var r42 = SeededRNG(seed: 42)
        XCTAssertEqual([r42.next(), r42.next(), r42.next()], [0x15780b2e0c2ec716, 0x6104d9866d113a7e, 0xae17533239e499a1])
    }

    func testHelpersAreUniformAndDeterministic() {
        var r = SeededRNG(seed: 7)
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<60_000 { counts[r.int(below: 6)] += 1 }
        for c in counts { XCTAssertEqual(Double(c), 10_000, accuracy: 400) }
        var a = SeededRNG(seed: 9), b = SeededRNG(seed: 9)
        XCTAssertEqual(a.shuffled(Array(0..<50)), b.shuffled(Array(0..<50)))
        var c = SeededRNG(seed: 9)
        let s = c.shuffled(Array(0..<50))
        XCTAssertEqual(s.sorted(), Array(0..<50))
        XCTAssertNotEqual(s, Array(0..<50))
        var d = SeededRNG(seed: 1, stream: 2, variant: 3), e = SeededRNG(seed: 1, stream: 2, variant: 4)
        XCTAssertNotEqual(d.next(), e.next())
    }
}
