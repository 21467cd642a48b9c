import AppCore
import Foundation
import GRDB
import HTTPTestSupport
import Storage
import Testing
import Web

/// Residents' self-registration: a match makes the account, anything else waits for staff, and
/// the answer never tells whether an ID number exists.
@Suite struct RegistrationTests {
    static func apply(_ app: TestApp, name: String, id: String, phone: String, password: String = "resident-pass-1",
                      address: String? = nil) throws -> TestResponse {
        let client = AppClient(port: app.port)
        try client.get("/register")
        let body = FormData.encode([("name", name), ("id_number", id), ("phone", phone), ("community_id", String(app.community.id)),
                                    ("password", password), ("confirm_password", password), ("_csrf", client.csrf ?? "")])
        var headers = [("Content-Type", "application/x-www-form-urlencoded")]
        if let address { headers.append(("X-Forwarded-For", address)) }
        return try client.send("POST", "/register", body: Array(body.utf8), headers: headers)
    }

    /// The page without its per-request token.
    static func comparable(_ text: String) -> String {
        text.replacingOccurrences(of: #"name="_csrf" value="[^"]*""#, with: "", options: .regularExpression)
    }

    @Test func aMatchingResidentGetsAnAccountAndAMismatchWaitsForStaff() throws {
        let app = try TestApp { $0.trustProxy = true }
        let f = ResidentFixture(app: app)
        let (residentID, number) = try f.resident("注册甲", phone: "13700001111")
        let ok = try Self.apply(app, name: "注册甲", id: number, phone: "13700001111", address: "198.51.100.1")
        #expect(ok.status == 200)
        #expect(ok.text.contains("已收到您的注册信息"))
        let user = try app.database.read { db in
            try Row.fetchOne(db, sql: "SELECT role, resident_id FROM users WHERE username = '13700001111'")
        }
        #expect(user?["role"] as String? == "resident")
        #expect(user?["resident_id"] as Int64? == residentID)
        #expect(try AppClient(port: app.port).signIn(username: "13700001111", password: "resident-pass-1").status == 303)

        // The same person with a phone the record does not have: a request for staff.
        let (_, other) = try f.resident("注册乙", phone: "13700002222")
        #expect(try Self.apply(app, name: "注册乙", id: other, phone: "13799999999", address: "198.51.100.2").status == 200)
        #expect(try app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM users WHERE username = '13799999999'") } == 0)
        let staff = try app.signedIn(.staff)
        let queue = try staff.get("/registrations")
        #expect(queue.text.contains("注册乙") && queue.text.contains("查看档案") && !queue.text.contains(other))
        let requestID = try #require(try app.database.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM registration_requests") })
        #expect(try staff.post("/registrations/\(requestID)/refuse").status == 422, "a reason is required")
        let outsider = try app.signedIn(.staff, scope: app.otherCommunity.id)
        #expect(try outsider.post("/registrations/\(requestID)/approve").status == 404)
        #expect(try app.signedIn(.coordinator).post("/registrations/\(requestID)/approve").status == 403)
        #expect(try staff.post("/registrations/\(requestID)/approve").status == 303)
        #expect(try staff.post("/registrations/\(requestID)/approve").status == 409)
        #expect(try AppClient(port: app.port).signIn(username: "13799999999", password: "resident-pass-1").status == 303)
    }

    @Test func aPartyMembersRecordGivesTheMemberRole() throws {
        let app = try TestApp()
        let f = ResidentFixture(app: app)
        let (residentID, number) = try f.resident("注册丙", phone: "13700003333")
        try app.database.write { db in
            try db.execute(sql: "INSERT INTO party_members (resident_id, status, category, grid_id) VALUES (?, 'full', 'retired', ?)",
                           arguments: [residentID, app.building.id])
        }
        _ = try Self.apply(app, name: "注册丙", id: number, phone: "13700003333")
        #expect(try app.database.read { db in try String.fetchOne(db, sql: "SELECT role FROM users WHERE username = '13700003333'") } == "member")
    }

    @Test func knownAndUnknownIDNumbersGetTheSameAnswer() throws {
        let app = try TestApp { $0.trustProxy = true }
        let f = ResidentFixture(app: app)
        let (_, number) = try f.resident("注册丁", phone: "13700004444")
        let unknown = ResidentFixture.idNumber(birth: "19700101")
        // Wrong phone for a known number, and a number nobody has: both wait, both read the same.
        let known = try Self.apply(app, name: "注册丁", id: number, phone: "13711112222", address: "203.0.113.1")
        let stranger = try Self.apply(app, name: "陌生人", id: unknown, phone: "13722223333", address: "203.0.113.2")
        #expect(known.status == stranger.status)
        #expect(Self.comparable(known.text).replacingOccurrences(of: "注册丁", with: "") ==
                Self.comparable(stranger.text).replacingOccurrences(of: "陌生人", with: ""))
        #expect(try app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM registration_requests") } == 2)
    }

    @Test func registrationIsThrottledPerAddress() throws {
        let app = try TestApp()
        var statuses: [Int] = []
        for i in 0..<6 {
            statuses.append(try Self.apply(app, name: "试探", id: ResidentFixture.idNumber(birth: "19800101"), phone: "1370000\(5000 + i)").status)
        }
        #expect(statuses.prefix(5).allSatisfy { $0 == 200 })
        #expect(statuses.last == 429)
        // Bad input is refused before counting, with the fields kept.
        let bad = try Self.apply(app, name: "", id: "123", phone: "12")
        #expect(bad.status == 422 || bad.status == 429)
    }
}
