import Foundation
import HTTPCore
import Security
import Web

enum SessionKey: RequestKey { typealias Value = ActiveSession }
enum FormKey: RequestKey { typealias Value = FormData }
enum MultipartKey: RequestKey { typealias Value = MultipartForm }

/// Finds the session named by the cookie and attaches it to the request.
struct SessionMiddleware: Middleware {
    let env: AppEnvironment

    func respond(to request: Request, next: (Request) throws -> HTTPResponse) throws -> HTTPResponse {
        guard let token = request.http.cookies[CookieName.session],
              let session = try request.timed(.session, { try env.sessions.find(token: token) }) else {
            return try next(request)
        }
        var request = request
        request[SessionKey.self] = session
        return try next(request)
    }
}

/// Every state-changing request must carry the form's `_csrf` token: the session's, or before
/// sign-in the double-submit cookie's. Bodies are parsed here once and kept for the handler.
struct CSRFMiddleware: Middleware {
    let env: AppEnvironment
    static let stateChanging: Set<HTTPMethod> = [.post, .put, .patch, .delete]

    /// The route's body limit already bounded the whole upload before it was read; a file part
    /// may be as large as the body that carried it.
    static func multipartLimits(for body: HTTPBody) -> MultipartLimits {
        let defaults = MultipartLimits()
        return MultipartLimits(maxPartBytes: max(defaults.maxPartBytes, body.count),
                               maxTotalBytes: max(defaults.maxTotalBytes, body.count))
    }

    func respond(to request: Request, next: (Request) throws -> HTTPResponse) throws -> HTTPResponse {
        // The methods that change state; anything else (GET, HEAD, OPTIONS, unknown methods)
        // goes on to the router, which answers 405 for what it does not serve.
        guard Self.stateChanging.contains(request.method) else {
            // A query with invalid UTF-8 (a search box) is refused like a form.
            let query = request.http.head.query
            if query.utf8.contains(UInt8(ascii: "%")), FormData(query: query).hasInvalidUTF8 {
                throw HTTPError(.badRequest, FormData.invalidUTF8Message)
            }
            return try next(request)
        }
        var request = request
        let rawType = request.headers["content-type"] ?? ""
        let contentType = rawType.lowercased()
        var submitted: String?
        var multipart: MultipartForm?
        if contentType.hasPrefix("multipart/form-data") {
            do {
                let form = try MultipartParser.parse(body: request.http.body, contentType: rawType, limits: Self.multipartLimits(for: request.http.body))
                multipart = form
                submitted = form.fields["_csrf"]
                request[MultipartKey.self] = form
            } catch {
                throw HTTPError(error.status, error.message)
            }
        } else {
            let form = FormData(urlEncoded: request.http.body.inlineBytes)
            if form.hasInvalidUTF8 { throw HTTPError(.badRequest, FormData.invalidUTF8Message) }
            submitted = form["_csrf"]
            request[FormKey.self] = form
        }
        let expected = request[SessionKey.self]?.csrfToken ?? request.http.cookies[CookieName.preSessionCSRF]
        guard let submitted, let expected, !expected.isEmpty, constantTimeEquals(submitted, expected) else {
            multipart?.removeFiles()
            throw HTTPError(.forbidden, "表单已过期或来源不明（CSRF 校验失败），请返回刷新页面后重试。")
        }
        defer { multipart?.removeFiles() }
        return try next(request)
    }
}

/// Security headers on every response (DESIGN.md "Data safety").
struct SecurityHeadersMiddleware: Middleware {
    func respond(to request: Request, next: (Request) throws -> HTTPResponse) throws -> HTTPResponse {
        var response = try next(request)
        let hasCacheControl = response.headers.contains("cache-control")
        response.headers.add(contentsOf: Self.fields)
        if !hasCacheControl {
            // Pages carry personal data: never keep them in shared caches.
            response.headers.add("Cache-Control", "no-store")
        }
        return response
    }

    static let fields = [
        HTTPHeaders.Field(name: "Content-Security-Policy",
                          value: "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
        HTTPHeaders.Field(name: "X-Content-Type-Options", value: "nosniff"),
        HTTPHeaders.Field(name: "X-Frame-Options", value: "DENY"),
        HTTPHeaders.Field(name: "Referrer-Policy", value: "same-origin"),
    ]
}

extension HTTPBody {
    /// The body when it is in memory; form posts are small and never spooled.
    var inlineBytes: [UInt8] {
        if case .bytes(let bytes) = self { return bytes }
        return []
    }
}
