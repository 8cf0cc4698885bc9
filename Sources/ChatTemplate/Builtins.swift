import Foundation

/// Names known at parse time (jinja2 rejects unknown filters and tests when compiling).
enum Builtins {
    static let filters: Set<String> = [
        "abs", "attr", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first", "float", "format",
        "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr",
        "replace", "reverse", "round", "safe", "select", "selectattr", "sort", "string", "sum", "title", "tojson", "trim",
        "unique", "upper", "wordcount", "center", "batch",
    ]
    static let tests: Set<String> = [
        "defined", "undefined", "none", "boolean", "false", "true", "integer", "float", "number", "string", "mapping",
        "iterable", "sequence", "callable", "sameas", "escaped", "odd", "even", "divisibleby", "eq", "equalto", "==", "ne",
        "!=", "lt", "<", "le", "<=", "gt", ">", "ge", ">=", "in", "lower", "upper",
    ]
}

extension Renderer {
    // MARK: helpers

    func length(_ v: Value) throws -> Int {
        switch v {
        case .string(let s): return s.unicodeScalars.count
        case .array(let a), .tuple(let a): return a.count
        case .dict(let d): return d.count
        case .undefined: return 0
        default: throw TemplateError("object of type '\(v.typeName)' has no len()")
        }
    }

    /// jinja2's `make_attrgetter`: dotted path, integer parts index, each step via `getitem`.
    func attrGet(_ item: Value, _ path: Value, default def: Value? = nil) throws -> Value {
        var v = item
        let parts: [Value]
        if case .string(let s) = path {
            parts = s.split(separator: ".", omittingEmptySubsequences: false).map { p in
                if let n = Int(p) { return .int(n) }
                return .string(String(p))
            }
        } else {
            parts = [path]
        }
        for part in parts {
            v = try getItem(v, part)
        }
        if let def, v.isUndefined { return def }
        return v
    }

    /// Lower-cases strings for case-insensitive comparisons (jinja2's `ignore_case`).
    func folded(_ v: Value, _ caseSensitive: Bool) -> Value {
        if !caseSensitive, case .string(let s) = v { return .string(s.lowercased()) }
        return v
    }

    func sortValues(_ items: [Value], key: (Value) throws -> Value, reverse: Bool) throws -> [Value] {
        // Stable merge sort with Python ordering; reverse=True keeps equal items in their original order, as Python does.
        let keyed = try items.map { (try key($0), $0) }
        return try mergeSort(keyed) { a, b in
            let c = try pyCompare(a.0, b.0)
            return reverse ? c > 0 : c < 0
        }.map { $0.1 }
    }

    func mergeSort<T>(_ a: [T], _ less: (T, T) throws -> Bool) throws -> [T] {
        if a.count <= 1 { return a }
        let mid = a.count / 2
        let l = try mergeSort(Array(a[..<mid]), less), r = try mergeSort(Array(a[mid...]), less)
        var out: [T] = []
        out.reserveCapacity(a.count)
        var i = 0, j = 0
        while i < l.count && j < r.count {
            if try less(r[j], l[i]) { out.append(r[j]); j += 1 } else { out.append(l[i]); i += 1 }
        }
        out.append(contentsOf: l[i...])
        out.append(contentsOf: r[j...])
        return out
    }

    func boolArg(_ args: Args, _ i: Int, _ name: String, _ def: Bool) -> Bool {
        args.get(i, name)?.truthy ?? def
    }

    // MARK: filters

    func applyFilter(_ name: String, _ v: Value, _ args: Args, _ scope: Scope) throws -> Value {
        switch name {
        case "default", "d":
            let def = args.get(0, "default_value") ?? .string("")
            let boolean = boolArg(args, 1, "boolean", false)
            if v.isUndefined || (boolean && !v.truthy) { return def }
            return v
        case "safe":
            return v
        case "string":
            return .string(v.str)
        case "trim":
            var chars: String? = nil
            if let c = args.get(0, "chars"), case .string(let s) = c { chars = s }
            return .string(pyStrip(v.str, chars: chars))
        case "upper":
            return .string(v.str.uppercased())
        case "lower":
            return .string(v.str.lowercased())
        case "capitalize":
            return .string(pyCapitalize(v.str))
        case "title":
            return .string(jinjaTitle(v.str))
        case "length", "count":
            return .int(try length(v))
        case "wordcount":
            // Python's `len(re.findall(r"\w+", s))`.
            var count = 0
            var inWord = false
            for u in v.str.unicodeScalars {
                let w = u == "_" || u.properties.isAlphabetic || u.properties.numericType != nil
                if w && !inWord { count += 1 }
                inWord = w
            }
            return .int(count)
        case "first":
            if case .undefined = v { return v }
            return try iterate(v).first ?? .undefined("No first item, sequence was empty.")
        case "last":
            if case .undefined = v { return v }
            return try iterate(v).last ?? .undefined("No last item, sequence was empty.")
        case "list":
            return .array(try iterate(v))
        case "items":
            switch v {
            case .undefined: return .array([])
            case .dict(let d): return .array(d.pairs.map { .tuple([$0.0.value, $0.1]) })
            default: throw TemplateError("Can only get item pairs from a mapping.")
            }
        case "join":
            let sep = args.get(0, "d")?.str ?? ""
            var items = try iterate(v)
            if let attr = args.get(1, "attribute"), !attr.isNone { items = try items.map { try attrGet($0, attr) } }
            return .string(items.map { $0.str }.joined(separator: sep))
        case "tojson":
            let ensureASCII = boolArg(args, 0, "ensure_ascii", false)
            var indent: String? = nil
            if let ind = args.get(1, "indent"), !ind.isNone {
                if case .string(let s) = ind { indent = s } else if let n = ind.integer { indent = String(repeating: " ", count: max(0, n)) } else {
                    throw TemplateError("tojson: indent must be an integer or a string")
                }
            }
            var itemSep = indent == nil ? ", " : ","
            var keySep = ": "
            if let seps = args.get(2, "separators"), !seps.isNone {
                guard let pair = seps.sequence, pair.count == 2, case .string(let a) = pair[0], case .string(let b) = pair[1] else {
                    throw TemplateError("tojson: separators must be a pair of strings")
                }
                itemSep = a
                keySep = b
            }
            let sortKeys = boolArg(args, 3, "sort_keys", false)
            var out = ""
            try jsonDump(v, ensureASCII: ensureASCII, indent: indent, itemSep: itemSep, keySep: keySep, sortKeys: sortKeys, level: 0, into: &out)
            return .string(out)
        case "int":
            if case .undefined(let why) = v { throw TemplateError(why) }
            let def = args.get(0, "default") ?? .int(0)
            let base = args.get(1, "base")?.integer ?? 10
            return pyInt(v, base: base) ?? def
        case "float":
            if case .undefined(let why) = v { throw TemplateError(why) }
            let def = args.get(0, "default") ?? .double(0)
            return pyFloat(v) ?? def
        case "abs":
            switch v {
            case .int(let n):
                if n == Int.min { throw TemplateError("integer overflow") }
                return .int(abs(n))
            case .bool(let b): return .int(b ? 1 : 0)
            case .double(let d): return .double(abs(d))
            case .undefined(let why): throw TemplateError(why)
            default: throw TemplateError("bad operand type for abs(): '\(v.typeName)'")
            }
        case "round":
            let precision = args.get(0, "precision")?.integer ?? 0
            let method = args.get(1, "method")?.str ?? "common"
            guard let x = v.number else {
                if case .undefined(let why) = v { throw TemplateError(why) }
                throw TemplateError("type \(v.typeName) doesn't define __round__ method")
            }
            switch method {
            case "common":
                if v.integer != nil && precision >= 0 { return .int(v.integer!) }
                return .double(pyRound(x, precision))
            case "floor", "ceil":
                let scale = pow(10.0, Double(precision))
                let y = method == "floor" ? (x * scale).rounded(.down) : (x * scale).rounded(.up)
                return .double(y / scale)
            default:
                throw TemplateError("method must be common, ceil or floor")
            }
        case "replace":
            guard let old = args.get(0, "old"), let new = args.get(1, "new") else {
                throw TemplateError("replace() needs 'old' and 'new' arguments")
            }
            let count = args.get(2, "count").flatMap { $0.isNone ? nil : $0.integer } ?? -1
            return .string(pyReplace(v.str, old.str, new.str, count))
        case "indent":
            return .string(try indentFilter(v, args))
        case "center":
            let width = args.get(0, "width")?.integer ?? 80
            return .string(pyCenter(v.str, width))
        case "escape", "e":
            var out = ""
            for ch in v.str.unicodeScalars {
                switch ch {
                case "&": out += "&amp;"
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "\"": out += "&#34;"
                case "'": out += "&#39;"
                default: out.unicodeScalars.append(ch)
                }
            }
            return .string(out)
        case "format":
            if !args.keyword.isEmpty { throw TemplateError("format filter: keyword arguments are not supported") }
            return .string(try percentFormat(v.str, .tuple(args.positional)))
        case "reverse":
            if case .string(let s) = v { return .string(stringFrom(s.unicodeScalars.reversed())) }
            return .array(try iterate(v).reversed())
        case "sort":
            let reverse = boolArg(args, 0, "reverse", false)
            let cs = boolArg(args, 1, "case_sensitive", false)
            let attr = args.get(2, "attribute")
            return .array(try sortValues(try iterate(v), key: { x in
                self.folded(attr.map { a in a.isNone ? x : ((try? self.attrGet(x, a)) ?? x) } ?? x, cs)
            }, reverse: reverse))
        case "dictsort":
            guard case .dict(let d) = v else { throw TemplateError("dictsort: value must be a dict") }
            let cs = boolArg(args, 0, "case_sensitive", false)
            let by = args.get(1, "by")?.str ?? "key"
            let reverse = boolArg(args, 2, "reverse", false)
            let pairs = d.pairs.map { Value.tuple([$0.0.value, $0.1]) }
            return .array(try sortValues(pairs, key: { p in
                guard case .tuple(let kv) = p else { return p }
                return self.folded(by == "value" ? kv[1] : kv[0], cs)
            }, reverse: reverse))
        case "unique":
            let cs = boolArg(args, 0, "case_sensitive", false)
            let attr = args.get(1, "attribute")
            var seen: [Value] = []
            var out: [Value] = []
            for x in try iterate(v) {
                var k = x
                if let attr, !attr.isNone { k = try attrGet(x, attr) }
                k = folded(k, cs)
                switch k {
                case .array, .dict, .namespace: throw TemplateError("unhashable type: '\(k.typeName)'")
                default: break
                }
                if !seen.contains(where: { pyEqual($0, k) }) {
                    seen.append(k)
                    out.append(x)
                }
            }
            return .array(out)
        case "min", "max":
            let cs = boolArg(args, 0, "case_sensitive", false)
            let attr = args.get(1, "attribute")
            let items = try iterate(v)
            guard var best = items.first else { return .undefined("No aggregated item, sequence was empty.") }
            func key(_ x: Value) throws -> Value {
                var k = x
                if let attr, !attr.isNone { k = try attrGet(x, attr) }
                return folded(k, cs)
            }
            for x in items.dropFirst() {
                let c = try pyCompare(try key(x), try key(best))
                if name == "min" ? c < 0 : c > 0 { best = x }
            }
            return best
        case "sum":
            let attr = args.get(0, "attribute")
            var total = args.get(1, "start") ?? .int(0)
            for x in try iterate(v) {
                var item = x
                if let attr, !attr.isNone { item = try attrGet(x, attr) }
                total = try binary("+", total, item)
            }
            return total
        case "map":
            let items = v.truthy ? try iterate(v) : []
            if let attr = args.keyword.first(where: { $0.0 == "attribute" })?.1 {
                let def = args.keyword.first(where: { $0.0 == "default" })?.1
                return .array(try items.map { try attrGet($0, attr, default: def) })
            }
            guard let fname = args.positional.first?.str else { throw TemplateError("map requires a filter argument") }
            guard Builtins.filters.contains(fname) else { throw TemplateError("No filter named '\(fname)'.") }
            let rest = Args(positional: Array(args.positional.dropFirst()), keyword: args.keyword)
            return .array(try items.map { try applyFilter(fname, $0, rest, scope) })
        case "select", "reject":
            let keep = name == "select"
            let items = v.truthy ? try iterate(v) : []
            guard let tname = args.positional.first?.str else { return .array(items.filter { $0.truthy == keep }) }
            let targs = Array(args.positional.dropFirst())
            return .array(try items.filter { try runTest(tname, $0, targs) == keep })
        case "selectattr", "rejectattr":
            let keep = name == "selectattr"
            let items = v.truthy ? try iterate(v) : []
            guard let attr = args.positional.first else { throw TemplateError("\(name) requires an attribute name") }
            if args.positional.count < 2 {
                return .array(try items.filter { try attrGet($0, attr).truthy == keep })
            }
            let tname = args.positional[1].str
            let targs = Array(args.positional.dropFirst(2))
            return .array(try items.filter { try runTest(tname, try attrGet($0, attr), targs) == keep })
        case "attr":
            guard let a = args.get(0, "name") else { throw TemplateError("attr requires a name") }
            // Attributes only (no item lookup), as jinja2's `attr` filter.
            switch v {
            case .undefined(let why): throw TemplateError(why)
            case .namespace: return try getAttr(v, a.str)
            case .dict(let d): return dictMethod(d, a.str) ?? undefinedAttr(v, a)
            case .string(let s): return stringMethod(s, a.str) ?? undefinedAttr(v, a)
            case .array(let l): return listMethod(l, a.str) ?? undefinedAttr(v, a)
            default: return undefinedAttr(v, a)
            }
        case "batch":
            guard let size = args.get(0, "linecount")?.integer, size > 0 else { throw TemplateError("batch requires a positive size") }
            let fill = args.get(1, "fill_with")
            let items = try iterate(v)
            var out: [Value] = []
            var i = 0
            while i < items.count {
                var chunk = Array(items[i..<min(items.count, i + size)])
                if let fill, !fill.isNone, chunk.count < size { chunk += Array(repeating: fill, count: size - chunk.count) }
                out.append(.array(chunk))
                i += size
            }
            return .array(out)
        default:
            throw TemplateError("No filter named '\(name)'.")
        }
    }

    func indentFilter(_ v: Value, _ args: Args) throws -> String {
        var ind = "    "
        if let w = args.get(0, "width") {
            if case .string(let s) = w { ind = s } else if let n = w.integer { ind = String(repeating: " ", count: max(0, n)) }
        }
        let first = boolArg(args, 1, "first", false)
        let blank = boolArg(args, 2, "blank", false)
        // jinja2 appends "\n" to the value itself, so anything but a string is a TypeError.
        guard case .string(let text) = v else {
            if case .undefined(let why) = v { throw TemplateError(why) }
            throw TemplateError("unsupported operand type(s) for +=: '\(v.typeName)' and 'str'")
        }
        let s = text + "\n"
        let lines = pySplitLines(s)
        var rv: String
        if blank {
            rv = lines.joined(separator: "\n" + ind)
        } else {
            rv = lines.first ?? ""
            let rest = lines.dropFirst()
            if !rest.isEmpty {
                rv += "\n" + rest.map { $0.isEmpty ? $0 : ind + $0 }.joined(separator: "\n")
            }
        }
        if first { rv = ind + rv }
        return rv
    }

    // MARK: tests

    func runTest(_ name: String, _ v: Value, _ args: [Value]) throws -> Bool {
        func arg() throws -> Value {
            guard let a = args.first else { throw TemplateError("test '\(name)' needs an argument") }
            return a
        }
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "none": return v.isNone
        case "boolean": if case .bool = v { return true } else { return false }
        case "true": if case .bool(true) = v { return true } else { return false }
        case "false": if case .bool(false) = v { return true } else { return false }
        case "integer": if case .int = v { return true } else { return false }
        case "float": if case .double = v { return true } else { return false }
        case "number": return v.number != nil
        case "string": if case .string = v { return true } else { return false }
        case "mapping": if case .dict = v { return true } else { return false }
        case "iterable":
            switch v {
            case .array, .tuple, .dict, .string, .undefined: return true
            default: return false
            }
        case "sequence":
            switch v {
            case .array, .tuple, .dict, .string, .undefined: return true
            default: return false
            }
        case "callable":
            switch v {
            case .function, .undefined: return true  // jinja2's Undefined defines __call__ (which fails)
            default: return false
            }
        case "escaped": return false
        case "sameas":
            let o = try arg()
            switch (v, o) {
            case (.none, .none), (.undefined, .undefined): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.int(let a), .int(let b)): return a == b && abs(a) < 257
            case (.namespace(let a), .namespace(let b)): return a === b
            case (.function(let a), .function(let b)): return a === b
            default: return false
            }
        case "odd", "even":
            guard let n = v.integer else {
                if case .undefined(let why) = v { throw TemplateError(why) }
                if let d = v.number { return name == "odd" ? fmod(d, 2) == 1 : fmod(d, 2) == 0 }
                throw TemplateError("not all arguments converted during string formatting")
            }
            let r = ((n % 2) + 2) % 2
            return name == "odd" ? r == 1 : r == 0
        case "divisibleby":
            let m = try binary("%", v, try arg())
            return pyEqual(m, .int(0))
        case "eq", "equalto", "==": return pyEqual(v, try arg())
        case "ne", "!=": return !pyEqual(v, try arg())
        case "lt", "<": return try pyCompare(v, try arg()) < 0
        case "le", "<=": return try pyCompare(v, try arg()) <= 0
        case "gt", ">": return try pyCompare(v, try arg()) > 0
        case "ge", ">=": return try pyCompare(v, try arg()) >= 0
        case "in": return try contains(try arg(), v)
        case "lower": return pyIsLower(v.str)
        case "upper": return pyIsUpper(v.str)
        default: throw TemplateError("No test named '\(name)'.")
        }
    }

    // MARK: methods

    func method(_ name: String, _ body: @escaping (Args) throws -> Value) -> Value { .function(Function(name, body)) }

    func unsafeMethod(_ type: String, _ name: String) -> Value {
        method(name) { _ in throw TemplateError("access to attribute '\(name)' of '\(type)' object is unsafe.") }
    }

    func dictMethod(_ d: Dict, _ name: String) -> Value? {
        switch name {
        case "items": return method(name) { _ in .array(d.pairs.map { .tuple([$0.0.value, $0.1]) }) }
        case "keys": return method(name) { _ in .array(d.keys.map { $0.value }) }
        case "values": return method(name) { _ in .array(d.pairs.map { $0.1 }) }
        case "get":
            return method(name) { args in
                guard let k = args.get(0, "key") else { throw TemplateError("get expected at least 1 argument, got 0") }
                let def = args.get(1, "default") ?? .none
                guard let key = try? k.key() else { return def }
                return d[key] ?? def
            }
        case "copy": return method(name) { _ in .dict(d) }
        case "pop", "popitem", "update", "setdefault", "clear": return unsafeMethod("dict", name)
        default: return nil
        }
    }

    func listMethod(_ a: [Value], _ name: String) -> Value? {
        switch name {
        case "count": return method(name) { args in .int(a.filter { pyEqual($0, args.positional.first ?? .none) }.count) }
        case "index":
            return method(name) { args in
                let x = args.positional.first ?? .none
                guard let i = a.firstIndex(where: { pyEqual($0, x) }) else { throw TemplateError("\(x.repr) is not in list") }
                return .int(i)
            }
        case "copy": return method(name) { _ in .array(a) }
        case "append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear": return unsafeMethod("list", name)
        default: return nil
        }
    }

    func stringMethod(_ s: String, _ name: String) -> Value? {
        func str(_ args: Args, _ i: Int, _ n: String) -> String? {
            guard let v = args.get(i, n), !v.isNone else { return nil }
            return v.str
        }
        switch name {
        case "upper": return method(name) { _ in .string(s.uppercased()) }
        case "lower", "casefold": return method(name) { _ in .string(s.lowercased()) }
        case "strip": return method(name) { a in .string(pyStrip(s, chars: str(a, 0, "chars"))) }
        case "lstrip": return method(name) { a in .string(pyStrip(s, chars: str(a, 0, "chars"), right: false)) }
        case "rstrip": return method(name) { a in .string(pyStrip(s, chars: str(a, 0, "chars"), left: false)) }
        case "title": return method(name) { _ in .string(pyTitle(s)) }
        case "capitalize": return method(name) { _ in .string(pyCapitalize(s)) }
        case "swapcase":
            return method(name) { _ in
                .string(s.map { c in
                    let t = String(c)
                    return t.uppercased() == t ? t.lowercased() : t.uppercased()
                }.joined())
            }
        case "startswith", "endswith":
            return method(name) { [unowned self] a in
                guard let p = a.positional.first else { throw TemplateError("\(name) takes at least 1 argument") }
                var u = Array(s.unicodeScalars)
                let lo = a.positional.count > 1 ? a.positional[1].integer : nil
                let hi = a.positional.count > 2 ? a.positional[2].integer : nil
                if lo != nil || hi != nil {
                    if case .string(let sub) = try self.slice(.string(s), lo.map { .int($0) }, hi.map { .int($0) }, nil) {
                        u = Array(sub.unicodeScalars)
                    }
                }
                let prefixes: [Value]
                if case .tuple(let list) = p { prefixes = list } else { prefixes = [p] }
                for pre in prefixes {
                    guard case .string(let x) = pre else {
                        throw TemplateError("\(name) first arg must be str or a tuple of str, not \(pre.typeName)")
                    }
                    let xu = Array(x.unicodeScalars)
                    if xu.count <= u.count && (name == "startswith" ? Array(u[..<xu.count]) == xu : Array(u[(u.count - xu.count)...]) == xu) {
                        return .bool(true)
                    }
                }
                return .bool(false)
            }
        case "split", "rsplit":
            return method(name) { a in
                let sep = str(a, 0, "sep")
                let maxsplit = a.get(1, "maxsplit")?.integer ?? -1
                return .array(try pySplit(s, sep: sep, maxsplit: maxsplit, fromRight: name == "rsplit").map { .string($0) })
            }
        case "splitlines":
            return method(name) { a in
                let keep = a.get(0, "keepends")?.truthy ?? false
                return .array(pySplitLines(s, keepEnds: keep).map { .string($0) })
            }
        case "replace":
            return method(name) { a in
                guard let old = a.get(0, "old"), let new = a.get(1, "new") else {
                    throw TemplateError("replace expected at least 2 arguments")
                }
                guard case .string(let o) = old, case .string(let n) = new else {
                    throw TemplateError("replace() argument must be str")
                }
                return .string(pyReplace(s, o, n, a.get(2, "count")?.integer ?? -1))
            }
        case "join":
            return method(name) { [unowned self] a in
                let items = try self.iterate(a.positional.first ?? .array([]))
                var parts: [String] = []
                for it in items {
                    guard case .string(let x) = it else {
                        throw TemplateError("sequence item \(parts.count): expected str instance, \(it.typeName) found")
                    }
                    parts.append(x)
                }
                return .string(parts.joined(separator: s))
            }
        case "find", "rfind", "index", "rindex", "count":
            return method(name) { a in
                guard case .string(let sub)? = a.positional.first else { throw TemplateError("\(name) expects a string argument") }
                let u = Array(s.unicodeScalars), x = Array(sub.unicodeScalars)
                var hits: [Int] = []
                if x.isEmpty {
                    hits = Array(0...u.count)
                } else if x.count <= u.count {
                    var i = 0
                    while i + x.count <= u.count {
                        if Array(u[i..<i + x.count]) == x {
                            hits.append(i)
                            if name == "count" { i += x.count; continue }
                        }
                        i += 1
                    }
                }
                switch name {
                case "count": return .int(hits.count)
                case "find": return .int(hits.first ?? -1)
                case "rfind": return .int(hits.last ?? -1)
                default:
                    guard let h = name == "index" ? hits.first : hits.last else { throw TemplateError("substring not found") }
                    return .int(h)
                }
            }
        case "isdigit", "isnumeric", "isdecimal":
            return method(name) { _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType != nil }) }
        case "isalpha":
            return method(name) { _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic }) }
        case "isalnum":
            return method(name) { _ in
                .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil })
            }
        case "isspace": return method(name) { _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(pyIsSpace)) }
        case "isupper": return method(name) { _ in .bool(pyIsUpper(s)) }
        case "islower": return method(name) { _ in .bool(pyIsLower(s)) }
        case "removeprefix", "removesuffix":
            return method(name) { a in
                let x = a.positional.first?.str ?? ""
                if name == "removeprefix", s.hasPrefix(x) { return .string(String(s.dropFirst(x.count))) }
                if name == "removesuffix", s.hasSuffix(x), !x.isEmpty { return .string(String(s.dropLast(x.count))) }
                return .string(s)
            }
        case "center": return method(name) { a in .string(pyCenter(s, a.positional.first?.integer ?? 0)) }
        case "zfill":
            return method(name) { a in
                let w = a.positional.first?.integer ?? 0
                let u = Array(s.unicodeScalars)
                guard u.count < w else { return .string(s) }
                let pad = String(repeating: "0", count: w - u.count)
                if let f = u.first, f == "-" || f == "+" { return .string(String(f) + pad + stringFrom(u.dropFirst())) }
                return .string(pad + s)
            }
        case "format":
            return method(name) { a in .string(try pyFormat(s, a)) }
        default:
            return nil
        }
    }
}

// MARK: - Python string helpers

func pyCapitalize(_ s: String) -> String {
    guard let f = s.unicodeScalars.first else { return s }
    return String(f).uppercased() + stringFrom(s.unicodeScalars.dropFirst()).lowercased()
}

/// Python `str.title()`: upper-case after any non-cased character, lower-case after a cased one.
func pyTitle(_ s: String) -> String {
    var out = ""
    var prevCased = false
    for u in s.unicodeScalars {
        out += prevCased ? String(u).lowercased() : String(u).uppercased()
        prevCased = u.properties.isCased
    }
    return out
}

/// jinja2's `title` filter: words split at runs of `-`, whitespace, `(`, `{`, `[`, `<`.
func jinjaTitle(_ s: String) -> String {
    var out = ""
    var word = String.UnicodeScalarView()
    func isSep(_ u: Unicode.Scalar) -> Bool { pyIsSpace(u) || u == "-" || u == "(" || u == "{" || u == "[" || u == "<" }
    func flush() {
        if let f = word.first {
            out += String(f).uppercased() + stringFrom(word.dropFirst()).lowercased()
        }
        word = String.UnicodeScalarView()
    }
    for u in s.unicodeScalars {
        if isSep(u) {
            flush()
            out.unicodeScalars.append(u)
        } else {
            word.append(u)
        }
    }
    flush()
    return out
}

func pyIsUpper(_ s: String) -> Bool {
    var cased = false
    for u in s.unicodeScalars where u.properties.isCased {
        if u.properties.isLowercase { return false }
        cased = true
    }
    return cased
}

func pyIsLower(_ s: String) -> Bool {
    var cased = false
    for u in s.unicodeScalars where u.properties.isCased {
        if u.properties.isUppercase { return false }
        cased = true
    }
    return cased
}

func pyCenter(_ s: String, _ width: Int) -> String {
    let n = s.unicodeScalars.count
    guard width > n else { return s }
    let marg = width - n
    let left = marg / 2 + (marg & width & 1)
    return String(repeating: " ", count: left) + s + String(repeating: " ", count: marg - left)
}

/// Python `str.replace(old, new, count)` on code points.
func pyReplace(_ s: String, _ old: String, _ new: String, _ count: Int) -> String {
    let u = Array(s.unicodeScalars), o = Array(old.unicodeScalars)
    var out = String.UnicodeScalarView()
    var done = 0
    if o.isEmpty {
        // Python inserts `new` between every character (and at both ends).
        for (i, c) in u.enumerated() {
            if count < 0 || done < count { out.append(contentsOf: new.unicodeScalars); done += 1 }
            out.append(c)
            _ = i
        }
        if count < 0 || done < count { out.append(contentsOf: new.unicodeScalars) }
        return String(out)
    }
    var i = 0
    while i < u.count {
        if (count < 0 || done < count) && i + o.count <= u.count && Array(u[i..<i + o.count]) == o {
            out.append(contentsOf: new.unicodeScalars)
            i += o.count
            done += 1
        } else {
            out.append(u[i])
            i += 1
        }
    }
    return String(out)
}

/// Python `str.split` / `str.rsplit`.
func pySplit(_ s: String, sep: String?, maxsplit: Int, fromRight: Bool) throws -> [String] {
    let u = Array(s.unicodeScalars)
    if let sep {
        let x = Array(sep.unicodeScalars)
        if x.isEmpty { throw TemplateError("empty separator") }
        var parts: [String] = []
        if !fromRight {
            var start = 0, i = 0
            while i + x.count <= u.count {
                if (maxsplit < 0 || parts.count < maxsplit) && Array(u[i..<i + x.count]) == x {
                    parts.append(stringFrom(u[start..<i]))
                    i += x.count
                    start = i
                } else {
                    i += 1
                }
            }
            parts.append(stringFrom(u[start...]))
            return parts
        }
        var end = u.count, i = u.count - x.count
        while i >= 0 {
            if (maxsplit < 0 || parts.count < maxsplit) && Array(u[i..<i + x.count]) == x {
                parts.append(stringFrom(u[(i + x.count)..<end]))
                end = i
                i -= x.count
            } else {
                i -= 1
            }
        }
        parts.append(stringFrom(u[0..<end]))
        return parts.reversed()
    }
    // Whitespace splitting: runs of whitespace separate, no empty strings.
    if !fromRight {
        var parts: [String] = []
        var i = 0
        while i < u.count {
            while i < u.count, pyIsSpace(u[i]) { i += 1 }
            if i >= u.count { break }
            if maxsplit >= 0 && parts.count == maxsplit {
                var end = u.count
                while end > i, pyIsSpace(u[end - 1]) { end -= 1 }
                parts.append(stringFrom(u[i..<end]))
                return parts
            }
            let st = i
            while i < u.count, !pyIsSpace(u[i]) { i += 1 }
            parts.append(stringFrom(u[st..<i]))
        }
        return parts
    }
    var parts: [String] = []
    var i = u.count
    while i > 0 {
        while i > 0, pyIsSpace(u[i - 1]) { i -= 1 }
        if i == 0 { break }
        if maxsplit >= 0 && parts.count == maxsplit {
            var st = 0
            while st < i, pyIsSpace(u[st]) { st += 1 }
            parts.append(stringFrom(u[st..<i]))
            return parts.reversed()
        }
        let end = i
        while i > 0, !pyIsSpace(u[i - 1]) { i -= 1 }
        parts.append(stringFrom(u[i..<end]))
    }
    return parts.reversed()
}

/// Python `str.splitlines()`.
func pySplitLines(_ s: String, keepEnds: Bool = false) -> [String] {
    let u = Array(s.unicodeScalars)
    var out: [String] = []
    var start = 0, i = 0
    while i < u.count {
        let c = u[i].value
        let isBreak = c == 0x0A || c == 0x0D || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E || c == 0x85
            || c == 0x2028 || c == 0x2029
        if isBreak {
            var end = i + 1
            if c == 0x0D, i + 1 < u.count, u[i + 1] == "\n" { end = i + 2 }
            out.append(stringFrom(u[start..<(keepEnds ? end : i)]))
            start = end
            i = end
        } else {
            i += 1
        }
    }
    if start < u.count { out.append(stringFrom(u[start...])) }
    return out
}

/// Python `int(value)` as jinja2's `int` filter uses it (strings may hold a float, as in "42.23").
func pyInt(_ v: Value, base: Int) -> Value? {
    switch v {
    case .int: return v
    case .bool(let b): return .int(b ? 1 : 0)
    case .double(let d):
        guard d.isFinite, abs(d) < 9.2e18 else { return nil }
        return .int(Int(d.rounded(.towardZero)))
    case .string(let s):
        let t = pyStrip(s).replacingOccurrences(of: "_", with: "")
        var body = t
        var sign = 1
        if body.hasPrefix("-") { sign = -1; body.removeFirst() } else if body.hasPrefix("+") { body.removeFirst() }
        var b = base
        let lower = body.lowercased()
        if (b == 16 || b == 0) && lower.hasPrefix("0x") { body = String(body.dropFirst(2)); b = 16 }
        else if (b == 8 || b == 0) && lower.hasPrefix("0o") { body = String(body.dropFirst(2)); b = 8 }
        else if (b == 2 || b == 0) && lower.hasPrefix("0b") { body = String(body.dropFirst(2)); b = 2 }
        if b == 0 { b = 10 }
        if !body.isEmpty, let n = Int(body, radix: b) { return .int(sign * n) }
        if let f = pyFloat(v), case .double(let d) = f, d.isFinite, abs(d) < 9.2e18 { return .int(Int(d.rounded(.towardZero))) }
        return nil
    default: return nil
    }
}

/// Python `float(value)`.
func pyFloat(_ v: Value) -> Value? {
    switch v {
    case .double: return v
    case .int(let n): return .double(Double(n))
    case .bool(let b): return .double(b ? 1 : 0)
    case .string(let s):
        let t = pyStrip(s).replacingOccurrences(of: "_", with: "").lowercased()
        switch t {
        case "inf", "+inf", "infinity", "+infinity": return .double(.infinity)
        case "-inf", "-infinity": return .double(-.infinity)
        case "nan", "+nan", "-nan": return .double(.nan)
        default:
            guard !t.isEmpty, t.allSatisfy({ "0123456789.e+-".contains($0) }), let d = Double(t) else { return nil }
            return .double(d)
        }
    default: return nil
    }
}

/// Python `round(x, n)` for floats: correctly rounded from the exact binary value, ties to even.
func pyRound(_ x: Double, _ n: Int) -> Double {
    guard x.isFinite else { return x }
    if n >= 0 {
        let s = String(format: "%.\(min(n, 300))f", x)
        return Double(s) ?? x
    }
    let scale = pow(10.0, Double(-n))
    return (x / scale).rounded(.toNearestOrEven) * scale
}

/// Python `str.format` with `{}`, `{0}`, `{name}`, attribute/index lookups not supported; `{{`/`}}` escapes.
func pyFormat(_ fmt: String, _ args: Args) throws -> String {
    var out = ""
    let u = Array(fmt.unicodeScalars)
    var i = 0
    var auto = 0
    while i < u.count {
        let c = u[i]
        if c == "{" {
            if i + 1 < u.count, u[i + 1] == "{" {
                out += "{"
                i += 2
                continue
            }
            var j = i + 1
            while j < u.count, u[j] != "}" { j += 1 }
            guard j < u.count else { throw TemplateError("Single '{' encountered in format string") }
            var field = stringFrom(u[(i + 1)..<j])
            var spec = ""
            if let colon = field.firstIndex(of: ":") {
                spec = String(field[field.index(after: colon)...])
                field = String(field[..<colon])
            }
            let v: Value
            if field.isEmpty {
                guard auto < args.positional.count else { throw TemplateError("Replacement index \(auto) out of range for positional args tuple") }
                v = args.positional[auto]
                auto += 1
            } else if let n = Int(field) {
                guard n < args.positional.count else { throw TemplateError("Replacement index \(n) out of range for positional args tuple") }
                v = args.positional[n]
            } else {
                guard let kv = args.keyword.first(where: { $0.0 == field }) else { throw TemplateError("KeyError: '\(field)'") }
                v = kv.1
            }
            if !spec.isEmpty { throw TemplateError("format specs are not supported ('\(spec)')") }
            out += v.str
            i = j + 1
        } else if c == "}" {
            if i + 1 < u.count, u[i + 1] == "}" {
                out += "}"
                i += 2
                continue
            }
            throw TemplateError("Single '}' encountered in format string")
        } else {
            out.unicodeScalars.append(c)
            i += 1
        }
    }
    return out
}

// MARK: - JSON (Python json.dumps)

/// Writes `v` the way Python's `json.dumps(v, ensure_ascii=..., indent=..., separators=..., sort_keys=...)` does.
func jsonDump(_ v: Value, ensureASCII: Bool, indent: String?, itemSep: String, keySep: String, sortKeys: Bool, level: Int,
    into out: inout String) throws
{
    switch v {
    case .none: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let n): out += String(n)
    case .double(let d):
        if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else { out += pyFloatRepr(d) }
    case .string(let s): jsonString(s, ensureASCII: ensureASCII, into: &out)
    case .array(let a), .tuple(let a):
        if a.isEmpty { out += "[]"; return }
        out += "["
        let (open, sep, close) = jsonLayout(indent, itemSep, level)
        out += open
        for (i, x) in a.enumerated() {
            if i > 0 { out += sep }
            try jsonDump(x, ensureASCII: ensureASCII, indent: indent, itemSep: itemSep, keySep: keySep, sortKeys: sortKeys, level: level + 1, into: &out)
        }
        out += close + "]"
    case .dict(let d):
        if d.count == 0 { out += "{}"; return }
        var pairs = d.pairs
        if sortKeys {
            var err: Error? = nil
            pairs.sort { a, b in
                do { return try pyCompare(a.0.value, b.0.value) < 0 } catch { err = error; return false }
            }
            if let err { throw err }
        }
        out += "{"
        let (open, sep, close) = jsonLayout(indent, itemSep, level)
        out += open
        for (i, (k, x)) in pairs.enumerated() {
            if i > 0 { out += sep }
            switch k {
            case .str(let s): jsonString(s, ensureASCII: ensureASCII, into: &out)
            case .int(let n): out += "\"\(n)\""
            }
            out += keySep
            try jsonDump(x, ensureASCII: ensureASCII, indent: indent, itemSep: itemSep, keySep: keySep, sortKeys: sortKeys, level: level + 1, into: &out)
        }
        out += close + "}"
    case .undefined:
        throw TemplateError("Object of type Undefined is not JSON serializable")
    case .namespace:
        throw TemplateError("Object of type Namespace is not JSON serializable")
    case .function:
        throw TemplateError("Object of type function is not JSON serializable")
    }
}

func jsonLayout(_ indent: String?, _ itemSep: String, _ level: Int) -> (String, String, String) {
    guard let indent else { return ("", itemSep, "") }
    let inner = "\n" + String(repeating: indent, count: level + 1)
    let outer = "\n" + String(repeating: indent, count: level)
    return (inner, itemSep + inner, outer)
}

func jsonString(_ s: String, ensureASCII: Bool, into out: inout String) {
    out += "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        default:
            if u.value < 0x20 || (ensureASCII && u.value > 0x7E) {
                if u.value > 0xFFFF {
                    let v = u.value - 0x10000
                    out += "\\u" + hex(0xD800 + (v >> 10), 4) + "\\u" + hex(0xDC00 + (v & 0x3FF), 4)
                } else {
                    out += "\\u" + hex(u.value, 4)
                }
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    out += "\""
}
