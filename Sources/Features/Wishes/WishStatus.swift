import Access
import AppCore

/// A wish's status (`wishes.status`; the schema CHECKs the same values):
/// submitted → published (approve) | rejected (reject) → claimed → completed → rated → closed,
/// claimed → published (release by the claimant, or the claim expired), submitted/published →
/// cancelled (the wisher or staff), published → expired (nobody claimed it in time).
enum WishStatus: String, StateMachine {
    case submitted, published, rejected, claimed, completed, rated, closed, cancelled, expired

    static let entityType = "wish"

    static let transitions: [Transition<WishStatus>] = [
        Transition(from: [.submitted], to: .published, permission: .reviewWishes, action: "wish.approve"),
        Transition(from: [.submitted], to: .rejected, permission: .reviewWishes, action: "wish.reject"),
        Transition(from: [.published], to: .claimed, permission: .claimWishes, action: "wish.claim"),
        Transition(from: [.claimed], to: .published, permission: .claimWishes, ownerOnly: true, action: "wish.release"),
        Transition(from: [.claimed], to: .completed, permission: .claimWishes, ownerOnly: true, action: "wish.complete"),
        Transition(from: [.completed], to: .rated, permission: .rateWishes, action: "wish.rate"),
        Transition(from: [.rated], to: .closed, permission: .rateWishes, action: "wish.close"),
        Transition(from: [.submitted, .published], to: .cancelled, permission: .cancelWishes, action: "wish.cancel"),
        // The lazy sweep, run as the system (`WishStore.system`).
        Transition(from: [.published], to: .expired, permission: .reviewWishes, action: "wish.expire"),
        Transition(from: [.claimed], to: .published, permission: .reviewWishes, action: "wish.claim_expire"),
    ]

    static func refusal(from state: WishStatus, to next: WishStatus) -> String {
        switch next {
        case .published where state == .claimed: "只有已认领的心愿可以放弃认领。"
        case .published, .rejected: "只有待审核的心愿可以审核，该心愿当前为“\(state.label)”。"
        case .claimed: "该心愿当前为“\(state.label)”，不能认领。"
        case .completed: "只有已认领的心愿可以结单，该心愿当前为“\(state.label)”。"
        case .rated: "只有已完成的心愿可以评价，该心愿当前为“\(state.label)”。"
        case .cancelled: "心愿被认领后不能撤销，该心愿当前为“\(state.label)”。"
        default: "该心愿当前为“\(state.label)”，不能办理此项。"
        }
    }

    var label: String {
        switch self {
        case .submitted: "待审核"
        case .published: "待认领"
        case .rejected: "未通过"
        case .claimed: "已认领"
        case .completed: "已完成"
        case .rated: "已评价"
        case .closed: "已办结"
        case .cancelled: "已撤销"
        case .expired: "已过期"
        }
    }

    var badge: String {
        switch self {
        case .submitted: "badge-warning"
        case .published: "badge-info"
        case .claimed: "badge-party"
        case .completed, .rated, .closed: "badge-success"
        case .rejected, .cancelled, .expired: "badge-muted"
        }
    }
}
