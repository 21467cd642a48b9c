import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// Party organisations 党组织 and members 党员台账: list and search, the member's record with
/// its timeline, 双报到, 三评, member accounts, the ledger CSV in and out and the printable ledger.
public enum MembersFeature {
    static let viewers: Set<Role> = [.admin, .staff, .gridWorker, .coordinator]
    static let managers: Set<Role> = [.admin, .staff]
    /// One member's record: those who view members, and members (their own, checked on the record).
    static let record: Set<Role> = [.admin, .staff, .gridWorker, .coordinator, .member]

    public static let module = Module(
        name: "members", routes: register,
        permissions: [.viewMembers, .manageMembers, .ownMembership, .memberRecord, .communityEvaluation, .organisationEvaluation],
        auditLabels: [
            ("branch.create", "新建党组织"), ("branch.cover", "联合党支部添加覆盖小区"),
            ("member.create", "登记党员"), ("member.update", "修改党员信息"),
            ("member.transfer_out", "组织关系转出"), ("member.transfer_in", "组织关系转入"),
            ("member.report", "提交双报到"), ("member.report_confirm", "确认双报到"), ("member.report_return", "退回双报到"),
            ("member.evaluate", "年度评议"), ("member.roles", "设置党员职务与中心户"),
            ("member.link_household", "添加联系户"), ("member.unlink_household", "移除联系户"),
            ("member.import", "导入党员台账"), ("member.export", "导出党员台账"),
            ("member.export_full", "导出党员台账（完整号码）"), ("member.search_full_number", "按完整号码查找党员"),
        ],
        navigation: [("党员", path: "/members", order: 30, permission: .viewMembers)],
        shortcuts: [
            ("党员", path: "/members", note: "党员台账、双报到确认、年度评议", order: 45, permission: .viewMembers),
            ("我的党员档案", path: "/members/mine", note: "在职党员双报到、年度自评", order: 46, permission: .ownMembership),
        ],
        matrix: [
            "GET /branches": viewers,
            "GET /branches/new": managers,
            "POST /branches/new": managers,
            "GET /branches/:id": viewers,
            "POST /branches/:id/grids": managers,
            "GET /members": viewers,
            "GET /members/new": managers,
            "POST /members/new": managers,
            "GET /members/export.csv": viewers,
            "GET /members/import": managers,
            "POST /members/import": managers,
            "GET /members/ledger": viewers,
            "GET /members/mine": [.member],
            "GET /members/:id": record,
            "POST /members/:id/edit": managers,
            "POST /members/:id/transfer": managers,
            "POST /members/:id/account": managers,
            "POST /members/:id/roles": managers,
            "POST /members/:id/households": managers,
            "POST /members/:id/households/:houseId/remove": managers,
            "GET /members/:id/report": record,
            "POST /members/:id/report": record,
            "POST /members/:id/report/confirm": managers,
            "POST /members/:id/report/return": managers,
            // Each role its own part of 三评, decided on the record.
            "POST /members/:id/evaluations": record,
            "GET /members/:id/service-certificate": record,
        ],
        reportSections: MembersReport.sections)

    public static func register(_ routes: inout AppRoutes) {
        routes.get("/branches", .viewMembers) { try BranchPages.index($0) }
        routes.get("/branches/new", .manageMembers) { try BranchPages.newForm($0) }
        routes.post("/branches/new", .manageMembers) { try BranchPages.create($0) }
        routes.get("/branches/:id", .viewMembers) { try BranchPages.show($0) }
        routes.post("/branches/:id/grids", .manageMembers) { try BranchPages.cover($0) }

        routes.get("/members", .viewMembers) { try MemberPages.index($0) }
        routes.get("/members/new", .manageMembers) { try MemberPages.newForm($0) }
        routes.post("/members/new", .manageMembers) { try MemberPages.create($0) }
        routes.get("/members/export.csv", .viewMembers, options: RouteOptions(offload: true)) { try MemberLedger.export($0) }
        routes.get("/members/import", .manageMembers) { try MemberLedger.importForm($0) }
        routes.post("/members/import", .manageMembers, options: RouteOptions(bodyLimit: 10 << 20, offload: true)) {
            try MemberLedger.importFile($0)
        }
        routes.get("/members/ledger", .viewMembers, options: RouteOptions(offload: true)) { try MemberLedger.printable($0) }
        routes.get("/members/mine", .ownMembership) { try MemberPages.mine($0) }
        routes.get("/members/:id", .memberRecord) { try MemberPages.show($0) }
        routes.post("/members/:id/edit", .manageMembers) { try MemberPages.update($0) }
        routes.post("/members/:id/transfer", .manageMembers) { try MemberPages.transfer($0) }
        routes.post("/members/:id/roles", .manageMembers) { try MemberPages.setRoles($0) }
        routes.post("/members/:id/households", .manageMembers) { try MemberPages.linkHousehold($0, link: true) }
        routes.post("/members/:id/households/:houseId/remove", .manageMembers) { try MemberPages.linkHousehold($0, link: false) }
        routes.post("/members/:id/account", .manageMembers, options: RouteOptions(offload: true)) { try MemberPages.createAccount($0) }
        routes.get("/members/:id/report", .memberRecord) { try MemberPages.reportForm($0) }
        routes.post("/members/:id/report", .memberRecord) { try MemberPages.submitReport($0) }
        routes.post("/members/:id/report/confirm", .manageMembers) { try MemberPages.decideReport($0, confirm: true) }
        routes.post("/members/:id/report/return", .manageMembers) { try MemberPages.decideReport($0, confirm: false) }
        routes.post("/members/:id/evaluations", .memberRecord) { try MemberPages.evaluate($0) }
        routes.get("/members/:id/service-certificate", .memberRecord) { try MemberPages.serviceCertificate($0) }
    }
}

extension Context {
    var memberStore: MemberStore { MemberStore(database: database, hasher: env.users.hasher) }

    /// Runs a store call and redirects to `back`; refusals (`NotFound`, `Forbidden`, `Conflict`,
    /// `FieldErrors`) become their pages through AppCore's one mapping, unless `onFields` takes
    /// the field errors to show them on a form.
    func memberAction(back: String, success: String, onFields: ((FieldErrors) throws -> HTTPResponse)? = nil,
                      _ body: () throws -> Void) throws -> HTTPResponse {
        do {
            try body()
            return redirect(back, flash: .success(success))
        } catch let errors as FieldErrors where onFields != nil {
            return try onFields!(errors)
        }
    }

    var thisYear: Int { Int(ChinaDate.today(clock.now).prefix(4)) ?? 2000 }
}
