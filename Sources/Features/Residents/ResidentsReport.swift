import AppCore
import Foundation
import GRDB

/// The residents' part of the monthly report: people at the month's end, moves in and out,
/// key-group residents by tag, visits to them, and those not visited for 30 days at month end.
enum ResidentsReport {
    static let sections = [ReportSection(id: "residents", title: "居民", order: 10, figures: figures)]

    /// Days without a visit after which a key-group resident counts as overdue (as `OverduePage`).
    static let overdueDays = OverduePage.days

    @Sendable static func figures(_ db: Database, _ q: ReportQuery) throws -> ReportSectionResult {
        let p = q.period, scope = q.scope.condition(on: "b.path"), unit = q.scope.unit(of: "b.path")
        var result = ReportSectionResult()

        // One pass over the residences in scope, one row per person: living here at the month's
        // end (a residence begun by then and not ended by then), arrived in the month (the first
        // residence the register has for them began in it), moved out in it (迁出, not 换房).
        let people = try Row.fetchAll(db, sql: """
            SELECT u, sum(present), sum(arrived), sum(departed) FROM (
                SELECT \(unit) AS u,
                       max(x.ended_on IS NULL OR x.ended_on > ?) AS present,
                       min(x.started_on) >= ? AS arrived,
                       max(x.end_reason = 'moved_out' AND x.ended_on >= ? AND x.ended_on <= ?) AS departed
                FROM grids b
                CROSS JOIN houses h ON h.building_id = b.id
                CROSS JOIN residences x ON x.house_id = h.id
                WHERE b.kind = 'building' AND \(scope.sql) AND x.started_on <= ?
                GROUP BY x.resident_id)
            GROUP BY u
            """, arguments: [p.lastDay, p.firstDay, p.firstDay, p.lastDay] + scope.arguments + [p.lastDay])
        func column(_ index: Int) -> [(unit: Int64, value: Double)] {
            people.map { ((($0[0] as Int64?) ?? 0), (($0[index] as Double?) ?? 0)) }
        }
        result.add("月末居民", perUnit: column(1), kind: .level)
        result.add("本月迁入", perUnit: column(2))
        result.add("本月迁出", perUnit: column(3))

        // Key-group residents (current tags of the people living here now).
        let byTag = try Row.fetchAll(db, sql: """
            SELECT t.name, (SELECT count(*) FROM grids b
                            CROSS JOIN residents r ON r.building_id = b.id AND r.status = 'active'
                            CROSS JOIN resident_tags rt ON rt.resident_id = r.id AND rt.tag_id = t.id
                            WHERE b.kind = 'building' AND \(scope.sql)) AS n
            FROM tags t WHERE t.key_group = 1 AND t.active = 1 ORDER BY t.sort_order, t.id
            """, arguments: scope.arguments)
        let keyGroup = """
            EXISTS (SELECT 1 FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id WHERE rt.resident_id = r.id AND t.key_group = 1)
            """
        let keyPeople = try db.reportUnits("""
            SELECT \(unit), count(*) FROM grids b CROSS JOIN residents r ON r.building_id = b.id AND r.status = 'active'
            WHERE b.kind = 'building' AND \(scope.sql) AND \(keyGroup) GROUP BY 1
            """, scope.arguments)
        result.add("重点人群", perUnit: keyPeople, kind: .level)
        for row in byTag { result.add("重点人群·" + (row["name"] as String), row["n"] as Double, kind: .level) }

        let visits = try db.reportUnits("""
            SELECT \(unit), count(*) FROM visits v JOIN residents r ON r.id = v.resident_id JOIN grids b ON b.id = r.building_id
            WHERE v.visited_on >= ? AND v.visited_on <= ? AND \(scope.sql) AND \(keyGroup) GROUP BY 1
            """, [p.firstDay, p.lastDay] + scope.arguments)
        result.add("本月走访重点人群", perUnit: visits)
        let overdue = try db.reportUnits("""
            SELECT \(unit), count(*) FROM grids b CROSS JOIN residents r ON r.building_id = b.id AND r.status = 'active'
            WHERE b.kind = 'building' AND \(scope.sql) AND \(keyGroup)
              AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.resident_id = r.id AND v.visited_on >= ? AND v.visited_on <= ?)
            GROUP BY 1
            """, scope.arguments + [p.daysBeforeEnd(overdueDays), p.lastDay])
        result.add("超30天未走访", perUnit: overdue, kind: .level)

        result.tables.append(ReportTable(
            title: "重点人群（按标签）", columns: ["标签", "人数"], numeric: [false, true],
            rows: byTag.map { [$0["name"] as String, String($0["n"] as Int)] }))
        return result
    }
}
