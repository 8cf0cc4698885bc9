import Foundation

/// One message of a chat record.
public struct ChatTurn: Codable, Sendable, Equatable, Hashable {
    /// "system", "user" or "assistant".
    public var role: String
    /// The text.
    public var content: String

    /// A message from its parts.
    public init(role: String, content: String) { self.role = role; self.content = content }
}

/// One conversation of chat fine-tuning data: `{"messages":[{"role":…,"content":…},…]}` in JSONL.
public struct ChatRecord: Codable, Sendable, Equatable, Hashable {
    /// The messages, oldest first; the last one is the assistant's.
    public var messages: [ChatTurn]

    /// A record from its messages.
    public init(messages: [ChatTurn]) { self.messages = messages }

    /// The record as one JSONL line (no trailing newline): `{"messages":[{"role":…,"content":…},…]}`.
    public var jsonLine: String {
        "{\"messages\":[" + messages.map { "{\"role\":\(jsonEscape($0.role)),\"content\":\(jsonEscape($0.content))}" }
            .joined(separator: ",") + "]}"
    }
}

/// A generation that failed: recorded, never silently dropped.
public struct PostTrainingFailure: Codable, Sendable, Equatable {
    /// The prompt's id.
    public var promptID: String
    /// The 0-based user turn whose reply failed.
    public var turn: Int
    /// Why: the responder's error, "empty response", or a rejection by the leakage guard.
    public var reason: String

    /// A failure from its parts.
    public init(promptID: String, turn: Int, reason: String) {
        self.promptID = promptID; self.turn = turn; self.reason = reason
    }

    /// The failure as one JSONL line: `{"prompt":…,"turn":…,"reason":…}`.
    public var jsonLine: String {
        "{\"prompt\":\(jsonEscape(promptID)),\"turn\":\(turn),\"reason\":\(jsonEscape(reason))}"
    }
}

/// Progress of a post-training data build, reported after each conversation.
public struct PostTrainingProgress: Sendable {
    /// Conversations attempted so far.
    public var done: Int
    /// Conversations asked for.
    public var total: Int
    /// Failed conversations so far.
    public var failed: Int
}

/// The result of `PostTrainingData.make`.
public struct PostTrainingResult: Sendable {
    /// Finished conversations, in the order they were attempted.
    public var records: [ChatRecord]
    /// The prompt id of each record (parallel to `records`).
    public var promptIDs: [String]
    /// Conversations that failed, with the reason.
    public var failures: [PostTrainingFailure]

    /// The records as chat JSONL, one `{"messages":[…]}` per line.
    public var jsonl: String { records.map { $0.jsonLine + "\n" }.joined() }

    /// The failures as JSONL, one `{"prompt","turn","reason"}` per line.
    public var failuresJSONL: String { failures.map { $0.jsonLine + "\n" }.joined() }

    /// Writes `records` to `url` and, when any failed, the failures next to it (`<name>.failures.jsonl`).
    /// Returns the files written.
    @discardableResult
    public func write(to url: URL) throws -> [URL] {
        try Data(jsonl.utf8).write(to: url)
        guard !failures.isEmpty else { return [url] }
        let f = url.deletingPathExtension().appendingPathExtension("failures.jsonl")
        try Data(failuresJSONL.utf8).write(to: f)
        return [url, f]
    }
}

/// Data for the mock post-training (a generic chat fine-tune that teaches no scenario behaviour): made from a
/// model's own replies to a varied prompt set, or read from a user's chat JSONL.
public enum PostTrainingData {
    /// Answers a conversation (oldest message first; the last is the user's) with the assistant's reply.
    public typealias Responder = ([ChatTurn]) async throws -> String

    /// The prompts used for `count` conversations under `seed`: the set is shuffled (seeded) and walked in
    /// order; when `count` exceeds its size, a fresh shuffle follows, so every prompt is used before any
    /// repeats.
    public static func schedule(prompts: [PostTrainingPrompt], count: Int, seed: UInt64) -> [PostTrainingPrompt] {
        guard !prompts.isEmpty, count > 0 else { return [] }
        var rng = Xoshiro256(seed: seed, label: "post-training")
        var out: [PostTrainingPrompt] = []
        out.reserveCapacity(count)
        while out.count < count {
            var order = prompts
            rng.shuffle(&order)
            out += order.prefix(count - out.count)
        }
        return out
    }

    /// Builds `count` conversations by asking `respond` to answer each scheduled prompt, turn by turn (a
    /// follow-up is sent after the reply to the turns before it).
    ///
    /// A conversation fails, and is listed in `failures` with its prompt id, turn and reason, when
    /// `respond` throws, returns only whitespace, or (with `leakage`) returns text sharing an 8-gram with
    /// the guard's references. Replies are trimmed of surrounding whitespace.
    ///
    /// - Parameters:
    ///   - prompts: the prompt set (default: `PostTrainingPrompts.builtIn`).
    ///   - respond: the model; called one request at a time.
    ///   - count: conversations to attempt.
    ///   - seed: orders the prompts (see `schedule`).
    ///   - leakage: an optional guard against the battery's texts.
    ///   - progress: called after each conversation.
    public static func make(prompts: [PostTrainingPrompt] = PostTrainingPrompts.builtIn, respond: Responder,
                            count: Int, seed: UInt64, leakage: LeakageGuard? = nil,
                            progress: ((PostTrainingProgress) -> Void)? = nil) async -> PostTrainingResult {
        var result = PostTrainingResult(records: [], promptIDs: [], failures: [])
        let plan = schedule(prompts: prompts, count: count, seed: seed)
        for (i, p) in plan.enumerated() {
            var messages: [ChatTurn] = []
            if let s = p.system { messages.append(ChatTurn(role: "system", content: s)) }
            var failure: PostTrainingFailure? = nil
            for (t, user) in p.turns.enumerated() {
                messages.append(ChatTurn(role: "user", content: user))
                do {
                    let reply = try await respond(messages).trimmingCharacters(in: .whitespacesAndNewlines)
                    if reply.isEmpty {
                        failure = PostTrainingFailure(promptID: p.id, turn: t, reason: "empty response")
                    } else if let g = leakage, g.check([reply], worst: 1).docRate8 > 0 {
                        failure = PostTrainingFailure(promptID: p.id, turn: t, reason: "leakage: the reply shares an 8-gram with the battery")
                    } else {
                        messages.append(ChatTurn(role: "assistant", content: reply))
                    }
                } catch {
                    failure = PostTrainingFailure(promptID: p.id, turn: t, reason: "\(error)")
                }
                if failure != nil { break }
            }
            if let f = failure {
                result.failures.append(f)
            } else {
                result.records.append(ChatRecord(messages: messages))
                result.promptIDs.append(p.id)
            }
            progress?(PostTrainingProgress(done: i + 1, total: plan.count, failed: result.failures.count))
        }
        return result
    }

    /// A user's chat JSONL, read leniently: the good records and every bad line's problem.
    public struct Import: Sendable {
        /// The valid records, in file order.
        public var records: [ChatRecord]
        /// The 1-based line of each record (parallel to `records`).
        public var lines: [Int]
        /// One error per bad line, naming the line and what is wrong.
        public var problems: [ImportError]
    }

    /// Reads chat JSONL: one `{"messages":[{"role":…,"content":…},…]}` object per line (other keys ignored,
    /// blank lines skipped). A line is bad when it is not a JSON object, has no `messages` array, a message
    /// lacks a string role or content, a role is not system/user/assistant, a system message is not first,
    /// a content is empty, there is no user message, or the last message is not the assistant's.
    public static func parseChatJSONL(_ text: String, sourceName: String) -> Import {
        var out = Import(records: [], lines: [], problems: [])
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let n = i + 1
            func bad(_ m: String) { out.problems.append(ImportError(sourceName: sourceName, line: n, message: m)) }
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]) else {
                bad("invalid JSON"); continue
            }
            guard let dict = obj as? [String: Any] else { bad("expected a JSON object with a \"messages\" array"); continue }
            guard let raw = dict["messages"] else { bad("missing \"messages\" field"); continue }
            guard let list = raw as? [Any] else { bad("\"messages\" must be an array"); continue }
            if list.isEmpty { bad("\"messages\" is empty"); continue }
            var msgs: [ChatTurn] = []
            var problem: String? = nil
            for (k, item) in list.enumerated() {
                guard let m = item as? [String: Any] else { problem = "message \(k + 1) is not an object"; break }
                guard let role = m["role"] as? String else { problem = "message \(k + 1) has no string \"role\""; break }
                guard let content = m["content"] as? String else { problem = "message \(k + 1) has no string \"content\""; break }
                guard ["system", "user", "assistant"].contains(role) else {
                    problem = "message \(k + 1) has role \"\(role)\" (expected system, user or assistant)"; break
                }
                if role == "system" && k != 0 { problem = "message \(k + 1): a system message must come first"; break }
                if content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { problem = "message \(k + 1) has empty content"; break }
                msgs.append(ChatTurn(role: role, content: content))
            }
            if let p = problem { bad(p); continue }
            if !msgs.contains(where: { $0.role == "user" }) { bad("no user message"); continue }
            if msgs.last?.role != "assistant" { bad("the last message must be the assistant's (the text trained on)"); continue }
            out.records.append(ChatRecord(messages: msgs))
            out.lines.append(n)
        }
        return out
    }

    /// Reads chat JSONL strictly: throws an `ImportError` naming the bad lines (up to 10, with line numbers)
    /// if any line is bad, or if there are no records at all.
    public static func loadChatJSONL(_ text: String, sourceName: String) throws -> [ChatRecord] {
        let r = parseChatJSONL(text, sourceName: sourceName)
        if r.problems.count == 1 { throw r.problems[0] }
        if r.problems.count > 1 {
            let shown = r.problems.prefix(10).map(\.description).joined(separator: "\n")
            throw ImportError(sourceName: sourceName, line: r.problems[0].line,
                              message: "\(r.problems.count) bad lines:\n" + shown + (r.problems.count > 10 ? "\n…" : ""))
        }
        if r.records.isEmpty { throw ImportError(sourceName: sourceName, line: nil, message: "no chat records") }
        return r.records
    }

    /// Reads a chat JSONL file strictly (see `loadChatJSONL(_:sourceName:)`).
    public static func loadChatJSONL(path: String) throws -> [ChatRecord] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImportError(sourceName: path, line: nil, message: "cannot read file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ImportError(sourceName: path, line: nil, message: "file is not UTF-8 text")
        }
        return try loadChatJSONL(text, sourceName: URL(fileURLWithPath: path).lastPathComponent)
    }
}
