import Foundation
import GRDB

/// The application's one SQLite file, opened as a GRDB `DatabasePool`.
///
/// A pool gives what DESIGN.md asks for: one serialized writer and concurrent readers
/// (WAL lets readers see the last committed state while a write is in progress).
/// Modules run their SQL through the intent-named methods below (`read`, `write`, `bulkWrite`,
/// `checkpoint`); the pool itself stays inside Storage.
///
/// Every connection the pool opens, writer and readers alike, gets the same pragmas in
/// `prepareDatabase`, because pragmas are per connection and a reader opened later under
/// load must behave exactly like the first one.
public final class AppDatabase: Sendable {
    /// The pool itself: Storage's migrator and backup use it directly.
    let pool: DatabasePool

    /// Absolute path of the database file.
    public let path: String

    /// The time every connection reads (`Timestamp.nowSQL`) and the stores use.
    public let clock: Clock

    /// Directory to delete when this object goes away; only set by `openTemporary()`.
    private let temporaryDirectory: URL?

    /// Opens (creating if needed) the database at `path`. Migrations are NOT run here:
    /// the caller runs `Migrator.migrate` so that a refused migration stops the server
    /// with a clear message before it serves anything.
    public convenience init(path: String, clock: Clock = .live) throws {
        try self.init(path: path, temporaryDirectory: nil, clock: clock)
    }

    private init(path: String, temporaryDirectory: URL?, clock: Clock) throws {
        self.path = path
        self.temporaryDirectory = temporaryDirectory
        self.clock = clock
        let pool = try DatabasePool(path: path, configuration: Self.makeConfiguration(clock: clock))
        // GRDB switches the writer to WAL *after* prepareDatabase and, in the same step,
        // sets `synchronous = NORMAL` on it (GRDB 7.10 Database.setUpWALMode). Without the
        // line below the one connection that writes would silently run with NORMAL, and a
        // commit could be lost on power failure. The writer connection lives as long as the
        // pool, so setting it once here is enough; we read it back to be sure.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            let level = try Int.fetchOne(db, sql: "PRAGMA synchronous")
            let journal = try String.fetchOne(db, sql: "PRAGMA journal_mode")
            guard level == 2, journal == "wal" else {
                throw DatabaseError(message: "could not set synchronous=FULL in WAL mode on \(path) (got synchronous=\(level.map(String.init) ?? "?"), journal_mode=\(journal ?? "?"))")
            }
        }
        self.pool = pool
    }

    /// Bytes of the file each connection maps (SQLite's `mmap_size`): room for a county's data.
    static let mmapSize = 4 << 30

    /// The configuration shared by every connection.
    static func makeConfiguration(clock: Clock) -> Configuration {
        var configuration = Configuration()
        // GRDB enables foreign keys by default; we still set the pragma explicitly below so
        // the guarantee does not hinge on a library default.
        configuration.foreignKeysEnabled = true
        // Several processes may open the file at once (the server plus `jinlin backup`, or
        // a migration at start-up). The default busy mode fails immediately with
        // SQLITE_BUSY (see NOTES-swift-linux.md); waiting up to 5 s lets them take turns.
        configuration.busyMode = .timeout(5)
        configuration.label = "jinlin"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            // In WAL mode synchronous=NORMAL may lose the last commits on power loss.
            // FULL fsyncs the WAL at every commit, so a write the server answered as done
            // survives kill -9 and power loss. It costs one fsync per transaction, which
            // is why writers should batch work into one transaction. (For the writer this
            // is overridden by GRDB and set again in init; see there.)
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // County-scale searches touch pages all over the file: a memory map shared by every
            // connection reads them without a pread() per page (RSS shows it as RssFile).
            try db.execute(sql: "PRAGMA mmap_size = \(Self.mmapSize)")
            db.add(function: DatabaseFunction("jinlin_now", argumentCount: 0, pure: false) { _ in clock.timestamp })
            if ProcessInfo.processInfo.environment["JINLIN_TRACE_SQL"] == "1" {
                db.trace(options: .profile) { event in
                    if case .profile(let statement, let duration) = event {
                        FileHandle.standardError.write(Data(String(format: "SQL %.3f ms  %@\n", duration * 1000, String(statement.sql.prefix(300))).utf8))
                    }
                }
            }
        }
        return configuration
    }

    /// Opens a fresh database file in a new directory under the system temporary
    /// directory. The directory and its files are deleted when the object is released.
    /// Meant for tests and throwaway tools; the file is a real on-disk WAL database.
    public static func openTemporary(clock: Clock = .live) throws -> AppDatabase {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("jinlin-db-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("jinlin.sqlite").path
        do {
            return try AppDatabase(path: path, temporaryDirectory: directory, clock: clock)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    deinit {
        if let temporaryDirectory {
            // Close before deleting so no connection writes into an unlinked WAL file.
            try? pool.close()
            try? FileManager.default.removeItem(at: temporaryDirectory)
        }
    }

    /// Runs `updates` in one IMMEDIATE transaction on the single writer connection and
    /// commits it (rolls back if `updates` throws). When this returns, the commit is on disk.
    @discardableResult
    public func write<T>(_ updates: (Database) throws -> T) throws -> T {
        try pool.write(updates)
    }

    /// Runs `value` in a read-only transaction on one of the reader connections; it sees a
    /// consistent snapshot, whatever the writer does meanwhile.
    public func read<T>(_ value: (Database) throws -> T) throws -> T {
        try pool.read(value)
    }

    /// Runs `updates` on the writer connection without opening a transaction: for bulk jobs
    /// (seed, import) that set connection pragmas around a transaction they open themselves.
    @discardableResult
    public func bulkWrite<T>(_ updates: (Database) throws -> T) throws -> T {
        try pool.writeWithoutTransaction(updates)
    }

    /// Folds the WAL into the database file (and truncates it), so the file's size is the data's.
    public func checkpoint() throws {
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    /// Closes every connection. Further access throws. Call it at shutdown so the WAL is
    /// checkpointed and removed.
    public func close() throws {
        try pool.close()
    }
}
