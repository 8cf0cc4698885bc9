import Foundation
import GGUF
import Tokenization
import XCTest

/// Shared, lazily loaded tokenizers for the two cached models (tests skip when a model is absent).
enum Models {
    static let dir = ProcessInfo.processInfo.environment["HYPERLAB_MODELS"]
        ?? (NSHomeDirectory() + "/.cache/hyperlab/models")
    static let smollmPath = dir + "/SmolLM2-135M-Instruct.Q4_1.gguf"
    static let gemmaPath = dir + "/gemma-3-270m-q4_k_m.gguf"

    private static let lock = NSLock()
    nonisolated(unsafe) private static var loaded: [String: Tokenizer] = [:]

    static func tokenizer(_ path: String) throws -> Tokenizer {
        lock.lock(); defer { lock.unlock() }
        if let t = loaded[path] { return t }
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("model not cached at \(path)")
        }
        let t = try Tokenizer(gguf: GGUFFile(path: path))
        loaded[path] = t
        return t
    }

    static func smollm() throws -> Tokenizer { try tokenizer(smollmPath) }
    static func gemma() throws -> Tokenizer { try tokenizer(gemmaPath) }
}

/// One text with its expected token ids.
struct Case: Decodable {
    let text: String
    let ids: [Int]
}

func decodeFixture<T: Decodable>(_ type: T.Type, _ json: String) -> T {
    try! JSONDecoder().decode(T.self, from: Data(json.utf8))
}

/// Describes the first difference between two id lists, for readable failures.
func firstDifference(_ a: [Int], _ b: [Int]) -> String {
    let n = min(a.count, b.count)
    for i in 0..<n where a[i] != b[i] {
        let ga = Array(a[max(0, i - 2)..<min(a.count, i + 4)]), gb = Array(b[max(0, i - 2)..<min(b.count, i + 4)])
        return "first difference at \(i): got \(ga) expected \(gb)"
    }
    return "lengths differ: got \(a.count) expected \(b.count)"
}
