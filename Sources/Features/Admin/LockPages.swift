import AppCore
import Foundation
import HTTPCore
import Storage
import Web

/// `/admin/locks`: who is held up by the sign-in throttle now, and lifting a lock (audited).
enum LockPages {
    static func index(_ ctx: Context) throws -> HTTPResponse {
        let throttle = ctx.env.throttle
        let locks = try throttle.locks()
        let rows: [[String: Any]] = locks.map { lock in
            let what: String
            switch lock.kind {
            case .pair: what = "账号 \(lock.username)（来自 \(lock.ip)）"
            case .account: what = "账号 \(lock.username)（所有地址）"
            case .address: what = "地址 \(lock.ip)（所有账号）"
            }
            return ["kind": lock.kind.rawValue, "what": what, "username": lock.username, "ip": lock.ip,
                    "failures": lock.failures, "lastAt": AdminFormat.time(lock.lastAt)]
        }
        let data: [String: Any] = [
            "locks": rows, "hasLocks": !rows.isEmpty,
            "freeFailures": throttle.freeFailures, "windowMinutes": Int(throttle.window / 60),
            "perAccount": throttle.maxFailuresPerAccount, "perAddress": throttle.maxFailuresPerAddress,
        ]
        return try ctx.render("admin/locks", title: "登录锁定", data)
    }

    static func lift(_ ctx: Context) throws -> HTTPResponse {
        let form = ctx.form
        guard let kind = (form["kind"]).flatMap(LoginThrottle.Lock.Kind.init(rawValue:)) else {
            throw HTTPError(.badRequest, "请选择要解除的锁定")
        }
        let username = String((form["username"] ?? "").prefix(100))
        let ip = String((form["ip"] ?? "").prefix(45))
        let removed = try ctx.env.throttle.lift(kind, username: username, ip: ip, by: ctx.actor)
        return ctx.redirect("/admin/locks", flash: removed > 0 ? .success("已解除锁定（清除 \(removed) 次失败记录）。") : .info("该锁定已不存在。"))
    }
}
