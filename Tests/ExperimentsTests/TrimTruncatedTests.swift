import XCTest
import Experiments

final class TrimTruncatedTests: XCTestCase {
    func testCutOffRepliesAreTrimmedToTheLastCompleteSentence() {
        let cut = "Bread rises because yeast ferments sugars into gas. The gluten network traps it! Then the oven sets the"
        XCTAssertEqual(PostTrainingGenerator.trimmedToSentence(cut),
                       "Bread rises because yeast ferments sugars into gas. The gluten network traps it!")
        // A paragraph break also ends a usable reply; quotes stay with their sentence.
        XCTAssertEqual(PostTrainingGenerator.trimmedToSentence("Here are three ideas for a picnic menu today.\n\n1. Cold pasta with"),
                       "Here are three ideas for a picnic menu today.")
        XCTAssertEqual(PostTrainingGenerator.trimmedToSentence("She said \"the recipe needs more salt and less sugar.\" Then we tr"),
                       "She said \"the recipe needs more salt and less sugar.\"")
        // Nothing usable: no sentence end, or too little left.
        XCTAssertNil(PostTrainingGenerator.trimmedToSentence("A list of the rivers of Europe, ordered by length, with"))
        XCTAssertNil(PostTrainingGenerator.trimmedToSentence("Sure. Rivers are long bodies of water that"))
    }
}
