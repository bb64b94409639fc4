// Number formatting and escaping shared by the HTML, SVG and Markdown output. Locale-free on purpose:
// the same run must give the same bytes on every machine.
import Foundation

package enum ReportText {
    /// 12345 -> "12,345".
    package static func count(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// A fraction as a percentage with as many decimals as it takes to not read as 0 or 100 when it is not.
    package static func percent(_ f: Double) -> String {
        guard f.isFinite else { return "n/a" }
        let p = f * 100
        if p == 0 || p == 100 { return String(format: "%.0f%%", p) }
        if abs(p) < 0.01 { return p > 0 ? "<0.01%" : ">-0.01%" }
        // 99.7% must not print as 100%, nor 0.3% as 0%.
        let a = abs(p)
        let decimals = a < 1 ? 2 : a < 10 || a > 99 ? 1 : 0
        return String(format: "%.\(decimals)f%%", p)
    }

    /// Four significant digits, plain notation where readable, scientific outside 1e-3 ..< 1e6.
    package static func number(_ v: Double) -> String { number(v, digits: 4) }

    /// `digits` significant digits; an integer part longer than that is kept whole (1234, not 1230).
    package static func number(_ v: Double, digits: Int) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e6 || a < 1e-3 { return String(format: "%.\(digits - 1)e", v) }
        let decimals = max(0, digits - 1 - Int(floor(log10(a))))
        var s = String(format: "%.\(decimals)f", v)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    /// dB values read best with two decimals.
    package static func decibels(_ v: Double) -> String { String(format: "%.2f dB", v) }

    package static func signedDecibels(_ v: Double) -> String { String(format: "%+.2f dB", v) }

    /// Seconds as "42 s", "12 min 5 s" or "3 h 20 min".
    package static func duration(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "n/a" }
        if s < 60 { return String(format: "%.0f s", s) }
        let m = Int(s / 60)
        if m < 60 { return "\(m) min \(Int(s) % 60) s" }
        return "\(m / 60) h \(m % 60) min"
    }

    /// Text for HTML and SVG content and attribute values.
    package static func html(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// A Markdown table cell: pipes would split the cell and newlines the row.
    package static func markdownCell(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
    }

    package static func markdownTable(_ header: [String], _ rows: [[String]]) -> String {
        var lines = ["| " + header.map(markdownCell).joined(separator: " | ") + " |"]
        lines.append("|" + header.map { _ in " --- |" }.joined())
        for r in rows { lines.append("| " + r.map(markdownCell).joined(separator: " | ") + " |") }
        return lines.joined(separator: "\n")
    }
}
