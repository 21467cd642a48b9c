import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// 志愿服务记录证明, with the fields 《志愿服务记录与证明出具办法（试行）》(民政部令第67号)
/// asks for: the volunteer's name and (masked) ID number, the service periods, the hours, the
/// content, the issuing organisation and the date. A printable A4 page for one calendar year.
enum CertificatePage {
    static func show(_ ctx: Context) throws -> HTTPResponse {
        let residentID = try ctx.request.id()
        let today = ChinaDate.today(ctx.clock.now)
        let yearText = ctx.query["year"] ?? String(today.prefix(4))
        guard let year = Int(yearText), (2000...2100).contains(year) else { throw HTTPError(.badRequest, "年份应为四位数字，例如 \(today.prefix(4))。") }
        guard let resident = try ctx.database.read({ db in
            try Row.fetchOne(db, sql: """
                SELECT r.id, r.name, r.id_number, g.path FROM residents r LEFT JOIN grids g ON g.id = r.building_id WHERE r.id = ?
                """, arguments: [residentID])
        }) else { throw HTTPError(.notFound) }
        if ctx.may(.joinVolunteering) {
            // A member prints only their own.
            guard try ctx.volunteerIdentity()?.residentID == residentID else { throw HTTPError(.notFound) }
        } else {
            try ctx.authorize(.viewVolunteering, gridPath: resident["path"] as String? ?? "/none/")
        }
        let (records, organisation) = try ctx.database.read { db in
            let records = try Row.fetchAll(db, sql: """
                SELECT served_on, hours, content FROM volunteer_hours
                WHERE resident_id = ? AND served_on >= ? AND served_on <= ? ORDER BY served_on, id
                """, arguments: [residentID, "\(year)-01-01", "\(year)-12-31"])
            // The issuer: the community the volunteer lives in (the top of their building's path).
            let path: String? = resident["path"]
            let communityID = path.flatMap { GridPath.ids(in: $0).first }
            let community = try communityID.flatMap { try String.fetchOne(db, sql: "SELECT name FROM grids WHERE id = ?", arguments: [$0]) }
            return (records, community.map { "\($0)居民委员会" } ?? "社区居民委员会")
        }
        let total = records.reduce(0.0) { $0 + ($1["hours"] as Double) }
        let rows: [[String: Any]] = records.map { row in
            ["date": row["served_on"] as String, "hours": Choices.hours(row["hours"]), "content": row["content"] as String]
        }
        let first = records.first.map { $0["served_on"] as String }, last = records.last.map { $0["served_on"] as String }
        let name: String = resident["name"]
        let data: [String: Any] = [
            "title": "志愿服务记录证明", "name": name, "backURL": ctx.may(.joinVolunteering) ? "/me" : "/activities", "maskedID": Mask.idNumber(resident["id_number"]), "year": String(year),
            "period": first.map { "\($0) 至 \(last ?? $0)" } ?? "本年度暂无服务记录",
            "total": Choices.hours(total), "count": records.count, "records": rows, "hasRecords": !rows.isEmpty,
            "organisation": organisation, "issuedOn": chineseDate(today),
            "contents": Array(Set(records.map { $0["content"] as String })).sorted().prefix(20).joined(separator: "、"),
        ]
        let html = try ctx.env.templates.renderBytes(data, template: "volunteering/certificate")
        return HTTPResponse(status: .ok, contentType: "text/html; charset=utf-8", body: html)
    }

    static func chineseDate(_ day: String) -> String {
        let parts = day.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return day }
        return "\(parts[0])年\(parts[1])月\(parts[2])日"
    }
}
