import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// `/residents/:id`: the record, its household, residence history, visits and audit trail; the
/// reveal, quick-tag and visit forms post here.
enum ResidentDetail {
    /// A current residence of a person, for address lines.
    struct CurrentHouse {
        let houseID: Int64
        let address: String
        let relation: String
        let since: String
    }

    static func currentHouses(_ ctx: Context, residentID: Int64) throws -> [CurrentHouse] {
        try ctx.database.read { db in try currentHouses(db, residentID: residentID) }
    }

    static func currentHouses(_ db: Database, residentID: Int64) throws -> [CurrentHouse] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT x.house_id, x.relation, x.started_on, h.unit, h.room, h.building_id
            FROM residences x JOIN houses h ON h.id = x.house_id
            WHERE x.resident_id = ? AND x.ended_on IS NULL
            ORDER BY x.relation = 'owner', x.started_on DESC, x.id DESC
            """, arguments: [residentID])
        let places = try Place.load(db, buildingIDs: rows.map { $0["building_id"] as Int64 })
        return rows.map { row in
            let buildingID: Int64 = row["building_id"]
            let unit: String = row["unit"], room: String = row["room"]
            return CurrentHouse(houseID: row["house_id"],
                                address: places[buildingID]?.house(unit: unit, room: room) ?? HouseLabel.house(unit: unit, room: room),
                                relation: Vocabulary.relationName(row["relation"]), since: row["started_on"])
        }
    }

    // MARK: - Page

    static func show(_ ctx: Context) throws -> HTTPResponse {
        let row = try ctx.residentInScope()
        return try render(ctx, row)
    }

    static func render(_ ctx: Context, _ row: ResidentRow, revealed: [String: String] = [:], revealError: String? = nil,
                       visitState: FormState? = nil, status: HTTPStatus = .ok) throws -> HTTPResponse {
        var data = try context(ctx, row)
        if let revealError { data["revealError"] = revealError }
        data["revealReasons"] = RevealReason.choices
        if let id = revealed["id_number"] { data["revealedID"] = id }
        if let phone = revealed["phone"] { data["revealedPhone"] = phone }
        var visit = visitState ?? FormState(values: ["visited_on": ChinaDate.today(ctx.clock.now)])
        if visit.value("visited_on").isEmpty { visit.values["visited_on"] = ChinaDate.today(ctx.clock.now) }
        data["visit"] = visit.context()
        return try ctx.render("residents/records/show", title: row.name, data, status: status)
    }

    static func context(_ ctx: Context, _ row: ResidentRow) throws -> [String: Any] {
        let today = ChinaDate.today(ctx.clock.now)
        return try ctx.database.read { db in
            var data: [String: Any] = [:]
            var resident: [String: Any] = [
                "id": String(row.id), "name": row.name, "status": RecordLabels.status(row.status),
                "statusBadge": RecordLabels.statusBadge(row.status), "isActive": row.isActive, "isMerged": row.isMerged,
                "isMovedOut": row.isMovedOut, "maskedID": Mask.idNumber(row.idNumber), "maskedPhone": Mask.phone(row.phone),
                "hasPhone": row.phone != nil, "sex": RecordLabels.sex(row.sex),
                "political": Vocabulary.politicalStatusName(row.politicalStatus), "separated": row.separated,
                "notes": row.notes, "hasNotes": !row.notes.isEmpty, "createdAt": ChinaDate.localTime(row.createdAt),
                "updatedAt": ChinaDate.localTime(row.updatedAt),
            ]
            if let age = ChinaDate.age(birthDate: row.birthDate, today: today) { resident["age"] = age }
            // With the birth date, a masked ID number leaves two digits unknown: only roles that
            // may reveal see it; the others see the age.
            if ctx.may(.revealPersonalData) { resident["birthDate"] = row.birthDate }
            data["resident"] = resident

            let canManage = ctx.may(.manageResidents) && !row.isMerged
            data["canManage"] = canManage
            data["canReveal"] = ctx.may(.revealPersonalData)
            data["canMerge"] = ctx.may(.mergeResidents) && !row.isMerged
            data["canMoveOut"] = canManage && row.isActive

            if let keptID = row.mergedIntoID, let kept = try ResidentRow.find(db, keptID) {
                data["mergedInto"] = ["id": String(kept.id), "name": kept.name]
            }
            let mergedFrom = try Row.fetchAll(db, sql: "SELECT id, name FROM residents WHERE merged_into_id = ? ORDER BY id",
                                              arguments: [row.id])
            data["hasMergedFrom"] = !mergedFrom.isEmpty
            data["today"] = today
            data["mergedFrom"] = mergedFrom.map { ["id": String($0["id"] as Int64), "name": $0["name"] as String] }

            // Tags.
            let tags = try Row.fetchAll(db, sql: """
                SELECT t.id, t.name, t.key_group FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id
                WHERE rt.resident_id = ? ORDER BY t.sort_order, t.id
                """, arguments: [row.id])
            let keyGroup = tags.contains { ($0["key_group"] as Int64? ?? 0) == 1 }
            data["tags"] = tags.map { ["name": $0["name"] as String, "keyGroup": ($0["key_group"] as Int64? ?? 0) == 1] }
            data["hasTags"] = !tags.isEmpty
            data["isKeyGroup"] = keyGroup
            if canManage {
                let options = try TagOption.load(db, residentID: row.id)
                data["tagOptions"] = TagOption.context(options, selected: Set(tags.map { String($0["id"] as Int64) }))
            }

            // Current houses and the household living there.
            let homes = try currentHouses(db, residentID: row.id)
            data["homes"] = homes.map { ["address": $0.address, "relation": $0.relation, "since": $0.since, "houseID": String($0.houseID)] }
            data["hasHomes"] = !homes.isEmpty
            let members = try Row.fetchAll(db, sql: """
                SELECT x.house_id, x.relation, r.id, r.name, r.sex, r.birth_date, r.id_number
                FROM residences x JOIN residents r ON r.id = x.resident_id
                WHERE x.ended_on IS NULL AND x.resident_id <> ?
                  AND x.house_id IN (SELECT house_id FROM residences WHERE resident_id = ? AND ended_on IS NULL)
                ORDER BY x.house_id, x.relation = 'owner' DESC, r.birth_date, r.id LIMIT 200
                """, arguments: [row.id, row.id])
            data["household"] = homes.map { home -> [String: Any] in
                let people = members.filter { ($0["house_id"] as Int64) == home.houseID }.map { member -> [String: Any] in
                    let birth: String = member["birth_date"]
                    let idNumber: String = member["id_number"]
                    return ["id": String(member["id"] as Int64), "name": member["name"] as String,
                            "relation": Vocabulary.relationName(member["relation"]), "sex": RecordLabels.sex(member["sex"]),
                            "age": ChinaDate.age(birthDate: birth, today: today).map(String.init) ?? "",
                            "maskedID": Mask.idNumber(idNumber)]
                }
                return ["address": home.address, "houseID": String(home.houseID), "members": people, "hasMembers": !people.isEmpty]
            }

            // Residence history.
            let history = try Row.fetchAll(db, sql: """
                SELECT x.id, x.house_id, x.relation, x.started_on, x.ended_on, x.end_reason, h.unit, h.room, h.building_id
                FROM residences x JOIN houses h ON h.id = x.house_id
                WHERE x.resident_id = ? ORDER BY x.ended_on IS NULL DESC, x.started_on DESC, x.id DESC
                """, arguments: [row.id])
            let places = try Place.load(db, buildingIDs: history.map { $0["building_id"] as Int64 })
            let openCount = history.filter { ($0["ended_on"] as String?) == nil }.count
            data["residences"] = history.map { item -> [String: Any] in
                let buildingID: Int64 = item["building_id"]
                let unit: String = item["unit"], room: String = item["room"]
                let ended: String? = item["ended_on"]
                return ["id": String(item["id"] as Int64), "houseID": String(item["house_id"] as Int64),
                        "address": places[buildingID]?.house(unit: unit, room: room) ?? HouseLabel.house(unit: unit, room: room),
                        "relation": Vocabulary.relationName(item["relation"]), "startedOn": item["started_on"] as String,
                        "endedOn": ended ?? "", "current": ended == nil, "endReason": RecordLabels.endReason(item["end_reason"]),
                        "canEnd": canManage && ended == nil && openCount > 1]
            }
            data["hasResidences"] = !history.isEmpty
            data["canEndAny"] = canManage && openCount > 1

            // Visits.
            let visits = try Row.fetchAll(db, sql: """
                SELECT v.visited_on, v.note, u.display_name FROM visits v JOIN users u ON u.id = v.user_id
                WHERE v.resident_id = ? ORDER BY v.visited_on DESC, v.id DESC LIMIT 100
                """, arguments: [row.id])
            data["visits"] = visits.map { ["visitedOn": $0["visited_on"] as String, "note": $0["note"] as String,
                                           "by": $0["display_name"] as String] }
            data["hasVisits"] = !visits.isEmpty
            data["showVisits"] = keyGroup || !visits.isEmpty
            data["canVisit"] = keyGroup && row.isActive && ctx.may(.visitKeyGroups)
            if let last = visits.first?["visited_on"] as String?, let days = ChinaDate.days(from: last, to: today) {
                data["lastVisitDays"] = days
                data["visitOverdue"] = days > OverduePage.days
            } else if keyGroup {
                data["neverVisited"] = true
            }

            // Audit trail of this record.
            let page = try AuditLog.entries(db, filter: AuditFilter(entityType: "resident", entityID: row.id), limit: 50)
            data["audit"] = page.entries.map { entry -> [String: Any] in
                var summary = ""
                if entry.action == "resident.update" || entry.action.hasPrefix("resident.move") || entry.action == "resident.end_residence" {
                    summary = RecordLabels.changedFields(before: entry.beforeJSON, after: entry.afterJSON)
                } else if let reason = AuditLog.reason(inJSON: entry.afterJSON) {
                    summary = "原因：" + reason
                }
                return ["at": ChinaDate.localTime(entry.at), "actor": entry.actorName,
                        "action": ctx.env.modules.label(entry.action), "summary": summary,
                        "reveal": entry.action.hasPrefix("resident.reveal")]
            }
            data["hasAudit"] = !page.entries.isEmpty
            data["auditMore"] = page.nextBefore != nil
            return data
        }
    }

    // MARK: - Reveal

    /// Shows the full ID number or phone in this response only (never in a cookie, a URL or a
    /// list), after recording the reveal in the audit log.
    static func reveal(_ ctx: Context) throws -> HTTPResponse {
        let row = try ctx.residentInScope(.revealPersonalData)
        guard let field = ResidentStore.RevealField(rawValue: ctx.field("what", max: 20)) else {
            throw HTTPError(.badRequest, "请选择要显示的号码（身份证号或手机号）")
        }
        let reason: String
        switch RevealReason.parse(choice: ctx.field("reason", max: 20), other: ctx.field("reason_other", max: 200)) {
        case .success(let text): reason = text
        case .failure(let problem):
            return try render(ctx, row, revealError: problem.message, status: .unprocessableContent)
        }
        return try RecordResponses.perform(ctx, back: "/residents/\(row.id)") {
            let value = try ctx.residentStore.reveal(row.id, field, reason: reason, principal: ctx.principal, by: ctx.actor)
            var revealed: [String: String] = [:]
            if let value { revealed[field.rawValue] = value }
            return try render(ctx, row, revealed: revealed)
        }
    }

    // MARK: - Tags

    static func setTags(_ ctx: Context) throws -> HTTPResponse {
        let row = try ctx.residentInScope(.manageResidents)
        let texts = ctx.form.values(for: "tags").filter { !$0.isEmpty }
        let ids = texts.compactMap { Int64($0) }
        let back = "/residents/\(row.id)"
        guard ids.count == texts.count else { return ctx.redirect(back, flash: .error("所选标签无效，请刷新页面后重试。")) }
        return try RecordResponses.perform(ctx, back: back) {
            do {
                try ctx.residentStore.setTags(row.id, ids, principal: ctx.principal, by: ctx.actor)
            } catch let errors as FieldErrors {
                return ctx.redirect(back, flash: .error(errors.errors.values.first ?? "标签未保存"))
            }
            return ctx.redirect(back, flash: .success("已更新标签。"))
        }
    }

    // MARK: - Visits

    static func addVisit(_ ctx: Context) throws -> HTTPResponse {
        let row = try ctx.residentInScope(.visitKeyGroups)
        let user = try ctx.requireUser()
        var state = FormState()
        state.values["visited_on"] = ctx.field("visited_on", max: 20)
        let note = (ctx.form["note"] ?? "").replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        state.values["note"] = String(note.prefix(2_100))
        let visitedOn = RecordResponses.date(state.value("visited_on"), field: "visited_on", label: "走访日期", today: ChinaDate.today(ctx.clock.now), state: &state)
        if note.isEmpty { state.addError("请填写走访情况，例如身体状况、生活需求", for: "note") } else if note.count > 2_000 {
            state.addError("走访情况最多 2000 个字，当前 \(note.count) 个字", for: "note")
        }
        guard let visitedOn, !state.hasErrors else { return try render(ctx, row, visitState: state, status: .unprocessableContent) }
        return try RecordResponses.perform(ctx, back: "/residents/\(row.id)") {
            do {
                _ = try ctx.residentStore.addVisit(row.id, visitedOn: visitedOn, note: note, userID: user.id,
                                                   principal: ctx.principal, by: ctx.actor)
            } catch let errors as FieldErrors {
                for (field, message) in errors.errors { state.addError(message, for: field) }
                return try render(ctx, row, visitState: state, status: .unprocessableContent)
            }
            return ctx.redirect("/residents/\(row.id)#visits", flash: .success("已登记 \(visitedOn) 的走访。"))
        }
    }
}
