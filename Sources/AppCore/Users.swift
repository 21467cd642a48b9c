import Access
import Domain
import Foundation
import GRDB
import Security
import Storage

/// An account (the `users` table).
public struct User: Sendable, Hashable, Codable {
    public var id: Int64
    public var username: String
    public var displayName: String
    public var role: Role
    public var scopeGridID: Int64?
    /// The scope node's materialized path; nil for admin (everything).
    public var scopePath: String?
    public var scopeName: String?
    /// A unit handler's unit, its path in the unit tree and its name.
    public var scopeUnitID: Int64?
    public var unitPath: String?
    public var unitName: String?
    public var active: Bool
    public var mustChangePassword: Bool
    public var lastLoginAt: String?
    /// The resident record of a member's or resident's account.
    public var residentID: Int64?

    public var principal: Principal {
        let scope: Scope = switch role {
        case .admin: .everything
        case .unitHandler: unitPath.map { Scope.unit($0) } ?? .nothing
        default: scopePath.map { Scope(path: $0) } ?? .nothing
        }
        return Principal(userID: id, role: role, scope: scope)
    }

    /// What the audit log keeps of an account (never the password hash).
    struct Snapshot: Encodable {
        let username, displayName, role: String
        let scopeGridID: Int64?
        let scopeUnitID: Int64?
        let active: Bool
    }

    var snapshot: Snapshot {
        Snapshot(username: username, displayName: displayName, role: role.rawValue, scopeGridID: scopeGridID,
                 scopeUnitID: scopeUnitID, active: active)
    }

    static let selectSQL = """
        SELECT u.id, u.username, u.display_name, u.role, u.scope_grid_id, g.path AS scope_path, g.name AS scope_name,
               u.scope_unit_id, un.path AS unit_path, un.name AS unit_name,
               u.active, u.must_change_password, u.last_login_at, u.resident_id
        FROM users u LEFT JOIN grids g ON g.id = u.scope_grid_id LEFT JOIN units un ON un.id = u.scope_unit_id
        """

    init(row: Row) {
        id = row["id"]
        username = row["username"]
        displayName = row["display_name"]
        role = Role(rawValue: row["role"] as String? ?? "") ?? .resident
        scopeGridID = row["scope_grid_id"]
        scopePath = row["scope_path"]
        scopeName = row["scope_name"]
        scopeUnitID = row["scope_unit_id"]
        unitPath = row["unit_path"]
        unitName = row["unit_name"]
        active = (row["active"] as Int64? ?? 0) == 1
        mustChangePassword = (row["must_change_password"] as Int64? ?? 0) == 1
        lastLoginAt = row["last_login_at"]
        residentID = row["resident_id"]
    }
}

/// A validation problem on one form field, with its Chinese message.
public struct FieldErrors: Error, Sendable {
    public var errors: [String: String]
    public init(_ errors: [String: String]) { self.errors = errors }
    public init(_ field: String, _ message: String) { errors = [field: message] }
}

/// Accounts: every write is one transaction with its audit entry.
public struct UserStore: Sendable {
    public let database: AppDatabase
    public let hasher: PasswordHasher

    public init(database: AppDatabase, hasher: PasswordHasher = PasswordHasher()) {
        self.database = database
        self.hasher = hasher
    }

    public static let minimumPasswordLength = 8

    /// A random password people can type: no look-alike characters.
    public static func generatePassword(length: Int = 12) -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var rng = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int(rng.next(upperBound: UInt64(alphabet.count)))] })
    }

    public struct NewUser: Sendable {
        public var username: String
        public var displayName: String
        public var role: Role
        public var scopeGridID: Int64?
        /// A unit handler's unit.
        public var scopeUnitID: Int64?
        public var password: String
        public var mustChangePassword: Bool
        /// The resident record a member's or resident's account belongs to.
        public var residentID: Int64?

        public init(username: String, displayName: String, role: Role, scopeGridID: Int64?, scopeUnitID: Int64? = nil,
                    password: String, mustChangePassword: Bool = true, residentID: Int64? = nil) {
            self.residentID = residentID
            self.scopeUnitID = scopeUnitID
            self.username = username
            self.displayName = displayName
            self.role = role
            self.scopeGridID = scopeGridID
            self.password = password
            self.mustChangePassword = mustChangePassword
        }
    }

    public static func validate(username: String, displayName: String, role: Role, scopeGridID: Int64?,
                                scopeUnitID: Int64? = nil) -> [String: String] {
        var errors: [String: String] = [:]
        let name = username.trimmingCharacters(in: .whitespaces)
        if name.isEmpty {
            errors["username"] = "请填写用户名"
        } else if name.count > 64 || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }) {
            errors["username"] = "用户名只能包含英文字母、数字和 _ . -，最多 64 个字符"
        }
        let display = displayName.trimmingCharacters(in: .whitespaces)
        if display.isEmpty { errors["display_name"] = "请填写姓名" } else if display.count > 100 { errors["display_name"] = "姓名最多 100 个字" }
        if role.needsScope && scopeGridID == nil { errors["scope_grid_id"] = "请选择该账号的管辖范围（网格节点）" }
        if role.needsUnit && scopeUnitID == nil { errors["scope_unit_id"] = "请选择部门办理人所属的职能部门" }
        return errors
    }

    static func validate(password: String) -> String? {
        if password.count < minimumPasswordLength { return "密码至少 \(minimumPasswordLength) 位" }
        if password.utf8.count > PasswordHasher.maximumPasswordBytes { return "密码过长" }
        return nil
    }

    @discardableResult
    public func create(_ new: NewUser, by actor: AuditActor) throws -> User {
        var errors = Self.validate(username: new.username, displayName: new.displayName, role: new.role, scopeGridID: new.scopeGridID,
                                   scopeUnitID: new.scopeUnitID)
        if let problem = Self.validate(password: new.password) { errors["password"] = problem }
        guard errors.isEmpty else { throw FieldErrors(errors) }
        let hash = try hasher.hash(new.password)
        return try database.write { db in try Self.insert(db, new, hash: hash, by: actor) }
    }

    /// Inserts a validated account with its audit entry, inside the caller's transaction (a
    /// feature that creates an account as part of a larger change, like a member's account).
    public static func insert(_ db: Database, _ new: NewUser, hash: String, by actor: AuditActor) throws -> User {
        let username = new.username.trimmingCharacters(in: .whitespaces)
        if try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM users WHERE username = ?)", arguments: [username]) == true {
            throw FieldErrors("username", "用户名“\(username)”已被使用")
        }
        if let scope = new.scopeGridID, try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM grids WHERE id = ?)", arguments: [scope]) != true {
            throw FieldErrors("scope_grid_id", "所选网格节点不存在")
        }
        if new.role.needsUnit, let unit = new.scopeUnitID,
           try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM units WHERE id = ?)", arguments: [unit]) != true {
            throw FieldErrors("scope_unit_id", "所选职能部门不存在")
        }
        try db.execute(sql: """
            INSERT INTO users (username, display_name, password_hash, role, scope_grid_id, scope_unit_id, must_change_password, resident_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [username, new.displayName.trimmingCharacters(in: .whitespaces), hash, new.role.rawValue,
                             new.role.needsScope ? new.scopeGridID : nil, new.role.needsUnit ? new.scopeUnitID : nil,
                             new.mustChangePassword ? 1 : 0, new.residentID])
        let id = db.lastInsertedRowID
        guard let user = try Self.find(db, id: id) else { throw StorageDecodingError(message: "user \(id) vanished") }
        try AuditLog.record(db, actor: actor, action: "user.create", entityType: "user", entityId: id,
                            before: nil as User.Snapshot?, after: user.snapshot)
        return user
    }

    public func update(_ id: Int64, displayName: String, role: Role, scopeGridID: Int64?, scopeUnitID: Int64? = nil,
                       by actor: AuditActor) throws -> User {
        try database.write { db in
            guard let before = try Self.find(db, id: id) else { throw FieldErrors("id", "账号不存在") }
            let errors = Self.validate(username: before.username, displayName: displayName, role: role, scopeGridID: scopeGridID,
                                       scopeUnitID: scopeUnitID)
            guard errors.isEmpty else { throw FieldErrors(errors) }
            if before.role == .admin && role != .admin && before.active, try Self.activeAdminCount(db) <= 1 {
                throw FieldErrors("role", "这是最后一个可用的系统管理员账号，不能改为其他角色")
            }
            try db.execute(sql: """
                UPDATE users SET display_name = ?, role = ?, scope_grid_id = ?, scope_unit_id = ?, updated_at = \(Timestamp.nowSQL) WHERE id = ?
                """, arguments: [displayName.trimmingCharacters(in: .whitespaces), role.rawValue, role.needsScope ? scopeGridID : nil,
                                 role.needsUnit ? scopeUnitID : nil, id])
            guard let after = try Self.find(db, id: id) else { throw StorageDecodingError(message: "user \(id) vanished") }
            try AuditLog.record(db, actor: actor, action: "user.update", entityType: "user", entityId: id,
                                before: before.snapshot, after: after.snapshot)
            return after
        }
    }

    /// Deactivating signs the account out everywhere.
    public func setActive(_ id: Int64, _ active: Bool, by actor: AuditActor) throws {
        try database.write { db in
            guard let before = try Self.find(db, id: id) else { throw FieldErrors("id", "账号不存在") }
            if !active && before.role == .admin && before.active, try Self.activeAdminCount(db) <= 1 {
                throw FieldErrors("active", "这是最后一个可用的系统管理员账号，不能停用")
            }
            if !active && before.id == actor.userID { throw FieldErrors("active", "不能停用自己正在使用的账号") }
            try db.execute(sql: "UPDATE users SET active = ?, updated_at = \(Timestamp.nowSQL) WHERE id = ?", arguments: [active ? 1 : 0, id])
            if !active { try db.execute(sql: "DELETE FROM sessions WHERE user_id = ?", arguments: [id]) }
            var after = before
            after.active = active
            try AuditLog.record(db, actor: actor, action: active ? "user.activate" : "user.deactivate", entityType: "user",
                                entityId: id, before: before.snapshot, after: after.snapshot)
        }
    }

    /// Sets a new random password, which must be changed at next sign-in; signs the account out.
    public func resetPassword(_ id: Int64, by actor: AuditActor) throws -> String {
        let password = Self.generatePassword()
        let hash = try hasher.hash(password)
        try database.write { db in
            guard try Self.find(db, id: id) != nil else { throw FieldErrors("id", "账号不存在") }
            try db.execute(sql: """
                UPDATE users SET password_hash = ?, must_change_password = 1, updated_at = \(Timestamp.nowSQL) WHERE id = ?
                """, arguments: [hash, id])
            try db.execute(sql: "DELETE FROM sessions WHERE user_id = ?", arguments: [id])
            try AuditLog.record(db, actor: actor, action: "user.reset_password", entityType: "user", entityId: id,
                                beforeJSON: nil, afterJSON: nil)
        }
        return password
    }

    /// The signed-in user changes their own password; other sessions of the account end.
    public func changePassword(_ id: Int64, current: String, new: String, keepSession tokenHash: String?, by actor: AuditActor) throws {
        guard let stored = try database.read({ db in
            try String.fetchOne(db, sql: "SELECT password_hash FROM users WHERE id = ?", arguments: [id])
        }) else { throw FieldErrors("current_password", "账号不存在") }
        guard hasher.verify(current, against: stored) else { throw FieldErrors("current_password", "当前密码不正确") }
        if let problem = Self.validate(password: new) { throw FieldErrors("new_password", problem) }
        if new == current { throw FieldErrors("new_password", "新密码不能与当前密码相同") }
        let hash = try hasher.hash(new)
        try database.write { db in
            try db.execute(sql: """
                UPDATE users SET password_hash = ?, must_change_password = 0, updated_at = \(Timestamp.nowSQL) WHERE id = ?
                """, arguments: [hash, id])
            try db.execute(sql: "DELETE FROM sessions WHERE user_id = ? AND token_hash IS NOT ?", arguments: [id, tokenHash])
            try AuditLog.record(db, actor: actor, action: "user.change_password", entityType: "user", entityId: id,
                                beforeJSON: nil, afterJSON: nil)
        }
    }

    /// Checks a username and password; nil for a wrong pair or an inactive account. Runs the KDF
    /// even for unknown names, so timing does not reveal which names exist.
    public func authenticate(username: String, password: String) throws -> User? {
        let row = try database.read { db in
            try Row.fetchOne(db, sql: "SELECT id, password_hash, active FROM users WHERE username = ?",
                             arguments: [username.trimmingCharacters(in: .whitespaces)])
        }
        guard let row, let hash: String = row["password_hash"] else {
            _ = hasher.verify(password, against: Self.dummyHash)
            return nil
        }
        guard hasher.verify(password, against: hash), (row["active"] as Int64?) == 1 else { return nil }
        let id: Int64 = row["id"]
        if hasher.needsRehash(hash), let upgraded = try? hasher.hash(password) {
            try database.write { db in
                try db.execute(sql: "UPDATE users SET password_hash = ? WHERE id = ?", arguments: [upgraded, id])
            }
        }
        return try find(id)
    }

    /// A valid hash of nothing anyone types, for the unknown-user path.
    private static let dummyHash = (try? PasswordHasher().hash(UUID().uuidString)) ?? "$y$j9T$invalid$"

    public func find(_ id: Int64) throws -> User? {
        try database.read { db in try Self.find(db, id: id) }
    }

    public static func find(_ db: Database, id: Int64) throws -> User? {
        try Row.fetchOne(db, sql: User.selectSQL + " WHERE u.id = ?", arguments: [id]).map(User.init(row:))
    }

    public func count() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM users") ?? 0 }
    }

    /// Accounts matching a name filter, newest first.
    public func list(query: String, role: Role?, limit: Int, offset: Int) throws -> (users: [User], total: Int) {
        try database.read { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            let q = query.trimmingCharacters(in: .whitespaces)
            if !q.isEmpty {
                conditions.append("(u.username LIKE ? ESCAPE '\\' OR u.display_name LIKE ? ESCAPE '\\')")
                let pattern = "%" + likeEscaped(q) + "%"
                arguments += [pattern, pattern]
            }
            if let role {
                conditions.append("u.role = ?")
                arguments.append(role.rawValue)
            }
            let whereSQL = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM users u" + whereSQL, arguments: StatementArguments(arguments)) ?? 0
            let rows = try Row.fetchAll(db, sql: User.selectSQL + whereSQL + " ORDER BY u.id DESC LIMIT ? OFFSET ?",
                                        arguments: StatementArguments(arguments + [limit, offset]))
            return (rows.map(User.init(row:)), total)
        }
    }

    static func activeAdminCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM users WHERE role = 'admin' AND active = 1") ?? 0
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
public func likeEscaped(_ text: String) -> String {
    var out = ""
    for ch in text {
        if ch == "%" || ch == "_" || ch == "\\" { out.append("\\") }
        out.append(ch)
    }
    return out
}
