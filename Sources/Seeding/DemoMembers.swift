import Domain
import Foundation
import GRDB
import Storage

/// The demo county's party organisations and members: a 社区党委 per community, a 小区党支部 per
/// estate, and every resident whose political status is 中共党员 or 预备党员 (about 6–7 % of
/// adults) as a member with a realistic category, joining date and 双报到 state. The demo member
/// accounts are linked to members of their grid. Written with set statements, so a million
/// residents take seconds; runs once (nothing is added when members exist).
public struct DemoMembers: Sendable {
    public var seed: UInt64
    public var today: ChinaDay

    public init(seed: UInt64, today: ChinaDay) {
        self.seed = seed
        self.today = today
    }

    public struct Summary: Sendable {
        public var branches = 0
        public var members = 0
        public var reports = 0
        public var linkedAccounts = 0
    }

    static let employers = ["县人民医院", "县第一中学", "县供电公司", "县税务局", "县农商银行", "县自来水公司", "县实验小学",
                            "县市场监管局", "县公安局", "县人社局", "县城投集团", "县邮政分公司"]

    public func populate(database: AppDatabase, county: [DemoCounty.CommunityPlan], gridIDs: [String: Int64]) throws -> Summary {
        try database.write { db in
            var summary = Summary()
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM party_members") == 0,
                  try Int.fetchOne(db, sql: "SELECT count(*) FROM residents") ?? 0 > 0 else { return summary }
            let now = Timestamp.string(from: database.clock.now)
            let todayText = today.stored
            try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS demo_building_branch (building_id INTEGER PRIMARY KEY, branch_id INTEGER)")
            var nextID = (try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM branches") ?? 0) + 1
            func branch(_ parent: (id: Int64, path: String)?, kind: String, name: String, gridID: Int64) throws -> (id: Int64, path: String) {
                let id = nextID
                nextID += 1
                let path = (parent?.path ?? "/") + "\(id)/"
                try db.execute(sql: """
                    INSERT INTO branches (id, parent_id, kind, name, grid_id, secretary, path, created_at) VALUES (?, ?, ?, ?, ?, '', ?, ?)
                    """, arguments: [id, parent?.id, kind, name, gridID, path, now])
                summary.branches += 1
                return (id, path)
            }
            for community in county {
                guard let communityID = gridIDs[community.tree.code] else { continue }
                let committee = try branch(nil, kind: "committee", name: community.tree.name + "党委", gridID: communityID)
                for estate in community.tree.children {
                    guard let estateID = gridIDs[estate.code],
                          let estatePath = try String.fetchOne(db, sql: "SELECT path FROM grids WHERE id = ?", arguments: [estateID]) else { continue }
                    let estateBranch = try branch(committee, kind: "branch", name: estate.name + "党支部", gridID: estateID)
                    let range = GridPath.subtreeRange(of: estatePath)
                    try db.execute(sql: """
                        INSERT OR REPLACE INTO demo_building_branch (building_id, branch_id)
                        SELECT id, ? FROM grids WHERE path >= ? AND path < ? AND kind = 'building'
                        """, arguments: [estateBranch.id, range.lower, range.upper])
                }
            }
            // Members: the residents who are party members by political status. Category and
            // joining date follow age; the draws come from the resident id mixed with the seed.
            let mix = Int64(seed % 997)
            let employerCase = Self.employers.enumerated().map { "WHEN \($0.offset) THEN '\($0.element)'" }.joined(separator: " ")
            try db.execute(sql: """
                INSERT INTO party_members (resident_id, status, category, joined_on, branch_id, employer, grid_id, created_at, updated_at)
                SELECT id, status, category, joined_on, branch_id,
                       CASE WHEN category = 'employed' THEN CASE (id + ?) % \(Self.employers.count) \(employerCase) END ELSE '' END,
                       building_id, ?, ?
                FROM (
                    SELECT r.id, r.building_id, bb.branch_id,
                           CASE r.political_status WHEN '02' THEN 'probationary' ELSE 'full' END AS status,
                           CASE WHEN r.birth_date <= date(?, '-60 years') THEN 'retired'
                                WHEN (r.id + ?) % 20 < 13 THEN 'employed'
                                WHEN (r.id + ?) % 20 < 16 THEN 'mobile'
                                WHEN (r.id + ?) % 20 < 18 THEN 'new_sector' ELSE 'other' END AS category,
                           CASE r.political_status
                                WHEN '02' THEN date(?, '-' || ((r.id + ?) % 330) || ' days')
                                ELSE min(date(r.birth_date, '+' || (19 + (r.id + ?) % 16) || ' years'), date(?, '-400 days')) END AS joined_on
                    FROM residents r LEFT JOIN temp.demo_building_branch bb ON bb.building_id = r.building_id
                    WHERE r.status = 'active' AND r.building_id IS NOT NULL AND r.political_status IN ('01', '02')
                      AND r.birth_date <= date(?, '-18 years')
                )
                """, arguments: [mix, now, now, todayText, mix, mix, mix, todayText, mix, mix, todayText, todayText])
            summary.members = db.changesCount
            try db.execute(sql: """
                INSERT INTO member_events (member_id, at, user_id, actor_name, kind, note)
                SELECT id, ?, NULL, '演示数据', 'created', '' FROM party_members
                """, arguments: [now])
            // 双报到 this year: two thirds of the in-service members reported, most confirmed.
            try db.execute(sql: """
                INSERT INTO member_reports (member_id, year, employer, employer_branch, skills, available_times, status, submitted_at, decided_at)
                SELECT id, ?, employer, employer || '党委', CASE id % 4 WHEN 0 THEN '法律咨询' WHEN 1 THEN '义诊' WHEN 2 THEN '家电维修' ELSE '政策宣讲' END,
                       CASE id % 2 WHEN 0 THEN '周末上午' ELSE '工作日晚上' END,
                       CASE WHEN (id + ?) % 6 = 0 THEN 'submitted' ELSE 'confirmed' END, ?,
                       CASE WHEN (id + ?) % 6 = 0 THEN NULL ELSE ? END
                FROM party_members WHERE category = 'employed' AND (id + ?) % 3 <> 0
                """, arguments: [today.year, mix, now, mix, now, mix])
            summary.reports = db.changesCount
            // The demo member accounts: each linked to a member of its scope without an account.
            let accounts = try Row.fetchAll(db, sql: """
                SELECT u.id, g.path FROM users u JOIN grids g ON g.id = u.scope_grid_id
                WHERE u.role = 'member' AND u.resident_id IS NULL ORDER BY u.id
                """)
            for account in accounts {
                let range = GridPath.subtreeRange(of: account["path"])
                guard let residentID = try Int64.fetchOne(db, sql: """
                    SELECT m.resident_id FROM party_members m JOIN grids g ON g.id = m.grid_id
                    WHERE g.path >= ? AND g.path < ? AND m.category = 'employed'
                      AND NOT EXISTS (SELECT 1 FROM users x WHERE x.resident_id = m.resident_id)
                    ORDER BY m.id LIMIT 1
                    """, arguments: [range.lower, range.upper]) else { continue }
                // The account is now that member's: it carries the member's name.
                try db.execute(sql: "UPDATE users SET resident_id = ?1, display_name = (SELECT name FROM residents WHERE id = ?1) WHERE id = ?2",
                               arguments: [residentID, account["id"]])
                summary.linkedAccounts += 1
            }
            return summary
        }
    }
}
