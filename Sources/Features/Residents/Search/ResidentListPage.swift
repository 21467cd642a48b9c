import Access
import AppCore
import Domain
import Foundation
import GRDB
import Storage
import Views

/// What the list template renders.
enum ResidentListPage {
    static func sexLabel(_ code: String) -> String { code == "M" ? "男" : code == "F" ? "女" : "" }

    /// One address of a row: the line, the relation, whether it is the current one.
    final class AddressRow: TemplateRecord {
        let line: String
        let relation: String
        let current: Bool

        init(line: String, relation: String, current: Bool) {
            self.line = line
            self.relation = relation
            self.current = current
        }

        func templateValue(named key: String) -> Any? {
            switch key {
            case "line": line
            case "relation": relation
            case "current": current
            default: nil
            }
        }
    }

    /// One row of the list as the template reads it.
    final class ListRow: TemplateRecord {
        let id: Int64
        let name: String
        let sex: String
        let age: String
        let idNumber: String
        let phone: String
        let hasPhone: Bool
        let addresses: [any TemplateRecord]
        let tags: [String]
        let political: String
        let isParty: Bool
        let movedOut: Bool

        init(id: Int64, name: String, sex: String, age: String, idNumber: String, phone: String, hasPhone: Bool,
             addresses: [any TemplateRecord], tags: [String], political: String, isParty: Bool, movedOut: Bool) {
            self.id = id
            self.name = name
            self.sex = sex
            self.age = age
            self.idNumber = idNumber
            self.phone = phone
            self.hasPhone = hasPhone
            self.addresses = addresses
            self.tags = tags
            self.political = political
            self.isParty = isParty
            self.movedOut = movedOut
        }

        func templateValue(named key: String) -> Any? {
            switch key {
            case "id": id
            case "name": name
            case "sex": sex
            case "age": age
            case "idNumber": idNumber
            case "phone": phone
            case "hasPhone": hasPhone
            case "addresses": addresses
            case "tags": tags
            case "political": political
            case "isParty": isParty
            case "movedOut": movedOut
            default: nil
            }
        }
    }

    static func row(_ resident: ResidentListing, today: ChinaDay) -> ListRow {
        ListRow(id: resident.id,
            name: resident.name,
            sex: sexLabel(resident.sex),
            age: ResidentAge.years(birthDate: resident.birthDate, on: today).map(String.init) ?? "",
            idNumber: Mask.idNumber(resident.idNumber),
            phone: Mask.phone(resident.phone),
            hasPhone: resident.phone != nil,
            addresses: resident.residences.map {
                AddressRow(line: $0.addressLine, relation: Vocabulary.relationName($0.relation), current: $0.current)
            },
            tags: resident.tags,
            political: Vocabulary.politicalStatusName(resident.politicalStatus),
            isParty: resident.politicalStatus == "01" || resident.politicalStatus == "02",
            movedOut: resident.status == "moved_out")
    }

    /// Up to this many nodes in the scope, the grid filter lists them all, buildings included.
    static let fullGridListLimit = 40

    /// Grid nodes of the scope for the filter. A small scope (a grid worker's few buildings) is
    /// listed whole; a larger one only down to the grids, since a select of a hundred buildings
    /// is of no use on a phone: a building is found with the search box ("3号楼") or from its
    /// own page, and a building named by the link stays in the list, selected.
    static func gridOptions(_ db: Database, scopePath: String?, selected: Int64?) throws -> [any TemplateRecord] {
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
            return ChoiceOption(value: String(id), label: indent + name + "（" + kind + "）", selected: id == selected)
        }
    }

    static func tagOptions(_ db: Database, selected: Int64?) throws -> [any TemplateRecord] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT id, name FROM tags WHERE active = 1 OR id = ? ORDER BY sort_order, id"),
                         arguments: [selected]).map { row in
            let id: Int64 = row["id"]
            return ChoiceOption(value: String(id), label: row["name"] as String, selected: id == selected)
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
