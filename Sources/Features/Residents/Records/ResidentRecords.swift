import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// Houses and resident records: create, edit, detail, moves, merges, visits, reveals.
///
/// Every handler finds its target first and checks that it lies in the account's scope (404
/// otherwise), then the role (403); writes go through `ResidentStore` / `HouseStore`, one
/// transaction each with its audit entry.
enum ResidentRecords {
    static func register(_ routes: inout AppRoutes) {
        // Houses of a building.
        routes.get("/buildings/:id/houses", .viewResidents) { try HousePages.index($0) }
        routes.get("/buildings/:id/houses/new", .manageResidents) { try HousePages.newForm($0) }
        routes.post("/buildings/:id/houses/new", .manageResidents) { try HousePages.create($0) }
        routes.get("/houses/:id", .viewResidents) { try HousePages.show($0) }

        // Records.
        routes.get("/residents/new", .manageResidents) { try ResidentForms.newForm($0) }
        routes.post("/residents/new", .manageResidents) { try ResidentForms.create($0) }
        routes.get("/residents/visits/overdue", .visitKeyGroups) { try OverduePage.show($0) }
        routes.get("/residents/:id", .viewResidents) { try ResidentDetail.show($0) }
        routes.get("/residents/:id/edit", .manageResidents) { try ResidentForms.editForm($0) }
        routes.post("/residents/:id/edit", .manageResidents) { try ResidentForms.update($0) }
        routes.post("/residents/:id/reveal", .revealPersonalData) { try ResidentDetail.reveal($0) }
        routes.post("/residents/:id/tags", .manageResidents) { try ResidentDetail.setTags($0) }
        routes.post("/residents/:id/visits", .visitKeyGroups) { try ResidentDetail.addVisit($0) }

        // Moves and merges.
        routes.get("/residents/:id/move", .manageResidents) { try ResidentMoves.moveForm($0) }
        routes.post("/residents/:id/move", .manageResidents) { try ResidentMoves.move($0) }
        routes.get("/residents/:id/move-out", .manageResidents) { try ResidentMoves.moveOutForm($0) }
        routes.post("/residents/:id/move-out", .manageResidents) { try ResidentMoves.moveOut($0) }
        routes.post("/residents/:id/residences/:residenceId/end", .manageResidents) { try ResidentMoves.endResidence($0) }
        routes.get("/residents/:id/merge", .manageResidents) { try ResidentMoves.mergePreview($0) }
        routes.post("/residents/:id/merge", .manageResidents) { try ResidentMoves.merge($0) }
    }
}

extension Context {

    var residentStore: ResidentStore { ResidentStore(database: database) }
    var houseStore: HouseStore { HouseStore(database: database) }

    /// The resident named by the route's `:id`, checked against the account's scope for
    /// `permission`: 404 when missing or out of scope.
    func residentInScope(_ permission: Permission = .viewResidents) throws -> ResidentRow {
        let id = try request.id()
        guard let row = try database.read({ db in try ResidentRow.find(db, id) }) else { throw HTTPError(.notFound) }
        try authorize(permission, gridPath: row.policyPath)
        return row
    }

    /// A trimmed form value, at most `max` characters.
    func field(_ name: String, max: Int = 200) -> String {
        String((form[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(max))
    }
}

/// Maps the stores' errors to responses shared by every write handler.
enum RecordResponses {
    /// Runs a write; a `RecordConflict` becomes a redirect to `back` with its message. Other
    /// errors pass to the caller (`NotFound`, `Conflict`: pages mapped in AppCore).
    static func perform(_ ctx: Context, back: String, _ body: () throws -> HTTPResponse) throws -> HTTPResponse {
        do {
            return try body()
        } catch let conflict as RecordConflict {
            return ctx.redirect(back, flash: .error(conflict.message))
        }
    }

    /// Today's date or a date the user typed, not in the future.
    static func date(_ text: String, field: String, label: String, today: String, state: inout FormState) -> String? {
        if text.isEmpty { return today }
        guard let date = ChinaDate.parse(text) else {
            state.addError("\(label)格式应为 年-月-日，例如 \(today)", for: field)
            return nil
        }
        if date > today {
            state.addError("\(label)不能晚于今天", for: field)
            return nil
        }
        return date
    }
}
