import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// The grid tree pages: browse the tree in scope, create, edit, move and delete nodes, and
/// assign grid workers. Every write goes through the `Grids` repository (which records the
/// audit entry in the same transaction), inside a transaction that also re-checks the scope.
public enum GridsFeature {
    static let readers: Set<Role> = [.admin, .staff, .coordinator]
    static let managers: Set<Role> = [.admin, .staff]

    public static let module = Module(
        name: "grids", routes: register, permissions: [.viewGrids, .manageGrids],
        auditLabels: [("grid.create", "新建网格节点"), ("grid.rename", "重命名节点"),
                      ("grid.change_code", "修改节点编码"), ("grid.change_kind", "修改节点层级"),
                      ("grid.move", "移动节点"), ("grid.delete", "删除节点"),
                      ("grid.assign_worker", "指派网格员"), ("grid.remove_worker", "移除网格员")],
        navigation: [("网格", path: "/grids", order: 10, permission: .viewGrids)],
        shortcuts: [("网格管理", path: "/grids", note: "社区、小区、网格、楼栋的层级树", order: 50, permission: .viewGrids),
                    ("新建网格节点", path: "/grids/new", note: "在管辖范围内添加节点", order: 60, permission: .manageGrids)],
        matrix: [
            "GET /grids": readers,
            "GET /grids/:id": readers,
            "GET /grids/new": managers,
            "POST /grids/new": managers,
            "POST /grids": managers,
            "GET /grids/:id/edit": managers,
            "POST /grids/:id/edit": managers,
            "POST /grids/:id/move": managers,
            "GET /grids/:id/delete": managers,
            "POST /grids/:id/delete": managers,
            "POST /grids/:id/workers": managers,
            "POST /grids/:id/workers/:userId/remove": managers,
        ])

    public static func register(_ routes: inout AppRoutes) {
        routes.get("/grids", .viewGrids) { try index($0) }
        routes.get("/grids/new", .manageGrids) { try newForm($0) }
        routes.post("/grids/new", .manageGrids) { try create($0) }
        // The same create action at the collection's path, for clients that post there.
        routes.post("/grids", .manageGrids) { try create($0) }
        routes.get("/grids/:id", .viewGrids) { try show($0) }
        routes.get("/grids/:id/edit", .manageGrids) { try editForm($0) }
        routes.post("/grids/:id/edit", .manageGrids) { try update($0) }
        routes.post("/grids/:id/move", .manageGrids) { try move($0) }
        routes.get("/grids/:id/delete", .manageGrids) { try confirmDelete($0) }
        routes.post("/grids/:id/delete", .manageGrids) { try delete($0) }
        routes.post("/grids/:id/workers", .manageGrids) { try assignWorker($0) }
        routes.post("/grids/:id/workers/:userId/remove", .manageGrids) { try removeWorker($0) }
    }

    // MARK: - Messages

    static let parentOutOfScope = "所选上级节点不存在或不在您的管辖范围内"
    static let parentRequired = "请选择上级节点"
    static let scopeRootImmovable = "这是您管辖范围的顶层节点，不能移动"

    static let treePageSize = 300
    static let searchPageSize = 100
    static let maxQueryLength = 100

    // MARK: - Tree

    static func index(_ ctx: Context) throws -> HTTPResponse {
        let scope = ctx.scope
        let q = String((ctx.query["q"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(maxQueryLength))
        let requestedPage = Int(ctx.query["page"] ?? "") ?? 1
        var data: [String: Any] = [
            "q": q,
            "searching": !q.isEmpty,
            "canManage": ctx.may(.manageGrids),
            "scopeName": ctx.user?.scopeName ?? "",
            "hasScopeName": scope.path != nil && !(ctx.user?.scopeName ?? "").isEmpty,
        ]
        let pagination: Pagination
        var rows: [[String: Any]] = []
        if q.isEmpty {
            let all = try ctx.database.read { db in try GridQueries.tree(db, scope: scope) }
            let ordered = TreeOrder.preorder(all, id: \.id, parentID: \.parentID, name: \.name)
            pagination = Pagination(page: requestedPage, perPage: treePageSize, total: ordered.count)
            let end = min(ordered.count, pagination.offset + pagination.perPage)
            if pagination.offset < end {
                rows = ordered[pagination.offset..<end].map { GridViews.row($0.node, level: $0.level) }
            }
        } else {
            let filter = GridQueries.searchFilter(scope: scope, text: q)
            // Ancestors shown next to a result: only those inside the account's scope.
            let scopeDepth = scope.path.map { GridPath.ids(in: $0).count } ?? 0
            let (total, page, names) = try ctx.database.read { db in
                let total = try GridQueries.count(db, where: filter)
                let pagination = Pagination(page: requestedPage, perPage: searchPageSize, total: total)
                let found = try GridQueries.page(db, where: filter, limit: pagination.perPage, offset: pagination.offset)
                var ancestorIDs: Set<Int64> = []
                for row in found {
                    ancestorIDs.formUnion(GridPath.ids(in: row.path).dropLast().dropFirst(max(0, scopeDepth - 1)))
                }
                return (total, found, try GridQueries.names(db, ids: ancestorIDs))
            }
            pagination = Pagination(page: requestedPage, perPage: searchPageSize, total: total)
            rows = page.map { row in
                let trail = GridPath.ids(in: row.path).dropLast().dropFirst(max(0, scopeDepth - 1))
                    .compactMap { names[$0] }.joined(separator: " › ")
                return GridViews.row(row, trail: trail)
            }
        }
        data["rows"] = rows
        data["hasRows"] = !rows.isEmpty
        data["total"] = pagination.total
        if pagination.pageCount > 1 {
            data.merge(pagination.context(path: "/grids", query: q.isEmpty ? [] : [("q", q)])) { _, new in new }
        }
        return try ctx.render("grids/index", title: "网格管理", data)
    }

    // MARK: - One node

    static func show(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let scope = ctx.scope
        let canManage = ctx.may(.manageGrids)
        let data: (grid: Grid, context: [String: Any]) = try ctx.database.read { db in
            guard let grid = try Grids.find(db, id) else { throw HTTPError(.notFound) }
            try ctx.authorize(.viewGrids, gridPath: grid.path)
            var data: [String: Any] = ["canManage": canManage, "canViewRosters": ctx.may(.viewResidents)]
            let ancestors = try Grids.ancestors(db, of: id).filter { scope.contains($0.path) }
            data["breadcrumb"] = ancestors.map { ["id": $0.id, "name": $0.name] as [String: Any] }
            let parent = ancestors.last.flatMap { $0.id == grid.parentID ? $0 : nil }
            data["grid"] = gridContext(grid, parent: parent)
            let counts = try GridQueries.detailCounts(db, of: grid)
            data["counts"] = [
                "children": counts.children, "descendants": counts.descendants,
                "users": counts.users, "workers": counts.workers,
            ]
            let children = TreeOrder.preorder(try GridQueries.children(db, of: id), id: \.id, parentID: \.parentID, name: \.name)
            data["children"] = children.map { GridViews.row($0.node) }
            data["hasChildren"] = !children.isEmpty
            data["childKind"] = GridViews.childKind(of: grid.kind).label
            let workers = try GridQueries.assignedWorkers(db, gridID: id)
            data["workers"] = workers.map { worker -> [String: Any] in
                [
                    "userID": worker.id, "displayName": worker.displayName, "username": worker.username,
                    "active": worker.active, "assignedAt": GridViews.displayTime(worker.assignedAt),
                    "scopeName": worker.scopeName ?? "",
                ]
            }
            data["hasWorkers"] = !workers.isEmpty
            if canManage {
                let candidates = try GridQueries.assignableWorkers(db, to: grid, actorScope: scope)
                data["candidates"] = candidates.map { worker -> [String: Any] in
                    let scopeText = worker.scopeName.map { "，管辖：\($0)" } ?? ""
                    return ["value": String(worker.id), "label": "\(worker.displayName)（\(worker.username)\(scopeText)）"]
                }
                data["hasCandidates"] = !candidates.isEmpty
                let movable = scope.path == nil || scope.path != grid.path
                data["canMove"] = movable
                if movable {
                    let selected = grid.parentID.map(String.init) ?? ""
                    let nodes = try GridQueries.parentCandidates(db, scope: scope, excludingSubtreeOf: grid.path,
                                                                 including: grid.parentID)
                    data["moveOptions"] = GridViews.parentOptions(nodes, selected: selected)
                    data["allowRoot"] = scope.path == nil
                    data["isRoot"] = grid.parentID == nil
                }
                data["deleteBlocked"] = counts.children > 0 || counts.users > 0 || counts.workers > 0
            }
            return (grid, data)
        }
        return try ctx.render("grids/show", title: data.grid.name, data.context)
    }

    static func gridContext(_ grid: Grid, parent: Grid?) -> [String: Any] {
        var context: [String: Any] = [
            "id": grid.id,
            "name": grid.name,
            "kind": grid.kind.rawValue,
            "kindLabel": grid.kind.label,
            "kindBadge": GridViews.badgeClass(grid.kind),
            "isBuilding": grid.kind == .building,
            "rosterPath": grid.kind == .estate ? "/rosters/estate/\(grid.id)" : grid.kind == .community ? "/rosters/community/\(grid.id)" : "",
            "code": grid.code,
            "level": grid.depth + 1,
            "createdAt": GridViews.displayTime(grid.createdAt),
            "updatedAt": GridViews.displayTime(grid.updatedAt),
        ]
        if let parent {
            context["parent"] = ["id": parent.id, "name": parent.name] as [String: Any]
        }
        return context
    }

    // MARK: - Create

    static func newForm(_ ctx: Context) throws -> HTTPResponse {
        let scope = ctx.scope
        var state = FormState()
        var kind = GridKind.community
        // `?parent_id=N` preselects the parent; otherwise a scoped account starts from its own node.
        let requested = Int64(ctx.query["parent_id"] ?? "") ?? (scope.path == nil ? nil : ctx.user?.scopeGridID)
        if let requested, requested > 0,
           let parent = try ctx.database.read({ db in try Grids.find(db, requested) }), scope.contains(parent.path) {
            state.values["parent_id"] = String(parent.id)
            kind = GridViews.childKind(of: parent.kind)
        }
        state.values["kind"] = kind.rawValue
        return try renderForm(ctx, editing: nil, state: state)
    }

    static func create(_ ctx: Context) throws -> HTTPResponse {
        let form = ctx.form
        let scope = ctx.scope
        var state = FormState(values: [
            "name": form["name"] ?? "", "kind": form["kind"] ?? "",
            "parent_id": (form["parent_id"] ?? "").trimmingCharacters(in: .whitespaces), "code": form["code"] ?? "",
        ])
        let name = state.value("name").trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty { state.addError("请填写名称", for: "name") }
        let kind = GridKind(rawValue: state.value("kind"))
        if kind == nil { state.addError("请选择节点类型", for: "kind") }
        var parentID: Int64?
        let parentText = state.value("parent_id")
        if parentText.isEmpty {
            // Only an account without scope (admin) may create a top-level node.
            if scope.path != nil { state.addError(parentRequired, for: "parent_id") }
        } else if let value = Int64(parentText), value > 0 {
            parentID = value
        } else {
            state.addError(parentOutOfScope, for: "parent_id")
        }
        var status = HTTPStatus.unprocessableContent
        if !state.hasErrors, let kind {
            do {
                let code = state.value("code").trimmingCharacters(in: .whitespacesAndNewlines)
                let grid = try ctx.gridStore.create(name: name, kind: kind, parentID: parentID, code: code.isEmpty ? nil : code,
                                                    principal: ctx.principal, by: ctx.actor)
                return ctx.redirect("/grids/\(grid.id)", flash: .success("已创建网格节点「\(grid.name)」"))
            } catch let error as GridError {
                status = record(error, in: &state)
            } catch let error as FieldErrors {
                for (field, message) in error.errors { state.addError(message, for: field) }
            }
        }
        return try renderForm(ctx, editing: nil, state: state, status: status)
    }

    // MARK: - Edit

    static func editForm(_ ctx: Context) throws -> HTTPResponse {
        let grid = try scopedGrid(ctx, try ctx.request.id())
        let state = FormState(values: [
            "name": grid.name, "kind": grid.kind.rawValue, "code": grid.code,
            "parent_id": grid.parentID.map(String.init) ?? "",
        ])
        return try renderForm(ctx, editing: grid, state: state)
    }

    static func update(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let current = try scopedGrid(ctx, id)
        let form = ctx.form
        // Fields left out of the submission stay as they are; the form always sends them all.
        var state = FormState(values: [
            "name": form["name"] ?? "",
            "kind": form["kind"] ?? current.kind.rawValue,
            "code": form["code"] ?? current.code,
            "parent_id": (form["parent_id"] ?? current.parentID.map(String.init) ?? "").trimmingCharacters(in: .whitespaces),
        ])
        let name = state.value("name").trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty { state.addError("请填写名称", for: "name") }
        let kind = GridKind(rawValue: state.value("kind"))
        if kind == nil { state.addError("请选择节点类型", for: "kind") }
        let code = state.value("code").trimmingCharacters(in: .whitespacesAndNewlines)
        if code.isEmpty { state.addError("请填写编码", for: "code") }
        let parentText = state.value("parent_id")
        var newParentID: Int64?
        if !parentText.isEmpty {
            if let value = Int64(parentText), value > 0 { newParentID = value } else { state.addError(parentOutOfScope, for: "parent_id") }
        }
        var status = HTTPStatus.unprocessableContent
        if !state.hasErrors, let kind {
            do {
                let grid = try ctx.gridStore.update(id, name: name, kind: kind, code: code, parentID: newParentID,
                                                    principal: ctx.principal, by: ctx.actor)
                return ctx.redirect("/grids/\(grid.id)", flash: .success("已保存网格节点「\(grid.name)」"))
            } catch let error as GridError {
                status = record(error, in: &state)
            } catch let error as FieldErrors {
                for (field, message) in error.errors { state.addError(message, for: field) }
            }
        }
        return try renderForm(ctx, editing: current, state: state, status: status)
    }

    /// The form shared by "new" and "edit" (`editing` nil for new).
    static func renderForm(_ ctx: Context, editing grid: Grid?, state: FormState,
                           status: HTTPStatus = .ok) throws -> HTTPResponse {
        let scope = ctx.scope
        let selectedParent = state.value("parent_id")
        // A scoped account cannot move the top node of its own scope: it has no parent to offer.
        let showParent = grid.map { scope.path == nil || scope.path != $0.path } ?? true
        let options: [any TemplateRecord] = try ctx.database.read { db in
            guard showParent else { return [] }
            let nodes = try GridQueries.parentCandidates(db, scope: scope, excludingSubtreeOf: grid?.path,
                                                         including: Int64(selectedParent))
            return GridViews.parentOptions(nodes, selected: selectedParent)
        }
        var data = state.context()
        data["isNew"] = grid == nil
        data["kindOptions"] = GridViews.kindOptions(selected: state.value("kind"))
        data["parentOptions"] = options
        data["showParent"] = showParent
        data["allowRoot"] = scope.path == nil
        data["rootSelected"] = selectedParent.isEmpty
        let title: String
        if let grid {
            title = "编辑网格节点"
            data["grid"] = ["id": grid.id, "name": grid.name] as [String: Any]
            data["action"] = "/grids/\(grid.id)/edit"
            data["cancelURL"] = "/grids/\(grid.id)"
        } else {
            title = "新建网格节点"
            data["action"] = "/grids/new"
            data["cancelURL"] = Int64(selectedParent).map { "/grids/\($0)" } ?? "/grids"
        }
        data["formTitle"] = title
        return try ctx.render("grids/form", title: title, data, status: status)
    }

    // MARK: - Move

    static func move(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let back = "/grids/\(id)"
        // An empty value means "top level" (admin only); a missing field is not a request to move.
        guard let raw = ctx.form["parent_id"] else {
            _ = try scopedGrid(ctx, id)
            return ctx.redirect(back, flash: .error(parentRequired))
        }
        let text = raw.trimmingCharacters(in: .whitespaces)
        var newParentID: Int64?
        if !text.isEmpty {
            guard let value = Int64(text), value > 0 else { return ctx.redirect(back, flash: .error(parentOutOfScope)) }
            newParentID = value
        }
        do {
            let (grid, parentName, changed) = try ctx.gridStore.move(id, to: newParentID, principal: ctx.principal, by: ctx.actor)
            guard changed else {
                return ctx.redirect(back, flash: .info("「\(grid.name)」已在所选位置，未作更改"))
            }
            let message = parentName.map { "已将「\(grid.name)」移到「\($0)」之下" } ?? "已将「\(grid.name)」设为顶级节点"
            return ctx.redirect(back, flash: .success(message))
        } catch let error as GridError {
            if case .notFound = error { throw HTTPError(.notFound) }
            return ctx.redirect(back, flash: .error(error.userMessage))
        } catch let error as FieldErrors {
            return ctx.redirect(back, flash: .error(error.errors.values.sorted().first ?? parentOutOfScope))
        }
    }

    /// Checks that `grid` may go under `newParentID` for this account; returns the new parent.
    /// The repository refuses a move under the node's own subtree with its own message.
    @discardableResult
    static func checkMoveTarget(_ db: Database, grid: Grid, to newParentID: Int64?, scope: Scope) throws -> Grid? {
        if let scopePath = scope.path, scopePath == grid.path { throw FieldErrors("parent_id", scopeRootImmovable) }
        guard let newParentID else {
            if scope.path != nil { throw FieldErrors("parent_id", parentRequired) }
            return nil
        }
        guard let parent = try Grids.find(db, newParentID), scope.contains(parent.path) else {
            throw FieldErrors("parent_id", parentOutOfScope)
        }
        return parent
    }

    // MARK: - Delete

    static func confirmDelete(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let (grid, counts) = try ctx.database.read { db -> (Grid, GridDetailCounts) in
            guard let grid = try Grids.find(db, id) else { throw HTTPError(.notFound) }
            try ctx.authorize(.manageGrids, gridPath: grid.path)
            return (grid, try GridQueries.detailCounts(db, of: grid))
        }
        var data: [String: Any] = ["grid": gridContext(grid, parent: nil)]
        if counts.children > 0 || counts.users > 0 || counts.workers > 0 {
            data["blockedReason"] = GridError.inUse(children: counts.children, users: counts.users,
                                                    workers: counts.workers).userMessage
        }
        return try ctx.render("grids/delete_confirm", title: "确认删除网格节点", data)
    }

    static func delete(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        do {
            let grid = try ctx.gridStore.delete(id, principal: ctx.principal, by: ctx.actor)
            // A node strictly inside the scope has its parent in the scope too.
            let destination = grid.parentID.map { "/grids/\($0)" } ?? "/grids"
            return ctx.redirect(destination, flash: .success("已删除网格节点「\(grid.name)」"))
        } catch let error as GridError {
            if case .notFound = error { throw HTTPError(.notFound) }
            return ctx.redirect("/grids/\(id)", flash: .error(error.userMessage))
        }
    }

    // MARK: - Grid workers

    static func assignWorker(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let back = "/grids/\(id)"
        guard let userID = Int64((ctx.form["user_id"] ?? "").trimmingCharacters(in: .whitespaces)), userID > 0 else {
            // Check the node first so an out-of-scope id still answers 404.
            _ = try scopedGrid(ctx, id)
            return ctx.redirect(back, flash: .error("请选择要分配的网格员"))
        }
        do {
            let (workerName, gridName) = try ctx.gridStore.assignWorker(userID, to: id, principal: ctx.principal, by: ctx.actor)
            return ctx.redirect(back, flash: .success("已将网格员「\(workerName)」分配到「\(gridName)」"))
        } catch let error as GridError {
            if case .notFound = error { throw HTTPError(.notFound) }
            return ctx.redirect(back, flash: .error(error.userMessage))
        } catch let error as FieldErrors {
            return ctx.redirect(back, flash: .error(error.errors.values.sorted().first ?? "无法分配该网格员"))
        }
    }

    static func removeWorker(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let userID = try ctx.request.id("userId")
        let back = "/grids/\(id)"
        do {
            let (workerName, gridName) = try ctx.gridStore.removeWorker(userID, from: id, principal: ctx.principal, by: ctx.actor)
            return ctx.redirect(back, flash: .success("已将网格员「\(workerName)」从「\(gridName)」移除"))
        } catch let error as GridError {
            if case .notFound = error { throw HTTPError(.notFound) }
            return ctx.redirect(back, flash: .error(error.userMessage))
        } catch let error as FieldErrors {
            return ctx.redirect(back, flash: .error(error.errors.values.sorted().first ?? "无法移除该网格员"))
        }
    }

    // MARK: - Helpers

    /// The node with `id` if this account may manage it: 404 when missing or out of scope.
    static func scopedGrid(_ ctx: Context, _ id: Int64) throws -> Grid {
        guard let grid = try ctx.database.read({ db in try Grids.find(db, id) }) else { throw HTTPError(.notFound) }
        try ctx.authorize(.manageGrids, gridPath: grid.path)
        return grid
    }

    /// Puts a repository refusal on the form field it concerns; returns the status to answer.
    static func record(_ error: GridError, in state: inout FormState) -> HTTPStatus {
        switch error {
        case .invalidName:
            state.addError(error.userMessage, for: "name")
            return .unprocessableContent
        case .duplicateName:
            state.addError(error.userMessage, for: "name")
            return .conflict
        case .invalidCode:
            state.addError(error.userMessage, for: "code")
            return .unprocessableContent
        case .duplicateCode:
            state.addError(error.userMessage, for: "code")
            return .conflict
        case .parentNotFound, .moveIntoOwnSubtree:
            state.addError(error.userMessage, for: "parent_id")
            return .unprocessableContent
        case .notFound, .inUse, .stillReferenced:
            state.addError(error.userMessage, for: "form")
            return .conflict
        }
    }
}
