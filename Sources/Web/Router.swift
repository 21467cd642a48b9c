import Dispatch
import Logging
import HTTPCore
import Synchronization

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

    /// A route parameter that must be a positive integer id in canonical decimal form (no sign,
    /// no leading zero: `/residents/01` and `/residents/+1` name no record); otherwise a 404.
    public func id(_ name: String = "id") throws -> Int64 {
        guard let text = parameters[name], let value = canonicalID(text) else { throw HTTPError(.notFound) }
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

/// Where a route's handler runs. The server's event loops must never wait on a handler that
/// blocks, so by default a handler runs on the worker pool (`WorkerPool.shared`) and hands its
/// response back to the loop. A GET or HEAD handler that has answered within
/// `HandlerTiming.budget` `HandlerTiming.trustAfter` times in a row runs on the loop itself,
/// saving two thread hand-overs, until one run takes longer: then it goes back to the pool.
public struct RouteOptions: Sendable {
    /// Largest accepted body; nil means the router's default.
    public var bodyLimit: Int?
    /// Always on the worker pool: for handlers known to take long (password hashing, exports,
    /// imports), which never earn the loop.
    public var offload: Bool
    /// Always on the loop: for handlers that never wait (a cached health check).
    public var inline: Bool

    public init(bodyLimit: Int? = nil, offload: Bool = false, inline: Bool = false) {
        self.bodyLimit = bodyLimit
        self.offload = offload
        self.inline = inline
    }
}

/// How a route's handler has been answering lately: decides whether its next GET runs on the
/// event loop (see `RouteOptions`).
public final class HandlerTiming: Sendable {
    /// A run longer than this (nanoseconds) sends the route back to the worker pool.
    public static let budget: UInt64 = 2_000_000
    /// Quick runs in a row before a route runs on the loop.
    public static let trustAfter = 16
    private let quickRuns = Atomic<Int>(0)

    public init() {}

    public var trusted: Bool { quickRuns.load(ordering: .relaxed) >= Self.trustAfter }

    public func record(nanoseconds: UInt64) {
        if nanoseconds > Self.budget {
            quickRuns.store(0, ordering: .relaxed)
        } else if quickRuns.load(ordering: .relaxed) < Self.trustAfter {
            quickRuns.add(1, ordering: .relaxed)
        }
    }
}

/// A class: resolving a request hands its route around, which should cost one retain.
public final class Route: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    public let method: HTTPMethod
    public let pattern: String
    public let options: RouteOptions
    let segments: [Segment]
    let handler: Handler
    public let timing = HandlerTiming()

    init(method: HTTPMethod, pattern: String, options: RouteOptions, segments: [Segment], handler: @escaping Handler) {
        self.method = method
        self.pattern = pattern
        self.options = options
        self.segments = segments
        self.handler = handler
    }

    /// The timing a request of this method learns from: only GET and HEAD of a route that is
    /// neither always offloaded nor always inline can earn the loop.
    public func timing(for method: HTTPMethod) -> HandlerTiming? {
        options.offload || options.inline || (method != .get && method != .head) ? nil : timing
    }

    /// Whether this request of the route runs on the worker pool.
    public func runsOnPool(_ method: HTTPMethod) -> Bool {
        if options.inline { return false }
        return !(timing(for: method)?.trusted ?? false)
    }

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
    public var defaultBodyLimit = HTTPParserLimits.defaultBodyLimit
    public var logger = Logger(label: "jinlin.router")

    private var literalRoutes: [String: [Int]] = [:]
    /// The indexes of routes with parameters, by segment count: a pattern only matches paths with
    /// as many segments, and a path that no literal route takes (static files, 404s) can only be
    /// matched by a pattern with parameters.
    private var routesBySegmentCount: [Int: [Int]] = [:]

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ pattern: String, options: RouteOptions = RouteOptions(),
                             _ handler: @escaping Handler) {
        let segments: [Route.Segment] = pattern.split(separator: "/").map {
            $0.hasPrefix(":") ? .parameter(String($0.dropFirst())) : .literal(String($0))
        }
        routes.append(Route(method: method, pattern: pattern, options: options, segments: segments, handler: handler))
        if segments.contains(where: { if case .parameter = $0 { return true } else { return false } }) {
            routesBySegmentCount[segments.count, default: []].append(routes.count - 1)
        } else {
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
    ///
    /// The candidates are the literal routes registered for the path if there are any, else every
    /// route whose pattern matches it; among them the first with the method wins. This runs on
    /// every request, so the candidates are walked in place rather than collected in an array.
    func resolve(_ method: HTTPMethod, _ encodedPath: String) -> Resolution {
        if let indexes = literalRoutes[normalizedLiteral(encodedPath)], !indexes.isEmpty {
            return choose(method, count: indexes.count) { (routes[indexes[$0]], [:]) }
        }
        // Count the segments before splitting: most paths that reach this point (static files)
        // have no route of their length at all.
        guard let indexes = routesBySegmentCount[segmentCount(encodedPath)] else { return .notFound }
        let parts = decodedSegments(encodedPath)
        var candidates: [(Route, [String: String])] = []
        for index in indexes {
            if let parameters = routes[index].match(parts) { candidates.append((routes[index], parameters)) }
        }
        if candidates.isEmpty { return .notFound }
        return choose(method, count: candidates.count) { candidates[$0] }
    }

    /// Picks among `count` candidates, the `i`th given by `candidate(i)`: a non-escaping closure,
    /// so walking the literal routes in place allocates nothing.
    private func choose(_ method: HTTPMethod, count: Int, _ candidate: (Int) -> (Route, [String: String])) -> Resolution {
        for i in 0..<count where candidate(i).0.method == method {
            let hit = candidate(i)
            return .found(hit.0, hit.1)
        }
        if method == .head {
            for i in 0..<count where candidate(i).0.method == .get {
                let hit = candidate(i)
                return .found(hit.0, hit.1)
            }
        }
        var allowed: [HTTPMethod] = []
        for i in 0..<count where !allowed.contains(candidate(i).0.method) { allowed.append(candidate(i).0.method) }
        if allowed.contains(.get) && !allowed.contains(.head) { allowed.append(.head) }
        return .methodNotAllowed(allowed)
    }

    private func normalizedLiteral(_ path: String) -> String {
        // "%": decode before comparing; "//": drop the empty segment, as pattern matching does.
        if containsByte(path, 37) || containsEmptySegment(path) {
            return "/" + decodedSegments(path).joined(separator: "/")
        }
        // Byte counts, not `path.count` (which walks grapheme clusters): "/" is one byte.
        if path.utf8.count > 1 && path.utf8.last == 47 { return String(path.dropLast()) }
        return path
    }

    private func decodedSegments(_ path: String) -> [Substring] {
        splitSegments(path).map { part in
            guard containsByte(part, 37), let decoded = percentDecoded(part) else { return part }
            return Substring(decoded)
        }
    }
}

/// The non-empty "/"-separated segments of a path, as `path.split(separator: "/")` gives them.
/// An ASCII path (every path the parser produces) is split on its bytes, which is the same
/// split without the grapheme-cluster walk of a Character split.
func splitSegments(_ path: String) -> [Substring] {
    var copy = path
    let ascii = copy.withUTF8 { bytes in bytes.allSatisfy { $0 < 128 } }
    guard ascii else { return path.split(separator: "/") }
    return path.utf8.split(separator: 47).map { Substring($0) }
}

/// How many segments `splitSegments` would return, without building them.
func segmentCount(_ path: String) -> Int {
    var copy = path
    return copy.withUTF8 { bytes in
        var count = 0
        var inSegment = false
        for b in bytes {
            if b == 47 {
                inSegment = false
            } else if !inSegment {
                inSegment = true
                count += 1
            }
        }
        return count
    }
}

/// Whether the path has "//" somewhere.
func containsEmptySegment(_ path: String) -> Bool {
    var copy = path
    return copy.withUTF8 { bytes in
        var previous: UInt8 = 0
        for b in bytes {
            if b == 47 && previous == 47 { return true }
            previous = b
        }
        return false
    }
}

/// Whether the string's UTF-8 contains `byte`, scanning contiguous memory.
func containsByte<S: StringProtocol>(_ text: S, _ byte: UInt8) -> Bool {
    if let found = text.utf8.withContiguousStorageIfAvailable({ $0.contains(byte) }) { return found }
    return text.utf8.contains(byte)
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
        // Without a body the limit is never consulted, so skip the route look-up (`handle` does
        // it anyway): most requests are GETs without a body.
        if head.framing == .none { return .accept(maxBytes: router.defaultBodyLimit) }
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
        var timing: HandlerTiming?
        switch resolution {
        case .found(let route, let parameters):
            routed.parameters = parameters
            endpoint = route.handler
            offload = route.runsOnPool(request.head.method)
            timing = route.timing(for: request.head.method)
        case .methodNotAllowed(let allowed):
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            endpoint = { _ in throw HTTPError(.methodNotAllowed, nil, headers: HTTPHeaders([("Allow", allow)])) }
        case .notFound:
            endpoint = router.fallback
        }
        if offload {
            let router = self.router
            let request = routed, learning = timing
            WorkerPool.shared.run { respond(Self.timed(learning, router, request, endpoint)) }
        } else {
            respond(Self.timed(timing, router, routed, endpoint))
        }
    }

    /// Runs the chain, recording how long it took in the route's timing (if it learns).
    static func timed(_ timing: HandlerTiming?, _ router: Router, _ request: Request, _ endpoint: Handler) -> HTTPResponse {
        guard let timing else { return run(router, request, endpoint) }
        let start = DispatchTime.now().uptimeNanoseconds
        let response = run(router, request, endpoint)
        timing.record(nanoseconds: DispatchTime.now().uptimeNanoseconds &- start)
        return response
    }

    static func run(_ router: Router, _ request: Request, _ endpoint: Handler) -> HTTPResponse {
        layer(0, router, request, endpoint)
    }

    /// Layer `index` of the chain: `router.middleware[index]`, or the endpoint past the last one.
    /// Each layer sees a response, never an error, so middleware that adds headers or records
    /// something after `next` also does so for error pages. The chain is walked by recursion
    /// with a non-escaping `next`, so a request allocates no closures for it.
    private static func layer(_ index: Int, _ router: Router, _ request: Request, _ endpoint: Handler) -> HTTPResponse {
        do {
            if index >= router.middleware.count { return try endpoint(request) }
            return try router.middleware[index].respond(to: request) { next in
                layer(index + 1, router, next, endpoint)
            }
        } catch let error as HTTPError {
            return router.errorResponder(request, error)
        } catch {
            router.logger.error("\(request.method) \(request.path) failed: \(error)")
            return router.errorResponder(request, HTTPError(.internalServerError))
        }
    }
}

/// A positive id written canonically: digits only, the first not 0, no more than fits.
public func canonicalID(_ text: some StringProtocol) -> Int64? {
    let bytes = text.utf8
    guard let first = bytes.first, first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9"), bytes.count <= 19,
          bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
    return Int64(text)
}
