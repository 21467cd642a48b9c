import Domain
import Foundation
import GRDB
import Storage

/// The demo county's wishes 微心愿: about one for every ten residents, posted over the last 18
/// months and found in every state — most fulfilled and rated, some still waiting for review,
/// published, claimed or just completed, a few rejected, cancelled or expired. Claims go to the
/// demo member accounts of the wisher's community (a claim names an account). Runs once.
public struct DemoWishes: Sendable {
    public var seed: UInt64
    public var today: ChinaDay

    public init(seed: UInt64, today: ChinaDay) {
        self.seed = seed
        self.today = today
    }

    static let titles: [Int: [String]] = [
        1: ["帮忙买米面油", "冬季取暖帮扶", "更换旧棉被"], 2: ["孩子需要一个书包", "想要一套课外读物", "需要一盏台灯"],
        3: ["修理洗衣机", "家里灯泡坏了", "电视没有信号"], 4: ["希望有人陪聊天", "周末陪老人散步", "陪同去公园"],
        5: ["代缴水电费", "代取药品", "帮忙预约挂号"], 6: ["陪同去医院复查", "上门量血压"], 7: ["学习用智能手机"],
    ]

    /// Six characters from the code alphabet (no I, O, 0, 1), distinct for distinct ids.
    static func code(for id: Int64) -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var n = (UInt64(id) &* 387_420_489 &+ 12_345) % 1_073_741_824   // 32^6; the multiplier is odd
        var out: [Character] = []
        for _ in 0..<6 {
            out.append(alphabet[Int(n % 32)])
            n /= 32
        }
        return String(out)
    }

    public func populate(database: AppDatabase, communities: [Int64]) throws -> Int {
        try database.write { db in
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM wishes") == 0 else { return 0 }
            var rng = SplitMix64(seed: seed, stream: "wishes")
            var written = 0
            var nextID = (try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM wishes") ?? 0) + 1
            let end = ChinaDate.startOfDay(today.stored) ?? database.clock.now
            func stamp(_ date: Date) -> String { Timestamp.string(from: date) }
            for communityID in communities {
                guard let path = try String.fetchOne(db, sql: "SELECT path FROM grids WHERE id = ?", arguments: [communityID]) else { continue }
                let range = GridPath.subtreeRange(of: path)
                let claimants = try Row.fetchAll(db, sql: """
                    SELECT u.id, u.resident_id FROM users u JOIN party_members m ON m.resident_id = u.resident_id
                    JOIN grids g ON g.id = u.scope_grid_id WHERE u.role = 'member' AND g.path >= ? AND g.path < ?
                    """, arguments: [range.lower, range.upper])
                let residents = try Row.fetchAll(db, sql: """
                    SELECT r.id, r.building_id, g.path FROM residents r JOIN grids g ON g.id = r.building_id
                    WHERE g.path >= ? AND g.path < ? AND r.status = 'active' AND (r.id % 10) = ?
                    """, arguments: [range.lower, range.upper, Int(seed % 10)])
                for resident in residents {
                    let category = rng.int(in: 1...7)
                    let title = rng.element(of: Self.titles[category] ?? ["微心愿"]) ?? "微心愿"
                    // One in six in the last two weeks (the board has open wishes), the rest over 18 months.
                    let days = rng.below(6) == 0 ? rng.int(in: 0...13) : rng.int(in: 14...540)
                    let created = end.addingTimeInterval(-Double(days) * 86_400 - Double(rng.int(in: 3_600...36_000)))
                    let age = end.timeIntervalSince(created) / 86_400
                    let roll = rng.below(100)
                    let claimant = rng.element(of: claimants)
                    var status: String
                    switch roll {
                    case ..<3: status = "rejected"
                    case ..<5: status = "cancelled"
                    case ..<8: status = age > 30 ? "expired" : "published"
                    default:
                        if age < 3 { status = roll < 50 ? "submitted" : "published" }
                        else if claimant == nil { status = age > 30 ? "expired" : "published" }
                        else if age < 10 { status = roll < 40 ? "claimed" : roll < 70 ? "completed" : "rated" }
                        else { status = roll < 90 ? "closed" : "rated" }
                    }
                    let claimed = ["claimed", "completed", "rated", "closed"].contains(status)
                    let published = status != "submitted" && status != "rejected" && status != "cancelled"
                    let completed = ["completed", "rated", "closed"].contains(status)
                    let rated = status == "rated" || status == "closed"
                    // Each step a little after the one before, none later than today.
                    let publishedAt = min(end, created.addingTimeInterval(Double(rng.int(in: 3_600...86_400))))
                    let claimedAt = min(end, publishedAt.addingTimeInterval(Double(rng.int(in: 1_800...4 * 86_400))))
                    let completedAt = min(end, claimedAt.addingTimeInterval(Double(rng.int(in: 3_600...6 * 86_400))))
                    let ratedAt = min(end, completedAt.addingTimeInterval(Double(rng.int(in: 3_600...2 * 86_400))))
                    try db.execute(sql: """
                        INSERT INTO wishes (id, code, title, description, category_id, value_yuan, resident_id, grid_id, grid_path, status,
                                            reject_reason, claimant_resident_id, claimant_user_id, note, rating, comment,
                                            created_at, published_at, claimed_at, completed_at, rated_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [
                            nextID, Self.code(for: nextID), title, title + "，谢谢志愿者。", category, rng.int(in: 0...300),
                            resident["id"] as Int64, resident["building_id"] as Int64, resident["path"] as String, status,
                            status == "rejected" ? "不属于微心愿范围，已转社区救助渠道" : nil,
                            claimed ? claimant?["resident_id"] as Int64? : nil, claimed ? claimant?["id"] as Int64? : nil,
                            completed ? "已完成，附照片" : nil, rated ? rng.int(in: 3...5) : nil, rated ? "非常感谢！" : nil,
                            stamp(created), published ? stamp(publishedAt) : nil, claimed ? stamp(claimedAt) : nil,
                            completed ? stamp(completedAt) : nil, rated ? stamp(ratedAt) : nil,
                            stamp(rated ? ratedAt : completed ? completedAt : claimed ? claimedAt : created),
                        ])
                    nextID += 1
                    written += 1
                }
            }
            return written
        }
    }
}
