import AppCore
import Foundation
import GRDB

/// The residents' part of the monthly report: people at the month's end, moves in and out,
/// key-group residents by tag, visits to them, and those not visited for 30 days at month end.
///
/// People at the month's end are today's residents (the per-building counts the triggers keep)
/// less those who arrived after the month and plus those who moved out after it, so a county's
/// report reads the residences of the months since, not every residence there is. A move
/// between two units after the month counts in the unit of today's home.
enum ResidentsReport {
    static let sections = [ReportSection(id: "residents", title: "居民", order: 10, figures: figures)]

    /// Days without a visit after which a key-group resident counts as overdue (as `OverduePage`).
    static let overdueDays = OverduePage.days

    @Sendable static func figures(_ db: Database, _ q: ReportQuery) throws -> ReportSectionResult {
        let p = q.period, scope = q.scope.condition(on: "b.path"), unit = q.scope.unit(of: "b.path")
        var result = ReportSectionResult()

        let now = try db.reportUnits("""
            SELECT \(unit), sum(c.active) FROM grids b JOIN building_resident_counts c ON c.building_id = b.id
            WHERE b.kind = 'building' AND \(scope.sql) GROUP BY 1
            """, scope.arguments)
        // Living here today, but their first residence began after the month.
        let arrivedSince = try db.reportUnits("""
            SELECT \(unit), count(DISTINCT x.resident_id) FROM residences x
            JOIN residents r ON r.id = x.resident_id AND r.status = 'active' JOIN grids b ON b.id = r.building_id
            WHERE x.started_on > ? AND \(scope.sql)
              AND NOT EXISTS (SELECT 1 FROM residences y WHERE y.resident_id = x.resident_id AND y.started_on <= ?)
            GROUP BY 1
            """, [p.lastDay] + scope.arguments + [p.lastDay])
        // Moved out after the month from a home they had at its end.
        let leftSince = try db.reportUnits("""
            SELECT \(unit), count(DISTINCT x.resident_id) FROM residences x
            JOIN houses h ON h.id = x.house_id JOIN grids b ON b.id = h.building_id
            JOIN residents r ON r.id = x.resident_id AND r.status = 'moved_out'
            WHERE x.ended_on > ? AND x.end_reason = 'moved_out' AND x.started_on <= ? AND \(scope.sql)
            GROUP BY 1
            """, [p.lastDay, p.lastDay] + scope.arguments)
        var present: [Int64: Double] = [:]
        for row in now { present[row.unit, default: 0] += row.value }
        for row in arrivedSince { present[row.unit, default: 0] -= row.value }
        for row in leftSince { present[row.unit, default: 0] += row.value }
        result.add("月末居民", perUnit: present.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, kind: .level)

        result.add("本月迁入", perUnit: try db.reportUnits("""
            SELECT \(unit), count(DISTINCT x.resident_id) FROM residences x
            JOIN houses h ON h.id = x.house_id JOIN grids b ON b.id = h.building_id
            WHERE x.started_on >= ? AND x.started_on <= ? AND \(scope.sql)
              AND NOT EXISTS (SELECT 1 FROM residences y WHERE y.resident_id = x.resident_id AND y.started_on < ?)
            GROUP BY 1
            """, [p.firstDay, p.lastDay] + scope.arguments + [p.firstDay]))
        result.add("本月迁出", perUnit: try db.reportUnits("""
            SELECT \(unit), count(DISTINCT x.resident_id) FROM residences x
            JOIN houses h ON h.id = x.house_id JOIN grids b ON b.id = h.building_id
            WHERE x.ended_on >= ? AND x.ended_on <= ? AND x.end_reason = 'moved_out' AND \(scope.sql)
            GROUP BY 1
            """, [p.firstDay, p.lastDay] + scope.arguments))

        // Key-group residents living here today (tags are current), from the tags (a small part
        // of the people): how many per unit, their visits in the month, and how many had no visit
        // in the 30 days up to the month's end.
        let keyRows = try Row.fetchAll(db, sql: """
            SELECT \(unit) AS u, count(*),
                   sum((SELECT count(*) FROM visits v WHERE v.resident_id = r.id AND v.visited_on >= ? AND v.visited_on <= ?)),
                   sum(NOT EXISTS (SELECT 1 FROM visits v WHERE v.resident_id = r.id AND v.visited_on >= ? AND v.visited_on <= ?))
            FROM (SELECT rt.resident_id AS id FROM resident_tags rt
                  WHERE rt.tag_id IN (SELECT id FROM tags WHERE key_group = 1) GROUP BY rt.resident_id) k
            CROSS JOIN residents r ON r.id = k.id CROSS JOIN grids b ON b.id = r.building_id
            WHERE r.status = 'active' AND \(scope.sql) GROUP BY 1
            """, arguments: [p.firstDay, p.lastDay, p.daysBeforeEnd(overdueDays), p.lastDay] + scope.arguments)
        result.add("重点人群", perUnit: keyRows.unitColumn(1), kind: .level)
        result.add("本月走访重点人群", perUnit: keyRows.unitColumn(2))
        result.add("超30天未走访", perUnit: keyRows.unitColumn(3), kind: .level)

        guard q.detail else { return result }
        let counts = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: """
            SELECT rt.tag_id, count(*) FROM resident_tags rt
            JOIN residents r ON r.id = rt.resident_id AND r.status = 'active' JOIN grids b ON b.id = r.building_id
            WHERE \(scope.sql) GROUP BY rt.tag_id
            """, arguments: scope.arguments).map { ($0[0] as Int64, $0[1] as Int) })
        let tags = try Row.fetchAll(db, sql: "SELECT id, name FROM tags WHERE key_group = 1 AND active = 1 ORDER BY sort_order, id")
        result.addBreakdown("重点人群", title: "重点人群（按标签）", columns: ("标签", "人数"),
                            tags.map { ($0["name"], Double(counts[$0["id"] as Int64] ?? 0)) }, kind: .level)
        return result
    }
}
