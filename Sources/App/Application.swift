import Access
import AccountsFeature
import AdminFeature
import AppCore
import DashboardFeature
import Foundation
import GridsFeature
import MembersFeature
import RegistrationFeature
import PointsFeature
import CasesFeature
import ReportsFeature
import ResidentsFeature
import Synchronization
import HTTPCore
import Logging
import Security
import Storage
import Views
import VolunteeringFeature
import WishesFeature
import Web

/// The composition root: opens the database, loads templates, registers every feature.
public final class Application: Sendable {
    public let configuration: AppConfiguration
    public let environment: AppEnvironment
    public let handler: RouterHandler
    /// Every route with the permission it needs (the authorization matrix test reads it).
    public let routeTable: [RouteEntry]

    /// Every module, in the order its audit actions are listed; a new module is one line here.
    public static let modules: [Module] = [
        AccountsFeature.module,
        DashboardFeature.module,
        AdminFeature.module,
        GridsFeature.module,
        ResidentsFeature.module,
        MembersFeature.module,
        VolunteeringFeature.module,
        RegistrationFeature.module,
        WishesFeature.module,
        PointsFeature.module,
        CasesFeature.module,
        ReportsFeature.module,
    ]

    /// The `/healthz` row of the authorization matrix (App's own route).
    public static let matrix: [String: Set<Role>?] = ["GET /healthz": nil]

    /// The database file inside the data directory.
    public static func databasePath(in dataDirectory: URL) -> String {
        dataDirectory.appendingPathComponent("jinlin.sqlite").path
    }

    /// Opens (creating if needed) the database and applies pending migrations.
    public static func openDatabase(_ configuration: AppConfiguration, logger: Logger) throws -> AppDatabase {
        try FileManager.default.createDirectory(at: configuration.dataDirectory, withIntermediateDirectories: true)
        let database = try AppDatabase(path: databasePath(in: configuration.dataDirectory), clock: configuration.clock)
        try Migrator.migrate(database: database, directory: configuration.migrationsDirectory, logger: logger)
        return database
    }

    public init(configuration: AppConfiguration, database: AppDatabase, logger: Logger,
                passwordHasher: PasswordHasher = PasswordHasher()) throws {
        self.configuration = configuration
        let templates = try TemplateLibrary(directory: configuration.templatesDirectory.path,
                                            required: ["layout", "login", "errors/error"], check: configuration.templateCheck)
        let env = AppEnvironment(database: database, templates: templates, secureCookies: configuration.secureCookies,
                                 trustProxy: configuration.trustProxy, serverTiming: configuration.serverTiming,
                                 logger: logger, hasher: passwordHasher, modules: Self.modules)
        self.environment = env

        var routes = AppRoutes(env: env)
        let health = HealthCheck(interval: configuration.healthCheckInterval, clock: env.clock)
        // A cached check that never waits: it runs on the event loop.
        let ok = Array("ok".utf8)
        routes.get("/healthz", .anonymous, options: RouteOptions(inline: true)) { ctx in
            // Answers only when the database does; monitors polling it hard share one check a second.
            try health.check { _ = try ctx.database.read { db in try Int.fetchOne(db, sql: "SELECT 1") } }
            return HTTPResponse(contentType: "text/plain; charset=utf-8", body: ok)
        }
        if configuration.benchRoutes {
            // For the HTTP benchmark only (JINLIN_BENCH_ROUTES=1): a handler that blocks its
            // thread for `ms` milliseconds, to show it does not hold up other connections.
            routes.get("/bench/sleep", .anonymous) { ctx in
                let ms = min(10_000, max(0, Int(ctx.query["ms"] ?? "") ?? 2000))
                usleep(UInt32(ms) * 1000)
                return HTTPResponse(text: "slept \(ms) ms")
            }
        }
        for module in Self.modules { module.routes(&routes) }
        self.routeTable = routes.table

        let files = StaticFiles(root: configuration.publicDirectory.path, logger: logger)
        let router = routes.finish { request in
            guard let response = files.response(for: request.http) else { throw HTTPError(.notFound) }
            return response
        }
        self.handler = RouterHandler(router: router)
    }

    /// On a database without accounts, creates `admin` with a random password and returns it,
    /// so the first start can print it once.
    public func createFirstAdminIfNeeded() throws -> String? {
        guard try environment.users.count() == 0 else { return nil }
        let password = UserStore.generatePassword()
        try environment.users.create(
            UserStore.NewUser(username: "admin", displayName: "系统管理员", role: .admin, scopeGridID: nil,
                              password: password, mustChangePassword: true),
            by: .system)
        return password
    }
}

/// The database check behind `/healthz`, run at most once per interval.
final class HealthCheck: Sendable {
    private let interval: Double
    private let clock: Clock
    private let last = Mutex<(at: Double, ok: Bool)>((-.infinity, false))

    init(interval: Double, clock: Clock) {
        self.interval = interval
        self.clock = clock
    }

    func check(_ probe: () throws -> Void) throws {
        let now = clock.now.timeIntervalSinceReferenceDate
        let cached = last.withLock { $0 }
        if now - cached.at < interval {
            if cached.ok { return }
            throw HTTPError(.serviceUnavailable, "数据库不可用")
        }
        do {
            try probe()
            last.withLock { $0 = (now, true) }
        } catch {
            last.withLock { $0 = (now, false) }
            throw HTTPError(.serviceUnavailable, "数据库不可用")
        }
    }
}
