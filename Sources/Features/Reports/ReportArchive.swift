import Access
import AppCore
import Domain
import Foundation
import GRDB
import Storage

/// Closed months 已归档: the report as it was printed and signed, kept in `report_snapshots`
/// (figures as JSON and the rendered page). Every write checks role and scope and records the
/// audit entry in the same transaction.
struct ReportArchive: Sendable {
    let database: AppDatabase

    struct Snapshot: Sendable {
        let id: Int64
        let gridID: Int64
        let month: String
        let version: Int
        let figuresJSON: String
        let pageHTML: String
        let reason: String
        let closedByName: String
        let closedAt: String

        init(row: Row) {
            id = row["id"]
            gridID = row["grid_id"]
            month = row["month"]
            version = row["version"]
            figuresJSON = row["figures_json"]
            pageHTML = row["page_html"]
            reason = row["reason"]
            closedByName = row["closed_by_name"]
            closedAt = row["closed_at"]
        }

        var report: MonthlyReport? {
            let decoder = JSONDecoder()
            decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            return try? decoder.decode(MonthlyReport.self, from: Data(figuresJSON.utf8))
        }
    }

    /// What the audit log keeps of a snapshot (not its page: that stays in the archive).
    struct AuditView: Encodable {
        let id: Int64
        let gridID: Int64
        let month: String
        let version: Int
        let reason: String
    }

    /// The highest version archived for a node and month.
    static func current(_ db: Database, gridID: Int64, month: String) throws -> Snapshot? {
        try Row.fetchOne(db, sql: """
            SELECT * FROM report_snapshots WHERE grid_id = ? AND month = ? ORDER BY version DESC LIMIT 1
            """, arguments: [gridID, month]).map(Snapshot.init)
    }

    static func versions(_ db: Database, gridID: Int64, month: String) throws -> [Snapshot] {
        try Row.fetchAll(db, sql: """
            SELECT * FROM report_snapshots WHERE grid_id = ? AND month = ? ORDER BY version DESC
            """, arguments: [gridID, month]).map(Snapshot.init)
    }

    /// Archives a month's report: the first closing (`regenerate: false`, refused when already
    /// closed) or a re-generation with a reason (refused when not closed yet). Only a month that
    /// has ended may be closed.
    @discardableResult
    func close(gridID: Int64, period: ReportPeriod, figuresJSON: String, pageHTML: String, regenerate: Bool, reason: String,
               principal: Principal?, actor: AuditActor) throws -> Int64 {
        let now = database.clock.now
        return try database.write { db in
            guard let path = try String.fetchOne(db, sql: "SELECT path FROM grids WHERE id = ?", arguments: [gridID]) else { throw NotFound() }
            switch Policy.decide(principal, .closeReports, targetGridPath: path) {
            case .allow: break
            case .forbidden: throw Forbidden()
            case .notFound: throw NotFound()
            }
            guard period.text < ReportPeriod.of(now).text else { throw Conflict("本月尚未结束，不能归档") }
            let existing = try Self.current(db, gridID: gridID, month: period.text)
            if regenerate {
                guard existing != nil else { throw Conflict("该月尚未归档，无需重新生成") }
                guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw FieldErrors("reason", "请填写重新生成的原因")
                }
            } else if existing != nil {
                throw Conflict("该月报表已归档；如需更正，请填写原因后重新生成")
            }
            let version = (existing?.version ?? 0) + 1
            let name = actor.name.isEmpty ? "未知" : String(actor.name.prefix(200))
            try db.execute(sql: """
                INSERT INTO report_snapshots (grid_id, month, version, figures_json, page_html, reason, closed_by, closed_by_name, closed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [gridID, period.text, version, figuresJSON, pageHTML, regenerate ? String(reason.prefix(200)) : "",
                                 principal?.userID, name, Timestamp.string(from: now)])
            let id = db.lastInsertedRowID
            let before = existing.map { AuditView(id: $0.id, gridID: gridID, month: $0.month, version: $0.version, reason: $0.reason) }
            try AuditLog.record(db, actor: actor, action: regenerate ? "report.regenerate" : "report.close",
                                entityType: "report_snapshot", entityId: id, before: before,
                                after: AuditView(id: id, gridID: gridID, month: period.text, version: version,
                                                 reason: regenerate ? reason : ""))
            return id
        }
    }
}
