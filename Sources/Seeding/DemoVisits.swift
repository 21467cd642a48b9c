import Domain
import Foundation
import GRDB
import Storage

/// The demo county's visits 走访 to key-group residents: over the last 120 days, none to three
/// per person (so the monthly report and the "not visited for 30 days" list have something to
/// count), made by the first staff or grid worker of the resident's community. Deterministic
/// (from the resident's id and the seed), one statement; runs once (skips a county with visits).
public struct DemoVisits: Sendable {
    public var seed: UInt64
    public var today: ChinaDay

    public init(seed: UInt64, today: ChinaDay) {
        self.seed = seed
        self.today = today
    }

    static let notes = ["入户走访，身体状况良好", "电话问候，生活正常", "上门了解需求，已登记", "节日慰问"]

    public func populate(database: AppDatabase) throws -> Int {
        try database.write { db in
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM visits") == 0 else { return 0 }
            let salt = Int64(seed % 997) + 1
            try db.execute(sql: """
                WITH slot(n) AS (VALUES (0), (1), (2)),
                     note(k, text) AS (SELECT column1 - 1, column2 FROM (VALUES \(Self.notes.indices.map { "(\($0 + 1), '\(Self.notes[$0])')" }.joined(separator: ", ")))),
                     key(id, community) AS (
                         SELECT r.id, CAST(substr(b.path, 2, instr(substr(b.path, 2), '/') - 1) AS INTEGER)
                         FROM (SELECT rt.resident_id AS id FROM resident_tags rt
                               WHERE rt.tag_id IN (SELECT id FROM tags WHERE key_group = 1) GROUP BY rt.resident_id) k
                         CROSS JOIN residents r ON r.id = k.id CROSS JOIN grids b ON b.id = r.building_id
                         WHERE r.status = 'active'),
                     worker(community, user) AS (
                         SELECT g.id, (SELECT min(u.id) FROM users u JOIN grids s ON s.id = u.scope_grid_id
                                       WHERE u.role IN ('grid_worker', 'staff') AND s.path >= g.path AND s.path < g.path || '~')
                         FROM grids g WHERE g.parent_id IS NULL)
                INSERT INTO visits (resident_id, visited_on, user_id, note)
                SELECT key.id, date(?, '-' || ((key.id * 7919 + slot.n * 4111 + ?) % 120) || ' days'), worker.user,
                       (SELECT text FROM note WHERE k = (key.id + slot.n) % \(Self.notes.count))
                FROM key CROSS JOIN slot JOIN worker ON worker.community = key.community
                WHERE worker.user IS NOT NULL AND (key.id * 31 + slot.n * 17 + ?) % 4 > slot.n
                """, arguments: [today.stored, salt, salt])
            return db.changesCount
        }
    }
}
