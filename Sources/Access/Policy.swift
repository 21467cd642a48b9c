import Domain

/// What a route or an action needs. Every route names one, so the authorization matrix test can
/// enumerate them; adding a route means deciding who may use it.
public enum Permission: String, Sendable, CaseIterable {
    /// No sign-in needed (login page, health check, static files).
    case anonymous
    /// Any signed-in account (dashboard, sign-out, own password).
    case signedIn
    case viewGrids
    case manageGrids
    case manageUsers
    case viewAudit
    case viewResidents
    case manageResidents
    /// See a full ID number or phone number (each reveal is audited).
    case revealPersonalData
    case importResidents
    case exportResidents
    /// Fold a duplicate record into another (rewrites two records).
    case mergeResidents
    case visitKeyGroups
    /// Party organisations and members (党组织, 党员台账).
    case viewMembers
    case manageMembers
    /// A member's own record, 双报到 and 自评 (ownership is checked on the record).
    case ownMembership
    /// Pages of one member's record: those who view members, and members (their own only).
    case memberRecord
    /// Year-end 三评: 社区测评 by staff, 组织考评 by the coordinator (自评 is `ownMembership`).
    case communityEvaluation
    case organisationEvaluation
    /// Volunteer teams, posts and activities in scope (and a volunteer's certificate).
    case viewVolunteering
    /// Create teams, posts and activities; add team people; check attendees in; close activities.
    case manageVolunteering
    /// Claim and leave posts, sign up for activities and cancel, the phone home `/me`.
    case joinVolunteering
    /// The wish board, a wish's page and its photo, `/w/CODE` (scope checked on the wish).
    case viewWishes
    /// Post a wish: residents their own, staff and grid workers for a resident in scope.
    case postWishes
    /// Approve or reject a submitted wish.
    case reviewWishes
    /// Claim, release and complete (结单) wishes; reveal the wisher's phone once claimed.
    case claimWishes
    /// Rate a completed wish: the wisher (their own only) or staff on their behalf.
    case rateWishes
    /// Cancel a wish before it is claimed: the wisher (their own only) or staff.
    case cancelWishes
    /// In-app notifications (`/notifications`): every signed-in account, its own only.
    case notifications
    /// Residents' self-registration requests: staff confirm or refuse them in their scope.
    case reviewRegistrations
    /// The ranking board 公示 of points cards.
    case viewPointsBoard
    /// The point rules and the entries waiting for approval (read).
    case viewPointEntries
    /// Point rules, dimension maxima, grade bands and credit rates.
    case managePointRules
    /// A manual card entry: staff record one, a member applies on their own card.
    case recordPoints
    /// Approve or reject a manual card entry.
    case approvePoints
    /// A reversing entry (a correction) on a card.
    case reversePoints
    /// Own volunteer credits 爱心积分 and redeeming rewards.
    case redeemRewards
    /// The reward shop's catalogue.
    case viewShop
    /// Shop items and writing redemptions off (核销).
    case manageShop
    /// Cancel an unfulfilled redemption (a member or resident their own).
    case cancelRedemptions
    /// Cases 诉求工单: the list, a case's page and its photos (scope or unit checked on the case;
    /// residents and members their own reports only).
    case viewCases
    /// Report a case: grid workers, residents and members on a phone, staff for a caller.
    case reportCases
    /// 受理、派单、合并: the community's dispatch.
    case dispatchCases
    /// A unit's work on an assigned case: accept or return it, escalate, pause and resume, resolve.
    case handleCases
    /// 回访 and closing.
    case followUpCases
    /// 督办 on an overdue case.
    case superviseCases
    /// Overdue lists and the rates.
    case viewCaseRates
    /// Units and case categories.
    case manageCaseSetup
    /// The monthly and yearly reports 报表 of a subtree in scope, their CSV, archived versions.
    case viewReports
    /// Close a month (archive its report as printed and signed) and re-generate a closed one.
    case closeReports

    /// Roles granted this permission. The single table of who may do what.
    public var roles: Set<Role> {
        switch self {
        case .anonymous, .signedIn: return Set(Role.allCases)
        case .viewGrids: return [.admin, .staff, .coordinator]
        case .manageGrids: return [.admin, .staff]
        case .manageUsers, .viewAudit: return [.admin]
        case .viewResidents: return [.staff, .gridWorker, .coordinator]
        case .manageResidents: return [.staff, .gridWorker]
        case .revealPersonalData: return [.staff, .gridWorker]
        case .importResidents: return [.staff]
        case .exportResidents: return [.staff, .coordinator]
        case .mergeResidents: return [.staff]
        case .visitKeyGroups: return [.staff, .gridWorker]
        case .viewMembers: return [.admin, .staff, .gridWorker, .coordinator]
        case .manageMembers: return [.admin, .staff]
        case .ownMembership: return [.member]
        case .memberRecord: return [.admin, .staff, .gridWorker, .coordinator, .member]
        case .communityEvaluation: return [.staff]
        case .organisationEvaluation: return [.coordinator]
        case .viewVolunteering: return [.staff, .gridWorker, .coordinator, .member]
        case .manageVolunteering: return [.staff, .gridWorker]
        case .joinVolunteering: return [.member]
        case .viewWishes: return [.admin, .staff, .gridWorker, .coordinator, .member, .resident]
        case .postWishes: return [.staff, .gridWorker, .resident]
        case .reviewWishes: return [.admin, .staff]
        case .claimWishes: return [.member]
        case .rateWishes: return [.staff, .resident]
        case .cancelWishes: return [.staff, .resident]
        case .reviewRegistrations: return [.staff]
        case .notifications: return Set(Role.allCases)
        case .viewPointsBoard: return [.admin, .staff, .gridWorker, .coordinator, .member]
        case .viewPointEntries: return [.admin, .staff, .coordinator]
        case .managePointRules: return [.admin]
        case .recordPoints: return [.staff, .member]
        case .approvePoints: return [.admin, .coordinator]
        case .reversePoints: return [.admin, .staff, .coordinator]
        case .redeemRewards: return [.member, .resident]
        case .viewShop: return [.admin, .staff, .member, .resident]
        case .manageShop: return [.admin, .staff]
        case .cancelRedemptions: return [.admin, .staff, .member, .resident]
        case .viewCases: return [.admin, .staff, .gridWorker, .coordinator, .unitHandler, .member, .resident]
        case .reportCases: return [.staff, .gridWorker, .member, .resident]
        case .dispatchCases: return [.staff]
        case .handleCases: return [.staff, .unitHandler]
        case .followUpCases: return [.staff, .gridWorker]
        case .superviseCases: return [.coordinator]
        case .viewCaseRates: return [.admin, .staff, .gridWorker, .coordinator, .unitHandler]
        case .manageCaseSetup: return [.admin]
        case .viewReports: return [.admin, .staff, .coordinator]
        case .closeReports: return [.coordinator]
        }
    }
}

/// The part of the grid tree an account may see: a node and everything below it, the whole
/// tree (admin), or nothing (no principal: fails closed).
public struct Scope: Sendable, Equatable {
    /// The materialized path of the scope's node (`/1/5/`); nil for the whole tree (admin).
    /// `nothing` has a path no grid lies under, so code that filters by it finds no rows.
    public let path: String?
    public let isNothing: Bool
    /// A unit handler's scope: the path of their unit (`/2/7/`) in the unit tree. Such a scope
    /// contains no grid (every grid-scoped list is empty for it); cases are checked by their unit.
    public let unitPath: String?

    public init(path: String?) {
        self.path = path
        isNothing = false
        unitPath = nil
    }

    private init(nothing: Void, unitPath: String? = nil) {
        path = "/nothing/"
        isNothing = true
        self.unitPath = unitPath
    }

    /// The scope of a unit handler: the unit at `path` and the units below it.
    public static func unit(_ path: String) -> Scope { Scope(nothing: (), unitPath: path) }

    /// Whether a unit (by its path) lies in this unit scope; false for grid scopes.
    public func containsUnit(_ path: String?) -> Bool {
        guard let unitPath, let path else { return false }
        return GridPath.isInSubtree(path, of: unitPath)
    }

    public static let everything = Scope(path: nil)
    /// The scope of a request without a principal: contains no grid, matches no row.
    public static let nothing = Scope(nothing: ())

    public func contains(_ gridPath: String) -> Bool {
        if isNothing { return false }
        guard let path else { return true }
        return GridPath.isInSubtree(gridPath, of: path)
    }

    /// An SQL condition restricting `column` (a grid path) to this scope, as a range the
    /// path index can serve: `column >= '/1/5/' AND column < '/1/50'`.
    public func condition(on column: String) -> (sql: String, arguments: [String]) {
        if isNothing { return ("0", []) }
        guard let path else { return ("1", []) }
        let range = GridPath.subtreeRange(of: path)
        return ("(\(column) >= ? AND \(column) < ?)", [range.lower, range.upper])
    }
}


/// The signed-in account as the policy sees it.
public struct Principal: Sendable, Equatable {
    public let userID: Int64
    public let role: Role
    public let scope: Scope

    public init(userID: Int64, role: Role, scope: Scope) {
        self.userID = userID
        self.role = role
        self.scope = scope
    }
}

public enum Decision: Sendable, Equatable {
    case allow
    /// The role may not do this at all: 403.
    case forbidden
    /// The target lies outside the account's scope: 404, so its existence is not disclosed.
    case notFound
}

/// The one authorization policy: (role, action, target's grid, target's owner) → decision.
public enum Policy {
    /// Role first (403), then the target's place in the scope (404: its existence is not
    /// disclosed), then, when `ownerOnly`, its owner (403: visible, but someone else's: a wish,
    /// a sign-up).
    /// A target with a unit (a case) is in a unit handler's scope when its unit lies in the
    /// handler's unit subtree, whatever its grid; for everyone else the grid decides.
    public static func decide(_ principal: Principal?, _ permission: Permission, targetGridPath: String? = nil,
                              targetUnitPath: String? = nil, ownerID: Int64? = nil, ownerOnly: Bool = false) -> Decision {
        if permission == .anonymous { return .allow }
        guard let principal else { return .forbidden }
        guard permission.roles.contains(principal.role) else { return .forbidden }
        if principal.scope.unitPath != nil {
            if (targetGridPath != nil || targetUnitPath != nil), !principal.scope.containsUnit(targetUnitPath) { return .notFound }
        } else if let targetGridPath, !principal.scope.contains(targetGridPath) { return .notFound }
        if ownerOnly, ownerID != principal.userID { return .forbidden }
        return .allow
    }
}
