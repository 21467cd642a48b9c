#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Threads of our own for work that may block: password hashing, exports, imports, streamed
/// bodies waiting for a slow client.
///
/// On Linux, Dispatch's global pool starts with one thread per core and is slow to add more when
/// they block, so blocking work there starves the connection queues that share it (seen in tests:
/// a sleeping handler delayed an unrelated shutdown by its whole sleep).
public final class WorkerPool: Sendable {
    public static let shared = WorkerPool(threads: 8, name: "jinlin-worker")

    private struct State: ~Copyable {
        var jobs: [@Sendable () -> Void] = []
        var head = 0
        var idle = 0
        var started = 0
    }

    private let state = Mutex(State())
    private let available: Semaphore
    private let maxThreads: Int
    private let name: String

    public init(threads: Int, name: String) {
        self.maxThreads = max(1, threads)
        self.name = name
        self.available = Semaphore()
    }

    /// Runs `job` on a pool thread; threads start on demand up to the limit, then jobs queue.
    public func run(_ job: @escaping @Sendable () -> Void) {
        let startThread = state.withLock { s -> Bool in
            s.jobs.append(job)
            if s.idle > 0 {
                s.idle -= 1
                return false
            }
            guard s.started < maxThreads else { return false }
            s.started += 1
            return true
        }
        if startThread {
            spawn()
        } else {
            available.signal()
        }
    }

    private func next() -> (@Sendable () -> Void)? {
        state.withLock { s in
            guard s.head < s.jobs.count else { return nil }
            let job = s.jobs[s.head]
            s.head += 1
            if s.head > 64 && s.head * 2 > s.jobs.count {
                s.jobs.removeFirst(s.head)
                s.head = 0
            }
            return job
        }
    }

    private func spawn() {
        if let thread = startThread({ [self] in loop() }) {
            pthread_detach(thread)
        } else if let job = next() {
            // No thread could be started: run the job here rather than lose it.
            job()
        }
    }

    private func loop() {
        while true {
            while let job = next() { job() }
            state.withLock { $0.idle += 1 }
            // Re-check after registering as idle, so a job queued in between is not missed.
            if let job = next() {
                let consumedSignal = state.withLock { s -> Bool in
                    if s.idle > 0 { s.idle -= 1; return false }
                    return true
                }
                if consumedSignal { available.wait() }
                job()
                continue
            }
            available.wait()
        }
    }
}

/// A counting semaphore on a pthread mutex and condition variable.
final class Semaphore: @unchecked Sendable {
    // Invariant: `count` is only touched with `mutex` held.
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var count = 0

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    func signal() {
        pthread_mutex_lock(&mutex)
        count += 1
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    func wait() {
        pthread_mutex_lock(&mutex)
        while count == 0 { pthread_cond_wait(&condition, &mutex) }
        count -= 1
        pthread_mutex_unlock(&mutex)
    }
}
