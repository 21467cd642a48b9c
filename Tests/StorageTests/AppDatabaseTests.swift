import Foundation
import GRDB
import Testing
@testable import Storage

@Suite struct AppDatabaseTests {
    @Test func pragmasAreInEffectOnWriterAndReaders() throws {
        let database = try AppDatabase.openTemporary()
        let writerPragmas = try database.write { db in try pragmas(db) }
        #expect(writerPragmas.journalMode == "wal")
        #expect(writerPragmas.foreignKeys == 1)
        #expect(writerPragmas.synchronous == 2)  // FULL
        #expect(writerPragmas.busyTimeout == 5000)

        // Readers are separate connections; per-connection pragmas must be set there too.
        let readerPragmas = try database.read { db in try pragmas(db) }
        #expect(readerPragmas.journalMode == "wal")
        #expect(readerPragmas.foreignKeys == 1)
        #expect(readerPragmas.synchronous == 2)
        // GRDB gives pool readers their own, longer timeout (10 s) for WAL recovery cases.
        #expect((readerPragmas.busyTimeout ?? 0) >= 5000)
    }

    @Test func theDatabaseIsARealFileInWALMode() throws {
        let database = try AppDatabase.openTemporary()
        try database.write { db in try db.execute(sql: "CREATE TABLE t (x INTEGER) STRICT") }
        #expect(FileManager.default.fileExists(atPath: database.path))
        #expect(FileManager.default.fileExists(atPath: database.path + "-wal"))
    }

    @Test func committedWritesSurviveReopening() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("app.sqlite")
        do {
            let database = try AppDatabase(path: path)
            try database.write { db in
                try db.execute(sql: "CREATE TABLE t (x INTEGER) STRICT")
                try db.execute(sql: "INSERT INTO t VALUES (42)")
            }
            // No close(): the object just goes away, as on a crash of the owner.
        }
        let reopened = try AppDatabase(path: path)
        #expect(try reopened.read { db in try Int.fetchOne(db, sql: "SELECT x FROM t") } == 42)
    }

    @Test func foreignKeysAreEnforced() throws {
        let database = try migratedDatabase()
        #expect(throws: DatabaseError.self) {
            try database.write { db in
                try db.execute(sql: """
                    INSERT INTO users (username, display_name, password_hash, role, scope_grid_id)
                    VALUES ('wang', '王', '$y$x', 'staff', 999)
                    """)
            }
        }
    }

    @Test func twoPoolsOnOneFileTakeTurnsInsteadOfFailingBusy() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("app.sqlite")
        let first = try AppDatabase(path: path)
        let second = try AppDatabase(path: path)
        try first.write { db in try db.execute(sql: "CREATE TABLE t (x INTEGER) STRICT") }
        let group = DispatchGroup()
        let failures = Counter()
        for database in [first, second] {
            DispatchQueue.global().async(group: group) {
                for i in 0..<50 {
                    do {
                        try database.write { db in try db.execute(sql: "INSERT INTO t VALUES (?)", arguments: [i]) }
                    } catch {
                        failures.increment()
                    }
                }
            }
        }
        group.wait()
        #expect(failures.value == 0)
        #expect(try first.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == 100)
    }

    @Test func temporaryDatabaseDeletesItsDirectory() throws {
        var path = ""
        do {
            let database = try AppDatabase.openTemporary()
            path = database.path
            try database.write { db in try db.execute(sql: "CREATE TABLE t (x INTEGER)") }
            #expect(FileManager.default.fileExists(atPath: path))
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func timestampsHaveTheStoredShape() throws {
        let text = Timestamp.string(from: Date(timeIntervalSince1970: 1.5))
        #expect(text == "1970-01-01T00:00:01.500Z")
        #expect(Timestamp.date(from: text) == Date(timeIntervalSince1970: 1.5))
        let database = try AppDatabase.openTemporary()
        let fromSQLite = try database.read { db in try String.fetchOne(db, sql: "SELECT \(Timestamp.nowSQL)") }
        #expect(fromSQLite?.count == 24)
        #expect(fromSQLite.flatMap(Timestamp.date(from:)) != nil)
    }

    /// The digit-by-digit parser agrees with Foundation's ISO 8601 parser, leap days and
    /// century years included, and refuses other shapes.
    @Test func timestampParserAgreesWithFoundation() throws {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
        var generator = SystemRandomNumberGenerator()
        let fixed = ["2000-02-29T23:59:59.999Z", "1900-03-01T00:00:00.000Z", "2024-12-31T12:34:56.789Z", "1969-12-31T23:59:59.001Z"]
        let random = (0..<2_000).map { _ in
            Timestamp.string(from: Date(timeIntervalSince1970: Double(Int64.random(in: -2_000_000_000...4_000_000_000, using: &generator)) / 1_000 * 997))
        }
        for text in fixed + random {
            let expected = try style.parse(text)
            let parsed = try #require(Timestamp.date(from: text), "\(text)")
            #expect(abs(parsed.timeIntervalSince(expected)) < 0.000_5, "\(text)")
        }
        for bad in ["", "2024-12-31 12:34:56.789Z", "2024-12-31T12:34:56Z", "2024-13-01T00:00:00.000Z", "2024-1a-01T00:00:00.000Z",
                    "2024-12-31T24:00:00.000Z", "2024-12-31T12:34:56.789+"] {
            #expect(Timestamp.date(from: bad) == nil, "\(bad)")
        }
    }

    private func pragmas(_ db: Database) throws -> (journalMode: String?, foreignKeys: Int?, synchronous: Int?, busyTimeout: Int?) {
        (try String.fetchOne(db, sql: "PRAGMA journal_mode"),
         try Int.fetchOne(db, sql: "PRAGMA foreign_keys"),
         try Int.fetchOne(db, sql: "PRAGMA synchronous"),
         try Int.fetchOne(db, sql: "PRAGMA busy_timeout"))
    }
}
