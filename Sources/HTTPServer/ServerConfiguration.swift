import HTTPCore

/// Every limit and deadline of the server in one place.
public struct ServerConfiguration: Sendable {
    public var host: String = "127.0.0.1"
    /// 0 asks the kernel for a free port (tests); `HTTPServer.port` tells which.
    public var port: Int = 8080
    public var backlog: Int32 = 1024
    /// Serial queues that own the connections, assigned round-robin. Handlers run on them
    /// unless they move their work elsewhere, so a couple per core keeps both cores busy.
    public var loopCount: Int = max(2, System.coreCount)
    /// Connections beyond this are answered 503 and closed at once.
    public var maxConnections: Int = 10_000

    public var parserLimits = HTTPParserLimits()
    /// Body limit when the application does not say otherwise.
    public var defaultBodyLimit: Int = HTTPParserLimits.defaultBodyLimit
    /// Request bodies larger than this are written to a temporary file while they arrive.
    public var bodySpoolThreshold: Int = 1 << 20
    public var temporaryDirectory: String = "/tmp"

    /// From the first byte of a request to the end of its header section.
    public var headerTimeout: Double = 10
    /// From the end of the header section to the end of the body.
    public var bodyTimeout: Double = 30
    /// A kept-alive connection with no request in progress.
    public var idleTimeout: Double = 60
    /// A response the client does not read: no write progress for this long closes it.
    public var writeTimeout: Double = 30
    /// After an error response: how long to drain the client's remaining bytes (RFC 9112 §9.6).
    public var lingerTimeout: Double = 2
    /// How long a graceful shutdown waits for in-flight requests before closing anyway.
    public var shutdownTimeout: Double = 30

    /// Smallest body worth compressing with gzip.
    public var gzipMinimumBytes: Int = 1024
    public var gzipLevel: Int32 = 5
    /// One access-log line per request.
    public var accessLog: Bool = true

    public init() {}
}

public enum System {
    public static var coreCount: Int {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 2
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif
