import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// Activities 活动 with 接龙 sign-up: list and new for staff, the detail page where members sign
/// up or cancel on a phone and staff check attendees in and close the activity.
enum ActivityPages {
    static let statusNames = ["confirmed": "已报名", "waitlisted": "候补", "cancelled": "已取消", "attended": "已签到", "no_show": "未到场"]
    static let activityStatusNames = ["open": "报名中", "closed": "已结束", "cancelled": "已取消"]

    static func index(_ ctx: Context) throws -> HTTPResponse {
        let scope = ctx.volunteerReach(on: "g.path")
        let now = LocalMinute.string(ctx.clock.now)
        let past = ctx.query["past"] == "1"
        let identity = ctx.may(.joinVolunteering) ? try ctx.volunteerIdentity() : nil
        let rows = try ctx.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT a.id, a.title, a.place, a.starts_at, a.ends_at, a.signup_deadline, a.capacity, a.hours, a.status,
                       c.name AS category, g.name AS grid, t.name AS team,
                       (SELECT count(*) FROM activity_signups s WHERE s.activity_id = a.id AND s.status IN ('confirmed', 'attended', 'no_show')) AS taken,
                       (SELECT count(*) FROM activity_signups s WHERE s.activity_id = a.id AND s.status = 'waitlisted') AS waiting,
                       (SELECT s.status FROM activity_signups s WHERE s.activity_id = a.id AND s.resident_id = ? AND s.status <> 'cancelled') AS mine
                FROM activities a JOIN grids g ON g.id = a.grid_id JOIN service_categories c ON c.id = a.category_id
                LEFT JOIN teams t ON t.id = a.team_id
                WHERE \(scope.sql) AND \(past ? "(a.ends_at < ? OR a.status <> 'open')" : "a.ends_at >= ? AND a.status = 'open'")
                ORDER BY a.starts_at \(past ? "DESC" : "ASC"), a.id LIMIT 200
                """, arguments: StatementArguments([identity?.residentID ?? -1] + scope.arguments + [now]))
        }
        let activities = rows.map { summary($0, now: now) }
        return try ctx.render("volunteering/activities/index", title: "志愿服务活动", [
            "tabs": VolunteeringTabs.context(ctx, current: "/activities"), "activities": activities, "hasActivities": !activities.isEmpty,
            "canManage": ctx.may(.manageVolunteering), "past": past,
        ])
    }

    static func summary(_ row: Row, now: String) -> [String: Any] {
        let deadline: String = row["signup_deadline"]
        let mine: String? = row["mine"]
        return [
            "id": String(row["id"] as Int64), "title": row["title"] as String, "place": Choices.shown(row["place"] as String),
            "startsAt": LocalMinute.display(row["starts_at"]), "endsAt": LocalMinute.display(row["ends_at"]),
            "deadline": LocalMinute.display(deadline), "capacity": row["capacity"] as Int, "hours": Choices.hours(row["hours"]),
            "category": row["category"] as String, "grid": row["grid"] as String, "team": Choices.shown(row["team"] as String?),
            "taken": row["taken"] as Int, "waiting": Choices.shown(row["waiting"] as Int),
            "statusName": activityStatusNames[row["status"] as String] ?? "", "isOpen": row["status"] as String == "open",
            "signupOpen": row["status"] as String == "open" && now <= deadline,
            "mine": mine.map { statusNames[$0] ?? $0 } ?? "", "hasMine": mine != nil,
        ]
    }

    // MARK: - New

    static func newForm(_ ctx: Context) throws -> HTTPResponse {
        try render(ctx, FormState(values: ["capacity": "20", "hours": ""]))
    }

    static func render(_ ctx: Context, _ state: FormState, status: HTTPStatus = .ok) throws -> HTTPResponse {
        var data = state.context()
        let scope = ctx.scopeCondition(on: "g.path")
        let (categories, teams) = try ctx.database.read { db in
            (try Choices.categories(db), try Row.fetchAll(db, sql: """
                SELECT t.id, t.name FROM teams t JOIN grids g ON g.id = t.grid_id WHERE t.active = 1 AND \(scope.sql) ORDER BY t.name LIMIT 500
                """, arguments: StatementArguments(scope.arguments)).map { (String($0["id"] as Int64), $0["name"] as String) })
        }
        data["categoryOptions"] = FormState.options(categories, selected: state.value("category_id"))
        data["teamOptions"] = FormState.options(teams, selected: state.value("team_id"))
        data["gridOptions"] = try Choices.grids(ctx, selected: state.value("grid_id"))
        data["tabs"] = VolunteeringTabs.context(ctx, current: "/activities")
        return try ctx.render("volunteering/activities/form", title: "发布志愿服务活动", data, status: status)
    }

    static func create(_ ctx: Context) throws -> HTTPResponse {
        var state = FormState()
        for name in ["title", "category_id", "team_id", "grid_id", "place", "starts_at", "ends_at", "signup_deadline", "capacity", "hours"] {
            state.values[name] = ctx.formText(name, max: name == "title" ? 80 : 100)
        }
        state.values["description"] = ctx.formText("description", max: 1000)
        if state.value("title").isEmpty { state.addError("请填写活动名称", for: "title") }
        let categories = try ctx.database.read { db in try Choices.categories(db) }
        if !categories.contains(where: { $0.value == state.value("category_id") }) { state.addError("请选择服务类别", for: "category_id") }
        let gridID = try Choices.gridInScope(ctx, state.value("grid_id"))
        if gridID == nil { state.addError("请选择管辖范围内的网格", for: "grid_id") }
        var teamID: Int64?
        if !state.value("team_id").isEmpty {
            teamID = Int64(state.value("team_id"))
            if teamID == nil { state.addError("请选择组织队伍", for: "team_id") }
        }
        let startsAt = LocalMinute.parse(state.value("starts_at"))
        let endsAt = LocalMinute.parse(state.value("ends_at"))
        let deadline = LocalMinute.parse(state.value("signup_deadline"))
        let example = "例如 2026-05-01 09:00"
        if startsAt == nil { state.addError("请填写开始时间，\(example)", for: "starts_at") }
        if endsAt == nil { state.addError("请填写结束时间，\(example)", for: "ends_at") }
        if deadline == nil { state.addError("请填写报名截止时间，\(example)", for: "signup_deadline") }
        if let startsAt, let endsAt, endsAt < startsAt { state.addError("结束时间不能早于开始时间", for: "ends_at") }
        if let endsAt, let deadline, deadline > endsAt { state.addError("报名截止时间不能晚于活动结束时间", for: "signup_deadline") }
        let capacity = Int(state.value("capacity"))
        if capacity == nil || !(1...10000).contains(capacity!) { state.addError("名额应为 1 到 10000 之间的整数", for: "capacity") }
        var hours = Double(state.value("hours"))
        if state.value("hours").isEmpty, let startsAt, let endsAt, let span = LocalMinute.hours(from: startsAt, to: endsAt) {
            hours = min(24, (span * 2).rounded() / 2)
        }
        if hours == nil || !(0...24).contains(hours!) || hours!.isNaN { state.addError("服务时长应为 0 到 24 之间的小时数", for: "hours") }
        guard let gridID, let startsAt, let endsAt, let deadline, let capacity, let hours,
              let categoryID = Int64(state.value("category_id")), !state.hasErrors else {
            return try render(ctx, state, status: .unprocessableContent)
        }
        return try ctx.transition {
            let id = try ctx.volunteering.createActivity(
                .init(title: state.value("title"), categoryID: categoryID, teamID: teamID, gridID: gridID, place: state.value("place"),
                      description: state.value("description"), startsAt: startsAt, endsAt: endsAt, signupDeadline: deadline,
                      capacity: capacity, hours: hours),
                by: try ctx.volunteerActor())
            return ctx.redirect("/activities/\(id)", flash: .success("活动已发布，党员可以报名了。"))
        }
    }

    // MARK: - Detail

    static func show(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let now = LocalMinute.string(ctx.clock.now)
        guard let row = try ctx.database.read({ db in
            try Row.fetchOne(db, sql: """
                SELECT a.*, c.name AS category, g.name AS grid, g.path, t.name AS team, NULL AS mine,
                       (SELECT count(*) FROM activity_signups s WHERE s.activity_id = a.id AND s.status IN ('confirmed', 'attended', 'no_show')) AS taken,
                       (SELECT count(*) FROM activity_signups s WHERE s.activity_id = a.id AND s.status = 'waitlisted') AS waiting
                FROM activities a JOIN grids g ON g.id = a.grid_id JOIN service_categories c ON c.id = a.category_id
                LEFT JOIN teams t ON t.id = a.team_id WHERE a.id = ?
                """, arguments: [id])
        }) else { throw HTTPError(.notFound) }
        try ctx.authorizeReach(.viewVolunteering, path: row["path"])
        var activity = summary(row, now: now)
        activity["description"] = Choices.shown(row["description"] as String)
        let code: String = row["checkin_code"]
        // Staff, grid workers and coordinators see who signed up; staff and grid workers check in and close.
        let isStaff = !ctx.may(.joinVolunteering)
        let canManage = ctx.may(.manageVolunteering)
        var data: [String: Any] = ["tabs": VolunteeringTabs.context(ctx, current: "/activities"), "isStaff": isStaff,
                                   "isMember": ctx.may(.joinVolunteering)]
        let signups = try ctx.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT s.resident_id, s.seq, s.status, s.checked_in_at, r.name, r.id_number
                FROM activity_signups s JOIN residents r ON r.id = s.resident_id WHERE s.activity_id = ? ORDER BY s.seq
                """, arguments: [id])
        }
        if let identity = ctx.may(.joinVolunteering) ? try ctx.volunteerIdentity() : nil,
           let mine = signups.first(where: { $0["resident_id"] as Int64 == identity.residentID && $0["status"] as String != "cancelled" }) {
            let status: String = mine["status"]
            let position = signups.filter { $0["status"] as String == "waitlisted" && ($0["seq"] as Int64) <= (mine["seq"] as Int64) }.count
            data["mine"] = ["statusName": statusNames[status] ?? status, "isWaitlisted": status == "waitlisted", "position": position,
                            "canCancel": (status == "confirmed" || status == "waitlisted") && activity["signupOpen"] as? Bool == true,
                            "code": status == "confirmed" || status == "waitlisted" ? AttendeeCode.code(activityCode: code, seq: mine["seq"]) as Any : false,
                            "isConfirmed": status == "confirmed", "isAttended": status == "attended"]
        }
        if isStaff {
            func people(_ status: String) -> [[String: Any]] {
                signups.filter { $0["status"] as String == status }.enumerated().map { index, row in
                    ["residentID": String(row["resident_id"] as Int64), "name": row["name"] as String, "maskedID": Mask.idNumber(row["id_number"]),
                     "position": index + 1, "checkedInAt": ChinaDate.display(row["checked_in_at"])]
                }
            }
            let confirmed = people("confirmed"), attended = people("attended"), waitlisted = people("waitlisted")
            let noShows = people("no_show"), cancelled = people("cancelled")
            data["confirmed"] = confirmed
            data["hasConfirmed"] = !confirmed.isEmpty
            data["attended"] = attended
            data["hasAttended"] = !attended.isEmpty
            data["waitlisted"] = waitlisted
            data["hasWaitlisted"] = !waitlisted.isEmpty
            data["noShows"] = noShows
            data["hasNoShows"] = !noShows.isEmpty
            data["cancelledCount"] = Choices.shown(cancelled.count)
            data["canCheckIn"] = canManage && activity["isOpen"] as? Bool == true
            data["canClose"] = canManage && activity["isOpen"] as? Bool == true && now >= row["starts_at"] as String
        }
        data["activity"] = activity
        return try ctx.render("volunteering/activities/show", title: row["title"] as String, data)
    }

    // MARK: - Transitions

    static func signUp(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        return try ctx.transition {
            let result = try ctx.volunteering.signUp(id, by: try ctx.volunteerActor())
            switch result {
            case .confirmed:
                return ctx.redirect("/activities/\(id)", flash: .success("报名成功！请按时参加，到场时向工作人员出示签到码。"))
            case .waitlisted(let position):
                return ctx.redirect("/activities/\(id)", flash: .info("名额已满，您在候补名单第 \(position) 位；有人取消时按顺序递补。"))
            }
        }
    }

    static func cancel(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        return try ctx.transition {
            try ctx.volunteering.cancel(id, by: try ctx.volunteerActor())
            return ctx.redirect(ctx.formText("back", max: 10) == "me" ? "/me" : "/activities/\(id)", flash: .success("已取消报名。"))
        }
    }

    static func checkIn(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let form = ctx.form
        var residentIDs: [Int64] = []
        for text in form.values(for: "member_id").prefix(10_000) {
            guard let value = Int64(text.trimmingCharacters(in: .whitespaces)), value > 0 else {
                throw HTTPError(.unprocessableContent, "签到人员无效，请刷新页面后重新勾选。")
            }
            residentIDs.append(value)
        }
        let code = ctx.formText("code", max: 12).replacingOccurrences(of: " ", with: "")
        return try ctx.transition {
            let count = try ctx.volunteering.checkIn(id, residentIDs: residentIDs, code: code, by: try ctx.volunteerActor())
            return ctx.redirect("/activities/\(id)", flash: .success(count == 0 ? "所选人员均已签到。" : "已签到 \(count) 人。"))
        }
    }

    static func close(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        return try ctx.transition {
            let result = try ctx.volunteering.close(id, by: try ctx.volunteerActor())
            return ctx.redirect("/activities/\(id)", flash: .success("活动已结束：为 \(result.credited) 人记录了服务时长，未到场 \(result.noShows) 人。"))
        }
    }
}
