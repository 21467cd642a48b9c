import Access
import AppCore
import Domain
import Foundation
import GRDB
import Storage

/// A building of the grid tree as the house pages need it.
struct BuildingRow: Sendable {
    let id: Int64
    let name: String
    let path: String

    /// The node when it exists, is a building, and lies in `scope`; otherwise `NotFound`.
    static func require(_ db: Database, _ id: Int64, in scope: Scope) throws -> BuildingRow {
        guard let row = try Row.fetchOne(db, sql: "SELECT id, name, path FROM grids WHERE id = ? AND kind = 'building'",
                                         arguments: [id]) else { throw NotFound() }
        let building = BuildingRow(id: row["id"], name: row["name"], path: row["path"])
        guard scope.contains(building.path) else { throw NotFound() }
        return building
    }
}

/// Houses 房屋: created one at a time or as a block of units × floors × rooms.
struct HouseStore: Sendable {
    let database: AppDatabase

    /// What a block creation did.
    struct RangeResult: Sendable, Equatable {
        let created: Int
        let skipped: Int
        /// The first few houses that existed already, for the message.
        let skippedExamples: [String]
    }

    static func validate(unit: String, room: String) -> [String: String] {
        var errors: [String: String] = [:]
        if unit.isEmpty { errors["unit"] = "请填写单元，例如 1" } else if unit.count > 20 { errors["unit"] = "单元最多 20 个字" }
        if room.isEmpty { errors["room"] = "请填写房号，例如 301" } else if room.count > 20 { errors["room"] = "房号最多 20 个字" }
        return errors
    }

    /// Creates one house; an existing one is a field error.
    func create(buildingID: Int64, unit: String, room: String, principal: Principal?, by actor: AuditActor) throws -> Int64 {
        let errors = Self.validate(unit: unit, room: room)
        guard errors.isEmpty else { throw FieldErrors(errors) }
        return try database.write { db in
            try Policy.require(principal, .manageResidents)
            let scope = principal?.scope ?? .nothing
            _ = try BuildingRow.require(db, buildingID, in: scope)
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM houses WHERE building_id = ? AND unit = ? AND room = ?)",
                                 arguments: [buildingID, unit, room]) == true {
                throw FieldErrors("room", "\(HouseLabel.house(unit: unit, room: room))已经登记过了")
            }
            let floor = HouseLabel.floor(forRoom: room)
            try db.execute(sql: "INSERT INTO houses (building_id, unit, room, floor) VALUES (?, ?, ?, ?)",
                           arguments: [buildingID, unit, room, floor])
            let id = db.lastInsertedRowID
            struct Snapshot: Encodable { let building_id: Int64; let unit: String; let room: String; let floor: Int? }
            try AuditLog.record(db, actor: actor, action: "house.create", entityType: "house", entityId: id,
                                before: nil as Snapshot?, after: Snapshot(building_id: buildingID, unit: unit, room: room, floor: floor))
            return id
        }
    }

    /// Creates every house of `range` that does not exist yet, in one transaction with one audit
    /// entry (on the building) listing what was created.
    func create(buildingID: Int64, range: HouseRange, principal: Principal?, by actor: AuditActor) throws -> RangeResult {
        let problems = range.problems
        guard problems.isEmpty else { throw FieldErrors(problems) }
        return try database.write { db in
            try Policy.require(principal, .manageResidents)
            let scope = principal?.scope ?? .nothing
            _ = try BuildingRow.require(db, buildingID, in: scope)
            let insert = try db.makeStatement(sql: """
                INSERT INTO houses (building_id, unit, room, floor) VALUES (?, ?, ?, ?)
                ON CONFLICT (building_id, unit, room) DO NOTHING
                """)
            var created: [String] = []
            var skipped: [String] = []
            for room in range.rooms {
                try insert.execute(arguments: [buildingID, room.unit, room.room, room.floor])
                if db.changesCount > 0 {
                    created.append("\(room.unit)-\(room.room)")
                } else {
                    skipped.append(HouseLabel.house(unit: room.unit, room: room.room))
                }
            }
            if !created.isEmpty {
                struct Snapshot: Encodable {
                    let units: String, floors: String, rooms_per_floor: Int, created: Int, skipped: Int, houses: [String]
                }
                try AuditLog.record(db, actor: actor, action: "house.create", entityType: "grid", entityId: buildingID,
                                    before: nil as Snapshot?, after: Snapshot(
                                        units: "\(range.unitsFrom)-\(range.unitsTo)", floors: "\(range.floorsFrom)-\(range.floorsTo)",
                                        rooms_per_floor: range.roomsPerFloor, created: created.count, skipped: skipped.count,
                                        houses: created))
            }
            return RangeResult(created: created.count, skipped: skipped.count, skippedExamples: Array(skipped.prefix(5)))
        }
    }
}
