import Domain
import Foundation
import GRDB
import Testing
@testable import Storage

/// The residents' tables as the shipped migrations leave them, and 0005's rebuild of
/// residents and residences on a database that already holds residents.
@Suite struct ResidentSchemaTests {
    /// The shipped migrations up to and including `lastVersion`, in a folder of their own.
    func migrations(through lastVersion: Int, in folder: TemporaryDirectory) throws -> URL {
        let directory = folder.url.appendingPathComponent("Migrations-\(lastVersion)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for file in try Migrator.migrationFiles(in: shippedMigrations) where file.version <= lastVersion {
            try FileManager.default.copyItem(at: shippedMigrations.appendingPathComponent(file.name),
                                             to: directory.appendingPathComponent(file.name))
        }
        return directory
    }

    func fullyMigrated() throws -> AppDatabase {
        let database = try AppDatabase.openTemporary()
        try Migrator.migrate(database: database, directory: shippedMigrations)
        return database
    }

    /// A community with one building and one house; returns (building, house).
    func building(_ db: Database) throws -> (Int64, Int64) {
        let community = try Grids.create(db, name: "示范社区", kind: .community, parentID: nil, by: tester)
        let estate = try Grids.create(db, name: "阳光小区", kind: .estate, parentID: community.id, by: tester)
        let building = try Grids.create(db, name: "1号楼", kind: .building, parentID: estate.id, by: tester)
        try db.execute(sql: "INSERT INTO houses (building_id, unit, room) VALUES (?, '1', '101')", arguments: [building.id])
        return (building.id, db.lastInsertedRowID)
    }

    func insertResident(_ db: Database, id: Int64, name: String, number: String, buildingID: Int64?,
                        status: String = "active", mergedInto: Int64? = nil, political: String = "13",
                        phone: String? = "13812345678") throws {
        try db.execute(sql: """
            INSERT INTO residents (id, name, id_number, id_number_rev, sex, birth_date, phone, phone_rev,
                                   political_status, status, merged_into_id, building_id)
            VALUES (?, ?, ?, ?, 'F', '1990-03-07', ?, ?, ?, ?, ?, ?)
            """, arguments: [id, name, number, String(number.reversed()), phone, phone.map { String($0.reversed()) },
                             political, status, mergedInto, buildingID])
    }

    /// The indexes and triggers of both tables, with their SQL: the rebuild must recreate each
    /// one exactly.
    func schemaObjects(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: """
            SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_schema
             WHERE tbl_name IN ('residents', 'residences') AND type IN ('index', 'trigger') ORDER BY 1
            """)
    }

    @Test func rebuildKeepsEveryRowIndexAndTrigger() throws {
        let folder = try TemporaryDirectory()
        let database = try AppDatabase(path: folder.path("jinlin.sqlite"))
        try Migrator.migrate(database: database, directory: migrations(through: 4, in: folder))
        let before = try database.write { db -> [String] in
            let (buildingID, houseID) = try building(db)
            try insertResident(db, id: 1, name: "王芳", number: "11010519491231002X", buildingID: buildingID, political: "01")
            try insertResident(db, id: 2, name: "王芳芳", number: "110105194912310029", buildingID: nil, status: "merged", mergedInto: 1)
            try insertResident(db, id: 3, name: "李四", number: "110105194912310037", buildingID: nil, status: "moved_out")
            try db.execute(sql: """
                INSERT INTO residences (resident_id, house_id, relation, started_on, ended_on, end_reason)
                VALUES (1, ?, 'resident', '2020-01-01', NULL, NULL), (3, ?, 'tenant', '2020-01-01', '2024-05-01', 'moved_out')
                """, arguments: [houseID, houseID])
            try db.execute(sql: "INSERT INTO resident_tags (resident_id, tag_id) VALUES (1, 1)")
            return try schemaObjects(db)
        }
        #expect(before.count == 17)

        let applied = try Migrator.migrate(database: database, directory: shippedMigrations)
        #expect(applied.contains("0005_checks_without_in_lists.sql"))
        try database.read { (db: Database) throws in
            // Later migrations add their own triggers and indexes (0007: the members' name index;
            // 0012: the report's date indexes on residences).
            let later = ["trigger residents_member_name ", "index residences_started ", "index residences_ended "]
            #expect(try schemaObjects(db).filter { object in !later.contains { object.hasPrefix($0) } } == before)
            #expect(try String.fetchAll(db, sql: "SELECT name || '/' || status || '/' || political_status FROM residents ORDER BY id")
                == ["王芳/active/01", "王芳芳/merged/13", "李四/moved_out/13"])
            #expect(try String.fetchAll(db, sql: "SELECT relation || '/' || coalesce(end_reason, '-') FROM residences ORDER BY id")
                == ["resident/-", "tenant/moved_out"])
            #expect(try Int.fetchOne(db, sql: "SELECT active FROM building_resident_counts") == 1)
            #expect(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty)
            #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
            // The other tables still point at the rebuilt ones by name.
            #expect(try String.fetchOne(db, sql: "SELECT \"table\" FROM pragma_foreign_key_list('resident_tags') WHERE \"from\" = 'resident_id'") == "residents")
        }
        // The triggers work on the new tables: name pieces and counts follow an insert and a rename.
        try database.write { db in
            let buildingID = try Int64.fetchOne(db, sql: "SELECT id FROM grids WHERE kind = 'building'")
            try insertResident(db, id: 4, name: "赵六", number: "110105194912310045", buildingID: buildingID)
            try db.execute(sql: "UPDATE residents SET name = '王五' WHERE id = 1")
        }
        try database.read { (db: Database) throws in
            #expect(try Int.fetchOne(db, sql: "SELECT active FROM building_resident_counts") == 2)
            #expect(try Int64.fetchAll(db, sql: "SELECT resident_id FROM resident_name_grams WHERE gram = '赵六'") == [4])
            #expect(try Int64.fetchAll(db, sql: "SELECT resident_id FROM resident_name_grams WHERE gram = '王芳' ORDER BY 1") == [2])
            #expect(try Int64.fetchAll(db, sql: "SELECT resident_id FROM resident_name_grams WHERE gram = '王五'") == [1])
        }
    }

    /// The same rows are accepted and refused by the schema before 0005 and after it.
    @Test(arguments: [4, 5]) func theRulesAreTheSameAsBefore(through version: Int) throws {
        let folder = try TemporaryDirectory()
        let database = try AppDatabase.openTemporary()
        try Migrator.migrate(database: database, directory: migrations(through: version, in: folder))
        try database.write { db in
            let (buildingID, houseID) = try building(db)
            var id: Int64 = 0
            func attempt(political: String = "13", status: String = "active", mergedInto: Int64? = nil,
                         number: String? = nil, phone: String? = "13812345678") -> Bool {
                id += 1
                do {
                    try db.inSavepoint {
                        try insertResident(db, id: id, name: "测试", number: number ?? IDNumberFixture.valid(id), buildingID: buildingID,
                                           status: status, mergedInto: mergedInto, political: political, phone: phone)
                        return .commit
                    }
                    return true
                } catch { return false }
            }
            for code in (1...13).map({ String(format: "%02d", $0) }) { #expect(attempt(political: code), "\(code)") }
            for code in ["00", "14", "19", "20", "1A", "0A", "1", "013", "", " 1"] { #expect(!attempt(political: code), "\(code)") }
            #expect(attempt(status: "moved_out"))
            #expect(attempt(status: "merged", mergedInto: 1))
            for status in ["", "Active", "deleted", "merged "] { #expect(!attempt(status: status), "\(status)") }
            // The ID number: 17 digits and a digit or X; the phone: 11 digits starting with 1.
            for number in ["11010519491231002X", "110105194912310029"] { #expect(attempt(number: number), "\(number)") }
            for number in ["11010519491231002x", "1101051949123100", "1101051949123100299", "11010519491231002Y",
                           "1101051949123100X9", "A10105194912310029", "11010519491231002 ", "１10105194912310029", ""] {
                #expect(!attempt(number: number), "\(number)")
            }
            for phone in ["13812345678", "19900000000", nil] { #expect(attempt(phone: phone), "\(phone ?? "nil")") }
            for phone in ["23812345678", "1381234567", "138123456789", "1381234567a", "+8613812345", "", "１3812345678"] {
                #expect(!attempt(phone: phone), "\(phone)")
            }

            func bind(relation: String, ended: String? = nil, reason: String? = nil) -> Bool {
                do {
                    try db.inSavepoint {
                        try db.execute(sql: """
                            INSERT INTO residences (resident_id, house_id, relation, started_on, ended_on, end_reason)
                            VALUES (1, ?, ?, '2020-01-01', ?, ?)
                            """, arguments: [houseID, relation, ended, reason])
                        return .rollback
                    }
                    return true
                } catch { return false }
            }
            for relation in ["owner", "hukou", "resident", "tenant"] { #expect(bind(relation: relation), "\(relation)") }
            for relation in ["", "Owner", "renter"] { #expect(!bind(relation: relation), "\(relation)") }
            for reason in ["moved_out", "moved", "merged", "corrected"] {
                #expect(bind(relation: "owner", ended: "2021-01-01", reason: reason), "\(reason)")
            }
            for reason in ["", "sold", "Moved"] { #expect(!bind(relation: "owner", ended: "2021-01-01", reason: reason), "\(reason)") }
        }
    }

    /// The reason for 0005: a constant IN list in a CHECK becomes a temporary B-tree built for
    /// every row. After 0005 no statement that writes a resident or a binding opens one; before
    /// it, each did.
    @Test func writingAResidentOpensNoTemporaryTable() throws {
        let folder = try TemporaryDirectory()
        let before = try AppDatabase.openTemporary()
        try Migrator.migrate(database: before, directory: migrations(through: 4, in: folder))
        let after = try fullyMigrated()
        for sql in [
            "INSERT INTO residents (name, id_number, id_number_rev, sex, birth_date, political_status, status) VALUES ('a', 'b', 'c', 'M', 'd', '13', 'active')",
            "UPDATE residents SET political_status = '01', status = 'moved_out' WHERE id = 1",
            "INSERT INTO residences (resident_id, house_id, relation, started_on) VALUES (1, 1, 'owner', '2020-01-01')",
            "UPDATE residences SET ended_on = '2021-01-01', end_reason = 'moved' WHERE id = 1",
        ] {
            func opcodes(_ database: AppDatabase) throws -> [String] {
                // On the writer: a read-only connection compiles no constraint checks at all.
                try database.write { db in try Row.fetchAll(db, sql: "EXPLAIN " + sql).map { $0["opcode"] as String } }
            }
            #expect(try opcodes(before).contains("OpenEphemeral"), "\(sql)")
            #expect(try !opcodes(after).contains("OpenEphemeral"), "\(sql)")
        }
    }
}

/// Valid-looking 18-character ID numbers for schema tests (the schema checks the shape only).
enum IDNumberFixture {
    static func valid(_ n: Int64) -> String {
        "110105" + "19900101" + String(format: "%03d", n % 1000) + "1"
    }
}
