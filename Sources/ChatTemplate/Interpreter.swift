import Foundation

/// A variable scope. jinja2 gives each loop iteration, macro call and call block a fresh child scope;
/// `if` blocks share their parent's scope. Assignments go to the innermost scope.
final class Scope {
    var vars: [String: Value] = [:]
    let parent: Scope?
    init(parent: Scope?) { self.parent = parent }

    func lookup(_ name: String) -> Value? {
        var s: Scope? = self
        while let c = s {
            if let v = c.vars[name] { return v }
            s = c.parent
        }
        return nil
    }
}

/// Control flow out of a statement list.
enum Flow { case normal, breakLoop, continueLoop }

/// Walks the syntax tree and produces output text.
final class Renderer {
    let strftime: (String) -> String
    /// The render context (variables and globals): where `resolve` loads look names up.
    var context = Scope(parent: nil)
    /// Depth of macro and recursive-loop calls (Python stops runaway recursion; so do we).
    var callDepth = 0
    static let maxCallDepth = 100

    func enterCall() throws {
        callDepth += 1
        if callDepth > Renderer.maxCallDepth { callDepth -= 1; throw TemplateError("maximum recursion depth exceeded") }
    }

    init(strftime: @escaping (String) -> String) {
        self.strftime = strftime
    }

    /// Enters a frame: a child scope whose locals start out as ``Scoping`` decided.
    func enter(_ block: Block, _ parent: Scope) -> Scope {
        let s = Scope(parent: parent)
        for (name, kind) in block.locals {
            switch kind {
            case .param: break
            case .alias: s.vars[name] = parent.lookup(name) ?? .undefined("'\(name)' is undefined")
            case .resolve: s.vars[name] = context.lookup(name) ?? .undefined("'\(name)' is undefined")
            case .undefined: s.vars[name] = .undefined("'\(name)' is undefined")
            }
        }
        return s
    }

    // MARK: statements

    func render(_ nodes: [Node], _ scope: Scope, _ out: inout String) throws -> Flow {
        for node in nodes {
            switch node {
            case .text(let s):
                out += s
            case .output(let e):
                out += try eval(e, scope).str
            case .ifElse(let branches, let otherwise):
                var done = false
                for (cond, body) in branches {
                    guard try eval(cond, scope).truthy else { continue }
                    let f = try render(body, scope, &out)
                    if f != .normal { return f }
                    done = true
                    break
                }
                if !done {
                    let f = try render(otherwise, scope, &out)
                    if f != .normal { return f }
                }
            case .forLoop(let target, let iterExpr, let filter, let body, let otherwise, let test, let recursive):
                let iterable = try eval(iterExpr, scope)
                try runLoop(target: target, items: try iterate(iterable), filter: filter, body: body, otherwise: otherwise,
                    test: test, recursive: recursive, depth: 1, scope: scope, out: &out)
            case .set(let target, let e):
                try assign(target, try eval(e, scope), scope)
            case .setBlock(let name, let body, let filters):
                var text = ""
                // The body is inline in jinja2's generated code, so `break`/`continue` leave the enclosing loop.
                let flow = try render(body.nodes, enter(body, scope), &text)
                if flow != .normal { return flow }
                var v = Value.string(text)
                for (fname, a, k) in filters {
                    v = try applyFilter(fname, v, try evalArgs(a, k, scope), scope)
                }
                scope.vars[name] = v
            case .macro(let name, let params, let body):
                scope.vars[name] = .function(makeMacro(name: name, params: params, body: body, scope: scope, caller: nil))
            case .callBlock(let call, let params, let body):
                guard case .call(let calleeExpr, let a, let k) = call else { break }
                let caller = makeMacro(name: "caller", params: params, body: body, scope: scope, caller: nil)
                var args = try evalArgs(a, k, scope)
                args.keyword.append(("caller", .function(caller)))
                let callee = try eval(calleeExpr, scope)
                out += try callValue(callee, args).str
            case .filterBlock(let filters, let body):
                var text = ""
                let flow = try render(body.nodes, enter(body, scope), &text)
                if flow != .normal { return flow }
                var v = Value.string(text)
                for (fname, a, k) in filters {
                    v = try applyFilter(fname, v, try evalArgs(a, k, scope), scope)
                }
                out += v.str
            case .scope(let body):
                let f = try render(body.nodes, enter(body, scope), &out)
                if f != .normal { return f }
            case .breakLoop:
                return .breakLoop
            case .continueLoop:
                return .continueLoop
            }
        }
        return .normal
    }

    func runLoop(target: Target, items rawItems: [Value], filter: Expr?, body: Block, otherwise: Block, test: Block,
        recursive: Bool, depth: Int, scope: Scope, out: inout String) throws
    {
        var items = rawItems
        if let filter {
            items = try rawItems.filter { item in
                let s = enter(test, scope)
                try assign(target, item, s)
                return try eval(filter, s).truthy
            }
        }
        if items.isEmpty {
            _ = try render(otherwise.nodes, enter(otherwise, scope), &out)
            return
        }
        var lastChanged: [Value]? = nil
        let n = items.count
        for (i, item) in items.enumerated() {
            let s = enter(body, scope)
            try assign(target, item, s)
            var loop = Dict()
            loop["index"] = .int(i + 1)
            loop["index0"] = .int(i)
            loop["revindex"] = .int(n - i)
            loop["revindex0"] = .int(n - i - 1)
            loop["first"] = .bool(i == 0)
            loop["last"] = .bool(i == n - 1)
            loop["length"] = .int(n)
            loop["depth"] = .int(depth)
            loop["depth0"] = .int(depth - 1)
            loop["previtem"] = i > 0 ? items[i - 1] : .undefined("there is no previous item")
            loop["nextitem"] = i < n - 1 ? items[i + 1] : .undefined("there is no next item")
            loop["cycle"] = .function(Function("cycle") { args in
                guard !args.positional.isEmpty else { throw TemplateError("no items for cycling given") }
                return args.positional[i % args.positional.count]
            })
            loop["changed"] = .function(Function("changed") { args in
                if let prev = lastChanged, pyEqual(.array(prev), .array(args.positional)) { return .bool(false) }
                lastChanged = args.positional
                return .bool(true)
            })
            if recursive {
                loop["__call__"] = .function(Function("loop") { [unowned self] args in
                    try self.enterCall()
                    defer { self.callDepth -= 1 }
                    var text = ""
                    let inner = try self.iterate(args.positional.first ?? .undefined("missing loop argument"))
                    try self.runLoop(target: target, items: inner, filter: filter, body: body, otherwise: Block([]), test: test,
                        recursive: true, depth: depth + 1, scope: scope, out: &text)
                    return .string(text)
                })
            }
            s.vars["loop"] = .dict(loop)
            let f = try render(body.nodes, s, &out)
            if f == .breakLoop { break }
        }
    }

    func makeMacro(name: String, params: [(String, Expr?)], body: Block, scope: Scope, caller: Function?) -> Function {
        // The defining scope is held weakly: it holds this function, and a strong capture would leak both.
        Function(name) { [unowned self, weak scope] args in
            try self.enterCall()
            defer { self.callDepth -= 1 }
            let s = self.enter(body, scope ?? self.context)
            s.vars["caller"] = .undefined("No caller defined")
            var extra: [Value] = []
            for (i, v) in args.positional.enumerated() {
                if i < params.count { s.vars[params[i].0] = v } else { extra.append(v) }
            }
            var kw = Dict()
            for (k, v) in args.keyword {
                if k == "caller" { s.vars["caller"] = v; continue }
                if params.contains(where: { $0.0 == k }) { s.vars[k] = v } else { kw[k] = v }
            }
            for (pname, def) in params where s.vars[pname] == nil {
                if let def { s.vars[pname] = try self.eval(def, s) } else {
                    s.vars[pname] = .undefined("parameter '\(pname)' was not provided")
                }
            }
            s.vars["varargs"] = .tuple(extra)
            s.vars["kwargs"] = .dict(kw)
            var text = ""
            _ = try self.render(body.nodes, s, &text)
            return .string(text)
        }
    }

    func assign(_ target: Target, _ value: Value, _ scope: Scope) throws {
        switch target {
        case .name(let n):
            scope.vars[n] = value
        case .attr(let obj, let attr):
            guard case .namespace(let ns) = scope.lookup(obj) ?? .undefined("") else {
                throw TemplateError("cannot assign attribute on non-namespace object")
            }
            ns.attrs[attr] = value
        case .tuple(let targets):
            let items = try iterate(value)
            if items.count != targets.count {
                throw TemplateError(items.count > targets.count
                    ? "too many values to unpack (expected \(targets.count))"
                    : "not enough values to unpack (expected \(targets.count), got \(items.count))")
            }
            for (t, v) in zip(targets, items) { try assign(t, v, scope) }
        }
    }

    /// Python iteration: lists, dict keys, string characters; `Undefined` iterates as empty.
    func iterate(_ v: Value) throws -> [Value] {
        switch v {
        case .array(let a), .tuple(let a): return a
        case .dict(let d): return d.keys.map { $0.value }
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        default: throw TemplateError("'\(v.typeName)' object is not iterable")
        }
    }

    // MARK: expressions

    func evalArgs(_ a: [Expr], _ k: [(String, Expr)], _ scope: Scope) throws -> Args {
        Args(positional: try a.map { try eval($0, scope) }, keyword: try k.map { ($0.0, try eval($0.1, scope)) })
    }

    func callValue(_ callee: Value, _ args: Args) throws -> Value {
        switch callee {
        case .function(let f): return try f.body(args)
        case .undefined(let why): throw TemplateError(why)
        case .dict(let d):
            if case .function(let f)? = d["__call__"] { return try f.body(args) }
            fallthrough
        default: throw TemplateError("'\(callee.typeName)' object is not callable")
        }
    }

    func eval(_ e: Expr, _ scope: Scope) throws -> Value {
        switch e {
        case .literal(let v):
            return v
        case .name(let n):
            return scope.lookup(n) ?? .undefined("'\(n)' is undefined")
        case .list(let items):
            return .array(try items.map { try eval($0, scope) })
        case .tuple(let items):
            return .tuple(try items.map { try eval($0, scope) })
        case .dict(let pairs):
            var d = Dict()
            for (k, v) in pairs { d[try eval(k, scope).key()] = try eval(v, scope) }
            return .dict(d)
        case .getattr(let obj, let name):
            return try getAttr(try eval(obj, scope), name)
        case .getitem(let obj, let key):
            return try getItem(try eval(obj, scope), try eval(key, scope))
        case .slice(let obj, let a, let b, let c):
            let o = try eval(obj, scope)
            return try slice(o, try a.map { try eval($0, scope) }, try b.map { try eval($0, scope) }, try c.map { try eval($0, scope) })
        case .call(let callee, let a, let k):
            let f = try eval(callee, scope)
            return try callValue(f, try evalArgs(a, k, scope))
        case .filter(let base, let name, let a, let k, _):
            // `default` must see Undefined without it failing; other filters get the value as is.
            return try applyFilter(name, try eval(base, scope), try evalArgs(a, k, scope), scope)
        case .test(let base, let name, let a, let negated, _):
            let r = try runTest(name, try eval(base, scope), try a.map { try eval($0, scope) })
            return .bool(negated ? !r : r)
        case .not(let x):
            return .bool(!(try eval(x, scope).truthy))
        case .neg(let x):
            let v = try eval(x, scope)
            switch v {
            case .int(let n):
                if n == Int.min { throw TemplateError("integer overflow") }
                return .int(-n)
            case .bool(let b): return .int(b ? -1 : 0)
            case .double(let d): return .double(-d)
            case .undefined(let why): throw TemplateError(why)
            default: throw TemplateError("bad operand type for unary -: '\(v.typeName)'")
            }
        case .pos(let x):
            let v = try eval(x, scope)
            switch v {
            case .int, .double: return v
            case .bool(let b): return .int(b ? 1 : 0)
            case .undefined(let why): throw TemplateError(why)
            default: throw TemplateError("bad operand type for unary +: '\(v.typeName)'")
            }
        case .binary(let op, let a, let b):
            return try binary(op, try eval(a, scope), try eval(b, scope))
        case .and(let a, let b):
            let x = try eval(a, scope)
            return x.truthy ? try eval(b, scope) : x
        case .or(let a, let b):
            let x = try eval(a, scope)
            return x.truthy ? x : try eval(b, scope)
        case .concat(let items):
            return .string(try items.map { try eval($0, scope).str }.joined())
        case .compare(let first, let ops):
            var left = try eval(first, scope)
            for (op, re) in ops {
                let right = try eval(re, scope)
                let ok: Bool
                switch op {
                case "==": ok = pyEqual(left, right)
                case "!=": ok = !pyEqual(left, right)
                case "<": ok = try pyCompare(left, right) < 0
                case ">": ok = try pyCompare(left, right) > 0
                case "<=": ok = try pyCompare(left, right) <= 0
                case ">=": ok = try pyCompare(left, right) >= 0
                case "in": ok = try contains(right, left)
                default: ok = !(try contains(right, left))
                }
                if !ok { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .cond(let test, let then, let otherwise):
            if try eval(test, scope).truthy { return try eval(then, scope) }
            if let otherwise { return try eval(otherwise, scope) }
            return .undefined("the inline if-expression evaluated to false and no else section was defined")
        }
    }

    /// Python's `item in container`.
    func contains(_ container: Value, _ item: Value) throws -> Bool {
        switch container {
        case .string(let s):
            guard case .string(let x) = item else {
                if case .undefined(let why) = item { throw TemplateError(why) }
                throw TemplateError("'in <string>' requires string as left operand, not \(item.typeName)")
            }
            return x.isEmpty || s.unicodeScalars.count >= x.unicodeScalars.count && (s as NSString).range(of: x, options: .literal).location != NSNotFound
        case .array(let a), .tuple(let a):
            return a.contains { pyEqual($0, item) }
        case .dict(let d):
            guard let k = try? item.key() else {
                switch item {
                case .undefined, .double, .none, .tuple: return false
                default: break
                }
                throw TemplateError("unhashable type: '\(item.typeName)'")
            }
            return d[k] != nil
        case .undefined:
            return false
        default:
            throw TemplateError("argument of type '\(container.typeName)' is not iterable")
        }
    }

    func undefinedAttr(_ obj: Value, _ name: Value) -> Value {
        let what: String
        switch obj {
        case .none: what = "'None'"
        default: what = "'\(obj.typeName) object'"
        }
        return .undefined("\(what) has no attribute \(name.repr)")
    }

    /// jinja2's `getattr`: Python attribute (methods) first, then item lookup.
    func getAttr(_ obj: Value, _ name: String) throws -> Value {
        switch obj {
        case .undefined(let why):
            throw TemplateError(why)
        case .dict(let d):
            if let m = dictMethod(d, name) { return m }
            return d[name] ?? undefinedAttr(obj, .string(name))
        case .namespace(let ns):
            return ns.attrs[name] ?? undefinedAttr(obj, .string(name))
        case .string(let s):
            return stringMethod(s, name) ?? undefinedAttr(obj, .string(name))
        case .array(let a), .tuple(let a):
            return listMethod(a, name) ?? undefinedAttr(obj, .string(name))
        default:
            return undefinedAttr(obj, .string(name))
        }
    }

    /// jinja2's `getitem`: item lookup first, then attributes for string keys.
    func getItem(_ obj: Value, _ key: Value) throws -> Value {
        switch obj {
        case .undefined(let why):
            throw TemplateError(why)
        case .dict(let d):
            if let k = try? key.key(), let v = d[k] { return v }
            if case .string(let s) = key, let m = dictMethod(d, s) { return m }
            return undefinedAttr(obj, key)
        case .array(let a), .tuple(let a):
            if let i = key.integer {
                let j = i < 0 ? i + a.count : i
                if j >= 0 && j < a.count { return a[j] }
                return undefinedAttr(obj, key)
            }
            if case .string(let s) = key, let m = listMethod(a, s) { return m }
            return undefinedAttr(obj, key)
        case .string(let s):
            if let i = key.integer {
                let u = Array(s.unicodeScalars)
                let j = i < 0 ? i + u.count : i
                if j >= 0 && j < u.count { return .string(String(u[j])) }
                return undefinedAttr(obj, key)
            }
            if case .string(let name) = key, let m = stringMethod(s, name) { return m }
            return undefinedAttr(obj, key)
        case .namespace(let ns):
            if case .string(let name) = key, let v = ns.attrs[name] { return v }
            return undefinedAttr(obj, key)
        default:
            return undefinedAttr(obj, key)
        }
    }

    /// Python slice semantics (`x[a:b:c]`) for lists and strings.
    func slice(_ obj: Value, _ a: Value?, _ b: Value?, _ c: Value?) throws -> Value {
        func idx(_ v: Value?) throws -> Int? {
            guard let v, !v.isNone else { return nil }
            guard let n = v.integer else { throw TemplateError("slice indices must be integers or None") }
            return n
        }
        let step = try idx(c) ?? 1
        if step == 0 { throw TemplateError("slice step cannot be zero") }
        func indices(_ count: Int) throws -> [Int] {
            var start = try idx(a)
            var stop = try idx(b)
            if step > 0 {
                var s = start ?? 0
                if s < 0 { s = max(0, s + count) }
                s = min(s, count)
                var e = stop ?? count
                if e < 0 { e = max(0, e + count) }
                e = min(e, count)
                start = s
                stop = e
                return s < e ? Array(stride(from: s, to: e, by: step)) : []
            } else {
                var s = start ?? count - 1
                if s < 0 { s += count }
                s = min(s, count - 1)
                var e: Int
                if let st = stop {
                    e = st < 0 ? max(st + count, -1) : min(st, count - 1)
                } else {
                    e = -1
                }
                return s > e ? Array(stride(from: s, to: e, by: step)) : []
            }
        }
        switch obj {
        case .array(let arr):
            return .array(try indices(arr.count).map { arr[$0] })
        case .tuple(let arr):
            return .tuple(try indices(arr.count).map { arr[$0] })
        case .string(let s):
            let u = Array(s.unicodeScalars)
            return .string(stringFrom(try indices(u.count).map { u[$0] }))
        case .undefined(let why):
            throw TemplateError(why)
        default:
            throw TemplateError("'\(obj.typeName)' object is not subscriptable")
        }
    }

    func binary(_ op: String, _ a: Value, _ b: Value) throws -> Value {
        if op == "%", case .string(let fmt) = a { return .string(try percentFormat(fmt, b)) }
        if case .undefined(let why) = a { throw TemplateError(why) }
        if case .undefined(let why) = b { throw TemplateError(why) }
        func typeError() -> TemplateError {
            TemplateError("unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'")
        }
        switch op {
        case "+":
            switch (a, b) {
            case (.string(let x), .string(let y)): return .string(x + y)
            case (.array(let x), .array(let y)): return .array(x + y)
            case (.tuple(let x), .tuple(let y)): return .tuple(x + y)
            case (.string, _): throw TemplateError("can only concatenate str (not \"\(b.typeName)\") to str")
            case (.array, _): throw TemplateError("can only concatenate list (not \"\(b.typeName)\") to list")
            default: break
            }
            if let x = a.integer, let y = b.integer {
                let (r, o) = x.addingReportingOverflow(y)
                if o { throw TemplateError("integer overflow") }
                return .int(r)
            }
            if let x = a.number, let y = b.number { return .double(x + y) }
            throw typeError()
        case "-":
            if let x = a.integer, let y = b.integer {
                let (r, o) = x.subtractingReportingOverflow(y)
                if o { throw TemplateError("integer overflow") }
                return .int(r)
            }
            if let x = a.number, let y = b.number { return .double(x - y) }
            throw typeError()
        case "*":
            switch (a, b) {
            case (.string(let s), _) where b.integer != nil:
                return .string(String(repeating: s, count: max(0, b.integer!)))
            case (_, .string(let s)) where a.integer != nil:
                return .string(String(repeating: s, count: max(0, a.integer!)))
            case (.tuple(let x), _) where b.integer != nil:
                return .tuple(Array([[Value]](repeating: x, count: max(0, b.integer!)).joined()))
            case (.array(let x), _) where b.integer != nil:
                return .array(Array([[Value]](repeating: x, count: max(0, b.integer!)).joined()))
            case (_, .tuple(let x)) where a.integer != nil:
                return .tuple(Array([[Value]](repeating: x, count: max(0, a.integer!)).joined()))
            case (_, .array(let x)) where a.integer != nil:
                return .array(Array([[Value]](repeating: x, count: max(0, a.integer!)).joined()))
            default: break
            }
            if let x = a.integer, let y = b.integer {
                let (r, o) = x.multipliedReportingOverflow(by: y)
                if o { throw TemplateError("integer overflow") }
                return .int(r)
            }
            if let x = a.number, let y = b.number { return .double(x * y) }
            throw typeError()
        case "/":
            guard let x = a.number, let y = b.number else { throw typeError() }
            if y == 0 { throw TemplateError("division by zero") }
            return .double(x / y)
        case "//":
            if let x = a.integer, let y = b.integer {
                if y == 0 { throw TemplateError("integer division or modulo by zero") }
                if x == Int.min && y == -1 { throw TemplateError("integer overflow") }
                var q = x / y
                if (x % y != 0) && ((x < 0) != (y < 0)) { q -= 1 }
                return .int(q)
            }
            guard let x = a.number, let y = b.number else { throw typeError() }
            if y == 0 { throw TemplateError("float floor division by zero") }
            return .double((x / y).rounded(.down))
        case "%":
            if let x = a.integer, let y = b.integer {
                if y == 0 { throw TemplateError("integer division or modulo by zero") }
                if y == -1 { return .int(0) }
                var r = x % y
                if r != 0 && ((r < 0) != (y < 0)) { r += y }
                return .int(r)
            }
            if case .string(let fmt) = a { return .string(try percentFormat(fmt, b)) }
            guard let x = a.number, let y = b.number else { throw typeError() }
            if y == 0 { throw TemplateError("float modulo") }
            var r = fmod(x, y)
            if r != 0 && ((r < 0) != (y < 0)) { r += y }
            if r == 0 { r = copysign(0, y) }
            return .double(r)
        case "**":
            if let x = a.integer, let y = b.integer, y >= 0 {
                // Exponentiation by squaring with overflow checks.
                var result = 1, base = x, e = y
                while e > 0 {
                    if e & 1 == 1 {
                        let (m, o) = result.multipliedReportingOverflow(by: base)
                        if o { throw TemplateError("integer overflow") }
                        result = m
                    }
                    e >>= 1
                    if e > 0 {
                        let (sq, o) = base.multipliedReportingOverflow(by: base)
                        if o { throw TemplateError("integer overflow") }
                        base = sq
                    }
                }
                return .int(result)
            }
            guard let x = a.number, let y = b.number else { throw typeError() }
            if x == 0 && y < 0 { throw TemplateError("0.0 cannot be raised to a negative power") }
            let r = pow(x, y)
            if r.isInfinite && x.isFinite && y.isFinite { throw TemplateError("(34, 'Numerical result out of range')") }
            if r.isNaN && !x.isNaN && !y.isNaN { throw TemplateError("complex result of a negative number raised to a fractional power is not supported") }
            return .double(r)
        default:
            throw TemplateError("unknown operator \(op)")
        }
    }

    /// Python's `'%s' % value` formatting for %s, %r, %d, %i, %f and %%.
    func percentFormat(_ fmt: String, _ arg: Value) throws -> String {
        var args: [Value]
        // A tuple spreads; a list or dict is one argument and, as in Python, extra arguments are then not an error.
        var lenient = false
        if case .tuple(let a) = arg { args = a } else { args = [arg] }
        switch arg {
        case .array, .dict, .undefined: lenient = true
        default: break
        }
        var out = ""
        var it = Array(fmt.unicodeScalars)[...]
        while let c = it.first {
            it = it.dropFirst()
            if c != "%" {
                out.unicodeScalars.append(c)
                continue
            }
            guard let spec = it.first else { throw TemplateError("incomplete format") }
            it = it.dropFirst()
            if spec == "%" {
                out += "%"
                continue
            }
            guard !args.isEmpty else { throw TemplateError("not enough arguments for format string") }
            let v = args.removeFirst()
            switch spec {
            case "s": out += v.str
            case "r": out += v.repr
            case "d", "i":
                guard let n = v.number else { throw TemplateError("%\(spec) format: a number is required, not \(v.typeName)") }
                if let i = v.integer { out += String(i) } else {
                    guard n.isFinite, abs(n) < 9.2e18 else { throw TemplateError("%\(spec) format: number out of range") }
                    out += String(Int(n.rounded(.towardZero)))
                }
            case "f":
                guard let n = v.number else { throw TemplateError("%f format: a number is required, not \(v.typeName)") }
                out += String(format: "%f", n)
            default: throw TemplateError("unsupported format character '\(spec)'")
            }
        }
        if !args.isEmpty && !lenient { throw TemplateError("not all arguments converted during string formatting") }
        return out
    }
}
