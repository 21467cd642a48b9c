import Access
import AppCore
import Domain
import Foundation
import GRDB
import Storage

/// Where a building lies in the grid tree, for address lines (社区 / 小区 / 楼栋).
struct Place: Sendable {
    let buildingID: Int64
    let building: String
    let path: String
    var community: String?
    var estate: String?
    var grid: String?

    /// `示范社区 / 阳光小区 / 1号楼`.
    var line: String { [community, estate, building].compactMap { $0 }.joined(separator: " / ") }
    /// `阳光小区 1号楼`: short enough for lists.
    var short: String { [estate, building].compactMap { $0 }.joined(separator: " ") }

    /// `阳光小区 1号楼 1单元 301室`.
    func house(unit: String, room: String) -> String {
        short + " " + HouseLabel.house(unit: unit, room: room)
    }

    /// The places of `buildingIDs`, in two queries whatever their number.
    static func load(_ db: Database, buildingIDs: some Collection<Int64>) throws -> [Int64: Place] {
        let unique = Array(Set(buildingIDs))
        guard !unique.isEmpty else { return [:] }
        let buildings = try Row.fetchAll(db, sql: "SELECT id, name, path FROM grids WHERE id IN (\(marks(unique.count)))",
                                         arguments: StatementArguments(unique))
        var ancestorIDs = Set<Int64>()
        for row in buildings { ancestorIDs.formUnion(GridPath.ids(in: row["path"]).dropLast()) }
        var nodes: [Int64: (kind: String, name: String)] = [:]
        if !ancestorIDs.isEmpty {
            let ids = Array(ancestorIDs)
            for row in try Row.fetchAll(db, sql: "SELECT id, kind, name FROM grids WHERE id IN (\(marks(ids.count)))",
                                        arguments: StatementArguments(ids)) {
                nodes[row["id"]] = (row["kind"], row["name"])
            }
        }
        var places: [Int64: Place] = [:]
        for row in buildings {
            let path: String = row["path"]
            var place = Place(buildingID: row["id"], building: row["name"], path: path)
            // Nearest ancestor of each kind wins: walk from the root down.
            for id in GridPath.ids(in: path).dropLast() {
                guard let node = nodes[id] else { continue }
                switch node.kind {
                case "community": place.community = node.name
                case "estate": place.estate = node.name
                case "grid": place.grid = node.name
                default: break
                }
            }
            places[place.buildingID] = place
        }
        return places
    }
}

/// `?, ?, ?` for an IN list.
func marks(_ count: Int) -> String {
    Array(repeating: "?", count: max(1, count)).joined(separator: ", ")
}

/// The tags a form offers: every active tag, plus inactive ones the record already has.
struct TagOption: Sendable {
    let id: Int64
    let name: String
    let keyGroup: Bool
    let active: Bool

    static func load(_ db: Database, residentID: Int64?) throws -> [TagOption] {
        try Row.fetchAll(db, sql: """
            SELECT id, name, key_group, active FROM tags
            WHERE active = 1 OR id IN (SELECT tag_id FROM resident_tags WHERE resident_id IS ?)
            ORDER BY sort_order, id
            """, arguments: [residentID]).map { row in
            TagOption(id: row["id"], name: row["name"], keyGroup: (row["key_group"] as Int64? ?? 0) == 1,
                      active: (row["active"] as Int64? ?? 0) == 1)
        }
    }

    static func context(_ options: [TagOption], selected: Set<String>) -> [[String: Any]] {
        options.map { tag in
            ["value": String(tag.id), "label": tag.name, "selected": selected.contains(String(tag.id)),
             "keyGroup": tag.keyGroup, "inactive": !tag.active]
        }
    }
}

/// Chinese labels for the records' coded values.
enum RecordLabels {
    static func status(_ status: String) -> String {
        switch status {
        case "active": return "在册"
        case "moved_out": return "已迁出"
        case "merged": return "已合并"
        default: return status
        }
    }

    static func statusBadge(_ status: String) -> String {
        switch status {
        case "active": return "badge-success"
        case "moved_out": return "badge-warning"
        default: return ""
        }
    }

    static func endReason(_ reason: String?) -> String {
        switch reason {
        case "moved_out": return "迁出"
        case "moved": return "换房"
        case "merged": return "合并"
        case "corrected": return "更正"
        case nil: return ""
        case let other?: return other
        }
    }

    static func sex(_ code: String) -> String { code == "M" ? "男" : code == "F" ? "女" : code }

    static let fields: [String: String] = [
        "name": "姓名", "id_number": "身份证号", "sex": "性别", "birth_date": "出生日期", "phone": "手机号",
        "political_status": "政治面貌", "separated": "人户分离", "notes": "备注", "status": "状态",
        "merged_into_id": "合并到", "building_id": "所在楼栋", "tags": "标签", "residences": "人屋关联", "visits": "走访记录",
    ]

    /// "姓名、手机号": the snapshot fields that differ between two audit JSON objects.
    static func changedFields(before: String?, after: String?) -> String {
        func object(_ text: String?) -> [String: Any] {
            guard let data = text?.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
            return object
        }
        func canonical(_ value: Any?) -> Data {
            (try? JSONSerialization.data(withJSONObject: [value ?? NSNull()], options: [.sortedKeys])) ?? Data()
        }
        let a = object(before), b = object(after)
        guard !a.isEmpty, !b.isEmpty else { return "" }
        let keys = Set(a.keys).union(b.keys).filter { canonical(a[$0]) != canonical(b[$0]) }
        return fields.filter { keys.contains($0.key) }.map(\.value).sorted { lhs, rhs in
            (fieldOrder.firstIndex(of: lhs) ?? 99) < (fieldOrder.firstIndex(of: rhs) ?? 99)
        }.joined(separator: "、")
    }

    static let fieldOrder = ["姓名", "身份证号", "性别", "出生日期", "手机号", "政治面貌", "人户分离", "标签", "备注",
                             "人屋关联", "所在楼栋", "状态", "合并到", "走访记录"]
}

/// A building the house picker offers, grouped under its estate.
struct PickerBuilding: Sendable {
    let id: Int64
    let name: String
    let group: String
    let estateID: Int64?
}

enum PickerQueries {
    /// Beyond this many buildings in scope, the picker asks for the estate first.
    static let singleListLimit = 400

    static func countBuildings(_ db: Database, scope: Scope) throws -> Int {
        let condition = scope.condition(on: "path")
        return try Int.fetchOne(db, sql: "SELECT count(*) FROM grids WHERE kind = 'building' AND \(condition.sql)",
                                arguments: StatementArguments(condition.arguments)) ?? 0
    }

    /// Buildings in scope (under `within` when given), grouped by estate name.
    static func buildings(_ db: Database, scope: Scope, within path: String? = nil) throws -> [PickerBuilding] {
        let condition = scope.condition(on: "path")
        var sql = "SELECT id FROM grids WHERE kind = 'building' AND \(condition.sql)"
        var arguments = condition.arguments
        if let path {
            let range = GridPath.subtreeRange(of: path)
            sql += " AND path >= ? AND path < ?"
            arguments += [range.lower, range.upper]
        }
        let ids = try Int64.fetchAll(db, sql: sql + " LIMIT 5000", arguments: StatementArguments(arguments))
        let places = try Place.load(db, buildingIDs: ids)
        let estateIDs = try estateIDsByBuilding(db, places: places)
        return places.values.map { place in
            PickerBuilding(id: place.buildingID, name: place.building,
                           group: [place.community, place.estate].compactMap { $0 }.joined(separator: " / "),
                           estateID: estateIDs[place.buildingID])
        }.sorted { ($0.group, naturalKey($0.name)) < ($1.group, naturalKey($1.name)) }
    }

    static func estateIDsByBuilding(_ db: Database, places: [Int64: Place]) throws -> [Int64: Int64] {
        var ancestors = Set<Int64>()
        for place in places.values { ancestors.formUnion(GridPath.ids(in: place.path).dropLast()) }
        guard !ancestors.isEmpty else { return [:] }
        let estates = Set(try Int64.fetchAll(db, sql: "SELECT id FROM grids WHERE kind = 'estate' AND id IN (\(marks(ancestors.count)))",
                                             arguments: StatementArguments(Array(ancestors))))
        var result: [Int64: Int64] = [:]
        for place in places.values {
            if let estate = GridPath.ids(in: place.path).dropLast().last(where: estates.contains) { result[place.buildingID] = estate }
        }
        return result
    }

    /// Estates in scope (and estates containing the scope), for the first step of a large picker.
    static func estates(_ db: Database, scope: Scope) throws -> [(id: Int64, name: String, path: String)] {
        let condition = scope.condition(on: "path")
        return try Row.fetchAll(db, sql: """
            SELECT id, name, path FROM grids WHERE kind = 'estate' AND \(condition.sql) ORDER BY path LIMIT 2000
            """, arguments: StatementArguments(condition.arguments)).map { ($0["id"], $0["name"], $0["path"]) }
    }
}

/// Sorts `2号楼` before `10号楼`: digits compare as numbers.
func naturalKey(_ text: String) -> String {
    var out = ""
    var digits = ""
    func flush() {
        if !digits.isEmpty {
            out += String(repeating: "0", count: max(0, 8 - digits.count)) + digits
            digits = ""
        }
    }
    for ch in text {
        if ch.isASCII && ch.isNumber { digits.append(ch) } else { flush(); out.append(ch) }
    }
    flush()
    return out
}
