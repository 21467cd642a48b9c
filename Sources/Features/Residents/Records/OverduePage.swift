import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// `/residents/visits/overdue`: key-group residents in scope not visited for `days` days (or
/// never), grouped by grid (the building's parent node), longest-waiting first.
enum OverduePage {
    static let days = 30
    static let perPage = 50

    static func show(_ ctx: Context) throws -> HTTPResponse {
        let today = ChinaDate.today(ctx.clock.now)
        let cutoff = ChinaDate.daysAgo(days, from: ctx.clock.now)
        let scope = ctx.scopeCondition(on: "b.path")
        let gridFilter = Int64(ctx.query["grid"] ?? "")
        let page = max(1, Int(ctx.query["page"] ?? "") ?? 1)

        // One statement: each key-group resident in scope with the date of their last visit. The
        // CROSS JOIN makes SQLite start from the buildings in scope (a path range) and reach their
        // residents through residents_building, instead of scanning every resident.
        let base = """
            SELECT r.id, r.name, r.phone, b.name AS building, b.parent_id AS grid_id, max(v.visited_on) AS last_visit
            FROM grids b
            CROSS JOIN residents r ON r.building_id = b.id AND r.status = 'active'
            LEFT JOIN visits v ON v.resident_id = r.id
            WHERE b.kind = 'building' AND \(scope.sql)
              AND EXISTS (SELECT 1 FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id
                          WHERE rt.resident_id = r.id AND t.key_group = 1)
            GROUP BY r.id HAVING last_visit IS NULL OR last_visit < ?
            """
        let arguments: [any DatabaseValueConvertible] = scope.arguments + [cutoff]

        let (summary, rows, total) = try ctx.database.read { db in
            let summary = try Row.fetchAll(db, sql: """
                WITH overdue AS (\(base))
                SELECT o.grid_id, g.name, count(*) AS n, sum(o.last_visit IS NULL) AS never
                FROM overdue o LEFT JOIN grids g ON g.id = o.grid_id
                GROUP BY o.grid_id ORDER BY g.path
                """, arguments: StatementArguments(arguments))
            // The summary lists every grid; the rows may be narrowed to one of them.
            let total = summary.reduce(0) { sum, row in
                gridFilter == nil || (row["grid_id"] as Int64?) == gridFilter ? sum + (row["n"] as Int) : sum
            }
            let pagination = Pagination(page: page, perPage: perPage, total: total)
            let rows = try Row.fetchAll(db, sql: """
                WITH overdue AS (\(base))
                SELECT o.*, g.name AS grid_name,
                       (SELECT group_concat(name, '、') FROM (SELECT t.name FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id
                                                             WHERE rt.resident_id = o.id AND t.key_group = 1 ORDER BY t.sort_order, t.id)) AS tags
                FROM overdue o LEFT JOIN grids g ON g.id = o.grid_id
                WHERE (? IS NULL OR o.grid_id = ?)
                ORDER BY g.path, o.last_visit IS NOT NULL, o.last_visit, o.id
                LIMIT ? OFFSET ?
                """, arguments: StatementArguments(arguments + [gridFilter, gridFilter, perPage, pagination.offset]))
            return (summary, rows, total)
        }

        var groups: [[String: Any]] = []
        var current: (id: Int64?, name: String, rows: [[String: Any]])?
        for row in rows {
            let gridID: Int64? = row["grid_id"]
            let last: String? = row["last_visit"]
            let item: [String: Any] = [
                "id": String(row["id"] as Int64), "name": row["name"] as String, "phone": Mask.phone(row["phone"]),
                "building": row["building"] as String, "tags": row["tags"] as String? ?? "",
                "lastVisit": last ?? "", "never": last == nil,
                "days": last.flatMap { ChinaDate.days(from: $0, to: today) }.map(String.init) ?? "",
            ]
            if let open = current, open.id == gridID {
                current?.rows.append(item)
            } else {
                if let open = current { groups.append(["name": open.name, "rows": open.rows]) }
                current = (gridID, row["grid_name"] as String? ?? "未分网格", [item])
            }
        }
        if let open = current { groups.append(["name": open.name, "rows": open.rows]) }

        var data: [String: Any] = [
            "days": days, "today": today, "groups": groups, "hasRows": !rows.isEmpty, "total": total,
            "summary": summary.map { row -> [String: Any] in
                let id: Int64? = row["grid_id"]
                var item: [String: Any] = ["name": row["name"] as String? ?? "未分网格", "count": row["n"] as Int,
                                           "never": row["never"] as Int? ?? 0, "selected": id != nil && id == gridFilter]
                if let id { item["id"] = String(id) }
                return item
            },
            "filtered": gridFilter != nil,
        ]
        var query: [(name: String, value: String)] = []
        if let gridFilter { query.append(("grid", String(gridFilter))) }
        data.merge(Pagination(page: page, perPage: perPage, total: total).context(path: "/residents/visits/overdue", query: query)) { _, new in new }
        return try ctx.render("residents/records/overdue", title: "待走访重点人群", data)
    }
}
