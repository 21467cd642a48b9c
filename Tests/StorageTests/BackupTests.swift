import Domain
import Foundation
import GRDB
import Testing
@testable import Storage

@Suite struct BackupTests {
    @Test func backupDuringContinuousWritesIsAConsistentCheckedCopy() throws {
        let temp = try TemporaryDirectory()
        let database = try AppDatabase(path: temp.path("live.sqlite"))
        try Migrator.migrate(database: database, directory: coreMigrations)
        // Enough data that the copy takes a while, so the writer really runs during it.
        try database.write { db in
            try db.execute(sql: "CREATE TABLE ticks (n INTEGER PRIMARY KEY, payload TEXT NOT NULL) STRICT")
            let payload = String(repeating: "近邻", count: 200)
            for n in 1...20_000 {
                try db.execute(sql: "INSERT INTO ticks VALUES (?, ?)", arguments: [n, payload])
            }
        }

        // A writer that commits one row per transaction, n = 20001, 20002, … until stopped.
        let committed = Counter()
        committed.set(20_000)
        let stop = Counter()
        let failures = Counter()
        let writerDone = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            var n = 20_001
            while stop.value == 0 {
                do {
                    try database.write { db in
                        try db.execute(sql: "INSERT INTO ticks VALUES (?, 'x')", arguments: [n])
                    }
                    committed.set(n)
                    n += 1
                } catch {
                    failures.increment()
                }
            }
            writerDone.signal()
        }
        // Let the writer get going before the backup starts.
        while committed.value < 20_050 { usleep(1_000) }
        let startedAt = committed.value

        let destination = temp.path("backup.sqlite")
        try database.backup(to: destination)
        let duringBackup = committed.value
        // Keep writing a little after the backup, then stop.
        while committed.value < duringBackup + 20 { usleep(1_000) }
        stop.increment()
        writerDone.wait()
        #expect(failures.value == 0)
        #expect(committed.value > startedAt)

        #expect(!FileManager.default.fileExists(atPath: destination + ".partial"))
        #expect(!FileManager.default.fileExists(atPath: destination + "-wal"))
        let copy = try DatabaseQueue(path: destination)
        try copy.read { db in
            #expect(try String.fetchAll(db, sql: "PRAGMA integrity_check") == ["ok"])
            // A single file: rollback-journal mode, no -wal needed beside it.
            #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "delete")
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM ticks") ?? -1
            let minimum = try Int.fetchOne(db, sql: "SELECT min(n) FROM ticks") ?? -1
            let maximum = try Int.fetchOne(db, sql: "SELECT max(n) FROM ticks") ?? -1
            // A consistent prefix: rows 1…max with no gap, everything committed before the
            // backup began, nothing committed after it returned.
            #expect(minimum == 1)
            #expect(count == maximum)
            #expect(maximum >= startedAt)
            #expect(maximum <= duringBackup)
            // The schema came along.
            #expect(try Migrator.appliedMigrations(db).map(\.name) == ["0001_core.sql"])
        }
        try copy.close()
        // The live database kept every row.
        #expect(try database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM ticks") } == committed.value)
    }

    @Test func backupReplacesAnOlderBackupAtomically() throws {
        let temp = try TemporaryDirectory()
        let database = try AppDatabase(path: temp.path("live.sqlite"))
        try Migrator.migrate(database: database, directory: coreMigrations)
        let grids = Grids(database)
        try grids.createRoot(name: "东城社区", kind: .community, by: tester)
        let destination = temp.path("backup.sqlite")
        try database.backup(to: destination)
        try grids.createRoot(name: "西城社区", kind: .community, by: tester)
        try database.backup(to: destination)

        let copy = try AppDatabase(path: destination)
        #expect(try Grids(copy).children(of: nil).map(\.name).sorted() == ["东城社区", "西城社区"])
        // The copy opens as a normal application database and needs no migration.
        #expect(try Migrator.pendingMigrations(database: copy, directory: coreMigrations) == [])
    }

    @Test func aFailedBackupLeavesNoPartialFile() throws {
        let temp = try TemporaryDirectory()
        let database = try AppDatabase(path: temp.path("live.sqlite"))
        try Migrator.migrate(database: database, directory: coreMigrations)
        let destination = temp.path("missing-directory/backup.sqlite")
        #expect(throws: (any Error).self) { try database.backup(to: destination) }
        #expect(!FileManager.default.fileExists(atPath: destination + ".partial"))
        #expect(!FileManager.default.fileExists(atPath: destination))
    }

    @Test func backupOntoTheLiveFileIsRefused() throws {
        let temp = try TemporaryDirectory()
        let database = try AppDatabase(path: temp.path("live.sqlite"))
        try Migrator.migrate(database: database, directory: coreMigrations)
        #expect(throws: BackupError.self) { try database.backup(to: temp.path("./live.sqlite")) }
        #expect(try Migrator.appliedMigrations(database: database).count == 1)
    }

    @Test func aCorruptCopyIsDeletedNotRenamed() throws {
        // Corrupt the source file's page data behind SQLite's back, so the copy carries the
        // damage and integrity_check must catch it.
        let temp = try TemporaryDirectory()
        let sourcePath = temp.path("damaged.sqlite")
        do {
            let queue = try DatabaseQueue(path: sourcePath)
            try queue.write { db in
                try db.execute(sql: "CREATE TABLE t (x INTEGER PRIMARY KEY, y TEXT)")
                try db.execute(sql: "CREATE INDEX t_y ON t (y)")
                for i in 1...2_000 { try db.execute(sql: "INSERT INTO t VALUES (?, ?)", arguments: [i, "row \(i)"]) }
            }
            try queue.close()
        }
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: sourcePath))
        let pageSize = 4096
        // Scribble over the middle of the last page of the index, keeping the header valid.
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size - UInt64(pageSize) / 2)
        try handle.write(contentsOf: Data(repeating: 0x41, count: 512))
        try handle.close()

        let database = try AppDatabase(path: sourcePath)
        let destination = temp.path("backup.sqlite")
        let error = #expect(throws: BackupError.self) { try database.backup(to: destination) }
        guard case let .integrityCheckFailed(problems) = error else {
            Issue.record("expected an integrity-check failure, got \(String(describing: error))")
            return
        }
        #expect(!problems.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: destination))
        #expect(!FileManager.default.fileExists(atPath: destination + ".partial"))
    }
}
