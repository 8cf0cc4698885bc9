import Foundation

/// jinja2's static scoping (its `idtracking` module), which decides what a variable read means.
///
/// Each frame (the template, a loop body, a loop's `else`, its `if` filter, a macro or call body, a set or
/// filter block) has local names: those it binds as parameters and those it assigns. A local starts out as
/// a copy of an enclosing frame's variable when one exists, as a context lookup when the frame read the
/// name before assigning it, or undefined otherwise; a name assigned in only some branches of an `if`
/// starts out as the enclosing variable or the context value. So, as in jinja2, a loop that runs before
/// a top-level `{% set x = ... %}` sees `x` undefined even when the caller passed an `x`.
final class Symbols {
    let parent: Symbols?
    var refs: Set<String> = []
    var loads: [String: InitKind] = [:]
    var stores: Set<String> = []
    var order: [String] = []

    init(parent: Symbols?) { self.parent = parent }

    func copy() -> Symbols {
        let s = Symbols(parent: parent)
        s.refs = refs
        s.loads = loads
        s.stores = stores
        s.order = order
        return s
    }

    func findRef(_ name: String) -> Bool { refs.contains(name) || (parent?.findRef(name) ?? false) }

    func define(_ name: String, _ kind: InitKind) {
        if !refs.contains(name) { order.append(name) }
        refs.insert(name)
        loads[name] = kind
    }

    func load(_ name: String) {
        if !findRef(name) { define(name, .resolve) }
    }

    func store(_ name: String) {
        stores.insert(name)
        if refs.contains(name) { return }
        if parent?.findRef(name) == true { define(name, .alias) } else { define(name, .undefined) }
    }

    func declareParameter(_ name: String) {
        stores.insert(name)
        define(name, .param)
    }

    /// Merges the symbol tables of the branches of an `if`: names assigned in only some branches start
    /// out as the enclosing variable (or the context value).
    func branchUpdate(_ branches: [Symbols]) {
        var counts: [String: Int] = [:]
        var countOrder: [String] = []
        for b in branches {
            for t in b.order where b.stores.contains(t) && !stores.contains(t) {
                if counts[t] == nil { countOrder.append(t) }
                counts[t, default: 0] += 1
            }
        }
        for b in branches {
            for n in b.order where !refs.contains(n) { order.append(n) }
            refs.formUnion(b.refs)
            for (k, v) in b.loads { loads[k] = v }
            stores.formUnion(b.stores)
        }
        for name in countOrder where counts[name]! != branches.count {
            if parent?.findRef(name) == true { loads[name] = .alias } else { loads[name] = .resolve }
        }
    }

    var locals: [(String, InitKind)] { order.compactMap { n in loads[n].map { (n, $0) } } }
}

enum Scoping {
    /// Analyzes the template frame and, recursively, every nested frame.
    static func analyze(_ root: Block) {
        analyzeFrame(root, parent: nil, params: [])
    }

    static func analyzeFrame(_ block: Block, parent: Symbols?, params: [String], prelude: ((Symbols) -> Void)? = nil) {
        let s = Symbols(parent: parent)
        for p in params { s.declareParameter(p) }
        prelude?(s)
        var children: [(Symbols) -> Void] = []
        visitNodes(block.nodes, s, &children)
        block.locals = s.locals
        for child in children { child(s) }
    }

    static func targetNames(_ t: Target) -> [String] {
        switch t {
        case .name(let n): return [n]
        case .attr: return []
        case .tuple(let ts): return ts.flatMap(targetNames)
        }
    }

    static func visitNodes(_ nodes: [Node], _ s: Symbols, _ children: inout [(Symbols) -> Void]) {
        for n in nodes { visitNode(n, s, &children) }
    }

    static func visitTarget(_ t: Target, _ s: Symbols) {
        switch t {
        case .name(let n): s.store(n)
        case .attr(let ns, _): s.load(ns)
        case .tuple(let ts): ts.forEach { visitTarget($0, s) }
        }
    }

    static func visitNode(_ node: Node, _ s: Symbols, _ children: inout [(Symbols) -> Void]) {
        switch node {
        case .text, .breakLoop, .continueLoop:
            break
        case .output(let e):
            visitExpr(e, s)
        case .set(let target, let e):
            visitExpr(e, s)
            visitTarget(target, s)
        case .ifElse(let branches, let otherwise):
            visitIf(branches[...], otherwise, s, &children)
        case .forLoop(let target, let iter, let filter, let body, let otherwise, let test, _):
            visitExpr(iter, s)
            let names = targetNames(target) + ["loop"]
            children.append { parent in analyzeFrame(body, parent: parent, params: names) }
            children.append { parent in analyzeFrame(otherwise, parent: parent, params: []) }
            if let filter {
                children.append { parent in
                    analyzeFrame(test, parent: parent, params: targetNames(target)) { ts in visitExpr(filter, ts) }
                }
            }
        case .setBlock(let name, let body, let filters):
            for (_, a, k) in filters {
                a.forEach { visitExpr($0, s) }
                k.forEach { visitExpr($0.1, s) }
            }
            s.store(name)
            children.append { parent in analyzeFrame(body, parent: parent, params: []) }
        case .macro(let name, let params, let body):
            s.store(name)
            let names = params.map { $0.0 } + ["varargs", "kwargs", "caller"]
            children.append { parent in
                analyzeFrame(body, parent: parent, params: names) { ms in params.compactMap { $0.1 }.forEach { visitExpr($0, ms) } }
            }
        case .callBlock(let call, let params, let body):
            visitExpr(call, s)
            let names = params.map { $0.0 } + ["varargs", "kwargs"]
            children.append { parent in analyzeFrame(body, parent: parent, params: names) }
        case .filterBlock(let filters, let body):
            for (_, a, k) in filters {
                a.forEach { visitExpr($0, s) }
                k.forEach { visitExpr($0.1, s) }
            }
            children.append { parent in analyzeFrame(body, parent: parent, params: []) }
        case .scope(let body):
            children.append { parent in analyzeFrame(body, parent: parent, params: []) }
        }
    }

    /// jinja2 keeps `elif`s as nested `if` nodes inside the first one; mirror that shape.
    static func visitIf(_ branches: ArraySlice<(Expr, [Node])>, _ otherwise: [Node], _ s: Symbols,
        _ children: inout [(Symbols) -> Void])
    {
        guard let first = branches.first else { return }
        visitExpr(first.0, s)
        func inner(_ f: (Symbols) -> Void) -> Symbols {
            let c = s.copy()
            f(c)
            return c
        }
        let body = inner { c in visitNodes(first.1, c, &children) }
        let elifs = inner { c in
            for br in branches.dropFirst() { visitIf([br][...], [], c, &children) }
        }
        let other = inner { c in visitNodes(otherwise, c, &children) }
        s.branchUpdate([body, elifs, other])
    }

    static func visitExpr(_ e: Expr, _ s: Symbols) {
        let v = { (x: Expr) in visitExpr(x, s) }
        switch e {
        case .literal: break
        case .name(let n): s.load(n)
        case .list(let a), .tuple(let a), .concat(let a): a.forEach(v)
        case .dict(let p): p.forEach { v($0.0); v($0.1) }
        case .getattr(let o, _): v(o)
        case .getitem(let o, let k): v(o); v(k)
        case .slice(let o, let a, let b, let c): v(o); [a, b, c].compactMap { $0 }.forEach(v)
        case .call(let f, let a, let k): v(f); a.forEach(v); k.forEach { v($0.1) }
        case .filter(let b, _, let a, let k, _): v(b); a.forEach(v); k.forEach { v($0.1) }
        case .test(let b, _, let a, _, _): v(b); a.forEach(v)
        case .not(let x), .neg(let x), .pos(let x): v(x)
        case .binary(_, let a, let b), .and(let a, let b), .or(let a, let b): v(a); v(b)
        case .compare(let f, let ops): v(f); ops.forEach { v($0.1) }
        case .cond(let t, let a, let b): v(t); v(a); if let b { v(b) }
        }
    }
}
