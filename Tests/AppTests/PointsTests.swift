import Access
import AppCore
import Domain
import Foundation
import GRDB
import Seeding
import Storage
import Testing

/// Members, residents, credits and shop items around the points card and the reward shop.
struct PointsFixture {
    let app: TestApp
    var volunteers: VolunteerFixture { VolunteerFixture(app: app) }
    var year: Int { Int(TestClock.todayText.prefix(4))! }

    func count(_ sql: String, _ arguments: StatementArguments = []) throws -> Int {
        try app.database.read { db in try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0 }
    }

    /// Credits given as a rated wish would (`wish:{id}:credit`), `times` × 20.
    func grant(_ residentID: Int64, wishes: Range<Int64>) throws {
        try app.database.write { db in
            for wish in wishes { try PointsLedger.postWishRated(db, memberResidentID: residentID, wishID: wish, ratedOn: TestClock.todayText) }
        }
    }

    func balance(_ residentID: Int64) throws -> Int {
        try count("SELECT coalesce((SELECT balance FROM credit_balances WHERE resident_id = ?), 0)", [residentID])
    }

    func ledgerSum(_ residentID: Int64) throws -> Int {
        try count("SELECT coalesce(sum(amount), 0) FROM credit_entries WHERE resident_id = ?", [residentID])
    }

    func total(_ memberID: Int64) throws -> Int {
        try count("SELECT coalesce((SELECT total FROM point_totals WHERE member_id = ? AND year = ?), 0)", [memberID, year])
    }

    /// A shop item created by `staff` over HTTP.
    func item(_ staff: AppClient, name: String = "环保袋", cost: Int = 20, stock: Int = 5, grid: Int64? = nil) throws -> Int64 {
        let response = try staff.post("/shop/new", [("name", name), ("cost", String(cost)), ("stock", String(stock)),
                                                    ("grid_id", String(grid ?? app.community.id))])
        guard response.status == 303 else { throw TestFailure("creating the item answered \(response.status): \(response.text.prefix(300))") }
        return try app.database.read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM shop_items") ?? 0 }
    }

    /// A resident (not a member) with a signed-in `resident` account.
    func resident(_ name: String) throws -> (client: AppClient, residentID: Int64, userID: Int64) {
        let (residentID, _) = try volunteers.residents.resident(name, birth: VolunteerFixture.birth())
        let username = "r-\(UUID().uuidString.prefix(12))"
        let user = try app.makeUser(username, role: .resident, scope: app.grid.id)
        try app.database.write { db in
            try db.execute(sql: "UPDATE users SET resident_id = ? WHERE id = ?", arguments: [residentID, user.id])
        }
        let client = AppClient(port: app.port)
        guard try client.signIn(username: username, password: TestApp.password).status == 303 else { throw TestFailure("resident sign-in") }
        return (client, residentID, user.id)
    }

    /// Everything this module writes, to show that a refusal wrote nothing.
    func snapshot() throws -> [Int] {
        try ["point_entries", "point_totals", "credit_entries", "shop_items", "shop_redemptions", "audit_log", "timeline_events"].map {
            try count("SELECT count(*) FROM \($0)")
        } + [count("SELECT coalesce(sum(stock), 0) FROM shop_items"), count("SELECT coalesce(sum(balance), 0) FROM credit_balances"),
             count("SELECT count(*) FROM point_entries WHERE status = 'pending'"),
             count("SELECT count(*) FROM shop_redemptions WHERE status = 'pending'"),
             count("SELECT coalesce(sum(total), 0) FROM point_totals"), count("SELECT count(*) FROM point_rules WHERE active = 1")]
    }

    func ruleID(_ item: String) throws -> Int64 {
        try app.database.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM point_rules WHERE item LIKE ?", arguments: [item + "%"])! }
    }
}

@Suite struct PointsTests {
    // MARK: - Automatic entries

    @Test func automaticEntriesArePostedOnceFromActivitiesReportsAndRatedWishes() throws {
        let app = try TestApp()
        let f = PointsFixture(app: app)
        let staff = try app.signedIn(.staff)
        let member = try f.volunteers.member("张卫国")
        let activityID = try f.volunteers.activity(staff)
        let today = TestClock.todayText
        try app.database.write { db in
            try db.execute(sql: """
                INSERT INTO volunteer_hours (resident_id, hours, served_on, content, activity_id, source_key, created_at)
                VALUES (?, 2, ?, '清洁家园', ?, ?, '2026-01-01T00:00:00.000Z')
                """, arguments: [member.residentID, today, activityID, "activity:\(activityID):resident:\(member.residentID)"])
            try db.execute(sql: """
                INSERT INTO member_reports (member_id, year, employer, status, submitted_at, decided_at)
                VALUES (?, ?, '县人民医院', 'confirmed', '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z')
                """, arguments: [member.memberID, f.year])
        }

        let card = try member.client.get("/members/\(member.memberID)/card")
        #expect(card.status == 200)
        #expect(card.text.contains("参加志愿服务活动") && card.text.contains("双报到"))
        #expect(try f.total(member.memberID) == 12, "2 for the activity, 10 for the report")
        #expect(try f.balance(member.residentID) == 20, "2 hours × 10 credits")

        // Replaying: the card again, the board, the same hours: nothing new.
        #expect(try member.client.get("/members/\(member.memberID)/card").status == 200)
        #expect(try staff.get("/points/board").status == 200)
        #expect(try f.count("SELECT count(*) FROM point_entries") == 2)
        #expect(try f.count("SELECT count(*) FROM credit_entries") == 1)

        // The wishes module's call, twice for the same wish.
        try f.grant(member.residentID, wishes: 7..<8)
        try f.grant(member.residentID, wishes: 7..<8)
        #expect(try f.count("SELECT count(*) FROM point_entries WHERE source_key = 'wish:7:card'") == 1)
        #expect(try f.count("SELECT count(*) FROM credit_entries WHERE source_key = 'wish:7:credit'") == 1)
        #expect(try f.total(member.memberID) == 15)
        #expect(try f.balance(member.residentID) == 40)
        #expect(try f.ledgerSum(member.residentID) == 40)

        // The card shows the dimensions, total and grade; someone else's card is a 404 to a member.
        let other = try f.volunteers.member("李红梅")
        #expect(try member.client.get("/members/\(other.memberID)/card").status == 404)
        let staffView = try staff.get("/members/\(member.memberID)/card?year=\(f.year)")
        #expect(staffView.text.contains("讲政治") && staffView.text.contains("比奉献") && staffView.text.contains("树形象"))
        #expect(staffView.text.contains("不合格"))

        // The ledger refuses edits and deletions.
        #expect(throws: (any Error).self) {
            try app.database.write { db in try db.execute(sql: "UPDATE point_entries SET points = 50") }
        }
        #expect(throws: (any Error).self) {
            try app.database.write { db in try db.execute(sql: "DELETE FROM credit_entries") }
        }
    }

    @Test func theBoardPostsHoursCreditsOfResidentVolunteersAndQuartersOfHeldPosts() throws {
        let app = try TestApp()
        let f = PointsFixture(app: app)
        let staff = try app.signedIn(.staff)
        let member = try f.volunteers.member("何振华")
        let volunteer = try f.resident("许文娟")
        let activityID = try f.volunteers.activity(staff)
        let postID = try f.volunteers.post(staff)
        let today = TestClock.todayText
        try app.database.write { db in
            try db.execute(sql: """
                INSERT INTO volunteer_hours (resident_id, hours, served_on, content, activity_id, source_key, created_at)
                VALUES (?, 1.5, ?, '清洁家园', ?, 'test:1', '2026-01-01T00:00:00.000Z')
                """, arguments: [volunteer.residentID, today, activityID])
            // Held for 200 days: two full quarters.
            try db.execute(sql: "INSERT INTO post_holders (post_id, member_id, started_on) VALUES (?, ?, date(?, '-200 days'))",
                           arguments: [postID, member.memberID, today])
        }
        #expect(try staff.get("/points/board").status == 200)
        #expect(try f.balance(volunteer.residentID) == 15, "1.5 hours × 10")
        #expect(try f.count("SELECT count(*) FROM point_entries WHERE source = 'activity'") == 0, "a resident volunteer has no card")
        #expect(try f.count("SELECT count(*) FROM point_entries WHERE source = 'post' AND member_id = ?", [member.memberID]) == 2)
        #expect(try member.client.get("/members/\(member.memberID)/card").status == 200)
        #expect(try staff.get("/points/board").status == 200)
        #expect(try f.count("SELECT count(*) FROM point_entries") == 2, "posted once")
        #expect(try f.count("SELECT count(*) FROM credit_entries") == 1)

        // The resident volunteer redeems with their credits and sees the code.
        let item = try f.item(staff, cost: 10, stock: 3)
        #expect(try volunteer.client.get("/shop").text.contains("兑换"))
        #expect(try volunteer.client.post("/shop/\(item)/redeem").status == 303)
        let code = try #require(try app.database.read { db in try String.fetchOne(db, sql: "SELECT code FROM shop_redemptions") })
        let page = try volunteer.client.get("/points/credits")
        #expect(page.text.contains(code) && page.text.contains("id=\"credit-balance\">5<"))
    }

    @Test func yearlyCapsAndDimensionMaximaLimitTheCard() throws {
        let app = try TestApp()
        let f = PointsFixture(app: app)
        let member = try f.volunteers.member("王建军")
        // 10 rated wishes × 3 points, capped at 15 by the rule.
        try f.grant(member.residentID, wishes: 100..<110)
        #expect(try f.total(member.memberID) == 15)
        #expect(try f.balance(member.residentID) == 200)
    }

    // MARK: - Manual entries

    @Test func aMemberAppliesAndACoordinatorApprovesOrRejects() throws {
        let app = try TestApp()
        let f = PointsFixture(app: app)
        let member = try f.volunteers.member("赵志刚")
        let other = try f.volunteers.member("钱丽华")
        let coordinator = try app.signedIn(.coordinator)
        let staff = try app.signedIn(.staff)
        let gridWorker = try app.signedIn(.gridWorker)
        let outsider = try app.signedIn(.staff, scope: app.otherCommunity.id)
        let rule = try f.ruleID("参加组织生活")
        let deduction = try f.ruleID("违反社区公约")
        let automatic = try f.ruleID("参加志愿服务活动")
        let today = TestClock.todayText
        let fields: [(String, String)] = [("rule_id", String(rule)), ("quantity", "2"), ("occurred_on", today), ("note", "参加主题党日")]

        var before = try f.snapshot()
        #expect(try member.client.post("/members/\(other.memberID)/card/entries", fields).status == 404, "someone else's card")
        #expect(try outsider.post("/members/\(member.memberID)/card/entries", fields).status == 404, "outside the scope")
        #expect(try gridWorker.post("/members/\(member.memberID)/card/entries", fields).status == 403)
        #expect(try member.client.post("/members/\(member.memberID)/card/entries",
                                       [("rule_id", String(deduction)), ("occurred_on", today), ("note", "x")]).status == 422)
        #expect(try member.client.post("/members/\(member.memberID)/card/entries",
                                       [("rule_id", String(automatic)), ("occurred_on", today), ("note", "x")]).status == 422)
        #expect(try member.client.post("/members/\(member.memberID)/card/entries",
                                       [("rule_id", String(rule)), ("occurred_on", "2999-01-01"), ("note", "x")]).status == 422)
        #expect(try f.snapshot() == before, "refusals write nothing")

        #expect(try member.client.post("/members/\(member.memberID)/card/entries", fields).status == 303)
        let entry = try #require(try app.database.read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM point_entries") })
        #expect(try f.total(member.memberID) == 0, "pending entries do not count")
        #expect(try app.auditCount(action: "points.apply") == 1)

        let farCoordinator = try app.signedIn(.coordinator, scope: app.otherCommunity.id)
        before = try f.snapshot()
        #expect(try staff.post("/points/entries/\(entry)/approve").status == 403, "staff do not approve")
        #expect(try member.client.post("/points/entries/\(entry)/approve").status == 403)
        #expect(try farCoordinator.post("/points/entries/\(entry)/approve").status == 404)
        #expect(try coordinator.post("/points/entries/\(entry)/reject").status == 422, "a rejection needs a reason")
        #expect(try f.snapshot() == before)
        #expect(try coordinator.get("/points/approvals").text.contains("赵志刚"))

        #expect(try coordinator.post("/points/entries/\(entry)/approve").status == 303)
        #expect(try f.total(member.memberID) == 4)
        before = try f.snapshot()
        #expect(try coordinator.post("/points/entries/\(entry)/approve").status == 409)
        #expect(try coordinator.post("/points/entries/\(entry)/reject", [("reason", "重复")]).status == 409)
        #expect(try f.snapshot() == before)
        #expect(try app.auditCount(action: "points.approve") == 1)
        #expect(try f.count("SELECT count(*) FROM timeline_events WHERE entity_type = 'point_entry'") == 1)

        // Staff record a deduction; the coordinator rejects it with a reason.
        #expect(try staff.post("/members/\(member.memberID)/card/entries",
                               [("rule_id", String(deduction)), ("occurred_on", today), ("note", "楼道堆物")]).status == 303)
        let second = try #require(try app.database.read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM point_entries") })
        #expect(try coordinator.post("/points/entries/\(second)/reject", [("reason", "已整改")]).status == 303)
        #expect(try f.total(member.memberID) == 4)
        #expect(try f.count("SELECT count(*) FROM point_entries WHERE id = ? AND status = 'rejected' AND reason = '已整改'", [second]) == 1)
    }

    @Test func aCorrectionIsAReversingEntryWithAReason() throws {
        let app = try TestApp()
        let f = PointsFixture(app: app)
        let member = try f.volunteers.member("孙国庆")
        let staff = try app.signedIn(.staff)
        try f.grant(member.residentID, wishes: 1..<2)
        #expect(try f.total(member.memberID) == 3)
        let entry = try #require(try app.database.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM point_entries WHERE source_key = 'wish:1:card'") })

        let outsider = try app.signedIn(.staff, scope: app.otherCommunity.id)
        let before = try f.snapshot()
        #expect(try staff.post("/points/entries/\(entry)/reverse").status == 422, "a reason is required")
        #expect(try member.client.post("/points/entries/\(entry)/reverse", [("reason", "x")]).status == 403)
        #expect(try outsider.post("/points/entries/\(entry)/reverse", [("reason", "x")]).status == 404)
        #expect(try f.snapshot() == before)

        #expect(try staff.post("/points/entries/\(entry)/reverse", [("reason", "心愿重复登记")]).status == 303)
        #expect(try f.total(member.memberID) == 0)
        #expect(try f.count("SELECT count(*) FROM point_entries WHERE reverses_id = ? AND points = -3 AND reason = '心愿重复登记'", [entry]) == 1)
        #expect(try f.count("SELECT count(*) FROM point_entries WHERE id = ? AND points = 3", [entry]) == 1, "the original stays")
        let reversal = try #require(try app.database.read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM point_entries") })
        let after = try f.snapshot()
        #expect(try staff.post("/points/entries/\(entry)/reverse", [("reason", "again")]).status == 409)
        #expect(try staff.post("/points/entries/\(reversal)/reverse", [("reason", "again")]).status == 409)
        #expect(try f.snapshot() == after)
        #expect(try staff.get("/members/\(member.memberID)/card").text.contains("冲正"))
        // Replaying the wish does not post it again after the correction.
        try f.grant(member.residentID, wishes: 1..<2)
        #expect(try f.total(member.memberID) == 0)
    }

    // MARK: - Rules and the board

    @Test func adminSetsRulesAndMaximaThatAddUpTo100() throws {
        let app = try TestApp()
        let f = PointsFixture(app: app)
        let admin = try app.signedIn(.admin)
        let staff = try app.signedIn(.staff)
        #expect(try staff.get("/points/rules").status == 200)
        let settings: [(String, String)] = [("max_politics", "30"), ("max_dedication", "40"), ("max_image", "20"),
                                            ("grade_excellent", "90"), ("grade_qualified", "75"), ("grade_basic", "60"),
                                            ("credits_per_hour", "10"), ("credits_per_wish", "20")]
        let before = try f.snapshot()
        #expect(try admin.post("/points/settings", settings).status == 422, "90 is not 100")
        #expect(try staff.post("/points/settings", settings).status == 403)
        #expect(try admin.post("/points/rules/new", [("dimension", "image"), ("item", ""), ("points", "5"), ("unit", "次")]).status == 422)
        #expect(try f.snapshot() == before)
        var fixed = settings
        fixed[1] = ("max_dedication", "50")
        fixed[7] = ("credits_per_wish", "30")
        #expect(try admin.post("/points/settings", fixed).status == 303)
        #expect(try admin.post("/points/rules/new", [("dimension", "image"), ("item", "获评最美家庭"), ("points", "5"), ("unit", "次"),
                                                     ("cap", "10")]).status == 303)
        #expect(try admin.get("/points/rules").text.contains("获评最美家庭"))
        let member = try f.volunteers.member("周文静")
        try f.grant(member.residentID, wishes: 1..<2)
        #expect(try f.balance(member.residentID) == 30, "the rate from settings")
        // A rule switched off stops automatic posting.
        let wishRule = try f.ruleID("完成微心愿")
        #expect(try admin.post("/points/rules/\(wishRule)", [("dimension", "dedication"), ("item", "完成微心愿并获评价"), ("points", "3"),
                                                             ("unit", "个"), ("active", "0")]).status == 303)
        try f.grant(member.residentID, wishes: 2..<3)
        #expect(try f.count("SELECT count(*) FROM point_entries WHERE source_key = 'wish:2:card'") == 0)
    }

    @Test func theBoardRanksMembersWithoutIDNumbersAndExportsCSV() throws {
        let app = try TestApp()
        let f = PointsFixture(app: app)
        let first = try f.volunteers.member("吴晓明")
        let second = try f.volunteers.member("郑海燕")
        let third = try f.volunteers.member("冯立新")
        try f.grant(first.residentID, wishes: 1..<4)
        try f.grant(second.residentID, wishes: 4..<5)
        try f.grant(third.residentID, wishes: 5..<6)
        let staff = try app.signedIn(.staff)
        let board = try staff.get("/points/board?year=\(f.year)")
        #expect(board.status == 200)
        let text = board.text
        let a = try #require(text.range(of: "吴晓明")), b = try #require(text.range(of: "郑海燕"))
        #expect(a.lowerBound < b.lowerBound, "higher total first")
        #expect(!text.contains(first.idNumber) && !text.contains(first.idNumber.suffix(4) + "<"))
        #expect(text.contains(">2<") && !text.contains(">3</td><td>冯"), "tied members share rank 2")
        #expect(try first.client.get("/points/board?scope=\(app.community.id)").status == 200, "a member sees their community's board")
        #expect(try staff.get("/points/board?scope=\(app.otherCommunity.id)").status == 404)
        #expect(try staff.get("/points/board?print=1").text.contains("积分公示"))
        let csv = try staff.get("/points/board.csv?year=\(f.year)")
        #expect(csv.status == 200)
        #expect(Array(csv.body.prefix(3)) == [0xEF, 0xBB, 0xBF])
        #expect(csv.text.contains("吴晓明") && csv.text.contains("排名"))
        #expect(try app.signedIn(.resident).get("/points/board").status == 403)
    }

    // MARK: - Shop

    @Test func redeemFulfilAndCancelWithTheirRefusals() throws {
        let app = try TestApp()
        let f = PointsFixture(app: app)
        let staff = try app.signedIn(.staff)
        let outsider = try app.signedIn(.staff, scope: app.otherCommunity.id)
        let member = try f.volunteers.member("陈志强")
        let other = try f.volunteers.member("林秀兰")
        let resident = try f.resident("黄小明")
        try f.grant(member.residentID, wishes: 1..<3)   // 40 credits
        try f.grant(resident.residentID, wishes: 3..<4) // 20 credits
        #expect(try member.client.post("/shop/new", [("name", "x"), ("cost", "1"), ("stock", "1")]).status == 403)
        #expect(try staff.post("/shop/new", [("name", ""), ("cost", "0"), ("stock", "-1"), ("grid_id", String(app.community.id))]).status == 422)
        #expect(try outsider.post("/shop/new", [("name", "x"), ("cost", "1"), ("stock", "1"), ("grid_id", String(app.community.id))]).status == 422)
        let item = try f.item(staff, cost: 30, stock: 2)
        let pricey = try f.item(staff, name: "电饭煲", cost: 500, stock: 1)
        #expect(try member.client.get("/shop").text.contains("环保袋"))

        var before = try f.snapshot()
        #expect(try member.client.post("/shop/\(pricey)/redeem").status == 409, "not enough credits")
        #expect(try resident.client.post("/shop/\(item)/redeem").status == 409, "20 < 30")
        #expect(try staff.post("/shop/\(item)/redeem").status == 403)
        #expect(try member.client.post("/shop/999999/redeem").status == 404)
        #expect(try f.snapshot() == before)

        #expect(try member.client.post("/shop/\(item)/redeem").status == 303)
        #expect(try f.balance(member.residentID) == 10)
        #expect(try f.count("SELECT stock FROM shop_items WHERE id = ?", [item]) == 1)
        let redemption = try #require(try app.database.read { db in try Row.fetchOne(db, sql: "SELECT id, code FROM shop_redemptions") })
        let id: Int64 = redemption["id"], code: String = redemption["code"]
        #expect(code.count == 6 && code.allSatisfy(\.isNumber))
        #expect(try member.client.get("/points/credits").text.contains(code))
        #expect(!(try staff.get("/shop").text.contains(code)), "staff type the code, they are not shown it")

        before = try f.snapshot()
        let wrong = code == "000000" ? "111111" : "000000"
        #expect(try staff.post("/shop/redemptions/\(id)/fulfil", [("code", wrong)]).status == 422)
        #expect(try member.client.post("/shop/redemptions/\(id)/fulfil", [("code", code)]).status == 403)
        #expect(try outsider.post("/shop/redemptions/\(id)/fulfil", [("code", code)]).status == 404)
        #expect(try other.client.post("/shop/redemptions/\(id)/cancel").status == 403, "someone else's redemption")
        #expect(try f.snapshot() == before)

        #expect(try staff.post("/shop/redemptions/\(id)/fulfil", [("code", code)]).status == 303)
        before = try f.snapshot()
        #expect(try staff.post("/shop/redemptions/\(id)/fulfil", [("code", code)]).status == 409)
        #expect(try member.client.post("/shop/redemptions/\(id)/cancel").status == 409)
        #expect(try f.snapshot() == before)
        #expect(try app.auditCount(action: "shop.fulfil") == 1)

        // A pending one is cancelled by its owner: credits and stock come back.
        try f.grant(member.residentID, wishes: 10..<12) // +40 → 50
        #expect(try member.client.post("/shop/\(item)/redeem").status == 303)
        #expect(try f.balance(member.residentID) == 20)
        let pending = try #require(try app.database.read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM shop_redemptions") })
        #expect(try member.client.post("/shop/redemptions/\(pending)/cancel").status == 303)
        #expect(try f.balance(member.residentID) == 50)
        #expect(try f.count("SELECT stock FROM shop_items WHERE id = ?", [item]) == 1)
        #expect(try f.count("SELECT count(*) FROM credit_entries WHERE kind = 'refund' AND amount = 30") == 1)
        #expect(try member.client.post("/shop/redemptions/\(pending)/cancel").status == 409)
        #expect(try f.ledgerSum(member.residentID) == f.balance(member.residentID))

        // An item taken off the shelf.
        #expect(try staff.post("/shop/\(item)/edit", [("name", "环保袋"), ("cost", "30"), ("stock", "1"), ("grid_id", String(app.community.id)),
                                                      ("active", "0")]).status == 303)
        #expect(try member.client.post("/shop/\(item)/redeem").status == 409)
    }

    // MARK: - Concurrency

    @Test func thirtyRedemptionsAtOnceOfFiveInStockGiveExactlyFive() throws {
        let app = try TestApp()
        let f = PointsFixture(app: app)
        let staff = try app.signedIn(.staff)
        let item = try f.item(staff, cost: 20, stock: 5)
        let members = try (0..<30).map { n in try f.volunteers.member("党员\(n)") }
        for (n, member) in members.enumerated() { try f.grant(member.residentID, wishes: Int64(n * 10)..<Int64(n * 10 + 1)) }
        let statuses = parallel(members) { (try? $0.client.post("/shop/\(item)/redeem"))?.status ?? 0 }
        #expect(statuses.filter { $0 == 303 }.count == 5, "\(statuses)")
        #expect(statuses.filter { $0 == 409 }.count == 25)
        #expect(try f.count("SELECT stock FROM shop_items WHERE id = ?", [item]) == 0)
        #expect(try f.count("SELECT count(*) FROM shop_redemptions") == 5)
        for member in members { #expect(try f.ledgerSum(member.residentID) == f.balance(member.residentID)) }
        #expect(try f.count("SELECT count(*) FROM credit_balances WHERE balance = 0") == 5)
    }

    @Test func tenParallelRedemptionsByOneMemberWhoseBalanceCoversThree() throws {
        let app = try TestApp()
        let f = PointsFixture(app: app)
        let staff = try app.signedIn(.staff)
        let item = try f.item(staff, cost: 20, stock: 100)
        let member = try f.volunteers.member("刘德明")
        try f.grant(member.residentID, wishes: 1..<4) // 60 credits
        let clients = (0..<10).map { _ in
            let client = AppClient(port: app.port)
            client.cookies = member.client.cookies
            client.csrf = member.client.csrf
            return client
        }
        let statuses = parallel(clients) { (try? $0.post("/shop/\(item)/redeem"))?.status ?? 0 }
        #expect(statuses.filter { $0 == 303 }.count == 3, "\(statuses)")
        #expect(statuses.filter { $0 == 409 }.count == 7)
        #expect(try f.balance(member.residentID) == 0)
        #expect(try f.ledgerSum(member.residentID) == 0)
        #expect(try f.count("SELECT stock FROM shop_items WHERE id = ?", [item]) == 97)
    }

    // MARK: - Seed

    @Test func theDemoSeedFillsCardsCreditsAndTheShopOnce() throws {
        let app = try TestApp()
        let county = DemoCounty(seed: 5, communities: 1)
        let grids = try county.populate(database: app.database, users: UserStore(database: app.database, hasher: TestApp.hasher))
        _ = try DemoResidents(seed: 5, residents: 2000, batchSize: 700, today: TestClock.today)
            .populate(database: app.database, county: county.plan(), gridIDs: grids.gridIDs)
        _ = try DemoMembers(seed: 5, today: TestClock.today).populate(database: app.database, county: county.plan(), gridIDs: grids.gridIDs)
        let first = try DemoPoints(seed: 5, today: TestClock.today).populate(database: app.database)
        let f = PointsFixture(app: app)
        #expect(first.entries > 0 && first.credits > 0)
        #expect(first.items == 4 * (try f.count("SELECT count(*) FROM grids WHERE kind = 'community'")))
        let again = try DemoPoints(seed: 5, today: TestClock.today).populate(database: app.database)
        #expect(again.entries == 0 && again.items == 0 && again.credits == 0 && again.redemptions == 0)
        #expect(try f.count("SELECT count(*) FROM point_totals") > 0)
        #expect(try f.count("""
            SELECT count(*) FROM credit_balances b
            WHERE b.balance <> (SELECT sum(amount) FROM credit_entries e WHERE e.resident_id = b.resident_id)
            """) == 0)
        #expect(try f.count("SELECT count(*) FROM shop_redemptions") == first.redemptions)
    }
}
