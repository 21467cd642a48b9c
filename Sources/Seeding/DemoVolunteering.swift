import Domain
import Foundation
import GRDB
import Storage

/// The demo county's volunteering, drawn on its members: per community five 帮帮团 teams with
/// their people, two posts per grid with some members holding them, and activities — twelve
/// past ones closed with attendance, no-shows and credited hours, three upcoming ones open for
/// sign-up with some places taken. Runs once (nothing is added when teams exist) and needs the
/// members (`DemoMembers`) first.
public struct DemoVolunteering: Sendable {
    public var seed: UInt64
    public var today: ChinaDay

    public init(seed: UInt64, today: ChinaDay) {
        self.seed = seed
        self.today = today
    }

    public struct Summary: Sendable {
        public var teams = 0
        public var posts = 0
        public var activities = 0
        public var signups = 0
        public var hours = 0
    }

    static let teamNames = [("爱幼帮帮团", "爱幼"), ("亲老帮帮团", "亲老"), ("济困帮帮团", "济困"), ("和事帮帮团", "和事"), ("惠民帮帮团", "惠民")]
    static let posts = [("楼道卫生监督岗", 4), ("文明劝导岗", 1), ("独居老人结对岗", 3), ("四点半课堂辅导岗", 2), ("政策宣讲岗", 2),
                        ("便民维修岗", 6), ("邻里调解岗", 1), ("垃圾分类督导岗", 4), ("心理关爱岗", 7)]
    static let activities = [("敬老院慰问", 3), ("垃圾分类宣传", 4), ("四点半课堂", 2), ("义诊进社区", 6), ("便民理发", 6),
                             ("环境整治", 4), ("反诈宣传", 2), ("邻里节", 1), ("独居老人走访", 3), ("植树护绿", 4)]

    public func populate(database: AppDatabase, communities: [Int64]) throws -> Summary {
        try database.write { db in
            var summary = Summary()
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM teams") == 0,
                  try Int.fetchOne(db, sql: "SELECT count(*) FROM party_members") ?? 0 > 0 else { return summary }
            var rng = SplitMix64(seed: seed, stream: "volunteering")
            let now = Timestamp.string(from: database.clock.now)
            let todayText = today.stored
            let kinds = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT name, id FROM team_kinds").map {
                ($0["name"] as String, $0["id"] as Int64)
            })
            for communityID in communities {
                guard let path = try String.fetchOne(db, sql: "SELECT path FROM grids WHERE id = ?", arguments: [communityID]) else { continue }
                let range = GridPath.subtreeRange(of: path)
                let members = try Row.fetchAll(db, sql: """
                    SELECT m.id, m.resident_id, m.grid_id FROM party_members m JOIN grids g ON g.id = m.grid_id
                    WHERE g.path >= ? AND g.path < ? AND m.membership = 'active' ORDER BY m.id
                    """, arguments: [range.lower, range.upper])
                guard !members.isEmpty else { continue }
                // Teams with 6–12 people each, the first one leading.
                var teamIDs: [Int64] = []
                for (name, kind) in Self.teamNames {
                    let people = (0..<rng.int(in: 6...12)).compactMap { _ in rng.element(of: members) }
                    let leader: Int64? = people.first?["resident_id"]
                    try db.execute(sql: """
                        INSERT INTO teams (name, kind_id, grid_id, leader_id, description, created_at) VALUES (?, ?, ?, ?, ?, ?)
                        """, arguments: [name, kinds[kind], communityID, leader, "\(kind)志愿服务", now])
                    let teamID = db.lastInsertedRowID
                    teamIDs.append(teamID)
                    for person in people {
                        try db.execute(sql: "INSERT OR IGNORE INTO team_members (team_id, resident_id, joined_on) VALUES (?, ?, ?)",
                                       arguments: [teamID, person["resident_id"], todayText])
                    }
                    summary.teams += 1
                }
                // Two posts per grid; some of the places held by the community's members.
                let grids = try Int64.fetchAll(db, sql: "SELECT id FROM grids WHERE path >= ? AND path < ? AND kind = 'grid'",
                                               arguments: [range.lower, range.upper])
                for gridID in grids {
                    for _ in 0..<2 {
                        guard let (title, category) = rng.element(of: Self.posts) else { continue }
                        let capacity = rng.int(in: 2...5)
                        try db.execute(sql: """
                            INSERT INTO posts (category_id, grid_id, title, duty, capacity, created_at) VALUES (?, ?, ?, ?, ?, ?)
                            """, arguments: [category, gridID, title, "按岗位要求定期履职，做好记录。", capacity, now])
                        let postID = db.lastInsertedRowID
                        summary.posts += 1
                        for _ in 0..<rng.int(in: 0...capacity) {
                            guard let member = rng.element(of: members) else { continue }
                            try db.execute(sql: """
                                INSERT OR IGNORE INTO post_holders (post_id, member_id, started_on) VALUES (?, ?, date(?, '-' || ? || ' days'))
                                """, arguments: [postID, member["id"], todayText, rng.int(in: 10...300)])
                        }
                    }
                }
                // Activities: twelve past (closed), three upcoming (open).
                for index in 0..<15 {
                    guard let (title, category) = rng.element(of: Self.activities), let teamID = rng.element(of: teamIDs) else { continue }
                    let past = index < 12
                    let daysAway = past ? -rng.int(in: 3...360) : rng.int(in: 3...30)
                    guard let day = try String.fetchOne(db, sql: "SELECT date(?, ? || ' days')", arguments: [todayText, daysAway]) else { continue }
                    let hour = rng.int(in: 8...15)
                    let hours = Double(rng.int(in: 2...4))
                    let capacity = rng.int(in: 10...30)
                    try db.execute(sql: """
                        INSERT INTO activities (title, category_id, team_id, grid_id, place, description, starts_at, ends_at, signup_deadline,
                                                capacity, hours, checkin_code, status, created_at, closed_at)
                        VALUES (?, ?, ?, ?, '社区党群服务中心', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [title, category, teamID, communityID, title + "，欢迎党员和居民志愿者报名参加。",
                                         String(format: "%@T%02d:00", day, hour), String(format: "%@T%02d:00", day, hour + Int(hours)),
                                         String(format: "%@T%02d:00", day, max(0, hour - 2)), capacity, hours,
                                         String(format: "%06d", rng.int(in: 0...999_999)), past ? "closed" : "open", now, past ? now : nil])
                    let activityID = db.lastInsertedRowID
                    summary.activities += 1
                    let signed = Array(Set((0..<rng.int(in: capacity / 2...capacity)).compactMap { _ in rng.element(of: members)?["resident_id"] as Int64? }))
                    for (seq, residentID) in signed.enumerated() {
                        // Past activities: nine in ten attended; upcoming: confirmed.
                        let status = past ? (rng.below(10) == 0 ? "no_show" : "attended") : "confirmed"
                        try db.execute(sql: """
                            INSERT INTO activity_signups (activity_id, resident_id, seq, status, signed_up_at, checked_in_at)
                            VALUES (?, ?, ?, ?, ?, ?)
                            """, arguments: [activityID, residentID, seq + 1, status, now, status == "attended" ? now : nil])
                        summary.signups += 1
                        if status == "attended" {
                            try db.execute(sql: """
                                INSERT OR IGNORE INTO volunteer_hours (resident_id, hours, served_on, content, activity_id, source_key, created_at)
                                VALUES (?, ?, ?, ?, ?, ?, ?)
                                """, arguments: [residentID, hours, day, title, activityID, "activity:\(activityID):resident:\(residentID)", now])
                            summary.hours += 1
                        }
                    }
                }
            }
            return summary
        }
    }
}
