import Domain
import Foundation
import GRDB
import Storage

/// Points for the demo county: this year's card entries for every member (approved manual
/// items, a few deductions and pending applications), volunteer credits, shop items in every
/// community and some redemptions, so the board and the shop have realistic figures. Run
/// again, it adds nothing (every entry has a `seed:` source key; items only into an empty shop).
public struct DemoPoints: Sendable {
    public var seed: UInt64
    public var today: ChinaDay

    public init(seed: UInt64, today: ChinaDay) {
        self.seed = seed
        self.today = today
    }

    public struct Summary: Sendable {
        public var entries = 0
        public var credits = 0
        public var items = 0
        public var redemptions = 0
    }

    static let catalogue: [(name: String, cost: Int)] = [("环保购物袋", 30), ("理发服务券", 50), ("洗衣液", 80), ("大米 5 公斤", 150)]

    public func populate(database: AppDatabase) throws -> Summary {
        var summary = Summary()
        var rng = SplitMix64(seed: seed, stream: "points")
        let year = today.year
        let (members, manual, deductions, communities) = try database.read { db in
            (try Row.fetchAll(db, sql: """
                SELECT pm.id, pm.resident_id, g.path FROM party_members pm JOIN grids g ON g.id = pm.grid_id ORDER BY pm.id
                """).map { (id: $0["id"] as Int64, resident: $0["resident_id"] as Int64, path: $0["path"] as String) },
             try Row.fetchAll(db, sql: "SELECT id, dimension, points FROM point_rules WHERE auto IS NULL AND deduction = 0 AND active = 1")
                .map { (id: $0["id"] as Int64, dimension: $0["dimension"] as String, points: $0["points"] as Int) },
             try Row.fetchAll(db, sql: "SELECT id, dimension, points FROM point_rules WHERE auto IS NULL AND deduction = 1 AND active = 1")
                .map { (id: $0["id"] as Int64, dimension: $0["dimension"] as String, points: $0["points"] as Int) },
             try Int64.fetchAll(db, sql: "SELECT id FROM grids WHERE kind = 'community' ORDER BY id"))
        }
        guard !members.isEmpty, !manual.isEmpty else { return summary }

        // The shop: four items in every community, once.
        var itemsByCommunity: [Int64: [(id: Int64, cost: Int)]] = [:]
        try database.write { db in
            if try Int.fetchOne(db, sql: "SELECT count(*) FROM shop_items") == 0 {
                for community in communities {
                    for item in Self.catalogue {
                        try db.execute(sql: """
                            INSERT INTO shop_items (name, cost, stock, grid_id, created_at) VALUES (?, ?, ?, ?, \(Timestamp.nowSQL))
                            """, arguments: [item.name, item.cost, 50 + rng.below(150), community])
                        summary.items += 1
                    }
                }
            }
            for row in try Row.fetchAll(db, sql: "SELECT i.id, i.cost, i.grid_id FROM shop_items i") {
                itemsByCommunity[row["grid_id"], default: []].append((row["id"], row["cost"]))
            }
        }

        let dayCount = max(1, (today.month - 1) * 30 + today.day)
        func day(_ rng: inout SplitMix64) -> String {
            let n = rng.below(dayCount)
            return ChinaDay(year: year, month: min(12, 1 + n / 30), day: 1 + min(27, n % 30)).stored
        }
        for batch in stride(from: 0, to: members.count, by: 2000) {
            try database.write { db in
                for member in members[batch..<min(members.count, batch + 2000)] {
                    // One stream per member: a second run draws the same and adds nothing.
                    var rng = SplitMix64(seed: seed, stream: "points:\(member.id)")
                    var posted = false
                    for k in 0..<rng.below(6) {
                        guard let rule = rng.element(of: manual) else { continue }
                        try db.execute(sql: """
                            INSERT OR IGNORE INTO point_entries (member_id, year, rule_id, dimension, points, source, source_key, occurred_on,
                                                                 note, status, created_at, decided_at)
                            VALUES (?, ?, ?, ?, ?, 'staff', ?, ?, '演示数据', 'approved', \(Timestamp.nowSQL), \(Timestamp.nowSQL))
                            """, arguments: [member.id, year, rule.id, rule.dimension, rule.points * (1 + rng.below(3)),
                                             "seed:\(member.id):\(k)", day(&rng)])
                        summary.entries += db.changesCount
                        posted = true
                    }
                    if rng.chance(0.03), let rule = rng.element(of: deductions) {
                        try db.execute(sql: """
                            INSERT OR IGNORE INTO point_entries (member_id, year, rule_id, dimension, points, source, source_key, occurred_on,
                                                                 note, status, created_at, decided_at)
                            VALUES (?, ?, ?, ?, ?, 'staff', ?, ?, '演示数据', 'approved', \(Timestamp.nowSQL), \(Timestamp.nowSQL))
                            """, arguments: [member.id, year, rule.id, rule.dimension, -rule.points, "seed:\(member.id):d", day(&rng)])
                        summary.entries += db.changesCount
                        posted = true
                    }
                    if rng.chance(0.06), let rule = rng.element(of: manual) {
                        try db.execute(sql: """
                            INSERT OR IGNORE INTO point_entries (member_id, year, rule_id, dimension, points, source, source_key, occurred_on,
                                                                 note, status, created_at)
                            VALUES (?, ?, ?, ?, ?, 'member', ?, ?, '参加社区活动（演示数据）', 'pending', \(Timestamp.nowSQL))
                            """, arguments: [member.id, year, rule.id, rule.dimension, rule.points, "seed:\(member.id):p", day(&rng)])
                        summary.entries += db.changesCount
                    }
                    if posted { try PointsLedger.refreshTotals(db, memberID: member.id, year: year) }

                    // Credits, and now and then a redemption in the member's community.
                    let credits = 10 * rng.int(in: 1...30)
                    if try PointsLedger.postCredit(db, residentID: member.resident, amount: credits, kind: "activity",
                                                   key: "seed:credit:\(member.resident)", note: "志愿服务（演示数据）") {
                        summary.credits += 1
                    }
                    guard rng.chance(0.08), let community = GridPath.ids(in: member.path).first,
                          let item = itemsByCommunity[community].flatMap({ rng.element(of: $0) }),
                          try PointsLedger.balance(db, residentID: member.resident) >= item.cost,
                          try Int.fetchOne(db, sql: "SELECT count(*) FROM shop_redemptions WHERE resident_id = ?", arguments: [member.resident]) == 0
                    else { continue }
                    try db.execute(sql: "UPDATE shop_items SET stock = stock - 1 WHERE id = ? AND stock > 0", arguments: [item.id])
                    guard db.changesCount == 1 else { continue }
                    let fulfilled = rng.chance(0.7)
                    try db.execute(sql: """
                        INSERT INTO shop_redemptions (item_id, resident_id, user_id, grid_path, cost, code, status, created_at, decided_at)
                        SELECT ?, ?, coalesce((SELECT min(id) FROM users WHERE resident_id = ?), (SELECT min(id) FROM users)), ?, ?, ?, ?, \(Timestamp.nowSQL), ?
                        """, arguments: [item.id, member.resident, member.resident, member.path, item.cost, String(format: "%06d", rng.below(1_000_000)),
                                         fulfilled ? "fulfilled" : "pending", fulfilled ? Timestamp.string(from: database.clock.now) : nil])
                    let redemption = db.lastInsertedRowID
                    try db.execute(sql: """
                        INSERT INTO credit_entries (resident_id, amount, kind, source_key, note, redemption_id, created_at)
                        VALUES (?, ?, 'redeem', ?, '兑换（演示数据）', ?, \(Timestamp.nowSQL))
                        """, arguments: [member.resident, -item.cost, "redeem:\(redemption)", redemption])
                    summary.redemptions += 1
                }
            }
        }
        return summary
    }
}
