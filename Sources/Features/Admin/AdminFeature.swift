import Access
import AppCore
import Web

/// The admin pages: accounts (`/admin/users…`) and the read-only audit log (`/admin/audit`).
///
/// Every route needs `.manageUsers`, except the audit page (`.viewAudit`). The audit log has
/// no route that edits or deletes entries; the schema's triggers refuse both anyway.
public enum AdminFeature {
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
