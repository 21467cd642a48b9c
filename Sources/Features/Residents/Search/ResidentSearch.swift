import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// The resident list and search, the CSV export and the printable rosters.
enum ResidentSearch {
    static func register(_ routes: inout AppRoutes) {
        routes.get("/residents", .viewResidents) { ctx in try list(ctx) }
        routes.get("/residents/export.csv", .exportResidents, options: RouteOptions(offload: true)) { ctx in
            try ResidentExport.respond(ctx)
        }
        routes.get("/rosters/estate/:id", .viewResidents, options: RouteOptions(offload: true)) { ctx in
            try Rosters.estate(ctx)
        }
        routes.get("/rosters/community/:id", .viewResidents, options: RouteOptions(offload: true)) { ctx in
            try Rosters.community(ctx)
        }
    }

    static func list(_ ctx: Context) throws -> HTTPResponse {
        let filter = ResidentFilter(query: ctx.query)
        let scopePath = ctx.scope.path
        let today = ChinaDay.of(ctx.clock.now)
        let text = SearchText(filter.q)
        let refusal = NumberSearch.refusal(ctx, text)
        var data: [String: Any] = try ctx.timed(.query) { try ctx.database.read { db in
            let query = try ResidentSearchQuery.make(db, filter: filter, scopePath: scopePath, today: today, refused: refusal != nil)
            let (pagination, ids) = try query.page(db, page: filter.page, perPage: ResidentSearchQuery.pageSize)
            let total = pagination.total
            let rows: [any TemplateRecord] = try ResidentDetails.fetch(db, ids: ids).map { ResidentListPage.row($0, today: today) }
            var data = pagination.context(path: "/residents", query: filter.queryItems)
            data["rows"] = rows
            data["hasRows"] = !rows.isEmpty
            data["total"] = total
            data["pageStart"] = pagination.offset + 1
            data["pageEnd"] = pagination.offset + rows.count
            data["gridOptions"] = try ResidentListPage.gridOptions(db, scopePath: scopePath, selected: filter.gridID)
            data["tagOptions"] = try ResidentListPage.tagOptions(db, selected: filter.tagID)
            if query.matchesNothing { data["notice"] = "所选网格不存在或不在您的管辖范围内。" }
            return data
        } }
        if let refusal {
            data["notice"] = refusal.message
        } else if !text.fullNumbers.isEmpty {
            try ctx.residentStore.recordNumberSearch(text.fullNumbers, matches: data["total"] as? Int ?? 0, by: ctx.actor)
        }
        data.merge(ResidentListPage.staticOptions(filter)) { _, new in new }
        data["q"] = filter.q
        data["isFiltered"] = filter.isFiltered
        data["canCreate"] = ctx.may(.manageResidents)
        data["canImport"] = ctx.may(.importResidents)
        data["canExport"] = ctx.may(.exportResidents)
        data["canRevealExport"] = ctx.may(.exportResidents) && ctx.may(.revealPersonalData)
        data["exportFields"] = filter.queryItems.map { ["name": $0.name, "value": $0.value] }
        let queryString = filter.queryString
        data["exportURL"] = "/residents/export.csv" + (queryString.isEmpty ? "" : "?" + queryString)
        return try ctx.render("residents/search/index", title: "居民", data, status: refusal?.status ?? .ok)
    }
}

/// The number rule of every resident search box and filter (see `NumberQuery`): a partial
/// number is refused, a complete one only for roles that may reveal (and the caller audits it).
enum NumberSearch {
    static func refusal(_ ctx: Context, _ text: SearchText) -> (status: HTTPStatus, message: String)? {
        if text.hasPartialNumber {
            return (.badRequest, NumberQuery.refusal + "：手机号或身份证号只能按后 4 位查找，或输入完整的 11 位手机号、18 位身份证号。")
        }
        if !text.fullNumbers.isEmpty && !ctx.may(.revealPersonalData) {
            return (.forbidden, "您的角色不能按完整号码查找居民，请输入号码的后 4 位。")
        }
        return nil
    }

    /// Throws the refusal as an error page (for downloads, which have no list to show it on).
    static func check(_ ctx: Context, _ text: SearchText) throws {
        if let refusal = refusal(ctx, text) { throw HTTPError(refusal.status, refusal.message) }
    }
}
