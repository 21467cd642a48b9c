import Foundation

/// Hands batches from the thread that draws them to the thread that writes them, at most
/// `capacity` ahead, so drawing the next batch overlaps with writing this one.
final class BatchChannel: @unchecked Sendable {
    // Every property is guarded by `condition`.
    private let condition = NSCondition()
    private var items: [ResidentGenerator.Batch] = []
    private var finished = false
    private var cancelled = false
    private let capacity: Int
    private var finalTally = ResidentGenerator.Tally()
    private var generating = Duration.zero

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Producer: false when the consumer has gone away (stop drawing).
    func put(_ batch: ResidentGenerator.Batch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        items.append(batch)
        condition.broadcast()
        return true
    }

    /// Producer: no more batches.
    func finish(tally: ResidentGenerator.Tally, generating: Duration) {
        condition.lock()
        defer { condition.unlock() }
        finalTally = tally
        self.generating = generating
        finished = true
        condition.broadcast()
    }

    /// Consumer: the next batch, or nil when the producer has finished.
    func take() -> ResidentGenerator.Batch? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !finished { condition.wait() }
        if items.isEmpty { return nil }
        let batch = items.removeFirst()
        condition.broadcast()
        return batch
    }

    /// Consumer: stop the producer (after an error).
    func cancel() {
        condition.lock()
        defer { condition.unlock() }
        cancelled = true
        items.removeAll()
        condition.broadcast()
    }

    /// After `take()` returned nil.
    var result: (tally: ResidentGenerator.Tally, generating: Duration) {
        condition.lock()
        defer { condition.unlock() }
        return (finalTally, generating)
    }
}
