import Foundation

/// Dates and times as people here read them: calendar days in China Standard Time (Beijing
/// time, UTC+8, no daylight saving), `YYYY-MM-DD`; stored instants are UTC text
/// (`2025-01-02T03:04:05.678Z`) shown as `2025-01-02 11:04`. The one place for both (`ChinaDay`
/// is a day as a value).
public enum ChinaDate {
    public static let timeZone = TimeZone(identifier: "Asia/Shanghai") ?? TimeZone(secondsFromGMT: 8 * 3600) ?? .gmt

    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }()

    /// The day of `now`, `YYYY-MM-DD`.
    public static func today(_ now: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: now)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// The day `days` before today (or after, when negative).
    public static func daysAgo(_ days: Int, from now: Date) -> String {
        today(now.addingTimeInterval(-Double(days) * 86_400))
    }

    /// A valid `YYYY-MM-DD` from 1900 on, with spaces trimmed; nil otherwise. Accepts `2024/3/5`
    /// and `2024-3-5` too, as people type them.
    public static func parse(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(whereSeparator: { $0 == "-" || $0 == "/" || $0 == "." })
        guard parts.count == 3, parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              parts[0].count == 4, (1...2).contains(parts[1].count), (1...2).contains(parts[2].count),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              year >= 1900, year <= 2999, (1...12).contains(month), day >= 1, day <= IDNumber.daysIn(month: month, year: year)
        else { return nil }
        return String(format: "%04d-%02d-%02d", year, month, day)
    }

    /// Whole days from `from` to `to` (both `YYYY-MM-DD`); nil when either is malformed.
    public static func days(from: String, to: String) -> Int? {
        guard let a = date(from), let b = date(to) else { return nil }
        return calendar.dateComponents([.day], from: a, to: b).day
    }

    static func date(_ text: String) -> Date? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
    }

    /// Age in whole years on `today` for a birth date, both `YYYY-MM-DD`.
    public static func age(birthDate: String, today: String) -> Int? {
        ChinaDay(stored: today).flatMap { ResidentAge.years(birthDate: birthDate, on: $0) }
    }

    /// A stored UTC timestamp (`2025-01-02T03:04:05.678Z`) as local time, `2025-01-02 11:04`;
    /// unreadable text is returned as it is.
    public static func localTime(_ stored: String) -> String {
        let shown = display(stored)
        return shown.isEmpty ? stored : shown
    }

    /// `2025-01-02 11:04` (or `11:04:05` with seconds); "" for nil or unreadable text.
    public static func display(_ stored: String?, seconds: Bool = false) -> String {
        guard let stored, let date = instant(stored) else { return "" }
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let minutes = String(format: "%04d-%02d-%02d %02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
        return seconds ? minutes + String(format: ":%02d", c.second ?? 0) : minutes
    }

    /// The start of a Beijing calendar day typed as `YYYY-MM-DD` (an `<input type="date">`);
    /// nil for anything else, including days that do not exist (2025-02-30).
    public static func startOfDay(_ text: String) -> Date? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1900...9998).contains(year), (1...12).contains(month), (1...31).contains(day),
              let date = calendar.date(from: DateComponents(year: year, month: month, day: day)) else { return nil }
        let back = calendar.dateComponents([.year, .month, .day], from: date)
        guard back.year == year, back.month == month, back.day == day else { return nil }
        return date
    }

    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? .gmt
        return calendar
    }()

    /// Reads the stored form `YYYY-MM-DDTHH:MM:SS[.sss]Z`.
    static func instant(_ stored: String) -> Date? {
        let digits = stored.split(whereSeparator: { "-T:.Z".contains($0) }).compactMap { Int($0) }
        guard digits.count >= 6, stored.hasSuffix("Z") else { return nil }
        return utc.date(from: DateComponents(year: digits[0], month: digits[1], day: digits[2],
                                             hour: digits[3], minute: digits[4], second: digits[5]))
    }
}
