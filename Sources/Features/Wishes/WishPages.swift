import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// The wish board, the form, a wish's page with its actions, the printable 心愿墙 and `/w/CODE`.
/// Names are masked (王**) everywhere but for staff on a wish's page and for the member who
/// claimed it; ID numbers never appear; the phone only as an audited reveal to the claimant.
enum WishPages {
    static var store: (Context) -> WishStore { { WishStore(database: $0.database) } }

    /// The account's own resident record (`users.resident_id`).
    static func ownResident(_ ctx: Context) throws -> Int64? {
        guard let user = ctx.user else { return nil }
        return try ctx.database.read { db in try WishStore.residentID(db, userID: user.id) }
    }

    static func shown(_ text: String?) -> Any {
        guard let text, !text.isEmpty else { return false }
        return text
    }

    // MARK: - Board

    static func index(_ ctx: Context) throws -> HTTPResponse {
        try store(ctx).sweep()
        guard let principal = ctx.principal else { throw HTTPError(.forbidden) }
        let role = principal.role
        let own = try ownResident(ctx) ?? -1
        let scope = ctx.scopeCondition(on: "w.grid_path")
        var conditions = [scope.sql]
        var arguments: [any DatabaseValueConvertible] = scope.arguments
        switch role {
        case .resident:
            conditions.append("w.resident_id = ?")
            arguments.append(own)
        case .member:
            conditions.append("(w.status = 'published' OR w.claimant_resident_id = ?)")
            arguments.append(own)
        default:
            break
        }
        let categoryText = String((ctx.query["category"] ?? "").prefix(10))
        if let category = Int64(categoryText) {
            conditions.append("w.category_id = ?")
            arguments.append(category)
        }
        let gridText = String((ctx.query["grid"] ?? "").prefix(20))
        if let gridID = Int64(gridText), let path = try ctx.database.read({ db in
            try String.fetchOne(db, sql: "SELECT path FROM grids WHERE id = ?", arguments: [gridID]) }), ctx.scope.contains(path) {
            let range = GridPath.subtreeRange(of: path)
            conditions.append("w.grid_path >= ? AND w.grid_path < ?")
            arguments += [range.lower, range.upper]
        }
        let statusText = String((ctx.query["status"] ?? "").prefix(12))
        if WishStatus(rawValue: statusText) != nil, role != .member {
            conditions.append("w.status = ?")
            arguments.append(statusText)
        }
        // Members: own claims first, then wishes near where they live (their party_members grid,
        // or their home building), then the rest. Staff: those waiting for review first.
        var order = "CASE w.status WHEN 'submitted' THEN 0 ELSE 1 END, w.id DESC"
        var orderArguments: [any DatabaseValueConvertible] = []
        if role == .member {
            let near = try ctx.database.read { db in
                try String.fetchOne(db, sql: """
                    SELECT coalesce(gm.path, gb.path) FROM residents r LEFT JOIN party_members pm ON pm.resident_id = r.id
                    LEFT JOIN grids gm ON gm.id = pm.grid_id LEFT JOIN grids gb ON gb.id = r.building_id WHERE r.id = ?
                    """, arguments: [own])
            }
            let range = near.map(GridPath.subtreeRange) ?? ("~", "~")
            order = "CASE WHEN w.claimant_resident_id = ? THEN 0 WHEN w.grid_path >= ? AND w.grid_path < ? THEN 1 ELSE 2 END, w.published_at DESC, w.id DESC"
            orderArguments = [own, range.0, range.1]
        }
        let (rows, categories, grids) = try ctx.database.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT w.id, w.code, w.title, w.status, w.value_yuan, c.name AS category, r.name AS wisher, b.name AS building,
                       e.name AS area, w.claimant_resident_id = ? AS mine
                FROM wishes w JOIN wish_categories c ON c.id = w.category_id JOIN residents r ON r.id = w.resident_id
                JOIN grids b ON b.id = w.grid_id LEFT JOIN grids e ON e.id = b.parent_id
                WHERE \(conditions.joined(separator: " AND "))
                ORDER BY \(order) LIMIT 200
                """, arguments: StatementArguments([own] + arguments + orderArguments))
            let categories = try Row.fetchAll(db, sql: "SELECT id, name FROM wish_categories ORDER BY sort_order, id").map {
                (value: String($0["id"] as Int64), label: $0["name"] as String)
            }
            let gridScope = ctx.scopeCondition(on: "path")
            let grids = try Row.fetchAll(db, sql: "SELECT id, name FROM grids WHERE kind = 'grid' AND \(gridScope.sql) ORDER BY path LIMIT 300",
                                         arguments: StatementArguments(gridScope.arguments)).map {
                (value: String($0["id"] as Int64), label: $0["name"] as String)
            }
            return (rows, categories, grids)
        }
        let wishes: [[String: Any]] = rows.map(card)
        return try ctx.render("wishes/index", title: "微心愿", [
            "wishes": wishes, "hasWishes": !wishes.isEmpty, "isMember": role == .member, "isResident": role == .resident,
            "canPost": ctx.may(.postWishes), "isStaff": ctx.may(.reviewWishes) || role == .gridWorker || role == .coordinator,
            "categoryOptions": FormState.options(categories, selected: categoryText),
            "gridOptions": FormState.options(grids, selected: gridText),
        ])
    }

    static func card(_ row: Row) -> [String: Any] {
        let status = WishStatus(rawValue: row["status"]) ?? .closed
        return ["id": String(row["id"] as Int64), "code": row["code"] as String, "title": row["title"] as String,
                "status": status.label, "badge": status.badge, "value": row["value_yuan"] as Int, "category": row["category"] as String,
                "wisher": Mask.name(row["wisher"] as String), "building": ((row["area"] as String?).map { $0 + " " } ?? "") + (row["building"] as String),
                "mine": (row["mine"] as Bool?) ?? false, "published": status == .published]
    }

    /// The printable 心愿墙 (A4): published wishes in scope with their short codes.
    static func wall(_ ctx: Context) throws -> HTTPResponse {
        try store(ctx).sweep()
        let scope = ctx.scopeCondition(on: "w.grid_path")
        let rows = try ctx.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT w.id, w.code, w.title, w.status, w.value_yuan, c.name AS category, r.name AS wisher, b.name AS building,
                       e.name AS area, 0 AS mine
                FROM wishes w JOIN wish_categories c ON c.id = w.category_id JOIN residents r ON r.id = w.resident_id
                JOIN grids b ON b.id = w.grid_id LEFT JOIN grids e ON e.id = b.parent_id
                WHERE w.status = 'published' AND \(scope.sql) ORDER BY w.grid_path, w.id LIMIT 60
                """, arguments: StatementArguments(scope.arguments))
        }
        let wishes = rows.map(card)
        return try ctx.render("wishes/wall", title: "心愿墙", ["wishes": wishes, "hasWishes": !wishes.isEmpty, "today": ChinaDate.today(ctx.clock.now)])
    }

    // MARK: - One wish

    struct Visible {
        let row: Row
        let wish: WishRow
    }

    /// The wish if this account may see it: 404 outside the scope, for someone else's wish
    /// (residents), and for a wish that is not on the board (members, unless they claimed it).
    static func visible(_ ctx: Context, _ id: Int64) throws -> Visible {
        guard let principal = ctx.principal else { throw HTTPError(.forbidden) }
        let own = try ownResident(ctx)
        let found = try ctx.database.read { db -> Visible? in
            guard let wish = try WishRow.find(db, id), let row = try Row.fetchOne(db, sql: """
                SELECT w.*, c.name AS category, r.name AS wisher, b.name AS building, e.name AS area, cr.name AS claimant,
                       p.mime AS photo_mime
                FROM wishes w JOIN wish_categories c ON c.id = w.category_id JOIN residents r ON r.id = w.resident_id
                JOIN grids b ON b.id = w.grid_id LEFT JOIN grids e ON e.id = b.parent_id
                LEFT JOIN residents cr ON cr.id = w.claimant_resident_id LEFT JOIN photos p ON p.hash = w.photo_hash
                WHERE w.id = ?
                """, arguments: [id]) else { return nil }
            return Visible(row: row, wish: wish)
        }
        guard let found, principal.scope.contains(found.wish.gridPath) else { throw HTTPError(.notFound) }
        switch principal.role {
        case .resident:
            guard found.wish.residentID == own else { throw HTTPError(.notFound) }
        case .member:
            guard found.wish.state == .published || (own != nil && found.wish.claimantResidentID == own) else { throw HTTPError(.notFound) }
        default:
            break
        }
        return found
    }

    static func show(_ ctx: Context, phone: String? = nil, status: HTTPStatus = .ok) throws -> HTTPResponse {
        try store(ctx).sweep()
        let id = try ctx.request.id()
        let found = try visible(ctx, id)
        let row = found.row, wish = found.wish, state = wish.state
        guard let principal = ctx.principal else { throw HTTPError(.forbidden) }
        let own = try ownResident(ctx)
        let isClaimant = own != nil && wish.claimantResidentID == own && principal.role == .member
        let isStaff = [.admin, .staff, .gridWorker, .coordinator].contains(principal.role)
        let isWisher = principal.role == .resident && wish.residentID == own
        let timeline = try ctx.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT t.action, t.to_state, t.note, t.at, u.display_name, u.role FROM timeline_events t LEFT JOIN users u ON u.id = t.user_id
                WHERE t.entity_type = 'wish' AND t.entity_id = ? ORDER BY t.id
                """, arguments: [id])
        }
        let labels = ctx.env.modules
        let events: [[String: Any]] = timeline.map { event in
            let who: String
            if let name = event["display_name"] as String? {
                who = isStaff ? name : Role(rawValue: event["role"] as String? ?? "")?.displayName ?? ""
            } else {
                who = "系统"
            }
            return ["label": labels.label(event["action"]), "at": ChinaDate.display(event["at"] as String?),
                    "who": who, "note": shown(event["note"])]
        }
        let wisherName: String = row["wisher"]
        // Staff see the name; the claimant once claimed; everyone else 王**.
        let showName = isStaff || isWisher || (isClaimant && state == .claimed)
        var data: [String: Any] = [
            "id": String(id), "code": wish.code, "title": wish.title, "description": shown(row["description"]),
            "category": row["category"] as String, "value": row["value_yuan"] as Int, "status": state.label, "badge": state.badge,
            "wisher": showName ? wisherName : Mask.name(wisherName),
            "building": ((row["area"] as String?).map { $0 + " " } ?? "") + (row["building"] as String),
            "claimant": shown((row["claimant"] as String?).map { isStaff || isClaimant ? $0 : Mask.name($0) }),
            "rejectReason": shown(row["reject_reason"]), "note": shown(wish.note), "hasPhoto": wish.photoHash != nil,
            "rating": (wish.rating ?? 0) > 0 ? String(repeating: "★", count: wish.rating ?? 0) : false,
            "comment": shown(row["comment"]), "events": events,
            "canReview": ctx.may(.reviewWishes) && state == .submitted,
            "canClaim": principal.role == .member && state == .published,
            "canWork": isClaimant && state == .claimed,
            "canRate": state == .completed && (isWisher || principal.role == .staff),
            "ratingOnBehalf": principal.role == .staff,
            "canCancel": (state == .submitted || state == .published) && (isWisher || principal.role == .staff),
            "phone": shown(phone),
        ]
        data["ratingOptions"] = (1...5).reversed().map { ["value": $0, "stars": String(repeating: "★", count: $0), "checked": $0 == 5] }
        return try ctx.render("wishes/show", title: wish.title, data, status: status)
    }

    static func show(_ ctx: Context) throws -> HTTPResponse { try show(ctx, phone: nil) }

    /// The board's "open by code" box: `/w?code=4L3SUS` goes to `/w/4L3SUS`.
    static func codeForm(_ ctx: Context) throws -> HTTPResponse {
        let code = String((ctx.query["code"] ?? "").trimmingCharacters(in: .whitespaces).uppercased().prefix(12))
        guard !code.isEmpty, code.allSatisfy({ WishStore.codeAlphabet.contains($0) }) else {
            throw HTTPError(.notFound, "没有这个心愿编号，请核对心愿墙上的 6 位编号。")
        }
        return ctx.redirect("/w/\(code)")
    }

    static func byCode(_ ctx: Context) throws -> HTTPResponse {
        let code = String((ctx.request.parameters["code"] ?? "").uppercased().prefix(12))
        guard let id = try ctx.database.read({ db in try Int64.fetchOne(db, sql: "SELECT id FROM wishes WHERE code = ?", arguments: [code]) })
        else { throw HTTPError(.notFound, "没有这个心愿编号，请核对心愿墙上的 6 位编号。") }
        _ = try visible(ctx, id)
        return ctx.redirect("/wishes/\(id)")
    }

    static func photo(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let found = try visible(ctx, id)
        guard let hash = found.wish.photoHash, let mime = found.row["photo_mime"] as String? else { throw HTTPError(.notFound) }
        return try PhotoFiles.response(hash, mime: mime, database: ctx.database)
    }

    // MARK: - Form

    static func newForm(_ ctx: Context) throws -> HTTPResponse {
        try renderForm(ctx, FormState(values: ["value": "0"]))
    }

    static func renderForm(_ ctx: Context, _ state: FormState, status: HTTPStatus = .ok) throws -> HTTPResponse {
        var data = state.context()
        let onBehalf = ctx.principal?.role != .resident
        let (categories, cap) = try ctx.database.read { db in
            (try Row.fetchAll(db, sql: "SELECT id, name FROM wish_categories ORDER BY sort_order, id").map {
                (value: String($0["id"] as Int64), label: $0["name"] as String)
            }, try WishSettings.load(db).valueCap)
        }
        data["categoryOptions"] = FormState.options(categories, selected: state.value("category"))
        data["onBehalf"] = onBehalf
        data["cap"] = cap
        var q = String((ctx.query["q"] ?? "").trimmingCharacters(in: .whitespaces).prefix(30))
        if q.isEmpty, let chosen = Int64(state.value("resident_id")) { q = "#\(chosen)" }
        if onBehalf, !q.isEmpty {
            data["q"] = q
            let matches = try residentMatches(ctx, q, selected: state.value("resident_id"))
            data["matches"] = matches
            data["noMatches"] = matches.isEmpty
        }
        return try ctx.render("wishes/new", title: "提交心愿", data, status: status)
    }

    /// Residents in scope by the beginning of the name or the last 4 of the ID number (never
    /// more of the number: `NumberQuery`).
    static func residentMatches(_ ctx: Context, _ q: String, selected: String) throws -> [[String: Any]] {
        let scope = ctx.scopeCondition(on: "g.path")
        var condition: String
        var arguments: [any DatabaseValueConvertible] = scope.arguments
        if q.hasPrefix("#"), let id = Int64(q.dropFirst()) {
            condition = "r.id = ?"
            arguments.append(id)
        } else {
            switch NumberQuery.classify(q) {
            case .visibleTail(let tail):
                let reversed = String(tail.reversed())
                condition = "r.id_number_rev >= ? AND r.id_number_rev < ?"
                arguments += [reversed, reversed + "\u{FFFF}"]
            case .partial, .fullPhone, .fullIDNumber:
                throw HTTPError(.badRequest, NumberQuery.refusal)
            case .none:
                condition = "r.name LIKE ? ESCAPE '\\'"
                arguments.append(q.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                                    .replacingOccurrences(of: "_", with: "\\_") + "%")
            }
        }
        let rows = try ctx.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.id, r.name, r.id_number, g.name AS building FROM residents r JOIN grids g ON g.id = r.building_id
                WHERE r.status = 'active' AND \(scope.sql) AND \(condition) ORDER BY r.name, r.id LIMIT 20
                """, arguments: StatementArguments(arguments))
        }
        return rows.map { row in
            let id = String(row["id"] as Int64)
            return ["id": id, "name": row["name"] as String, "idNumber": Mask.idNumber(row["id_number"]),
                    "building": row["building"] as String, "checked": id == selected || rows.count == 1]
        }
    }

    static func create(_ ctx: Context) throws -> HTTPResponse {
        var state = FormState()
        state.values["title"] = ctx.text("title", max: 80)
        state.values["description"] = ctx.text("description", max: 1200)
        state.values["category"] = ctx.text("category", max: 10)
        state.values["value"] = ctx.text("value", max: 10)
        state.values["resident_id"] = ctx.text("resident_id", max: 20)
        do {
            let id = try store(ctx).create(
                NewWish(title: state.value("title"), description: state.value("description"), categoryID: Int64(state.value("category")),
                        value: state.value("value"), residentID: Int64(state.value("resident_id"))),
                principal: ctx.principal, actor: ctx.actor)
            return ctx.redirect("/wishes/\(id)", flash: .success("心愿已提交，社区审核后发布。"))
        } catch let fields as FieldErrors {
            for (field, message) in fields.errors { state.addError(message, for: field) }
            return try renderForm(ctx, state, status: .unprocessableContent)
        }
    }

    // MARK: - Transitions

    static func approve(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        try store(ctx).approve(id, principal: ctx.principal, actor: ctx.actor)
        return ctx.redirect("/wishes/\(id)", flash: .success("心愿已发布。"))
    }

    static func reject(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        try store(ctx).reject(id, reason: ctx.text("reason"), principal: ctx.principal, actor: ctx.actor)
        return ctx.redirect("/wishes/\(id)", flash: .success("已退回该心愿。"))
    }

    static func claim(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        try store(ctx).claim(id, principal: ctx.principal, actor: ctx.actor)
        return ctx.redirect("/wishes/\(id)", flash: .success("认领成功！请尽快联系许愿人，完成后上传照片结单。"))
    }

    static func release(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        try store(ctx).release(id, reason: ctx.text("reason"), principal: ctx.principal, actor: ctx.actor)
        return ctx.redirect("/wishes", flash: .success("已放弃认领，心愿回到待认领。"))
    }

    static func complete(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        // Decide before anything reaches the disk: only the claimant of a claimed wish uploads.
        // (The store decides again inside its transaction.)
        let wish = try ctx.database.read { db in try WishStore.load(db, id) }
        try Policy.require(ctx.principal, .claimWishes, gridPath: wish.gridPath, ownerID: wish.claimantUserID, ownerOnly: true)
        guard wish.state == .claimed else { throw Conflict(WishStatus.refusal(from: wish.state, to: .completed)) }
        let photo = try PhotoFiles.upload(ctx.multipart?.file("photo"), database: ctx.database)
        try store(ctx).complete(id, note: ctx.text("note", max: 500), photo: photo, principal: ctx.principal, actor: ctx.actor)
        return ctx.redirect("/wishes/\(id)", flash: .success("已结单，等待许愿人评价。"))
    }

    static func phone(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let phone = try store(ctx).revealPhone(id, principal: ctx.principal, actor: ctx.actor)
        return try show(ctx, phone: phone.isEmpty ? "（未登记电话）" : phone)
    }

    static func rate(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        try store(ctx).rate(id, rating: Int(ctx.text("rating", max: 2)), comment: ctx.text("comment", max: 500),
                            principal: ctx.principal, actor: ctx.actor)
        return ctx.redirect("/wishes/\(id)", flash: .success("感谢您的评价！"))
    }

    static func cancel(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        try store(ctx).cancel(id, reason: ctx.text("reason"), principal: ctx.principal, actor: ctx.actor)
        return ctx.redirect("/wishes/\(id)", flash: .success("心愿已撤销。"))
    }
}

/// `/notifications`: the account's own, newest first; "mark all read".
enum NotificationPages {
    static func index(_ ctx: Context) throws -> HTTPResponse {
        let user = try ctx.requireUser()
        let rows = try ctx.database.read { db in
            try Row.fetchAll(db, sql: "SELECT text, link, read_at, created_at FROM notifications WHERE user_id = ? ORDER BY id DESC LIMIT 100",
                             arguments: [user.id])
        }
        let items: [[String: Any]] = rows.map { row in
            ["text": row["text"] as String, "link": WishPages.shown(row["link"]), "unread": (row["read_at"] as String?) == nil,
             "at": ChinaDate.display(row["created_at"] as String?)]
        }
        return try ctx.render("wishes/notifications", title: "消息通知", [
            "items": items, "hasItems": !items.isEmpty, "hasUnread": items.contains { $0["unread"] as? Bool == true },
        ])
    }

    static func markRead(_ ctx: Context) throws -> HTTPResponse {
        let user = try ctx.requireUser()
        try ctx.database.write { db in
            try db.execute(sql: "UPDATE notifications SET read_at = \(Timestamp.nowSQL) WHERE user_id = ? AND read_at IS NULL",
                           arguments: [user.id])
        }
        return ctx.redirect("/notifications")
    }
}
