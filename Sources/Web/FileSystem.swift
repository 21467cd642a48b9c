#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin, non-throwing wrappers over the POSIX file calls that uploads and static files need.
/// Every call retries on EINTR; failures come back as nil or false, never as a trap.
enum FileSystem {
    struct Status: Sendable, Equatable {
        var size: Int
        var mtimeSeconds: Int
        var mtimeNanoseconds: Int
        var isRegularFile: Bool
    }

    /// `stat(2)`, following symbolic links.
    static func status(_ path: String) -> Status? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Status(st)
    }

    /// `fstat(2)` of an open descriptor.
    static func status(fd: Int32) -> Status? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return Status(st)
    }

    /// The canonical absolute path with every symbolic link, "." and ".." resolved.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Opens a file for reading. With `noFollow`, a symbolic link as the last component fails
    /// (O_NOFOLLOW), which closes the window between a `realpath` check and the open.
    /// O_NONBLOCK keeps a FIFO swapped in after a `stat` from blocking the open; it changes
    /// nothing for regular files.
    static func openForReading(_ path: String, noFollow: Bool = false) -> Int32? {
        var flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK
        if noFollow { flags |= O_NOFOLLOW }
        while true {
            let fd = open(path, flags)
            if fd >= 0 { return fd }
            if errno != EINTR { return nil }
        }
    }

    /// Reads up to `buffer.count` bytes; 0 at end of file, nil on error.
    static func readSome(fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { return nil }
        }
    }

    /// Reads from `fd` until end of file, but never more than `limit` bytes.
    static func readAll(fd: Int32, limit: Int) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(min(limit, 1 << 20))
        let chunkSize = 64 * 1024
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        while out.count < limit {
            let want = min(chunkSize, limit - out.count)
            let got: Int? = chunk.withUnsafeMutableBytes { buffer in
                readSome(fd: fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
            }
            guard let got else { return nil }
            if got == 0 { break }
            out.append(contentsOf: chunk[0..<got])
        }
        return out
    }

    /// Reads a whole regular file of at most `limit` bytes together with the status of what
    /// was read; nil if it cannot be opened, is not a regular file or changed while being read.
    static func readFile(_ path: String, limit: Int, noFollow: Bool = false) -> (bytes: [UInt8], status: Status)? {
        guard let fd = openForReading(path, noFollow: noFollow) else { return nil }
        defer { close(fd) }
        guard let before = status(fd: fd), before.isRegularFile, before.size <= limit,
              let bytes = readAll(fd: fd, limit: limit),
              let after = status(fd: fd), after == before, bytes.count == before.size else { return nil }
        return (bytes, after)
    }

    /// Writes every byte, looping over short writes.
    static func writeAll(fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            if n > 0 {
                offset += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }

    static func closeFile(_ fd: Int32) {
        _ = close(fd)
    }

    static func removeFile(_ path: String) {
        _ = unlink(path)
    }

    /// Creates a new empty file readable only by this user (mode 0600, O_EXCL) in `directory`.
    static func makeTemporaryFile(in directory: String, prefix: String) -> (fd: Int32, path: String)? {
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        var template = Array((base + prefix + "XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let pointer = buffer.baseAddress else { return -1 }
            return mkstemp(pointer)
        }
        guard fd >= 0 else { return nil }
        // mkostemp is a GNU extension Swift does not import; set close-on-exec afterwards.
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (fd, path)
    }

    /// `$TMPDIR`, else "/tmp" (what Foundation's `NSTemporaryDirectory` answers on Linux).
    static var temporaryDirectory: String {
        if let value = getenv("TMPDIR") {
            let dir = String(cString: value)
            if !dir.isEmpty { return dir }
        }
        return "/tmp"
    }

    /// A coarse monotonic clock in nanoseconds: a vDSO read, no system call.
    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        #if os(Linux)
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts)
        #else
        clock_gettime(CLOCK_MONOTONIC, &ts)
        #endif
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

extension FileSystem.Status {
    init(_ st: stat) {
        size = Int(st.st_size)
        #if os(Linux)
        mtimeSeconds = Int(st.st_mtim.tv_sec)
        mtimeNanoseconds = Int(st.st_mtim.tv_nsec)
        #else
        mtimeSeconds = Int(st.st_mtimespec.tv_sec)
        mtimeNanoseconds = Int(st.st_mtimespec.tv_nsec)
        #endif
        isRegularFile = (st.st_mode & S_IFMT) == S_IFREG
    }
}
