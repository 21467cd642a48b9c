import Foundation

/// Fast paths for the per-row checks of a 100,000-row import. Each accepts only what the
/// general function accepts and returns the same value; anything unusual (spaces, a lowercase
/// x, 15 digits, an error) goes to the general function, which also words the error.
enum ImportFastPaths {
    /// Today in China Standard Time as (year, month, day), computed once per import.
    static func today(_ date: Date) -> (year: Int, month: Int, day: Int) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai") ?? .gmt
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return (parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// `IDNumber.parse` for the common case: 18 ASCII characters, 17 digits and a digit or X.
    static func idNumber(_ text: String, today: (year: Int, month: Int, day: Int), todayDate: Date) -> Result<IDNumber, IDNumber.Problem> {
        let fast = text.utf8.withContiguousStorageIfAvailable { bytes -> IDNumber? in
            guard bytes.count == 18 else { return nil }
            var sum = 0
            for i in 0..<17 {
                let b = bytes[i]
                guard b >= 48 && b <= 57 else { return nil }
                sum += Int(b - 48) * IDNumber.weights[i]
            }
            let last = bytes[17]
            guard (last >= 48 && last <= 57) || last == UInt8(ascii: "X") else { return nil }
            func number(_ range: Range<Int>) -> Int { range.reduce(0) { $0 * 10 + Int(bytes[$1] - 48) } }
            let year = number(6..<10), month = number(10..<12), day = number(12..<14)
            guard year >= 1900, (1...12).contains(month), (1...IDNumber.daysIn(month: month, year: year)).contains(day),
                  (year, month, day) <= today else { return nil }
            guard IDNumber.checkCharacters[sum % 11].asciiValue == last else { return nil }
            return IDNumber(value: text, birthDate: DateComponents(year: year, month: month, day: day),
                            isMale: number(14..<17) % 2 == 1)
        }
        if let fast, let fast { return .success(fast) }
        return IDNumber.parse(text, today: todayDate)
    }

    /// `PhoneNumber.parse` for the common case: 11 ASCII digits starting with 1, or blank.
    static func phone(_ text: String) -> Result<String?, PhoneNumber.Problem> {
        if text.isEmpty { return .success(nil) }
        let utf8 = text.utf8
        if utf8.count == 11, utf8.first == UInt8(ascii: "1"), utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            return .success(text)
        }
        return PhoneNumber.parse(text)
    }
}
