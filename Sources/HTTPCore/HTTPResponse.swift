/// Something a streamed response writes its body into, piece by piece.
///
/// `write` blocks the producing thread while the client is slow to read, so a large export
/// never piles up in memory. It throws once the connection is gone.
public protocol HTTPBodyWriter: Sendable {
    func write(_ bytes: [UInt8]) throws
}

public struct HTTPConnectionGone: Error, Sendable {
    public init() {}
}

public enum HTTPResponseBody: Sendable {
    case bytes([UInt8])
    /// Produced on a worker thread, sent with chunked transfer coding (or until close for HTTP/1.0).
    case stream(@Sendable (HTTPBodyWriter) throws -> Void)

    public static let empty = HTTPResponseBody.bytes([])
}

public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: HTTPResponseBody
    /// Set by handlers that want the connection closed after this response.
    public var closeConnection: Bool = false

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: HTTPResponseBody = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: HTTPStatus = .ok, contentType: String, body: [UInt8]) {
        self.status = status
        self.headers = HTTPHeaders()
        headers.add("Content-Type", contentType)
        self.body = .bytes(body)
    }

    public init(status: HTTPStatus = .ok, contentType: String = "text/plain; charset=utf-8", text: String) {
        self.init(status: status, contentType: contentType, body: Array(text.utf8))
    }

    /// A plain-text error response; the server uses it for framing errors.
    public static func plain(_ status: HTTPStatus, _ text: String? = nil) -> HTTPResponse {
        HTTPResponse(status: status, text: (text ?? status.reason) + "\n")
    }

    public var bodyBytes: [UInt8]? {
        if case .bytes(let b) = body { return b }
        return nil
    }

    /// Whether this status never carries content (RFC 9110 §6.4.1).
    public var statusForbidsBody: Bool {
        status.code < 200 || status.code == 204 || status.code == 304
    }
}

/// What an application tells the server about a request whose head has just been read.
public enum HTTPBodyPolicy: Sendable {
    /// Read a body of at most this many bytes (413 beyond it).
    case accept(maxBytes: Int)
    /// Answer with this response without reading the body.
    case reject(HTTPResponse)
}

/// The application side of the server.
///
/// `bodyPolicy` runs on the connection's queue before any body byte is read, so a route can
/// refuse an upload from its Content-Length alone. `handle` must call `respond` exactly once,
/// from any thread; a handler that can block (password hashing, exports, imports) should move
/// its work off the calling queue, which also serves other connections.
public protocol HTTPHandler: Sendable {
    func bodyPolicy(for head: HTTPRequestHead) -> HTTPBodyPolicy
    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void)
}
