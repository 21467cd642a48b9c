import HTTPCore
import Logging
import Synchronization

/// Serves the files under one directory (`Public/`) for GET and HEAD.
///
/// `response(for:)` answers nil whenever the path does not name a regular file inside the root,
/// so the router can go on to a 404; it never says why (traversal, dotfile, missing file).
///
/// This is a hot path measured against nginx, so small files (≤ `maxCachedFileBytes`, within a
/// total of `maxCacheBytes`) are kept in memory with ready-made headers and, where useful, a
/// gzip copy. A cached file is checked against the disk at most once per `revalidationInterval`;
/// between checks a request costs one dictionary look-up under a lock and no system call.
public final class StaticFiles: Sendable {
    public struct Options: Sendable, Equatable {
        /// Sent with every 200 and 304.
        public var cacheControl: String
        /// Files up to this size are kept in memory.
        public var maxCachedFileBytes: Int
        /// The most bytes (plain and gzip) kept in memory in all.
        public var maxCacheBytes: Int
        /// Smaller files are never gzipped: the saving does not pay for the header and CPU.
        public var minimumGzipBytes: Int
        /// How long a cached file is trusted before its status is read again.
        public var revalidationInterval: Duration

        public init(cacheControl: String = "public, max-age=3600", maxCachedFileBytes: Int = 1 << 20,
                    maxCacheBytes: Int = 32 << 20, minimumGzipBytes: Int = 1024,
                    revalidationInterval: Duration = .seconds(1)) {
            self.cacheControl = cacheControl
            self.maxCachedFileBytes = maxCachedFileBytes
            self.maxCacheBytes = maxCacheBytes
            self.minimumGzipBytes = minimumGzipBytes
            self.revalidationInterval = revalidationInterval
        }
    }

    private struct Slot: Sendable {
        var entry: StaticFileEntry
        var checkedAt: UInt64
    }

    private struct Cache: Sendable {
        var slots: [String: Slot] = [:]
        var bytes = 0
    }

    /// The directory as configured.
    public let root: String
    public let options: Options
    /// `root` with symbolic links resolved; nil if it does not exist (then nothing is served).
    private let resolvedRoot: String?
    private let intervalNanoseconds: UInt64
    private let logger: Logger
    private let cache = Mutex(Cache())

    public init(root: String, options: Options = Options(),
                logger: Logger = Logger(label: "jinlin.static-files")) {
        self.root = root
        self.options = options
        self.logger = logger
        let resolved = FileSystem.realPath(root)
        if resolved == nil {
            logger.error("static files root not found; nothing will be served", metadata: ["root": "\(root)"])
        }
        self.resolvedRoot = resolved
        let (seconds, attoseconds) = options.revalidationInterval.components
        self.intervalNanoseconds = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds / 1_000_000_000))
    }

    /// The response for a GET or HEAD of a file under the root; nil when there is none.
    ///
    /// For HEAD the response is the GET response, body included: the server sends its header
    /// section, with the Content-Length of that body, and omits the content (RFC 9110 §9.3.2).
    public func response(for request: HTTPRequest) -> HTTPResponse? {
        guard request.method == .get || request.method == .head,
              let key = StaticFiles.relativePath(request.path),
              let entry = entry(for: key) else { return nil }
        return response(from: entry, requestHeaders: request.headers)
    }

    /// Drops every cached file (after a deploy, or in tests).
    public func purge() {
        cache.withLock { $0 = Cache() }
    }

    /// Bytes currently held in memory.
    public var cachedBytes: Int { cache.withLock { $0.bytes } }

    // MARK: - Paths

    /// The request path as a path relative to the root, or nil if it must not be served:
    /// invalid UTF-8 after percent-decoding, an empty, "." or ".." segment, a dotfile or
    /// dot-directory, a NUL or a backslash anywhere.
    static func relativePath(_ requestPath: String) -> String? {
        guard requestPath.utf8.first == UInt8(ascii: "/") else { return nil }
        let decoded: String
        if requestPath.utf8.contains(UInt8(ascii: "%")) {
            guard let value = FormData.percentDecode(requestPath, plusAsSpace: false) else { return nil }
            decoded = value
        } else {
            decoded = requestPath
        }
        let relative = decoded.utf8.dropFirst()
        guard isSafeRelativePath(relative) else { return nil }
        return String(decoded.dropFirst())
    }

    private static func isSafeRelativePath(_ bytes: Substring.UTF8View) -> Bool {
        guard !bytes.isEmpty else { return false }
        var segmentStart = true
        for byte in bytes {
            if byte == 0 || byte == UInt8(ascii: "\\") { return false }
            if segmentStart && (byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/")) { return false }
            segmentStart = byte == UInt8(ascii: "/")
        }
        return !segmentStart  // no trailing "/": a directory is not a file
    }

    /// Whether a canonical path lies strictly inside the root and, relative to it, still has
    /// no dot segment (a symlink inside the root must not lead to a dotfile either).
    private func isServable(_ canonical: String, root: String) -> Bool {
        let prefix = root.hasSuffix("/") ? root : root + "/"
        guard canonical.hasPrefix(prefix) else { return false }
        return StaticFiles.isSafeRelativePath(canonical.dropFirst(prefix.count).utf8)
    }

    // MARK: - The cache

    private func entry(for key: String) -> StaticFileEntry? {
        let now = FileSystem.monotonicNanoseconds()
        let cached = cache.withLock { $0.slots[key] }
        if let cached, now < cached.checkedAt &+ intervalNanoseconds { return cached.entry }

        let fresh = load(key, previous: cached?.entry)
        cache.withLock { state in
            if let old = state.slots.removeValue(forKey: key) { state.bytes -= old.entry.cost }
            guard let fresh else { return }
            var stored = fresh
            if fresh.cost > 0 && state.bytes + fresh.cost > options.maxCacheBytes {
                stored = fresh.withoutBodies(cacheControl: options.cacheControl)
            }
            state.bytes += stored.cost
            state.slots[key] = Slot(entry: stored, checkedAt: now)
        }
        return fresh
    }

    /// Reads the file's status (and, if it changed or is new, its content) from disk.
    private func load(_ key: String, previous: StaticFileEntry?) -> StaticFileEntry? {
        guard let root = resolvedRoot,
              let canonical = FileSystem.realPath(root + "/" + key), isServable(canonical, root: root),
              let status = FileSystem.status(canonical), status.isRegularFile else { return nil }

        let contentType = StaticFiles.contentType(forPath: canonical)
        let gzipEligible = Gzip.isCompressible(contentType: contentType) && status.size >= options.minimumGzipBytes
        let sibling = gzipEligible ? gzipSibling(of: canonical, original: status, root: root) : nil

        if let previous, previous.path == canonical, previous.status == status, previous.sibling == sibling {
            return previous
        }

        var body: [UInt8]?
        var bodyStatus = status
        if status.size <= options.maxCachedFileBytes {
            guard let read = FileSystem.readFile(canonical, limit: options.maxCachedFileBytes, noFollow: true) else {
                logger.warning("cannot read static file", metadata: ["path": "\(canonical)"])
                return nil
            }
            body = read.bytes
            bodyStatus = read.status
        }

        var gzipBody: [UInt8]?
        if gzipEligible {
            if let sibling, sibling.status.size <= options.maxCachedFileBytes {
                gzipBody = FileSystem.readFile(sibling.path, limit: options.maxCachedFileBytes, noFollow: true)?.bytes
            } else if sibling == nil, let body, let compressed = Gzip.compress(body), compressed.count < body.count {
                gzipBody = compressed
            }
        }
        return StaticFileEntry(path: canonical, status: bodyStatus, contentType: contentType,
                               gzipEligible: gzipEligible, sibling: sibling, body: body, gzipBody: gzipBody,
                               cacheControl: options.cacheControl)
    }

    /// `name.gz` beside the file, if it is a regular file inside the root at least as new as
    /// the original (a stale one would serve old content).
    private func gzipSibling(of canonical: String, original: FileSystem.Status,
                             root: String) -> StaticFileEntry.GzipSibling? {
        guard let path = FileSystem.realPath(canonical + ".gz"), isServable(path, root: root),
              let status = FileSystem.status(path), status.isRegularFile else { return nil }
        let newer = (status.mtimeSeconds, status.mtimeNanoseconds) >= (original.mtimeSeconds, original.mtimeNanoseconds)
        return newer ? StaticFileEntry.GzipSibling(path: path, status: status) : nil
    }

    // MARK: - Responses

    private func response(from entry: StaticFileEntry, requestHeaders: HTTPHeaders) -> HTTPResponse? {
        let gzip = entry.hasGzip && StaticFiles.acceptsGzip(requestHeaders)

        // RFC 9110 §13.2.2: If-None-Match is evaluated first; when present, If-Modified-Since
        // is ignored (§13.1.3). Both only apply to GET and HEAD, the only methods here.
        let ifNoneMatch = requestHeaders.values("if-none-match")
        if !ifNoneMatch.isEmpty {
            switch StaticFiles.match(ifNoneMatch, etag: entry.etag, gzipETag: entry.hasGzip ? entry.gzipETag : nil) {
            case .any:
                return HTTPResponse(status: .notModified,
                                    headers: gzip ? entry.gzipNotModifiedHeaders : entry.notModifiedHeaders)
            case .plain:
                return HTTPResponse(status: .notModified, headers: entry.notModifiedHeaders)
            case .gzip:
                return HTTPResponse(status: .notModified, headers: entry.gzipNotModifiedHeaders)
            case .none:
                break
            }
        } else if let since = requestHeaders["if-modified-since"],
                  since == entry.lastModified || HTTPDate.parse(since).map({ entry.status.mtimeSeconds <= $0 }) == true {
            // RFC 9110 §13.1.3: not modified when the last modification is not later than the date.
            return HTTPResponse(status: .notModified, headers: gzip ? entry.gzipNotModifiedHeaders : entry.notModifiedHeaders)
        }

        if gzip {
            if let gzipBody = entry.gzipBody {
                return HTTPResponse(status: .ok, headers: entry.gzipHeaders, body: .bytes(gzipBody))
            }
            if let sibling = entry.sibling, let body = diskBody(sibling.path, size: sibling.status.size) {
                return HTTPResponse(status: .ok, headers: entry.gzipHeaders, body: body)
            }
        }
        if let body = entry.body {
            return HTTPResponse(status: .ok, headers: entry.headers, body: .bytes(body))
        }
        guard let body = diskBody(entry.path, size: entry.status.size) else { return nil }
        return HTTPResponse(status: .ok, headers: entry.headers, body: body)
    }

    /// A body read from disk for a file not held in memory: at once when small, else streamed
    /// 64 KiB at a time so a large file never sits whole in memory.
    private func diskBody(_ path: String, size: Int) -> HTTPResponseBody? {
        if size <= options.maxCachedFileBytes {
            return FileSystem.readFile(path, limit: options.maxCachedFileBytes, noFollow: true).map { .bytes($0.bytes) }
        }
        guard let fd = FileSystem.openForReading(path, noFollow: true) else { return nil }
        FileSystem.closeFile(fd)
        return .stream { writer in
            guard let fd = FileSystem.openForReading(path, noFollow: true) else { throw HTTPConnectionGone() }
            defer { FileSystem.closeFile(fd) }
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = chunk.withUnsafeMutableBytes { FileSystem.readSome(fd: fd, into: $0) }
                guard let count else { throw HTTPConnectionGone() }
                if count == 0 { return }
                try writer.write(Array(chunk[0..<count]))
            }
        }
    }

    /// Accept-Encoding values browsers and benchmark tools send verbatim; each has "gzip"
    /// without a q-value as its first gzip element, so `Gzip.isAccepted` would say yes.
    private static let commonGzipAcceptEncodings: Set<String> = [
        "gzip", "gzip, deflate", "gzip,deflate", "gzip, br", "gzip, deflate, br", "gzip, deflate, br, zstd",
    ]

    /// `Gzip.isAccepted(by:)` with a fast path for the common header values (it costs ~1 µs).
    static func acceptsGzip(_ headers: HTTPHeaders) -> Bool {
        if let value = headers["accept-encoding"], commonGzipAcceptEncodings.contains(value) { return true }
        return Gzip.isAccepted(by: headers)
    }

    enum ETagMatch: Equatable {
        case none, any, plain, gzip
    }

    /// Evaluates If-None-Match (RFC 9110 §13.1.2) with the weak comparison function (§8.8.3.2):
    /// opaque tags compared with any "W/" prefix ignored; "*" matches any current representation.
    static func match(_ fieldValues: [String], etag: String, gzipETag: String?) -> ETagMatch {
        for value in fieldValues {
            let bytes = Array(value.utf8)
            var i = 0
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                if b == UInt8(ascii: "*") { return .any }
                if b == UInt8(ascii: "W"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "/") { i += 2 }
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { break }  // malformed: stop
                var end = i + 1
                while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
                guard end < bytes.count else { break }
                let tag = String(decoding: bytes[i...end], as: UTF8.self)
                if tag == etag { return .plain }
                if let gzipETag, tag == gzipETag { return .gzip }
                i = end + 1
            }
        }
        return .none
    }

    // MARK: - Content types

    private static let contentTypes: [String: String] = [
        "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8",  // RFC 9239 §6
        "mjs": "text/javascript; charset=utf-8",
        "html": "text/html; charset=utf-8",
        "htm": "text/html; charset=utf-8",
        "txt": "text/plain; charset=utf-8",
        "csv": "text/csv; charset=utf-8",
        "json": "application/json",
        "svg": "image/svg+xml",
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "gif": "image/gif",
        "webp": "image/webp",
        "ico": "image/x-icon",
        "woff2": "font/woff2",
        "woff": "font/woff",
        "pdf": "application/pdf",
        "xml": "application/xml",
        "map": "application/json",
    ]

    /// The Content-Type for a file name, by extension; `application/octet-stream` if unknown.
    public static func contentType(forPath path: String) -> String {
        let name = path.split(separator: "/").last ?? Substring(path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "application/octet-stream" }
        let ext = name[name.index(after: dot)...].lowercasedASCII()
        return contentTypes[ext] ?? "application/octet-stream"
    }
}
