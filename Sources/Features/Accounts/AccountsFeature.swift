import Access
import AppCore
import Foundation
import HTTPCore
import Security
import Storage
import Views
import Web

/// Sign-in, sign-out and changing one's own password.
public enum AccountsFeature {
    public static let module = Module(
        name: "accounts", routes: register, permissions: [.anonymous, .signedIn],
        auditLabels: [("session.login", "登录"), ("session.logout", "退出"),
                      ("user.change_password", "修改密码")],
        shortcuts: [("修改密码", path: "/account/password", note: "定期更换密码更安全", order: 90, permission: .signedIn)],
        matrix: [
            "GET /login": nil,
            "POST /login": nil,
            "POST /logout": Set(Role.allCases),
            "GET /account/password": Set(Role.allCases),
            "POST /account/password": Set(Role.allCases),
        ])

    public static func register(_ routes: inout AppRoutes) {
        routes.get("/login", .anonymous) { ctx in try loginPage(ctx) }
        // Password hashing takes ~70 ms of CPU: keep it off the connection queues.
        routes.post("/login", .anonymous, options: RouteOptions(offload: true)) { ctx in try login(ctx) }
        routes.post("/logout", .signedIn) { ctx in try logout(ctx) }
        routes.get("/account/password", .signedIn) { ctx in try passwordPage(ctx, FormState()) }
        routes.post("/account/password", .signedIn, options: RouteOptions(offload: true)) { ctx in try changePassword(ctx) }
    }

    // MARK: - Sign in

    static func loginPage(_ ctx: Context, form: FormState = FormState(), error: String? = nil,
                          status: HTTPStatus = .ok) throws -> HTTPResponse {
        if ctx.user != nil && error == nil { return ctx.redirect("/") }
        let (token, newCookie) = ctx.preSessionCSRF()
        var data = form.context()
        data["csrfToken"] = token
        data["next"] = ctx.pageAfterSignIn(ctx.query["next"] ?? form.value("next"))
        if let error { data["error"] = error }
        var response = try ctx.render("login", title: "登录", data, status: status)
        if let newCookie { response.headers.add("Set-Cookie", newCookie.headerValue) }
        return response
    }

    static func login(_ ctx: Context) throws -> HTTPResponse {
        let form = ctx.form
        let username = (form["username"] ?? "").trimmingCharacters(in: .whitespaces)
        let password = form["password"] ?? ""
        var state = FormState(values: ["username": username, "next": form["next"] ?? ""])
        if username.isEmpty { state.addError("请输入用户名", for: "username") }
        if password.isEmpty { state.addError("请输入密码", for: "password") }
        if state.hasErrors { return try loginPage(ctx, form: state, status: .unprocessableContent) }

        let ip = ctx.clientAddress
        let attemptID: Int64
        switch try ctx.env.throttle.admit(username: username, ip: ip) {
        case .admitted(let id): attemptID = id
        case .blocked(let seconds):
            let wait = seconds < 60 ? "\(seconds) 秒" : "\((seconds + 59) / 60) 分钟"
            var response = try loginPage(ctx, form: state, error: "登录失败次数过多，已暂时锁定。请 \(wait)后再试，或联系系统管理员解除锁定。",
                                         status: .tooManyRequests)
            response.headers.add("Retry-After", String(seconds))
            return response
        }
        guard let user = try ctx.env.users.authenticate(username: username, password: password) else {
            return try loginPage(ctx, form: state, error: "用户名或密码不正确，或账号已停用。", status: .unprocessableContent)
        }
        try ctx.env.throttle.succeeded(attemptID, username: username, ip: ip)
        // Signing in as someone else in the same browser ends the session it had.
        if let previous = ctx.session {
            try ctx.env.sessions.delete(tokenHash: previous.tokenHash, user: previous.user, by: ctx.actor)
        }
        let actor = AuditActor(userID: user.id, name: "\(user.displayName)（\(user.username)）", ip: ip)
        let (token, _) = try ctx.env.sessions.create(for: user, userAgent: ctx.request.headers["user-agent"], ip: ip, by: actor)

        var response = ctx.redirect(user.mustChangePassword ? "/account/password" : ctx.pageAfterSignIn(form["next"]))
        var cookie = SetCookie(name: CookieName.session, value: token)
        cookie.maxAge = Int(ctx.env.sessions.absoluteTimeout)
        cookie.secure = ctx.env.secureCookies
        response.headers.add("Set-Cookie", cookie.headerValue)
        response.headers.add("Set-Cookie", SetCookie.expired(name: CookieName.preSessionCSRF, secure: ctx.env.secureCookies).headerValue)
        return response
    }

    static func logout(_ ctx: Context) throws -> HTTPResponse {
        if let session = ctx.session {
            try ctx.env.sessions.delete(tokenHash: session.tokenHash, user: session.user, by: ctx.actor)
        }
        var response = ctx.redirect("/login", flash: .success("您已安全退出。"))
        response.headers.add("Set-Cookie", SetCookie.expired(name: CookieName.session, secure: ctx.env.secureCookies).headerValue)
        return response
    }

    // MARK: - Own password

    static func passwordPage(_ ctx: Context, _ form: FormState, status: HTTPStatus = .ok) throws -> HTTPResponse {
        var data = form.context()
        data["mustChange"] = ctx.user?.mustChangePassword ?? false
        data["minLength"] = UserStore.minimumPasswordLength
        return try ctx.render("accounts/password", title: "修改密码", data, status: status)
    }

    static func changePassword(_ ctx: Context) throws -> HTTPResponse {
        let user = try ctx.requireUser()
        let form = ctx.form
        let current = form["current_password"] ?? ""
        let new = form["new_password"] ?? ""
        var state = FormState()
        if current.isEmpty { state.addError("请输入当前密码", for: "current_password") }
        if new != (form["confirm_password"] ?? "") { state.addError("两次输入的新密码不一致", for: "confirm_password") }
        if !state.hasErrors {
            do {
                try ctx.env.users.changePassword(user.id, current: current, new: new, keepSession: ctx.session?.tokenHash, by: ctx.actor)
                return ctx.redirect("/", flash: .success("密码已修改。其他设备上的登录已退出。"))
            } catch let errors as FieldErrors {
                for (field, message) in errors.errors { state.addError(message, for: field) }
            }
        }
        return try passwordPage(ctx, state, status: .unprocessableContent)
    }
}
