import Access
import AppCore
import Domain
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// `/`: what the signed-in role needs first — counts in scope and shortcuts.
public enum DashboardFeature {
    public static let module = Module(
        name: "dashboard", routes: register, permissions: [.signedIn],
        navigation: [("首页", path: "/", order: 0, permission: .signedIn)],
        matrix: ["GET /": Set(Role.allCases)])

    public static func register(_ routes: inout AppRoutes) {
        routes.get("/", .signedIn) { ctx in try dashboard(ctx) }
    }

    static func dashboard(_ ctx: Context) throws -> HTTPResponse {
        let user = try ctx.requireUser()
        let scope = ctx.scopeCondition(on: "path")
        let stats: [[String: Any]] = try ctx.database.read { db in
            let kinds = try Row.fetchAll(db, sql: """
                SELECT kind, count(*) AS n FROM grids WHERE \(scope.sql) GROUP BY kind
                """, arguments: StatementArguments(scope.arguments))
            var byKind: [String: Int] = [:]
            for row in kinds { byKind[row["kind"]] = row["n"] }
            var stats: [[String: Any]] = GridKind.allCases.map { kind in
                ["label": kind.label, "value": byKind[kind.rawValue] ?? 0]
            }
            if ctx.may(.manageUsers) {
                let users = try Int.fetchOne(db, sql: "SELECT count(*) FROM users WHERE active = 1") ?? 0
                stats.append(["label": "启用账号", "value": users])
            }
            return stats
        }
        let links: [[String: Any]] = ctx.env.modules.shortcuts.filter { ctx.may($0.permission) }.map {
            ["title": $0.title, "path": $0.path, "note": $0.note]
        }
        let data: [String: Any] = [
            "greeting": user.displayName,
            "roleName": user.role.displayName,
            "scopeName": user.scopeName ?? "全部",
            "stats": stats,
            "shortcuts": links,
            "lastLogin": ChinaDate.display(user.lastLoginAt),
        ]
        return try ctx.render("dashboard", title: "首页", data)
    }
}
