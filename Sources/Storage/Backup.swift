import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a backup was not produced. Whatever happens, `destination` is either the previous
/// backup untouched or a complete, checked copy: never a half-written file.
public enum BackupError: Error, CustomStringConvertible {
    /// The destination is the live database file itself.
    case destinationIsLiveDatabase(String)
    /// `PRAGMA integrity_check` on the copy reported problems (first lines kept).
    case integrityCheckFailed([String])
    /// A file-system call failed.
    case fileSystem(operation: String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case let .destinationIsLiveDatabase(path):
            "refusing to back up the database onto itself (\(path))"
        case let .integrityCheckFailed(lines):
            "the backup copy failed PRAGMA integrity_check: \(lines.joined(separator: "; "))"
        case let .fileSystem(operation, path, code):
            "\(operation) \(path) failed: \(String(cString: strerror(code)))"
        }
    }
}

extension AppDatabase {
    /// Writes a consistent copy of the live database to `destination`, while the server
    /// keeps reading and writing.
    ///
    /// 1. SQLite's online backup API copies the pages into `destination.partial`. It runs
    ///    inside one read transaction of the pool, so in WAL mode it sees a single
    ///    snapshot (every commit before it started, none after) and never blocks writers.
    /// 2. The copy is switched to rollback-journal mode so it is one self-contained file
    ///    (a WAL copy would depend on `-wal` files that do not follow a rename), closed,
    ///    reopened and checked with `PRAGMA integrity_check`.
    /// 3. Only an "ok" copy is renamed onto `destination`. rename(2) is atomic: readers
    ///    of `destination` see the old backup or the new one. The directory is then
    ///    fsynced so the rename itself survives a power loss.
    /// On any failure the partial file is deleted and the error thrown.
    public func backup(to destination: String) throws {
        let destinationURL = URL(fileURLWithPath: destination).standardizedFileURL
        let liveURL = URL(fileURLWithPath: path).standardizedFileURL
        guard destinationURL.resolvingSymlinksInPath().path != liveURL.resolvingSymlinksInPath().path else {
            throw BackupError.destinationIsLiveDatabase(destination)
        }
        let partial = destinationURL.path + ".partial"
        // A previous run may have died halfway; its leftovers must not be mistaken for
        // the journal of the new copy.
        Self.removeDatabaseFiles(at: partial)
        do {
            try copyAndCheck(to: partial)
            try Self.renameDurably(from: partial, to: destinationURL.path)
        } catch {
            Self.removeDatabaseFiles(at: partial)
            throw error
        }
    }

    private func copyAndCheck(to partial: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.label = "jinlin-backup"
        configuration.prepareDatabase { db in
            // The destination runs in rollback-journal mode, where FULL makes the commit
            // of the copied pages durable before we rename the file into place.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let copy = try DatabaseQueue(path: partial, configuration: configuration)
        do {
            try pool.backup(to: copy)
            try copy.writeWithoutTransaction { db in
                _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE")
            }
            try copy.close()
        } catch {
            try? copy.close()
            throw error
        }

        // Check what is on disk, through a connection that has never seen the pages in
        // memory.
        let checker = try DatabaseQueue(path: partial, configuration: configuration)
        let problems: [String]
        do {
            problems = try checker.read { db in
                try String.fetchAll(db, sql: "PRAGMA integrity_check(20)")
            }
            try checker.close()
        } catch {
            try? checker.close()
            throw error
        }
        guard problems == ["ok"] else {
            throw BackupError.integrityCheckFailed(problems)
        }
    }

    /// Renames atomically, then fsyncs the parent directory (on Linux a rename is only
    /// durable once the directory entry is on disk).
    static func renameDurably(from source: String, to destination: String) throws {
        guard rename(source, destination) == 0 else {
            throw BackupError.fileSystem(operation: "rename to", path: destination, errno: errno)
        }
        let directory = URL(fileURLWithPath: destination).deletingLastPathComponent().path
        let fd = open(directory, O_RDONLY)
        guard fd >= 0 else {
            throw BackupError.fileSystem(operation: "open directory", path: directory, errno: errno)
        }
        defer { closeDescriptor(fd) }
        guard fsync(fd) == 0 else {
            throw BackupError.fileSystem(operation: "fsync directory", path: directory, errno: errno)
        }
    }

    /// Deletes a database file and the journal files SQLite may have left beside it.
    static func removeDatabaseFiles(at path: String) {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: path + suffix)
        }
    }
}

/// The C `close`, out of reach of `AppDatabase.close()` inside the extension above.
private func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}

/// Where uploaded photos live: the `photos` folder beside the database file.
public enum PhotoFolder {
    public static func url(besideDatabase databasePath: String) -> URL {
        URL(fileURLWithPath: databasePath).deletingLastPathComponent().appendingPathComponent("photos")
    }

    /// The folder a backup's photos go to: `FILE.photos` beside the database copy `FILE`.
    public static func backupURL(forBackup file: String) -> URL {
        URL(fileURLWithPath: file + ".photos")
    }

    /// Copies every photo from `source` into `destination` that is not there yet (photos are
    /// named by their content hash and never change, so an existing file is the same photo).
    /// Each file is written under a temporary name and renamed, so a copy is whole or absent.
    /// Returns how many files were copied.
    @discardableResult
    public static func copy(from source: URL, to destination: URL) throws -> Int {
        let fm = FileManager.default
        try fm.createDirectory(at: destination, withIntermediateDirectories: true)
        guard let names = try? fm.contentsOfDirectory(atPath: source.path) else { return 0 }
        var copied = 0
        for name in names where name.count == 64 && name.allSatisfy({ $0.isHexDigit }) {
            let target = destination.appendingPathComponent(name)
            if fm.fileExists(atPath: target.path) { continue }
            let partial = destination.appendingPathComponent(name + ".partial")
            try? fm.removeItem(at: partial)
            try fm.copyItem(at: source.appendingPathComponent(name), to: partial)
            guard rename(partial.path, target.path) == 0 else {
                throw BackupError.fileSystem(operation: "rename to", path: target.path, errno: errno)
            }
            copied += 1
        }
        return copied
    }
}
