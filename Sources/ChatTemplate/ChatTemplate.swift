import Foundation

/// One chat message: a role ("system", "user", "assistant", "tool"...) and its text.
public struct ChatMessage: Sendable, Codable, Equatable {
    /// Who speaks: "system", "user", "assistant", ...
    public var role: String
    /// The message text.
    public var content: String

    /// Makes a message.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    /// The message as a template value `{"role": ..., "content": ...}`.
    public var templateValue: TemplateValue { .dict([("role", .string(role)), ("content", .string(content))]) }
}

/// A model's chat template (the `tokenizer.chat_template` Jinja source), parsed once and rendered like
/// Hugging Face `transformers`' `apply_chat_template`.
///
/// The environment matches transformers': jinja2 with `trim_blocks=True`, `lstrip_blocks=True`, the
/// loop-controls extension (`break`/`continue`), the `{% generation %}` tag, a `tojson` filter that is
/// Python's `json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`, and the
/// globals `raise_exception(message)` and `strftime_now(format)`. Variables behave as jinja2's default
/// `Undefined`: a missing variable prints as "", is falsy and iterates as empty, but reading an attribute
/// of it or doing arithmetic with it is an error.
///
/// Variable scoping follows jinja2's static analysis: loop bodies, macros and set/filter/call blocks are
/// frames whose assignments stay inside; a name assigned in a frame is local to the whole frame (so a loop
/// that runs before a top-level `{% set x = ... %}` sees `x` undefined, as in jinja2); `namespace()`
/// objects carry state out of loops.
///
/// The supported language: `{{ }}`, `{% %}`, `{# #}`, whitespace control (`-`, `+`), `if/elif/else`,
/// `for` (with `else`, `if` filter, tuple unpacking, `loop.*`, `recursive`), `set` (also `ns.attr` and block
/// form), `macro`/`call`, `filter` blocks, `raw`, `break`/`continue`; literals, lists, dicts, tuples,
/// attribute/subscript/slice access, arithmetic, `~`, comparisons, `in`, `and/or/not`, inline `if/else`,
/// the common jinja2 filters and tests, and Python `str`/`dict`/`list` methods templates use.
public final class ChatTemplate: @unchecked Sendable {
    /// The template source as given.
    public let source: String
    let root: Block
    let now: @Sendable () -> Date
    let timeZone: TimeZone

    /// Parses a template. Syntax errors throw a ``TemplateError`` of kind `.syntax` with line and column.
    ///
    /// - Parameters:
    ///   - source: the Jinja source.
    ///   - now: the clock behind `strftime_now` (inject a fixed date for reproducible prompts and tests).
    ///   - timeZone: the zone in which `now` is turned into wall-clock time (Python uses local time).
    public init(source: String, now: @escaping @Sendable () -> Date = { Date() }, timeZone: TimeZone = .current) throws {
        self.source = source
        var parser = try Parser(source: source)
        let nodes = try parser.parseTemplate()
        try Self.checkNames(nodes, parser.lexer)
        root = Block(nodes)
        Scoping.analyze(root)
        self.now = now
        self.timeZone = timeZone
    }

    /// Renders a conversation the way `apply_chat_template(messages, add_generation_prompt=..., tokenize=False)` does.
    ///
    /// The context holds `messages`, `add_generation_prompt`, `bos_token`, `eos_token`, `tools = None` and
    /// `documents = None` (as transformers passes them), then `extra` on top (e.g. `tools`, `date_string`,
    /// `enable_thinking`). Errors, including the template's own `raise_exception`, throw ``TemplateError``.
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String = "", eosToken: String = "",
        extra: [String: TemplateValue] = [:]) throws -> String
    {
        try render(messages: messages.map { $0.templateValue }, addGenerationPrompt: addGenerationPrompt, bosToken: bosToken,
            eosToken: eosToken, extra: extra)
    }

    /// Like ``render(messages:addGenerationPrompt:bosToken:eosToken:extra:)`` with messages given as values,
    /// so they may carry more than role and content (`tool_calls`, a list `content`, ...).
    public func render(messages: [TemplateValue], addGenerationPrompt: Bool, bosToken: String = "", eosToken: String = "",
        extra: [String: TemplateValue] = [:]) throws -> String
    {
        var context: [String: TemplateValue] = [
            "messages": .array(messages),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
            "tools": .none,
            "documents": .none,
        ]
        for (k, v) in extra { context[k] = v }
        return try render(context: context)
    }

    /// Renders with exactly the given variables (plus the globals `raise_exception`, `strftime_now`,
    /// `range`, `namespace`, `dict`, `joiner`). A value of `.undefined` leaves that name undefined.
    public func render(context: [String: TemplateValue]) throws -> String {
        let clock = Strftime(date: now(), timeZone: timeZone)
        let renderer = Renderer(strftime: { clock.format($0) })
        let vars = Scope(parent: nil)
        Self.installGlobals(vars, renderer)
        for (k, v) in context where v != .undefined { vars.vars[k] = Value(v, name: k) }
        renderer.context = vars
        var out = ""
        _ = try renderer.render(root.nodes, renderer.enter(root, vars), &out)
        return out
    }

    /// The documented fallback for base models that ship no chat template.
    ///
    /// Each message becomes `"<Role>: <content>"` with the role capitalized ("System", "User",
    /// "Assistant"), messages are separated by a blank line, and with `addGenerationPrompt` the text
    /// ends with `"\n\nAssistant:"` (or just `"Assistant:"` for an empty conversation), ready for the
    /// model to continue.
    public static func plain(messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        var parts = messages.map { m -> String in
            let role = m.role.prefix(1).uppercased() + m.role.dropFirst()
            return "\(role): \(m.content)"
        }
        if addGenerationPrompt { parts.append("Assistant:") }
        return parts.joined(separator: "\n\n")
    }

    // MARK: internals

    static func installGlobals(_ g: Scope, _ r: Renderer) {
        g.vars["raise_exception"] = .function(Function("raise_exception") { args in
            throw TemplateError((args.positional.first ?? .string("")).str, kind: .raised)
        })
        g.vars["strftime_now"] = .function(Function("strftime_now") { args in
            guard case .string(let f)? = args.get(0, "format") else { throw TemplateError("strftime_now() needs a format string") }
            return .string(r.strftime(f))
        })
        g.vars["range"] = .function(Function("range") { args in
            let ns = try args.positional.map { v -> Int in
                guard let n = v.integer else { throw TemplateError("'\(v.typeName)' object cannot be interpreted as an integer") }
                return n
            }
            var start = 0, stop = 0, step = 1
            switch ns.count {
            case 1: stop = ns[0]
            case 2: start = ns[0]; stop = ns[1]
            case 3: start = ns[0]; stop = ns[1]; step = ns[2]
            default: throw TemplateError("range expected 1 to 3 arguments, got \(ns.count)")
            }
            if step == 0 { throw TemplateError("range() arg 3 must not be zero") }
            let span = Double(stop) - Double(start)
            let count = max(0.0, (span / Double(step)).rounded(.up))
            if count > 100_000 { throw TemplateError("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).") }
            return .array(Array(stride(from: start, to: stop, by: step)).map { .int($0) })
        })
        g.vars["namespace"] = .function(Function("namespace") { args in
            let ns = Namespace()
            for p in args.positional {
                guard case .dict(let d) = p else { throw TemplateError("namespace() positional argument must be a dict") }
                for (k, v) in d.pairs { ns.attrs[k] = v }
            }
            for (k, v) in args.keyword { ns.attrs[k] = v }
            return .namespace(ns)
        })
        g.vars["dict"] = .function(Function("dict") { args in
            var d = Dict()
            for p in args.positional {
                guard case .dict(let src) = p else { throw TemplateError("dict() positional argument must be a dict") }
                for (k, v) in src.pairs { d[k] = v }
            }
            for (k, v) in args.keyword { d[k] = v }
            return .dict(d)
        })
        g.vars["joiner"] = .function(Function("joiner") { args in
            let sep = args.get(0, "sep")?.str ?? ", "
            var used = false
            return .function(Function("joiner") { _ in
                if used { return .string(sep) }
                used = true
                return .string("")
            })
        })
    }

    /// Rejects unknown filters and tests at parse time, as jinja2 does when compiling. Like jinja2, names
    /// inside `if` bodies and inline `if` expressions are only checked when they run ("soft" frames).
    static func checkNames(_ nodes: [Node], _ lexer: Lexer, soft: Bool = false) throws {
        func expr(_ e: Expr, _ soft: Bool) throws {
            let x = { (e: Expr) throws in try expr(e, soft) }
            switch e {
            case .literal, .name: break
            case .list(let a), .tuple(let a), .concat(let a): try a.forEach(x)
            case .dict(let p): try p.forEach { try x($0.0); try x($0.1) }
            case .getattr(let o, _): try x(o)
            case .getitem(let o, let k): try x(o); try x(k)
            case .slice(let o, let a, let b, let c): try x(o); try [a, b, c].compactMap { $0 }.forEach(x)
            case .call(let f, let a, let k): try x(f); try a.forEach(x); try k.forEach { try x($0.1) }
            case .filter(let b, let n, let a, let k, let off):
                if !soft && !Builtins.filters.contains(n) { throw lexer.error("No filter named '\(n)'.", at: off) }
                try x(b); try a.forEach(x); try k.forEach { try x($0.1) }
            case .test(let b, let n, let a, _, let off):
                if !soft && !Builtins.tests.contains(n) { throw lexer.error("No test named '\(n)'.", at: off) }
                try x(b); try a.forEach(x)
            case .not(let y), .neg(let y), .pos(let y): try x(y)
            case .binary(_, let a, let b), .and(let a, let b), .or(let a, let b): try x(a); try x(b)
            case .compare(let f, let ops): try x(f); try ops.forEach { try x($0.1) }
            case .cond(let t, let a, let b):
                try expr(t, true); try expr(a, true)
                if let b { try expr(b, true) }
            }
        }
        func filters(_ fs: [(String, [Expr], [(String, Expr)])]) throws {
            for (n, a, k) in fs {
                if !soft && !Builtins.filters.contains(n) { throw TemplateError("No filter named '\(n)'.", kind: .syntax) }
                try a.forEach { try expr($0, soft) }
                try k.forEach { try expr($0.1, soft) }
            }
        }
        for n in nodes {
            switch n {
            case .text, .breakLoop, .continueLoop: break
            case .output(let e), .set(_, let e): try expr(e, soft)
            case .ifElse(let br, let other):
                for (c, b) in br { try expr(c, soft); try checkNames(b, lexer, soft: true) }
                try checkNames(other, lexer, soft: true)
            case .forLoop(_, let it, let f, let body, let other, _, _):
                try expr(it, soft)
                if let f { try expr(f, false) }
                try checkNames(body.nodes, lexer)
                try checkNames(other.nodes, lexer)
            case .setBlock(_, let body, let fs): try filters(fs); try checkNames(body.nodes, lexer, soft: soft)
            case .macro(_, let params, let body), .callBlock(_, let params, let body):
                try params.compactMap { $0.1 }.forEach { try expr($0, false) }
                try checkNames(body.nodes, lexer)
            case .filterBlock(let fs, let body): try filters(fs); try checkNames(body.nodes, lexer, soft: soft)
            case .scope(let body): try checkNames(body.nodes, lexer)
            }
        }
    }
}
