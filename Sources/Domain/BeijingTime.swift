import Foundation

/// Times as people here read them: stored as UTC text (`2025-01-02T03:04:05.678Z`), shown in
/// Beijing time (UTC+8, no daylight saving).
public enum BeijingTime {
    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600) ?? .gmt
        return calendar
    }()

    /// `2025-01-02 11:04` (or `11:04:05` with seconds); "" for nil or unreadable text.
    public static func display(_ stored: String?, seconds: Bool = false) -> String {
        guard let stored, let date = date(stored) else { return "" }
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String {
            let v = value ?? 0
            return v < 10 ? "0\(v)" : "\(v)"
        }
        let minutes = "\(c.year ?? 0)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute))"
        return seconds ? minutes + ":" + two(c.second) : minutes
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

    /// Today's date in Beijing as `YYYY-MM-DD`.
    public static func today(_ now: Date) -> String {
        let c = calendar.dateComponents([.year, .month, .day], from: now)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? .gmt
        return calendar
    }()

    /// Reads the stored form `YYYY-MM-DDTHH:MM:SS[.sss]Z`.
    private static func date(_ stored: String) -> Date? {
        let digits = stored.split(whereSeparator: { "-T:.Z".contains($0) }).compactMap { Int($0) }
        guard digits.count >= 6, stored.hasSuffix("Z") else { return nil }
        return utc.date(from: DateComponents(year: digits[0], month: digits[1], day: digits[2],
                                             hour: digits[3], minute: digits[4], second: digits[5]))
    }
}
