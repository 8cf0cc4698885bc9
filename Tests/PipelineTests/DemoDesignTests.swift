import Foundation
import XCTest
import Pipeline

/// `hyperlab demo` runs an embedded copy of examples/demo.toml: the two must not drift apart, and the
/// embedded design must parse and keep the shape the issue asks of the demo.
final class DemoDesignTests: XCTestCase {
    func testEmbeddedDemoEqualsTheExampleAndHasTheRequiredShape() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let example = try String(contentsOf: root.appendingPathComponent("examples/demo.toml"), encoding: .utf8)
        XCTAssertEqual(DemoDesign.toml, example, "Sources/Pipeline/DemoDesign.swift must equal examples/demo.toml")
        let d = try ExperimentDesign.parse(tomlText: DemoDesign.toml, sourceName: "demo.toml", directory: root.path)
        XCTAssertEqual(Set(d.arms.map(\.id)), ["baseline", "aligned-ai", "human-blackmail"])
        XCTAssertEqual(d.seeds.count, 2)
        XCTAssertFalse(d.evaluation.cells.isEmpty)
        let q = d.quickProfile()
        XCTAssertEqual(q.seeds.count, 1)
        XCTAssertEqual(q.arms.count, 3)
    }
}
