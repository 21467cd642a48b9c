import Domain
import Foundation
import GRDB
import Storage
import Synchronization

/// Who imports what, and how.
struct ImportRequest: Sendable {
    var filename: String
    var dryRun: Bool
    /// The importer's scope (a grid path); nil for the whole tree.
    var scopePath: String?
    var actor: AuditActor
    /// The job the import belongs to, named in the audit entry.
    var jobID: Int64?
    /// The clock's now when the import was asked for.
    var today: Date
}

/// Where a running import stands, for the progress page.
enum ImportPhase: String, Sendable {
    case reading, checking, writing

    var label: String {
        switch self {
        case .reading: "正在读取文件"
        case .checking: "正在校验"
        case .writing: "正在写入"
        }
    }
}

typealias ImportProgress = @Sendable (_ phase: ImportPhase, _ processed: Int, _ total: Int) -> Void

/// The import itself: read the file, check every row, and either report (dry run, or a file
/// with failing rows) or write everything in one transaction.
///
/// Rules (shown on the form page too):
/// - A resident is matched by ID number. A new one is created; an existing one is updated
///   with the row's values, and a row that changes nothing counts as unchanged.
/// - A blank cell never clears a stored value: a blank phone, political status, tag list or
///   note leaves the existing resident's value as it is (new residents get 群众 and no tags).
/// - The row's house is bound to the resident with the row's relation. When that binding is
///   not already current, the current bindings of the same kind end today and the new one
///   starts today: a home relation (常住、户籍、租住) replaces the current home relations, as a
///   move on the record page does (`moved`, or `corrected` within the same house), and
///   ownership (产权人) replaces ownership. `residents.building_id` is then recomputed with the
///   record pages' rule (`ResidentStore.recomputeBuilding`).
/// - An estate (小区) must exist in the importer's scope. A building (楼栋) is looked for
///   by name anywhere in the estate's subtree; a missing one is created under the estate's
///   first grid (the lowest id of its grid children), or under the estate itself when it
///   has no grids. A missing house is created in its building.
/// - A resident whose current home lies outside the importer's scope is not changed
///   (a row error), nor is a record merged into another.
enum ResidentImporter {
    /// Runs the import. `record` is called exactly once, inside a write transaction: for a
    /// commit it is the transaction that wrote the rows, so the job row and the data commit
    /// together. Throws only for database failures; file and row problems are in the report.
    static func run(database: AppDatabase, bytes: [UInt8], request: ImportRequest,
                    progress: ImportProgress = { _, _, _ in },
                    record: (Database, ImportReport) throws -> Void = { _, _ in }) throws -> ImportReport {
        let clock = ImportClock()
        var report = ImportReport()
        report.filename = request.filename
        report.dryRun = request.dryRun

        func stop(_ message: String) throws -> ImportReport {
            report.fileError = message
            report.time(by: clock)
            let final = report
            try database.write { db in try record(db, final) }
            return final
        }

        progress(.reading, 0, 0)
        let decoded: (utf8: [UInt8], encoding: CSVEncoding)
        do {
            decoded = try CSVDecoder.decode(bytes)
        } catch {
            return try stop(error.message)
        }
        report.encoding = decoded.encoding.label
        let parser = CSVParser(bytes: decoded.utf8)
        report.delimiter = parser.delimiter == CSVParser.tab ? "制表符" : "逗号"
        let records = parser.records()
        guard let headerRecord = records.first else { return try stop("文件是空的，没有表头也没有数据") }
        let header: ImportHeader
        do {
            header = try ImportHeader.map(headerRecord.fields)
        } catch {
            return try stop(error.message)
        }
        report.unknownColumns = header.unknown
        report.totalRows = records.count - 1
        clock.lap("read")
        guard report.totalRows > 0 else { return try stop("文件中只有表头，没有居民数据") }

        let tags = try database.read { db in try ImportTags.load(db) }
        let validator = ImportRowValidator(header: header, tags: tags.byName, today: request.today)
        var rows: [ImportRow] = []
        rows.reserveCapacity(report.totalRows)
        var errors: [ImportRowError] = []
        var firstLineOfID: [String: Int] = [:]
        firstLineOfID.reserveCapacity(report.totalRows)
        let rowCount = report.totalRows
        let checked = validate(records.dropFirst(), with: validator, progress: { progress(.checking, $0 / 2, rowCount) })
        for result in checked {
            switch result {
            case .success(let row):
                if let first = firstLineOfID[row.id.value] {
                    errors.append(ImportRowError(line: row.line, message: "身份证号与第 \(first) 行重复"))
                } else {
                    firstLineOfID[row.id.value] = row.line
                    rows.append(row)
                }
            case .failure(let error):
                errors.append(error)
            }
        }
        clock.lap("check")

        func finalize(_ plan: ImportPlan) {
            report.validRows = plan.rows.count
            for error in (errors + plan.errors).sorted(by: { $0.line < $1.line }) { report.addError(error) }
            report.created = plan.created
            report.updated = plan.updated
            report.unchanged = plan.unchanged
            report.buildingsCreated = plan.newBuildings.count
            report.housesCreated = plan.newHouses.count
            report.newBuildings = plan.newBuildings.prefix(ImportReport.maxListed).map { "\($0.estateName) \($0.name)" }
            report.preview = plan.preview(tags: tags.byID)
        }

        let total = report.totalRows
        func onePass(_ done: Int) { progress(.checking, total / 2 + done / 2, total) }
        if request.dryRun {
            let plan = try database.read { db in
                try ImportPlanner(db: db, scopePath: request.scopePath).plan(rows, progress: onePass)
            }
            finalize(plan)
            clock.lap("plan")
            report.time(by: clock)
            let final = report
            try database.write { db in try record(db, final) }
            return final
        }
        var written = try database.bulkWrite { db in
            try withImportPragmas(db) {
                var result = report
                try db.inTransaction(.immediate) {
                    let plan = try ImportPlanner(db: db, scopePath: request.scopePath).plan(rows, progress: onePass)
                    finalize(plan)
                    clock.lap("plan")
                    if report.errorCount == 0 {
                        try ImportWriter(db: db, request: request, clock: clock)
                            .apply(plan, progress: { done in progress(.writing, done, total) })
                        report.committed = true
                        try AuditLog.record(db, actor: request.actor, action: "resident.import",
                                            entityType: request.jobID == nil ? nil : "import_job", entityId: request.jobID,
                                            beforeJSON: nil, afterJSON: report.auditSummary)
                    }
                    report.time(by: clock)
                    try record(db, report)
                    result = report
                    return .commit
                }
                return result
            }
        }
        // The stored report ends before the commit; the returned one (for the log) includes it.
        clock.lap("commit")
        written.time(by: clock)
        return written
    }

    /// Checks every record, in file order; large files on all cores, in slices.
    static func validate(_ records: ArraySlice<CSVRecord>, with validator: ImportRowValidator,
                         progress: @Sendable (Int) -> Void) -> [Result<ImportRow, ImportRowError>] {
        let slices = records.count < 10_000 ? 1 : min(4, ProcessInfo.processInfo.activeProcessorCount)
        let size = (records.count + slices - 1) / slices
        let results = Mutex([[Result<ImportRow, ImportRowError>]](repeating: [], count: slices))
        DispatchQueue.concurrentPerform(iterations: slices) { slice in
            let start = records.startIndex + slice * size
            let end = max(start, min(records.endIndex, start + size))
            var checked: [Result<ImportRow, ImportRowError>] = []
            checked.reserveCapacity(end - start)
            for index in start..<end {
                // The first slice reports for all of them: they run side by side.
                if slice == 0 && (index - start) % 2000 == 0 { progress((index - start) * slices) }
                checked.append(validator.validate(records[index]))
            }
            results.withLock { $0[slice] = checked }
        }
        return results.withLock { $0.flatMap { $0 } }
    }

    /// Runs `body` on the writer connection with settings for one large transaction, then
    /// puts them back: statement journals in memory (every trigger-firing statement keeps one)
    /// and a page cache large enough that index pages are not spilled to the WAL repeatedly.
    static func withImportPragmas<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        let tempStore = try Int.fetchOne(db, sql: "PRAGMA temp_store") ?? 0
        let cacheSize = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000
        try db.execute(sql: "PRAGMA temp_store = MEMORY")
        try db.execute(sql: "PRAGMA cache_size = -131072")
        defer {
            try? db.execute(sql: "PRAGMA temp_store = \(tempStore)")
            try? db.execute(sql: "PRAGMA cache_size = \(cacheSize)")
        }
        return try body()
    }
}

/// The tag list: active tags by name (for the file) and every tag by id (for the preview).
struct ImportTags {
    var byName: [String: Int64] = [:]
    var byID: [Int64: String] = [:]

    static func load(_ db: Database) throws -> ImportTags {
        var tags = ImportTags()
        for row in try Row.fetchAll(db, sql: "SELECT id, name, active FROM tags") {
            let id: Int64 = row["id"], name: String = row["name"], active: Int = row["active"]
            tags.byID[id] = name
            if active == 1 { tags.byName[name] = id }
        }
        return tags
    }
}
