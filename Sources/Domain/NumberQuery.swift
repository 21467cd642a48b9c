import Foundation

/// What a search word made of digits may ask about an ID number or a phone. Lists show the
/// last four characters of both, so a search may match those (or fewer), or a complete number
/// exactly; anything in between would let a viewer recover a masked number digit by digit
/// (a coordinator extending a tail one digit per request). Every search box and filter that
/// touches these numbers classifies its words here.
public enum NumberQuery: Sendable, Equatable {
    /// The visible tail: 4 digits, or 2–4 characters ending in X (an ID number's last ones).
    case visibleTail(String)
    /// A complete mobile number: matched exactly, only for roles that may reveal, audited.
    case fullPhone(String)
    /// A complete 18-character ID number (uppercase X): the same rules as a phone.
    case fullIDNumber(String)
    /// More than the visible tail but not a complete number: refused with `refusal`.
    case partial
    /// Not a number query (fewer than 4 digits is a room number; letters are names).
    case none

    public static let visibleTailLength = 4
    public static let refusal = "请输入后 4 位或完整号码"

    /// Classifies one word, already normalized to half-width characters.
    public static func classify(_ word: String) -> NumberQuery {
        let bytes = Array(word.utf8)
        guard !bytes.isEmpty, bytes.count <= 64 else { return .none }
        let isDigit = { (b: UInt8) in b >= 0x30 && b <= 0x39 }
        let endsInX = bytes.last == UInt8(ascii: "x") || bytes.last == UInt8(ascii: "X")
        if endsInX {
            guard bytes.count >= 2, bytes.dropLast().allSatisfy(isDigit) else { return .none }
            let upper = word.uppercased()
            if bytes.count <= visibleTailLength { return .visibleTail(upper) }
            return bytes.count == 18 ? .fullIDNumber(upper) : .partial
        }
        guard bytes.allSatisfy(isDigit) else { return .none }
        switch bytes.count {
        case ..<visibleTailLength: return .none
        case visibleTailLength: return .visibleTail(word)
        case 11: return .fullPhone(word)
        case 18: return .fullIDNumber(word)
        default: return .partial
        }
    }

    /// The number as the audit log keeps it: masked like a list shows it.
    public var maskedForAudit: String {
        switch self {
        case .fullPhone(let value): Mask.phone(value)
        case .fullIDNumber(let value): Mask.idNumber(value)
        case .visibleTail(let value): value
        case .partial, .none: ""
        }
    }

    public var isFullNumber: Bool {
        switch self {
        case .fullPhone, .fullIDNumber: true
        default: false
        }
    }
}

/// Why someone asks to see a full number (个人信息保护法 art. 28: sensitive data by necessity).
/// The reason is stored in the reveal's audit entry and shown in the audit log.
public enum RevealReason {
    public static let choices = ["入户核对", "办理业务", "走访联系", "其他"]
    public static let maximumLength = 100

    /// The reason to store, or the message for the person when it is missing.
    public static func parse(choice: String, other: String) -> Result<String, RevealReasonProblem> {
        guard choices.contains(choice) else { return .failure(RevealReasonProblem(message: "请选择查看完整号码的原因")) }
        guard choice == "其他" else { return .success(choice) }
        let text = other.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return .failure(RevealReasonProblem(message: "选择“其他”时，请填写具体原因")) }
        if text.count > maximumLength { return .failure(RevealReasonProblem(message: "原因最多 \(maximumLength) 个字")) }
        return .success("其他：" + text)
    }
}

public struct RevealReasonProblem: Error, Sendable {
    public let message: String
}
