import Domain
import Foundation
import GRDB
import Testing
@testable import Storage

/// The rules that live in 0001_core.sql, exercised with raw SQL so they hold whatever
/// code writes to the database.
@Suite struct SchemaTests {
    @Test func auditLogRefusesUpdateAndDelete() throws {
        let database = try migratedDatabase()
        let id = try database.write { db in
            try AuditLog.record(db, actor: tester, action: "test.action", entityType: "grid", entityId: 1,
                                beforeJSON: nil, afterJSON: #"{"a":1}"#)
        }
        let update = #expect(throws: DatabaseError.self) {
            try database.write { db in try db.execute(sql: "UPDATE audit_log SET action = 'forged' WHERE id = ?", arguments: [id]) }
        }
        #expect(update?.message == "audit_log is append-only: UPDATE refused")
        let delete = #expect(throws: DatabaseError.self) {
            try database.write { db in try db.execute(sql: "DELETE FROM audit_log WHERE id = ?", arguments: [id]) }
        }
        #expect(delete?.message == "audit_log is append-only: DELETE refused")
        // Deleting every row (SQLite's truncate optimization) is refused as well.
        #expect(throws: DatabaseError.self) {
            try database.write { db in try db.execute(sql: "DELETE FROM audit_log") }
        }
        #expect(try database.read { db in try String.fetchOne(db, sql: "SELECT action FROM audit_log") } == "test.action")
    }

    @Test func auditLogRequiresValidJSON() throws {
        let database = try migratedDatabase()
        #expect(throws: DatabaseError.self) {
            try database.write { db in
                try AuditLog.record(db, actor: tester, action: "x", entityType: nil, entityId: nil,
                                    beforeJSON: "{not json", afterJSON: nil)
            }
        }
    }

    @Test func onlyAnAdminMayHaveNoScope() throws {
        let database = try migratedDatabase()
        try database.write { db in
            try db.execute(sql: """
                INSERT INTO users (username, display_name, password_hash, role) VALUES ('admin', '管理员', '$y$x', 'admin')
                """)
        }
        let error = #expect(throws: DatabaseError.self) {
            try database.write { db in
                try db.execute(sql: """
                    INSERT INTO users (username, display_name, password_hash, role) VALUES ('zhang', '张', '$y$x', 'staff')
                    """)
            }
        }
        #expect(error?.extendedResultCode == .SQLITE_CONSTRAINT_CHECK)
    }

    @Test func usernamesAreUniqueIgnoringCase() throws {
        let database = try migratedDatabase()
        try database.write { db in
            try db.execute(sql: "INSERT INTO users (username, display_name, password_hash, role) VALUES ('Admin', 'A', '$y$x', 'admin')")
        }
        let error = #expect(throws: DatabaseError.self) {
            try database.write { db in
                try db.execute(sql: "INSERT INTO users (username, display_name, password_hash, role) VALUES ('aDMIN', 'B', '$y$x', 'admin')")
            }
        }
        #expect(error?.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE)
    }

    @Test(arguments: [
        // Unknown role.
        "INSERT INTO users (username, display_name, password_hash, role) VALUES ('a', 'A', '$y$x', 'root')",
        // Unknown kind.
        "INSERT INTO grids (id, kind, name, code, path, depth) VALUES (1, 'city', 'X', 'X', '/1/', 0)",
        // Path not ending with the own id.
        "INSERT INTO grids (id, kind, name, code, path, depth) VALUES (1, 'community', 'X', 'X', '/2/', 0)",
        // Depth disagreeing with the path.
        "INSERT INTO grids (id, kind, name, code, path, depth) VALUES (1, 'community', 'X', 'X', '/1/', 1)",
        // STRICT: text in an INTEGER column.
        "INSERT INTO grids (id, kind, name, code, path, depth) VALUES (1, 'community', 'X', 'X', '/1/', 'zero')",
        // A time in another shape.
        "INSERT INTO login_attempts (username, ip, at, succeeded) VALUES ('a', '::1', '2025-01-01 00:00:00', 0)",
        // A boolean that is not 0/1.
        "INSERT INTO login_attempts (username, ip, succeeded) VALUES ('a', '::1', 2)",
        // A session token hash that is not 64 hex digits.
        "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ('abc', 1, '0123456789abcdef', '2999-01-01T00:00:00.000Z')",
        // A name with surrounding blanks.
        "INSERT INTO grids (id, kind, name, code, path, depth) VALUES (1, 'community', ' X', 'X', '/1/', 0)",
    ])
    func schemaRefusesImpossibleRows(sql: String) throws {
        let database = try migratedDatabase()
        #expect(throws: DatabaseError.self) {
            try database.write { db in try db.execute(sql: sql) }
        }
    }

    @Test func rootNamesAreUniqueToo() throws {
        let database = try migratedDatabase()
        try database.write { db in
            try db.execute(sql: "INSERT INTO grids (id, kind, name, code, path, depth) VALUES (1, 'community', 'X', 'a', '/1/', 0)")
        }
        #expect(throws: DatabaseError.self) {
            try database.write { db in
                try db.execute(sql: "INSERT INTO grids (id, kind, name, code, path, depth) VALUES (2, 'community', 'X', 'b', '/2/', 0)")
            }
        }
    }

    @Test func defaultsAreTimestampsInTheStoredShape() throws {
        let database = try migratedDatabase()
        let root = try Grids(database).createRoot(name: "东城社区", kind: .community, by: tester)
        #expect(Timestamp.date(from: root.createdAt) != nil)
        try database.write { db in
            try db.execute(sql: "INSERT INTO login_attempts (username, ip, succeeded) VALUES ('a', '::1', 0)")
        }
        let at = try database.read { db in try String.fetchOne(db, sql: "SELECT at FROM login_attempts") }
        #expect(at.flatMap(Timestamp.date(from:)) != nil)
    }

    @Test func subtreeQueriesUseThePathIndex() throws {
        let database = try migratedDatabase()
        let plan = try database.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT * FROM grids WHERE path >= ? AND path < ?",
                             arguments: ["/1/", "/10"]).map { row -> String in try row.decode(forColumn: "detail") }
        }
        #expect(plan.contains { $0.contains("USING INDEX") && $0.contains("path>? AND path<?") })
    }
}
