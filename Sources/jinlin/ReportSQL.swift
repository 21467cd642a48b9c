import App
import ArgumentParser
import Foundation
import CasesFeature
import ReportsFeature

/// `jinlin report-sql --month YYYY-MM`: prints the SQL the county-wide monthly report runs, with
/// its arguments filled in, one statement per line ending in `;` (the reports benchmark runs it
/// in sqlite3 beside the HTTP timing, on the same database in the same run). With
/// `--cases-rates`, the statements of the county-wide rates page 办理考核 instead.
struct ReportSQL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report-sql",
        abstract: "Print the SQL of the county-wide monthly report (月度报表的统计语句), for benchmarks.")

    @OptionGroup var common: CommonOptions

    @Option(help: "The month, YYYY-MM.")
    var month: String

    @Flag(help: "Print the SQL of the county-wide cases rates page instead.")
    var casesRates = false

    func run() throws {
        let logger = bootstrapLogging()
        let config = try common.appConfiguration()
        let database = try Application.openDatabase(config, logger: logger)
        let app = try Application(configuration: config, database: database, logger: logger)
        let statements = casesRates ? try CasesFeature.ratesSQL(app.environment, month: month)
            : try ReportsFeature.aggregateSQL(app.environment, month: month)
        for statement in statements {
            let trimmed = statement.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.hasPrefix("BEGIN") || trimmed.hasPrefix("COMMIT") || trimmed.hasPrefix("ROLLBACK") { continue }
            print(trimmed.replacingOccurrences(of: "\n", with: " ") + ";")
        }
    }
}
