import Access
import AppCore

/// A resident record's status (`residents.status`, CHECKed by the schema): moved out keeps the
/// record and its history; merged points at the record it was folded into.
enum ResidentStatus: String, StateMachine {
    case active
    case movedOut = "moved_out"
    case merged

    static let entityType = "resident"

    static let transitions: [Transition<ResidentStatus>] = [
        Transition(from: [.active], to: .movedOut, permission: .manageResidents, action: "resident.move_out"),
        // Moving into a house again (入住 or 换房 names the audit entry).
        Transition(from: [.movedOut], to: .active, permission: .manageResidents, action: "resident.move_in"),
        Transition(from: [.active, .movedOut], to: .merged, permission: .mergeResidents, action: "resident.merge"),
    ]

    static func refusal(from state: ResidentStatus, to next: ResidentStatus) -> String {
        switch (state, next) {
        case (.merged, .merged): return "要合并的记录已经合并过了"
        case (.merged, _): return "该记录已合并到其他记录，请在保留的记录上操作"
        case (.movedOut, .movedOut): return "该居民已迁出，无需重复操作"
        default: return "该记录当前的状态不允许这项操作"
        }
    }
}

extension ResidentRow {
    var statusValue: ResidentStatus { ResidentStatus(rawValue: status) ?? .active }

    /// Where the policy places the record (a record without a building: nowhere, so only the
    /// whole tree's scope reaches it). Records have no owner: they belong to the community.
    var policyPath: String { scopePath ?? "/nothing/" }
}
