import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Security
import Storage
import Views
import Web

/// Self-registration 居民注册 (`/register`) and the staff's queue of requests (`/registrations`).
///
/// A resident gives name, ID number, phone, community and a password. When name, ID number and
/// phone all match an active resident record without an account, the account is made at once
/// (username: the phone number; role 党员 when the resident is a party member, else 居民; scope:
/// the home building). Otherwise the request waits for the chosen community's staff. The page
/// answers the same words either way, after the same work (the password is always hashed and
/// the record always looked up), so it never tells whether an ID number exists. Attempts are
/// throttled like sign-in, per address.
public enum RegistrationFeature {
    public static let module = Module(
        name: "registration", routes: register, permissions: [.anonymous, .reviewRegistrations],
        auditLabels: [("registration.self", "居民自助注册开通账号"), ("registration.request", "居民提交注册申请"),
                      ("registration.approve", "确认注册申请"), ("registration.refuse", "拒绝注册申请")],
        shortcuts: [("注册申请", path: "/registrations", note: "核实居民自助注册", order: 44, permission: .reviewRegistrations)],
        matrix: [
            "GET /register": nil,
            "POST /register": nil,
            "GET /registrations": [.staff],
            "POST /registrations/:id/approve": [.staff],
            "POST /registrations/:id/refuse": [.staff],
        ])

    public static func register(_ routes: inout AppRoutes) {
        routes.get("/register", .anonymous) { try form($0) }
        routes.post("/register", .anonymous, options: RouteOptions(offload: true)) { try submit($0) }
        routes.get("/registrations", .reviewRegistrations) { try queue($0) }
        routes.post("/registrations/:id/approve", .reviewRegistrations) { try decide($0, approve: true) }
        routes.post("/registrations/:id/refuse", .reviewRegistrations) { try decide($0, approve: false) }
    }

    /// What every applicant is told, matched or not.
    static let received = "已收到您的注册信息。信息与社区居民档案一致的，账号已开通，请用手机号和密码登录；"
        + "其余的由社区工作人员核实后开通，请稍后再试登录。"

    // MARK: - The form

    static func form(_ ctx: Context, state: FormState = FormState(), notice: String? = nil,
                     status: HTTPStatus = .ok) throws -> HTTPResponse {
        if ctx.user != nil { return ctx.redirect("/") }
        let (token, cookie) = ctx.preSessionCSRF()
        var data = state.context()
        data["csrfToken"] = token
        if let notice { data["notice"] = notice }
        data["communityOptions"] = try ctx.database.read { db in
            FormState.options(try Row.fetchAll(db, sql: "SELECT id, name FROM grids WHERE kind = 'community' ORDER BY name LIMIT 500")
                .map { (String($0["id"] as Int64), $0["name"] as String) }, selected: state.values["community_id"])
        }
        data["minLength"] = UserStore.minimumPasswordLength
        var response = try ctx.render("registration/form", title: "居民注册", data, status: status)
        if let cookie { response.headers.add("Set-Cookie", cookie.headerValue) }
        return response
    }

    struct Application {
        let name: String
        let idNumber: String
        let phone: String
        let communityID: Int64
        let password: String
    }

    static func submit(_ ctx: Context) throws -> HTTPResponse {
        let form = ctx.form
        var state = FormState()
        for field in ["name", "id_number", "phone", "community_id"] {
            state.values[field] = String((form[field] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(60))
        }
        let password = form["password"] ?? ""
        let name = state.value("name")
        if name.isEmpty || name.count > 50 { state.addError("请填写姓名（与身份证一致）", for: "name") }
        var idNumber = ""
        switch IDNumber.parse(state.value("id_number"), today: ctx.clock.now) {
        case .success(let value): idNumber = value.value
        case .failure(let problem): state.addError(problem.message, for: "id_number")
        }
        var phone = ""
        switch PhoneNumber.parse(state.value("phone")) {
        case .success(let value?): phone = value
        case .success(nil): state.addError("请填写手机号，开通后用它登录", for: "phone")
        case .failure(let problem): state.addError(problem.message, for: "phone")
        }
        let communityID = canonicalID(state.value("community_id"))
        if communityID == nil { state.addError("请选择您居住的社区", for: "community_id") }
        if password.count < UserStore.minimumPasswordLength {
            state.addError("密码至少 \(UserStore.minimumPasswordLength) 位", for: "password")
        } else if password != (form["confirm_password"] ?? "") {
            state.addError("两次输入的密码不一致", for: "confirm_password")
        }
        guard !state.hasErrors, let communityID else { return try self.form(ctx, state: state, status: .unprocessableContent) }

        // Throttled per address like sign-in; the attempt counts as a failure (a request is
        // not a sign-in), so one address cannot probe many ID numbers.
        switch try ctx.env.throttle.admit(username: "注册", ip: ctx.clientAddress) {
        case .admitted: break
        case .blocked(let seconds):
            var response = try self.form(ctx, state: state, notice: "提交过于频繁，请 \((seconds + 59) / 60) 分钟后再试。",
                                         status: .tooManyRequests)
            response.headers.add("Retry-After", String(seconds))
            return response
        }
        let application = Application(name: name, idNumber: idNumber, phone: phone, communityID: communityID, password: password)
        try RegistrationStore(database: ctx.database, hasher: ctx.env.users.hasher).apply(application, by: ctx.actor)
        return try self.form(ctx, notice: received)
    }

    // MARK: - Staff

    static func queue(_ ctx: Context) throws -> HTTPResponse {
        let scope = ctx.scopeCondition(on: "g.path")
        let rows = try ctx.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT q.*, g.name AS community,
                       (SELECT r.id FROM residents r WHERE r.id_number = q.id_number AND r.status = 'active') AS resident_id
                FROM registration_requests q JOIN grids g ON g.id = q.grid_id
                WHERE q.status = 'pending' AND \(scope.sql) ORDER BY q.id LIMIT 200
                """, arguments: StatementArguments(scope.arguments))
        }
        let data: [String: Any] = [
            "requests": rows.map { row -> [String: Any] in
                ["id": row["id"] as Int64, "name": row["name"] as String, "maskedID": Mask.idNumber(row["id_number"]),
                 "maskedPhone": Mask.phone(row["phone"]), "community": row["community"] as String,
                 "createdAt": ChinaDate.localTime(row["created_at"]), "residentID": (row["resident_id"] as Int64?) as Any,
                 "hasResident": (row["resident_id"] as Int64?) != nil]
            },
            "hasRequests": !rows.isEmpty,
        ]
        return try ctx.render("registration/queue", title: "注册申请", data)
    }

    static func decide(_ ctx: Context, approve: Bool) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let reason = String((ctx.form["reason"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(200))
        if !approve && reason.isEmpty { throw HTTPError(.unprocessableContent, "拒绝时请填写原因") }
        try RegistrationStore(database: ctx.database, hasher: ctx.env.users.hasher)
            .decide(id, approve: approve, reason: reason, principal: ctx.principal, by: ctx.actor)
        return ctx.redirect("/registrations", flash: .success(approve ? "已开通账号。" : "已拒绝该申请。"))
    }
}

/// Registration writes: a matching application makes the account, any other waits; staff
/// decide the waiting ones in their scope. Each in one transaction with its audit entry.
struct RegistrationStore {
    let database: AppDatabase
    let hasher: PasswordHasher

    func apply(_ application: RegistrationFeature.Application, by actor: AuditActor) throws {
        let hash = try hasher.hash(application.password)
        let now = Timestamp.string(from: database.clock.now)
        try database.write { db in
            let match = try Row.fetchOne(db, sql: """
                SELECT r.id, r.building_id, m.id AS member_id FROM residents r LEFT JOIN party_members m
                    ON m.resident_id = r.id AND m.membership = 'active'
                WHERE r.id_number = ? AND r.name = ? AND r.phone = ? AND r.status = 'active' AND r.building_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM users u WHERE u.resident_id = r.id OR u.username = ?)
                """, arguments: [application.idNumber, application.name, application.phone, application.phone])
            if let match {
                let user = try UserStore.insert(db, UserStore.NewUser(
                    username: application.phone, displayName: application.name,
                    role: (match["member_id"] as Int64?) == nil ? .resident : .member, scopeGridID: match["building_id"],
                    password: application.password, mustChangePassword: false, residentID: match["id"]), hash: hash, by: actor)
                struct Registered: Encodable { let user_id: Int64; let role: String }
                try AuditLog.record(db, actor: actor, action: "registration.self", entityType: "user", entityId: user.id,
                                    before: nil as Registered?, after: Registered(user_id: user.id, role: user.role.rawValue))
                return
            }
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM grids WHERE id = ? AND kind = 'community'",
                                    arguments: [application.communityID]) == true else { throw FieldErrors("community_id", "请选择您居住的社区") }
            try db.execute(sql: """
                INSERT INTO registration_requests (name, id_number, phone, password_hash, grid_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [application.name, application.idNumber, application.phone, hash, application.communityID, now])
            struct Requested: Encodable { let id_number, phone: String; let community_id: Int64 }
            try AuditLog.record(db, actor: actor, action: "registration.request", entityType: "registration",
                                entityId: db.lastInsertedRowID, before: nil as Requested?,
                                after: Requested(id_number: Mask.idNumber(application.idNumber), phone: Mask.phone(application.phone),
                                                 community_id: application.communityID))
            // Staff of the community learn that a request waits.
            let staff = try Int64.fetchAll(db, sql: """
                SELECT u.id FROM users u JOIN grids g ON g.id = u.scope_grid_id JOIN grids c ON c.id = ?
                WHERE u.role = 'staff' AND u.active = 1 AND c.path >= g.path AND c.path < g.path || '~'
                """, arguments: [application.communityID])
            for userID in staff {
                try Notifications.post(db, userID: userID, text: "有一条居民注册申请待核实：\(Mask.name(application.name))", link: "/registrations")
            }
        }
    }

    /// Approving links the account to the resident record with the same ID number, which must
    /// lie in the staff member's scope (register the resident first otherwise).
    func decide(_ id: Int64, approve: Bool, reason: String, principal: Principal?, by actor: AuditActor) throws {
        let now = Timestamp.string(from: database.clock.now)
        try database.write { db in
            guard let request = try Row.fetchOne(db, sql: """
                SELECT q.*, g.path FROM registration_requests q JOIN grids g ON g.id = q.grid_id WHERE q.id = ?
                """, arguments: [id]) else { throw NotFound() }
            try Policy.require(principal, .reviewRegistrations, gridPath: request["path"])
            guard request["status"] as String == "pending" else { throw Conflict("该申请已经处理过了。") }
            var userID: Int64?
            if approve {
                guard let resident = try Row.fetchOne(db, sql: """
                    SELECT r.id, r.building_id, b.path, m.id AS member_id FROM residents r JOIN grids b ON b.id = r.building_id
                    LEFT JOIN party_members m ON m.resident_id = r.id AND m.membership = 'active'
                    WHERE r.id_number = ? AND r.status = 'active'
                    """, arguments: [request["id_number"] as String]),
                      principal?.scope.contains(resident["path"]) == true else {
                    throw Conflict("管辖范围内没有这个身份证号的在住居民，请先登记居民档案，再确认申请。")
                }
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE resident_id = ? OR username = ?",
                                     arguments: [resident["id"] as Int64, request["phone"] as String]) == true {
                    throw Conflict("该居民或该手机号已有账号。")
                }
                let insert = UserStore.NewUser(username: request["phone"], displayName: request["name"],
                                               role: (resident["member_id"] as Int64?) == nil ? .resident : .member,
                                               scopeGridID: resident["building_id"], password: "", mustChangePassword: false,
                                               residentID: resident["id"])
                userID = try UserStore.insert(db, insert, hash: request["password_hash"], by: actor).id
            }
            try db.execute(sql: """
                UPDATE registration_requests SET status = ?, reason = ?, user_id = ?, decided_at = ?, decided_by = ? WHERE id = ?
                """, arguments: [approve ? "approved" : "refused", reason, userID, now, actor.userID, id])
            struct Decided: Encodable { let status, reason: String; let user_id: Int64? }
            try AuditLog.record(db, actor: actor, action: approve ? "registration.approve" : "registration.refuse",
                                entityType: "registration", entityId: id, before: nil as Decided?,
                                after: Decided(status: approve ? "approved" : "refused", reason: reason, user_id: userID))
        }
    }
}
