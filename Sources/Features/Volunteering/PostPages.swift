import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// Volunteer posts 岗位 in the seven categories: staff create them and see who holds what and
/// which are empty; a member sees the posts near where they live first, and claims or leaves.
enum PostPages {
    static func index(_ ctx: Context) throws -> HTTPResponse {
        let scope = ctx.volunteerReach(on: "g.path")
        // Staff, grid workers and coordinators see who holds what; members see places left.
        let isStaff = !ctx.may(.joinVolunteering)
        let identity = ctx.may(.joinVolunteering) ? try ctx.volunteerIdentity() : nil
        let categoryText = String((ctx.query["category"] ?? "").prefix(10))
        let onlyEmpty = isStaff && ctx.query["empty"] == "1"
        var conditions = ["p.active = 1", scope.sql]
        var arguments: [any DatabaseValueConvertible] = scope.arguments
        if let category = Int64(categoryText) {
            conditions.append("p.category_id = ?")
            arguments.append(category)
        }
        // A grid's subtree (staff's filter).
        let gridText = isStaff ? String((ctx.query["grid"] ?? "").prefix(20)) : ""
        var gridFiltered = false
        if let gridID = try Choices.gridInScope(ctx, gridText),
           let path = try ctx.database.read({ db in try String.fetchOne(db, sql: "SELECT path FROM grids WHERE id = ?", arguments: [gridID]) }) {
            let range = GridPath.subtreeRange(of: path)
            conditions.append("g.path >= ? AND g.path < ?")
            arguments += [range.lower, range.upper]
            gridFiltered = true
        }
        if onlyEmpty { conditions.append("NOT EXISTS (SELECT 1 FROM post_holders h WHERE h.post_id = p.id AND h.ended_on IS NULL)") }
        // Near me: the member's own grid subtree first (party_members.grid_id).
        var nearOrder = "0"
        var orderArguments: [any DatabaseValueConvertible] = []
        if let near = identity?.memberGridPath.map(GridPath.subtreeRange) {
            nearOrder = "CASE WHEN g.path >= ? AND g.path < ? THEN 0 ELSE 1 END"
            orderArguments = [near.lower, near.upper]
        }
        let memberID = identity?.memberID ?? -1
        let (rows, categories) = try ctx.database.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT p.id, p.title, p.duty, p.capacity, c.name AS category, g.name AS grid, \(nearOrder) AS far,
                       (SELECT count(*) FROM post_holders h WHERE h.post_id = p.id AND h.ended_on IS NULL) AS held,
                       (SELECT group_concat(r.name, '、') FROM post_holders h JOIN party_members pm ON pm.id = h.member_id
                          JOIN residents r ON r.id = pm.resident_id WHERE h.post_id = p.id AND h.ended_on IS NULL) AS holders,
                       EXISTS (SELECT 1 FROM post_holders h WHERE h.post_id = p.id AND h.member_id = ? AND h.ended_on IS NULL) AS mine
                FROM posts p JOIN grids g ON g.id = p.grid_id JOIN service_categories c ON c.id = p.category_id
                WHERE \(conditions.joined(separator: " AND "))
                ORDER BY far, g.path, c.sort_order, p.id LIMIT 300
                """, arguments: StatementArguments(orderArguments + [memberID] + arguments))
            return (rows, try Choices.categories(db))
        }
        let posts: [[String: Any]] = rows.map { row in
            let held: Int = row["held"], capacity: Int = row["capacity"]
            return ["id": String(row["id"] as Int64), "title": row["title"] as String, "duty": Choices.shown(row["duty"] as String),
                    "category": row["category"] as String, "grid": row["grid"] as String, "held": held, "capacity": capacity,
                    "isFull": held >= capacity, "isEmpty": held == 0, "holders": Choices.shown(row["holders"] as String?),
                    "mine": row["mine"] as Bool, "near": identity?.memberGridPath != nil && (row["far"] as Int) == 0]
        }
        return try ctx.render("volunteering/posts/index", title: "志愿岗位", [
            "tabs": VolunteeringTabs.context(ctx, current: "/posts"), "posts": posts, "hasPosts": !posts.isEmpty,
            "isStaff": isStaff, "canManage": ctx.may(.manageVolunteering), "isMember": identity?.memberID != nil, "onlyEmpty": onlyEmpty,
            "categoryOptions": FormState.options(categories, selected: categoryText),
            "isFiltered": onlyEmpty || gridFiltered || Int64(categoryText) != nil,
            "gridOptions": isStaff ? try Choices.grids(ctx, selected: gridText) : [],
        ])
    }

    static func newForm(_ ctx: Context) throws -> HTTPResponse {
        try render(ctx, FormState(values: ["capacity": "1"]))
    }

    static func render(_ ctx: Context, _ state: FormState, status: HTTPStatus = .ok) throws -> HTTPResponse {
        var data = state.context()
        let categories = try ctx.database.read { db in try Choices.categories(db) }
        data["categoryOptions"] = FormState.options(categories, selected: state.value("category_id"))
        data["gridOptions"] = try Choices.grids(ctx, selected: state.value("grid_id"))
        data["tabs"] = VolunteeringTabs.context(ctx, current: "/posts")
        return try ctx.render("volunteering/posts/form", title: "新建志愿岗位", data, status: status)
    }

    static func create(_ ctx: Context) throws -> HTTPResponse {
        var state = FormState()
        for name in ["title", "category_id", "grid_id", "capacity"] { state.values[name] = ctx.formText(name, max: 60) }
        state.values["duty"] = ctx.formText("duty", max: 500)
        if state.value("title").isEmpty { state.addError("请填写岗位名称", for: "title") }
        let categories = try ctx.database.read { db in try Choices.categories(db) }
        if !categories.contains(where: { $0.value == state.value("category_id") }) { state.addError("请选择岗位类别", for: "category_id") }
        let gridID = try Choices.gridInScope(ctx, state.value("grid_id"))
        if gridID == nil { state.addError("请选择管辖范围内的网格", for: "grid_id") }
        let capacity = Int(state.value("capacity"))
        if capacity == nil || !(1...100).contains(capacity!) { state.addError("名额应为 1 到 100 之间的整数", for: "capacity") }
        guard let gridID, let capacity, let categoryID = Int64(state.value("category_id")), !state.hasErrors else {
            return try render(ctx, state, status: .unprocessableContent)
        }
        return try ctx.transition {
            _ = try ctx.volunteering.createPost(
                .init(categoryID: categoryID, gridID: gridID, title: state.value("title"), duty: state.value("duty"), capacity: capacity),
                by: try ctx.volunteerActor())
            return ctx.redirect("/posts", flash: .success("已新建岗位“\(state.value("title"))”。"))
        }
    }

    static func claim(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        return try ctx.transition {
            try ctx.volunteering.claimPost(id, by: try ctx.volunteerActor())
            return ctx.redirect(back(ctx), flash: .success("认领成功，感谢您的奉献！"))
        }
    }

    static func leave(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        return try ctx.transition {
            try ctx.volunteering.leavePost(id, by: try ctx.volunteerActor())
            return ctx.redirect(back(ctx), flash: .success("已退出该岗位。"))
        }
    }

    /// Back to `/me` when the form came from there, otherwise the posts list.
    static func back(_ ctx: Context) -> String {
        ctx.formText("back", max: 10) == "me" ? "/me" : "/posts"
    }
}
