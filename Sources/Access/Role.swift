/// The account roles (DESIGN.md "Who uses it"), stored as their raw value.
public enum Role: String, Sendable, CaseIterable, Codable {
    case admin
    case staff
    case gridWorker = "grid_worker"
    case coordinator
    case member
    case resident
    /// 部门办理人: handles the cases assigned to their unit; their scope is a unit, not a grid node.
    case unitHandler = "unit_handler"

    /// The Chinese name shown in the UI.
    public var displayName: String {
        switch self {
        case .admin: return "系统管理员"
        case .staff: return "社区工作人员"
        case .gridWorker: return "网格员"
        case .coordinator: return "党建指导员"
        case .member: return "党员"
        case .resident: return "居民"
        case .unitHandler: return "部门办理人"
        }
    }

    /// Every role but admin and the unit handler works within a scope: a node of the grid tree.
    public var needsScope: Bool { self != .admin && self != .unitHandler }
    /// The unit handler's scope is a unit of the unit tree.
    public var needsUnit: Bool { self == .unitHandler }
}

/// The Chinese name of a stored role string (`admin`, `grid_worker`, …); "未知角色" if unknown.
public func roleDisplayName(_ role: String) -> String {
    Role(rawValue: role)?.displayName ?? "未知角色"
}
