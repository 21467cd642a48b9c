import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Security
import Storage

/// A party member as the pages see it: the membership and the resident it belongs to.
struct MemberRow: Sendable {
    let id: Int64
    let residentID: Int64
    let name: String
    let idNumber: String
    let phone: String?
    let birthDate: String
    let status: String
    let category: String
    let joinedOn: String?
    let branchID: Int64?
    let branchName: String?
    let employer: String
    let gridID: Int64
    let gridPath: String
    let gridName: String
    let centralHousehold: Bool
    let roles: [String]
    let membership: String
    let accountID: Int64?

    static let selectSQL = """
        SELECT m.id, m.resident_id, r.name, r.id_number, r.phone, r.birth_date, m.status, m.category, m.joined_on,
               m.branch_id, b.name AS branch_name, m.employer, m.grid_id, g.path AS grid_path, g.name AS grid_name,
               m.central_household, m.roles, m.membership, u.id AS account_id
        FROM party_members m
        JOIN residents r ON r.id = m.resident_id
        JOIN grids g ON g.id = m.grid_id
        LEFT JOIN branches b ON b.id = m.branch_id
        LEFT JOIN users u ON u.resident_id = m.resident_id
        """

    init(row: Row) {
        id = row["id"]
        residentID = row["resident_id"]
        name = row["name"]
        idNumber = row["id_number"]
        phone = row["phone"]
        birthDate = row["birth_date"]
        status = row["status"]
        category = row["category"]
        joinedOn = row["joined_on"]
        branchID = row["branch_id"]
        branchName = row["branch_name"]
        employer = row["employer"]
        gridID = row["grid_id"]
        gridPath = row["grid_path"]
        gridName = row["grid_name"]
        centralHousehold = (row["central_household"] as Int64? ?? 0) == 1
        roles = (row["roles"] as String? ?? "").split(separator: ",").map(String.init)
        membership = row["membership"]
        accountID = row["account_id"]
    }

    static func find(_ db: Database, _ id: Int64) throws -> MemberRow? {
        try Row.fetchOne(db, sql: selectSQL + " WHERE m.id = ?", arguments: [id]).map(MemberRow.init(row:))
    }

    static func find(_ db: Database, residentID: Int64) throws -> MemberRow? {
        try Row.fetchOne(db, sql: selectSQL + " WHERE m.resident_id = ?", arguments: [residentID]).map(MemberRow.init(row:))
    }

    var isActive: Bool { membership == "active" }

    /// What the audit log keeps of a membership (no ID number, no phone).
    struct Snapshot: Encodable {
        let resident_id: Int64
        let status, category: String
        let joined_on: String?
        let branch_id: Int64?
        let employer: String
        let grid_id: Int64
        let membership: String
    }

    var snapshot: Snapshot {
        Snapshot(resident_id: residentID, status: status, category: category, joined_on: joinedOn, branch_id: branchID,
                 employer: employer, grid_id: gridID, membership: membership)
    }
}

/// The membership fields a form or a ledger row supplies.
struct MembershipInput: Sendable, Equatable {
    var status: String
    var category: String
    var joinedOn: String?
    var branchID: Int64?
    var employer: String
}

/// Every change to members, branches and their reports: one function per transition, each
/// checking role, scope, ownership and state, then writing the change, the member's timeline
/// entry and the audit entry in one transaction.
struct MemberStore: Sendable {
    let database: AppDatabase
    let hasher: PasswordHasher

    var clock: Clock { database.clock }
    var now: String { Timestamp.string(from: clock.now) }
    var year: Int { Int(ChinaDate.today(clock.now).prefix(4)) ?? 2000 }

    // MARK: - Checks

    /// The member, if it lies in the principal's scope for `permission`; 404 otherwise (and
    /// 403 for a role that may not at all), so existence outside the scope is not disclosed.
    static func member(_ db: Database, _ id: Int64, _ principal: Principal?, _ permission: Permission) throws -> MemberRow {
        guard let member = try MemberRow.find(db, id) else { throw NotFound("未找到该记录，或不在您的管辖范围内。") }
        switch Policy.decide(principal, permission, targetGridPath: member.gridPath) {
        case .allow: return member
        case .forbidden: throw Forbidden("您的角色不能进行此操作。")
        case .notFound: throw NotFound("未找到该记录，或不在您的管辖范围内。")
        }
    }

    /// A member's own record (members act on themselves only) or one in scope for staff.
    static func memberForSelfService(_ db: Database, _ id: Int64, _ principal: Principal?, user: User?) throws -> MemberRow {
        if Policy.decide(principal, .ownMembership) == .allow {
            guard let member = try MemberRow.find(db, id) else { throw NotFound("未找到该记录，或不在您的管辖范围内。") }
            guard member.residentID == user?.residentID else { throw Forbidden("只能为自己的党员记录办理。") }
            return member
        }
        return try member(db, id, principal, .manageMembers)
    }

    static func event(_ db: Database, member: Int64, kind: String, note: String = "", at: String, actor: AuditActor) throws {
        try db.execute(sql: """
            INSERT INTO member_events (member_id, at, user_id, actor_name, kind, note) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [member, at, actor.userID, actor.name, kind, String(note.prefix(500))])
    }

    static func requireBranchInScope(_ db: Database, _ branchID: Int64?, _ principal: Principal?) throws {
        guard let branchID else { return }
        guard let path = try String.fetchOne(db, sql: """
            SELECT g.path FROM branches b JOIN grids g ON g.id = b.grid_id WHERE b.id = ?
            """, arguments: [branchID]), principal?.scope.contains(path) == true else {
            throw FieldErrors("branch_id", "所选党组织不存在或不在您的管辖范围内")
        }
    }

    /// A search by a complete number, audited like a reveal (the number masked).
    func recordNumberSearch(_ number: NumberQuery, matches: Int, by actor: AuditActor) throws {
        struct Searched: Encodable { let numbers: [String]; let matches: Int }
        try database.write { db in
            try AuditLog.record(db, actor: actor, action: "member.search_full_number", entityType: nil, entityId: nil,
                                before: nil as Searched?, after: Searched(numbers: [number.maskedForAudit], matches: matches))
        }
    }

    // MARK: - Members

    /// 登记党员: a resident in scope becomes a member, placed at their home building.
    func create(residentID: Int64, _ input: MembershipInput, principal: Principal?, by actor: AuditActor) throws -> Int64 {
        try database.write { db in
            guard let resident = try Row.fetchOne(db, sql: """
                SELECT r.id, r.status, g.id AS building_id, g.path FROM residents r LEFT JOIN grids g ON g.id = r.building_id
                WHERE r.id = ?
                """, arguments: [residentID]) else { throw FieldErrors("resident_id", "请选择一位居民") }
            guard let path: String = resident["path"], let buildingID: Int64 = resident["building_id"],
                  resident["status"] as String == "active" else {
                throw FieldErrors("resident_id", "该居民已迁出或已合并，不能登记为党员")
            }
            switch Policy.decide(principal, .manageMembers, targetGridPath: path) {
            case .allow: break
            case .forbidden: throw Forbidden("您的角色不能登记党员。")
            case .notFound: throw FieldErrors("resident_id", "该居民不在您的管辖范围内")
            }
            if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM party_members WHERE resident_id = ?", arguments: [residentID]) {
                throw Conflict("该居民已是党员（党员记录 #\(existing)），请打开已有记录修改。")
            }
            try Self.requireBranchInScope(db, input.branchID, principal)
            let at = now
            try db.execute(sql: """
                INSERT INTO party_members (resident_id, status, category, joined_on, branch_id, employer, grid_id, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [residentID, input.status, input.category, input.joinedOn, input.branchID, input.employer,
                                 buildingID, at, at])
            let id = db.lastInsertedRowID
            try Self.event(db, member: id, kind: "created", at: at, actor: actor)
            guard let member = try MemberRow.find(db, id) else { throw NotFound("未找到该记录，或不在您的管辖范围内。") }
            try AuditLog.record(db, actor: actor, action: "member.create", entityType: "member", entityId: id,
                                before: nil as MemberRow.Snapshot?, after: member.snapshot)
            return id
        }
    }

    /// Changes the membership's fields; a category or branch change is its own timeline entry.
    func update(_ id: Int64, _ input: MembershipInput, note: String, principal: Principal?, by actor: AuditActor) throws {
        try database.write { db in
            let before = try Self.member(db, id, principal, .manageMembers)
            guard before.isActive else { throw Conflict("该党员的组织关系已转出，请先办理转入再修改。") }
            try Self.requireBranchInScope(db, input.branchID, principal)
            let at = now
            try db.execute(sql: """
                UPDATE party_members SET status = ?, category = ?, joined_on = ?, branch_id = ?, employer = ?, updated_at = ?
                WHERE id = ?
                """, arguments: [input.status, input.category, input.joinedOn, input.branchID, input.employer, at, id])
            if before.category != input.category {
                let change = "\(MemberVocabulary.label(before.category, in: MemberVocabulary.categories)) → "
                    + MemberVocabulary.label(input.category, in: MemberVocabulary.categories)
                try Self.event(db, member: id, kind: "category", note: note.isEmpty ? change : change + "：" + note, at: at, actor: actor)
            }
            if before.branchID != input.branchID {
                try Self.event(db, member: id, kind: "branch", note: note, at: at, actor: actor)
            }
            if before.status != input.status || before.joinedOn != input.joinedOn || before.employer != input.employer {
                try Self.event(db, member: id, kind: "updated", note: note, at: at, actor: actor)
            }
            guard let after = try MemberRow.find(db, id) else { throw NotFound("未找到该记录，或不在您的管辖范围内。") }
            try AuditLog.record(db, actor: actor, action: "member.update", entityType: "member", entityId: id,
                                before: before.snapshot, after: after.snapshot)
        }
    }

    /// 组织关系转出 / 转入: the record stays, its membership state changes.
    func transfer(_ id: Int64, out: Bool, reason: String, principal: Principal?, by actor: AuditActor) throws {
        try database.write { db in
            let before = try Self.member(db, id, principal, .manageMembers)
            if out && !before.isActive { throw Conflict("该党员的组织关系已经转出。") }
            if !out && before.isActive { throw Conflict("该党员的组织关系在本社区，无需转入。") }
            let at = now
            try db.execute(sql: "UPDATE party_members SET membership = ?, updated_at = ? WHERE id = ?",
                           arguments: [out ? "transferred_out" : "active", at, id])
            if out { try db.execute(sql: "UPDATE post_holders SET ended_on = ? WHERE member_id = ? AND ended_on IS NULL",
                                    arguments: [ChinaDate.today(clock.now), id]) }
            try Self.event(db, member: id, kind: out ? "transfer_out" : "transfer_in", note: reason, at: at, actor: actor)
            guard let after = try MemberRow.find(db, id) else { throw NotFound("未找到该记录，或不在您的管辖范围内。") }
            try AuditLog.record(db, actor: actor, action: out ? "member.transfer_out" : "member.transfer_in", entityType: "member",
                                entityId: id, before: before.snapshot, after: after.snapshot)
        }
    }

    /// Creates the member's own account (role member, scope: the member's grid node) with a
    /// one-time password that must be changed at first sign-in.
    func createAccount(_ id: Int64, username: String, principal: Principal?, by actor: AuditActor) throws -> (username: String, password: String) {
        let password = UserStore.generatePassword()
        let hash = try hasher.hash(password)
        return try database.write { db in
            let member = try Self.member(db, id, principal, .manageMembers)
            guard member.isActive else { throw Conflict("组织关系已转出的党员不能开通账号。") }
            if member.accountID != nil { throw Conflict("该党员已有账号；忘记密码请联系系统管理员重置。") }
            let new = UserStore.NewUser(username: username, displayName: member.name, role: .member, scopeGridID: member.gridID,
                                        password: password, mustChangePassword: true, residentID: member.residentID)
            let errors = UserStore.validate(username: username, displayName: member.name, role: .member, scopeGridID: member.gridID)
            guard errors.isEmpty else { throw FieldErrors(errors) }
            let user = try UserStore.insert(db, new, hash: hash, by: actor)
            try Self.event(db, member: id, kind: "account", note: "用户名 \(user.username)", at: now, actor: actor)
            return (user.username, password)
        }
    }

    // MARK: - Roles and 联户

    /// Sets the neighbourhood roles and the 党员中心户 flag.
    func setRoles(_ id: Int64, roles: [String], central: Bool, principal: Principal?, by actor: AuditActor) throws {
        try database.write { db in
            let before = try Self.member(db, id, principal, .manageMembers)
            guard before.isActive else { throw Conflict("该党员的组织关系已转出。") }
            let codes = MemberVocabulary.roles.map(\.code).filter(roles.contains)
            try db.execute(sql: "UPDATE party_members SET roles = ?, central_household = ?, updated_at = ? WHERE id = ?",
                           arguments: [codes.joined(separator: ","), central ? 1 : 0, now, id])
            if !central { try db.execute(sql: "DELETE FROM member_households WHERE member_id = ?", arguments: [id]) }
            let labels = codes.map { MemberVocabulary.label($0, in: MemberVocabulary.roles) } + (central ? ["党员中心户"] : [])
            try Self.event(db, member: id, kind: "updated", note: "担任：" + (labels.isEmpty ? "无" : labels.joined(separator: "、")),
                           at: now, actor: actor)
            struct Roles: Encodable { let roles: [String]; let central_household: Bool }
            try AuditLog.record(db, actor: actor, action: "member.roles", entityType: "member", entityId: id,
                                before: Roles(roles: before.roles, central_household: before.centralHousehold),
                                after: Roles(roles: codes, central_household: central))
        }
    }

    /// Links (or unlinks) a household to a 党员中心户; the house must lie in the member's grid.
    func linkHousehold(_ id: Int64, houseID: Int64, link: Bool, principal: Principal?, by actor: AuditActor) throws {
        try database.write { db in
            let member = try Self.member(db, id, principal, .manageMembers)
            guard member.centralHousehold, member.isActive else { throw Conflict("请先将该党员设为党员中心户。") }
            guard let path = try String.fetchOne(db, sql: "SELECT g.path FROM houses h JOIN grids g ON g.id = h.building_id WHERE h.id = ?",
                                                 arguments: [houseID]), principal?.scope.contains(path) == true else {
                throw NotFound("未找到该记录，或不在您的管辖范围内。")
            }
            if link {
                try db.execute(sql: "INSERT OR IGNORE INTO member_households (member_id, house_id) VALUES (?, ?)", arguments: [id, houseID])
            } else {
                try db.execute(sql: "DELETE FROM member_households WHERE member_id = ? AND house_id = ?", arguments: [id, houseID])
            }
            guard db.changesCount > 0 else { return }
            struct Household: Encodable { let house_id: Int64 }
            try AuditLog.record(db, actor: actor, action: link ? "member.link_household" : "member.unlink_household",
                                entityType: "member", entityId: id, before: link ? nil : Household(house_id: houseID),
                                after: link ? Household(house_id: houseID) : nil)
        }
    }

    // MARK: - 双报到

    struct ReportInput: Sendable {
        var employer: String
        var employerBranch: String
        var skills: String
        var availableTimes: String
    }

    /// An in-service member reports to the community where they live (this year's report; a
    /// returned one may be submitted again).
    func submitReport(_ id: Int64, _ input: ReportInput, principal: Principal?, user: User?, by actor: AuditActor) throws {
        try database.write { db in
            let member = try Self.memberForSelfService(db, id, principal, user: user)
            guard member.isActive else { throw Conflict("组织关系已转出，不能报到。") }
            let year = self.year
            let existing = try String.fetchOne(db, sql: "SELECT status FROM member_reports WHERE member_id = ? AND year = ?",
                                               arguments: [id, year])
            if existing == "submitted" { throw Conflict("\(year) 年的报到已提交，正在等待社区确认。") }
            if existing == "confirmed" { throw Conflict("\(year) 年的报到已经确认，无需重复报到。") }
            let at = now
            try db.execute(sql: """
                INSERT INTO member_reports (member_id, year, employer, employer_branch, skills, available_times, status, submitted_at)
                VALUES (?, ?, ?, ?, ?, ?, 'submitted', ?)
                ON CONFLICT (member_id, year) DO UPDATE SET employer = excluded.employer,
                    employer_branch = excluded.employer_branch, skills = excluded.skills,
                    available_times = excluded.available_times, status = 'submitted', reason = '',
                    submitted_at = excluded.submitted_at, decided_at = NULL, decided_by = NULL
                """, arguments: [id, year, input.employer, input.employerBranch, input.skills, input.availableTimes, at])
            if member.employer != input.employer {
                try db.execute(sql: "UPDATE party_members SET employer = ?, updated_at = ? WHERE id = ?", arguments: [input.employer, at, id])
            }
            try Self.event(db, member: id, kind: "report", note: "\(year) 年，工作单位：\(input.employer)", at: at, actor: actor)
            struct Reported: Encodable { let year: Int; let employer, employer_branch, skills, available_times: String }
            try AuditLog.record(db, actor: actor, action: "member.report", entityType: "member", entityId: id, before: nil as Reported?,
                                after: Reported(year: year, employer: input.employer, employer_branch: input.employerBranch,
                                                skills: input.skills, available_times: input.availableTimes))
        }
    }

    /// Staff confirm a submitted report, placing the member in a grid of their scope.
    func decideReport(_ id: Int64, confirm: Bool, gridID: Int64?, postID: Int64? = nil, reason: String, principal: Principal?,
                      by actor: AuditActor) throws {
        try database.write { db in
            let member = try Self.member(db, id, principal, .manageMembers)
            let year = self.year
            guard let status = try String.fetchOne(db, sql: "SELECT status FROM member_reports WHERE member_id = ? AND year = ?",
                                                   arguments: [id, year]) else {
                throw Conflict("该党员 \(year) 年还没有提交报到。")
            }
            guard status == "submitted" else {
                throw Conflict("该报到已经\(MemberVocabulary.label(status, in: MemberVocabulary.reportStatuses))，不能重复处理。")
            }
            if !confirm && reason.isEmpty { throw FieldErrors("reason", "退回时请填写原因，便于党员修改后重新报到") }
            let at = now
            if confirm, let gridID {
                guard let path = try String.fetchOne(db, sql: "SELECT path FROM grids WHERE id = ?", arguments: [gridID]),
                      principal?.scope.contains(path) == true else {
                    throw FieldErrors("grid_id", "所选网格不存在或不在您的管辖范围内")
                }
                try db.execute(sql: "UPDATE party_members SET grid_id = ?, updated_at = ? WHERE id = ?", arguments: [gridID, at, id])
            }
            if confirm, let postID {
                guard let path = try String.fetchOne(db, sql: "SELECT g.path FROM posts p JOIN grids g ON g.id = p.grid_id WHERE p.id = ?",
                                                     arguments: [postID]), principal?.scope.contains(path) == true else {
                    throw FieldErrors("post_id", "所选岗位不存在或不在您的管辖范围内")
                }
                do {
                    try PostHolding.take(db, postID: postID, memberID: id, on: ChinaDate.today(clock.now))
                } catch let problem as PostHolding.Problem {
                    throw Conflict(problem.message)
                }
            }
            try db.execute(sql: """
                UPDATE member_reports SET status = ?, reason = ?, decided_at = ?, decided_by = ? WHERE member_id = ? AND year = ?
                """, arguments: [confirm ? "confirmed" : "returned", reason, at, actor.userID, id, year])
            try Self.event(db, member: id, kind: confirm ? "report_confirmed" : "report_returned", note: reason, at: at, actor: actor)
            struct Decided: Encodable { let year: Int; let status: String; let reason: String; let grid_id: Int64?; let post_id: Int64? }
            try AuditLog.record(db, actor: actor, action: confirm ? "member.report_confirm" : "member.report_return",
                                entityType: "member", entityId: member.id, before: nil as Decided?,
                                after: Decided(year: year, status: confirm ? "confirmed" : "returned", reason: reason, grid_id: gridID,
                                              post_id: confirm ? postID : nil))
        }
    }

    // MARK: - 三评

    enum EvaluationPart: String, Sendable, CaseIterable {
        case selfAssessment = "self"
        case community
        case organisation = "org"

        var permission: Permission {
            switch self {
            case .selfAssessment: .ownMembership
            case .community: .communityEvaluation
            case .organisation: .organisationEvaluation
            }
        }

        var label: String {
            switch self {
            case .selfAssessment: "自评"
            case .community: "社区测评"
            case .organisation: "组织考评"
            }
        }
    }

    /// Records one part of the year's 三评: the member's own 自评, staff's 社区测评 or the
    /// coordinator's 组织考评 (each role its own part).
    func evaluate(_ id: Int64, year: Int, part: EvaluationPart, grade: String, note: String, principal: Principal?, user: User?,
                  by actor: AuditActor) throws {
        try database.write { db in
            let member: MemberRow
            switch part {
            case .selfAssessment:
                guard Policy.decide(principal, .ownMembership) == .allow else { throw Forbidden("自评由党员本人填写。") }
                member = try Self.memberForSelfService(db, id, principal, user: user)
            case .community: member = try Self.member(db, id, principal, .communityEvaluation)
            case .organisation: member = try Self.member(db, id, principal, .organisationEvaluation)
            }
            guard year <= self.year, year >= self.year - 1 else { throw FieldErrors("year", "只能评议今年或去年") }
            let column = part == .selfAssessment ? "self_grade" : part == .community ? "community_grade" : "org_grade"
            let at = now
            try db.execute(sql: "INSERT OR IGNORE INTO member_evaluations (member_id, year, updated_at) VALUES (?, ?, ?)",
                           arguments: [id, year, at])
            try db.execute(sql: "UPDATE member_evaluations SET \(column) = ?, updated_at = ?"
                + (part == .selfAssessment ? ", self_note = ?" : "") + " WHERE member_id = ? AND year = ?",
                           arguments: part == .selfAssessment ? [grade, at, note, id, year] : [grade, at, id, year])
            try Self.event(db, member: member.id, kind: "evaluation",
                           note: "\(year) 年\(part.label)：\(MemberVocabulary.label(grade, in: MemberVocabulary.grades))", at: at, actor: actor)
            struct Evaluated: Encodable { let year: Int; let part, grade: String }
            try AuditLog.record(db, actor: actor, action: "member.evaluate", entityType: "member", entityId: id, before: nil as Evaluated?,
                                after: Evaluated(year: year, part: part.rawValue, grade: grade))
        }
    }

    // MARK: - Branches

    struct BranchInput: Sendable {
        var name: String
        var kind: String
        var gridID: Int64?
        var parentID: Int64?
        var secretary: String
    }

    /// A 联合党支部 covers further estates besides its own grid node.
    func coverGrid(_ branchID: Int64, gridID: Int64, principal: Principal?, by actor: AuditActor) throws {
        try database.write { db in
            guard let branch = try Row.fetchOne(db, sql: """
                SELECT b.kind, g.path FROM branches b JOIN grids g ON g.id = b.grid_id WHERE b.id = ?
                """, arguments: [branchID]) else { throw NotFound("未找到该记录，或不在您的管辖范围内。") }
            switch Policy.decide(principal, .manageMembers, targetGridPath: branch["path"]) {
            case .allow: break
            case .forbidden: throw Forbidden("您的角色不能管理党组织。")
            case .notFound: throw NotFound("未找到该记录，或不在您的管辖范围内。")
            }
            guard branch["kind"] as String == "joint" else { throw Conflict("只有联合党支部可以覆盖多个小区。") }
            guard let path = try String.fetchOne(db, sql: "SELECT path FROM grids WHERE id = ?", arguments: [gridID]),
                  principal?.scope.contains(path) == true else { throw FieldErrors("grid_id", "所选网格节点不存在或不在您的管辖范围内") }
            try db.execute(sql: "INSERT OR IGNORE INTO branch_grids (branch_id, grid_id) VALUES (?, ?)", arguments: [branchID, gridID])
            guard db.changesCount > 0 else { return }
            struct Covered: Encodable { let grid_id: Int64 }
            try AuditLog.record(db, actor: actor, action: "branch.cover", entityType: "branch", entityId: branchID,
                                before: nil as Covered?, after: Covered(grid_id: gridID))
        }
    }

    func createBranch(_ input: BranchInput, principal: Principal?, by actor: AuditActor) throws -> Int64 {
        try database.write { db in
            guard let gridID = input.gridID,
                  let gridPath = try String.fetchOne(db, sql: "SELECT path FROM grids WHERE id = ?", arguments: [gridID]) else {
                throw FieldErrors("grid_id", "请选择党组织所在的网格节点")
            }
            switch Policy.decide(principal, .manageMembers, targetGridPath: gridPath) {
            case .allow: break
            case .forbidden: throw Forbidden("您的角色不能管理党组织。")
            case .notFound: throw FieldErrors("grid_id", "所选网格节点不在您的管辖范围内")
            }
            var parentPath = "/"
            if let parentID = input.parentID {
                guard let row = try Row.fetchOne(db, sql: """
                    SELECT b.path, g.path AS grid_path FROM branches b JOIN grids g ON g.id = b.grid_id WHERE b.id = ?
                    """, arguments: [parentID]), principal?.scope.contains(row["grid_path"]) == true else {
                    throw FieldErrors("parent_id", "所选上级党组织不存在或不在您的管辖范围内")
                }
                parentPath = row["path"]
            }
            if try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM branches WHERE parent_id IS ? AND name = ?)",
                                 arguments: [input.parentID, input.name]) == true {
                throw FieldErrors("name", "同一上级下已有名为“\(input.name)”的党组织")
            }
            let id = (try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) + 1 FROM branches")) ?? 1
            try db.execute(sql: """
                INSERT INTO branches (id, parent_id, kind, name, grid_id, secretary, path, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, input.parentID, input.kind, input.name, gridID, input.secretary, parentPath + "\(id)/", now])
            struct Created: Encodable { let name, kind: String; let grid_id: Int64; let parent_id: Int64?; let secretary: String }
            try AuditLog.record(db, actor: actor, action: "branch.create", entityType: "branch", entityId: id, before: nil as Created?,
                                after: Created(name: input.name, kind: input.kind, grid_id: gridID, parent_id: input.parentID,
                                               secretary: input.secretary))
            return id
        }
    }
}
