import Foundation

/// Where the application reads the time: `live` in production, a fixed day in tests.
///
/// Every "now" goes through one clock: Swift code reads `now`, and SQL reads the same clock
/// through `Timestamp.nowSQL` (a function each connection registers). Deadlines, ages and
/// "not visited in 30 days" then follow the clock the app was given, not the day a test runs.
public struct Clock: Sendable {
    private let read: @Sendable () -> Date

    public init(_ read: @escaping @Sendable () -> Date) {
        self.read = read
    }

    /// The current instant.
    public var now: Date { read() }

    /// The system clock.
    public static let live = Clock { Date() }

    /// Always `date`.
    public static func fixed(_ date: Date) -> Clock {
        Clock { date }
    }

    /// Starts at `date` and runs at the system clock's pace (timeouts and waits still elapse).
    public static func starting(at date: Date) -> Clock {
        let offset = date.timeIntervalSince(live.now)
        return Clock { live.now.addingTimeInterval(offset) }
    }

    /// A clock starting at noon Beijing time on `day` (`YYYY-MM-DD`); nil for other text.
    public static func startingAtNoon(of day: String) -> Clock? {
        guard let start = Timestamp.date(from: day + "T04:00:00.000Z") else { return nil }
        return .starting(at: start)
    }

    /// The current instant in the stored format.
    public var timestamp: String { Timestamp.string(from: now) }
}
