import AppCore
import Foundation
import GRDB
import HTTPTestSupport
import Storage
import Testing
import Domain
import Web

/// The findings of the attacker's review: masked numbers through search, the redirect after
/// sign-in, the throttle under parallel attempts, the combined lock, reveal reasons, input hygiene.
@Suite struct SecurityFindingsTests {
    // MARK: - Masked numbers through search

    /// The attack: keep a name in the query and extend the visible tail one digit at a time,
    /// keeping the digit whose result still lists the person.
    static func extend(_ client: AppClient, name: String, tail: String) throws -> [Int] {
        try (0...9).map { digit in
            let response = try client.get("/residents?q=" + encoded("\(name) \(digit)\(tail)"))
            #expect(response.residentNames.isEmpty, "a longer tail matched: \(digit)\(tail)")
            #expect(response.text.contains("请输入后 4 位或完整号码"))
            return response.status
        }
    }

    @Test func digitExtensionRecoversNothingAndFullNumbersAreForRevealersOnly() throws {
        let app = try TestApp()
        let f = ResidentFixture(app: app)
        let (_, id) = try f.resident("欧阳娜", birth: "19550505", phone: "13812344622")
        let coordinator = try app.signedIn(.coordinator)
        let staff = try app.signedIn(.staff)

        for client in [coordinator, staff] {
            // The visible tails match, as the lists show them.
            #expect(try client.get("/residents?q=" + encoded("欧阳娜 4622")).residentNames == ["欧阳娜"])
            #expect(try client.get("/residents?q=" + String(id.suffix(4))).residentNames == ["欧阳娜"])
            // One digit more is refused for every digit: nothing tells which one is right.
            #expect(try Self.extend(client, name: "欧阳娜", tail: "4622").allSatisfy { $0 == 400 })
            #expect(try Self.extend(client, name: "欧阳娜", tail: String(id.suffix(4))).allSatisfy { $0 == 400 })
            // Every length between the tail and the whole number, for both.
            for length in 5...10 {
                #expect(try client.get("/residents?q=" + String("13812344622".suffix(length))).status == 400)
            }
            for length in 5...17 where length != 11 {
                #expect(try client.get("/residents?q=" + String(id.suffix(length))).status == 400)
            }
            // The export applies the same rule.
            #expect(try client.get("/residents/export.csv?q=" + String(id.suffix(6))).status == 400)
        }

        // A complete number: refused to the coordinator, who may not reveal; nothing audited.
        let refusedPhone = try coordinator.get("/residents?q=13812344622")
        #expect(refusedPhone.status == 403)
        #expect(refusedPhone.residentNames.isEmpty)
        #expect(try coordinator.get("/residents?q=" + id).status == 403)
        #expect(try coordinator.get("/residents/export.csv?q=" + id).status == 403)
        #expect(try app.auditCount(action: "resident.search_full_number") == 0)

        // Staff find the person by the whole number, and the search is audited like a reveal.
        #expect(try staff.get("/residents?q=13812344622").residentNames == ["欧阳娜"])
        #expect(try staff.get("/residents?q=" + id.lowercased()).residentNames == ["欧阳娜"])
        #expect(try staff.get("/residents?q=13812340000").residentNames == [])
        // Eleven digits are a phone number, never the end of an ID number.
        #expect(try staff.get("/residents?q=" + String(id.suffix(11))).residentNames == [])
        #expect(try coordinator.get("/residents?q=" + String(id.suffix(11))).status == 403)
        let entries = try app.database.read { db in
            try String.fetchAll(db, sql: "SELECT after_json FROM audit_log WHERE action = 'resident.search_full_number' ORDER BY id")
        }
        #expect(entries.count == 4)
        #expect(entries[0].contains("138****4622") && entries[0].contains("\"matches\":1"))
        #expect(entries[1].contains(Mask.idNumber(id)))
        #expect(entries[2].contains("\"matches\":0"))
        let everything = try app.database.read { db in
            try String.fetchAll(db, sql: "SELECT coalesce(before_json, '') || coalesce(after_json, '') FROM audit_log")
        }.joined()
        #expect(!everything.contains("13812344622") && !everything.contains(id), "numbers are stored masked")
    }

    @Test func rolesThatMayNotRevealSeeTheAgeNotTheBirthDate() throws {
        let app = try TestApp()
        let f = ResidentFixture(app: app)
        let (residentID, _) = try f.resident("司马光", birth: "19550505")
        let coordinator = try app.signedIn(.coordinator)
        let page = try coordinator.get("/residents/\(residentID)")
        #expect(page.status == 200)
        #expect(!page.text.contains("1955-05-05"))
        #expect(page.text.contains("年龄"))
        let staff = try app.signedIn(.staff)
        #expect(try staff.get("/residents/\(residentID)").text.contains("1955-05-05"))
    }

    // MARK: - Redirect after sign-in

    @Test func signInOnlyGoesToPagesOfThisSite() throws {
        let app = try TestApp()
        try app.makeUser("redirect", role: .staff)
        let hostile = ["/\t/evil.example/phish", "/\n/evil.example", "/\r\n/evil.example", "/\\evil.example",
                       "//evil.example/", "/\\/evil.example", "https://evil.example/", "https:evil.example",
                       "/grids//evil.example", "/grids/\\x", "/no-such-page", "/residents/1/nothing",
                       "/%09/evil.example", "/%2F/evil.example", "/%5Cevil.example", "/%0A/evil.example",
                       "%2F%2Fevil.example", "/\u{200B}/evil.example", "javascript:alert(1)", ""]
        for next in hostile {
            let client = AppClient(port: app.port)
            try client.get("/login?next=" + FormData.percentEncode(next))
            let response = try client.post("/login", [("username", "redirect"), ("password", TestApp.password), ("next", next)])
            #expect(response.status == 303)
            #expect(response.header("location") == "/", "next=\(next.debugDescription)")
        }
        for next in ["/residents?q=%E7%8E%8B&page=2", "/grids", "/residents/5"] {
            let client = AppClient(port: app.port)
            let response = try client.post("/login", [("username", "redirect"), ("password", TestApp.password), ("next", next)])
            #expect(response.header("location") == next)
        }
        // The form does not carry a hostile value into its hidden field either.
        let page = try AppClient(port: app.port).get("/login?next=" + FormData.percentEncode("/\t/evil.example/phish"))
        #expect(!page.text.contains("evil.example"))
    }

    // MARK: - Throttle

    @Test func parallelWrongPasswordsAreCheckedExactlyUpToTheLimit() throws {
        let app = try TestApp()
        try app.makeUser("parallel", role: .staff)
        // Each client has its login page first, then all 30 post at once from their own threads.
        let clients = try (0..<30).map { _ in
            let client = AppClient(port: app.port)
            try client.get("/login")
            return client
        }
        let all = parallel(clients) { client in
            (try? client.post("/login", [("username", "parallel"), ("password", "wrong-password")]))?.status ?? 0
        }
        #expect(all.filter { $0 == 422 }.count == 5, "exactly the limit checked: \(all)")
        #expect(all.filter { $0 == 429 }.count == 25)
        let counted = try app.database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM login_attempts WHERE username = 'parallel'")
        }
        #expect(counted == 5)
    }

    @Test func aLockHoldsUpOnlyTheGuessingAddressUntilTheAccountCeiling() throws {
        let app = try TestApp { $0.trustProxy = true }
        try app.makeUser("shared", role: .staff)
        func attempt(_ password: String, from address: String) throws -> TestResponse {
            let client = AppClient(port: app.port)
            try client.get("/login")
            let body = FormData.encode([("username", "shared"), ("password", password), ("_csrf", client.csrf ?? "")])
            return try client.send("POST", "/login", body: Array(body.utf8),
                                   headers: [("Content-Type", "application/x-www-form-urlencoded"), ("X-Forwarded-For", address)])
        }
        for _ in 0..<5 { #expect(try attempt("wrong-password", from: "203.0.113.7").status == 422) }
        #expect(try attempt(TestApp.password, from: "203.0.113.7").status == 429, "the guessing address waits")
        #expect(try attempt(TestApp.password, from: "198.51.100.20").status == 303, "the owner elsewhere signs in")
        // The same office address for another account is not held up by this one.
        try app.makeUser("colleague", role: .staff)
        let colleague = AppClient(port: app.port)
        try colleague.get("/login")
        let body = FormData.encode([("username", "colleague"), ("password", TestApp.password), ("_csrf", colleague.csrf ?? "")])
        #expect(try colleague.send("POST", "/login", body: Array(body.utf8),
                                   headers: [("Content-Type", "application/x-www-form-urlencoded"), ("X-Forwarded-For", "203.0.113.7")]).status == 303)

        // Spread over many addresses, the account's own ceiling (50) locks it everywhere.
        try app.database.write { db in
            for i in 0..<50 {
                try db.execute(sql: "INSERT INTO login_attempts (username, ip, succeeded, at) VALUES ('shared', ?, 0, ?)",
                               arguments: ["192.0.2.\(i)", TestClock.clock.timestamp])
            }
        }
        #expect(try attempt(TestApp.password, from: "198.51.100.20").status == 429)

        // The admin sees the locks and lifts the account's; audited.
        let admin = try app.signedIn(.admin)
        let locks = try admin.get("/admin/locks")
        #expect(locks.text.contains("账号 shared（所有地址）"))
        #expect(locks.text.contains("账号 shared（来自 203.0.113.7）"))
        let lifted = try admin.post("/admin/locks/lift", [("kind", "account"), ("username", "shared"), ("ip", "")])
        #expect(lifted.status == 303)
        #expect(try app.auditCount(action: "login.unlock") == 1)
        #expect(try attempt(TestApp.password, from: "198.51.100.20").status == 303)
        #expect(try app.signedIn(.staff).post("/admin/locks/lift", [("kind", "account"), ("username", "shared")]).status == 403)
    }

    // MARK: - Input hygiene

    @Test func invalidUTF8IsRefusedAndNothingStored() throws {
        let app = try TestApp()
        let staff = try app.signedIn(.staff)
        let before = try app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM grids") }
        let body = "name=%FF%FE%28&kind=estate&parent_id=\(app.community.id)&_csrf=\(staff.csrf ?? "")"
        let response = try staff.send("POST", "/grids/new", body: Array(body.utf8),
                                      headers: [("Content-Type", "application/x-www-form-urlencoded")])
        #expect(response.status == 400)
        #expect(response.text.contains("UTF-8"))
        let after = try app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM grids") }
        #expect(before == after)
        #expect(try staff.get("/residents?q=%FF%FE").status == 400)
        // In a multipart form too.
        let boundary = "b0undary"
        var multipart = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n\(staff.csrf ?? "")\r\n".utf8)
        multipart += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"dry_run\"\r\n\r\n".utf8) + [0xFF, 0xFE]
        multipart += Array("\r\n--\(boundary)--\r\n".utf8)
        let upload = try staff.send("POST", "/residents/import", body: multipart,
                                    headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")])
        #expect(upload.status == 400)
    }

    @Test func onlyCanonicalIDsNameRecords() throws {
        let app = try TestApp()
        let f = ResidentFixture(app: app)
        let (residentID, _) = try f.resident("上官婉")
        let staff = try app.signedIn(.staff)
        #expect(try staff.get("/residents/\(residentID)").status == 200)
        for bad in ["0\(residentID)", "+\(residentID)", "\(residentID).0", "%2B\(residentID)", " \(residentID)", "0", "-1",
                    "99999999999999999999"] {
            #expect(try staff.get("/residents/" + bad.replacingOccurrences(of: " ", with: "%20")).status == 404, "\(bad)")
        }
        #expect(canonicalID("12") == 12)
        #expect(canonicalID("012") == nil)
    }

    @Test func signingInAsSomeoneElseEndsTheFirstSession() throws {
        let app = try TestApp()
        let client = try app.signedIn(.staff)
        let first = client.cookies[CookieName.session]
        try app.makeUser("second", role: .coordinator)
        let response = try client.post("/login", [("username", "second"), ("password", TestApp.password)])
        #expect(response.status == 303)
        let replay = AppClient(port: app.port)
        replay.cookies[CookieName.session] = first
        #expect(try replay.get("/").status == 303, "the first session no longer signs anyone in")
        let sessions = try app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sessions") }
        #expect(sessions == 1)
    }
}

/// Runs `body` for every element at once, one thread each, started together; the results in order.
func parallel<Element, Result>(_ elements: [Element], _ body: @escaping @Sendable (Element) -> Result) -> [Result] {
    let results = Locked([Result?](repeating: nil, count: elements.count))
    let ready = DispatchSemaphore(value: 0), start = DispatchSemaphore(value: 0), done = DispatchGroup()
    for (index, element) in elements.enumerated() {
        let box = UncheckedBox(element)
        done.enter()
        Thread.detachNewThread {
            ready.signal()
            start.wait()
            let result = body(box.value)
            results.withLock { $0[index] = result }
            done.leave()
        }
    }
    for _ in elements { ready.wait() }
    for _ in elements { start.signal() }
    done.wait()
    return results.withLock { $0.map { $0! } }
}

struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A value shared by the threads of a parallel test.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
