import Foundation

/// A calendar day in China Standard Time, the day ages and print dates are counted in.
public struct ChinaDay: Sendable, Hashable, Comparable {
    public let year: Int
    public let month: Int
    public let day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The day of `date` in Asia/Shanghai (today: `ChinaDay.of(clock.now)`).
    public static func of(_ date: Date) -> ChinaDay {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = ChinaDate.timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return ChinaDay(year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1)
    }

    /// A stored date, "YYYY-MM-DD" (read as bytes: the list computes fifty ages a page).
    public init?(stored text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// "YYYY-MM-DD", as dates are stored.
    public var stored: String { String(format: "%04d-%02d-%02d", year, month, day) }
    /// "YYYYMMDD", for file names.
    public var compact: String { String(format: "%04d%02d%02d", year, month, day) }
    /// "2025年1月2日".
    public var chinese: String { "\(year)年\(month)月\(day)日" }

    public static func < (a: ChinaDay, b: ChinaDay) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }
}

/// Ages from stored birth dates, and age bands as birth-date ranges the index can serve.
public enum ResidentAge {
    /// Whole years on `today`: one less before this year's birthday (a 29 February birthday
    /// counts from 1 March in other years, as `IDNumber.age` does).
    public static func years(birthDate: String, on today: ChinaDay) -> Int? {
        guard let birth = ChinaDay(stored: birthDate) else { return nil }
        var age = today.year - birth.year
        if (today.month, today.day) < (birth.month, birth.day) { age -= 1 }
        return max(0, age)
    }

    /// The latest birth date (text) of someone at least `age` years old on `today`.
    ///
    /// age ≥ a ⇔ (birth year, month, day) ≤ (today's year − a, month, day), compared as text.
    /// On 29 February the bound "YYYY-02-29" may name no real day; as text it still sorts
    /// between the 28th and 1 March, which is exactly the rule above.
    public static func latestBirthDate(forAgeAtLeast age: Int, on today: ChinaDay) -> String {
        String(format: "%04d-%02d-%02d", today.year - age, today.month, today.day)
    }
}

/// An age band filter such as `0-17`, `18-59`, `60-79`, `80+`.
public struct AgeBand: Sendable, Hashable {
    public let minimum: Int
    /// Inclusive; nil for open bands ("80+").
    public let maximum: Int?

    public init(minimum: Int, maximum: Int?) {
        self.minimum = minimum
        self.maximum = maximum
    }

    /// The bands the list offers, in display order.
    public static let standard: [(value: String, label: String)] = [
        ("0-17", "0–17 岁（未成年）"), ("18-59", "18–59 岁"), ("60-79", "60–79 岁（老年）"), ("80+", "80 岁及以上（高龄）"),
    ]

    /// Parses `a-b` or `a+` (0…150); nil for anything else.
    public init?(parameter text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix("+") {
            guard let low = Int(trimmed.dropLast()), (0...150).contains(low) else { return nil }
            self.init(minimum: low, maximum: nil)
            return
        }
        let parts = trimmed.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]),
              (0...150).contains(low), (0...150).contains(high), low <= high else { return nil }
        self.init(minimum: low, maximum: high)
    }

    public var parameter: String { maximum.map { "\(minimum)-\($0)" } ?? "\(minimum)+" }

    /// Birth dates of the band on `today`: `birth_date <= upper` and, when bounded,
    /// `birth_date > lowerExclusive`.
    public func birthDateRange(on today: ChinaDay) -> (lowerExclusive: String?, upper: String) {
        let upper = ResidentAge.latestBirthDate(forAgeAtLeast: minimum, on: today)
        let lower = maximum.map { ResidentAge.latestBirthDate(forAgeAtLeast: $0 + 1, on: today) }
        return (lower, upper)
    }
}
