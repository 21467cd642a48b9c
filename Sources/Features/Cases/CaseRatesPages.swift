import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// `/cases/overdue` (overdue and almost overdue, per unit and per grid) and `/cases/rates`
/// (the rates of `CaseRates` per grid, unit, category and month).
enum CaseRatesPages {
    /// The grid node the page is about: `?scope=` if it lies in the account's scope, else the
    /// account's own node (nil for the whole tree: admin, or a unit handler's unit view).
    static func scopeNode(_ ctx: Context) throws -> (id: Int64?, path: String?, name: String) {
        guard let principal = ctx.principal else { throw HTTPError(.forbidden) }
        if let id = Int64(ctx.query["scope"] ?? ""), principal.scope.unitPath == nil {
            guard let row = try ctx.database.read({ db in try Row.fetchOne(db, sql: "SELECT path, name FROM grids WHERE id = ?", arguments: [id]) }),
                  principal.scope.contains(row["path"] as String) else { throw HTTPError(.notFound, "没有找到这个网格节点。") }
            return (id, row["path"], row["name"])
        }
        if principal.scope.unitPath != nil { return (nil, nil, ctx.user?.unitName ?? "本部门") }
        guard let path = principal.scope.path else { return (nil, nil, "全部") }
        let row = try ctx.database.read { db in try Row.fetchOne(db, sql: "SELECT id, name FROM grids WHERE path = ?", arguments: [path]) }
        return (row?["id"], path, row?["name"] ?? "本辖区")
    }

    /// The names of the children of `path` (or the roots) by id, and of units and categories.
    static func names(_ db: Database, childrenOf path: String?) throws -> (grids: [String: String], units: [String: String], categories: [String: String]) {
        let grids: [Row] = if let path {
            try Row.fetchAll(db, sql: "SELECT g.id, g.name FROM grids g JOIN grids p ON p.id = g.parent_id WHERE p.path = ?", arguments: [path])
        } else {
            try Row.fetchAll(db, sql: "SELECT id, name FROM grids WHERE parent_id IS NULL")
        }
        let units = try Row.fetchAll(db, sql: "SELECT id, name FROM units")
        let categories = try Row.fetchAll(db, sql: "SELECT id, name FROM case_categories")
        func map(_ rows: [Row]) -> [String: String] {
            Dictionary(rows.map { (String($0["id"] as Int64), $0["name"] as String) }, uniquingKeysWith: { a, _ in a })
        }
        return (map(grids), map(units), map(categories))
    }

    // MARK: - Overdue

    static func overdue(_ ctx: Context) throws -> HTTPResponse {
        guard let principal = ctx.principal else { throw HTTPError(.forbidden) }
        let node = try scopeNode(ctx)
        let now = CasePages.now(ctx)
        // The unary `+` keeps SQLite on the index of running cases (cases_due, a few thousand rows)
        // instead of walking every case of the subtree by path.
        var condition: String
        var arguments: [any DatabaseValueConvertible]
        if let unitPath = principal.scope.unitPath {
            let range = GridPath.subtreeRange(of: unitPath)
            condition = "+c.unit_path >= ? AND +c.unit_path < ?"
            arguments = [range.lower, range.upper]
        } else {
            let range = GridPath.subtreeRange(of: node.path ?? "/")
            condition = "+c.grid_path >= ? AND +c.grid_path < ?"
            arguments = [range.lower, range.upper]
        }
        let scopeLength = (node.path ?? "/").count
        let childKey = CaseRates.Grouping.childGrid.keySQL(scopeLength: scopeLength).replacingOccurrences(of: "grid_path", with: "c.grid_path")
        let unitScoped = principal.scope.unitPath != nil
        let nodePath = node.path
        let (overdueRows, soonRows, byUnit, byGrid) = try ctx.database.read { db -> ([Row], [Row], [Row], [Row]) in
            let select = """
                SELECT c.id, c.status, c.description, c.location, c.due_at, c.warn_at, c.urgent, c.reported_at, c.supervision_count,
                       k.name AS category, g.name AS grid, u.name AS unit
                FROM cases c JOIN case_categories k ON k.id = c.category_id JOIN grids g ON g.id = c.grid_id
                LEFT JOIN units u ON u.id = c.unit_id
                """
            let overdue = try Row.fetchAll(db, sql: "\(select) WHERE c.due_at < ? AND \(condition) ORDER BY c.due_at LIMIT 200",
                                           arguments: [now] + StatementArguments(arguments))
            let soon = try Row.fetchAll(db, sql: "\(select) WHERE c.due_at >= ? AND c.warn_at <= ? AND \(condition) ORDER BY c.due_at LIMIT 200",
                                        arguments: [now, now] + StatementArguments(arguments))
            let counts = """
                sum(c.due_at < ?) AS overdue, sum(c.due_at >= ? AND c.warn_at <= ?) AS soon
                FROM cases c WHERE c.due_at IS NOT NULL AND (c.due_at < ? OR c.warn_at <= ?) AND \(condition)
                """
            var countArguments: StatementArguments = [now, now, now, now, now]
            countArguments += StatementArguments(arguments)
            let byUnit = try Row.fetchAll(db, sql: "SELECT coalesce(c.unit_id, 0) AS k, \(counts) GROUP BY k ORDER BY overdue DESC, k",
                                          arguments: countArguments)
            let byGrid = unitScoped ? [] : try Row.fetchAll(db, sql: "SELECT \(childKey) AS k, \(counts) GROUP BY k ORDER BY overdue DESC, k",
                                                            arguments: countArguments)
            return (overdue, soon, byUnit, byGrid)
        }
        let names = try ctx.database.read { db in try Self.names(db, childrenOf: nodePath) }
        func tally(_ rows: [Row], _ names: [String: String], none: String) -> [[String: Any]] {
            rows.map { row in
                let key = (row["k"] as DatabaseValue).plainText
                return ["name": key == "0" ? none : names[key] ?? "#\(key)", "overdue": row["overdue"] as Int, "soon": row["soon"] as Int]
            }
        }
        let overdueCards = overdueRows.map { CasePages.card($0, now: now) }
        let soonCards = soonRows.map { CasePages.card($0, now: now) }
        return try ctx.render("cases/overdue", title: "超时督办", [
            "scopeName": node.name, "overdue": overdueCards, "hasOverdue": !overdueCards.isEmpty,
            "soon": soonCards, "hasSoon": !soonCards.isEmpty,
            "byUnit": tally(byUnit, names.units, none: "未派单（社区受理中）"), "hasByUnit": !byUnit.isEmpty,
            "byGrid": tally(byGrid, names.grids, none: "本级"), "hasByGrid": !byGrid.isEmpty,
            "canSupervise": ctx.may(.superviseCases),
        ])
    }

    // MARK: - Rates

    /// `YYYY-MM` from the query, or this month (Beijing time).
    static func month(_ ctx: Context) throws -> String {
        let today = String(ChinaDate.today(ctx.clock.now).prefix(7))
        guard let text = ctx.query["month"], !text.isEmpty else { return today }
        guard text.count == 7, let year = Int(text.prefix(4)), let month = Int(text.suffix(2)), text.dropFirst(4).first == "-",
              (2000...2100).contains(year), (1...12).contains(month) else {
            throw HTTPError(.badRequest, "月份的格式应为 YYYY-MM，例如 \(today)。")
        }
        return text
    }

    /// `YYYY-MM` shifted by `offset` months.
    static func shift(_ month: String, by offset: Int) -> String {
        let year = Int(month.prefix(4)) ?? 2000, number = Int(month.suffix(2)) ?? 1
        let index = year * 12 + (number - 1) + offset
        return String(format: "%04d-%02d", index / 12, index % 12 + 1)
    }

    static func row(_ figures: CaseRates.Figures, name: String) -> [String: Any] {
        [
            "name": name, "reported": figures.reported, "resolved": figures.resolved,
            "responseRate": CaseRates.percent(figures.responseRate), "onTimeRate": CaseRates.percent(figures.onTimeRate),
            "resolutionRate": CaseRates.percent(figures.resolutionRate), "satisfactionRate": CaseRates.percent(figures.satisfactionRate),
            "responseAverage": CaseRates.duration(figures.responseAverage),
            "responseP90": CaseRates.duration(figures.responseP90.map(Double.init)),
            "resolutionAverage": CaseRates.duration(figures.resolutionAverage),
            "resolutionP90": CaseRates.duration(figures.resolutionP90.map(Double.init)),
        ]
    }

    /// What the rates page reads: the month's figures by each grouping, and the 12-month trend
    /// (counts and rates: no percentiles over twelve months of cases).
    static func aggregate(_ db: Database, scopePath: String?, unitPath: String?, month: String, now: Int64) throws
        -> (figures: [CaseRates.Grouping: [CaseRates.Figures]], trend: [CaseRates.Figures]) {
        let groupings: [CaseRates.Grouping] = unitPath == nil ? [.total, .childGrid, .unit, .category] : [.total, .unit, .category]
        return (try CaseRates.figures(db, scopePath: scopePath, unitPath: unitPath, firstMonth: month, lastMonth: month,
                                      groupings: groupings, now: now),
                try CaseRates.figures(db, scopePath: scopePath, unitPath: unitPath, firstMonth: shift(month, by: -11), lastMonth: month,
                                      grouping: .month, percentiles: false, now: now))
    }

    static func rates(_ ctx: Context) throws -> HTTPResponse {
        guard let principal = ctx.principal else { throw HTTPError(.forbidden) }
        let node = try scopeNode(ctx)
        let month = try month(ctx)
        let now = CasePages.now(ctx)
        let unitPath = principal.scope.unitPath
        let scopePath = node.path
        // One read: the figures and the names they are shown with.
        let (figures, trend, labels) = try ctx.database.read { db in
            let read = try aggregate(db, scopePath: scopePath, unitPath: unitPath, month: month, now: now)
            return (read.figures, read.trend, try names(db, childrenOf: scopePath))
        }
        let total = figures[.total]?.first ?? CaseRates.Figures(key: "0")
        let byGrid = figures[.childGrid] ?? [], byUnit = figures[.unit] ?? [], byCategory = figures[.category] ?? []
        let gridLinks = Set(labels.grids.keys)
        let gridRows: [[String: Any]] = byGrid.map { figures in
            var r = row(figures, name: figures.key == "0" ? "本级" : labels.grids[figures.key] ?? "#\(figures.key)")
            r["link"] = gridLinks.contains(figures.key) ? "/cases/rates?scope=\(figures.key)&month=\(month)" : false
            return r
        }
        let unitRows: [[String: Any]] = byUnit.map { row($0, name: $0.key == "0" ? "未派单" : labels.units[$0.key] ?? "#\($0.key)") }
        let categoryRows: [[String: Any]] = byCategory.map { row($0, name: labels.categories[$0.key] ?? "#\($0.key)") }
        let trendRows: [[String: Any]] = trend.map { row($0, name: $0.key) }
        var data: [String: Any] = ["scopeName": node.name, "month": month, "scopeID": node.id.map(String.init) ?? ""]
        data["prevMonth"] = shift(month, by: -1)
        data["nextMonth"] = shift(month, by: 1)
        data["total"] = row(total, name: node.name)
        data["byGrid"] = gridRows
        data["hasByGrid"] = !gridRows.isEmpty
        data["byUnit"] = unitRows
        data["byCategory"] = categoryRows
        data["trend"] = trendRows
        return try ctx.render("cases/rates", title: "诉求办理考核", data)
    }
}
