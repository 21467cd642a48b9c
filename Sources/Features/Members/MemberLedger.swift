import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// The 党员台账 in its Excel columns: CSV export (masked unless a revealer asks, audited), CSV
/// import (dry run, per-row errors, all or nothing, idempotent) and the printable ledger
/// 一小区一表 / 一社区一册.
enum MemberLedger {
    static let header = ["姓名", "身份证号", "党员状态", "党员类别", "入党日期", "所在党组织", "工作单位", "手机号"]
    static let maxRows = 20_000

    // MARK: - Export

    static func export(_ ctx: Context) throws -> HTTPResponse {
        let filter = MemberFilter(query: ctx.query)
        let scope = ctx.scope
        let disclosure: Disclosure
        switch Disclosure.requested(full: ctx.query["full"] == "1", reason: ctx.query["reason"] ?? "",
                                    mayReveal: ctx.may(.revealPersonalData)) {
        case .success(let asked): disclosure = asked
        case .failure(.notAllowed): throw HTTPError(.forbidden, Disclosure.Problem.notAllowed.message)
        case .failure(let problem): throw HTTPError(.unprocessableContent, problem.message)
        }
        let full = !disclosure.isMasked
        let query = MemberQuery(filter: filter, scope: scope, year: ctx.thisYear)
        if query.number == .partial { throw HTTPError(.badRequest, NumberQuery.refusal) }
        if query.number.isFullNumber && !ctx.may(.revealPersonalData) { throw HTTPError(.forbidden, "您的角色不能按完整号码查找党员。") }
        let rows = try ctx.database.read { db in
            try MemberQuery.rows(db, ids: try query.ids(db, limit: maxRows * 5, offset: 0))
        }
        var csv = "\u{FEFF}" + CSVText.record(header)
        for member in rows {
            csv += CSVText.record([
                CSVText.inert(member.name), disclosure.idNumber(member.idNumber),
                MemberVocabulary.label(member.status, in: MemberVocabulary.statuses),
                MemberVocabulary.label(member.category, in: MemberVocabulary.categories), member.joinedOn ?? "",
                CSVText.inert(member.branchName ?? ""), CSVText.inert(member.employer),
                disclosure.phone(member.phone),
            ])
        }
        try ctx.database.write { db in
            struct Exported: Encodable { let filter: [String: String]; let rows: Int; let masked: Bool; let reason: String? }
            try AuditLog.record(db, actor: ctx.actor, action: full ? "member.export_full" : "member.export", entityType: nil,
                                entityId: nil, before: nil as Exported?,
                                after: Exported(filter: Dictionary(filter.queryItems.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
                                                rows: rows.count, masked: !full, reason: disclosure.reason))
        }
        var headers = HTTPHeaders()
        headers.add("Content-Type", "text/csv; charset=utf-8")
        let day = ChinaDay.of(ctx.clock.now).compact
        headers.add("Content-Disposition", "attachment; filename=\"members-\(day).csv\"; filename*=UTF-8''"
                    + FormData.percentEncode("党员台账-\(day).csv"))
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(Array(csv.utf8)))
    }

    // MARK: - Import

    static func importForm(_ ctx: Context) throws -> HTTPResponse {
        try ctx.render("members/import", title: "导入党员台账", ["header": header.joined(separator: "，")])
    }

    /// One checked row of the file.
    struct PlannedRow {
        let line: Int
        let name: String
        let residentID: Int64
        let memberID: Int64?
        let input: MembershipInput
        let unchanged: Bool
    }

    struct RowError {
        let line: Int
        let message: String
    }

    static func importFile(_ ctx: Context) throws -> HTTPResponse {
        guard let upload = ctx.multipart, let file = upload.files.first(where: { $0.fieldName == "file" }), file.size > 0 else {
            return try ctx.render("members/import", title: "导入党员台账",
                                  ["header": header.joined(separator: "，"), "error": "请选择要导入的 CSV 文件"], status: .unprocessableContent)
        }
        let dryRun = upload.fields["dry_run"] == "1"
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file.path)))
        let text: [UInt8]
        do {
            text = try CSVDecoder.decode(bytes).utf8
        } catch {
            return try ctx.render("members/import", title: "导入党员台账",
                                  ["header": header.joined(separator: "，"), "error": error.message], status: .unprocessableContent)
        }
        let records = CSVParser(bytes: text).records()
        let outcome = try plan(ctx, records: records)
        var data: [String: Any] = [
            "header": header.joined(separator: "，"), "dryRun": dryRun, "filename": file.filename,
            "total": outcome.rows.count + outcome.errors.count,
            "newCount": outcome.rows.filter { $0.memberID == nil }.count,
            "updateCount": outcome.rows.filter { $0.memberID != nil && !$0.unchanged }.count,
            "unchangedCount": outcome.rows.filter(\.unchanged).count,
            "errors": outcome.errors.prefix(500).map { ["line": $0.line, "message": $0.message] },
            "hasErrors": !outcome.errors.isEmpty, "errorCount": outcome.errors.count,
        ]
        if !outcome.errors.isEmpty || dryRun {
            data["notWritten"] = true
            return try ctx.render("members/import_report", title: "导入党员台账", data,
                                  status: outcome.errors.isEmpty ? .ok : .unprocessableContent)
        }
        let written = try ctx.memberStore.importRows(outcome.rows, principal: ctx.principal, by: ctx.actor)
        data["written"] = written
        return try ctx.render("members/import_report", title: "导入党员台账", data)
    }

    /// Checks every row against the residents and branches in scope; nothing is written.
    static func plan(_ ctx: Context, records: [CSVRecord]) throws -> (rows: [PlannedRow], errors: [RowError]) {
        guard let head = records.first else { return ([], [RowError(line: 1, message: "文件是空的")]) }
        let columns = head.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        var index: [String: Int] = [:]
        for (i, name) in columns.enumerated() where index[name] == nil { index[name] = i }
        let missing = ["姓名", "身份证号", "党员状态", "党员类别"].filter { index[$0] == nil }
        if !missing.isEmpty { return ([], [RowError(line: 1, message: "表头缺少列：" + missing.joined(separator: "、"))]) }
        if records.count - 1 > maxRows { return ([], [RowError(line: 1, message: "一次最多导入 \(maxRows) 行，请分批导入")]) }
        let scope = ctx.scope
        let today = ChinaDate.today(ctx.clock.now)
        return try ctx.database.read { db in
            var rows: [PlannedRow] = []
            var errors: [RowError] = []
            var seen: [String: Int] = [:]
            let branches = try Row.fetchAll(db, sql: "SELECT b.id, b.name, g.path FROM branches b JOIN grids g ON g.id = b.grid_id")
                .filter { scope.contains($0["path"]) }
            let branchByName = Dictionary(branches.map { ($0["name"] as String, $0["id"] as Int64) }, uniquingKeysWith: { a, _ in a })
            for record in records.dropFirst() {
                func field(_ name: String) -> String {
                    guard let i = index[name], i < record.fields.count else { return "" }
                    return record.fields[i].trimmingCharacters(in: .whitespacesAndNewlines)
                }
                var problems: [String] = []
                let name = field("姓名")
                let idText = field("身份证号").uppercased()
                if let earlier = seen[idText] { problems.append("身份证号与第 \(earlier) 行重复") }
                seen[idText] = record.line
                var resident: Row?
                if case .success(let id) = IDNumber.parse(idText, today: ctx.clock.now) {
                    resident = try Row.fetchOne(db, sql: """
                        SELECT r.id, r.name, r.status, g.path, m.id AS member_id, m.status AS m_status, m.category, m.joined_on,
                               m.branch_id, m.employer FROM residents r LEFT JOIN grids g ON g.id = r.building_id
                        LEFT JOIN party_members m ON m.resident_id = r.id WHERE r.id_number = ?
                        """, arguments: [id.value])
                    if let found = resident {
                        if !((found["path"] as String?).map(scope.contains) ?? false) || found["status"] as String != "active" {
                            problems.append("该身份证号的居民不在您的管辖范围内，或已迁出")
                            resident = nil
                        } else if found["name"] as String != name {
                            problems.append("姓名与居民档案不一致（身份证号对应的居民不叫“\(name)”）")
                        }
                    } else {
                        problems.append("居民档案中没有这个身份证号，请先登记居民")
                    }
                } else {
                    problems.append(idText.isEmpty ? "身份证号为空" : "身份证号无效（请检查位数和校验码；导出的台账号码已隐去，不能直接导入）")
                }
                let status = MemberVocabulary.code(field("党员状态"), in: MemberVocabulary.statuses)
                if status == nil { problems.append("党员状态应为：正式党员 或 预备党员") }
                let category = MemberVocabulary.code(field("党员类别"), in: MemberVocabulary.categories)
                if category == nil { problems.append("党员类别应为：" + MemberVocabulary.categories.map(\.label).joined(separator: "、")) }
                var joinedOn: String?
                let joinedText = field("入党日期").replacingOccurrences(of: "/", with: "-").replacingOccurrences(of: ".", with: "-")
                if !joinedText.isEmpty {
                    if let date = ChinaDate.parse(joinedText), date <= today { joinedOn = date } else { problems.append("入党日期应为 年-月-日") }
                }
                var branchID: Int64?
                let branchName = field("所在党组织")
                if !branchName.isEmpty {
                    branchID = branchByName[branchName]
                    if branchID == nil { problems.append("党组织“\(branchName)”不存在或不在您的管辖范围内") }
                }
                let employer = field("工作单位")
                if employer.count > 100 { problems.append("工作单位最多 100 个字") }
                guard problems.isEmpty, let resident, let status, let category else {
                    errors.append(RowError(line: record.line, message: problems.joined(separator: "；")))
                    continue
                }
                let input = MembershipInput(status: status, category: category, joinedOn: joinedOn, branchID: branchID, employer: employer)
                let memberID: Int64? = resident["member_id"]
                let unchanged = memberID != nil && resident["m_status"] as String? == status && resident["category"] as String? == category
                    && resident["joined_on"] as String? == joinedOn && resident["branch_id"] as Int64? == branchID
                    && resident["employer"] as String? == employer
                rows.append(PlannedRow(line: record.line, name: name, residentID: resident["id"], memberID: memberID, input: input,
                                       unchanged: unchanged))
            }
            if rows.isEmpty && errors.isEmpty { errors.append(RowError(line: 2, message: "文件中没有数据行")) }
            return (rows, errors)
        }
    }

    // MARK: - Printable ledger

    /// 一小区一表 / 一社区一册: the members in scope (or of one grid node), one table per estate,
    /// numbers masked.
    static func printable(_ ctx: Context) throws -> HTTPResponse {
        let filter = MemberFilter(query: ctx.query)
        let scope = ctx.scope
        let query = MemberQuery(filter: filter, scope: scope, year: ctx.thisYear)
        if query.number != .none { throw HTTPError(.badRequest, "打印台账时请按网格、党组织或类别筛选，不要按号码查找") }
        let today = ChinaDate.today(ctx.clock.now)
        let data: [String: Any] = try ctx.database.read { db in
            let rows = try MemberQuery.rows(db, ids: try query.ids(db, limit: maxRows, offset: 0))
            // Group by estate: the grid path's estate ancestor (or the grid itself above estates).
            var groups: [(key: String, title: String, rows: [[String: Any]])] = []
            var estateNames: [String: String] = [:]
            for member in rows.sorted(by: { ($0.gridPath, $0.name) < ($1.gridPath, $1.name) }) {
                let estatePath = try estatePathOf(db, member.gridPath, names: &estateNames)
                let title = estateNames[estatePath] ?? member.gridName
                let entry: [String: Any] = [
                    "name": member.name, "age": ChinaDate.age(birthDate: member.birthDate, today: today) ?? 0,
                    "maskedID": Mask.idNumber(member.idNumber), "maskedPhone": Mask.phone(member.phone),
                    "status": MemberVocabulary.label(member.status, in: MemberVocabulary.statuses),
                    "category": MemberVocabulary.label(member.category, in: MemberVocabulary.categories),
                    "joinedOn": member.joinedOn ?? "", "branch": member.branchName ?? "", "employer": member.employer,
                    "grid": member.gridName,
                ]
                if let last = groups.indices.last, groups[last].key == estatePath {
                    groups[last].rows.append(entry)
                } else {
                    groups.append((estatePath, title, [entry]))
                }
            }
            return [
                "groups": groups.map { group in
                    ["title": group.title, "count": group.rows.count,
                     "rows": group.rows.enumerated().map { $0.element.merging(["no": $0.offset + 1]) { $1 } }]
                },
                "hasGroups": !groups.isEmpty, "total": rows.count, "printedOn": today,
                "scopeName": ctx.user?.scopeName ?? "全县",
            ]
        }
        return try ctx.render("members/ledger", title: "党员台账", data)
    }

    /// The path of the estate a grid path lies in (the path itself above estates).
    static func estatePathOf(_ db: Database, _ path: String, names: inout [String: String]) throws -> String {
        let ids = path.split(separator: "/")
        for depth in 1...max(1, ids.count) {
            let prefix = "/" + ids.prefix(depth).joined(separator: "/") + "/"
            if names[prefix] != nil { return prefix }
            if let row = try Row.fetchOne(db, sql: "SELECT name, kind FROM grids WHERE path = ?", arguments: [prefix]),
               row["kind"] as String == "estate" {
                names[prefix] = row["name"]
                return prefix
            }
        }
        if names[path] == nil { names[path] = try String.fetchOne(db, sql: "SELECT name FROM grids WHERE path = ?", arguments: [path]) }
        return path
    }
}

extension MemberStore {
    /// Writes a checked import: new members and changed ones, with timeline and audit entries,
    /// all in one transaction (a row that became invalid meanwhile fails the whole file).
    func importRows(_ rows: [MemberLedger.PlannedRow], principal: Principal?, by actor: AuditActor) throws -> Int {
        try database.write { db in
            let at = now
            var written = 0
            for row in rows where !row.unchanged {
                let input = row.input
                if let memberID = row.memberID {
                    let before = try Self.member(db, memberID, principal, .manageMembers)
                    try db.execute(sql: """
                        UPDATE party_members SET status = ?, category = ?, joined_on = ?, branch_id = ?, employer = ?, updated_at = ?
                        WHERE id = ?
                        """, arguments: [input.status, input.category, input.joinedOn, input.branchID, input.employer, at, memberID])
                    try Self.event(db, member: memberID, kind: "imported", note: "台账导入第 \(row.line) 行", at: at, actor: actor)
                    if let after = try MemberRow.find(db, memberID) {
                        try AuditLog.record(db, actor: actor, action: "member.update", entityType: "member", entityId: memberID,
                                            before: before.snapshot, after: after.snapshot)
                    }
                } else {
                    guard let buildingID = try Int64.fetchOne(db, sql: "SELECT building_id FROM residents WHERE id = ? AND status = 'active'",
                                                              arguments: [row.residentID]) else {
                        throw Conflict("第 \(row.line) 行的居民已迁出，请重新检查文件")
                    }
                    try db.execute(sql: """
                        INSERT INTO party_members (resident_id, status, category, joined_on, branch_id, employer, grid_id, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [row.residentID, input.status, input.category, input.joinedOn, input.branchID, input.employer,
                                         buildingID, at, at])
                    let id = db.lastInsertedRowID
                    try Self.event(db, member: id, kind: "imported", note: "台账导入第 \(row.line) 行", at: at, actor: actor)
                    if let member = try MemberRow.find(db, id) {
                        try AuditLog.record(db, actor: actor, action: "member.create", entityType: "member", entityId: id,
                                            before: nil as MemberRow.Snapshot?, after: member.snapshot)
                    }
                }
                written += 1
            }
            struct Imported: Encodable { let rows: Int; let written: Int }
            try AuditLog.record(db, actor: actor, action: "member.import", entityType: nil, entityId: nil, before: nil as Imported?,
                                after: Imported(rows: rows.count, written: written))
            return written
        }
    }
}
