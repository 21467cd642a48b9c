import Access
import AppCore
import Web

/// Closed-loop cases 诉求工单: 前端发现问题 → 网上分级分流 → 部门限时办理 → 全程跟踪督办 →
/// 办结回访反馈. A grid worker or a resident reports a case on a phone (or staff for a caller),
/// staff accept and assign it to a unit, the unit's handler signs for it, resolves it (or returns,
/// escalates 吹哨, pauses it), staff or the grid worker follow it up 回访 and close it;
/// coordinators 督办 overdue ones. The clocks are `CaseClock`; the rates `Domain/CaseRates`.
public enum CasesFeature {
    static let viewers: Set<Role> = [.admin, .staff, .gridWorker, .coordinator, .unitHandler, .member, .resident]
    static let reporters: Set<Role> = [.staff, .gridWorker, .member, .resident]
    static let dispatchers: Set<Role> = [.staff]
    static let handlers: Set<Role> = [.staff, .unitHandler]
    static let followers: Set<Role> = [.staff, .gridWorker]
    static let rateViewers: Set<Role> = [.admin, .staff, .gridWorker, .coordinator, .unitHandler]
    static let admins: Set<Role> = [.admin]

    /// Up to 3 photos of at most 5 MB each, and the form.
    static let uploadLimit = 16 << 20

    public static let module = Module(
        name: "cases", routes: register,
        permissions: [.viewCases, .reportCases, .dispatchCases, .handleCases, .followUpCases, .superviseCases, .viewCaseRates,
                      .manageCaseSetup],
        auditLabels: [
            ("case.report", "反映问题"), ("case.accept", "受理工单"), ("case.assign", "派单"), ("case.unit_accept", "部门签收"),
            ("case.return", "部门退回"), ("case.escalate", "吹哨上报"), ("case.pause", "挂起工单"), ("case.resume", "恢复办理"),
            ("case.resolve", "办结工单"), ("case.visit", "回访"), ("case.reopen", "回访不满意，重新办理"), ("case.close", "关闭工单"),
            ("case.merge", "合并重复工单"), ("case.merged_in", "并入重复工单"), ("case.supervise", "督办"),
            ("unit.create", "新增职能部门"), ("unit.activate", "启用职能部门"), ("unit.deactivate", "停用职能部门"),
            ("case_category.create", "新增诉求类别"), ("case_category.update", "修改诉求类别"),
        ],
        navigation: [
            ("诉求工单", path: "/cases", order: 55, permission: .viewCases),
            ("职能部门", path: "/units", order: 92, permission: .manageCaseSetup),
            ("诉求类别", path: "/case-categories", order: 93, permission: .manageCaseSetup),
        ],
        shortcuts: [
            ("反映问题", path: "/cases/new", note: "随手拍，发现问题及时上报", order: 20, permission: .reportCases),
            ("诉求工单", path: "/cases", note: "按剩余时限排序的待办工单", order: 21, permission: .handleCases),
            ("超时督办", path: "/cases/overdue", note: "超时和即将超时的工单", order: 56, permission: .superviseCases),
            ("办理考核", path: "/cases/rates", note: "响应及时率、按期办结率、满意率", order: 57, permission: .viewCaseRates),
        ],
        matrix: [
            "GET /cases": viewers,
            "GET /cases/new": reporters,
            "POST /cases/new": reporters,
            "GET /cases/overdue": rateViewers,
            "GET /cases/rates": rateViewers,
            "GET /cases/:id": viewers,
            "GET /cases/:id/photos/:hash": viewers,
            "POST /cases/:id/accept": handlers,
            "POST /cases/:id/assign": dispatchers,
            "POST /cases/:id/return": handlers,
            "POST /cases/:id/escalate": handlers,
            "POST /cases/:id/pause": handlers,
            "POST /cases/:id/resume": handlers,
            "POST /cases/:id/resolve": handlers,
            "POST /cases/:id/visit": followers,
            "POST /cases/:id/close": followers,
            "POST /cases/:id/merge": dispatchers,
            "POST /cases/:id/supervise": [.coordinator],
            "GET /units": admins,
            "POST /units": admins,
            "POST /units/:id/active": admins,
            "GET /case-categories": admins,
            "POST /case-categories": admins,
            "POST /case-categories/:id": admins,
        ],
        reportSections: CasesReport.sections)

    /// The statements the county-wide rates page runs for `month` (`jinlin report-sql
    /// --cases-rates`; the cases benchmark runs them in sqlite3).
    public static func ratesSQL(_ env: AppEnvironment, month: String) throws -> [String] {
        let now = Int64(env.clock.now.timeIntervalSince1970)
        return try StatementLog.tracing(env.database) { db in
            _ = try CaseRatesPages.aggregate(db, scopePath: nil, unitPath: nil, month: month, now: now)
        }
    }

    public static func register(_ routes: inout AppRoutes) {
        let upload = RouteOptions(bodyLimit: uploadLimit, offload: true)
        routes.get("/cases", .viewCases) { try CasePages.index($0) }
        routes.get("/cases/new", .reportCases) { try CasePages.newForm($0) }
        routes.post("/cases/new", .reportCases, options: upload) { try CasePages.create($0) }
        routes.get("/cases/overdue", .viewCaseRates) { try CaseRatesPages.overdue($0) }
        routes.get("/cases/rates", .viewCaseRates) { try CaseRatesPages.rates($0) }
        routes.get("/cases/:id", .viewCases) { try CasePages.show($0) }
        routes.get("/cases/:id/photos/:hash", .viewCases) { try CasePages.photo($0) }
        routes.post("/cases/:id/accept", .handleCases) { try CasePages.accept($0) }
        routes.post("/cases/:id/assign", .dispatchCases) { try CasePages.assign($0) }
        routes.post("/cases/:id/return", .handleCases) { try CasePages.giveBack($0) }
        routes.post("/cases/:id/escalate", .handleCases) { try CasePages.escalate($0) }
        routes.post("/cases/:id/pause", .handleCases) { try CasePages.pause($0) }
        routes.post("/cases/:id/resume", .handleCases) { try CasePages.resume($0) }
        routes.post("/cases/:id/resolve", .handleCases, options: upload) { try CasePages.resolve($0) }
        routes.post("/cases/:id/visit", .followUpCases) { try CasePages.visit($0) }
        routes.post("/cases/:id/close", .followUpCases) { try CasePages.close($0) }
        routes.post("/cases/:id/merge", .dispatchCases) { try CasePages.merge($0) }
        routes.post("/cases/:id/supervise", .superviseCases) { try CasePages.supervise($0) }
        routes.get("/units", .manageCaseSetup) { try CaseSetupPages.unitsPage($0) }
        routes.post("/units", .manageCaseSetup) { try CaseSetupPages.createUnit($0) }
        routes.post("/units/:id/active", .manageCaseSetup) { try CaseSetupPages.toggleUnit($0) }
        routes.get("/case-categories", .manageCaseSetup) { try CaseSetupPages.categoriesPage($0) }
        routes.post("/case-categories", .manageCaseSetup) { try CaseSetupPages.saveCategory($0) }
        routes.post("/case-categories/:id", .manageCaseSetup) { try CaseSetupPages.saveCategory($0) }
    }
}
