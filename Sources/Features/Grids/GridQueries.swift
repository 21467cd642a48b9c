import Access
import Domain
import Foundation
import GRDB
import Storage

/// A node as the tree and children tables show it: the row plus its counts.
@dynamicMemberLookup
struct GridListRow: Sendable {
    let grid: Grid
    /// Direct children.
    let childCount: Int
    /// Grid workers assigned to exactly this node.
    let workerCount: Int

    init(row: Row) throws {
        grid = try Grid(row: row)
        childCount = try row.decode(forColumn: "child_count")
        workerCount = try row.decode(forColumn: "worker_count")
    }

    subscript<T>(dynamicMember keyPath: KeyPath<Grid, T>) -> T { grid[keyPath: keyPath] }
}

/// A lighter node for `<select>` options and breadcrumbs.
struct GridOptionRow: Sendable {
    let id: Int64
    let parentID: Int64?
    let kind: GridKind
    let name: String
    let path: String

    init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        parentID = try row.decode(forColumn: "parent_id")
        let kindText: String = try row.decode(forColumn: "kind")
        kind = GridKind(rawValue: kindText) ?? .grid
        name = try row.decode(forColumn: "name")
        path = try row.decode(forColumn: "path")
    }
}

/// Figures shown on a node's page and its delete confirmation.
struct GridDetailCounts: Sendable {
    var children = 0
    var descendants = 0
    var users = 0
    var workers = 0
}

/// An account as the workers list and the assignment select show it.
struct WorkerRow: Sendable {
    let id: Int64
    let username: String
    let displayName: String
    let active: Bool
    let scopeName: String?
    let assignedAt: String?

    init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        username = try row.decode(forColumn: "username")
        displayName = try row.decode(forColumn: "display_name")
        active = (try row.decode(Int64.self, forColumn: "active")) == 1
        scopeName = try row.decode(forColumn: "scope_name")
        assignedAt = try row.decode(forColumn: "assigned_at")
    }
}

/// The read side of the grid pages. Every query is one statement whose counts come from
/// GROUP BY subqueries, never from a query per node.
enum GridQueries {
    /// Nodes selected by `filter` (an SQL condition on `g`), with their child and worker
    /// counts. `tail` is appended to the selection (ORDER BY / LIMIT).
    static func rows(_ db: Database, where filter: String, arguments: [any DatabaseValueConvertible],
                     tail: String = "", tailArguments: [any DatabaseValueConvertible] = []) throws -> [GridListRow] {
        let sql = """
            WITH page AS (
                SELECT g.id, g.parent_id, g.kind, g.name, g.code, g.path, g.depth, g.created_at, g.updated_at
                  FROM grids AS g
                 WHERE \(filter)
                 \(tail)
            )
            SELECT p.id, p.parent_id, p.kind, p.name, p.code, p.path, p.depth, p.created_at, p.updated_at,
                   ifnull(c.n, 0) AS child_count, ifnull(w.n, 0) AS worker_count
              FROM page AS p
              LEFT JOIN (SELECT parent_id AS id, count(*) AS n FROM grids
                          WHERE parent_id IN (SELECT id FROM page) GROUP BY parent_id) AS c ON c.id = p.id
              LEFT JOIN (SELECT grid_id AS id, count(*) AS n FROM grid_workers
                          WHERE grid_id IN (SELECT id FROM page) GROUP BY grid_id) AS w ON w.id = p.id
            """
        return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments + tailArguments))
            .map(GridListRow.init(row:))
    }

    /// Every node within `scope`, with counts (the tree page).
    static func tree(_ db: Database, scope: Scope) throws -> [GridListRow] {
        let condition = scope.condition(on: "g.path")
        return try rows(db, where: condition.sql, arguments: condition.arguments)
    }

    /// The condition selecting nodes within `scope` whose name or code contains `text`.
    static func searchFilter(scope: Scope, text: String) -> (sql: String, arguments: [any DatabaseValueConvertible]) {
        let condition = scope.condition(on: "g.path")
        let pattern = "%" + likePattern(text) + "%"
        return ("\(condition.sql) AND (g.name LIKE ? ESCAPE '\\' OR g.code LIKE ? ESCAPE '\\')",
                condition.arguments + [pattern, pattern])
    }

    static func count(_ db: Database, where filter: (sql: String, arguments: [any DatabaseValueConvertible])) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM grids AS g WHERE \(filter.sql)",
                         arguments: StatementArguments(filter.arguments)) ?? 0
    }

    /// One page of the nodes selected by `filter`, by name.
    static func page(_ db: Database, where filter: (sql: String, arguments: [any DatabaseValueConvertible]),
                     limit: Int, offset: Int) throws -> [GridListRow] {
        let found = try rows(db, where: filter.sql, arguments: filter.arguments,
                             tail: "ORDER BY g.name, g.id LIMIT ? OFFSET ?", tailArguments: [limit, offset])
        // Within the page, "2号楼" before "10号楼".
        let keyed = found.map { (key: TreeOrder.sortKey($0.name), row: $0) }
        return keyed.sorted { ($0.key, $0.row.id) < ($1.key, $1.row.id) }.map(\.row)
    }

    /// Direct children of a node, with counts.
    static func children(_ db: Database, of id: Int64) throws -> [GridListRow] {
        try rows(db, where: "g.parent_id = ?", arguments: [id])
    }

    /// Names of nodes by id (for the trail shown next to search results).
    static func names(_ db: Database, ids: Set<Int64>) throws -> [Int64: String] {
        guard !ids.isEmpty else { return [:] }
        let list = Array(ids)
        let placeholders = Array(repeating: "?", count: list.count).joined(separator: ",")
        var names: [Int64: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, name FROM grids WHERE id IN (\(placeholders))",
                                    arguments: StatementArguments(list)) {
            names[try row.decode(forColumn: "id")] = try row.decode(forColumn: "name")
        }
        return names
    }

    /// Nodes that may become a parent: within `scope`, not buildings (the lowest level, and
    /// by far the most numerous), and not inside `excludedPath`'s subtree (a move target).
    static func parentCandidates(_ db: Database, scope: Scope, excludingSubtreeOf excludedPath: String? = nil,
                                 including extraID: Int64? = nil) throws -> [GridOptionRow] {
        let condition = scope.condition(on: "g.path")
        var filter = "\(condition.sql) AND g.kind <> 'building'"
        var arguments: [any DatabaseValueConvertible] = condition.arguments
        if let extraID {
            filter = "\(condition.sql) AND (g.kind <> 'building' OR g.id = ?)"
            arguments.append(extraID)
        }
        if let excludedPath {
            let range = GridPath.subtreeRange(of: excludedPath)
            filter += " AND NOT (g.path >= ? AND g.path < ?)"
            arguments += [range.lower, range.upper]
        }
        return try Row.fetchAll(db, sql: "SELECT g.id, g.parent_id, g.kind, g.name, g.path FROM grids AS g WHERE \(filter)",
                                arguments: StatementArguments(arguments)).map(GridOptionRow.init(row:))
    }

    /// Figures for one node, in one statement.
    static func detailCounts(_ db: Database, of grid: Grid) throws -> GridDetailCounts {
        let range = GridPath.subtreeRange(of: grid.path)
        guard let row = try Row.fetchOne(db, sql: """
            SELECT (SELECT count(*) FROM grids WHERE parent_id = ?) AS children,
                   (SELECT count(*) FROM grids WHERE path > ? AND path < ?) AS descendants,
                   (SELECT count(*) FROM users WHERE scope_grid_id = ?) AS users,
                   (SELECT count(*) FROM grid_workers WHERE grid_id = ?) AS workers
            """, arguments: [grid.id, range.lower, range.upper, grid.id, grid.id]) else { return GridDetailCounts() }
        return GridDetailCounts(children: try row.decode(forColumn: "children"),
                                descendants: try row.decode(forColumn: "descendants"),
                                users: try row.decode(forColumn: "users"),
                                workers: try row.decode(forColumn: "workers"))
    }

    /// Accounts assigned to a node as its grid workers.
    static func assignedWorkers(_ db: Database, gridID: Int64) throws -> [WorkerRow] {
        try Row.fetchAll(db, sql: """
            SELECT u.id, u.username, u.display_name, u.active, s.name AS scope_name, w.assigned_at
              FROM grid_workers AS w
              JOIN users AS u ON u.id = w.user_id
              LEFT JOIN grids AS s ON s.id = u.scope_grid_id
             WHERE w.grid_id = ?
             ORDER BY u.display_name, u.id
            """, arguments: [gridID]).map(WorkerRow.init(row:))
    }

    /// Active grid workers who may be assigned to `grid`: their scope node is the grid or one
    /// of its ancestors (so the grid lies in their scope), that scope node lies within the
    /// acting account's `scope`, and they are not assigned yet. With `userID`, only that one.
    static func assignableWorkers(_ db: Database, to grid: Grid, actorScope scope: Scope,
                                  userID: Int64? = nil) throws -> [WorkerRow] {
        let covering = GridPath.ids(in: grid.path)
        guard !covering.isEmpty else { return [] }
        let placeholders = Array(repeating: "?", count: covering.count).joined(separator: ",")
        let condition = scope.condition(on: "s.path")
        var arguments: [any DatabaseValueConvertible] = covering
        arguments += condition.arguments
        arguments.append(grid.id)
        var only = ""
        if let userID {
            only = " AND u.id = ?"
            arguments.append(userID)
        }
        return try Row.fetchAll(db, sql: """
            SELECT u.id, u.username, u.display_name, u.active, s.name AS scope_name, NULL AS assigned_at
              FROM users AS u
              JOIN grids AS s ON s.id = u.scope_grid_id
             WHERE u.role = 'grid_worker' AND u.active = 1
               AND u.scope_grid_id IN (\(placeholders))
               AND \(condition.sql)
               AND NOT EXISTS (SELECT 1 FROM grid_workers AS w WHERE w.grid_id = ? AND w.user_id = u.id)\(only)
             ORDER BY u.display_name, u.id
            """, arguments: StatementArguments(arguments)).map(WorkerRow.init(row:))
    }

    /// The display name of an account, for flash messages.
    static func userName(_ db: Database, id: Int64) throws -> String? {
        try String.fetchOne(db, sql: "SELECT display_name FROM users WHERE id = ?", arguments: [id])
    }

    /// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
    static func likePattern(_ text: String) -> String {
        var out = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out
    }
}

/// Orders a flat set of nodes as a tree: each node followed by its descendants, siblings in
/// natural name order (楼栋 "2号楼" before "10号楼"). Nodes whose parent is not in the set are
/// the tops. Runs in Swift over rows already fetched: no query per node.
enum TreeOrder {
    static func preorder<Node>(_ nodes: [Node], id: (Node) -> Int64, parentID: (Node) -> Int64?,
                               name: (Node) -> String) -> [(node: Node, level: Int)] {
        let ids = Set(nodes.map(id))
        var childrenOf: [Int64: [Int]] = [:]
        var tops: [Int] = []
        let keys = nodes.map { sortKey(name($0)) }
        for (index, node) in nodes.enumerated() {
            if let parent = parentID(node), ids.contains(parent) {
                childrenOf[parent, default: []].append(index)
            } else {
                tops.append(index)
            }
        }
        func ordered(_ indexes: [Int]) -> [Int] {
            indexes.sorted { (keys[$0], id(nodes[$0])) < (keys[$1], id(nodes[$1])) }
        }
        var result: [(node: Node, level: Int)] = []
        result.reserveCapacity(nodes.count)
        // Iterative depth-first walk: a stack of (index, level), pushed in reverse order.
        var stack: [(Int, Int)] = ordered(tops).reversed().map { ($0, 0) }
        while let (index, level) = stack.popLast() {
            let node = nodes[index]
            result.append((node, level))
            if let children = childrenOf[id(node)] {
                stack.append(contentsOf: ordered(children).reversed().map { ($0, level + 1) })
            }
        }
        return result
    }

    /// A key that sorts runs of digits by their value: each run is zero-padded.
    static func sortKey(_ name: String) -> String {
        var key = ""
        var digits = ""
        func flush() {
            guard !digits.isEmpty else { return }
            let trimmed = digits.drop { $0 == "0" }
            key += String(repeating: "0", count: max(0, 12 - trimmed.count)) + trimmed
            digits = ""
        }
        for character in name {
            if character.isASCII, character.isNumber {
                digits.append(character)
            } else {
                flush()
                key.append(character)
            }
        }
        flush()
        return key
    }
}
