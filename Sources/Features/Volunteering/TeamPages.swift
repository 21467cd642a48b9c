import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// Volunteer teams 志愿服务队 / 帮帮团: list in scope, new, detail with its people; staff add
/// people found by name or the last 4 characters of the ID number, remove them, pick a leader.
enum TeamPages {
    static func index(_ ctx: Context) throws -> HTTPResponse {
        let scope = ctx.volunteerReach(on: "g.path")
        let rows = try ctx.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT t.id, t.name, k.name AS kind, g.name AS grid, r.name AS leader,
                       (SELECT count(*) FROM team_members m WHERE m.team_id = t.id) AS people,
                       (SELECT count(*) FROM activities a WHERE a.team_id = t.id) AS activities
                FROM teams t JOIN team_kinds k ON k.id = t.kind_id JOIN grids g ON g.id = t.grid_id
                LEFT JOIN residents r ON r.id = t.leader_id
                WHERE \(scope.sql) ORDER BY g.path, t.name LIMIT 500
                """, arguments: StatementArguments(scope.arguments))
        }
        let teams: [[String: Any]] = rows.map { row in
            ["id": String(row["id"] as Int64), "name": row["name"] as String, "kind": row["kind"] as String,
             "grid": row["grid"] as String, "leader": Choices.shown(row["leader"] as String?), "people": row["people"] as Int,
             "activities": row["activities"] as Int]
        }
        return try ctx.render("volunteering/teams/index", title: "志愿服务队", [
            "tabs": VolunteeringTabs.context(ctx, current: "/teams"), "teams": teams, "hasTeams": !teams.isEmpty,
            "canManage": ctx.may(.manageVolunteering),
        ])
    }

    static func newForm(_ ctx: Context) throws -> HTTPResponse {
        try render(ctx, FormState())
    }

    static func render(_ ctx: Context, _ state: FormState, status: HTTPStatus = .ok) throws -> HTTPResponse {
        var data = state.context()
        let kinds = try ctx.database.read { db in try Choices.teamKinds(db) }
        data["kindOptions"] = FormState.options(kinds, selected: state.value("kind_id"))
        data["gridOptions"] = try Choices.grids(ctx, selected: state.value("grid_id"))
        data["tabs"] = VolunteeringTabs.context(ctx, current: "/teams")
        return try ctx.render("volunteering/teams/form", title: "新建志愿服务队", data, status: status)
    }

    static func create(_ ctx: Context) throws -> HTTPResponse {
        var state = FormState()
        for name in ["name", "kind_id", "grid_id"] { state.values[name] = ctx.formText(name, max: 60) }
        state.values["description"] = ctx.formText("description", max: 500)
        if state.value("name").isEmpty { state.addError("请填写队伍名称", for: "name") }
        let kinds = try ctx.database.read { db in try Choices.teamKinds(db) }
        if !kinds.contains(where: { $0.value == state.value("kind_id") }) { state.addError("请选择队伍类型", for: "kind_id") }
        let gridID = try Choices.gridInScope(ctx, state.value("grid_id"))
        if gridID == nil { state.addError("请选择管辖范围内的网格", for: "grid_id") }
        guard let gridID, let kindID = Int64(state.value("kind_id")), !state.hasErrors else {
            return try render(ctx, state, status: .unprocessableContent)
        }
        do {
            let id = try ctx.volunteering.createTeam(
                .init(name: state.value("name"), kindID: kindID, gridID: gridID, description: state.value("description")),
                by: try ctx.volunteerActor())
            return ctx.redirect("/teams/\(id)", flash: .success("已新建队伍“\(state.value("name"))”。"))
        } catch let refusal as VolunteerRefusal where refusal.status == .conflict {
            state.addError(refusal.message, for: "name")
            return try render(ctx, state, status: .conflict)
        } catch let refusal as VolunteerRefusal {
            throw HTTPError(refusal.status, refusal.message)
        }
    }

    static func show(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let canManage = ctx.may(.manageVolunteering)
        guard let team = try ctx.database.read({ db in
            try Row.fetchOne(db, sql: """
                SELECT t.id, t.name, t.description, t.leader_id, k.name AS kind, g.name AS grid, g.path
                FROM teams t JOIN team_kinds k ON k.id = t.kind_id JOIN grids g ON g.id = t.grid_id WHERE t.id = ?
                """, arguments: [id])
        }) else { throw HTTPError(.notFound) }
        try ctx.authorizeReach(.viewVolunteering, path: team["path"])
        let leaderID: Int64? = team["leader_id"]
        let people = try ctx.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.id, r.name, r.id_number, m.joined_on, EXISTS (SELECT 1 FROM party_members p WHERE p.resident_id = r.id) AS party
                FROM team_members m JOIN residents r ON r.id = m.resident_id WHERE m.team_id = ? ORDER BY m.joined_on, r.name
                """, arguments: [id])
        }
        let activities = try ctx.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, title, starts_at, status FROM activities WHERE team_id = ? ORDER BY starts_at DESC, id DESC LIMIT 20
                """, arguments: [id])
        }
        let members: [[String: Any]] = people.map { row in
            let residentID: Int64 = row["id"]
            return ["id": String(residentID), "name": row["name"] as String, "maskedID": Mask.idNumber(row["id_number"]),
                    "joinedOn": row["joined_on"] as String, "isLeader": residentID == leaderID, "isParty": row["party"] as Bool]
        }
        var data: [String: Any] = [
            "tabs": VolunteeringTabs.context(ctx, current: "/teams"),
            "team": ["id": String(id), "name": team["name"] as String, "kind": team["kind"] as String, "grid": team["grid"] as String,
                     "description": Choices.shown(team["description"] as String),
                     "leader": Choices.shown(members.first { $0["isLeader"] as? Bool == true }?["name"] as? String)],
            "activities": activities.map { row -> [String: Any] in
                ["id": String(row["id"] as Int64), "title": row["title"] as String, "startsAt": LocalMinute.display(row["starts_at"]),
                 "statusName": ActivityPages.activityStatusNames[row["status"] as String] ?? ""]
            },
            "hasActivities": !activities.isEmpty,
            "members": members, "hasMembers": !members.isEmpty, "memberCount": members.count, "canManage": canManage,
        ]
        if canManage {
            let q = String((ctx.query["q"] ?? "").trimmingCharacters(in: .whitespaces).prefix(30))
            data["q"] = q
            if !q.isEmpty {
                let inTeam = Set(people.map { $0["id"] as Int64 })
                let found = try candidates(ctx, q).filter { !inTeam.contains($0.id) }
                data["searched"] = true
                data["candidates"] = found.map { ["id": String($0.id), "name": $0.name, "maskedID": $0.maskedID, "place": $0.place] }
                data["hasCandidates"] = !found.isEmpty
            }
        }
        return try ctx.render("volunteering/teams/show", title: team["name"] as String, data)
    }

    struct Candidate {
        let id: Int64
        let name: String
        let maskedID: String
        let place: String
    }

    /// Residents in scope by name (its beginning) or by the last 4 characters of the ID number;
    /// any other number is refused, so a masked number cannot be recovered here either.
    static func candidates(_ ctx: Context, _ q: String) throws -> [Candidate] {
        let scope = ctx.scopeCondition(on: "g.path")
        var condition: String
        var arguments: [any DatabaseValueConvertible]
        let isNumber = q.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "x" || $0 == "X") }
        if isNumber {
            guard q.count == NumberQuery.visibleTailLength, case .visibleTail(let tail) = NumberQuery.classify(q) else {
                throw HTTPError(.badRequest, "请输入姓名，或身份证号后 4 位。")
            }
            let reversed = String(tail.reversed())
            condition = "r.id_number_rev >= ? AND r.id_number_rev < ?"
            arguments = [reversed, reversed + "~"]
        } else {
            condition = "r.name >= ? AND r.name < ?"
            arguments = [q, q + "\u{FFFF}"]
        }
        arguments += scope.arguments as [any DatabaseValueConvertible]
        return try ctx.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.id, r.name, r.id_number, g.name AS building FROM residents r JOIN grids g ON g.id = r.building_id
                WHERE \(condition) AND r.status = 'active' AND \(scope.sql) ORDER BY r.name, r.id LIMIT 20
                """, arguments: StatementArguments(arguments)).map {
                Candidate(id: $0["id"], name: $0["name"], maskedID: Mask.idNumber($0["id_number"]), place: $0["building"])
            }
        }
    }

    static func addMember(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        guard let residentID = Int64(ctx.formText("resident_id", max: 20)), residentID > 0 else {
            throw HTTPError(.unprocessableContent, "请先搜索并选择要加入的居民。")
        }
        return try ctx.transition {
            try ctx.volunteering.addTeamMember(teamID: id, residentID: residentID, by: try ctx.volunteerActor())
            return ctx.redirect("/teams/\(id)", flash: .success("已加入队伍。"))
        }
    }

    static func removeMember(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let residentID = try ctx.request.id("residentId")
        return try ctx.transition {
            try ctx.volunteering.removeTeamMember(teamID: id, residentID: residentID, by: try ctx.volunteerActor())
            return ctx.redirect("/teams/\(id)", flash: .success("已移出队伍。"))
        }
    }

    static func setLeader(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        guard let residentID = Int64(ctx.formText("resident_id", max: 20)), residentID > 0 else {
            throw HTTPError(.unprocessableContent, "请选择队长。")
        }
        return try ctx.transition {
            try ctx.volunteering.setTeamLeader(teamID: id, residentID: residentID, by: try ctx.volunteerActor())
            return ctx.redirect("/teams/\(id)", flash: .success("已设为队长。"))
        }
    }
}
