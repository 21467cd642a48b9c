import AppCore
import Domain
import Foundation
import GRDB
import HTTPTestSupport
import Storage
import Testing
import Web

/// Party organisations and members over HTTP: each transition, each refusal with its status and
/// nothing written, member accounts, 双报到, 三评, the ledger CSV in and out, the printed ledger.
@Suite struct MembersTests {
    /// A test county with one resident, a staff client and the member's id once registered.
    struct World {
        let app: TestApp
        let fixture: ResidentFixture
        let staff: AppClient

        init() throws {
            app = try TestApp()
            fixture = ResidentFixture(app: app)
            staff = try app.signedIn(.staff)
        }

        func register(_ name: String, category: String = "retired", employer: String = "", branch: Int64? = nil) throws -> (member: Int64, resident: Int64, idNumber: String) {
            let (residentID, number) = try fixture.resident(name, phone: "139\(String(format: "%08d", Int.random(in: 0..<99_999_999)))")
            var fields = [("resident_id", String(residentID)), ("status", "full"), ("category", category),
                          ("joined_on", "1990-07-01"), ("employer", employer)]
            if let branch { fields.append(("branch_id", String(branch))) }
            let response = try staff.post("/members/new", fields)
            guard response.status == 303, let location = response.header("location"),
                  let id = Int64(location.split(separator: "/").last ?? "") else {
                throw TestFailure("register \(name): \(response.status) \(response.text.prefix(300))")
            }
            return (id, residentID, number)
        }

        func count(_ sql: String) throws -> Int {
            try app.database.read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
        }

        /// A member's own account, signed in (password changed as the first sign-in asks).
        func memberClient(_ memberID: Int64, username: String) throws -> AppClient {
            let page = try staff.post("/members/\(memberID)/account", [("username", username)])
            guard page.status == 200, let range = page.text.range(of: "初始密码：<span class=\"mono\">") else {
                throw TestFailure("account: \(page.status)")
            }
            let password = String(page.text[range.upperBound...].prefix { $0 != "<" })
            let client = AppClient(port: app.port)
            let login = try client.signIn(username: username, password: password)
            guard login.header("location") == "/account/password" else { throw TestFailure("first sign-in: \(login.status)") }
            let change = try client.post("/account/password", [("current_password", password), ("new_password", "member-pass-1"),
                                                               ("confirm_password", "member-pass-1")])
            guard change.status == 303 else { throw TestFailure("password change: \(change.status)") }
            try client.get("/")
            return client
        }
    }

    @Test func branchesFormATreeInScope() throws {
        let w = try World()
        let committee = try w.staff.post("/branches/new", [("name", "示范社区党委"), ("kind", "committee"), ("grid_id", String(w.app.community.id))])
        #expect(committee.status == 303)
        let committeeID = try #require(Int64(committee.header("location")?.split(separator: "/").last ?? ""))
        let branch = try w.staff.post("/branches/new", [("name", "阳光小区党支部"), ("kind", "branch"), ("grid_id", String(w.app.estate.id)),
                                                        ("parent_id", String(committeeID)), ("secretary", "李书记")])
        #expect(branch.status == 303)
        let list = try w.staff.get("/branches")
        #expect(list.text.contains("示范社区党委") && list.text.contains("阳光小区党支部"))
        // A duplicate name under the same parent, a grid outside the scope: 422, nothing written.
        #expect(try w.staff.post("/branches/new", [("name", "阳光小区党支部"), ("kind", "branch"), ("grid_id", String(w.app.estate.id)),
                                                   ("parent_id", String(committeeID))]).status == 422)
        #expect(try w.staff.post("/branches/new", [("name", "外社区支部"), ("kind", "branch"),
                                                   ("grid_id", String(w.app.otherCommunity.id))]).status == 422)
        #expect(try w.count("SELECT count(*) FROM branches") == 2)
        // A 联合党支部 covers several estates; an ordinary branch does not.
        let joint = try w.staff.post("/branches/new", [("name", "联合党支部"), ("kind", "joint"), ("grid_id", String(w.app.estate.id)),
                                                       ("parent_id", String(committeeID))])
        let jointID = try #require(Int64(joint.header("location")?.split(separator: "/").last ?? ""))
        let second = try w.fixture.secondEstate()
        #expect(try w.staff.post("/branches/\(jointID)/grids", [("grid_id", String(second.estate.id))]).status == 303)
        #expect(try w.staff.get("/branches/\(jointID)").text.contains("幸福小区"))
        #expect(try w.staff.post("/branches/\(committeeID)/grids", [("grid_id", String(second.estate.id))]).status == 409)
        #expect(try w.staff.post("/branches/\(jointID)/grids", [("grid_id", String(w.app.otherCommunity.id))]).status == 422)
        #expect(try w.count("SELECT count(*) FROM branch_grids") == 1)
        // Outside the scope the branch is not there; a coordinator may read but not create.
        let outsider = try w.app.signedIn(.staff, scope: w.app.otherCommunity.id)
        #expect(try outsider.get("/branches/\(committeeID)").status == 404)
        let coordinator = try w.app.signedIn(.coordinator)
        #expect(try coordinator.get("/branches/\(committeeID)").status == 200)
        #expect(try coordinator.post("/branches/new", [("name", "x"), ("kind", "group"), ("grid_id", String(w.app.building.id))]).status == 403)
        #expect(try w.count("SELECT count(*) FROM branches") == 3)
    }

    @Test func registeringAMemberAndItsRefusals() throws {
        let w = try World()
        let (memberID, residentID, number) = try w.register("党员甲", category: "employed", employer: "县供电公司")
        let page = try w.staff.get("/members/\(memberID)")
        #expect(page.status == 200)
        #expect(page.text.contains("县供电公司") && page.text.contains(Mask.idNumber(number)) && !page.text.contains(number))
        #expect(page.text.contains("登记为党员"), "the timeline starts")
        #expect(try w.staff.get("/members").text.contains("党员甲"))
        #expect(try w.count("SELECT count(*) FROM audit_log WHERE action = 'member.create'") == 1)

        // The same resident twice: 409, nothing written.
        let twice = try w.staff.post("/members/new", [("resident_id", String(residentID)), ("status", "full"), ("category", "retired")])
        #expect(twice.status == 409)
        #expect(twice.text.contains("已是党员"))
        // 在职 without an employer, a bad date: 422 with the fields kept.
        let (other, _) = try w.fixture.resident("党员乙")
        let bad = try w.staff.post("/members/new", [("resident_id", String(other)), ("status", "full"), ("category", "employed"),
                                                    ("joined_on", "1990-13-45")])
        #expect(bad.status == 422)
        #expect(bad.text.contains("在职党员请填写工作单位") && bad.text.contains("入党日期格式"))
        // A resident outside the scope, a coordinator: refused, nothing written.
        let outsider = try w.app.signedIn(.staff, scope: w.app.otherCommunity.id)
        #expect(try outsider.post("/members/new", [("resident_id", String(other)), ("status", "full"), ("category", "retired")]).status == 422)
        #expect(try outsider.get("/members/\(memberID)").status == 404)
        let coordinator = try w.app.signedIn(.coordinator)
        #expect(try coordinator.post("/members/new", [("resident_id", String(other)), ("status", "full"), ("category", "retired")]).status == 403)
        #expect(try coordinator.get("/members/\(memberID)").status == 200)
        #expect(try w.count("SELECT count(*) FROM party_members") == 1)
    }

    @Test func transfersAndCategoryChangesAreTimelineEntries() throws {
        let w = try World()
        let (memberID, _, _) = try w.register("党员丙")
        #expect(try w.staff.post("/members/\(memberID)/edit", [("status", "full"), ("category", "mobile"), ("joined_on", "1990-07-01"), ("note", "外出务工")]).status == 303)
        #expect(try w.staff.post("/members/\(memberID)/transfer", [("direction", "out")]).status == 422, "a reason is required")
        #expect(try w.staff.post("/members/\(memberID)/transfer", [("direction", "out"), ("reason", "转往县供电公司党委")]).status == 303)
        let again = try w.staff.post("/members/\(memberID)/transfer", [("direction", "out"), ("reason", "再转")])
        #expect(again.status == 409)
        #expect(try w.staff.post("/members/\(memberID)/edit", [("status", "full"), ("category", "retired")]).status == 409)
        #expect(try w.staff.post("/members/\(memberID)/transfer", [("direction", "in")]).status == 303)
        let kinds = try w.app.database.read { db in
            try String.fetchAll(db, sql: "SELECT kind FROM member_events WHERE member_id = ? ORDER BY id", arguments: [memberID])
        }
        #expect(kinds == ["created", "category", "transfer_out", "transfer_in"])
        #expect(try w.count("SELECT count(*) FROM party_members WHERE membership = 'active'") == 1, "nothing deleted")
        // The timeline is append-only.
        #expect(throws: (any Error).self) { try w.app.database.write { db in try db.execute(sql: "DELETE FROM member_events") } }
    }

    @Test func centralHouseholdsLinkHouseholdsKeyGroupsFirst() throws {
        let w = try World()
        let (memberID, _, _) = try w.register("中心户甲")
        let plain = try w.fixture.house(unit: "1", room: "101")
        let lonely = try w.fixture.house(unit: "2", room: "202")
        try w.fixture.resident("独居老人甲", house: lonely, tags: ["独居老人"])
        #expect(try w.staff.post("/members/\(memberID)/households", [("house_id", String(plain))]).status == 409, "not a 中心户 yet")
        #expect(try w.staff.post("/members/\(memberID)/roles", [("roles", "building_leader"), ("central_household", "1")]).status == 303)
        let page = try w.staff.get("/members/\(memberID)")
        let keyGroup = try #require(page.text.range(of: "（独居老人）"))
        let ordinary = try #require(page.text.range(of: "1单元 101室"))
        #expect(keyGroup.lowerBound < ordinary.lowerBound, "key-group households first")
        #expect(try w.staff.post("/members/\(memberID)/households", [("house_id", String(lonely))]).status == 303)
        #expect(try w.count("SELECT count(*) FROM member_households") == 1)
        #expect(try w.staff.post("/members/\(memberID)/households/\(lonely)/remove").status == 303)
        #expect(try w.count("SELECT count(*) FROM member_households") == 0)
        #expect(try w.count("SELECT count(*) FROM party_members WHERE roles = 'building_leader' AND central_household = 1") == 1)
        let coordinator = try w.app.signedIn(.coordinator)
        #expect(try coordinator.post("/members/\(memberID)/roles", [("central_household", "1")]).status == 403)
    }

    @Test func memberAccountReportAndEvaluations() throws {
        let w = try World()
        let (memberID, _, _) = try w.register("党员丁", category: "employed", employer: "县医院")
        let (otherID, _, _) = try w.register("党员戊")
        let member = try w.memberClient(memberID, username: "dangyuan-ding")
        #expect(try w.staff.post("/members/\(memberID)/account", [("username", "again")]).status == 409)

        // The member sees the own record, never another's.
        #expect(try member.get("/members/\(memberID)").status == 200)
        #expect(try member.get("/members/\(otherID)").status == 404)
        #expect(try member.get("/members").status == 403)

        // 双报到: the member reports; staff confirm (placing in a grid); a second decision is 409.
        #expect(try member.post("/members/\(otherID)/report", [("employer", "某单位")]).status == 403)
        #expect(try member.post("/members/\(memberID)/report", [("employer", "")]).status == 422)
        #expect(try member.post("/members/\(memberID)/report", [("employer", "县医院"), ("employer_branch", "县医院党委"),
                                                                  ("skills", "义诊"), ("available_times", "周六上午")]).status == 303)
        #expect(try member.post("/members/\(memberID)/report", [("employer", "县医院")]).status == 409, "already waiting")
        #expect(try member.get("/me").text.contains("已提交，等待社区确认"), "the phone home shows where the report stands")
        #expect(try w.staff.get("/members?reported=pending").text.contains("党员丁"))
        #expect(try w.staff.post("/members/\(memberID)/report/return", []).status == 422, "a reason is required")
        try w.app.database.write { db in
            try db.execute(sql: "INSERT INTO posts (id, category_id, grid_id, title, capacity) VALUES (900, 1, ?, '文明劝导岗', 1)",
                           arguments: [w.app.grid.id])
        }
        #expect(try w.staff.post("/members/\(memberID)/report/confirm", [("grid_id", String(w.app.grid.id)), ("post_id", "900")]).status == 303)
        #expect(try w.count("SELECT count(*) FROM post_holders WHERE post_id = 900 AND ended_on IS NULL") == 1, "placed in the post")
        #expect(try w.staff.post("/members/\(memberID)/report/confirm", []).status == 409)
        let placed = try w.app.database.read { db in
            try Int64.fetchOne(db, sql: "SELECT grid_id FROM party_members WHERE id = ?", arguments: [memberID])
        }
        #expect(placed == w.app.grid.id)
        #expect(try w.staff.get("/members?reported=yes").text.contains("党员丁"))
        #expect(try member.get("/members/\(memberID)").text.contains("已确认"))
        #expect(try member.get("/me").text.contains("<strong>已确认</strong>"))

        // 三评: each role its own part.
        let year = String(TestClock.today.year)
        #expect(try member.post("/members/\(memberID)/evaluations", [("part", "self"), ("grade", "excellent"), ("year", year)]).status == 303)
        #expect(try member.post("/members/\(memberID)/evaluations", [("part", "community"), ("grade", "excellent"), ("year", year)]).status == 403)
        #expect(try w.staff.post("/members/\(memberID)/evaluations", [("part", "community"), ("grade", "qualified"), ("year", year)]).status == 303)
        #expect(try w.staff.post("/members/\(memberID)/evaluations", [("part", "org"), ("grade", "qualified"), ("year", year)]).status == 403)
        let coordinator = try w.app.signedIn(.coordinator)
        #expect(try coordinator.post("/members/\(memberID)/evaluations", [("part", "org"), ("grade", "excellent"), ("year", year)]).status == 303)
        let grades = try w.app.database.read { db in
            try Row.fetchOne(db, sql: "SELECT self_grade, community_grade, org_grade FROM member_evaluations WHERE member_id = ?",
                             arguments: [memberID])
        }
        #expect(grades?["self_grade"] as String? == "excellent")
        #expect(grades?["community_grade"] as String? == "qualified")
        #expect(grades?["org_grade"] as String? == "excellent")

        // The year's service certificate prints for the member.
        let certificate = try member.get("/members/\(memberID)/service-certificate?year=\(year)")
        #expect(certificate.status == 200)
        #expect(certificate.text.contains("报到服务证明") && certificate.text.contains("县医院"))
    }

    @Test func ledgerImportDryRunRowErrorsGB18030AndIdempotence() throws {
        let w = try World()
        _ = try w.staff.post("/branches/new", [("name", "阳光小区党支部"), ("kind", "branch"), ("grid_id", String(w.app.estate.id))])
        let (_, a) = try w.fixture.resident("张党员")
        let (_, b) = try w.fixture.resident("李党员")
        let outsideHouse = try w.fixture.house(building: try Grids(w.app.database).createChild(
            of: w.app.otherCommunity.id, name: "外楼", kind: .building, by: .system).id)
        let (_, c) = try w.fixture.resident("外党员", house: outsideHouse)
        let header = "姓名,身份证号,党员状态,党员类别,入党日期,所在党组织,工作单位,手机号\r\n"
        let good = header + "张党员,\(a),正式党员,离退休,1985-07-01,阳光小区党支部,,\r\n李党员,\(b),预备党员,在职,2024/6/30,,县一中,\r\n"
        let bad = good + "外党员,\(c),正式党员,离退休,,,,\r\n王某,110105198001011234,正式党员,在职,,,,\r\n张党员,\(a),党员,离退休,,,,\r\n"

        let dry = try upload(w.staff, Array(bad.utf8), dryRun: true)
        #expect(dry.status == 422)
        #expect(dry.text.contains("不在您的管辖范围内") && dry.text.contains("身份证号无效") && dry.text.contains("与第 2 行重复"))
        #expect(try w.count("SELECT count(*) FROM party_members") == 0)
        // Without the dry run a file with errors writes nothing either.
        #expect(try upload(w.staff, Array(bad.utf8), dryRun: false).status == 422)
        #expect(try w.count("SELECT count(*) FROM party_members") == 0)

        // GB18030 (Excel's CSV on a Chinese Windows), checked then imported.
        let gb = try ResidentImportTests.iconv(Array(good.utf8), to: "GB18030")
        let checked = try upload(w.staff, gb, dryRun: true)
        #expect(checked.status == 200)
        #expect(checked.text.contains("新登记 2 人"))
        #expect(try w.count("SELECT count(*) FROM party_members") == 0)
        let imported = try upload(w.staff, gb, dryRun: false)
        #expect(imported.text.contains("已导入，写入 2 人"))
        #expect(try w.count("SELECT count(*) FROM party_members WHERE branch_id IS NOT NULL") == 1)
        #expect(try w.count("SELECT count(*) FROM party_members WHERE status = 'probationary' AND joined_on = '2024-06-30'") == 1)
        // Again, with a BOM: nothing changes.
        let again = try upload(w.staff, [0xEF, 0xBB, 0xBF] + Array(good.utf8), dryRun: false)
        #expect(again.text.contains("内容相同 2 人") && again.text.contains("写入 0 人"))
        #expect(try w.count("SELECT count(*) FROM party_members") == 2)
        #expect(try w.count("SELECT count(*) FROM member_events") == 2)
    }

    @Test func exportAndLedgerAreMaskedUnlessARevealerAsksWithAReason() throws {
        let w = try World()
        let (_, _, number) = try w.register("台账甲")
        let masked = try w.staff.get("/members/export.csv")
        #expect(masked.status == 200)
        #expect(masked.body.starts(with: [0xEF, 0xBB, 0xBF]))
        #expect(masked.text.contains(Mask.idNumber(number)) && !masked.text.contains(number))
        let coordinator = try w.app.signedIn(.coordinator)
        #expect(!(try coordinator.get("/members/export.csv").text.contains(number)))
        #expect(try coordinator.get("/members/export.csv?full=1&reason=" + encoded("办理业务")).status == 403)
        #expect(try w.staff.get("/members/export.csv?full=1").status == 422, "a reason is required")
        let full = try w.staff.get("/members/export.csv?full=1&reason=" + encoded("报送组织部"))
        #expect(full.text.contains(number))
        let reason = try w.app.database.read { db in
            try String.fetchOne(db, sql: "SELECT json_extract(after_json, '$.reason') FROM audit_log WHERE action = 'member.export_full'")
        }
        #expect(reason == "报送组织部")
        let ledger = try w.staff.get("/members/ledger")
        #expect(ledger.status == 200)
        #expect(ledger.text.contains("阳光小区") && ledger.text.contains(Mask.idNumber(number)) && !ledger.text.contains(number))
    }

    @Test func memberSearchFollowsTheNumberRule() throws {
        let w = try World()
        let (_, _, number) = try w.register("搜索甲")
        #expect(try w.staff.get("/members?q=" + encoded("搜索")).text.contains("搜索甲"))
        #expect(try w.staff.get("/members?q=" + String(number.suffix(4))).text.contains("搜索甲"))
        #expect(try w.staff.get("/members?q=" + String(number.suffix(6))).status == 400)
        let coordinator = try w.app.signedIn(.coordinator)
        #expect(try coordinator.get("/members?q=" + number).status == 403)
        #expect(try w.staff.get("/members?q=" + number).text.contains("搜索甲"))
        #expect(try w.count("SELECT count(*) FROM audit_log WHERE action = 'member.search_full_number'") == 1)
        // The name index follows a rename of the resident.
        try w.app.database.write { db in
            try db.execute(sql: "UPDATE residents SET name = '改名乙' WHERE name = '搜索甲'")
        }
        #expect(try w.staff.get("/members?q=" + encoded("改名")).text.contains("改名乙"))
        #expect(!(try w.staff.get("/members?q=" + encoded("搜索")).text.contains("改名乙")))
        // The resident picker of the new-member form too.
        #expect(try w.staff.get("/members/new?q=" + String(number.suffix(7))).text.contains("请输入后 4 位或完整号码"))
    }

    func upload(_ client: AppClient, _ bytes: [UInt8], dryRun: Bool) throws -> TestResponse {
        if client.csrf == nil { try client.get("/members/import") }
        let boundary = "----members\(UInt64.random(in: 1...UInt64.max))"
        var body: [UInt8] = []
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n\(client.csrf ?? "")\r\n".utf8)
        if dryRun { body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"dry_run\"\r\n\r\n1\r\n".utf8) }
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"党员.csv\"\r\nContent-Type: text/csv\r\n\r\n".utf8)
        body += bytes
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        return try client.send("POST", "/members/import", body: body, headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")])
    }
}
