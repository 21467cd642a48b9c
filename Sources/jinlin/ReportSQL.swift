import App
import ArgumentParser
import Foundation
import ReportsFeature

/// `jinlin report-sql --month YYYY-MM`: prints the SQL the county-wide monthly report runs, with
/// its arguments filled in, one statement per line ending in `;` (the reports benchmark runs it
/// in sqlite3 beside the HTTP timing, on the same database in the same run).
struct ReportSQL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report-sql",
        abstract: "Print the SQL of the county-wide monthly report (月度报表的统计语句), for benchmarks.")

    @OptionGroup var common: CommonOptions

    @Option(help: "The month, YYYY-MM.")
    var month: String

    func run() throws {
        let logger = bootstrapLogging()
        let config = try common.appConfiguration()
        let database = try Application.openDatabase(config, logger: logger)
        let app = try Application(configuration: config, database: database, logger: logger)
        for statement in try ReportsFeature.aggregateSQL(app.environment, month: month) {
            let trimmed = statement.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.hasPrefix("BEGIN") || trimmed.hasPrefix("COMMIT") || trimmed.hasPrefix("ROLLBACK") { continue }
            print(trimmed.replacingOccurrences(of: "\n", with: " ") + ";")
        }
    }
}
