import Access
import AppCore
import Domain
import Foundation
import GRDB
import Web

/// The member list's filters, read from the query string (unknown values are dropped).
struct MemberFilter: Sendable, Equatable {
    var q = ""
    var branchID: Int64?
    var gridID: Int64?
    var category: String?
    /// "yes": this year's 双报到 confirmed; "no": not confirmed; "pending": waiting for staff.
    var reported: String?
    var membership = "active"
    var page = 1

    init() {}

    init(query: FormData) {
        q = String((query["q"] ?? "").trimmingCharacters(in: .whitespaces).prefix(30))
        branchID = query["branch"].flatMap(canonicalID)
        gridID = query["grid"].flatMap(canonicalID)
        if let value = query["category"], MemberVocabulary.contains(value, in: MemberVocabulary.categories) { category = value }
        if let value = query["reported"], ["yes", "no", "pending"].contains(value) { reported = value }
        if let value = query["membership"], ["active", "transferred_out", "all"].contains(value) { membership = value }
        page = query["page"].flatMap { Int($0) }.map { min(max($0, 1), 100_000) } ?? 1
    }

    var queryItems: [(name: String, value: String)] {
        var items: [(name: String, value: String)] = []
        if !q.isEmpty { items.append(("q", q)) }
        if let branchID { items.append(("branch", String(branchID))) }
        if let gridID { items.append(("grid", String(gridID))) }
        if let category { items.append(("category", category)) }
        if let reported { items.append(("reported", reported)) }
        if membership != "active" { items.append(("membership", membership)) }
        return items
    }

    var isFiltered: Bool { !queryItems.isEmpty }
}

/// The member list's SQL: scope, filters and search over `party_members m JOIN grids g`.
struct MemberQuery {
    let filter: MemberFilter
    let scope: Scope
    let year: Int
    /// The search word that names a number, if any (see `NumberQuery`).
    let number: NumberQuery

    init(filter: MemberFilter, scope: Scope, year: Int) {
        self.filter = filter
        self.scope = scope
        self.year = year
        number = filter.q.split(separator: " ").map { NumberQuery.classify(String($0)) }.first { $0 != .none } ?? .none
    }

    var condition: (sql: String, arguments: [any DatabaseValueConvertible]) {
        var parts: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        let scoped = scope.condition(on: "g.path")
        parts.append(scoped.sql)
        arguments += scoped.arguments
        if filter.membership != "all" {
            parts.append("m.membership = ?")
            arguments.append(filter.membership)
        }
        if let branchID = filter.branchID {
            parts.append("m.branch_id IN (SELECT id FROM branches WHERE path >= (SELECT path FROM branches WHERE id = ?) AND path < (SELECT path FROM branches WHERE id = ?) || '~')")
            arguments += [branchID, branchID]
        }
        if let gridID = filter.gridID {
            parts.append("(g.path >= (SELECT path FROM grids WHERE id = ?) AND g.path < (SELECT path FROM grids WHERE id = ?) || '~')")
            arguments += [gridID, gridID]
        }
        if let category = filter.category {
            parts.append("m.category = ?")
            arguments.append(category)
        }
        switch filter.reported {
        case "yes":
            parts.append("EXISTS (SELECT 1 FROM member_reports x WHERE x.member_id = m.id AND x.year = ? AND x.status = 'confirmed')")
            arguments.append(year)
        case "pending":
            parts.append("EXISTS (SELECT 1 FROM member_reports x WHERE x.member_id = m.id AND x.year = ? AND x.status = 'submitted')")
            arguments.append(year)
        case "no":
            parts.append("NOT EXISTS (SELECT 1 FROM member_reports x WHERE x.member_id = m.id AND x.year = ? AND x.status = 'confirmed')")
            arguments.append(year)
        default: break
        }
        for word in filter.q.split(separator: " ").map(String.init) {
            switch NumberQuery.classify(word) {
            case .visibleTail(let tail), .fullIDNumber(let tail):
                let key = TailKey.of(tail.uppercased())
                parts.append("m.resident_id IN (SELECT id FROM residents WHERE id_number_rev >= ? AND id_number_rev < ?)")
                arguments += [key, key + "~"]
            case .fullPhone(let phone):
                parts.append("m.resident_id IN (SELECT id FROM residents WHERE phone = ?)")
                arguments.append(phone)
            case .partial:
                parts.append("0")
            case .none:
                // A whole county scans the name index once; a smaller scope looks up its own members'
                // names one by one (about a thousand in a community), not all eighty thousand.
                parts.append(scope.path == nil
                    ? "m.id IN (SELECT member_id FROM member_names WHERE name LIKE ? ESCAPE '\\')"
                    : "EXISTS (SELECT 1 FROM member_names n WHERE n.member_id = m.id AND n.name LIKE ? ESCAPE '\\')")
                arguments.append("%" + likeEscaped(word) + "%")
            }
        }
        return (parts.joined(separator: " AND "), arguments)
    }

    /// The grid node is joined only when the scope or a grid filter asks for its path; then the
    /// scope's nodes lead (CROSS JOIN keeps that order), so a page of a community's members with
    /// few matches does not walk the whole county's members in id order.
    var from: String {
        scope.path == nil && !scope.isNothing && filter.gridID == nil
            ? "FROM party_members m" : "FROM grids g CROSS JOIN party_members m ON m.grid_id = g.id"
    }

    func count(_ db: Database) throws -> Int {
        let c = condition
        return try Int.fetchOne(db, sql: "SELECT count(*) \(from) WHERE \(c.sql)", arguments: StatementArguments(c.arguments)) ?? 0
    }

    func ids(_ db: Database, limit: Int, offset: Int) throws -> [Int64] {
        let c = condition
        return try Int64.fetchAll(db, sql: "SELECT m.id \(from) WHERE \(c.sql) ORDER BY m.id DESC LIMIT ? OFFSET ?",
                                  arguments: StatementArguments(c.arguments + [limit, offset]))
    }

    /// Rows for `ids`, in the order given.
    static func rows(_ db: Database, ids: [Int64]) throws -> [MemberRow] {
        guard !ids.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
        let rows = try Row.fetchAll(db, sql: MemberRow.selectSQL + " WHERE m.id IN (\(marks))", arguments: StatementArguments(ids))
            .map(MemberRow.init(row:))
        let byID = Dictionary(rows.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return ids.compactMap { byID[$0] }
    }

    /// This year's report status per member id.
    static func reportStatuses(_ db: Database, ids: [Int64], year: Int) throws -> [Int64: String] {
        guard !ids.isEmpty else { return [:] }
        let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
        let rows = try Row.fetchAll(db, sql: "SELECT member_id, status FROM member_reports WHERE year = ? AND member_id IN (\(marks))",
                                    arguments: StatementArguments([year] + ids))
        return Dictionary(rows.map { ($0["member_id"], $0["status"]) }, uniquingKeysWith: { a, _ in a })
    }
}
