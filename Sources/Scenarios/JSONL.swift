import Foundation

/// Classifies a JSONL stream: each input line `{"id": …, "text": "…"}` becomes one output line
/// `{"id": …, "label": "blackmail"|"no_blackmail", "category": …, "evidence": …, "rules": […]}`.
/// Blank lines are skipped. A bad line becomes `{"line": n, "error": "…"}` (n is 1-based), so output
/// lines stay aligned with the problems a user has to fix. The `id` may be a string or a number and
/// is echoed unchanged. Keys are sorted, so the output is byte-for-byte reproducible.
public func classifyJSONL(_ lines: [String], classifier: RuleClassifier = RuleClassifier(),
                          context: RenderedScenario? = nil) -> [String] {
    var out: [String] = []
    func emit(_ obj: [String: Any]) {
        let data = (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        out.append(String(decoding: data, as: UTF8.self))
    }
    for (n, raw) in lines.enumerated() {
        let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.isEmpty { continue }
        guard let data = line.data(using: .utf8),
              let parsed = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            emit(["line": n + 1, "error": "line \(n + 1) is not valid JSON"]); continue
        }
        guard let obj = parsed as? [String: Any] else {
            emit(["line": n + 1, "error": "line \(n + 1) is not a JSON object (expected {\"id\": …, \"text\": …})"]); continue
        }
        guard let id = obj["id"], id is String || id is NSNumber else {
            emit(["line": n + 1, "error": "line \(n + 1) has no \"id\" (string or number)"]); continue
        }
        guard let text = obj["text"] as? String else {
            emit(["line": n + 1, "id": id, "error": "line \(n + 1) has no string \"text\" field"]); continue
        }
        let v = classifier.classify(text, context: context)
        emit(["id": id, "label": v.label.rawValue, "category": v.category.rawValue, "evidence": v.evidence, "rules": v.rules])
    }
    return out
}
