import Foundation

// Helpers that build the dictionaries templates render. The layout (`Templates/layout.mustache`)
// reads these keys at the top level of the context:
//
//   title          page title (shown in <title> as "<title> · 近邻")
//   user           { displayName, roleName } or absent when nobody is signed in
//   nav, hasNav    [{ title, path, current }] from `navigation(_:current:)`
//   flashes, hasFlashes   [{ kind, text, ariaRole }] rendered by partials/flash
//   csrfToken      value of the hidden `_csrf` field of every POST form
//
// Forms add `values`, `errors` and `hasErrors` from `FormState.context()`.

// MARK: - Navigation

/// One entry of the main navigation (a menu has at most one item per path).
public typealias NavItem = (title: String, path: String)

public enum Navigation {
    /// The item that `path` belongs to. An item matches when `path` is its path or lies below it
    /// (`/residents/12/edit` → 居民); failing that, when `path` lies in the item's first path
    /// segment (`/points/card` → 积分 via `/points/board`). The longest match wins; `/` only
    /// matches itself. The query string is ignored.
    public static func currentItem(in items: [NavItem], path: String) -> NavItem? {
        var bare = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? path
        // Teams, posts and certificates are pages of 志愿服务.
        for section in ["/teams", "/posts", "/volunteers"] where bare == section || bare.hasPrefix(section + "/") {
            bare = "/activities" + bare.dropFirst(section.count)
        }
        var best: NavItem?
        var bestScore = 0
        for item in items {
            var score = 0
            if item.path == "/" {
                if bare == "/" { score = 10_000 }
            } else if bare == item.path || bare.hasPrefix(item.path + "/") {
                score = 10_000 + item.path.count
            } else if let first = item.path.split(separator: "/").first {
                let section = "/" + first
                if bare == section || bare.hasPrefix(section + "/") { score = section.count }
            }
            if score > bestScore {
                best = item
                bestScore = score
            }
        }
        return best
    }
}

/// The navigation context: `[{ "title", "path", "current": Bool }]`, with exactly one item (or
/// none) marked current for `path`. Which items a user sees is decided by the modules'
/// descriptors and the policy (AppCore), not here.
public func navigation(_ items: [NavItem], current path: String) -> [[String: Any]] {
    let current = Navigation.currentItem(in: items, path: path)
    return items.map { item in
        ["title": item.title, "path": item.path, "current": item.path == current?.path]
    }
}

// MARK: - Flash messages

/// A one-time message shown at the top of the next page.
public struct Flash: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case success, error, info
    }

    public let kind: Kind
    public let text: String

    public init(_ kind: Kind, _ text: String) {
        self.kind = kind
        self.text = text
    }

    public static func success(_ text: String) -> Flash { Flash(.success, text) }
    public static func error(_ text: String) -> Flash { Flash(.error, text) }
    public static func info(_ text: String) -> Flash { Flash(.info, text) }

    /// `{ kind, text, ariaRole }`: errors are announced as `alert`, the rest as `status`.
    public var context: [String: Any] {
        ["kind": kind.rawValue, "text": text, "ariaRole": kind == .error ? "alert" : "status"]
    }
}

// MARK: - Page context

/// The signed-in user as the layout shows it.
public struct PageUser: Sendable, Equatable {
    public let displayName: String
    /// The role's Chinese name (roles themselves are Access's business, not the views').
    public let roleName: String
    /// Unread in-app notifications (the bell in the header links to `/notifications`).
    public var unreadNotifications: Int

    public init(displayName: String, roleName: String, unreadNotifications: Int = 0) {
        self.displayName = displayName
        self.roleName = roleName
        self.unreadNotifications = unreadNotifications
    }

    public var context: [String: Any] {
        ["displayName": displayName, "roleName": roleName, "unread": unreadNotifications > 0 ? unreadNotifications : false]
    }
}

/// What every page passes to the layout.
public struct PageContext: Sendable {
    public static let productName = "近邻"
    public static let productTagline = "党建引领基层治理"

    public var title: String
    public var user: PageUser?
    /// The request path (used to mark the current navigation item).
    public var path: String
    public var flashes: [Flash]
    public var csrfToken: String
    /// The main-menu items this user sees, in order.
    public var navItems: [NavItem] = []

    public init(title: String, user: PageUser? = nil, path: String = "/", flashes: [Flash] = [], csrfToken: String = "") {
        self.title = title
        self.user = user
        self.path = path
        self.flashes = flashes
        self.csrfToken = csrfToken
    }

    /// The layout keys (see the top of this file).
    public func layout() -> [String: Any] {
        var context: [String: Any] = [
            "title": title,
            "productName": Self.productName,
            "productTagline": Self.productTagline,
            "csrfToken": csrfToken,
            "flashes": flashes.map(\.context),
            "hasFlashes": !flashes.isEmpty,
        ]
        if let user {
            let nav = navigation(navItems, current: path)
            context["user"] = user.context
            context["nav"] = nav
            context["hasNav"] = !nav.isEmpty
        } else {
            context["hasNav"] = false
        }
        return context
    }

    /// The layout keys plus the page's own keys; the page's keys win on a clash.
    public func merging(_ page: [String: Any]) -> [String: Any] {
        layout().merging(page) { _, pageValue in pageValue }
    }
}

// MARK: - Forms

/// Submitted values and field errors of a form, so a re-rendered form keeps the user's input.
///
/// Context keys: `values.<field>` (the submitted text), `errors.<field>` (the message; absent
/// when the field is fine), `hasErrors`, `errorCount`, and `checked.<field>` for repeatable
/// fields (an array of the chosen values). Templates show a field error with
/// `{{#errors.name}}{{>partials/field_error}}{{/errors.name}}` (the partial renders `{{.}}`).
/// Field names should be plain identifiers (no dots).
public struct FormState: Sendable, Equatable {
    public var values: [String: String]
    public var multiValues: [String: [String]]
    public var errors: [String: String]

    public init(values: [String: String] = [:], multiValues: [String: [String]] = [:], errors: [String: String] = [:]) {
        self.values = values
        self.multiValues = multiValues
        self.errors = errors
    }

    public var hasErrors: Bool { !errors.isEmpty }

    /// Records `message` for `field`; the first error of a field is kept.
    public mutating func addError(_ message: String, for field: String) {
        if errors[field] == nil { errors[field] = message }
    }

    public func value(_ field: String) -> String { values[field] ?? "" }

    public func context() -> [String: Any] {
        [
            "values": values,
            "checked": multiValues,
            "errors": errors,
            "hasErrors": hasErrors,
            "errorCount": errors.count,
        ]
    }

    /// Options for a `<select>` or a checkbox group: `[{ value, label, selected: Bool }]`.
    public static func options(_ options: [(value: String, label: String)], selected: Set<String>) -> [any TemplateRecord] {
        options.map { ChoiceOption(value: $0.value, label: $0.label, selected: selected.contains($0.value)) }
    }

    /// Options for a single-choice `<select>`.
    public static func options(_ options: [(value: String, label: String)], selected: String?) -> [any TemplateRecord] {
        self.options(options, selected: selected.map { [$0] } ?? [])
    }
}

/// One `<option>` of a `<select>` (or box of a checkbox group): `{{value}}`, `{{label}}`,
/// `{{#selected}}`. Forms show dozens of them on every page.
public final class ChoiceOption: TemplateRecord {
    public let value: String
    public let label: String
    public let selected: Bool

    public init(value: String, label: String, selected: Bool) {
        self.value = value
        self.label = label
        self.selected = selected
    }

    public func templateValue(named key: String) -> Any? {
        switch key {
        case "value": value
        case "label": label
        case "selected": selected
        default: nil
        }
    }
}

// MARK: - Pagination

/// Page arithmetic and the context for `partials/pagination`.
public struct Pagination: Sendable, Equatable {
    public let page: Int
    public let perPage: Int
    public let total: Int

    /// `page` is clamped into 1...pageCount, `perPage` to at least 1.
    public init(page: Int, perPage: Int, total: Int) {
        let perPage = max(1, perPage)
        let total = max(0, total)
        self.perPage = perPage
        self.total = total
        let pageCount = max(1, (total + perPage - 1) / perPage)
        self.page = min(max(1, page), pageCount)
    }

    public var pageCount: Int { max(1, (total + perPage - 1) / perPage) }
    /// SQL OFFSET of the current page.
    public var offset: Int { (page - 1) * perPage }
    public var hasPrevious: Bool { page > 1 }
    public var hasNext: Bool { page < pageCount }

    /// `["pagination": { page, pageCount, total, hasPrev, prevURL, hasNext, nextURL }]`.
    /// `query` holds the other query parameters to keep (filters), in order; `page` is appended.
    public func context(path: String, query: [(name: String, value: String)] = []) -> [String: Any] {
        func url(_ page: Int) -> String {
            let items = query.filter { $0.name != "page" } + [("page", String(page))]
            let encoded = items.map { percentEncode($0.0) + "=" + percentEncode($0.1) }.joined(separator: "&")
            return path + "?" + encoded
        }
        return ["pagination": [
            "page": page,
            "pageCount": pageCount,
            "total": total,
            "hasPrev": hasPrevious,
            "prevURL": hasPrevious ? url(page - 1) : "",
            "hasNext": hasNext,
            "nextURL": hasNext ? url(page + 1) : "",
        ] as [String: Any]]
    }
}

private let queryAllowed: CharacterSet = {
    var set = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
    set.formIntersection(.urlQueryAllowed)
    return set
}()

/// Percent-encodes a query component (everything but unreserved characters).
func percentEncode(_ string: String) -> String {
    string.addingPercentEncoding(withAllowedCharacters: queryAllowed) ?? ""
}

// MARK: - Error pages

/// Titles and explanations for `errors/error.mustache`.
public enum ErrorPage {
    /// The Chinese title for an HTTP status.
    public static func title(for status: Int) -> String {
        switch status {
        case 400: return "请求无效"
        case 401: return "请先登录"
        case 403: return "没有权限访问"
        case 404: return "页面不存在"
        case 405: return "不支持的请求方式"
        case 408: return "请求超时"
        case 409: return "数据已被修改"
        case 413: return "上传内容过大"
        case 422: return "提交的内容有误"
        case 429: return "操作过于频繁"
        case 500: return "服务器内部错误"
        case 503: return "服务暂时不可用"
        case 400..<500: return "请求出错"
        default: return "服务器错误"
        }
    }

    /// The Chinese explanation for an HTTP status.
    public static func message(for status: Int) -> String {
        switch status {
        case 400: return "请求的格式不正确，无法处理。请返回上一页检查后重试。"
        case 401: return "您尚未登录或登录已过期，请重新登录。"
        case 403: return "您的账号没有访问此页面或执行此操作的权限。如确有需要，请联系社区管理员。"
        case 404: return "您访问的页面不存在或已被删除，请检查网址是否正确。"
        case 405: return "此页面不支持该请求方式，请通过页面上的按钮或链接操作。"
        case 408: return "等待请求的时间过长，请重新提交。"
        case 409: return "数据已被他人修改，请刷新页面后重试。"
        case 413: return "上传的文件或提交的内容超过了大小限制，请压缩或拆分后重新上传。"
        case 422: return "提交的数据未通过校验，请返回修改后重新提交。"
        case 429: return "您的操作过于频繁，请稍后再试。"
        case 500: return "服务器内部错误，请稍后重试。如问题持续出现，请联系系统管理员。"
        case 503: return "系统正在维护或负载过高，请稍后重试。"
        case 400..<500: return "请求无法完成，请返回上一页检查后重试。"
        default: return "服务器处理请求时出错，请稍后重试。"
        }
    }

    /// The context for `errors/error`: the layout keys plus `status`, `errorTitle`,
    /// `errorMessage` and an optional `detail` (plain text, escaped by the template).
    public static func context(status: Int, detail: String? = nil, page: PageContext? = nil) -> [String: Any] {
        var base = page ?? PageContext(title: title(for: status))
        base.title = title(for: status)
        var extra: [String: Any] = [
            "status": status,
            "errorTitle": title(for: status),
            "errorMessage": message(for: status),
        ]
        if let detail, !detail.isEmpty { extra["detail"] = detail }
        return base.merging(extra)
    }
}
