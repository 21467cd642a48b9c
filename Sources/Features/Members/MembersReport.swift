import AppCore
import Foundation
import GRDB

/// The party members' part of the monthly report: members by category (those in this
/// community's organisation when the report is read: membership has no dated history, so a
/// closed month keeps the count it was closed with), and the in-service members' 双报到
/// submitted and confirmed in the month. (The volunteering module adds the posts.)
enum MembersReport {
    static let sections = [ReportSection(id: "members", title: "党员队伍", order: 20, figures: figures)]

    @Sendable static func figures(_ db: Database, _ q: ReportQuery) throws -> ReportSectionResult {
        let p = q.period, scope = q.scope.condition(on: "g.path"), unit = q.scope.unit(of: "g.path")
        var result = ReportSectionResult()
        let members = """
            FROM grids g CROSS JOIN party_members pm ON pm.grid_id = g.id
            WHERE \(scope.sql) AND pm.membership = 'active'
            """
        let arguments = scope.arguments
        result.add("党员", perUnit: try db.reportUnits("SELECT \(unit), count(*) \(members) GROUP BY 1", arguments), kind: .level)
        let byCategory = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT pm.category, count(*) \(members) GROUP BY 1",
                                                                          arguments: arguments).map { ($0[0] as String, $0[1] as Int) })
        result.addBreakdown("党员", title: "党员（按类别）", columns: ("类别", "人数"),
                            MemberVocabulary.categories.map { ($0.label, Double(byCategory[$0.code] ?? 0)) }, kind: .level)

        // From the reports (a few per hundred members) to their members' grids.
        let reports = """
            FROM member_reports mr CROSS JOIN party_members pm ON pm.id = mr.member_id CROSS JOIN grids g ON g.id = pm.grid_id
            WHERE \(scope.sql)
            """
        result.add("本月双报到", perUnit: try db.reportUnits("""
            SELECT \(unit), count(*) \(reports) AND mr.submitted_at >= ? AND mr.submitted_at < ? GROUP BY 1
            """, scope.arguments + [p.startInstant, p.endInstant]))
        result.add("本月确认报到", perUnit: try db.reportUnits("""
            SELECT \(unit), count(*) \(reports) AND mr.status = 'confirmed' AND mr.decided_at >= ? AND mr.decided_at < ? GROUP BY 1
            """, scope.arguments + [p.startInstant, p.endInstant]), main: false)
        result.add("本年已确认报到", Double(try Int.fetchOne(db, sql: """
            SELECT count(*) \(reports) AND mr.year = ? AND mr.status = 'confirmed' AND mr.decided_at < ?
            """, arguments: scope.arguments + [p.year, p.endInstant]) ?? 0), kind: .level)
        return result
    }
}
