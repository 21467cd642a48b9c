import HTTPCore

/// Turns a response into bytes on the wire: status line, framing fields, Date, gzip.
struct ResponseEncoder {
    let configuration: ServerConfiguration

    struct Encoded {
        var bytes: [UInt8]
        /// Body bytes counted for the access log (after compression).
        var bodyCount: Int
        /// The body is streamed after `bytes` (the head) is sent.
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

        var chunked = false
        let streamingHTTP10 = stream != nil && version.minor == 0
        var head: [UInt8] = []
        head.reserveCapacity(256 + body.count)
        head.append(contentsOf: "HTTP/1.1 \(response.status.code) \(response.status.reason)\r\n".utf8)
        for field in response.headers.fields {
            if asciiCaseInsensitiveEquals(field.name, "content-length")
                || asciiCaseInsensitiveEquals(field.name, "transfer-encoding")
                || asciiCaseInsensitiveEquals(field.name, "connection")
                || asciiCaseInsensitiveEquals(field.name, "date") { continue }
            head.append(contentsOf: field.name.utf8)
            head.append(58); head.append(32)
            head.append(contentsOf: field.value.utf8)
            head.append(13); head.append(10)
        }
        head.append(contentsOf: date)
        if response.statusForbidsBody {
            // no framing fields (RFC 9110 §8.6, §6.4.1)
        } else if stream != nil {
            if !streamingHTTP10 && !isHead {
                head.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8)
                chunked = true
            }
        } else {
            head.append(contentsOf: "Content-Length: \(body.count)\r\n".utf8)
        }
        let close = !keepAlive || streamingHTTP10
        if close {
            head.append(contentsOf: "Connection: close\r\n".utf8)
        } else if version.minor == 0 {
            head.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        head.append(13); head.append(10)
        var bodyCount = 0
        if !isHead && !response.statusForbidsBody {
            head.append(contentsOf: body)
            bodyCount = body.count
        }
        return Encoded(bytes: head, bodyCount: bodyCount, stream: isHead ? nil : stream, chunked: chunked)
    }

    private func addVary(_ headers: inout HTTPHeaders) {
        if let vary = headers["vary"] {
            if !headers.tokens("vary").contains("accept-encoding") {
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
