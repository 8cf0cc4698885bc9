import Foundation

/// Escaping for the report's output formats.
public enum Escape {
    /// Text safe inside HTML/SVG element content and quoted attribute values.
    public static func html(_ s: String) -> String {
        // Fast path: nothing to escape.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 38 || $0 == 60 || $0 == 62 || $0 == 34 || $0 == 39 }) { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Drop C0 controls other than tab/newline/CR: they are not allowed in HTML text.
                if ch.value < 0x20 && ch != "\n" && ch != "\t" && ch != "\r" { out += "\u{FFFD}" } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }

    /// A CSV field, quoted when needed (RFC 4180).
    public static func csv(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || s.hasPrefix(" ") || s.hasSuffix(" ") else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Text safe in a Markdown table cell: `&`, `<` and `>` as entities (no raw HTML from user text), `|`
    /// escaped, newlines as spaces; quotes and apostrophes stay readable.
    public static func markdownCell(_ s: String) -> String {
        html(s).replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}

/// Small SVG plot builders (no dependencies; every label escaped).
enum SVG {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"]

    static func n(_ x: Double) -> String { String(format: "%.1f", x) }

    /// One row of an interval plot.
    struct Row {
        var label: String
        var estimate: Double
        var low: Double
        var high: Double
        /// An optional wider interval (drawn thin), e.g. the multiplicity-adjusted one.
        var outerLow: Double? = nil
        var outerHigh: Double? = nil
        var color: String = "#333"
        /// Extra space before this row (group separators).
        var gapBefore: Bool = false
        var tooltip: String = ""
        var cssClass: String = "pt"
        /// A group heading drawn on its own line above this row.
        var heading: String? = nil
    }

    /// A horizontal interval plot: one row per estimate, a vertical reference line at `reference`,
    /// an optional shaded band (equivalence margin).
    static func intervals(_ rows: [Row], xMin: Double? = nil, xMax: Double? = nil, reference: Double? = 0,
                          band: Double? = nil, title: String, xLabel: String, labelWidth: Double = 260) -> String {
        let rowH = 16.0, top = 30.0, bottom = 40.0, plotW = 460.0, right = 20.0
        var y = top
        var ys: [Double] = []
        var headings: [(String, Double)] = []
        for r in rows {
            if r.gapBefore { y += 8 }
            if let h = r.heading { y += 14; headings.append((h, y - 3)) }
            ys.append(y + rowH / 2); y += rowH
        }
        let height = y + bottom
        let finite = rows.flatMap { [$0.estimate, $0.low, $0.high, $0.outerLow ?? $0.low, $0.outerHigh ?? $0.high] }.filter(\.isFinite)
        var lo = xMin ?? min(finite.min() ?? 0, reference ?? 0, -(band ?? 0))
        var hi = xMax ?? max(finite.max() ?? 1, reference ?? 0, band ?? 0)
        if hi - lo < 1e-9 { lo -= 0.5; hi += 0.5 }
        let pad = xMin == nil ? (hi - lo) * 0.04 : 0
        lo -= pad; hi += pad
        let x0 = labelWidth, width = labelWidth + plotW + right
        func X(_ v: Double) -> Double { x0 + (min(max(v, lo), hi) - lo) / (hi - lo) * plotW }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) \(n(height))\" role=\"img\" aria-label=\"\(Escape.html(title))\">"
        s += "<text x=\"4\" y=\"16\" class=\"ptitle\">\(Escape.html(title))</text>"
        if let b = band, b > 0 {
            s += "<rect class=\"band\" x=\"\(n(X(-b)))\" y=\"\(n(top))\" width=\"\(n(X(b) - X(-b)))\" height=\"\(n(y - top))\" fill=\"#eee\"/>"
        }
        // Axis and ticks.
        s += "<line x1=\"\(n(x0))\" y1=\"\(n(y))\" x2=\"\(n(x0 + plotW))\" y2=\"\(n(y))\" stroke=\"#444\"/>"
        for t in ticks(lo, hi) {
            s += "<line x1=\"\(n(X(t)))\" y1=\"\(n(y))\" x2=\"\(n(X(t)))\" y2=\"\(n(y + 4))\" stroke=\"#444\"/>"
            s += "<text x=\"\(n(X(t)))\" y=\"\(n(y + 16))\" class=\"tick\" text-anchor=\"middle\">\(Escape.html(tickLabel(t)))</text>"
        }
        s += "<text x=\"\(n(x0 + plotW / 2))\" y=\"\(n(y + 32))\" class=\"axis\" text-anchor=\"middle\">\(Escape.html(xLabel))</text>"
        if let r = reference, r >= lo, r <= hi {
            s += "<line class=\"ref\" x1=\"\(n(X(r)))\" y1=\"\(n(top - 4))\" x2=\"\(n(X(r)))\" y2=\"\(n(y))\" stroke=\"#888\" stroke-dasharray=\"3,3\"/>"
        }
        for (h, hy) in headings {
            s += "<text x=\"4\" y=\"\(n(hy))\" class=\"grp\">\(Escape.html(h))</text>"
        }
        for (r, yy) in zip(rows, ys) {
            s += "<g class=\"\(Escape.html(r.cssClass))\"><title>\(Escape.html(r.tooltip.isEmpty ? r.label : r.tooltip))</title>"
            s += "<text x=\"\(n(x0 - 6))\" y=\"\(n(yy + 4))\" class=\"lbl\" text-anchor=\"end\">\(Escape.html(r.label))</text>"
            if let ol = r.outerLow, let oh = r.outerHigh, ol.isFinite, oh.isFinite {
                s += "<line x1=\"\(n(X(ol)))\" y1=\"\(n(yy))\" x2=\"\(n(X(oh)))\" y2=\"\(n(yy))\" stroke=\"\(r.color)\" stroke-width=\"1\" opacity=\"0.6\"/>"
            }
            if r.low.isFinite, r.high.isFinite {
                s += "<line x1=\"\(n(X(r.low)))\" y1=\"\(n(yy))\" x2=\"\(n(X(r.high)))\" y2=\"\(n(yy))\" stroke=\"\(r.color)\" stroke-width=\"3\"/>"
            }
            if r.estimate.isFinite {
                s += "<circle cx=\"\(n(X(r.estimate)))\" cy=\"\(n(yy))\" r=\"4\" fill=\"\(r.color)\"/>"
            }
            s += "</g>"
        }
        return s + "</svg>"
    }

    /// Line chart of loss curves.
    static func lines(_ series: [(label: String, color: String, points: [(Double, Double)])], title: String,
                      xLabel: String, yLabel: String) -> String {
        let width = 640.0, height = 300.0, l = 60.0, r = 170.0, t = 30.0, b = 40.0
        let xs = series.flatMap { $0.points.map(\.0) }.filter(\.isFinite), ys = series.flatMap { $0.points.map(\.1) }.filter(\.isFinite)
        var x0 = xs.min() ?? 0, x1 = xs.max() ?? 1, y0 = ys.min() ?? 0, y1 = ys.max() ?? 1
        if x1 - x0 < 1e-12 { x1 = x0 + 1 }
        if y1 - y0 < 1e-12 { y0 -= 0.5; y1 += 0.5 }
        let pw = width - l - r, ph = height - t - b
        func X(_ v: Double) -> Double { l + (v - x0) / (x1 - x0) * pw }
        func Y(_ v: Double) -> Double { t + (1 - (v - y0) / (y1 - y0)) * ph }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot loss\" width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) \(n(height))\" role=\"img\" aria-label=\"\(Escape.html(title))\">"
        s += "<text x=\"4\" y=\"16\" class=\"ptitle\">\(Escape.html(title))</text>"
        s += "<line x1=\"\(n(l))\" y1=\"\(n(t + ph))\" x2=\"\(n(l + pw))\" y2=\"\(n(t + ph))\" stroke=\"#444\"/>"
        s += "<line x1=\"\(n(l))\" y1=\"\(n(t))\" x2=\"\(n(l))\" y2=\"\(n(t + ph))\" stroke=\"#444\"/>"
        for v in ticks(x0, x1) {
            s += "<text x=\"\(n(X(v)))\" y=\"\(n(t + ph + 16))\" class=\"tick\" text-anchor=\"middle\">\(Escape.html(tickLabel(v)))</text>"
        }
        for v in ticks(y0, y1) {
            s += "<text x=\"\(n(l - 6))\" y=\"\(n(Y(v) + 4))\" class=\"tick\" text-anchor=\"end\">\(Escape.html(tickLabel(v)))</text>"
            s += "<line x1=\"\(n(l))\" y1=\"\(n(Y(v)))\" x2=\"\(n(l + pw))\" y2=\"\(n(Y(v)))\" stroke=\"#eee\"/>"
        }
        s += "<text x=\"\(n(l + pw / 2))\" y=\"\(n(height - 6))\" class=\"axis\" text-anchor=\"middle\">\(Escape.html(xLabel))</text>"
        s += "<text x=\"12\" y=\"\(n(t + ph / 2))\" class=\"axis\" text-anchor=\"middle\" transform=\"rotate(-90 12 \(n(t + ph / 2)))\">\(Escape.html(yLabel))</text>"
        for (i, sr) in series.enumerated() {
            let pts = sr.points.filter { $0.0.isFinite && $0.1.isFinite }.map { "\(n(X($0.0))),\(n(Y($0.1)))" }.joined(separator: " ")
            s += "<polyline class=\"curve\" fill=\"none\" stroke=\"\(sr.color)\" stroke-width=\"1.5\" points=\"\(pts)\"><title>\(Escape.html(sr.label))</title></polyline>"
            let ly = t + 12 + Double(i) * 14
            if ly < height - 10 {
                s += "<line x1=\"\(n(width - r + 10))\" y1=\"\(n(ly - 4))\" x2=\"\(n(width - r + 28))\" y2=\"\(n(ly - 4))\" stroke=\"\(sr.color)\" stroke-width=\"2\"/>"
                s += "<text x=\"\(n(width - r + 32))\" y=\"\(n(ly))\" class=\"tick\">\(Escape.html(sr.label))</text>"
            }
        }
        return s + "</svg>"
    }

    /// About five round tick values covering [lo, hi].
    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [] }
        let raw = (hi - lo) / 5, mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var out: [Double] = []
        var v = ceil(lo / step) * step
        while v <= hi + step * 1e-9 { out.append(abs(v) < step * 1e-9 ? 0 : v); v += step }
        return out
    }

    static func tickLabel(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
        return String(format: "%g", (v * 1e6).rounded() / 1e6)
    }
}
