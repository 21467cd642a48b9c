import Domain
import Foundation

/// The phone check's fast path for a 100,000-row import: it accepts only what `PhoneNumber.parse`
/// accepts and returns the same value (ID numbers: `IDNumber.parse(_:on:)` has its own).
enum ImportFastPaths {
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
