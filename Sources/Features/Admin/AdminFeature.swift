import Access
import AppCore
import Web

/// The admin pages: accounts (`/admin/users…`) and the read-only audit log (`/admin/audit`).
///
/// Every route needs `.manageUsers`, except the audit page (`.viewAudit`). The audit log has
/// no route that edits or deletes entries; the schema's triggers refuse both anyway.
public enum AdminFeature {
    static let admins: Set<Role> = [.admin]

    public static let module = Module(
        name: "admin", routes: register, permissions: [.manageUsers, .viewAudit],
        auditLabels: [("user.create", "创建账号"), ("user.update", "修改账号"),
                      ("user.deactivate", "停用账号"), ("user.activate", "启用账号"),
                      ("user.reset_password", "重置密码"), ("login.unlock", "解除登录锁定")],
        navigation: [("用户管理", path: "/admin/users", order: 100, permission: .manageUsers),
                     ("审计日志", path: "/admin/audit", order: 110, permission: .viewAudit)],
        shortcuts: [("用户管理", path: "/admin/users", note: "创建账号、重置密码、停用", order: 70, permission: .manageUsers),
                    ("审计日志", path: "/admin/audit", note: "谁在何时做了哪些修改", order: 80, permission: .viewAudit)],
        // Every page of the module is the administrator's alone.
        matrix: Dictionary(uniqueKeysWithValues: [
            "GET /admin/users", "GET /admin/users/new", "POST /admin/users/new", "GET /admin/users/:id",
            "GET /admin/users/:id/edit", "POST /admin/users/:id/edit", "GET /admin/users/:id/reset-password",
            "POST /admin/users/:id/reset-password", "GET /admin/users/:id/deactivate", "POST /admin/users/:id/deactivate",
            "POST /admin/users/:id/activate", "GET /admin/audit", "GET /admin/locks", "POST /admin/locks/lift",
        ].map { ($0, Optional(admins)) }))

    public static func register(_ routes: inout AppRoutes) {
        // Hashing a password takes real CPU time: keep it off the connection queues.
        let hashing = RouteOptions(offload: true)

        routes.get("/admin/users", .manageUsers) { ctx in try UserPages.index(ctx) }
        routes.get("/admin/users/new", .manageUsers) { ctx in try UserPages.newForm(ctx) }
        routes.post("/admin/users/new", .manageUsers, options: hashing) { ctx in try UserPages.create(ctx) }
        routes.get("/admin/users/:id", .manageUsers) { ctx in try UserPages.show(ctx) }
        routes.get("/admin/users/:id/edit", .manageUsers) { ctx in try UserPages.editForm(ctx) }
        routes.post("/admin/users/:id/edit", .manageUsers) { ctx in try UserPages.update(ctx) }
        routes.get("/admin/users/:id/reset-password", .manageUsers) { ctx in try UserPages.confirmReset(ctx) }
        routes.post("/admin/users/:id/reset-password", .manageUsers, options: hashing) { ctx in try UserPages.resetPassword(ctx) }
        routes.get("/admin/users/:id/deactivate", .manageUsers) { ctx in try UserPages.confirmDeactivate(ctx) }
        routes.post("/admin/users/:id/deactivate", .manageUsers) { ctx in try UserPages.deactivate(ctx) }
        routes.post("/admin/users/:id/activate", .manageUsers) { ctx in try UserPages.activate(ctx) }

        routes.get("/admin/locks", .manageUsers) { ctx in try LockPages.index(ctx) }
        routes.post("/admin/locks/lift", .manageUsers) { ctx in try LockPages.lift(ctx) }

        routes.get("/admin/audit", .viewAudit) { ctx in try AuditPages.index(ctx) }
    }
}
