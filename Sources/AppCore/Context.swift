import Access
import Foundation
import HTTPCore
import Security
import Storage
import Views
import Web

/// What a feature's handler works with: the request, the signed-in account, and helpers to
/// read forms, render pages and redirect.
public struct Context: Sendable {
    public let request: Request
    public let env: AppEnvironment
    public let session: ActiveSession?

    public var user: User? { session?.user }
    public var principal: Principal? { session?.user.principal }
    /// The part of the grid tree this request may see; `Scope.nothing` without a principal.
    public var scope: Scope { principal?.scope ?? .nothing }
    public var database: AppDatabase { env.database }
    /// The application's clock (`Clock`): every "now" of a handler.
    public var clock: Clock { env.clock }

    /// The signed-in account; routes that need one are only reached with one.
    public func requireUser() throws -> User {
        guard let user else { throw HTTPError(.forbidden) }
        return user
    }

    /// Who the audit log names for changes made in this request.
    public var actor: AuditActor {
        AuditActor(userID: user?.id, name: user.map { "\($0.displayName)（\($0.username)）" } ?? "匿名", ip: clientAddress)
    }

    /// The client's address: the peer's, or behind a trusted reverse proxy on this machine, the
    /// last address the proxy appended to X-Forwarded-For.
    public var clientAddress: String {
        let peer = request.http.remoteAddress
        guard env.trustProxy, peer == "127.0.0.1" || peer == "::1",
              let forwarded = request.headers.values("x-forwarded-for").last?.split(separator: ",").last else { return peer }
        let address = forwarded.trimmingCharacters(in: .whitespaces)
        return address.isEmpty || address.count > 45 ? peer : address
    }

    public var query: FormData { FormData(query: request.http.head.query) }

    /// The submitted urlencoded form (parsed once, by the CSRF check).
    public var form: FormData { request[FormKey.self] ?? FormData(urlEncoded: request.http.body.inlineBytes) }

    /// A submitted field (of a multipart upload, else of the urlencoded form), trimmed and cut to
    /// `max` characters: what every form handler stores.
    public func text(_ name: String, max: Int = 200) -> String {
        let raw = multipart?.fields[name] ?? form[name] ?? ""
        return String(raw.trimmingCharacters(in: .whitespacesAndNewlines).prefix(max))
    }

    /// The submitted multipart form, for uploads; its files are removed after the handler returns.
    public var multipart: MultipartForm? { request[MultipartKey.self] }

    /// The token forms must carry: the session's, or before sign-in the double-submit cookie's.
    public var csrfToken: String {
        session?.csrfToken ?? request.http.cookies[CookieName.preSessionCSRF] ?? ""
    }

    /// Checks the policy for an action on a target in the grid tree: 403 for a role that may
    /// not, 404 for a target outside the account's scope.
    public func authorize(_ permission: Permission, gridPath: String? = nil) throws {
        switch Policy.decide(principal, permission, targetGridPath: gridPath) {
        case .allow: return
        case .forbidden: throw HTTPError(.forbidden)
        case .notFound: throw HTTPError(.notFound)
        }
    }

    public func may(_ permission: Permission) -> Bool {
        Policy.decide(principal, permission) == .allow
    }

    /// The account's scope as an SQL condition on a grid-path column.
    public func scopeCondition(on column: String) -> (sql: String, arguments: [String]) {
        scope.condition(on: column)
    }

    /// Runs `body` as `phase` of the request's Server-Timing (see `RequestTiming`).
    public func timed<T>(_ phase: RequestTiming.Phase, _ body: () throws -> T) rethrows -> T {
        try request.timed(phase, body)
    }

    // MARK: - Responses

    /// Renders a page inside the layout.
    public func render(_ template: String, title: String, _ data: [String: Any] = [:], status: HTTPStatus = .ok) throws -> HTTPResponse {
        var page = PageContext(title: title, path: request.path, csrfToken: data["csrfToken"] as? String ?? csrfToken)
        if let user {
            let unread = (try? database.read { db in try Notifications.unreadCount(db, userID: user.id) }) ?? 0
            page.user = PageUser(displayName: user.displayName, roleName: user.role.displayName, unreadNotifications: unread)
            page.navItems = env.modules.navigation.filter { may($0.permission) }.map { ($0.title, $0.path) }
        }
        let flash = Flashes.read(request)
        page.flashes = flash.map { [$0] } ?? []
        let context = page.merging(data)
        let html = try request.timed(.render) { try env.templates.renderBytes(context, template: template) }
        var response = HTTPResponse(status: status, contentType: "text/html; charset=utf-8", body: html)
        if flash != nil { response.headers.add("Set-Cookie", SetCookie.expired(name: CookieName.flash, secure: env.secureCookies).headerValue) }
        return response
    }

    /// The CSRF token of a form shown before sign-in (login, registration): a double-submit
    /// cookie, and the cookie to set when the browser has none yet.
    public func preSessionCSRF() -> (token: String, cookie: SetCookie?) {
        let token = request.http.cookies[CookieName.preSessionCSRF] ?? ""
        if token.count >= 32 { return (token, nil) }
        let fresh = randomToken()
        var cookie = SetCookie(name: CookieName.preSessionCSRF, value: fresh)
        cookie.sameSite = .strict
        cookie.secure = env.secureCookies
        return (fresh, cookie)
    }

    /// 303 to `location` (a local path), with a message for the next page.
    public func redirect(_ location: String, flash: Flash? = nil) -> HTTPResponse {
        var response = HTTPResponse(status: .seeOther)
        response.headers.add("Location", Self.safeLocalPath(location))
        if let flash { response.headers.add("Set-Cookie", Flashes.cookie(flash, secure: env.secureCookies).headerValue) }
        return response
    }

    /// Only same-site paths: `next=` parameters must not send people elsewhere. A path must
    /// start with one `/` and hold no control character, backslash or `//` anywhere, also once
    /// percent-decoded (browsers drop tabs and newlines inside URLs, and read `\` as `/`, so
    /// `/\t/evil.example` would leave the site).
    public static func safeLocalPath(_ path: String) -> String {
        isSafeLocalPath(path) && isSafeLocalPath(FormData.percentDecode(path) ?? "//") ? path : "/"
    }

    static func isSafeLocalPath(_ path: String) -> Bool {
        guard path.utf8.first == UInt8(ascii: "/"), !path.contains("//") else { return false }
        return !path.utf8.contains { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }
            && !path.unicodeScalars.contains { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }
    }

    /// Where to go after signing in: `next` when it is a safe local path to a page that exists,
    /// otherwise the dashboard.
    public func pageAfterSignIn(_ next: String?) -> String {
        guard let next else { return "/" }
        let safe = Self.safeLocalPath(next)
        let path = String(safe.prefix { $0 != "?" && $0 != "#" })
        guard safe != "/", path != "/login", env.pages.contains(path) else { return "/" }
        return safe
    }
}

/// The paths of the pages (GET routes), filled once when the routes are finished: a `next=`
/// parameter may only name one of them.
public final class PageIndex: @unchecked Sendable {
    private let lock = NSLock()
    private var patterns: [[Substring]] = []

    public init() {}

    func set(_ patterns: [String]) {
        lock.withLock { self.patterns = patterns.map { $0.split(separator: "/") } }
    }

    /// Whether a GET route matches `path` (`:name` segments match any one segment).
    public func contains(_ path: String) -> Bool {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        let parts = segments.last == "" ? Array(segments.dropLast()) : Array(segments)
        return lock.withLock {
            patterns.contains { pattern in
                pattern.count == parts.count && zip(pattern, parts).allSatisfy { $0.hasPrefix(":") ? !$1.isEmpty : $0 == $1 }
            }
        }
    }
}

/// One-time messages carried to the next page in a short-lived cookie.
enum Flashes {
    static func cookie(_ flash: Flash, secure: Bool) -> SetCookie {
        var cookie = SetCookie(name: CookieName.flash, value: flash.kind.rawValue + ":" + FormData.percentEncode(flash.text))
        cookie.maxAge = 60
        cookie.secure = secure
        return cookie
    }

    static func read(_ request: Request) -> Flash? {
        guard let raw = request.http.cookies[CookieName.flash], let colon = raw.firstIndex(of: ":"),
              let kind = Flash.Kind(rawValue: String(raw[..<colon])),
              let text = FormData.percentDecode(raw[raw.index(after: colon)...]), !text.isEmpty else { return nil }
        return Flash(kind, String(text.prefix(300)))
    }
}
