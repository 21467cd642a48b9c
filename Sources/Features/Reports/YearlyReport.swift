import AppCore
import Domain
import Foundation
import GRDB

/// `/reports/yearly`: the year's 总结 built from its months, each month's figures taken from
/// its archived snapshot when the month was closed (what was signed), otherwise read live.
/// Counts of the month are added up, levels at a month's end are taken from the last month,
/// rates are shown per month only.
enum YearlyReport {
    struct Summary {
        let scopeName: String
        let year: Int
        let months: [ReportPeriod]
        /// Per month: its sections, and whether they come from an archive.
        let reports: [(sections: [MonthlyReport.Section], archived: Bool)]
    }

    static func build(_ ctx: Context, scope: ReportScope, year: Int) throws -> Summary {
        let now = ReportPeriod.of(ctx.clock.now)
        let months = (1...12).compactMap { ReportPeriod(year: year, month: $0) }.filter { $0.text <= now.text }
        let contributions = try ReportBuilder.prepared(ctx.env.modules, ctx.database)
        let reports = try ctx.database.read { db in
            try months.map { month -> (sections: [MonthlyReport.Section], archived: Bool) in
                if let gridID = scope.gridID, let frozen = try ReportArchive.current(db, gridID: gridID, month: month.text)?.report {
                    return (frozen.sections, true)
                }
                return (try ReportBuilder.compute(db, contributions, ReportQuery(period: month, scope: scope, detail: false, now: ctx.clock.now)), false)
            }
        }
        return Summary(scopeName: scope.name, year: year, months: months, reports: reports)
    }

    static func data(_ s: Summary) -> [String: Any] {
        // The main totals, in the order of the sections of the latest month.
        var columns: [(section: String, title: String, item: String, kind: ReportFigure.Kind, decimals: Int)] = []
        for report in s.reports.reversed() {
            for section in report.sections {
                for figure in section.totals where figure.main
                    && !columns.contains(where: { $0.section == section.id && $0.item == figure.item }) {
                    columns.append((section.id, section.title, figure.item, figure.kind, figure.decimals))
                }
            }
            if !columns.isEmpty { break }
        }
        func value(_ report: (sections: [MonthlyReport.Section], archived: Bool), _ column: (section: String, title: String, item: String, kind: ReportFigure.Kind, decimals: Int)) -> Double? {
            report.sections.first { $0.id == column.section }?.totals.first { $0.item == column.item }?.value
        }
        let monthTables = ReportView.columnGroups(columns).map { part -> [String: Any] in
            [
                "columns": part.map { ["name": $0.item] },
                "rows": zip(s.months, s.reports).map { month, report -> [String: Any] in
                    ["month": month.shortName, "archived": report.archived,
                     "cells": part.map { column in
                         ["value": value(report, column).map { ReportFigure.format($0, decimals: column.decimals) } ?? "—"]
                     }]
                },
            ]
        }
        let totals = columns.map { column -> [String: Any] in
            let values = s.reports.compactMap { value($0, column) }
            let total: Double? = switch column.kind {
            case .count: values.reduce(0, +)
            case .level: values.last
            case .rate: nil
            }
            return ["section": column.title, "item": column.item, "kind": column.kind == .level ? "年末" : "全年合计",
                    "value": total.map { ReportFigure.format($0, decimals: column.decimals) } ?? "—", "isRate": column.kind == .rate]
        }
        return [
            "scopeName": s.scopeName, "year": String(s.year),
            "monthTables": monthTables, "hasRows": !s.months.isEmpty,
            "totals": totals.filter { !($0["isRate"] as? Bool ?? false) },
            "archivedCount": s.reports.filter(\.archived).count,
        ]
    }
}
