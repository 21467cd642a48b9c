import Foundation
import GRDB

/// Who is acting, for the audit log: a signed-in user, or the system itself.
public struct AuditActor: Sendable, Hashable {
    /// The account id; nil for the system (migrations, jobs, the command line).
    public var userID: Int64?
    /// The name shown in the log (the account's display name at the time).
    public var name: String
    /// The client address the request came from, when there was a request.
    public var ip: String?

    public init(userID: Int64?, name: String, ip: String? = nil) {
        self.userID = userID
        self.name = name
        self.ip = ip
    }

    /// Changes made by the program itself rather than by a person.
    public static let system = AuditActor(userID: nil, name: "system")
}

/// One row of `audit_log`.
public struct AuditEntry: Sendable, Hashable, Identifiable {
    public let id: Int64
    public let at: String
    public let actorUserID: Int64?
    public let actorName: String
    public let action: String
    public let entityType: String?
    public let entityID: Int64?
    public let beforeJSON: String?
    public let afterJSON: String?
    public let clientIP: String?

    init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        at = try row.decode(forColumn: "at")
        actorUserID = try row.decode(forColumn: "actor_user_id")
        actorName = try row.decode(forColumn: "actor_name")
        action = try row.decode(forColumn: "action")
        entityType = try row.decode(forColumn: "entity_type")
        entityID = try row.decode(forColumn: "entity_id")
        beforeJSON = try row.decode(forColumn: "before_json")
        afterJSON = try row.decode(forColumn: "after_json")
        clientIP = try row.decode(forColumn: "client_ip")
    }
}

/// Conditions for listing the audit log; nil means "any". All given conditions apply.
public struct AuditFilter: Sendable, Hashable {
    public var actorUserID: Int64?
    public var action: String?
    public var entityType: String?
    public var entityID: Int64?
    /// Inclusive lower bound, a stored timestamp (see `Timestamp`).
    public var from: String?
    /// Exclusive upper bound, a stored timestamp.
    public var until: String?

    public init(actorUserID: Int64? = nil, action: String? = nil, entityType: String? = nil,
                entityID: Int64? = nil, from: String? = nil, until: String? = nil) {
        self.actorUserID = actorUserID
        self.action = action
        self.entityType = entityType
        self.entityID = entityID
        self.from = from
        self.until = until
    }
}

/// One page of audit entries, newest first.
public struct AuditPage: Sendable, Hashable {
    public let entries: [AuditEntry]
    /// Pass as `before` to get the next (older) page; nil on the last page.
    public let nextBefore: Int64?
}

/// The append-only audit log.
///
/// `record` takes a `Database` so it runs inside the caller's transaction: the change
/// and its audit entry commit together or not at all. There is no way to write a change
/// and "forget" the entry after a crash, nor an entry for a change that rolled back.
public enum AuditLog {
    /// Records one entry with `before`/`after` already serialized as JSON (validated by
    /// the schema's `json_valid` CHECK).
    /// - Parameter ip: the client address; when nil, `actor.ip` is used.
    /// - Returns: the new entry's id.
    @discardableResult
    public static func record(
        _ db: Database, actor: AuditActor, action: String,
        entityType: String?, entityId: Int64?,
        beforeJSON: String?, afterJSON: String?, ip: String? = nil
    ) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO audit_log
                    (at, actor_user_id, actor_name, action, entity_type, entity_id, before_json, after_json, client_ip)
                VALUES (\(Timestamp.nowSQL), ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [actor.userID, actor.name, action, entityType, entityId, beforeJSON, afterJSON, ip ?? actor.ip])
        return db.lastInsertedRowID
    }

    /// Records one entry, encoding `before`/`after` to JSON (keys sorted, so two entries of
    /// the same entity compare line by line).
    @discardableResult
    public static func record(
        _ db: Database, actor: AuditActor, action: String,
        entityType: String?, entityId: Int64?,
        before: (any Encodable)?, after: (any Encodable)?, ip: String? = nil
    ) throws -> Int64 {
        try record(db, actor: actor, action: action, entityType: entityType, entityId: entityId,
                   beforeJSON: try before.map(json), afterJSON: try after.map(json), ip: ip)
    }

    static func json(_ value: any Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        // JSONEncoder always produces UTF-8; decoding it as such cannot fail.
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// A page of entries matching `filter`, newest first, older than the entry `before`
    /// when given. Paging by id (keyset) stays fast and stable on a log of millions of
    /// rows, where OFFSET would rescan every skipped row and shift as entries arrive.
    /// - Parameter limit: clamped to 1...500.
    public static func entries(_ db: Database, filter: AuditFilter = AuditFilter(),
                               before: Int64? = nil, limit: Int = 50) throws -> AuditPage {
        let limit = min(max(limit, 1), 500)
        var (conditions, arguments) = whereClause(filter)
        if let before {
            conditions.append("id < ?")
            arguments += [before]
        }
        let whereSQL = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments += [limit + 1]
        let rows = try Row.fetchAll(
            db,
            sql: "SELECT * FROM audit_log \(whereSQL) ORDER BY id DESC LIMIT ?",
            arguments: arguments)
        // One extra row tells whether an older page exists without a COUNT.
        let entries = try rows.prefix(limit).map(AuditEntry.init(row:))
        return AuditPage(entries: entries, nextBefore: rows.count > limit ? entries.last?.id : nil)
    }

    /// Number of entries matching `filter`.
    /// The `reason` an entry's JSON gives (reveals and full exports ask for one), if any.
    public static func reason(inJSON json: String?) -> String? {
        guard let data = json?.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let reason = object["reason"] as? String, !reason.isEmpty else { return nil }
        return reason
    }

    public static func count(_ db: Database, filter: AuditFilter = AuditFilter()) throws -> Int {
        let (conditions, arguments) = whereClause(filter)
        let whereSQL = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log \(whereSQL)", arguments: arguments) ?? 0
    }

    private static func whereClause(_ filter: AuditFilter) -> ([String], StatementArguments) {
        var conditions: [String] = []
        var arguments = StatementArguments()
        if let value = filter.actorUserID { conditions.append("actor_user_id = ?"); arguments += [value] }
        if let value = filter.action { conditions.append("action = ?"); arguments += [value] }
        if let value = filter.entityType { conditions.append("entity_type = ?"); arguments += [value] }
        if let value = filter.entityID { conditions.append("entity_id = ?"); arguments += [value] }
        if let value = filter.from { conditions.append("at >= ?"); arguments += [value] }
        if let value = filter.until { conditions.append("at < ?"); arguments += [value] }
        return (conditions, arguments)
    }
}
