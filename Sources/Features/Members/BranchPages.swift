import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// `/branches…`: the tree of party organisations in scope, a new one, and one with its members.
enum BranchPages {
    /// Branches whose grid node lies in scope, in tree order; with their member counts for the
    /// branch list (a form's options need none).
    static func inScope(_ db: Database, scope: Scope, counts: Bool = false) throws -> [Row] {
        let c = scope.condition(on: "g.path")
        let members = counts
            ? "(SELECT count(*) FROM party_members m WHERE m.branch_id = b.id AND m.membership = 'active')" : "0"
        return try Row.fetchAll(db, sql: """
            SELECT b.id, b.name, b.kind, b.secretary, b.path, b.parent_id, g.name AS grid_name, \(members) AS members
            FROM branches b JOIN grids g ON g.id = b.grid_id WHERE \(c.sql) ORDER BY b.path LIMIT 2000
            """, arguments: StatementArguments(c.arguments))
    }

    static func options(_ db: Database, scope: Scope, selected: Int64?) throws -> [any TemplateRecord] {
        FormState.options(try inScope(db, scope: scope).map { row in
            let depth = (row["path"] as String).filter { $0 == "/" }.count - 2
            return (String(row["id"] as Int64), String(repeating: "　", count: max(0, depth)) + (row["name"] as String))
        }, selected: selected.map(String.init))
    }

    static func index(_ ctx: Context) throws -> HTTPResponse {
        let scope = ctx.scope
        let rows = try ctx.database.read { db in try inScope(db, scope: scope, counts: true) }
        let data: [String: Any] = [
            "branches": rows.map { row -> [String: Any] in
                let depth = (row["path"] as String).filter { $0 == "/" }.count - 2
                return ["id": row["id"] as Int64, "name": row["name"] as String, "indent": depth,
                        "kind": MemberVocabulary.label(row["kind"], in: MemberVocabulary.branchKinds),
                        "secretary": row["secretary"] as String, "grid": row["grid_name"] as String, "members": row["members"] as Int]
            },
            "hasBranches": !rows.isEmpty, "canManage": ctx.may(.manageMembers),
        ]
        return try ctx.render("branches/index", title: "党组织", data)
    }

    static func newForm(_ ctx: Context, state: FormState? = nil, status: HTTPStatus = .ok) throws -> HTTPResponse {
        let state = state ?? FormState(values: ["kind": "branch", "parent_id": ctx.query["parent_id"] ?? ""])
        let scope = ctx.scope
        var data = state.context()
        try ctx.database.read { db in
            data["parentOptions"] = try options(db, scope: scope, selected: canonicalID(state.value("parent_id")))
            data["gridOptions"] = try MemberPages.gridOptions(db, scope: scope, selected: canonicalID(state.value("grid_id")),
                                                             kinds: ["community", "estate", "grid", "building"])
        }
        data["kindOptions"] = FormState.options(MemberVocabulary.branchKinds.map { ($0.code, $0.label) }, selected: state.value("kind"))
        return try ctx.render("branches/new", title: "新建党组织", data, status: status)
    }

    static func create(_ ctx: Context) throws -> HTTPResponse {
        var state = FormState()
        for name in ["name", "kind", "grid_id", "parent_id", "secretary"] { state.values[name] = ctx.text(name, max: 80) }
        let name = state.value("name")
        if name.isEmpty { state.addError("请填写党组织名称", for: "name") } else if name.count > 60 { state.addError("名称最多 60 个字", for: "name") }
        if !MemberVocabulary.contains(state.value("kind"), in: MemberVocabulary.branchKinds) { state.addError("请选择类别", for: "kind") }
        if state.value("secretary").count > 50 { state.addError("书记姓名最多 50 个字", for: "secretary") }
        let gridID = canonicalID(state.value("grid_id"))
        if gridID == nil { state.addError("请选择党组织所在的网格节点", for: "grid_id") }
        let parentText = state.value("parent_id")
        let parentID = canonicalID(parentText)
        if !parentText.isEmpty && parentID == nil { state.addError("请从列表中选择上级党组织", for: "parent_id") }
        guard !state.hasErrors else { return try newForm(ctx, state: state, status: .unprocessableContent) }
        let input = MemberStore.BranchInput(name: name, kind: state.value("kind"), gridID: gridID, parentID: parentID,
                                            secretary: state.value("secretary"))
        do {
            let id = try ctx.memberStore.createBranch(input, principal: ctx.principal, by: ctx.actor)
            return ctx.redirect("/branches/\(id)", flash: .success("已新建党组织“\(name)”。"))
        } catch let errors as FieldErrors {
            for (field, message) in errors.errors { state.addError(message, for: field) }
            return try newForm(ctx, state: state, status: .unprocessableContent)
        }
    }

    static func cover(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        guard let gridID = ctx.form["grid_id"].flatMap(canonicalID) else { throw HTTPError(.unprocessableContent, "请选择要覆盖的小区") }
        return try ctx.memberAction(back: "/branches/\(id)", success: "已添加覆盖范围。") {
            try ctx.memberStore.coverGrid(id, gridID: gridID, principal: ctx.principal, by: ctx.actor)
        }
    }

    static func show(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let scope = ctx.scope
        let data: [String: Any] = try ctx.database.read { db in
            guard let branch = try Row.fetchOne(db, sql: """
                SELECT b.*, g.name AS grid_name, g.path AS grid_path, p.name AS parent_name FROM branches b
                JOIN grids g ON g.id = b.grid_id LEFT JOIN branches p ON p.id = b.parent_id WHERE b.id = ?
                """, arguments: [id]), scope.contains(branch["grid_path"]) else { throw HTTPError(.notFound) }
            let children = try Row.fetchAll(db, sql: "SELECT id, name, kind FROM branches WHERE parent_id = ? ORDER BY name", arguments: [id])
            let covered = try String.fetchAll(db, sql: """
                SELECT g.name FROM branch_grids x JOIN grids g ON g.id = x.grid_id WHERE x.branch_id = ? ORDER BY g.path
                """, arguments: [id])
            let isJoint = branch["kind"] as String == "joint"
            let memberIDs = try Int64.fetchAll(db, sql: """
                SELECT id FROM party_members WHERE branch_id = ? AND membership = 'active' ORDER BY id LIMIT 500
                """, arguments: [id])
            let members = try MemberQuery.rows(db, ids: memberIDs)
            return [
                "branch": ["id": id, "name": branch["name"] as String, "kind": MemberVocabulary.label(branch["kind"], in: MemberVocabulary.branchKinds),
                           "secretary": (branch["secretary"] as String).isEmpty ? "未登记" : branch["secretary"] as String,
                           "grid": branch["grid_name"] as String, "parent": (branch["parent_name"] as String?) ?? "—",
                           "parentID": branch["parent_id"] as Int64? as Any],
                "children": children.map { ["id": $0["id"] as Int64, "name": $0["name"] as String,
                                            "kind": MemberVocabulary.label($0["kind"], in: MemberVocabulary.branchKinds)] },
                "hasChildren": !children.isEmpty,
                "members": members.map { MemberPages.row($0, report: nil) }, "hasMembers": !members.isEmpty, "memberCount": members.count,
                "canManage": ctx.may(.manageMembers), "isJoint": isJoint, "covered": covered, "hasCovered": !covered.isEmpty,
                "estateOptions": isJoint && ctx.may(.manageMembers)
                    ? try MemberPages.gridOptions(db, scope: scope, selected: nil, kinds: ["estate"]) : [],
            ]
        }
        return try ctx.render("branches/show", title: "党组织", data)
    }
}
