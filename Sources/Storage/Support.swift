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
    /// SQL expression for "now" in the stored format, for use inside statements: the
    /// database's `Clock`, registered on every connection (`AppDatabase`).
    public static let nowSQL = "jinlin_now()"

    private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    /// Formats a date in the stored format.
    public static func string(from date: Date) -> String {
        date.formatted(style)
    }

    /// Parses a stored timestamp; nil when the text has another shape.
    public static func date(from string: String) -> Date? {
        // Every signed-in request parses two (the session's); the stored shape is fixed, so
        // it is read digit by digit rather than through a date parser.
        var string = string
        return string.withUTF8 { bytes -> Date? in
            guard bytes.count == 24, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
                  bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "."),
                  bytes[23] == UInt8(ascii: "Z") else { return nil }
            func number(_ start: Int, _ count: Int) -> Int? {
                var value = 0
                for index in start..<start + count {
                    let digit = Int(bytes[index]) - 48
                    guard (0...9).contains(digit) else { return nil }
                    value = value * 10 + digit
                }
                return value
            }
            guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
                  let minute = number(14, 2), let second = number(17, 2), let millisecond = number(20, 3),
                  (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
            // Days from 1970-01-01 to the civil date (Howard Hinnant's days_from_civil).
            let y = month <= 2 ? year - 1 : year
            let era = (y >= 0 ? y : y - 399) / 400
            let yearOfEra = y - era * 400
            let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
            let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
            let days = era * 146_097 + dayOfEra - 719_468
            let seconds = Double(days * 86_400 + hour * 3_600 + minute * 60 + second) + Double(millisecond) / 1_000
            return Date(timeIntervalSince1970: seconds)
        }
    }
}
