import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// `/buildings/:id/houses` (a building's houses by unit and floor), adding houses one at a time
/// or as a block, and `/houses/:id` (who lives there, and who did).
enum HousePages {
    static let rangeFields = ["units_from", "units_to", "floors_from", "floors_to", "rooms_per_floor"]

    static func building(_ ctx: Context, _ permission: Permission) throws -> (BuildingRow, Place?) {
        let id = try ctx.request.id()
        let found = try ctx.database.read { db -> (BuildingRow, Place?)? in
            guard let row = try Row.fetchOne(db, sql: "SELECT id, name, path FROM grids WHERE id = ? AND kind = 'building'",
                                             arguments: [id]) else { return nil }
            let building = BuildingRow(id: row["id"], name: row["name"], path: row["path"])
            return (building, try Place.load(db, buildingIDs: [building.id])[building.id])
        }
        guard let found else { throw HTTPError(.notFound) }
        try ctx.authorize(permission, gridPath: found.0.path)
        return found
    }

    // MARK: - Index

    static func index(_ ctx: Context) throws -> HTTPResponse {
        let (building, place) = try building(ctx, .viewResidents)
        let rows = try ctx.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT h.id, h.unit, h.room, h.floor,
                       (SELECT count(DISTINCT x.resident_id) FROM residences x WHERE x.house_id = h.id AND x.ended_on IS NULL) AS people
                FROM houses h WHERE h.building_id = ?
                """, arguments: [building.id])
        }
        struct House { let id: Int64; let unit: String; let room: String; let floor: Int?; let people: Int }
        let houses = rows.map { row -> House in
            let room: String = row["room"]
            return House(id: row["id"], unit: row["unit"], room: room,
                         floor: row["floor"] as Int? ?? HouseLabel.floor(forRoom: room), people: row["people"])
        }.sorted { (naturalKey($0.unit), -($0.floor ?? -1000), naturalKey($0.room)) < (naturalKey($1.unit), -($1.floor ?? -1000), naturalKey($1.room)) }

        var units: [[String: Any]] = []
        var index = 0
        while index < houses.count {
            let unit = houses[index].unit
            var end = index
            while end < houses.count && houses[end].unit == unit { end += 1 }
            let inUnit = houses[index..<end]
            var floors: [[String: Any]] = []
            var floorStart = inUnit.startIndex
            while floorStart < inUnit.endIndex {
                let floor = inUnit[floorStart].floor
                var floorEnd = floorStart
                while floorEnd < inUnit.endIndex && inUnit[floorEnd].floor == floor { floorEnd += 1 }
                floors.append([
                    "label": floor.map { "\($0)层" } ?? "其他",
                    "rooms": inUnit[floorStart..<floorEnd].map { house -> [String: Any] in
                        ["id": String(house.id), "room": house.room, "people": house.people, "occupied": house.people > 0]
                    },
                ])
                floorStart = floorEnd
            }
            units.append(["label": HouseLabel.unit(unit), "houseCount": inUnit.count,
                          "peopleCount": inUnit.reduce(0) { $0 + $1.people },
                          "occupiedCount": inUnit.filter { $0.people > 0 }.count, "floors": floors])
            index = end
        }
        var buildingData: [String: Any] = ["id": String(building.id), "name": building.name, "address": place?.line ?? building.name]
        if let grid = place?.grid { buildingData["grid"] = grid }
        let data: [String: Any] = [
            "building": buildingData,
            "units": units, "hasHouses": !houses.isEmpty, "houseCount": houses.count,
            "peopleCount": houses.reduce(0) { $0 + $1.people },
            "canManage": ctx.may(.manageResidents),
        ]
        return try ctx.render("houses/index", title: "房屋 · \(place?.short ?? building.name)", data)
    }

    // MARK: - New

    static func newForm(_ ctx: Context) throws -> HTTPResponse {
        let found = try building(ctx, .manageResidents)
        var state = FormState(values: ["units_from": "1", "units_to": "1", "floors_from": "1", "floors_to": "6", "rooms_per_floor": "2"])
        state.values["unit"] = String((ctx.query["unit"] ?? "").prefix(20))
        state.values["room"] = String((ctx.query["room"] ?? "").prefix(20))
        return try renderNew(ctx, found, state: state)
    }

    static func create(_ ctx: Context) throws -> HTTPResponse {
        let found = try building(ctx, .manageResidents)
        let (building, _) = found
        let back = "/buildings/\(building.id)/houses"
        var state = FormState()
        let mode = ctx.field("mode", max: 10)
        if mode == "range" {
            var numbers: [String: Int] = [:]
            for name in rangeFields {
                let text = ctx.field(name, max: 10)
                state.values[name] = text
                if text.isEmpty { state.addError("请填写", for: name) } else if let value = Int(text) { numbers[name] = value } else {
                    state.addError("请填写整数", for: name)
                }
            }
            guard !state.hasErrors, let unitsFrom = numbers["units_from"], let unitsTo = numbers["units_to"],
                  let floorsFrom = numbers["floors_from"], let floorsTo = numbers["floors_to"],
                  let roomsPerFloor = numbers["rooms_per_floor"] else {
                return try renderNew(ctx, found, state: state, status: .unprocessableContent)
            }
            let range = HouseRange(unitsFrom: unitsFrom, unitsTo: unitsTo, floorsFrom: floorsFrom, floorsTo: floorsTo,
                                   roomsPerFloor: roomsPerFloor)
            for (field, message) in range.problems { state.addError(message, for: field) }
            if state.hasErrors { return try renderNew(ctx, found, state: state, status: .unprocessableContent) }
            if ctx.form["preview"] == "1" {
                return try renderNew(ctx, found, state: state, preview: preview(ctx, building: building, range: range))
            }
            return try RecordResponses.perform(ctx, back: back) {
                let result = try ctx.houseStore.create(buildingID: building.id, range: range, principal: ctx.principal, by: ctx.actor)
                var message = "已新建 \(result.created) 套房屋"
                if result.skipped > 0 {
                    message += "，跳过已存在的 \(result.skipped) 套（如 \(result.skippedExamples.joined(separator: "、"))）"
                }
                return ctx.redirect(back, flash: result.created > 0 ? .success(message + "。") : .info(message + "，没有需要新建的房屋。"))
            }
        }
        let unit = HousePicker.normalize(unit: ctx.field("unit", max: 40))
        let room = HousePicker.normalize(room: ctx.field("room", max: 40))
        state.values["unit"] = unit
        state.values["room"] = room
        for (field, message) in HouseStore.validate(unit: unit, room: room) { state.addError(message, for: field) }
        if state.hasErrors { return try renderNew(ctx, found, state: state, status: .unprocessableContent) }
        return try RecordResponses.perform(ctx, back: back) {
            do {
                let id = try ctx.houseStore.create(buildingID: building.id, unit: unit, room: room, principal: ctx.principal, by: ctx.actor)
                return ctx.redirect("/houses/\(id)", flash: .success("已新建房屋 \(HouseLabel.house(unit: unit, room: room))。"))
            } catch let errors as FieldErrors {
                for (field, message) in errors.errors { state.addError(message, for: field) }
                return try renderNew(ctx, found, state: state, status: .unprocessableContent)
            }
        }
    }

    /// What a block would create: counts, and the first and last rooms of each unit.
    static func preview(_ ctx: Context, building: BuildingRow, range: HouseRange) throws -> [String: Any] {
        let rooms = range.rooms
        let existing = try ctx.database.read { db in
            Set(try Row.fetchAll(db, sql: "SELECT unit, room FROM houses WHERE building_id = ?", arguments: [building.id])
                .map { "\($0["unit"] as String)/\($0["room"] as String)" })
        }
        let skipped = rooms.filter { existing.contains("\($0.unit)/\($0.room)") }.count
        var units: [[String: Any]] = []
        for unit in range.unitsFrom...range.unitsTo {
            let inUnit = rooms.filter { $0.unit == String(unit) }
            guard let first = inUnit.first, let last = inUnit.last else { continue }
            units.append(["label": HouseLabel.unit(String(unit)), "first": first.room, "last": last.room, "count": inUnit.count])
        }
        var result: [String: Any] = ["total": rooms.count, "new": rooms.count - skipped, "units": units]
        if skipped > 0 { result["skipped"] = skipped }
        return result
    }

    static func renderNew(_ ctx: Context, _ found: (BuildingRow, Place?), state: FormState, preview: [String: Any]? = nil,
                          status: HTTPStatus = .ok) throws -> HTTPResponse {
        let (building, place) = found
        var data = state.context()
        data["building"] = ["id": String(building.id), "name": building.name, "address": place?.line ?? building.name]
        data["maxHouses"] = HouseRange.maxHouses
        if let preview { data["preview"] = preview }
        let rangeErrors = rangeFields.contains { state.errors[$0] != nil }
        data["rangeHasErrors"] = rangeErrors
        return try ctx.render("houses/new", title: "添加房屋 · \(place?.short ?? building.name)", data, status: status)
    }

    // MARK: - One house

    static func show(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        guard let house = try ctx.database.read({ db in try HouseRow.find(db, id) }) else { throw HTTPError(.notFound) }
        try ctx.authorize(.viewResidents, gridPath: house.buildingPath)
        let today = ChinaDate.today(ctx.clock.now)
        let (place, rows) = try ctx.database.read { db in
            (try Place.load(db, buildingIDs: [house.buildingID])[house.buildingID],
             try Row.fetchAll(db, sql: """
                SELECT x.relation, x.started_on, x.ended_on, x.end_reason, r.id, r.name, r.sex, r.birth_date, r.id_number, r.status
                FROM residences x JOIN residents r ON r.id = x.resident_id
                WHERE x.house_id = ? ORDER BY x.ended_on IS NULL DESC, x.ended_on DESC, x.relation = 'owner' DESC, r.birth_date, x.id
                LIMIT 500
                """, arguments: [id]))
        }
        func person(_ row: Row) -> [String: Any] {
            let birth: String = row["birth_date"]
            let idNumber: String = row["id_number"]
            let ended: String? = row["ended_on"]
            return ["id": String(row["id"] as Int64), "name": row["name"] as String, "relation": Vocabulary.relationName(row["relation"]),
                    "sex": RecordLabels.sex(row["sex"]), "age": ChinaDate.age(birthDate: birth, today: today).map(String.init) ?? "",
                    "maskedID": Mask.idNumber(idNumber), "startedOn": row["started_on"] as String, "endedOn": ended ?? "",
                    "endReason": RecordLabels.endReason(row["end_reason"])]
        }
        let current = rows.filter { ($0["ended_on"] as String?) == nil }.map(person)
        let past = rows.filter { ($0["ended_on"] as String?) != nil }.map(person)
        let label = HouseLabel.house(unit: house.unit, room: house.room)
        let data: [String: Any] = [
            "house": ["id": String(house.id), "label": label, "address": (place?.line ?? house.buildingName) + " " + label,
                      "buildingID": String(house.buildingID), "buildingName": house.buildingName],
            "current": current, "hasCurrent": !current.isEmpty, "past": past, "hasPast": !past.isEmpty,
            "canManage": ctx.may(.manageResidents),
        ]
        return try ctx.render("houses/show", title: "\(place?.short ?? house.buildingName) \(label)", data)
    }
}
