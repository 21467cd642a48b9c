#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Logging
import Synchronization

/// An append-only log file written in batches, so an access-log line per request costs a
/// memory copy rather than a system call.
public final class LogFile: Sendable {
    private let fd: Int32
    private let buffer = Mutex<[UInt8]>([])
    private let timer: TimerBox

    struct TimerBox: @unchecked Sendable { let source: any DispatchSourceTimer }

    public init(path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Socket.Failure(call: "open \(path)", code: errno) }
        self.fd = fd
        let source = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "jinlin.logfile"))
        timer = TimerBox(source: source)
        source.schedule(deadline: .now() + .milliseconds(200), repeating: .milliseconds(200))
        source.setEventHandler { [weak self] in self?.flush() }
        source.resume()
    }

    deinit {
        timer.source.cancel()
        flush()
        close(fd)
    }

    func append(_ line: String) {
        append { $0.appendUTF8(line) }
    }

    /// Appends "seconds.millis level label: " and what `message` writes: the line every
    /// `FileLogHandler` writes, and the access log's, which skips swift-log's per-call cost.
    func appendLine(level: Logger.Level, label: String, _ message: (inout [UInt8]) -> Void) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        append { buf in
            appendDecimal(Int(ts.tv_sec), to: &buf)
            buf.append(46) // "."
            appendDecimal(Int(ts.tv_nsec / 1_000_000), to: &buf)
            buf.append(32)
            buf.appendUTF8(level.rawValue)
            buf.append(32)
            buf.appendUTF8(label)
            buf.append(58); buf.append(32) // ": "
            message(&buf)
        }
    }

    /// Appends one line that `write` puts straight into the buffer (the newline is added here),
    /// so a line costs no intermediate String. `write` runs under the buffer's lock: keep it short.
    func append(_ write: (inout [UInt8]) -> Void) {
        let full = buffer.withLock { buf -> [UInt8]? in
            write(&buf)
            buf.append(10)
            guard buf.count >= 64 * 1024 else { return nil }
            // Hand the full buffer over and start a new one of the same size, rather than
            // copying it out: the copy would be one more 64 KiB allocation and memcpy.
            let full = buf
            buf = []
            buf.reserveCapacity(full.capacity)
            return full
        }
        if let full { writeAll(full) }
    }

    public func flush() {
        let pending = buffer.withLock { buf -> [UInt8] in
            defer { buf.removeAll(keepingCapacity: true) }
            return buf
        }
        if !pending.isEmpty { writeAll(pending) }
    }

    private func writeAll(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}

/// A swift-log handler writing "time level label: message" lines to a `LogFile`.
public struct FileLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let file: LogFile

    public init(label: String, file: LogFile) {
        self.label = label
        self.file = file
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // The same text as "\(ts.tv_sec).\(ts.tv_nsec / 1_000_000) \(event.level) \(label): \(event.message)",
        // written byte by byte: the interpolation cost more than the rest of an access-log line.
        let message = event.message.description
        file.appendLine(level: event.level, label: label) { $0.appendUTF8(message) }
    }
}

/// Appends the decimal digits of `value` (as `String(value)` would write them).
func appendDecimal(_ value: Int, to buf: inout [UInt8]) {
    if value < 0 { buf.append(45) } // "-"
    appendDecimal(value.magnitude, to: &buf)
}

func appendDecimal(_ value: UInt, to buf: inout [UInt8]) {
    if value < 10 {
        buf.append(UInt8(truncatingIfNeeded: value) &+ 48)
        return
    }
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0) // 24 bytes: room for UInt.max's 20 digits
    withUnsafeMutableBytes(of: &digits) { raw in
        // Filled from the end, then appended in order: typed bytes, so the append is one copy
        // (a raw buffer took the generic, byte-by-byte path).
        let bytes = raw.bindMemory(to: UInt8.self)
        var v = value
        var i = bytes.count
        repeat {
            i -= 1
            bytes[i] = UInt8(truncatingIfNeeded: v % 10) &+ 48
            v /= 10
        } while v > 0
        buf.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[i...]))
    }
}
