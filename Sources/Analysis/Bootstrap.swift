import Foundation

/// The two-stage cluster bootstrap over one measure's observations.
///
/// Data are aggregated into units (arm, seed, variant) holding, for every cell, the sum of values,
/// the sum of log-odds and the count of valid observations. A replicate draws, independently for
/// every arm, as many seeds as the arm has, with replacement; then for every drawn seed as many
/// variants as that seed has, with replacement. The same variant draw is used for every cell of the
/// seed, so matched cells stay paired (a variant is the same names, dates and order in every cell).
/// Cell means are pooled ratios Σ value / Σ count over the drawn units.
final class ClusterBootstrap {
    let measure: MeasureKind
    let armCount: Int, cellCount: Int
    /// Per arm: its seeds; per seed: the unit indices (one per variant).
    var seedUnits: [[[Int]]] = []
    /// Per unit × cell: sums and counts.
    var sum: [Double] = [], sumLogit: [Double] = [], count: [Double] = []
    var unitCount = 0

    init(results: ExperimentResults, measure: MeasureKind, armIndex: [String: Int], cellIndex: [String: Int]) {
        self.measure = measure
        armCount = results.arms.count
        cellCount = results.cells.count
        // Units keyed by (arm, seed, variant).
        var seedsOfArm = [[Int: [Int: Int]]](repeating: [:], count: armCount) // arm → seed → variant → unit
        var units: [(Int, Int, Int)] = []
        for o in results.observations where o.measure == measure && o.value != nil {
            guard let a = armIndex[o.arm], cellIndex[o.cell] != nil else { continue }
            if seedsOfArm[a][o.seed]?[o.variant] == nil {
                seedsOfArm[a][o.seed, default: [:]][o.variant] = units.count
                units.append((a, o.seed, o.variant))
            }
        }
        unitCount = units.count
        sum = [Double](repeating: 0, count: unitCount * cellCount)
        sumLogit = sum; count = sum
        for o in results.observations where o.measure == measure {
            guard let v = o.value, let a = armIndex[o.arm], let c = cellIndex[o.cell],
                  let u = seedsOfArm[a][o.seed]?[o.variant] else { continue }
            sum[u * cellCount + c] += v
            sumLogit[u * cellCount + c] += Estimators.logit(v)
            count[u * cellCount + c] += 1
        }
        seedUnits = seedsOfArm.map { seeds in
            seeds.keys.sorted().map { s in seeds[s]!.keys.sorted().map { seeds[s]![$0]! } }
        }
    }

    /// How a replicate resamples.
    enum Mode { case none, full, withinSeeds }

    /// Cell × arm pooled means (index a·C + c): mean value, mean log-odds, count. NaN where no data.
    func replicate(_ mode: Mode, rng: inout BootstrapRNG) -> (mean: [Double], logit: [Double], n: [Double]) {
        let C = cellCount
        var tot = [Double](repeating: 0, count: armCount * C), totL = tot, n = tot
        sum.withUnsafeBufferPointer { S in
            sumLogit.withUnsafeBufferPointer { L in
                count.withUnsafeBufferPointer { N in
                    tot.withUnsafeMutableBufferPointer { T in
                        totL.withUnsafeMutableBufferPointer { TL in
                            n.withUnsafeMutableBufferPointer { TN in
                                for a in 0..<armCount {
                                    let seeds = seedUnits[a]
                                    guard !seeds.isEmpty else { continue }
                                    let base = a * C
                                    for k in 0..<seeds.count {
                                        let s = mode == .full ? seeds[rng.index(seeds.count)] : seeds[k]
                                        for j in 0..<s.count {
                                            let u = mode == .none ? s[j] : s[rng.index(s.count)]
                                            let off = u * C
                                            for c in 0..<C {
                                                T[base + c] += S[off + c]
                                                TL[base + c] += L[off + c]
                                                TN[base + c] += N[off + c]
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        var mean = tot, logit = totL
        for i in 0..<mean.count {
            if n[i] > 0 { mean[i] /= n[i]; logit[i] /= n[i] } else { mean[i] = .nan; logit[i] = .nan }
        }
        return (mean, logit, n)
    }

    /// Seeds with data per arm, and variants per (arm, seed).
    func seedCount(arm: Int) -> Int { seedUnits[arm].count }
    func variantCounts(arm: Int) -> [Int] { seedUnits[arm].map(\.count) }
}

/// A contrast compiled to index lists over the arm × cell matrix.
struct CompiledContrast {
    /// Each stratum: the a·C + c indices of side A and side B.
    var strata: [(a: [Int], b: [Int])]
    var armsA: Set<Int>
    var armsB: Set<Int>

    /// (difference, log odds ratio, mean A, mean B) or nil when no stratum has data on both sides.
    func evaluate(mean: [Double], logit: [Double], n: [Double], measure: MeasureKind)
        -> (diff: Double, logOR: Double, meanA: Double, meanB: Double)? {
        var d = 0.0, lo = 0.0, ma = 0.0, mb = 0.0, k = 0.0, nA = 0.0, nB = 0.0
        for s in strata {
            var sa = 0.0, la = 0.0, ca = 0.0, sb = 0.0, lb = 0.0, cb = 0.0
            for i in s.a where n[i] > 0 { sa += mean[i]; la += logit[i]; ca += 1; nA += n[i] }
            for i in s.b where n[i] > 0 { sb += mean[i]; lb += logit[i]; cb += 1; nB += n[i] }
            guard ca > 0, cb > 0 else { continue }
            d += sa / ca - sb / cb
            lo += la / ca - lb / cb
            ma += sa / ca; mb += sb / cb
            k += 1
        }
        guard k > 0 else { return nil }
        ma /= k; mb /= k
        let logOR: Double
        if measure == .sampled {
            logOR = Estimators.logit(ma, eps: 0.5 / (nA / k + 1)) - Estimators.logit(mb, eps: 0.5 / (nB / k + 1))
        } else {
            logOR = lo / k
        }
        return (d / k, logOR, ma, mb)
    }
}

/// Every contrast of one measure flattened into index arrays, evaluated together on each replicate
/// without per-contrast allocation (the same arithmetic as `CompiledContrast.evaluate`).
struct ContrastBatch {
    var aIdx: [Int] = [], bIdx: [Int] = []
    /// Per stratum: end offsets into aIdx / bIdx.
    var aEnd: [Int] = [], bEnd: [Int] = []
    /// Per contrast: end offset into the strata.
    var strataEnd: [Int] = []

    init(_ contrasts: [CompiledContrast]) {
        for c in contrasts {
            for s in c.strata {
                aIdx += s.a; bIdx += s.b
                aEnd.append(aIdx.count); bEnd.append(bIdx.count)
            }
            strataEnd.append(aEnd.count)
        }
    }

    var count: Int { strataEnd.count }

    /// Writes contrast k's difference and log odds ratio to diff[k·stride], logOR[k·logORStride] (NaN when no stratum has data on both sides).
    func evaluate(mean: [Double], logit: [Double], n: [Double], measure: MeasureKind,
                  diff: UnsafeMutablePointer<Double>, logOR: UnsafeMutablePointer<Double>, stride: Int, logORStride: Int? = nil) {
        let ls = logORStride ?? stride
        mean.withUnsafeBufferPointer { M in logit.withUnsafeBufferPointer { L in n.withUnsafeBufferPointer { N in
        aIdx.withUnsafeBufferPointer { AI in bIdx.withUnsafeBufferPointer { BI in
        aEnd.withUnsafeBufferPointer { AE in bEnd.withUnsafeBufferPointer { BE in strataEnd.withUnsafeBufferPointer { SE in
            var stratum = 0, aPos = 0, bPos = 0
            for k in 0..<SE.count {
                var d = 0.0, lo = 0.0, ma = 0.0, mb = 0.0, cnt = 0.0, nA = 0.0, nB = 0.0
                while stratum < SE[k] {
                    var sa = 0.0, la = 0.0, ca = 0.0, sb = 0.0, lb = 0.0, cb = 0.0
                    while aPos < AE[stratum] { let i = AI[aPos]; if N[i] > 0 { sa += M[i]; la += L[i]; ca += 1; nA += N[i] }; aPos += 1 }
                    while bPos < BE[stratum] { let i = BI[bPos]; if N[i] > 0 { sb += M[i]; lb += L[i]; cb += 1; nB += N[i] }; bPos += 1 }
                    stratum += 1
                    guard ca > 0, cb > 0 else { continue }
                    d += sa / ca - sb / cb
                    lo += la / ca - lb / cb
                    ma += sa / ca; mb += sb / cb
                    cnt += 1
                }
                guard cnt > 0 else { diff[k * stride] = .nan; logOR[k * ls] = .nan; continue }
                ma /= cnt; mb /= cnt
                diff[k * stride] = d / cnt
                logOR[k * ls] = measure == .sampled
                    ? Estimators.logit(ma, eps: 0.5 / (nA / cnt + 1)) - Estimators.logit(mb, eps: 0.5 / (nB / cnt + 1))
                    : lo / cnt
            }
        } } } } } } } }
    }
}
