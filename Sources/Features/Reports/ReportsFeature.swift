import Access
import AppCore
import Web

/// Reports 报表: the monthly report of any subtree in scope, printable on A4, as CSV, closed
/// (archived) by a coordinator, and the yearly 总结. The figures come from the other modules'
/// `ReportSection`s (`ctx.env.modules.reportSections`); this module owns only the pages, the
/// charts and the archive of closed months.
public enum ReportsFeature {
    static let viewers: Set<Role> = [.admin, .staff, .coordinator]
    static let closers: Set<Role> = [.coordinator]

    /// A county's report reads for a while: off the event loop, on the worker pool.
    static let offloaded = RouteOptions(offload: true)

    public static let module = Module(
        name: "reports", routes: register, permissions: [.viewReports, .closeReports],
        auditLabels: [("report.close", "月度报表归档"), ("report.regenerate", "重新生成已归档报表")],
        navigation: [("报表", path: "/reports/monthly", order: 60, permission: .viewReports)],
        shortcuts: [("月度报表", path: "/reports/monthly", note: "按月打印、导出、归档", order: 60, permission: .viewReports)],
        matrix: [
            "GET /reports/monthly": viewers,
            "GET /reports/monthly.csv": viewers,
            "GET /reports/monthly/changes": viewers,
            "POST /reports/monthly/close": closers,
            "POST /reports/monthly/regenerate": closers,
            "GET /reports/yearly": viewers,
        ])

    public static func register(_ routes: inout AppRoutes) {
        routes.get("/reports/monthly", .viewReports, options: offloaded) { try ReportPages.monthly($0) }
        routes.get("/reports/monthly.csv", .viewReports, options: offloaded) { try ReportPages.csv($0) }
        routes.get("/reports/monthly/changes", .viewReports, options: offloaded) { try ReportPages.changes($0) }
        routes.post("/reports/monthly/close", .closeReports, options: offloaded) { try ReportPages.close($0) }
        routes.post("/reports/monthly/regenerate", .closeReports, options: offloaded) { try ReportPages.regenerate($0) }
        routes.get("/reports/yearly", .viewReports, options: offloaded) { try ReportPages.yearly($0) }
    }
}

extension ReportsFeature {
    /// The SQL statements the monthly report of the whole tree runs for `month` (`YYYY-MM`), with
    /// their arguments filled in, in order: what `jinlin report-sql` prints for the benchmark,
    /// which runs the same aggregates in sqlite3 beside the HTTP timing.
    public static func aggregateSQL(_ env: AppEnvironment, month: String) throws -> [String] {
        guard let period = ReportPeriod(month) else { throw ValidationFailure("月份应为 YYYY-MM") }
        let units = try env.database.read { db in try ReportBuilder.units(db, under: nil) }
        let statements = StatementLog()
        _ = try ReportBuilder.build(env.modules, database: env.database, scope: ReportScope(gridID: nil, name: "全部", path: nil, units: units),
                                    period: period, log: statements)
        return statements.all
    }

    public struct ValidationFailure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
