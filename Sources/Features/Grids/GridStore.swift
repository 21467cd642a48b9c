import Access
import AppCore
import Domain
import GRDB
import Storage

/// The grid tree's changes as the pages ask for them: each one transaction that decides through
/// the policy (role, and the node's place in the principal's scope) before it writes.
struct GridStore: Sendable {
    let database: AppDatabase

    /// A new node under `parentID` (top level: admin only), with its audit entry.
    func create(name: String, kind: GridKind, parentID: Int64?, code: String?, principal: Principal?,
                by actor: AuditActor) throws -> Grid {
        let scope = principal?.scope ?? .nothing
        return try database.write { db in
            try Policy.require(principal, .manageGrids)
            if let parentID {
                guard let parent = try Grids.find(db, parentID), scope.contains(parent.path) else {
                    throw FieldErrors("parent_id", GridsFeature.parentOutOfScope)
                }
            }
            return try Grids.create(db, name: name, kind: kind, parentID: parentID, code: code, by: actor)
        }
    }

    /// The edit form: name, kind, code and, when changed, the parent.
    func update(_ id: Int64, name: String, kind: GridKind, code: String, parentID newParentID: Int64?,
                principal: Principal?, by actor: AuditActor) throws -> Grid {
        let scope = principal?.scope ?? .nothing
        return try database.write { db in
            let before = try Self.node(db, id, principal)
            var grid = try Grids.rename(db, id, to: name, by: actor)
            grid = try Grids.changeKind(db, id, to: kind, by: actor)
            grid = try Grids.changeCode(db, id, to: code, by: actor)
            if newParentID != before.parentID {
                try GridsFeature.checkMoveTarget(db, grid: before, to: newParentID, scope: scope)
                grid = try Grids.move(db, id, to: newParentID, by: actor)
            }
            return grid
        }
    }

    /// Moves a node; returns it, its new parent's name and whether anything changed.
    func move(_ id: Int64, to newParentID: Int64?, principal: Principal?,
              by actor: AuditActor) throws -> (grid: Grid, parentName: String?, changed: Bool) {
        let scope = principal?.scope ?? .nothing
        return try database.write { db in
            let before = try Self.node(db, id, principal)
            if let scopePath = scope.path, scopePath == before.path { throw FieldErrors("parent_id", GridsFeature.scopeRootImmovable) }
            if newParentID == before.parentID { return (before, nil, false) }
            let parent = try GridsFeature.checkMoveTarget(db, grid: before, to: newParentID, scope: scope)
            return (try Grids.move(db, id, to: newParentID, by: actor), parent?.name, true)
        }
    }

    func delete(_ id: Int64, principal: Principal?, by actor: AuditActor) throws -> Grid {
        try database.write { db in
            let grid = try Self.node(db, id, principal)
            try Grids.delete(db, id, by: actor)
            return grid
        }
    }

    /// Assigns a grid worker; returns the worker's and the node's names.
    func assignWorker(_ userID: Int64, to id: Int64, principal: Principal?,
                      by actor: AuditActor) throws -> (worker: String, grid: String) {
        let scope = principal?.scope ?? .nothing
        return try database.write { db in
            let grid = try Self.node(db, id, principal)
            guard let worker = try GridQueries.assignableWorkers(db, to: grid, actorScope: scope, userID: userID).first else {
                throw FieldErrors("user_id", "所选账号不能分配到此节点：须为启用中的网格员，管辖范围包含此节点，且尚未分配")
            }
            try Grids.assignWorker(db, userID: userID, to: id, by: actor)
            return (worker.displayName, grid.name)
        }
    }

    /// Removes a grid worker; returns the worker's and the node's names.
    func removeWorker(_ userID: Int64, from id: Int64, principal: Principal?,
                      by actor: AuditActor) throws -> (worker: String, grid: String) {
        try database.write { db in
            let grid = try Self.node(db, id, principal)
            let assigned = try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM grid_workers WHERE grid_id = ? AND user_id = ?)
                """, arguments: [id, userID]) ?? false
            guard assigned, let name = try GridQueries.userName(db, id: userID) else {
                throw FieldErrors("user_id", "该账号未分配到此节点，可能已被移除")
            }
            try Grids.removeWorker(db, userID: userID, from: id, by: actor)
            return (name, grid.name)
        }
    }

    /// The node, when the principal may manage it (404 outside the scope, 403 for the role).
    static func node(_ db: Database, _ id: Int64, _ principal: Principal?) throws -> Grid {
        guard let grid = try Grids.find(db, id) else { throw NotFound() }
        try Policy.require(principal, .manageGrids, gridPath: grid.path)
        return grid
    }
}

extension Context {
    var gridStore: GridStore { GridStore(database: database) }
}
