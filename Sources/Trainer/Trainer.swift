import Foundation
import Kernels
import Training
import Transformer

/// Settings of a training run (saved in checkpoints; a resumed run must use the same).
public struct TrainerConfig: Codable, Equatable, Sendable {
    /// Optimizer steps to take in total.
    public var steps: Int
    /// Rows per micro-batch (one forward/backward pass).
    public var microBatchRows: Int
    /// Micro-batches accumulated per optimizer step.
    public var accumulation: Int
    public var optimizer: AdamWConfig
    public var schedule: ScheduleKind
    public var warmupSteps: Int
    /// Final learning rate as a fraction of the peak (cosine, linear).
    public var minLRRatio: Float
    /// Maximum global gradient norm (0: no clipping).
    public var gradClip: Double
    /// Evaluate on the validation rows every this many steps (0: only at the end).
    public var evalEvery: Int
    /// At most this many validation rows per evaluation (0: all), always the same rows.
    public var evalRows: Int
    /// Save a checkpoint every this many steps (0: only at the end).
    public var checkpointEvery: Int
    /// Seed of the data order and of per-batch randomness (LoRA dropout).
    public var seed: UInt64

    public init(steps: Int, microBatchRows: Int = 8, accumulation: Int = 1, optimizer: AdamWConfig,
                schedule: ScheduleKind = .cosine, warmupSteps: Int = 0, minLRRatio: Float = 0.1, gradClip: Double = 1.0,
                evalEvery: Int = 0, evalRows: Int = 0, checkpointEvery: Int = 0, seed: UInt64 = 0) {
        self.steps = steps; self.microBatchRows = microBatchRows; self.accumulation = accumulation
        self.optimizer = optimizer; self.schedule = schedule; self.warmupSteps = warmupSteps
        self.minLRRatio = minLRRatio; self.gradClip = gradClip; self.evalEvery = evalEvery; self.evalRows = evalRows
        self.checkpointEvery = checkpointEvery; self.seed = seed
    }

    /// The learning-rate schedule these settings describe.
    public var lrSchedule: LRSchedule {
        LRSchedule(kind: schedule, peak: optimizer.learningRate, warmupSteps: warmupSteps, totalSteps: steps, minRatio: minLRRatio)
    }
}

/// Errors of the training loop.
public enum TrainerError: Error, CustomStringConvertible {
    case invalidConfig(String)
    case noTrainingRows
    case rowLength(expected: Int, got: Int)
    case nonFiniteLoss(step: Int)
    case io(String)

    public var description: String {
        switch self {
        case .invalidConfig(let m): return "invalid training settings: \(m)"
        case .noTrainingRows: return "no training rows (the data produced no sequence with a loss token)"
        case let .rowLength(e, g): return "data rows have \(g) tokens, the run expects \(e)"
        case .nonFiniteLoss(let s): return "loss became NaN or infinite at step \(s) (lower the learning rate?)"
        case .io(let m): return m
        }
    }
}

/// One line of `metrics.jsonl`.
public struct StepMetrics: Codable, Equatable, Sendable {
    public var step: Int
    /// Mean training loss (nats per loss token) over the step's micro-batches.
    public var loss: Double
    /// Mean validation loss, on evaluation steps.
    public var valLoss: Double?
    public var lr: Double
    /// Global gradient norm before clipping.
    public var gradNorm: Double
    /// Loss tokens in this step.
    public var tokens: Int
    public var tokensPerSecond: Double
    /// Seconds of training so far (across resumes).
    public var elapsed: Double

    enum CodingKeys: String, CodingKey {
        case step, loss, valLoss = "val_loss", lr, gradNorm = "grad_norm", tokens, tokensPerSecond = "tokens_per_s", elapsed = "elapsed_s"
    }

    /// One JSON line, keys in a fixed order; doubles in shortest round-trip form (bit-exact on reading).
    public var jsonLine: String {
        func num(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }
        var s = "{\"step\":\(step),\"loss\":\(num(loss))"
        if let v = valLoss { s += ",\"val_loss\":\(num(v)),\"val_ppl\":\(num(exp(v)))" }
        s += ",\"lr\":\(num(lr)),\"grad_norm\":\(num(gradNorm)),\"tokens\":\(tokens)"
        s += ",\"tokens_per_s\":\(num((tokensPerSecond * 10).rounded() / 10)),\"elapsed_s\":\(num((elapsed * 1000).rounded() / 1000))}"
        return s
    }
}

/// What a finished run reports.
public struct TrainingSummary: Sendable {
    public var steps: Int
    public var finalLoss: Double
    public var finalValidationLoss: Double?
    public var elapsed: Double
    public var metrics: [StepMetrics]
}

/// Drives training: micro-batches and accumulation, clipping, AdamW with a schedule, periodic
/// evaluation, metrics, progress, checkpoints and exact resume.
public final class Trainer {
    public let model: TrainableModel
    public let config: TrainerConfig
    public let train: TokenRows
    public let validation: TokenRows?
    /// Output directory for `metrics.jsonl`, `loss.svg` and `checkpoint.bin` (nil: nothing is written).
    public let outputDirectory: String?
    /// Free-form run description stored in checkpoints (see `CheckpointHeader.run`).
    public var runInfo: [String: String] = [:]
    /// Whether to print a progress line on standard error.
    public var showProgress = true
    /// Called after every step (for callers that want their own reporting).
    public var onStep: ((StepMetrics) -> Void)?
    /// Milliseconds to sleep after each step (0). Only for tests that interrupt a run.
    public var sleepAfterStepMs = 0
    public let optimizer: AdamW
    public private(set) var cursor: DataCursor
    public private(set) var step = 0
    var elapsedBefore = 0.0
    var tokensSeen = 0
    var history: [StepMetrics] = []
    let pool: ThreadPool

    public var metricsPath: String? { outputDirectory.map { $0 + "/metrics.jsonl" } }
    public var checkpointPath: String? { outputDirectory.map { $0 + "/checkpoint.bin" } }
    public var svgPath: String? { outputDirectory.map { $0 + "/loss.svg" } }

    /// Prepares a run. Rows must all have the same length; `validation` may be nil or empty.
    public init(model: TrainableModel, train: TokenRows, validation: TokenRows?, config: TrainerConfig,
                outputDirectory: String?, pool: ThreadPool = .shared) throws {
        guard config.steps > 0 else { throw TrainerError.invalidConfig("steps must be positive") }
        guard config.microBatchRows > 0, config.accumulation > 0 else {
            throw TrainerError.invalidConfig("micro-batch rows and accumulation must be positive")
        }
        guard train.count > 0, train.lossTokenCount > 0 else { throw TrainerError.noTrainingRows }
        if let v = validation, v.count > 0, v.length != train.length {
            throw TrainerError.rowLength(expected: train.length, got: v.length)
        }
        self.model = model; self.config = config; self.train = train
        self.validation = (validation?.count ?? 0) > 0 ? validation : nil
        self.outputDirectory = outputDirectory
        self.pool = pool
        self.optimizer = AdamW(tensors: model.tensors, parameterCount: model.parameterCount, config: config.optimizer, pool: pool)
        self.cursor = DataCursor(seed: config.seed)
        if let d = outputDirectory {
            do { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) } catch {
                throw TrainerError.io("cannot create \(d): \(error.localizedDescription)")
            }
        }
    }

    /// Restores the state saved in a checkpoint: parameters, moments, step, data cursor, metrics so far
    /// (the metrics file is cut back to its length at the checkpoint). Throws when it belongs to another run.
    public func resume(from ck: Checkpoint) throws {
        let h = ck.header
        guard h.trainer == config else { throw CheckpointError.mismatch("training settings differ") }
        guard h.model == model.config else { throw CheckpointError.mismatch("model configuration differs") }
        guard h.parameterCount == model.parameterCount, h.tensors == model.tensors else {
            throw CheckpointError.mismatch("trainable tensors differ")
        }
        for (k, v) in runInfo where h.run[k] != v {
            throw CheckpointError.mismatch("\(k) is \(h.run[k] ?? "absent") in the checkpoint, \(v) now")
        }
        ck.parameters.withUnsafeBufferPointer { model.parameters.update(from: $0.baseAddress!, count: h.parameterCount) }
        try optimizer.restore(m: ck.m, v: ck.v, stepCount: h.optimizerStep)
        cursor = h.cursor
        step = h.step
        elapsedBefore = h.elapsed
        tokensSeen = h.tokensSeen
        history = []
        if let mp = metricsPath {
            if FileManager.default.fileExists(atPath: mp) {
                guard let fh = FileHandle(forWritingAtPath: mp) else { throw TrainerError.io("cannot open \(mp)") }
                try fh.truncate(atOffset: UInt64(h.metricsBytes))
                try fh.close()
                let text = (try? String(contentsOfFile: mp, encoding: .utf8)) ?? ""
                let dec = JSONDecoder()
                for line in text.split(separator: "\n") {
                    if let m = try? dec.decode(StepMetrics.self, from: Data(line.utf8)) { history.append(m) }
                }
            }
        }
    }

    /// Mean loss of `model` over `rows`, in batches of `batchRows` (forward only).
    public static func evaluate(_ model: TrainableModel, rows: TokenRows, batchRows: Int, limit: Int = 0) throws -> LossResult {
        let n = limit > 0 ? min(limit, rows.count) : rows.count
        var total = LossResult(lossSum: 0, tokenCount: 0)
        var i = 0
        while i < n {
            let idx = Array(i..<min(n, i + max(1, batchRows)))
            let r = try model.loss(rows.batch(idx))
            total.lossSum += r.lossSum; total.tokenCount += r.tokenCount
            i += idx.count
        }
        return total
    }

    /// The per-batch seed for micro-batch `micro` of step `step`.
    static func batchSeed(_ seed: UInt64, step: Int, micro: Int) -> UInt64 {
        var g = DataRNG(seed: seed ^ (UInt64(step) << 20) ^ UInt64(micro))
        return g.next()
    }

    /// Runs from the current step to `config.steps`. Writes a metrics line per step, checkpoints on
    /// schedule and at the end, and the loss curve SVG at the end.
    @discardableResult
    public func run() throws -> TrainingSummary {
        let schedule = config.lrSchedule
        var metricsHandle: FileHandle?
        if let mp = metricsPath {
            if step == 0 { FileManager.default.createFile(atPath: mp, contents: nil) }
            else if !FileManager.default.fileExists(atPath: mp) { FileManager.default.createFile(atPath: mp, contents: nil) }
            metricsHandle = FileHandle(forWritingAtPath: mp)
            guard metricsHandle != nil else { throw TrainerError.io("cannot write \(mp)") }
            metricsHandle!.seekToEndOfFile()
        }
        defer { try? metricsHandle?.close() }
        let start = Date()
        var windowStart = Date(), windowTokens = 0
        var lastProgress = Date.distantPast
        let n = model.parameterCount
        while step < config.steps {
            let s = step + 1
            let t0 = Date()
            model.zeroGradients()
            var batches: [TrainBatch] = []
            for k in 0..<config.accumulation {
                let rows = cursor.take(config.microBatchRows, of: train.count)
                batches.append(train.batch(rows, seed: Trainer.batchSeed(config.seed, step: s, micro: k)))
            }
            let total = batches.reduce(0) { $0 + $1.lossTokenCount }
            var lossSum = 0.0
            if total > 0 {
                let scale = Float(1.0 / Double(total))
                for b in batches where b.lossTokenCount > 0 {
                    lossSum += try model.forwardBackward(b, gradScale: scale).lossSum
                }
            }
            let loss = total > 0 ? lossSum / Double(total) : 0
            guard loss.isFinite else { throw TrainerError.nonFiniteLoss(step: s) }
            let norm = Gradients.clip(model.gradients, count: n, maxNorm: config.gradClip, pool: pool)
            let lr = schedule.rate(at: s)
            if total > 0 { optimizer.step(parameters: model.parameters, gradients: model.gradients, learningRate: lr) }
            step = s
            tokensSeen += total
            let stepTime = Date().timeIntervalSince(t0)
            var val: Double?
            if let v = validation, (config.evalEvery > 0 && s % config.evalEvery == 0) || s == config.steps {
                val = try Trainer.evaluate(model, rows: v, batchRows: config.microBatchRows, limit: config.evalRows).mean
            }
            windowTokens += total
            let elapsed = elapsedBefore + Date().timeIntervalSince(start)
            let m = StepMetrics(step: s, loss: loss, valLoss: val, lr: Double(lr), gradNorm: norm, tokens: total,
                                tokensPerSecond: stepTime > 0 ? Double(total) / stepTime : 0, elapsed: elapsed)
            history.append(m)
            if let h = metricsHandle { h.write(Data((m.jsonLine + "\n").utf8)) }
            onStep?(m)
            if showProgress && (Date().timeIntervalSince(lastProgress) >= 0.5 || s == config.steps) {
                lastProgress = Date()
                progress(m, windowTokens: windowTokens, windowTime: Date().timeIntervalSince(windowStart))
            }
            if Date().timeIntervalSince(windowStart) > 10 { windowStart = Date(); windowTokens = 0 }
            if let cp = checkpointPath, (config.checkpointEvery > 0 && s % config.checkpointEvery == 0) || s == config.steps {
                try metricsHandle?.synchronize()
                let bytes = Int(metricsHandle?.offsetInFile ?? 0)
                let header = CheckpointHeader(step: s, trainer: config, model: model.config, tensors: model.tensors,
                                              parameterCount: n, optimizerStep: optimizer.stepCount, cursor: cursor,
                                              metricsBytes: bytes, elapsed: elapsed, tokensSeen: tokensSeen, run: runInfo)
                try Checkpoint.save(header: header, parameters: model.parameters, m: optimizer.m, v: optimizer.v, to: cp)
            }
            if sleepAfterStepMs > 0 { usleep(useconds_t(sleepAfterStepMs * 1000)) }
        }
        if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        if let sp = svgPath {
            do { try LossCurve.svg(history).write(toFile: sp, atomically: true, encoding: .utf8) } catch {
                throw TrainerError.io("cannot write \(sp): \(error.localizedDescription)")
            }
        }
        return TrainingSummary(steps: step, finalLoss: history.last?.loss ?? .nan,
                               finalValidationLoss: history.last(where: { $0.valLoss != nil })?.valLoss,
                               elapsed: elapsedBefore + Date().timeIntervalSince(start), metrics: history)
    }

    func progress(_ m: StepMetrics, windowTokens: Int, windowTime: Double) {
        let tps = windowTime > 0 ? Double(windowTokens) / windowTime : 0
        let perStep = m.elapsed / Double(max(1, m.step))
        let eta = perStep * Double(config.steps - m.step)
        var s = "\rstep \(m.step)/\(config.steps)  loss \(String(format: "%.4f", m.loss))"
        if let v = history.last(where: { $0.valLoss != nil })?.valLoss { s += "  val \(String(format: "%.4f", v))" }
        s += "  lr \(String(format: "%.2e", m.lr))  |g| \(String(format: "%.3f", m.gradNorm))"
        s += "  \(Int(tps)) tok/s  ETA \(Trainer.duration(eta))   "
        FileHandle.standardError.write(Data(s.utf8))
    }

    static func duration(_ t: Double) -> String {
        let s = Int(t.rounded())
        return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" : s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}

/// A self-contained SVG line chart of training and validation loss.
public enum LossCurve {
    /// Renders the curve: training loss per step (blue line), validation loss (orange points and line),
    /// axes with a few labelled ticks.
    public static func svg(_ metrics: [StepMetrics], width: Int = 720, height: Int = 400) -> String {
        let w = Double(width), h = Double(height)
        let left = 60.0, right = 20.0, top = 30.0, bottom = 45.0
        let pw = w - left - right, ph = h - top - bottom
        let trainPts = metrics.filter { $0.loss.isFinite }.map { (Double($0.step), $0.loss) }
        let valPts = metrics.compactMap { m in m.valLoss.flatMap { $0.isFinite ? (Double(m.step), $0) : nil } }
        let all = trainPts + valPts
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\" font-size=\"12\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        out += "<text x=\"\(left)\" y=\"18\" font-size=\"14\">Loss (nats/token)</text>\n"
        guard !all.isEmpty else { return out + "<text x=\"\(left)\" y=\"\(top + 20)\">no data</text>\n</svg>\n" }
        let x0 = all.map(\.0).min()!, x1 = max(all.map(\.0).max()!, x0 + 1)
        var y0 = all.map(\.1).min()!, y1 = all.map(\.1).max()!
        if y1 - y0 < 1e-9 { y0 -= 0.5; y1 += 0.5 }
        let pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * ph }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        out += "<g stroke=\"#888\" stroke-width=\"1\"><line x1=\"\(f(left))\" y1=\"\(f(top + ph))\" x2=\"\(f(left + pw))\" y2=\"\(f(top + ph))\"/>"
        out += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + ph))\"/></g>\n"
        for i in 0...4 {
            let yv = y0 + (y1 - y0) * Double(i) / 4, xv = x0 + (x1 - x0) * Double(i) / 4
            out += "<line x1=\"\(f(left))\" y1=\"\(f(py(yv)))\" x2=\"\(f(left + pw))\" y2=\"\(f(py(yv)))\" stroke=\"#eee\"/>"
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(py(yv) + 4))\" text-anchor=\"end\">\(String(format: "%.2f", yv))</text>"
            out += "<text x=\"\(f(px(xv)))\" y=\"\(f(top + ph + 18))\" text-anchor=\"middle\">\(Int(xv.rounded()))</text>\n"
        }
        out += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(h - 8))\" text-anchor=\"middle\">step</text>\n"
        func path(_ pts: [(Double, Double)]) -> String {
            pts.enumerated().map { i, p in "\(i == 0 ? "M" : "L")\(f(px(p.0))),\(f(py(p.1)))" }.joined(separator: " ")
        }
        if !trainPts.isEmpty {
            out += "<path d=\"\(path(trainPts))\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\"/>\n"
        }
        if !valPts.isEmpty {
            out += "<path d=\"\(path(valPts))\" fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"1.5\"/>\n"
            for p in valPts { out += "<circle cx=\"\(f(px(p.0)))\" cy=\"\(f(py(p.1)))\" r=\"3\" fill=\"#ff7f0e\"/>" }
            out += "\n"
        }
        out += "<g font-size=\"12\"><rect x=\"\(f(left + pw - 150))\" y=\"\(f(top + 4))\" width=\"12\" height=\"3\" fill=\"#1f77b4\"/>"
        out += "<text x=\"\(f(left + pw - 132))\" y=\"\(f(top + 10))\">train</text>"
        if !valPts.isEmpty {
            out += "<rect x=\"\(f(left + pw - 80))\" y=\"\(f(top + 4))\" width=\"12\" height=\"3\" fill=\"#ff7f0e\"/>"
            out += "<text x=\"\(f(left + pw - 62))\" y=\"\(f(top + 10))\">validation</text>"
        }
        out += "</g>\n</svg>\n"
        return out
    }
}
