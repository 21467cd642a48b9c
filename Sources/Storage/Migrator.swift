import Foundation
import GRDB
import Logging

/// Why the schema could not be brought up to date. The server must refuse to start on
/// any of these: serving with a schema that differs from what the code expects risks
/// writing wrong data. `description` is English, for the log.
public enum MigrationError: Error, CustomStringConvertible, Equatable {
    /// The migrations directory could not be listed.
    case unreadableDirectory(path: String, reason: String)
    /// A file in the migrations directory does not follow `NNNN_name.sql`.
    case badFileName(String)
    /// Two files carry the same numeric prefix.
    case duplicateVersion(Int, names: [String])
    /// A migration file is not valid UTF-8 or could not be read.
    case unreadableFile(name: String, reason: String)
    /// An applied migration's file changed since it ran.
    case checksumMismatch(name: String)
    /// An applied migration has no file any more.
    case missingFile(version: Int, name: String)
    /// An applied version now has a file of another name.
    case renamed(version: Int, appliedName: String, fileName: String)
    /// A new file sorts before a migration that has already been applied.
    case outOfOrder(name: String, lastApplied: String)
    /// Executing a migration failed; its transaction was rolled back.
    case failed(name: String, reason: String)
    /// The migration left rows that violate foreign keys; it was rolled back.
    case foreignKeyViolations(name: String, count: Int)

    public var description: String {
        switch self {
        case let .unreadableDirectory(path, reason):
            "cannot read the migrations directory \(path): \(reason)"
        case let .badFileName(name):
            "\(name) in the migrations directory is not a migration: names must look like 0001_core.sql (four digits, underscore, lower-case letters, digits and underscores, .sql)"
        case let .duplicateVersion(version, names):
            "migrations \(names.joined(separator: " and ")) share version \(version); every version number must be unique"
        case let .unreadableFile(name, reason):
            "cannot read migration \(name): \(reason)"
        case let .checksumMismatch(name):
            "migration \(name) was edited after it was applied (checksum mismatch); restore the shipped file"
        case let .missingFile(version, name):
            "migration \(name) (version \(version)) was applied to this database but its file is missing; restore the shipped file"
        case let .renamed(version, appliedName, fileName):
            "migration version \(version) was applied as \(appliedName) but the file is now named \(fileName); restore the shipped file name"
        case let .outOfOrder(name, lastApplied):
            "migration \(name) sorts before the already applied \(lastApplied); give new migrations a number after the last applied one"
        case let .failed(name, reason):
            "migration \(name) failed and was rolled back: \(reason)"
        case let .foreignKeyViolations(name, count):
            "migration \(name) left \(count) foreign key violation(s) and was rolled back"
        }
    }
}

/// One `NNNN_name.sql` file of the migrations directory.
public struct MigrationFile: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let checksum: String
    public let sql: String
}

/// A row of `schema_migrations`.
public struct AppliedMigration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let checksum: String
    public let appliedAt: String
}

/// Runs the numbered plain-SQL files of `Migrations/` in order, once each.
///
/// Rules, and why:
/// - File names are `^\d{4}_[a-z0-9_]+\.sql$`; anything else in the directory is an error
///   (a stray `0003_fix.SQL` or `3_fix.sql` would otherwise be silently skipped).
///   Hidden files (`.gitkeep`, editor swap files) are ignored.
/// - Each file runs in its own transaction, together with its `schema_migrations` row,
///   so a failing file leaves no trace and the next start retries it.
/// - Files must not contain BEGIN/COMMIT (they already run inside a transaction).
/// - Foreign keys are switched off while a file runs and checked with
///   `PRAGMA foreign_key_check` before its commit. This is SQLite's documented procedure
///   for rebuilding a table (ALTER TABLE cannot change constraints), and the check keeps
///   the guarantee that no violation is ever committed.
/// - A checksum of each applied file is recorded. An applied file that changed, vanished
///   or was renamed stops the start: the database was built from other SQL than the
///   shipped one and nobody can tell what the schema really is.
public enum Migrator {
    static let createTableSQL = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            checksum   TEXT NOT NULL,
            applied_at TEXT NOT NULL
        ) STRICT
        """

    /// Applies every pending migration of `directory`, in version order.
    /// - Returns: the file names applied by this call (empty when up to date).
    @discardableResult
    public static func migrate(database: AppDatabase, directory: URL, logger: Logger? = nil) throws -> [String] {
        let files = try migrationFiles(in: directory)
        return try database.pool.writeWithoutTransaction { db in
            try db.execute(sql: createTableSQL)
            let pending = try pendingFiles(files, applied: try appliedMigrations(db))
            var appliedNow: [String] = []
            for file in pending {
                if try apply(file, db) {
                    appliedNow.append(file.name)
                    logger?.info("applied migration \(file.name)")
                }
            }
            return appliedNow
        }
    }

    /// The names of the files that `migrate` would apply, after the same verification
    /// (it throws for an edited, missing or misnamed file exactly like `migrate`).
    public static func pendingMigrations(database: AppDatabase, directory: URL) throws -> [String] {
        let files = try migrationFiles(in: directory)
        return try database.read { db in
            let applied = try db.tableExists("schema_migrations") ? try appliedMigrations(db) : []
            return try pendingFiles(files, applied: applied).map(\.name)
        }
    }

    /// The rows of `schema_migrations`, by version; empty before the first migration.
    public static func appliedMigrations(database: AppDatabase) throws -> [AppliedMigration] {
        try database.read { db in
            try db.tableExists("schema_migrations") ? try appliedMigrations(db) : []
        }
    }

    /// Lists, validates and reads the migration files of `directory`, sorted by version.
    public static func migrationFiles(in directory: URL) throws -> [MigrationFile] {
        let fileManager = FileManager.default
        let entries: [String]
        do {
            entries = try fileManager.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw MigrationError.unreadableDirectory(path: directory.path, reason: "\(error)")
        }
        var files: [MigrationFile] = []
        for entry in entries where !entry.hasPrefix(".") {
            guard let version = version(ofFileName: entry) else {
                throw MigrationError.badFileName(entry)
            }
            let url = directory.appendingPathComponent(entry)
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw MigrationError.badFileName(entry)
            }
            let data: Data
            do {
                data = try Data(contentsOf: url)
            } catch {
                throw MigrationError.unreadableFile(name: entry, reason: "\(error)")
            }
            guard var sql = String(data: data, encoding: .utf8) else {
                throw MigrationError.unreadableFile(name: entry, reason: "not valid UTF-8")
            }
            // An editor may add a byte order mark, which SQLite does not accept as SQL.
            if sql.hasPrefix("\u{FEFF}") { sql.removeFirst() }
            files.append(MigrationFile(version: version, name: entry, checksum: checksum(of: data), sql: sql))
        }
        files.sort { $0.version < $1.version }
        for (previous, next) in zip(files, files.dropFirst()) where previous.version == next.version {
            throw MigrationError.duplicateVersion(next.version, names: [previous.name, next.name])
        }
        return files
    }

    /// The version number of a valid migration file name (`^\d{4}_[a-z0-9_]+\.sql$`),
    /// nil for any other name. Checked byte by byte so that only ASCII digits count
    /// (a regex `\d` may also accept other Unicode digits).
    static func version(ofFileName name: String) -> Int? {
        let bytes = Array(name.utf8)
        let suffix = Array(".sql".utf8)
        // 4 digits + "_" + at least one character + ".sql"
        guard bytes.count >= 4 + 1 + 1 + suffix.count, bytes.suffix(suffix.count).elementsEqual(suffix) else {
            return nil
        }
        var version = 0
        for byte in bytes[0..<4] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            version = version * 10 + Int(byte - UInt8(ascii: "0"))
        }
        guard bytes[4] == UInt8(ascii: "_") else { return nil }
        for byte in bytes[5..<(bytes.count - suffix.count)] {
            let allowed = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "_")
            guard allowed else { return nil }
        }
        return version
    }

    /// FNV-1a 64-bit of the file bytes, as `fnv1a64:` + 16 hex digits.
    ///
    /// This detects accidental edits, not an adversary: anyone who can edit the shipped
    /// migrations can also edit `schema_migrations`. Storage deliberately has no crypto
    /// dependency. The algorithm prefix leaves room to switch to SHA-256 later without
    /// misreading old rows.
    static func checksum(of data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func appliedMigrations(_ db: Database) throws -> [AppliedMigration] {
        try Row.fetchAll(db, sql: "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
            .map { row in
                AppliedMigration(
                    version: try row.decode(forColumn: "version"),
                    name: try row.decode(forColumn: "name"),
                    checksum: try row.decode(forColumn: "checksum"),
                    appliedAt: try row.decode(forColumn: "applied_at"))
            }
    }

    /// Checks the applied rows against the files and returns the files still to run.
    static func pendingFiles(_ files: [MigrationFile], applied: [AppliedMigration]) throws -> [MigrationFile] {
        let filesByVersion = Dictionary(files.map { ($0.version, $0) }, uniquingKeysWith: { first, _ in first })
        for row in applied {
            guard let file = filesByVersion[row.version] else {
                throw MigrationError.missingFile(version: row.version, name: row.name)
            }
            try verify(file, against: row)
        }
        let appliedVersions = Set(applied.map(\.version))
        let pending = files.filter { !appliedVersions.contains($0.version) }
        if let last = applied.last, let early = pending.first(where: { $0.version < last.version }) {
            throw MigrationError.outOfOrder(name: early.name, lastApplied: last.name)
        }
        return pending
    }

    static func verify(_ file: MigrationFile, against row: AppliedMigration) throws {
        guard file.name == row.name else {
            throw MigrationError.renamed(version: row.version, appliedName: row.name, fileName: file.name)
        }
        guard file.checksum == row.checksum else {
            throw MigrationError.checksumMismatch(name: file.name)
        }
    }

    /// Runs one file in its own IMMEDIATE transaction. Returns false when another process
    /// applied it between our check and our transaction (the IMMEDIATE lock makes the
    /// re-check inside the transaction authoritative).
    private static func apply(_ file: MigrationFile, _ db: Database) throws -> Bool {
        // Only takes effect outside a transaction. Switched back on below whatever the
        // outcome, and that step may throw: a connection left without foreign keys must
        // stop the start, not go on serving.
        try db.execute(sql: "PRAGMA foreign_keys = OFF")
        let outcome = Result { try runInTransaction(file, db) }
        try db.execute(sql: "PRAGMA foreign_keys = ON")
        guard try Int.fetchOne(db, sql: "PRAGMA foreign_keys") == 1 else {
            throw MigrationError.failed(name: file.name, reason: "could not switch foreign keys back on")
        }
        do {
            return try outcome.get()
        } catch let error as MigrationError {
            throw error
        } catch {
            // The DatabaseError description names the failing statement, which is what
            // whoever reads the log needs to find the line.
            throw MigrationError.failed(name: file.name, reason: "\(error)")
        }
    }

    private static func runInTransaction(_ file: MigrationFile, _ db: Database) throws -> Bool {
        var applied = false
        try db.inTransaction(.immediate) {
            if let row = try Row.fetchOne(db, sql: "SELECT version, name, checksum, applied_at FROM schema_migrations WHERE version = ?", arguments: [file.version]) {
                try verify(file, against: AppliedMigration(
                    version: try row.decode(forColumn: "version"),
                    name: try row.decode(forColumn: "name"),
                    checksum: try row.decode(forColumn: "checksum"),
                    appliedAt: try row.decode(forColumn: "applied_at")))
                return .commit
            }
            try db.execute(sql: file.sql)
            let violations = try Row.fetchAll(db, sql: "PRAGMA foreign_key_check")
            guard violations.isEmpty else {
                throw MigrationError.foreignKeyViolations(name: file.name, count: violations.count)
            }
            try db.execute(
                sql: "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, \(Timestamp.nowSQL))",
                arguments: [file.version, file.name, file.checksum])
            applied = true
            return .commit
        }
        return applied
    }
}
