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
    public static func register(_ routes: inout AppRoutes) {
        routes.get("/", .signedIn) { ctx in try dashboard(ctx) }
    }

    /// A shortcut on the dashboard, shown when the role has the permission.
    struct Shortcut {
        let title: String
        let path: String
        let note: String
        let permission: Permission
    }

    static let shortcuts: [Shortcut] = [
        Shortcut(title: "居民", path: "/residents", note: "查找、登记、迁入迁出", permission: .viewResidents),
        Shortcut(title: "登记居民", path: "/residents/new", note: "新登记一位居民", permission: .manageResidents),
        Shortcut(title: "待走访重点人群", path: "/residents/visits/overdue", note: "30 天内未走访的重点人群", permission: .visitKeyGroups),
        Shortcut(title: "导入居民", path: "/residents/import", note: "从 Excel 另存的 CSV 批量导入", permission: .importResidents),
        Shortcut(title: "党员", path: "/members", note: "党员台账、双报到确认、年度评议", permission: .viewMembers),
        Shortcut(title: "我的党员档案", path: "/members/mine", note: "在职党员双报到、年度自评", permission: .ownMembership),
        Shortcut(title: "我的志愿服务", path: "/me", note: "报名的活动、认领的岗位、服务时长", permission: .joinVolunteering),
        Shortcut(title: "志愿服务活动", path: "/activities", note: "接龙报名、签到、记录服务时长", permission: .viewVolunteering),
        Shortcut(title: "志愿岗位", path: "/posts", note: "七类岗位，党员认领", permission: .viewVolunteering),
        Shortcut(title: "志愿服务队", path: "/teams", note: "帮帮团与队员", permission: .viewVolunteering),
        Shortcut(title: "网格管理", path: "/grids", note: "社区、小区、网格、楼栋的层级树", permission: .viewGrids),
        Shortcut(title: "新建网格节点", path: "/grids/new", note: "在管辖范围内添加节点", permission: .manageGrids),
        Shortcut(title: "用户管理", path: "/admin/users", note: "创建账号、重置密码、停用", permission: .manageUsers),
        Shortcut(title: "审计日志", path: "/admin/audit", note: "谁在何时做了哪些修改", permission: .viewAudit),
        Shortcut(title: "修改密码", path: "/account/password", note: "定期更换密码更安全", permission: .signedIn),
    ]

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
        let links: [[String: Any]] = shortcuts.filter { ctx.may($0.permission) }.map {
            ["title": $0.title, "path": $0.path, "note": $0.note]
        }
        let data: [String: Any] = [
            "greeting": user.displayName,
            "roleName": user.role.displayName,
            "scopeName": user.scopeName ?? "全部",
            "stats": stats,
            "shortcuts": links,
            "lastLogin": BeijingTime.display(user.lastLoginAt),
        ]
        return try ctx.render("dashboard", title: "首页", data)
    }
}
