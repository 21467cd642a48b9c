import App
import AppCore
import Access
import Domain
import Foundation
import GRDB
import HTTPCore
import HTTPServer
import HTTPTestSupport
import Logging
import ResidentsFeature
import Security
import Storage
import TemplateTestSupport
import Web

/// The clock every test app runs on: the system's, or with `JINLIN_TEST_NOW=YYYY-MM-DD` one
/// that starts at noon Beijing time on that day (the suite must pass whatever day it runs).
enum TestClock {
    static let clock: Clock = {
        guard let day = ProcessInfo.processInfo.environment["JINLIN_TEST_NOW"], !day.isEmpty else { return .live }
        guard let clock = Clock.startingAtNoon(of: day) else { fatalError("JINLIN_TEST_NOW must be YYYY-MM-DD, not \(day)") }
        return clock
    }()
    static var now: Date { clock.now }
    /// Today in China on the test clock.
    static var today: ChinaDay { ChinaDay.of(now) }
    static var todayText: String { ChinaDate.today(now) }
}

/// The whole application on a free port, with a fresh database file in a temporary folder.
final class TestApp: @unchecked Sendable {
    let directory: URL
    let database: AppDatabase
    let app: Application
    let server: HTTPServer
    var port: Int { server.port }
    /// The root of the grid tree every test starts with: 示范社区 → 阳光小区 → 第一网格 → 1号楼.
    private(set) var community: Grid!
    private(set) var estate: Grid!
    private(set) var grid: Grid!
    private(set) var building: Grid!
    /// A second community, outside the scope of the first one's staff.
    private(set) var otherCommunity: Grid!
    /// The unit tree every test starts with: 示范街道 (a town) → 阳光物业 (a property company), and
    /// 另一物业 beside it. Unit handlers are scoped to 阳光物业 unless told otherwise.
    private(set) var upperUnit: Int64 = 0
    private(set) var unit: Int64 = 0
    private(set) var otherUnit: Int64 = 0

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// Tests hash passwords cheaply; the production cost is tested in SecurityTests.
    static let hasher = PasswordHasher(cost: 1)
    static let password = "test-password-1"

    /// `configure` may change the application's settings before it starts.
    init(configure: (inout AppConfiguration) -> Void = { _ in }) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("jinlin-app-\(UUID().uuidString)")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        var config = AppConfiguration(resourceRoot: Self.packageRoot, dataDirectory: directory)
        config.healthCheckInterval = 0
        config.clock = TestClock.clock
        config.templateCheck = try MustacheReference.check(directory: config.templatesDirectory.path)
        configure(&config)
        database = try Application.openDatabase(config, logger: logger)
        app = try Application(configuration: config, database: database, logger: logger, passwordHasher: Self.hasher)
        var serverConfig = ServerConfiguration()
        serverConfig.port = 0
        serverConfig.accessLog = false
        server = try HTTPServer(configuration: serverConfig, handler: app.handler, logger: logger)
        try server.start()

        let grids = Grids(database)
        community = try grids.createRoot(name: "示范社区", kind: .community, by: .system)
        estate = try grids.createChild(of: community.id, name: "阳光小区", kind: .estate, by: .system)
        grid = try grids.createChild(of: estate.id, name: "第一网格", kind: .grid, by: .system)
        building = try grids.createChild(of: grid.id, name: "1号楼", kind: .building, by: .system)
        otherCommunity = try grids.createRoot(name: "另一社区", kind: .community, by: .system)
        (upperUnit, unit, otherUnit) = try database.write { db in
            func add(_ name: String, _ kind: String, parent: Int64?, parentPath: String) throws -> Int64 {
                try db.execute(sql: "INSERT INTO units (parent_id, name, kind, path, created_at) VALUES (?, ?, ?, '/0/', \(Timestamp.nowSQL))",
                               arguments: [parent, name, kind])
                let id = db.lastInsertedRowID
                try db.execute(sql: "UPDATE units SET path = ? WHERE id = ?", arguments: [parentPath + "\(id)/", id])
                return id
            }
            let upper = try add("示范街道", "town", parent: nil, parentPath: "/")
            return (upper, try add("阳光物业", "property", parent: upper, parentPath: "/\(upper)/"),
                    try add("另一物业", "property", parent: upper, parentPath: "/\(upper)/"))
        }
    }

    deinit {
        server.shutdown()
        server.waitUntilStopped()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Creates an account of `role` scoped to `scope` (default: the test community).
    @discardableResult
    /// A unit handler's unit is `scope` when given, else 阳光物业.
    func makeUser(_ username: String, role: Role, scope: Int64? = nil, mustChangePassword: Bool = false) throws -> User {
        try app.environment.users.create(
            UserStore.NewUser(username: username, displayName: "测试\(username)", role: role,
                              scopeGridID: role.needsScope ? (scope ?? community.id) : nil,
                              scopeUnitID: role.needsUnit ? (scope ?? unit) : nil,
                              password: Self.password, mustChangePassword: mustChangePassword),
            by: .system)
    }

    /// A client signed in as a new account of `role`.
    func signedIn(_ role: Role, scope: Int64? = nil, username: String? = nil) throws -> AppClient {
        // A UUID piece, not a small random number: a matrix test signs in hundreds of accounts,
        // and two equal numbers among them made the test fail now and then.
        let name = username ?? "\(role.rawValue)-\(UUID().uuidString.prefix(13))"
        try makeUser(name, role: role, scope: scope)
        let client = AppClient(port: port)
        let response = try client.signIn(username: name, password: Self.password)
        guard response.status == 303 else { throw TestFailure("sign-in as \(role) answered \(response.status)") }
        return client
    }

    /// Rows of a resident's status timeline (`timeline_events`).
    func timelineCount(_ residentID: Int64) throws -> Int {
        try database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM timeline_events WHERE entity_type = 'resident' AND entity_id = ?",
                             arguments: [residentID]) ?? 0
        }
    }

    func auditCount(action: String) throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log WHERE action = ?", arguments: [action]) ?? 0 }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A browser-like client: keeps cookies, knows the CSRF token of the last page it saw.
final class AppClient: @unchecked Sendable {
    let port: Int
    var cookies: [String: String] = [:]
    /// The `_csrf` value of the most recent page with a form.
    var csrf: String?

    init(port: Int) {
        self.port = port
    }

    @discardableResult
    func get(_ path: String, headers: [(String, String)] = []) throws -> TestResponse {
        try send("GET", path, body: [], headers: headers)
    }

    /// POSTs a urlencoded form; adds `_csrf` (from the last page) unless `csrf: false`.
    @discardableResult
    func post(_ path: String, _ fields: [(String, String)] = [], csrf: Bool = true) throws -> TestResponse {
        var fields = fields
        if csrf {
            if self.csrf == nil { try get(path.hasPrefix("/login") ? "/login" : "/") }
            fields.append(("_csrf", self.csrf ?? ""))
        }
        return try send("POST", path, body: Array(FormData.encode(fields).utf8),
                        headers: [("Content-Type", "application/x-www-form-urlencoded")])
    }

    /// Signs in and then loads the page it was sent to, which carries the session's CSRF token.
    func signIn(username: String, password: String) throws -> TestResponse {
        try get("/login")
        let response = try post("/login", [("username", username), ("password", password)])
        if response.status == 303, let location = response.header("location") {
            csrf = nil
            try get(location)
        }
        return response
    }

    func send(_ method: String, _ path: String, body: [UInt8], headers: [(String, String)]) throws -> TestResponse {
        let client = try RawClient(port: port)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
        if !cookies.isEmpty {
            head += "Cookie: " + cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") + "\r\n"
        }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if method == "POST" || !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
        client.send(Array((head + "\r\n").utf8) + body)
        let raw = client.read(timeout: 10)
        guard let response = TestResponse.parseAll(raw.bytes).first else {
            throw TestFailure("\(method) \(path): no response")
        }
        for line in response.headers("set-cookie") {
            guard let pair = line.split(separator: ";").first, let eq = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<eq]), value = String(pair[pair.index(after: eq)...])
            if value.isEmpty || line.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
        if let token = Self.csrfToken(in: response.text) { csrf = token }
        return response
    }

    static func csrfToken(in html: String) -> String? {
        guard let range = html.range(of: "name=\"_csrf\" value=\"") else { return nil }
        let rest = html[range.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        let token = String(rest[..<end])
        return token.isEmpty ? nil : token
    }
}
