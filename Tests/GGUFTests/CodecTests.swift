import XCTest
import GGUF

final class CodecTests: XCTestCase {

    private func typeNamed(_ n: String) -> GGMLType {
        GGMLType.allCases.first { $0.description.lowercased() == n.lowercased() }!
    }

    /// Pseudo-random blocks decoded by gguf-py (ReferenceData.swift) must decode identically here.
    func testSyntheticBlocksMatchGGUFPy() throws {
        // Offsets of the f16 scale fields the generator overwrote (see make_reference.py).
        let fields: [String: [Int]] = ["q4_0": [0], "q4_1": [0, 2], "q5_0": [0], "q5_1": [0, 2], "q8_0": [0],
                                       "q2_K": [80, 82], "q3_K": [108], "q4_K": [0, 2], "q5_K": [0, 2], "q6_K": [208]]
        XCTAssertEqual(syntheticReferences.count, 12)
        for ref in syntheticReferences {
            let type = typeNamed(ref.name)
            var b = lcgBytes(seed: ref.seed, count: ref.byteCount)
            if let f = fields[ref.name] {
                let nb = ref.byteCount / type.bytesPerBlock
                for k in 0..<nb { for o in f { let i = k * type.bytesPerBlock + o + 1; b[i] = 0x20 | (b[i] & 0x0F) } }
            } else {
                for i in stride(from: 1, to: b.count, by: 2) { b[i] &= 0xBF }
            }
            let y = try GGMLCodec.dequantize(type, b, count: ref.elementCount)
            var s = 0.0, ws = 0.0, ss = 0.0
            for (i, v) in y.enumerated() { let d = Double(v); s += d; ws += d * Double(i % 7 + 1); ss += d * d }
            XCTAssertTrue(relClose(s, ref.sum, 1e-9), "\(ref.name) sum \(s) vs \(ref.sum)")
            XCTAssertTrue(relClose(ws, ref.weightedSum, 1e-9), "\(ref.name) weighted sum \(ws) vs \(ref.weightedSum)")
            XCTAssertTrue(relClose(ss, ref.sumSquares, 1e-9), "\(ref.name) sum of squares \(ss) vs \(ref.sumSquares)")
            XCTAssertEqual(Array(y.prefix(ref.head.count)), ref.head, "\(ref.name) first values")
        }
    }

    // MARK: hand-built K-quant blocks, decoded by the formulas written out here

    /// Packs eight 6-bit (scale, min) pairs the way Q4_K/Q5_K store them.
    private func packK4(_ sc: [UInt8], _ mn: [UInt8]) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 12)
        for j in 0..<4 {
            b[j] = (sc[j] & 63) | ((sc[j + 4] >> 4) << 6)      // scale j, plus top bits of scale j+4
            b[j + 4] = (mn[j] & 63) | ((mn[j + 4] >> 4) << 6)  // min j, plus top bits of min j+4
            b[j + 8] = (sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4)
        }
        return b
    }

    private func f16(_ x: Float) -> [UInt8] {
        let h = GGMLCodec.floatToHalf(x)
        return [UInt8(h & 0xFF), UInt8(h >> 8)]
    }

    func testQ4KHandBuiltBlock() throws {
        let d: Float = 0.5, dmin: Float = 0.25
        let sc: [UInt8] = [1, 2, 3, 63, 17, 40, 5, 33]
        let mn: [UInt8] = [0, 7, 63, 20, 48, 1, 31, 16]
        var q = [UInt8](repeating: 0, count: 256)  // 4-bit quant of every element
        for i in 0..<256 { q[i] = UInt8((i * 7 + i / 16) % 16) }
        // Element i: 64-element chunk c = i/64; first 32 use low nibbles of qs[32c ..< 32c+32], the next 32 high nibbles.
        var qs = [UInt8](repeating: 0, count: 128)
        for c in 0..<4 { for l in 0..<32 { qs[32 * c + l] = q[64 * c + l] | (q[64 * c + 32 + l] << 4) } }
        let block = f16(d) + f16(dmin) + packK4(sc, mn) + qs
        XCTAssertEqual(block.count, 144)
        let y = try GGMLCodec.dequantize(.q4_K, block, count: 256)
        for i in 0..<256 {
            let sub = i / 32
            let expect = d * Float(sc[sub]) * Float(q[i]) - dmin * Float(mn[sub])
            XCTAssertEqual(y[i], expect, accuracy: 1e-5, "Q4_K element \(i)")
        }
    }

    func testQ5KHandBuiltBlock() throws {
        let d: Float = 0.125, dmin: Float = 1.5
        let sc: [UInt8] = [9, 63, 0, 12, 50, 3, 27, 44]
        let mn: [UInt8] = [63, 0, 5, 18, 33, 62, 2, 7]
        var q = [UInt8](repeating: 0, count: 256)  // 5-bit quants
        for i in 0..<256 { q[i] = UInt8((i * 13 + 5) % 32) }
        var qs = [UInt8](repeating: 0, count: 128), qh = [UInt8](repeating: 0, count: 32)
        for c in 0..<4 {
            for l in 0..<32 {
                let a = q[64 * c + l], b = q[64 * c + 32 + l]
                qs[32 * c + l] = (a & 15) | ((b & 15) << 4)
                // 5th bits: bit 2c of qh[l] for the first half of chunk c, bit 2c+1 for the second.
                qh[l] |= ((a >> 4) & 1) << UInt8(2 * c)
                qh[l] |= ((b >> 4) & 1) << UInt8(2 * c + 1)
            }
        }
        let block = f16(d) + f16(dmin) + packK4(sc, mn) + qh + qs
        XCTAssertEqual(block.count, 176)
        let y = try GGMLCodec.dequantize(.q5_K, block, count: 256)
        for i in 0..<256 {
            let sub = i / 32
            XCTAssertEqual(y[i], d * Float(sc[sub]) * Float(q[i]) - dmin * Float(mn[sub]), accuracy: 1e-4, "Q5_K element \(i)")
        }
    }

    func testQ6KHandBuiltBlock() throws {
        let d: Float = 0.03125
        let scales: [Int8] = [1, -2, 3, -128, 127, 0, 9, -9, 64, -64, 17, 33, -1, 2, 100, -100]
        var q = [Int](repeating: 0, count: 256)  // signed 6-bit quants in -32...31
        for i in 0..<256 { q[i] = (i * 29 + 3) % 64 - 32 }
        var ql = [UInt8](repeating: 0, count: 128), qh = [UInt8](repeating: 0, count: 64)
        // Per 128-element half h: element 32k + l (k = 0..3, l = 0..31) stores its low nibble in
        // ql[64h + l + 32(k&1)] (low nibble for k<2, high for k>=2) and its top 2 bits in bits 2k..2k+1 of qh[32h + l].
        for h in 0..<2 {
            for k in 0..<4 {
                for l in 0..<32 {
                    let u = UInt8(q[128 * h + 32 * k + l] + 32)
                    let li = 64 * h + l + 32 * (k & 1)
                    ql[li] |= k < 2 ? (u & 15) : ((u & 15) << 4)
                    qh[32 * h + l] |= (u >> 4) << UInt8(2 * k)
                }
            }
        }
        let block = ql + qh + scales.map { UInt8(bitPattern: $0) } + f16(d)
        XCTAssertEqual(block.count, 210)
        let y = try GGMLCodec.dequantize(.q6_K, block, count: 256)
        for i in 0..<256 {
            XCTAssertEqual(y[i], d * Float(scales[i / 16]) * Float(q[i]), accuracy: 1e-4, "Q6_K element \(i)")
        }
    }

    func testQ3KHandBuiltBlock() throws {
        let d: Float = 0.0625
        var sc = [Int](repeating: 0, count: 16)  // 6-bit scales, used as (sc - 32)
        for i in 0..<16 { sc[i] = (i * 23 + 11) % 64 }
        var q = [Int](repeating: 0, count: 256)  // 3-bit values in -4...3
        for i in 0..<256 { q[i] = (i * 5 + i / 32) % 8 - 4 }
        var hmask = [UInt8](repeating: 0, count: 32), qs = [UInt8](repeating: 0, count: 64)
        // Element i: half h = i/128, group g = (i%128)/32, l = i%32. Low 2 bits at bits 2g of qs[32h + l];
        // the high bit is SET when the value is >= 0 (stored value = low2 + 4*high - 4), in bit (4h + g) of hmask[l].
        for i in 0..<256 {
            let h = i / 128, g = (i % 128) / 32, l = i % 32
            let u = q[i] + 4
            qs[32 * h + l] |= UInt8(u & 3) << UInt8(2 * g)
            if u >= 4 { hmask[l] |= UInt8(1) << UInt8(4 * h + g) }
        }
        // Scales: low nibbles of 0..7 in bytes 0..7, of 8..15 in the high nibbles of bytes 0..7;
        // top two bits of scale s in byte 8 + s%4 at bit 2*(s/4).
        var sb = [UInt8](repeating: 0, count: 12)
        for s in 0..<16 {
            let low = UInt8(sc[s] & 15), high = UInt8(sc[s] >> 4)
            if s < 8 { sb[s] |= low } else { sb[s - 8] |= low << 4 }
            sb[8 + s % 4] |= high << UInt8(2 * (s / 4))
        }
        let block = hmask + qs + sb + f16(d)
        XCTAssertEqual(block.count, 110)
        let y = try GGMLCodec.dequantize(.q3_K, block, count: 256)
        for i in 0..<256 {
            XCTAssertEqual(y[i], d * Float(sc[i / 16] - 32) * Float(q[i]), accuracy: 1e-4, "Q3_K element \(i)")
        }
    }

    func testQ2KHandBuiltBlock() throws {
        let d: Float = 0.75, dmin: Float = 0.5
        var scales = [UInt8](repeating: 0, count: 16)  // low nibble: scale, high nibble: min
        for i in 0..<16 { scales[i] = UInt8((i * 3) % 16) | UInt8((15 - i) % 16) << 4 }
        var q = [UInt8](repeating: 0, count: 256)
        for i in 0..<256 { q[i] = UInt8((i * 7 + 1) % 4) }
        var qs = [UInt8](repeating: 0, count: 64)
        for i in 0..<256 {
            let h = i / 128, g = (i % 128) / 32, l = i % 32
            qs[32 * h + l] |= q[i] << UInt8(2 * g)
        }
        let block = scales + qs + f16(d) + f16(dmin)
        XCTAssertEqual(block.count, 84)
        let y = try GGMLCodec.dequantize(.q2_K, block, count: 256)
        for i in 0..<256 {
            let s = scales[i / 16]
            XCTAssertEqual(y[i], d * Float(s & 15) * Float(q[i]) - dmin * Float(s >> 4), accuracy: 1e-5, "Q2_K element \(i)")
        }
    }

    func testQ8KHandBuiltBlock() throws {
        let d: Float = 0.01
        var q = [Int8](repeating: 0, count: 256)
        for i in 0..<256 { q[i] = Int8(truncatingIfNeeded: i * 37 - 128) }
        var block = withUnsafeBytes(of: d.bitPattern.littleEndian) { Array($0) }
        block += q.map { UInt8(bitPattern: $0) }
        block += [UInt8](repeating: 0, count: 32)
        let y = try GGMLCodec.dequantize(.q8_K, block, count: 256)
        for i in 0..<256 { XCTAssertEqual(y[i], d * Float(q[i]), "Q8_K element \(i)") }
    }

    // MARK: quantize → dequantize

    func testQuantizeRoundTripErrorBounds() throws {
        var rng = SplitMix(42)
        let n = 4096
        var x = (0..<n).map { _ in rng.gaussian() }
        x[5] = 0; x[100] = 7.5; x[2000] = -6.25
        for i in 256..<512 { x[i] = 0 }  // an all-zero stretch (zero scales must not produce NaN)

        // F32 exact
        XCTAssertEqual(try GGMLCodec.dequantize(.f32, try GGMLCodec.quantize(.f32, x), count: n), x)
        // F16 and BF16: relative error of one rounding
        let h = try GGMLCodec.dequantize(.f16, try GGMLCodec.quantize(.f16, x), count: n)
        let bf = try GGMLCodec.dequantize(.bf16, try GGMLCodec.quantize(.bf16, x), count: n)
        for i in 0..<n {
            XCTAssertLessThanOrEqual(abs(h[i] - x[i]), abs(x[i]) * 0x1p-11 + 1e-7, "F16 element \(i)")
            XCTAssertLessThanOrEqual(abs(bf[i] - x[i]), abs(x[i]) * 0x1p-8, "BF16 element \(i)")
        }

        // Block types: the error of each element is bounded by a fraction of its block's spread.
        // (type, error bound as a fraction of the block's max |x| for symmetric types, or of max-min)
        let cases: [(GGMLType, Float, Bool)] = [
            (.q8_0, 0.5 / 127 + 0.002, false), (.q8_1, 0.5 / 127 + 0.002, false), (.q8_K, 0.5 / 127 + 0.002, false),
            (.q4_0, 1.0 / 8 + 0.002, false), (.q5_0, 1.0 / 16 + 0.002, false),
            (.q4_1, 0.5 / 15 + 0.004, true), (.q5_1, 0.5 / 31 + 0.004, true),
            (.q6_K, 1.0 / 32 + 1.0 / 64, false), (.q4_K, 1.0 / 15 + 1.0 / 30, true), (.q5_K, 1.0 / 31 + 1.0 / 30, true),
        ]
        for (type, frac, useRange) in cases {
            let bytes = try GGMLCodec.quantize(type, x)
            XCTAssertEqual(bytes.count, type.byteCount(elements: n))
            let y = try GGMLCodec.dequantize(type, bytes, count: n)
            let bs = type.blockSize
            var sq: Double = 0, sqSpread: Double = 0
            for b in 0..<(n / bs) {
                let blk = x[(b * bs)..<((b + 1) * bs)]
                let amax = blk.map { abs($0) }.max()!
                let spread = useRange ? (blk.max()! - min(0, blk.min()!)) : amax
                for i in (b * bs)..<((b + 1) * bs) {
                    XCTAssertTrue(y[i].isFinite, "\(type) element \(i) not finite")
                    XCTAssertLessThanOrEqual(abs(y[i] - x[i]), frac * spread + 1e-6, "\(type) element \(i): \(x[i]) -> \(y[i])")
                    sq += Double((y[i] - x[i]) * (y[i] - x[i])); sqSpread += Double(spread * spread)
                }
            }
            for i in 256..<512 { XCTAssertEqual(y[i], 0, "\(type) zero block element \(i)") }
            // RMS error: rounding errors spread over the step, so well below the worst case
            // (uniform errors have RMS = max / sqrt(3)).
            XCTAssertLessThan((sq / sqSpread).squareRoot(), Double(frac) * 0.7, "\(type) RMS error relative to block spread")
        }
    }

    func testQ8_0ExactOnRepresentableValues() throws {
        // Values k * d with d a power of two and |k| <= 127 (max |k| = 127) are exactly representable.
        let d: Float = 0.0078125
        var x = [Float](repeating: 0, count: 64)
        for i in 0..<64 { x[i] = Float(i % 2 == 0 ? 127 - i : -(i * 3 % 127)) * d }
        x[32] = 127 * d
        let y = try GGMLCodec.dequantize(.q8_0, try GGMLCodec.quantize(.q8_0, x), count: 64)
        XCTAssertEqual(y, x)
        // And the layout: f16 scale then int8 quants.
        let b = try GGMLCodec.quantize(.q8_0, x)
        XCTAssertEqual(GGMLCodec.halfToFloat(UInt16(b[0]) | UInt16(b[1]) << 8), d)
        XCTAssertEqual(Int8(bitPattern: b[2]), 127)
        XCTAssertEqual(Int8(bitPattern: b[3]), -3)
    }

    func testHalfAndBFloatConversions() {
        XCTAssertEqual(GGMLCodec.halfToFloat(0x3C00), 1)
        XCTAssertEqual(GGMLCodec.halfToFloat(0xC000), -2)
        XCTAssertEqual(GGMLCodec.halfToFloat(0x0001), 0x1p-24)
        XCTAssertEqual(GGMLCodec.halfToFloat(0x7BFF), 65504)
        XCTAssertEqual(GGMLCodec.halfToFloat(0x7C00), .infinity)
        XCTAssertTrue(GGMLCodec.halfToFloat(0x7E00).isNaN)
        XCTAssertEqual(GGMLCodec.floatToHalf(1), 0x3C00)
        XCTAssertEqual(GGMLCodec.floatToHalf(65504), 0x7BFF)
        XCTAssertEqual(GGMLCodec.floatToHalf(1e6), 0x7C00)
        XCTAssertEqual(GGMLCodec.bf16ToFloat(0x3F80), 1)
        XCTAssertEqual(GGMLCodec.floatToBF16(1), 0x3F80)
        XCTAssertEqual(GGMLCodec.floatToBF16(Float(bitPattern: 0x3F80_8000)), 0x3F80)  // tie to even (down)
        XCTAssertEqual(GGMLCodec.floatToBF16(Float(bitPattern: 0x3F81_8000)), 0x3F82)  // tie to even (up)
        XCTAssertTrue(GGMLCodec.bf16ToFloat(GGMLCodec.floatToBF16(.nan)).isNaN)
    }

    /// The software half conversions (used on macOS/Intel) agree with the hardware ones bit for bit.
    func testSoftwareHalfConversionMatchesHardware() {
        for h in 0...UInt16.max {
            let a = GGMLCodec.softHalfToFloat(h), b = GGMLCodec.halfToFloat(h)
            if b.isNaN { XCTAssertTrue(a.isNaN, "\(h)") } else { XCTAssertEqual(a.bitPattern, b.bitPattern, "half \(h)") }
        }
        var rng = SplitMix(9)
        var samples: [Float] = [0, -0, 1, -1, 65504, 65519.99, 65520, 1e-8, -1e-8, 0x1p-24, 0x1p-25, 0x1.8p-25, 0x1p-14,
                                0x1.ffcp-15, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude]
        for _ in 0..<20000 { samples.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        for _ in 0..<20000 { samples.append(rng.float(-70000, 70000) * (rng.next() % 2 == 0 ? 1 : 0x1p-20)) }
        for f in samples where !f.isNaN {
            XCTAssertEqual(GGMLCodec.softFloatToHalf(f), GGMLCodec.floatToHalf(f), "float \(f) (\(f.bitPattern))")
        }
        XCTAssertTrue(GGMLCodec.softHalfToFloat(GGMLCodec.softFloatToHalf(.nan)).isNaN)
    }

    func testUnsupportedQuantizeAndBadCounts() {
        let x = [Float](repeating: 1, count: 256)
        for t in [GGMLType.q2_K, .q3_K] {
            XCTAssertFalse(GGMLCodec.canQuantize(t))
            XCTAssertThrowsError(try GGMLCodec.quantize(t, x)) { e in
                XCTAssertEqual((e as? GGUFError)?.kind, .unsupportedType)
                XCTAssertTrue("\(e)".contains(t.description), "\(e)")
            }
        }
        XCTAssertThrowsError(try GGMLCodec.quantize(.q8_0, [Float](repeating: 1, count: 33))) { e in
            XCTAssertEqual((e as? GGUFError)?.kind, .invalidArgument)
        }
        XCTAssertThrowsError(try GGMLCodec.dequantize(.q4_0, [UInt8](repeating: 0, count: 17), count: 32))
    }
}
