import AppCore
import Foundation
import GRDB

/// The wishes' part of the monthly report: what happened to wishes in the month (posted,
/// published, claimed, completed, rated, expired), the average rating, the median hours from
/// publishing to claim and from claim to completion, and a 12-month trend.
enum WishesReport {
    static let sections = [ReportSection(id: "wishes", title: "微心愿", order: 40, figures: figures, trend: trend)]

    @Sendable static func figures(_ db: Database, _ q: ReportQuery) throws -> ReportSectionResult {
        let p = q.period, scope = q.scope.condition(on: "w.grid_path"), unit = q.scope.unit(of: "w.grid_path")
        var result = ReportSectionResult()
        let start = p.startInstant, end = p.endInstant
        func within(_ column: String) -> String { "(\(column) >= ?1 AND \(column) < ?2)" }
        // ?1 and ?2 are the month's bounds; the scope's range follows as ?3 and ?4.
        let scoped = Self.numbered(scope.sql, from: 3)
        let rows = try Row.fetchAll(db, sql: """
            SELECT \(unit) AS u,
                   sum(\(within("w.created_at"))), sum(\(within("w.published_at"))), sum(\(within("w.claimed_at"))),
                   sum(\(within("w.completed_at"))), sum(\(within("w.rated_at"))),
                   sum(w.status = 'expired' AND \(within("w.updated_at"))),
                   sum(CASE WHEN \(within("w.rated_at")) THEN w.rating END)
            FROM wishes w WHERE \(scoped)
              AND (w.created_at >= ?1 OR w.updated_at >= ?1 OR w.claimed_at >= ?1 OR w.completed_at >= ?1 OR w.rated_at >= ?1)
            GROUP BY u
            """, arguments: [start, end] + scope.arguments)
        result.add("新增心愿", perUnit: rows.unitColumn(1))
        result.add("发布心愿", perUnit: rows.unitColumn(2), main: false)
        result.add("认领心愿", perUnit: rows.unitColumn(3))
        result.add("完成心愿", perUnit: rows.unitColumn(4))
        result.add("评价心愿", perUnit: rows.unitColumn(5), main: false)
        result.add("过期心愿", perUnit: rows.unitColumn(6), main: false)
        let rated = rows.unitColumn(5).reduce(0) { $0 + $1.value }, ratingSum = rows.unitColumn(7).reduce(0) { $0 + $1.value }
        result.add("平均评分", rated > 0 ? ratingSum / rated : .nan, kind: .rate, decimals: 2)

        guard q.detail else { return result }
        let toClaim = try Double.fetchAll(db, sql: """
            SELECT (julianday(w.claimed_at) - julianday(w.published_at)) * 24 FROM wishes w
            WHERE \(scoped) AND \(within("w.claimed_at")) AND w.published_at IS NOT NULL
            """, arguments: [start, end] + scope.arguments)
        let toComplete = try Double.fetchAll(db, sql: """
            SELECT (julianday(w.completed_at) - julianday(w.claimed_at)) * 24 FROM wishes w
            WHERE \(scoped) AND \(within("w.completed_at")) AND w.claimed_at IS NOT NULL
            """, arguments: [start, end] + scope.arguments)
        result.add("发布到认领（中位数，小时）", median(toClaim), kind: .rate, decimals: 1)
        result.add("认领到完成（中位数，小时）", median(toComplete), kind: .rate, decimals: 1)
        return result
    }

    /// Wishes posted and completed per month (China time), oldest month first.
    @Sendable static func trend(_ db: Database, _ scope: ReportScope, _ months: [ReportPeriod]) throws -> [ReportSeries] {
        guard let first = months.first, let last = months.last else { return [] }
        let cond = scope.condition(on: "w.grid_path")
        func counts(_ column: String) throws -> [Double] {
            let rows = try Row.fetchAll(db, sql: """
                SELECT strftime('%Y-%m', \(column), '+8 hours') AS m, count(*) FROM wishes w
                WHERE \(cond.sql) AND \(column) >= ? AND \(column) < ? GROUP BY m
                """, arguments: cond.arguments + [first.startInstant, last.endInstant])
            let byMonth = Dictionary(uniqueKeysWithValues: rows.map { ($0[0] as String, $0[1] as Double) })
            return months.map { byMonth[$0.text] ?? 0 }
        }
        return [ReportSeries(name: "新增心愿", values: try counts("w.created_at")),
                ReportSeries(name: "完成心愿", values: try counts("w.completed_at"))]
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted(), middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// `sql` with its plain `?` placeholders numbered from `start` (`?3`, `?4`), so it can follow
    /// numbered ones.
    static func numbered(_ sql: String, from start: Int) -> String {
        var number = start, out = ""
        for character in sql {
            if character == "?" { out += "?\(number)"; number += 1 } else { out.append(character) }
        }
        return out
    }
}
