import AppCore
import Foundation
import GRDB

/// The volunteering part of the monthly report: activities held in the month (closed, begun in
/// it), the people who attended, the hours credited for them and the no-shows; and, in the
/// party members' section, the volunteer posts held and empty at the month's end.
enum VolunteeringReport {
    static let sections = [
        ReportSection(id: "volunteering", title: "志愿服务", order: 30, figures: activities),
        ReportSection(id: "members", title: "党员队伍", order: 21, figures: posts),
    ]

    @Sendable static func activities(_ db: Database, _ q: ReportQuery) throws -> ReportSectionResult {
        let p = q.period, scope = q.scope.condition(on: "g.path"), unit = q.scope.unit(of: "g.path")
        var result = ReportSectionResult()
        // `starts_at` is local time text (`2026-03-05T09:30`), compared with local days. From the
        // month's activities (a date range) to their grids; the hours of those activities in one
        // pass over the hours credited for activities.
        let rows = try Row.fetchAll(db, sql: """
            WITH held AS (
                SELECT a.id, \(unit) AS u FROM activities a CROSS JOIN grids g ON g.id = a.grid_id
                WHERE a.starts_at >= ? AND a.starts_at < ? AND a.status = 'closed' AND \(scope.sql)),
            hours AS (
                SELECT h.activity_id, sum(h.hours) AS n FROM volunteer_hours h
                WHERE h.activity_id IN (SELECT id FROM held) GROUP BY h.activity_id)
            SELECT held.u, count(*),
                   sum((SELECT count(*) FROM activity_signups s WHERE s.activity_id = held.id AND s.status = 'attended')),
                   sum((SELECT count(*) FROM activity_signups s WHERE s.activity_id = held.id AND s.status = 'no_show')),
                   coalesce(sum(hours.n), 0)
            FROM held LEFT JOIN hours ON hours.activity_id = held.id GROUP BY held.u
            """, arguments: [p.firstDay, p.nextFirstDay] + scope.arguments)
        result.add("开展活动", perUnit: rows.unitColumn(1))
        result.add("参与人次", perUnit: rows.unitColumn(2))
        result.add("服务时长（小时）", perUnit: rows.unitColumn(4), decimals: 1)
        result.add("未到人次", perUnit: rows.unitColumn(3), main: false)
        return result
    }

    @Sendable static func posts(_ db: Database, _ q: ReportQuery) throws -> ReportSectionResult {
        let p = q.period, scope = q.scope.condition(on: "g.path")
        var result = ReportSectionResult()
        guard q.detail else { return result }
        // Holders at the month's end counted once per post (one pass over the holders), then the
        // posts in scope.
        let row = try Row.fetchOne(db, sql: """
            WITH held AS (SELECT post_id, count(*) AS n FROM post_holders
                          WHERE started_on <= ? AND (ended_on IS NULL OR ended_on > ?) GROUP BY post_id)
            SELECT count(*), sum(coalesce(held.n, 0) > 0), coalesce(sum(held.n), 0), sum(held.n IS NULL)
            FROM posts po CROSS JOIN grids g ON g.id = po.grid_id LEFT JOIN held ON held.post_id = po.id
            WHERE \(scope.sql) AND po.active = 1
            """, arguments: [p.lastDay, p.lastDay] + scope.arguments)
        result.add("志愿岗位", (row?[0] as Double?) ?? 0, kind: .level)
        result.add("岗位在岗", (row?[1] as Double?) ?? 0, kind: .level)
        result.add("岗位空缺", (row?[3] as Double?) ?? 0, kind: .level)
        result.add("在岗党员人次", (row?[2] as Double?) ?? 0, kind: .level)
        return result
    }
}
