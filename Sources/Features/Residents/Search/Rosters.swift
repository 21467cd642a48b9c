import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// Printable rosters 一小区一表 (`/rosters/estate/:id`) and 一社区一册
/// (`/rosters/community/:id`): the active residents of an estate grouped by building, unit and
/// room, ID numbers and phones masked, laid out for A4 by the print rules of app.css.
///
/// A community's book can run to tens of thousands of rows, so it is streamed one estate at
/// a time: each estate is read in its own transaction and rendered on its own.
enum Rosters {
    struct Node {
        let id: Int64
        let name: String
        let path: String
    }

    static func estate(_ ctx: Context) throws -> HTTPResponse {
        let estate = try node(ctx, kind: "estate")
        let today = ChinaDay.of(ctx.clock.now)
        let section = try ctx.database.read { db in try Self.section(db, estate: estate, today: today) }
        let context: [String: Any] = [
            "title": "\(estate.name) 居民花名册",
            "communityName": section["communityName"] ?? "",
            "estateName": estate.name,
            "printDate": today.chinese,
            "section": section,
        ]
        let html = try ctx.env.templates.renderBytes(context, template: "rosters/estate")
        return HTTPResponse(status: .ok, contentType: "text/html; charset=utf-8", body: html)
    }

    static func community(_ ctx: Context) throws -> HTTPResponse {
        let community = try node(ctx, kind: "community")
        let today = ChinaDay.of(ctx.clock.now)
        let range = GridPath.subtreeRange(of: community.path)
        let estates = try ctx.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, name, path FROM grids WHERE path >= ? AND path < ? AND kind = 'estate'
                ORDER BY CAST(name AS INTEGER), name, id
                """, arguments: [range.lower, range.upper]).map { Node(id: $0["id"], name: $0["name"], path: $0["path"]) }
        }
        let templates = ctx.env.templates
        let database = ctx.database
        let start: [String: Any] = [
            "title": "\(community.name) 居民花名册",
            "communityName": community.name,
            "printDate": today.chinese,
            "estates": estates.map { ["name": $0.name] },
            "estateCount": estates.count,
            "hasEstates": !estates.isEmpty,
        ]
        let opening = try templates.renderBytes(["start": start], template: "rosters/community")
        return HTTPResponse(status: .ok, headers: HTTPHeaders([("Content-Type", "text/html; charset=utf-8")]), body: .stream { writer in
            try writer.write(opening)
            for estate in estates {
                let section = try database.read { db in try Self.section(db, estate: estate, today: today) }
                try writer.write(templates.renderBytes(["section": section], template: "rosters/community"))
            }
            try writer.write(templates.renderBytes(["finish": ["printDate": today.chinese]], template: "rosters/community"))
        })
    }

    /// The grid node of the route's id, of `kind`, inside the account's scope; 404 otherwise.
    static func node(_ ctx: Context, kind: String) throws -> Node {
        let id = try ctx.request.id()
        let row = try ctx.database.read { db in
            try Row.fetchOne(db, sql: "SELECT id, name, path FROM grids WHERE id = ? AND kind = ?", arguments: [id, kind])
        }
        guard let row else { throw HTTPError(.notFound) }
        let node = Node(id: row["id"], name: row["name"], path: row["path"])
        try ctx.authorize(.viewResidents, gridPath: node.path)
        return node
    }

    /// The current residences of the buildings in a path range, with their residents. CROSS JOIN
    /// fixes the order (SQLite's hint): from the estate's buildings down, never from a scan of
    /// every current residence in the county.
    static let currentResidents = """
        FROM grids b
        CROSS JOIN houses h ON h.building_id = b.id
        CROSS JOIN residences x ON x.house_id = h.id AND x.ended_on IS NULL
        CROSS JOIN residents r ON r.id = x.resident_id AND r.status = 'active'
        WHERE b.path >= ? AND b.path < ? AND b.kind = 'building'
        """

    /// One estate's table: buildings in natural order ("2号楼" before "10号楼"), then units and
    /// rooms, owners first within a room.
    static func section(_ db: Database, estate: Node, today: ChinaDay) throws -> [String: Any] {
        let range = GridPath.subtreeRange(of: estate.path)
        let ancestors = GridPath.ids(in: estate.path)
        let community = try String.fetchOne(db, sql: """
            SELECT name FROM grids WHERE id IN (\(ResidentDetails.placeholders(ancestors.count))) AND kind = 'community'
            ORDER BY depth DESC LIMIT 1
            """, arguments: StatementArguments(ancestors)) ?? ""
        var tagsByResident: [Int64: [String]] = [:]
        let tagRows = try Row.fetchCursor(db, sql: """
            SELECT rt.resident_id, t.name FROM tags t JOIN resident_tags rt ON rt.tag_id = t.id
            WHERE rt.resident_id IN (SELECT x.resident_id \(Self.currentResidents))
            ORDER BY t.sort_order, t.id
            """, arguments: [range.lower, range.upper])
        while let row = try tagRows.next() {
            tagsByResident[row["resident_id"], default: []].append(row["name"])
        }

        let rows = try Row.fetchCursor(db, sql: """
            SELECT b.id AS building_id, b.name AS building, h.id AS house_id, h.unit, h.room, x.relation,
                   r.id, r.name, r.sex, r.birth_date, r.id_number, r.phone, r.political_status
            \(Self.currentResidents)
            ORDER BY CAST(b.name AS INTEGER), b.name, b.id, CAST(h.unit AS INTEGER), h.unit,
                     CAST(h.room AS INTEGER), h.room, x.relation <> 'owner', r.id
            """, arguments: [range.lower, range.upper])
        var buildings: [[String: Any]] = []
        var currentBuilding: Int64?
        var buildingRows: [[String: Any]] = []
        var buildingName = ""
        var buildingHouses = Set<Int64>()
        var lastHouse: Int64?
        var households = 0
        var people = 0
        func closeBuilding() {
            guard currentBuilding != nil else { return }
            buildings.append(["name": buildingName, "households": buildingHouses.count, "people": buildingRows.count,
                              "rows": buildingRows])
            households += buildingHouses.count
            people += buildingRows.count
        }
        while let row = try rows.next() {
            let buildingID: Int64 = row["building_id"]
            if buildingID != currentBuilding {
                closeBuilding()
                currentBuilding = buildingID
                buildingName = row["building"]
                buildingRows = []
                buildingHouses = []
                lastHouse = nil
            }
            let houseID: Int64 = row["house_id"]
            let firstInHouse = houseID != lastHouse
            lastHouse = houseID
            buildingHouses.insert(houseID)
            let residentID: Int64 = row["id"]
            let birthDate: String = row["birth_date"]
            buildingRows.append([
                "unit": firstInHouse ? HouseAddress.unitLabel(row["unit"]) : "",
                "room": firstInHouse ? HouseAddress.roomLabel(row["room"]) : "",
                "firstInHouse": firstInHouse,
                "name": row["name"] as String,
                "sex": ResidentListPage.sexLabel(row["sex"]),
                "age": ResidentAge.years(birthDate: birthDate, on: today).map(String.init) ?? "",
                "idNumber": Mask.idNumber(row["id_number"]),
                "phone": Mask.phone(row["phone"]),
                "relation": Vocabulary.relationName(row["relation"]),
                "political": Vocabulary.politicalStatusName(row["political_status"]),
                "tags": (tagsByResident[residentID] ?? []).joined(separator: "、"),
            ])
        }
        closeBuilding()
        return [
            "estateName": estate.name,
            "communityName": community,
            "households": households,
            "people": people,
            "buildings": buildings,
        ]
    }
}
