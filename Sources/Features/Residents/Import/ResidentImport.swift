import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// CSV import: dry run, row errors, all-or-nothing commit, background jobs for large files.
///
/// - `GET /residents/import`: the upload form, the columns, the sample file, recent imports.
/// - `POST /residents/import` (multipart `file`, `dry_run`): stores the upload as an
///   `import_jobs` row and a file under `<data dir>/imports/`, runs it (inline when small, on
///   the worker pool when large) and answers 303 to the job page.
/// - `GET /residents/import/jobs/:id`: progress (refreshing itself while running) and the report.
enum ResidentImport {
    /// Files with at most this many lines run inside the request; larger ones in the background.
    static let inlineRowLimit = 2000
    /// The largest upload (the multipart parser limits a file part to 10 MiB).
    static let maxUploadBytes = 32 << 20

    static func register(_ routes: inout AppRoutes) {
        routes.get("/residents/import", .importResidents) { ctx in try form(ctx) }
        routes.post("/residents/import", .importResidents,
                    options: RouteOptions(bodyLimit: maxUploadBytes, offload: true)) { ctx in try upload(ctx) }
        routes.get("/residents/import/jobs/:id", .importResidents) { ctx in try job(ctx) }
    }

    // MARK: Form

    static func form(_ ctx: Context, error: String? = nil, status: HTTPStatus = .ok) throws -> HTTPResponse {
        let user = try ctx.requireUser()
        let jobs = try ctx.database.read { db in try ImportJobs.recent(db, userID: user.id) }
        var data: [String: Any] = [
            "columns": ImportColumn.standardOrder.map { column -> [String: Any] in
                ["name": column.rawValue, "required": ImportColumn.required.contains(column), "explanation": column.explanation]
            },
            "communityColumn": ["name": ImportColumn.community.rawValue, "explanation": ImportColumn.community.explanation],
            "headerLine": ImportColumn.standardOrder.map(\.rawValue).joined(separator: ","),
            "recent": jobs.map(jobSummary),
            "hasRecent": !jobs.isEmpty,
            "maxSizeText": "10 MB",
        ]
        if let error { data["error"] = error }
        return try ctx.render("residents/import/form", title: "导入居民", data, status: status)
    }

    static func jobSummary(_ job: ImportJob) -> [String: Any] {
        let report = ImportReport.decode(job.reportJSON)
        var outcome: String
        switch job.status {
        case "pending", "running": outcome = "进行中"
        case "failed": outcome = "失败"
        default:
            if let report, report.fileError != nil { outcome = "文件无法读取" }
            else if let report, report.errorCount > 0 { outcome = "有 \(report.errorCount) 行错误" + (job.dryRun ? "" : "，未导入") }
            else if job.dryRun { outcome = "试导入通过" }
            else { outcome = "已导入" }
        }
        return [
            "id": job.id, "filename": job.filename, "createdAt": ChinaDate.display(job.createdAt),
            "mode": job.dryRun ? "试导入" : "正式导入", "outcome": outcome, "rows": job.totalRows,
        ]
    }

    // MARK: Upload

    static func upload(_ ctx: Context) throws -> HTTPResponse {
        let user = try ctx.requireUser()
        guard let multipart = ctx.multipart else {
            return try form(ctx, error: "请通过页面上的表单选择文件上传", status: .unprocessableContent)
        }
        guard let file = multipart.file("file"), file.size > 0 else {
            return try form(ctx, error: "请选择要导入的 CSV 文件", status: .unprocessableContent)
        }
        let dryRun = multipart.fields["dry_run"].map { $0 != "0" && !$0.isEmpty } ?? false
        // A form may ask for less work inline (tests use it to force the background path).
        let inlineLimit = min(inlineRowLimit, multipart.fields["inline_limit"].flatMap { Int($0) } ?? inlineRowLimit)
        let filename = cleanFilename(file.filename)

        let directory = ImportJobs.directory(for: ctx.database)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let estimated = ImportJobs.estimateRows(path: file.path)
        let jobID = try ImportJobs.create(in: ctx.database, principal: ctx.principal, userID: user.id, filename: filename,
                                          dryRun: dryRun, estimatedRows: max(0, estimated - 1))
        let stored = directory.appendingPathComponent("\(jobID).csv").path
        do {
            try? FileManager.default.removeItem(atPath: stored)
            try FileManager.default.copyItem(atPath: file.path, toPath: stored)
        } catch {
            ctx.env.logger.error("import upload could not be stored: \(error)")
            try ImportJobs.fail(in: ctx.database, jobID, message: "上传的文件无法保存，请稍后重试")
            return ctx.redirect("/residents/import/jobs/\(jobID)")
        }

        let request = ImportRequest(filename: filename, dryRun: dryRun, scopePath: ctx.scope.path,
                                    actor: ctx.actor, jobID: jobID, today: ctx.clock.now)
        let database = ctx.database
        let logger = ctx.env.logger
        if estimated <= inlineLimit {
            ImportJobs.execute(database: database, jobID: jobID, filePath: stored, request: request, logger: logger)
        } else {
            // Seen by the job page from now on, so a reload never mistakes it for an interrupted job.
            ImportProgressRegistry.shared.update(ImportProgressRegistry.key(database: database, jobID: jobID), .reading, 0, 0)
            WorkerPool.shared.run {
                ImportJobs.execute(database: database, jobID: jobID, filePath: stored, request: request, logger: logger)
            }
        }
        return ctx.redirect("/residents/import/jobs/\(jobID)")
    }

    /// The browser's file name, without control characters, at most 200 characters.
    static func cleanFilename(_ name: String) -> String {
        let cleaned = String(String.UnicodeScalarView(name.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
            .trimmingCharacters(in: .whitespaces)
        return cleaned.isEmpty ? "未命名.csv" : String(cleaned.prefix(200))
    }

    // MARK: Job page

    static func job(_ ctx: Context) throws -> HTTPResponse {
        let user = try ctx.requireUser()
        let id = try ctx.request.id()
        guard var job = try ctx.database.read({ db in try ImportJobs.find(db, id) }) else { throw HTTPError(.notFound) }
        // The owner, or staff whose scope covers the owner's.
        let mayView = job.userID == user.id
            || (job.ownerScopePath.map { ctx.scope.contains($0) } ?? false)
        guard mayView else { throw HTTPError(.notFound) }

        let key = ImportProgressRegistry.key(database: ctx.database, jobID: job.id)
        let live = ImportProgressRegistry.shared.entry(key)
        if !job.isFinished, live == nil, let updated = Timestamp.date(from: job.updatedAt),
           ctx.clock.now.timeIntervalSince(updated) > 10 {
            // Nobody in this process runs it: the server stopped while it ran. Its transaction
            // never committed, so nothing was written.
            try ImportJobs.fail(in: ctx.database, job.id, message: "导入因服务重启而中断，没有写入任何数据，请重新上传文件")
            job = try ctx.database.read { db in try ImportJobs.find(db, id) } ?? job
        }

        var data: [String: Any] = [
            "job": [
                "id": job.id, "filename": job.filename, "createdAt": ChinaDate.display(job.createdAt),
                "mode": job.dryRun ? "试导入（不保存）" : "正式导入",
            ] as [String: Any],
        ]
        var title = "导入结果"
        switch job.status {
        case "pending", "running":
            title = "正在导入"
            let entry = live ?? ImportProgressRegistry.Entry(phase: .reading, processed: job.processedRows, total: job.totalRows)
            let total = max(entry.total, 0)
            let percent = total > 0 ? min(100, entry.processed * 100 / total) : 0
            data["running"] = [
                "phase": entry.phase.label, "processed": entry.processed, "total": total, "percent": percent,
                "hasTotal": total > 0,
            ] as [String: Any]
            data["refresh"] = true
        case "failed":
            title = "导入失败"
            data["failed"] = ["message": job.error ?? ImportJobs.internalErrorMessage]
        default:
            if let report = ImportReport.decode(job.reportJSON) {
                data["report"] = reportContext(report)
                title = report.fileError != nil ? "文件无法读取"
                    : report.dryRun ? "试导入结果" : report.committed ? "导入完成" : "未导入"
            } else {
                data["failed"] = ["message": ImportJobs.internalErrorMessage]
            }
        }
        data["pageTitle"] = title
        return try ctx.render("residents/import/report", title: title, data)
    }

    static func reportContext(_ report: ImportReport) -> [String: Any] {
        var context: [String: Any] = [
            "filename": report.filename,
            "encoding": report.encoding,
            "delimiter": report.delimiter,
            "totalRows": report.totalRows,
            "validRows": report.validRows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "buildingsCreated": report.buildingsCreated,
            "housesCreated": report.housesCreated,
            "errorCount": report.errorCount,
            "seconds": String(format: "%.1f", report.seconds),
            "dryRun": report.dryRun,
            "committed": report.committed,
            "hasErrors": report.errorCount > 0,
            "errors": report.errors.map { ["line": $0.line, "message": $0.message] as [String: Any] },
            "moreErrors": report.errorCount > report.errors.count ? report.errorCount - report.errors.count : 0,
            "hasMoreErrors": report.errorCount > report.errors.count,
            "preview": report.preview.map { row -> [String: Any] in
                [
                    "line": row.line, "action": row.action, "name": row.name, "idNumber": row.idNumber, "sex": row.sex,
                    "birthDate": row.birthDate, "phone": row.phone, "address": row.address, "relation": row.relation,
                    "politicalStatus": row.politicalStatus, "tags": row.tags, "notes": row.notes,
                    "isNew": row.action == "新增", "isUpdate": row.action == "更新",
                ]
            },
            "hasPreview": !report.preview.isEmpty,
            "previewCount": report.preview.count,
            "unknownColumns": report.unknownColumns.joined(separator: "、"),
            "hasUnknownColumns": !report.unknownColumns.isEmpty,
            "newBuildings": report.newBuildings.joined(separator: "、"),
            "hasNewBuildings": !report.newBuildings.isEmpty,
            "moreNewBuildings": report.buildingsCreated > report.newBuildings.count,
        ]
        if let fileError = report.fileError {
            context["fileError"] = fileError
        }
        context["dryRunClean"] = report.dryRun && report.fileError == nil && report.errorCount == 0
        context["blocked"] = !report.dryRun && report.fileError == nil && report.errorCount > 0
        context["canRetry"] = report.fileError != nil || report.errorCount > 0
        return context
    }
}
