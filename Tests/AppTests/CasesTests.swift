import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPTestSupport
import Storage
import Testing

/// A clock the test moves by hand (seconds since 1970), starting on the test clock's day.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    init(_ start: Date = TestClock.now) { current = Date(timeIntervalSince1970: (start.timeIntervalSince1970 / 60).rounded(.down) * 60) }
    var clock: Clock { Clock { [self] in lock.withLock { current } } }
    var seconds: Int64 { lock.withLock { Int64(current.timeIntervalSince1970) } }
    func advance(_ seconds: Int64) { lock.withLock { current = current.addingTimeInterval(TimeInterval(seconds)) } }
}

@Suite struct CasesTests {
    /// The app on a manual clock, with staff, a grid worker, a coordinator and two unit handlers.
    final class World {
        let app: TestApp
        let time: ManualClock
        let staff: AppClient
        let worker: AppClient
        let handler: AppClient
        let otherHandler: AppClient
        let coordinator: AppClient
        /// Clients signed in later, kept signed in by `advance` too.
        var others: [AppClient] = []

        /// Moves the clock on in steps shorter than the sessions' idle timeout (8 h), each
        /// client making a request in between, as people using the app would.
        func advance(_ seconds: Int64) throws {
            var left = seconds
            while left > 0 {
                let step = min(left, 4 * 3600)
                time.advance(step)
                left -= step
                if left > 0 || step == 4 * 3600 {
                    for client in [staff, worker, handler, otherHandler, coordinator] + others { _ = try client.get("/") }
                }
            }
        }

        init() throws {
            let time = ManualClock()
            app = try TestApp { $0.clock = time.clock }
            self.time = time
            staff = try app.signedIn(.staff)
            worker = try app.signedIn(.gridWorker, scope: app.grid.id)
            handler = try app.signedIn(.unitHandler)
            otherHandler = try app.signedIn(.unitHandler, scope: app.otherUnit)
            coordinator = try app.signedIn(.coordinator)
        }

        /// A case reported by the grid worker (environment, 30 min / 72 h); its id.
        func report(_ description: String = "3号楼东侧路灯不亮", category: Int64 = 1) throws -> Int64 {
            try worker.get("/cases/new")
            let response = try worker.post("/cases/new", [("category", "\(category)"), ("description", description), ("location", "3号楼东侧")])
            guard response.status == 303, let location = response.header("location"), let id = Int64(location.split(separator: "/").last ?? "")
            else { throw TestFailure("report answered \(response.status): \(response.text.prefix(300))") }
            return id
        }

        func column<T: DatabaseValueConvertible>(_ id: Int64, _ name: String, as: T.Type = T.self) throws -> T? {
            try app.database.read { db in try T.fetchOne(db, sql: "SELECT \(name) FROM cases WHERE id = ?", arguments: [id]) }
        }

        func status(_ id: Int64) throws -> String? { try column(id, "status") }

        func events(_ id: Int64) throws -> Int {
            try app.database.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM timeline_events WHERE entity_type = 'case' AND entity_id = ?", arguments: [id]) ?? 0
            }
        }

        func post(_ client: AppClient, _ id: Int64, _ action: String, _ fields: [(String, String)] = []) throws -> TestResponse {
            if client.csrf == nil { try client.get("/") }
            return try client.post("/cases/\(id)/\(action)", fields)
        }
    }

    // MARK: - The clock

    @Test func responseAndResolutionWithAPauseAnEscalationAndAReopen() throws {
        let w = try World()
        let t0 = w.time.seconds
        let id = try w.report()
        #expect(try w.column(id, "due_at", as: Int64.self) == t0 + 1800)
        try w.advance(1200)  // accepted after 20 minutes: in time
        #expect(try w.post(w.staff, id, "accept").status == 303)
        #expect(try w.column(id, "response_seconds", as: Int64.self) == 1200)
        let firstDeadline = t0 + 1200 + 72 * 3600
        try w.advance(3600 - 1200)  // t0 + 1 h: assigned with the category's deadline
        #expect(try w.post(w.staff, id, "assign", [("unit_id", "\(w.app.unit)")]).status == 303)
        #expect(try w.column(id, "original_deadline", as: Int64.self) == firstDeadline)
        #expect(!(try w.staff.get("/cases/\(id)").text.contains("原定")), "a deadline that never moved has no original")
        #expect(try w.post(w.handler, id, "accept").status == 303)
        #expect(try w.status(id) == "in_progress")
        try w.advance(9 * 3600)  // t0 + 10 h: paused 2 hours
        #expect(try w.post(w.handler, id, "pause", [("reason", "等待业主提供材料")]).status == 303)
        try w.advance(2 * 3600)
        #expect(try w.post(w.handler, id, "resume").status == 303)
        #expect(try w.column(id, "deadline", as: Int64.self) == firstDeadline + 7200, "the deadline moves on by the pause")
        #expect(try w.staff.get("/cases/\(id)").text.contains("（原定 "), "a moved deadline shows the original")
        try w.advance(8 * 3600)  // t0 + 20 h: escalated with a new deadline 24 h ahead
        let escalated = try w.post(w.handler, id, "escalate", [("unit_id", "\(w.app.upperUnit)"), ("reason", "需要街道协调"),
                                                                ("deadline", CasePagesLocal.input(w.time.seconds + 24 * 3600))])
        #expect(escalated.status == 303)
        #expect(try w.column(id, "unit_id", as: Int64.self) == w.app.upperUnit)
        #expect(try w.column(id, "original_deadline", as: Int64.self) == firstDeadline, "the original is kept")
        // The lower unit no longer sees it; the upper unit's handler signs for it.
        #expect(try w.handler.get("/cases/\(id)").status == 404)
        let upper = try w.app.signedIn(.unitHandler, scope: w.app.upperUnit)
        w.others.append(upper)
        #expect(try w.post(upper, id, "accept").status == 303)
        try w.advance(10 * 3600)  // t0 + 30 h: resolved
        #expect(try w.post(upper, id, "resolve", [("note", "已更换灯泡")]).status == 303)
        // Ran: (10 h − 1200 s) + 18 h = 99,600 s.
        #expect(try w.column(id, "resolution_seconds", as: Int64.self) == 99_600)
        try w.advance(10 * 3600)  // t0 + 40 h: unsatisfied follow-up reopens it
        #expect(try w.post(w.staff, id, "visit", [("satisfaction", "unsatisfied"), ("note", "灯还是时亮时不亮")]).status == 303)
        #expect(try w.status(id) == "in_progress")
        #expect(try w.column(id, "resolution_seconds", as: Int64.self) == nil)
        try w.advance(3600)  // t0 + 41 h: resolved again, within the deadline (t0 + 44 h, + 10 h waiting)
        #expect(try w.post(upper, id, "resolve", [("note", "更换了线路")]).status == 303)
        #expect(try w.column(id, "resolution_seconds", as: Int64.self) == 103_200)
        #expect(try w.column(id, "paused_seconds", as: Int64.self) == 7200)
        #expect(try w.column(id, "resolved_in_time", as: Int64.self) == 1)
        #expect(try w.column(id, "deadline", as: Int64.self) == t0 + 44 * 3600 + 10 * 3600)
        #expect(try w.post(w.staff, id, "visit", [("satisfaction", "satisfied")]).status == 303)
        #expect(try w.post(w.staff, id, "close").status == 303)
        #expect(try w.status(id) == "closed")
        let page = try w.staff.get("/cases/\(id)").text
        for label in ["反映问题", "受理工单", "派单", "部门签收", "挂起工单", "恢复办理", "吹哨上报", "办结工单", "回访不满意，重新办理", "回访", "关闭工单"] {
            #expect(page.contains("<strong>\(label)</strong>"), "timeline shows \(label)")
        }
        #expect(try w.events(id) == 13)
    }

    @Test func overdueExactlyAtTheDeadlineIsNotOneSecondLaterIs() throws {
        let w = try World()
        let id = try w.report()
        try w.advance(1800)
        #expect(!(try w.staff.get("/cases?view=overdue").text.contains("#\(id) ")), "at the deadline: in time")
        #expect(try w.staff.get("/cases?view=soon").text.contains("#\(id) "), "and almost overdue")
        #expect(try w.post(w.coordinator, id, "supervise").status == 409)
        try w.advance(1)
        #expect(try w.staff.get("/cases?view=overdue").text.contains("#\(id) "))
        #expect(try w.coordinator.get("/cases/overdue").text.contains("超时 "))
        #expect(try w.post(w.coordinator, id, "supervise", [("note", "请尽快受理")]).status == 303)
        #expect(try w.column(id, "supervision_count", as: Int.self) == 1)
        // Accepted one second late: the response is not in time.
        #expect(try w.post(w.staff, id, "accept").status == 303)
        #expect(try w.column(id, "response_seconds", as: Int64.self) == 1801)
        // 80 % of 72 h used → almost overdue; the resolution deadline passes one second after 72 h.
        try w.advance(72 * 3600 * 4 / 5 - 1)
        #expect(!(try w.staff.get("/cases?view=soon").text.contains("#\(id) ")))
        try w.advance(1)
        #expect(try w.staff.get("/cases?view=soon").text.contains("#\(id) "), "almost overdue at 80 %")
        try w.advance(72 * 3600 / 5)
        #expect(try w.column(id, "due_at", as: Int64.self) == w.time.seconds, "exactly at the deadline")
        #expect(try w.staff.get("/cases?view=overdue").text.contains("#\(id) ") == false)
        try w.advance(1)
        #expect(try w.staff.get("/cases?view=overdue").text.contains("#\(id) "))
    }

    // MARK: - Rates

    @Test func ratesOnASmallFixedSet() throws {
        let w = try World()
        let now = w.time.seconds
        let month = String(ChinaDate.today(w.time.clock.now).prefix(7))
        let grid = w.app.grid!
        try w.app.database.write { db in
            // id, status, response s, resolution s, resolved in time, satisfaction, response due
            let rows: [(String, Int64?, Int64?, Int64?, String?, Int64?)] = [
                ("closed", 600, 3600, 1, "satisfied", nil),       // A
                ("in_progress", 2400, nil, nil, "unsatisfied", nil), // B: reopened
                ("visited", 1200, 7200, 1, "basic", nil),          // C
                ("reported", nil, nil, nil, nil, now - 60),        // D: response overdue
                ("reported", nil, nil, nil, nil, now + 600),       // E: not due yet
            ]
            for row in rows {
                try db.execute(sql: """
                    INSERT INTO cases (category_id, description, grid_id, grid_path, source, status, response_target, resolution_target,
                                       reported_at, month, accepted_at, response_seconds, resolution_seconds, resolved_in_time,
                                       satisfaction, due_at, unit_id, unit_path, updated_at)
                    VALUES (1, '测试', ?, ?, 'grid', ?, 1800, 259200, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \(Timestamp.nowSQL))
                    """, arguments: [grid.id, grid.path, row.0, now - 7200, month, row.1.map { now - 7200 + $0 }, row.1, row.2, row.3,
                                     row.4, row.5, row.0 == "in_progress" ? w.app.unit : nil,
                                     row.0 == "in_progress" ? "/\(w.app.upperUnit)/\(w.app.unit)/" : nil])
            }
            // F: a merged duplicate, left out.
            try db.execute(sql: """
                INSERT INTO cases (category_id, description, grid_id, grid_path, source, status, response_target, resolution_target,
                                   reported_at, month, merged_into_id, updated_at)
                VALUES (1, '重复', ?, ?, 'grid', 'merged', 1800, 259200, ?, ?, 1, \(Timestamp.nowSQL))
                """, arguments: [grid.id, grid.path, now, month])
        }
        let figures = try w.app.database.read { db in
            try CaseRates.total(db, scopePath: w.app.community.path, firstMonth: month, lastMonth: month, now: now)
        }
        #expect(figures.reported == 5)
        #expect(figures.responseDue == 4)
        #expect(figures.respondedInTime == 2)
        #expect(figures.responseRate == 0.5)
        #expect(figures.resolved == 2)
        #expect(figures.onTimeRate == 1.0)
        #expect(figures.resolutionRate == 0.4)
        #expect(figures.followedUp == 3)
        #expect(figures.satisfied == 2)
        #expect(figures.responseAverage == 1400)
        #expect(figures.responseP90 == 2400)
        #expect(figures.resolutionAverage == 5400)
        #expect(figures.resolutionP90 == 7200)
        let page = try w.coordinator.get("/cases/rates?month=\(month)").text
        for shown in ["50.0%", "100.0%", "40.0%", "66.7%", "23 分钟", "40 分钟", "1.5 小时", "2.0 小时"] {
            #expect(page.contains(shown), "rates page shows \(shown)")
        }
        // Per unit: only B was assigned (to 阳光物业); per grid: all five in 阳光小区.
        let byUnit = try w.app.database.read { db in
            try CaseRates.figures(db, scopePath: w.app.community.path, firstMonth: month, lastMonth: month, grouping: .unit, now: now)
        }
        #expect(byUnit.map(\.key) == ["0", "\(w.app.unit)"])
        #expect(byUnit.map(\.reported) == [4, 1])
        let byGrid = try w.app.database.read { db in
            try CaseRates.figures(db, scopePath: w.app.community.path, firstMonth: month, lastMonth: month, grouping: .childGrid, now: now)
        }
        #expect(byGrid.map(\.key) == ["\(w.app.estate.id)"])
        // A unit handler's view: only B, assigned to the unit (response in 40 min: late).
        let unitTotal = try w.app.database.read { db in
            try CaseRates.total(db, scopePath: nil, unitPath: "/\(w.app.upperUnit)/\(w.app.unit)/", firstMonth: month, lastMonth: month,
                                now: now)
        }
        #expect(unitTotal.reported == 1 && unitTotal.responseDue == 1 && unitTotal.respondedInTime == 0 && unitTotal.followedUp == 1)
    }

    /// The kept monthly sums equal the cases' contributions summed afresh (the migration's first
    /// fill), and no emptied row keeps a count.
    func expectSumsMatchTheCases(_ w: World, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let columns = "node_id, month, unit_id, category_id, own, reported, accepted, responded_in_time, resolved, resolved_in_time, "
            + "followed_up, satisfied, response_total, response_count, resolution_total, resolution_count"
        let (kept, fresh, stray) = try w.app.database.read { db in
            (try Row.fetchAll(db, sql: "SELECT \(columns) FROM case_month_figures WHERE reported <> 0 ORDER BY 1, 2, 3, 4, 5"),
             try Row.fetchAll(db, sql: """
                SELECT node_id, month, unit_id, category_id, own, sum(reported), sum(accepted), sum(responded_in_time), sum(resolved),
                       sum(resolved_in_time), sum(followed_up), sum(satisfied), sum(response_total), sum(response_count),
                       sum(resolution_total), sum(resolution_count)
                FROM case_contributions GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
                """),
             try Int.fetchOne(db, sql: """
                SELECT count(*) FROM case_month_figures WHERE reported = 0 AND (accepted <> 0 OR resolved <> 0 OR followed_up <> 0
                    OR response_total <> 0 OR resolution_count <> 0)
                """) ?? -1)
        }
        #expect(!fresh.isEmpty, sourceLocation: sourceLocation)
        #expect(kept.map { Array($0.databaseValues) } == fresh.map { Array($0.databaseValues) }, sourceLocation: sourceLocation)
        #expect(stray == 0, sourceLocation: sourceLocation)
    }

    @Test func theMonthlySumsFollowEveryChangeAndAGridMove() throws {
        let w = try World()
        let a = try w.report("路灯不亮")
        let b = try w.report("垃圾满溢", category: 2)
        let c = try w.report("楼道堆物")
        #expect(try w.post(w.staff, a, "accept").status == 303)
        #expect(try w.post(w.staff, a, "assign", [("unit_id", "\(w.app.unit)")]).status == 303)
        #expect(try w.post(w.handler, a, "accept").status == 303)
        try w.advance(3600)
        #expect(try w.post(w.handler, a, "resolve", [("note", "已修好")]).status == 303)
        #expect(try w.post(w.staff, a, "visit", [("satisfaction", "unsatisfied"), ("note", "还是不亮")]).status == 303)
        #expect(try w.post(w.handler, a, "escalate", [("unit_id", "\(w.app.upperUnit)"), ("reason", "需要街道协调")]).status == 303)
        #expect(try w.post(w.staff, b, "accept").status == 303)
        #expect(try w.post(w.staff, c, "merge", [("target_id", "\(b)")]).status == 303)
        try expectSumsMatchTheCases(w)
        let month = String(ChinaDate.today(w.time.clock.now).prefix(7))
        func reported(in path: String) throws -> Int {
            try w.app.database.read { db in
                try CaseRates.total(db, scopePath: path, firstMonth: month, lastMonth: month, now: w.time.seconds).reported
            }
        }
        #expect(try reported(in: w.app.community.path) == 2, "the merged duplicate is left out")
        // The estate holding the worker's grid moves to the other community: its cases follow.
        try w.app.database.write { db in _ = try Grids.move(db, w.app.estate.id, to: w.app.otherCommunity.id, by: .system) }
        try expectSumsMatchTheCases(w)
        #expect(try reported(in: w.app.community.path) == 0)
        #expect(try reported(in: w.app.otherCommunity.path) == 2)
        #expect(!(try w.staff.get("/cases?view=all").text.contains("#\(a) ")), "no longer in the old community's list")
    }

    // MARK: - Refusals write nothing

    @Test func everyRefusedTransitionWritesNothing() throws {
        let w = try World()
        let id = try w.report()
        func unchanged(_ expected: Int, _ comment: Comment? = nil, _ request: () throws -> TestResponse) throws {
            let before = (try w.status(id), try w.events(id), try w.app.auditCount(action: "case.accept") + w.app.auditCount(action: "case.assign"))
            let status = try request().status
            #expect(status == expected, comment)
            let after = (try w.status(id), try w.events(id), try w.app.auditCount(action: "case.accept") + w.app.auditCount(action: "case.assign"))
            #expect(before == after)
        }
        // Wrong role: 403.
        try unchanged(403) { try w.post(w.worker, id, "assign", [("unit_id", "\(w.app.unit)")]) }
        try unchanged(403) { try w.post(w.coordinator, id, "accept") }
        try unchanged(404, "not assigned to the unit: not found") { try w.post(w.handler, id, "accept") }
        // Wrong state: 409.
        try unchanged(409) { try w.post(w.staff, id, "assign", [("unit_id", "\(w.app.unit)")]) }
        try unchanged(409) { try w.post(w.staff, id, "close") }
        #expect(try w.post(w.staff, id, "accept").status == 303)
        try unchanged(409) { try w.post(w.staff, id, "accept") }
        #expect(try w.post(w.staff, id, "assign", [("unit_id", "\(w.app.unit)")]).status == 303)
        // Another unit's case: 404, and not in its list.
        try unchanged(404) { try w.post(w.otherHandler, id, "accept") }
        try unchanged(404) { try w.post(w.otherHandler, id, "return", [("reason", "不归我们")]) }
        #expect(try w.otherHandler.get("/cases/\(id)").status == 404)
        #expect(!(try w.otherHandler.get("/cases").text.contains("#\(id) ")))
        #expect(try w.handler.get("/cases").text.contains("#\(id) "))
        // Outside the staff's scope: 404.
        let outsider = try w.app.signedIn(.staff, scope: w.app.otherCommunity.id)
        try unchanged(404) { try w.post(outsider, id, "pause", [("reason", "x")]) }
        // A unit handler sees no grids, residents or members.
        #expect(try w.handler.get("/residents").status == 403)
        // Missing reason: 422 and nothing written.
        try unchanged(422) { try w.post(w.handler, id, "return", [("reason", " ")]) }
        // Escalating to a unit that is not higher up: 422.
        #expect(try w.post(w.handler, id, "accept").status == 303)
        #expect(try w.post(w.handler, id, "escalate", [("unit_id", "\(w.app.otherUnit)"), ("reason", "x")]).status == 422)
        #expect(try w.status(id) == "in_progress")
    }

    @Test func twoStaffAcceptingAtOnceAcceptItOnce() throws {
        let w = try World()
        let id = try w.report()
        let clients = try (0..<8).map { _ in try w.app.signedIn(.staff) }
        for client in clients { try client.get("/cases/\(id)") }
        let statuses = parallel(clients) { client in (try? client.post("/cases/\(id)/accept", []))?.status ?? 0 }
        #expect(statuses.filter { $0 == 303 }.count == 1)
        #expect(statuses.filter { $0 == 409 }.count == 7)
        #expect(try w.app.auditCount(action: "case.accept") == 1)
    }

    @Test func aDuplicateIsMergedIntoAnEarlierCaseAndTheReporterTold() throws {
        let w = try World()
        let first = try w.report("路灯不亮")
        let resident = try w.app.signedIn(.resident, scope: w.app.building.id)
        try resident.get("/cases/new")
        let reported = try resident.post("/cases/new", [("category", "1"), ("description", "楼下路灯坏了")])
        #expect(reported.status == 303)
        let second = try #require(Int64(reported.header("location")?.split(separator: "/").last ?? ""))
        #expect(try w.post(w.staff, second, "merge", [("target_id", "\(second + 5)")]).status == 422)
        #expect(try w.post(w.staff, first, "merge", [("target_id", "\(second)")]).status == 422, "only into an earlier case")
        #expect(try w.post(w.staff, second, "merge", [("target_id", "\(first)")]).status == 303)
        #expect(try w.status(second) == "merged")
        #expect(try w.staff.get("/cases/\(first)").text.contains("合并了重复工单 #\(second)"))
        #expect(try resident.get("/notifications").text.contains("与工单 #\(first) 重复"))
        // The resident sees their own case and its progress, not the grid worker's.
        #expect(try resident.get("/cases/\(second)").status == 200)
        #expect(try resident.get("/cases/\(first)").status == 404)
        #expect(try resident.get("/cases?view=all").text.contains("#\(second) "))
    }

    @Test func aPhotoTakenOnThePhoneIsStrippedAndShown() throws {
        let w = try World()
        try w.worker.get("/cases/new")
        let boundary = "----jinlin\(UInt64.random(in: 1...UInt64.max))"
        var body: [UInt8] = []
        for (name, value) in [("_csrf", w.worker.csrf ?? ""), ("category", "2"), ("description", "井盖缺失")] {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".utf8)
        body += TestImages.jpegWithGPS() + Array("\r\n--\(boundary)--\r\n".utf8)
        let response = try w.worker.send("POST", "/cases/new", body: body, headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")])
        #expect(response.status == 303)
        let id = try #require(Int64(response.header("location")?.split(separator: "/").last ?? ""))
        let hash = try #require(try w.app.database.read { db in try String.fetchOne(db, sql: "SELECT hash FROM case_photos WHERE case_id = ?", arguments: [id]) })
        let photo = try w.staff.get("/cases/\(id)/photos/\(hash)")
        #expect(photo.status == 200)
        #expect(!photo.body.containsSequence(TestImages.gpsMarker))
        #expect(try w.otherHandler.get("/cases/\(id)/photos/\(hash)").status == 404)
    }
}

/// `datetime-local` text (Beijing time) for a test.
enum CasePagesLocal {
    static func input(_ seconds: Int64) -> String {
        ChinaDate.display(Timestamp.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))).replacingOccurrences(of: " ", with: "T")
    }
}

extension Array where Element == UInt8 {
    func containsSequence(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { Array(self[$0..<$0 + needle.count]) == needle }
    }
}
