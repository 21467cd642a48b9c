import Foundation
import GRDB
import Storage

/// The two append-only ledgers of the points module: the party member's card entries
/// (`point_entries`, with the per-member-year `point_totals` kept in step) and volunteer credits
/// (`credit_entries`, with `credit_balances` kept by a trigger). It lives in Domain so that other
/// modules (wishes first) post their events without importing a feature. Automatic entries carry a unique source key and are
/// posted with `INSERT OR IGNORE`, so replaying an event posts nothing twice. Every function
/// here runs inside the caller's write transaction.
public enum PointsLedger {
    // MARK: - Public entry points for other modules

    /// A wish completed by a member and rated by the wisher: the card entry (`wish:{id}:card`,
    /// when the claimant is a party member) and the credits (`wish:{id}:credit`). Posting the
    /// same wish again writes nothing.
    public static func postWishRated(_ db: Database, memberResidentID: Int64, wishID: Int64, ratedOn: String) throws {
        let ratedOn = String(ratedOn.prefix(10))
        let year = Int(ratedOn.prefix(4)) ?? 2000
        if let memberID = try Int64.fetchOne(db, sql: "SELECT id FROM party_members WHERE resident_id = ?", arguments: [memberResidentID]) {
            try postAutomatic(db, auto: "wish", memberID: memberID, year: year, key: "wish:\(wishID):card",
                              occurredOn: ratedOn, note: "微心愿 #\(wishID) 完成并获评价")
        }
        let rate = try setting(db, "credits_per_wish")
        if rate > 0 {
            try postCredit(db, residentID: memberResidentID, amount: rate, kind: "wish", key: "wish:\(wishID):credit",
                           note: "完成微心愿 #\(wishID)")
        }
    }

    // MARK: - Posting

    /// Posts an automatic card entry from the active rule for `auto`; nothing when the rule is
    /// inactive or the key was posted before. The rule's yearly cap is applied in the totals.
    @discardableResult
    public static func postAutomatic(_ db: Database, auto: String, memberID: Int64, year: Int, key: String,
                              occurredOn: String, note: String) throws -> Bool {
        guard let rule = try Row.fetchOne(db, sql: "SELECT id, dimension, points FROM point_rules WHERE auto = ? AND active = 1",
                                          arguments: [auto]) else { return false }
        try db.execute(sql: """
            INSERT OR IGNORE INTO point_entries (member_id, year, rule_id, dimension, points, source, source_key, occurred_on,
                                                 note, status, created_at, decided_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'approved', \(Timestamp.nowSQL), \(Timestamp.nowSQL))
            """, arguments: [memberID, year, rule["id"] as Int64, rule["dimension"] as String, rule["points"] as Int, auto, key,
                             occurredOn, String(note.prefix(500))])
        guard db.changesCount > 0 else { return false }
        try refreshTotals(db, memberID: memberID, year: year)
        return true
    }

    /// Posts credits once per key. A negative amount never takes a balance below zero (the
    /// balance table's CHECK refuses it); it is cut to what is there.
    @discardableResult
    public static func postCredit(_ db: Database, residentID: Int64, amount: Int, kind: String, key: String, note: String,
                           redemptionID: Int64? = nil, userID: Int64? = nil) throws -> Bool {
        var amount = amount
        if amount < 0 { amount = -min(-amount, try balance(db, residentID: residentID)) }
        guard amount != 0 else { return false }
        try db.execute(sql: """
            INSERT OR IGNORE INTO credit_entries (resident_id, amount, kind, source_key, note, redemption_id, created_by, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, \(Timestamp.nowSQL))
            """, arguments: [residentID, amount, kind, key, String(note.prefix(200)), redemptionID, userID])
        return db.changesCount > 0
    }

    public static func balance(_ db: Database, residentID: Int64) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT balance FROM credit_balances WHERE resident_id = ?", arguments: [residentID]) ?? 0
    }

    /// An integer setting of this module (0 when missing or not a number).
    public static func setting(_ db: Database, _ key: String) throws -> Int {
        Int(try String.fetchOne(db, sql: "SELECT value FROM points_settings WHERE key = ?", arguments: [key]) ?? "") ?? 0
    }

    // MARK: - Totals

    /// The card's figures from the approved entries: each rule's sum within its yearly cap
    /// (a deduction rule takes off at most its cap), each dimension within 0…its maximum.
    public static func scores(_ db: Database, memberID: Int64, year: Int) throws -> [String: Int] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT d.code, d.max_points,
                   coalesce((SELECT sum(CASE WHEN r.yearly_cap IS NULL THEN s.total
                                             WHEN s.total > r.yearly_cap THEN r.yearly_cap
                                             WHEN s.total < -r.yearly_cap THEN -r.yearly_cap ELSE s.total END)
                             FROM (SELECT rule_id, sum(points) AS total FROM point_entries
                                   WHERE member_id = ? AND year = ? AND status = 'approved' GROUP BY rule_id) s
                             JOIN point_rules r ON r.id = s.rule_id WHERE r.dimension = d.code), 0) AS raw
            FROM point_dimensions d
            """, arguments: [memberID, year])
        var scores: [String: Int] = [:]
        for row in rows {
            scores[row["code"]] = max(0, min(row["max_points"] as Int, row["raw"] as Int))
        }
        return scores
    }

    /// Recomputes the member's row of `point_totals` for the year (and their grid and branch).
    public static func refreshTotals(_ db: Database, memberID: Int64, year: Int) throws {
        let s = try scores(db, memberID: memberID, year: year)
        let politics = s["politics"] ?? 0, dedication = s["dedication"] ?? 0, image = s["image"] ?? 0
        try db.execute(sql: """
            INSERT INTO point_totals (member_id, year, grid_path, branch_id, politics, dedication, image, total)
            SELECT pm.id, ?, g.path, pm.branch_id, ?, ?, ?, ? FROM party_members pm JOIN grids g ON g.id = pm.grid_id WHERE pm.id = ?
            ON CONFLICT (member_id, year) DO UPDATE SET grid_path = excluded.grid_path, branch_id = excluded.branch_id,
                politics = excluded.politics, dedication = excluded.dedication, image = excluded.image, total = excluded.total
            """, arguments: [year, politics, dedication, image, min(100, politics + dedication + image), memberID])
    }

    // MARK: - Sync from the other modules' records (read-only there)

    /// Posts everything automatic that is due for one member (card view): attended activities,
    /// confirmed 双报到, quarters of a post held; and the credits of the member's hours.
    public static func syncMember(_ db: Database, memberID: Int64, today: String) throws {
        guard let residentID = try Int64.fetchOne(db, sql: "SELECT resident_id FROM party_members WHERE id = ?",
                                                  arguments: [memberID]) else { return }
        let hours = try Row.fetchAll(db, sql: """
            SELECT id, resident_id, hours, served_on, content, activity_id FROM volunteer_hours WHERE resident_id = ? ORDER BY id
            """, arguments: [residentID])
        try postHours(db, hours)
        try postReports(db, sql: "AND r.member_id = ?", arguments: [memberID])
        try postQuarters(db, sql: "AND h.member_id = ?", arguments: [memberID], today: today)
    }

    /// How often the board looks for confirmed reports and post quarters not posted yet.
    public static let fullSyncInterval: Int64 = 600

    /// Posts what is new since the last sync for everyone (board view): hours rows past the
    /// watermark; confirmed reports and post quarters not posted yet, at most every 10 minutes
    /// (a card view posts its member's at once).
    public static func syncAll(_ db: Database, today: String, now: Date) throws {
        let last = try Int64.fetchOne(db, sql: "SELECT last_id FROM points_sync WHERE source = 'hours'") ?? 0
        let hours = try Row.fetchAll(db, sql: """
            SELECT id, resident_id, hours, served_on, content, activity_id FROM volunteer_hours WHERE id > ? ORDER BY id LIMIT 20000
            """, arguments: [last])
        try postHours(db, hours)
        if let maxID = hours.last?["id"] as Int64? {
            try db.execute(sql: "UPDATE points_sync SET last_id = ? WHERE source = 'hours'", arguments: [maxID])
        }
        let fullAt = try Int64.fetchOne(db, sql: "SELECT last_id FROM points_sync WHERE source = 'full'") ?? 0
        let seconds = Int64(now.timeIntervalSince1970)
        if seconds - fullAt >= fullSyncInterval || seconds < fullAt {
            try postReports(db, sql: "", arguments: [])
            try postQuarters(db, sql: "", arguments: [], today: today)
            try db.execute(sql: "UPDATE points_sync SET last_id = ? WHERE source = 'full'", arguments: [seconds])
        }
    }

    /// Whether `syncAll` has anything to do (a read, so a board view writes only when needed).
    public static func syncDue(_ db: Database, now: Date) throws -> Bool {
        let last = try Int64.fetchOne(db, sql: "SELECT last_id FROM points_sync WHERE source = 'hours'") ?? 0
        if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM volunteer_hours WHERE id > ?)", arguments: [last]) ?? false { return true }
        let fullAt = try Int64.fetchOne(db, sql: "SELECT last_id FROM points_sync WHERE source = 'full'") ?? 0
        let seconds = Int64(now.timeIntervalSince1970)
        return seconds - fullAt >= fullSyncInterval || seconds < fullAt
    }

    public static func postHours(_ db: Database, _ rows: [Row]) throws {
        guard !rows.isEmpty else { return }
        let rate = try setting(db, "credits_per_hour")
        for row in rows {
            let id: Int64 = row["id"], residentID: Int64 = row["resident_id"], hours: Double = row["hours"]
            let servedOn: String = row["served_on"], content: String = row["content"]
            let credits = Int((hours * Double(rate)).rounded())
            if credits != 0 {
                try postCredit(db, residentID: residentID, amount: credits, kind: "activity", key: "hours:\(id):credit",
                               note: "志愿服务 \(content)")
            }
            if let activityID = row["activity_id"] as Int64?, hours > 0,
               let memberID = try Int64.fetchOne(db, sql: "SELECT id FROM party_members WHERE resident_id = ?", arguments: [residentID]) {
                try postAutomatic(db, auto: "activity", memberID: memberID, year: Int(servedOn.prefix(4)) ?? 2000,
                                  key: "activity:\(activityID):member:\(memberID):card", occurredOn: servedOn,
                                  note: "参加活动：\(content)")
            }
        }
    }

    public static func postReports(_ db: Database, sql: String, arguments: StatementArguments) throws {
        let rows = try Row.fetchAll(db, sql: """
            SELECT r.id, r.member_id, r.year, coalesce(substr(r.decided_at, 1, 10), r.year || '-12-31') AS day
            FROM member_reports r WHERE r.status = 'confirmed' \(sql)
              AND NOT EXISTS (SELECT 1 FROM point_entries e WHERE e.source_key = 'report:' || r.id)
            """, arguments: arguments)
        for row in rows {
            try postAutomatic(db, auto: "report", memberID: row["member_id"], year: row["year"], key: "report:\(row["id"] as Int64)",
                              occurredOn: row["day"], note: "\(row["year"] as Int) 年双报到已确认")
        }
    }

    /// Held posts with at least one full quarter (90 days) not yet posted: (holder, member, k, day).
    public static func quarterRows(_ db: Database, sql: String, arguments: StatementArguments, today: String) throws -> [(Int64, Int64, Int, String)] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT h.id, h.member_id, h.started_on, coalesce(h.ended_on, ?) AS until, p.title
            FROM post_holders h JOIN posts p ON p.id = h.post_id
            WHERE h.started_on <= date(?, '-90 days') \(sql)
            """, arguments: [today, today] + arguments)
        var due: [(Int64, Int64, Int, String)] = []
        for row in rows {
            let id: Int64 = row["id"]
            guard let days = ChinaDate.days(from: row["started_on"], to: row["until"]), days >= 90 else { continue }
            for k in 1...(days / 90) {
                let key = "post:\(id):\(k)"
                if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM point_entries WHERE source_key = ?)", arguments: [key]) == true { continue }
                let day = try String.fetchOne(db, sql: "SELECT date(?, ?)", arguments: [row["started_on"] as String, "+\(k * 90) days"]) ?? today
                due.append((id, row["member_id"], k, day))
            }
        }
        return due
    }

    public static func postQuarters(_ db: Database, sql: String, arguments: StatementArguments, today: String) throws {
        for (holderID, memberID, k, day) in try quarterRows(db, sql: sql, arguments: arguments, today: today) {
            try postAutomatic(db, auto: "post", memberID: memberID, year: Int(day.prefix(4)) ?? 2000, key: "post:\(holderID):\(k)",
                              occurredOn: day, note: "认领岗位满第 \(k) 个季度")
        }
    }
}
