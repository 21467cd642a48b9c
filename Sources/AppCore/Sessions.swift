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

/// Refuses sign-in for 15 minutes after 5 failures for one username or 20 from one address.
public struct LoginThrottle: Sendable {
    public let database: AppDatabase
    public var window: TimeInterval = 15 * 60
    public var maxFailuresPerUsername = 5
    public var maxFailuresPerAddress = 20

    public init(database: AppDatabase) {
        self.database = database
    }

    public func isBlocked(username: String, ip: String) throws -> Bool {
        let since = Timestamp.string(from: database.clock.now.addingTimeInterval(-window))
        return try database.read { db in
            let byName = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM login_attempts WHERE username = ? AND at >= ? AND succeeded = 0
                """, arguments: [username, since]) ?? 0
            if byName >= maxFailuresPerUsername { return true }
            let byAddress = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM login_attempts WHERE ip = ? AND at >= ? AND succeeded = 0
                """, arguments: [ip, since]) ?? 0
            return byAddress >= maxFailuresPerAddress
        }
    }

    public func record(username: String, ip: String, succeeded: Bool) throws {
        try database.write { db in
            try db.execute(sql: "INSERT INTO login_attempts (username, ip, succeeded, at) VALUES (?, ?, ?, \(Timestamp.nowSQL))",
                           arguments: [String(username.prefix(100)), ip, succeeded ? 1 : 0])
            if succeeded {
                // A successful sign-in clears the account's failures (not the address's).
                try db.execute(sql: "DELETE FROM login_attempts WHERE username = ? AND succeeded = 0", arguments: [username])
            }
        }
    }
}
