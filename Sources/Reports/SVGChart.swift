// A line chart as a self-contained SVG string: several series, nice ticks, optional log y axis, legend.
// Pure string building with fixed number formatting, so the same data always gives the same bytes.
import Foundation

package struct ChartPoint: Sendable, Equatable {
    package var x: Double
    package var y: Double
    package init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }
}

package struct ChartSeries: Sendable {
    package var name: String
    package var points: [ChartPoint]
    /// Dashed lines mark baselines and bands (identity, mean +- std) so the eye goes to the solid ones first.
    package var dashed: Bool
    package init(_ name: String, _ points: [ChartPoint], dashed: Bool = false) {
        self.name = name
        self.points = points
        self.dashed = dashed
    }
}

package struct SVGChart: Sendable {
    package var title: String
    package var xLabel: String
    package var yLabel: String
    package var series: [ChartSeries]
    /// Log y axis; values <= 0 cannot be placed on it and break the line like non-finite ones.
    package var logY: Bool
    /// Force 0 onto a linear y axis, for indicators whose distance from 0 is the message (collapse, CV).
    package var includeZero = false
    /// Off when the page already heads the chart with the same title; the SVG <title> stays for tooltips.
    package var showTitle = true
    package var width = 760.0
    package var height = 280.0

    package init(title: String, xLabel: String = "step", yLabel: String = "", series: [ChartSeries], logY: Bool = false)
    {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.logY = logY
    }

    /// Colour-blind-safe (Okabe-Ito) order; series beyond eight reuse colours.
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    let left = 68.0, right = 16.0
    var top: Double { showTitle ? 30 : 10 }
    var legendRows: Int { (series.count + 3) / 4 }
    var bottom: Double { 40 + 18 * Double(legendRows) }
    var plotWidth: Double { width - left - right }
    var plotHeight: Double { height - top - bottom }

    func drawable(_ y: Double) -> Bool { y.isFinite && (!logY || y > 0) }

    /// - Parameter standalone: adds the SVG namespace a separate .svg file needs; inline in HTML5 it is implied,
    ///   and leaving it out keeps the report free of any URL.
    package func render(standalone: Bool = false) -> String {
        let ns = standalone ? " xmlns=\"http://www.w3.org/2000/svg\"" : ""
        var s =
            "<svg\(ns) viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\">\n"
        s += "<title>\(ReportText.html(title))</title>\n"
        if showTitle {
            s +=
                "<text x=\"\(f(left))\" y=\"18\" font-size=\"13\" font-weight=\"bold\">\(ReportText.html(title))</text>\n"
        }
        let xs = series.flatMap { $0.points.map(\.x) }.filter(\.isFinite)
        let ys = series.flatMap { $0.points.map(\.y) }.filter(drawable)
        guard let x0 = xs.min(), let x1 = xs.max(), let y0 = ys.min(), let y1 = ys.max() else {
            s += String(
                format: "<text x=\"%.1f\" y=\"%.1f\" fill=\"#666\">no data</text>\n</svg>", left, top + plotHeight / 2)
            return s
        }
        let xTicks = ChartScale.niceTicks(x0, x1, target: 8)
        let zero = includeZero && !logY
        let yTicks =
            logY
            ? ChartScale.logTicks(y0, y1)
            : ChartScale.niceTicks(zero ? min(y0, 0) : y0, zero ? max(y1, 0) : y1, target: 5)
        let (xa, xb) = (xTicks.first!, xTicks.last!)
        let (ya, yb) = logY ? (log10(yTicks.first!), log10(yTicks.last!)) : (yTicks.first!, yTicks.last!)
        let px = { (x: Double) in self.left + (x - xa) / (xb - xa) * self.plotWidth }
        let py = { (y: Double) in
            let v = self.logY ? log10(y) : y
            return self.top + self.plotHeight - (v - ya) / (yb - ya) * self.plotHeight
        }
        s += axes(xTicks: xTicks, yTicks: yTicks, px: px, py: py)
        for (i, ser) in series.enumerated() {
            s += line(ser, color: Self.palette[i % Self.palette.count], px: px, py: py)
        }
        s += legend()
        s += "</svg>"
        return s
    }

    func axes(xTicks: [Double], yTicks: [Double], px: (Double) -> Double, py: (Double) -> Double) -> String {
        var s = "<g stroke=\"#ddd\" stroke-width=\"1\">\n"
        for t in yTicks {
            s += String(
                format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", left, py(t), left + plotWidth,
                py(t))
        }
        for t in xTicks {
            s += String(
                format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", px(t), top, px(t), top + plotHeight
            )
        }
        s += "</g>\n"
        s += String(
            format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#888\"/>\n",
            left, top, plotWidth, plotHeight)
        s += "<g fill=\"#333\">\n"
        for t in yTicks {
            s += "<text x=\"\(f(left - 5))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(Self.tickLabel(t))</text>\n"
        }
        for t in xTicks {
            s +=
                "<text x=\"\(f(px(t)))\" y=\"\(f(top + plotHeight + 15))\" text-anchor=\"middle\">\(Self.tickLabel(t))</text>\n"
        }
        s +=
            "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(top + plotHeight + 30))\" text-anchor=\"middle\">\(ReportText.html(xLabel))</text>\n"
        if !yLabel.isEmpty {
            let label = ReportText.html(yLabel + (logY ? " (log)" : ""))
            s +=
                "<text transform=\"translate(14 \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(label)</text>\n"
        }
        return s + "</g>\n"
    }

    /// One polyline per series, downsampled to the plot's pixel columns; a gap (non-finite, or <= 0 on a log
    /// axis) starts a new subpath so a missing value is never drawn as a value.
    func line(_ ser: ChartSeries, color: String, px: (Double) -> Double, py: (Double) -> Double) -> String {
        let pts = ChartScale.downsample(ser.points.sorted { $0.x < $1.x }, buckets: Int(plotWidth))
        var d = ""
        var pen = false
        var dots = ""
        let few = pts.filter { drawable($0.y) }.count <= 40
        for p in pts {
            guard p.x.isFinite, drawable(p.y) else {
                pen = false
                continue
            }
            d += "\(pen ? " L" : (d.isEmpty ? "M" : " M"))\(f(px(p.x))) \(f(py(p.y)))"
            pen = true
            // Sparse series (validation every N steps) get markers: a lone point has no line to show it.
            if few { dots += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>", px(p.x), py(p.y)) }
        }
        guard !d.isEmpty else { return "" }
        let dash = ser.dashed ? " stroke-dasharray=\"5 3\"" : ""
        var s = "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"\(dash)/>\n"
        if !dots.isEmpty { s += "<g fill=\"\(color)\">\(dots)</g>\n" }
        return s
    }

    func legend() -> String {
        var s = "<g>\n"
        let colWidth = plotWidth / 4
        for (i, ser) in series.enumerated() {
            let x = left + Double(i % 4) * colWidth
            let y = height - 18 * Double(legendRows - i / 4) + 4
            let color = Self.palette[i % Self.palette.count]
            let dash = ser.dashed ? " stroke-dasharray=\"5 3\"" : ""
            s +=
                "<line x1=\"\(f(x))\" y1=\"\(f(y - 4))\" x2=\"\(f(x + 20))\" y2=\"\(f(y - 4))\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>"
            s += "<text x=\"\(f(x + 25))\" y=\"\(f(y))\">\(ReportText.html(ser.name))</text>\n"
        }
        return s + "</g>\n"
    }

    /// Coordinates with one decimal: a tenth of a pixel is finer than any screen, and short output stays small.
    func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// "%g" keeps labels short (0.3, 250, 1e-05) and hides the last-bit noise of tick arithmetic.
    static func tickLabel(_ v: Double) -> String {
        let s = String(format: "%g", v)
        return s == "-0" ? "0" : s
    }
}
