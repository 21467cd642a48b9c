#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Logging
import Synchronization
import HTTPCore

/// An HTTP/1.1 server on non-blocking sockets and Dispatch sources.
///
/// Connections are spread round-robin over a few serial "loop" queues; a connection's state is
/// only ever touched on its loop's queue. Idle connections cost a descriptor and a small object,
/// never a thread.
public final class HTTPServer: Sendable {
    public let configuration: ServerConfiguration
    let handler: any HTTPHandler
    let logger: Logger
    let accessLogger: Logger?

    private let loops: [EventLoop]
    private let acceptQueue = DispatchQueue(label: "jinlin.http.accept")
    private let state = Mutex(ServerState())
    let openConnections = Atomic<Int>(0)
    private let stopped = DispatchSemaphore(value: 0)

    struct ServerState: ~Copyable {
        var listener: Int32 = -1
        var port = 0
        var acceptSource: AcceptSource?
        var nextLoop = 0
        var shuttingDown = false
        var running = false
    }

    public init(configuration: ServerConfiguration, handler: any HTTPHandler, logger: Logger, accessLogger: Logger? = nil) {
        self.configuration = configuration
        self.handler = handler
        self.logger = logger
        self.accessLogger = configuration.accessLog ? (accessLogger ?? logger) : nil
        self.loops = (0..<max(1, configuration.loopCount)).map { EventLoop(index: $0) }
    }

    /// The bound port (useful when the configuration asked for port 0).
    public var port: Int { state.withLock { $0.port } }

    /// Binds, listens and starts accepting. Returns once the socket is listening.
    public func start() throws {
        signal(SIGPIPE, SIG_IGN)
        let fd = try Socket.listen(host: configuration.host, port: configuration.port, backlog: configuration.backlog)
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: acceptQueue)
        source.setEventHandler { [unowned self] in self.acceptPending(fd) }
        source.setCancelHandler { close(fd) }
        state.withLock {
            $0.listener = fd
            $0.port = Socket.localPort(fd)
            $0.acceptSource = AcceptSource(source: source)
            $0.running = true
        }
        for loop in loops { loop.startSweeping(server: self) }
        source.resume()
        logger.info("listening on \(configuration.host):\(port)")
    }

    private func acceptPending(_ listener: Int32) {
        while let (fd, peer) = Socket.accept(listener) {
            if state.withLock({ $0.shuttingDown }) {
                close(fd)
                continue
            }
            do { try Socket.setNonBlocking(fd) } catch { close(fd); continue }
            if openConnections.add(1, ordering: .relaxed).newValue > configuration.maxConnections {
                openConnections.subtract(1, ordering: .relaxed)
                let busy = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                _ = busy.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                close(fd)
                continue
            }
            Socket.setNoDelay(fd)
            let loop = state.withLock { s -> EventLoop in
                let l = loops[s.nextLoop % loops.count]
                s.nextLoop &+= 1
                return l
            }
            let connection = HTTPConnection(fd: fd, peer: peer, loop: loop, server: self)
            loop.queue.async { connection.open() }
        }
    }

    /// Stops accepting, lets in-flight requests finish, closes idle connections. Safe to call
    /// more than once and from any thread (a signal handler's queue, a test).
    public func shutdown() {
        let source: AcceptSource? = state.withLock {
            if $0.shuttingDown { return nil }
            $0.shuttingDown = true
            return $0.acceptSource
        }
        guard let source else { return }
        logger.info("shutting down: no new connections, finishing in-flight requests")
        source.source.cancel()
        for loop in loops {
            loop.queue.async { loop.beginShutdown() }
        }
        let deadline = monotonicNanos() + nanos(configuration.shutdownTimeout)
        WorkerPool.shared.run { [self] in
            while openConnections.load(ordering: .relaxed) > 0 && monotonicNanos() < deadline {
                usleep(10_000)
            }
            if openConnections.load(ordering: .relaxed) > 0 {
                logger.warning("shutdown timeout: closing \(openConnections.load(ordering: .relaxed)) connections")
                for loop in loops { loop.queue.sync { loop.closeAll() } }
            }
            for loop in loops { loop.queue.sync { loop.stopSweeping() } }
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

/// The listening socket's source; only resumed once and cancelled once.
struct AcceptSource: @unchecked Sendable {
    let source: any DispatchSourceRead
}

/// A serial queue that owns a set of connections and sweeps their deadlines.
final class EventLoop: @unchecked Sendable {
    // Invariant: every property below is read and written only on `queue`.
    let queue: DispatchQueue
    var connections: [ObjectIdentifier: HTTPConnection] = [:]
    var dateCache = DateCache()
    /// One read buffer per loop: reads on this queue never overlap.
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    /// Where access-log lines are assembled, reused so a line costs no buffer allocation.
    var logScratch: [UInt8] = []
    private var sweepTimer: (any DispatchSourceTimer)?
    var shuttingDown = false

    init(index: Int) {
        queue = DispatchQueue(label: "jinlin.http.loop\(index)")
    }

    deinit { readBuffer.deallocate() }

    func startSweeping(server: HTTPServer) {
        queue.async { [self] in
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.schedule(deadline: .now() + .milliseconds(250), repeating: .milliseconds(250), leeway: .milliseconds(50))
            timer.setEventHandler { [unowned self] in self.sweep() }
            timer.resume()
            sweepTimer = timer
        }
    }

    func stopSweeping() {
        sweepTimer?.cancel()
        sweepTimer = nil
    }

    private func sweep() {
        let now = monotonicNanos()
        for connection in connections.values where connection.deadline != 0 && connection.deadline <= now {
            connection.deadlinePassed()
        }
    }

    func beginShutdown() {
        shuttingDown = true
        for connection in Array(connections.values) { connection.serverShuttingDown() }
    }

    func closeAll() {
        for connection in Array(connections.values) { connection.close() }
    }
}
