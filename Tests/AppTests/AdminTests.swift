import Access
import AppCore
import Foundation
import GRDB
import HTTPCore
import HTTPTestSupport
import Storage
import Testing

@Suite struct AdminTests {
    // MARK: - Helpers

    /// A signed-in admin client and the admin's account id.
    static func admin(_ app: TestApp, username: String = "boss") throws -> (AppClient, Int64) {
        let client = try app.signedIn(.admin, username: username)
        return (client, try userID(app, username))
    }

    static func userID(_ app: TestApp, _ username: String) throws -> Int64 {
        let id = try app.database.read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM users WHERE username = ?", arguments: [username])
        }
        return try #require(id)
    }

    /// Follows a 303 and returns the page it leads to.
    static func follow(_ client: AppClient, _ response: TestResponse) throws -> TestResponse {
        let location = try #require(response.header("location"), "no Location on \(response.status)")
        return try client.get(location)
    }

    /// The password in a flash such as "…初始密码：abc（…" or "…新密码：abc（…".
    static func password(in html: String, after marker: String) throws -> String {
        let start = try #require(html.range(of: marker), "no \(marker) in page")
        let rest = html[start.upperBound...]
        let end = try #require(rest.firstIndex(of: "（"))
        return String(rest[..<end])
    }

    static func unescape(_ html: String) -> String {
        html.replacingOccurrences(of: "&amp;", with: "&")
    }

    static func createForm(_ username: String, name: String = "王小明", role: String = "staff",
                           scope: Int64?, password: String = "") -> [(String, String)] {
        [("username", username), ("display_name", name), ("role", role),
         ("scope_grid_id", scope.map(String.init) ?? ""), ("password", password)]
    }

    // MARK: - Create

    @Test func adminCreatesAUserWhoMustChangeTheShownPassword() throws {
        let app = try TestApp()
        let (admin, adminID) = try Self.admin(app)
        let form = try admin.get("/admin/users/new")
        #expect(form.status == 200)
        #expect(form.text.contains("（系统管理员无需选择）"))
        #expect(form.text.contains("社区工作人员"))
        #expect(form.text.contains("阳光小区（小区）"))
        #expect(!form.text.contains("1号楼"), "buildings are not offered as a scope")

        let created = try admin.post("/admin/users/new", Self.createForm("wang", scope: app.estate.id))
        #expect(created.status == 303)
        let id = try Self.userID(app, "wang")
        #expect(created.header("location") == "/admin/users/\(id)")
        let page = try Self.follow(admin, created)
        #expect(page.status == 200)
        #expect(page.text.contains("已创建账号 wang，初始密码："))
        #expect(page.text.contains("仅显示这一次"))
        #expect(page.text.contains("阳光小区"))
        let password = try Self.password(in: page.text, after: "初始密码：")
        #expect(password.count == 12)
        // Shown once: the next view of the page has no password.
        #expect(try !admin.get("/admin/users/\(id)").text.contains(password))

        let wang = AppClient(port: app.port)
        let signIn = try wang.signIn(username: "wang", password: password)
        #expect(signIn.status == 303)
        #expect(signIn.header("location") == "/account/password")

        let entry = try #require(try app.database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM audit_log WHERE action = 'user.create' AND entity_id = ?", arguments: [id])
        })
        #expect(entry["actor_user_id"] as Int64? == adminID)
        #expect((entry["actor_name"] as String?)?.contains("boss") == true)
        #expect(entry["client_ip"] as String? == "127.0.0.1")
        #expect(entry["entity_type"] as String? == "user")
        #expect(entry["before_json"] as String? == nil)
        let after = try #require(entry["after_json"] as String?)
        #expect(after.contains("\"username\":\"wang\""))
        #expect(after.contains("\"role\":\"staff\""))
        #expect(after.contains("\"scopeGridID\":\(app.estate.id)"))
        #expect(!after.lowercased().contains("hash") && !after.contains(password))
    }

    @Test func typedPasswordIsUsedAndNotEchoed() throws {
        let app = try TestApp()
        let (admin, _) = try Self.admin(app)
        try admin.get("/admin/users/new")
        let created = try admin.post("/admin/users/new", Self.createForm("li", role: "member", scope: app.grid.id, password: "chosen-pass-1"))
        #expect(created.status == 303)
        let page = try Self.follow(admin, created)
        #expect(page.text.contains("已创建账号 li"))
        #expect(!page.text.contains("chosen-pass-1"))
        #expect(try AppClient(port: app.port).signIn(username: "li", password: "chosen-pass-1").header("location") == "/account/password")

        let short = try admin.post("/admin/users/new", Self.createForm("li2", scope: app.grid.id, password: "short"))
        #expect(short.status == 422)
        #expect(short.text.contains("密码至少 8 位"))
    }

    @Test func duplicateUsernameIsRefusedWithInputKept() throws {
        let app = try TestApp()
        try app.makeUser("wang", role: .staff)
        let (admin, _) = try Self.admin(app)
        try admin.get("/admin/users/new")
        let before = try app.auditCount(action: "user.create")
        let response = try admin.post("/admin/users/new", Self.createForm("wang", name: "王二", role: "coordinator", scope: app.grid.id))
        #expect(response.status == 422)
        #expect(response.text.contains("用户名“wang”已被使用"))
        #expect(response.text.contains("value=\"王二\""))
        #expect(response.text.contains("value=\"coordinator\" selected"))
        #expect(response.text.contains("value=\"\(app.grid.id)\" selected"))
        #expect(response.text.contains("has-error"))
        #expect(try app.auditCount(action: "user.create") == before)
    }

    @Test func staffRoleNeedsAScope() throws {
        let app = try TestApp()
        let (admin, _) = try Self.admin(app)
        try admin.get("/admin/users/new")
        let response = try admin.post("/admin/users/new", Self.createForm("zhou", role: "grid_worker", scope: nil))
        #expect(response.status == 422)
        #expect(response.text.contains("请选择该账号的管辖范围"))
        #expect(response.text.contains("value=\"zhou\""))
        let noRole = try admin.post("/admin/users/new", Self.createForm("zhou", role: "", scope: nil))
        #expect(noRole.status == 422)
        #expect(noRole.text.contains("请选择角色"))
        let badScope = try admin.post("/admin/users/new", Self.createForm("zhou", scope: 987_654))
        #expect(badScope.status == 422)
        #expect(badScope.text.contains("所选网格节点不存在"))
        // An admin needs no scope.
        let anotherAdmin = try admin.post("/admin/users/new", Self.createForm("root2", role: "admin", scope: nil))
        #expect(anotherAdmin.status == 303)
    }

    // MARK: - List

    @Test func listSearchesFiltersAndPages() throws {
        let app = try TestApp()
        let (admin, _) = try Self.admin(app)
        let zhang = try app.makeUser("zhang", role: .staff, scope: app.grid.id)
        let li = try app.makeUser("li", role: .member)
        try app.database.write { db in
            for i in 0..<55 {
                try db.execute(sql: """
                    INSERT INTO users (username, display_name, password_hash, role, scope_grid_id) VALUES (?, ?, 'x', 'resident', ?)
                    """, arguments: ["bulk\(i)", "居民\(i)", app.building.id])
            }
        }
        let all = try admin.get("/admin/users")
        #expect(all.status == 200)
        #expect(all.text.contains("共 58 个账号"))
        #expect(all.text.contains("第 1 / 2 页"))
        #expect(all.text.contains("新建账号"))
        #expect(all.text.contains("居民54"), "newest first")
        let second = try admin.get(Self.unescape("/admin/users?page=2"))
        #expect(second.text.contains("第 2 / 2 页"))
        #expect(second.text.contains("/admin/users/\(zhang.id)\""))

        let search = try admin.get("/admin/users?q=zhang")
        #expect(search.text.contains("/admin/users/\(zhang.id)\""))
        #expect(!search.text.contains("/admin/users/\(li.id)\""))
        #expect(search.text.contains("社区工作人员"))
        #expect(search.text.contains("第一网格"))
        #expect(search.text.contains("badge-success"))
        #expect(search.text.contains("从未登录"))

        let members = try admin.get("/admin/users?role=member")
        #expect(members.text.contains("/admin/users/\(li.id)\""))
        #expect(!members.text.contains("/admin/users/\(zhang.id)\""))
        #expect(members.text.contains("共 1 个账号"))
        // Hostile or out-of-range parameters are harmless.
        #expect(try admin.get("/admin/users?page=99999999999999999999&role=%3Cx%3E&q=%25_").status == 200)
    }

    // MARK: - Edit

    @Test func editChangesRoleAndScope() throws {
        let app = try TestApp()
        let (admin, _) = try Self.admin(app)
        let user = try app.makeUser("sun", role: .staff, scope: app.community.id)
        let form = try admin.get("/admin/users/\(user.id)/edit")
        #expect(form.status == 200)
        #expect(form.text.contains("value=\"staff\" selected"))
        #expect(form.text.contains("value=\"\(app.community.id)\" selected"))
        let saved = try admin.post("/admin/users/\(user.id)/edit", [
            ("display_name", "孙网格"), ("role", "grid_worker"), ("scope_grid_id", String(app.grid.id)),
        ])
        #expect(saved.status == 303)
        #expect(saved.header("location") == "/admin/users/\(user.id)")
        let page = try Self.follow(admin, saved)
        #expect(page.text.contains("已保存账号 sun 的修改"))
        #expect(page.text.contains("网格员"))
        #expect(page.text.contains("示范社区 › 阳光小区 › 第一网格"))

        let stored = try #require(try app.app.environment.users.find(user.id))
        #expect(stored.role == .gridWorker && stored.scopeGridID == app.grid.id && stored.displayName == "孙网格")
        let entry = try #require(try app.database.read { db in
            try Row.fetchOne(db, sql: "SELECT before_json, after_json FROM audit_log WHERE action = 'user.update' AND entity_id = ?", arguments: [user.id])
        })
        #expect((entry["before_json"] as String?)?.contains("\"role\":\"staff\"") == true)
        #expect((entry["after_json"] as String?)?.contains("\"role\":\"grid_worker\"") == true)

        let invalid = try admin.post("/admin/users/\(user.id)/edit", [("display_name", " "), ("role", "staff"), ("scope_grid_id", "")])
        #expect(invalid.status == 422)
        #expect(invalid.text.contains("请填写姓名"))
        #expect(invalid.text.contains("请选择该账号的管辖范围"))
        let missingNode = try admin.post("/admin/users/\(user.id)/edit", [("display_name", "孙"), ("role", "staff"), ("scope_grid_id", "987654")])
        #expect(missingNode.status == 422)
        #expect(missingNode.text.contains("所选网格节点不存在"))
    }

    @Test func lastAdminKeepsTheAdminRole() throws {
        let app = try TestApp()
        let (admin, adminID) = try Self.admin(app)
        let response = try admin.post("/admin/users/\(adminID)/edit", [("display_name", "管理员"), ("role", "staff"), ("scope_grid_id", String(app.community.id))])
        #expect(response.status == 422)
        #expect(response.text.contains("最后一个可用的系统管理员"))
    }

    // MARK: - Reset password

    @Test func resetPasswordSignsTheUserOutAndTheNewPasswordWorks() throws {
        let app = try TestApp()
        let (admin, _) = try Self.admin(app)
        let user = try app.makeUser("zhao", role: .staff)
        let zhao = AppClient(port: app.port)
        #expect(try zhao.signIn(username: "zhao", password: TestApp.password).status == 303)
        #expect(try zhao.get("/").status == 200)

        let confirm = try admin.get("/admin/users/\(user.id)/reset-password")
        #expect(confirm.status == 200)
        #expect(confirm.text.contains("确认重置密码"))
        #expect(confirm.text.contains("action=\"/admin/users/\(user.id)/reset-password\""))
        let reset = try admin.post("/admin/users/\(user.id)/reset-password")
        #expect(reset.status == 303)
        let page = try Self.follow(admin, reset)
        #expect(page.text.contains("已重置账号 zhao 的密码"))
        let password = try Self.password(in: page.text, after: "新密码：")

        let kicked = try zhao.get("/")
        #expect(kicked.status == 303)
        #expect(kicked.header("location")?.hasPrefix("/login") == true)
        #expect(try AppClient(port: app.port).signIn(username: "zhao", password: TestApp.password).status == 422)
        #expect(try AppClient(port: app.port).signIn(username: "zhao", password: password).header("location") == "/account/password")
        #expect(try app.auditCount(action: "user.reset_password") == 1)
    }

    @Test func ownPasswordIsNotResetFromTheAdminPages() throws {
        let app = try TestApp()
        let (admin, adminID) = try Self.admin(app)
        let response = try admin.post("/admin/users/\(adminID)/reset-password")
        #expect(response.status == 303)
        #expect(try Self.follow(admin, response).text.contains("不能重置自己正在使用的账号的密码"))
        #expect(try app.auditCount(action: "user.reset_password") == 0)
        #expect(try admin.get("/admin/users").status == 200, "still signed in")
    }

    // MARK: - Deactivate and activate

    @Test func deactivateSignsOutAndRefusesSignIn() throws {
        let app = try TestApp()
        let (admin, _) = try Self.admin(app)
        let user = try app.makeUser("qian", role: .coordinator)
        let qian = AppClient(port: app.port)
        #expect(try qian.signIn(username: "qian", password: TestApp.password).status == 303)

        let confirm = try admin.get("/admin/users/\(user.id)/deactivate")
        #expect(confirm.status == 200)
        #expect(confirm.text.contains("确认停用"))
        let done = try admin.post("/admin/users/\(user.id)/deactivate")
        #expect(done.status == 303)
        let page = try Self.follow(admin, done)
        #expect(page.text.contains("已停用账号 qian"))
        #expect(page.text.contains(">停用</span>"))

        #expect(try qian.get("/").header("location")?.hasPrefix("/login") == true)
        #expect(try AppClient(port: app.port).signIn(username: "qian", password: TestApp.password).status == 422)
        #expect(try app.auditCount(action: "user.deactivate") == 1)

        let list = try admin.get("/admin/users?q=qian")
        #expect(list.text.contains("<span class=\"badge\">停用</span>"))

        let activated = try admin.post("/admin/users/\(user.id)/activate")
        #expect(activated.status == 303)
        #expect(try Self.follow(admin, activated).text.contains("已启用账号 qian"))
        #expect(try AppClient(port: app.port).signIn(username: "qian", password: TestApp.password).status == 303)
        #expect(try app.auditCount(action: "user.activate") == 1)
    }

    @Test func lastAdminAndOwnAccountCannotBeDeactivated() throws {
        let app = try TestApp()
        let (admin, adminID) = try Self.admin(app)
        let response = try admin.post("/admin/users/\(adminID)/deactivate")
        #expect(response.status == 303)
        #expect(response.header("location") == "/admin/users/\(adminID)")
        let page = try Self.follow(admin, response)
        #expect(page.status == 200)
        #expect(page.text.contains("这是最后一个可用的系统管理员账号，不能停用"))
        #expect(page.text.contains("flash-error"))

        // With a second admin, the own account is still refused.
        try app.makeUser("root2", role: .admin)
        let own = try admin.post("/admin/users/\(adminID)/deactivate")
        #expect(try Self.follow(admin, own).text.contains("不能停用自己正在使用的账号"))
        #expect(try app.auditCount(action: "user.deactivate") == 0)
        #expect(try admin.get("/admin/users").status == 200, "still signed in")
    }

    @Test func unknownAccountsAre404() throws {
        let app = try TestApp()
        let (admin, _) = try Self.admin(app)
        for path in ["/admin/users/999999", "/admin/users/abc", "/admin/users/0/edit", "/admin/users/999999/reset-password",
                     "/admin/users/-1/deactivate", "/admin/users/new/edit"] {
            #expect(try admin.get(path).status == 404, "\(path)")
        }
        #expect(try admin.post("/admin/users/999999/deactivate").status == 404)
        #expect(try admin.post("/admin/users/999999/edit", [("display_name", "x"), ("role", "admin")]).status == 404)
    }

    // MARK: - Permissions

    @Test func everyAdminRouteIsAdminOnly() throws {
        let app = try TestApp()
        let target = try app.makeUser("target", role: .staff)
        let adminRoutes = app.app.routeTable.filter { $0.pattern.hasPrefix("/admin") }
        #expect(adminRoutes.count == 14)
        for route in adminRoutes {
            #expect(route.permission == (route.pattern == "/admin/audit" ? .viewAudit : .manageUsers), "\(route.pattern)")
        }
        let auditBefore = try app.database.read { db in try AuditLog.count(db) }
        for role in Role.allCases where role != .admin {
            let client = try app.signedIn(role)
            for route in adminRoutes {
                let path = route.pattern.replacingOccurrences(of: ":id", with: String(target.id))
                let response = route.method == .get
                    ? try client.get(path)
                    : try client.post(path, [("display_name", "x"), ("role", "admin"), ("username", "evil"), ("scope_grid_id", "")])
                #expect(response.status == 403, "\(role) \(route.method) \(path)")
            }
        }
        // Nothing changed: the only entries by these accounts are their sign-ins.
        let changes = try app.database.read { db in
            try Int.fetchOne(db, sql: """
                SELECT count(*) FROM audit_log WHERE action <> 'session.login' AND actor_user_id IS NOT NULL AND id > ?
                """, arguments: [auditBefore])
        }
        #expect(changes == 0)
        #expect(try app.app.environment.users.find(target.id)?.active == true)
        // Signed out: to the login page.
        #expect(try AppClient(port: app.port).get("/admin/users").header("location") == "/login?next=%2Fadmin%2Fusers")
    }

    // MARK: - Audit log

    @Test func auditPageListsEntriesAndFilters() throws {
        let app = try TestApp()
        let (admin, _) = try Self.admin(app)
        try admin.get("/admin/users/new")
        #expect(try admin.post("/admin/users/new", Self.createForm("xss", name: "<script>alert(1)</script>", scope: app.grid.id)).status == 303)

        let page = try admin.get("/admin/audit")
        #expect(page.status == 200)
        let entries = try app.database.read { db in try Row.fetchAll(db, sql: "SELECT id, action FROM audit_log") }
        for entry in entries {
            #expect(page.text.contains("id=\"audit-\(entry["id"] as Int64)\""))
        }
        #expect(page.text.contains("创建账号"))
        #expect(page.text.contains("新建网格节点"))
        #expect(page.text.contains("127.0.0.1"))
        #expect(page.text.contains("<details>"))
        #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!page.text.contains("<script>"))

        let filtered = try admin.get("/admin/audit?action=user.create")
        #expect(filtered.status == 200)
        for entry in entries {
            let action: String = entry["action"]
            let id: Int64 = entry["id"]
            #expect(filtered.text.contains("id=\"audit-\(id)\"") == (action == "user.create"), "\(action) #\(id)")
        }
        #expect(filtered.text.contains("value=\"user.create\" selected"))

        let byActor = try admin.get("/admin/audit?actor=boss&entity_type=user")
        #expect(byActor.text.contains("user.create"))
        #expect(!byActor.text.contains("grid.create</span>"))
        let nobody = try admin.get("/admin/audit?actor=nobody")
        #expect(nobody.text.contains("找不到用户名为“nobody”的账号"))
        #expect(nobody.text.contains("没有符合条件的记录"))

        let today = String(TestClock.clock.timestamp.prefix(10))
        #expect(try admin.get("/admin/audit?from=\(today)&until=\(today)&action=user.create").text.contains("xss"))
        let tomorrow = String(Timestamp.string(from: TestClock.now.addingTimeInterval(86_400)).prefix(10))
        #expect(try admin.get("/admin/audit?from=\(tomorrow)").text.contains("没有符合条件的记录"))
        let badDate = try admin.get("/admin/audit?from=2025-02-30&until=yesterday")
        #expect(badDate.status == 200)
        #expect(badDate.text.contains("开始日期格式应为"))
        #expect(badDate.text.contains("截止日期格式应为"))
    }

    @Test func auditPagesOlderEntriesByIDCursor() throws {
        let app = try TestApp()
        let (admin, _) = try Self.admin(app)
        try app.database.write { db in
            for i in 0..<70 {
                try AuditLog.record(db, actor: .system, action: "test.bulk", entityType: "thing", entityId: Int64(i),
                                    beforeJSON: nil, afterJSON: #"{"n":\#(i)}"#)
            }
        }
        let first = try admin.get("/admin/audit?action=test.bulk")
        #expect(first.text.components(separatedBy: "<tr id=\"audit-").count - 1 == 50)
        #expect(first.text.contains("thing #69"))
        #expect(!first.text.contains("thing #19<"))
        let marker = "href=\""
        let olderLink = try #require(first.text.range(of: "\(marker)/admin/audit?action=test.bulk&amp;before="))
        let rest = first.text[olderLink.lowerBound...].dropFirst(marker.count)
        let end = try #require(rest.firstIndex(of: "\""))
        let olderURL = Self.unescape(String(rest[..<end]))

        let older = try admin.get(olderURL)
        #expect(older.status == 200)
        #expect(older.text.components(separatedBy: "<tr id=\"audit-").count - 1 == 20)
        #expect(older.text.contains("thing #19<"))
        #expect(older.text.contains("thing #0<"))
        #expect(!older.text.contains("thing #20<"))
        #expect(older.text.contains("回到最新记录"))
        #expect(older.text.contains("aria-disabled=\"true\">更早的记录"))
    }

    @Test func auditLogCannotBeEditedOrDeleted() throws {
        let app = try TestApp()
        let (admin, _) = try Self.admin(app)
        try admin.get("/admin/audit")
        let count = try app.database.read { db in try AuditLog.count(db) }
        for path in ["/admin/audit/1/delete", "/admin/audit/1", "/admin/audit/1/edit", "/admin/audit/delete"] {
            let response = try admin.post(path, [("id", "1")])
            #expect(response.status == 404 || response.status == 405, "\(path)")
        }
        #expect([404, 405].contains(try admin.post("/admin/audit", [("id", "1")]).status))
        let delete = try admin.send("DELETE", "/admin/audit", body: [], headers: [])
        #expect([403, 405].contains(delete.status), "\(delete.status) \(delete.text.prefix(200))")
        #expect(try admin.get("/admin/audit/1/edit").status == 404)
        #expect(try app.database.read { db in try AuditLog.count(db) } == count)
        let auditRoutes = app.app.routeTable.filter { $0.pattern.hasPrefix("/admin/audit") }
        #expect(auditRoutes.map(\.pattern) == ["/admin/audit"])
        #expect(auditRoutes.map(\.method) == [.get])
    }

    @Test func beforeAndAfterJSONAreShownIndentedAndEscaped() throws {
        let app = try TestApp()
        let (admin, _) = try Self.admin(app)
        try app.database.write { db in
            try AuditLog.record(db, actor: .system, action: "test.json", entityType: "thing", entityId: 1,
                                beforeJSON: #"{"a":1,"b":[true,null],"c":"x,{y}:\"z\"","updated_at":"1","e":{}}"#,
                                afterJSON: #"{"a":2,"b":[true,null],"c":"x,{y}:\"z\"","updated_at":"2","e":{}}"#)
        }
        let page = try admin.get("/admin/audit?action=test.json")
        #expect(page.text.contains("<summary>变更：a</summary>"), "updated_at is not listed as a change")
        let expected = "{\n  &quot;a&quot;: 1,\n  &quot;b&quot;: [\n    true,\n    null\n  ],\n  &quot;c&quot;: &quot;x,{y}:\\&quot;z\\&quot;&quot;,"
        #expect(page.text.contains(expected))
        #expect(page.text.contains("&quot;e&quot;: {}\n}"))
    }
}
