import Access
import AppCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GRDB
import HTTPCore
import Logging
import Storage
import Synchronization

/// A row of `import_jobs` with its owner's scope, for the job page and its access check.
struct ImportJob: Sendable {
    let id: Int64
    let userID: Int64
    let filename: String
    let status: String
    let dryRun: Bool
    let totalRows: Int
    let processedRows: Int
    let reportJSON: String?
    let error: String?
    let createdAt: String
    let updatedAt: String
    /// The grid path of the owner's scope (nil for an account without one).
    let ownerScopePath: String?

    init(row: Row) {
        id = row["id"]
        userID = row["user_id"]
        filename = row["filename"]
        status = row["status"]
        dryRun = (row["dry_run"] as Int) == 1
        totalRows = row["total_rows"]
        processedRows = row["processed_rows"]
        reportJSON = row["report_json"]
        error = row["error"]
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
        ownerScopePath = row["owner_scope_path"]
    }

    var isFinished: Bool { status == "done" || status == "failed" }
}

/// Storage of import jobs and the code that runs one.
enum ImportJobs {
    /// A new pending job, for a principal who may import.
    static func create(in database: AppDatabase, principal: Principal?, userID: Int64, filename: String, dryRun: Bool,
                       estimatedRows: Int) throws -> Int64 {
        try database.write { db in
            try Policy.require(principal, .importResidents)
            return try create(db, userID: userID, filename: filename, dryRun: dryRun, estimatedRows: estimatedRows)
        }
    }

    static func fail(in database: AppDatabase, _ id: Int64, message: String) throws {
        try database.write { db in try fail(db, id, message: message) }
    }

    static func create(_ db: Database, userID: Int64, filename: String, dryRun: Bool, estimatedRows: Int) throws -> Int64 {
        try db.execute(sql: """
            INSERT INTO import_jobs (user_id, filename, status, dry_run, total_rows, created_at, updated_at)
            VALUES (?, ?, 'pending', ?, ?, \(Timestamp.nowSQL), \(Timestamp.nowSQL))
            """, arguments: [userID, filename, dryRun ? 1 : 0, estimatedRows])
        return db.lastInsertedRowID
    }

    static func find(_ db: Database, _ id: Int64) throws -> ImportJob? {
        try Row.fetchOne(db, sql: """
            SELECT j.*, g.path AS owner_scope_path
              FROM import_jobs AS j JOIN users AS u ON u.id = j.user_id LEFT JOIN grids AS g ON g.id = u.scope_grid_id
             WHERE j.id = ?
            """, arguments: [id]).map(ImportJob.init(row:))
    }

    static func recent(_ db: Database, userID: Int64, limit: Int = 10) throws -> [ImportJob] {
        try Row.fetchAll(db, sql: """
            SELECT j.*, NULL AS owner_scope_path FROM import_jobs AS j WHERE j.user_id = ? ORDER BY j.id DESC LIMIT ?
            """, arguments: [userID, limit]).map(ImportJob.init(row:))
    }

    static func markRunning(_ db: Database, _ id: Int64) throws {
        try db.execute(sql: """
            UPDATE import_jobs SET status = 'running', updated_at = \(Timestamp.nowSQL) WHERE id = ? AND status = 'pending'
            """, arguments: [id])
    }

    static func finish(_ db: Database, _ id: Int64, report: ImportReport) throws {
        try db.execute(sql: """
            UPDATE import_jobs SET status = 'done', total_rows = ?, processed_rows = ?, report_json = ?, error = NULL,
                   updated_at = \(Timestamp.nowSQL)
             WHERE id = ?
            """, arguments: [report.totalRows, report.totalRows, report.json(), id])
    }

    static func fail(_ db: Database, _ id: Int64, message: String) throws {
        try db.execute(sql: """
            UPDATE import_jobs SET status = 'failed', error = ?, updated_at = \(Timestamp.nowSQL) WHERE id = ?
            """, arguments: [message, id])
    }

    /// Where uploads wait for their job: `<data dir>/imports/`, beside the database file.
    static func directory(for database: AppDatabase) -> URL {
        URL(fileURLWithPath: database.path).deletingLastPathComponent().appendingPathComponent("imports", isDirectory: true)
    }

    /// Rows in a file, roughly: its line breaks (at least the data rows, plus the header).
    static func estimateRows(path: String) -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else { return 0 }
        defer { try? handle.close() }
        var lines = 0
        while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            lines += chunk.withUnsafeBytes { bytes in bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } }
        }
        return lines
    }

    /// glibc's `malloc_trim(0)`, looked up at run time (Swift's Glibc module leaves out malloc.h).
    private static func releaseFreeMemory() {
        typealias Trim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
    }

    static let internalErrorMessage = "导入时发生内部错误，没有写入任何数据。请稍后重试，或联系系统管理员。"

    /// Runs job `id` on the stored file, records the outcome in the job row and deletes the
    /// file (it holds personal data; the report is what stays).
    static func execute(database: AppDatabase, jobID: Int64, filePath: String, request: ImportRequest,
                        logger: Logger) {
        let key = ImportProgressRegistry.key(database: database, jobID: jobID)
        ImportProgressRegistry.shared.update(key, .reading, 0, 0)
        defer {
            ImportProgressRegistry.shared.remove(key)
            try? FileManager.default.removeItem(atPath: filePath)
            // A large import leaves hundreds of MiB free in the allocator (the rows, the page
            // cache of its transaction, the statement journal): hand them back to the system.
            releaseFreeMemory()
        }
        do {
            try database.write { db in try markRunning(db, jobID) }
            guard let data = FileManager.default.contents(atPath: filePath) else {
                try database.write { db in try fail(db, jobID, message: "找不到上传的文件，请重新上传") }
                return
            }
            let report = try ResidentImporter.run(
                database: database, bytes: [UInt8](data), request: request,
                progress: { phase, done, total in ImportProgressRegistry.shared.update(key, phase, done, total) },
                record: { db, report in try finish(db, jobID, report: report) })
            logger.info("import job \(jobID): \(report.totalRows) rows, \(report.committed ? "committed" : "not committed") in \(String(format: "%.2f", report.seconds)) s (\(report.phaseSummary))")
        } catch {
            logger.error("import job \(jobID) failed: \(error)")
            try? database.write { db in try fail(db, jobID, message: internalErrorMessage) }
        }
    }
}

/// Progress of the imports running in this process, for the job page (the job row is only
/// written at the start and at the end: the import's own transaction holds the writer).
final class ImportProgressRegistry: Sendable {
    struct Entry: Sendable {
        var phase: ImportPhase
        var processed: Int
        var total: Int
    }

    static let shared = ImportProgressRegistry()

    private let entries = Mutex<[String: Entry]>([:])

    /// Job ids are per database; tests run several databases in one process.
    static func key(database: AppDatabase, jobID: Int64) -> String { "\(database.path)#\(jobID)" }

    func update(_ key: String, _ phase: ImportPhase, _ processed: Int, _ total: Int) {
        entries.withLock { $0[key] = Entry(phase: phase, processed: processed, total: total) }
    }

    func remove(_ key: String) {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }

    func entry(_ key: String) -> Entry? {
        entries.withLock { $0[key] }
    }
}
