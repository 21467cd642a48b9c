import Access
import AppCore
import Foundation
import GRDB
import Storage
import Views

/// The dictionaries the list template renders.
enum ResidentListPage {
    static func sexLabel(_ code: String) -> String { code == "M" ? "男" : code == "F" ? "女" : "" }

    static func row(_ resident: ResidentListing, today: ChinaDay) -> [String: Any] {
        let addresses: [[String: Any]] = resident.residences.map {
            ["line": $0.addressLine, "relation": Vocabulary.relationName($0.relation), "current": $0.current]
        }
        return [
            "id": resident.id,
            "name": resident.name,
            "sex": sexLabel(resident.sex),
            "age": ResidentAge.years(birthDate: resident.birthDate, on: today).map(String.init) ?? "",
            "idNumber": Mask.idNumber(resident.idNumber),
            "phone": Mask.phone(resident.phone),
            "hasPhone": resident.phone != nil,
            "addresses": addresses,
            "tags": resident.tags,
            "political": Vocabulary.politicalStatusName(resident.politicalStatus),
            "isParty": resident.politicalStatus == "01" || resident.politicalStatus == "02",
            "movedOut": resident.status == "moved_out",
        ]
    }

    /// Up to this many nodes in the scope, the grid filter lists them all, buildings included.
    static let fullGridListLimit = 40

    /// Grid nodes of the scope for the filter. A small scope (a grid worker's few buildings) is
    /// listed whole; a larger one only down to the grids, since a select of a hundred buildings
    /// is of no use on a phone: a building is found with the search box ("3号楼") or from its
    /// own page, and a building named by the link stays in the list, selected.
    static func gridOptions(_ db: Database, scopePath: String?, selected: Int64?) throws -> [[String: Any]] {
        var condition = SQLPart("1")
        if let scopePath {
            let range = GridPath.subtreeRange(of: scopePath)
            condition = SQLPart("path >= ? AND path < ?", [range.lower, range.upper])
        }
        // Counted on the path index alone (no row is read), then only the rows shown are fetched.
        let nodes = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM (SELECT 1 FROM grids WHERE \(condition.sql) LIMIT ?)"),
                                     arguments: StatementArguments(condition.arguments + [fullGridListLimit + 1])) ?? 0
        let columns = "SELECT id, name, kind, depth FROM grids WHERE \(condition.sql)"
        let rows = nodes > fullGridListLimit
            ? try Row.fetchAll(db.cachedStatement(sql: columns + " AND (kind <> 'building' OR id = ?) ORDER BY path LIMIT 300"),
                               arguments: StatementArguments(condition.arguments + [selected.databaseValue]))
            : try Row.fetchAll(db.cachedStatement(sql: columns + " ORDER BY path"), arguments: condition.statementArguments)
        // Columns by position (id, name, kind, depth): a name look-up compares every column name.
        let baseDepth = rows.map { $0[3] as Int }.min() ?? 0
        return rows.map { row in
            let id: Int64 = row[0]
            let name: String = row[1]
            let kind = GridKind(rawValue: row[2] as String)?.label ?? ""
            let indent = String(repeating: "　", count: max(0, (row[3] as Int) - baseDepth))
            return ["value": String(id), "label": indent + name + "（" + kind + "）", "selected": id == selected]
        }
    }

    static func tagOptions(_ db: Database, selected: Int64?) throws -> [[String: Any]] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT id, name FROM tags WHERE active = 1 OR id = ? ORDER BY sort_order, id"),
                         arguments: [selected]).map { row in
            let id: Int64 = row["id"]
            return ["value": String(id), "label": row["name"] as String, "selected": id == selected]
        }
    }

    static func staticOptions(_ filter: ResidentFilter) -> [String: Any] {
        [
            "ageOptions": FormState.options(AgeBand.standard, selected: filter.ageBand?.parameter),
            "relationOptions": FormState.options(Vocabulary.relations.map { ($0.code, $0.name) }, selected: filter.relation),
            "politicalOptions": FormState.options(Vocabulary.politicalStatuses.map { ($0.code, $0.name) },
                                                  selected: filter.politicalStatus),
            "statusOptions": FormState.options(ResidentFilter.Status.allCases.map { ($0.rawValue, $0.label) },
                                               selected: filter.status.rawValue),
            "sortOptions": FormState.options(ResidentFilter.Sort.allCases.map { ($0.rawValue, $0.label) },
                                             selected: filter.sort.rawValue),
        ]
    }
}
