import Access
import Domain
import Foundation
import Storage
import Views

/// Builders of the `[String: Any]` dictionaries the grid templates render.
enum GridViews {
    /// Full-width spaces indent a tree level in text, so no inline style (forbidden by the
    /// CSP) and no extra CSS are needed; HTML does not collapse U+3000.
    static func indent(_ level: Int) -> String {
        level > 0 ? String(repeating: "\u{3000}", count: level - 1) + "\u{3000}└ " : ""
    }

    static func badgeClass(_ kind: GridKind) -> String {
        switch kind {
        case .community: "badge-party"
        case .estate: "badge-info"
        case .grid: "badge-success"
        case .building: ""
        }
    }

    static func row(_ row: GridListRow, level: Int = 0, trail: String = "") -> [String: Any] {
        [
            "id": row.id,
            "name": row.name,
            "indent": indent(level),
            "kind": row.kind.rawValue,
            "kindLabel": row.kind.label,
            "kindBadge": badgeClass(row.kind),
            "code": row.code,
            "childCount": row.childCount,
            "workerCount": row.workerCount,
            "trail": trail,
            "hasTrail": !trail.isEmpty,
            "isBuilding": row.kind == .building,
        ]
    }

    /// `<select>` options for the kind field.
    static func kindOptions(selected: String) -> [any TemplateRecord] {
        FormState.options(GridKind.allCases.map { ($0.rawValue, $0.label) }, selected: selected)
    }

    /// `<select>` options for a parent field, as an indented tree.
    static func parentOptions(_ nodes: [GridOptionRow], selected: String) -> [any TemplateRecord] {
        TreeOrder.preorder(nodes, id: \.id, parentID: \.parentID, name: \.name).map { entry in
            let value = String(entry.node.id)
            return ChoiceOption(
                value: value,
                label: String(repeating: "\u{3000}", count: entry.level) + entry.node.name + "（" + entry.node.kind.label + "）",
                selected: value == selected)
        }
    }

    /// The kind usually found one level below `kind` (the default for a new child).
    static func childKind(of kind: GridKind) -> GridKind {
        switch kind {
        case .community: .estate
        case .estate: .grid
        case .grid, .building: .building
        }
    }

    /// A stored UTC timestamp as Beijing time, `2025-01-02 11:04`.
    static func displayTime(_ stored: String?) -> String { ChinaDate.display(stored) }
}
