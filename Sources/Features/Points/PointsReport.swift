import AppCore
import Foundation
import GRDB

/// The points' part of the monthly report: card points approved in the month by dimension, the
/// year's top ten of the ranking (names as the board 公示 shows them), and volunteer credits
/// earned and redeemed in the month.
enum PointsReport {
    static let sections = [ReportSection(id: "points", title: "积分", order: 50, prepare: { database in
        try PointsStore(database: database).syncAll()
    }, figures: figures)]

    @Sendable static func figures(_ db: Database, _ q: ReportQuery) throws -> ReportSectionResult {
        let p = q.period
        var result = ReportSectionResult()
        let scope = q.scope.condition(on: "g.path"), unit = q.scope.unit(of: "g.path")
        let entries = """
            FROM grids g CROSS JOIN party_members pm ON pm.grid_id = g.id CROSS JOIN point_entries e ON e.member_id = pm.id
            WHERE \(scope.sql) AND e.status = 'approved' AND e.occurred_on >= ? AND e.occurred_on <= ?
            """
        let arguments = scope.arguments + [p.firstDay, p.lastDay]
        // One pass: points per unit and dimension.
        let rows = try Row.fetchAll(db, sql: "SELECT \(unit), e.dimension, sum(e.points) \(entries) GROUP BY 1, 2", arguments: arguments)
        var perUnit: [Int64: Double] = [:], byDimension: [String: Int] = [:]
        for row in rows {
            perUnit[(row[0] as Int64?) ?? 0, default: 0] += (row[2] as Double?) ?? 0
            byDimension[row[1] as String, default: 0] += (row[2] as Int?) ?? 0
        }
        result.add("党员积分", perUnit: perUnit.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        guard q.detail else { return result }
        let people = q.scope.condition(on: "b.path"), personUnit = q.scope.unit(of: "b.path")
        let credits = try Row.fetchAll(db, sql: """
            SELECT \(personUnit), sum(CASE WHEN c.kind IN ('activity', 'wish') THEN c.amount ELSE 0 END),
                   -sum(CASE WHEN c.kind IN ('redeem', 'refund') THEN c.amount ELSE 0 END)
            FROM credit_entries c JOIN residents r ON r.id = c.resident_id JOIN grids b ON b.id = r.building_id
            WHERE c.created_at >= ? AND c.created_at < ? AND \(people.sql) GROUP BY 1
            """, arguments: [p.startInstant, p.endInstant] + people.arguments)
        result.add("获得爱心积分", perUnit: credits.unitColumn(1), main: false)
        result.add("兑换爱心积分", perUnit: credits.unitColumn(2), main: false)

        let dimensions = try Row.fetchAll(db, sql: "SELECT code, name FROM point_dimensions ORDER BY sort_order")
        result.addBreakdown("党员积分", title: "本月党员积分（按维度）", columns: ("维度", "积分"),
                            dimensions.map { ($0["name"], Double(byDimension[$0["code"] as String] ?? 0)) })

        let board = q.scope.condition(on: "t.grid_path")
        let top = try Row.fetchAll(db, sql: """
            SELECT t.total, r.name, b.name AS branch,
                   (SELECT count(*) FROM point_totals x WHERE x.year = t.year AND \(q.scope.condition(on: "x.grid_path").sql)
                    AND x.total > t.total) + 1 AS rank
            FROM point_totals t JOIN party_members pm ON pm.id = t.member_id JOIN residents r ON r.id = pm.resident_id
            LEFT JOIN branches b ON b.id = t.branch_id
            WHERE t.year = ? AND \(board.sql) ORDER BY t.total DESC, t.member_id LIMIT 10
            """, arguments: board.arguments + [p.year] + board.arguments)
        result.tables.append(ReportTable(
            title: "\(p.year) 年度积分排名前十", columns: ["排名", "姓名", "所在党组织", "总分"], numeric: [true, false, false, true],
            rows: top.map { [String($0["rank"] as Int), $0["name"] as String, ($0["branch"] as String?) ?? "—", String($0["total"] as Int)] },
            empty: "本年度还没有积分记录"))

        return result
    }
}
