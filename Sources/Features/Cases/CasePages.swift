import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// `/cases`: the list (phone-first: open cases by time left), the report form, a case's page
/// with the actions its state and the viewer's role allow, and its photos.
enum CasePages {
    static var store: (Context) -> CaseStore { { CaseStore(database: $0.database) } }
    static let perPage = 30

    static func now(_ ctx: Context) -> Int64 { CaseStore.seconds(ctx.clock.now) }

    static func shown(_ text: String?) -> Any {
        guard let text, !text.isEmpty else { return false }
        return text
    }

    /// The condition that limits cases to what this account may see: the unit subtree (unit
    /// handlers), their own reports (residents and members), the grid scope (everyone else).
    static func visibility(_ ctx: Context, alias: String = "c") throws -> (sql: String, arguments: [any DatabaseValueConvertible]) {
        guard let principal = ctx.principal else { return ("0", []) }
        switch principal.role {
        case .unitHandler:
            guard let unitPath = principal.scope.unitPath else { return ("0", []) }
            let range = GridPath.subtreeRange(of: unitPath)
            return ("(\(alias).unit_path >= ? AND \(alias).unit_path < ?)", [range.lower, range.upper])
        case .resident, .member:
            let own = try ctx.database.read { db in
                try Int64.fetchOne(db, sql: "SELECT resident_id FROM users WHERE id = ?", arguments: [principal.userID])
            }
            return ("(\(alias).reporter_id = ? OR \(alias).resident_id = ?)", [principal.userID, own ?? -1])
        default:
            let scope = ctx.scopeCondition(on: "\(alias).grid_path")
            return (scope.sql, scope.arguments)
        }
    }

    /// "剩余 2.5 小时" / "超时 40 分钟" for a running clock; nil when none runs.
    static func timeLeft(dueAt: Int64?, warnAt: Int64?, now: Int64) -> (text: String, overdue: Bool, soon: Bool)? {
        guard let dueAt else { return nil }
        if now > dueAt { return ("超时 " + CaseRates.duration(Double(now - dueAt)), true, false) }
        return ("剩余 " + CaseRates.duration(Double(dueAt - now)), false, warnAt.map { now >= $0 } ?? false)
    }

    static func display(_ seconds: Int64?) -> String {
        guard let seconds else { return "" }
        return ChinaDate.display(Timestamp.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))))
    }

    /// A `datetime-local` value (Beijing time) for `seconds`.
    static func localInput(_ seconds: Int64) -> String {
        display(seconds).replacingOccurrences(of: " ", with: "T")
    }

    /// Reads a `datetime-local` value (`2026-12-05T18:00`, Beijing time); nil for empty, 422 for nonsense.
    static func deadline(_ ctx: Context) throws -> Int64? {
        let raw = ctx.text("deadline", max: 20)
        if raw.isEmpty { return nil }
        let parts = raw.split(separator: "T")
        guard parts.count == 2, let day = ChinaDate.startOfDay(String(parts[0])) else {
            throw FieldErrors("deadline", "办理时限的格式不对，请重新选择")
        }
        let time = parts[1].split(separator: ":").compactMap { Int($0) }
        guard time.count >= 2, (0...23).contains(time[0]), (0...59).contains(time[1]) else {
            throw FieldErrors("deadline", "办理时限的格式不对，请重新选择")
        }
        return CaseStore.seconds(day) + Int64(time[0] * 3600 + time[1] * 60)
    }

    // MARK: - List

    enum View: String, CaseIterable {
        case open, overdue, soon, resolved, done, all

        var label: String {
            switch self {
            case .open: "办理中"
            case .overdue: "已超时"
            case .soon: "即将超时"
            case .resolved: "待回访"
            case .done: "已办结"
            case .all: "全部"
            }
        }

        func condition(now: Int64) -> (String, [any DatabaseValueConvertible]) {
            switch self {
            case .open: ("c.status IN ('reported', 'accepted', 'assigned', 'in_progress', 'paused')", [])
            case .overdue: ("c.due_at IS NOT NULL AND c.due_at < ?", [now])
            case .soon: ("c.due_at >= ? AND c.warn_at <= ?", [now, now])
            case .resolved: ("c.status = 'resolved'", [])
            case .done: ("c.status IN ('visited', 'closed', 'merged')", [])
            case .all: ("1", [])
            }
        }
    }

    static func index(_ ctx: Context) throws -> HTTPResponse {
        guard let principal = ctx.principal else { throw HTTPError(.forbidden) }
        let now = now(ctx)
        let view = View(rawValue: ctx.query["view"] ?? "") ?? .open
        let visible = try visibility(ctx)
        var conditions = [visible.sql]
        var arguments = visible.arguments
        let (viewSQL, viewArguments) = view.condition(now: now)
        conditions.append(viewSQL)
        arguments += viewArguments
        let categoryText = String((ctx.query["category"] ?? "").prefix(10))
        if let category = Int64(categoryText) {
            conditions.append("c.category_id = ?")
            arguments.append(category)
        }
        let q = String((ctx.query["q"] ?? "").trimmingCharacters(in: .whitespaces).prefix(40))
        if !q.isEmpty {
            if let number = Int64(q.trimmingCharacters(in: CharacterSet(charactersIn: "#"))) {
                conditions.append("c.id = ?")
                arguments.append(number)
            } else {
                conditions.append("(c.description LIKE ? ESCAPE '\\' OR c.location LIKE ? ESCAPE '\\')")
                let pattern = "%" + q.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                    .replacingOccurrences(of: "_", with: "\\_") + "%"
                arguments += [pattern, pattern]
            }
        }
        let page = Int(ctx.query["page"] ?? "") ?? 1
        let whereSQL = conditions.joined(separator: " AND ")
        // Time left first: the running clocks by deadline, then the rest newest first.
        let order = view == .done || view == .all || view == .resolved
            ? "c.id DESC" : "c.due_at IS NULL, c.due_at, c.id DESC"
        let (rows, total, categories) = try ctx.database.read { db in
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM cases c WHERE \(whereSQL)", arguments: StatementArguments(arguments)) ?? 0
            let pagination = Pagination(page: page, perPage: perPage, total: total)
            let rows = try Row.fetchAll(db, sql: """
                SELECT c.id, c.status, c.description, c.location, c.due_at, c.warn_at, c.urgent, c.reported_at,
                       k.name AS category, g.name AS grid, u.name AS unit
                FROM cases c JOIN case_categories k ON k.id = c.category_id JOIN grids g ON g.id = c.grid_id
                LEFT JOIN units u ON u.id = c.unit_id
                WHERE \(whereSQL) ORDER BY \(order) LIMIT ? OFFSET ?
                """, arguments: StatementArguments(arguments + [perPage, pagination.offset]))
            let categories = try Row.fetchAll(db, sql: "SELECT id, name FROM case_categories ORDER BY sort_order, id").map {
                (value: String($0["id"] as Int64), label: $0["name"] as String)
            }
            return (rows, pagination, categories)
        }
        let cases = rows.map { card($0, now: now) }
        var data: [String: Any] = [
            "cases": cases, "hasCases": !cases.isEmpty, "q": q,
            "views": View.allCases.map { ["value": $0.rawValue, "label": $0.label, "current": $0 == view] as [String: Any] },
            "categoryOptions": FormState.options(categories, selected: categoryText),
            "canReport": ctx.may(.reportCases), "canRates": ctx.may(.viewCaseRates),
            "canSetup": ctx.may(.manageCaseSetup),
            "heading": principal.role == .unitHandler ? "本部门诉求工单" : principal.role == .resident || principal.role == .member ? "我反映的问题" : "诉求工单",
        ]
        data.merge(total.context(path: "/cases", query: [("view", view.rawValue), ("category", categoryText), ("q", q)])) { $1 }
        return try ctx.render("cases/index", title: "诉求工单", data)
    }

    static func card(_ row: Row, now: Int64) -> [String: Any] {
        let status = CaseStatus(rawValue: row["status"]) ?? .closed
        let left = timeLeft(dueAt: row["due_at"], warnAt: row["warn_at"], now: now)
        let description: String = row["description"]
        return [
            "id": String(row["id"] as Int64), "status": status.label, "badge": status.badge,
            "summary": description.count > 60 ? String(description.prefix(60)) + "…" : description,
            "location": shown(row["location"]), "category": row["category"] as String, "grid": row["grid"] as String,
            "unit": shown(row["unit"]), "urgent": (row["urgent"] as Int64? ?? 0) == 1,
            "timeLeft": shown(left?.text), "overdue": left?.overdue ?? false, "soon": left?.soon ?? false,
            "reportedAt": display(row["reported_at"]),
        ]
    }

    // MARK: - Report form

    static func newForm(_ ctx: Context) throws -> HTTPResponse {
        try renderForm(ctx, FormState())
    }

    static func renderForm(_ ctx: Context, _ state: FormState, status: HTTPStatus = .ok) throws -> HTTPResponse {
        guard let principal = ctx.principal else { throw HTTPError(.forbidden) }
        var data = state.context()
        let gridScope = ctx.scopeCondition(on: "path")
        let (categories, grids) = try ctx.database.read { db in
            let categories = try Row.fetchAll(db, sql: """
                SELECT id, name, urgent, response_minutes, resolution_hours FROM case_categories WHERE active = 1 ORDER BY sort_order, id
                """).map { row -> (value: String, label: String) in
                let urgent = (row["urgent"] as Int64? ?? 0) == 1
                return (String(row["id"] as Int64), (row["name"] as String) + (urgent ? "（紧急）" : ""))
            }
            let grids = principal.role == .resident || principal.role == .member ? [] : try Row.fetchAll(db, sql: """
                SELECT id, name, kind FROM grids WHERE kind IN ('community', 'estate', 'grid') AND \(gridScope.sql) ORDER BY path LIMIT 400
                """, arguments: StatementArguments(gridScope.arguments)).map {
                (value: String($0["id"] as Int64), label: $0["name"] as String)
            }
            return (categories, grids)
        }
        data["categoryOptions"] = FormState.options(categories, selected: state.value("category"))
        data["gridOptions"] = FormState.options(grids, selected: state.value("grid_id"))
        data["chooseGrid"] = !grids.isEmpty
        data["isStaff"] = principal.role == .staff
        data["forResident"] = principal.role == .staff || principal.role == .gridWorker
        return try ctx.render("cases/new", title: "反映问题", data, status: status)
    }

    static func create(_ ctx: Context) throws -> HTTPResponse {
        var state = FormState()
        for (field, max) in [("category", 10), ("description", 1200), ("location", 220), ("grid_id", 20), ("resident_id", 20)] {
            state.values[field] = ctx.text(field, max: max)
        }
        let files = (ctx.multipart?.files(for: "photo") ?? []).filter { $0.size > 0 }
        do {
            guard files.count <= 3 else { throw FieldErrors("photo", "最多上传 3 张照片") }
            // Decide before anything reaches the disk.
            try Policy.require(ctx.principal, .reportCases)
            let photos = try files.compactMap { try PhotoFiles.upload($0, database: ctx.database) }
            let id = try store(ctx).report(
                NewCase(categoryID: Int64(state.value("category")), description: state.value("description"),
                        location: state.value("location"), gridID: Int64(state.value("grid_id")),
                        residentID: Int64(state.value("resident_id")), phoneCall: ctx.text("phone_call", max: 5) == "1",
                        photos: photos),
                principal: ctx.principal, actor: ctx.actor)
            return ctx.redirect("/cases/\(id)", flash: .success("已提交，工单编号 #\(id)。社区将在时限内受理。"))
        } catch let fields as FieldErrors {
            for (field, message) in fields.errors { state.addError(message, for: field) }
            return try renderForm(ctx, state, status: .unprocessableContent)
        }
    }

    // MARK: - One case

    /// The case if this account may see it; 404 otherwise (outside the scope, another unit's,
    /// someone else's report).
    static func visible(_ ctx: Context, _ id: Int64) throws -> Row {
        let visible = try visibility(ctx)
        guard let row = try ctx.database.read({ db in
            try Row.fetchOne(db, sql: """
                SELECT c.*, k.name AS category, k.code AS category_code, g.name AS grid, u.name AS unit, u.path AS unit_tree_path,
                       r.name AS resident, rp.display_name AS reporter, rp.role AS reporter_role
                FROM cases c JOIN case_categories k ON k.id = c.category_id JOIN grids g ON g.id = c.grid_id
                LEFT JOIN units u ON u.id = c.unit_id LEFT JOIN residents r ON r.id = c.resident_id
                LEFT JOIN users rp ON rp.id = c.reporter_id
                WHERE c.id = ? AND \(visible.sql)
                """, arguments: StatementArguments([id] + visible.arguments))
        }) else { throw HTTPError(.notFound, "没有找到这条诉求工单。") }
        return row
    }

    static func show(_ ctx: Context) throws -> HTTPResponse {
        try show(ctx, id: try ctx.request.id())
    }

    static func show(_ ctx: Context, id: Int64, state formState: FormState = FormState(), status: HTTPStatus = .ok) throws -> HTTPResponse {
        guard let principal = ctx.principal else { throw HTTPError(.forbidden) }
        let row = try visible(ctx, id)
        let record = CaseRow(row: row)
        let state = record.state
        let now = now(ctx)
        let role = principal.role
        let isStaffSide = [.admin, .staff, .gridWorker, .coordinator, .unitHandler].contains(role)
        let (timeline, photos, units) = try ctx.database.read { db in
            let timeline = try Row.fetchAll(db, sql: """
                SELECT t.action, t.from_state, t.to_state, t.note, t.at, u.display_name, u.role FROM timeline_events t
                LEFT JOIN users u ON u.id = t.user_id WHERE t.entity_type = 'case' AND t.entity_id = ? ORDER BY t.id
                """, arguments: [id])
            let photos = try Row.fetchAll(db, sql: "SELECT hash, stage FROM case_photos WHERE case_id = ? ORDER BY stage, hash", arguments: [id])
            return (timeline, photos, try Units.all(db, activeOnly: true))
        }
        let labels = ctx.env.modules
        let events: [[String: Any]] = timeline.map { event in
            let who: String
            if let name = event["display_name"] as String? {
                let roleName = Role(rawValue: event["role"] as String? ?? "")?.displayName ?? ""
                who = isStaffSide ? "\(name)（\(roleName)）" : roleName
            } else {
                who = "系统"
            }
            return ["label": labels.label(event["action"]), "at": ChinaDate.display(event["at"] as String?), "who": who,
                    "note": shown(event["note"])]
        }
        let handler = role == .staff || (role == .unitHandler && principal.scope.containsUnit(record.unitPath))
        let currentUnit = units.first { $0.id == record.unitID }
        let higher = currentUnit.map { current in units.filter { $0.depth < current.depth } } ?? []
        let left = timeLeft(dueAt: record.clock.dueAt, warnAt: record.clock.warnAt, now: now)
        let clock = record.clock
        let defaultDeadline = clock.deadline ?? (now + clock.resolutionTarget)
        var data = formState.context()
        data["id"] = String(id)
        data["status"] = state.label
        data["badge"] = state.badge
        data["category"] = row["category"] as String
        data["description"] = row["description"] as String
        data["location"] = shown(row["location"])
        data["grid"] = row["grid"] as String
        data["unit"] = shown(row["unit"])
        data["urgent"] = (row["urgent"] as Int64? ?? 0) == 1
        data["resident"] = shown((row["resident"] as String?).map { isStaffSide && role != .unitHandler ? $0 : Mask.name($0) })
        data["reporter"] = shown(isStaffSide ? (row["reporter"] as String?).map { name in
                name + "（" + (Role(rawValue: row["reporter_role"] as String? ?? "")?.displayName ?? "") + "）" } : nil)
        data["source"] = sourceLabel(row["source"])
        data["reportedAt"] = display(clock.reportedAt)
        data["acceptedAt"] = shown(display(clock.acceptedAt))
        data["responseTime"] = shown(clock.responseSeconds.map { CaseRates.duration(Double($0)) + (clock.respondedInTime == true ? "（及时）" : "（超时）") })
        let deadline = display(clock.deadline), originalDeadline = display(clock.originalDeadline)
        data["deadline"] = shown(deadline)
        // Only a deadline that moved by at least the minute shown is worth "原定".
        data["originalDeadline"] = shown(originalDeadline != deadline ? originalDeadline : nil)
        data["elapsed"] = shown(clock.acceptedAt != nil ? CaseRates.duration(Double(clock.elapsed(at: now))) : nil)
        data["pausedTotal"] = shown(clock.pausedSeconds > 0 ? CaseRates.duration(Double(clock.pausedSeconds)) : nil)
        data["resolutionTime"] = shown(clock.resolutionSeconds.map { CaseRates.duration(Double($0)) + (clock.resolvedInTime == true ? "（按期）" : "（超期）") })
        data["timeLeft"] = shown(left?.text)
        data["overdue"] = left?.overdue ?? false
        data["soon"] = left?.soon ?? false
        data["resolveNote"] = shown(record.resolveNote)
        data["satisfaction"] = shown(record.satisfaction.flatMap(Satisfaction.init(rawValue:))?.label)
        data["visitNote"] = shown(record.visitNote)
        data["mergedInto"] = shown(record.mergedIntoID.map(String.init))
        data["reopenCount"] = record.reopenCount
        data["escalationCount"] = record.escalationCount
        data["supervisionCount"] = record.supervisionCount
        data["reportPhotos"] = photos.filter { $0["stage"] as String == "report" }.map { ["hash": $0["hash"] as String] }
        data["resolvePhotos"] = photos.filter { $0["stage"] as String == "resolve" }.map { ["hash": $0["hash"] as String] }
        data["hasReportPhotos"] = photos.contains { $0["stage"] as String == "report" }
        data["hasResolvePhotos"] = photos.contains { $0["stage"] as String == "resolve" }
        data["events"] = events
        data["canAccept"] = role == .staff && state == .reported
        data["canAssign"] = role == .staff && state == .accepted
        data["canMerge"] = role == .staff && (state == .reported || state == .accepted)
        data["canSign"] = handler && state == .assigned
        data["canReturn"] = handler && state == .assigned
        data["canEscalate"] = handler && (state == .assigned || state == .inProgress) && !higher.isEmpty
        data["canPause"] = handler && (state == .accepted || state == .assigned || state == .inProgress)
        data["canResume"] = handler && state == .paused
        data["canResolve"] = handler && state == .inProgress
        data["canVisit"] = (role == .staff || role == .gridWorker) && state == .resolved
        data["canClose"] = (role == .staff || role == .gridWorker) && state == .visited
        data["canSupervise"] = role == .coordinator && clock.isOverdue(at: now)
        data["unitOptions"] = FormState.options(Units.choices(units), selected: formState.value("unit_id").isEmpty
                ? try defaultUnit(ctx, record).map(String.init) : formState.value("unit_id"))
        data["higherOptions"] = FormState.options(Units.choices(higher), selected: formState.value("unit_id"))
        data["defaultDeadline"] = localInput(defaultDeadline)
        data["satisfactionOptions"] = Satisfaction.allCases.map { ["value": $0.rawValue, "label": $0.label, "checked": $0 == .satisfied] as [String: Any] }
        return try ctx.render("cases/show", title: "工单 #\(id)", data, status: status)
    }

    static func defaultUnit(_ ctx: Context, _ record: CaseRow) throws -> Int64? {
        try ctx.database.read { db in
            try Int64.fetchOne(db, sql: "SELECT default_unit_id FROM case_categories WHERE id = ?", arguments: [record.categoryID])
        }
    }

    static func sourceLabel(_ source: String?) -> String {
        switch source {
        case "grid": "网格员上报"
        case "resident": "居民反映"
        case "phone": "来电登记"
        default: "社区登记"
        }
    }

    static func photo(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        _ = try visible(ctx, id)
        let hash = String((ctx.request.parameters["hash"] ?? "").prefix(64))
        guard let mime = try ctx.database.read({ db in
            try String.fetchOne(db, sql: """
                SELECT p.mime FROM case_photos cp JOIN photos p ON p.hash = cp.hash WHERE cp.case_id = ? AND cp.hash = ?
                """, arguments: [id, hash])
        }) else { throw HTTPError(.notFound) }
        return try PhotoFiles.response(hash, mime: mime, database: ctx.database)
    }

    // MARK: - Transitions

    /// Runs a transition; a form problem shows the case again with the message (422).
    static func act(_ ctx: Context, success: String, _ body: (CaseStore, Int64) throws -> Void) throws -> HTTPResponse {
        let id = try ctx.request.id()
        do {
            try body(store(ctx), id)
            return ctx.redirect("/cases/\(id)", flash: .success(success))
        } catch let fields as FieldErrors {
            var state = FormState()
            for (field, message) in fields.errors { state.addError(message, for: field) }
            state.values = ["unit_id": ctx.text("unit_id", max: 20)]
            return try show(ctx, id: id, state: state, status: .unprocessableContent)
        }
    }

    /// `accept`: the community's 受理 of a reported case, or the unit's 签收 of an assigned one.
    static func accept(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let current = try ctx.database.read { db in try CaseRow.find(db, id) }
        let note = ctx.text("note", max: 500)
        // A unit handler only ever signs for a case (so a case outside the unit is "not found").
        if current?.state == .assigned || ctx.principal?.role == .unitHandler {
            return try act(ctx, success: "已签收，请在时限内办结。") { try $0.unitAccept($1, note: note, principal: ctx.principal, actor: ctx.actor) }
        }
        return try act(ctx, success: "已受理，请派单。") { try $0.accept($1, note: note, principal: ctx.principal, actor: ctx.actor) }
    }

    static func assign(_ ctx: Context) throws -> HTTPResponse {
        try act(ctx, success: "已派单。") {
            try $0.assign($1, unitID: Int64(ctx.text("unit_id", max: 20)), deadline: try deadline(ctx), note: ctx.text("note", max: 500),
                          principal: ctx.principal, actor: ctx.actor)
        }
    }

    static func giveBack(_ ctx: Context) throws -> HTTPResponse {
        try act(ctx, success: "已退回社区重新派单。") { try $0.giveBack($1, reason: ctx.text("reason", max: 500), principal: ctx.principal, actor: ctx.actor) }
    }

    static func escalate(_ ctx: Context) throws -> HTTPResponse {
        try act(ctx, success: "已吹哨上报。") {
            try $0.escalate($1, unitID: Int64(ctx.text("unit_id", max: 20)), deadline: try deadline(ctx), reason: ctx.text("reason", max: 500),
                            principal: ctx.principal, actor: ctx.actor)
        }
    }

    static func pause(_ ctx: Context) throws -> HTTPResponse {
        try act(ctx, success: "已挂起，办理时限暂停计算。") { try $0.pause($1, reason: ctx.text("reason", max: 500), principal: ctx.principal, actor: ctx.actor) }
    }

    static func resume(_ ctx: Context) throws -> HTTPResponse {
        try act(ctx, success: "已恢复办理，时限顺延。") { try $0.resume($1, note: ctx.text("note", max: 500), principal: ctx.principal, actor: ctx.actor) }
    }

    static func resolve(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        // Decide before anything reaches the disk (the store decides again in its transaction).
        let current = try ctx.database.read { db in try CaseStore.load(db, id) }
        try Policy.require(ctx.principal, .handleCases, gridPath: current.gridPath, unitPath: current.unitPath)
        guard current.state == .inProgress else { throw Conflict(CaseStatus.refusal(from: current.state, to: .resolved)) }
        let files = (ctx.multipart?.files(for: "photo") ?? []).filter { $0.size > 0 }
        return try act(ctx, success: "已办结，等待回访。") { store, id in
            guard files.count <= 3 else { throw FieldErrors("photo", "最多上传 3 张照片") }
            let photos = try files.compactMap { try PhotoFiles.upload($0, database: ctx.database) }
            try store.resolve(id, note: ctx.text("note", max: 500), photos: photos, principal: ctx.principal, actor: ctx.actor)
        }
    }

    static func visit(_ ctx: Context) throws -> HTTPResponse {
        let satisfaction = ctx.text("satisfaction", max: 20)
        return try act(ctx, success: satisfaction == "unsatisfied" ? "已记录回访：不满意，工单已退回承办部门重新办理。" : "已记录回访。") {
            try $0.visit($1, satisfaction: satisfaction, note: ctx.text("note", max: 500), principal: ctx.principal, actor: ctx.actor)
        }
    }

    static func close(_ ctx: Context) throws -> HTTPResponse {
        try act(ctx, success: "工单已关闭。") { try $0.close($1, note: ctx.text("note", max: 500), principal: ctx.principal, actor: ctx.actor) }
    }

    static func merge(_ ctx: Context) throws -> HTTPResponse {
        let target = Int64(ctx.text("target_id", max: 20).trimmingCharacters(in: CharacterSet(charactersIn: "#")))
        return try act(ctx, success: "已合并到工单 #\(target.map(String.init) ?? "")。") {
            try $0.merge($1, into: target, note: ctx.text("note", max: 500), principal: ctx.principal, actor: ctx.actor)
        }
    }

    static func supervise(_ ctx: Context) throws -> HTTPResponse {
        try act(ctx, success: "已督办，承办部门已收到提醒。") { try $0.supervise($1, note: ctx.text("note", max: 500), principal: ctx.principal, actor: ctx.actor) }
    }
}
