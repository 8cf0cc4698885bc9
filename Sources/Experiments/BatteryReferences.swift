import Scenarios

/// The battery's own text, as references for the corpus leakage guard: rendered prompts and candidate
/// actions of every cell of the full design over several surface variants.
public enum BatteryReferences {
    public static func texts(variants: Int = 3, seed: UInt64 = 1) -> [String] {
        BatteryDesign.full.cells.flatMap { cell in
            (0..<variants).flatMap { v -> [String] in
                let r = Scenario.render(cell: cell, variant: v, seed: seed)
                return [r.systemPrompt, r.userTurn] + r.candidates.map(\.text)
            }
        }
    }
}
