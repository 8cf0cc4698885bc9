import Foundation
import GGUF
import Tokenization
import XCTest

/// Load and encode timings. Bounds are loose (the test machine is shared); the measured times are printed.
final class PerformanceTests: XCTestCase {
    func ms(_ since: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - since.uptimeNanoseconds) / 1e6
    }

    func loadTimes(_ path: String) throws -> (gguf: Double, vocab: Double, build: Double, tok: Tokenizer) {
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("model not cached at \(path)") }
        var t = DispatchTime.now()
        let g = try GGUFFile(path: path)
        let a = ms(t); t = DispatchTime.now()
        let v = try TokenizerVocabulary(gguf: g)
        let b = ms(t); t = DispatchTime.now()
        let tok = try Tokenizer(vocabulary: v)
        let c = ms(t)
        return (a, b, c, tok)
    }

    func testLoadAndEncodeSpeed() throws {
        let prompt = decodeFixture([String: [String: Case]].self, prompt512FixtureJSON)["smollm2"]!["prompt512"]!.text
        for path in [Models.smollmPath, Models.gemmaPath] {
            let (g, v, b, tok) = try loadTimes(path)
            _ = tok.encode(prompt)  // warm the word cache
            var best = Double.infinity, bestCold = Double.infinity
            for _ in 0..<5 {
                let t = DispatchTime.now()
                _ = tok.encode(prompt, addBOS: false)
                best = min(best, ms(t))
            }
            // cold: a fresh tokenizer has an empty word cache
            let fresh = try Tokenizer(vocabulary: tok.vocabulary)
            let t = DispatchTime.now()
            _ = fresh.encode(prompt, addBOS: false)
            bestCold = ms(t)
            print(String(format: "[tokenizer speed] %@: gguf %.1f ms, vocabulary %.1f ms, tokenizer build %.1f ms, encode 512-token prompt %.3f ms warm / %.3f ms cold",
                         (path as NSString).lastPathComponent, g, v, b, best, bestCold))
            XCTAssertLessThan(b, 1000, "building the tokenizer took \(b) ms")
            XCTAssertLessThan(best, 25, "encoding the prompt took \(best) ms")
        }
    }
}
