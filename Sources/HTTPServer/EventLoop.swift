#if canImport(Glibc)
import Glibc
#endif
import CEpoll
import Dispatch
import HTTPCore
import Synchronization

/// One thread waiting on its own epoll instance: the connections it accepted, the shared
/// listening socket (every loop waits on it with `EPOLLEXCLUSIVE`, so the kernel wakes one loop
/// per arriving connection and accepting spreads over the loops), an eventfd that wakes it when
/// work comes back from another thread, and a timerfd that sweeps the deadlines four times a
/// second (one timer per loop, however many connections are idle).
///
/// Invariant: `connections`, `dateCache`, `readBuffer`, `logScratch` and `shuttingDown` are
/// only read and written on the loop's own thread; other threads hand work over with
/// `execute` (or `executeAndWait`).
final class EventLoop: @unchecked Sendable {
    let index: Int
    private let epoll: Int32
    private let wakeFD: Int32
    private let timerFD: Int32

    var connections: [Int32: HTTPConnection] = [:]
    var dateCache = DateCache()
    /// One read buffer per loop: reads on this thread never overlap.
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    /// Where access-log lines are assembled, reused so a line costs no buffer allocation.
    var logScratch: [UInt8] = []
    var shuttingDown = false

    private let tasks = Mutex<[@Sendable () -> Void]>([])
    /// Set while an eventfd write is outstanding, so a burst of hand-overs costs one write.
    private let wakePending = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let thread = Mutex<pthread_t?>(nil)
    private var listener: Int32 = -1
    private weak var server: HTTPServer?
    /// Stamped on a connection's registration so a stale event for a reused descriptor number
    /// is recognised and dropped.
    private var generation: UInt32 = 0

    static let wakeToken = UInt64.max
    static let timerToken = UInt64.max - 1
    static let listenerToken = UInt64.max - 2
    static let sweepInterval = 250_000_000 as Int

    init(index: Int) throws {
        self.index = index
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        timerFD = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
        guard epoll >= 0, wakeFD >= 0, timerFD >= 0 else {
            let code = errno
            for fd in [epoll, wakeFD, timerFD] where fd >= 0 { Glibc.close(fd) }
            throw Socket.Failure(call: "epoll_create1/eventfd/timerfd_create", code: code)
        }
        add(wakeFD, events: UInt32(EPOLLIN.rawValue), token: Self.wakeToken)
        add(timerFD, events: UInt32(EPOLLIN.rawValue), token: Self.timerToken)
    }

    deinit {
        readBuffer.deallocate()
        Glibc.close(epoll)
        Glibc.close(wakeFD)
        Glibc.close(timerFD)
    }

    // MARK: - Thread

    /// Starts the loop's thread, waiting on `listener` too.
    func start(server: HTTPServer, listener: Int32) {
        self.server = server
        self.listener = listener
        add(listener, events: UInt32(EPOLLIN.rawValue) | UInt32(EPOLLEXCLUSIVE.rawValue), token: Self.listenerToken)
        var spec = itimerspec()
        spec.it_interval.tv_nsec = Self.sweepInterval
        spec.it_value.tv_nsec = Self.sweepInterval
        timerfd_settime(timerFD, 0, &spec, nil)
        if let handle = startThread({ [self] in run() }) { thread.withLock { $0 = handle } }
    }

    /// Whether the caller runs on this loop's thread.
    var inLoop: Bool {
        thread.withLock { handle in handle.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    /// Asks the thread to finish (after the tasks already handed over) and waits for it.
    func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake()
        guard let handle = thread.withLock({ $0 }) else { return }
        if pthread_equal(handle, pthread_self()) != 0 { return }
        pthread_join(handle, nil)
    }

    private func run() {
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while true {
            let n = epoll_wait(epoll, events, Int32(capacity), -1)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            for i in 0..<Int(n) {
                let event = events[i]
                switch event.data.u64 {
                case Self.wakeToken:
                    var value: UInt64 = 0
                    _ = Glibc.read(wakeFD, &value, 8)
                    wakePending.store(false, ordering: .releasing)
                    runTasks()
                case Self.timerToken:
                    var expirations: UInt64 = 0
                    _ = Glibc.read(timerFD, &expirations, 8)
                    sweep()
                case Self.listenerToken:
                    server?.acceptPending(listener, on: self)
                case let token:
                    let fd = Int32(truncatingIfNeeded: token & 0xFFFF_FFFF)
                    guard let connection = connections[fd], connection.generation == UInt32(truncatingIfNeeded: token >> 32) else { continue }
                    connection.handle(events: event.events)
                }
            }
            if stopping.load(ordering: .acquiring) {
                runTasks()
                return
            }
        }
    }

    // MARK: - Hand-over from other threads

    /// Runs `task` on the loop's thread, soon.
    func execute(_ task: @escaping @Sendable () -> Void) {
        tasks.withLock { $0.append(task) }
        wake()
    }

    /// Runs `body` on the loop's thread and returns its result (at once when called there).
    func executeAndWait<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        if inLoop { return body() }
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<T?>(nil)
        execute {
            let value = body()
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }

    private func wake() {
        guard !wakePending.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    private func runTasks() {
        while true {
            let batch = tasks.withLock { list -> [@Sendable () -> Void] in
                let taken = list
                list.removeAll(keepingCapacity: true)
                return taken
            }
            if batch.isEmpty { return }
            for task in batch { task() }
        }
    }

    // MARK: - Registrations

    private func add(_ fd: Int32, events: UInt32, token: UInt64) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = token
        epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event)
    }

    /// Registers a connection's descriptor; returns the generation its events carry.
    func register(_ connection: HTTPConnection, events: UInt32) -> UInt32 {
        generation &+= 1
        connections[connection.fd] = connection
        add(connection.fd, events: events, token: UInt64(generation) << 32 | UInt64(UInt32(bitPattern: connection.fd)))
        return generation
    }

    func modify(_ connection: HTTPConnection, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = UInt64(connection.generation) << 32 | UInt64(UInt32(bitPattern: connection.fd))
        if epoll_ctl(epoll, EPOLL_CTL_MOD, connection.fd, &event) != 0 && errno == ENOENT {
            epoll_ctl(epoll, EPOLL_CTL_ADD, connection.fd, &event)
        }
    }

    /// Stops waiting on a connection's descriptor (before it is closed, or while nothing on it
    /// is awaited and a hang-up would otherwise be reported again and again).
    func unwatch(_ fd: Int32) {
        epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil)
    }

    func forget(_ connection: HTTPConnection) {
        unwatch(connection.fd)
        if connections[connection.fd] === connection { connections[connection.fd] = nil }
    }

    /// Stops taking new connections (the listener stays open until every loop let go of it).
    func unwatchListener() {
        guard listener >= 0 else { return }
        unwatch(listener)
        listener = -1
    }

    // MARK: - Deadlines and shutdown

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
