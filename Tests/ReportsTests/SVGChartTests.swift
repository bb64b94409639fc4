// SVGChart: spikes survive downsampling, ticks are nice, text is escaped, output is deterministic.
import Foundation
import Testing

@testable import Reports

struct SVGChartTests {
    @Test func downsamplingKeepsASingleSpikeAmongTenThousandPoints() {
        var pts = (0..<10_000).map { ChartPoint(Double($0), 1 + 0.01 * Double($0 % 13)) }
        pts[4321].y = 1000
        let kept = ChartScale.downsample(pts, buckets: 600)
        #expect(kept.count <= 4 * 600)
        #expect(kept.contains(ChartPoint(4321, 1000)))
        #expect(kept.first == pts.first && kept.last == pts.last)
        let svg = SVGChart(title: "spike", series: [ChartSeries("y", pts)]).render()
        #expect(svg.contains(">1000</text>"), "the y axis reaches the spike")
        // A few points are drawn as given.
        #expect(ChartScale.downsample(Array(pts.prefix(10)), buckets: 600) == Array(pts.prefix(10)))
    }

    @Test func niceTicks() {
        #expect(ChartScale.niceTicks(1, 300, target: 8) == [0, 50, 100, 150, 200, 250, 300])
        #expect(
            ChartScale.niceTicks(0.013, 0.087).map(SVGChart.tickLabel) == ["0", "0.02", "0.04", "0.06", "0.08", "0.1"])
        let t = ChartScale.niceTicks(-3.2, 4.1)
        #expect(t.first! <= -3.2 && t.last! >= 4.1 && t.count <= 10)
        #expect(ChartScale.niceTicks(5, 5).count >= 2, "a flat series still gets an axis")
        #expect(ChartScale.logTicks(0.03, 2).map(SVGChart.tickLabel) == ["0.02", "0.05", "0.1", "0.2", "0.5", "1", "2"])
        #expect(
            ChartScale.logTicks(1e-5, 30).map(SVGChart.tickLabel) == [
                "1e-05", "0.0001", "0.001", "0.01", "0.1", "1", "10", "100"
            ])
        #expect(SVGChart.tickLabel(0.1 + 0.2) == "0.3")
    }

    @Test func textIsEscapedAndGapsBreakTheLine() {
        let chart = SVGChart(
            title: "a<b & \"c\"",
            series: [
                ChartSeries("x<y>", [ChartPoint(0, 1), ChartPoint(1, .nan), ChartPoint(2, 3), ChartPoint(3, 4)])
            ])
        let svg = chart.render()
        #expect(svg.contains("a&lt;b &amp; &quot;c&quot;"))
        #expect(svg.contains(">x&lt;y&gt;</text>"))
        #expect(!svg.contains("a<b"))
        let path = svg.components(separatedBy: "<path d=\"")[1].components(separatedBy: "\"")[0]
        #expect(path.components(separatedBy: "M").count - 1 == 2, "NaN starts a new subpath: \(path)")
        #expect(svg == chart.render())
        #expect(
            !svg.contains("http") && chart.render(standalone: true).contains("xmlns=\"http://www.w3.org/2000/svg\""))
    }

    @Test func logAxisDropsNonPositiveValuesAndEmptyChartSaysSo() {
        let svg = SVGChart(
            title: "loss", series: [ChartSeries("l", [ChartPoint(1, 0), ChartPoint(2, 0.1), ChartPoint(3, 0.01)])],
            logY: true
        ).render()
        #expect(svg.contains(">0.01</text>") && svg.contains(">0.1</text>"))
        var collapse = SVGChart(
            title: "collapse", series: [ChartSeries("c", [ChartPoint(1, 0.05), ChartPoint(2, 0.07)])])
        #expect(!collapse.render().contains(">0</text>"))
        collapse.includeZero = true
        collapse.showTitle = false
        #expect(collapse.render().contains(">0</text>") && !collapse.render().contains("font-weight=\"bold\""))
        let empty = SVGChart(title: "none", series: [ChartSeries("l", [])]).render()
        #expect(empty.contains(">no data</text>") && empty.hasSuffix("</svg>"))
    }
}

extension ChartPoint: CustomTestStringConvertible {
    public var testDescription: String { "(\(x), \(y))" }
}
