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

    /// Runs a store call; a refusal becomes its status page (403, 404, 409) with its message,
    /// field errors go to `onFields` (or a 422 page).
    func memberAction(back: String, success: String, onFields: ((FieldErrors) throws -> HTTPResponse)? = nil,
                      _ body: () throws -> Void) throws -> HTTPResponse {
        do {
            try body()
            return redirect(back, flash: .success(success))
        } catch let refusal as MemberRefusal {
            throw HTTPError(refusal.status, refusal.message)
        } catch let errors as FieldErrors {
            if let onFields { return try onFields(errors) }
            throw HTTPError(.unprocessableContent, errors.errors.values.sorted().first ?? "提交的内容有误")
        }
    }

    func text(_ name: String, max: Int = 200) -> String {
        String((form[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(max))
    }

    var thisYear: Int { Int(ChinaDate.today(clock.now).prefix(4)) ?? 2000 }
}
