import Access
import AppCore
import Domain
import Foundation
import GRDB
import Storage
import Web

/// A manual card entry: pending → approved | rejected, by a coordinator.
enum PointEntryStatus: String, StateMachine {
    case pending, approved, rejected
    static let entityType = "point_entry"
    static let transitions: [Transition<PointEntryStatus>] = [
        Transition(from: [.pending], to: .approved, permission: .approvePoints, action: "points.approve"),
        Transition(from: [.pending], to: .rejected, permission: .approvePoints, action: "points.reject"),
    ]
    static func refusal(from state: PointEntryStatus, to next: PointEntryStatus) -> String {
        "该积分记录已审核（\(state == .approved ? "已通过" : "已退回")），不能再次审核。"
    }
}

/// A redemption: pending → fulfilled (核销) | cancelled (credits and stock returned).
enum RedemptionStatus: String, StateMachine {
    case pending, fulfilled, cancelled
    static let entityType = "redemption"
    static let transitions: [Transition<RedemptionStatus>] = [
        Transition(from: [.pending], to: .fulfilled, permission: .manageShop, action: "shop.fulfil"),
        Transition(from: [.pending], to: .cancelled, permission: .cancelRedemptions, action: "shop.cancel"),
    ]
    static func refusal(from state: RedemptionStatus, to next: RedemptionStatus) -> String {
        state == .fulfilled ? "该兑换已核销，不能再核销或取消。" : "该兑换已取消。"
    }
}

/// Who acts: the account as the policy sees it and who the audit log names.
struct PointsActor: Sendable {
    let principal: Principal?
    let audit: AuditActor
    var userID: Int64? { principal?.userID }
    var role: Role? { principal?.role }
}

/// Where an account reaches shop items: its subtree and, for members and residents, the nodes
/// above (a community's shop is open to the people living in it).
enum PointsReach {
    static func allows(_ principal: Principal?, _ path: String) -> Bool {
        guard let principal else { return false }
        if principal.scope.contains(path) { return true }
        guard principal.role == .member || principal.role == .resident, let own = principal.scope.path else { return false }
        return own.hasPrefix(path)
    }

    static func condition(_ principal: Principal?, on column: String) -> (sql: String, arguments: [String]) {
        let base = (principal?.scope ?? .nothing).condition(on: column)
        guard principal?.role == .member || principal?.role == .resident, let own = principal?.scope.path else { return base }
        return ("(\(base.sql) OR instr(?, \(column)) = 1)", base.arguments + [own])
    }
}

/// Every change of the points card, credits and the shop: one function per transition, each
/// checking role, scope, ownership and state and writing the change with its audit entry in one
/// write transaction (SQLite has one writer: a balance or stock read and the write that depends
/// on it see the same state).
struct PointsStore: Sendable {
    let database: AppDatabase

    var today: String { ChinaDate.today(database.clock.now) }

    struct MemberRef {
        let id: Int64
        let residentID: Int64
        let gridPath: String
    }

    static func member(_ db: Database, _ id: Int64) throws -> MemberRef? {
        try Row.fetchOne(db, sql: """
            SELECT pm.id, pm.resident_id, g.path FROM party_members pm JOIN grids g ON g.id = pm.grid_id WHERE pm.id = ?
            """, arguments: [id]).map { MemberRef(id: $0["id"], residentID: $0["resident_id"], gridPath: $0["path"]) }
    }

    /// The resident linked to an account (nil without one).
    static func residentID(_ db: Database, userID: Int64?) throws -> Int64? {
        guard let userID else { return nil }
        return try Int64.fetchOne(db, sql: "SELECT resident_id FROM users WHERE id = ?", arguments: [userID])
    }

    /// A member sees and applies on their own card only; others need the member within scope.
    /// A member's card that is not their own is a 404, like a record outside the scope.
    static func checkCard(_ db: Database, _ actor: PointsActor, _ member: MemberRef, _ permission: Permission) throws {
        if actor.role == .member {
            try Policy.require(actor.principal, permission)
            guard try residentID(db, userID: actor.userID) == member.residentID else { throw NotFound() }
        } else {
            try Policy.require(actor.principal, permission, gridPath: member.gridPath)
        }
    }

    // MARK: - Card

    func syncMember(_ memberID: Int64) throws {
        try database.write { db in try PointsLedger.syncMember(db, memberID: memberID, today: today) }
    }

    /// The board's sync: only opens a write transaction when something is due.
    func syncAll() throws {
        let today = today, now = database.clock.now
        guard try database.read({ db in try PointsLedger.syncDue(db, now: now) }) else { return }
        try database.write { db in try PointsLedger.syncAll(db, today: today, now: now) }
    }

    struct NewEntry {
        var ruleID: Int64?
        var quantity: Int
        var occurredOn: String
        var note: String
    }

    /// A manual entry: staff record it, a member applies on their own card; it waits for a coordinator.
    func recordEntry(memberID: Int64, _ entry: NewEntry, by actor: PointsActor) throws -> Int64 {
        let today = today
        return try database.write { db in
            guard let member = try Self.member(db, memberID) else { throw NotFound() }
            try Self.checkCard(db, actor, member, .recordPoints)
            var errors: [String: String] = [:]
            let rule = try entry.ruleID.flatMap {
                try Row.fetchOne(db, sql: "SELECT id, dimension, points, deduction, auto, active FROM point_rules WHERE id = ?", arguments: [$0])
            }
            if rule == nil || (rule?["active"] as Int?) != 1 || (rule?["auto"] as String?) != nil {
                errors["rule_id"] = "请选择一个需要申报的积分项目（自动记分的项目由系统记录）"
            } else if actor.role == .member, (rule?["deduction"] as Int?) == 1 {
                errors["rule_id"] = "扣分项目只能由社区工作人员记录"
            }
            if !(1...10).contains(entry.quantity) { errors["quantity"] = "数量应为 1 到 10" }
            guard let day = ChinaDate.parse(entry.occurredOn), day <= today else {
                errors["occurred_on"] = "请填写发生日期（不晚于今天）"
                throw FieldErrors(errors)
            }
            if entry.note.isEmpty { errors["note"] = "请填写说明" }
            guard errors.isEmpty, let rule else { throw FieldErrors(errors) }
            let points = min(100, (rule["points"] as Int) * entry.quantity) * ((rule["deduction"] as Int) == 1 ? -1 : 1)
            let source = actor.role == .member ? "member" : "staff"
            try db.execute(sql: """
                INSERT INTO point_entries (member_id, year, rule_id, dimension, points, source, occurred_on, note, status, created_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, \(Timestamp.nowSQL))
                """, arguments: [memberID, Int(day.prefix(4)), rule["id"] as Int64, rule["dimension"] as String, points, source, day,
                                 entry.note, actor.userID])
            let id = db.lastInsertedRowID
            try AuditLog.record(db, actor: actor.audit, action: source == "member" ? "points.apply" : "points.record",
                                entityType: "point_entry", entityId: id, before: nil as [String: String]?,
                                after: ["memberID": String(memberID), "ruleID": String(rule["id"] as Int64), "points": String(points),
                                        "occurredOn": day, "note": entry.note])
            return id
        }
    }

    struct EntryRef: Encodable {
        let id: Int64
        let memberID: Int64
        let year: Int
        let points: Int
        let status: String
        let reason: String
        let gridPath: String

        static func find(_ db: Database, _ id: Int64) throws -> EntryRef? {
            try Row.fetchOne(db, sql: """
                SELECT e.id, e.member_id, e.year, e.points, e.status, e.reason, g.path FROM point_entries e
                JOIN party_members pm ON pm.id = e.member_id JOIN grids g ON g.id = pm.grid_id WHERE e.id = ?
                """, arguments: [id]).map {
                EntryRef(id: $0["id"], memberID: $0["member_id"], year: $0["year"], points: $0["points"], status: $0["status"],
                         reason: $0["reason"], gridPath: $0["path"])
            }
        }
    }

    /// A coordinator approves or rejects (with a reason) a pending manual entry.
    func decide(_ entryID: Int64, approve: Bool, reason: String, by actor: PointsActor) throws -> Int64 {
        try database.write { db in
            guard let entry = try EntryRef.find(db, entryID), let state = PointEntryStatus(rawValue: entry.status) else { throw NotFound() }
            let next: PointEntryStatus = approve ? .approved : .rejected
            try StateChange.apply(db, actor.principal, actor: actor.audit, id: entryID, from: state, gridPath: entry.gridPath,
                                  to: next, note: reason.isEmpty ? nil : reason, snapshot: { try EntryRef.find($0, entryID) }) { db in
                if !approve, reason.isEmpty { throw FieldErrors("reason", "退回时请填写原因") }
                try db.execute(sql: """
                    UPDATE point_entries SET status = ?, reason = ?, decided_by = ?, decided_at = \(Timestamp.nowSQL) WHERE id = ?
                    """, arguments: [next.rawValue, reason, actor.userID, entryID])
                try PointsLedger.refreshTotals(db, memberID: entry.memberID, year: entry.year)
            }
            return entry.memberID
        }
    }

    /// A correction: a reversing entry with the opposite points and a reason; the original stays.
    func reverse(_ entryID: Int64, reason: String, by actor: PointsActor) throws -> Int64 {
        try database.write { db in
            guard let entry = try EntryRef.find(db, entryID) else { throw NotFound() }
            try Policy.require(actor.principal, .reversePoints, gridPath: entry.gridPath)
            let row = try Row.fetchOne(db, sql: "SELECT source, rule_id, dimension FROM point_entries WHERE id = ?", arguments: [entryID])!
            guard entry.status == "approved", (row["source"] as String) != "reversal" else {
                throw Conflict("只有已生效的积分记录可以冲正（冲正记录本身不能再冲正）。")
            }
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM point_entries WHERE reverses_id = ?)", arguments: [entryID]) == false else {
                throw Conflict("该积分记录已经冲正过。")
            }
            guard !reason.isEmpty else { throw FieldErrors("reason", "冲正时请填写原因") }
            guard entry.points != 0 else { throw Conflict("该记录为 0 分，无需冲正。") }
            try db.execute(sql: """
                INSERT INTO point_entries (member_id, year, rule_id, dimension, points, source, occurred_on, note, status, reason,
                                           reverses_id, created_by, created_at, decided_by, decided_at)
                VALUES (?, ?, ?, ?, ?, 'reversal', ?, ?, 'approved', ?, ?, ?, \(Timestamp.nowSQL), ?, \(Timestamp.nowSQL))
                """, arguments: [entry.memberID, entry.year, row["rule_id"] as Int64, row["dimension"] as String, -entry.points,
                                 today, "冲正记录 #\(entryID)", reason, entryID, actor.userID, actor.userID])
            let id = db.lastInsertedRowID
            try PointsLedger.refreshTotals(db, memberID: entry.memberID, year: entry.year)
            try AuditLog.record(db, actor: actor.audit, action: "points.reverse", entityType: "point_entry", entityId: id,
                                before: nil as [String: String]?,
                                after: ["reverses": String(entryID), "points": String(-entry.points), "reason": reason])
            return entry.memberID
        }
    }

    // MARK: - Rules and settings (admin)

    struct RuleForm {
        var dimension: String
        var item: String
        var points: Int?
        var unit: String
        var cap: Int?
        var capText: String
        var deduction: Bool
        var active: Bool

        func validate() throws {
            var errors: [String: String] = [:]
            if !["politics", "dedication", "image"].contains(dimension) { errors["dimension"] = "请选择维度" }
            if item.isEmpty || item.count > 60 { errors["item"] = "请填写项目名称（60 字以内）" }
            if !(1...100).contains(points ?? 0) { errors["points"] = "分值应为 1 到 100 的整数" }
            if unit.isEmpty || unit.count > 10 { errors["unit"] = "请填写计分单位（如 次、年）" }
            if !capText.isEmpty, !(1...100).contains(cap ?? 0) { errors["cap"] = "年度上限应为 1 到 100 的整数，或留空" }
            if !errors.isEmpty { throw FieldErrors(errors) }
        }
    }

    func saveRule(_ id: Int64?, _ form: RuleForm, by actor: PointsActor) throws {
        try database.write { db in
            try Policy.require(actor.principal, .managePointRules)
            try form.validate()
            let before = try id.flatMap { try Row.fetchOne(db, sql: "SELECT * FROM point_rules WHERE id = ?", arguments: [$0]) }
            if let id {
                guard let before else { throw NotFound() }
                if (before["auto"] as String?) != nil, form.deduction { throw FieldErrors("deduction", "自动记分项目不能设为扣分项") }
                try db.execute(sql: """
                    UPDATE point_rules SET dimension = ?, item = ?, points = ?, unit = ?, yearly_cap = ?, deduction = ?, active = ? WHERE id = ?
                    """, arguments: [form.dimension, form.item, form.points, form.unit, form.cap, form.deduction, form.active, id])
            } else {
                try db.execute(sql: """
                    INSERT INTO point_rules (dimension, item, points, unit, yearly_cap, deduction, active, sort_order)
                    VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(sort_order), 0) + 1 FROM point_rules))
                    """, arguments: [form.dimension, form.item, form.points, form.unit, form.cap, form.deduction, form.active])
            }
            let ruleID = id ?? db.lastInsertedRowID
            try AuditLog.record(db, actor: actor.audit, action: id == nil ? "points.rule_create" : "points.rule_update",
                                entityType: "point_rule", entityId: ruleID,
                                before: before.map { Self.describe($0) },
                                after: Self.describe(try Row.fetchOne(db, sql: "SELECT * FROM point_rules WHERE id = ?", arguments: [ruleID])!))
            try Self.refreshAllTotals(db)
        }
    }

    static func describe(_ row: Row) -> [String: String] {
        Dictionary(row.columnNames.map { name in (name, row[name].map { "\($0)" } ?? "") }, uniquingKeysWith: { a, _ in a })
    }

    /// The dimension maxima (must add up to 100) and the grade bands and credit rates.
    func saveSettings(maxima: [String: Int?], bands: [String: Int?], rates: [String: Int?], by actor: PointsActor) throws {
        try database.write { db in
            try Policy.require(actor.principal, .managePointRules)
            var errors: [String: String] = [:]
            let values = maxima.values.compactMap { $0 }
            if values.count != 3 || values.contains(where: { !(0...100).contains($0) }) || values.reduce(0, +) != 100 {
                errors["max"] = "三个维度的满分之和必须为 100"
            }
            let e = bands["grade_excellent"] ?? nil, q = bands["grade_qualified"] ?? nil, b = bands["grade_basic"] ?? nil
            if let e, let q, let b, e <= 100, e > q, q > b, b >= 0 {} else {
                errors["grades"] = "等次分数线应满足 100 ≥ 优秀 > 合格 > 基本合格 ≥ 0"
            }
            for (key, value) in rates where !(0...10000).contains(value ?? -1) { errors[key] = "积分标准应为 0 到 10000 的整数" }
            guard errors.isEmpty else { throw FieldErrors(errors) }
            let before = try Self.settingsSnapshot(db)
            for (code, value) in maxima {
                try db.execute(sql: "UPDATE point_dimensions SET max_points = ? WHERE code = ?", arguments: [value, code])
            }
            for (key, value) in bands.merging(rates, uniquingKeysWith: { a, _ in a }) {
                try db.execute(sql: "INSERT OR REPLACE INTO points_settings (key, value) VALUES (?, ?)", arguments: [key, String(value ?? 0)])
            }
            try AuditLog.record(db, actor: actor.audit, action: "points.settings", entityType: "points_settings", entityId: nil,
                                before: before, after: try Self.settingsSnapshot(db))
            try Self.refreshAllTotals(db)
        }
    }

    static func settingsSnapshot(_ db: Database) throws -> [String: String] {
        var out: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT key, value FROM points_settings") { out[row["key"]] = row["value"] }
        for row in try Row.fetchAll(db, sql: "SELECT code, max_points FROM point_dimensions") { out["max_" + (row["code"] as String)] = String(row["max_points"] as Int) }
        return out
    }

    /// After a rule or maximum changes, every card's figures follow.
    static func refreshAllTotals(_ db: Database) throws {
        for row in try Row.fetchAll(db, sql: "SELECT member_id, year FROM point_totals") {
            try PointsLedger.refreshTotals(db, memberID: row["member_id"], year: row["year"])
        }
    }

    // MARK: - Shop

    struct ItemForm {
        var name: String
        var description: String
        var picture: String
        var cost: Int?
        var stock: Int?
        var gridID: Int64?
        var active: Bool

        func validate() throws {
            var errors: [String: String] = [:]
            if name.isEmpty || name.count > 60 { errors["name"] = "请填写商品名称（60 字以内）" }
            if description.count > 500 { errors["description"] = "说明不超过 500 字" }
            if !picture.isEmpty, !picture.hasPrefix("/") || picture.hasPrefix("//") || picture.count > 200 {
                errors["picture"] = "图片请填写本站地址（以 / 开头），或留空"
            }
            if !(1...100_000).contains(cost ?? 0) { errors["cost"] = "所需积分应为 1 到 100000 的整数" }
            if !(0...100_000).contains(stock ?? -1) { errors["stock"] = "库存应为 0 到 100000 的整数" }
            if gridID == nil { errors["grid_id"] = "请选择发放范围" }
            if !errors.isEmpty { throw FieldErrors(errors) }
        }
    }

    func saveItem(_ id: Int64?, _ form: ItemForm, by actor: PointsActor) throws -> Int64 {
        try database.write { db in
            try Policy.require(actor.principal, .manageShop)
            if let id {
                guard let path = try String.fetchOne(db, sql: "SELECT g.path FROM shop_items i JOIN grids g ON g.id = i.grid_id WHERE i.id = ?",
                                                     arguments: [id]) else { throw NotFound() }
                try Policy.require(actor.principal, .manageShop, gridPath: path)
            }
            try form.validate()
            guard let path = try String.fetchOne(db, sql: "SELECT path FROM grids WHERE id = ?", arguments: [form.gridID]),
                  actor.principal?.scope.contains(path) == true else { throw FieldErrors("grid_id", "请选择您管辖范围内的网格") }
            let before = try id.flatMap { try Row.fetchOne(db, sql: "SELECT * FROM shop_items WHERE id = ?", arguments: [$0]) }
            if let id {
                try db.execute(sql: "UPDATE shop_items SET name = ?, description = ?, picture = ?, cost = ?, stock = ?, grid_id = ?, active = ? WHERE id = ?",
                               arguments: [form.name, form.description, form.picture, form.cost, form.stock, form.gridID, form.active, id])
            } else {
                try db.execute(sql: """
                    INSERT INTO shop_items (name, description, picture, cost, stock, grid_id, active, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, \(Timestamp.nowSQL))
                    """, arguments: [form.name, form.description, form.picture, form.cost, form.stock, form.gridID, form.active])
            }
            let itemID = id ?? db.lastInsertedRowID
            try AuditLog.record(db, actor: actor.audit, action: id == nil ? "shop.item_create" : "shop.item_update", entityType: "shop_item",
                                entityId: itemID, before: before.map { Self.describe($0) },
                                after: Self.describe(try Row.fetchOne(db, sql: "SELECT * FROM shop_items WHERE id = ?", arguments: [itemID])!))
            return itemID
        }
    }

    /// Redeems one item: the balance and the stock are read and spent in the same write
    /// transaction, so neither goes below zero whatever arrives at once.
    func redeem(_ itemID: Int64, by actor: PointsActor) throws -> Int64 {
        try database.write { db in
            guard let item = try Row.fetchOne(db, sql: """
                SELECT i.id, i.name, i.cost, i.stock, i.active, g.path FROM shop_items i JOIN grids g ON g.id = i.grid_id WHERE i.id = ?
                """, arguments: [itemID]) else { throw NotFound() }
            try Policy.require(actor.principal, .redeemRewards)
            guard PointsReach.allows(actor.principal, item["path"]) else { throw NotFound() }
            guard let residentID = try Self.residentID(db, userID: actor.userID) else {
                throw HTTPError(.forbidden, "您的账号还没有关联居民信息，请联系社区工作人员。")
            }
            guard (item["active"] as Int) == 1 else { throw Conflict("该商品已下架。") }
            let cost: Int = item["cost"]
            let balance = try PointsLedger.balance(db, residentID: residentID)
            guard balance >= cost else { throw Conflict("爱心积分不足：需要 \(cost) 分，您现有 \(balance) 分。") }
            try db.execute(sql: "UPDATE shop_items SET stock = stock - 1 WHERE id = ? AND stock > 0", arguments: [itemID])
            guard db.changesCount == 1 else { throw Conflict("该商品已兑完，库存不足。") }
            let path = try String.fetchOne(db, sql: """
                SELECT g.path FROM residents r JOIN grids g ON g.id = r.building_id WHERE r.id = ?
                """, arguments: [residentID]) ?? actor.principal?.scope.path ?? (item["path"] as String)
            let code = String(format: "%06d", UInt32.random(in: 0..<1_000_000))
            try db.execute(sql: """
                INSERT INTO shop_redemptions (item_id, resident_id, user_id, grid_path, cost, code, status, created_at)
                VALUES (?, ?, ?, ?, ?, ?, 'pending', \(Timestamp.nowSQL))
                """, arguments: [itemID, residentID, actor.userID, path, cost, code])
            let id = db.lastInsertedRowID
            try db.execute(sql: """
                INSERT INTO credit_entries (resident_id, amount, kind, source_key, note, redemption_id, created_by, created_at)
                VALUES (?, ?, 'redeem', ?, ?, ?, ?, \(Timestamp.nowSQL))
                """, arguments: [residentID, -cost, "redeem:\(id)", "兑换：\(item["name"] as String)", id, actor.userID])
            try AuditLog.record(db, actor: actor.audit, action: "shop.redeem", entityType: "redemption", entityId: id,
                                before: nil as [String: String]?,
                                after: ["itemID": String(itemID), "residentID": String(residentID), "cost": String(cost)])
            return id
        }
    }

    struct RedemptionRef: Encodable {
        let id: Int64
        let itemID: Int64
        let residentID: Int64
        let userID: Int64
        let gridPath: String
        let cost: Int
        let status: String
        let code: String

        static func find(_ db: Database, _ id: Int64) throws -> RedemptionRef? {
            try Row.fetchOne(db, sql: "SELECT * FROM shop_redemptions WHERE id = ?", arguments: [id]).map {
                RedemptionRef(id: $0["id"], itemID: $0["item_id"], residentID: $0["resident_id"], userID: $0["user_id"],
                              gridPath: $0["grid_path"], cost: $0["cost"], status: $0["status"], code: $0["code"])
            }
        }

        /// What the audit log keeps (the code is a secret of the person and the desk).
        struct Snapshot: Encodable { let status: String; let cost: Int; let itemID: Int64 }
        var snapshot: Snapshot { Snapshot(status: status, cost: cost, itemID: itemID) }
    }

    /// Staff hand the reward over when the typed code matches.
    func fulfil(_ id: Int64, code: String, by actor: PointsActor) throws {
        try database.write { db in
            guard let redemption = try RedemptionRef.find(db, id), let state = RedemptionStatus(rawValue: redemption.status) else { throw NotFound() }
            try StateChange.apply(db, actor.principal, actor: actor.audit, id: id, from: state, gridPath: redemption.gridPath,
                                  to: .fulfilled, snapshot: { try RedemptionRef.find($0, id)?.snapshot }) { db in
                guard code.filter({ !$0.isWhitespace }) == redemption.code else { throw FieldErrors("code", "核销码不正确，请核对后重新输入。") }
                try db.execute(sql: "UPDATE shop_redemptions SET status = 'fulfilled', decided_at = \(Timestamp.nowSQL), decided_by = ? WHERE id = ?",
                               arguments: [actor.userID, id])
            }
        }
    }

    /// The person (their own) or staff cancel an unfulfilled redemption: the credits come back
    /// as a refund entry and the stock as one more piece.
    func cancel(_ id: Int64, by actor: PointsActor) throws {
        try database.write { db in
            guard let redemption = try RedemptionRef.find(db, id), let state = RedemptionStatus(rawValue: redemption.status) else { throw NotFound() }
            try Policy.require(actor.principal, .cancelRedemptions, gridPath: redemption.gridPath)
            if actor.role == .member || actor.role == .resident, redemption.userID != actor.userID { throw Forbidden() }
            try StateChange.apply(db, actor.principal, actor: actor.audit, id: id, from: state, gridPath: redemption.gridPath,
                                  to: .cancelled, snapshot: { try RedemptionRef.find($0, id)?.snapshot }) { db in
                try db.execute(sql: "UPDATE shop_redemptions SET status = 'cancelled', decided_at = \(Timestamp.nowSQL), decided_by = ? WHERE id = ?",
                               arguments: [actor.userID, id])
                try db.execute(sql: "UPDATE shop_items SET stock = stock + 1 WHERE id = ?", arguments: [redemption.itemID])
                try db.execute(sql: """
                    INSERT INTO credit_entries (resident_id, amount, kind, source_key, note, redemption_id, created_by, created_at)
                    VALUES (?, ?, 'refund', ?, ?, ?, ?, \(Timestamp.nowSQL))
                    """, arguments: [redemption.residentID, redemption.cost, "refund:\(id)", "取消兑换 #\(id)，积分退回", id, actor.userID])
            }
        }
    }
}
