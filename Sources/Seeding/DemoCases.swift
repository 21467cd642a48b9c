import Domain
import Foundation
import GRDB
import Storage

/// The demo county's cases 诉求工单: the unit tree (county departments; the sub-district office
/// with its sections, each community's committee and property company below it), a handler
/// account for each unit, default units for the categories, and about one case for every five
/// residents over the last 18 months in every state — most accepted well within 30 minutes and
/// resolved within 72 hours, some late, some paused, escalated or reopened, a few merged, and
/// the last days' cases still open — each with the timeline its steps would have written (who
/// and when; the unit's handler for the unit's steps). Runs once.
public struct DemoCases: Sendable {
    public var seed: UInt64
    public var today: ChinaDay

    public init(seed: UInt64, today: ChinaDay) {
        self.seed = seed
        self.today = today
    }

    public struct Result: Sendable {
        public var units = 0
        public var handlers = 0
        public var cases = 0
    }

    static let descriptions: [Int64: [String]] = [
        1: ["楼道堆放杂物", "垃圾桶满溢未清运", "绿化带有建筑垃圾"], 2: ["路灯不亮", "井盖松动", "人行道砖块破损"],
        3: ["电梯经常停运", "小区门禁损坏", "楼顶漏水"], 4: ["电动车楼道充电", "消防通道被占用", "燃气管道有异味"],
        5: ["邻里噪音纠纷", "停车位争执", "宠物扰民"], 6: ["咨询养老补贴", "办理居住证明", "低保申请咨询"], 7: ["其他问题反映"],
    ]

    /// Creates the units and their handlers; `passwordHash` is the demo accounts' password.
    public func populate(database: AppDatabase, communities: [Int64], passwordHash: String) throws -> Result {
        try database.write { db in
            var result = Result()
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM cases") == 0,
                  try Int.fetchOne(db, sql: "SELECT count(*) FROM units") == 0 else { return result }
            var rng = SplitMix64(seed: seed, stream: "cases")
            var handlers: [Int64: Int64] = [:]
            func unit(_ name: String, _ kind: String, parent: (id: Int64, path: String)?) throws -> (id: Int64, path: String) {
                try db.execute(sql: "INSERT INTO units (parent_id, name, kind, path, created_at) VALUES (?, ?, ?, '/0/', \(Timestamp.nowSQL))",
                               arguments: [parent?.id, name, kind])
                let id = db.lastInsertedRowID
                let path = (parent?.path ?? "/") + "\(id)/"
                try db.execute(sql: "UPDATE units SET path = ? WHERE id = ?", arguments: [path, id])
                try db.execute(sql: """
                    INSERT INTO users (username, display_name, password_hash, role, scope_unit_id, must_change_password)
                    VALUES (?, ?, ?, 'unit_handler', ?, 0)
                    """, arguments: ["unit\(id)", name + "办理人", passwordHash, id])
                handlers[id] = db.lastInsertedRowID
                result.units += 1
                result.handlers += 1
                return (id, path)
            }
            let chengguan = try unit("县城管局", "county_dept", parent: nil)
            let zhujian = try unit("县住建局", "county_dept", parent: nil)
            let street = try unit("街道办事处", "town", parent: nil)
            let section = try unit("城管科", "street_office", parent: street)
            let safety = try unit("综治办", "street_office", parent: street)
            try db.execute(sql: "UPDATE case_categories SET default_unit_id = ? WHERE id = 1", arguments: [section.id])
            try db.execute(sql: "UPDATE case_categories SET default_unit_id = ? WHERE id = 2", arguments: [zhujian.id])
            try db.execute(sql: "UPDATE case_categories SET default_unit_id = ? WHERE id = 4", arguments: [safety.id])

            let end = Int64((ChinaDate.startOfDay(today.stored) ?? database.clock.now).timeIntervalSince1970) + 12 * 3600
            let now = min(end, Int64(database.clock.now.timeIntervalSince1970))
            var nextID: Int64 = 1
            let timeline = try db.makeStatement(sql: """
                INSERT INTO timeline_events (entity_type, entity_id, from_state, to_state, action, user_id, note, at)
                VALUES ('case', ?, ?, ?, ?, ?, ?, ?)
                """)
            for communityID in communities {
                guard let community = try Row.fetchOne(db, sql: "SELECT path, name FROM grids WHERE id = ?", arguments: [communityID]) else { continue }
                let name: String = community["name"]
                let committee = try unit(name + "居委会", "community", parent: street)
                let property = try unit(name + "物业", "property", parent: committee)
                let range = GridPath.subtreeRange(of: community["path"] as String)
                let reporters = try Int64.fetchAll(db, sql: """
                    SELECT u.id FROM users u JOIN grids g ON g.id = u.scope_grid_id
                    WHERE u.role IN ('grid_worker', 'staff') AND g.path >= ? AND g.path < ?
                    """, arguments: [range.lower, range.upper])
                let staff = try Int64.fetchOne(db, sql: """
                    SELECT u.id FROM users u JOIN grids g ON g.id = u.scope_grid_id
                    WHERE u.role = 'staff' AND g.path >= ? AND g.path < ? ORDER BY u.id
                    """, arguments: [range.lower, range.upper])
                let anchors = try Row.fetchAll(db, sql: """
                    SELECT r.id, r.building_id, g.path FROM residents r JOIN grids g ON g.id = r.building_id
                    WHERE g.path >= ? AND g.path < ? AND r.status = 'active' AND (r.id % 5) = ?
                    """, arguments: [range.lower, range.upper, Int(seed % 5)])
                for anchor in anchors {
                    let category = Int64(rng.int(in: 1...7))
                    let urgent = category == 4
                    let responseTarget: Int64 = urgent ? 600 : 1800
                    let resolutionTarget: Int64 = urgent ? 86_400 : 259_200
                    // One in forty in the last three days (open work), the rest over 18 months.
                    let ageSeconds = rng.below(40) == 0 ? Int64(rng.int(in: 600...259_200)) : Int64(rng.int(in: 3...540)) * 86_400
                        + Int64(rng.int(in: 0...36_000))
                    let reported = now - ageSeconds
                    let month = String(ChinaDate.today(Date(timeIntervalSince1970: TimeInterval(reported))).prefix(7))
                    let roll = rng.below(100)
                    // Response: most well within the target, some late.
                    let response: Int64 = roll < 88 ? Int64(rng.int(in: 60...Int(responseTarget * 4 / 5)))
                        : Int64(rng.int(in: Int(responseTarget + 60)...Int(responseTarget * 6)))
                    let unitChoice = rng.below(100)
                    var unitRef = unitChoice < 40 ? property : unitChoice < 65 ? committee
                        : category == 2 ? zhujian : category == 4 ? safety : category == 1 ? section : chengguan
                    let escalated = rng.below(100) < 4 && unitRef.id == property.id
                    if escalated { unitRef = rng.below(2) == 0 ? committee : street }
                    let pausedSeconds: Int64 = rng.below(100) < 5 ? Int64(rng.int(in: 12...48)) * 3600 : 0
                    let resolution: Int64 = rng.below(100) < 91 ? Int64(rng.int(in: 1_800...Int(resolutionTarget * 9 / 10)))
                        : Int64(rng.int(in: Int(resolutionTarget + 3600)...Int(resolutionTarget * 2)))
                    let reopened = rng.below(100) < 3
                    let accepted = reported + response
                    let deadline = accepted + resolutionTarget + pausedSeconds
                    let resolvedAt = accepted + resolution + pausedSeconds + (reopened ? 86_400 : 0)
                    let merged = rng.below(100) == 0 && nextID > 1
                    // What has happened by now.
                    var status: String
                    if merged { status = "merged" }
                    else if now < accepted { status = "reported" }
                    else if now < accepted + 1200 { status = "accepted" }
                    else if now < accepted + 3600 { status = "assigned" }
                    else if now < resolvedAt || rng.below(400) == 0 { status = "in_progress" }   // a few long overdue
                    else if now < resolvedAt + 86_400 { status = "resolved" }
                    else if now < resolvedAt + 3 * 86_400 || rng.below(20) == 0 { status = "visited" }
                    else { status = "closed" }
                    let isAccepted = !["reported", "merged"].contains(status) && !(status == "merged")
                    let hasUnit = ["assigned", "in_progress", "resolved", "visited", "closed"].contains(status)
                    let isResolved = ["resolved", "visited", "closed"].contains(status)
                    let visited = ["visited", "closed"].contains(status)
                    let satisfactionRoll = rng.below(100)
                    let satisfaction: String? = visited ? (satisfactionRoll < 86 ? "satisfied" : "basic") : reopened && status == "in_progress" ? "unsatisfied" : nil
                    let running = ["reported", "accepted", "assigned", "in_progress"].contains(status)
                    let dueAt: Int64? = !running ? nil : status == "reported" ? reported + responseTarget : deadline
                    let warnAt: Int64? = status == "reported" ? reported + responseTarget * 4 / 5 : isAccepted ? deadline - resolutionTarget / 5 : nil
                    let clockSeconds: Int64 = isResolved ? resolution : isAccepted ? max(0, now - accepted - pausedSeconds) : 0
                    let descriptions = Self.descriptions[category] ?? ["问题反映"]
                    let reporter = rng.element(of: reporters)
                    try db.execute(sql: """
                        INSERT INTO cases (id, category_id, description, location, grid_id, grid_path, resident_id, reporter_id, source, status,
                                           unit_id, unit_path, urgent, response_target, resolution_target, reported_at, month, accepted_at,
                                           response_seconds, deadline, original_deadline, due_at, warn_at, clock_seconds, clock_started_at,
                                           paused_seconds, resolved_at, resolution_seconds, resolved_in_time, resolve_note, satisfaction,
                                           visited_at, closed_at, merged_into_id, reopen_count, escalation_count, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \(Timestamp.nowSQL))
                        """, arguments: [
                            nextID, category, rng.element(of: descriptions) ?? "问题反映", "\(rng.int(in: 1...30))号楼附近",
                            anchor["building_id"] as Int64, anchor["path"] as String, rng.below(3) == 0 ? anchor["id"] as Int64 : nil,
                            reporter, rng.below(4) == 0 ? "resident" : rng.below(3) == 0 ? "phone" : "grid", status,
                            hasUnit ? unitRef.id : nil, hasUnit ? unitRef.path : nil, urgent ? 1 : 0, responseTarget, resolutionTarget,
                            reported, month, isAccepted ? accepted : nil, isAccepted ? response : nil, isAccepted ? deadline : nil,
                            hasUnit ? deadline - pausedSeconds : nil, dueAt, warnAt, clockSeconds,
                            running && isAccepted ? now - clockSeconds : nil, pausedSeconds, isResolved ? resolvedAt : nil,
                            isResolved ? resolution : nil, isResolved ? (resolvedAt <= deadline + (reopened ? 86_400 : 0) ? 1 : 0) : nil,
                            isResolved ? "已处理完毕" : nil, satisfaction, visited ? resolvedAt + 86_400 : nil,
                            status == "closed" ? resolvedAt + 3 * 86_400 : nil, merged ? Int64(rng.int(in: 1...Int(nextID - 1))) : nil,
                            reopened && (isResolved || status == "in_progress") ? 1 : 0, escalated && hasUnit ? 1 : 0,
                        ])
                    // The timeline the store would have written, at the times above.
                    var events: [(from: String, to: String, action: String, at: Int64, user: Int64?, note: String?)] = [
                        ("reported", "reported", "case.report", reported, nil, nil),
                    ]
                    if merged {
                        events.append(("reported", "merged", "case.merge", reported + 900, staff, "与已反映的问题重复"))
                    }
                    if isAccepted { events.append(("reported", "accepted", "case.accept", accepted, staff, nil)) }
                    var step = accepted
                    let handler = handlers[unitRef.id]
                    if hasUnit {
                        events.append(("accepted", "assigned", "case.assign", accepted + 300, staff, nil))
                        events.append(("assigned", "in_progress", "case.unit_accept", accepted + 900, handler, nil))
                        step = accepted + 900
                        if escalated {
                            events.append(("in_progress", "assigned", "case.escalate", step + 3600, handler, "需要上级部门协调"))
                            events.append(("assigned", "in_progress", "case.unit_accept", step + 5400, handler, nil))
                            step += 5400
                        }
                        if pausedSeconds > 0 {
                            events.append(("in_progress", "paused", "case.pause", step + 1800, handler, "等待居民补充材料"))
                            events.append(("paused", "in_progress", "case.resume", step + 1800 + pausedSeconds, handler, nil))
                        }
                        if reopened {
                            let first = resolvedAt - 86_400
                            events.append(("in_progress", "resolved", "case.resolve", first, handler, "已处理"))
                            events.append(("resolved", "in_progress", "case.reopen", first + 43_200, staff, "不满意：问题仍未解决"))
                        }
                        if isResolved { events.append(("in_progress", "resolved", "case.resolve", resolvedAt, handler, "已处理完毕")) }
                        if visited {
                            events.append(("resolved", "visited", "case.visit", resolvedAt + 86_400, staff,
                                           satisfaction == "satisfied" ? "满意" : "基本满意"))
                        }
                        if status == "closed" { events.append(("visited", "closed", "case.close", resolvedAt + 3 * 86_400, staff, nil)) }
                    }
                    for event in events where event.at <= now {
                        try timeline.execute(arguments: [nextID, event.from, event.to, event.action, event.action == "case.report" ? reporter : event.user,
                                                         event.note, Timestamp.string(from: Date(timeIntervalSince1970: TimeInterval(event.at)))])
                    }
                    nextID += 1
                    result.cases += 1
                }
            }
            return result
        }
    }
}
