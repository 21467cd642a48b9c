import Foundation

/// An error whose message can be shown to the user as is (Simplified Chinese).
///
/// The web layer renders `userMessage` on the form that caused it; everything else
/// (`description`, English) is for logs.
public protocol UserFacingError: Error {
    var userMessage: String { get }
}

/// Timestamps are stored as fixed-width ISO-8601 UTC text, `2025-01-02T03:04:05.678Z`.
///
/// Fixed width matters: it makes text comparison equal time comparison, so `at >= ?`
/// and `ORDER BY at` work on plain indexes. SQLite produces the same shape with
/// `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`, which the schema uses as column default;
/// the schema's CHECKs reject any other shape.
public enum Timestamp {
    /// SQL expression for "now" in the stored format, for use inside statements.
    public static let nowSQL = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

    private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    /// Formats a date in the stored format.
    public static func string(from date: Date) -> String {
        date.formatted(style)
    }

    /// The current time in the stored format.
    public static func now() -> String {
        string(from: Date())
    }

    /// Parses a stored timestamp; nil when the text has another shape.
    public static func date(from string: String) -> Date? {
        try? style.parse(string)
    }
}
