import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Security
import Storage
import Web

/// The module's settings (`wish_settings`): N, M, K and the value cap.
struct WishSettings: Sendable {
    var publishDays = 30
    var claimDays = 14
    var maxOpenClaims = 3
    var valueCap = 500

    static func load(_ db: Database) throws -> WishSettings {
        var settings = WishSettings()
        for row in try Row.fetchAll(db, sql: "SELECT key, value FROM wish_settings") {
            let value: Int = row["value"]
            switch row["key"] as String {
            case "publish_days": settings.publishDays = value
            case "claim_days": settings.claimDays = value
            case "max_open_claims": settings.maxOpenClaims = value
            case "value_cap": settings.valueCap = value
            default: break
            }
        }
        return settings
    }
}

/// One wish as the store decides on it.
struct WishRow: Sendable, Encodable {
    let id: Int64
    let code: String
    let title: String
    let status: String
    let residentID: Int64
    let gridPath: String
    let claimantUserID: Int64?
    let claimantResidentID: Int64?
    let rating: Int?
    let note: String?
    let photoHash: String?

    var state: WishStatus { WishStatus(rawValue: status) ?? .closed }

    static func find(_ db: Database, _ id: Int64) throws -> WishRow? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT id, code, title, status, resident_id, grid_path, claimant_user_id, claimant_resident_id, rating, note, photo_hash
            FROM wishes WHERE id = ?
            """, arguments: [id]) else { return nil }
        return WishRow(id: row["id"], code: row["code"], title: row["title"], status: row["status"], residentID: row["resident_id"],
                       gridPath: row["grid_path"], claimantUserID: row["claimant_user_id"],
                       claimantResidentID: row["claimant_resident_id"], rating: row["rating"], note: row["note"],
                       photoHash: row["photo_hash"])
    }
}

/// A new wish from the form.
struct NewWish: Sendable {
    var title: String
    var description: String
    var categoryID: Int64?
    var value: String
    /// The wisher, when staff or a grid worker posts for them (a resident posts their own).
    var residentID: Int64?
}

/// Credits and card points for a rated wish. The points ledgers are built in parallel
/// (issue 14 items 5 and 7); this is where the wish module hands over.
enum WishRewards {
    /// Called inside the rate transaction, after the wish became `rated`: posts the claimant's
    /// volunteer credits 爱心积分 (`wish:{id}:credit`) and, for a party member, the card entry
    /// 比奉献 "完成微心愿" (`wish:{id}:card`), each once by its source key, on the day (in China)
    /// the wish was rated.
    static func rated(_ db: Database, wishID: Int64) throws {
        guard let row = try Row.fetchOne(db, sql: "SELECT claimant_resident_id, rated_at FROM wishes WHERE id = ?", arguments: [wishID]),
              let claimant: Int64 = row["claimant_resident_id"], let ratedAt: String = row["rated_at"],
              let date = Timestamp.date(from: ratedAt) else { return }
        try PointsLedger.postWishRated(db, memberResidentID: claimant, wishID: wishID, ratedOn: ChinaDate.today(date))
    }
}

/// Every wish transition: one function each, checking role (403), scope (404), ownership (403)
/// and state (409) through `StateChange.apply` inside one `database.write` transaction, which
/// also writes the timeline row, the audit entry and the notifications. SQLite has one writer,
/// so two members claiming the same wish are settled there: the second sees it claimed.
struct WishStore: Sendable {
    let database: AppDatabase

    /// Who runs the lazy expiry sweep.
    static let systemPrincipal = Principal(userID: 0, role: .admin, scope: .everything)
    static let systemActor = AuditActor(userID: nil, name: "系统（到期处理）")

    static let codeAlphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")

    // MARK: - Helpers

    static func load(_ db: Database, _ id: Int64) throws -> WishRow {
        guard let wish = try WishRow.find(db, id) else { throw NotFound() }
        return wish
    }

    /// The resident an account is linked to (`users.resident_id`).
    static func residentID(_ db: Database, userID: Int64) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT resident_id FROM users WHERE id = ?", arguments: [userID])
    }

    /// The accounts of the wisher (a resident may have one linked account, or none).
    static func notifyWisher(_ db: Database, _ wish: WishRow, _ text: String) throws {
        for userID in try Int64.fetchAll(db, sql: "SELECT id FROM users WHERE resident_id = ? AND active = 1 AND role = 'resident'",
                                         arguments: [wish.residentID]) {
            try Notifications.post(db, userID: userID, text: text, link: "/wishes/\(wish.id)")
        }
    }

    /// Staff whose scope holds the wish: a wish waits for their review.
    static func notifyStaff(_ db: Database, _ wish: WishRow, _ text: String) throws {
        for userID in try Int64.fetchAll(db, sql: """
            SELECT u.id FROM users u JOIN grids g ON g.id = u.scope_grid_id
            WHERE u.role = 'staff' AND u.active = 1 AND instr(?, g.path) = 1
            """, arguments: [wish.gridPath]) {
            try Notifications.post(db, userID: userID, text: text, link: "/wishes/\(wish.id)")
        }
    }

    static func newCode(_ db: Database) throws -> String {
        while true {
            let token = Array(randomToken(bytes: 8).utf8)
            let code = String(token.prefix(6).map { codeAlphabet[Int($0) % codeAlphabet.count] })
            if try Int.fetchOne(db, sql: "SELECT 1 FROM wishes WHERE code = ?", arguments: [code]) == nil { return code }
        }
    }

    // MARK: - Create

    func create(_ new: NewWish, principal: Principal?, actor: AuditActor) throws -> Int64 {
        try database.write { db in
            try Policy.require(principal, .postWishes)
            guard let principal else { throw Forbidden() }
            let settings = try WishSettings.load(db)
            var errors: [String: String] = [:]
            if new.title.isEmpty { errors["title"] = "请填写心愿内容" }
            if new.title.count > 60 { errors["title"] = "心愿标题不能超过 60 个字" }
            if new.description.count > 1000 { errors["description"] = "说明不能超过 1000 个字" }
            let categoryOK = try new.categoryID.map {
                try Int.fetchOne(db, sql: "SELECT 1 FROM wish_categories WHERE id = ?", arguments: [$0]) != nil
            } ?? false
            if !categoryOK { errors["category"] = "请选择心愿类别" }
            let value = Int(new.value.trimmingCharacters(in: .whitespaces))
            if value == nil || !(0...settings.valueCap).contains(value!) {
                errors["value"] = "心愿价值应为 0 到 \(settings.valueCap) 元之间的整数"
            }
            // The wisher: a resident posts their own wish; staff choose the resident.
            let residentID: Int64?
            if principal.role == .resident {
                guard let own = try Self.residentID(db, userID: principal.userID) else {
                    throw FieldErrors("resident_id", "您的账号还没有关联居民信息，请联系社区工作人员。")
                }
                residentID = own
            } else {
                residentID = new.residentID
                if residentID == nil { errors["resident_id"] = "请选择许愿的居民" }
            }
            var building: Row?
            if let residentID {
                building = try Row.fetchOne(db, sql: """
                    SELECT g.id, g.path FROM residents r JOIN grids g ON g.id = r.building_id
                    WHERE r.id = ? AND r.status = 'active'
                    """, arguments: [residentID])
                if building == nil {
                    errors["resident_id"] = principal.role == .resident ? "您的居民信息没有在住的房屋，请联系社区工作人员。" : "请选择在住的居民"
                }
            }
            if !errors.isEmpty { throw FieldErrors(errors) }
            guard let residentID, let building, let categoryID = new.categoryID, let value else { throw FieldErrors(errors) }
            let path: String = building["path"]
            try Policy.require(principal, .postWishes, gridPath: path)
            let code = try Self.newCode(db)
            try db.execute(sql: """
                INSERT INTO wishes (code, title, description, category_id, value_yuan, resident_id, grid_id, grid_path, posted_by,
                                    status, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'submitted', \(Timestamp.nowSQL), \(Timestamp.nowSQL))
                """, arguments: [code, new.title, new.description, categoryID, value, residentID, building["id"] as Int64, path,
                                 principal.userID])
            let id = db.lastInsertedRowID
            let onBehalf = principal.role != .resident
            try db.execute(sql: """
                INSERT INTO timeline_events (entity_type, entity_id, from_state, to_state, action, user_id, note, at)
                VALUES ('wish', ?, 'new', 'submitted', 'wish.create', ?, ?, \(Timestamp.nowSQL))
                """, arguments: [id, actor.userID, onBehalf ? "工作人员代居民提交" : nil])
            let wish = try Self.load(db, id)
            try AuditLog.record(db, actor: actor, action: "wish.create", entityType: "wish", entityId: id, before: nil, after: wish)
            try Self.notifyStaff(db, wish, "有新的微心愿待审核：\(new.title)")
            return id
        }
    }

    // MARK: - Transitions

    /// Runs one transition of the wish through the gate, with `change` inside it.
    @discardableResult
    static func move(_ db: Database, _ wish: WishRow, _ principal: Principal?, _ actor: AuditActor, to next: WishStatus,
                     using action: String, ownerID: Int64? = nil, note: String? = nil, change: (Database) throws -> Void) throws -> WishRow {
        try StateChange.apply(db, principal, actor: actor, id: wish.id, from: wish.state, gridPath: wish.gridPath, ownerID: ownerID,
                              to: next, using: action, note: note, snapshot: { try WishRow.find($0, wish.id) }) { db in
            try change(db)
            try db.execute(sql: "UPDATE wishes SET updated_at = \(Timestamp.nowSQL) WHERE id = ?", arguments: [wish.id])
        }
        return try load(db, wish.id)
    }

    func approve(_ id: Int64, principal: Principal?, actor: AuditActor) throws {
        try database.write { db in
            let wish = try Self.load(db, id)
            let moved = try Self.move(db, wish, principal, actor, to: .published, using: "wish.approve") { db in
                try db.execute(sql: "UPDATE wishes SET status = 'published', published_at = \(Timestamp.nowSQL) WHERE id = ?", arguments: [id])
            }
            try Self.notifyWisher(db, moved, "您的心愿“\(wish.title)”已审核通过并发布，等待党员认领。")
        }
    }

    func reject(_ id: Int64, reason: String, principal: Principal?, actor: AuditActor) throws {
        try database.write { db in
            let wish = try Self.load(db, id)
            try Policy.require(principal, .reviewWishes, gridPath: wish.gridPath)
            guard !reason.isEmpty else { throw FieldErrors("reason", "请填写未通过的原因") }
            let moved = try Self.move(db, wish, principal, actor, to: .rejected, using: "wish.reject", note: reason) { db in
                try db.execute(sql: "UPDATE wishes SET status = 'rejected', reject_reason = ? WHERE id = ?", arguments: [reason, id])
            }
            try Self.notifyWisher(db, moved, "您的心愿“\(wish.title)”未通过审核：\(reason)")
        }
    }

    func claim(_ id: Int64, principal: Principal?, actor: AuditActor) throws {
        try database.write { db in
            let wish = try Self.load(db, id)
            try Policy.require(principal, .claimWishes, gridPath: wish.gridPath)
            guard let principal else { throw Forbidden() }
            guard let member = try Row.fetchOne(db, sql: """
                SELECT u.resident_id FROM users u JOIN party_members pm ON pm.resident_id = u.resident_id AND pm.membership = 'active'
                WHERE u.id = ?
                """, arguments: [principal.userID]), let memberResident = member["resident_id"] as Int64? else {
                throw HTTPError(.forbidden, "只有登记在册的党员可以认领心愿，请联系社区工作人员关联您的党员信息。")
            }
            if wish.state == .claimed || wish.state == .completed || wish.state == .rated || wish.state == .closed,
               let claimant = wish.claimantResidentID {
                if claimant == memberResident { throw Conflict("您已认领了这个心愿。") }
                let name = try String.fetchOne(db, sql: "SELECT name FROM residents WHERE id = ?", arguments: [claimant]) ?? ""
                throw Conflict("手慢了一步：这个心愿已被党员 \(Mask.name(name)) 抢先认领。请看看其他心愿吧。")
            }
            let settings = try WishSettings.load(db)
            let open = try Int.fetchOne(db, sql: "SELECT count(*) FROM wishes WHERE claimant_resident_id = ? AND status = 'claimed'",
                                        arguments: [memberResident]) ?? 0
            if wish.state == .published, open >= settings.maxOpenClaims {
                throw Conflict("您已有 \(open) 个认领中的心愿，最多同时认领 \(settings.maxOpenClaims) 个。请先完成或放弃已认领的心愿。")
            }
            if wish.residentID == memberResident { throw Conflict("不能认领自己的心愿。") }
            let moved = try Self.move(db, wish, principal, actor, to: .claimed, using: "wish.claim") { db in
                try db.execute(sql: """
                    UPDATE wishes SET status = 'claimed', claimant_resident_id = ?, claimant_user_id = ?, claimed_at = \(Timestamp.nowSQL),
                                      claim_warned = 0
                    WHERE id = ?
                    """, arguments: [memberResident, principal.userID, id])
            }
            let name = try String.fetchOne(db, sql: "SELECT name FROM residents WHERE id = ?", arguments: [memberResident]) ?? ""
            try Self.notifyWisher(db, moved, "您的心愿“\(wish.title)”已被党员 \(Mask.name(name)) 认领。")
        }
    }

    func release(_ id: Int64, reason: String, principal: Principal?, actor: AuditActor) throws {
        try database.write { db in
            let wish = try Self.load(db, id)
            try Policy.require(principal, .claimWishes, gridPath: wish.gridPath)
            guard !reason.isEmpty else { throw FieldErrors("reason", "请填写放弃认领的原因") }
            try Self.move(db, wish, principal, actor, to: .published, using: "wish.release", ownerID: wish.claimantUserID, note: reason) { db in
                try db.execute(sql: """
                    UPDATE wishes SET status = 'published', claimant_resident_id = NULL, claimant_user_id = NULL, claimed_at = NULL,
                                      published_at = \(Timestamp.nowSQL)
                    WHERE id = ?
                    """, arguments: [id])
            }
        }
    }

    func complete(_ id: Int64, note: String, photo: StoredPhoto?, principal: Principal?, actor: AuditActor) throws {
        try database.write { db in
            let wish = try Self.load(db, id)
            try Policy.require(principal, .claimWishes, gridPath: wish.gridPath)
            guard !note.isEmpty else { throw FieldErrors("note", "请填写结单说明") }
            let moved = try Self.move(db, wish, principal, actor, to: .completed, using: "wish.complete", ownerID: wish.claimantUserID,
                                      note: note) { db in
                if let photo { try PhotoFiles.record(db, photo, wishID: id) }
                try db.execute(sql: "UPDATE wishes SET status = 'completed', note = ?, photo_hash = ?, completed_at = \(Timestamp.nowSQL) WHERE id = ?",
                               arguments: [note, photo?.hash, id])
            }
            try Self.notifyWisher(db, moved, "您的心愿“\(wish.title)”已完成，请为党员的服务评价。")
        }
    }

    func rate(_ id: Int64, rating: Int?, comment: String, principal: Principal?, actor: AuditActor) throws {
        try database.write { db in
            let wish = try Self.load(db, id)
            try Policy.require(principal, .rateWishes, gridPath: wish.gridPath)
            guard let principal else { throw Forbidden() }
            // A resident rates only their own wish; staff rate on the wisher's behalf.
            let onBehalf = principal.role != .resident
            if !onBehalf, try Self.residentID(db, userID: principal.userID) != wish.residentID {
                throw HTTPError(.forbidden, "只能评价自己的心愿。")
            }
            guard let rating, (1...5).contains(rating) else { throw FieldErrors("rating", "请选择 1 到 5 星的评价") }
            let note = (onBehalf ? "工作人员代居民评价：" : "") + "\(rating) 星" + (comment.isEmpty ? "" : "，\(comment)")
            let rated = try Self.move(db, wish, principal, actor, to: .rated, using: "wish.rate", note: note) { db in
                try db.execute(sql: """
                    UPDATE wishes SET status = 'rated', rating = ?, comment = ?, rated_on_behalf = ?, rated_at = \(Timestamp.nowSQL)
                    WHERE id = ?
                    """, arguments: [rating, comment.isEmpty ? nil : comment, onBehalf, id])
                try WishRewards.rated(db, wishID: id)
            }
            if let claimant = wish.claimantUserID {
                try Notifications.post(db, userID: claimant, text: "您完成的心愿“\(wish.title)”获得了 \(rating) 星评价。", link: "/wishes/\(id)")
            }
            // The rating closes the loop.
            try Self.move(db, rated, principal, actor, to: .closed, using: "wish.close") { db in
                try db.execute(sql: "UPDATE wishes SET status = 'closed' WHERE id = ?", arguments: [id])
            }
        }
    }

    func cancel(_ id: Int64, reason: String, principal: Principal?, actor: AuditActor) throws {
        try database.write { db in
            let wish = try Self.load(db, id)
            try Policy.require(principal, .cancelWishes, gridPath: wish.gridPath)
            guard let principal else { throw Forbidden() }
            if principal.role == .resident, try Self.residentID(db, userID: principal.userID) != wish.residentID {
                throw HTTPError(.forbidden, "只能撤销自己的心愿。")
            }
            try Self.move(db, wish, principal, actor, to: .cancelled, using: "wish.cancel", note: reason.isEmpty ? nil : reason) { db in
                try db.execute(sql: "UPDATE wishes SET status = 'cancelled' WHERE id = ?", arguments: [id])
            }
        }
    }

    /// The wisher's phone for the member who claimed the wish: shown once, audited as a reveal.
    func revealPhone(_ id: Int64, principal: Principal?, actor: AuditActor) throws -> String {
        try database.write { db in
            let wish = try Self.load(db, id)
            try Policy.require(principal, .claimWishes, gridPath: wish.gridPath, ownerID: wish.claimantUserID, ownerOnly: true)
            guard wish.state == .claimed else { throw Conflict("只有认领中的心愿可以查看许愿人的电话。") }
            let phone = try String.fetchOne(db, sql: "SELECT phone FROM residents WHERE id = ?", arguments: [wish.residentID]) ?? ""
            try AuditLog.record(db, actor: actor, action: "wish.reveal_phone", entityType: "wish", entityId: id, before: nil,
                                after: ["phone": Mask.phone(phone), "reason": "认领后联系许愿人"])
            return phone
        }
    }

    // MARK: - Expiry

    /// Expires what is due, as the system: published wishes nobody claimed within N days, and
    /// claims not completed within M days (back to published, the claimant told); a claimant
    /// is warned once a day before. Lazy: the board and a wish's page call it; it reads first
    /// and writes only when something is due.
    func sweep() throws {
        let now = database.clock.now
        let settings = try database.read { db in try WishSettings.load(db) }
        let day: TimeInterval = 86_400
        let publishCutoff = Timestamp.string(from: now.addingTimeInterval(-Double(settings.publishDays) * day))
        let claimCutoff = Timestamp.string(from: now.addingTimeInterval(-Double(settings.claimDays) * day))
        let warnCutoff = Timestamp.string(from: now.addingTimeInterval(-Double(max(0, settings.claimDays - 1)) * day))
        let due = try database.read { db in
            try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM wishes WHERE status = 'published' AND published_at < ?)
                    OR EXISTS (SELECT 1 FROM wishes WHERE status = 'claimed' AND claimed_at < ?)
                    OR EXISTS (SELECT 1 FROM wishes WHERE status = 'claimed' AND claim_warned = 0 AND claimed_at < ?)
                """, arguments: [publishCutoff, claimCutoff, warnCutoff]) ?? false
        }
        guard due else { return }
        try database.write { db in
            let principal = Self.systemPrincipal, actor = Self.systemActor
            for id in try Int64.fetchAll(db, sql: "SELECT id FROM wishes WHERE status = 'published' AND published_at < ?",
                                         arguments: [publishCutoff]) {
                let wish = try Self.load(db, id)
                let moved = try Self.move(db, wish, principal, actor, to: .expired, using: "wish.expire",
                                          note: "发布 \(settings.publishDays) 天无人认领") { db in
                    try db.execute(sql: "UPDATE wishes SET status = 'expired' WHERE id = ?", arguments: [id])
                }
                try Self.notifyWisher(db, moved, "您的心愿“\(wish.title)”发布 \(settings.publishDays) 天无人认领，已过期。")
            }
            for id in try Int64.fetchAll(db, sql: "SELECT id FROM wishes WHERE status = 'claimed' AND claimed_at < ?",
                                         arguments: [claimCutoff]) {
                let wish = try Self.load(db, id)
                try Self.move(db, wish, principal, actor, to: .published, using: "wish.claim_expire",
                              note: "认领 \(settings.claimDays) 天未完成") { db in
                    try db.execute(sql: """
                        UPDATE wishes SET status = 'published', claimant_resident_id = NULL, claimant_user_id = NULL, claimed_at = NULL,
                                          published_at = \(Timestamp.nowSQL)
                        WHERE id = ?
                        """, arguments: [id])
                }
                if let claimant = wish.claimantUserID {
                    try Notifications.post(db, userID: claimant, text: "您认领的心愿“\(wish.title)”超过 \(settings.claimDays) 天未完成，已退回待认领。",
                                           link: "/wishes/\(id)")
                }
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT id, title, claimant_user_id FROM wishes WHERE status = 'claimed' AND claim_warned = 0 AND claimed_at < ?
                """, arguments: [warnCutoff]) {
                let id: Int64 = row["id"], title: String = row["title"]
                try db.execute(sql: "UPDATE wishes SET claim_warned = 1 WHERE id = ?", arguments: [id])
                if let claimant = row["claimant_user_id"] as Int64? {
                    try Notifications.post(db, userID: claimant, text: "您认领的心愿“\(title)”即将到期，请在 1 天内完成结单，否则将退回待认领。",
                                           link: "/wishes/\(id)")
                }
            }
        }
    }
}
