/// A request method: any token (RFC 9110 §9); the router decides what it supports.
public struct HTTPMethod: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let get = HTTPMethod("GET")
    public static let head = HTTPMethod("HEAD")
    public static let post = HTTPMethod("POST")
    public static let put = HTTPMethod("PUT")
    public static let delete = HTTPMethod("DELETE")
    public static let patch = HTTPMethod("PATCH")
    public static let options = HTTPMethod("OPTIONS")
}

public struct HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)
    public var description: String { "HTTP/\(major).\(minor)" }
}

/// How the body of a request is framed (RFC 9112 §6.3).
public enum HTTPBodyFraming: Sendable, Equatable {
    case none
    case contentLength(Int)
    case chunked
}

/// The request line and header section, as the parser produced them.
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: HTTPMethod
    /// The request target exactly as sent (origin-, absolute- or asterisk-form).
    public var target: String
    /// The path component of the target, still percent-encoded ("/" for absolute-form without one,
    /// "*" for asterisk-form).
    public var path: String
    /// The query component without "?", still encoded; empty if absent.
    public var query: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var framing: HTTPBodyFraming

    public init(method: HTTPMethod, target: String, path: String, query: String,
                version: HTTPVersion, headers: HTTPHeaders, framing: HTTPBodyFraming) {
        self.method = method
        self.target = target
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.framing = framing
    }

    /// Whether the client asked for the connection to persist (RFC 9112 §9.3).
    public var keepAlive: Bool {
        // Asked once per request: `containsToken` answers as `tokens(...).contains` would,
        // without splitting and lowercasing the field into new strings.
        if headers.containsToken("connection", "close") { return false }
        if version == .http1_1 || version.minor > 1 { return true }
        return headers.containsToken("connection", "keep-alive")
    }

    /// The `Expect` field's value, lowercased, if any.
    public var expectation: String? {
        headers["expect"].map { $0.trimmingOWS().lowercasedASCII() }
    }

    public var contentLength: Int? {
        if case .contentLength(let n) = framing { return n }
        return nil
    }
}

/// A request body: in memory, or spooled to a temporary file when large.
public enum HTTPBody: Sendable, Equatable {
    case empty
    case bytes([UInt8])
    /// A file the server wrote; it removes the file after the response is sent.
    case file(path: String, length: Int)

    public var count: Int {
        switch self {
        case .empty: return 0
        case .bytes(let b): return b.count
        case .file(_, let length): return length
        }
    }
}

/// A complete request handed to the application. A class, because it is handed down a middleware chain and into every
/// handler's context: passing it on is one retain, where copying its dozen strings and arrays
/// was a retain and a release each, several times per request.
public final class HTTPRequest: Sendable {
    public let head: HTTPRequestHead
    public let body: HTTPBody
    public let trailers: HTTPHeaders
    /// The peer's address as text ("127.0.0.1"), for logs and throttling.
    public let remoteAddress: String

    public init(head: HTTPRequestHead, body: HTTPBody = .empty, trailers: HTTPHeaders = HTTPHeaders(),
                remoteAddress: String = "") {
        self.head = head
        self.body = body
        self.trailers = trailers
        self.remoteAddress = remoteAddress
    }

    public var method: HTTPMethod { head.method }
    public var path: String { head.path }
    public var query: String { head.query }
    public var headers: HTTPHeaders { head.headers }
}
