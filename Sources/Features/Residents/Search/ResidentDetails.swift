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
/// residences with the address from the grid tree, and their tags.
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

    /// The residents with these ids, in the order given.
    static func fetch(_ db: Database, ids: [Int64]) throws -> [ResidentListing] {
        guard let last = ids.last else { return [] }
        guard let length = paddedLengths.first(where: { $0 >= ids.count }) else {
            let chunk = paddedLengths[paddedLengths.count - 1]
            return try stride(from: 0, to: ids.count, by: chunk).flatMap { try fetch(db, ids: Array(ids[$0..<min($0 + chunk, ids.count)])) }
        }
        // The id list is padded (with its last id) to one of a few lengths, so that the
        // statements below come in a few shapes that stay prepared in each connection's cache.
        let marks = placeholders(length)
        let arguments = StatementArguments(ids + Array(repeating: last, count: length - ids.count))
        var byID: [Int64: ResidentListing] = [:]
        // Cached statements: preparing the residences join costs more than running it.
        let people = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT id, name, id_number, sex, birth_date, phone, political_status, status, notes
            FROM residents WHERE id IN (\(marks))
            """), arguments: arguments)
        // Columns by position: a name look-up compares every column name, case-insensitively.
        while let row = try people.next() {
            let id: Int64 = row[0]
            byID[id] = ResidentListing(
                id: id, name: row[1], idNumber: row[2], sex: row[3], birthDate: row[4],
                phone: row[5], politicalStatus: row[6], status: row[7], notes: row[8])
        }
        // Current residences first, then the ended ones newest first: a resident without a
        // current one is shown at the last.
        let residences = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT x.resident_id, x.relation, x.ended_on, h.unit, h.room, b.name AS building,
                   \(nearestAncestor("estate")) AS estate, \(nearestAncestor("community")) AS community
            FROM residences x
            JOIN houses h ON h.id = x.house_id
            JOIN grids b ON b.id = h.building_id
            \(ancestorJoins)
            WHERE x.resident_id IN (\(marks))
            ORDER BY x.resident_id, x.ended_on IS NOT NULL, x.ended_on DESC, x.id
            """), arguments: arguments)
        while let row = try residences.next() {
            let id: Int64 = row[0]
            guard var listing = byID[id] else { continue }
            let current = (row[2] as String?) == nil
            if !current && !listing.residences.isEmpty { continue }
            listing.residences.append(ResidentListing.Residence(
                relation: row[1], community: row[7], estate: row[6], building: row[5], unit: row[3], room: row[4], current: current))
            byID[id] = listing
        }
        let tags = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT rt.resident_id, t.name FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id
            WHERE rt.resident_id IN (\(marks)) ORDER BY rt.resident_id, t.sort_order, t.id
            """), arguments: arguments)
        while let row = try tags.next() {
            let id: Int64 = row[0]
            byID[id]?.tags.append(row[1])
        }
        return ids.compactMap { byID[$0] }
    }
}
