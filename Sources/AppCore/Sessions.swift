import Foundation
import GRDB
import Security
import Storage

/// A signed-in session: the account and the CSRF token of its forms.
public struct ActiveSession: Sendable {
    public let tokenHash: String
    public let csrfToken: String
    public let user: User
}

/// Sign-in sessions. The cookie carries a random 256-bit token; only its SHA-256 is stored.
public struct SessionStore: Sendable {
    public let database: AppDatabase
    /// Ends a session nobody used for this long.
    public var idleTimeout: TimeInterval = 8 * 3600
    /// Ends a session this long after sign-in, however active.
    public var absoluteTimeout: TimeInterval = 7 * 24 * 3600
    /// `last_seen_at` is written at most this often, so reading pages costs no writes.
    public var touchInterval: TimeInterval = 60

    public init(database: AppDatabase) {
        self.database = database
    }

    /// Creates a session and returns the token for the cookie.
    public func create(for user: User, userAgent: String?, ip: String?, by actor: AuditActor) throws -> (token: String, session: ActiveSession) {
        let token = randomToken()
        let hash = sha256Hex(token)
        let csrf = randomToken()
        let now = database.clock.now
        let expires = Timestamp.string(from: now.addingTimeInterval(absoluteTimeout))
        try database.write { db in
            // Expired sessions are swept at each sign-in rather than by a timer.
            try db.execute(sql: "DELETE FROM sessions WHERE expires_at < ? OR last_seen_at < ?",
                           arguments: [Timestamp.string(from: now), Timestamp.string(from: now.addingTimeInterval(-idleTimeout))])
            try db.execute(sql: """
                INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, user_agent, ip, created_at, last_seen_at)
                VALUES (?, ?, ?, ?, ?, ?, \(Timestamp.nowSQL), \(Timestamp.nowSQL))
                """, arguments: [hash, user.id, csrf, expires, userAgent.map { String($0.prefix(300)) }, ip])
            try db.execute(sql: "UPDATE users SET last_login_at = \(Timestamp.nowSQL) WHERE id = ?", arguments: [user.id])
            try AuditLog.record(db, actor: actor, action: "session.login", entityType: "user", entityId: user.id,
                                beforeJSON: nil, afterJSON: nil)
        }
        return (token, ActiveSession(tokenHash: hash, csrfToken: csrf, user: user))
    }

    /// The session and its account by token hash; every signed-in request runs it.
    static let findSQL = User.selectSQL.replacingOccurrences(
        of: "SELECT u.id", with: "SELECT s.csrf_token, s.last_seen_at, s.expires_at, u.id")
        + " JOIN sessions s ON s.user_id = u.id WHERE s.token_hash = ? AND u.active = 1"

    /// The live session for a cookie token, nil if unknown, expired, idle too long, or the
    /// account is inactive.
    public func find(token: String) throws -> ActiveSession? {
        guard token.utf8.count >= 32, token.utf8.count <= 128 else { return nil }
        let hash = sha256Hex(token)
        let now = database.clock.now
        let found: (ActiveSession, String)? = try database.read { db in
            // A cached statement: prepared once per connection.
            guard let row = try Row.fetchOne(try db.cachedStatement(sql: Self.findSQL), arguments: [hash]) else { return nil }
            let expires: String = row["expires_at"]
            let lastSeen: String = row["last_seen_at"]
            guard let expiresAt = Timestamp.date(from: expires), expiresAt > now,
                  let seenAt = Timestamp.date(from: lastSeen), now.timeIntervalSince(seenAt) < idleTimeout else { return nil }
            return (ActiveSession(tokenHash: hash, csrfToken: row["csrf_token"], user: User(row: row)), lastSeen)
        }
        guard let (session, lastSeen) = found else { return nil }
        if let seenAt = Timestamp.date(from: lastSeen), now.timeIntervalSince(seenAt) > touchInterval {
            try database.write { db in
                try db.execute(sql: "UPDATE sessions SET last_seen_at = \(Timestamp.nowSQL) WHERE token_hash = ?", arguments: [hash])
            }
        }
        return session
    }

    public func delete(tokenHash: String, user: User, by actor: AuditActor) throws {
        try database.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE token_hash = ?", arguments: [tokenHash])
            try AuditLog.record(db, actor: actor, action: "session.logout", entityType: "user", entityId: user.id,
                                beforeJSON: nil, afterJSON: nil)
        }
    }
}

/// Sign-in throttling (README "Security"). Failures count per account *and* address together:
/// the first `freeFailures` of a pair are free, then each further attempt waits a delay that
/// doubles from `firstDelay` up to `window`. A person signing in from another place is not held
/// up by someone guessing elsewhere; only far higher ceilings per account and per address (a
/// community office behind one NAT) stop a spread-out attack. An attempt is counted (as a
/// failure until it succeeds) in the same transaction that admits it, so parallel requests
/// cannot get more checks than the limit.
public struct LoginThrottle: Sendable {
    public let database: AppDatabase
    public var window: TimeInterval = 15 * 60
    public var freeFailures = 5
    public var firstDelay: TimeInterval = 30
    public var maxFailuresPerAccount = 50
    public var maxFailuresPerAddress = 200

    public init(database: AppDatabase) {
        self.database = database
    }

    public enum Verdict: Sendable, Equatable {
        /// Check the password; the attempt is already counted as a failure.
        case admitted(attemptID: Int64)
        /// Refused without checking; try again after this many seconds.
        case blocked(retryAfter: Int)
    }

    /// Decides whether to check a password, and counts the attempt if so, in one write.
    public func admit(username: String, ip: String) throws -> Verdict {
        let now = database.clock.now
        let name = String(username.prefix(100))
        let since = Timestamp.string(from: now.addingTimeInterval(-window))
        return try database.write { db in
            let pair = try Row.fetchOne(db, sql: """
                SELECT count(*) AS failures, max(at) AS last FROM login_attempts
                WHERE username = ? AND ip = ? AND at >= ? AND succeeded = 0
                """, arguments: [name, ip, since])
            let pairFailures: Int = pair?["failures"] ?? 0
            var wait: TimeInterval = 0
            if pairFailures >= freeFailures, let last = (pair?["last"] as String?).flatMap(Timestamp.date(from:)) {
                let delay = min(window, firstDelay * pow(2, Double(min(pairFailures - freeFailures, 20))))
                wait = last.addingTimeInterval(delay).timeIntervalSince(now)
            }
            let account = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM login_attempts WHERE username = ? AND at >= ? AND succeeded = 0
                """, arguments: [name, since]) ?? 0
            let address = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM login_attempts WHERE ip = ? AND at >= ? AND succeeded = 0
                """, arguments: [ip, since]) ?? 0
            if account >= maxFailuresPerAccount || address >= maxFailuresPerAddress { wait = max(wait, window) }
            if wait > 0 { return .blocked(retryAfter: Int(wait.rounded(.up))) }
            try db.execute(sql: "INSERT INTO login_attempts (username, ip, at, succeeded) VALUES (?, ?, ?, 0)",
                           arguments: [name, ip, Timestamp.string(from: now)])
            return .admitted(attemptID: db.lastInsertedRowID)
        }
    }

    /// The admitted attempt succeeded: it stops counting, and so do the pair's earlier failures.
    public func succeeded(_ attemptID: Int64, username: String, ip: String) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE login_attempts SET succeeded = 1 WHERE id = ?", arguments: [attemptID])
            try db.execute(sql: "DELETE FROM login_attempts WHERE username = ? AND ip = ? AND succeeded = 0",
                           arguments: [String(username.prefix(100)), ip])
        }
    }

    /// A lock as the admin sees it: an account from one address, a whole account, or an address.
    public struct Lock: Sendable, Equatable {
        public enum Kind: String, Sendable { case pair, account, address }
        public let kind: Kind
        public let username: String
        public let ip: String
        public let failures: Int
        public let lastAt: String
    }

    /// The pairs, accounts and addresses that are held up now (failures within the window).
    public func locks() throws -> [Lock] {
        let since = Timestamp.string(from: database.clock.now.addingTimeInterval(-window))
        return try database.read { db in
            func fetch(_ kind: Lock.Kind, _ sql: String, _ limit: Int) throws -> [Lock] {
                try Row.fetchAll(db, sql: sql, arguments: [since, limit]).map {
                    Lock(kind: kind, username: $0["username"] ?? "", ip: $0["ip"] ?? "", failures: $0["failures"], lastAt: $0["last"])
                }
            }
            return try fetch(.account, """
                SELECT username, '' AS ip, count(*) AS failures, max(at) AS last FROM login_attempts
                WHERE at >= ? AND succeeded = 0 GROUP BY username HAVING count(*) >= ? ORDER BY last DESC
                """, maxFailuresPerAccount)
                + fetch(.address, """
                SELECT '' AS username, ip, count(*) AS failures, max(at) AS last FROM login_attempts
                WHERE at >= ? AND succeeded = 0 GROUP BY ip HAVING count(*) >= ? ORDER BY last DESC
                """, maxFailuresPerAddress)
                + fetch(.pair, """
                SELECT username, ip, count(*) AS failures, max(at) AS last FROM login_attempts
                WHERE at >= ? AND succeeded = 0 GROUP BY username, ip HAVING count(*) >= ? ORDER BY last DESC LIMIT 200
                """, freeFailures)
        }
    }

    /// Lifts a lock by forgetting its failures; audited with how many there were.
    public func lift(_ kind: Lock.Kind, username: String, ip: String, by actor: AuditActor) throws -> Int {
        try database.write { db in
            let condition: String
            let arguments: StatementArguments
            switch kind {
            case .pair: (condition, arguments) = ("username = ? AND ip = ?", [username, ip])
            case .account: (condition, arguments) = ("username = ?", [username])
            case .address: (condition, arguments) = ("ip = ?", [ip])
            }
            try db.execute(sql: "DELETE FROM login_attempts WHERE succeeded = 0 AND " + condition, arguments: arguments)
            let removed = db.changesCount
            struct Lifted: Encodable { let kind, username, ip: String; let failures: Int }
            try AuditLog.record(db, actor: actor, action: "login.unlock", entityType: nil, entityId: nil, before: nil as Lifted?,
                                after: Lifted(kind: kind.rawValue, username: username, ip: ip, failures: removed))
            return removed
        }
    }
}
