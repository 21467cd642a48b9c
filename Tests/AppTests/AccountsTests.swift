import Access
import AppCore
import Foundation
import GRDB
import HTTPTestSupport
import Storage
import Security
import Testing

@Suite struct AccountsTests {
    @Test func signInThenSignOut() throws {
        let app = try TestApp()
        try app.makeUser("wang", role: .staff)
        let client = AppClient(port: app.port)
        #expect(try client.get("/").header("location") == "/login?next=%2F")
        let login = try client.signIn(username: "wang", password: TestApp.password)
        #expect(login.status == 303)
        #expect(login.header("location") == "/")
        let cookie = try #require(login.headers("set-cookie").first { $0.hasPrefix("jinlin_session=") })
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Max-Age=604800"))
        let home = try client.get("/")
        #expect(home.status == 200)
        #expect(home.text.contains("测试wang"))
        #expect(try app.auditCount(action: "session.login") == 1)

        let out = try client.post("/logout")
        #expect(out.status == 303)
        #expect(out.header("location") == "/login")
        #expect(try client.get("/").status == 303)
        #expect(try app.auditCount(action: "session.logout") == 1)
        let sessions = try app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sessions") }
        #expect(sessions == 0)
    }

    @Test func storedSessionIsOnlyTheTokenHash() throws {
        let app = try TestApp()
        let client = try app.signedIn(.staff)
        let token = try #require(client.cookies["jinlin_session"])
        let stored = try app.database.read { db in try String.fetchAll(db, sql: "SELECT token_hash FROM sessions") }
        #expect(stored == [sha256Hex(token)])
    }

    @Test func wrongPasswordIsRefusedWithAMessage() throws {
        let app = try TestApp()
        try app.makeUser("li", role: .staff)
        let client = AppClient(port: app.port)
        let response = try client.signIn(username: "li", password: "nope-nope")
        #expect(response.status == 422)
        #expect(response.text.contains("用户名或密码不正确"))
        #expect(response.text.contains("value=\"li\""))
        #expect(client.cookies["jinlin_session"] == nil)
    }

    @Test func idleAndAbsoluteExpiryEndTheSession() throws {
        let app = try TestApp()
        let idle = try app.signedIn(.staff)
        #expect(try idle.get("/").status == 200)
        try app.database.write { db in
            try db.execute(sql: "UPDATE sessions SET last_seen_at = ?", arguments: [Timestamp.string(from: Date().addingTimeInterval(-9 * 3600))])
        }
        #expect(try idle.get("/").status == 303)

        let old = try app.signedIn(.coordinator)
        try app.database.write { db in
            try db.execute(sql: "UPDATE sessions SET expires_at = ?, created_at = ?", arguments: [
                Timestamp.string(from: Date().addingTimeInterval(-60)), Timestamp.string(from: Date().addingTimeInterval(-8 * 86400))])
        }
        #expect(try old.get("/").status == 303)
    }

    @Test func postWithoutOrWithWrongCSRFTokenIsRefused() throws {
        let app = try TestApp()
        let client = try app.signedIn(.staff)
        let missing = try client.post("/logout", csrf: false)
        #expect(missing.status == 403)
        #expect(missing.text.contains("CSRF"))
        let wrong = try client.post("/logout", [("_csrf", "forged-token-forged-token-forged")], csrf: false)
        #expect(wrong.status == 403)
        #expect(try client.get("/").status == 200, "still signed in")
        // The login form is protected too, by its double-submit cookie.
        let anonymous = AppClient(port: app.port)
        let forged = try anonymous.post("/login", [("username", "x"), ("password", "y")], csrf: false)
        #expect(forged.status == 403)
    }

    @Test func fiveFailuresHoldUpTheAccountFromThatAddress() throws {
        let app = try TestApp()
        try app.makeUser("zhao", role: .staff)
        let client = AppClient(port: app.port)
        for _ in 0..<5 {
            #expect(try client.signIn(username: "zhao", password: "wrong-password").status == 422)
        }
        let locked = try client.signIn(username: "zhao", password: TestApp.password)
        #expect(locked.status == 429)
        #expect(locked.text.contains("30 秒后再试"))
        #expect(locked.header("retry-after") == "30")
        // Once the failures are older than the window, the right password works again.
        try app.database.write { db in
            try db.execute(sql: "DELETE FROM login_attempts")
        }
        #expect(try client.signIn(username: "zhao", password: TestApp.password).status == 303)
    }

    @Test func manyFailuresFromOneAddressLockIt() throws {
        let app = try TestApp()
        try app.makeUser("qian", role: .staff)
        try app.database.write { db in
            for i in 0..<200 {
                try db.execute(sql: "INSERT INTO login_attempts (username, ip, succeeded, at) VALUES (?, '127.0.0.1', 0, ?)",
                               arguments: ["guess\(i)", TestClock.clock.timestamp])
            }
        }
        #expect(try AppClient(port: app.port).signIn(username: "qian", password: TestApp.password).status == 429)
    }

    @Test func initialPasswordMustBeChangedFirst() throws {
        let app = try TestApp()
        try app.makeUser("sun", role: .staff, mustChangePassword: true)
        let client = AppClient(port: app.port)
        #expect(try client.signIn(username: "sun", password: TestApp.password).header("location") == "/account/password")
        #expect(try client.get("/").header("location") == "/account/password")
        let mismatch = try client.post("/account/password", [("current_password", TestApp.password), ("new_password", "brand-new-pass"), ("confirm_password", "other")])
        #expect(mismatch.status == 422)
        #expect(mismatch.text.contains("两次输入的新密码不一致"))
        let ok = try client.post("/account/password", [("current_password", TestApp.password), ("new_password", "brand-new-pass"), ("confirm_password", "brand-new-pass")])
        #expect(ok.status == 303)
        #expect(try client.get("/").status == 200)
        #expect(try AppClient(port: app.port).signIn(username: "sun", password: "brand-new-pass").status == 303)
        #expect(try app.auditCount(action: "user.change_password") == 1)
    }

    @Test func firstStartCreatesAdminOnce() throws {
        let app = try TestApp()
        let password = try #require(try app.app.createFirstAdminIfNeeded())
        #expect(try app.app.createFirstAdminIfNeeded() == nil)
        let client = AppClient(port: app.port)
        // Production hashing is not used in tests, but the printed password signs in.
        #expect(try client.signIn(username: "admin", password: password).header("location") == "/account/password")
    }

    @Test func everyResponseCarriesSecurityHeaders() throws {
        let app = try TestApp()
        let client = AppClient(port: app.port)
        for path in ["/login", "/nope", "/"] {
            let r = try client.get(path)
            #expect(r.header("content-security-policy")?.contains("default-src 'self'") == true, "\(path)")
            #expect(r.header("content-security-policy")?.contains("frame-ancestors 'none'") == true, "\(path)")
            #expect(r.header("x-content-type-options") == "nosniff", "\(path)")
            #expect(r.header("referrer-policy") != nil, "\(path)")
        }
        #expect(try client.get("/nope").text.contains("页面不存在"))
    }

    @Test func healthzChecksTheDatabase() throws {
        let app = try TestApp()
        #expect(try AppClient(port: app.port).get("/healthz").text == "ok")
        try app.database.close()
        #expect(try AppClient(port: app.port).get("/healthz").status == 503)
    }

    @Test func loginRedirectOnlyGoesToLocalPaths() {
        #expect(Context.safeLocalPath("/grids?x=1") == "/grids?x=1")
        #expect(Context.safeLocalPath("//evil.example/") == "/")
        #expect(Context.safeLocalPath("https://evil.example/") == "/")
        #expect(Context.safeLocalPath("/\\evil") == "/")
    }
}

@Suite struct ProxyTests {
    @Test func forwardedAddressIsUsedOnlyWhenTrusted() throws {
        let app = try TestApp()
        let client = try app.signedIn(.staff)
        _ = try client.send("POST", "/logout", body: Array("_csrf=\(client.csrf ?? "")".utf8),
                            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("X-Forwarded-For", "203.0.113.9")])
        let ip = try app.database.read { db in
            try String.fetchOne(db, sql: "SELECT client_ip FROM audit_log WHERE action = 'session.logout'")
        }
        // The test app does not trust proxies: the peer address is recorded, not the header.
        #expect(ip == "127.0.0.1")
    }
}
