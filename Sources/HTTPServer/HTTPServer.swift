#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Logging
import Synchronization
import HTTPCore

/// An HTTP/1.1 server on non-blocking sockets and epoll event loops.
///
/// `max(2, cores)` loops each wait on their own epoll instance (`EventLoop`); every loop also
/// waits on the listening socket, and the loop the kernel wakes accepts the connection and owns
/// it from then on: a connection's state is only ever touched on its loop's thread. Idle
/// connections cost a descriptor and a small object, never a thread or a timer. Work that leaves
/// a loop (an offloaded handler, a streamed body) runs on `WorkerPool.shared` and hands its
/// result back through the loop's eventfd.
public final class HTTPServer: Sendable {
    public let configuration: ServerConfiguration
    let handler: any HTTPHandler
    let logger: Logger
    let accessLogger: Logger?
    /// The access log's file, written without swift-log (see `LogFile.appendLine`).
    let accessLogFile: LogFile?

    private let loops: [EventLoop]
    private let state = Mutex(ServerState())
    let openConnections = Atomic<Int>(0)
    private let stopped = DispatchSemaphore(value: 0)

    struct ServerState: ~Copyable {
        var listener: Int32 = -1
        var port = 0
        /// Loops still waiting on the listener; the last one to let go closes it.
        var listening = 0
        var shuttingDown = false
        var running = false
    }

    /// Throws when the loops' epoll instances, eventfds or timerfds cannot be had (descriptors
    /// exhausted).
    /// The access log goes to `accessLogFile` when given, else to `accessLogger`, else to `logger`;
    /// nowhere when `configuration.accessLog` is off.
    public init(configuration: ServerConfiguration, handler: any HTTPHandler, logger: Logger, accessLogger: Logger? = nil,
                accessLogFile: LogFile? = nil) throws {
        self.configuration = configuration
        self.handler = handler
        self.logger = logger
        self.accessLogFile = configuration.accessLog ? accessLogFile : nil
        self.accessLogger = configuration.accessLog && accessLogFile == nil ? (accessLogger ?? logger) : nil
        self.loops = try (0..<max(1, configuration.loopCount)).map { try EventLoop(index: $0) }
    }

    /// The bound port (useful when the configuration asked for port 0).
    public var port: Int { state.withLock { $0.port } }

    /// Binds, listens and starts accepting. Returns once the socket is listening.
    public func start() throws {
        signal(SIGPIPE, SIG_IGN)
        let fd = try Socket.listen(host: configuration.host, port: configuration.port, backlog: configuration.backlog)
        state.withLock {
            $0.listener = fd
            $0.port = Socket.localPort(fd)
            $0.listening = loops.count
            $0.running = true
        }
        for loop in loops { loop.start(server: self, listener: fd) }
        logger.info("listening on \(configuration.host):\(port)")
    }

    /// Accepts one connection pending on `listener` for `loop` (on its thread). One per wake-up,
    /// like nginx without `multi_accept`: the listener is level-triggered, so what is left wakes
    /// a loop that is waiting, and a burst of connections spreads over the loops instead of
    /// landing on the first one awake.
    func acceptPending(_ listener: Int32, on loop: EventLoop) {
        guard let (fd, peer) = Socket.accept(listener) else { return }
        if state.withLock({ $0.shuttingDown }) {
            close(fd)
            return
        }
        do { try Socket.setNonBlocking(fd) } catch { close(fd); return }
        if openConnections.add(1, ordering: .relaxed).newValue > configuration.maxConnections {
            openConnections.subtract(1, ordering: .relaxed)
            let busy = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            _ = busy.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            close(fd)
            return
        }
        Socket.setNoDelay(fd)
        HTTPConnection(fd: fd, peer: peer, loop: loop, server: self).open()
    }

    /// Stops accepting, lets in-flight requests finish, closes idle connections. Safe to call
    /// more than once and from any thread (a signal handler's queue, a test).
    public func shutdown() {
        let started: Bool = state.withLock {
            if $0.shuttingDown || !$0.running { return false }
            $0.shuttingDown = true
            return true
        }
        guard started else { return }
        logger.info("shutting down: no new connections, finishing in-flight requests")
        for loop in loops {
            loop.execute { [self] in
                loop.unwatchListener()
                let listener: Int32? = state.withLock {
                    $0.listening -= 1
                    return $0.listening == 0 ? $0.listener : nil
                }
                if let listener { close(listener) }
                loop.beginShutdown()
            }
        }
        let deadline = monotonicNanos() + nanos(configuration.shutdownTimeout)
        WorkerPool.shared.run { [self] in
            while openConnections.load(ordering: .relaxed) > 0 && monotonicNanos() < deadline {
                usleep(10_000)
            }
            if openConnections.load(ordering: .relaxed) > 0 {
                logger.warning("shutdown timeout: closing \(openConnections.load(ordering: .relaxed)) connections")
                for loop in loops { loop.executeAndWait { loop.closeAll() } }
            }
            for loop in loops { loop.stop() }
            state.withLock { $0.running = false }
            stopped.signal()
        }
    }

    /// Blocks until `shutdown()` has completed.
    public func waitUntilStopped() {
        stopped.wait()
        stopped.signal()
    }

    var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }
}
