import Foundation
import HTTPCore
import Logging
import Web

/// The composition root: builds every feature's routes into one router.
public final class Application: Sendable {
    public let configuration: AppConfiguration
    public let handler: RouterHandler

    public init(configuration: AppConfiguration, logger: Logger) throws {
        self.configuration = configuration
        var router = Router()
        router.logger = logger
        router.get("/healthz") { _ in
            HTTPResponse(text: "ok")
        }
        let files = StaticFiles(root: configuration.publicDirectory.path, logger: logger)
        router.fallback = { request in
            guard let response = files.response(for: request.http) else { throw HTTPError(.notFound) }
            return response
        }
        self.handler = RouterHandler(router: router)
    }
}
