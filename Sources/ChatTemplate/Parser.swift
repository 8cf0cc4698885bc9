import Foundation

/// Expression syntax tree.
indirect enum Expr {
    case literal(Value)
    case name(String)
    case list([Expr])
    case tuple([Expr])
    case dict([(Expr, Expr)])
    case getattr(Expr, String)
    case getitem(Expr, Expr)
    case slice(Expr, Expr?, Expr?, Expr?)
    case call(Expr, [Expr], [(String, Expr)])
    case filter(Expr, String, [Expr], [(String, Expr)], Int)
    case test(Expr, String, [Expr], negated: Bool, Int)
    case not(Expr)
    case neg(Expr)
    case pos(Expr)
    case binary(String, Expr, Expr)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case concat([Expr])
    case compare(Expr, [(String, Expr)])
    case cond(test: Expr, then: Expr, otherwise: Expr?)
}

/// Assignment target of `set` and `for`.
indirect enum Target {
    case name(String)
    case attr(String, String)
    case tuple([Target])
}

/// How a frame-local variable starts out when its frame is entered (jinja2's `VAR_LOAD_*`).
enum InitKind {
    /// Bound by the frame itself (loop target, `loop`, macro arguments).
    case param
    /// Copies the enclosing frame's variable of the same name.
    case alias
    /// Looks the name up in the render context (variables and globals).
    case resolve
    /// Starts undefined.
    case undefined
}

/// A statement list that is its own jinja2 frame (the template, a loop body, a macro body...), with the
/// frame-local names found by ``Scoping`` and how each starts out.
final class Block {
    let nodes: [Node]
    var locals: [(String, InitKind)] = []
    init(_ nodes: [Node]) { self.nodes = nodes }
}

/// Statement syntax tree.
indirect enum Node {
    case text(String)
    case output(Expr)
    case ifElse([(Expr, [Node])], [Node])
    case forLoop(target: Target, iter: Expr, filter: Expr?, body: Block, otherwise: Block, test: Block, recursive: Bool)
    case set(Target, Expr)
    case setBlock(String, Block, [(String, [Expr], [(String, Expr)])])
    case macro(name: String, params: [(String, Expr?)], body: Block)
    case callBlock(call: Expr, params: [(String, Expr?)], body: Block)
    case filterBlock([(String, [Expr], [(String, Expr)])], Block)
    case scope(Block)
    case breakLoop
    case continueLoop
}

/// Recursive-descent parser following jinja2's grammar and operator precedence.
struct Parser {
    var tokens: [Token]
    var p = 0
    let lexer: Lexer
    var loopDepth = 0
    /// Current recursion depth of the parser; bounded so that absurd nesting fails cleanly instead of
    /// overflowing the stack.
    var nesting = 0
    static let maxNesting = 150

    mutating func enterNested() throws {
        nesting += 1
        if nesting > Parser.maxNesting { throw fail("template nested too deeply (more than \(Parser.maxNesting) levels)") }
    }

    init(source: String) throws {
        var lx = Lexer(source: source)
        tokens = try lx.tokenize()
        lexer = lx
    }

    var cur: Tok { tokens[p].tok }
    var curOffset: Int { tokens[p].offset }

    func fail(_ msg: String, at offset: Int? = nil) -> TemplateError {
        lexer.error(msg, at: offset ?? curOffset)
    }

    mutating func advance() { if p < tokens.count - 1 { p += 1 } }

    func isOp(_ s: String) -> Bool { if case .op(let o) = cur { return o == s } else { return false } }
    func isName(_ s: String) -> Bool { if case .name(let n) = cur { return n == s } else { return false } }

    mutating func expectOp(_ s: String) throws {
        guard isOp(s) else { throw fail("expected '\(s)', found \(describe(cur))") }
        advance()
    }

    mutating func expectName() throws -> String {
        guard case .name(let n) = cur else { throw fail("expected a name, found \(describe(cur))") }
        advance()
        return n
    }

    mutating func expectBlockEnd() throws {
        guard case .blockEnd = cur else { throw fail("expected end of block tag '%}', found \(describe(cur))") }
        advance()
    }

    func describe(_ t: Tok) -> String {
        switch t {
        case .text: return "template text"
        case .varBegin: return "'{{'"
        case .varEnd: return "'}}'"
        case .blockBegin: return "'{%'"
        case .blockEnd: return "'%}'"
        case .name(let n): return "'\(n)'"
        case .string(let s): return "string \(pyStringRepr(s))"
        case .int(let n): return "integer \(n)"
        case .float(let d): return "float \(pyFloatRepr(d))"
        case .op(let o): return "'\(o)'"
        case .eof: return "end of template"
        }
    }

    // MARK: statements

    mutating func parseTemplate() throws -> [Node] {
        let (body, end) = try parseBody(until: [])
        if let end { throw fail("unexpected '\(end)' with no open block") }
        return body
    }

    /// Parses nodes until a block tag whose keyword is in `until` (left unconsumed after its name) or the end.
    mutating func parseBody(until: Set<String>) throws -> ([Node], String?) {
        var nodes: [Node] = []
        while true {
            switch cur {
            case .eof:
                if !until.isEmpty {
                    throw fail("unexpected end of template; expected one of: \(until.sorted().joined(separator: ", "))")
                }
                return (nodes, nil)
            case .text(let s):
                nodes.append(.text(s))
                advance()
            case .varBegin:
                advance()
                let e = try parseTupleExpr()
                guard case .varEnd = cur else { throw fail("expected end of print statement '}}', found \(describe(cur))") }
                advance()
                nodes.append(.output(e))
            case .blockBegin:
                let start = curOffset
                advance()
                guard case .name(let kw) = cur else { throw fail("expected a statement name after '{%'") }
                if until.contains(kw) {
                    advance()
                    return (nodes, kw)
                }
                if kw.hasPrefix("end") || kw == "else" || kw == "elif" {
                    if until.isEmpty { throw fail("unexpected '\(kw)'", at: start) }
                    throw fail("unexpected '\(kw)'; expected one of: \(until.sorted().joined(separator: ", "))")
                }
                advance()
                nodes.append(try parseStatement(kw, start: start))
            default:
                throw fail("unexpected \(describe(cur))")
            }
        }
    }

    mutating func parseStatement(_ kw: String, start: Int) throws -> Node {
        try enterNested()
        defer { nesting -= 1 }
        switch kw {
        case "if":
            var branches: [(Expr, [Node])] = []
            var cond = try parseExpression()
            try expectBlockEnd()
            while true {
                let (body, end) = try parseBody(until: ["elif", "else", "endif"])
                branches.append((cond, body))
                if end == "elif" {
                    cond = try parseExpression()
                    try expectBlockEnd()
                    continue
                }
                if end == "else" {
                    try expectBlockEnd()
                    let (elseBody, _) = try parseBody(until: ["endif"])
                    try expectBlockEnd()
                    return .ifElse(branches, elseBody)
                }
                try expectBlockEnd()
                return .ifElse(branches, [])
            }
        case "for":
            let target = try parseAssignTarget(allowAttr: false)
            guard isName("in") else { throw fail("expected 'in' in for loop, found \(describe(cur))") }
            advance()
            let iter = try parseTupleExpr(noCondExpr: true)
            var filter: Expr? = nil
            if isName("if") {
                advance()
                filter = try parseExpression()
            }
            var recursive = false
            if isName("recursive") { advance(); recursive = true }
            try expectBlockEnd()
            loopDepth += 1
            let (body, end) = try parseBody(until: ["else", "endfor"])
            loopDepth -= 1
            var otherwise: [Node] = []
            if end == "else" {
                try expectBlockEnd()
                otherwise = try parseBody(until: ["endfor"]).0
            }
            try expectBlockEnd()
            return .forLoop(target: target, iter: iter, filter: filter, body: Block(body), otherwise: Block(otherwise), test: Block([]),
                recursive: recursive)
        case "set":
            let target = try parseAssignTarget(allowAttr: true)
            if isOp("=") {
                advance()
                let value = try parseTupleExpr()
                try expectBlockEnd()
                return .set(target, value)
            }
            guard case .name(let name) = target else { throw fail("a block 'set' needs a plain variable name") }
            var filters: [(String, [Expr], [(String, Expr)])] = []
            while isOp("|") {
                advance()
                filters.append(try parseFilterCall())
            }
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endset"])
            try expectBlockEnd()
            return .setBlock(name, Block(body), filters)
        case "macro":
            let name = try expectName()
            let params = try parseSignature()
            try expectBlockEnd()
            let saved = loopDepth
            loopDepth = 0
            let (body, _) = try parseBody(until: ["endmacro"])
            loopDepth = saved
            try expectBlockEnd()
            return .macro(name: name, params: params, body: Block(body))
        case "call":
            var params: [(String, Expr?)] = []
            if isOp("(") { params = try parseSignature() }
            let call = try parseExpression()
            guard case .call = call else { throw fail("expected a macro call after 'call'") }
            try expectBlockEnd()
            let savedDepth = loopDepth
            loopDepth = 0
            let (body, _) = try parseBody(until: ["endcall"])
            loopDepth = savedDepth
            try expectBlockEnd()
            return .callBlock(call: call, params: params, body: Block(body))
        case "filter":
            var filters: [(String, [Expr], [(String, Expr)])] = [try parseFilterCall()]
            while isOp("|") {
                advance()
                filters.append(try parseFilterCall())
            }
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endfilter"])
            try expectBlockEnd()
            return .filterBlock(filters, Block(body))
        case "generation":
            // transformers' AssistantTracker tag: renders its body (as a call block, so in its own scope).
            try expectBlockEnd()
            let savedDepth = loopDepth
            loopDepth = 0
            let (body, _) = try parseBody(until: ["endgeneration"])
            loopDepth = savedDepth
            try expectBlockEnd()
            return .scope(Block(body))
        case "break", "continue":
            if loopDepth == 0 { throw fail("'\(kw)' outside of a loop", at: start) }
            try expectBlockEnd()
            return kw == "break" ? .breakLoop : .continueLoop
        default:
            throw fail("unknown or unsupported statement '\(kw)'", at: start)
        }
    }

    /// `(a, b=default, ...)` of a macro or call block.
    mutating func parseSignature() throws -> [(String, Expr?)] {
        try expectOp("(")
        var params: [(String, Expr?)] = []
        while !isOp(")") {
            if !params.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let n = try expectName()
            var def: Expr? = nil
            if isOp("=") {
                advance()
                def = try parseExpression()
            }
            params.append((n, def))
        }
        advance()
        return params
    }

    mutating func parseAssignTarget(allowAttr: Bool) throws -> Target {
        func one(_ parser: inout Parser) throws -> Target {
            if parser.isOp("(") {
                parser.advance()
                let t = try parser.parseAssignTarget(allowAttr: false)
                try parser.expectOp(")")
                return t
            }
            let n = try parser.expectName()
            if allowAttr && parser.isOp(".") {
                parser.advance()
                let a = try parser.expectName()
                return .attr(n, a)
            }
            return .name(n)
        }
        let first = try one(&self)
        guard isOp(",") else { return first }
        var items = [first]
        while isOp(",") {
            advance()
            if case .name = cur {} else if isOp("(") {} else { break }
            items.append(try one(&self))
        }
        return .tuple(items)
    }

    // MARK: expressions

    /// A possibly comma-separated expression (an implicit tuple), as in `{{ a, b }}` or `for x in a, b`.
    mutating func parseTupleExpr(noCondExpr: Bool = false) throws -> Expr {
        let first = noCondExpr ? try parseOr() : try parseExpression()
        guard isOp(",") else { return first }
        var items = [first]
        while isOp(",") {
            advance()
            if case .blockEnd = cur { break }
            if case .varEnd = cur { break }
            if isOp(")") || isName("if") { break }
            items.append(noCondExpr ? try parseOr() : try parseExpression())
        }
        return .tuple(items)
    }

    mutating func parseExpression() throws -> Expr {
        try enterNested()
        defer { nesting -= 1 }
        var e = try parseOr()
        while isName("if") {
            advance()
            let test = try parseOr()
            var otherwise: Expr? = nil
            if isName("else") {
                advance()
                otherwise = try parseExpression()
            }
            e = .cond(test: test, then: e, otherwise: otherwise)
        }
        return e
    }

    mutating func parseOr() throws -> Expr {
        var e = try parseAnd()
        while isName("or") {
            advance()
            e = .or(e, try parseAnd())
        }
        return e
    }

    mutating func parseAnd() throws -> Expr {
        var e = try parseNot()
        while isName("and") {
            advance()
            e = .and(e, try parseNot())
        }
        return e
    }

    mutating func parseNot() throws -> Expr {
        try enterNested()
        defer { nesting -= 1 }
        if isName("not") {
            advance()
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    mutating func parseCompare() throws -> Expr {
        let e = try parseMath1()
        var ops: [(String, Expr)] = []
        while true {
            if case .op(let o) = cur, ["==", "!=", "<", ">", "<=", ">="].contains(o) {
                advance()
                ops.append((o, try parseMath1()))
            } else if isName("in") {
                advance()
                ops.append(("in", try parseMath1()))
            } else if isName("not"), p + 1 < tokens.count, case .name("in") = tokens[p + 1].tok {
                advance()
                advance()
                ops.append(("notin", try parseMath1()))
            } else {
                break
            }
        }
        return ops.isEmpty ? e : .compare(e, ops)
    }

    mutating func parseMath1() throws -> Expr {
        var e = try parseConcat()
        while case .op(let o) = cur, o == "+" || o == "-" {
            advance()
            e = .binary(o, e, try parseConcat())
        }
        return e
    }

    mutating func parseConcat() throws -> Expr {
        var items = [try parseMath2()]
        while isOp("~") {
            advance()
            items.append(try parseMath2())
        }
        return items.count == 1 ? items[0] : .concat(items)
    }

    mutating func parseMath2() throws -> Expr {
        var e = try parsePow()
        while case .op(let o) = cur, ["*", "/", "//", "%"].contains(o) {
            advance()
            e = .binary(o, e, try parsePow())
        }
        return e
    }

    mutating func parsePow() throws -> Expr {
        var e = try parseUnary()
        while isOp("**") {
            advance()
            e = .binary("**", e, try parseUnary())
        }
        return e
    }

    mutating func parseUnary(withFilter: Bool = true) throws -> Expr {
        try enterNested()
        defer { nesting -= 1 }
        var e: Expr
        if isOp("-") {
            advance()
            e = .neg(try parseUnary(withFilter: false))
        } else if isOp("+") {
            advance()
            e = .pos(try parseUnary(withFilter: false))
        } else {
            e = try parsePrimary()
        }
        e = try parsePostfix(e)
        if withFilter { e = try parseFilterExpr(e) }
        return e
    }

    mutating func parsePrimary() throws -> Expr {
        let t = cur
        switch t {
        case .name(let n):
            advance()
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(n)
            }
        case .string(let s):
            advance()
            var str = s
            while case .string(let more) = cur {  // adjacent literals concatenate
                str += more
                advance()
            }
            return .literal(.string(str))
        case .int(let n):
            advance()
            return .literal(.int(n))
        case .float(let d):
            advance()
            return .literal(.double(d))
        case .op("("):
            advance()
            if isOp(")") {
                advance()
                return .tuple([])
            }
            let first = try parseExpression()
            if isOp(")") {
                advance()
                return first
            }
            var items = [first]
            while isOp(",") {
                advance()
                if isOp(")") { break }
                items.append(try parseExpression())
            }
            try expectOp(")")
            return .tuple(items)
        case .op("["):
            advance()
            var items: [Expr] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            advance()
            return .list(items)
        case .op("{"):
            advance()
            var items: [(Expr, Expr)] = []
            while !isOp("}") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let k = try parseExpression()
                try expectOp(":")
                items.append((k, try parseExpression()))
            }
            advance()
            return .dict(items)
        default:
            throw fail("unexpected \(describe(t))")
        }
    }

    mutating func parsePostfix(_ base: Expr) throws -> Expr {
        var e = base
        while true {
            if isOp(".") {
                advance()
                switch cur {
                case .name(let n):
                    advance()
                    e = .getattr(e, n)
                case .int(let i):
                    advance()
                    e = .getitem(e, .literal(.int(i)))
                default:
                    throw fail("expected an attribute name after '.'")
                }
            } else if isOp("[") {
                advance()
                e = try parseSubscript(e)
            } else if isOp("(") {
                e = try parseCall(e)
            } else {
                return e
            }
        }
    }

    mutating func parseSubscript(_ base: Expr) throws -> Expr {
        var parts: [Expr?] = [nil]
        var isSlice = false
        if !isOp(":") { parts[0] = try parseExpression() }
        if isOp(":") {
            isSlice = true
            advance()
            var stop: Expr? = nil
            if !isOp("]") && !isOp(":") { stop = try parseExpression() }
            var step: Expr? = nil
            if isOp(":") {
                advance()
                if !isOp("]") { step = try parseExpression() }
            }
            parts = [parts[0], stop, step]
        }
        try expectOp("]")
        if isSlice { return .slice(base, parts[0], parts[1], parts[2]) }
        return .getitem(base, parts[0]!)
    }

    mutating func parseCallArgs() throws -> ([Expr], [(String, Expr)]) {
        try expectOp("(")
        var args: [Expr] = []
        var kwargs: [(String, Expr)] = []
        while !isOp(")") {
            if !(args.isEmpty && kwargs.isEmpty) { try expectOp(",") }
            if isOp(")") { break }
            if case .name(let n) = cur, p + 1 < tokens.count, case .op("=") = tokens[p + 1].tok {
                advance()
                advance()
                kwargs.append((n, try parseExpression()))
            } else {
                if !kwargs.isEmpty { throw fail("positional argument after keyword argument") }
                args.append(try parseExpression())
            }
        }
        advance()
        return (args, kwargs)
    }

    mutating func parseCall(_ callee: Expr) throws -> Expr {
        let (a, k) = try parseCallArgs()
        return .call(callee, a, k)
    }

    mutating func parseFilterCall() throws -> (String, [Expr], [(String, Expr)]) {
        var name = try expectName()
        while isOp(".") {
            advance()
            name += "." + (try expectName())
        }
        if isOp("(") {
            let (a, k) = try parseCallArgs()
            return (name, a, k)
        }
        return (name, [], [])
    }

    mutating func parseFilterExpr(_ base: Expr) throws -> Expr {
        var e = base
        while true {
            if isOp("|") {
                advance()
                let off = curOffset
                let (n, a, k) = try parseFilterCall()
                e = .filter(e, n, a, k, off)
            } else if isName("is") {
                advance()
                var negated = false
                if isName("not") {
                    advance()
                    negated = true
                }
                let off = curOffset
                var name = try expectName()
                while isOp(".") {
                    advance()
                    name += "." + (try expectName())
                }
                var args: [Expr] = []
                if isOp("(") {
                    let (a, k) = try parseCallArgs()
                    args = a + k.map { $0.1 }
                } else {
                    var takesArg = false
                    switch cur {
                    case .name(let n): takesArg = !["else", "or", "and"].contains(n)
                    case .string, .int, .float: takesArg = true
                    case .op(let o): takesArg = o == "(" || o == "[" || o == "{"
                    default: break
                    }
                    if takesArg {
                        if isName("is") { throw fail("you cannot chain multiple tests with 'is'") }
                        args = [try parsePostfix(try parsePrimary())]
                    }
                }
                e = .test(e, name, args, negated: negated, off)
            } else if isOp("(") {
                e = try parseCall(e)
            } else {
                return e
            }
        }
    }
}
