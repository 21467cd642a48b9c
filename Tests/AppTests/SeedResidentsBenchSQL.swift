import AppCore
import Foundation
import GRDB
import Seeding
import Storage
import Testing
@testable import ResidentsFeature
import Web

/// The SQL the resident list runs for a request, with its arguments written in, so that
/// Tests/bench/residents-bench.sh can time exactly that work in the sqlite3 shell next to the
/// same request over HTTP.
///
/// The statements are captured with a trace while the list handler's steps run on a read
/// connection (`ResidentSearch.list` without the rendering): the plan's estimates, the count,
/// the page of ids, the rows shown and the filter form's options.
///
/// The benchmark runs the test with
///     JINLIN_RESIDENTS_BENCH_DB=…/jinlin.sqlite
///     JINLIN_RESIDENTS_BENCH_SCOPE=/12/            (the signed-in account's scope path; empty: everything)
///     JINLIN_RESIDENTS_BENCH_QUERIES='name2=王伟;list='   (label=q pairs)
///     JINLIN_RESIDENTS_BENCH_OUT=FILE               (lines "label<TAB>statement")
/// Without them the test only checks the capture on a small seeded county.
@Suite struct SeedResidentsBenchSQL {
    /// The statements of one list request for `q` within `scopePath`.
    static func statements(_ database: AppDatabase, q: String, scopePath: String?) throws -> [String] {
        try database.read { db in
            var captured: [String] = []
            db.trace { event in
                guard case .statement(let statement) = event else { return }
                let sql = statement.expandedSQL
                if !sql.hasPrefix("--") { captured.append(sql.split(whereSeparator: \.isNewline).joined(separator: " ")) }
            }
            defer { db.trace(options: [], nil) }
            let filter = ResidentFilter(query: FormData(q.isEmpty ? [] : [("q", q)]))
            let today = TestClock.today
            let query = try ResidentSearchQuery.make(db, filter: filter, scopePath: scopePath, today: today)
            let ids = try query.page(db, page: 1, perPage: ResidentSearchQuery.pageSize).ids
            _ = try ResidentDetails.fetch(db, ids: ids)
            _ = try ResidentListPage.gridOptions(db, scopePath: scopePath, selected: filter.gridID)
            _ = try ResidentListPage.tagOptions(db, selected: filter.tagID)
            return captured
        }
    }

    @Test func writeTheListSQLForTheBenchmark() throws {
        let env = ProcessInfo.processInfo.environment
        guard let path = env["JINLIN_RESIDENTS_BENCH_DB"], let out = env["JINLIN_RESIDENTS_BENCH_OUT"] else {
            // No benchmark asked for: check the capture on a small county.
            let app = try TestApp()
            let county = DemoCounty(seed: 9, communities: 1)
            let grids = try county.populate(database: app.database, users: UserStore(database: app.database, hasher: TestApp.hasher))
            _ = try DemoResidents(seed: 9, residents: 200, today: TestClock.today).populate(database: app.database, county: county.plan(), gridIDs: grids.gridIDs)
            let name = try #require(try app.database.read { db in try String.fetchOne(db, sql: "SELECT name FROM residents LIMIT 1") })
            let statements = try Self.statements(app.database, q: name, scopePath: nil)
            // A name matches few residents: one statement reads every match (no count).
            let page = try #require(statements.first { $0.hasPrefix("SELECT r.id FROM residents r") && $0.contains("ORDER BY") })
            #expect(page.contains("LIMIT \(ResidentSearchQuery.fewMatches + 1)"))
            #expect(!statements.contains { $0.hasPrefix("SELECT count(*) FROM residents") })
            #expect(!statements.contains { $0.contains("?") }, "arguments are written in")
            // The captured SQL runs as it stands and finds the resident.
            let found = try app.database.read { db in try Int64.fetchAll(db, sql: page) }
            #expect(found.count >= 1)
            // The whole list counts, then reads a page.
            let list = try Self.statements(app.database, q: "", scopePath: nil)
            #expect(list.contains { $0.hasPrefix("SELECT coalesce(sum(active), 0) FROM building_resident_counts") })
            #expect(list.contains { $0.contains("ORDER BY") && $0.contains("LIMIT 50") })
            return
        }
        let scope = env["JINLIN_RESIDENTS_BENCH_SCOPE"].flatMap { $0.isEmpty ? nil : $0 }
        let database = try AppDatabase(path: path)
        var lines: [String] = []
        for pair in (env["JINLIN_RESIDENTS_BENCH_QUERIES"] ?? "list=").split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let label = String(parts[0])
            let q = parts.count > 1 ? String(parts[1]) : ""
            for statement in try Self.statements(database, q: q, scopePath: scope) {
                lines.append(label + "\t" + statement)
            }
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: out))
    }
}
