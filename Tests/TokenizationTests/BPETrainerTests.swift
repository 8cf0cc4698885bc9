import Foundation
import GGUF
import Tokenization
import XCTest

/// Tests of the byte-level BPE trainer: hand-worked merges, agreement with a naive merge-by-rank
/// tokenizer written here, exact round trips, GGUF metadata, llama.cpp agreement, and speed.
final class BPETrainerTests: XCTestCase {

    // MARK: helpers

    /// A small seeded generator (SplitMix64) for synthetic corpora.
    struct Mix {
        var s: UInt64
        mutating func next() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    /// Pseudo-English: Zipf-like words from syllables, with capitals, numbers, punctuation, some
    /// non-ASCII words and paragraph breaks.
    static func syntheticCorpus(bytes: Int, seed: UInt64) -> [String] {
        var r = Mix(s: seed)
        let syl = ["ka", "to", "ri", "an", "mel", "son", "the", "ing", "er", "pa", "lo", "qu", "st", "re", "ve", "di", "ne", "or"]
        var lexicon: [String] = []
        for _ in 0..<3000 {
            var w = ""
            for _ in 0..<(1 + r.below(3)) { w += syl[r.below(syl.count)] }
            lexicon.append(w)
        }
        lexicon += ["café", "naïve", "Straße", "日本語", "東京", "привет", "мир", "😀", "coöperate", "ĝardeno"]
        var docs: [String] = []
        var total = 0
        while total < bytes {
            var d = ""
            let words = 60 + r.below(200)
            var capital = true
            for i in 0..<words {
                // Zipf-ish pick: square of a uniform index
                let u = Double(r.below(1_000_000)) / 1_000_000
                var w = lexicon[min(lexicon.count - 1, Int(u * u * u * Double(lexicon.count)))]
                if capital { w = w.prefix(1).uppercased() + w.dropFirst(); capital = false }
                if i > 0 { d += " " }
                d += w
                switch r.below(40) {
                case 0, 1, 2: d += "."; capital = true
                case 3, 4: d += ","
                case 5: d += " \(r.below(5000))"
                case 6: d += "!"; capital = true
                case 7: d += "\n\n"; capital = true
                case 8: d += " (\(lexicon[r.below(100)]))"
                case 9: d += "'s"
                default: break
                }
            }
            docs.append(d + ".")
            total += d.utf8.count
        }
        return docs
    }

    /// GPT-2's printable stand-in character of a byte (written here independently of the library).
    static func standIn(_ b: UInt8) -> String {
        let printable = Set(Array(33...126) + Array(161...172) + Array(174...255))
        if printable.contains(Int(b)) { return String(UnicodeScalar(b)) }
        var n = 0
        for x in 0..<256 where !printable.contains(x) {
            if x == Int(b) { return String(UnicodeScalar(UInt32(256 + n))!) }
            n += 1
        }
        fatalError()
    }

    /// Naive BPE of one word: repeatedly merge the adjacent pair with the lowest rank (leftmost on ties).
    static func naiveBPE(_ word: String, ranks: [String: Int]) -> [String] {
        var sym = Array(word.utf8).map { standIn($0) }
        while sym.count > 1 {
            var best = -1, bestRank = Int.max
            for i in 0..<(sym.count - 1) {
                if let r = ranks[sym[i] + " " + sym[i + 1]], r < bestRank { bestRank = r; best = i }
            }
            if best < 0 { break }
            sym[best] += sym[best + 1]
            sym.remove(at: best + 1)
        }
        return sym
    }

    // MARK: tests

    func testHandWorkedMerges() throws {
        // Words (default pre-tokenizer): "ab" ×1, " ab" ×2, " abc" ×2 (the space becomes "Ġ").
        // Pairs: (a,b) 5, (Ġ,a) 4, (b,c) 2 → "a b"; then (Ġ,ab) 4, (ab,c) 2 → "Ġ ab"; then (Ġab,c) 2 → "Ġab c".
        let v = try BPETrainer.train(["ab ab ab abc abc"], configuration: BPETrainerConfiguration(vocabularySize: 1000))
        XCTAssertEqual(v.merges, ["a b", "Ġ ab", "Ġab c"])
        XCTAssertEqual(v.tokens.count, 5 + 256 + 3)
        XCTAssertEqual(Array(v.tokens.suffix(3)), ["ab", "Ġab", "Ġabc"])
        XCTAssertEqual(Array(v.tokens.prefix(5)), ["<|pad|>", "<|startoftext|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"])
        let tok = try v.makeTokenizer()
        let ids = tok.encode(" abc ab abd", addBOS: false)
        XCTAssertEqual(ids.map { tok.tokenText($0) }, ["Ġabc", "Ġab", "Ġab", "d"])
        XCTAssertEqual(tok.encode("x", addBOS: true).first, v.bosID)

        // The vocabulary size caps the merges: room for one merge only.
        let small = try BPETrainer.train(["ab ab ab abc abc"], configuration: BPETrainerConfiguration(vocabularySize: 5 + 256 + 1))
        XCTAssertEqual(small.merges, ["a b"])
        // minPairFrequency stops merging pairs seen fewer times.
        let freq = try BPETrainer.train(["ab ab ab abc abc"], configuration: BPETrainerConfiguration(vocabularySize: 1000, minPairFrequency: 3))
        XCTAssertEqual(freq.merges, ["a b", "Ġ ab"])
    }

    func testFirstMergeIsMostFrequentPairAndTokenizerFollowsMerges() throws {
        let corpus = BPETrainerTests.syntheticCorpus(bytes: 200_000, seed: 7)
        let v = try BPETrainer.train(corpus, configuration: BPETrainerConfiguration(vocabularySize: 1200))
        XCTAssertEqual(v.tokens.count, 1200)
        XCTAssertEqual(v.merges.count, 1200 - 5 - 256)
        XCTAssertEqual(Set(v.tokens).count, v.tokens.count, "token texts must be distinct")
        let tok = try v.makeTokenizer()

        // Count adjacent stand-in pairs over the pre-tokenized corpus, naively.
        var counts: [String: Int] = [:]
        for d in corpus {
            for w in tok.preTokenize(d) {
                let s = Array(w.utf8).map { BPETrainerTests.standIn($0) }
                for i in 1..<max(s.count, 1) where s.count > 1 { counts[s[i - 1] + " " + s[i], default: 0] += 1 }
            }
        }
        let top = counts.values.max()!
        XCTAssertEqual(counts[v.merges[0]], top, "the first merge must be a most frequent pair")

        // Every merge's parts are tokens made before it; its result is a token.
        var seen = Set(v.tokens.prefix(5 + 256))
        let tokenSet = Set(v.tokens)
        for m in v.merges {
            let parts = m.split(separator: " ", maxSplits: 1).map(String.init)
            XCTAssertEqual(parts.count, 2)
            XCTAssertTrue(seen.contains(parts[0]) && seen.contains(parts[1]), "merge \(m) uses an unknown part")
            XCTAssertTrue(tokenSet.contains(parts[0] + parts[1]))
            seen.insert(parts[0] + parts[1])
        }

        // On held-out text, the tokenizer segments each word exactly as naive merge-by-rank does.
        var ranks: [String: Int] = [:]
        for (i, m) in v.merges.enumerated() where ranks[m] == nil { ranks[m] = i }
        let heldOut = BPETrainerTests.syntheticCorpus(bytes: 20_000, seed: 99) + ["Ünïcödé wörds, tabs\tand  spaces,\n\nnewlines; 12345 67!"]
        for d in heldOut {
            var expected: [String] = []
            for w in tok.preTokenize(d) { expected += BPETrainerTests.naiveBPE(w, ranks: ranks) }
            let got = tok.encode(d, addBOS: false).map { tok.tokenText($0) }
            XCTAssertEqual(got, expected)
        }
    }

    func testRoundTripIsExact() throws {
        let corpus = BPETrainerTests.syntheticCorpus(bytes: 100_000, seed: 3)
        let v = try BPETrainer.train(corpus, configuration: BPETrainerConfiguration(vocabularySize: 900, pre: "gpt2"))
        XCTAssertEqual(v.configuration.pre, "gpt-2")
        let tok = try v.makeTokenizer()
        var samples = Array(corpus.prefix(20))
        samples += ["", " ", "\n", "\t\t x", "emoji 🤖🧪 and ZWJ 👩‍🔬", "control \u{01}\u{02}\u{7F} bytes", "中文和日本語のテキスト",
                    "  leading and trailing  ", "CRLF\r\nline", "numbers 3.14159 1,000,000 0x1F", "a'b's 'll've"]
        for s in samples {
            let ids = tok.encode(s, addBOS: false)
            XCTAssertEqual(tok.decode(ids), s)
            XCTAssertTrue(ids.allSatisfy { $0 >= 5 }, "no special token appears in plain text")
        }
        // Compression: trained merges shorten text well below one token per byte.
        let text = corpus.prefix(50).joined(separator: "\n")
        let n = tok.encode(text, addBOS: false).count
        XCTAssertLessThan(Double(n), 0.5 * Double(text.utf8.count))
    }

    func testSpecialTokensAndMetadataRoundTripThroughGGUF() throws {
        let corpus = BPETrainerTests.syntheticCorpus(bytes: 50_000, seed: 5) + ["<|im_start|>user\nhello<|im_end|>"]
        let v = try BPETrainer.train(corpus, configuration: BPETrainerConfiguration(vocabularySize: 700, extraSpecialTokens: ["<|tool|>"]))
        XCTAssertEqual(v.tokens[5], "<|tool|>")
        XCTAssertEqual(v.tokenTypes[5], 3)
        XCTAssertEqual(v.tokenTypes[6], 1)
        XCTAssertFalse(v.merges.contains { $0.contains("|") }, "specials take no part in merges")

        let md = v.ggufMetadata
        XCTAssertEqual(md["tokenizer.ggml.model"], .string("gpt2"))
        XCTAssertEqual(md["tokenizer.ggml.pre"], .string("default"))
        XCTAssertEqual(md["tokenizer.ggml.bos_token_id"]?.int, 1)
        XCTAssertEqual(md["tokenizer.ggml.eos_token_id"]?.int, 2)
        XCTAssertEqual(md["tokenizer.ggml.padding_token_id"]?.int, 0)
        XCTAssertEqual(md["tokenizer.chat_template"]?.string?.contains("<|im_start|>"), true)

        var w = GGUFWriter()
        w.setMetadata("general.architecture", .string("llama"))
        for (k, val) in md { w.setMetadata(k, val) }
        try w.addTensor(name: "dummy", shape: [4], values: [0, 1, 2, 3])
        let path = NSTemporaryDirectory() + "bpe-meta-\(getpid()).gguf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try w.write(to: path)
        let tok = try Tokenizer(gguf: GGUFFile(path: path))
        let chat = "<|im_start|>user\nHow are you?<|im_end|>\n<|im_start|>assistant\n"
        let ids = tok.encode(chat, addBOS: false, parseSpecial: true)
        XCTAssertEqual(ids.first, 3)
        XCTAssertEqual(ids.filter { $0 == 4 }.count, 1)
        XCTAssertEqual(tok.decode(ids), chat)
        XCTAssertTrue(tok.isEndOfGeneration(4), "<|im_end|> ends generation")
        XCTAssertTrue(tok.isEndOfGeneration(2))
        XCTAssertEqual(tok.encode("hi").first, 1, "BOS added by default")
        // Without parsing specials, the marker is plain text.
        XCTAssertFalse(tok.encode(chat, addBOS: false).contains(3))
        let same = try v.makeTokenizer()
        for d in corpus.prefix(10) { XCTAssertEqual(tok.encode(d), same.encode(d)) }

        // A tokenizer-only GGUF reads back to the same tokenizer.
        let tokPath = NSTemporaryDirectory() + "bpe-tok-\(getpid()).gguf"
        defer { try? FileManager.default.removeItem(atPath: tokPath) }
        try v.writeTokenizerGGUF(to: tokPath)
        let file = try GGUFFile(path: tokPath)
        XCTAssertEqual(file.metadata["tokenizer.ggml.merges"], md["tokenizer.ggml.merges"])
        let third = try Tokenizer(gguf: file)
        for d in corpus.prefix(10) { XCTAssertEqual(third.encode(d, parseSpecial: true), same.encode(d, parseSpecial: true)) }
    }

    func testConfigurationErrors() {
        XCTAssertThrowsError(try BPETrainer(configuration: BPETrainerConfiguration(vocabularySize: 200))) { e in
            XCTAssertTrue("\(e)".contains("too small"), "\(e)")
        }
        XCTAssertThrowsError(try BPETrainer(configuration: BPETrainerConfiguration(vocabularySize: 600, pre: "no-such-pre"))) { e in
            XCTAssertTrue("\(e)".contains("no-such-pre"), "\(e)")
        }
        XCTAssertThrowsError(try BPETrainer(configuration: BPETrainerConfiguration(vocabularySize: 600, pre: "llama3")))
        XCTAssertThrowsError(try BPETrainer(configuration: BPETrainerConfiguration(vocabularySize: 600, extraSpecialTokens: ["<|pad|>"]))) { e in
            XCTAssertTrue("\(e)".contains("repeat"), "\(e)")
        }
    }

    func testTrainsFewMegabytesInSeconds() throws {
        let corpus = BPETrainerTests.syntheticCorpus(bytes: 3_000_000, seed: 11)
        let start = Date()
        let v = try BPETrainer.train(corpus, configuration: BPETrainerConfiguration(vocabularySize: 4096))
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(v.tokens.count, 4096)
        XCTAssertLessThan(elapsed, 15, "training 3 MB to 4096 tokens took \(elapsed) s")
        print(String(format: "BPE: 3 MB → 4096 tokens in %.2f s (%d distinct words of %d)", elapsed, v.distinctWords, v.totalWords))
    }

    /// A tiny Llama GGUF carrying the trained tokenizer, loaded by llama.cpp (llama-cpp-python) in
    /// vocab-only mode: its token ids must equal ours, with and without special-token parsing.
    func testLlamaCppTokenizesIdentically() throws {
        // python3 from PATH (e.g. a pyenv shim), through env
        let env = "/usr/bin/env"
        let check = Process()
        check.executableURL = URL(fileURLWithPath: env)
        check.arguments = ["python3", "-c", "import llama_cpp"]
        check.standardError = FileHandle.nullDevice
        check.standardOutput = FileHandle.nullDevice
        do { try check.run() } catch { throw XCTSkip("cannot run python3: \(error)") }
        check.waitUntilExit()
        guard check.terminationStatus == 0 else { throw XCTSkip("llama_cpp (llama-cpp-python) not installed") }

        try compareWithLlamaCpp(BPETrainerConfiguration(vocabularySize: 800), env: env)
        try compareWithLlamaCpp(BPETrainerConfiguration(vocabularySize: 1500, pre: "gpt-2", chatTokens: false, addBOS: false), env: env)
    }

    func compareWithLlamaCpp(_ config: BPETrainerConfiguration, env: String) throws {
        let corpus = BPETrainerTests.syntheticCorpus(bytes: 150_000, seed: 21)
        let v = try BPETrainer.train(corpus, configuration: config)
        let dir = NSTemporaryDirectory() + "bpe-llamacpp-\(getpid())-\(config.pre)/"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let dim = 8, ffn = 16, vocab = v.tokens.count
        var w = GGUFWriter()
        w.setMetadata("general.architecture", .string("llama"))
        w.setMetadata("llama.embedding_length", .uint32(UInt32(dim)))
        w.setMetadata("llama.block_count", .uint32(1))
        w.setMetadata("llama.feed_forward_length", .uint32(UInt32(ffn)))
        w.setMetadata("llama.attention.head_count", .uint32(2))
        w.setMetadata("llama.attention.head_count_kv", .uint32(2))
        w.setMetadata("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        w.setMetadata("llama.rope.freq_base", .float32(10_000))
        w.setMetadata("llama.context_length", .uint32(64))
        for (k, val) in v.ggufMetadata { w.setMetadata(k, val) }
        func z(_ n: Int) -> [Float] { [Float](repeating: 0.01, count: n) }
        try w.addTensor(name: "token_embd.weight", shape: [dim, vocab], values: z(dim * vocab))
        try w.addTensor(name: "output_norm.weight", shape: [dim], values: z(dim))
        try w.addTensor(name: "output.weight", shape: [dim, vocab], values: z(dim * vocab))
        for (n, s) in [("attn_norm", [dim]), ("ffn_norm", [dim]), ("attn_q", [dim, dim]), ("attn_k", [dim, dim]),
                       ("attn_v", [dim, dim]), ("attn_output", [dim, dim]), ("ffn_gate", [dim, ffn]), ("ffn_up", [dim, ffn]),
                       ("ffn_down", [ffn, dim])] {
            try w.addTensor(name: "blk.0.\(n).weight", shape: s, values: z(s.reduce(1, *)))
        }
        try w.write(to: dir + "tiny.gguf")

        var cases: [(String, Bool)] = BPETrainerTests.syntheticCorpus(bytes: 6_000, seed: 77).map { ($0, false) }
        cases += [("Ünïcödé wörds, tabs\tand  spaces,\n\nnewlines; 12345 67! 😀 東京", false),
                  ("  leading and trailing  ", false), ("a'b's 'll've CRLF\r\n", false),
                  ("<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", true),
                  ("<|im_start|>user\nnot parsed<|im_end|>", false)]
        let json = try JSONSerialization.data(withJSONObject: cases.map { [$0.0, $0.1] as [Any] })
        try json.write(to: URL(fileURLWithPath: dir + "cases.json"))
        let script = """
        import json, sys
        from llama_cpp import Llama
        m = Llama(model_path=sys.argv[1], vocab_only=True, verbose=False)
        cases = json.load(open(sys.argv[2]))
        print(json.dumps([m.tokenize(t.encode("utf-8"), add_bos=False, special=sp) for t, sp in cases]))
        """
        try script.write(toFile: dir + "tok.py", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: env)
        p.arguments = ["python3", dir + "tok.py", dir + "tiny.gguf", dir + "cases.json"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, String(decoding: errData, as: UTF8.self))
        let theirs = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [[Int]])
        let tok = try Tokenizer(gguf: GGUFFile(path: dir + "tiny.gguf"))
        XCTAssertEqual(theirs.count, cases.count)
        var compared = 0
        for (i, (text, special)) in cases.enumerated() where i < theirs.count {
            let ours = tok.encode(text, addBOS: false, parseSpecial: special)
            XCTAssertEqual(ours, theirs[i], "case \(i) \(text.prefix(40).debugDescription)")
            compared += ours.count
        }
        XCTAssertGreaterThan(compared, 500)
        if let im = v.imStartID { XCTAssertEqual(theirs[cases.count - 2].first, im) }
        // With BOS on by default, both add it.
        XCTAssertEqual(tok.encode("x").first == v.bosID, config.addBOS)
    }
}
