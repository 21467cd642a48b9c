import HTTPCore

/// Reading the `Cookie` request header (RFC 6265 §5.4, §4.2.1).
///
/// Parsing is lenient, as user agents and proxies are: pairs are separated by ";" with optional
/// spaces, a pair without "=" or with an empty name is skipped, and a value wrapped in DQUOTEs
/// is unwrapped. When a name occurs twice the first wins: user agents list cookies with longer
/// paths first (RFC 6265 §5.4 step 2), so the first is the most specific one.
public enum Cookies {
    /// The cookies of one `Cookie` field value.
    public static func parse(_ header: String) -> [String: String] {
        var cookies: [String: String] = [:]
        add(header, to: &cookies)
        return cookies
    }

    /// The cookies of every `Cookie` field (HTTP/1.1 sends one; some intermediaries split it).
    public static func parse(headers: HTTPHeaders) -> [String: String] {
        var cookies: [String: String] = [:]
        for value in headers.values("cookie") { add(value, to: &cookies) }
        return cookies
    }

    private static func add(_ header: String, to cookies: inout [String: String]) {
        for pair in header.split(separator: ";", omittingEmptySubsequences: true) {
            guard let eq = pair.firstIndex(of: "=") else { continue }
            let name = pair[pair.startIndex..<eq].trimmingOWS()
            guard !name.isEmpty, isToken(name) else { continue }
            var value = pair[pair.index(after: eq)...].trimmingOWS()
            if value.utf8.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            if cookies[name] == nil { cookies[name] = value }
        }
    }

    /// Whether `text` is an RFC 9110 §5.6.2 token, the syntax of a cookie name.
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isTokenByte)
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}

extension HTTPRequest {
    /// The request's cookies by name (first occurrence wins).
    public var cookies: [String: String] { Cookies.parse(headers: headers) }
}
