import Foundation

/// Charts drawn on the server as inline SVG, legible in black and white: bars in solid black or
/// grey with their values written on them, lines told apart by dash and marker shape rather
/// than colour. Sizes are in user units; the SVG scales to the column's width.
enum ReportCharts {
    /// Horizontal bars, one per unit, with the value at the bar's end.
    static func bars(title: String, labels: [String], values: [Double], decimals: Int = 0) -> String {
        let rowHeight = 18.0, labelWidth = 150.0, chartWidth = 460.0, top = 8.0
        let height = top + Double(labels.count) * rowHeight + 8
        let maximum = max(values.max() ?? 0, 1)
        var svg = """
            <svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(labelWidth + chartWidth + 60)) \(Int(height))" \
            role="img" aria-label="\(escape(title))" font-family="sans-serif" font-size="11">
            """
        for (index, label) in labels.enumerated() {
            let y = top + Double(index) * rowHeight
            let value = index < values.count ? values[index] : 0
            let width = max(value / maximum * chartWidth, value > 0 ? 1 : 0)
            svg += "<text x=\"\(fmt(labelWidth - 6))\" y=\"\(fmt(y + 12))\" text-anchor=\"end\">\(escape(clip(label, 12)))</text>"
            svg += "<rect x=\"\(fmt(labelWidth))\" y=\"\(fmt(y + 3))\" width=\"\(fmt(width))\" height=\"12\" fill=\"#333\" stroke=\"#000\" stroke-width=\"0.5\"/>"
            svg += "<text x=\"\(fmt(labelWidth + width + 4))\" y=\"\(fmt(y + 12))\">\(number(value, decimals))</text>"
        }
        svg += "<line x1=\"\(fmt(labelWidth))\" y1=\"\(fmt(top))\" x2=\"\(fmt(labelWidth))\" y2=\"\(fmt(height - 6))\" stroke=\"#000\" stroke-width=\"1\"/>"
        return svg + "</svg>"
    }

    /// A line per series over the months, each with its own dash pattern and marker, a legend,
    /// and the values of the last month written out.
    static func trend(title: String, months: [String], series: [(name: String, values: [Double])]) -> String {
        let left = 40.0, right = 20.0, top = 26.0, bottom = 28.0, width = 620.0, height = 200.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let maximum = max(series.flatMap(\.values).max() ?? 0, 1)
        let step = months.count > 1 ? plotWidth / Double(months.count - 1) : 0
        func x(_ index: Int) -> Double { left + Double(index) * step }
        func y(_ value: Double) -> Double { top + plotHeight - value / maximum * plotHeight }
        var svg = """
            <svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(height))" \
            role="img" aria-label="\(escape(title))" font-family="sans-serif" font-size="10">
            """
        // Axes and a few grid lines.
        svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(top + plotHeight))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(top + plotHeight))\" stroke=\"#000\"/>"
        svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(top))\" x2=\"\(fmt(left))\" y2=\"\(fmt(top + plotHeight))\" stroke=\"#000\"/>"
        for fraction in [0.5, 1.0] {
            let value = maximum * fraction
            svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(y(value)))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(y(value)))\" stroke=\"#999\" stroke-width=\"0.5\" stroke-dasharray=\"2 2\"/>"
            svg += "<text x=\"\(fmt(left - 4))\" y=\"\(fmt(y(value) + 3))\" text-anchor=\"end\">\(number(value, 0))</text>"
        }
        svg += "<text x=\"\(fmt(left - 4))\" y=\"\(fmt(top + plotHeight + 3))\" text-anchor=\"end\">0</text>"
        for (index, month) in months.enumerated() {
            let label = String(Int(month.suffix(2)) ?? 0) + "月"
            svg += "<text x=\"\(fmt(x(index)))\" y=\"\(fmt(height - 10))\" text-anchor=\"middle\">\(escape(label))</text>"
        }
        let dashes = ["", "6 3", "2 2", "8 3 2 3"]
        for (number, line) in series.enumerated() {
            let dash = dashes[number % dashes.count]
            let points = line.values.enumerated().map { "\(fmt(x($0.offset))),\(fmt(y($0.element)))" }.joined(separator: " ")
            svg += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"#000\" stroke-width=\"1.5\"\(dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"")/>"
            for (index, value) in line.values.enumerated() {
                svg += marker(number, x: x(index), y: y(value))
            }
            // Legend, top left, one entry per series.
            let lx = left + 10 + Double(number) * 150
            svg += "<line x1=\"\(fmt(lx))\" y1=\"10\" x2=\"\(fmt(lx + 24))\" y2=\"10\" stroke=\"#000\" stroke-width=\"1.5\"\(dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"")/>"
            svg += marker(number, x: lx + 12, y: 10)
            let last = line.values.last ?? 0
            svg += "<text x=\"\(fmt(lx + 30))\" y=\"14\">\(escape(line.name))（本月 \(self.number(last, 0))）</text>"
        }
        return svg + "</svg>"
    }

    /// Filled circle, open square, filled triangle, open diamond: told apart without colour.
    static func marker(_ number: Int, x: Double, y: Double) -> String {
        switch number % 4 {
        case 0: return "<circle cx=\"\(fmt(x))\" cy=\"\(fmt(y))\" r=\"2.5\" fill=\"#000\"/>"
        case 1: return "<rect x=\"\(fmt(x - 2.5))\" y=\"\(fmt(y - 2.5))\" width=\"5\" height=\"5\" fill=\"#fff\" stroke=\"#000\"/>"
        case 2: return "<path d=\"M\(fmt(x)) \(fmt(y - 3))L\(fmt(x + 3)) \(fmt(y + 2.5))L\(fmt(x - 3)) \(fmt(y + 2.5))Z\" fill=\"#000\"/>"
        default: return "<path d=\"M\(fmt(x)) \(fmt(y - 3))L\(fmt(x + 3)) \(fmt(y))L\(fmt(x)) \(fmt(y + 3))L\(fmt(x - 3)) \(fmt(y))Z\" fill=\"#fff\" stroke=\"#000\"/>"
        }
    }

    static func fmt(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    static func number(_ value: Double, _ decimals: Int) -> String {
        decimals == 0 ? String(Int64(value.rounded())) : String(format: "%.\(decimals)f", value)
    }

    static func clip(_ text: String, _ length: Int) -> String {
        text.count > length ? String(text.prefix(length - 1)) + "…" : text
    }

    /// XML text and attribute escaping for names that come from the database.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
