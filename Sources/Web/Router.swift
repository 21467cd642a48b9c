import Dispatch
import Logging
import HTTPCore

/// A request as handlers see it: the HTTP request, the route's parameters, and values that
/// middleware attached (the signed-in user, the session).
public struct Request: Sendable {
    public let http: HTTPRequest
    public internal(set) var parameters: [String: String] = [:]
    private var values: [ObjectIdentifier: any Sendable] = [:]

    public init(http: HTTPRequest) {
        self.http = http
    }

    public var method: HTTPMethod { http.head.method }
    public var path: String { http.head.path }
    public var headers: HTTPHeaders { http.head.headers }

    /// A route parameter such as `id` in `/residents/:id`.
    public func parameter(_ name: String) -> String? { parameters[name] }

    /// A route parameter that must be a positive integer id; otherwise a 404 (a malformed id
    /// names no record).
    public func id(_ name: String = "id") throws -> Int64 {
        guard let text = parameters[name], let value = Int64(text), value > 0 else {
            throw HTTPError(.notFound)
        }
        return value
    }

    public subscript<K: RequestKey>(key: K.Type) -> K.Value? {
        get { values[ObjectIdentifier(key)] as? K.Value }
        set { values[ObjectIdentifier(key)] = newValue }
    }
}

/// A typed slot in `Request` for values middleware attaches.
public protocol RequestKey {
    associatedtype Value: Sendable
}

/// An error a handler throws to answer with a status and a message for the user.
public struct HTTPError: Error, Sendable {
    public let status: HTTPStatus
    public let message: String?
    public var headers: HTTPHeaders

    public init(_ status: HTTPStatus, _ message: String? = nil, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.message = message
        self.headers = headers
    }
}

public typealias Handler = @Sendable (Request) throws -> HTTPResponse

/// Wraps every routed request; call `next` to go on down the chain.
public protocol Middleware: Sendable {
    func respond(to request: Request, next: (Request) throws -> HTTPResponse) throws -> HTTPResponse
}

public struct RouteOptions: Sendable {
    /// Largest accepted body; nil means the router's default.
    public var bodyLimit: Int?
    /// Run on a worker queue: for handlers that block (password hashing, exports, imports),
    /// so they do not hold up the connections sharing the caller's queue.
    public var offload: Bool

    public init(bodyLimit: Int? = nil, offload: Bool = false) {
        self.bodyLimit = bodyLimit
        self.offload = offload
    }
}

public struct Route: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    public let method: HTTPMethod
    public let pattern: String
    public let options: RouteOptions
    let segments: [Segment]
    let handler: Handler

    func match(_ path: [Substring]) -> [String: String]? {
        guard path.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, path) {
            switch segment {
            case .literal(let text):
                guard part == text else { return nil }
            case .parameter(let name):
                guard !part.isEmpty else { return nil }
                parameters[name] = String(part)
            }
        }
        return parameters
    }
}

/// Method + path pattern routing (`/residents/:id/edit`), a middleware chain, 404 and 405.
public struct Router: Sendable {
    public private(set) var routes: [Route] = []
    public var middleware: [any Middleware] = []
    /// Answers requests no route matches (static files, then 404).
    public var fallback: Handler = { _ in throw HTTPError(.notFound) }
    /// Turns a thrown error into a page; the application supplies its templated error pages.
    public var errorResponder: @Sendable (Request, HTTPError) -> HTTPResponse = { _, error in
        var response = HTTPResponse.plain(error.status, error.message)
        for field in error.headers { response.headers.add(field.name, field.value) }
        return response
    }
    public var defaultBodyLimit = 64 * 1024
    public var logger = Logger(label: "jinlin.router")

    private var literalRoutes: [String: [Int]] = [:]

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ pattern: String, options: RouteOptions = RouteOptions(),
                             _ handler: @escaping Handler) {
        let segments: [Route.Segment] = pattern.split(separator: "/").map {
            $0.hasPrefix(":") ? .parameter(String($0.dropFirst())) : .literal(String($0))
        }
        routes.append(Route(method: method, pattern: pattern, options: options, segments: segments, handler: handler))
        if !segments.contains(where: { if case .parameter = $0 { return true } else { return false } }) {
            literalRoutes["/" + segments.map { if case .literal(let t) = $0 { return t } else { return "" } }.joined(separator: "/"), default: []]
                .append(routes.count - 1)
        }
    }

    public mutating func get(_ pattern: String, options: RouteOptions = RouteOptions(), _ handler: @escaping Handler) {
        add(.get, pattern, options: options, handler)
    }

    public mutating func post(_ pattern: String, options: RouteOptions = RouteOptions(), _ handler: @escaping Handler) {
        add(.post, pattern, options: options, handler)
    }

    enum Resolution {
        case found(Route, [String: String])
        case methodNotAllowed([HTTPMethod])
        case notFound
    }

    /// Finds the route for a method and an encoded path. HEAD falls back to GET.
    func resolve(_ method: HTTPMethod, _ encodedPath: String) -> Resolution {
        var candidates: [(Route, [String: String])] = []
        if let indexes = literalRoutes[normalizedLiteral(encodedPath)] {
            candidates = indexes.map { (routes[$0], [:]) }
        }
        if candidates.isEmpty {
            let parts = decodedSegments(encodedPath)
            for route in routes {
                if let parameters = route.match(parts) { candidates.append((route, parameters)) }
            }
        }
        if candidates.isEmpty { return .notFound }
        if let hit = candidates.first(where: { $0.0.method == method }) { return .found(hit.0, hit.1) }
        if method == .head, let hit = candidates.first(where: { $0.0.method == .get }) { return .found(hit.0, hit.1) }
        var allowed: [HTTPMethod] = []
        for (route, _) in candidates where !allowed.contains(route.method) { allowed.append(route.method) }
        if allowed.contains(.get) && !allowed.contains(.head) { allowed.append(.head) }
        return .methodNotAllowed(allowed)
    }

    private func normalizedLiteral(_ path: String) -> String {
        if path.utf8.contains(37) { // "%": decode before comparing
            return "/" + decodedSegments(path).joined(separator: "/")
        }
        if path.count > 1 && path.hasSuffix("/") { return String(path.dropLast()) }
        return path
    }

    private func decodedSegments(_ path: String) -> [Substring] {
        path.split(separator: "/").map { part in
            guard part.utf8.contains(37), let decoded = percentDecoded(part) else { return part }
            return Substring(decoded)
        }
    }
}

/// Percent-decodes a path segment; nil for malformed escapes or invalid UTF-8.
func percentDecoded(_ text: Substring) -> String? {
    var bytes: [UInt8] = []
    var iterator = Array(text.utf8)[...]
    while let b = iterator.popFirst() {
        if b == 37 {
            guard let h = iterator.popFirst(), let l = iterator.popFirst(),
                  let hv = hexNibble(h), let lv = hexNibble(l) else { return nil }
            bytes.append(hv << 4 | lv)
        } else {
            bytes.append(b)
        }
    }
    return String(validating: bytes, as: UTF8.self)
}

private func hexNibble(_ b: UInt8) -> UInt8? {
    switch b {
    case 48...57: return b - 48
    case 65...70: return b - 55
    case 97...102: return b - 87
    default: return nil
    }
}

/// The router as the server's application side.
public final class RouterHandler: HTTPHandler {
    public let router: Router

    public init(router: Router) {
        self.router = router
    }

    public func bodyPolicy(for head: HTTPRequestHead) -> HTTPBodyPolicy {
        if case .found(let route, _) = router.resolve(head.method, head.path) {
            return .accept(maxBytes: route.options.bodyLimit ?? router.defaultBodyLimit)
        }
        return .accept(maxBytes: router.defaultBodyLimit)
    }

    public func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let resolution = router.resolve(request.head.method, request.head.path)
        var routed = Request(http: request)
        let endpoint: Handler
        var offload = false
        switch resolution {
        case .found(let route, let parameters):
            routed.parameters = parameters
            endpoint = route.handler
            offload = route.options.offload
        case .methodNotAllowed(let allowed):
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            endpoint = { _ in throw HTTPError(.methodNotAllowed, nil, headers: HTTPHeaders([("Allow", allow)])) }
        case .notFound:
            endpoint = router.fallback
        }
        if offload {
            let router = self.router
            let request = routed
            WorkerPool.shared.run { respond(Self.run(router, request, endpoint)) }
        } else {
            respond(Self.run(router, routed, endpoint))
        }
    }

    static func run(_ router: Router, _ request: Request, _ endpoint: @escaping Handler) -> HTTPResponse {
        // Each layer sees a response, never an error, so middleware that adds headers or
        // records something after `next` also does so for error pages.
        func guarded(_ handler: @escaping Handler) -> Handler {
            { request in
                do {
                    return try handler(request)
                } catch let error as HTTPError {
                    return router.errorResponder(request, error)
                } catch {
                    router.logger.error("\(request.method) \(request.path) failed: \(error)")
                    return router.errorResponder(request, HTTPError(.internalServerError))
                }
            }
        }
        var chain = guarded(endpoint)
        for middleware in router.middleware.reversed() {
            let next = chain
            chain = guarded { request in try middleware.respond(to: request, next: next) }
        }
        return (try? chain(request)) ?? HTTPResponse.plain(.internalServerError)
    }
}
