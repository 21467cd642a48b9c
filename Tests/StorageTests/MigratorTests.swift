import Domain
import Foundation
import GRDB
import Testing
@testable import Storage

@Suite struct MigratorTests {
    @Test func appliesTheShippedSchemaOnceAndIsIdempotentAtTheNextStart() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("app.sqlite")
        do {
            let database = try AppDatabase(path: path)
            #expect(try Migrator.pendingMigrations(database: database, directory: coreMigrations) == ["0001_core.sql"])
            let applied = try Migrator.migrate(database: database, directory: coreMigrations)
            #expect(applied == ["0001_core.sql"])
            let tables = try database.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            }
            for table in ["audit_log", "grid_workers", "grids", "login_attempts", "schema_migrations", "sessions", "users"] {
                #expect(tables.contains(table))
            }
            try database.close()
        }
        // Second start: a new pool on the same file finds nothing to do.
        let database = try AppDatabase(path: path)
        #expect(try Migrator.migrate(database: database, directory: coreMigrations) == [])
        #expect(try Migrator.pendingMigrations(database: database, directory: coreMigrations) == [])
        let rows = try Migrator.appliedMigrations(database: database)
        #expect(rows.count == 1)
        #expect(rows.first?.version == 1)
        #expect(rows.first?.name == "0001_core.sql")
        #expect(rows.first?.checksum.hasPrefix("fnv1a64:") == true)
        #expect(rows.first?.checksum.count == "fnv1a64:".count + 16)
        #expect(rows.first.flatMap { Timestamp.date(from: $0.appliedAt) } != nil)
    }

    @Test func appliesNewFilesInNumericOrderEachInItsOwnTransaction() throws {
        let temp = try TemporaryDirectory()
        let migrations = try temp.copyOfShippedMigrations()
        let database = try AppDatabase(path: temp.path("app.sqlite"))
        try Migrator.migrate(database: database, directory: migrations)

        // 0003 depends on 0002; the listing order of the directory must not matter.
        try temp.write("ALTER TABLE things ADD COLUMN size INTEGER;", to: "0003_thing_size.sql", in: migrations)
        try temp.write("CREATE TABLE things (id INTEGER PRIMARY KEY) STRICT;", to: "0002_things.sql", in: migrations)
        #expect(try Migrator.pendingMigrations(database: database, directory: migrations)
            == ["0002_things.sql", "0003_thing_size.sql"])
        #expect(try Migrator.migrate(database: database, directory: migrations)
            == ["0002_things.sql", "0003_thing_size.sql"])
        #expect(try database.read { db in try db.columns(in: "things").map(\.name) } == ["id", "size"])
        #expect(try Migrator.appliedMigrations(database: database).map(\.version) == [1, 2, 3])
    }

    @Test func refusesToStartWhenAnAppliedFileWasEdited() throws {
        let temp = try TemporaryDirectory()
        let migrations = try temp.copyOfShippedMigrations()
        let database = try AppDatabase(path: temp.path("app.sqlite"))
        try Migrator.migrate(database: database, directory: migrations)

        let file = migrations.appendingPathComponent("0001_core.sql")
        var text = try String(contentsOf: file, encoding: .utf8)
        text += "\n-- a harmless-looking comment is still an edit\n"
        try Data(text.utf8).write(to: file)

        let error = #expect(throws: MigrationError.self) {
            try Migrator.migrate(database: database, directory: migrations)
        }
        #expect(error == .checksumMismatch(name: "0001_core.sql"))
        #expect(error?.description
            == "migration 0001_core.sql was edited after it was applied (checksum mismatch); restore the shipped file")
        #expect(throws: MigrationError.checksumMismatch(name: "0001_core.sql")) {
            try Migrator.pendingMigrations(database: database, directory: migrations)
        }
    }

    @Test func refusesWhenAnAppliedFileIsMissingOrRenamed() throws {
        let temp = try TemporaryDirectory()
        let migrations = try temp.copyOfShippedMigrations()
        let database = try AppDatabase(path: temp.path("app.sqlite"))
        try Migrator.migrate(database: database, directory: migrations)

        let original = migrations.appendingPathComponent("0001_core.sql")
        let renamed = migrations.appendingPathComponent("0001_base.sql")
        try FileManager.default.moveItem(at: original, to: renamed)
        #expect(throws: MigrationError.renamed(version: 1, appliedName: "0001_core.sql", fileName: "0001_base.sql")) {
            try Migrator.migrate(database: database, directory: migrations)
        }
        try FileManager.default.removeItem(at: renamed)
        #expect(throws: MigrationError.missingFile(version: 1, name: "0001_core.sql")) {
            try Migrator.migrate(database: database, directory: migrations)
        }
    }

    @Test(arguments: ["1_core.sql", "0002_Things.sql", "0002-things.sql", "0002_.sql", "0002_things.SQL",
                      "0002_things.sql.bak", "00002_things.sql", "README.md", "0002_thïngs.sql"])
    func refusesBadFileNames(name: String) throws {
        let temp = try TemporaryDirectory()
        let migrations = try temp.copyOfShippedMigrations()
        try temp.write("SELECT 1;", to: name, in: migrations)
        let database = try AppDatabase(path: temp.path("app.sqlite"))
        #expect(throws: MigrationError.badFileName(name)) {
            try Migrator.migrate(database: database, directory: migrations)
        }
        // Nothing ran, not even the valid file.
        #expect(try database.read { db in try db.tableExists("grids") } == false)
    }

    @Test func fileNameRule() {
        #expect(Migrator.version(ofFileName: "0001_core.sql") == 1)
        #expect(Migrator.version(ofFileName: "0042_residents_fts_2.sql") == 42)
        #expect(Migrator.version(ofFileName: "９９９９_x.sql") == nil)  // full-width digits
        #expect(Migrator.version(ofFileName: "0001_core.sql ") == nil)
        #expect(Migrator.version(ofFileName: ".sql") == nil)
    }

    @Test func hiddenFilesAreIgnoredAndSubdirectoriesRefused() throws {
        let temp = try TemporaryDirectory()
        let migrations = try temp.copyOfShippedMigrations()
        try temp.write("", to: ".gitkeep", in: migrations)
        let database = try AppDatabase(path: temp.path("app.sqlite"))
        #expect(try Migrator.migrate(database: database, directory: migrations) == ["0001_core.sql"])

        try FileManager.default.createDirectory(at: migrations.appendingPathComponent("0002_dir.sql"),
                                                withIntermediateDirectories: false)
        #expect(throws: MigrationError.badFileName("0002_dir.sql")) {
            try Migrator.migrate(database: database, directory: migrations)
        }
    }

    @Test func refusesDuplicateVersions() throws {
        let temp = try TemporaryDirectory()
        let migrations = try temp.copyOfShippedMigrations()
        try temp.write("SELECT 1;", to: "0002_a.sql", in: migrations)
        try temp.write("SELECT 1;", to: "0002_b.sql", in: migrations)
        let database = try AppDatabase(path: temp.path("app.sqlite"))
        #expect(throws: MigrationError.duplicateVersion(2, names: ["0002_a.sql", "0002_b.sql"])) {
            try Migrator.migrate(database: database, directory: migrations)
        }
    }

    @Test func refusesANewFileNumberedBeforeTheLastApplied() throws {
        let temp = try TemporaryDirectory()
        let migrations = try temp.copyOfShippedMigrations()
        try temp.write("CREATE TABLE c (x INTEGER) STRICT;", to: "0003_c.sql", in: migrations)
        let database = try AppDatabase(path: temp.path("app.sqlite"))
        try Migrator.migrate(database: database, directory: migrations)
        try temp.write("CREATE TABLE b (x INTEGER) STRICT;", to: "0002_b.sql", in: migrations)
        #expect(throws: MigrationError.outOfOrder(name: "0002_b.sql", lastApplied: "0003_c.sql")) {
            try Migrator.migrate(database: database, directory: migrations)
        }
    }

    @Test func aFailingFileLeavesNoTraceAndIsRetriedOnceFixed() throws {
        let temp = try TemporaryDirectory()
        let migrations = try temp.copyOfShippedMigrations()
        let database = try AppDatabase(path: temp.path("app.sqlite"))
        // The first statement succeeds, the second fails: the whole file must roll back.
        try temp.write("CREATE TABLE half (x INTEGER) STRICT;\nINSERT INTO no_such_table VALUES (1);",
                       to: "0002_half.sql", in: migrations)
        let error = #expect(throws: MigrationError.self) {
            try Migrator.migrate(database: database, directory: migrations)
        }
        guard case let .failed(name, reason) = error else {
            Issue.record("unexpected error \(String(describing: error))")
            return
        }
        #expect(name == "0002_half.sql")
        #expect(reason.contains("no_such_table"))
        // 0001 ran in its own, committed transaction; 0002 left nothing behind.
        #expect(try Migrator.appliedMigrations(database: database).map(\.version) == [1])
        #expect(try database.read { db in try db.tableExists("half") } == false)
        #expect(try database.read { db in try Int.fetchOne(db, sql: "PRAGMA foreign_keys") } == 1)

        try temp.write("CREATE TABLE half (x INTEGER) STRICT;", to: "0002_half.sql", in: migrations)
        #expect(try Migrator.migrate(database: database, directory: migrations) == ["0002_half.sql"])
        #expect(try database.read { db in try db.tableExists("half") } == true)
    }

    @Test func aFileThatBreaksForeignKeysIsRolledBack() throws {
        let temp = try TemporaryDirectory()
        let migrations = try temp.copyOfShippedMigrations()
        // Foreign keys are off while a file runs (so tables can be rebuilt), and checked
        // before the commit.
        try temp.write("""
            INSERT INTO grid_workers (grid_id, user_id) VALUES (1, 1);
            """, to: "0002_orphan.sql", in: migrations)
        let database = try AppDatabase(path: temp.path("app.sqlite"))
        #expect(throws: MigrationError.foreignKeyViolations(name: "0002_orphan.sql", count: 2)) {
            try Migrator.migrate(database: database, directory: migrations)
        }
        #expect(try database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM grid_workers") } == 0)
        // The writer connection got its foreign keys back.
        #expect(try database.write { db in try Int.fetchOne(db, sql: "PRAGMA foreign_keys") } == 1)
    }

    @Test func aTableCanBeRebuiltTheSQLiteWay() throws {
        let temp = try TemporaryDirectory()
        let migrations = try temp.copyOfShippedMigrations()
        let database = try AppDatabase(path: temp.path("app.sqlite"))
        try Migrator.migrate(database: database, directory: migrations)
        let grids = Grids(database)
        let root = try grids.createRoot(name: "东城社区", kind: .community, by: tester)
        try database.write { db in
            try db.execute(sql: """
                INSERT INTO users (username, display_name, password_hash, role, scope_grid_id)
                VALUES ('li', '李', '$y$x', 'staff', ?)
                """, arguments: [root.id])
        }
        // SQLite's table-rebuild procedure: with foreign keys on, DROP TABLE grids would
        // delete the rows the user points to and fail.
        try temp.write("""
            CREATE TABLE grids_new (
                id INTEGER PRIMARY KEY AUTOINCREMENT, parent_id INTEGER REFERENCES grids (id),
                kind TEXT NOT NULL, name TEXT NOT NULL, code TEXT NOT NULL UNIQUE,
                path TEXT NOT NULL UNIQUE, depth INTEGER NOT NULL,
                created_at TEXT NOT NULL, updated_at TEXT NOT NULL, note TEXT
            ) STRICT;
            INSERT INTO grids_new (id, parent_id, kind, name, code, path, depth, created_at, updated_at)
                SELECT id, parent_id, kind, name, code, path, depth, created_at, updated_at FROM grids;
            DROP TABLE grids;
            ALTER TABLE grids_new RENAME TO grids;
            """, to: "0002_rebuild.sql", in: migrations)
        #expect(try Migrator.migrate(database: database, directory: migrations) == ["0002_rebuild.sql"])
        #expect(try database.read { db in try String.fetchOne(db, sql: "SELECT name FROM grids WHERE id = ?", arguments: [root.id]) }
            == "东城社区")
    }

    @Test func checksumIsFNV1a64() {
        // Published FNV-1a 64 test vectors.
        #expect(Migrator.checksum(of: Data()) == "fnv1a64:cbf29ce484222325")
        #expect(Migrator.checksum(of: Data("a".utf8)) == "fnv1a64:af63dc4c8601ec8c")
        #expect(Migrator.checksum(of: Data("foobar".utf8)) == "fnv1a64:85944171f73967e8")
    }
}
