import AppCore
import Domain
import Foundation
import Views

/// The printable report (`Templates/reports/monthly_report.mustache`) from a `MonthlyReport`:
/// the comparison with the previous month, each section's figures, tables and bars per unit,
/// the per-unit table of the main figures, and the trend lines. The same text is stored when a
/// month is closed, so an archived page is served exactly as it was printed.
enum ReportView {
    static func render(_ templates: TemplateLibrary, _ report: MonthlyReport) throws -> String {
        try templates.render(data(report), template: "reports/monthly_report")
    }

    static func data(_ report: MonthlyReport) -> [String: Any] {
        let period = report.period
        var summary: [[String: Any]] = []
        var sections: [[String: Any]] = []
        for (index, section) in report.sections.enumerated() {
            for figure in section.totals where figure.main {
                let before = report.previous[MonthlyReport.Section.key(section.id, figure.item)]
                summary.append(["section": section.title, "item": figure.item, "value": figure.formatted,
                                "previous": before.map { ReportFigure.format($0, decimals: figure.decimals) } ?? "—",
                                "change": before.map { change(figure.value - $0, decimals: figure.decimals) } ?? "—"])
            }
            let figures = section.totals.map { ["item": $0.item, "value": $0.formatted] }
            let tables = section.tables.map(table)
            // Bars per unit for the section's first main figure.
            var chart: Any = false
            if let item = section.mainItems.first, report.units.count > 1 {
                let byUnit = Dictionary(section.figures.filter { $0.item == item && $0.unit != nil }.map { ($0.unit!, $0.value) },
                                        uniquingKeysWith: +)
                let decimals = section.totals.first { $0.item == item }?.decimals ?? 0
                chart = ["title": "\(item)（按\(unitLabel)）",
                         "svg": ReportCharts.bars(title: item, labels: report.units.map(\.name),
                                                  values: report.units.map { byUnit[$0.id] ?? 0 }, decimals: decimals)]
            }
            sections.append(["number": chineseNumber(index + 1), "id": section.id, "title": section.title,
                             "figures": pairs(figures), "tables": tables, "chart": chart])
        }

        // The per-unit table: one column per main figure of every section.
        var columns: [(section: String, item: String)] = []
        for section in report.sections { for item in section.mainItems { columns.append((section.id, item)) } }
        var values: [String: [Int64: ReportFigure]] = [:]
        var totals: [String: ReportFigure] = [:]
        for section in report.sections {
            for figure in section.figures where figure.main {
                let key = MonthlyReport.Section.key(section.id, figure.item)
                if let unit = figure.unit { values[key, default: [:]][unit] = figure } else { totals[key] = figure }
            }
        }
        var units = report.units.map { (id: $0.id, name: $0.name) }
        if values.values.contains(where: { $0[0] != nil }) { units.append((0, "本级")) }
        let unitTables = columnGroups(columns).map { part -> [String: Any] in
            func key(_ column: (section: String, item: String)) -> String { MonthlyReport.Section.key(column.section, column.item) }
            return [
                "columns": part.map { ["name": $0.item] },
                "rows": units.map { unit -> [String: Any] in
                    ["name": unit.name, "cells": part.map { ["value": values[key($0)]?[unit.id]?.formatted ?? "0"] }]
                },
                "totalRow": part.map { ["value": totals[key($0)]?.formatted ?? "0"] },
            ]
        }

        let trends = report.trends.map { trend -> [String: Any] in
            ["title": "\(trend.title)近 \(trend.months.count) 个月走势",
             "svg": ReportCharts.trend(title: trend.title, months: trend.months, series: trend.series.map { ($0.name, $0.values) })]
        }
        return [
            "scopeName": report.scopeName, "monthName": period.chineseName, "month": report.month,
            "previousName": period.previous.chineseName,
            "generatedAt": ChinaDate.display(report.generatedAt),
            "unitLabel": unitLabel,
            "summary": summary, "hasSummary": !summary.isEmpty,
            "sections": sections,
            "unitTables": unitTables, "hasUnits": !report.units.isEmpty && !columns.isEmpty,
            "trends": trends, "hasTrends": !trends.isEmpty,
        ]
    }

    /// At most six figures side by side, so each table fits the width of A4.
    static func columnGroups<T>(_ columns: [T]) -> [[T]] {
        let perTable = 6
        return stride(from: 0, to: columns.count, by: perTable).map { Array(columns[$0..<min($0 + perTable, columns.count)]) }
    }

    static func table(_ t: ReportTable) -> [String: Any] {
        [
            "title": t.title,
            "columns": t.columns.enumerated().map { ["name": $0.element, "num": t.numeric[safe: $0.offset] ?? false] },
            "rows": t.rows.map { row in ["cells": row.enumerated().map { ["text": $0.element, "num": t.numeric[safe: $0.offset] ?? false] }] },
            "hasRows": !t.rows.isEmpty, "empty": t.empty, "span": t.columns.count,
        ]
    }

    /// Figures two to a row, so a section's list stays short on paper.
    static func pairs(_ figures: [[String: String]]) -> [[String: Any]] {
        stride(from: 0, to: figures.count, by: 2).map { start -> [String: Any] in
            ["first": figures[start], "second": start + 1 < figures.count ? figures[start + 1] : false]
        }
    }

    static func change(_ delta: Double, decimals: Int) -> String {
        if delta.isNaN { return "—" }
        let text = ReportFigure.format(abs(delta), decimals: decimals)
        if text == ReportFigure.format(0, decimals: decimals) { return "持平" }
        return (delta > 0 ? "+" : "−") + text
    }

    /// What the units are called: the level below the scope.
    static let unitLabel = "下级网格"

    static func chineseNumber(_ n: Int) -> String {
        let digits = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]
        return n <= 10 ? digits[n] : n < 20 ? "十" + digits[n - 10] : String(n)
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
