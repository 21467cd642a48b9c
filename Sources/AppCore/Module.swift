import Access
import Views

/// What a module (a folder under `Sources/Features`) tells the application about itself: its
/// routes, the permissions and audit actions it introduces, its menu items and dashboard
/// shortcuts, and its rows of the authorization matrix. `App` registers a list of them; adding
/// a module is its folder plus one line there (and its target in Package.swift).
public struct Module: Sendable {
    public var name: String
    /// Adds the module's routes, each with the permission it needs.
    public var routes: @Sendable (inout AppRoutes) -> Void
    /// Permissions the module's routes and stores ask for (the policy's table is in Access).
    public var permissions: [Permission]
    /// The audit actions it records, with their Chinese names.
    public var auditLabels: [AuditLabel]
    public var navigation: [NavEntry]
    public var shortcuts: [Shortcut]
    /// "METHOD pattern" → the roles that may use the route (nil: no sign-in needed). Written by
    /// hand, so a new route fails the matrix test until someone decides who may use it.
    public var matrix: [String: Set<Role>?]
    /// The module's parts of the monthly report (`ReportSection`); most modules have none.
    public var reportSections: [ReportSection]

    public init(name: String, routes: @escaping @Sendable (inout AppRoutes) -> Void, permissions: [Permission] = [],
                auditLabels: [AuditLabel] = [], navigation: [NavEntry] = [], shortcuts: [Shortcut] = [],
                matrix: [String: Set<Role>?] = [:], reportSections: [ReportSection] = []) {
        self.name = name
        self.routes = routes
        self.permissions = permissions
        self.auditLabels = auditLabels
        self.navigation = navigation
        self.shortcuts = shortcuts
        self.matrix = matrix
        self.reportSections = reportSections
    }
}

/// An audit action and its Chinese name (`resident.move_out` → 迁出).
public typealias AuditLabel = (action: String, label: String)

/// A main-menu item, shown to roles with `permission`, placed by `order` among all modules' items.
public typealias NavEntry = (title: String, path: String, order: Int, permission: Permission)

/// A dashboard shortcut, shown to roles with `permission`, placed by `order`.
public typealias Shortcut = (title: String, path: String, note: String, order: Int, permission: Permission)

/// Everything the registered modules declare, gathered once at start.
public struct ModuleRegistry: Sendable {
    public let modules: [Module]
    public let navigation: [NavEntry]
    public let shortcuts: [Shortcut]
    /// Every audit action in display order (module by module), and by action.
    public let auditLabels: [AuditLabel]
    public let auditLabelByAction: [String: String]
    /// Every module's report contributions, by `order`.
    public let reportSections: [ReportSection]

    public init(_ modules: [Module]) {
        self.modules = modules
        navigation = modules.flatMap(\.navigation).sorted { $0.order < $1.order }
        shortcuts = modules.flatMap(\.shortcuts).sorted { $0.order < $1.order }
        auditLabels = modules.flatMap(\.auditLabels)
        reportSections = modules.flatMap(\.reportSections).sorted { $0.order < $1.order }
        auditLabelByAction = Dictionary(auditLabels.map { ($0.action, $0.label) }, uniquingKeysWith: { first, _ in first })
    }

    /// The Chinese name of an audit action; the action itself when no module names it.
    public func label(_ action: String) -> String { auditLabelByAction[action] ?? action }

    /// The merged authorization matrix of every module.
    public var matrix: [String: Set<Role>?] {
        modules.reduce(into: [:]) { rows, module in rows.merge(module.matrix) { first, _ in first } }
    }
}
