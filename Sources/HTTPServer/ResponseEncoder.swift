import HTTPCore

/// Turns a response into bytes on the wire: status line, framing fields, Date, gzip.
struct ResponseEncoder {
    let configuration: ServerConfiguration

    struct Encoded {
        /// The status line and header section.
        var head: [UInt8]
        /// The body to send right after `head` (empty for HEAD, bodiless statuses and streams).
        /// Kept apart so the connection can write both with one `writev`, without copying the
        /// body behind the head.
        var body: [UInt8]
        /// Body bytes counted for the access log (after compression).
        var bodyCount: Int
        /// The body is streamed after `head` is sent.
        var stream: (@Sendable (HTTPBodyWriter) throws -> Void)?
        var chunked: Bool
    }

    /// - Parameters:
    ///   - request: the head being answered, nil when the request could not be parsed.
    ///   - keepAlive: whether the connection stays open after this response.
    func encode(_ response: HTTPResponse, for request: HTTPRequestHead?, keepAlive: Bool, date: [UInt8]) -> Encoded {
        var response = response
        let isHead = request?.method == .head
        let version = request?.version ?? .http1_1
        var body: [UInt8] = []
        var stream: (@Sendable (HTTPBodyWriter) throws -> Void)?

        switch response.body {
        case .bytes(let bytes):
            body = bytes
            if let request, !response.statusForbidsBody, body.count >= configuration.gzipMinimumBytes,
               response.headers["content-encoding"] == nil,
               let type = response.headers["content-type"], Gzip.isCompressible(contentType: type) {
                addVary(&response.headers)
                if Gzip.isAccepted(by: request.headers), let compressed = Gzip.compress(body, level: configuration.gzipLevel) {
                    body = compressed
                    response.headers.set("Content-Encoding", "gzip")
                }
            }
        case .stream(let producer):
            stream = producer
        }

        // Built with byte appends into one reserved array: string interpolation here used to
        // cost more than the rest of the encoding.
        var chunked = false
        let streamingHTTP10 = stream != nil && version.minor == 0
        var head: [UInt8] = []
        // Room for the fixed lines (status, Date, framing) and every field: one allocation.
        var size = 160 + date.count
        for field in response.headers.fields { size += field.name.utf8.count + field.value.utf8.count + 4 }
        head.reserveCapacity(size)
        head.append(contentsOf: Self.http11)
        appendDecimal(response.status.code, to: &head)
        head.append(32)
        head.appendUTF8(response.status.reason)
        head.append(13); head.append(10)
        for field in response.headers.fields where !Self.isFramingField(field.name) {
            head.appendUTF8(field.name)
            head.append(58); head.append(32)
            head.appendUTF8(field.value)
            head.append(13); head.append(10)
        }
        head.append(contentsOf: date)
        if response.statusForbidsBody {
            // no framing fields (RFC 9110 §8.6, §6.4.1)
        } else if stream != nil {
            if !streamingHTTP10 && !isHead {
                head.append(contentsOf: Self.transferEncodingChunked)
                chunked = true
            }
        } else {
            head.append(contentsOf: Self.contentLength)
            appendDecimal(body.count, to: &head)
            head.append(13); head.append(10)
        }
        let close = !keepAlive || streamingHTTP10
        if close {
            head.append(contentsOf: Self.connectionClose)
        } else if version.minor == 0 {
            head.append(contentsOf: Self.connectionKeepAlive)
        }
        head.append(13); head.append(10)
        var bodyCount = 0
        if isHead || response.statusForbidsBody {
            body = []
        } else {
            bodyCount = body.count
        }
        return Encoded(head: head, body: body, bodyCount: bodyCount, stream: isHead ? nil : stream, chunked: chunked)
    }

    private static let http11 = Array("HTTP/1.1 ".utf8)
    private static let transferEncodingChunked = Array("Transfer-Encoding: chunked\r\n".utf8)
    private static let contentLength = Array("Content-Length: ".utf8)
    private static let connectionClose = Array("Connection: close\r\n".utf8)
    private static let connectionKeepAlive = Array("Connection: keep-alive\r\n".utf8)

    /// The fields the encoder writes itself (Content-Length, Transfer-Encoding, Connection,
    /// Date): a handler's own are dropped. Compared by length first, as most names differ in it.
    private static func isFramingField(_ name: String) -> Bool {
        switch name.utf8.count {
        case 4: return asciiCaseInsensitiveEquals(name, "date")
        case 10: return asciiCaseInsensitiveEquals(name, "connection")
        case 14: return asciiCaseInsensitiveEquals(name, "content-length")
        case 17: return asciiCaseInsensitiveEquals(name, "transfer-encoding")
        default: return false
        }
    }

    private func addVary(_ headers: inout HTTPHeaders) {
        if let vary = headers["vary"] {
            if !headers.containsToken("vary", "accept-encoding") {
                headers.set("Vary", vary + ", Accept-Encoding")
            }
        } else {
            headers.add("Vary", "Accept-Encoding")
        }
    }
}

/// The `Date` field, formatted once per second per loop.
struct DateCache {
    private var second = -1
    private var line: [UInt8] = []

    mutating func current() -> [UInt8] {
        let now = HTTPDate.now()
        if now != second {
            second = now
            line = Array("Date: \(HTTPDate.format(epochSeconds: now))\r\n".utf8)
        }
        return line
    }
}
