import Access
import Domain
import Foundation
import GRDB
import HTTPCore
import Security
import Storage

/// A refusal a user can cause: the status and the Chinese message the page shows. Thrown from
/// inside a write transaction, it rolls the whole transition back, so nothing is half-written.
struct VolunteerRefusal: Error, Equatable {
    let status: HTTPStatus
    let message: String

    init(_ status: HTTPStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    static let outOfScope = VolunteerRefusal(.notFound, "没有找到该记录，或不在您的管辖范围内。")
}

/// Who acts in a transition: the account as the policy sees it and who the audit log names.
struct VolunteerActor: Sendable {
    let principal: Principal
    let audit: AuditActor
}

/// The resident behind a signed-in account, and the party membership when there is one.
struct VolunteerIdentity: Sendable {
    let residentID: Int64
    let residentName: String
    let memberID: Int64?
    /// Where the member is placed (their home building at first): "near me" for posts.
    let memberGridPath: String?

    static func find(_ db: Database, userID: Int64) throws -> VolunteerIdentity? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT u.resident_id, r.name, pm.id AS member_id, g.path AS member_path
            FROM users u JOIN residents r ON r.id = u.resident_id
            LEFT JOIN party_members pm ON pm.resident_id = u.resident_id AND pm.membership = 'active'
            LEFT JOIN grids g ON g.id = pm.grid_id
            WHERE u.id = ?
            """, arguments: [userID]) else { return nil }
        return VolunteerIdentity(residentID: row["resident_id"], residentName: row["name"],
                                 memberID: row["member_id"], memberGridPath: row["member_path"])
    }
}

/// Local wall-clock minutes in China (`YYYY-MM-DDTHH:MM`), the shape activities store their
/// times in: text order is time order, and the sign-up deadline compares as text.
enum LocalMinute {
    static var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = ChinaDate.timeZone
        return calendar
    }

    static func string(_ date: Date) -> String {
        let p = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02dT%02d:%02d", p.year ?? 0, p.month ?? 0, p.day ?? 0, p.hour ?? 0, p.minute ?? 0)
    }

    /// `2026-12-04T09:30` (what `datetime-local` sends) or `2026-12-04 09:30`; nil otherwise.
    static func parse(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: " ", with: "T")
        let parts = trimmed.split(separator: "T")
        guard parts.count == 2, let day = ChinaDate.parse(String(parts[0])) else { return nil }
        let hm = parts[1].split(separator: ":")
        guard hm.count >= 2, let hour = Int(hm[0]), let minute = Int(hm[1]), (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        return String(format: "%@T%02d:%02d", day, hour, minute)
    }

    /// `2026-12-04 09:30` for pages.
    static func display(_ stored: String) -> String {
        stored.replacingOccurrences(of: "T", with: " ")
    }

    /// The hours between two stored minutes.
    static func hours(from start: String, to end: String) -> Double? {
        func date(_ s: String) -> Date? {
            let day = s.prefix(10).split(separator: "-").compactMap { Int($0) }
            let hm = s.dropFirst(11).split(separator: ":").compactMap { Int($0) }
            guard day.count == 3, hm.count == 2 else { return nil }
            return calendar.date(from: DateComponents(year: day[0], month: day[1], day: day[2], hour: hm[0], minute: hm[1]))
        }
        guard let a = date(start), let b = date(end) else { return nil }
        return b.timeIntervalSince(a) / 3600
    }
}

/// The short code an attendee shows at check-in: derived from the activity's secret code and
/// the sign-up's place in the queue, so each attendee has their own and nothing more is stored.
enum AttendeeCode {
    static let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")

    static func code(activityCode: String, seq: Int64) -> String {
        let digest = Array(sha256Hex("jinlin-checkin:\(activityCode):\(seq)").utf8)
        var out = ""
        for index in 0..<6 {
            let pair = String(decoding: digest[(index * 2)..<(index * 2 + 2)], as: UTF8.self)
            out.append(alphabet[(Int(pair, radix: 16) ?? 0) % alphabet.count])
        }
        return out
    }

    /// A new activity's secret code: six characters of the same alphabet.
    static func newActivityCode() -> String {
        let token = Array(randomToken(bytes: 6).utf8)
        return String(token.prefix(6).map { alphabet[Int($0) % alphabet.count] })
    }
}

/// Where an account's volunteering lies: its scope's subtree and, for a member, the nodes above
/// it too — an activity or a post of the member's estate or community is open to the members
/// placed below it. Staff and grid workers reach exactly their scope.
enum VolunteerReach {
    static func allows(_ principal: Principal, _ path: String) -> Bool {
        if principal.scope.contains(path) { return true }
        guard principal.role == .member, let own = principal.scope.path else { return false }
        return own.hasPrefix(path)
    }

    /// The same as an SQL condition on a grid-path column.
    static func condition(_ principal: Principal?, on column: String) -> (sql: String, arguments: [String]) {
        let base = (principal?.scope ?? .nothing).condition(on: column)
        guard principal?.role == .member, let own = principal?.scope.path else { return base }
        return ("(\(base.sql) OR instr(?, \(column)) = 1)", base.arguments + [own])
    }
}

/// Every volunteering transition: one function each, checking role, scope, ownership and state
/// and writing the change with its audit entry in one `database.write` transaction. Races are
/// settled there: SQLite has one writer, so a count and the insert that depends on it see the
/// same state.
struct VolunteeringStore: Sendable {
    let database: AppDatabase

    var now: Date { database.clock.now }

    // MARK: - Checks

    /// The role first (403), then the target's grid within the account's reach (404).
    static func check(_ actor: VolunteerActor, _ permission: Permission, path: String?) throws {
        guard Policy.decide(actor.principal, permission) == .allow else {
            throw VolunteerRefusal(.forbidden, "您的账号没有办理此项的权限。")
        }
        guard let path, VolunteerReach.allows(actor.principal, path) else { throw VolunteerRefusal.outOfScope }
    }

    static func gridPath(_ db: Database, _ id: Int64) throws -> String? {
        try String.fetchOne(db, sql: "SELECT path FROM grids WHERE id = ?", arguments: [id])
    }

    static func identity(_ db: Database, _ actor: VolunteerActor) throws -> VolunteerIdentity {
        guard let identity = try VolunteerIdentity.find(db, userID: actor.principal.userID) else {
            throw VolunteerRefusal(.forbidden, "您的账号还没有关联居民信息，请联系社区工作人员。")
        }
        return identity
    }

    static func audit(_ db: Database, _ actor: VolunteerActor, _ action: String, _ type: String, _ id: Int64,
                      before: [String: String]? = nil, after: [String: String]?) throws {
        try AuditLog.record(db, actor: actor.audit, action: action, entityType: type, entityId: id, before: before, after: after)
    }

    static func isUniqueViolation(_ error: Error) -> Bool {
        (error as? DatabaseError)?.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
    }

    // MARK: - Teams

    struct NewTeam {
        var name: String
        var kindID: Int64
        var gridID: Int64
        var description: String
    }

    func createTeam(_ team: NewTeam, by actor: VolunteerActor) throws -> Int64 {
        do {
            return try database.write { db in
                try Self.check(actor, .manageVolunteering, path: try Self.gridPath(db, team.gridID))
                try db.execute(sql: "INSERT INTO teams (name, kind_id, grid_id, description, created_at) VALUES (?, ?, ?, ?, \(Timestamp.nowSQL))",
                               arguments: [team.name, team.kindID, team.gridID, team.description])
                let id = db.lastInsertedRowID
                try Self.audit(db, actor, "team.create", "team", id,
                               after: ["name": team.name, "kindID": String(team.kindID), "gridID": String(team.gridID)])
                return id
            }
        } catch where Self.isUniqueViolation(error) {
            throw VolunteerRefusal(.conflict, "该网格已有同名的队伍。")
        }
    }

    /// The team's grid path, checked for `permission`: 404 when missing or outside the scope.
    static func teamPath(_ db: Database, _ teamID: Int64, _ actor: VolunteerActor, _ permission: Permission) throws -> String {
        guard let path = try String.fetchOne(db, sql: "SELECT g.path FROM teams t JOIN grids g ON g.id = t.grid_id WHERE t.id = ?",
                                             arguments: [teamID]) else { throw VolunteerRefusal.outOfScope }
        try check(actor, permission, path: path)
        return path
    }

    func addTeamMember(teamID: Int64, residentID: Int64, by actor: VolunteerActor) throws {
        try database.write { db in
            _ = try Self.teamPath(db, teamID, actor, .manageVolunteering)
            guard let resident = try Row.fetchOne(db, sql: """
                SELECT r.name, r.status, g.path FROM residents r JOIN grids g ON g.id = r.building_id WHERE r.id = ?
                """, arguments: [residentID]), actor.principal.scope.contains(resident["path"]) else {
                throw VolunteerRefusal(.notFound, "没有找到该居民，或不在您的管辖范围内。")
            }
            guard resident["status"] as String == "active" else { throw VolunteerRefusal(.conflict, "该居民已迁出，不能加入队伍。") }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM team_members WHERE team_id = ? AND resident_id = ?", arguments: [teamID, residentID]) == true {
                throw VolunteerRefusal(.conflict, "“\(resident["name"] as String)”已在队伍中。")
            }
            try db.execute(sql: "INSERT INTO team_members (team_id, resident_id, joined_on) VALUES (?, ?, ?)",
                           arguments: [teamID, residentID, ChinaDate.today(now)])
            try Self.audit(db, actor, "team.member_add", "team", teamID, after: ["residentID": String(residentID)])
        }
    }

    func removeTeamMember(teamID: Int64, residentID: Int64, by actor: VolunteerActor) throws {
        try database.write { db in
            _ = try Self.teamPath(db, teamID, actor, .manageVolunteering)
            guard let joined = try String.fetchOne(db, sql: "SELECT joined_on FROM team_members WHERE team_id = ? AND resident_id = ?",
                                                   arguments: [teamID, residentID]) else {
                throw VolunteerRefusal(.conflict, "该居民不在队伍中。")
            }
            let wasLeader = try Int64.fetchOne(db, sql: "SELECT leader_id FROM teams WHERE id = ?", arguments: [teamID]) == residentID
            if wasLeader { try db.execute(sql: "UPDATE teams SET leader_id = NULL WHERE id = ?", arguments: [teamID]) }
            try db.execute(sql: "DELETE FROM team_members WHERE team_id = ? AND resident_id = ?", arguments: [teamID, residentID])
            try Self.audit(db, actor, "team.member_remove", "team", teamID,
                           before: ["residentID": String(residentID), "joinedOn": joined, "leader": wasLeader ? "1" : "0"], after: nil)
        }
    }

    func setTeamLeader(teamID: Int64, residentID: Int64, by actor: VolunteerActor) throws {
        try database.write { db in
            _ = try Self.teamPath(db, teamID, actor, .manageVolunteering)
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM team_members WHERE team_id = ? AND resident_id = ?",
                                    arguments: [teamID, residentID]) == true else {
                throw VolunteerRefusal(.conflict, "队长须是队伍成员，请先把该居民加入队伍。")
            }
            let before = try Int64.fetchOne(db, sql: "SELECT leader_id FROM teams WHERE id = ?", arguments: [teamID])
            try db.execute(sql: "UPDATE teams SET leader_id = ? WHERE id = ?", arguments: [residentID, teamID])
            try Self.audit(db, actor, "team.leader", "team", teamID, before: ["leaderID": before.map(String.init) ?? ""],
                           after: ["leaderID": String(residentID)])
        }
    }

    // MARK: - Posts

    struct NewPost {
        var categoryID: Int64
        var gridID: Int64
        var title: String
        var duty: String
        var capacity: Int
    }

    func createPost(_ post: NewPost, by actor: VolunteerActor) throws -> Int64 {
        try database.write { db in
            try Self.check(actor, .manageVolunteering, path: try Self.gridPath(db, post.gridID))
            try db.execute(sql: """
                INSERT INTO posts (category_id, grid_id, title, duty, capacity, created_at) VALUES (?, ?, ?, ?, ?, \(Timestamp.nowSQL))
                """, arguments: [post.categoryID, post.gridID, post.title, post.duty, post.capacity])
            let id = db.lastInsertedRowID
            try Self.audit(db, actor, "post.create", "post", id, after: [
                "title": post.title, "categoryID": String(post.categoryID), "gridID": String(post.gridID), "capacity": String(post.capacity),
            ])
            return id
        }
    }

    /// A member claims a place on a post: in scope, active, not already held by them, and a
    /// place left (counted in the same transaction as the insert).
    func claimPost(_ postID: Int64, by actor: VolunteerActor) throws {
        try database.write { db in
            guard let post = try Row.fetchOne(db, sql: """
                SELECT p.title, g.path FROM posts p JOIN grids g ON g.id = p.grid_id WHERE p.id = ?
                """, arguments: [postID]) else { throw VolunteerRefusal.outOfScope }
            try Self.check(actor, .joinVolunteering, path: post["path"])
            guard let memberID = try Self.identity(db, actor).memberID else {
                throw VolunteerRefusal(.forbidden, "只有已登记的党员可以认领岗位，请联系社区工作人员。")
            }
            do {
                try PostHolding.take(db, postID: postID, memberID: memberID, on: ChinaDate.today(now))
            } catch let problem as PostHolding.Problem {
                throw VolunteerRefusal(.conflict, problem.message)
            }
            try Self.audit(db, actor, "post.claim", "post", postID, after: ["memberID": String(memberID)])
        }
    }

    func leavePost(_ postID: Int64, by actor: VolunteerActor) throws {
        try database.write { db in
            guard let path = try String.fetchOne(db, sql: "SELECT g.path FROM posts p JOIN grids g ON g.id = p.grid_id WHERE p.id = ?",
                                                 arguments: [postID]) else { throw VolunteerRefusal.outOfScope }
            try Self.check(actor, .joinVolunteering, path: path)
            let identity = try Self.identity(db, actor)
            guard let memberID = identity.memberID,
                  let holder = try Row.fetchOne(db, sql: "SELECT id, started_on FROM post_holders WHERE post_id = ? AND member_id = ? AND ended_on IS NULL",
                                                arguments: [postID, memberID]) else {
                throw VolunteerRefusal(.conflict, "您没有认领该岗位。")
            }
            let today = max(ChinaDate.today(now), holder["started_on"] as String)
            try db.execute(sql: "UPDATE post_holders SET ended_on = ? WHERE id = ?", arguments: [today, holder["id"] as Int64])
            try Self.audit(db, actor, "post.leave", "post", postID, before: ["memberID": String(memberID)], after: ["endedOn": today])
        }
    }

    // MARK: - Activities

    struct NewActivity {
        var title: String
        var categoryID: Int64
        var teamID: Int64?
        var gridID: Int64
        var place: String
        var description: String
        var startsAt: String
        var endsAt: String
        var signupDeadline: String
        var capacity: Int
        var hours: Double
    }

    func createActivity(_ activity: NewActivity, by actor: VolunteerActor) throws -> Int64 {
        try database.write { db in
            try Self.check(actor, .manageVolunteering, path: try Self.gridPath(db, activity.gridID))
            if let teamID = activity.teamID { _ = try Self.teamPath(db, teamID, actor, .manageVolunteering) }
            try db.execute(sql: """
                INSERT INTO activities (title, category_id, team_id, grid_id, place, description, starts_at, ends_at, signup_deadline,
                                        capacity, hours, checkin_code, created_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \(Timestamp.nowSQL))
                """, arguments: [activity.title, activity.categoryID, activity.teamID, activity.gridID, activity.place, activity.description,
                                 activity.startsAt, activity.endsAt, activity.signupDeadline, activity.capacity, activity.hours,
                                 AttendeeCode.newActivityCode(), actor.principal.userID])
            let id = db.lastInsertedRowID
            try Self.audit(db, actor, "activity.create", "activity", id, after: [
                "title": activity.title, "gridID": String(activity.gridID), "startsAt": activity.startsAt, "endsAt": activity.endsAt,
                "signupDeadline": activity.signupDeadline, "capacity": String(activity.capacity), "hours": String(activity.hours),
            ])
            return id
        }
    }

    struct ActivityState {
        let title: String
        let status: String
        let capacity: Int
        let deadline: String
        let startsAt: String
        let hours: Double
        let checkinCode: String
        let path: String

        init(row: Row) {
            title = row["title"]
            status = row["status"]
            capacity = row["capacity"]
            deadline = row["signup_deadline"]
            startsAt = row["starts_at"]
            hours = row["hours"]
            checkinCode = row["checkin_code"]
            path = row["path"]
        }
    }

    static func activity(_ db: Database, _ id: Int64, _ actor: VolunteerActor, _ permission: Permission) throws -> ActivityState {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT a.title, a.status, a.capacity, a.signup_deadline, a.starts_at, a.hours, a.checkin_code, g.path
            FROM activities a JOIN grids g ON g.id = a.grid_id WHERE a.id = ?
            """, arguments: [id]) else { throw VolunteerRefusal.outOfScope }
        let state = ActivityState(row: row)
        try check(actor, permission, path: state.path)
        return state
    }

    static func requireOpen(_ activity: ActivityState) throws {
        switch activity.status {
        case "open": return
        case "closed": throw VolunteerRefusal(.conflict, "活动已结束，不能再办理。")
        default: throw VolunteerRefusal(.conflict, "活动已取消，不能再办理。")
        }
    }

    enum SignupResult: Equatable {
        case confirmed
        case waitlisted(position: Int)
    }

    /// 接龙: a place while the confirmed are fewer than the capacity, otherwise the waitlist, in
    /// arrival order (`seq`, taken in the same transaction).
    func signUp(_ activityID: Int64, by actor: VolunteerActor) throws -> SignupResult {
        try database.write { db in
            let activity = try Self.activity(db, activityID, actor, .joinVolunteering)
            let identity = try Self.identity(db, actor)
            try Self.requireOpen(activity)
            guard LocalMinute.string(now) <= activity.deadline else {
                throw VolunteerRefusal(.conflict, "报名已于 \(LocalMinute.display(activity.deadline)) 截止，不能再报名。")
            }
            if let status = try String.fetchOne(db, sql: """
                SELECT status FROM activity_signups WHERE activity_id = ? AND resident_id = ? AND status <> 'cancelled'
                """, arguments: [activityID, identity.residentID]) {
                throw VolunteerRefusal(.conflict, status == "waitlisted" ? "您已在候补名单中。" : "您已报名该活动。")
            }
            let seq = (try Int64.fetchOne(db, sql: "SELECT max(seq) FROM activity_signups WHERE activity_id = ?", arguments: [activityID]) ?? 0) + 1
            let taken = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM activity_signups WHERE activity_id = ? AND status IN ('confirmed', 'attended')
                """, arguments: [activityID]) ?? 0
            let status = taken < activity.capacity ? "confirmed" : "waitlisted"
            try db.execute(sql: """
                INSERT INTO activity_signups (activity_id, resident_id, seq, status, signed_up_at) VALUES (?, ?, ?, ?, \(Timestamp.nowSQL))
                """, arguments: [activityID, identity.residentID, seq, status])
            try Self.audit(db, actor, "activity.signup", "activity", activityID,
                           after: ["residentID": String(identity.residentID), "seq": String(seq), "status": status])
            if status == "confirmed" { return .confirmed }
            let position = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM activity_signups WHERE activity_id = ? AND status = 'waitlisted' AND seq <= ?
                """, arguments: [activityID, seq]) ?? 0
            return .waitlisted(position: position)
        }
    }

    /// Cancels the member's sign-up before the deadline; a freed place goes to the first on
    /// the waitlist in the same transaction.
    func cancel(_ activityID: Int64, by actor: VolunteerActor) throws {
        try database.write { db in
            let activity = try Self.activity(db, activityID, actor, .joinVolunteering)
            let identity = try Self.identity(db, actor)
            try Self.requireOpen(activity)
            guard LocalMinute.string(now) <= activity.deadline else {
                throw VolunteerRefusal(.conflict, "报名已于 \(LocalMinute.display(activity.deadline)) 截止，不能再取消。如有变化请联系社区工作人员。")
            }
            guard let signup = try Row.fetchOne(db, sql: """
                SELECT id, status FROM activity_signups WHERE activity_id = ? AND resident_id = ? AND status <> 'cancelled'
                """, arguments: [activityID, identity.residentID]) else {
                throw VolunteerRefusal(.conflict, "您没有报名该活动。")
            }
            let status: String = signup["status"]
            guard status == "confirmed" || status == "waitlisted" else { throw VolunteerRefusal(.conflict, "您已签到，不能取消报名。") }
            try db.execute(sql: "UPDATE activity_signups SET status = 'cancelled', cancelled_at = \(Timestamp.nowSQL) WHERE id = ?",
                           arguments: [signup["id"] as Int64])
            var after = ["residentID": String(identity.residentID), "status": "cancelled"]
            if status == "confirmed", let next = try Row.fetchOne(db, sql: """
                SELECT id, resident_id FROM activity_signups WHERE activity_id = ? AND status = 'waitlisted' ORDER BY seq LIMIT 1
                """, arguments: [activityID]) {
                try db.execute(sql: "UPDATE activity_signups SET status = 'confirmed' WHERE id = ?", arguments: [next["id"] as Int64])
                after["promotedResidentID"] = String(next["resident_id"] as Int64)
            }
            try Self.audit(db, actor, "activity.cancel", "activity", activityID, before: ["status": status], after: after)
        }
    }

    /// Staff check attendees in, by the boxes ticked (resident ids) or by the code one shows.
    /// Returns how many were newly checked in.
    func checkIn(_ activityID: Int64, residentIDs: [Int64], code: String?, by actor: VolunteerActor) throws -> Int {
        try database.write { db in
            let activity = try Self.activity(db, activityID, actor, .manageVolunteering)
            try Self.requireOpen(activity)
            let signups = try Row.fetchAll(db, sql: """
                SELECT s.id, s.resident_id, s.seq, s.status, r.name FROM activity_signups s JOIN residents r ON r.id = s.resident_id
                WHERE s.activity_id = ? AND s.status <> 'cancelled'
                """, arguments: [activityID])
            var targets: [Row] = []
            if let code, !code.isEmpty {
                let typed = code.uppercased()
                guard let hit = signups.first(where: { AttendeeCode.code(activityCode: activity.checkinCode, seq: $0["seq"]) == typed }) else {
                    throw VolunteerRefusal(.unprocessableContent, "签到码“\(code)”无效，请核对后重新输入。")
                }
                targets.append(hit)
            }
            for id in residentIDs {
                guard let hit = signups.first(where: { $0["resident_id"] as Int64 == id }) else {
                    throw VolunteerRefusal(.conflict, "所选人员中有未报名本活动的，请刷新页面后重新勾选。")
                }
                targets.append(hit)
            }
            guard !targets.isEmpty else { throw VolunteerRefusal(.unprocessableContent, "请勾选到场人员，或输入签到码。") }
            var checked: [String] = []
            var seen = Set<Int64>()
            for row in targets where seen.insert(row["id"] as Int64).inserted {
                switch row["status"] as String {
                case "confirmed":
                    try db.execute(sql: "UPDATE activity_signups SET status = 'attended', checked_in_at = \(Timestamp.nowSQL) WHERE id = ?",
                                   arguments: [row["id"] as Int64])
                    checked.append(String(row["resident_id"] as Int64))
                case "attended":
                    continue
                default:
                    throw VolunteerRefusal(.conflict, "“\(row["name"] as String)”在候补名单中，不能签到。")
                }
            }
            if !checked.isEmpty {
                try Self.audit(db, actor, "activity.checkin", "activity", activityID,
                               after: ["residentIDs": checked.joined(separator: ","), "byCode": code?.isEmpty == false ? "1" : "0"])
            }
            return checked.count
        }
    }

    /// Closes an activity: each attendee's hours credited once (the unique source key), the
    /// confirmed who did not come marked as no-shows. A second close is refused and credits nothing.
    func close(_ activityID: Int64, by actor: VolunteerActor) throws -> (credited: Int, noShows: Int) {
        try database.write { db in
            let activity = try Self.activity(db, activityID, actor, .manageVolunteering)
            try Self.requireOpen(activity)
            guard LocalMinute.string(now) >= activity.startsAt else {
                throw VolunteerRefusal(.conflict, "活动尚未开始（\(LocalMinute.display(activity.startsAt))），不能结束。")
            }
            var credited = 0
            if activity.hours > 0 {
                let attendees = try Int64.fetchAll(db, sql: "SELECT resident_id FROM activity_signups WHERE activity_id = ? AND status = 'attended'",
                                                   arguments: [activityID])
                for residentID in attendees {
                    try db.execute(sql: """
                        INSERT OR IGNORE INTO volunteer_hours (resident_id, hours, served_on, content, activity_id, source_key, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, \(Timestamp.nowSQL))
                        """, arguments: [residentID, activity.hours, String(activity.startsAt.prefix(10)), String(activity.title.prefix(200)),
                                         activityID, "activity:\(activityID):resident:\(residentID)"])
                    credited += db.changesCount
                }
            }
            try db.execute(sql: "UPDATE activity_signups SET status = 'no_show' WHERE activity_id = ? AND status = 'confirmed'", arguments: [activityID])
            let noShows = db.changesCount
            try db.execute(sql: "UPDATE activities SET status = 'closed', closed_at = \(Timestamp.nowSQL) WHERE id = ?", arguments: [activityID])
            try Self.audit(db, actor, "activity.close", "activity", activityID, before: ["status": "open"],
                           after: ["status": "closed", "credited": String(credited), "noShows": String(noShows)])
            return (credited, noShows)
        }
    }
}
