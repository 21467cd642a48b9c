import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// 入住 / 换房, 迁出, ending one residence, and merging duplicate records.
enum ResidentMoves {
    // MARK: - Move in / move

    static func moveForm(_ ctx: Context) throws -> HTTPResponse {
        let row = try ctx.residentInScope(.manageResidents)
        if row.isMerged { return ctx.redirect("/residents/\(row.id)", flash: .error("该记录已合并到其他记录，请在保留的记录上办理。")) }
        var state = FormState()
        for name in HousePicker.fields { state.values[name] = String((ctx.query[name] ?? "").prefix(40)) }
        state.values["relation"] = "resident"
        state.values["started_on"] = ChinaDate.today(ctx.clock.now)
        let homes = try ResidentDetail.currentHouses(ctx, residentID: row.id)
        state.values["mode"] = homes.contains { $0.relation != Vocabulary.relationName("owner") } ? "replace" : "add"
        return try renderMove(ctx, row, state: state)
    }

    static func move(_ ctx: Context) throws -> HTTPResponse {
        let row = try ctx.residentInScope(.manageResidents)
        let form = ctx.form
        var state = FormState()
        HousePicker.keep(form, in: &state)
        let relation = ResidentForms.parseRelation(form, state: &state)
        let mode = ctx.field("mode", max: 10)
        state.values["mode"] = mode
        if mode != "add" && mode != "replace" { state.addError("请选择办理方式", for: "mode") }
        state.values["started_on"] = ctx.field("started_on", max: 20)
        let startedOn = RecordResponses.date(state.value("started_on"), field: "started_on", label: "入住日期", today: ChinaDate.today(ctx.clock.now), state: &state)
        let houseID = try HousePicker.resolve(ctx, state: &state)
        guard let relation, let startedOn, let houseID, !state.hasErrors else {
            return try renderMove(ctx, row, state: state, status: .unprocessableContent)
        }
        let back = "/residents/\(row.id)"
        return try RecordResponses.perform(ctx, back: back) {
            do {
                if mode == "replace" {
                    try ctx.residentStore.move(row.id, houseID: houseID, relation: relation, startedOn: startedOn,
                                               principal: ctx.principal, by: ctx.actor)
                } else {
                    try ctx.residentStore.addResidence(row.id, houseID: houseID, relation: relation, startedOn: startedOn,
                                                       principal: ctx.principal, by: ctx.actor)
                }
            } catch let errors as FieldErrors {
                for (field, message) in errors.errors { state.addError(message, for: field) }
                return try renderMove(ctx, row, state: state, status: .unprocessableContent)
            }
            return ctx.redirect(back, flash: .success(mode == "replace" ? "已办理换房，原住房已记入历史。" : "已登记入住新房屋。"))
        }
    }

    static func renderMove(_ ctx: Context, _ row: ResidentRow, state: FormState, status: HTTPStatus = .ok) throws -> HTTPResponse {
        var data = state.context()
        data["resident"] = ["id": String(row.id), "name": row.name, "isMovedOut": row.isMovedOut]
        let homes = try ResidentDetail.currentHouses(ctx, residentID: row.id)
        data["homes"] = homes.map { ["address": $0.address, "relation": $0.relation, "since": $0.since] }
        data["hasHomes"] = !homes.isEmpty
        let relation = state.value("relation").isEmpty ? "resident" : state.value("relation")
        data["relationOptions"] = FormState.options(Vocabulary.relations.map { ($0.code, $0.name) }, selected: relation)
        data["modeReplace"] = state.value("mode") != "add"
        data["modeAdd"] = state.value("mode") == "add"
        data["today"] = ChinaDate.today(ctx.clock.now)
        data.merge(try HousePicker.context(ctx, state: state)) { _, new in new }
        return try ctx.render("residents/records/move", title: "换房 / 入住 · \(row.name)", data, status: status)
    }

    // MARK: - Move out

    static func moveOutForm(_ ctx: Context) throws -> HTTPResponse {
        let row = try ctx.residentInScope(.manageResidents)
        if !row.isActive {
            return ctx.redirect("/residents/\(row.id)", flash: .error(row.isMerged ? "该记录已合并到其他记录。" : "该居民已迁出。"))
        }
        return try renderMoveOut(ctx, row, state: FormState(values: ["ended_on": ChinaDate.today(ctx.clock.now)]))
    }

    static func moveOut(_ ctx: Context) throws -> HTTPResponse {
        let row = try ctx.residentInScope(.manageResidents)
        var state = FormState()
        state.values["ended_on"] = ctx.field("ended_on", max: 20)
        let endedOn = RecordResponses.date(state.value("ended_on"), field: "ended_on", label: "迁出日期", today: ChinaDate.today(ctx.clock.now), state: &state)
        guard let endedOn, !state.hasErrors else { return try renderMoveOut(ctx, row, state: state, status: .unprocessableContent) }
        let back = "/residents/\(row.id)"
        return try RecordResponses.perform(ctx, back: back) {
            do {
                try ctx.residentStore.moveOut(row.id, endedOn: endedOn, principal: ctx.principal, by: ctx.actor)
            } catch let errors as FieldErrors {
                for (field, message) in errors.errors { state.addError(message, for: field) }
                return try renderMoveOut(ctx, row, state: state, status: .unprocessableContent)
            }
            return ctx.redirect(back, flash: .success("“\(row.name)”已迁出，历史记录已保留。"))
        }
    }

    static func renderMoveOut(_ ctx: Context, _ row: ResidentRow, state: FormState, status: HTTPStatus = .ok) throws -> HTTPResponse {
        var data = state.context()
        data["resident"] = ["id": String(row.id), "name": row.name, "maskedID": Mask.idNumber(row.idNumber)]
        let homes = try ResidentDetail.currentHouses(ctx, residentID: row.id)
        data["homes"] = homes.map { ["address": $0.address, "relation": $0.relation, "since": $0.since] }
        data["hasHomes"] = !homes.isEmpty
        data["today"] = ChinaDate.today(ctx.clock.now)
        return try ctx.render("residents/records/move_out_confirm", title: "迁出 · \(row.name)", data, status: status)
    }

    // MARK: - End one residence

    static func endResidence(_ ctx: Context) throws -> HTTPResponse {
        let row = try ctx.residentInScope(.manageResidents)
        let residenceID = try ctx.request.id("residenceId")
        let back = "/residents/\(row.id)"
        let reason = ctx.field("reason", max: 20)
        guard reason == "moved" || reason == "corrected" else { return ctx.redirect(back, flash: .error("请选择结束原因。")) }
        var state = FormState()
        let endedOn = RecordResponses.date(ctx.field("ended_on", max: 20), field: "ended_on", label: "结束日期", today: ChinaDate.today(ctx.clock.now), state: &state)
        guard let endedOn else { return ctx.redirect(back, flash: .error(state.errors["ended_on"] ?? "结束日期无效。")) }
        return try RecordResponses.perform(ctx, back: back) {
            try ctx.residentStore.endResidence(row.id, residenceID: residenceID, endedOn: endedOn, reason: reason,
                                               principal: ctx.principal, by: ctx.actor)
            return ctx.redirect(back, flash: .success(reason == "corrected" ? "已更正：该人屋关系已结束。" : "该人屋关系已结束，已记入历史。"))
        }
    }

    // MARK: - Merge

    static let staffOnlyMessage = "合并居民记录只能由社区工作人员操作。网格员发现重复记录时，请联系社区工作人员处理。"

    /// Merging rewrites two records: staff only (grid workers may manage records but not merge).
    static func requireStaff(_ ctx: Context) throws {
        guard ctx.may(.mergeResidents) else { throw HTTPError(.forbidden, staffOnlyMessage) }
    }

    /// Finds the other record from what was typed: a record number (`12`, `#12`) or an ID number.
    static func findOther(_ ctx: Context, _ text: String) throws -> ResidentRow? {
        var text = text.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("#") { text.removeFirst() }
        return try ctx.database.read { db in
            if text.count >= 15, case .success(let number) = IDNumber.parse(text, today: ctx.clock.now),
               let id = try Int64.fetchOne(db, sql: "SELECT id FROM residents WHERE id_number = ?", arguments: [number.value]) {
                return try ResidentRow.find(db, id)
            }
            guard let id = Int64(text), id > 0 else { return nil }
            return try ResidentRow.find(db, id)
        }
    }

    static func mergePreview(_ ctx: Context) throws -> HTTPResponse {
        let row = try ctx.residentInScope(.manageResidents)
        try requireStaff(ctx)
        if row.isMerged { return ctx.redirect("/residents/\(row.id)", flash: .error("该记录已合并到其他记录，请在保留的记录上操作。")) }
        let otherText = String((ctx.query["other"] ?? "").prefix(40))
        var data: [String: Any] = ["kept": ["id": String(row.id), "name": row.name], "otherText": otherText]
        if !otherText.isEmpty {
            let other = try findOther(ctx, otherText)
            if let other, other.id != row.id, !other.isMerged, let path = other.scopePath, ctx.scope.contains(path) {
                data["comparison"] = try comparison(ctx, kept: row, other: other)
                data["other"] = ["id": String(other.id), "name": other.name]
            } else if other?.id == row.id {
                data["lookupError"] = "不能与自己合并，请输入另一条记录"
            } else if other?.isMerged == true {
                data["lookupError"] = "该记录已经合并过了"
            } else {
                data["lookupError"] = "没有找到该记录，或不在您的管辖范围内"
            }
        }
        data["candidates"] = try candidates(ctx, row)
        return try ctx.render("residents/records/merge_preview", title: "合并重复记录 · \(row.name)", data,
                              status: data["lookupError"] == nil ? .ok : .unprocessableContent)
    }

    /// Possible duplicates in the same estate: the same name, or the same birth date and surname.
    static func candidates(_ ctx: Context, _ row: ResidentRow) throws -> [[String: Any]] {
        guard let path = row.scopePath else { return [] }
        let scope = ctx.scope
        return try ctx.database.read { db in
            let area = GridPath.subtreeRange(of: try ResidentStore.estatePath(db, forBuildingPath: path))
            let rows = try Row.fetchAll(db, sql: """
                SELECT r.id, r.name, r.birth_date, r.id_number, r.building_id, b.path FROM residents r JOIN grids b ON b.id = r.building_id
                WHERE r.id <> ? AND r.status = 'active' AND b.path >= ? AND b.path < ?
                  AND (r.name = ? OR (r.birth_date = ? AND substr(r.name, 1, 1) = substr(?, 1, 1)))
                ORDER BY r.name = ? DESC, r.id LIMIT 20
                """, arguments: [row.id, area.lower, area.upper, row.name, row.birthDate, row.name, row.name])
            let visible = rows.filter { scope.contains($0["path"]) }
            let places = try Place.load(db, buildingIDs: visible.map { $0["building_id"] as Int64 })
            return visible.map { item in
                let idNumber: String = item["id_number"]
                let buildingID: Int64 = item["building_id"]
                return ["id": String(item["id"] as Int64), "name": item["name"] as String, "birthDate": item["birth_date"] as String,
                        "maskedID": Mask.idNumber(idNumber), "place": places[buildingID]?.short ?? ""]
            }
        }
    }

    /// Both records side by side, field by field.
    static func comparison(_ ctx: Context, kept: ResidentRow, other: ResidentRow) throws -> [String: Any] {
        try ctx.database.read { db in
            func tags(_ id: Int64) throws -> String {
                try String.fetchAll(db, sql: """
                    SELECT t.name FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id WHERE rt.resident_id = ? ORDER BY t.sort_order
                    """, arguments: [id]).joined(separator: "、")
            }
            func homes(_ id: Int64) throws -> String {
                try ResidentDetail.currentHouses(db, residentID: id).map { "\($0.address)（\($0.relation)）" }.joined(separator: "；")
            }
            func count(_ sql: String, _ id: Int64) throws -> String {
                String(try Int.fetchOne(db, sql: sql, arguments: [id]) ?? 0)
            }
            let residencesSQL = "SELECT count(*) FROM residences WHERE resident_id = ?"
            let visitsSQL = "SELECT count(*) FROM visits WHERE resident_id = ?"
            let rows: [(String, String, String)] = [
                ("记录编号", "#\(kept.id)", "#\(other.id)"),
                ("姓名", kept.name, other.name),
                ("身份证号", Mask.idNumber(kept.idNumber), Mask.idNumber(other.idNumber)),
                ("性别", RecordLabels.sex(kept.sex), RecordLabels.sex(other.sex)),
                ("出生日期", kept.birthDate, other.birthDate),
                ("手机号", Mask.phone(kept.phone), Mask.phone(other.phone)),
                ("政治面貌", Vocabulary.politicalStatusName(kept.politicalStatus), Vocabulary.politicalStatusName(other.politicalStatus)),
                ("人户分离", kept.separated ? "是" : "否", other.separated ? "是" : "否"),
                ("状态", RecordLabels.status(kept.status), RecordLabels.status(other.status)),
                ("现住房", try homes(kept.id), try homes(other.id)),
                ("标签", try tags(kept.id), try tags(other.id)),
                ("人屋关联记录", try count(residencesSQL, kept.id), try count(residencesSQL, other.id)),
                ("走访记录", try count(visitsSQL, kept.id), try count(visitsSQL, other.id)),
                ("备注", kept.notes, other.notes),
                ("登记时间", ChinaDate.localTime(kept.createdAt), ChinaDate.localTime(other.createdAt)),
            ]
            return ["rows": rows.map { ["label": $0.0, "kept": $0.1, "other": $0.2, "differs": $0.1 != $0.2] }]
        }
    }

    static func merge(_ ctx: Context) throws -> HTTPResponse {
        let row = try ctx.residentInScope(.manageResidents)
        try requireStaff(ctx)
        let back = "/residents/\(row.id)"
        guard let otherID = Int64(ctx.field("other_id", max: 20)), otherID > 0 else {
            return ctx.redirect("/residents/\(row.id)/merge", flash: .error("请先选择要合并的重复记录。"))
        }
        return try RecordResponses.perform(ctx, back: "/residents/\(row.id)/merge?other=\(otherID)") {
            try ctx.residentStore.merge(otherID, into: row.id, principal: ctx.principal, by: ctx.actor)
            return ctx.redirect(back, flash: .success("已将重复记录 #\(otherID) 合并到本记录，原记录保留并标记为“已合并”。"))
        }
    }
}
