import Foundation

/// Writing CSV the way Excel reads it (RFC 4180): fields separated by commas, records ended by
/// CRLF, a field quoted when it holds a comma, a quote, CR or LF, quotes inside doubled.
public enum CSVText {
    /// UTF-8 byte order mark: without it Excel opens a UTF-8 file as the local code page (GBK).
    public static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    public static func field(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else {
            return value
        }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One record with its CRLF.
    public static func record(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    /// Free text a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a
    /// leading apostrophe, which Excel shows as plain text (CSV injection, OWASP).
    public static func inert(_ value: String) -> String {
        guard let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return value }
        return "'" + value
    }
}
