import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Web

/// `GET /residents/export.csv`: the list's current filter as a CSV file that Excel opens and
/// that the import reads back.
///
/// Format: UTF-8 with a byte order mark, CRLF records, RFC 4180 quoting, the import's header
/// row. One record per current residence (someone living in two houses has two); a resident
/// without a current residence (moved out) has one record with empty address columns. Tags are
/// joined with "、". ID numbers and phones are masked for every role; full values only with
/// `full=1` and a `reason` from a role that may reveal (`Disclosure`), audited as a reveal with
/// the reason and the number of residents. They are written exactly as stored (no `\t` or `="…"` tricks) so the file round-trips through
/// the import; opened directly in Excel, an 18-digit number shows in scientific notation, so
/// people should open it with 数据 → 自文本/CSV and the column set to 文本. Free text that Excel
/// would run as a formula gets a leading apostrophe.
enum ResidentExport {
    static let header = ["姓名", "身份证号", "手机号", "社区", "小区", "楼栋", "单元", "房号", "与房屋关系", "政治面貌", "标签", "备注"]
    static let batchSize = 1_000
    static let tagSeparator = "、"

    struct AuditRecord: Encodable {
        let filter: [String: String]
        let scope: String?
        let masked: Bool
        let reason: String?
        /// Residents matching when the export started (one or more records each).
        let residents: Int
    }

    static func respond(_ ctx: Context) throws -> HTTPResponse {
        let parameters = ctx.query
        let filter = ResidentFilter(query: parameters)
        try NumberSearch.check(ctx, SearchText(filter.q))
        let disclosure: Disclosure
        switch Disclosure.requested(full: parameters["full"] == "1", reason: parameters["reason"] ?? "",
                                    mayReveal: ctx.may(.revealPersonalData)) {
        case .success(let asked): disclosure = asked
        case .failure(.notAllowed): throw HTTPError(.forbidden, Disclosure.Problem.notAllowed.message)
        case .failure(let problem): throw HTTPError(.unprocessableContent, problem.message)
        }
        let scopePath = ctx.scope.path
        let today = ChinaDay.of(ctx.clock.now)
        let query = try ctx.database.read { db in
            try ResidentSearchQuery.make(db, filter: filter, scopePath: scopePath, today: today)
        }
        try ctx.residentStore.recordExport(query, filter: filter, disclosure: disclosure, principal: ctx.principal, by: ctx.actor)
        let database = ctx.database
        var headers = HTTPHeaders()
        headers.add("Content-Type", "text/csv; charset=utf-8")
        headers.add("Content-Disposition", contentDisposition(today))
        return HTTPResponse(status: .ok, headers: headers, body: .stream { writer in
            try stream(query, from: database, disclosure: disclosure, to: writer)
        })
    }

    static func contentDisposition(_ day: ChinaDay) -> String {
        "attachment; filename=\"residents-\(day.compact).csv\"; filename*=UTF-8''"
            + FormData.percentEncode("居民名单-\(day.compact).csv")
    }

    /// Writes the file in batches of ids by keyset (`id > last`), each read in its own short
    /// transaction, so a slow download holds no database snapshot and little memory.
    static func stream(_ query: ResidentSearchQuery, from database: AppDatabase, disclosure: Disclosure, to writer: HTTPBodyWriter) throws {
        var buffer = CSVText.byteOrderMark + Array(CSVText.record(header).utf8)
        var lastID: Int64? = 0
        while let after = lastID {
            let batch = try database.read { db in try query.exportBatch(db, after: after, limit: batchSize) }
            lastID = batch.next
            var start = 0
            while start < batch.ids.count {
                let chunk = Array(batch.ids[start..<min(start + batchSize, batch.ids.count)])
                start += chunk.count
                let residents = try database.read { db in try ResidentDetails.fetch(db, ids: chunk) }
                for resident in residents {
                    for record in records(for: resident, disclosure: disclosure) {
                        buffer.append(contentsOf: CSVText.record(record).utf8)
                    }
                }
                try writer.write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        if !buffer.isEmpty { try writer.write(buffer) }
    }

    static func records(for resident: ResidentListing, disclosure: Disclosure) -> [[String]] {
        let idNumber = disclosure.idNumber(resident.idNumber)
        let phone = disclosure.phone(resident.phone)
        let tags = resident.tags.joined(separator: tagSeparator)
        let political = Vocabulary.politicalStatusName(resident.politicalStatus)
        let current = resident.residences.filter(\.current)
        func record(_ residence: ResidentListing.Residence?) -> [String] {
            [
                CSVText.inert(resident.name), idNumber, phone,
                residence?.community ?? "", residence?.estate ?? "", residence?.building ?? "",
                residence?.unit ?? "", residence?.room ?? "",
                residence.map { Vocabulary.relationName($0.relation) } ?? "",
                political, CSVText.inert(tags), CSVText.inert(resident.notes),
            ]
        }
        return current.isEmpty ? [record(nil)] : current.map(record)
    }
}
