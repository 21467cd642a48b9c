/// The account roles (DESIGN.md "Who uses it"), stored as their raw value.
public enum Role: String, Sendable, CaseIterable, Codable {
    case admin
    case staff
    case gridWorker = "grid_worker"
    case coordinator
    case member
    case resident

    /// The Chinese name shown in the UI.
    public var displayName: String {
        switch self {
        case .admin: return "系统管理员"
        case .staff: return "社区工作人员"
        case .gridWorker: return "网格员"
        case .coordinator: return "党建指导员"
        case .member: return "党员"
        case .resident: return "居民"
        }
    }

    /// Every role but admin works within a scope: a node of the grid tree.
    public var needsScope: Bool { self != .admin }
}

/// The Chinese name of a stored role string (`admin`, `grid_worker`, …); "未知角色" if unknown.
public func roleDisplayName(_ role: String) -> String {
    Role(rawValue: role)?.displayName ?? "未知角色"
}
