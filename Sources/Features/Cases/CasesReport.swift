import AppCore
import Domain
import Foundation
import GRDB

/// The cases' part of the monthly report 诉求办理: the month's cases per grid (reported,
/// accepted in time, resolved in time, resolved), the rates of `CaseRates` (the rates page's
/// one definition), tables by category and by unit, the cases overdue at the month's end, and a
/// 12-month trend of cases reported and resolved.
enum CasesReport {
    static let sections = [ReportSection(id: "cases", title: "诉求办理", order: 60, figures: figures, trend: trend)]

    /// The rows of the overdue list printed; the rest are counted.
    static let overdueListed = 30

    @Sendable static func figures(_ db: Database, _ q: ReportQuery) throws -> ReportSectionResult {
        let month = q.period.text
        // What is overdue depends on the hour: a month not yet over is read as of now.
        let end = Int64(min(q.now, ChinaDate.startOfDay(q.period.nextFirstDay) ?? q.now).timeIntervalSince1970)
        let now = Int64(q.now.timeIntervalSince1970)
        let groupings: [CaseRates.Grouping] = q.detail ? [.total, .childGrid, .unit, .category] : [.total, .childGrid]
        // The report prints averages, not percentiles: no pass over the month's cases.
        let figures = try CaseRates.figures(db, scopePath: q.scope.path, firstMonth: month, lastMonth: month, groupings: groupings,
                                            percentiles: false, now: now)
        let total = figures[.total]?.first ?? CaseRates.Figures(key: "0")
        let byGrid = figures[.childGrid] ?? []
        var result = ReportSectionResult()
        func perGrid(_ value: (CaseRates.Figures) -> Int) -> [(unit: Int64, value: Double)] {
            byGrid.map { (Int64($0.key) ?? 0, Double(value($0))) }
        }
        result.add("反映诉求", perUnit: perGrid(\.reported))
        result.add("及时受理", perUnit: perGrid(\.respondedInTime))
        result.add("按期办结", perUnit: perGrid(\.resolvedInTime))
        result.add("办结", perUnit: perGrid(\.resolved))
        func percent(_ rate: Double?) -> Double { rate.map { $0 * 100 } ?? .nan }
        result.add("响应及时率（%）", percent(total.responseRate), kind: .rate, decimals: 1)
        result.add("按期办结率（%）", percent(total.onTimeRate), kind: .rate, decimals: 1)
        result.add("办结率（%）", percent(total.resolutionRate), kind: .rate, decimals: 1)
        result.add("满意率（%）", percent(total.satisfactionRate), kind: .rate, decimals: 1)
        guard q.detail else { return result }
        result.add("平均响应（分钟）", total.responseAverage.map { $0 / 60 } ?? .nan, kind: .rate, decimals: 1)
        result.add("平均办理（小时）", total.resolutionAverage.map { $0 / 3600 } ?? .nan, kind: .rate, decimals: 1)

        let names = try CaseRatesPages.names(db, childrenOf: nil)
        func rows(_ list: [CaseRates.Figures], name: (String) -> String) -> [[String]] {
            list.map { f in
                [name(f.key), String(f.reported), String(f.resolved), CaseRates.percent(f.responseRate), CaseRates.percent(f.onTimeRate),
                 CaseRates.percent(f.resolutionRate), CaseRates.percent(f.satisfactionRate)]
            }
        }
        let columns = ["反映", "办结", "响应及时率", "按期办结率", "办结率", "满意率"]
        let numeric = [false] + columns.map { _ in true }
        result.tables.append(ReportTable(title: "按诉求类别", columns: ["类别"] + columns, numeric: numeric,
                                         rows: rows(figures[.category] ?? []) { names.categories[$0] ?? "#\($0)" }, empty: "本月没有诉求"))
        result.tables.append(ReportTable(title: "按承办部门", columns: ["部门"] + columns, numeric: numeric,
                                         rows: rows(figures[.unit] ?? []) { $0 == "0" ? "未派单" : names.units[$0] ?? "#\($0)" },
                                         empty: "本月没有诉求"))
        let overdue = try overdueAtEnd(db, q.scope, end: end, limit: overdueListed)
        var listed = overdue.rows.map { row -> [String] in
            let late = end - (row["due"] as Int64)
            return ["#\(row["id"] as Int64)", row["category"], row["grid"], (row["unit"] as String?) ?? "未派单",
                    "超时 " + CaseRates.duration(Double(late)), row["description"]]
        }
        if overdue.total > overdue.rows.count { listed.append(["另有 \(overdue.total - overdue.rows.count) 件", "", "", "", "", ""]) }
        result.add("月末超时工单", Double(overdue.total))
        result.tables.append(ReportTable(title: "月末超时未办结的工单", columns: ["编号", "类别", "网格", "承办部门", "超时", "问题"],
                                         rows: listed, empty: "月末没有超时的工单"))
        return result
    }

    /// The cases in the scope that were running and past their deadline at `end` (seconds):
    /// not accepted past the response target, or accepted, not resolved, past the resolution
    /// deadline (as it stands now: a later pause or escalation may have moved it). The `limit`
    /// longest overdue, and how many there are in all (one statement: the count is a window
    /// over the same rows, so a county's thousands are not all read out).
    static func overdueAtEnd(_ db: Database, _ scope: ReportScope, end: Int64, limit: Int) throws -> (rows: [Row], total: Int) {
        let cond = scope.condition(on: "c.grid_path")
        let rows = try Row.fetchAll(db, sql: """
            SELECT *, count(*) OVER () AS total FROM (
              SELECT c.id, c.description, k.name AS category, g.name AS grid, u.name AS unit,
                     CASE WHEN c.accepted_at IS NULL OR c.accepted_at >= ? THEN c.reported_at + c.response_target ELSE c.deadline END AS due
              FROM cases c JOIN case_categories k ON k.id = c.category_id JOIN grids g ON g.id = c.grid_id
              LEFT JOIN units u ON u.id = c.unit_id
              WHERE (c.resolved_at IS NULL OR c.resolved_at >= ?) AND c.reported_at < ? AND c.status <> 'merged' AND \(cond.sql)
            ) WHERE due < ? ORDER BY due, id LIMIT ?
            """, arguments: [end, end, end] + cond.arguments + [end, limit])
        return (rows, rows.first?["total"] ?? 0)
    }

    /// Cases reported and resolved per month (the rates' month grouping), oldest first.
    @Sendable static func trend(_ db: Database, _ scope: ReportScope, _ months: [ReportPeriod]) throws -> [ReportSeries] {
        guard let first = months.first, let last = months.last else { return [] }
        // Reported and resolved do not depend on the hour, so no clock is needed (now: 0).
        let figures = try CaseRates.figures(db, scopePath: scope.path, firstMonth: first.text, lastMonth: last.text, grouping: .month,
                                            percentiles: false, now: 0)
        let byMonth = Dictionary(uniqueKeysWithValues: figures.map { ($0.key, $0) })
        return [ReportSeries(name: "反映诉求", values: months.map { Double(byMonth[$0.text]?.reported ?? 0) }),
                ReportSeries(name: "办结", values: months.map { Double(byMonth[$0.text]?.resolved ?? 0) })]
    }
}
