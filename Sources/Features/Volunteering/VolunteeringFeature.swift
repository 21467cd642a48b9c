import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// Volunteering 志愿服务: teams 志愿服务队, posts 岗位 that members claim, activities with 接龙
/// sign-up, check-in and credited hours, the member's phone home `/me`, and the printable
/// volunteer certificate. Every change goes through `VolunteeringStore`.
public enum VolunteeringFeature {
    static let viewers: Set<Role> = [.staff, .gridWorker, .coordinator, .member]
    static let managers: Set<Role> = [.staff, .gridWorker]
    static let volunteers: Set<Role> = [.member]

    public static let module = Module(
        name: "volunteering", routes: register,
        permissions: [.viewVolunteering, .manageVolunteering, .joinVolunteering],
        auditLabels: [
            ("team.create", "新建志愿服务队"), ("team.member_add", "加入队伍"), ("team.member_remove", "移出队伍"),
            ("team.leader", "设置队长"), ("post.create", "新建志愿岗位"), ("post.claim", "认领岗位"), ("post.leave", "退出岗位"),
            ("activity.create", "发布活动"), ("activity.signup", "活动报名"), ("activity.cancel", "取消报名"),
            ("activity.checkin", "活动签到"), ("activity.close", "结束活动并记录时长"),
        ],
        navigation: [("我的", path: "/me", order: 5, permission: .joinVolunteering),
                     ("志愿服务", path: "/activities", order: 40, permission: .viewVolunteering)],
        shortcuts: [
            ("我的志愿服务", path: "/me", note: "报名的活动、认领的岗位、服务时长", order: 5, permission: .joinVolunteering),
            ("志愿服务活动", path: "/activities", note: "接龙报名、签到、记录服务时长", order: 50, permission: .viewVolunteering),
            ("志愿岗位", path: "/posts", note: "七类岗位，党员认领", order: 51, permission: .viewVolunteering),
            ("志愿服务队", path: "/teams", note: "帮帮团与队员", order: 52, permission: .viewVolunteering),
        ],
        matrix: [
            "GET /teams": viewers,
            "GET /teams/new": managers,
            "POST /teams/new": managers,
            "GET /teams/:id": viewers,
            "POST /teams/:id/members": managers,
            "POST /teams/:id/members/:residentId/remove": managers,
            "POST /teams/:id/leader": managers,
            "GET /posts": viewers,
            "GET /posts/new": managers,
            "POST /posts/new": managers,
            "POST /posts/:id/claim": volunteers,
            "POST /posts/:id/leave": volunteers,
            "GET /activities": viewers,
            "GET /activities/new": managers,
            "POST /activities/new": managers,
            "GET /activities/:id": viewers,
            "POST /activities/:id/signup": volunteers,
            "POST /activities/:id/cancel": volunteers,
            "POST /activities/:id/checkin": managers,
            "POST /activities/:id/close": managers,
            "GET /me": volunteers,
            // A member sees only their own certificate, checked in the handler.
            "GET /volunteers/:id/certificate": viewers,
        ],
        reportSections: VolunteeringReport.sections)

    public static func register(_ routes: inout AppRoutes) {
        routes.get("/teams", .viewVolunteering) { try TeamPages.index($0) }
        routes.get("/teams/new", .manageVolunteering) { try TeamPages.newForm($0) }
        routes.post("/teams/new", .manageVolunteering) { try TeamPages.create($0) }
        routes.get("/teams/:id", .viewVolunteering) { try TeamPages.show($0) }
        routes.post("/teams/:id/members", .manageVolunteering) { try TeamPages.addMember($0) }
        routes.post("/teams/:id/members/:residentId/remove", .manageVolunteering) { try TeamPages.removeMember($0) }
        routes.post("/teams/:id/leader", .manageVolunteering) { try TeamPages.setLeader($0) }

        routes.get("/posts", .viewVolunteering) { try PostPages.index($0) }
        routes.get("/posts/new", .manageVolunteering) { try PostPages.newForm($0) }
        routes.post("/posts/new", .manageVolunteering) { try PostPages.create($0) }
        routes.post("/posts/:id/claim", .joinVolunteering) { try PostPages.claim($0) }
        routes.post("/posts/:id/leave", .joinVolunteering) { try PostPages.leave($0) }

        routes.get("/activities", .viewVolunteering) { try ActivityPages.index($0) }
        routes.get("/activities/new", .manageVolunteering) { try ActivityPages.newForm($0) }
        routes.post("/activities/new", .manageVolunteering) { try ActivityPages.create($0) }
        routes.get("/activities/:id", .viewVolunteering) { try ActivityPages.show($0) }
        routes.post("/activities/:id/signup", .joinVolunteering) { try ActivityPages.signUp($0) }
        routes.post("/activities/:id/cancel", .joinVolunteering) { try ActivityPages.cancel($0) }
        routes.post("/activities/:id/checkin", .manageVolunteering) { try ActivityPages.checkIn($0) }
        routes.post("/activities/:id/close", .manageVolunteering) { try ActivityPages.close($0) }

        routes.get("/me", .joinVolunteering) { try MePage.show($0) }
        routes.get("/volunteers/:id/certificate", .viewVolunteering) { try CertificatePage.show($0) }
    }
}

extension Context {
    var volunteering: VolunteeringStore { VolunteeringStore(database: database) }

    func volunteerActor() throws -> VolunteerActor {
        guard let principal else { throw HTTPError(.forbidden) }
        return VolunteerActor(principal: principal, audit: actor)
    }

    /// Runs a transition; a refusal becomes its status with the Chinese message on the error page.
    func transition(_ body: () throws -> HTTPResponse) throws -> HTTPResponse {
        do {
            return try body()
        } catch let refusal as VolunteerRefusal {
            throw HTTPError(refusal.status, refusal.message)
        }
    }

    /// A trimmed form value, at most `max` characters.
    func formText(_ name: String, max: Int = 200) -> String {
        String((form[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(max))
    }

    /// The signed-in account's own resident and membership (members), if linked.
    func volunteerIdentity() throws -> VolunteerIdentity? {
        guard let user else { return nil }
        return try database.read { db in try VolunteerIdentity.find(db, userID: user.id) }
    }

    /// The account's scope as a condition on a grid-path column (nothing when signed out).
    var volunteerScope: Scope { scope }

    /// What the account may see of volunteering (`VolunteerReach`) as an SQL condition.
    func volunteerReach(on column: String) -> (sql: String, arguments: [String]) {
        VolunteerReach.condition(principal, on: column)
    }

    /// The role (403), then the target's grid within the account's reach (404).
    func authorizeReach(_ permission: Permission, path: String?) throws {
        try authorize(permission)
        guard let principal, let path, VolunteerReach.allows(principal, path) else { throw HTTPError(.notFound) }
    }
}

/// Lookups the forms share: grids in scope, post categories, team kinds.
enum Choices {
    /// Grid nodes in the account's scope, indented by depth, for a `<select>`.
    static func grids(_ ctx: Context, selected: String) throws -> [any TemplateRecord] {
        let scope = ctx.scopeCondition(on: "path")
        let rows = try ctx.database.read { db in
            try Row.fetchAll(db, sql: "SELECT id, name, depth FROM grids WHERE \(scope.sql) AND kind <> 'building' ORDER BY path LIMIT 1000",
                             arguments: StatementArguments(scope.arguments))
        }
        let base = rows.map { $0["depth"] as Int }.min() ?? 0
        return FormState.options(rows.map { row in
            (String(row["id"] as Int64), String(repeating: "　", count: max(0, (row["depth"] as Int) - base)) + (row["name"] as String))
        }, selected: selected)
    }

    static func categories(_ db: Database) throws -> [(value: String, label: String)] {
        try Row.fetchAll(db, sql: "SELECT id, name FROM service_categories ORDER BY sort_order, id").map {
            (String($0["id"] as Int64), $0["name"] as String)
        }
    }

    static func teamKinds(_ db: Database) throws -> [(value: String, label: String)] {
        try Row.fetchAll(db, sql: "SELECT id, name FROM team_kinds ORDER BY sort_order, id").map {
            (String($0["id"] as Int64), $0["name"] as String)
        }
    }

    /// The grid id from a form, when that node exists and lies in the scope.
    static func gridInScope(_ ctx: Context, _ text: String) throws -> Int64? {
        guard let id = Int64(text), id > 0 else { return nil }
        let path = try ctx.database.read { db in try String.fetchOne(db, sql: "SELECT path FROM grids WHERE id = ?", arguments: [id]) }
        guard let path, ctx.volunteerScope.contains(path) else { return nil }
        return id
    }

    /// A value for a template section: the text, or `false` when empty (swift-mustache renders
    /// a section for any string or number, even "" and 0; only false and nil skip it).
    static func shown(_ text: String?) -> Any {
        guard let text, !text.isEmpty else { return false }
        return text
    }

    static func shown(_ number: Int) -> Any {
        number == 0 ? false : number
    }

    static func hours(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}

/// The section's tabs: teams, posts, activities (and the member's own page).
enum VolunteeringTabs {
    static func context(_ ctx: Context, current: String) -> [[String: Any]] {
        var tabs: [(String, String)] = []
        if ctx.may(.joinVolunteering) { tabs.append(("/me", "我的")) }
        tabs += [("/activities", "活动"), ("/posts", "岗位"), ("/teams", "队伍")]
        return tabs.map { ["path": $0.0, "title": $0.1, "current": $0.0 == current] }
    }
}
