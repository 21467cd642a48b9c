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
        let full = buffer.withLock { buf -> [UInt8]? in
            buf.append(contentsOf: line.utf8)
            buf.append(10)
            guard buf.count >= 64 * 1024 else { return nil }
            defer { buf.removeAll(keepingCapacity: true) }
            return buf
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
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        file.append("\(ts.tv_sec).\(ts.tv_nsec / 1_000_000) \(event.level) \(label): \(event.message)")
    }
}
