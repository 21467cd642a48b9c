/// Header fields in the order they arrived, duplicates kept.
///
/// Folding fields into a dictionary would let a second `Content-Length` silently win;
/// the parser needs every occurrence to reject conflicting framing (RFC 9112 §6.3).
public struct HTTPHeaders: Sendable, Equatable, Sequence {
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public private(set) var fields: [Field]

    public init() { fields = [] }

    public init(_ pairs: [(String, String)]) {
        fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    /// Takes the fields as they are (the parser's and ready-made header sets' way in: no
    /// intermediate array of pairs).
    public init(fields: [Field]) {
        self.fields = fields
    }

    public var count: Int { fields.count }
    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    /// Appends a field, keeping any existing one of the same name.
    public mutating func add(_ name: String, _ value: String) {
        // A response gathers a handful of fields (its own, then the security headers): room
        // for eight at the first one saves growing the array three times.
        if fields.count == fields.capacity && fields.count < 8 { fields.reserveCapacity(8) }
        fields.append(Field(name: name, value: value))
    }

    /// Appends fields, keeping existing ones of the same names.
    public mutating func add(contentsOf more: [Field]) {
        fields.reserveCapacity(Swift.max(8, fields.count + more.count + 1))
        fields.append(contentsOf: more)
    }

    /// Replaces every field of this name with one field.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        fields.append(Field(name: name, value: value))
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { asciiCaseInsensitiveEquals($0.name, name) }
    }

    /// The first value of this name, if any.
    public subscript(_ name: String) -> String? {
        for field in fields where asciiCaseInsensitiveEquals(field.name, name) {
            return field.value
        }
        return nil
    }

    /// Every value of this name, in arrival order.
    public func values(_ name: String) -> [String] {
        fields.compactMap { asciiCaseInsensitiveEquals($0.name, name) ? $0.value : nil }
    }

    /// Whether `tokens(name)` contains `token` (which must be lowercase), without building the
    /// list: the per-request checks (Connection, Vary) run on every request, so they must not
    /// allocate.
    public func containsToken(_ name: String, _ token: String) -> Bool {
        for field in fields where asciiCaseInsensitiveEquals(field.name, name) {
            if listContains(field.value, token) { return true }
        }
        return false
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// The comma-separated list elements of every field of this name, trimmed and lowercased,
    /// with empty elements dropped (RFC 9110 §5.6.1).
    public func tokens(_ name: String) -> [String] {
        var out: [String] = []
        for value in values(name) {
            for part in value.split(separator: ",", omittingEmptySubsequences: true) {
                let trimmed = part.trimmingOWS()
                if !trimmed.isEmpty { out.append(trimmed.lowercasedASCII()) }
            }
        }
        return out
    }
}

/// Whether the comma-separated list `value` has an element equal to `token` (lowercase) once
/// trimmed of optional whitespace and compared ignoring ASCII case: the same answer as
/// `value.split(",")…trimmingOWS().lowercasedASCII() == token`, without the copies.
func listContains(_ value: String, _ token: String) -> Bool {
    var value = value, token = token
    return value.withUTF8 { v in
        token.withUTF8 { t in
            var start = 0
            while start <= v.count {
                var end = start
                while end < v.count && v[end] != 44 { end += 1 } // ","
                var s = start, e = end
                while s < e && (v[s] == 32 || v[s] == 9) { s += 1 }
                while e > s && (v[e - 1] == 32 || v[e - 1] == 9) { e -= 1 }
                if e - s == t.count {
                    var i = 0
                    while i < t.count {
                        var b = v[s + i]
                        if b >= 65 && b <= 90 { b |= 0x20 }
                        if b != t[i] { break }
                        i += 1
                    }
                    if i == t.count && i > 0 { return true }
                }
                start = end + 1
            }
            return false
        }
    }
}

/// Compares two strings ignoring ASCII case, without allocating.
@inlinable
public func asciiCaseInsensitiveEquals(_ a: String, _ b: String) -> Bool {
    // Most names looked up differ in length, which a native string knows without a scan.
    guard a.utf8.count == b.utf8.count else { return false }
    var a = a, b = b
    return a.withUTF8 { ua in
        b.withUTF8 { ub in
            guard ua.count == ub.count else { return false }
            for i in 0..<ua.count {
                var x = ua[i], y = ub[i]
                if x >= 65 && x <= 90 { x |= 0x20 }
                if y >= 65 && y <= 90 { y |= 0x20 }
                if x != y { return false }
            }
            return true
        }
    }
}

extension StringProtocol {
    /// Removes optional whitespace (SP, HTAB) at both ends.
    public func trimmingOWS() -> String {
        let bytes = Array(utf8)
        var start = 0, end = bytes.count
        while start < end, bytes[start] == 32 || bytes[start] == 9 { start += 1 }
        while end > start, bytes[end - 1] == 32 || bytes[end - 1] == 9 { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    public func lowercasedASCII() -> String {
        String(decoding: utf8.map { ($0 >= 65 && $0 <= 90) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}
