#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HTTPCore
import HTTPServer
import HTTPTestSupport
import Logging
import Web

/// Starts a server on a free port with the given routes; stops it when the test ends.
final class TestServer {
    let server: HTTPServer
    var port: Int { server.port }

    init(configure: (inout ServerConfiguration) -> Void = { _ in }, accessLogFile: LogFile? = nil,
         routes: (inout Router) -> Void) throws {
        var config = ServerConfiguration()
        config.port = 0
        config.loopCount = 2
        config.accessLog = false
        configure(&config)
        var router = Router()
        routes(&router)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        server = try HTTPServer(configuration: config, handler: RouterHandler(router: router), logger: logger,
                                accessLogFile: accessLogFile)
        try server.start()
    }

    func client() throws -> RawClient { try RawClient(port: port) }

    func stop() {
        server.shutdown()
        server.waitUntilStopped()
    }

    deinit { stop() }
}

