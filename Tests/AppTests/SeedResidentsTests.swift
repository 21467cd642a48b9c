import AppCore
import Domain
import Foundation
import GRDB
import ResidentsFeature
import Seeding
import Storage
import Testing

/// `jinlin seed --residents`: houses and residents of the demo county.
@Suite struct SeedResidentsTests {
    static let residents = 2_000

    /// A fresh app with a one-community demo county of `residents` residents.
    static func seeded(seed: UInt64 = 11, residents: Int = SeedResidentsTests.residents) throws
        -> (TestApp, ResidentSeedSummary, DemoCounty) {
        let app = try TestApp()
        let county = DemoCounty(seed: seed, communities: 1)
        let grids = try county.populate(database: app.database, users: UserStore(database: app.database, hasher: TestApp.hasher))
        let summary = try DemoResidents(seed: seed, residents: residents, batchSize: 700, today: TestClock.today)
            .populate(database: app.database, county: county.plan(), gridIDs: grids.gridIDs)
        return (app, summary, county)
    }

    @Test func idNumbersPhonesAndDerivedFieldsAreValid() throws {
        let (app, summary, _) = try Self.seeded()
        #expect(summary.residents == Self.residents)
        #expect(summary.batches > 1, "several transactions")
        let rows = try app.database.read { db in
            try Row.fetchAll(db, sql: "SELECT name, id_number, id_number_rev, sex, birth_date, phone, phone_rev FROM residents")
        }
        #expect(rows.count == Self.residents)
        let mobile = ["13", "15", "17", "18", "19"]
        var ids = Set<String>()
        for row in rows {
            let id: String = row["id_number"]
            ids.insert(id)
            switch IDNumber.parse(id, today: TestClock.now) {
            case .success(let parsed):
                #expect(parsed.value == id)
                #expect(parsed.birthDateText == row["birth_date"], "\(id)")
                #expect(parsed.sexCode == row["sex"], "\(id)")
                #expect((0...100).contains(parsed.age(on: TestClock.now)), "\(id)")
            case .failure(let problem):
                Issue.record("\(id): \(problem)")
            }
            #expect(row["id_number_rev"] == String(id.reversed()))
            let areas: Set<Substring> = ["33", "34", "41", "36", "51", "43", "42", "32", "35", "52", "45"]
            #expect(areas.contains(id.prefix(2)), "\(id)")
            let phone: String? = row["phone"]
            if let phone {
                #expect(PhoneNumber.parse(phone) == .success(phone), "\(phone)")
                #expect(mobile.contains(String(phone.prefix(2))), "\(phone)")
                #expect(row["phone_rev"] == String(phone.reversed()))
            } else {
                #expect((row["phone_rev"] as String?) == nil)
            }
            let name: String = row["name"]
            #expect((2...4).contains(name.count), "\(name)")
        }
        #expect(ids.count == Self.residents, "ID numbers are unique")
    }

    @Test func activeResidentsLiveInTheirBuilding() throws {
        let (app, summary, _) = try Self.seeded()
        try app.database.read { db in
            // Every active resident has a current residence in a house of their building.
            let homeless = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM residents r
                WHERE r.status = 'active' AND (r.building_id IS NULL OR NOT EXISTS (
                    SELECT 1 FROM residences x JOIN houses h ON h.id = x.house_id
                    WHERE x.resident_id = r.id AND x.ended_on IS NULL AND h.building_id = r.building_id))
                """)
            #expect(homeless == 0)
            // …and no current residence anywhere else.
            let elsewhere = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM residences x JOIN houses h ON h.id = x.house_id JOIN residents r ON r.id = x.resident_id
                WHERE x.ended_on IS NULL AND h.building_id IS NOT r.building_id
                """)
            #expect(elsewhere == 0)
            let notBuildings = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM residents r JOIN grids g ON g.id = r.building_id WHERE g.kind <> 'building'
                """)
            #expect(notBuildings == 0)
            // Moved out: no building, no current residence, one ended with reason moved_out.
            let movedOut = try Int.fetchOne(db, sql: "SELECT count(*) FROM residents WHERE status = 'moved_out'") ?? 0
            #expect(movedOut == summary.movedOut)
            let movedOutOK = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM residents r WHERE r.status = 'moved_out' AND r.building_id IS NULL
                  AND NOT EXISTS (SELECT 1 FROM residences x WHERE x.resident_id = r.id AND x.ended_on IS NULL)
                  AND EXISTS (SELECT 1 FROM residences x WHERE x.resident_id = r.id AND x.end_reason = 'moved_out'
                              AND x.ended_on >= x.started_on)
                """)
            #expect(movedOutOK == movedOut)
            // A residence starts no earlier than the resident's birth.
            let beforeBirth = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM residences x JOIN residents r ON r.id = x.resident_id WHERE x.started_on < r.birth_date
                """)
            #expect(beforeBirth == 0)
            // Houses: units 1–6, floors 6–33 per building, rooms 2–4 per floor.
            let shapes = try Row.fetchAll(db, sql: """
                SELECT building_id, count(DISTINCT unit) AS units, max(floor) AS floors, count(*) AS houses
                FROM houses GROUP BY building_id
                """)
            #expect(!shapes.isEmpty)
            for shape in shapes {
                let units: Int = shape["units"], floors: Int = shape["floors"], houses: Int = shape["houses"]
                #expect((1...6).contains(units) && (6...33).contains(floors))
                #expect(houses % (units * floors) == 0 && (2...4).contains(houses / (units * floors)))
            }
            let occupied = try Int.fetchOne(db, sql: "SELECT count(DISTINCT house_id) FROM residences") ?? 0
            let perHouse = Double(Self.residents) / Double(occupied)
            #expect((2.0...3.5).contains(perHouse), "\(perHouse) residents per occupied house")
        }
    }

    @Test func ratesAreRealistic() throws {
        let (app, _, _) = try Self.seeded()
        func share(_ sql: String) throws -> Double {
            let n = try app.database.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
            return Double(n) / Double(Self.residents)
        }
        func tagged(_ tag: String, where condition: String = "1") throws -> Double {
            try share("""
                SELECT count(*) FROM residents r JOIN resident_tags t ON t.resident_id = r.id JOIN tags g ON g.id = t.tag_id
                WHERE g.name = '\(tag)' AND \(condition)
                """)
        }
        let age = "(\(TestClock.today.year) - CAST(substr(r.birth_date, 1, 4) AS INTEGER))"
        #expect((0.75...0.93).contains(try share("SELECT count(*) FROM residents WHERE phone IS NOT NULL")))
        #expect((0.005...0.04).contains(try share("SELECT count(*) FROM residents WHERE status = 'moved_out'")))
        #expect((0.02...0.08).contains(try share("SELECT count(*) FROM residents WHERE separated = 1")))
        #expect((0.045...0.10).contains(try share("SELECT count(*) FROM residents WHERE political_status = '01'")))
        #expect((0.002...0.025).contains(try share("SELECT count(*) FROM residents WHERE political_status = '02'")))
        #expect((0.025...0.09).contains(try share("SELECT count(*) FROM residents WHERE political_status = '03'")))
        #expect((0.75...0.93).contains(try share("SELECT count(*) FROM residents WHERE political_status = '13'")))
        #expect(try share("SELECT count(*) FROM residents r WHERE political_status = '03' AND \(age) NOT BETWEEN 13 AND 30") == 0)
        #expect((0.04...0.14).contains(try share("SELECT count(DISTINCT resident_id) FROM residences WHERE relation = 'tenant'")))
        #expect((0.45...0.80).contains(try share("SELECT count(DISTINCT resident_id) FROM residences WHERE relation = 'resident'")))
        #expect(try share("SELECT count(*) FROM (SELECT resident_id FROM residences GROUP BY resident_id, house_id HAVING count(*) = 2)") > 0.01,
                "owner + hukou pairs")

        // Age pyramid: children, working age, the old.
        #expect((0.10...0.25).contains(try share("SELECT count(*) FROM residents r WHERE \(age) < 15")))
        #expect((0.12...0.30).contains(try share("SELECT count(*) FROM residents r WHERE \(age) >= 60")))
        #expect((0.01...0.06).contains(try share("SELECT count(*) FROM residents r WHERE \(age) >= 80")))

        // Tags: at their rates, and only where they make sense.
        #expect(try tagged("独居老人", where: "\(age) < 59") == 0)
        #expect(try tagged("空巢老人", where: "\(age) < 59") == 0)
        #expect(try tagged("高龄老人", where: "\(age) < 79") == 0)
        #expect(try tagged("留守儿童", where: "\(age) > 17") == 0)
        #expect((0.01...0.08).contains(try tagged("独居老人")))
        #expect((0.01...0.12).contains(try tagged("空巢老人")))
        #expect((0.005...0.06).contains(try tagged("高龄老人")))
        #expect((0.005...0.03).contains(try tagged("残疾人")))
        #expect((0.0...0.04).contains(try tagged("低保户")))
        #expect((0.003...0.025).contains(try tagged("退役军人")))
        #expect(try tagged("留守儿童") <= 0.01)

        // Names: a surname from the table; one-character given names for about 30%.
        let names = try app.database.read { db in try String.fetchAll(db, sql: "SELECT name FROM residents") }
        let twoCharacter = Double(names.filter { $0.count == 2 }.count) / Double(names.count)
        #expect((0.22...0.38).contains(twoCharacter), "\(twoCharacter)")
        let common = names.filter { ["王", "李", "张", "刘", "陈"].contains(String($0.prefix(1))) }.count
        #expect((0.2...0.45).contains(Double(common) / Double(names.count)))
    }

    @Test func sameSeedSameRowsAndTriggersFired() throws {
        let (a, _, _) = try Self.seeded(seed: 5, residents: 600)
        let (b, _, _) = try Self.seeded(seed: 5, residents: 600)
        let (c, _, _) = try Self.seeded(seed: 6, residents: 600)
        func first50(_ app: TestApp) throws -> [[String]] {
            try app.database.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT r.name, r.id_number, r.sex, r.birth_date, coalesce(r.phone, ''), r.political_status, r.separated,
                           r.status, r.notes, coalesce(g.code, ''),
                           (SELECT group_concat(h.unit || '-' || h.room || ':' || x.relation || ':' || x.started_on, ',')
                            FROM residences x JOIN houses h ON h.id = x.house_id WHERE x.resident_id = r.id),
                           (SELECT group_concat(t.tag_id, ',') FROM resident_tags t WHERE t.resident_id = r.id)
                    FROM residents r LEFT JOIN grids g ON g.id = r.building_id ORDER BY r.id LIMIT 50
                    """).map { row in (0..<row.count).map { String(describing: row[$0] as DatabaseValue) } }
            }
        }
        let rows = try first50(a)
        #expect(rows.count == 50)
        #expect(rows == (try first50(b)))
        #expect(rows != (try first50(c)))

        // The name-gram trigger fired for every resident: each two-character piece is there.
        let (names, grams) = try a.database.read { db in
            (try Row.fetchAll(db, sql: "SELECT id, name FROM residents"),
             try Row.fetchAll(db, sql: "SELECT resident_id, gram FROM resident_name_grams"))
        }
        var stored: [Int64: Set<String>] = [:]
        for row in grams { stored[row["resident_id"], default: []].insert(row["gram"]) }
        for row in names {
            let name: String = row["name"]
            let chars = Array(name)
            let expected = Set((0..<(chars.count - 1)).map { String(chars[$0...($0 + 1)]) })
            #expect(stored[row["id"]] == expected, "\(name)")
        }
    }

    @Test func refusesToSeedTwice() throws {
        let (app, _, county) = try Self.seeded(seed: 3, residents: 300)
        let grids = try county.populate(database: app.database, users: UserStore(database: app.database, hasher: TestApp.hasher))
        let error = #expect(throws: ResidentSeedError.self) {
            try DemoResidents(seed: 3, residents: 300, today: TestClock.today).populate(database: app.database, county: county.plan(), gridIDs: grids.gridIDs)
        }
        #expect(error?.alreadySeeded == true)
        let count = try app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM residents") }
        #expect(count == 300)

        // Another county in the same database gets its own residents, no ID number twice.
        let other = DemoCounty(seed: 4, communities: 1)
        let otherGrids = try other.populate(database: app.database, users: UserStore(database: app.database, hasher: TestApp.hasher))
        let second = try DemoResidents(seed: 4, residents: 300, today: TestClock.today).populate(database: app.database, county: other.plan(),
                                                                          gridIDs: otherGrids.gridIDs)
        #expect(second.residents == 300)
    }

    @Test func communitiesGrowWithTheResidents() throws {
        let small = try DemoResidents.communities(forResidents: 2_000, seed: 1, requested: 3)
        #expect(small.chosen == 3 && small.needed == 1)
        let million = try DemoResidents.communities(forResidents: 1_000_000, seed: 1, requested: 3)
        #expect((100...200).contains(million.chosen), "\(million.chosen)")
        #expect(million.explanation.contains("raised to \(million.chosen)"))
        #expect(Double(million.houses) * DemoResidents.occupancy * DemoResidents.meanHouseholdSize >= 1_000_000)
        #expect(throws: ResidentSeedError.self) {
            try DemoResidents.communities(forResidents: 5_000_000, seed: 1, requested: 3)
        }
        // A building's shape depends on its code only.
        let shape = DemoResidents.shape(seed: 1, buildingCode: "D1-C01-E01-G01-B01")
        #expect(shape == DemoResidents.shape(seed: 1, buildingCode: "D1-C01-E01-G01-B01"))
        #expect((1...6).contains(shape.units) && (6...33).contains(shape.floors) && (2...4).contains(shape.roomsPerFloor))
    }

    @Test func seedCommandWithResidents() throws {
        let data = try JinlinBinary.temporaryDirectory("seed-residents")
        defer { try? FileManager.default.removeItem(at: data) }
        let arguments = ["seed", "--seed", "2", "--communities", "1", "--residents", "1500",
                         "--data-dir", data.path, "--root", JinlinBinary.packageRoot.path]
        let first = try JinlinBinary.run(arguments, timeout: 120)
        #expect(first.status == 0, "\(first)")
        #expect(first.stdout.contains("规则 rule: 1500 residents"))
        #expect(first.stdout.contains("居民与房屋 / residents and houses, seed 2"))
        #expect(first.stdout.contains("数据库 database size"))
        let again = try JinlinBinary.run(arguments, timeout: 120)
        #expect(again.status == 3, "\(again)")
        #expect(again.stderr.contains("already has"))
        let db = try JinlinBinary.openReadOnly(JinlinBinary.databasePath(data))
        #expect(try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM residents") } == 1500)
    }
}
