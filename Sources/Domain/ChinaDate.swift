import Foundation

/// Dates as community staff read them: calendar days in China Standard Time, `YYYY-MM-DD`.
public enum ChinaDate {
    public static let timeZone = TimeZone(identifier: "Asia/Shanghai") ?? TimeZone(secondsFromGMT: 8 * 3600) ?? .gmt

    static var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

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

    /// A stored UTC timestamp (`2025-01-02T03:04:05.678Z`) as local time, `2025-01-02 11:04`.
    public static func localTime(_ stored: String) -> String {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
        guard let date = try? style.parse(stored) else { return stored }
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
                      parts.hour ?? 0, parts.minute ?? 0)
    }
}
