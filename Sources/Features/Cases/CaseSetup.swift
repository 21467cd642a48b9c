import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// Units 职能部门 and case categories, set by the admin (`/units`, `/case-categories`). Every
/// write is one transaction with its audit entry.
struct CaseSetupStore: Sendable {
    let database: AppDatabase

    struct UnitSnapshot: Encodable { let name, kind, path: String; let active: Bool }

    func createUnit(name: String, kind: String, parentID: Int64?, phone: String, principal: Principal?, actor: AuditActor) throws -> Int64 {
        try Policy.require(principal, .manageCaseSetup)
        let name = name.trimmingCharacters(in: .whitespaces)
        var errors: [String: String] = [:]
        if name.isEmpty || name.count > 40 { errors["name"] = "请填写部门名称（最多 40 字）" }
        guard let kind = UnitKind(rawValue: kind) else { throw FieldErrors("kind", "请选择部门类型") }
        guard errors.isEmpty else { throw FieldErrors(errors) }
        return try database.write { db in
            var parentPath = "/"
            if let parentID {
                guard let parent = try Units.find(db, parentID) else { throw FieldErrors("parent_id", "所选上级部门不存在") }
                parentPath = parent.path
            }
            if try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM units WHERE coalesce(parent_id, 0) = ? AND name = ?)",
                                 arguments: [parentID ?? 0, name]) == true {
                throw FieldErrors("name", "同一上级下已有名为“\(name)”的部门")
            }
            try db.execute(sql: """
                INSERT INTO units (parent_id, name, kind, path, phone, created_at) VALUES (?, ?, ?, '/0/', ?, \(Timestamp.nowSQL))
                """, arguments: [parentID, name, kind.rawValue, String(phone.prefix(30))])
            let id = db.lastInsertedRowID
            let path = parentPath + "\(id)/"
            try db.execute(sql: "UPDATE units SET path = ? WHERE id = ?", arguments: [path, id])
            try AuditLog.record(db, actor: actor, action: "unit.create", entityType: "unit", entityId: id, before: nil as UnitSnapshot?,
                                after: UnitSnapshot(name: name, kind: kind.rawValue, path: path, active: true))
            return id
        }
    }

    func setUnitActive(_ id: Int64, _ active: Bool, principal: Principal?, actor: AuditActor) throws {
        try Policy.require(principal, .manageCaseSetup)
        try database.write { db in
            guard let unit = try Units.find(db, id) else { throw NotFound() }
            try db.execute(sql: "UPDATE units SET active = ? WHERE id = ?", arguments: [active ? 1 : 0, id])
            try AuditLog.record(db, actor: actor, action: active ? "unit.activate" : "unit.deactivate", entityType: "unit", entityId: id,
                                before: UnitSnapshot(name: unit.name, kind: unit.kind.rawValue, path: unit.path, active: unit.active),
                                after: UnitSnapshot(name: unit.name, kind: unit.kind.rawValue, path: unit.path, active: active))
        }
    }

    struct Category: Encodable, Sendable {
        var code: String
        var name: String
        var defaultUnitID: Int64?
        var urgent: Bool
        var responseMinutes: Int
        var resolutionHours: Int
        var active: Bool
    }

    static func validate(_ c: Category) -> [String: String] {
        var errors: [String: String] = [:]
        if c.code.isEmpty || c.code.count > 10 || !c.code.allSatisfy({ ($0.isASCII && $0.isUppercase) || ($0.isASCII && $0.isNumber) }) {
            errors["code"] = "代码为 1–10 位大写字母或数字"
        }
        if c.name.isEmpty || c.name.count > 20 { errors["name"] = "请填写类别名称（最多 20 字）" }
        if !(1...10080).contains(c.responseMinutes) { errors["response_minutes"] = "响应时限为 1–10080 分钟" }
        if !(1...8760).contains(c.resolutionHours) { errors["resolution_hours"] = "办结时限为 1–8760 小时" }
        return errors
    }

    /// Creates (id nil) or updates a category; changed targets apply to cases reported afterwards.
    func saveCategory(_ id: Int64?, _ c: Category, principal: Principal?, actor: AuditActor) throws -> Int64 {
        try Policy.require(principal, .manageCaseSetup)
        let errors = Self.validate(c)
        guard errors.isEmpty else { throw FieldErrors(errors) }
        return try database.write { db in
            if let unit = c.defaultUnitID, try Units.find(db, unit) == nil { throw FieldErrors("default_unit_id", "所选部门不存在") }
            if try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM case_categories WHERE (code = ? OR name = ?) AND id IS NOT ?)",
                                 arguments: [c.code, c.name, id]) == true {
                throw FieldErrors("code", "代码或名称与已有类别重复")
            }
            let arguments: [any DatabaseValueConvertible] = [c.code, c.name, c.defaultUnitID, c.urgent ? 1 : 0, c.responseMinutes,
                                                             c.resolutionHours, c.active ? 1 : 0]
            if let id {
                let before = try Self.category(db, id)
                try db.execute(sql: """
                    UPDATE case_categories SET code = ?, name = ?, default_unit_id = ?, urgent = ?, response_minutes = ?,
                           resolution_hours = ?, active = ? WHERE id = ?
                    """, arguments: StatementArguments(arguments + [id]))
                try AuditLog.record(db, actor: actor, action: "case_category.update", entityType: "case_category", entityId: id,
                                    before: before, after: c)
                return id
            }
            try db.execute(sql: """
                INSERT INTO case_categories (code, name, default_unit_id, urgent, response_minutes, resolution_hours, active, sort_order)
                VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(sort_order), 0) + 1 FROM case_categories WHERE sort_order < 99))
                """, arguments: StatementArguments(arguments))
            let newID = db.lastInsertedRowID
            try AuditLog.record(db, actor: actor, action: "case_category.create", entityType: "case_category", entityId: newID,
                                before: nil as Category?, after: c)
            return newID
        }
    }

    static func category(_ db: Database, _ id: Int64) throws -> Category {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM case_categories WHERE id = ?", arguments: [id]) else { throw NotFound() }
        return Category(code: row["code"], name: row["name"], defaultUnitID: row["default_unit_id"], urgent: row["urgent"] as Int64 == 1,
                        responseMinutes: row["response_minutes"], resolutionHours: row["resolution_hours"], active: row["active"] as Int64 == 1)
    }
}

enum CaseSetupPages {
    static func store(_ ctx: Context) -> CaseSetupStore { CaseSetupStore(database: ctx.database) }

    static func units(_ ctx: Context, _ state: FormState = FormState(), status: HTTPStatus = .ok) throws -> HTTPResponse {
        let (units, handlers) = try ctx.database.read { db in
            (try Units.all(db), Dictionary(try Row.fetchAll(db, sql: """
                SELECT scope_unit_id AS id, count(*) AS n FROM users WHERE role = 'unit_handler' AND active = 1 GROUP BY scope_unit_id
                """).map { ($0["id"] as Int64, $0["n"] as Int) }, uniquingKeysWith: { a, _ in a }))
        }
        var data = state.context()
        data["units"] = units.map { unit -> [String: Any] in
            ["id": String(unit.id), "name": unit.name, "kind": unit.kind.label, "indent": String(repeating: "　", count: unit.depth),
             "active": unit.active, "handlers": handlers[unit.id] ?? 0]
        }
        data["hasUnits"] = !units.isEmpty
        data["parentOptions"] = FormState.options(Units.choices(units), selected: state.value("parent_id"))
        data["kindOptions"] = FormState.options(UnitKind.allCases.map { ($0.rawValue, $0.label) }, selected: state.value("kind"))
        return try ctx.render("cases/units", title: "职能部门", data, status: status)
    }

    static func unitsPage(_ ctx: Context) throws -> HTTPResponse { try units(ctx) }

    static func createUnit(_ ctx: Context) throws -> HTTPResponse {
        let form = ctx.form
        var state = FormState(values: ["name": form["name"] ?? "", "kind": form["kind"] ?? "", "parent_id": form["parent_id"] ?? "",
                                       "phone": form["phone"] ?? ""])
        do {
            _ = try store(ctx).createUnit(name: state.value("name"), kind: state.value("kind"), parentID: Int64(state.value("parent_id")),
                                          phone: state.value("phone"), principal: ctx.principal, actor: ctx.actor)
            return ctx.redirect("/units", flash: .success("已添加部门“\(state.value("name"))”。"))
        } catch let fields as FieldErrors {
            for (field, message) in fields.errors { state.addError(message, for: field) }
            return try units(ctx, state, status: .unprocessableContent)
        }
    }

    static func toggleUnit(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let active = ctx.form["active"] == "1"
        try store(ctx).setUnitActive(id, active, principal: ctx.principal, actor: ctx.actor)
        return ctx.redirect("/units", flash: .success(active ? "部门已启用。" : "部门已停用，不能再向其派单。"))
    }

    static func categories(_ ctx: Context, _ state: FormState = FormState(), status: HTTPStatus = .ok) throws -> HTTPResponse {
        let (rows, units) = try ctx.database.read { db in
            (try Row.fetchAll(db, sql: """
                SELECT k.*, u.name AS unit FROM case_categories k LEFT JOIN units u ON u.id = k.default_unit_id ORDER BY k.sort_order, k.id
                """), try Units.all(db, activeOnly: true))
        }
        var data = state.context()
        data["categories"] = rows.map { row -> [String: Any] in
            let id: Int64 = row["id"]
            return ["id": String(id), "code": row["code"] as String, "name": row["name"] as String, "urgent": row["urgent"] as Int64 == 1,
                    "responseMinutes": row["response_minutes"] as Int, "resolutionHours": row["resolution_hours"] as Int,
                    "active": row["active"] as Int64 == 1, "unit": shown(row["unit"]),
                    "unitOptions": FormState.options(Units.choices(units), selected: (row["default_unit_id"] as Int64?).map(String.init))]
        }
        data["unitOptions"] = FormState.options(Units.choices(units), selected: state.value("default_unit_id"))
        if state.values["response_minutes"] == nil { data["values"] = ["response_minutes": "30", "resolution_hours": "72"] }
        return try ctx.render("cases/categories", title: "诉求类别", data, status: status)
    }

    static func shown(_ text: String?) -> Any {
        guard let text, !text.isEmpty else { return false }
        return text
    }

    static func categoriesPage(_ ctx: Context) throws -> HTTPResponse { try categories(ctx) }

    static func saveCategory(_ ctx: Context) throws -> HTTPResponse {
        let form = ctx.form
        let id = ctx.request.parameters["id"].flatMap { Int64($0) }
        var state = FormState()
        for field in ["code", "name", "default_unit_id", "urgent", "response_minutes", "resolution_hours", "active"] {
            state.values[field] = (form[field] ?? "").trimmingCharacters(in: .whitespaces)
        }
        let category = CaseSetupStore.Category(
            code: state.value("code").uppercased(), name: state.value("name"), defaultUnitID: Int64(state.value("default_unit_id")),
            urgent: state.value("urgent") == "1", responseMinutes: Int(state.value("response_minutes")) ?? 0,
            resolutionHours: Int(state.value("resolution_hours")) ?? 0, active: id == nil || state.value("active") == "1")
        do {
            _ = try store(ctx).saveCategory(id, category, principal: ctx.principal, actor: ctx.actor)
            return ctx.redirect("/case-categories", flash: .success("已保存类别“\(category.name)”。"))
        } catch let fields as FieldErrors {
            for (field, message) in fields.errors { state.addError(message, for: field) }
            return try categories(ctx, state, status: .unprocessableContent)
        }
    }
}
