#if canImport(Glibc)
import Glibc
#endif
import CEpoll
import Dispatch
import Logging
import Synchronization
import HTTPCore

/// One client connection: reads and parses requests, hands them to the application one at a
/// time (pipelined requests wait their turn, so responses leave in order), writes responses.
///
/// Invariant: every mutable property is read and written only on its loop's thread. Readiness
/// comes from the loop's epoll instance (`handle(events:)`); work coming back from other threads
/// hops onto the loop with `EventLoop.execute`.
final class HTTPConnection: @unchecked Sendable {
    enum Phase {
        /// Waiting for, or reading, a request head (`headStart` is 0 until its first byte).
        case readingHead
        case readingBody
        /// The application has the request.
        case handling
        /// A streamed body is being produced on a worker thread.
        case streaming
        /// Answered and half-closed; draining what the client still sends (RFC 9112 §9.6).
        case lingering
        case closed
    }

    let fd: Int32
    let peer: String
    let loop: EventLoop
    let server: HTTPServer

    private var parser: HTTPRequestParser
    private var phase = Phase.readingHead
    /// Monotonic deadline for the current phase; 0 when none applies. Checked by the loop's sweep.
    private(set) var deadline: UInt64 = 0

    /// The registration's stamp on this descriptor (see `EventLoop.register`).
    private(set) var generation: UInt32 = 0
    /// The events the loop waits for; nil while the descriptor is not watched at all.
    private var interest: UInt32?
    private var readPaused = false
    private var writeArmed = false
    private var readEOF = false

    private var output: [UInt8] = []
    private var outputOffset = 0
    private var lastWriteProgress: UInt64 = 0
    /// Close (with a lingering half-close) as soon as the output is flushed.
    private var closeWhenFlushed = false

    // The request in progress.
    private var head: HTTPRequestHead?
    private var headStart: UInt64 = 0
    private var bodyStart: UInt64 = 0
    private var idleSince: UInt64 = 0
    private var keepAlive = true
    private var bodyBytes: [UInt8] = []
    private var spool: BodySpool?
    private var rejection: HTTPResponse?
    private var responseStatus = 0
    private var responseBytes = 0
    /// Carries each request's response back; dropped at close, which ends the reference cycle.
    private var responseSlot: ResponseSlot?

    // Streaming back-pressure.
    private var streamWaiter: DispatchSemaphore?
    private static let outputHighWater = 256 * 1024
    private static let inputHighWater = 1 << 20

    init(fd: Int32, peer: String, loop: EventLoop, server: HTTPServer) {
        self.fd = fd
        self.peer = peer
        self.loop = loop
        self.server = server
        var parser = HTTPRequestParser(limits: server.configuration.parserLimits)
        parser.bodyLimit = server.configuration.defaultBodyLimit
        self.parser = parser
    }

    // MARK: - Life cycle

    func open() {
        let events = UInt32(EPOLLIN.rawValue)
        generation = loop.register(self, events: events)
        interest = events
        idleSince = monotonicNanos()
        refreshDeadline()
        if loop.shuttingDown { close() }
    }

    /// Closes at once, dropping anything unsent. The descriptor leaves the epoll set before it
    /// is closed, and a stale event for its number carries an old generation.
    func close() {
        guard phase != .closed else { return }
        phase = .closed
        deadline = 0
        loop.forget(self)
        interest = nil
        streamWaiter?.signal()
        streamWaiter = nil
        responseSlot = nil
        spool?.remove()
        spool = nil
        server.openConnections.subtract(1, ordering: .relaxed)
        Glibc.close(fd)
    }

    /// Closes with a reset: for a client that stopped reading, so the kernel does not keep our
    /// unsent bytes for it either.
    func abort() {
        // Once closed, the descriptor number may already belong to another connection.
        guard phase != .closed else { return }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close()
    }

    // MARK: - Readiness

    /// What the loop's epoll reported for this descriptor.
    func handle(events: UInt32) {
        let trouble = events & UInt32(EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0
        if events & UInt32(EPOLLIN.rawValue) != 0 || (trouble && !readPaused) { onReadable() }
        guard phase != .closed else { return }
        if events & UInt32(EPOLLOUT.rawValue) != 0 || (trouble && writeArmed) { onWritable() }
        guard phase != .closed else { return }
        if trouble && readPaused && !writeArmed {
            // Nothing is awaited on the descriptor (a handler has the request), but a hang-up
            // would be reported again and again: stop watching until there is.
            loop.unwatch(fd)
            interest = nil
        }
    }

    /// Tells the loop which events to wait for: input unless reading is paused, output while
    /// some is queued.
    private func updateInterest() {
        guard phase != .closed else { return }
        var events: UInt32 = 0
        if !readPaused { events |= UInt32(EPOLLIN.rawValue) }
        if writeArmed { events |= UInt32(EPOLLOUT.rawValue) }
        guard events != interest else { return }
        interest = events
        loop.modify(self, events: events)
    }

    func serverShuttingDown() {
        keepAlive = false
        if phase == .readingHead && headStart == 0 && parser.bufferedByteCount == 0 && outputOffset == output.count {
            close()
        }
    }

    // MARK: - Deadlines

    private func refreshDeadline() {
        let cfg = server.configuration
        if outputOffset < output.count {
            deadline = lastWriteProgress + nanos(cfg.writeTimeout)
            return
        }
        switch phase {
        case .readingHead:
            deadline = headStart != 0 ? headStart + nanos(cfg.headerTimeout) : idleSince + nanos(cfg.idleTimeout)
        case .readingBody:
            deadline = bodyStart + nanos(cfg.bodyTimeout)
        case .handling, .streaming, .closed:
            deadline = 0
        case .lingering:
            if deadline == 0 { deadline = monotonicNanos() + nanos(cfg.lingerTimeout) }
        }
    }

    func deadlinePassed() {
        if outputOffset < output.count {
            abort()
            return
        }
        if phase == .lingering {
            close()
            return
        }
        switch phase {
        case .readingHead where headStart == 0:
            close()
        case .readingHead, .readingBody:
            // RFC 9110 §15.5.9: 408 tells a slow client why before the close.
            respondAndClose(.plain(.requestTimeout))
        default:
            break
        }
    }

    // MARK: - Reading

    private func onReadable() {
        guard phase != .closed else { return }
        var received = 0
        while received < 256 * 1024 {
            let n = recv(fd, loop.readBuffer.baseAddress, loop.readBuffer.count, 0)
            if n > 0 {
                received += n
                if phase != .lingering {
                    if phase == .readingHead && headStart == 0 { headStart = monotonicNanos() }
                    parser.feed(UnsafeRawBufferPointer(rebasing: loop.readBuffer[0..<n]))
                }
                // A short read emptied the socket: skip the recv that would only say EAGAIN.
                // Whatever arrives later (an EOF included) makes the source fire again.
                if n < loop.readBuffer.count { break }
            } else if n == 0 {
                readEOF = true
                pauseReading()
                break
            } else {
                let e = errno
                if e == EINTR { continue }
                if e == EAGAIN || e == EWOULDBLOCK { break }
                close()
                return
            }
        }
        if phase == .lingering {
            if readEOF { close() }
            return
        }
        processInput()
    }

    private func pauseReading() {
        guard !readPaused else { return }
        readPaused = true
        updateInterest()
    }

    private func resumeReading() {
        guard readPaused, !readEOF else { return }
        readPaused = false
        updateInterest()
    }

    /// Pulls parser events and acts on them until more input is needed or a response is pending.
    fileprivate func processInput() {
        while phase == .readingHead || phase == .readingBody {
            if closeWhenFlushed { return }
            if output.count - outputOffset > Self.outputHighWater {
                // The client pipelines faster than it reads: stop reading until it catches up.
                pauseReading()
                return
            }
            let event: HTTPParserEvent?
            do {
                event = try parser.next()
            } catch {
                respondAndClose(.plain(error.status, "\(error.status.code) \(error.status.reason): \(error.reason)"))
                return
            }
            guard let event else {
                if readEOF {
                    // The client half-closed: a partial request can never complete.
                    if phase == .readingHead && parser.bufferedByteCount == 0 {
                        closeWhenFlushed = true
                        flushed()
                        refreshDeadline()
                    } else {
                        close()
                    }
                    return
                }
                if parser.bufferedByteCount < Self.inputHighWater { resumeReading() }
                refreshDeadline()
                return
            }
            switch event {
            case .head(let h):
                startRequest(h)
            case .body(let bytes):
                appendBody(bytes)
            case .end(let trailers):
                dispatchRequest(trailers: trailers)
            }
        }
        if phase == .handling || phase == .streaming {
            if parser.bufferedByteCount > Self.inputHighWater { pauseReading() }
        }
    }

    private func startRequest(_ h: HTTPRequestHead) {
        head = h
        if headStart == 0 { headStart = monotonicNanos() }
        bodyStart = monotonicNanos()
        phase = .readingBody
        keepAlive = h.keepAlive && !loop.shuttingDown
        rejection = nil
        bodyBytes = []
        refreshDeadline()

        if let expectation = h.expectation, expectation != "100-continue" {
            respondAndClose(.plain(.expectationFailed))
            return
        }
        switch server.handler.bodyPolicy(for: h) {
        case .reject(let response):
            if h.framing == .none {
                rejection = response
            } else {
                // The body stays unread, so the connection cannot be reused.
                respondAndClose(response)
            }
        case .accept(let maxBytes):
            if let length = h.contentLength, length > maxBytes {
                respondAndClose(.plain(.contentTooLarge))
                return
            }
            parser.bodyLimit = maxBytes
            if h.expectation == "100-continue" && h.version.minor >= 1 && h.framing != .none
                && parser.bufferedByteCount == 0 {
                send(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            }
        }
    }

    private func appendBody(_ bytes: [UInt8]) {
        if let spool {
            if !spool.write(bytes) { respondAndClose(.plain(.internalServerError)) }
            return
        }
        bodyBytes.append(contentsOf: bytes)
        if bodyBytes.count > server.configuration.bodySpoolThreshold {
            guard let spool = BodySpool(directory: server.configuration.temporaryDirectory), spool.write(bodyBytes) else {
                respondAndClose(.plain(.internalServerError))
                return
            }
            self.spool = spool
            bodyBytes = []
        }
    }

    // MARK: - Handling

    private func dispatchRequest(trailers: HTTPHeaders) {
        guard let head else { return }
        phase = .handling
        refreshDeadline()
        if let rejection {
            finishResponse(rejection)
            return
        }
        if head.path == "*" {
            var response = HTTPResponse(status: .ok)
            response.headers.add("Allow", "GET, HEAD, POST, OPTIONS")
            finishResponse(response)
            return
        }
        let body: HTTPBody
        if let spool {
            body = .file(path: spool.path, length: spool.length)
            spool.finishWriting()
        } else {
            body = bodyBytes.isEmpty ? .empty : .bytes(bodyBytes)
        }
        bodyBytes = []
        let request = HTTPRequest(head: head, body: body, trailers: trailers, remoteAddress: peer)

        // A handler that answers at once (most pages) is finished right here, without a hop.
        // The closure captures the slot alone, so it needs no allocation of its own; the slot
        // serves every request of the connection, one at a time (the next is dispatched only
        // after this one's response was delivered).
        let slot = responseSlot ?? ResponseSlot(connection: self)
        responseSlot = slot
        slot.begin()
        server.handler.handle(request) { [slot] response in slot.deliver(response) }
        if let response = slot.endSynchronousPhase() {
            finishResponse(response)
        }
    }

    fileprivate func finishResponse(_ response: HTTPResponse) {
        guard phase == .handling else { return }
        let keep = keepAlive && !response.closeConnection && !loop.shuttingDown && !readEOF
        let encoded = ResponseEncoder(configuration: server.configuration)
            .encode(response, for: head, keepAlive: keep, date: loop.dateCache.current())
        responseStatus = response.status.code
        responseBytes = encoded.bodyCount
        send(encoded.head, encoded.body)
        if let producer = encoded.stream {
            startStreaming(producer, chunked: encoded.chunked, keep: keep && head?.version.minor != 0)
            return
        }
        completeResponse(keep: keep)
    }

    private func completeResponse(keep: Bool) {
        guard phase == .handling || phase == .streaming else { return }
        logAccess()
        spool?.remove()
        spool = nil
        head = nil
        headStart = 0
        idleSince = monotonicNanos()
        phase = .readingHead
        if !keep {
            closeWhenFlushed = true
            if outputOffset == output.count { flushed() }
        }
        refreshDeadline()
    }

    private func respondAndClose(_ response: HTTPResponse) {
        guard phase != .closed, phase != .lingering, !closeWhenFlushed else { return }
        let encoded = ResponseEncoder(configuration: server.configuration)
            .encode(response, for: head, keepAlive: false, date: loop.dateCache.current())
        responseStatus = response.status.code
        responseBytes = encoded.bodyCount
        send(encoded.head, encoded.body)
        logAccess()
        spool?.remove()
        spool = nil
        closeWhenFlushed = true
        phase = .readingHead
        if outputOffset == output.count { flushed() }
        refreshDeadline()
    }

    private func logAccess() {
        if let file = server.accessLogFile {
            file.appendLine(level: .info, label: "access") { accessLine(into: &$0) }
            return
        }
        guard let logger = server.accessLogger else { return }
        // Assembled in the loop's scratch buffer: one String for swift-log instead of an
        // interpolation per field.
        var line: [UInt8] = []
        swap(&line, &loop.logScratch) // take it out, so it stays uniquely referenced
        line.removeAll(keepingCapacity: true)
        accessLine(into: &line)
        let message = String(decoding: line, as: UTF8.self)
        loop.logScratch = line
        logger.info(Logger.Message(stringLiteral: message))
    }

    /// "\(peer) \(method) \(path) \(status) \(bytes) \(micros)us"
    private func accessLine(into line: inout [UInt8]) {
        let now = monotonicNanos()
        let start = headStart != 0 ? headStart : now
        line.appendUTF8(peer)
        line.append(32)
        line.appendUTF8(head?.method.rawValue ?? "-")
        line.append(32)
        line.appendUTF8(head?.path ?? "-")
        line.append(32)
        appendDecimal(responseStatus, to: &line)
        line.append(32)
        appendDecimal(responseBytes, to: &line)
        line.append(32)
        appendDecimal(UInt((now &- start) / 1000), to: &line)
        line.append(117); line.append(115) // "us"
    }

    // MARK: - Streaming

    private func startStreaming(_ producer: @escaping @Sendable (HTTPBodyWriter) throws -> Void, chunked: Bool, keep: Bool) {
        phase = .streaming
        refreshDeadline()
        let writer = StreamWriter(connection: self, chunked: chunked)
        let loop = self.loop
        WorkerPool.shared.run { [self] in
            do {
                try producer(writer)
                loop.execute { [self] in
                    if chunked { send(Array("0\r\n\r\n".utf8)) }
                    completeResponse(keep: keep)
                    processInput()
                }
            } catch {
                loop.execute { [self] in
                    if !(error is HTTPConnectionGone) {
                        server.logger.error("streamed response failed: \(error)")
                    }
                    // A reset, without the last chunk, tells the client the body is incomplete.
                    abort()
                }
            }
        }
    }

    /// Called by the streaming writer on the loop's thread. Returns nil when the connection is gone,
    /// otherwise a semaphore to wait on when the client is behind.
    fileprivate func streamSend(_ bytes: [UInt8]) -> (gone: Bool, wait: DispatchSemaphore?) {
        guard phase == .streaming else { return (true, nil) }
        responseBytes += bytes.count
        send(bytes)
        if output.count - outputOffset > Self.outputHighWater {
            let semaphore = DispatchSemaphore(value: 0)
            streamWaiter = semaphore
            return (false, semaphore)
        }
        return (false, nil)
    }

    // MARK: - Writing

    /// Sends a response head and body with one `writev`; whatever the socket does not take
    /// is queued like any other output.
    private func send(_ head: [UInt8], _ body: [UInt8]) {
        guard !body.isEmpty else { return send(head) }
        guard phase != .closed else { return }
        guard outputOffset == output.count else {
            output.append(contentsOf: head)
            output.append(contentsOf: body)
            armWrite()
            refreshDeadline()
            return
        }
        lastWriteProgress = monotonicNanos()
        var n = 0
        repeat {
            n = head.withUnsafeBytes { h in
                body.withUnsafeBytes { b in
                    var vectors = (iovec(iov_base: UnsafeMutableRawPointer(mutating: h.baseAddress), iov_len: h.count),
                                   iovec(iov_base: UnsafeMutableRawPointer(mutating: b.baseAddress), iov_len: b.count))
                    return withUnsafeMutableBytes(of: &vectors) { v in
                        var message = msghdr()
                        message.msg_iov = v.baseAddress?.assumingMemoryBound(to: iovec.self)
                        message.msg_iovlen = 2
                        return sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
                    }
                }
            }
        } while n < 0 && errno == EINTR
        if n == head.count + body.count { return }
        if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK {
            close()
            return
        }
        // Queue the rest: what is left of the head, then of the body.
        let sent = max(0, n)
        output.removeAll(keepingCapacity: true)
        if sent < head.count {
            output.append(contentsOf: head[sent...])
            output.append(contentsOf: body)
        } else {
            output.append(contentsOf: body[(sent - head.count)...])
        }
        outputOffset = 0
        armWrite()
        refreshDeadline()
    }

    private func send(_ bytes: [UInt8]) {
        guard phase != .closed, !bytes.isEmpty else { return }
        lastWriteProgress = monotonicNanos()
        if outputOffset == output.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n == bytes.count { return }
            if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                close()
                return
            }
            output = Array(bytes[max(0, n)...])
            outputOffset = 0
        } else {
            output.append(contentsOf: bytes)
        }
        armWrite()
        refreshDeadline()
    }

    private func armWrite() {
        guard !writeArmed else { return }
        writeArmed = true
        updateInterest()
    }

    private func onWritable() {
        guard phase != .closed else { return }
        while outputOffset < output.count {
            let n = output.withUnsafeBytes { buf in
                Glibc.send(fd, buf.baseAddress.map { $0 + outputOffset }, buf.count - outputOffset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                outputOffset += n
                lastWriteProgress = monotonicNanos()
            } else if n < 0 && errno == EINTR {
                continue
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                refreshDeadline()
                return
            } else {
                close()
                return
            }
        }
        if output.capacity > 256 * 1024 { output = [] } else { output.removeAll(keepingCapacity: true) }
        outputOffset = 0
        if writeArmed {
            writeArmed = false
            updateInterest()
        }
        if let waiter = streamWaiter {
            streamWaiter = nil
            waiter.signal()
        }
        flushed()
        if phase == .readingHead { processInput() }
        refreshDeadline()
    }

    /// Called whenever the output may have drained: closes when a close was asked for.
    private func flushed() {
        guard closeWhenFlushed, outputOffset == output.count, phase != .lingering, phase != .closed else { return }
        // Lingering close: half-close, then drain briefly so the client reads our answer
        // instead of a reset caused by its unread bytes (RFC 9112 §9.6).
        shutdown(fd, Int32(SHUT_WR))
        phase = .lingering
        deadline = 0
        refreshDeadline()
        if readEOF { close() } else { resumeReading() }
    }
}

/// Carries a response out of a handler: kept for the caller when the handler answered at once,
/// or handed over to the connection's loop when it answered later from another thread.
final class ResponseSlot: @unchecked Sendable {
    /// Whether the request's synchronous phase (the handler's call) is still on. It also guards
    /// `response`, which is only touched under it. The response is not the mutex's own value: a
    /// generic payload was destroyed through value witnesses several times per request.
    private let synchronous = Mutex<Bool>(true)
    private var response: HTTPResponse?
    private let connection: HTTPConnection

    init(connection: HTTPConnection) {
        self.connection = connection
    }

    /// Starts a request: its handler's response is kept for the caller until
    /// `endSynchronousPhase`.
    func begin() {
        synchronous.withLock { $0 = true }
    }

    /// Stores the response for the synchronous path, or, once that has ended, finishes it on the
    /// connection's loop.
    func deliver(_ response: HTTPResponse) {
        let stored = synchronous.withLock { synchronous in
            guard synchronous else { return false }
            self.response = response
            return true
        }
        if stored { return }
        let connection = self.connection
        connection.loop.execute {
            connection.finishResponse(response)
            connection.processInput()
        }
    }

    func endSynchronousPhase() -> HTTPResponse? {
        synchronous.withLock { synchronous in
            synchronous = false
            defer { response = nil }
            return response
        }
    }
}

/// Writes a streamed body into its connection, waiting while the client is behind.
final class StreamWriter: HTTPBodyWriter, @unchecked Sendable {
    // `connection` is only touched on its loop's thread.
    private let connection: HTTPConnection
    private let chunked: Bool

    init(connection: HTTPConnection, chunked: Bool) {
        self.connection = connection
        self.chunked = chunked
    }

    func write(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        var framed: [UInt8]
        if chunked {
            framed = Array(String(bytes.count, radix: 16).utf8)
            framed.reserveCapacity(framed.count + bytes.count + 4)
            framed.append(13); framed.append(10)
            framed.append(contentsOf: bytes)
            framed.append(13); framed.append(10)
        } else {
            framed = bytes
        }
        let connection = self.connection, bytes = framed
        let result = connection.loop.executeAndWait { connection.streamSend(bytes) }
        if result.gone { throw HTTPConnectionGone() }
        result.wait?.wait()
    }
}

/// A request body being written to a temporary file as it arrives.
final class BodySpool {
    let path: String
    private var fd: Int32
    private(set) var length = 0

    init?(directory: String) {
        var template = Array("\(directory)/jinlin-body-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buf -> Int32 in
            guard let base = buf.baseAddress else { return -1 }
            return mkstemp(base)
        }
        guard fd >= 0 else { return nil }
        self.fd = fd
        self.path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        length += bytes.count
        return true
    }

    func finishWriting() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    func remove() {
        finishWriting()
        unlink(path)
    }
}
