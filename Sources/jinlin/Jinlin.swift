import App
import ArgumentParser
import Dispatch
import Foundation
import HTTPServer
import Logging

@main
struct Jinlin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jinlin",
        abstract: "近邻 Jinlin: community party-building and grid governance, one binary and one SQLite file.",
        subcommands: [Serve.self, Migrate.self, CreateUser.self, Backup.self, Seed.self, ReportSQL.self],
        defaultSubcommand: Serve.self)
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the web server.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Address to listen on (env JINLIN_HOST).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one (env JINLIN_PORT).")
    var port: Int?

    @Option(help: "Access log: a file path, '-' for standard error, or 'off' (env JINLIN_ACCESS_LOG).")
    var accessLog: String?

    @Flag(help: "Mark cookies Secure (serve behind TLS).")
    var secureCookies = false

    @Flag(help: "Behind a reverse proxy on this machine: take client addresses from X-Forwarded-For (env JINLIN_TRUST_PROXY=1).")
    var trustProxy = false

    @Flag(help: "Send a Server-Timing header (session, query, render, total) with every page (env JINLIN_SERVER_TIMING=1).")
    var serverTiming = false

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        let logger = bootstrapLogging()

        var appConfig = try common.appConfiguration()
        appConfig.secureCookies = secureCookies || env["JINLIN_SECURE_COOKIES"] == "1"
        appConfig.benchRoutes = env["JINLIN_BENCH_ROUTES"] == "1"
        appConfig.trustProxy = trustProxy || env["JINLIN_TRUST_PROXY"] == "1"
        appConfig.serverTiming = serverTiming || env["JINLIN_SERVER_TIMING"] == "1"
        let database = try Application.openDatabase(appConfig, logger: logger)
        let app = try Application(configuration: appConfig, database: database, logger: logger)
        if let password = try app.createFirstAdminIfNeeded() {
            print("""
                首次启动：已创建系统管理员账号（请登录后立即修改密码，此密码只显示这一次）
                First start: created the administrator account. This password is shown only once.
                  username: admin
                  password: \(password)
                """)
        }

        var config = ServerConfiguration()
        config.host = host ?? env["JINLIN_HOST"] ?? "127.0.0.1"
        guard let p = port ?? env["JINLIN_PORT"].flatMap({ Int($0) }) ?? Optional(8080), (0...65535).contains(p) else {
            throw ValidationError("port must be 0…65535")
        }
        config.port = p
        if let loops = env["JINLIN_LOOPS"].flatMap({ Int($0) }), loops > 0 { config.loopCount = loops }
        let logSetting = accessLog ?? env["JINLIN_ACCESS_LOG"] ?? "-"
        var accessLogger: Logger?
        var accessLogFile: LogFile?
        switch logSetting {
        case "off": config.accessLog = false
        case "-": accessLogger = Logger(label: "access")
        default: accessLogFile = try LogFile(path: logSetting)
        }

        let server = try HTTPServer(configuration: config, handler: app.handler, logger: logger, accessLogger: accessLogger,
                                    accessLogFile: accessLogFile)
        try server.start()
        print("近邻 Jinlin listening on http://\(config.host):\(server.port)/")
        fflush(nil)

        var signalSources: [any DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { server.shutdown() }
            source.resume()
            signalSources.append(source)
        }
        server.waitUntilStopped()
        accessLogFile?.flush()
        logger.info("stopped")
        _ = signalSources
    }
}
