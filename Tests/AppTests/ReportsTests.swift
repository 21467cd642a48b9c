import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPTestSupport
import Storage
import Testing

/// A small fixed county for the monthly report: two estates of the test community, a handful of
/// people, members, an activity, wishes, points and credits, placed in the month before the
/// test clock's (`month`, which has ended and so may be closed) and the one before it (`prior`).
/// Every figure the tests expect is counted by hand from the rows below.
struct ReportFixture {
    let app: TestApp
    let month: ReportPeriod
    let prior: ReportPeriod
    /// The second estate 月亮小区 → 第二网格 → 2号楼 (the test's own is 阳光小区 → 第一网格 → 1号楼).
    let estateB: Grid
    let gridB: Grid
    let buildingB: Grid
    var residents: [String: Int64] = [:]
    var members: [String: Int64] = [:]

    init(_ app: TestApp) throws {
        self.app = app
        month = ReportPeriod.of(TestClock.now).previous
        prior = month.previous
        let grids = Grids(app.database)
        estateB = try grids.createChild(of: app.community.id, name: "月亮小区", kind: .estate, by: .system)
        gridB = try grids.createChild(of: estateB.id, name: "第二网格", kind: .grid, by: .system)
        buildingB = try grids.createChild(of: gridB.id, name: "2号楼", kind: .building, by: .system)
        try fill()
    }

    func day(_ d: Int, _ period: ReportPeriod? = nil) -> String { (period ?? month).text + String(format: "-%02d", d) }
    /// Noon in Beijing (04:00 UTC) on day `d`, plus `hours`.
    func at(_ d: Int, hour: Int = 4, _ period: ReportPeriod? = nil) -> String { day(d, period) + String(format: "T%02d:00:00.000Z", hour) }
    /// Noon in Beijing on day `d` in seconds since 1970 (the cases' clock columns).
    func seconds(_ d: Int, _ period: ReportPeriod? = nil) -> Int64 {
        Int64(ChinaDate.startOfDay(day(d, period))!.timeIntervalSince1970) + 12 * 3600
    }

    private mutating func fill() throws {
        let a = app.building.id, b = buildingB.id
        let claimer = try app.makeUser("claimer", role: .member)
        let m = self
        var residents: [String: Int64] = [:], members: [String: Int64] = [:]
        try app.database.write { db in
            func house(_ building: Int64, _ room: String) throws -> Int64 {
                try db.execute(sql: "INSERT INTO houses (building_id, unit, room) VALUES (?, '1', ?)", arguments: [building, room])
                return db.lastInsertedRowID
            }
            let hA = try house(a, "101"), hB = try house(b, "201")
            var serial = 0
            func person(_ name: String, home: Int64?, building: Int64?, status: String = "active",
                        residences: [(house: Int64, from: String, to: String?, reason: String?)]) throws -> Int64 {
                serial += 1
                let id = "1101011950010100" + String(format: "%02d", serial)
                try db.execute(sql: """
                    INSERT INTO residents (name, id_number, id_number_rev, sex, birth_date, status, building_id)
                    VALUES (?, ?, ?, 'F', '1950-01-01', ?, ?)
                    """, arguments: [name, id, String(id.reversed()), status, building])
                let rid = db.lastInsertedRowID
                for r in residences {
                    try db.execute(sql: """
                        INSERT INTO residences (resident_id, house_id, relation, started_on, ended_on, end_reason) VALUES (?, ?, 'resident', ?, ?, ?)
                        """, arguments: [rid, r.house, r.from, r.to, r.reason])
                }
                _ = home
                return rid
            }
            // People: R1, R2 (arrived in the month), R5 live in A; R4 lives in B; R3 moved out of B
            // in the month; R6 arrives in B after the month.
            residents["R1"] = try person("张一", home: hA, building: a, residences: [(hA, "2020-01-01", nil, nil)])
            residents["R2"] = try person("李二", home: hA, building: a, residences: [(hA, m.day(10), nil, nil)])
            residents["R3"] = try person("王三", home: nil, building: nil, status: "moved_out",
                                         residences: [(hB, "2020-01-01", m.day(20), "moved_out")])
            residents["R4"] = try person("赵四", home: hB, building: b, residences: [(hB, "2020-01-01", nil, nil)])
            residents["R5"] = try person("孙五", home: hA, building: a, residences: [(hA, "2020-01-01", nil, nil)])
            residents["R6"] = try person("周六", home: hB, building: b, residences: [(hB, m.month.next.firstDay, nil, nil)])

            // Key groups: R4 独居老人 (visited in the month), R5 残疾人 and 低保户 (last visited in
            // the prior month, more than 30 days before the month's end).
            func tag(_ resident: String, _ name: String) throws {
                try db.execute(sql: "INSERT INTO resident_tags (resident_id, tag_id) SELECT ?, id FROM tags WHERE name = ?",
                               arguments: [residents[resident], name])
            }
            try tag("R4", "独居老人"); try tag("R5", "残疾人"); try tag("R5", "低保户")
            try db.execute(sql: "INSERT INTO visits (resident_id, visited_on, user_id, note) VALUES (?, ?, ?, '走访'), (?, ?, ?, '走访')",
                           arguments: [residents["R4"], m.day(15), claimer.id, residents["R5"], m.day(1, m.prior), claimer.id])

            // Party members: R1 retired (grid A), R4 in service (grid B), whose 双报到 was submitted
            // and confirmed in the month.
            func member(_ resident: String, _ category: String, grid: Int64) throws -> Int64 {
                try db.execute(sql: "INSERT INTO party_members (resident_id, status, category, grid_id) VALUES (?, 'full', ?, ?)",
                               arguments: [residents[resident], category, grid])
                return db.lastInsertedRowID
            }
            members["R1"] = try member("R1", "retired", grid: m.app.grid.id)
            members["R4"] = try member("R4", "employed", grid: m.gridB.id)
            try db.execute(sql: """
                INSERT INTO member_reports (member_id, year, employer, status, submitted_at, decided_at) VALUES (?, ?, '县医院', 'confirmed', ?, ?)
                """, arguments: [members["R4"], m.month.year, m.at(3), m.at(4)])

            // Posts: one in A held by R1's member since the month's first day, one empty in B.
            try db.execute(sql: "INSERT INTO posts (category_id, grid_id, title, capacity) VALUES (1, ?, '楼道长', 2), (1, ?, '巡逻', 2)",
                           arguments: [m.app.grid.id, m.gridB.id])
            let postA = db.lastInsertedRowID - 1
            try db.execute(sql: "INSERT INTO post_holders (post_id, member_id, started_on) VALUES (?, ?, ?)",
                           arguments: [postA, members["R1"], m.month.firstDay])

            // Activities: one held in A in the month (R2 and R5 attended, 2 hours each; R1 did not
            // come), one still open in B, one held in B in the prior month.
            func activity(_ grid: Int64, _ status: String, _ start: String) throws -> Int64 {
                try db.execute(sql: """
                    INSERT INTO activities (title, category_id, grid_id, starts_at, ends_at, signup_deadline, capacity, hours, checkin_code, status)
                    VALUES ('清扫楼道', 4, ?, ?, ?, ?, 20, 2, 'ABC123', ?)
                    """, arguments: [grid, start + "T09:00", start + "T11:00", start + "T08:00", status])
                return db.lastInsertedRowID
            }
            let held = try activity(m.app.grid.id, "closed", m.day(8))
            _ = try activity(m.gridB.id, "open", m.day(9))
            let earlier = try activity(m.gridB.id, "closed", m.day(8, m.prior))
            for (seq, (resident, status)) in [("R2", "attended"), ("R5", "attended"), ("R1", "no_show")].enumerated() {
                try db.execute(sql: "INSERT INTO activity_signups (activity_id, resident_id, seq, status, signed_up_at) VALUES (?, ?, ?, ?, ?)",
                               arguments: [held, residents[resident], seq + 1, status, m.at(1)])
            }
            try db.execute(sql: "INSERT INTO activity_signups (activity_id, resident_id, seq, status, signed_up_at) VALUES (?, ?, 1, 'attended', ?)",
                           arguments: [earlier, residents["R3"], m.at(1, m.prior)])
            for resident in ["R2", "R5"] {
                try db.execute(sql: """
                    INSERT INTO volunteer_hours (resident_id, hours, served_on, content, activity_id, source_key, created_at)
                    VALUES (?, 2, ?, '清扫楼道', ?, ?, ?)
                    """, arguments: [residents[resident], m.day(8), held, "activity:\(held):resident:\(residents[resident]!)", m.at(8)])
            }

            // Wishes: W1 (A) and W2 (B) posted, published, claimed, completed and rated in the
            // month (24 h and 12 h to claim, 48 h and 36 h to complete, rated 5 and 4); W3 (A)
            // posted in the prior month expired in the month; W4 (B) submitted in the month.
            func wish(_ code: String, _ resident: String, _ building: Grid, status: String, created: String, published: String? = nil,
                      claimed: String? = nil, completed: String? = nil, rated: String? = nil, rating: Int? = nil, updated: String) throws {
                let claimant = claimed == nil ? nil : residents["R1"]
                try db.execute(sql: """
                    INSERT INTO wishes (code, title, category_id, value_yuan, resident_id, grid_id, grid_path, status, claimant_resident_id,
                                        claimant_user_id, rating, created_at, published_at, claimed_at, completed_at, rated_at, updated_at)
                    VALUES (?, '修电饭煲', 3, 50, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [code, residents[resident], building.id, building.path, status, claimant, claimant == nil ? nil : claimer.id,
                                     rating, created, published, claimed, completed, rated, updated])
            }
            let gridA = m.app.building!
            try wish("AAAAA2", "R5", gridA, status: "rated", created: m.at(2, hour: 1), published: m.at(2), claimed: m.at(3),
                     completed: m.at(5), rated: m.at(6), rating: 5, updated: m.at(6))
            try wish("AAAAA3", "R4", m.buildingB, status: "rated", created: m.at(4, hour: 1), published: m.at(4, hour: 2),
                     claimed: m.at(4, hour: 14), completed: m.at(6, hour: 2), rated: m.at(7), rating: 4, updated: m.at(7))
            try wish("AAAAA4", "R5", gridA, status: "expired", created: m.at(10, m.prior), published: m.at(10, m.prior), updated: m.at(11))
            try wish("AAAAA5", "R4", m.buildingB, status: "submitted", created: m.at(12), updated: m.at(12))

            // Card points approved in the month: R1 讲政治 2, R4 比奉献 3 (and a pending 5 that does
            // not count); R1 树形象 10 in the prior month. Confirming R4's 双报到 posts 讲政治 10 on
            // the day it was confirmed when the report syncs the card.
            func entry(_ member: String, rule: Int, _ dimension: String, _ points: Int, on: String, status: String) throws {
                try db.execute(sql: """
                    INSERT INTO point_entries (member_id, year, rule_id, dimension, points, source, occurred_on, status, created_at)
                    VALUES (?, ?, ?, ?, ?, 'staff', ?, ?, ?)
                    """, arguments: [members[member], Int(on.prefix(4)), rule, dimension, points, on, status, on + "T04:00:00.000Z"])
            }
            try entry("R1", rule: 1, "politics", 2, on: m.day(5), status: "approved")
            try entry("R4", rule: 4, "dedication", 3, on: m.day(6), status: "approved")
            try entry("R4", rule: 6, "image", 5, on: m.day(7), status: "pending")
            try entry("R1", rule: 6, "image", 10, on: m.day(5, m.prior), status: "approved")
            try db.execute(sql: """
                INSERT INTO point_totals (member_id, year, grid_path, politics, image, total) VALUES (?, ?, ?, 2, 10, 12)
                """, arguments: [members["R1"], m.month.year, m.app.grid.path])

            // Credits in the month: R1 earned 10 and redeemed 5, R2 earned 20 for a wish.
            func credit(_ resident: String, _ amount: Int, _ kind: String, _ key: String, on d: Int) throws {
                try db.execute(sql: "INSERT INTO credit_entries (resident_id, amount, kind, source_key, created_at) VALUES (?, ?, ?, ?, ?)",
                               arguments: [residents[resident], amount, kind, key, m.at(d)])
            }
            try credit("R1", 10, "activity", "t:1", on: 2)
            try credit("R1", -5, "redeem", "t:2", on: 7)
            try credit("R2", 20, "wish", "t:3", on: 6)

            // Cases (诉求): K1 (A, 环境 30 min / 72 h) accepted after 10 min, resolved in 10 h by
            // the deadline, satisfied, closed; K2 (B, 安全隐患 10 min / 24 h) accepted after 20 min
            // (late), resolved late after 100,000 s, 基本满意; K3 (A) accepted after 5 min, its
            // deadline on day 22 passed unresolved; K4 (B) never accepted (response overdue);
            // K5 (A) a merged duplicate; K6 (A) in the prior month, resolved.
            let unitPath = "/\(m.app.upperUnit)/\(m.app.unit)/"
            func caseRow(_ grid: Grid, category: Int, targets: (Int, Int), status: String, reported: Int64, prior: Bool = false,
                         accepted: Int64? = nil, deadline: Int64? = nil, resolved: Int64? = nil, resolution: Int64? = nil,
                         inTime: Int? = nil, satisfaction: String? = nil, merged: Int64? = nil) throws -> Int64 {
                let assigned = accepted != nil && status != "accepted"
                try db.execute(sql: """
                    INSERT INTO cases (category_id, description, grid_id, grid_path, source, status, response_target, resolution_target,
                                       reported_at, month, accepted_at, response_seconds, deadline, resolved_at, resolution_seconds,
                                       resolved_in_time, satisfaction, due_at, unit_id, unit_path, merged_into_id, updated_at)
                    VALUES (?, '路灯不亮', ?, ?, 'grid', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '2026-01-01T00:00:00.000Z')
                    """, arguments: [category, grid.id, grid.path, status, targets.0, targets.1, reported, (prior ? m.prior : m.month).text,
                                     accepted, accepted.map { $0 - reported }, deadline, resolved, resolution, inTime, satisfaction,
                                     status == "reported" ? reported + Int64(targets.0) : (resolved == nil && merged == nil ? deadline : nil),
                                     assigned ? m.app.unit : nil, assigned ? unitPath : nil, merged])
                return db.lastInsertedRowID
            }
            let k1 = try caseRow(gridA, category: 1, targets: (1800, 259_200), status: "closed", reported: m.seconds(2),
                                 accepted: m.seconds(2) + 600, deadline: m.seconds(5), resolved: m.seconds(2) + 600 + 36_000,
                                 resolution: 36_000, inTime: 1, satisfaction: "satisfied")
            _ = try caseRow(m.buildingB, category: 4, targets: (600, 86_400), status: "visited", reported: m.seconds(5),
                            accepted: m.seconds(5) + 1200, deadline: m.seconds(6), resolved: m.seconds(5) + 1200 + 100_000,
                            resolution: 100_000, inTime: 0, satisfaction: "basic")
            _ = try caseRow(gridA, category: 1, targets: (1800, 259_200), status: "in_progress", reported: m.seconds(19),
                            accepted: m.seconds(19) + 300, deadline: m.seconds(22))
            _ = try caseRow(m.buildingB, category: 1, targets: (1800, 259_200), status: "reported", reported: m.seconds(10))
            _ = try caseRow(gridA, category: 1, targets: (1800, 259_200), status: "merged", reported: m.seconds(3), merged: k1)
            _ = try caseRow(gridA, category: 1, targets: (1800, 259_200), status: "resolved", reported: m.seconds(3, m.prior), prior: true,
                            accepted: m.seconds(3, m.prior) + 60, deadline: m.seconds(6, m.prior), resolved: m.seconds(4, m.prior),
                            resolution: 3600, inTime: 1)
        }
        self.residents = residents
        self.members = members
    }

    /// `/reports/monthly.csv` as (section, item, grid) → value.
    static func figures(_ client: AppClient, _ query: String) throws -> [String: String] {
        let response = try client.get("/reports/monthly.csv?" + query)
        guard response.status == 200 else { throw TestFailure("CSV answered \(response.status): \(response.text.prefix(300))") }
        var figures: [String: String] = [:]
        for line in response.text.split(separator: "\r\n").dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4 else { continue }
            figures[fields[0] + "/" + fields[1] + "/" + fields[2]] = fields[3]
        }
        return figures
    }
}

@Suite(.serialized) struct ReportsTests {
    @Test func everySectionCountsTheFixedMonthByHand() throws {
        let app = try TestApp()
        let f = try ReportFixture(app)
        let coordinator = try app.signedIn(.coordinator)
        let q = "scope=\(app.community.id)&month=\(f.month.text)"
        let csv = try ReportFixture.figures(coordinator, q)
        func expect(_ key: String, _ value: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(csv[key] == value, "\(key): \(csv[key] ?? "missing"), expected \(value)", sourceLocation: sourceLocation)
        }
        // Residents: A has R1, R2, R5 at the month's end, B has R4 (R3 left, R6 comes later).
        expect("居民/月末居民/合计", "4")
        expect("居民/月末居民/阳光小区", "3")
        expect("居民/月末居民/月亮小区", "1")
        expect("居民/本月迁入/合计", "1")
        expect("居民/本月迁入/阳光小区", "1")
        expect("居民/本月迁出/合计", "1")
        expect("居民/本月迁出/月亮小区", "1")
        expect("居民/重点人群/合计", "2")
        expect("居民/重点人群·独居老人/合计", "1")
        expect("居民/重点人群·残疾人/合计", "1")
        expect("居民/重点人群·低保户/合计", "1")
        expect("居民/重点人群·空巢老人/合计", "0")
        expect("居民/本月走访重点人群/合计", "1")
        expect("居民/本月走访重点人群/月亮小区", "1")
        expect("居民/超30天未走访/合计", "1")
        expect("居民/超30天未走访/阳光小区", "1")
        // Party members, 双报到, posts.
        expect("党员队伍/党员/合计", "2")
        expect("党员队伍/党员·离退休/合计", "1")
        expect("党员队伍/党员·在职/合计", "1")
        expect("党员队伍/党员·流动/合计", "0")
        expect("党员队伍/本月双报到/合计", "1")
        expect("党员队伍/本月双报到/月亮小区", "1")
        expect("党员队伍/本月确认报到/合计", "1")
        expect("党员队伍/本年已确认报到/合计", "1")
        expect("党员队伍/志愿岗位/合计", "2")
        expect("党员队伍/岗位在岗/合计", "1")
        expect("党员队伍/岗位空缺/合计", "1")
        expect("党员队伍/在岗党员人次/合计", "1")
        // Volunteering: the one activity held in A.
        expect("志愿服务/开展活动/合计", "1")
        expect("志愿服务/开展活动/阳光小区", "1")
        expect("志愿服务/参与人次/合计", "2")
        expect("志愿服务/服务时长（小时）/合计", "4.0")
        expect("志愿服务/未到人次/合计", "1")
        // Wishes.
        expect("微心愿/新增心愿/合计", "3")
        expect("微心愿/新增心愿/阳光小区", "1")
        expect("微心愿/新增心愿/月亮小区", "2")
        expect("微心愿/发布心愿/合计", "2")
        expect("微心愿/认领心愿/合计", "2")
        expect("微心愿/完成心愿/合计", "2")
        expect("微心愿/评价心愿/合计", "2")
        expect("微心愿/过期心愿/合计", "1")
        expect("微心愿/平均评分/合计", "4.50")
        expect("微心愿/发布到认领（中位数，小时）/合计", "18.0")
        expect("微心愿/认领到完成（中位数，小时）/合计", "42.0")
        // Points: 2 + 3 approved by hand, 10 posted for the confirmed 双报到; the pending 5 does not count.
        expect("积分/党员积分/合计", "15")
        expect("积分/党员积分/阳光小区", "2")
        expect("积分/党员积分/月亮小区", "13")
        expect("积分/党员积分·讲政治/合计", "12")
        expect("积分/党员积分·比奉献/合计", "3")
        expect("积分/党员积分·树形象/合计", "0")
        expect("积分/获得爱心积分/合计", "30")
        expect("积分/兑换爱心积分/合计", "5")
        // Cases: K1–K4 count (K5 merged); in time K1, K3; resolved K1, K2 (K1 by the deadline);
        // response due K1–K3 accepted and K4 past its response target; followed up K1, K2.
        expect("诉求办理/反映诉求/合计", "4")
        expect("诉求办理/反映诉求/阳光小区", "2")
        expect("诉求办理/反映诉求/月亮小区", "2")
        expect("诉求办理/及时受理/合计", "2")
        expect("诉求办理/及时受理/月亮小区", "0")
        expect("诉求办理/按期办结/合计", "1")
        expect("诉求办理/办结/合计", "2")
        expect("诉求办理/响应及时率（%）/合计", "50.0")
        expect("诉求办理/按期办结率（%）/合计", "50.0")
        expect("诉求办理/办结率（%）/合计", "50.0")
        expect("诉求办理/满意率（%）/合计", "100.0")
        expect("诉求办理/平均响应（分钟）/合计", "11.7")
        expect("诉求办理/平均办理（小时）/合计", "18.9")
        expect("诉求办理/月末超时工单/合计", "2")

        // The page: the sections, the change against the prior month, the ranking, the charts.
        let page = try coordinator.get("/reports/monthly?" + q)
        #expect(page.status == 200)
        let html = page.text
        for heading in ["一、居民", "二、党员队伍", "三、志愿服务", "四、微心愿", "五、积分", "六、诉求办理", "分网格主要指标", "微心愿近 12 个月走势",
                        "诉求办理近 12 个月走势", "按诉求类别", "按承办部门", "月末超时未办结的工单"] {
            #expect(html.contains(heading), "page lacks \(heading)")
        }
        // Prior month: one activity held (in B), 10 card points; the change is written out.
        #expect(html.contains("<td>志愿服务</td><td>开展活动</td><td class=\"num\">1</td><td class=\"num\">1</td><td class=\"num\">持平</td>"))
        #expect(html.contains("<td>积分</td><td>党员积分</td><td class=\"num\">15</td><td class=\"num\">10</td><td class=\"num\">+5</td>"))
        #expect(html.contains("<td>诉求办理</td><td>反映诉求</td><td class=\"num\">4</td><td class=\"num\">1</td><td class=\"num\">+3</td>"))
        #expect(html.contains("超时 "), "the overdue list says by how long")
        #expect(html.contains("<td class=\"num\">1</td><td>赵四</td><td>—</td><td class=\"num\">13</td>"), "R4 leads the ranking with 13")
        #expect(html.contains("<td class=\"num\">2</td><td>张一</td><td>—</td><td class=\"num\">12</td>"))
        #expect(html.components(separatedBy: "<svg class=\"chart\"").count - 1 >= 5, "bars per section and the trend line")
        #expect(!html.contains("110101195001010"), "no ID number on the report")
        #expect(!html.contains("<script"))
    }

    @Test func csvIsUTF8WithAByteOrderMark() throws {
        let app = try TestApp()
        let f = try ReportFixture(app)
        let staff = try app.signedIn(.staff)
        let response = try staff.get("/reports/monthly.csv?month=\(f.month.text)")
        #expect(response.status == 200)
        #expect(Array(response.body.prefix(3)) == [0xEF, 0xBB, 0xBF])
        #expect(response.header("content-type") == "text/csv; charset=utf-8")
        #expect(response.text.contains("栏目,项目,网格,数值"))
        #expect(response.text.contains("微心愿,完成心愿,合计,2"))
    }

    @Test func aClosedMonthStaysAsPrintedAfterEditsAndShowsWhatChanged() throws {
        let app = try TestApp()
        let f = try ReportFixture(app)
        let coordinator = try app.signedIn(.coordinator)
        let q = "scope=\(app.community.id)&month=\(f.month.text)"
        let before = try coordinator.get("/reports/monthly?" + q)
        #expect(before.text.contains("归档本月报表") && !before.text.contains("已归档"))
        let closed = try coordinator.post("/reports/monthly/close", [("scope", "\(app.community.id)"), ("month", f.month.text)])
        #expect(closed.status == 303)
        #expect(try app.auditCount(action: "report.close") == 1)

        // Later edits: another key-group visit and a third wish completed in the month.
        try app.database.write { db in
            try db.execute(sql: "INSERT INTO visits (resident_id, visited_on, user_id, note) SELECT ?, ?, id, '补录' FROM users LIMIT 1",
                           arguments: [f.residents["R5"], f.day(20)])
            try db.execute(sql: "UPDATE wishes SET completed_at = ? WHERE code = 'AAAAA5'", arguments: [f.at(20)])
        }
        let archived = try coordinator.get("/reports/monthly?" + q)
        #expect(archived.text.contains("已归档"))
        let frozen = try ReportFixture.figures(coordinator, q)
        #expect(frozen["居民/本月走访重点人群/合计"] == "1" && frozen["微心愿/完成心愿/合计"] == "2", "the archive keeps the closed figures")
        #expect(archived.text.contains("<td>微心愿</td><td>完成心愿</td><td class=\"num\">2</td>"))
        let live = try ReportFixture.figures(coordinator, q + "&live=1")
        #expect(live["居民/本月走访重点人群/合计"] == "2" && live["微心愿/完成心愿/合计"] == "3")

        let changes = try coordinator.get("/reports/monthly/changes?" + q)
        #expect(changes.status == 200)
        #expect(changes.text.contains("<td>微心愿</td><td>完成心愿</td><td>合计</td><td class=\"num\">2</td><td class=\"num\">3</td>"))
        #expect(changes.text.contains("<td>居民</td><td>本月走访重点人群</td><td>阳光小区</td><td class=\"num\">0</td><td class=\"num\">1</td>"))
        #expect(changes.text.contains("<td>居民</td><td>超30天未走访</td><td>合计</td><td class=\"num\">1</td><td class=\"num\">0</td>"))

        // Closing again is refused; the snapshot table refuses edits.
        let again = try coordinator.post("/reports/monthly/close", [("scope", "\(app.community.id)"), ("month", f.month.text)])
        #expect(again.status == 409)
        #expect(throws: (any Error).self) {
            try app.database.write { db in try db.execute(sql: "UPDATE report_snapshots SET page_html = 'x'") }
        }
    }

    @Test func regeneratingAClosedMonthIsAuditedAndKeepsTheOldSnapshot() throws {
        let app = try TestApp()
        let f = try ReportFixture(app)
        let coordinator = try app.signedIn(.coordinator)
        let fields = [("scope", "\(app.community.id)"), ("month", f.month.text)]
        let notYet = try coordinator.post("/reports/monthly/regenerate", fields + [("reason", "更正")])
        #expect(notYet.status == 409, "a month not closed is not re-generated")
        #expect(try coordinator.post("/reports/monthly/close", fields).status == 303)
        try app.database.write { db in
            try db.execute(sql: "UPDATE wishes SET completed_at = ? WHERE code = 'AAAAA5'", arguments: [f.at(20)])
        }
        let noReason = try coordinator.post("/reports/monthly/regenerate", fields + [("reason", " ")])
        #expect(noReason.status == 422)
        let regenerated = try coordinator.post("/reports/monthly/regenerate", fields + [("reason", "补录一条完成的心愿")])
        #expect(regenerated.status == 303)

        let versions = try app.database.read { db in
            try Row.fetchAll(db, sql: "SELECT version, reason, figures_json FROM report_snapshots WHERE grid_id = ? AND month = ? ORDER BY version",
                             arguments: [app.community.id, f.month.text])
        }
        #expect(versions.count == 2)
        #expect((versions.first?["reason"] as String?) == "" && (versions.last?["reason"] as String?) == "补录一条完成的心愿")
        #expect((versions.first?["figures_json"] as String?) != (versions.last?["figures_json"] as String?))
        let audit = try app.database.read { db in
            try Row.fetchOne(db, sql: "SELECT actor_user_id, before_json, after_json FROM audit_log WHERE action = 'report.regenerate'")
        }
        #expect(audit != nil)
        #expect((audit?["before_json"] as String?)?.contains("\"version\":1") == true)
        #expect((audit?["after_json"] as String?)?.contains("补录一条完成的心愿") == true)
        #expect((audit?["actor_user_id"] as Int64?) != nil)
        let page = try coordinator.get("/reports/monthly?scope=\(app.community.id)&month=\(f.month.text)")
        #expect(page.text.contains("第 2 版") && page.text.contains("补录一条完成的心愿"))
        let csv = try ReportFixture.figures(coordinator, "scope=\(app.community.id)&month=\(f.month.text)")
        #expect(csv["微心愿/完成心愿/合计"] == "3")

        // The current month has not ended: it cannot be closed.
        let current = ReportPeriod.of(TestClock.now).text
        #expect(try coordinator.post("/reports/monthly/close", [("scope", "\(app.community.id)"), ("month", current)]).status == 409)
    }

    @Test func scopeOutsideIs404AndOtherRolesAre403() throws {
        let app = try TestApp()
        let f = try ReportFixture(app)
        let q = "scope=\(app.community.id)&month=\(f.month.text)"
        let outsider = try app.signedIn(.coordinator, scope: app.otherCommunity.id)
        #expect(try outsider.get("/reports/monthly?" + q).status == 404)
        #expect(try outsider.get("/reports/monthly.csv?" + q).status == 404)
        #expect(try outsider.post("/reports/monthly/close", [("scope", "\(app.community.id)"), ("month", f.month.text)]).status == 404)
        #expect(try app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM report_snapshots") } == 0)
        // Its own community's report is empty of the fixture's figures.
        let own = try ReportFixture.figures(outsider, "month=\(f.month.text)")
        #expect(own["微心愿/新增心愿/合计"] == "0")

        let narrow = try app.signedIn(.coordinator, scope: f.estateB.id)
        #expect(try narrow.get("/reports/monthly?" + q).status == 404, "a coordinator of one estate cannot see the community")
        let estate = try ReportFixture.figures(narrow, "month=\(f.month.text)")
        #expect(estate["居民/月末居民/合计"] == "1" && estate["居民/月末居民/第二网格"] == "1")

        for role in [Role.member, .resident, .gridWorker] {
            #expect(try app.signedIn(role).get("/reports/monthly?" + q).status == 403, "\(role)")
        }
        let staff = try app.signedIn(.staff)
        #expect(try staff.get("/reports/monthly?" + q).status == 200)
        #expect(try staff.post("/reports/monthly/close", [("scope", "\(app.community.id)"), ("month", f.month.text)]).status == 403)
        #expect(try staff.get("/reports/monthly?scope=abc").status == 400)
        #expect(try staff.get("/reports/monthly?month=2026-13").status == 400)
    }

    @Test func theYearlyReportAddsUpTheMonths() throws {
        let app = try TestApp()
        let f = try ReportFixture(app)
        let coordinator = try app.signedIn(.coordinator)
        let page = try coordinator.get("/reports/yearly?scope=\(app.community.id)&year=\(f.month.year)")
        #expect(page.status == 200)
        let html = page.text
        // Wishes completed: 2, both in `month`; 双报到: 1; hours: 4 in `month` (+ 2 in the prior
        // month's activity when it lies in the same year, which had no hours recorded).
        #expect(html.contains("<td>微心愿</td><td>完成心愿</td><td>全年合计</td><td class=\"num\">2</td>"))
        #expect(html.contains("<td>党员队伍</td><td>本月双报到</td><td>全年合计</td><td class=\"num\">1</td>"))
        #expect(html.contains("<td>志愿服务</td><td>服务时长（小时）</td><td>全年合计</td><td class=\"num\">4.0</td>"))
        #expect(html.contains(f.month.shortName))
    }
}
