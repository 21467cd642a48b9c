import Access
import AppCore
import Domain
import Foundation
import GRDB
import Storage
import Web

/// One month's report of one subtree, as computed from the modules' sections: what the page,
/// the CSV and an archived snapshot are made of (the snapshot stores it as JSON).
struct MonthlyReport: Codable, Sendable {
    var month: String
    var gridID: Int64?
    var scopeName: String
    var units: [ReportUnit]
    var sections: [Section]
    /// The previous month's totals of the main figures, by `Section.key(section, item)`.
    var previous: [String: Double]
    var trends: [Trend]
    /// When the figures were read (a stored UTC timestamp).
    var generatedAt: String

    struct Section: Codable, Sendable {
        var id: String
        var title: String
        var figures: [ReportFigure]
        var tables: [ReportTable]

        static func key(_ section: String, _ item: String) -> String { section + "|" + item }
        var totals: [ReportFigure] { figures.filter { $0.unit == nil } }
        var mainItems: [String] { totals.filter(\.main).map(\.item) }
    }

    struct Trend: Codable, Sendable {
        var sectionID: String
        var title: String
        var months: [String]
        var series: [ReportSeries]
    }

    var period: ReportPeriod { ReportPeriod(month) ?? ReportPeriod.of(Date(timeIntervalSince1970: 0)) }

    /// Every total of every section, keyed `section|item` (for the comparison with a snapshot).
    var totals: [String: ReportFigure] {
        var all: [String: ReportFigure] = [:]
        for section in sections { for figure in section.totals { all[Section.key(section.id, figure.item)] = figure } }
        return all
    }

    /// The unit's name for a figure's unit key (0: the scope's own node).
    func unitName(_ unit: Int64?) -> String {
        guard let unit else { return "合计" }
        if unit == 0 { return "本级" }
        return units.first { $0.id == unit }?.name ?? "其他"
    }
}

/// Computes reports: the scope from the request, then every registered section in one read.
enum ReportBuilder {
    /// The months a trend line covers.
    static let trendMonths = 12

    /// The subtree `?scope=` names (default: the account's own node; the whole tree for an
    /// admin). A node outside the account's scope is 404.
    static func scope(_ ctx: Context, _ text: String?) throws -> ReportScope {
        let principal = ctx.principal
        return try ctx.database.read { db in
            var gridID = principal?.scope.path.flatMap { GridPath.ids(in: $0).last }
            if let text, !text.isEmpty {
                guard let id = canonicalID(text) else { throw HTTPError(.badRequest, "范围参数不正确") }
                gridID = id
            }
            guard let gridID else {
                guard principal?.role == .admin else { throw NotFound() }
                return ReportScope(gridID: nil, name: "全部", path: nil, units: try units(db, under: nil))
            }
            guard let row = try Row.fetchOne(db, sql: "SELECT name, path FROM grids WHERE id = ?", arguments: [gridID]) else {
                throw NotFound()
            }
            let path: String = row["path"]
            try ctx.authorize(.viewReports, gridPath: path)
            return ReportScope(gridID: gridID, name: row["name"], path: path, units: try units(db, under: gridID))
        }
    }

    static func units(_ db: Database, under gridID: Int64?) throws -> [ReportUnit] {
        try Row.fetchAll(db, sql: """
            SELECT id, name, path FROM grids WHERE parent_id IS ? ORDER BY name COLLATE BINARY, id
            """, arguments: [gridID]).map { ReportUnit(id: $0["id"], name: $0["name"], path: $0["path"]) }
    }

    /// The month from `?month=YYYY-MM`; default the previous month (the one usually printed).
    static func period(_ text: String?, now: Date) throws -> ReportPeriod {
        guard let text, !text.isEmpty else { return ReportPeriod.of(now).previous }
        guard let period = ReportPeriod(text) else { throw HTTPError(.badRequest, "月份应为 YYYY-MM") }
        return period
    }

    /// Every section's figures for `period`, the previous month's main totals and the trends,
    /// read in one transaction (one consistent state of the database).
    /// - Parameter log: given, records every statement the report runs with its arguments filled
    ///   in (the benchmark runs the same SQL in sqlite3).
    static func build(_ registry: ModuleRegistry, database: AppDatabase, scope: ReportScope, period: ReportPeriod,
                      log: StatementLog? = nil) throws -> MonthlyReport {
        let contributions = try prepared(registry, database)
        let now = database.clock.now
        let generatedAt = Timestamp.string(from: now)
        func assemble(_ db: Database) throws -> MonthlyReport {
            let sections = try compute(db, contributions, ReportQuery(period: period, scope: scope, now: now))
            let before = try compute(db, contributions, ReportQuery(period: period.previous, scope: scope, detail: false, now: now))
            var previous: [String: Double] = [:]
            for section in before { for figure in section.totals where figure.main { previous[MonthlyReport.Section.key(section.id, figure.item)] = figure.value } }
            let months = period.trailing(trendMonths)
            var trends: [MonthlyReport.Trend] = []
            for contribution in contributions {
                guard let trend = contribution.trend else { continue }
                let series = try trend(db, scope, months)
                if !series.isEmpty {
                    trends.append(MonthlyReport.Trend(sectionID: contribution.id, title: contribution.title, months: months.map(\.text), series: series))
                }
            }
            return MonthlyReport(month: period.text, gridID: scope.gridID, scopeName: scope.name, units: scope.units,
                                 sections: sections, previous: previous, trends: trends, generatedAt: generatedAt)
        }
        return try database.read { db in
            try log.map { try $0.recording(db) { try assemble(db) } } ?? assemble(db)
        }
    }

    /// The registered contributions, after each has posted what it derives lazily (`prepare`).
    static func prepared(_ registry: ModuleRegistry, _ database: AppDatabase) throws -> [ReportSection] {
        let contributions = registry.reportSections
        for contribution in contributions { try contribution.prepare?(database) }
        return contributions
    }

    /// The contributions' results, merged by section id in `order`.
    static func compute(_ db: Database, _ contributions: [ReportSection], _ query: ReportQuery) throws -> [MonthlyReport.Section] {
        var sections: [MonthlyReport.Section] = []
        for contribution in contributions {
            var result = try contribution.figures(db, query)
            // Every unit gets each main figure, 0 where a section's query found no rows.
            var present: [String: Set<Int64>] = [:]
            for figure in result.figures { if let unit = figure.unit { present[figure.item, default: []].insert(unit) } }
            for total in result.figures where total.unit == nil && total.main {
                let present = present[total.item] ?? []
                for unit in query.scope.units where !present.contains(unit.id) {
                    result.figures.append(ReportFigure(total.item, unit: unit.id, 0, kind: total.kind, decimals: total.decimals, main: true))
                }
            }
            result.figures = ordered(result.figures, units: query.scope.units)
            if let index = sections.firstIndex(where: { $0.id == contribution.id }) {
                sections[index].figures += result.figures
                sections[index].tables += result.tables
            } else {
                sections.append(MonthlyReport.Section(id: contribution.id, title: contribution.title,
                                                      figures: result.figures, tables: result.tables))
            }
        }
        return sections
    }

    /// Items in the order they came; in an item, the total, then the units in the scope's
    /// order, then the scope's own node.
    static func ordered(_ figures: [ReportFigure], units: [ReportUnit]) -> [ReportFigure] {
        var itemRank: [String: Int] = [:]
        for figure in figures where itemRank[figure.item] == nil { itemRank[figure.item] = itemRank.count }
        let rank = Dictionary(uniqueKeysWithValues: units.enumerated().map { ($0.element.id, $0.offset + 1) })
        func position(_ f: ReportFigure) -> (Int, Int) {
            (itemRank[f.item] ?? 0, f.unit.map { rank[$0] ?? Int.max } ?? 0)
        }
        return figures.sorted { position($0) < position($1) }
    }

    /// The figures as CSV rows (section, item, grid, value), UTF-8 with a byte order mark.
    static func csv(_ report: MonthlyReport) -> [UInt8] {
        var text = CSVText.record(["栏目", "项目", "网格", "数值"])
        for section in report.sections {
            for figure in section.figures {
                let value = figure.value.isNaN ? "" : figure.formatted
                text += CSVText.record([CSVText.inert(section.title), CSVText.inert(figure.item),
                                        CSVText.inert(report.unitName(figure.unit)), value])
            }
        }
        return CSVText.byteOrderMark + Array(text.utf8)
    }
}
