#if canImport(Glibc)
import Glibc
#endif

/// Starts `body` on a new POSIX thread (the worker pool's threads, the server's event loops).
/// Returns its handle, for the caller to detach or join; nil when no thread could be started.
public func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t? {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body))
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { raw in
        guard let raw else { return nil }
        Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().body()
        return nil
    }, box.toOpaque())
    guard rc == 0 else {
        box.release()
        return nil
    }
    return thread
}
