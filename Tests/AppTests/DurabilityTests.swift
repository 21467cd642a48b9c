import Domain
import Foundation
import GRDB
import HTTPCore
import Security
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real server as a child process: writes it answered survive `kill -9`, and an online
/// backup taken while it writes is a sound copy.
@Suite(.serialized) struct DurabilityTests {
    static let newPassword = "durable-admin-pass-1"

    /// How the writers change state. Grid nodes (`POST /grids/new`) are the cheap audited
    /// write once the grid pages exist; until then each write is a sign-in, which commits a
    /// session row, a login attempt and an audit entry before it answers 303.
    enum WriteKind: String {
        case gridNode, session
    }

    static func writeKind() throws -> WriteKind {
        let app = try TestApp()
        let hasGridForm = app.app.routeTable.contains { $0.method == .post && $0.pattern == "/grids/new" }
        return hasGridForm ? .gridNode : .session
    }

    /// Signs in as the first-run admin and replaces its password, as the admin must first.
    static func signInAdmin(_ server: ServerProcess) throws -> AppClient {
        guard let initial = server.adminPassword else {
            throw TestFailure("the first start printed no admin password\n\(server.stderrText)")
        }
        let client = AppClient(port: server.port)
        let login = try client.signIn(username: "admin", password: initial)
        guard login.status == 303, login.header("location") == "/account/password" else {
            throw TestFailure("admin sign-in answered \(login.status) \(login.header("location") ?? "")")
        }
        let change = try client.post("/account/password", [
            ("current_password", initial), ("new_password", newPassword), ("confirm_password", newPassword),
        ])
        guard change.status == 303 else { throw TestFailure("password change answered \(change.status): \(change.text)") }
        try client.get("/")
        return client
    }

    /// What the writers were told was done.
    final class Acks: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [String] = []
        private var problems: [String] = []
        private var stopped = false
        private var broken = 0

        func ack(_ value: String) { lock.withLock { values.append(value) } }
        func problem(_ text: String) { lock.withLock { problems.append(text) } }
        func stop() { lock.withLock { stopped = true } }
        /// A request that got no complete answer (the server died under it).
        func interrupted() { lock.withLock { broken += 1 } }
        var interruptedCount: Int { lock.withLock { broken } }
        var isStopped: Bool { lock.withLock { stopped } }
        var acked: [String] { lock.withLock { values } }
        var count: Int { lock.withLock { values.count } }
        var unexpected: [String] { lock.withLock { problems } }
    }

    /// Starts `threads` writers that loop until stopped or the server goes away.
    static func startWriters(_ kind: WriteKind, threads: Int, port: Int, session: AppClient, acks: Acks) -> DispatchGroup {
        let group = DispatchGroup()
        for t in 0..<threads {
            let cookies = session.cookies, csrf = session.csrf
            DispatchQueue.global().async(group: group) {
                var i = 0
                while !acks.isStopped {
                    i += 1
                    do {
                        switch kind {
                        case .gridNode:
                            let client = AppClient(port: port)
                            client.cookies = cookies
                            client.csrf = csrf
                            let name = "耐久测试\(t)-\(i)"
                            let response = try client.post("/grids/new", [("name", name), ("kind", "community"), ("parent_id", "")])
                            guard response.status == 303 else {
                                acks.problem("POST /grids/new answered \(response.status)")
                                return
                            }
                            acks.ack(name)
                        case .session:
                            let client = AppClient(port: port)
                            try client.get("/login")
                            let response = try client.post("/login", [("username", "admin"), ("password", newPassword)])
                            guard response.status == 303, let token = client.cookies["jinlin_session"] else {
                                acks.problem("POST /login answered \(response.status)")
                                return
                            }
                            acks.ack(token)
                        }
                    } catch {
                        // The server is gone (killed) or the connection broke mid-answer:
                        // that write was never answered as done.
                        acks.interrupted()
                        return
                    }
                }
            }
        }
        return group
    }

    /// Which acknowledged writes the database at `path` lacks.
    static func missing(_ acked: [String], kind: WriteKind, in db: Database) throws -> [String] {
        switch kind {
        case .gridNode:
            let names = Set(try String.fetchAll(db, sql: "SELECT name FROM grids"))
            return acked.filter { !names.contains($0) }
        case .session:
            let hashes = Set(try String.fetchAll(db, sql: "SELECT token_hash FROM sessions"))
            return acked.filter { !hashes.contains(sha256Hex($0)) }
        }
    }

    @Test func answeredWritesSurviveKillNine() throws {
        let kind = try Self.writeKind()
        let data = try JinlinBinary.temporaryDirectory("durability")
        defer { try? FileManager.default.removeItem(at: data) }

        let first = try ServerProcess(dataDirectory: data)
        defer { first.killHard() }
        let admin = try Self.signInAdmin(first)

        let acks = Acks()
        let writers = Self.startWriters(kind, threads: 4, port: first.port, session: admin, acks: acks)
        defer {
            acks.stop()
            _ = writers.wait(timeout: .now() + 15)
        }
        // Let the stream run, then kill the server in the middle of it.
        let start = Date()
        while (Date().timeIntervalSince(start) < 1.5 || acks.count < 12) && Date().timeIntervalSince(start) < 8 {
            usleep(20_000)
        }
        kill(first.pid, SIGKILL)
        first.killHard()
        acks.stop()
        #expect(writers.wait(timeout: .now() + 15) == .success, "writers did not notice the kill")
        let acked = acks.acked
        #expect(acks.unexpected.isEmpty, "\(acks.unexpected)")
        #expect(acked.count >= 8, "only \(acked.count) writes (\(kind)) were answered before the kill")
        #expect(acks.interruptedCount >= 1, "no request was in flight when the server was killed")

        // Restart on the same folder: the admin exists, its new password works.
        let second = try ServerProcess(dataDirectory: data)
        defer { second.killHard() }
        #expect(second.adminPassword == nil, "a restart must not create another admin")
        #expect(try AppClient(port: second.port).get("/healthz").text == "ok")
        #expect(try AppClient(port: second.port).signIn(username: "admin", password: Self.newPassword).status == 303)
        #expect(second.stop(), "graceful shutdown\n\(second.stderrText)")

        let queue = try JinlinBinary.openReadOnly(JinlinBinary.databasePath(data))
        let (check, lost) = try queue.read { db in
            (try String.fetchAll(db, sql: "PRAGMA integrity_check"), try Self.missing(acked, kind: kind, in: db))
        }
        #expect(check == ["ok"])
        #expect(lost.isEmpty, "\(lost.count) of \(acked.count) answered writes (\(kind)) were lost: \(lost.prefix(5))")
        print("durability: \(acked.count) writes (\(kind.rawValue)) answered, \(acks.interruptedCount) in flight at kill -9; \(acked.count - lost.count) found after restart")
    }

    @Test func backupWhileServingIsASoundCopy() throws {
        let kind = try Self.writeKind()
        let base = try JinlinBinary.temporaryDirectory("backup-live")
        defer { try? FileManager.default.removeItem(at: base) }
        let data = base.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)

        let server = try ServerProcess(dataDirectory: data)
        defer { server.killHard() }
        let admin = try Self.signInAdmin(server)
        let acks = Acks()
        let writers = Self.startWriters(kind, threads: 3, port: server.port, session: admin, acks: acks)
        defer {
            acks.stop()
            _ = writers.wait(timeout: .now() + 15)
        }
        let start = Date()
        while acks.count < 5 && Date().timeIntervalSince(start) < 6 { usleep(20_000) }

        let copy = base.appendingPathComponent("live-copy.sqlite").path
        let before = acks.acked
        let backup = try JinlinBinary.run(["backup", copy, "--data-dir", data.path, "--root", JinlinBinary.packageRoot.path])
        let writesDuringBackup = acks.count - before.count
        acks.stop()
        #expect(writers.wait(timeout: .now() + 15) == .success)
        #expect(backup.status == 0, "\(backup)")
        #expect(acks.unexpected.isEmpty, "\(acks.unexpected)")
        #expect(!before.isEmpty, "no writes were answered before the backup")

        let (check, lost, users) = try JinlinBinary.openReadOnly(copy).read { db in
            (try String.fetchAll(db, sql: "PRAGMA integrity_check"),
             try Self.missing(before, kind: kind, in: db),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM users") ?? 0)
        }
        #expect(check == ["ok"])
        #expect(users == 1)
        #expect(lost.isEmpty, "writes answered before the backup started are missing from it: \(lost.prefix(5))")
        print("backup during writes: \(before.count) writes (\(kind.rawValue)) answered before it, \(writesDuringBackup) while it ran")
        #expect(server.stop(), "graceful shutdown\n\(server.stderrText)")
    }
}
