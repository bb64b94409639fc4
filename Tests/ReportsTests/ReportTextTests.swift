// Locale-free number formatting used in every report sentence.
import Testing

@testable import Reports

struct ReportTextTests {
    @Test func formats() {
        #expect(
            ReportText.count(3074) == "3,074" && ReportText.count(122) == "122"
                && ReportText.count(-1_234_567) == "-1,234,567")
        #expect(ReportText.percent(120.0 / 122) == "98%")
        #expect(ReportText.percent(2.0 / 122) == "1.6%")
        #expect(ReportText.percent(0.0012) == "0.12%")
        #expect(ReportText.percent(0.997) == "99.7%")
        #expect(ReportText.percent(1) == "100%" && ReportText.percent(0) == "0%")
        #expect(ReportText.percent(1e-6) == "<0.01%")
        #expect(
            ReportText.number(0.08) == "0.08" && ReportText.number(1.00666) == "1.007"
                && ReportText.number(2e-5) == "2.000e-05")
        #expect(ReportText.number(12345.6) == "12346" && ReportText.number(.nan) == "NaN")
        #expect(ReportText.duration(75) == "1 min 15 s" && ReportText.duration(7500) == "2 h 5 min")
        #expect(ReportText.markdownCell("a|b\nc") == "a\\|b c")
    }
}
