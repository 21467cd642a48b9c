/// Limits the parser enforces while it reads a request's head and chunked framing.
public struct HTTPParserLimits: Sendable, Equatable {
    /// The one default request body limit (a route may allow more: `RouteOptions.bodyLimit`).
    public static let defaultBodyLimit = 64 * 1024

    /// Longest request line, CRLF excluded (RFC 9112 §3: 414 beyond it).
    public var maxRequestLineBytes: Int = 8 * 1024
    /// Largest header section, field lines and their CRLFs (RFC 6585 §5: 431 beyond it).
    public var maxHeaderBytes: Int = 32 * 1024
    /// Most field lines in a header section or in trailers (431 beyond it).
    public var maxHeaderCount: Int = 100
    /// Longest chunk-size line including extensions.
    public var maxChunkLineBytes: Int = 4 * 1024

    public init() {}
}

/// Why a byte stream was refused. `status` is what the server answers before it closes.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: HTTPStatus
    public let reason: String
    public init(_ status: HTTPStatus, _ reason: String) {
        self.status = status
        self.reason = reason
    }
    public var description: String { "\(status.code) \(reason)" }

    static func bad(_ reason: String) -> HTTPParseError { HTTPParseError(.badRequest, reason) }
}

public enum HTTPParserEvent: Sendable, Equatable {
    /// A complete request line and header section. Before the next call to `next()`, the caller may
    /// set `bodyLimit` for this request.
    case head(HTTPRequestHead)
    /// Some bytes of the body, in order, already de-chunked.
    case body([UInt8])
    /// The request is complete; trailers are empty unless it was chunked and sent some.
    case end(trailers: HTTPHeaders)
}

/// An incremental HTTP/1.1 request parser (RFC 9112).
///
/// Feed it bytes as they arrive, in pieces of any size, and pull events with `next()`; the
/// events do not depend on how the input was split. Anything ambiguous throws: the caller
/// answers with the error's status and closes, so one byte stream never has two readings.
public struct HTTPRequestParser: Sendable {
    enum State: Sendable, Equatable {
        case requestLine
        case headers
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case failed
    }

    public var limits: HTTPParserLimits
    /// The most body bytes accepted for the current request; the caller sets it after `.head`.
    public var bodyLimit: Int

    private var buffer: [UInt8] = []
    private var index = 0
    private var state: State = .requestLine
    private var error: HTTPParseError?

    // The request being assembled.
    private var requestLine: RequestLine?
    private var fields: [HTTPHeaders.Field] = []
    private var headerBytes = 0
    private var bodyReceived = 0

    /// A parsed request line. For origin-form targets ("/path?query", nearly every request)
    /// the path and query are cut from the bytes right away; other forms are split later.
    struct RequestLine {
        var method: String
        var target: String
        var version: HTTPVersion
        var originForm: (path: String, query: String)?
    }

    public init(limits: HTTPParserLimits = HTTPParserLimits(), bodyLimit: Int = HTTPParserLimits.defaultBodyLimit) {
        self.limits = limits
        self.bodyLimit = bodyLimit
    }

    /// Bytes received but not yet consumed.
    public var bufferedByteCount: Int { buffer.count - index }

    /// True between requests, when no byte of a next request has arrived.
    public var isIdle: Bool { state == .requestLine && bufferedByteCount == 0 }

    /// True while the head of a request is being read (some bytes of it have arrived).
    public var isReadingHead: Bool {
        (state == .requestLine && bufferedByteCount > 0) || state == .headers
    }

    public mutating func feed<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if index > 0 && index == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            index = 0
        } else if index >= 64 * 1024 {
            buffer.removeSubrange(0..<index)
            index = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        feed(bytes.bindMemory(to: UInt8.self))
    }

    /// The next event, nil when more input is needed. After an error every call throws it again.
    public mutating func next() throws(HTTPParseError) -> HTTPParserEvent? {
        if let error { throw error }
        do {
            return try step()
        } catch {
            self.error = error
            state = .failed
            throw error
        }
    }

    // MARK: - State machine

    private mutating func step() throws(HTTPParseError) -> HTTPParserEvent? {
        while true {
            switch state {
            case .failed:
                return nil
            case .requestLine:
                // RFC 9112 §2.2: ignore empty lines before the request line.
                while index + 1 < buffer.count, buffer[index] == 13, buffer[index + 1] == 10 { index += 2 }
                guard let end = try findLineEnd(limit: limits.maxRequestLineBytes, tooLong: HTTPParseError(.uriTooLong, "request line too long")) else {
                    try checkPartialRequestLine()
                    return nil
                }
                requestLine = try parseRequestLine(index, end)
                index = end + 2
                fields.removeAll(keepingCapacity: true)
                headerBytes = 0
                state = .headers
            case .headers:
                let room = limits.maxHeaderBytes - headerBytes
                guard let end = try findLineEnd(limit: room, tooLong: HTTPParseError(.requestHeaderFieldsTooLarge, "header section too large")) else {
                    return nil
                }
                headerBytes += end - index + 2
                if end == index {
                    index = end + 2
                    return try finishHead()
                }
                if fields.count >= limits.maxHeaderCount {
                    throw HTTPParseError(.requestHeaderFieldsTooLarge, "too many header fields")
                }
                fields.append(try parseFieldLine(index, end))
                index = end + 2
            case .fixedBody(let remaining):
                if remaining == 0 {
                    state = .requestLine
                    return .end(trailers: HTTPHeaders())
                }
                let available = buffer.count - index
                guard available > 0 else { return nil }
                let n = min(available, remaining)
                let chunk = Array(buffer[index..<index + n])
                index += n
                state = .fixedBody(remaining: remaining - n)
                return .body(chunk)
            case .chunkSize:
                guard let end = try findLineEnd(limit: limits.maxChunkLineBytes, tooLong: .bad("chunk line too long")) else {
                    return nil
                }
                let size = try parseChunkSizeLine(index, end)
                index = end + 2
                if size == 0 {
                    fields.removeAll(keepingCapacity: true)
                    headerBytes = 0
                    state = .trailers
                } else {
                    if size > bodyLimit - bodyReceived {
                        throw HTTPParseError(.contentTooLarge, "chunked body over the limit")
                    }
                    bodyReceived += size
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let available = buffer.count - index
                guard available > 0 else { return nil }
                let n = min(available, remaining)
                let chunk = Array(buffer[index..<index + n])
                index += n
                state = n == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - n)
                return .body(chunk)
            case .chunkDataEnd:
                guard buffer.count - index >= 2 else {
                    if buffer.count > index && buffer[index] != 13 { throw .bad("chunk data not followed by CRLF") }
                    return nil
                }
                guard buffer[index] == 13, buffer[index + 1] == 10 else {
                    throw .bad("chunk data not followed by CRLF")
                }
                index += 2
                state = .chunkSize
            case .trailers:
                let room = limits.maxHeaderBytes - headerBytes
                guard let end = try findLineEnd(limit: room, tooLong: HTTPParseError(.requestHeaderFieldsTooLarge, "trailer section too large")) else {
                    return nil
                }
                headerBytes += end - index + 2
                if end == index {
                    index = end + 2
                    state = .requestLine
                    let trailers = HTTPHeaders(fields: fields)
                    fields.removeAll(keepingCapacity: true)
                    return .end(trailers: trailers)
                }
                if fields.count >= limits.maxHeaderCount {
                    throw HTTPParseError(.requestHeaderFieldsTooLarge, "too many trailer fields")
                }
                fields.append(try parseFieldLine(index, end))
                index = end + 2
            }
        }
    }

    /// Finds the CR of the next CRLF at or after `index`. A bare CR or bare LF is an error
    /// (RFC 9112 §2.2 allows rejecting both; we do, consistently).
    private func findLineEnd(limit: Int, tooLong: HTTPParseError) throws(HTTPParseError) -> Int? {
        let count = buffer.count
        let result: Result<Int?, HTTPParseError> = buffer.withUnsafeBufferPointer { buf in
            var i = index
            let stop = min(count, index + max(limit, 0) + 1)
            while i < stop {
                let b = buf[i]
                if b == 13 {
                    if i + 1 >= count { return .success(nil) }
                    if buf[i + 1] == 10 { return .success(i) }
                    return .failure(.bad("bare CR"))
                }
                if b == 10 { return .failure(.bad("bare LF")) }
                i += 1
            }
            if stop - index > limit { return .failure(tooLong) }
            return .success(nil)
        }
        return try result.get()
    }

    /// Rejects at once a partial first line that cannot become a request line (a TLS hello,
    /// binary junk), instead of waiting for the header deadline.
    private func checkPartialRequestLine() throws(HTTPParseError) {
        var i = index
        while i < buffer.count {
            let b = buffer[i]
            if b == 32 {
                if i == index { throw .bad("request line starts with a space") }
                return
            }
            if b == 13 { return }
            if !isTokenChar(b) { throw .bad("invalid method") }
            i += 1
        }
    }

    // MARK: - Request line (RFC 9112 §3)

    private func parseRequestLine(_ start: Int, _ end: Int) throws(HTTPParseError) -> RequestLine {
        var sp1 = -1, sp2 = -1
        var i = start
        while i < end {
            if buffer[i] == 32 {
                if sp1 < 0 { sp1 = i } else if sp2 < 0 { sp2 = i } else { throw .bad("request line has extra spaces") }
            }
            i += 1
        }
        guard sp1 > start, sp2 > sp1 + 1, sp2 < end - 1 else { throw .bad("malformed request line") }
        for j in start..<sp1 where !isTokenChar(buffer[j]) { throw .bad("invalid method") }
        var question = -1
        for j in (sp1 + 1)..<sp2 {
            let b = buffer[j]
            if b <= 32 || b >= 127 { throw .bad("invalid character in request target") }
            if b == 63 && question < 0 { question = j } // "?"
        }
        let version = try parseVersion(sp2 + 1, end)
        let method = String(decoding: buffer[start..<sp1], as: UTF8.self)
        let target = String(decoding: buffer[(sp1 + 1)..<sp2], as: UTF8.self)
        var originForm: (String, String)?
        if buffer[sp1 + 1] == 47 { // "/": origin-form, split here from the bytes (no second scan)
            originForm = question < 0
                ? (target, "")
                : (String(decoding: buffer[(sp1 + 1)..<question], as: UTF8.self),
                   String(decoding: buffer[(question + 1)..<sp2], as: UTF8.self))
        }
        return RequestLine(method: method, target: target, version: version, originForm: originForm)
    }

    private func parseVersion(_ start: Int, _ end: Int) throws(HTTPParseError) -> HTTPVersion {
        // HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive.
        guard end - start == 8,
              buffer[start] == 72, buffer[start + 1] == 84, buffer[start + 2] == 84, buffer[start + 3] == 80,
              buffer[start + 4] == 47, buffer[start + 6] == 46,
              isDigit(buffer[start + 5]), isDigit(buffer[start + 7])
        else { throw .bad("malformed HTTP version") }
        let major = Int(buffer[start + 5] - 48), minor = Int(buffer[start + 7] - 48)
        guard major == 1 else { throw HTTPParseError(.httpVersionNotSupported, "only HTTP/1.x is supported") }
        return HTTPVersion(major: major, minor: minor)
    }

    // MARK: - Field lines (RFC 9112 §5, RFC 9110 §5.5)

    private func parseFieldLine(_ start: Int, _ end: Int) throws(HTTPParseError) -> HTTPHeaders.Field {
        var colon = -1
        var i = start
        while i < end {
            let b = buffer[i]
            if b == 58 { colon = i; break }
            // Covers obs-fold (a line starting with SP/HTAB) and whitespace before the colon.
            if !isTokenChar(b) { throw .bad(b == 32 || b == 9 ? "whitespace in field name" : "invalid field name") }
            i += 1
        }
        guard colon > start else { throw .bad(colon == start ? "empty field name" : "field line without colon") }
        var vs = colon + 1, ve = end
        while vs < ve, buffer[vs] == 32 || buffer[vs] == 9 { vs += 1 }
        while ve > vs, buffer[ve - 1] == 32 || buffer[ve - 1] == 9 { ve -= 1 }
        for j in vs..<ve {
            let b = buffer[j]
            // field-vchar / obs-text, with SP and HTAB inside; every other control byte is refused.
            if b < 32 && b != 9 || b == 127 { throw .bad("invalid character in field value") }
        }
        return HTTPHeaders.Field(
            name: String(decoding: buffer[start..<colon], as: UTF8.self),
            value: String(decoding: buffer[vs..<ve], as: UTF8.self))
    }

    // MARK: - Head complete: framing and target (RFC 9112 §3.2, §6)

    private mutating func finishHead() throws(HTTPParseError) -> HTTPParserEvent {
        guard let line = requestLine else { throw .bad("missing request line") }
        let version = line.version
        // The fields move into the head; `removeAll(keepingCapacity:)` then gives the next
        // request fresh storage of the same size (the old storage now belongs to the head).
        let headers = HTTPHeaders(fields: fields)
        fields.removeAll(keepingCapacity: true)

        // One pass over the fields notes the ones that govern framing and Host; the lists are
        // only built when such a field is present (rare for Transfer-Encoding, Content-Length).
        var hostCount = 0
        var host: String?
        var hasTransferEncoding = false, hasContentLength = false
        for field in headers.fields {
            switch field.name.utf8.count {
            case 4 where asciiCaseInsensitiveEquals(field.name, "host"):
                hostCount += 1
                if host == nil { host = field.value }
            case 14 where asciiCaseInsensitiveEquals(field.name, "content-length"):
                hasContentLength = true
            case 17 where asciiCaseInsensitiveEquals(field.name, "transfer-encoding"):
                hasTransferEncoding = true
            default:
                break
            }
        }
        if hostCount > 1 { throw .bad("more than one Host field") }
        if version.minor >= 1 && hostCount == 0 { throw .bad("missing Host field") }
        if let host, !isValidHost(host) { throw .bad("invalid Host field") }

        let path: String, query: String
        if let origin = line.originForm {
            (path, query) = origin
        } else {
            (path, query) = try splitTarget(method: line.method, target: line.target)
        }
        let method = line.method
        let target = line.target

        var framing = HTTPBodyFraming.none
        let transferEncodings = hasTransferEncoding ? headers.values("transfer-encoding") : []
        let contentLengths = hasContentLength ? headers.values("content-length") : []
        if !transferEncodings.isEmpty {
            if !contentLengths.isEmpty { throw .bad("both Transfer-Encoding and Content-Length") }
            if version.minor == 0 { throw .bad("Transfer-Encoding in HTTP/1.0") }
            let codings = headers.tokens("transfer-encoding")
            guard let last = codings.last, last == "chunked" else {
                if codings.contains("chunked") { throw .bad("chunked is not the final transfer coding") }
                throw HTTPParseError(.notImplemented, "unsupported transfer coding")
            }
            if codings.count > 1 {
                if codings.dropLast().contains("chunked") { throw .bad("chunked applied twice") }
                throw HTTPParseError(.notImplemented, "unsupported transfer coding")
            }
            framing = .chunked
        } else if !contentLengths.isEmpty {
            var length: Int?
            for value in contentLengths {
                let n = try parseContentLength(value)
                if let length, length != n { throw .bad("conflicting Content-Length values") }
                length = n
            }
            framing = .contentLength(length ?? 0)
        }

        bodyReceived = 0
        switch framing {
        case .none: state = .fixedBody(remaining: 0)
        case .contentLength(let n): state = .fixedBody(remaining: n)
        case .chunked: state = .chunkSize
        }
        let head = HTTPRequestHead(method: HTTPMethod(method), target: target, path: path, query: query,
                                   version: version, headers: headers, framing: framing)
        return .head(head)
    }

    private func splitTarget(method: String, target: String) throws(HTTPParseError) -> (String, String) {
        if target == "*" {
            if method == "OPTIONS" { return ("*", "") }
            // A method this server knows, sent to "*", is malformed (RFC 9112 §3.2.4); a method
            // it does not know (M-SEARCH, an SSDP probe) is a well-formed request it does not
            // implement (RFC 9110 §9.1, §15.6.2).
            let known = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "CONNECT", "TRACE"]
            throw known.contains(method) ? .bad("asterisk-form is only for OPTIONS")
                : HTTPParseError(.notImplemented, "method \(method.prefix(20)) not implemented")
        }
        var rest = Substring(target)
        if !target.hasPrefix("/") {
            // absolute-form: scheme "://" authority path-abempty [ "?" query ]
            let lower = target.lowercasedASCII()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
                throw .bad("unsupported request target form")
            }
            let afterScheme = rest.dropFirst(lower.hasPrefix("https://") ? 8 : 7)
            guard let slash = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) else {
                return ("/", "")
            }
            rest = afterScheme[slash...]
            if rest.hasPrefix("?") { rest = "/" + rest }
        }
        if let q = rest.firstIndex(of: "?") {
            return (String(rest[..<q]), String(rest[rest.index(after: q)...]))
        }
        return (String(rest), "")
    }

    private func parseContentLength(_ value: String) throws(HTTPParseError) -> Int {
        guard !value.isEmpty else { throw .bad("empty Content-Length") }
        var n = 0
        for b in value.utf8 {
            guard isDigit(b) else { throw .bad("invalid Content-Length") }
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int(b - 48))
            if o1 || o2 { throw HTTPParseError(.contentTooLarge, "Content-Length too large") }
            n = s
        }
        return n
    }

    /// chunk-size [ chunk-ext ]: 1*HEXDIG *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )
    private func parseChunkSizeLine(_ start: Int, _ end: Int) throws(HTTPParseError) -> Int {
        var i = start
        var size = 0
        while i < end, let d = hexValue(buffer[i]) {
            if size > (Int.max >> 4) { throw HTTPParseError(.contentTooLarge, "chunk size too large") }
            size = size << 4 | d
            i += 1
        }
        guard i > start else { throw .bad("invalid chunk size") }
        if size > Int.max >> 8 { throw HTTPParseError(.contentTooLarge, "chunk size too large") }
        // Extensions: accepted and ignored, but they must be well-formed.
        while i < end {
            while i < end, buffer[i] == 32 || buffer[i] == 9 { i += 1 }
            guard i < end, buffer[i] == 59 else { throw .bad("invalid chunk size") }
            i += 1
            while i < end, buffer[i] == 32 || buffer[i] == 9 { i += 1 }
            let nameStart = i
            while i < end, isTokenChar(buffer[i]) { i += 1 }
            guard i > nameStart else { throw .bad("invalid chunk extension") }
            while i < end, buffer[i] == 32 || buffer[i] == 9 { i += 1 }
            if i < end, buffer[i] == 61 {
                i += 1
                while i < end, buffer[i] == 32 || buffer[i] == 9 { i += 1 }
                if i < end, buffer[i] == 34 {
                    i += 1
                    var closed = false
                    while i < end {
                        let b = buffer[i]
                        if b == 92 { i += 2; continue }
                        i += 1
                        if b == 34 { closed = true; break }
                        if b < 32 && b != 9 { throw .bad("invalid chunk extension") }
                    }
                    guard closed, i <= end else { throw .bad("invalid chunk extension") }
                } else {
                    let valueStart = i
                    while i < end, isTokenChar(buffer[i]) { i += 1 }
                    guard i > valueStart else { throw .bad("invalid chunk extension") }
                }
            }
        }
        return size
    }
}

// MARK: - Character classes

/// tchar (RFC 9110 §5.6.2).
@inline(__always)
func isTokenChar(_ b: UInt8) -> Bool {
    switch b {
    case 48...57, 65...90, 97...122: return true
    case 33, 35, 36, 37, 38, 39, 42, 43, 45, 46, 94, 95, 96, 124, 126: return true
    default: return false
    }
}

@inline(__always)
func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

@inline(__always)
func hexValue(_ b: UInt8) -> Int? {
    switch b {
    case 48...57: return Int(b - 48)
    case 65...70: return Int(b - 55)
    case 97...102: return Int(b - 87)
    default: return nil
    }
}

/// Host = uri-host [ ":" port ]: no list, no whitespace, no userinfo (RFC 9112 §3.2).
func isValidHost(_ host: String) -> Bool {
    var host = host
    // Checked on every request: a bit set over contiguous bytes instead of a switch per
    // element of a String.UTF8View.
    return host.withUTF8 { bytes in
        for b in bytes {
            let allowed = b < 64 ? hostCharsLow & (1 << UInt64(b)) != 0
                : b < 128 ? hostCharsHigh & (1 << UInt64(b - 64)) != 0 : false
            if !allowed { return false }
        }
        return true
    }
}

/// The bytes `isValidHost` allows: ALPHA, DIGIT and - . _ ~ : [ ] ! $ & ' ( ) * + ; = %,
/// as two 64-bit sets (bytes 0–63 and 64–127).
private let (hostCharsLow, hostCharsHigh): (UInt64, UInt64) = {
    var low: UInt64 = 0, high: UInt64 = 0
    var allowed: [UInt8] = Array(48...57) + Array(65...90) + Array(97...122)
    allowed += [45, 46, 95, 126, 58, 91, 93, 33, 36, 38, 39, 40, 41, 42, 43, 59, 61, 37]
    for b in allowed {
        if b < 64 { low |= 1 << UInt64(b) } else { high |= 1 << UInt64(b - 64) }
    }
    return (low, high)
}()
