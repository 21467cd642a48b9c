import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// `/admin/users…`: list, create, show, edit, reset password, deactivate and activate accounts.
enum UserPages {
    static let perPage = 50

    // MARK: - List

    static func index(_ ctx: Context) throws -> HTTPResponse {
        let query = ctx.query
        let q = String((query["q"] ?? "").trimmingCharacters(in: .whitespaces).prefix(100))
        let roleText = query["role"] ?? ""
        let role = Role(rawValue: roleText)
        let requestedPage = min(max(Int(query["page"] ?? "") ?? 1, 1), 1_000_000)

        var result = try ctx.env.users.list(query: q, role: role, limit: perPage, offset: (requestedPage - 1) * perPage)
        let pagination = Pagination(page: requestedPage, perPage: perPage, total: result.total)
        if result.users.isEmpty && result.total > 0 {
            // A page past the end (a stale link): show the last one instead.
            result = try ctx.env.users.list(query: q, role: role, limit: perPage, offset: pagination.offset)
        }

        var keep: [(name: String, value: String)] = []
        if !q.isEmpty { keep.append(("q", q)) }
        if let role { keep.append(("role", role.rawValue)) }

        var data: [String: Any] = [
            "q": q,
            "roleOptions": roleOptions(selected: role?.rawValue ?? ""),
            "users": result.users.map(row),
            "hasUsers": !result.users.isEmpty,
            "total": result.total,
            "filtered": !q.isEmpty || role != nil,
        ]
        data.merge(pagination.context(path: "/admin/users", query: keep)) { _, new in new }
        return try ctx.render("admin/users_index", title: "用户管理", data)
    }

    static func row(_ user: User) -> [String: Any] {
        [
            "id": user.id,
            "username": user.username,
            "displayName": user.displayName,
            "roleName": user.role.displayName,
            "scopeName": user.role == .admin ? "全部" : (user.role == .unitHandler ? user.unitName : user.scopeName) ?? "—",
            "active": user.active,
            "lastLogin": user.lastLoginAt.map(AdminFormat.time) ?? "从未登录",
        ]
    }

    // MARK: - Create

    static func newForm(_ ctx: Context) throws -> HTTPResponse {
        try renderForm(ctx, user: nil, FormState(values: ["role": "", "scope_grid_id": "", "scope_unit_id": ""]))
    }

    static func create(_ ctx: Context) throws -> HTTPResponse {
        let form = ctx.form
        let username = (form["username"] ?? "").trimmingCharacters(in: .whitespaces)
        let displayName = (form["display_name"] ?? "").trimmingCharacters(in: .whitespaces)
        let roleText = form["role"] ?? ""
        let scopeText = form["scope_grid_id"] ?? ""
        let unitText = form["scope_unit_id"] ?? ""
        let typedPassword = form["password"] ?? ""
        var state = FormState(values: [
            "username": username, "display_name": displayName, "role": roleText, "scope_grid_id": scopeText,
            "scope_unit_id": unitText,
        ])
        guard let role = Role(rawValue: roleText) else {
            state.addError("请选择角色", for: "role")
            if username.isEmpty { state.addError("请填写用户名", for: "username") }
            if displayName.isEmpty { state.addError("请填写姓名", for: "display_name") }
            return try renderForm(ctx, user: nil, state, status: .unprocessableContent)
        }
        let generated = typedPassword.isEmpty
        let password = generated ? UserStore.generatePassword() : typedPassword
        let new = UserStore.NewUser(username: username, displayName: displayName, role: role,
                                    scopeGridID: role.needsScope ? Int64(scopeText) : nil,
                                    scopeUnitID: role.needsUnit ? Int64(unitText) : nil, password: password,
                                    mustChangePassword: true)
        do {
            let user = try ctx.env.users.create(new, by: ctx.actor)
            let text = generated
                ? "已创建账号 \(user.username)，初始密码：\(password)（仅显示这一次，请转告本人，首次登录需修改）"
                : "已创建账号 \(user.username)，初始密码为您填写的密码（请转告本人，首次登录需修改）"
            return ctx.redirect("/admin/users/\(user.id)", flash: .success(text))
        } catch let errors as FieldErrors {
            for (field, message) in errors.errors { state.addError(message, for: field) }
            return try renderForm(ctx, user: nil, state, status: .unprocessableContent)
        }
    }

    // MARK: - Show

    static func show(_ ctx: Context) throws -> HTTPResponse {
        let user = try requireUser(ctx)
        let me = try ctx.requireUser()
        let (trail, times, recent) = try ctx.database.read { db in
            let trail: [String]
            if user.role != .admin, let scopeID = user.scopeGridID {
                trail = try (Grids.ancestors(db, of: scopeID) + [Grids.find(db, scopeID)].compactMap { $0 }).map(\.name)
            } else {
                trail = []
            }
            let times = try Row.fetchOne(db, sql: "SELECT created_at, updated_at FROM users WHERE id = ?", arguments: [user.id])
            let recent = try AuditLog.entries(db, filter: AuditFilter(entityType: "user", entityID: user.id), limit: 10)
            return (trail, times, recent)
        }
        let created: String? = times?["created_at"]
        let updated: String? = times?["updated_at"]
        var details = row(user)
        details["scopeTrail"] = user.role == .admin ? "全部（系统管理员不受管辖范围限制）"
            : user.role == .unitHandler ? "职能部门：\(user.unitName ?? "—")（只处理派给本部门的诉求）"
            : (trail.isEmpty ? "—" : trail.joined(separator: " › "))
        details["mustChangePassword"] = user.mustChangePassword
        details["createdAt"] = created.map(AdminFormat.time) ?? "—"
        details["updatedAt"] = updated.map(AdminFormat.time) ?? "—"
        let data: [String: Any] = [
            "account": details,
            "isSelf": user.id == me.id,
            "recent": recent.entries.map { AuditPages.row($0, labels: ctx.env.modules) },
            "hasRecent": !recent.entries.isEmpty,
            "auditURL": "/admin/audit?entity_type=user&entity_id=\(user.id)",
            "actorAuditURL": "/admin/audit?actor=" + FormData.percentEncode(user.username),
        ]
        return try ctx.render("admin/user_show", title: "账号：\(user.displayName)", data)
    }

    // MARK: - Edit

    static func editForm(_ ctx: Context) throws -> HTTPResponse {
        let user = try requireUser(ctx)
        let state = FormState(values: [
            "display_name": user.displayName, "role": user.role.rawValue,
            "scope_grid_id": user.scopeGridID.map(String.init) ?? "",
            "scope_unit_id": user.scopeUnitID.map(String.init) ?? "",
        ])
        return try renderForm(ctx, user: user, state)
    }

    static func update(_ ctx: Context) throws -> HTTPResponse {
        let user = try requireUser(ctx)
        let form = ctx.form
        let displayName = (form["display_name"] ?? "").trimmingCharacters(in: .whitespaces)
        let roleText = form["role"] ?? ""
        let scopeText = form["scope_grid_id"] ?? ""
        let unitText = form["scope_unit_id"] ?? ""
        var state = FormState(values: ["display_name": displayName, "role": roleText, "scope_grid_id": scopeText,
                                       "scope_unit_id": unitText])
        guard let role = Role(rawValue: roleText) else {
            state.addError("请选择角色", for: "role")
            if displayName.isEmpty { state.addError("请填写姓名", for: "display_name") }
            return try renderForm(ctx, user: user, state, status: .unprocessableContent)
        }
        do {
            let after = try ctx.env.users.update(user.id, displayName: displayName, role: role,
                                                 scopeGridID: role.needsScope ? Int64(scopeText) : nil,
                                                 scopeUnitID: role.needsUnit ? Int64(unitText) : nil, by: ctx.actor)
            return ctx.redirect("/admin/users/\(after.id)", flash: .success("已保存账号 \(after.username) 的修改。"))
        } catch let errors as FieldErrors {
            if errors.errors["id"] != nil { throw HTTPError(.notFound) }
            for (field, message) in errors.errors { state.addError(message, for: field) }
            return try renderForm(ctx, user: user, state, status: .unprocessableContent)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            // The scope node was deleted between the form and the save (foreign key).
            state.addError("所选网格节点不存在", for: "scope_grid_id")
            return try renderForm(ctx, user: user, state, status: .unprocessableContent)
        }
    }

    /// The create form (`user == nil`) or the edit form of `user`.
    static func renderForm(_ ctx: Context, user: User?, _ state: FormState, status: HTTPStatus = .ok) throws -> HTTPResponse {
        let selectedScope = state.value("scope_grid_id")
        let (scopes, units) = try ctx.database.read { db in (try scopeOptions(db, selected: selectedScope), try Units.all(db)) }
        var data = state.context()
        data["isNew"] = user == nil
        data["roleOptions"] = roleOptions(selected: state.value("role"))
        data["scopeOptions"] = scopes
        data["unitOptions"] = FormState.options(Units.choices(units), selected: state.value("scope_unit_id"))
        data["minLength"] = UserStore.minimumPasswordLength
        if let user {
            data["account"] = ["id": user.id, "username": user.username, "displayName": user.displayName] as [String: Any]
            data["action"] = "/admin/users/\(user.id)/edit"
            data["cancelURL"] = "/admin/users/\(user.id)"
            data["heading"] = "编辑账号"
            data["submitLabel"] = "保存修改"
        } else {
            data["action"] = "/admin/users/new"
            data["cancelURL"] = "/admin/users"
            data["heading"] = "新建账号"
            data["submitLabel"] = "创建账号"
        }
        return try ctx.render("admin/user_form", title: user == nil ? "新建账号" : "编辑账号", data, status: status)
    }

    // MARK: - Reset password

    static func confirmReset(_ ctx: Context) throws -> HTTPResponse {
        let user = try requireUser(ctx)
        if user.id == ctx.user?.id { return ownPasswordRedirect(ctx, user) }
        return try confirmPage(ctx, title: "重置密码", data: [
            "heading": "重置 \(user.displayName)（\(user.username)）的密码？",
            "message": "系统将生成一个新的随机密码，并只显示一次。该账号会立即在所有设备上退出登录，下次登录时必须修改密码。",
            "action": "/admin/users/\(user.id)/reset-password",
            "buttonLabel": "确认重置密码",
            "danger": true,
            "cancelURL": "/admin/users/\(user.id)",
        ])
    }

    static func resetPassword(_ ctx: Context) throws -> HTTPResponse {
        let user = try requireUser(ctx)
        if user.id == ctx.user?.id { return ownPasswordRedirect(ctx, user) }
        do {
            let password = try ctx.env.users.resetPassword(user.id, by: ctx.actor)
            return ctx.redirect("/admin/users/\(user.id)", flash: .success(
                "已重置账号 \(user.username) 的密码，新密码：\(password)（仅显示这一次，请转告本人，登录后需修改）"))
        } catch let errors as FieldErrors {
            return ctx.redirect("/admin/users/\(user.id)", flash: .error(message(errors)))
        }
    }

    /// Resetting one's own password would sign this session out mid-way; the own-password
    /// page is the way to change it.
    static func ownPasswordRedirect(_ ctx: Context, _ user: User) -> HTTPResponse {
        ctx.redirect("/admin/users/\(user.id)", flash: .error("不能重置自己正在使用的账号的密码，请通过“修改密码”页面修改。"))
    }

    // MARK: - Deactivate and activate

    static func confirmDeactivate(_ ctx: Context) throws -> HTTPResponse {
        let user = try requireUser(ctx)
        if !user.active {
            return ctx.redirect("/admin/users/\(user.id)", flash: .info("账号 \(user.username) 已是停用状态。"))
        }
        return try confirmPage(ctx, title: "停用账号", data: [
            "heading": "停用 \(user.displayName)（\(user.username)）的账号？",
            "message": "停用后该账号会立即在所有设备上退出登录，且不能再登录。账号及其操作记录都会保留，之后可以重新启用。",
            "action": "/admin/users/\(user.id)/deactivate",
            "buttonLabel": "确认停用",
            "danger": true,
            "cancelURL": "/admin/users/\(user.id)",
        ])
    }

    static func deactivate(_ ctx: Context) throws -> HTTPResponse {
        let user = try requireUser(ctx)
        if !user.active {
            return ctx.redirect("/admin/users/\(user.id)", flash: .info("账号 \(user.username) 已是停用状态。"))
        }
        do {
            try ctx.env.users.setActive(user.id, false, by: ctx.actor)
            return ctx.redirect("/admin/users/\(user.id)", flash: .success("已停用账号 \(user.username)，该账号已在所有设备上退出登录。"))
        } catch let errors as FieldErrors {
            return ctx.redirect("/admin/users/\(user.id)", flash: .error(message(errors)))
        }
    }

    static func activate(_ ctx: Context) throws -> HTTPResponse {
        let user = try requireUser(ctx)
        if user.active {
            return ctx.redirect("/admin/users/\(user.id)", flash: .info("账号 \(user.username) 已是启用状态。"))
        }
        do {
            try ctx.env.users.setActive(user.id, true, by: ctx.actor)
            return ctx.redirect("/admin/users/\(user.id)", flash: .success("已启用账号 \(user.username)。"))
        } catch let errors as FieldErrors {
            return ctx.redirect("/admin/users/\(user.id)", flash: .error(message(errors)))
        }
    }

    // MARK: - Helpers

    /// The account named by the route's `:id`; 404 when there is none.
    static func requireUser(_ ctx: Context) throws -> User {
        guard let user = try ctx.env.users.find(try ctx.request.id()) else { throw HTTPError(.notFound) }
        return user
    }

    static func confirmPage(_ ctx: Context, title: String, data: [String: Any]) throws -> HTTPResponse {
        try ctx.render("admin/confirm", title: title, data)
    }

    /// The store's messages as one sentence for a flash.
    static func message(_ errors: FieldErrors) -> String {
        let text = errors.errors.keys.sorted().compactMap { errors.errors[$0] }.joined(separator: "；")
        return text.isEmpty ? "操作未能完成，请重试。" : text
    }

    /// The six roles for a `<select>`.
    static func roleOptions(selected: String) -> [any TemplateRecord] {
        FormState.options(Role.allCases.map { ($0.rawValue, $0.displayName) }, selected: selected)
    }

    /// Nodes an account can be scoped to (communities, estates and grids, plus the currently
    /// selected node whatever its kind), in tree order and indented by depth.
    static func scopeOptions(_ db: Database, selected: String) throws -> [any TemplateRecord] {
        let selectedID = Int64(selected)
        let rows = try Row.fetchAll(db, sql: """
            SELECT id, name, kind, depth FROM grids
             WHERE kind IN ('community', 'estate', 'grid') OR id = ?
             ORDER BY path
            """, arguments: [selectedID])
        return rows.map { row in
            let id: Int64 = row["id"]
            let name: String = row["name"]
            let kind = GridKind(rawValue: row["kind"] as String? ?? "")?.label ?? ""
            let depth = max(0, row["depth"] as Int? ?? 0)
            let indent = String(repeating: "　", count: depth) + (depth > 0 ? "└ " : "")
            return ChoiceOption(value: String(id), label: indent + name + (kind.isEmpty ? "" : "（\(kind)）"),
                                selected: id == selectedID)
        }
    }
}

/// Formatting shared by the admin pages.
enum AdminFormat {
    /// A stored timestamp as Beijing time with seconds, `2025-01-02 11:04:05`.
    static func time(_ stored: String) -> String { ChinaDate.display(stored, seconds: true) }
}
