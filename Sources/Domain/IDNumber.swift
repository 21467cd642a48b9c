import Foundation

/// A mainland resident identity card number (GB 11643-1999).
///
/// 18 characters: 6-digit area code, 8-digit birth date, 3-digit sequence (odd = male), and a
/// check character from ISO 7064 MOD 11-2. A 15-digit number (first generation, 1984–2004) is
/// converted by inserting the century "19" and appending the check character.
public struct IDNumber: Sendable, Hashable, CustomStringConvertible {
    public let value: String
    public let birthDate: DateComponents
    public let isMale: Bool

    public var description: String { value }
    /// "YYYY-MM-DD", as stored: characters 7–14 of the number (an import derives 100,000).
    /// Both ways of making an `IDNumber` (`parse` and the import's fast path) leave 18 ASCII
    /// characters in `value`.
    public var birthDateText: String {
        let bytes = Array(value.utf8)
        guard bytes.count == 18 else { return "" }
        return String(decoding: bytes[6..<10] + [UInt8(ascii: "-")] + bytes[10..<12] + [UInt8(ascii: "-")] + bytes[12..<14],
                      as: UTF8.self)
    }
    /// "M" or "F", as stored.
    public var sexCode: String { isMale ? "M" : "F" }
    /// The number reversed, for indexed tail searches.
    public var reversed: String { TailKey.of(value) }

    static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    static let checkCharacters: [Character] = ["1", "0", "X", "9", "8", "7", "6", "5", "4", "3", "2"]

    public enum Problem: Error, Sendable, Equatable {
        case empty, wrongLength, invalidCharacters, invalidDate, futureDate, badCheckDigit

        /// The message shown under the field.
        public var message: String {
            switch self {
            case .empty: return "请填写身份证号"
            case .wrongLength: return "身份证号应为 18 位（或 15 位旧号码）"
            case .invalidCharacters: return "身份证号只能包含数字，最后一位可以是 X"
            case .invalidDate: return "身份证号中的出生日期不存在，请核对第 7–14 位"
            case .futureDate: return "身份证号中的出生日期晚于今天，请核对"
            case .badCheckDigit: return "身份证号校验位不正确，请核对是否输错"
            }
        }
    }

    /// The check character for the first 17 digits.
    public static func checkCharacter(for first17: some Collection<Character>) -> Character? {
        guard first17.count == 17 else { return nil }
        var sum = 0
        for (digit, weight) in zip(first17, weights) {
            guard let d = digit.wholeNumberValue, digit.isASCII else { return nil }
            sum += d * weight
        }
        return checkCharacters[sum % 11]
    }

    /// Validates and normalizes: trims spaces, accepts a lowercase x, converts 15 digits.
    public static func parse(_ input: String, today: Date) -> Result<IDNumber, Problem> {
        parse(input, on: ChinaDay.of(today))
    }

    /// `parse` on a day already known (an import parses 100,000 numbers on one day).
    public static func parse(_ input: String, on today: ChinaDay) -> Result<IDNumber, Problem> {
        if let common = parseCommon(input, on: today) { return .success(common) }
        return parseGeneral(input, on: today)
    }

    /// Every shape `parse` accepts, and the problem with any other.
    static func parseGeneral(_ input: String, on today: ChinaDay) -> Result<IDNumber, Problem> {
        var text = input.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        text.removeAll { $0 == " " }
        if text.isEmpty { return .failure(.empty) }
        if text.count == 15 {
            guard text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return .failure(.invalidCharacters) }
            let first17 = Array(text.prefix(6)) + Array("19") + Array(text.dropFirst(6))
            guard let check = checkCharacter(for: first17) else { return .failure(.invalidCharacters) }
            text = String(first17) + String(check)
        } else if text.count != 18 {
            return .failure(.wrongLength)
        }
        let chars = Array(text)
        guard chars[0..<17].allSatisfy({ $0.isASCII && $0.isNumber }),
              chars[17].isASCII && (chars[17].isNumber || chars[17] == "X") else { return .failure(.invalidCharacters) }
        guard let year = Int(String(chars[6..<10])), let month = Int(String(chars[10..<12])),
              let day = Int(String(chars[12..<14])) else { return .failure(.invalidDate) }
        guard year >= 1900, (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day) else {
            return .failure(.invalidDate)
        }
        if (year, month, day) > (today.year, today.month, today.day) { return .failure(.futureDate) }
        guard checkCharacter(for: chars[0..<17]) == chars[17] else { return .failure(.badCheckDigit) }
        let sequence = Int(String(chars[14..<17])) ?? 0
        return .success(IDNumber(value: text, birthDate: DateComponents(year: year, month: month, day: day),
                                 isMale: sequence % 2 == 1))
    }

    /// The common case read as bytes: exactly 18 ASCII characters, 17 digits and a digit or X,
    /// valid. Anything else (spaces, a lowercase x, 15 digits, an error) is nil and goes the
    /// general way, which also names the problem; the tests run every vector through both.
    static func parseCommon(_ text: String, on today: ChinaDay) -> IDNumber? {
        let parsed = text.utf8.withContiguousStorageIfAvailable { bytes -> IDNumber? in
            guard bytes.count == 18 else { return nil }
            var sum = 0
            for i in 0..<17 {
                let b = bytes[i]
                guard b >= 48 && b <= 57 else { return nil }
                sum += Int(b - 48) * weights[i]
            }
            let last = bytes[17]
            guard (last >= 48 && last <= 57) || last == UInt8(ascii: "X") else { return nil }
            func number(_ range: Range<Int>) -> Int { range.reduce(0) { $0 * 10 + Int(bytes[$1] - 48) } }
            let year = number(6..<10), month = number(10..<12), day = number(12..<14)
            guard year >= 1900, (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
                  (year, month, day) <= (today.year, today.month, today.day),
                  checkCharacters[sum % 11].asciiValue == last else { return nil }
            return IDNumber(value: text, birthDate: DateComponents(year: year, month: month, day: day),
                            isMale: number(14..<17) % 2 == 1)
        }
        return parsed ?? nil
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Age in whole years on `date` (China Standard Time).
    public func age(on date: Date) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai") ?? .current
        let now = calendar.dateComponents([.year, .month, .day], from: date)
        var age = (now.year ?? 0) - (birthDate.year ?? 0)
        if ((now.month ?? 0), (now.day ?? 0)) < ((birthDate.month ?? 0), (birthDate.day ?? 0)) { age -= 1 }
        return age
    }
}

/// Mainland mobile numbers: 11 digits starting with 1.
public enum PhoneNumber {
    public struct Problem: Error, Sendable, Equatable {
        public let message: String
    }

    static let invalid = Problem(message: "手机号应为 11 位数字，以 1 开头")

    /// Normalizes (drops spaces, dashes, a +86 prefix) and validates; an empty input is no phone.
    public static func parse(_ input: String) -> Result<String?, Problem> {
        var digits = input.filter { !$0.isWhitespace && $0 != "-" }
        if digits.isEmpty { return .success(nil) }
        if digits.hasPrefix("+86") { digits.removeFirst(3) } else if digits.hasPrefix("0086") { digits.removeFirst(4) }
        guard digits.count == 11, digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.hasPrefix("1") else {
            return .failure(invalid)
        }
        return .success(digits)
    }
}
