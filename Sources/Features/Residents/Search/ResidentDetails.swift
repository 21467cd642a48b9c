import Domain
import Foundation
import GRDB

/// A resident as the list, the export and the rosters show them.
struct ResidentListing: Sendable {
    struct Residence: Sendable {
        let relation: String
        let community: String?
        let estate: String?
        let building: String
        let unit: String
        let room: String
        let current: Bool

        var addressLine: String {
            HouseAddress.line(community: community, estate: estate, building: building, unit: unit, room: room)
        }
    }

    let id: Int64
    let name: String
    let idNumber: String
    let sex: String
    let birthDate: String
    let phone: String?
    let politicalStatus: String
    let status: String
    let notes: String
    /// Current residences; for someone who moved out, the last one (not current).
    var residences: [Residence] = []
    var tags: [String] = []
}

/// Batched detail queries for a set of resident ids: one statement each for the people, their
/// residences, the buildings of those (with their estate and community), and their tags.
enum ResidentDetails {
    /// The community and estate of a building are its nearest ancestors of those kinds. The tree
    /// has 3 to 5 levels, so a building has at most four ancestors: four joins on the primary key.
    static let ancestorJoins = """
        LEFT JOIN grids g1 ON g1.id = b.parent_id
        LEFT JOIN grids g2 ON g2.id = g1.parent_id
        LEFT JOIN grids g3 ON g3.id = g2.parent_id
        LEFT JOIN grids g4 ON g4.id = g3.parent_id
        """

    static func nearestAncestor(_ kind: String) -> String {
        "COALESCE(" + ["g1", "g2", "g3", "g4"].map { "CASE \($0).kind WHEN '\(kind)' THEN \($0).name END" }
            .joined(separator: ", ") + ")"
    }

    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ",")
    }

    static let paddedLengths = [10, 50, 200, 1_000]

    /// `ids` padded with its last one to the next of `paddedLengths`, and the matching `?`s, so
    /// that the statements come in a few shapes that stay prepared in each connection's cache;
    /// nil when there are none or more than the longest length.
    static func padded(_ ids: [Int64]) -> (marks: String, arguments: StatementArguments)? {
        guard let last = ids.last, let length = paddedLengths.first(where: { $0 >= ids.count }) else { return nil }
        return (placeholders(length), StatementArguments(ids + Array(repeating: last, count: length - ids.count)))
    }

    /// Name, estate and community of each building.
    static func places(_ db: Database, buildings: [Int64]) throws -> [Int64: (building: String, estate: String?, community: String?)] {
        var places: [Int64: (building: String, estate: String?, community: String?)] = [:]
        for chunk in buildings.chunked(paddedLengths[paddedLengths.count - 1]) {
            guard let (marks, arguments) = padded(Array(chunk)) else { continue }
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT b.id, b.name, \(nearestAncestor("estate")), \(nearestAncestor("community"))
                FROM grids b
                \(ancestorJoins)
                WHERE b.id IN (\(marks))
                """), arguments: arguments)
            while let row = try rows.next() {
                places[row[0]] = (row[1], row[2], row[3])
            }
        }
        return places
    }

    /// The residents with these ids, in the order given.
    static func fetch(_ db: Database, ids: [Int64]) throws -> [ResidentListing] {
        guard !ids.isEmpty else { return [] }
        guard let (marks, arguments) = padded(ids) else {
            return try ids.chunked(paddedLengths[paddedLengths.count - 1]).flatMap { try fetch(db, ids: Array($0)) }
        }
        // The listings in the order found, and where each id's is (appending to a listing in
        // place instead of copying it out of a dictionary and back).
        var listings: [ResidentListing] = []
        listings.reserveCapacity(ids.count)
        var position: [Int64: Int] = [:]
        position.reserveCapacity(ids.count)
        // Cached statements: preparing the residences join costs more than running it.
        let people = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT id, name, id_number, sex, birth_date, phone, political_status, status, notes
            FROM residents WHERE id IN (\(marks))
            """), arguments: arguments)
        // Columns by position: a name look-up compares every column name, case-insensitively.
        while let row = try people.next() {
            let id: Int64 = row[0]
            position[id] = listings.count
            listings.append(ResidentListing(
                id: id, name: row[1], idNumber: row[2], sex: row[3], birthDate: row[4],
                phone: row[5], politicalStatus: row[6], status: row[7], notes: row[8]))
        }
        // Current residences first, then the ended ones newest first: a resident without a
        // current one is shown at the last. The buildings' places are read once for the page
        // (a page's residents live in a few buildings; joining four ancestors per row cost more
        // than the rest of the page's statements together).
        let residences = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT x.resident_id, x.relation, x.ended_on, h.unit, h.room, h.building_id
            FROM residences x
            JOIN houses h ON h.id = x.house_id
            WHERE x.resident_id IN (\(marks))
            ORDER BY x.resident_id, x.ended_on IS NOT NULL, x.ended_on DESC, x.id
            """), arguments: arguments)
        var shown: [(id: Int64, relation: String, unit: String, room: String, building: Int64, current: Bool)] = []
        var lastID: Int64?
        while let row = try residences.next() {
            let id: Int64 = row[0]
            let current = (row[2] as String?) == nil
            if !current && lastID == id { continue }
            lastID = id
            shown.append((id, row[1], row[3], row[4], row[5], current))
        }
        var buildings: [Int64] = []
        for residence in shown where !buildings.contains(residence.building) { buildings.append(residence.building) }
        let places = try places(db, buildings: buildings)
        for residence in shown {
            guard let place = places[residence.building], let index = position[residence.id] else { continue }
            listings[index].residences.append(ResidentListing.Residence(
                relation: residence.relation, community: place.community, estate: place.estate, building: place.building,
                unit: residence.unit, room: residence.room, current: residence.current))
        }
        let tags = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT rt.resident_id, t.name FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id
            WHERE rt.resident_id IN (\(marks)) ORDER BY rt.resident_id, t.sort_order, t.id
            """), arguments: arguments)
        while let row = try tags.next() {
            let id: Int64 = row[0]
            if let index = position[id] { listings[index].tags.append(row[1]) }
        }
        return ids.compactMap { position[$0].map { listings[$0] } }
    }
}
