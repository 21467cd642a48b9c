import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// `/me`: the member's phone home — next activities, posts held, hours this year, and the
/// 双报到 status (a link to the member's own record; the members module fills it in).
enum MePage {
    static func show(_ ctx: Context) throws -> HTTPResponse {
        let user = try ctx.requireUser()
        var data: [String: Any] = ["tabs": VolunteeringTabs.context(ctx, current: "/me"), "displayName": user.displayName]
        guard let identity = try ctx.volunteerIdentity() else {
            data["unlinked"] = true
            return try ctx.render("volunteering/me", title: "我的志愿服务", data)
        }
        let now = LocalMinute.string(ctx.clock.now)
        let year = String(ChinaDate.today(ctx.clock.now).prefix(4))
        let scope = ctx.volunteerReach(on: "g.path")
        let (mine, open, posts, hours, records) = try ctx.database.read { db in
            let mine = try Row.fetchAll(db, sql: """
                SELECT a.id, a.title, a.place, a.starts_at, a.ends_at, a.signup_deadline, a.checkin_code, s.seq, s.status,
                       (SELECT count(*) FROM activity_signups w WHERE w.activity_id = a.id AND w.status = 'waitlisted' AND w.seq <= s.seq) AS position
                FROM activity_signups s JOIN activities a ON a.id = s.activity_id
                WHERE s.resident_id = ? AND s.status IN ('confirmed', 'waitlisted', 'attended') AND a.status = 'open' AND a.ends_at >= ?
                ORDER BY a.starts_at, a.id LIMIT 20
                """, arguments: [identity.residentID, now])
            let open = try Row.fetchAll(db, sql: """
                SELECT a.id, a.title, a.place, a.starts_at, a.signup_deadline, a.capacity,
                       (SELECT count(*) FROM activity_signups s WHERE s.activity_id = a.id AND s.status IN ('confirmed', 'attended')) AS taken
                FROM activities a JOIN grids g ON g.id = a.grid_id
                WHERE a.status = 'open' AND a.signup_deadline >= ? AND \(scope.sql)
                  AND NOT EXISTS (SELECT 1 FROM activity_signups s WHERE s.activity_id = a.id AND s.resident_id = ? AND s.status <> 'cancelled')
                ORDER BY a.starts_at, a.id LIMIT 5
                """, arguments: StatementArguments([now] + scope.arguments + [identity.residentID]))
            let posts = try Row.fetchAll(db, sql: """
                SELECT p.id, p.title, p.duty, c.name AS category, g.name AS grid, h.started_on
                FROM post_holders h JOIN posts p ON p.id = h.post_id JOIN service_categories c ON c.id = p.category_id
                JOIN grids g ON g.id = p.grid_id
                WHERE h.member_id = ? AND h.ended_on IS NULL ORDER BY h.started_on, p.id
                """, arguments: [identity.memberID ?? -1])
            let hours = try Row.fetchOne(db, sql: """
                SELECT coalesce(sum(hours), 0) AS total, count(*) AS n FROM volunteer_hours
                WHERE resident_id = ? AND served_on >= ? AND served_on <= ?
                """, arguments: [identity.residentID, year + "-01-01", year + "-12-31"])
            let records = try Row.fetchAll(db, sql: """
                SELECT served_on, hours, content FROM volunteer_hours
                WHERE resident_id = ? AND served_on >= ? AND served_on <= ? ORDER BY served_on DESC, id DESC LIMIT 5
                """, arguments: [identity.residentID, year + "-01-01", year + "-12-31"])
            return (mine, open, posts, hours, records)
        }
        data["mine"] = mine.map { row -> [String: Any] in
            let status: String = row["status"]
            let deadline: String = row["signup_deadline"]
            return ["id": String(row["id"] as Int64), "title": row["title"] as String, "place": Choices.shown(row["place"] as String),
                    "startsAt": LocalMinute.display(row["starts_at"]), "statusName": ActivityPages.statusNames[status] ?? status,
                    "isWaitlisted": status == "waitlisted", "position": row["position"] as Int, "isAttended": status == "attended",
                    "code": status == "attended" ? false : AttendeeCode.code(activityCode: row["checkin_code"], seq: row["seq"]) as Any,
                    "canCancel": status != "attended" && now <= deadline]
        }
        data["hasMine"] = !mine.isEmpty
        data["open"] = open.map { row -> [String: Any] in
            ["id": String(row["id"] as Int64), "title": row["title"] as String, "place": Choices.shown(row["place"] as String),
             "startsAt": LocalMinute.display(row["starts_at"]), "deadline": LocalMinute.display(row["signup_deadline"]),
             "taken": row["taken"] as Int, "capacity": row["capacity"] as Int, "isFull": (row["taken"] as Int) >= (row["capacity"] as Int)]
        }
        data["hasOpen"] = !open.isEmpty
        data["posts"] = posts.map { row -> [String: Any] in
            ["id": String(row["id"] as Int64), "title": row["title"] as String, "duty": Choices.shown(row["duty"] as String),
             "category": row["category"] as String, "grid": row["grid"] as String, "since": row["started_on"] as String]
        }
        data["hasPosts"] = !posts.isEmpty
        data["records"] = records.map { row -> [String: Any] in
            ["date": row["served_on"] as String, "hours": Choices.hours(row["hours"]), "content": row["content"] as String]
        }
        data["hasRecords"] = !records.isEmpty
        data["isMember"] = identity.memberID != nil
        data["memberID"] = identity.memberID.map(String.init) ?? ""
        if let memberID = identity.memberID {
            // This year's 双报到 (the members module's record, read only): where it stands.
            let report = try ctx.database.read { db in
                try Row.fetchOne(db, sql: "SELECT status, reason FROM member_reports WHERE member_id = ? AND year = ?",
                                 arguments: [memberID, Int(year) ?? 0])
            }
            let status: String? = report?["status"]
            data["reportStatus"] = ["submitted": "已提交，等待社区确认", "confirmed": "已确认", "returned": "已退回"][status ?? ""] ?? "今年还没有报到"
            data["reportReason"] = Choices.shown(report?["reason"] as String? ?? "")
            data["canReport"] = status == nil || status == "returned"
        }
        data["year"] = year
        data["hours"] = Choices.hours(hours?["total"] ?? 0)
        data["hourRecords"] = hours?["n"] as Int? ?? 0
        data["residentID"] = String(identity.residentID)
        data["name"] = identity.residentName
        return try ctx.render("volunteering/me", title: "我的志愿服务", data)
    }
}
