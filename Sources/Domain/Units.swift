import GRDB

/// The kinds of units 职能部门, stored as their raw value (`units.kind`).
public enum UnitKind: String, Sendable, CaseIterable {
    case community, property, town, streetOffice = "street_office", countyDept = "county_dept", other

    public var label: String {
        switch self {
        case .community: "社区"
        case .property: "物业公司"
        case .town: "镇街"
        case .streetOffice: "街道科室"
        case .countyDept: "县直部门"
        case .other: "其他单位"
        }
    }
}

/// A unit of the unit tree (`units`): the scope of a unit handler and where cases are assigned.
public struct Unit: Sendable, Hashable {
    public let id: Int64
    public let parentID: Int64?
    public let name: String
    public let kind: UnitKind
    public let path: String
    public let active: Bool

    /// Levels below the root (a root is 0).
    public var depth: Int { max(0, path.split(separator: "/").count - 1) }

    init(row: Row) {
        id = row["id"]
        parentID = row["parent_id"]
        name = row["name"]
        kind = UnitKind(rawValue: row["kind"] as String? ?? "") ?? .other
        path = row["path"]
        active = (row["active"] as Int64? ?? 1) == 1
    }
}

/// Reading the unit tree. Several modules need it (accounts choose a handler's unit, cases are
/// assigned to one); the cases module writes it.
public enum Units {
    public static func all(_ db: Database, activeOnly: Bool = false) throws -> [Unit] {
        try Row.fetchAll(db, sql: "SELECT id, parent_id, name, kind, path, active FROM units \(activeOnly ? "WHERE active = 1" : "") ORDER BY path")
            .map(Unit.init(row:))
    }

    public static func find(_ db: Database, _ id: Int64) throws -> Unit? {
        try Row.fetchOne(db, sql: "SELECT id, parent_id, name, kind, path, active FROM units WHERE id = ?", arguments: [id])
            .map(Unit.init(row:))
    }

    /// The tree as indented choices for a `<select>` (`　└ 城管科（街道科室）`).
    public static func choices(_ units: [Unit]) -> [(value: String, label: String)] {
        units.map { unit in
            let indent = String(repeating: "　", count: unit.depth) + (unit.depth > 0 ? "└ " : "")
            return (String(unit.id), indent + unit.name + "（\(unit.kind.label)）")
        }
    }
}
