/// Masks for lists and exports (个人信息保护法): `3301**********1234`, `138****5678`, `王**`.
public enum Mask {
    // Stored ID numbers and phones are ASCII: the masks work on UTF-8 bytes (50 of each per
    // list page), and anything else is starred whole.
    public static func idNumber(_ value: String) -> String {
        // ASCII bytes are characters one for one (counting characters costs more than masking).
        masked(value, length: 18, keepFirst: 4, keepLast: 4) ?? String(repeating: "*", count: value.count)
    }

    public static func phone(_ value: String?) -> String {
        guard let value else { return "" }
        return masked(value, length: 11, keepFirst: 3, keepLast: 4) ?? "***"
    }

    /// `value` with all but its first and last few bytes as `*`, when it is `length` ASCII bytes.
    static func masked(_ value: String, length: Int, keepFirst: Int, keepLast: Int) -> String? {
        var bytes = Array(value.utf8)
        guard bytes.count == length, !bytes.contains(where: { $0 >= 0x80 }) else { return nil }
        for index in keepFirst..<(length - keepLast) { bytes[index] = UInt8(ascii: "*") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A name as members see it before claiming a wish: the surname, then one * per character.
    public static func name(_ value: String) -> String {
        guard let first = value.first else { return "" }
        return String(first) + String(repeating: "*", count: max(1, value.count - 1))
    }
}

/// How a personal number leaves the system: masked, unless someone who may reveal asked for the
/// full value with a reason (GB/T 35273 §7.2, PIPL art. 28: sensitive data only by necessity).
/// Which roles may ask is `Permission.revealPersonalData`; the reveal is audited with its reason.
public enum Disclosure: Sendable, Equatable {
    case masked
    case full(reason: String)

    /// The longest reason kept (the audit entry stores it).
    public static let maximumReasonLength = 200

    public enum Problem: Error, Sendable, Equatable {
        /// Full values asked for by a role that may not reveal.
        case notAllowed
        /// Full values asked for without a reason.
        case reasonMissing

        public var message: String {
            switch self {
            case .notAllowed: return "您的角色不能导出完整的身份证号和手机号"
            case .reasonMissing: return "导出完整号码须填写事由"
            }
        }
    }

    /// What a request asks for: `full` (the checkbox) with `reason`, checked against `mayReveal`.
    public static func requested(full: Bool, reason: String, mayReveal: Bool) -> Result<Disclosure, Problem> {
        guard full else { return .success(.masked) }
        guard mayReveal else { return .failure(.notAllowed) }
        let reason = String(reason.trimmingCharacters(in: .whitespacesAndNewlines).prefix(maximumReasonLength))
        guard !reason.isEmpty else { return .failure(.reasonMissing) }
        return .success(.full(reason: reason))
    }

    public var isMasked: Bool { self == .masked }

    public var reason: String? {
        if case .full(let reason) = self { return reason }
        return nil
    }

    public func idNumber(_ value: String) -> String {
        isMasked ? Mask.idNumber(value) : value
    }

    public func phone(_ value: String?) -> String {
        isMasked ? Mask.phone(value) : (value ?? "")
    }
}
