import Foundation
import GRDB
import Storage
import Testing
@testable import ResidentsFeature
import Views
import Web

/// Query plans of the resident search. Set JINLIN_SEARCH_BENCH_DB to a seeded database file
/// (e.g. a million residents) to also print plans and timings for it.
@Suite struct ResidentSearchPlanTests {
    static func shapes(scope: String?) -> [(String, ResidentFilter)] {
        func f(_ pairs: [(String, String)]) -> ResidentFilter { ResidentFilter(query: FormData(pairs)) }
        return [
            ("no filter", f([])),
            ("sort name", f([("sort", "name")])),
            ("sort age", f([("sort", "age")])),
            ("sort created", f([("sort", "created")])),
            ("surname", f([("q", "王")])),
            ("name2", f([("q", "王芳")])),
            ("name3", f([("q", "王小明")])),
            ("phone4", f([("q", "5678")])),
            ("id6x", f([("q", "12345x")])),
            ("estate", f([("q", "阳光小区1")])),
            ("unit", f([("q", "3单元")])),
            ("room", f([("q", "301")])),
            ("building room", f([("q", "1号楼301")])),
            ("two words", f([("q", "王 301")])),
            ("tag", f([("tag", "1")])),
            ("age 80+", f([("age", "80+")])),
            ("party", f([("political_status", "01")])),
            ("relation", f([("relation", "tenant")])),
            ("moved out", f([("status", "moved_out")])),
            ("all", f([("status", "all")])),
            ("party+age sort name", f([("political_status", "01"), ("age", "60-79"), ("sort", "name")])),
        ]
    }

    static func plan(_ db: Database, _ statement: SQLPart) throws -> String {
        try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + statement.sql, arguments: statement.statementArguments)
            .map { "\($0["id"] as Int):\($0["parent"] as Int) \($0["detail"] as String)" }.joined(separator: "\n")
    }

    /// A query as it would be planned for a county of a million residents in 10,000 buildings.
    static func countyQuery(_ pairs: [(String, String)], areaPath: String?, areaBuildings: Double) -> ResidentSearchQuery {
        let filter = ResidentFilter(query: FormData(pairs))
        var stats = ResidentSearchQuery.Stats(residents: 1_000_000, buildings: 10_000, areaBuildings: areaBuildings)
        for word in SearchText(filter.q).words {
            for case .gridName(let name) in word { stats.gridNameBuildings[name] = 2 }
        }
        return ResidentSearchQuery(filter: filter, areaPath: areaPath, today: TestClock.today, stats: stats)
    }

    static func lines(_ plan: String) -> [String] { plan.split(separator: "\n").map(String.init) }

    /// A selective search takes its total and page from one statement (`fewMatches`); every
    /// page of it agrees with a separate count and page statement, whatever the sort.
    @Test func fewMatchesPathAgreesWithCountAndPage() throws {
        let (app, _, _) = try SeedResidentsTests.seeded(residents: 2_000)
        let (phone, surname, name): (String, String, String) = try app.database.read { db in
            let phone = try String.fetchOne(db, sql: "SELECT substr(phone, 8) FROM residents WHERE phone IS NOT NULL ORDER BY id LIMIT 1")
            let surname = try String.fetchOne(db, sql: """
                SELECT substr(name, 1, 1) AS s FROM residents GROUP BY s ORDER BY count(*) DESC LIMIT 1
                """)
            let name = try String.fetchOne(db, sql: "SELECT name FROM residents WHERE length(name) = 3 LIMIT 1")
            return (phone ?? "", surname ?? "", name ?? "")
        }
        var fastPaths = 0
        for pairs in [[("q", phone)], [("q", surname)], [("q", surname), ("sort", "name")], [("q", surname), ("sort", "age")],
                      [("q", name)], [("q", surname), ("status", "all")], [], [("sort", "created")]] {
            let filter = ResidentFilter(query: FormData(pairs))
            try app.database.read { db in
                let query = try ResidentSearchQuery.make(db, filter: filter, scopePath: nil, today: TestClock.today)
                if query.bestDriver.estimate <= Double(ResidentSearchQuery.fewMatches) { fastPaths += 1 }
                let total = try query.count(db)
                for page in [1, 2, 3, 1_000] {
                    let (pagination, ids) = try query.page(db, page: page, perPage: 7)
                    let expected = Pagination(page: page, perPage: 7, total: total)
                    #expect(pagination == expected, "\(pairs) page \(page)")
                    #expect(ids == (try query.pageIDs(db, total: total, limit: 7, offset: expected.offset)), "\(pairs) page \(page)")
                }
                if pairs.first?.1 == surname { #expect(total > 14, "the surname spans pages") }
            }
        }
        #expect(fastPaths >= 4, "the selective searches take the one-statement path")
        #expect(fastPaths < 8, "a list of everyone counts separately")
    }

    /// No statement reads the whole residents table where an index can lead, and selective
    /// searches are led by their own index whatever the scope.
    @Test func plansUseTheIndexes() throws {
        let app = try TestApp()
        let gridPath = app.grid.path
        try app.database.read { db in
            func plans(_ pairs: [(String, String)], area: String?, buildings: Double, total: Int = 100)
                -> (count: String, page: String, export: String)
            {
                let query = Self.countyQuery(pairs, areaPath: area, areaBuildings: buildings)
                return ((try? Self.plan(db, query.countStatement)) ?? "",
                        (try? Self.plan(db, query.pageStatement(total: total, limit: 50, offset: 0))) ?? "",
                        (try? Self.plan(db, query.batchStatement(after: 0, limit: 1000, window: 20_000))) ?? "")
            }
            func fullScan(_ plan: String) -> Bool {
                Self.lines(plan).contains { $0.contains("SCAN r") && !$0.contains("USING") || $0.contains("SCAN residents ") }
            }
            // A grid worker's few buildings lead; the unfiltered total adds up the kept counts of
            // the scope's buildings without reading any resident.
            let grid = plans([], area: gridPath, buildings: 5)
            #expect(grid.count.contains("SEARCH building_resident_counts USING INTEGER PRIMARY KEY"), "\(grid.count)")
            #expect(grid.count.contains("SEARCH grids USING INDEX sqlite_autoindex_grids_2 (path>? AND path<?)"), "\(grid.count)")
            #expect(!grid.count.contains("residents"), "\(grid.count)")
            #expect(plans([("age", "60-79")], area: gridPath, buildings: 5).count.contains("residents_building"))
            #expect(!fullScan(grid.count) && !fullScan(grid.page))
            #expect(!grid.page.contains("TEMP B-TREE"), "address order comes from the index: \(grid.page)")
            // Selective words lead even for the whole county.
            for (q, index) in [("5678", "residents_phone_rev"), ("345x", "residents_id_rev"), ("王芳", "PRIMARY KEY (gram=?)"),
                               ("王小明", "PRIMARY KEY (gram=?)"), ("王", "residents_name")] {
                let county = plans([("q", q)], area: nil, buildings: 10_000)
                #expect(county.count.contains(index), "\(q): \(county.count)")
                #expect(county.count.contains("SEARCH r USING INTEGER PRIMARY KEY"), "\(q): \(county.count)")
                #expect(!fullScan(county.count) && !fullScan(county.page), "\(q)")
            }
            // A tag leads in a large area; the scope leads in a small one.
            let tag = [("tag", "1")]
            #expect(plans(tag, area: nil, buildings: 10_000).count.contains("resident_tags_tag"))
            #expect(plans(tag, area: gridPath, buildings: 5).count.contains("residents_building"))
            // Dense results in a large area walk the sort's index and stop after 50 rows.
            let byName = plans([("sort", "name")], area: nil, buildings: 10_000, total: 900_000)
            #expect(byName.page.contains("residents_name") && !byName.page.contains("TEMP B-TREE"), "\(byName.page)")
            let byAge = plans([("sort", "age")], area: nil, buildings: 10_000, total: 900_000)
            #expect(byAge.page.contains("residents_birth") && !byAge.page.contains("TEMP B-TREE"), "\(byAge.page)")
            // Sparse results are driven and sorted instead.
            let sparse = plans([("sort", "name"), ("q", "5678")], area: nil, buildings: 10_000, total: 80)
            #expect(sparse.page.contains("residents_phone_rev"), "\(sparse.page)")
            // Moved-out residents of a small area are reached through its houses.
            let moved = plans([("status", "moved_out")], area: gridPath, buildings: 5)
            #expect(moved.count.contains("residences_house") && !fullScan(moved.count), "\(moved.count)")
            // Exports: a small driver per batch, or one walk of the table by rowid windows.
            #expect(grid.export.contains("residents_building"))
            let countyExport = plans([], area: nil, buildings: 10_000).export
            #expect(countyExport.contains("INTEGER PRIMARY KEY (rowid>? AND rowid<?)"), "\(countyExport)")
            // A roster starts from the estate's buildings, not from every residence.
            let roster = try Self.plan(db, SQLPart("SELECT r.id " + Rosters.currentResidents, ["/1/", "/10"]))
            #expect(Self.lines(roster).first?.contains("SEARCH b USING INDEX") == true, "\(roster)")
            #expect(!roster.contains("SCAN"), "\(roster)")
        }
    }

    @Test func benchAgainstSeededDatabase() throws {
        guard let path = ProcessInfo.processInfo.environment["JINLIN_SEARCH_BENCH_DB"] else { return }
        let database = try AppDatabase(path: path)
        let scopes: [(String, String?)] = try database.read { db in
            [
                ("county", nil),
                ("community", try String.fetchOne(db, sql: "SELECT path FROM grids WHERE kind = 'community' ORDER BY id LIMIT 1 OFFSET 3")),
                ("grid", try String.fetchOne(db, sql: "SELECT path FROM grids WHERE kind = 'grid' ORDER BY id LIMIT 1 OFFSET 30")),
            ]
        }
        let verbose = ProcessInfo.processInfo.environment["JINLIN_SEARCH_BENCH_PLANS"] != nil
        try database.read { db in
            let estates = try Row.fetchAll(db, sql: "SELECT id, name, path FROM grids WHERE kind = 'estate' ORDER BY id LIMIT 10")
            let t0 = Date()
            var people = 0
            for row in estates {
                let section = try Rosters.section(db, estate: Rosters.Node(id: row["id"], name: row["name"], path: row["path"]), today: TestClock.today)
                people += section["people"] as? Int ?? 0
            }
            print("ROSTER 10 estates, \(people) people: \(String(format: "%.1f", Date().timeIntervalSince(t0) * 1000)) ms")
        }
        for (scopeName, scopePath) in scopes {
            for (name, filter) in Self.shapes(scope: scopePath) {
                try database.read { db in
                    let query = try ResidentSearchQuery.make(db, filter: filter, scopePath: scopePath, today: TestClock.today)
                    let t0 = Date()
                    let total = try query.count(db)
                    let t1 = Date()
                    let ids = try query.pageIDs(db, total: total, limit: 50, offset: 0)
                    let t2 = Date()
                    _ = try ResidentDetails.fetch(db, ids: ids)
                    let t3 = Date()
                    let ms = { (a: Date, b: Date) in String(format: "%7.1f", b.timeIntervalSince(a) * 1000) }
                    print("BENCH \(scopeName.padding(toLength: 9, withPad: " ", startingAt: 0)) \(name.padding(toLength: 20, withPad: " ", startingAt: 0)) total \(String(total).padding(toLength: 7, withPad: " ", startingAt: 0)) count \(ms(t0, t1)) ms  page \(ms(t1, t2)) ms  details \(ms(t2, t3)) ms")
                    if ProcessInfo.processInfo.environment["JINLIN_SEARCH_BENCH_EXPORT"] != nil {
                        let e0 = Date()
                        var last: Int64? = 0
                        var exported = 0
                        while let after = last {
                            let batch = try query.exportBatch(db, after: after)
                            exported += batch.ids.count
                            last = batch.next
                        }
                        print("EXPORT \(scopeName) \(name): \(exported) ids in \(ms(e0, Date())) ms via \(query.exportAccess)")
                    }
                    if verbose {
                        print("PLAN count:\n" + (try Self.plan(db, query.countStatement)))
                        print("PLAN page:\n" + (try Self.plan(db, query.pageStatement(total: total, limit: 50, offset: 0))))
                    }
                }
            }
        }
    }
}
