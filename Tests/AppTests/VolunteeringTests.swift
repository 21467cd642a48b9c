import Access
import AppCore
import Domain
import Foundation
import GRDB
import Storage
import Testing

/// Members, staff and the database around teams, posts and activities.
struct VolunteerFixture {
    let app: TestApp
    var residents: ResidentFixture { ResidentFixture(app: app) }
    private static let births = ResidentFixture.Counter()

    /// A birth date of its own for each new person, so ID numbers never repeat in a run.
    static func birth() -> String {
        let n = births.next()
        return String(format: "%04d%02d%02d", 1950 + n % 50, 1 + (n / 50) % 12, 1 + (n / 600) % 28)
    }

    struct Member {
        let client: AppClient
        let residentID: Int64
        let memberID: Int64
        let userID: Int64
        let idNumber: String
    }

    /// A resident in `building`, a party member placed in `grid`, and a signed-in `member` account linked to it.
    func member(_ name: String, building: Int64? = nil, grid: Int64? = nil, scope: Int64? = nil, signIn: Bool = true) throws -> Member {
        let house = try residents.house(building: building ?? app.building.id, room: String(100 + Int.random(in: 1...899)))
        let (residentID, idNumber) = try residents.resident(name, birth: Self.birth(), house: house, political: "01")
        let username = "m-\(UUID().uuidString.prefix(12))"
        let user = try app.makeUser(username, role: .member, scope: scope)
        let memberID = try app.database.write { db -> Int64 in
            try db.execute(sql: "INSERT INTO party_members (resident_id, status, category, grid_id) VALUES (?, 'full', 'retired', ?)",
                           arguments: [residentID, grid ?? app.grid.id])
            let id = db.lastInsertedRowID
            try db.execute(sql: "UPDATE users SET resident_id = ? WHERE id = ?", arguments: [residentID, user.id])
            return id
        }
        let client = AppClient(port: app.port)
        if signIn {
            let response = try client.signIn(username: username, password: TestApp.password)
            guard response.status == 303 else { throw TestFailure("member sign-in answered \(response.status)") }
        }
        return Member(client: client, residentID: residentID, memberID: memberID, userID: user.id, idNumber: idNumber)
    }

    /// Beijing wall-clock minutes `hours` from now, as the activity form takes them.
    static func local(_ hours: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm"
        return formatter.string(from: TestClock.now.addingTimeInterval(hours * 3600))
    }

    /// Publishes an activity as `staff`; by default it started an hour ago and sign-up is open for another hour.
    func activity(_ staff: AppClient, title: String = "清洁家园", grid: Int64? = nil, capacity: Int = 10, hours: String = "2",
                  starts: Double = -1, ends: Double = 3, deadline: Double = 1) throws -> Int64 {
        let response = try staff.post("/activities/new", [
            ("title", title), ("category_id", "4"), ("grid_id", String(grid ?? app.grid.id)), ("place", "党群服务中心"),
            ("starts_at", Self.local(starts)), ("ends_at", Self.local(ends)), ("signup_deadline", Self.local(deadline)),
            ("capacity", String(capacity)), ("hours", hours),
        ])
        guard response.status == 303, let location = response.header("location"), let id = Int64(location.split(separator: "/").last ?? "") else {
            throw TestFailure("creating the activity answered \(response.status): \(response.text.prefix(400))")
        }
        return id
    }

    func post(_ staff: AppClient, title: String = "楼道卫生监督员", grid: Int64? = nil, capacity: Int = 1, category: String = "4") throws -> Int64 {
        let response = try staff.post("/posts/new", [
            ("title", title), ("category_id", category), ("grid_id", String(grid ?? app.grid.id)), ("duty", "每周巡查一次"),
            ("capacity", String(capacity)),
        ])
        guard response.status == 303 else { throw TestFailure("creating the post answered \(response.status)") }
        return try app.database.read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM posts") ?? 0 }
    }

    func count(_ sql: String, _ arguments: StatementArguments = []) throws -> Int {
        try app.database.read { db in try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0 }
    }

    func signups(_ activityID: Int64) throws -> [(resident: Int64, seq: Int64, status: String)] {
        try app.database.read { db in
            try Row.fetchAll(db, sql: "SELECT resident_id, seq, status FROM activity_signups WHERE activity_id = ? ORDER BY seq",
                             arguments: [activityID]).map { ($0["resident_id"], $0["seq"], $0["status"]) }
        }
    }

    func status(_ activityID: Int64, _ residentID: Int64) throws -> String? {
        try app.database.read { db in
            try String.fetchOne(db, sql: "SELECT status FROM activity_signups WHERE activity_id = ? AND resident_id = ? ORDER BY id DESC LIMIT 1",
                                arguments: [activityID, residentID])
        }
    }

    /// Everything the volunteering transitions write, to show that a refusal wrote nothing.
    func snapshot() throws -> [Int] {
        try ["team_members", "teams", "posts", "post_holders", "activities", "activity_signups", "volunteer_hours", "audit_log"].map {
            try count("SELECT count(*) FROM \($0)")
        } + [count("SELECT count(*) FROM activity_signups WHERE status = 'confirmed'"),
             count("SELECT count(*) FROM activity_signups WHERE status = 'attended'"),
             count("SELECT count(*) FROM post_holders WHERE ended_on IS NULL"),
             count("SELECT count(*) FROM teams WHERE leader_id IS NOT NULL")]
    }
}

@Suite struct VolunteeringTests {
    // MARK: - Teams

    @Test func staffBuildATeamFromResidentsFoundByNameOrIDTail() throws {
        let app = try TestApp()
        let f = VolunteerFixture(app: app)
        let staff = try app.signedIn(.staff)
        let wang = try f.residents.resident("王秀英", birth: VolunteerFixture.birth())
        let li = try f.residents.resident("李建华", birth: VolunteerFixture.birth())

        #expect(try staff.post("/teams/new", [("name", ""), ("kind_id", "2"), ("grid_id", String(app.grid.id))]).status == 422)
        let created = try staff.post("/teams/new", [("name", "阳光亲老帮帮团"), ("kind_id", "2"), ("grid_id", String(app.grid.id)),
                                                    ("description", "陪伴独居老人")])
        #expect(created.status == 303)
        let teamID = try #require(created.header("location").flatMap { Int64($0.split(separator: "/").last ?? "") })
        #expect(try staff.post("/teams/new", [("name", "阳光亲老帮帮团"), ("kind_id", "2"), ("grid_id", String(app.grid.id))]).status == 409)
        #expect(try staff.get("/teams").text.contains("阳光亲老帮帮团"))

        // Search: a name's beginning, or the last 4 of the ID number; nothing longer.
        let byName = try staff.get("/teams/\(teamID)?q=" + encoded("王秀"))
        #expect(byName.text.contains("王秀英") && !byName.text.contains("李建华"))
        #expect(!byName.text.contains(wang.idNumber), "ID numbers masked")
        #expect(byName.text.contains(Mask.idNumber(wang.idNumber)))
        let byTail = try staff.get("/teams/\(teamID)?q=" + li.idNumber.suffix(4))
        #expect(byTail.text.contains("李建华") && !byTail.text.contains("王秀英"))
        #expect(try staff.get("/teams/\(teamID)?q=" + li.idNumber.suffix(6)).status == 400)
        #expect(try staff.get("/teams/\(teamID)?q=" + li.idNumber).status == 400)

        #expect(try staff.post("/teams/\(teamID)/members", [("resident_id", String(wang.id))]).status == 303)
        #expect(try staff.post("/teams/\(teamID)/members", [("resident_id", String(li.id))]).status == 303)
        let before = try f.snapshot()
        let again = try staff.post("/teams/\(teamID)/members", [("resident_id", String(wang.id))])
        #expect(again.status == 409 && again.text.contains("已在队伍中"))
        #expect(try f.snapshot() == before)

        #expect(try staff.post("/teams/\(teamID)/leader", [("resident_id", String(wang.id))]).status == 303)
        #expect(try f.count("SELECT leader_id FROM teams WHERE id = ?", [teamID]) == Int(wang.id))
        let page = try staff.get("/teams/\(teamID)")
        #expect(page.text.contains("队长") && page.text.contains("李建华"))

        // Removing the leader leaves the team without one; a non-member cannot lead.
        #expect(try staff.post("/teams/\(teamID)/members/\(wang.id)/remove").status == 303)
        #expect(try f.count("SELECT count(*) FROM teams WHERE id = ? AND leader_id IS NULL", [teamID]) == 1)
        let snapshot = try f.snapshot()
        #expect(try staff.post("/teams/\(teamID)/leader", [("resident_id", String(wang.id))]).status == 409)
        #expect(try staff.post("/teams/\(teamID)/members/\(wang.id)/remove").status == 409)
        #expect(try f.snapshot() == snapshot)
        #expect(try app.auditCount(action: "team.member_add") == 2)
        #expect(try app.auditCount(action: "team.member_remove") == 1)
    }

    @Test func teamPeopleRefusedOutsideScopeOrRole() throws {
        let app = try TestApp()
        let f = VolunteerFixture(app: app)
        let staff = try app.signedIn(.staff)
        let teamID: Int64 = try {
            let r = try staff.post("/teams/new", [("name", "和事佬"), ("kind_id", "4"), ("grid_id", String(app.grid.id))])
            return Int64(r.header("location")?.split(separator: "/").last ?? "") ?? 0
        }()
        let resident = try f.residents.resident("赵敏", birth: VolunteerFixture.birth())
        let before = try f.snapshot()
        let outsider = try app.signedIn(.staff, scope: app.otherCommunity.id)
        #expect(try outsider.get("/teams/\(teamID)").status == 404)
        #expect(try outsider.post("/teams/\(teamID)/members", [("resident_id", String(resident.id))]).status == 404)
        #expect(try app.signedIn(.coordinator).post("/teams/\(teamID)/members", [("resident_id", String(resident.id))]).status == 403)
        let member = try f.member("钱多多")
        #expect(try member.client.post("/teams/\(teamID)/members", [("resident_id", String(resident.id))]).status == 403)
        // A resident outside the staff's scope cannot be added to a team inside it.
        let otherEstate = try Grids(app.database).createChild(of: app.otherCommunity.id, name: "外小区", kind: .estate, by: .system)
        let otherBuilding = try Grids(app.database).createChild(of: otherEstate.id, name: "9号楼", kind: .building, by: .system)
        let far = try f.residents.resident("孙远", birth: VolunteerFixture.birth(), house: f.residents.house(building: otherBuilding.id))
        let snapshot = try f.snapshot()
        #expect(try staff.post("/teams/\(teamID)/members", [("resident_id", String(far.id))]).status == 404)
        #expect(try f.snapshot() == snapshot)
        #expect(try f.count("SELECT count(*) FROM team_members") == 0)
        _ = before
        // Members see the team, without ID numbers and without the controls.
        let view = try member.client.get("/teams/\(teamID)")
        #expect(view.status == 200 && !view.text.contains("添加队员"))
    }

    // MARK: - Posts

    @Test func membersClaimAndLeavePostsWithinCapacity() throws {
        let app = try TestApp()
        let f = VolunteerFixture(app: app)
        let staff = try app.signedIn(.staff)
        let postID = try f.post(staff, capacity: 1)
        let a = try f.member("周敏"), b = try f.member("吴刚")

        #expect(try a.client.post("/posts/\(postID)/claim").status == 303)
        #expect(try f.count("SELECT count(*) FROM post_holders WHERE post_id = ? AND member_id = ? AND ended_on IS NULL", [postID, a.memberID]) == 1)
        var before = try f.snapshot()
        let twice = try a.client.post("/posts/\(postID)/claim")
        #expect(twice.status == 409 && twice.text.contains("已认领该岗位"))
        let full = try b.client.post("/posts/\(postID)/claim")
        #expect(full.status == 409 && full.text.contains("名额已满"))
        #expect(try f.snapshot() == before)

        // Staff see who holds it, and it drops out of the empty filter.
        let list = try staff.get("/posts")
        #expect(list.text.contains("周敏") && list.text.contains("楼道卫生监督员"))
        #expect(try app.signedIn(.coordinator).get("/posts").text.contains("周敏"), "coordinators read the holders too")
        #expect(!(try b.client.get("/posts").text.contains("周敏")), "members see places, not names")
        let empty = try f.post(staff, title: "助老陪护员", capacity: 2, category: "3")
        let second = try f.residents.secondEstate()
        _ = try f.post(staff, title: "幸福议事员", grid: second.grid.id)
        let byGrid = try staff.get("/posts?grid=\(second.estate.id)")
        #expect(byGrid.text.contains("幸福议事员") && !byGrid.text.contains("楼道卫生监督员"))
        let onlyEmpty = try staff.get("/posts?empty=1")
        #expect(onlyEmpty.text.contains("助老陪护员") && !onlyEmpty.text.contains("楼道卫生监督员"))
        #expect(try a.client.get("/me").text.contains("楼道卫生监督员"))

        #expect(try a.client.post("/posts/\(postID)/leave").status == 303)
        before = try f.snapshot()
        #expect(try a.client.post("/posts/\(postID)/leave").status == 409)
        #expect(try f.snapshot() == before)
        #expect(try b.client.post("/posts/\(postID)/claim").status == 303, "the freed place")
        #expect(try f.count("SELECT count(*) FROM post_holders WHERE post_id = ?", [postID]) == 2, "history kept")
        #expect(try app.auditCount(action: "post.claim") == 2)
        #expect(try app.auditCount(action: "post.leave") == 1)
        _ = empty
    }

    @Test func postsRefusedByRoleScopeAndFullUnderConcurrency() throws {
        let app = try TestApp()
        let f = VolunteerFixture(app: app)
        let staff = try app.signedIn(.staff)
        let postID = try f.post(staff, capacity: 3)
        let outsider = try f.member("冯远", scope: app.otherCommunity.id)
        let before = try f.snapshot()
        #expect(try staff.post("/posts/\(postID)/claim").status == 403)
        #expect(try outsider.client.post("/posts/\(postID)/claim").status == 404)
        #expect(try f.snapshot() == before)

        // Twelve members at once for three places: exactly three hold it.
        let members = try (0..<12).map { try f.member("并发\($0)") }
        let statuses = parallel(members) { (try? $0.client.post("/posts/\(postID)/claim"))?.status ?? 0 }
        #expect(statuses.filter { $0 == 303 }.count == 3)
        #expect(statuses.filter { $0 == 409 }.count == 9)
        #expect(try f.count("SELECT count(*) FROM post_holders WHERE post_id = ? AND ended_on IS NULL", [postID]) == 3)
    }

    @Test func aMemberSeesPostsNearHomeFirst() throws {
        let app = try TestApp()
        let f = VolunteerFixture(app: app)
        let staff = try app.signedIn(.staff)
        let second = try f.residents.secondEstate()
        _ = try f.post(staff, title: "甲岗位（阳光小区）", grid: app.grid.id)
        _ = try f.post(staff, title: "乙岗位（幸福小区）", grid: second.grid.id)
        let near = try f.member("郑和", building: second.building.id, grid: second.grid.id)
        let text = try near.client.get("/posts").text
        let first = try #require(text.range(of: "乙岗位"))
        let other = try #require(text.range(of: "甲岗位"))
        #expect(first.lowerBound < other.lowerBound)
        #expect(text.contains("离我近"))
        let home = try f.member("王近", building: app.building.id, grid: app.grid.id)
        let mine = try home.client.get("/posts").text
        #expect(try #require(mine.range(of: "甲岗位")).lowerBound < #require(mine.range(of: "乙岗位")).lowerBound)
    }

    // MARK: - Activities

    @Test func createActivityValidatesAndRefusesOutsideScope() throws {
        let app = try TestApp()
        let f = VolunteerFixture(app: app)
        let staff = try app.signedIn(.staff)
        let bad = try staff.post("/activities/new", [
            ("title", "义诊"), ("category_id", "3"), ("grid_id", String(app.grid.id)),
            ("starts_at", VolunteerFixture.local(5)), ("ends_at", VolunteerFixture.local(4)), ("signup_deadline", VolunteerFixture.local(6)),
            ("capacity", "0"),
        ])
        #expect(bad.status == 422)
        #expect(bad.text.contains("结束时间不能早于开始时间") && bad.text.contains("名额应为"))
        let outside = try staff.post("/activities/new", [
            ("title", "义诊"), ("category_id", "3"), ("grid_id", String(app.otherCommunity.id)),
            ("starts_at", VolunteerFixture.local(5)), ("ends_at", VolunteerFixture.local(6)), ("signup_deadline", VolunteerFixture.local(4)),
            ("capacity", "5"),
        ])
        #expect(outside.status == 422)
        #expect(try f.count("SELECT count(*) FROM activities") == 0)
        let id = try f.activity(staff, hours: "")
        #expect(try f.count("SELECT count(*) FROM activities WHERE id = ? AND hours = 4", [id]) == 1, "hours from the times")
        #expect(try app.signedIn(.staff, scope: app.otherCommunity.id).get("/activities/\(id)").status == 404)
        #expect(try app.signedIn(.coordinator).get("/activities/\(id)").status == 200)
        #expect(try app.signedIn(.coordinator).post("/activities/new", [("title", "x")]).status == 403)
    }

    @Test func signUpWaitlistCancelPromotesAndRefusals() throws {
        let app = try TestApp()
        let f = VolunteerFixture(app: app)
        let staff = try app.signedIn(.staff)
        let id = try f.activity(staff, capacity: 1)
        let a = try f.member("陈一"), b = try f.member("陈二"), c = try f.member("陈三")

        #expect(try a.client.post("/activities/\(id)/signup").status == 303)
        #expect(try f.status(id, a.residentID) == "confirmed")
        var before = try f.snapshot()
        let twice = try a.client.post("/activities/\(id)/signup")
        #expect(twice.status == 409 && twice.text.contains("您已报名该活动"))
        #expect(try f.snapshot() == before)

        #expect(try b.client.post("/activities/\(id)/signup").status == 303)
        #expect(try c.client.post("/activities/\(id)/signup").status == 303)
        #expect(try f.status(id, b.residentID) == "waitlisted")
        #expect(try b.client.get("/activities/\(id)").text.contains("候补第 1 位"))
        #expect(try c.client.get("/activities/\(id)").text.contains("候补第 2 位"))

        // A cancel promotes the first on the waitlist, not the second.
        #expect(try a.client.post("/activities/\(id)/cancel").status == 303)
        #expect(try f.status(id, a.residentID) == "cancelled")
        #expect(try f.status(id, b.residentID) == "confirmed")
        #expect(try f.status(id, c.residentID) == "waitlisted")
        before = try f.snapshot()
        #expect(try a.client.post("/activities/\(id)/cancel").status == 409)
        #expect(try f.snapshot() == before)
        // A waitlisted cancel frees nothing.
        #expect(try c.client.post("/activities/\(id)/cancel").status == 303)
        #expect(try f.status(id, b.residentID) == "confirmed")
        // Signing up again after cancelling goes to the back of the queue.
        #expect(try a.client.post("/activities/\(id)/signup").status == 303)
        #expect(try f.status(id, a.residentID) == "waitlisted")

        // Wrong role, outside scope.
        let coordinator = try app.signedIn(.coordinator)
        let outsider = try f.member("外人", scope: app.otherCommunity.id)
        before = try f.snapshot()
        #expect(try staff.post("/activities/\(id)/signup").status == 403)
        #expect(try coordinator.post("/activities/\(id)/cancel").status == 403)
        #expect(try outsider.client.post("/activities/\(id)/signup").status == 404)
        #expect(try outsider.client.post("/activities/999999/signup").status == 404)
        #expect(try f.snapshot() == before)
        #expect(try app.auditCount(action: "activity.signup") == 4)
        #expect(try app.auditCount(action: "activity.cancel") == 2)
    }

    @Test func noSignUpOrCancelAfterTheDeadline() throws {
        let app = try TestApp()
        let f = VolunteerFixture(app: app)
        let staff = try app.signedIn(.staff)
        let open = try f.activity(staff)
        let a = try f.member("林一"), b = try f.member("林二")
        #expect(try a.client.post("/activities/\(open)/signup").status == 303)
        // The deadline passes: move it an hour into the past.
        try app.database.write { db in
            try db.execute(sql: "UPDATE activities SET signup_deadline = ? WHERE id = ?", arguments: [VolunteerFixture.local(-0.5), open])
        }
        let before = try f.snapshot()
        let late = try b.client.post("/activities/\(open)/signup")
        #expect(late.status == 409 && late.text.contains("报名已于") && late.text.contains("截止"))
        let lateCancel = try a.client.post("/activities/\(open)/cancel")
        #expect(lateCancel.status == 409 && lateCancel.text.contains("不能再取消"))
        #expect(try f.snapshot() == before)
        #expect(try f.status(open, a.residentID) == "confirmed")
        #expect(!(try b.client.get("/activities/\(open)").text.contains("我要报名")))
    }

    @Test func fiftyMembersAtOnceForTenPlaces() throws {
        let app = try TestApp()
        let f = VolunteerFixture(app: app)
        let staff = try app.signedIn(.staff)
        let id = try f.activity(staff, capacity: 10)
        let members = try (0..<50).map { try f.member("接龙\($0)") }
        let statuses = parallel(members) { (try? $0.client.post("/activities/\(id)/signup"))?.status ?? 0 }
        #expect(statuses.allSatisfy { $0 == 303 }, "\(statuses)")

        let rows = try f.signups(id)
        #expect(rows.count == 50)
        #expect(rows.map(\.seq) == Array(1...50), "one arrival order without gaps")
        #expect(rows.filter { $0.status == "confirmed" }.count == 10)
        #expect(rows.filter { $0.status == "waitlisted" }.count == 40)
        // The first ten to arrive hold the places; the waitlist follows in arrival order.
        #expect(rows.prefix(10).allSatisfy { $0.status == "confirmed" })
        #expect(rows.dropFirst(10).allSatisfy { $0.status == "waitlisted" })
        let times = try app.database.read { db in
            try String.fetchAll(db, sql: "SELECT signed_up_at FROM activity_signups WHERE activity_id = ? ORDER BY seq", arguments: [id])
        }
        #expect(times == times.sorted(), "seq follows the commit order")

        // A confirmed member cancels: the first waitlisted (seq 11) moves up, nobody else.
        let byResident = Dictionary(uniqueKeysWithValues: members.map { ($0.residentID, $0) })
        let leaving = try #require(byResident[rows[3].resident])
        #expect(try leaving.client.post("/activities/\(id)/cancel").status == 303)
        let after = try f.signups(id)
        #expect(after[10].status == "confirmed")
        #expect(after[11].status == "waitlisted")
        #expect(after.filter { $0.status == "confirmed" }.count == 10)
        let promoted = try #require(byResident[rows[10].resident])
        #expect(try promoted.client.get("/me").text.contains("已报名"))
    }

    @Test func checkInByBoxesAndByCodeThenCloseCreditsHoursOnce() throws {
        let app = try TestApp()
        let f = VolunteerFixture(app: app)
        let staff = try app.signedIn(.staff)
        let id = try f.activity(staff, title: "敬老院慰问", capacity: 5, hours: "2.5")
        let a = try f.member("黄一"), b = try f.member("黄二"), c = try f.member("黄三"), d = try f.member("黄四")
        for m in [a, b, c] { #expect(try m.client.post("/activities/\(id)/signup").status == 303) }

        // Refusals first: wrong role, outside scope, someone not signed up, a wrong code.
        let coordinator = try app.signedIn(.coordinator)
        let outsider = try app.signedIn(.staff, scope: app.otherCommunity.id)
        var before = try f.snapshot()
        #expect(try a.client.post("/activities/\(id)/checkin", [("member_id", String(a.residentID))]).status == 403)
        #expect(try coordinator.post("/activities/\(id)/checkin", [("member_id", String(a.residentID))]).status == 403)
        #expect(try outsider.post("/activities/\(id)/checkin", [("member_id", String(a.residentID))]).status == 404)
        #expect(try outsider.post("/activities/\(id)/close").status == 404)
        #expect(try coordinator.post("/activities/\(id)/close").status == 403)
        #expect(try a.client.post("/activities/\(id)/close").status == 403)
        #expect(try staff.post("/activities/\(id)/checkin", [("member_id", String(a.residentID)), ("member_id", String(d.residentID))]).status == 409)
        #expect(try staff.post("/activities/\(id)/checkin", [("code", "ZZZZZZ")]).status == 422)
        #expect(try staff.post("/activities/\(id)/checkin").status == 422)
        #expect(try f.snapshot() == before)

        // Coordinators read who signed up, without the check-in forms.
        let read = try coordinator.get("/activities/\(id)").text
        #expect(read.contains("黄一") && !read.contains("勾选人员签到") && !read.contains("结束活动并记录时长"))

        // Boxes for one (ticked twice counts once); the code another shows on their phone for the second.
        let ticked = try staff.post("/activities/\(id)/checkin", [("member_id", String(a.residentID)), ("member_id", String(a.residentID))])
        #expect(ticked.status == 303)
        #expect(try staff.get(ticked.header("location") ?? "/").text.contains("已签到 1 人"))
        let page = try b.client.get("/activities/\(id)").text
        let code = try #require(page.range(of: "签到码 <strong class=\"mono\">").map { String(page[$0.upperBound...].prefix(6)) })
        #expect(try b.client.get("/me").text.contains(code))
        #expect(try staff.post("/activities/\(id)/checkin", [("code", code.lowercased())]).status == 303)
        #expect(try f.status(id, a.residentID) == "attended")
        #expect(try f.status(id, b.residentID) == "attended")
        #expect(try f.status(id, c.residentID) == "confirmed")
        #expect(try a.client.post("/activities/\(id)/cancel").status == 409, "an attendee cannot cancel")

        // Close: hours for the two who came, c a no-show; submitted twice, credited once.
        #expect(try staff.post("/activities/\(id)/close").status == 303)
        before = try f.snapshot()
        let again = try staff.post("/activities/\(id)/close")
        #expect(again.status == 409 && again.text.contains("活动已结束"))
        #expect(try f.snapshot() == before)
        #expect(try f.count("SELECT count(*) FROM volunteer_hours WHERE activity_id = ?", [id]) == 2)
        #expect(try f.count("SELECT count(*) FROM volunteer_hours WHERE source_key = ?", ["activity:\(id):resident:\(a.residentID)"]) == 1)
        #expect(try f.status(id, c.residentID) == "no_show")
        #expect(try staff.post("/activities/\(id)/checkin", [("member_id", String(c.residentID))]).status == 409, "closed")
        #expect(try a.client.post("/activities/\(id)/signup").status == 409)
        let staffPage = try staff.get("/activities/\(id)").text
        #expect(staffPage.contains("未到场") && staffPage.contains("黄三"))
        #expect(!staffPage.contains(c.idNumber))

        // The member's phone home shows the hours of this year.
        let me = try a.client.get("/me")
        #expect(me.text.contains("<span class=\"stat-value\" id=\"my-hours\">2.5</span>"))
        #expect(me.text.contains("/members/\(a.memberID)"), "the 双报到 slot links the member's record")
        #expect(me.text.contains("敬老院慰问 · <strong>2.5</strong> 小时"), "this year's records")
        #expect(try app.auditCount(action: "activity.close") == 1)
    }

    @Test func closeSubmittedTwiceAtOnceCreditsOnce() throws {
        let app = try TestApp()
        let f = VolunteerFixture(app: app)
        let staff = try app.signedIn(.staff)
        let id = try f.activity(staff)
        let members = try (0..<4).map { try f.member("双击\($0)") }
        for m in members { #expect(try m.client.post("/activities/\(id)/signup").status == 303) }
        #expect(try staff.post("/activities/\(id)/checkin", members.map { ("member_id", String($0.residentID)) }).status == 303)
        let clients = [staff, try app.signedIn(.gridWorker), try app.signedIn(.staff)]
        let statuses = parallel(clients) { (try? $0.post("/activities/\(id)/close"))?.status ?? 0 }
        #expect(statuses.filter { $0 == 303 }.count == 1)
        #expect(statuses.filter { $0 == 409 }.count == 2)
        #expect(try f.count("SELECT count(*) FROM volunteer_hours WHERE activity_id = ?", [id]) == 4)
        #expect(try f.count("SELECT sum(hours) FROM volunteer_hours WHERE activity_id = ?", [id]) == 8)
    }

    @Test func anActivityCannotCloseBeforeItStarts() throws {
        let app = try TestApp()
        let f = VolunteerFixture(app: app)
        let staff = try app.signedIn(.staff)
        let id = try f.activity(staff, starts: 24, ends: 26, deadline: 20)
        let before = try f.snapshot()
        let early = try staff.post("/activities/\(id)/close")
        #expect(early.status == 409 && early.text.contains("活动尚未开始"))
        #expect(try f.snapshot() == before)
    }

    @Test func aMemberPlacedInAGridReachesItsCommunitysActivitiesAndPosts() throws {
        let app = try TestApp()
        let f = VolunteerFixture(app: app)
        let staff = try app.signedIn(.staff)
        let communityWide = try f.activity(staff, title: "全社区健步走", grid: app.community.id)
        let estatePost = try f.post(staff, title: "小区议事员", grid: app.estate.id)
        let member = try f.member("马丽", scope: app.grid.id)
        #expect(try member.client.get("/activities").text.contains("全社区健步走"))
        #expect(try member.client.get("/activities/\(communityWide)").status == 200)
        #expect(try member.client.post("/activities/\(communityWide)/signup").status == 303)
        #expect(try member.client.get("/posts").text.contains("小区议事员"))
        #expect(try member.client.post("/posts/\(estatePost)/claim").status == 303)
        // Staff and grid workers reach only their own subtree.
        let worker = try app.signedIn(.gridWorker, scope: app.grid.id)
        #expect(try worker.get("/activities/\(communityWide)").status == 404)
        #expect(try worker.post("/activities/\(communityWide)/close").status == 404)
        #expect(!(try worker.get("/activities").text.contains("全社区健步走")))
        // A member of another community does not reach it.
        let other = try f.member("牛远", scope: app.otherCommunity.id)
        #expect(try other.client.get("/activities/\(communityWide)").status == 404)
        #expect(!(try other.client.get("/posts").text.contains("小区议事员")))
    }

    // MARK: - /me and the certificate

    @Test func meWorksForAnAccountWithoutAResident() throws {
        let app = try TestApp()
        let member = try app.signedIn(.member)
        let page = try member.get("/me")
        #expect(page.status == 200 && page.text.contains("还没有关联居民信息"))
        #expect(page.text.contains("href=\"/me\""), "the menu has 我的")
    }

    @Test func certificateShowsMaskedIDHoursAndIssuerToItsOwnerAndStaffInScope() throws {
        let app = try TestApp()
        let f = VolunteerFixture(app: app)
        let staff = try app.signedIn(.staff)
        let id = try f.activity(staff, title: "垃圾分类宣传", hours: "3")
        let a = try f.member("刘洋"), b = try f.member("刘海")
        #expect(try a.client.post("/activities/\(id)/signup").status == 303)
        #expect(try staff.post("/activities/\(id)/checkin", [("member_id", String(a.residentID))]).status == 303)
        #expect(try staff.post("/activities/\(id)/close").status == 303)

        // The hours count on the day the activity started (an hour ago).
        let year = String(VolunteerFixture.local(-1).prefix(4))
        let mine = try a.client.get("/volunteers/\(a.residentID)/certificate?year=\(year)")
        #expect(mine.status == 200)
        for text in ["志愿服务记录证明", "刘洋", Mask.idNumber(a.idNumber), "垃圾分类宣传", "示范社区居民委员会", "民政部令第67号"] {
            #expect(mine.text.contains(text), "\(text)")
        }
        #expect(mine.text.contains("<strong>3</strong> 小时"))
        #expect(!mine.text.contains(a.idNumber))
        #expect(try b.client.get("/volunteers/\(a.residentID)/certificate").status == 404, "only one's own")
        #expect(try staff.get("/volunteers/\(a.residentID)/certificate?year=\(year)").status == 200)
        #expect(try staff.get("/volunteers/\(a.residentID)/certificate?year=abc").status == 400)
        #expect(try app.signedIn(.staff, scope: app.otherCommunity.id).get("/volunteers/\(a.residentID)/certificate").status == 404)
        #expect(try app.signedIn(.resident).get("/volunteers/\(a.residentID)/certificate").status == 403)
    }
}
