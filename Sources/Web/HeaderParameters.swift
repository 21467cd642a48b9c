/// A header value of the form `value; name=token; name="quoted string"`, as in `Content-Type`
/// (RFC 9110 §5.6.6, §8.3.1) and `Content-Disposition` (RFC 6266 §4.1, RFC 7578 §4.2).
///
/// Parsing is lenient and never fails: parameter names are lowercased, the first occurrence of
/// a name wins, an unterminated quoted string runs to the end of the field. A backslash escapes
/// only `"` and `\` inside quotes; any other backslash is kept, because browsers do not escape
/// backslashes in multipart file names (HTML §4.10.21.8) and `C:\x` must not lose them.
struct HeaderParameters: Sendable, Equatable {
    /// The part before the first ";", trimmed and lowercased (e.g. "multipart/form-data").
    var value: String
    var parameters: [String: String]

    subscript(_ name: String) -> String? { parameters[name] }

    init(_ field: String) {
        let bytes = Array(field.utf8)
        var i = 0
        func isOWS(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }

        while i < bytes.count, bytes[i] != UInt8(ascii: ";") { i += 1 }
        value = String(decoding: bytes[0..<i], as: UTF8.self).trimmingOWS().lowercasedASCII()
        parameters = [:]

        while i < bytes.count {
            // Skip ";" and whitespace before a parameter name.
            while i < bytes.count, bytes[i] == UInt8(ascii: ";") || isOWS(bytes[i]) { i += 1 }
            let nameStart = i
            while i < bytes.count, bytes[i] != UInt8(ascii: "="), bytes[i] != UInt8(ascii: ";") { i += 1 }
            let name = String(decoding: bytes[nameStart..<i], as: UTF8.self).trimmingOWS().lowercasedASCII()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else { continue }
            i += 1
            while i < bytes.count, isOWS(bytes[i]) { i += 1 }
            var valueBytes: [UInt8] = []
            if i < bytes.count, bytes[i] == UInt8(ascii: "\"") {
                i += 1
                while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count,
                       bytes[i + 1] == UInt8(ascii: "\"") || bytes[i + 1] == UInt8(ascii: "\\") {
                        i += 1
                    }
                    valueBytes.append(bytes[i])
                    i += 1
                }
                i += 1  // the closing quote, if any
                while i < bytes.count, bytes[i] != UInt8(ascii: ";") { i += 1 }
            } else {
                let start = i
                while i < bytes.count, bytes[i] != UInt8(ascii: ";") { i += 1 }
                valueBytes = Array(String(decoding: bytes[start..<i], as: UTF8.self).trimmingOWS().utf8)
            }
            if !name.isEmpty, parameters[name] == nil {
                parameters[name] = String(decoding: valueBytes, as: UTF8.self)
            }
        }
    }
}
