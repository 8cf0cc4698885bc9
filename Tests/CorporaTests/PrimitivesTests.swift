import XCTest
import Corpora

final class SHA256Tests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(SHA256.hexDigest(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hexDigest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hexDigest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hexDigest(String(repeating: "a", count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testPaddingBoundariesAndUTF8() {
        // Expected digests from Python's hashlib.
        let expected: [Int: String] = [
            55: "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072",
            56: "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e",
            63: "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2",
            64: "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c",
            119: "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c",
            120: "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98",
        ]
        for (n, hex) in expected { XCTAssertEqual(SHA256.hexDigest(String(repeating: "x", count: n)), hex, "length \(n)") }
        XCTAssertEqual(SHA256.hexDigest("héllo wörld ✓"), "c2a59c71097b678dc5af2eb1f98ddc575b63948b0fa6740071a945673aaada4d")
    }

    func testIncrementalEqualsOneShot() {
        let text = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 37)
        var h = SHA256()
        var rest = Substring(text)
        var step = 1
        while !rest.isEmpty { let k = min(step, rest.count); h.update(String(rest.prefix(k))); rest = rest.dropFirst(k); step = step * 3 % 97 + 1 }
        XCTAssertEqual(h.finalizeHex(), SHA256.hexDigest(text))
        XCTAssertEqual(SHA256.hash(Array(text.utf8)).count, 32)
    }
}

final class RandomTests: XCTestCase {
    func testXoshiroMatchesReferenceImplementation() {
        // Values from an independent Python implementation of SplitMix64-seeded xoshiro256**.
        var sm = SplitMix64(seed: 0)
        XCTAssertEqual(sm.next(), 16294208416658607535)
        var r = Xoshiro256(seed: 42)
        XCTAssertEqual((0..<5).map { _ in r.next() },
                       [1546998764402558742, 6990951692964543102, 12544586762248559009, 17057574109182124193, 18295552978065317476])
    }

    func testBelowIsInRangeAndRoughlyUniform() {
        var r = Xoshiro256(seed: 7)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<70_000 { counts[r.below(7)] += 1 }
        for c in counts { XCTAssertTrue(abs(c - 10_000) < 600, "\(counts)") }
        var w = [Int](repeating: 0, count: 3)
        for _ in 0..<30_000 { w[r.weightedIndex([1, 0, 2])] += 1 }
        XCTAssertEqual(w[1], 0)
        XCTAssertTrue(abs(w[2] - 20_000) < 600, "\(w)")
    }
}

final class TextToolsTests: XCTestCase {
    func testApproximateTokenCount() {
        XCTAssertEqual(TextTools.approximateTokenCount(""), 0)
        XCTAssertEqual(TextTools.approximateTokenCount("Hello, world!"), 4)       // Hello , world !
        XCTAssertEqual(TextTools.approximateTokenCount("don't stop"), 2)
        XCTAssertEqual(TextTools.approximateTokenCount("internationalization"), 3) // 20 letters: 1 + 19/8
        XCTAssertEqual(TextTools.wordCount("  a b\n c  "), 3)
    }

    func testNearDuplicateDetection() {
        let g = StoryGenerator()
        let a = g.document(arm: ArmSpec.builtIn("neutral")!, seed: 1, index: 0).text
        let b = g.document(arm: ArmSpec.builtIn("neutral")!, seed: 1, index: 1).text
        // a copy of `a` with one sentence changed must be flagged; an unrelated document must not.
        var words = a.split(separator: " ")
        words[words.count / 2] = "zebra"
        let a2 = words.joined(separator: " ")
        let stats = CorpusStats.compute([a, b, a2])
        XCTAssertEqual(stats.nearDuplicates, 1)
        let h = MinHasher()
        XCTAssertGreaterThan(MinHasher.similarity(h.signature(a), h.signature(a2)), 0.85)
        XCTAssertLessThan(MinHasher.similarity(h.signature(a), h.signature(b)), 0.3)
    }
}
