import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// `/residents/new` and `/residents/:id/edit`.
enum ResidentForms {
    static let personFields = ["name", "id_number", "phone", "political_status", "notes"]

    // MARK: - Parsing

    /// Validates the person's fields; every problem is recorded on its field in `state`.
    ///
    /// When editing (`existing`), the form does not carry the full ID and phone numbers (that
    /// would be an unaudited reveal): an empty `id_number` or `phone` keeps the stored value, and
    /// `clear_phone=1` removes the phone.
    static func parsePerson(_ form: FormData, existing: ResidentRow? = nil, today: Date, state: inout FormState) -> ResidentInput? {
        for name in personFields {
            state.values[name] = String((form[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(name == "notes" ? 2_100 : 120))
        }
        state.values["notes"] = state.value("notes").replacingOccurrences(of: "\r\n", with: "\n")
        let separated = form["separated"] == "1"
        if separated { state.values["separated"] = "1" }
        let tagTexts = form.values(for: "tags").filter { !$0.isEmpty }
        state.multiValues["tags"] = tagTexts

        let name = state.value("name")
        if name.isEmpty {
            state.addError("请填写姓名", for: "name")
        } else if name.count > 50 {
            state.addError("姓名最多 50 个字", for: "name")
        } else if name.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) {
            state.addError("姓名不能包含换行或制表符", for: "name")
        }

        var idNumber: IDNumber?
        let idText = state.value("id_number").isEmpty ? (existing?.idNumber ?? "") : state.value("id_number")
        switch IDNumber.parse(idText, today: today) {
        case .success(let value): idNumber = value
        case .failure(let problem): state.addError(problem.message, for: "id_number")
        }

        var phone: String?
        switch PhoneNumber.parse(state.value("phone")) {
        case .success(let value): phone = value
        case .failure(let problem): state.addError(problem.message, for: "phone")
        }
        if let existing, state.value("phone").isEmpty {
            if form["clear_phone"] == "1" { state.values["clear_phone"] = "1" } else { phone = existing.phone }
        }

        var political = state.value("political_status")
        if political.isEmpty { political = "13" }
        if !Vocabulary.politicalStatuses.contains(where: { $0.code == political }) {
            state.addError("请从列表中选择政治面貌", for: "political_status")
        }

        let notes = state.value("notes")
        if notes.count > 2_000 { state.addError("备注最多 2000 个字，当前 \(notes.count) 个字", for: "notes") }

        let tagIDs = tagTexts.compactMap { Int64($0) }
        if tagIDs.count != tagTexts.count { state.addError("所选标签无效，请刷新页面后重新选择", for: "tags") }

        guard !state.hasErrors, let idNumber else { return nil }
        return ResidentInput(name: name, idNumber: idNumber, phone: phone, politicalStatus: political, separated: separated,
                             notes: notes, tagIDs: tagIDs)
    }

    static func parseRelation(_ form: FormData, state: inout FormState) -> String? {
        let relation = (form["relation"] ?? "").trimmingCharacters(in: .whitespaces)
        state.values["relation"] = String(relation.prefix(20))
        guard Vocabulary.relations.contains(where: { $0.code == relation }) else {
            state.addError("请选择与房屋的关系", for: "relation")
            return nil
        }
        return relation
    }

    // MARK: - New

    static func newForm(_ ctx: Context) throws -> HTTPResponse {
        var state = FormState()
        let query = ctx.query
        for name in HousePicker.fields { state.values[name] = String((query[name] ?? "").trimmingCharacters(in: .whitespaces).prefix(40)) }
        state.values["relation"] = "resident"
        state.values["political_status"] = "13"
        state.values["started_on"] = ChinaDate.today(ctx.clock.now)
        if let id = Int64(state.value("house_id")) {
            // A house outside the scope is not disclosed.
            let house = try ctx.database.read { db in try HouseRow.find(db, id) }
            guard let house else { throw HTTPError(.notFound) }
            try ctx.authorize(.manageResidents, gridPath: house.buildingPath)
        }
        return try renderForm(ctx, resident: nil, state: state)
    }

    static func create(_ ctx: Context) throws -> HTTPResponse {
        let form = ctx.form
        var state = FormState()
        HousePicker.keep(form, in: &state)
        let input = parsePerson(form, today: ctx.clock.now, state: &state)
        let relation = parseRelation(form, state: &state)
        state.values["started_on"] = ctx.field("started_on", max: 20)
        let startedOn = RecordResponses.date(state.value("started_on"), field: "started_on", label: "入住日期", today: ChinaDate.today(ctx.clock.now), state: &state)
        let houseID = try HousePicker.resolve(ctx, state: &state)
        if state.value("started_on").isEmpty, let startedOn { state.values["started_on"] = startedOn }
        guard let input, let relation, let startedOn, let houseID, !state.hasErrors else {
            return try renderForm(ctx, resident: nil, state: state, status: .unprocessableContent)
        }
        do {
            let id = try ctx.residentStore.create(input, houseID: houseID, relation: relation, startedOn: startedOn,
                                                  confirmDuplicate: form["confirm_duplicate"] == "1",
                                                  principal: ctx.principal, by: ctx.actor)
            return ctx.redirect("/residents/\(id)", flash: .success("已登记居民“\(input.name)”。"))
        } catch {
            return try renderFailure(ctx, error, resident: nil, state: state)
        }
    }

    // MARK: - Edit

    static func editForm(_ ctx: Context) throws -> HTTPResponse {
        let row = try ctx.residentInScope(.manageResidents)
        if row.isMerged { return ctx.redirect("/residents/\(row.id)", flash: .error("该记录已合并到其他记录，不能再修改。")) }
        let tags = try ctx.database.read { db in
            try Int64.fetchAll(db, sql: "SELECT tag_id FROM resident_tags WHERE resident_id = ?", arguments: [row.id])
        }
        // ID and phone stay masked here: revealing them is a separate, audited action.
        var state = FormState(values: [
            "name": row.name, "political_status": row.politicalStatus, "notes": row.notes,
        ], multiValues: ["tags": tags.map(String.init)])
        if row.separated { state.values["separated"] = "1" }
        return try renderForm(ctx, resident: row, state: state)
    }

    static func update(_ ctx: Context) throws -> HTTPResponse {
        let row = try ctx.residentInScope(.manageResidents)
        let form = ctx.form
        var state = FormState()
        guard let input = parsePerson(form, existing: row, today: ctx.clock.now, state: &state) else {
            return try renderForm(ctx, resident: row, state: state, status: .unprocessableContent)
        }
        do {
            return try RecordResponses.perform(ctx, back: "/residents/\(row.id)") {
                try ctx.residentStore.update(row.id, input, confirmDuplicate: form["confirm_duplicate"] == "1",
                                             principal: ctx.principal, by: ctx.actor)
                return ctx.redirect("/residents/\(row.id)", flash: .success("已保存“\(input.name)”的信息。"))
            }
        } catch {
            return try renderFailure(ctx, error, resident: row, state: state)
        }
    }

    // MARK: - Rendering

    /// Re-renders the form for a refused save: field errors, a duplicate ID number, or the
    /// same-name warning. Other errors propagate.
    static func renderFailure(_ ctx: Context, _ error: any Error, resident: ResidentRow?, state: FormState) throws -> HTTPResponse {
        var state = state
        var extra: [String: Any] = [:]
        switch error {
        case let errors as FieldErrors:
            for (field, message) in errors.errors { state.addError(message, for: field) }
        case let duplicate as DuplicateIDNumber:
            if duplicate.visible {
                state.addError("该身份证号已登记：", for: "id_number")
                extra["duplicateOf"] = ["id": String(duplicate.existingID), "name": duplicate.name]
            } else {
                state.addError("该身份证号已在其他社区或网格登记，请联系上级核实", for: "id_number")
            }
        case let warning as PossibleDuplicates:
            extra["duplicates"] = warning.matches.map { match -> [String: Any] in
                ["id": String(match.id), "name": match.name, "maskedID": match.maskedIDNumber, "building": match.building,
                 "visible": match.visible]
            }
            extra["hasDuplicates"] = true
        default:
            throw error
        }
        return try renderForm(ctx, resident: resident, state: state, extra: extra, status: .unprocessableContent)
    }

    static func renderForm(_ ctx: Context, resident: ResidentRow?, state: FormState, extra: [String: Any] = [:],
                           status: HTTPStatus = .ok) throws -> HTTPResponse {
        var data = state.context()
        let political = state.value("political_status").isEmpty ? "13" : state.value("political_status")
        data["politicalOptions"] = FormState.options(Vocabulary.politicalStatuses.map { ($0.code, $0.name) }, selected: political)
        data["separatedChecked"] = state.value("separated") == "1"
        let tags = try ctx.database.read { db in try TagOption.load(db, residentID: resident?.id) }
        data["tagOptions"] = TagOption.context(tags, selected: Set(state.multiValues["tags"] ?? []))
        data["today"] = ChinaDate.today(ctx.clock.now)
        if let resident {
            data["isEdit"] = true
            data["action"] = "/residents/\(resident.id)/edit"
            data["cancelURL"] = "/residents/\(resident.id)"
            data["resident"] = ["id": String(resident.id), "name": resident.name, "maskedID": Mask.idNumber(resident.idNumber),
                                 "maskedPhone": Mask.phone(resident.phone), "hasPhone": resident.phone != nil]
            data["clearPhoneChecked"] = state.value("clear_phone") == "1"
            data["homes"] = try ResidentDetail.currentHouses(ctx, residentID: resident.id).map { ["address": $0.address, "relation": $0.relation] }
        } else {
            data["isNew"] = true
            data["action"] = "/residents/new"
            let relation = state.value("relation").isEmpty ? "resident" : state.value("relation")
            data["relationOptions"] = FormState.options(Vocabulary.relations.map { ($0.code, $0.name) }, selected: relation)
            let picker = try HousePicker.context(ctx, state: state)
            data.merge(picker) { _, new in new }
            if let house = picker["pickedHouse"] as? [String: Any], let id = house["id"] as? String {
                data["cancelURL"] = "/houses/\(id)"
            } else {
                data["cancelURL"] = "/residents"
            }
        }
        data.merge(extra) { _, new in new }
        let title = resident.map { "编辑居民信息 · \($0.name)" } ?? "登记居民"
        data["formTitle"] = resident == nil ? "登记居民" : "编辑居民信息"
        return try ctx.render("residents/records/form", title: title, data, status: status)
    }
}
