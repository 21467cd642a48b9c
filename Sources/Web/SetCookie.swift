import HTTPCore

/// One `Set-Cookie` response field (RFC 6265 §4.1).
///
/// Defaults suit a session cookie: `Path=/`, `HttpOnly`, `SameSite=Lax`. `headerValue` never
/// lets a name or value break out of the field: bytes outside the RFC 6265 §4.1.1 grammar
/// (CTLs, whitespace, DQUOTE, ",", ";", "\\", non-ASCII) are dropped, so callers should only
/// store tokens such as base64url or hex in cookies.
public struct SetCookie: Sendable, Equatable {
    /// The `SameSite` attribute (RFC 6265bis §4.1.2.7).
    public enum SameSite: String, Sendable, Equatable {
        case lax = "Lax"
        case strict = "Strict"
        case none = "None"
    }

    public var name: String
    public var value: String
    public var path: String
    /// Seconds until the cookie expires; nil for a session cookie, 0 or less to delete it.
    public var maxAge: Int?
    /// An absolute expiry in seconds since the epoch, sent as `Expires` (RFC 6265 §5.2.1) for
    /// user agents that ignore `Max-Age`.
    public var expires: Int?
    public var httpOnly: Bool
    public var secure: Bool
    public var sameSite: SameSite

    public init(name: String, value: String, path: String = "/", maxAge: Int? = nil, expires: Int? = nil,
                httpOnly: Bool = true, secure: Bool = false, sameSite: SameSite = .lax) {
        self.name = name
        self.value = value
        self.path = path
        self.maxAge = maxAge
        self.expires = expires
        self.httpOnly = httpOnly
        self.secure = secure
        self.sameSite = sameSite
    }

    /// A cookie that makes the user agent delete `name` at once (RFC 6265 §3.1: an expiry in
    /// the past), with `Max-Age=0` and `Expires` at the epoch for old agents.
    public static func expired(name: String, path: String = "/", secure: Bool = false) -> SetCookie {
        SetCookie(name: name, value: "", path: path, maxAge: 0, expires: 0, secure: secure)
    }

    /// The field value, e.g. `sid=abc; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax`.
    ///
    /// `SameSite=None` is only honoured by browsers together with `Secure`, so it adds `Secure`.
    public var headerValue: String {
        var out = SetCookie.filtered(name, keep: Cookies.isTokenByte)
        out += "="
        out += SetCookie.filtered(value, keep: SetCookie.isCookieOctet)
        if !path.isEmpty {
            // RFC 6265 §4.1.1: path-value is any CHAR except CTLs or ";".
            out += "; Path="
            out += SetCookie.filtered(path) { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ";") }
        }
        if let maxAge {
            out += "; Max-Age=\(max(0, maxAge))"
        }
        if let expires {
            out += "; Expires=" + HTTPDate.format(epochSeconds: expires)
        }
        if secure || sameSite == .none { out += "; Secure" }
        if httpOnly { out += "; HttpOnly" }
        out += "; SameSite=" + sameSite.rawValue
        return out
    }

    /// RFC 6265 §4.1.1 cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E.
    static func isCookieOctet(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x21, 0x23...0x2B, 0x2D...0x3A, 0x3C...0x5B, 0x5D...0x7E: return true
        default: return false
        }
    }

    private static func filtered(_ text: String, keep: (UInt8) -> Bool) -> String {
        if text.utf8.allSatisfy(keep) { return text }
        return String(decoding: text.utf8.filter(keep), as: UTF8.self)
    }
}
