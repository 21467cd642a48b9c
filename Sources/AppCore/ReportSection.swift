import Access
import Domain
import Foundation
import GRDB
import Storage

/// A module's part of the monthly report 月度报表. The reports module owns the pages, the CSV,
/// the snapshots of closed months and the charts; it never reads another module's tables.
/// Each module that owns figures lists a `ReportSection` in its descriptor
/// (`Module.reportSections`), whose closures run that module's own SQL. Several contributions
/// with the same `id` form one section (the volunteering module adds the posts to 党员队伍); a
/// module that is not registered simply has no section.
public struct ReportSection: Sendable {
    /// Stable key (`residents`, `members`, `wishes`, `cases`); contributions sharing it are merged.
    public var id: String
    /// The section's Chinese heading (the first contribution's, by `order`).
    public var title: String
    /// Place among the sections (and of a contribution inside its section).
    public var order: Int
    /// Runs before the figures are read, outside any transaction: for a module that posts
    /// derived rows lazily (the points card's automatic entries). Nil for most.
    public var prepare: (@Sendable (AppDatabase) throws -> Void)?
    /// The figures of one month in one scope: totals, per-unit main figures, tables and lists.
    public var figures: @Sendable (Database, ReportQuery) throws -> ReportSectionResult
    /// A trend line over the given months (oldest first), e.g. wishes posted and completed.
    public var trend: (@Sendable (Database, ReportScope, [ReportPeriod]) throws -> [ReportSeries])?

    public init(id: String, title: String, order: Int, prepare: (@Sendable (AppDatabase) throws -> Void)? = nil,
                figures: @escaping @Sendable (Database, ReportQuery) throws -> ReportSectionResult,
                trend: (@Sendable (Database, ReportScope, [ReportPeriod]) throws -> [ReportSeries])? = nil) {
        self.id = id
        self.title = title
        self.order = order
        self.prepare = prepare
        self.figures = figures
        self.trend = trend
    }
}

/// What a section is asked for: one month, one subtree.
public struct ReportQuery: Sendable {
    public let period: ReportPeriod
    public let scope: ReportScope
    /// False when only the main figures are needed (the previous month, for the change, and the
    /// months of the yearly report): a section may then skip its tables and breakdowns.
    public let detail: Bool
    /// The report's clock (what is overdue depends on the hour; a month not yet over is read as
    /// of now).
    public let now: Date

    public init(period: ReportPeriod, scope: ReportScope, detail: Bool = true, now: Date) {
        self.period = period
        self.scope = scope
        self.detail = detail
        self.now = now
    }
}

/// A calendar month in China time (`2026-03`), with the bounds a query needs: days as stored
/// in `YYYY-MM-DD` columns, and the UTC instants of its first and the next month's first
/// midnight in Beijing as stored in timestamp columns (`2026-02-28T16:00:00.000Z`).
public struct ReportPeriod: Sendable, Hashable, Codable {
    public let year: Int
    public let month: Int

    public init?(year: Int, month: Int) {
        guard (2000...2100).contains(year), (1...12).contains(month) else { return nil }
        self.year = year
        self.month = month
    }

    /// `YYYY-MM`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let year = Int(parts[0]), let month = Int(parts[1]) else { return nil }
        self.init(year: year, month: month)
    }

    /// The month of `date` in China.
    public static func of(_ date: Date) -> ReportPeriod {
        let day = ChinaDate.today(date)
        return ReportPeriod(String(day.prefix(7))) ?? ReportPeriod(year: 2000, month: 1)!
    }

    public var text: String { String(format: "%04d-%02d", year, month) }
    /// `2026 年 3 月`
    public var chineseName: String { "\(year) 年 \(month) 月" }
    public var shortName: String { "\(month)月" }
    public var previous: ReportPeriod {
        month == 1 ? ReportPeriod(year: year - 1, month: 12) ?? self : ReportPeriod(year: year, month: month - 1) ?? self
    }
    public var next: ReportPeriod {
        month == 12 ? ReportPeriod(year: year + 1, month: 1) ?? self : ReportPeriod(year: year, month: month + 1) ?? self
    }
    public var firstDay: String { text + "-01" }
    public var lastDay: String { text + String(format: "-%02d", daysInMonth) }
    public var daysInMonth: Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
    /// The next month's first day: an exclusive bound for `YYYY-MM-DD` and `YYYY-MM-DDTHH:MM` text.
    public var nextFirstDay: String { next.firstDay }
    /// Beijing midnight at the start of the month, as a stored UTC timestamp.
    public var startInstant: String { Self.instant(firstDay) }
    /// Beijing midnight at the start of the next month (exclusive bound).
    public var endInstant: String { Self.instant(nextFirstDay) }
    /// The day `days` before the month's last day.
    public func daysBeforeEnd(_ days: Int) -> String {
        guard let end = ChinaDate.startOfDay(lastDay) else { return firstDay }
        return ChinaDate.today(end.addingTimeInterval(-Double(days) * 86_400 + 3_600))
    }

    /// The `count` months ending with this one, oldest first.
    public func trailing(_ count: Int) -> [ReportPeriod] {
        var months = [self]
        while months.count < count { months.insert(months[0].previous, at: 0) }
        return months
    }

    static func instant(_ day: String) -> String {
        guard let date = ChinaDate.startOfDay(day) else { return day + "T00:00:00.000Z" }
        return Timestamp.string(from: date)
    }
}

/// The subtree a report covers, and its units: the nodes one level below (a county's
/// communities, a community's estates, an estate's grids, a grid's buildings). Per-unit figures
/// are keyed by the unit's grid id; 0 is the scope's own node (rows placed on it directly).
public struct ReportScope: Sendable {
    /// Nil for the whole tree (an admin's report).
    public let gridID: Int64?
    public let name: String
    /// The node's materialized path; nil for the whole tree.
    public let path: String?
    public let units: [ReportUnit]

    public init(gridID: Int64?, name: String, path: String?, units: [ReportUnit]) {
        self.gridID = gridID
        self.name = name
        self.path = path
        self.units = units
    }

    /// `column` (a grid path) inside the subtree, as an index range.
    public func condition(on column: String) -> (sql: String, arguments: StatementArguments) {
        let cond = Scope(path: path).condition(on: column)
        return (cond.sql, StatementArguments(cond.arguments))
    }

    /// An SQL expression giving the unit (grid id, an integer) a path column lies in: the id
    /// that follows the scope's own path; 0 for the scope's own node.
    public func unit(of column: String) -> String {
        let length = (path ?? "/").utf8.count
        return "CAST(substr(\(column), \(length + 1), instr(substr(\(column), \(length + 1)), '/') - 1) AS INTEGER)"
    }
}

public struct ReportUnit: Sendable, Hashable, Codable {
    public let id: Int64
    public let name: String
    public let path: String

    public init(id: Int64, name: String, path: String) {
        self.id = id
        self.name = name
        self.path = path
    }
}

/// One figure: an item of a section, for the whole scope (`unit == nil`) or one unit.
public struct ReportFigure: Sendable, Hashable, Codable {
    /// How a figure adds up over a year: a count of events in the month is summed, a level at
    /// the month's end is taken from the last month, a rate or average is not added up.
    public enum Kind: String, Sendable, Codable {
        case count, level, rate
    }

    /// The Chinese name, unique in its section (`本月完成`, `重点人群·独居老人`).
    public var item: String
    public var unit: Int64?
    public var value: Double
    public var kind: Kind
    /// Digits after the decimal point when shown (0 for counts).
    public var decimals: Int
    /// Shown in the per-unit table, the bars, the change against the previous month and the
    /// yearly summary.
    public var main: Bool

    public init(_ item: String, unit: Int64? = nil, _ value: Double, kind: Kind = .count, decimals: Int = 0, main: Bool = false) {
        self.item = item
        self.unit = unit
        self.value = value
        self.kind = kind
        self.decimals = decimals
        self.main = main
    }

    public var formatted: String { Self.format(value, decimals: decimals) }

    public static func format(_ value: Double, decimals: Int) -> String {
        if value.isNaN { return "—" }
        return decimals == 0 ? String(Int64(value.rounded())) : String(format: "%.\(decimals)f", value)
    }
}

/// A table of a section (by tag, by category, by unit, a ranking, a list such as the overdue
/// cases at month end), already in display text.
public struct ReportTable: Sendable, Hashable, Codable {
    public var title: String
    public var columns: [String]
    /// Which columns hold numbers (right-aligned).
    public var numeric: [Bool]
    public var rows: [[String]]
    /// Shown when `rows` is empty.
    public var empty: String

    public init(title: String, columns: [String], numeric: [Bool]? = nil, rows: [[String]], empty: String = "无") {
        self.title = title
        self.columns = columns
        self.numeric = numeric ?? columns.map { _ in false }
        self.rows = rows
        self.empty = empty
    }
}

/// A line of a trend chart: one value per month asked for.
public struct ReportSeries: Sendable, Hashable, Codable {
    public var name: String
    public var values: [Double]

    public init(name: String, values: [Double]) {
        self.name = name
        self.values = values
    }
}

/// What a contribution returns for one month.
public struct ReportSectionResult: Sendable, Hashable, Codable {
    public var figures: [ReportFigure]
    public var tables: [ReportTable]

    public init(figures: [ReportFigure] = [], tables: [ReportTable] = []) {
        self.figures = figures
        self.tables = tables
    }

    /// Adds a total and its per-unit values from rows of (unit, value): the total is their sum.
    public mutating func add(_ item: String, perUnit rows: [(unit: Int64, value: Double)], kind: ReportFigure.Kind = .count,
                             decimals: Int = 0, main: Bool = true) {
        figures.append(ReportFigure(item, rows.reduce(0) { $0 + $1.value }, kind: kind, decimals: decimals, main: main))
        if main {
            for row in rows { figures.append(ReportFigure(item, unit: row.unit, row.value, kind: kind, decimals: decimals, main: true)) }
        }
    }

    /// Adds a figure for the whole scope only.
    public mutating func add(_ item: String, _ value: Double, kind: ReportFigure.Kind = .count, decimals: Int = 0) {
        figures.append(ReportFigure(item, value, kind: kind, decimals: decimals))
    }

    /// Adds a breakdown of the whole scope (people by tag, members by category, points by
    /// dimension): a figure `item·label` per row, for the CSV and the archive, and a table of
    /// the rows under `title` with the two column headings `columns`.
    public mutating func addBreakdown(_ item: String, title: String, columns: (label: String, value: String),
                                      _ rows: [(label: String, value: Double)], kind: ReportFigure.Kind = .count) {
        for row in rows { add(item + "·" + row.label, row.value, kind: kind) }
        tables.append(ReportTable(title: title, columns: [columns.label, columns.value], numeric: [false, true],
                                  rows: rows.map { [$0.label, ReportFigure.format($0.value, decimals: 0)] }))
    }
}

extension Database {
    /// Rows of (unit, value) from a statement selecting the unit first and a number second.
    public func reportUnits(_ sql: String, _ arguments: StatementArguments) throws -> [(unit: Int64, value: Double)] {
        try Row.fetchAll(self, sql: sql, arguments: arguments).unitColumn(1)
    }
}

extension Array where Element == Row {
    /// (unit, value) pairs from rows selecting the unit first: the value from column `index`
    /// (NULL counts as 0).
    public func unitColumn(_ index: Int) -> [(unit: Int64, value: Double)] {
        map { (($0[0] as Int64?) ?? 0, ($0[index] as Double?) ?? 0) }
    }
}

/// Collects traced statements (the trace closure is `@Sendable`): the `report-sql` command
/// prints what a page runs, with its arguments filled in, for benchmarks to run in sqlite3.
public final class StatementLog: @unchecked Sendable {
    private let lock = NSLock()
    private var statements: [String] = []
    public init() {}
    public func append(_ sql: String) { lock.withLock { statements.append(sql) } }
    public var all: [String] { lock.withLock { statements } }

    /// Runs `body` on `db`, recording every statement it runs.
    public func recording<T>(_ db: Database, _ body: () throws -> T) rethrows -> T {
        db.trace(options: .statement) { [self] event in
            if case .statement(let statement) = event { append(statement.expandedSQL) }
        }
        defer { db.trace(options: [], nil) }
        return try body()
    }

    /// Runs `body` in a read of `database`; the statements it ran.
    public static func tracing(_ database: AppDatabase, _ body: (Database) throws -> Void) throws -> [String] {
        let log = StatementLog()
        try database.read { db in try log.recording(db) { try body(db) } }
        return log.all
    }
}
