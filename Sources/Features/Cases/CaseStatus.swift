import Access
import AppCore

/// A case's status (`cases.status`; the schema CHECKs the same values):
///
///     reported ─accept→ accepted ─assign→ assigned ─accept (the unit)→ in_progress ─resolve→ resolved
///        │                 ↑   │             │  ↑ escalate (a unit higher up)    │ ↑              │
///        │                 └───┼─return──────┘  └──────────────────────────────┘ │    visit 不满意 (reopen)
///        │                     │                                                  └──────────────┤
///        └─merge→ merged ←─────┘          accepted/assigned/in_progress ⇄ paused   visit 满意/基本满意
///                                                                                         ↓
///                                                                           visited ─close→ closed
enum CaseStatus: String, StateMachine {
    case reported, accepted, assigned, inProgress = "in_progress", paused, resolved, visited, closed, merged

    static let entityType = "case"

    static let transitions: [Transition<CaseStatus>] = [
        Transition(from: [.reported], to: .accepted, permission: .dispatchCases, action: "case.accept"),
        Transition(from: [.accepted], to: .assigned, permission: .dispatchCases, action: "case.assign"),
        Transition(from: [.assigned], to: .inProgress, permission: .handleCases, action: "case.unit_accept"),
        Transition(from: [.assigned], to: .accepted, permission: .handleCases, action: "case.return"),
        Transition(from: [.assigned, .inProgress], to: .assigned, permission: .handleCases, action: "case.escalate"),
        Transition(from: [.accepted, .assigned, .inProgress], to: .paused, permission: .handleCases, action: "case.pause"),
        Transition(from: [.paused], to: .accepted, permission: .handleCases, action: "case.resume"),
        Transition(from: [.paused], to: .assigned, permission: .handleCases, action: "case.resume"),
        Transition(from: [.paused], to: .inProgress, permission: .handleCases, action: "case.resume"),
        Transition(from: [.inProgress], to: .resolved, permission: .handleCases, action: "case.resolve"),
        Transition(from: [.resolved], to: .visited, permission: .followUpCases, action: "case.visit"),
        Transition(from: [.resolved], to: .inProgress, permission: .followUpCases, action: "case.reopen"),
        Transition(from: [.visited], to: .closed, permission: .followUpCases, action: "case.close"),
        Transition(from: [.reported, .accepted], to: .merged, permission: .dispatchCases, action: "case.merge"),
        // 督办 leaves the state as it is: an event on the timeline and a notification.
        Transition(from: [.reported], to: .reported, permission: .superviseCases, action: "case.supervise"),
        Transition(from: [.accepted], to: .accepted, permission: .superviseCases, action: "case.supervise"),
        Transition(from: [.assigned], to: .assigned, permission: .superviseCases, action: "case.supervise"),
        Transition(from: [.inProgress], to: .inProgress, permission: .superviseCases, action: "case.supervise"),
    ]

    static func refusal(from state: CaseStatus, to next: CaseStatus) -> String {
        switch next {
        case .accepted where state == .paused: "该工单当前为“\(state.label)”，不能办理此项。"
        case .accepted: state == .reported ? "该工单已受理。" : "只有待受理的工单可以受理，或已派单的工单可以退回，该工单当前为“\(state.label)”。"
        case .assigned: "只有已受理的工单可以派单，已派单或办理中的工单可以吹哨上报，该工单当前为“\(state.label)”。"
        case .inProgress: "该工单当前为“\(state.label)”，不能签收或重新办理。"
        case .paused: "只有办理中的工单可以挂起，该工单当前为“\(state.label)”。"
        case .resolved: "只有办理中的工单可以办结，该工单当前为“\(state.label)”。"
        case .visited: "只有已办结的工单可以回访，该工单当前为“\(state.label)”。"
        case .closed: "只有已回访的工单可以关闭，该工单当前为“\(state.label)”。"
        case .merged: "只有待受理或已受理（未派单）的工单可以合并，该工单当前为“\(state.label)”。"
        case .reported: "该工单当前为“\(state.label)”，不能办理此项。"
        }
    }

    var label: String {
        switch self {
        case .reported: "待受理"
        case .accepted: "已受理待派单"
        case .assigned: "已派单待签收"
        case .inProgress: "办理中"
        case .paused: "挂起待补充"
        case .resolved: "已办结待回访"
        case .visited: "已回访"
        case .closed: "已关闭"
        case .merged: "已合并"
        }
    }

    var badge: String {
        switch self {
        case .reported: "badge-warning"
        case .accepted, .assigned: "badge-info"
        case .inProgress: "badge-party"
        case .paused: "badge-muted"
        case .resolved, .visited, .closed: "badge-success"
        case .merged: "badge-muted"
        }
    }

    /// States in which a case is still being worked on.
    static let open: [CaseStatus] = [.reported, .accepted, .assigned, .inProgress, .paused]
    /// States whose clock runs (the response clock while reported, the resolution clock after).
    static let running: Set<CaseStatus> = [.reported, .accepted, .assigned, .inProgress]
}

/// 回访 satisfaction (`cases.satisfaction`).
enum Satisfaction: String, CaseIterable {
    case satisfied, basic, unsatisfied

    var label: String {
        switch self {
        case .satisfied: "满意"
        case .basic: "基本满意"
        case .unsatisfied: "不满意"
        }
    }
}
