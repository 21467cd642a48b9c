import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// `/reports/monthly`, its CSV, closing a month, the changes since closing, `/reports/yearly`.
/// Every handler runs off the connection's event loop (`RouteOptions(offload: true)`): a
/// county's report reads for a while, and the loop's other connections must not wait for it.
enum ReportPages {
    struct Request {
        let scope: ReportScope
        let period: ReportPeriod
        var query: String { "scope=\(scope.gridID.map(String.init) ?? "")&month=\(period.text)" }
    }

    static func request(_ ctx: Context, form: FormData? = nil) throws -> Request {
        let values = form ?? ctx.query
        let scope = try ReportBuilder.scope(ctx, values["scope"])
        let period = try ReportBuilder.period(values["month"], now: ctx.clock.now)
        return Request(scope: scope, period: period)
    }

    static func snapshot(_ ctx: Context, _ r: Request) throws -> ReportArchive.Snapshot? {
        guard let gridID = r.scope.gridID else { return nil }
        return try ctx.database.read { db in try ReportArchive.current(db, gridID: gridID, month: r.period.text) }
    }

    static func live(_ ctx: Context, _ r: Request) throws -> MonthlyReport {
        try ctx.timed(.query) {
            try ReportBuilder.build(ctx.env.modules, database: ctx.database, scope: r.scope, period: r.period)
        }
    }

    // MARK: - Monthly page

    static func monthly(_ ctx: Context) throws -> HTTPResponse {
        let r = try request(ctx)
        let archived = try snapshot(ctx, r)
        let html: String
        if let archived, ctx.query["live"] != "1" {
            html = archived.pageHTML
        } else {
            html = try ReportView.render(ctx.env.templates, try live(ctx, r))
        }
        var data = pageData(ctx, r)
        data["reportHTML"] = html
        if let archived {
            data["archived"] = ["closedAt": ChinaDate.display(archived.closedAt), "closedBy": archived.closedByName,
                                "version": archived.version, "reason": archived.reason, "regenerated": archived.version > 1]
            data["showingLive"] = ctx.query["live"] == "1"
        }
        data["mayClose"] = r.scope.gridID != nil && ctx.may(.closeReports) && r.period.text < ReportPeriod.of(ctx.clock.now).text
        return try ctx.render("reports/monthly", title: "\(r.scope.name) \(r.period.chineseName) 工作月报", data)
    }

    static func pageData(_ ctx: Context, _ r: Request) -> [String: Any] {
        [
            "scopeName": r.scope.name, "monthName": r.period.chineseName, "month": r.period.text,
            "scopeID": r.scope.gridID.map(String.init) ?? "", "query": r.query,
            "previousQuery": Request(scope: r.scope, period: r.period.previous).query,
            "nextQuery": Request(scope: r.scope, period: r.period.next).query,
            "year": String(r.period.year),
            "units": r.scope.units.map { ["id": String($0.id), "name": $0.name] },
        ]
    }

    // MARK: - CSV

    static func csv(_ ctx: Context) throws -> HTTPResponse {
        let r = try request(ctx)
        let report: MonthlyReport
        if ctx.query["live"] != "1", let archived = try snapshot(ctx, r)?.report {
            report = archived
        } else {
            report = try live(ctx, r)
        }
        var headers = HTTPHeaders()
        headers.add("Content-Type", "text/csv; charset=utf-8")
        headers.add("Content-Disposition", "attachment; filename=\"report-\(r.period.text).csv\"; filename*=UTF-8''"
                    + FormData.percentEncode("\(r.scope.name)-\(r.period.text)-月报.csv"))
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(ReportBuilder.csv(report)))
    }

    // MARK: - Closing

    static func close(_ ctx: Context) throws -> HTTPResponse { try archive(ctx, regenerate: false) }
    static func regenerate(_ ctx: Context) throws -> HTTPResponse { try archive(ctx, regenerate: true) }

    static func archive(_ ctx: Context, regenerate: Bool) throws -> HTTPResponse {
        let form = ctx.form
        guard let scopeText = form["scope"], !scopeText.isEmpty, form["month"] != nil else {
            throw HTTPError(.badRequest, "缺少范围或月份")
        }
        let r = try request(ctx, form: form)
        guard let gridID = r.scope.gridID else { throw HTTPError(.badRequest, "缺少范围") }
        let report = try live(ctx, r)
        let html = try ReportView.render(ctx.env.templates, report)
        let json = String(decoding: try JSONEncoder.sorted.encode(report), as: UTF8.self)
        try ReportArchive(database: ctx.database).close(
            gridID: gridID, period: r.period, figuresJSON: json, pageHTML: html, regenerate: regenerate,
            reason: ctx.text("reason"), principal: ctx.principal, actor: ctx.actor)
        return ctx.redirect("/reports/monthly?\(r.query)", flash: .success(regenerate ? "已重新生成并归档，旧版本仍保留。" : "本月报表已归档。"))
    }

    // MARK: - Changes since closing

    static func changes(_ ctx: Context) throws -> HTTPResponse {
        let r = try request(ctx)
        guard let archived = try snapshot(ctx, r), let frozen = archived.report else { throw NotFound("该月尚未归档") }
        let current = try live(ctx, r)
        var rows: [[String: Any]] = []
        for section in current.sections {
            let old = frozen.sections.first { $0.id == section.id }
            var keys: [String] = []
            var now: [String: ReportFigure] = [:], then: [String: ReportFigure] = [:]
            func key(_ f: ReportFigure) -> String { f.item + "\u{1}" + String(f.unit ?? -1) }
            for f in section.figures { if now[key(f)] == nil { keys.append(key(f)) }; now[key(f)] = f }
            for f in old?.figures ?? [] { if then[key(f)] == nil, now[key(f)] == nil { keys.append(key(f)) }; then[key(f)] = f }
            for k in keys {
                let a = then[k], b = now[k]
                let same = a.map { x in b.map { y in x.value == y.value || (x.value.isNaN && y.value.isNaN) } ?? false } ?? false
                if same { continue }
                let figure = (b ?? a)!
                rows.append(["section": section.title, "item": figure.item, "unit": current.unitName(figure.unit),
                             "archived": a?.formatted ?? "—", "live": b?.formatted ?? "—"])
            }
        }
        var data = pageData(ctx, r)
        data["rows"] = rows
        data["hasRows"] = !rows.isEmpty
        data["closedAt"] = ChinaDate.display(archived.closedAt)
        data["version"] = archived.version
        return try ctx.render("reports/changes", title: "归档以来的变化", data)
    }

    // MARK: - Yearly

    static func yearly(_ ctx: Context) throws -> HTTPResponse {
        let scope = try ReportBuilder.scope(ctx, ctx.query["scope"])
        let thisYear = ReportPeriod.of(ctx.clock.now).year
        var year = thisYear
        if let text = ctx.query["year"], !text.isEmpty {
            guard let value = Int(text), (2000...2100).contains(value) else { throw HTTPError(.badRequest, "年份不正确") }
            year = value
        }
        let summary = try ctx.timed(.query) { try YearlyReport.build(ctx, scope: scope, year: year) }
        var data = YearlyReport.data(summary)
        data["scopeID"] = scope.gridID.map(String.init) ?? ""
        data["previousYear"] = String(year - 1)
        data["nextYear"] = String(year + 1)
        return try ctx.render("reports/yearly", title: "\(scope.name) \(year) 年度工作总结", data)
    }
}

extension JSONEncoder {
    /// Keys sorted, so two snapshots of the same figures are the same text.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }
}
