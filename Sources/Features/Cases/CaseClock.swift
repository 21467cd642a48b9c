/// A case's two clocks, in whole seconds since 1970 (the columns of the same names in `cases`).
///
/// - The **response clock** runs from the report to the accept; the response is in time when it
///   took at most the category's response target.
/// - The **resolution clock** starts at the accept and runs while the case is accepted, assigned
///   or in progress. It stops while the case is paused (挂起/待补充) and once it is resolved; a
///   reopen (an unsatisfied follow-up) starts it again. The resolution time is the time it ran.
/// - The **deadline** is set at the accept from the category (accept + resolution target), may be
///   set by the assign and reset by an escalation (the first one set by an assign is kept as the
///   original), and moves on by each stop, so "overdue" is always `now > due_at` while a clock runs.
/// - **Almost overdue**: 80 % of the time allowed is used (`warn_at`).
struct CaseClock: Equatable, Sendable {
    var reportedAt: Int64
    var responseTarget: Int64
    var resolutionTarget: Int64
    var acceptedAt: Int64?
    var responseSeconds: Int64?
    var deadline: Int64?
    var originalDeadline: Int64?
    var dueAt: Int64?
    var warnAt: Int64?
    var clockSeconds: Int64 = 0
    var clockStartedAt: Int64?
    var pausedAt: Int64?
    var pausedSeconds: Int64 = 0
    var resolvedAt: Int64?
    var resolutionSeconds: Int64?
    var resolvedInTime: Bool?

    /// A new case: the response clock runs.
    static func reported(at now: Int64, responseTarget: Int64, resolutionTarget: Int64) -> CaseClock {
        var clock = CaseClock(reportedAt: now, responseTarget: responseTarget, resolutionTarget: resolutionTarget)
        clock.dueAt = now + responseTarget
        clock.warnAt = now + responseTarget * 4 / 5
        return clock
    }

    /// Seconds the resolution clock has run by `now`.
    func elapsed(at now: Int64) -> Int64 {
        clockSeconds + (clockStartedAt.map { max(0, now - $0) } ?? 0)
    }

    var respondedInTime: Bool? { responseSeconds.map { $0 <= responseTarget } }

    /// Overdue at `now`: a clock runs and its deadline has passed (exactly at the deadline is in time).
    func isOverdue(at now: Int64) -> Bool { dueAt.map { now > $0 } ?? false }

    /// 80 % of the running clock's time is used, and it is not overdue yet.
    func isAlmostOverdue(at now: Int64) -> Bool {
        guard let dueAt, let warnAt else { return false }
        return now >= warnAt && now <= dueAt
    }

    mutating func accept(at now: Int64) {
        acceptedAt = now
        responseSeconds = max(0, now - reportedAt)
        clockStartedAt = now
        setDeadline(now + resolutionTarget, at: now)
    }

    /// A new deadline (the assign's, or an escalation's reset). 80 % of the time allowed from
    /// the accept to this deadline is where the warning starts.
    mutating func setDeadline(_ newDeadline: Int64, at now: Int64, keepAsOriginal: Bool = false) {
        let allowed = max(0, newDeadline - now + elapsed(at: now))
        deadline = newDeadline
        warnAt = newDeadline - allowed / 5
        if keepAsOriginal, originalDeadline == nil { originalDeadline = newDeadline }
        dueAt = clockStartedAt == nil ? nil : newDeadline
    }

    private mutating func stop(at now: Int64) {
        clockSeconds = elapsed(at: now)
        clockStartedAt = nil
        dueAt = nil
    }

    /// Starts the resolution clock again after `stopped` seconds: the deadline moves on by as much.
    private mutating func restart(at now: Int64, after stopped: Int64) {
        deadline = deadline.map { $0 + stopped }
        warnAt = warnAt.map { $0 + stopped }
        clockStartedAt = now
        dueAt = deadline
    }

    mutating func pause(at now: Int64) {
        stop(at: now)
        pausedAt = now
    }

    mutating func resume(at now: Int64) {
        let stopped = max(0, now - (pausedAt ?? now))
        pausedSeconds += stopped
        pausedAt = nil
        restart(at: now, after: stopped)
    }

    mutating func resolve(at now: Int64) {
        stop(at: now)
        resolvedAt = now
        resolutionSeconds = clockSeconds
        resolvedInTime = deadline.map { now <= $0 } ?? true
    }

    /// An unsatisfied follow-up: the case goes back to its unit and the clock runs again.
    mutating func reopen(at now: Int64) {
        let stopped = max(0, now - (resolvedAt ?? now))
        resolvedAt = nil
        resolutionSeconds = nil
        resolvedInTime = nil
        restart(at: now, after: stopped)
    }
}
