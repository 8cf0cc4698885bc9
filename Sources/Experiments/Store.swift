import Foundation
import GRDB

/// One sampled response and its verdict (or the error that prevented it).
public struct SampleRecord: Codable, Sendable, Equatable {
    public var runID: String
    public var scenarioID: String
    public var cellID: String
    public var variant: Int
    public var sampleIndex: Int
    /// "ok" or "error".
    public var status: String
    public var text: String
    public var error: String?
    public var label: String?
    public var category: String?
    public var evidence: String?
    public var rules: String?
    public var finishReason: String?
    /// The LLM judge's label, when a judge ran: "blackmail", "no_blackmail", or "unparsed"/"error: …".
    public var judgeLabel: String? = nil
}

/// The likelihood measure on one rendered scenario.
public struct LikelihoodRecord: Codable, Sendable, Equatable {
    public var runID: String
    public var scenarioID: String
    public var cellID: String
    public var variant: Int
    public var status: String
    public var error: String?
    /// Share of probability mass on the blackmail candidates.
    public var pBlackmail: Double?
    public var blackmailSums: [Double]
    public var otherSums: [Double]
    /// Token counts of each candidate (the backend's tokenization), parallel to the sums.
    public var blackmailTokens: [Int] = []
    public var otherTokens: [Int] = []
    /// Share of probability mass on the blackmail candidates when each candidate is scored by its mean
    /// log-probability per token: the length-normalised propensity, which does not saturate at 0 or 1
    /// merely because candidates differ in length.
    public var pBlackmailPerToken: Double? = nil
}

/// Every rendered prompt, response, verdict, score and error of a run, in SQLite.
///
/// Rows are keyed by (run, scenario, sample), so a killed run resumes without losing or repeating a
/// sample: finished rows are skipped, errors are retried and overwritten, nothing is ever dropped.
public final class ResultStore: @unchecked Sendable {
    public let path: String
    let db: DatabaseQueue

    public init(path: String) throws {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        var config = Configuration()
        config.busyMode = .timeout(10)
        db = try DatabaseQueue(path: path, configuration: config)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE run (id TEXT PRIMARY KEY, created REAL NOT NULL, model TEXT NOT NULL, config TEXT NOT NULL);
                CREATE TABLE prompt (run_id TEXT NOT NULL, scenario_id TEXT NOT NULL, cell_id TEXT NOT NULL,
                    variant INTEGER NOT NULL, system TEXT NOT NULL, user TEXT NOT NULL,
                    PRIMARY KEY (run_id, scenario_id));
                CREATE TABLE sample (run_id TEXT NOT NULL, scenario_id TEXT NOT NULL, cell_id TEXT NOT NULL,
                    variant INTEGER NOT NULL, sample_index INTEGER NOT NULL, status TEXT NOT NULL, text TEXT NOT NULL,
                    error TEXT, label TEXT, category TEXT, evidence TEXT, rules TEXT, finish_reason TEXT,
                    PRIMARY KEY (run_id, scenario_id, sample_index));
                CREATE TABLE likelihood (run_id TEXT NOT NULL, scenario_id TEXT NOT NULL, cell_id TEXT NOT NULL,
                    variant INTEGER NOT NULL, status TEXT NOT NULL, error TEXT, p_blackmail REAL,
                    blackmail_sums TEXT NOT NULL, other_sums TEXT NOT NULL,
                    PRIMARY KEY (run_id, scenario_id));
                """)
        }
        migrator.registerMigration("v2-judge") { db in
            try db.execute(sql: "ALTER TABLE sample ADD COLUMN judge_label TEXT")
        }
        migrator.registerMigration("v3-per-token") { db in
            try db.execute(sql: """
                ALTER TABLE likelihood ADD COLUMN blackmail_tokens TEXT;
                ALTER TABLE likelihood ADD COLUMN other_tokens TEXT;
                ALTER TABLE likelihood ADD COLUMN p_blackmail_per_token REAL;
                """)
        }
        try migrator.migrate(db)
    }

    public func registerRun(id: String, model: String, config: String) throws {
        try db.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO run (id, created, model, config) VALUES (?, ?, ?, ?)",
                           arguments: [id, Date().timeIntervalSince1970, model, config])
        }
    }

    public func savePrompt(runID: String, scenarioID: String, cellID: String, variant: Int, system: String, user: String) throws {
        try db.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO prompt VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [runID, scenarioID, cellID, variant, system, user])
        }
    }

    /// Sample indices of a scenario that finished without error.
    public func finishedSamples(runID: String, scenarioID: String) throws -> Set<Int> {
        try db.read { db in
            Set(try Int.fetchAll(db, sql: "SELECT sample_index FROM sample WHERE run_id = ? AND scenario_id = ? AND status = 'ok'",
                                 arguments: [runID, scenarioID]))
        }
    }

    public func saveSamples(_ records: [SampleRecord]) throws {
        try db.write { db in
            for r in records {
                try db.execute(sql: """
                    INSERT OR REPLACE INTO sample (run_id, scenario_id, cell_id, variant, sample_index, status, text,
                        error, label, category, evidence, rules, finish_reason, judge_label)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                               arguments: [r.runID, r.scenarioID, r.cellID, r.variant, r.sampleIndex, r.status, r.text,
                                           r.error, r.label, r.category, r.evidence, r.rules, r.finishReason, r.judgeLabel])
            }
        }
    }

    public func hasLikelihood(runID: String, scenarioID: String) throws -> Bool {
        try db.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM likelihood WHERE run_id = ? AND scenario_id = ? AND status = 'ok'",
                             arguments: [runID, scenarioID]) ?? 0 > 0
        }
    }

    public func saveLikelihood(_ r: LikelihoodRecord) throws {
        let enc = JSONEncoder()
        let b = String(decoding: try enc.encode(r.blackmailSums), as: UTF8.self)
        let o = String(decoding: try enc.encode(r.otherSums), as: UTF8.self)
        let bt = String(decoding: try enc.encode(r.blackmailTokens), as: UTF8.self)
        let ot = String(decoding: try enc.encode(r.otherTokens), as: UTF8.self)
        try db.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO likelihood (run_id, scenario_id, cell_id, variant, status, error, p_blackmail,
                    blackmail_sums, other_sums, blackmail_tokens, other_tokens, p_blackmail_per_token)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                           arguments: [r.runID, r.scenarioID, r.cellID, r.variant, r.status, r.error, r.pBlackmail, b, o,
                                       bt, ot, r.pBlackmailPerToken])
        }
    }

    public func samples(runID: String) throws -> [SampleRecord] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM sample WHERE run_id = ? ORDER BY cell_id, variant, sample_index",
                             arguments: [runID]).map { row in
                SampleRecord(runID: row["run_id"], scenarioID: row["scenario_id"], cellID: row["cell_id"],
                             variant: row["variant"], sampleIndex: row["sample_index"], status: row["status"],
                             text: row["text"], error: row["error"], label: row["label"], category: row["category"],
                             evidence: row["evidence"], rules: row["rules"], finishReason: row["finish_reason"],
                             judgeLabel: row["judge_label"])
            }
        }
    }

    public func likelihoods(runID: String) throws -> [LikelihoodRecord] {
        let dec = JSONDecoder()
        return try db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM likelihood WHERE run_id = ? ORDER BY cell_id, variant",
                             arguments: [runID]).map { row in
                let b: String = row["blackmail_sums"], o: String = row["other_sums"]
                let bt: String = row["blackmail_tokens"] ?? "[]", ot: String = row["other_tokens"] ?? "[]"
                return LikelihoodRecord(runID: row["run_id"], scenarioID: row["scenario_id"], cellID: row["cell_id"],
                                        variant: row["variant"], status: row["status"], error: row["error"],
                                        pBlackmail: row["p_blackmail"],
                                        blackmailSums: (try? dec.decode([Double].self, from: Data(b.utf8))) ?? [],
                                        otherSums: (try? dec.decode([Double].self, from: Data(o.utf8))) ?? [],
                                        blackmailTokens: (try? dec.decode([Int].self, from: Data(bt.utf8))) ?? [],
                                        otherTokens: (try? dec.decode([Int].self, from: Data(ot.utf8))) ?? [],
                                        pBlackmailPerToken: row["p_blackmail_per_token"])
            }
        }
    }

    /// Runs recorded in the store: (id, model, created).
    public func runs() throws -> [(id: String, model: String, created: Date)] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT id, model, created FROM run ORDER BY created").map {
                ($0["id"], $0["model"], Date(timeIntervalSince1970: $0["created"]))
            }
        }
    }

    /// Writes a run's samples and likelihood rows as CSV or JSONL files into `directory`.
    public func export(runID: String, to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let s = try samples(runID: runID), l = try likelihoods(runID: runID)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        func jsonl<T: Encodable>(_ rows: [T]) throws -> String {
            try rows.map { String(decoding: try enc.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n"
        }
        func csvField(_ s: String?) -> String {
            guard let s else { return "" }
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        var csv = "run_id,scenario_id,cell_id,variant,sample_index,status,label,category,judge_label,error,evidence,text\n"
        for r in s {
            csv += [csvField(r.runID), csvField(r.scenarioID), csvField(r.cellID), String(r.variant), String(r.sampleIndex),
                    r.status, r.label ?? "", r.category ?? "", r.judgeLabel ?? "", csvField(r.error), csvField(r.evidence), csvField(r.text)]
                .joined(separator: ",") + "\n"
        }
        var lcsv = "run_id,scenario_id,cell_id,variant,status,p_blackmail,error\n"
        for r in l {
            lcsv += [csvField(r.runID), csvField(r.scenarioID), csvField(r.cellID), String(r.variant), r.status,
                     r.pBlackmail.map { String($0) } ?? "", csvField(r.error)].joined(separator: ",") + "\n"
        }
        let files = [("samples.jsonl", try jsonl(s)), ("samples.csv", csv), ("likelihood.jsonl", try jsonl(l)), ("likelihood.csv", lcsv)]
        return try files.map { name, content in
            let p = (directory as NSString).appendingPathComponent(name)
            try content.write(toFile: p, atomically: true, encoding: .utf8)
            return p
        }
    }
}
