import Foundation
import GRDB
import Storage

/// The level of a node in the grid tree. Which kind sits under which is not enforced:
/// the levels are data, and a district may skip some.
public enum GridKind: String, Sendable, CaseIterable, Codable {
    case community, estate, grid, building

    /// The name shown in the UI.
    public var label: String {
        switch self {
        case .community: "社区"
        case .estate: "小区"
        case .grid: "网格"
        case .building: "楼栋"
        }
    }
}

/// One node of the grid tree (a row of `grids`).
public struct Grid: Sendable, Hashable, Identifiable, Codable {
    public let id: Int64
    public let parentID: Int64?
    public let kind: GridKind
    public let name: String
    public let code: String
    /// Materialized path of ids from the root, e.g. `/1/5/12/`.
    public let path: String
    /// Number of ancestors; 0 for a root.
    public let depth: Int
    public let createdAt: String
    public let updatedAt: String

    enum CodingKeys: String, CodingKey {
        case id, kind, name, code, path, depth
        case parentID = "parent_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// Ids from the root down to this node's parent, read from the path.
    public var ancestorIDs: [Int64] {
        Array(GridPath.ids(in: path).dropLast())
    }

    public init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        parentID = try row.decode(forColumn: "parent_id")
        let kindText: String = try row.decode(forColumn: "kind")
        guard let kind = GridKind(rawValue: kindText) else {
            // The schema's CHECK makes this unreachable; throw rather than trap anyway.
            throw StorageDecodingError(message: "grids.kind has unknown value \(kindText)")
        }
        self.kind = kind
        name = try row.decode(forColumn: "name")
        code = try row.decode(forColumn: "code")
        path = try row.decode(forColumn: "path")
        depth = try row.decode(forColumn: "depth")
        createdAt = try row.decode(forColumn: "created_at")
        updatedAt = try row.decode(forColumn: "updated_at")
    }
}

/// A stored value that the Swift model cannot represent.
public struct StorageDecodingError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}

/// Per-node figures for the tree page and for the delete check.
public struct GridCounts: Sendable, Hashable {
    /// Direct children.
    public var children = 0
    /// All nodes below, at any depth.
    public var descendants = 0
    /// Accounts whose scope is exactly this node.
    public var users = 0
    /// Grid workers assigned to exactly this node.
    public var workers = 0

    public init(children: Int = 0, descendants: Int = 0, users: Int = 0, workers: Int = 0) {
        self.children = children
        self.descendants = descendants
        self.users = users
        self.workers = workers
    }
}

/// Why a grid-tree change was refused. `userMessage` is shown on the form.
public enum GridError: UserFacingError, Equatable, CustomStringConvertible {
    case notFound(id: Int64)
    case parentNotFound(id: Int64)
    case invalidName
    case invalidCode
    case duplicateName(String)
    case duplicateCode(String)
    case moveIntoOwnSubtree
    /// Deleting a node that still has children, scoped accounts or workers.
    case inUse(children: Int, users: Int, workers: Int)
    /// Deleting a node that other records (residents, houses, …) still point to.
    case stillReferenced

    public var userMessage: String {
        switch self {
        case .notFound:
            return "找不到该网格节点，可能已被删除"
        case .parentNotFound:
            return "找不到所选的上级节点，可能已被删除"
        case .invalidName:
            return "名称不能为空，且不能超过 \(Grids.maxNameLength) 个字"
        case .invalidCode:
            return "编码只能包含字母、数字、点、下划线和连字符，且不能超过 \(Grids.maxCodeLength) 个字符"
        case let .duplicateName(name):
            return "同一上级下已有名为“\(name)”的节点"
        case let .duplicateCode(code):
            return "编码“\(code)”已被其他节点使用"
        case .moveIntoOwnSubtree:
            return "不能把节点移到它自己或它的下级节点之下"
        case let .inUse(children, users, workers):
            var parts: [String] = []
            if children > 0 { parts.append("\(children) 个子节点") }
            if users > 0 { parts.append("\(users) 个以此为管理范围的账号") }
            if workers > 0 { parts.append("\(workers) 名网格员") }
            return "该节点下还有 \(parts.joined(separator: "、"))，不能删除"
        case .stillReferenced:
            return "该节点仍被其他记录（如居民、房屋）引用，不能删除"
        }
    }

    public var description: String {
        switch self {
        case let .notFound(id): "grid \(id) not found"
        case let .parentNotFound(id): "parent grid \(id) not found"
        case .invalidName: "invalid grid name"
        case .invalidCode: "invalid grid code"
        case let .duplicateName(name): "duplicate sibling name \(name)"
        case let .duplicateCode(code): "duplicate grid code \(code)"
        case .moveIntoOwnSubtree: "cannot move a grid under itself or its descendant"
        case let .inUse(children, users, workers):
            "grid in use: \(children) children, \(users) users, \(workers) workers"
        case .stillReferenced: "grid still referenced by other rows"
        }
    }
}

/// Materialized-path arithmetic, shared with feature modules that filter their own
/// tables by scope (`JOIN grids g ON … WHERE g.path >= ? AND g.path < ?`).
public enum GridPath {
    /// The half-open range of paths in the subtree rooted at `path` (the node included).
    ///
    /// `'0'` is the byte right after `'/'`, so every path that starts with `/1/5/`
    /// lies in `['/1/5/', '/1/50')` and nothing else does (`/1/50/` is greater than
    /// `/1/50`). Unlike `LIKE '/1/5/%'`, this range is answered by the index on `path`.
    public static func subtreeRange(of path: String) -> (lower: String, upper: String) {
        (path, String(path.dropLast()) + "0")
    }

    /// Whether `path` is `ancestorPath` itself or lies below it.
    public static func isInSubtree(_ path: String, of ancestorPath: String) -> Bool {
        path.hasPrefix(ancestorPath)
    }

    /// The ids of a path, root first.
    public static func ids(in path: String) -> [Int64] {
        path.split(separator: "/").compactMap { Int64($0) }
    }
}

/// Repository of the grid tree.
///
/// Each instance method is one write transaction that also records its audit entry.
/// The static methods taking a `Database` do the same work inside a transaction the
/// caller already holds (seeding, imports, or a handler that changes several things
/// at once).
public struct Grids: Sendable {
    public static let maxNameLength = 100
    public static let maxCodeLength = 64

    public let database: AppDatabase

    public init(_ database: AppDatabase) {
        self.database = database
    }

    // MARK: Writes (own transaction)

    /// Creates a root node (a community, usually).
    @discardableResult
    public func createRoot(name: String, kind: GridKind, code: String? = nil, by actor: AuditActor) throws -> Grid {
        try database.write { db in try Self.create(db, name: name, kind: kind, parentID: nil, code: code, by: actor) }
    }

    /// Creates a node under `parentID`.
    @discardableResult
    public func createChild(of parentID: Int64, name: String, kind: GridKind, code: String? = nil,
                            by actor: AuditActor) throws -> Grid {
        try database.write { db in try Self.create(db, name: name, kind: kind, parentID: parentID, code: code, by: actor) }
    }

    /// Creates a node under `parentID`, or a root when it is nil (the form's `parent_id`).
    @discardableResult
    public func create(name: String, kind: GridKind, parentID: Int64?, code: String? = nil,
                       by actor: AuditActor) throws -> Grid {
        try database.write { db in try Self.create(db, name: name, kind: kind, parentID: parentID, code: code, by: actor) }
    }

    @discardableResult
    public func rename(_ id: Int64, to name: String, by actor: AuditActor) throws -> Grid {
        try database.write { db in try Self.rename(db, id, to: name, by: actor) }
    }

    @discardableResult
    public func changeKind(_ id: Int64, to kind: GridKind, by actor: AuditActor) throws -> Grid {
        try database.write { db in try Self.changeKind(db, id, to: kind, by: actor) }
    }

    @discardableResult
    public func changeCode(_ id: Int64, to code: String, by actor: AuditActor) throws -> Grid {
        try database.write { db in try Self.changeCode(db, id, to: code, by: actor) }
    }

    /// Moves a node, with its whole subtree, under `newParentID` (nil: make it a root).
    @discardableResult
    public func move(_ id: Int64, to newParentID: Int64?, by actor: AuditActor) throws -> Grid {
        try database.write { db in try Self.move(db, id, to: newParentID, by: actor) }
    }

    /// Deletes a node that has no children, no scoped accounts and no workers.
    public func delete(_ id: Int64, by actor: AuditActor) throws {
        try database.write { db in try Self.delete(db, id, by: actor) }
    }

    public func assignWorker(userID: Int64, to gridID: Int64, by actor: AuditActor) throws {
        try database.write { db in try Self.assignWorker(db, userID: userID, to: gridID, by: actor) }
    }

    public func removeWorker(userID: Int64, from gridID: Int64, by actor: AuditActor) throws {
        try database.write { db in try Self.removeWorker(db, userID: userID, from: gridID, by: actor) }
    }

    // MARK: Reads (own read transaction)

    public func find(_ id: Int64) throws -> Grid? {
        try database.read { db in try Self.find(db, id) }
    }

    /// Direct children of `parentID` (roots when nil), by name.
    public func children(of parentID: Int64?) throws -> [Grid] {
        try database.read { db in try Self.children(db, of: parentID) }
    }

    /// The node and everything below it, in path order (each node before its
    /// descendants; siblings by id). Empty when the node does not exist.
    public func subtree(of id: Int64) throws -> [Grid] {
        try database.read { db in try Self.subtree(db, of: id) }
    }

    /// The node's ancestors, root first (for breadcrumbs).
    public func ancestors(of id: Int64) throws -> [Grid] {
        try database.read { db in try Self.ancestors(db, of: id) }
    }

    /// Whether `id` lies in the subtree of `scopeID` (itself included).
    public func isWithin(_ id: Int64, scope scopeID: Int64) throws -> Bool {
        try database.read { db in try Self.isWithin(db, id, scope: scopeID) }
    }

    /// Counts for `id` and every node below it, keyed by node id.
    public func counts(inSubtreeOf id: Int64) throws -> [Int64: GridCounts] {
        try database.read { db in try Self.counts(db, inSubtreeOf: id) }
    }

    /// User ids of the workers assigned to `gridID`.
    public func workers(of gridID: Int64) throws -> [Int64] {
        try database.read { db in
            try Int64.fetchAll(db, sql: "SELECT user_id FROM grid_workers WHERE grid_id = ? ORDER BY user_id",
                               arguments: [gridID])
        }
    }
}

// MARK: - Work inside the caller's transaction

extension Grids {
    @discardableResult
    public static func create(_ db: Database, name: String, kind: GridKind, parentID: Int64?,
                              code: String? = nil, by actor: AuditActor) throws -> Grid {
        let name = try normalizedName(name)
        var parent: Grid?
        if let parentID {
            guard let found = try find(db, parentID) else { throw GridError.parentNotFound(id: parentID) }
            parent = found
        }
        try ensureUniqueName(db, name, parentID: parentID, excluding: nil)

        // The path must end with the row's own id (a schema CHECK), so the id is chosen
        // here rather than by SQLite. We hold the write lock, so nobody else can take it.
        // sqlite_sequence remembers the highest id ever used, so a deleted node's id
        // (still named in the audit log) is never handed out again.
        let id = try Int64.fetchOne(db, sql: """
            SELECT max(
                ifnull((SELECT seq FROM sqlite_sequence WHERE name = 'grids'), 0),
                ifnull((SELECT max(id) FROM grids), 0)) + 1
            """) ?? 1
        // A blank code (the form has no code field) gets one derived from the id.
        let givenCode = code.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        let code = try normalizedCode(givenCode.isEmpty ? "G\(id)" : givenCode)
        try ensureUniqueCode(db, code, excluding: nil)

        let path = (parent?.path ?? "/") + "\(id)/"
        let depth = (parent?.depth ?? -1) + 1
        try db.execute(sql: """
            INSERT INTO grids (id, parent_id, kind, name, code, path, depth, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, \(Timestamp.nowSQL), \(Timestamp.nowSQL))
            """, arguments: [id, parentID, kind.rawValue, name, code, path, depth])
        let grid = try require(db, id)
        try AuditLog.record(db, actor: actor, action: "grid.create", entityType: "grid", entityId: id,
                            before: nil, after: grid)
        return grid
    }

    @discardableResult
    public static func rename(_ db: Database, _ id: Int64, to newName: String, by actor: AuditActor) throws -> Grid {
        let before = try require(db, id)
        let name = try normalizedName(newName)
        guard name != before.name else { return before }
        try ensureUniqueName(db, name, parentID: before.parentID, excluding: id)
        try db.execute(sql: "UPDATE grids SET name = ?, updated_at = \(Timestamp.nowSQL) WHERE id = ?",
                       arguments: [name, id])
        return try audited(db, "grid.rename", before: before, actor: actor)
    }

    @discardableResult
    public static func changeKind(_ db: Database, _ id: Int64, to kind: GridKind, by actor: AuditActor) throws -> Grid {
        let before = try require(db, id)
        guard kind != before.kind else { return before }
        try db.execute(sql: "UPDATE grids SET kind = ?, updated_at = \(Timestamp.nowSQL) WHERE id = ?",
                       arguments: [kind.rawValue, id])
        return try audited(db, "grid.change_kind", before: before, actor: actor)
    }

    @discardableResult
    public static func changeCode(_ db: Database, _ id: Int64, to newCode: String, by actor: AuditActor) throws -> Grid {
        let before = try require(db, id)
        let code = try normalizedCode(newCode)
        guard code != before.code else { return before }
        try ensureUniqueCode(db, code, excluding: id)
        try db.execute(sql: "UPDATE grids SET code = ?, updated_at = \(Timestamp.nowSQL) WHERE id = ?",
                       arguments: [code, id])
        return try audited(db, "grid.change_code", before: before, actor: actor)
    }

    /// Moves `id` and its subtree under `newParentID` (nil: to the top level).
    ///
    /// All paths and depths of the subtree are rewritten by one UPDATE over the path
    /// range: every descendant's path starts with the moved node's old path, so
    /// replacing that prefix re-roots the whole subtree, whatever its size, with no
    /// walk in Swift.
    @discardableResult
    public static func move(_ db: Database, _ id: Int64, to newParentID: Int64?, by actor: AuditActor) throws -> Grid {
        let before = try require(db, id)
        guard newParentID != before.parentID else { return before }
        var newParent: Grid?
        if let newParentID {
            guard let found = try find(db, newParentID) else { throw GridError.parentNotFound(id: newParentID) }
            // The new parent's path starting with ours means it is this node or lies below
            // it: the move would make the node its own ancestor.
            guard !GridPath.isInSubtree(found.path, of: before.path) else { throw GridError.moveIntoOwnSubtree }
            newParent = found
        }
        try ensureUniqueName(db, before.name, parentID: newParentID, excluding: id)

        let newPath = (newParent?.path ?? "/") + "\(id)/"
        let depthDelta = ((newParent?.depth ?? -1) + 1) - before.depth
        let range = GridPath.subtreeRange(of: before.path)
        // substr is 1-based: keep what follows the old prefix. Paths are ASCII, so
        // character and byte lengths agree.
        try db.execute(sql: """
            UPDATE grids
               SET path = ? || substr(path, ?),
                   depth = depth + ?,
                   parent_id = CASE WHEN id = ? THEN ? ELSE parent_id END,
                   updated_at = \(Timestamp.nowSQL)
             WHERE path >= ? AND path < ?
            """, arguments: [newPath, before.path.utf8.count + 1, depthDelta, id, newParentID, range.lower, range.upper])
        return try audited(db, "grid.move", before: before, actor: actor)
    }

    /// Deletes a leaf node nobody refers to. The refusal names what is still attached.
    public static func delete(_ db: Database, _ id: Int64, by actor: AuditActor) throws {
        let before = try require(db, id)
        let counts = try directCounts(db, id)
        guard counts.children == 0, counts.users == 0, counts.workers == 0 else {
            throw GridError.inUse(children: counts.children, users: counts.users, workers: counts.workers)
        }
        do {
            try db.execute(sql: "DELETE FROM grids WHERE id = ?", arguments: [id])
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
            // Tables added by later migrations (residents, houses, …) point at grids too;
            // their foreign keys refuse the delete and we say so in words.
            throw GridError.stillReferenced
        }
        try AuditLog.record(db, actor: actor, action: "grid.delete", entityType: "grid", entityId: id,
                            before: before, after: nil)
    }

    public static func assignWorker(_ db: Database, userID: Int64, to gridID: Int64, by actor: AuditActor) throws {
        _ = try require(db, gridID)
        try db.execute(sql: """
            INSERT INTO grid_workers (grid_id, user_id, assigned_at) VALUES (?, ?, \(Timestamp.nowSQL))
            ON CONFLICT (grid_id, user_id) DO NOTHING
            """, arguments: [gridID, userID])
        if db.changesCount > 0 {
            try AuditLog.record(db, actor: actor, action: "grid.assign_worker", entityType: "grid", entityId: gridID,
                                beforeJSON: nil, afterJSON: #"{"user_id":\#(userID)}"#)
        }
    }

    public static func removeWorker(_ db: Database, userID: Int64, from gridID: Int64, by actor: AuditActor) throws {
        try db.execute(sql: "DELETE FROM grid_workers WHERE grid_id = ? AND user_id = ?", arguments: [gridID, userID])
        if db.changesCount > 0 {
            try AuditLog.record(db, actor: actor, action: "grid.remove_worker", entityType: "grid", entityId: gridID,
                                beforeJSON: #"{"user_id":\#(userID)}"#, afterJSON: nil)
        }
    }

    public static func find(_ db: Database, _ id: Int64) throws -> Grid? {
        try Row.fetchOne(db, sql: "SELECT * FROM grids WHERE id = ?", arguments: [id]).map(Grid.init(row:))
    }

    public static func children(_ db: Database, of parentID: Int64?) throws -> [Grid] {
        let rows = if let parentID {
            try Row.fetchAll(db, sql: "SELECT * FROM grids WHERE parent_id = ? ORDER BY name", arguments: [parentID])
        } else {
            try Row.fetchAll(db, sql: "SELECT * FROM grids WHERE parent_id IS NULL ORDER BY name")
        }
        return try rows.map(Grid.init(row:))
    }

    public static func subtree(_ db: Database, of id: Int64) throws -> [Grid] {
        guard let root = try find(db, id) else { return [] }
        let range = GridPath.subtreeRange(of: root.path)
        return try Row.fetchAll(db, sql: "SELECT * FROM grids WHERE path >= ? AND path < ? ORDER BY path",
                                arguments: [range.lower, range.upper]).map(Grid.init(row:))
    }

    public static func ancestors(_ db: Database, of id: Int64) throws -> [Grid] {
        guard let node = try find(db, id) else { return [] }
        let ids = node.ancestorIDs
        guard !ids.isEmpty else { return [] }
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ",")
        return try Row.fetchAll(db, sql: "SELECT * FROM grids WHERE id IN (\(placeholders)) ORDER BY depth",
                                arguments: StatementArguments(ids)).map(Grid.init(row:))
    }

    public static func isWithin(_ db: Database, _ id: Int64, scope scopeID: Int64) throws -> Bool {
        try Bool.fetchOne(db, sql: """
            SELECT EXISTS (
                SELECT 1 FROM grids AS node, grids AS scope
                 WHERE node.id = ? AND scope.id = ?
                   AND node.path >= scope.path AND node.path < substr(scope.path, 1, length(scope.path) - 1) || '0')
            """, arguments: [id, scopeID]) ?? false
    }

    public static func counts(_ db: Database, inSubtreeOf id: Int64) throws -> [Int64: GridCounts] {
        let nodes = try subtree(db, of: id)
        guard let root = nodes.first else { return [:] }
        var counts: [Int64: GridCounts] = [:]
        for node in nodes { counts[node.id] = GridCounts() }
        // Children and descendants come from the paths already in hand: each node adds one
        // to every ancestor inside the subtree. Linear in nodes × depth, no extra query.
        for node in nodes {
            if let parentID = node.parentID, counts[parentID] != nil { counts[parentID]?.children += 1 }
            for ancestorID in node.ancestorIDs where counts[ancestorID] != nil {
                counts[ancestorID]?.descendants += 1
            }
        }
        let range = GridPath.subtreeRange(of: root.path)
        // Accounts scoped to each node, and grid workers assigned to it.
        let perNode: [(table: String, column: String, count: WritableKeyPath<GridCounts, Int>)] = [
            ("users", "scope_grid_id", \.users), ("grid_workers", "grid_id", \.workers),
        ]
        for (table, column, count) in perNode {
            let rows = try Row.fetchAll(db, sql: """
                SELECT t.\(column) AS grid_id, count(*) AS n
                  FROM \(table) AS t JOIN grids AS g ON g.id = t.\(column)
                 WHERE g.path >= ? AND g.path < ?
                 GROUP BY t.\(column)
                """, arguments: [range.lower, range.upper])
            for row in rows {
                let gridID: Int64 = try row.decode(forColumn: "grid_id")
                counts[gridID]?[keyPath: count] = try row.decode(forColumn: "n")
            }
        }
        return counts
    }

    // MARK: Helpers

    static func require(_ db: Database, _ id: Int64) throws -> Grid {
        guard let grid = try find(db, id) else { throw GridError.notFound(id: id) }
        return grid
    }

    /// Re-reads the node after an update and records the change.
    private static func audited(_ db: Database, _ action: String, before: Grid, actor: AuditActor) throws -> Grid {
        let after = try require(db, before.id)
        try AuditLog.record(db, actor: actor, action: action, entityType: "grid", entityId: before.id,
                            before: before, after: after)
        return after
    }

    /// Counts of what is attached directly to one node (what blocks its deletion).
    static func directCounts(_ db: Database, _ id: Int64) throws -> GridCounts {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT (SELECT count(*) FROM grids WHERE parent_id = ?) AS children,
                   (SELECT count(*) FROM users WHERE scope_grid_id = ?) AS users,
                   (SELECT count(*) FROM grid_workers WHERE grid_id = ?) AS workers
            """, arguments: [id, id, id]) else { return GridCounts() }
        return GridCounts(children: try row.decode(forColumn: "children"),
                          users: try row.decode(forColumn: "users"),
                          workers: try row.decode(forColumn: "workers"))
    }

    /// Trims surrounding whitespace (including the full-width space U+3000 that Chinese
    /// input methods produce) and checks the length the schema allows. Length counts
    /// Unicode scalars, as SQLite's length() does.
    static func normalizedName(_ name: String) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        let length = trimmed.unicodeScalars.count
        guard length >= 1, length <= maxNameLength,
              !trimmed.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) else {
            throw GridError.invalidName
        }
        return trimmed
    }

    static func normalizedCode(_ code: String) throws -> String {
        let trimmed = code.trimmingCharacters(in: .whitespacesAndNewlines)
        let allowed = trimmed.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        guard allowed, !trimmed.isEmpty, trimmed.utf8.count <= maxCodeLength else { throw GridError.invalidCode }
        return trimmed
    }

    /// Checked before writing so the user gets a sentence instead of a constraint error;
    /// the UNIQUE constraints stay as the backstop.
    private static func ensureUniqueName(_ db: Database, _ name: String, parentID: Int64?, excluding id: Int64?) throws {
        let exists = try Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM grids WHERE parent_id IS ? AND name = ? AND id IS NOT ?)
            """, arguments: [parentID, name, id]) ?? false
        if exists { throw GridError.duplicateName(name) }
    }

    private static func ensureUniqueCode(_ db: Database, _ code: String, excluding id: Int64?) throws {
        let exists = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM grids WHERE code = ? AND id IS NOT ?)",
                                       arguments: [code, id]) ?? false
        if exists { throw GridError.duplicateCode(code) }
    }
}
