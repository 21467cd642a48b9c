import Access
import HTTPCore
import Views
import Web

/// One row of the route table: what the authorization matrix test enumerates.
public struct RouteEntry: Sendable, Hashable {
    public let method: HTTPMethod
    public let pattern: String
    public let permission: Permission
}

public typealias PageHandler = @Sendable (Context) throws -> HTTPResponse

/// Registers feature routes; each names the permission it needs, checked before the handler runs.
public struct AppRoutes: Sendable {
    public let env: AppEnvironment
    public private(set) var router: Router
    public private(set) var table: [RouteEntry] = []

    public init(env: AppEnvironment, router: Router = Router()) {
        self.env = env
        self.router = router
    }

    public mutating func get(_ pattern: String, _ permission: Permission, options: RouteOptions = RouteOptions(),
                             _ handler: @escaping PageHandler) {
        add(.get, pattern, permission, options: options, handler)
    }

    public mutating func post(_ pattern: String, _ permission: Permission, options: RouteOptions = RouteOptions(),
                              _ handler: @escaping PageHandler) {
        add(.post, pattern, permission, options: options, handler)
    }

    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ permission: Permission,
                             options: RouteOptions = RouteOptions(), _ handler: @escaping PageHandler) {
        table.append(RouteEntry(method: method, pattern: pattern, permission: permission))
        let env = self.env
        router.add(method, pattern, options: options) { request in
            let context = Context(request: request, env: env, session: request[SessionKey.self])
            switch Policy.decide(context.principal, permission) {
            case .allow:
                if let user = context.user, user.mustChangePassword, permission != .anonymous,
                   !Self.allowedWhilePasswordMustChange.contains(request.path) {
                    return context.redirect("/account/password", flash: .info("请先修改初始密码，然后继续使用系统。"))
                }
                do {
                    return try handler(context)
                } catch {
                    throw DomainErrors.mapped(error)
                }
            case .forbidden where context.user == nil:
                // Not signed in: go to the login page and come back afterwards.
                let back = request.method == .get ? request.http.head.target : "/"
                return context.redirect("/login?next=" + FormData.percentEncode(Context.safeLocalPath(back)))
            case .forbidden, .notFound:
                throw HTTPError(.forbidden)
            }
        }
    }

    static let allowedWhilePasswordMustChange: Set<String> = ["/account/password", "/logout"]

    /// Adds the middleware chain and error pages, and returns the router for the server.
    public func finish(fallback: @escaping Handler) -> Router {
        var router = self.router
        env.pages.set(table.filter { $0.method == .get }.map(\.pattern))
        router.middleware = (env.serverTiming ? [ServerTimingMiddleware()] : [])
            + [SecurityHeadersMiddleware(), SessionMiddleware(env: env), CSRFMiddleware(env: env)]
        router.fallback = fallback
        let env = self.env
        router.errorResponder = { request, error in
            ErrorPages.render(request: request, error: error, env: env)
        }
        router.logger = env.logger
        return router
    }
}

/// Chinese error pages in the layout, for every status a user can meet.
public enum ErrorPages {
    public static func render(request: Request, error: HTTPError, env: AppEnvironment) -> HTTPResponse {
        let context = Context(request: request, env: env, session: request[SessionKey.self])
        let code = error.status.code
        var data: [String: Any] = [
            "status": code, "errorTitle": ErrorPage.title(for: code), "errorMessage": ErrorPage.message(for: code),
        ]
        if let detail = error.message, !detail.isEmpty { data["detail"] = detail }
        var response: HTTPResponse
        do {
            response = try context.render("errors/error", title: ErrorPage.title(for: error.status.code), data, status: error.status)
        } catch {
            env.logger.error("error page failed to render: \(error)")
            response = .plain(.internalServerError, "服务器内部错误")
        }
        response.status = error.status
        for field in error.headers { response.headers.add(field.name, field.value) }
        return response
    }
}
