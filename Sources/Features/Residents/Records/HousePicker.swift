import Access
import AppCore
import Domain
import Foundation
import GRDB
import Storage
import Views
import Web

/// Choosing a house on the resident and move forms.
///
/// A `<select>` of every house does not work at county scale, so the form names a house either
/// by `house_id` (a hidden field when the form was opened from a house page) or by building +
/// unit + room: a `<select>` of the buildings in scope grouped by estate, then two text fields.
/// When the scope holds more than `PickerQueries.singleListLimit` buildings, a first step asks
/// for the estate (`estate_id`, a plain GET form), so the list stays short. No JavaScript.
enum HousePicker {
    static let fields = ["house_id", "building_id", "estate_id", "unit", "room"]

    /// Copies the picker's fields into `state`.
    static func keep(_ form: FormData, in state: inout FormState) {
        for name in fields { state.values[name] = String((form[name] ?? "").trimmingCharacters(in: .whitespaces).prefix(40)) }
    }

    /// `1单元` → `1`, `301室` → `301`: people type both.
    static func normalize(unit: String) -> String {
        var unit = unit.trimmingCharacters(in: .whitespaces)
        if unit.hasSuffix("单元") && unit.count > 2 { unit.removeLast(2) }
        return unit.trimmingCharacters(in: .whitespaces)
    }

    static func normalize(room: String) -> String {
        var room = room.trimmingCharacters(in: .whitespaces)
        if room.hasSuffix("室") && room.count > 1 { room.removeLast() }
        return room.trimmingCharacters(in: .whitespaces)
    }

    /// The chosen house, or nil with an error recorded on the field at fault.
    static func resolve(_ ctx: Context, state: inout FormState) throws -> Int64? {
        let scope = ctx.scope
        let houseText = state.value("house_id")
        if !houseText.isEmpty {
            guard let id = Int64(houseText), let house = try ctx.database.read({ db in try HouseRow.find(db, id) }),
                  scope.contains(house.buildingPath) else {
                state.addError("所选房屋不存在或不在您的管辖范围内", for: "house_id")
                return nil
            }
            return house.id
        }
        guard let buildingID = Int64(state.value("building_id")) else {
            state.addError("请选择楼栋", for: "building_id")
            return nil
        }
        let unit = normalize(unit: state.value("unit"))
        let room = normalize(room: state.value("room"))
        if unit.isEmpty { state.addError("请填写单元，例如 1", for: "unit") }
        if room.isEmpty { state.addError("请填写房号，例如 301", for: "room") }
        return try ctx.database.read { db -> Int64? in
            guard let building = try? BuildingRow.require(db, buildingID, in: scope) else {
                state.addError("所选楼栋不存在或不在您的管辖范围内", for: "building_id")
                return nil
            }
            guard !unit.isEmpty, !room.isEmpty else { return nil }
            if let id = try Int64.fetchOne(db, sql: "SELECT id FROM houses WHERE building_id = ? AND unit = ? AND room = ?",
                                           arguments: [buildingID, unit, room]) {
                return id
            }
            state.addError("\(building.name)还没有登记\(HouseLabel.house(unit: unit, room: room))，请核对或先添加该房屋", for: "room")
            return nil
        }
    }

    /// The picker's part of the form context.
    static func context(_ ctx: Context, state: FormState) throws -> [String: Any] {
        let scope = ctx.scope
        return try ctx.database.read { db in
            var data: [String: Any] = [:]
            if let id = Int64(state.value("house_id")), let house = try HouseRow.find(db, id), scope.contains(house.buildingPath) {
                let place = try Place.load(db, buildingIDs: [house.buildingID])[house.buildingID]
                data["pickedHouse"] = [
                    "id": String(id),
                    "address": place.map { $0.line + " " + HouseLabel.house(unit: house.unit, room: house.room) } ?? "",
                ]
                return data
            }
            var within: String?
            if try PickerQueries.countBuildings(db, scope: scope) > PickerQueries.singleListLimit {
                let estates = try PickerQueries.estates(db, scope: scope)
                if !estates.isEmpty {
                    let chosen = estates.first { String($0.id) == state.value("estate_id") }
                    data["largeScope"] = true
                    data["estateOptions"] = estates.map { ["value": String($0.id), "label": $0.name, "selected": $0.id == chosen?.id] }
                    guard let chosen else {
                        data["needEstate"] = true
                        return data
                    }
                    data["estateName"] = chosen.name
                    data["estateID"] = String(chosen.id)
                    within = chosen.path
                }
            }
            let buildings = try PickerQueries.buildings(db, scope: scope, within: within)
            var groups: [[String: Any]] = []
            var current: (label: String, options: [[String: Any]])?
            for building in buildings {
                let option: [String: Any] = ["value": String(building.id), "label": building.name,
                                             "selected": String(building.id) == state.value("building_id")]
                if current?.label == building.group {
                    current?.options.append(option)
                } else {
                    if let current { groups.append(["label": current.label, "options": current.options]) }
                    current = (building.group, [option])
                }
            }
            if let current { groups.append(["label": current.label, "options": current.options]) }
            data["buildingGroups"] = groups
            data["hasBuildings"] = !buildings.isEmpty
            if let id = Int64(state.value("building_id")), state.errors["room"] != nil,
               buildings.contains(where: { $0.id == id }) {
                let query = FormData.encode([("unit", normalize(unit: state.value("unit"))), ("room", normalize(room: state.value("room")))])
                data["addHouseURL"] = "/buildings/\(id)/houses/new?\(query)"
            }
            return data
        }
    }
}
