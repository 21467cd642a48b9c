/// An ordered multi-map of decoded form fields, from a query string or an
/// `application/x-www-form-urlencoded` body (WHATWG URL §5.1, HTML §4.10.21.7).
///
/// Repeated names are all kept in arrival order (a `<select multiple>` or several checkboxes
/// named `tags` send one pair each). Decoding never fails: invalid percent escapes are kept
/// literally and invalid UTF-8 becomes U+FFFD, so hostile input yields odd strings, not a crash;
/// `hasInvalidUTF8` tells so, and the application refuses such a form rather than store it.
public struct FormData: Sendable, Equatable, Sequence {
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public private(set) var fields: [Field]
    /// A name or value was not valid UTF-8 once decoded (its bad bytes became U+FFFD).
    public private(set) var hasInvalidUTF8 = false
    /// What a person is told when their form was refused for it.
    public static let invalidUTF8Message = "提交的内容含有无法识别的字符（不是有效的 UTF-8 编码），未保存。请检查输入后重试。"

    public init() { fields = [] }

    public init(_ pairs: [(String, String)]) {
        fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    /// Decodes a query component (given without, or with one leading, "?").
    public init(query: String) {
        var bytes = Array(query.utf8)
        if bytes.first == UInt8(ascii: "?") { bytes.removeFirst() }
        self.init(urlEncoded: bytes)
    }

    /// Decodes an `application/x-www-form-urlencoded` body: pairs separated by "&", name and
    /// value by the first "=", "+" meaning space. A pair without "=" has the value "";
    /// empty pairs ("a=1&&b=2") are skipped.
    public init(urlEncoded bytes: [UInt8]) {
        fields = []
        let end = bytes.count
        var start = 0
        while start < end {
            var stop = start
            while stop < end, bytes[stop] != UInt8(ascii: "&") { stop += 1 }
            if stop > start {
                let pair = bytes[start..<stop]
                if let eq = pair.firstIndex(of: UInt8(ascii: "=")) {
                    fields.append(Field(name: decode(pair[start..<eq]), value: decode(pair[(eq + 1)..<stop])))
                } else {
                    fields.append(Field(name: decode(pair), value: ""))
                }
            }
            start = stop + 1
        }
    }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }
    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    /// The first value sent under this name.
    public subscript(_ name: String) -> String? {
        for field in fields where field.name == name { return field.value }
        return nil
    }

    /// Every value sent under this name, in order.
    public func values(for name: String) -> [String] {
        fields.compactMap { $0.name == name ? $0.value : nil }
    }

    public func contains(_ name: String) -> Bool { fields.contains { $0.name == name } }

    public mutating func append(_ name: String, _ value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// This form's fields encoded as a query string, in order.
    public var encoded: String { FormData.encode(fields.map { ($0.name, $0.value) }) }

    // MARK: - Percent-decoding and encoding

    /// Decodes `%XX` escapes (RFC 3986 §2.1) and, when `plusAsSpace`, "+" as space; a "%" not
    /// followed by two hex digits is kept literally. Returns nil when the result is not UTF-8.
    public static func percentDecode(_ text: some StringProtocol, plusAsSpace: Bool = false) -> String? {
        String(validating: decodeBytes(Array(text.utf8), plusAsSpace: plusAsSpace), as: UTF8.self)
    }

    /// Percent-encodes every byte of the UTF-8 form except the unreserved characters
    /// (RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~"), so the result is safe in a path
    /// segment, a query name or a query value.
    public static func percentEncode(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigit(byte >> 4))
                out.append(hexDigit(byte & 0x0F))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Builds a query string (without "?") such as `q=%E7%8E%8B&page=2` for links.
    public static func encode(_ pairs: [(String, String)]) -> String {
        var out = ""
        for (index, (name, value)) in pairs.enumerated() {
            if index > 0 { out += "&" }
            out += percentEncode(name)
            out += "="
            out += percentEncode(value)
        }
        return out
    }

    // MARK: - Internals

    /// Decodes one name or value, noting invalid UTF-8.
    private mutating func decode(_ bytes: ArraySlice<UInt8>) -> String {
        let decoded = Self.decodeBytes(bytes, plusAsSpace: true)
        if let text = String(validating: decoded, as: UTF8.self) { return text }
        hasInvalidUTF8 = true
        return String(decoding: decoded, as: UTF8.self)
    }

    static func decodeBytes(_ bytes: some RandomAccessCollection<UInt8>, plusAsSpace: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let byte = bytes[i]
            if byte == UInt8(ascii: "%") {
                let h = bytes.index(after: i)
                if h < bytes.endIndex, bytes.index(after: h) < bytes.endIndex,
                   let hi = hexValue(bytes[h]), let lo = hexValue(bytes[bytes.index(after: h)]) {
                    out.append(hi << 4 | lo)
                    i = bytes.index(i, offsetBy: 3)
                    continue
                }
                out.append(byte)
            } else if plusAsSpace && byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else {
                out.append(byte)
            }
            i = bytes.index(after: i)
        }
        return out
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
