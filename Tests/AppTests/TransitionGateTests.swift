import Access
import AppCore
import Foundation
import GRDB
import Storage
import Testing
import Web

/// The one gate for state changes (`StateChange.apply`): role, scope, owner and state are decided
/// inside the write transaction, and a refusal writes nothing — no row change, no timeline, no audit.
@Suite struct TransitionGateTests {
    /// A wish as the coming module will have it: its owner may withdraw it while it is published.
    enum WishState: String, StateMachine {
        case published, withdrawn

        static let entityType = "wish"
        static let transitions: [Transition<WishState>] = [
            Transition(from: [.published], to: .withdrawn, permission: .signedIn, ownerOnly: true, action: "wish.withdraw"),
        ]

        static func refusal(from state: WishState, to next: WishState) -> String { "只有已发布的心愿可以撤回" }
    }

    /// A table of wishes in the test's database, one published wish owned by `owner`.
    static func wishes(_ app: TestApp, owner: Int64, gridPath: String) throws -> Int64 {
        try app.database.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS test_wishes (id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL, grid_path TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status = 'published' OR status = 'withdrawn')) STRICT
                """)
            try db.execute(sql: "INSERT INTO test_wishes (owner_id, grid_path, status) VALUES (?, ?, 'published')",
                           arguments: [owner, gridPath])
            return db.lastInsertedRowID
        }
    }

    static func withdraw(_ app: TestApp, _ wishID: Int64, as principal: Principal) throws {
        try app.database.write { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT * FROM test_wishes WHERE id = ?", arguments: [wishID]))
            try StateChange.apply(db, principal, actor: AuditActor(userID: principal.userID, name: "测试"), id: wishID,
                                  from: WishState(rawValue: row["status"]) ?? .published, gridPath: row["grid_path"],
                                  ownerID: row["owner_id"], to: .withdrawn, snapshot: { db in try String.fetchOne(db, sql: "SELECT status FROM test_wishes WHERE id = ?", arguments: [wishID]) }) { db in
                try db.execute(sql: "UPDATE test_wishes SET status = 'withdrawn' WHERE id = ?", arguments: [wishID])
            }
        }
    }

    /// Nothing was written for `wishID`: still published, no timeline row, no audit entry.
    static func nothingWritten(_ app: TestApp, _ wishID: Int64) throws {
        #expect(try Self.status(app, wishID) == "published")
        #expect(try Self.timelineCount(app) == 0)
        #expect(try app.auditCount(action: "wish.withdraw") == 0)
    }

    static func status(_ app: TestApp, _ wishID: Int64) throws -> String? {
        try app.database.read { db in try String.fetchOne(db, sql: "SELECT status FROM test_wishes WHERE id = ?", arguments: [wishID]) }
    }

    static func timelineCount(_ app: TestApp) throws -> Int {
        try app.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM timeline_events WHERE entity_type = 'wish'") ?? 0 }
    }

    static func status(of error: any Error) -> Int? {
        (DomainErrors.mapped(error) as? HTTPError)?.status.code
    }

    @Test func theOwnerWithdrawsAndTheTimelineAndAuditFollow() throws {
        let app = try TestApp()
        let owner = try app.makeUser("owner", role: .member)
        let wish = try Self.wishes(app, owner: owner.id, gridPath: app.grid.path)
        try Self.withdraw(app, wish, as: owner.principal)
        #expect(try Self.status(app, wish) == "withdrawn")
        let events = try app.database.read { db in try StateChange.timeline(db, entityType: "wish", id: wish) }
        #expect(events.count == 1)
        #expect(events.first?["from_state"] == "published" && events.first?["to_state"] == "withdrawn")
        #expect(try app.auditCount(action: "wish.withdraw") == 1)
    }

    @Test func someoneElsesWishIsRefusedWith403AndNothingWritten() throws {
        let app = try TestApp()
        let owner = try app.makeUser("owner", role: .member)
        let other = try app.makeUser("other", role: .member)
        let wish = try Self.wishes(app, owner: owner.id, gridPath: app.grid.path)
        let error = #expect(throws: Forbidden.self) { try Self.withdraw(app, wish, as: other.principal) }
        #expect(error.map(Self.status(of:)) == 403)
        try Self.nothingWritten(app, wish)
    }

    @Test func aWishOutsideTheScopeIsRefusedWith404AndNothingWritten() throws {
        let app = try TestApp()
        let owner = try app.makeUser("owner", role: .member, scope: app.otherCommunity.id)
        let wish = try Self.wishes(app, owner: owner.id, gridPath: app.grid.path)
        let error = #expect(throws: NotFound.self) { try Self.withdraw(app, wish, as: owner.principal) }
        #expect(error.map(Self.status(of:)) == 404)
        try Self.nothingWritten(app, wish)
    }

    @Test func aWithdrawnWishIsRefusedWith409AndNothingMoreWritten() throws {
        let app = try TestApp()
        let owner = try app.makeUser("owner", role: .member)
        let wish = try Self.wishes(app, owner: owner.id, gridPath: app.grid.path)
        try Self.withdraw(app, wish, as: owner.principal)
        let error = #expect(throws: Conflict.self) { try Self.withdraw(app, wish, as: owner.principal) }
        #expect(error.map(Self.status(of:)) == 409)
        #expect(try app.auditCount(action: "wish.withdraw") == 1)
        #expect(try Self.timelineCount(app) == 1)
    }

    @Test func noPrincipalMeansTheNothingScope() {
        #expect(!Scope.nothing.contains("/1/"))
        #expect(Scope.nothing.condition(on: "path").sql == "0")
        #expect(Policy.decide(nil, .viewResidents, targetGridPath: "/1/") == .forbidden)
    }

    // Over HTTP, on residents (the first user of the kit).

    @Test func residentTransitionsRefusedOverHTTPWriteNothing() throws {
        let app = try TestApp()
        let house = try ResidentRecordsTests.addHouse(app, room: "101")
        let staff = try app.signedIn(.staff)
        let id = try ResidentRecordsTests.create(staff, name: "闻六", id: try ResidentRecordsTests.idNumber("19600101", 91), house: house)
        let duplicate = try ResidentRecordsTests.create(staff, name: "闻七", id: try ResidentRecordsTests.idNumber("19610101", 93), house: house)
        // Outside the scope: 404.
        let outsider = try app.signedIn(.staff, scope: app.otherCommunity.id)
        #expect(try outsider.post("/residents/\(id)/move-out", [("ended_on", "")]).status == 404)
        // A role that may manage records but not merge them: 403.
        let worker = try app.signedIn(.gridWorker, scope: app.grid.id)
        #expect(try worker.post("/residents/\(id)/merge", [("other_id", String(duplicate))]).status == 403)
        #expect(try ResidentRecordsTests.row(app, id)["status"] as String == "active")
        #expect(try ResidentRecordsTests.row(app, duplicate)["status"] as String == "active")
        #expect(try app.timelineCount(id) == 0 && app.timelineCount(duplicate) == 0)
        #expect(try app.auditCount(action: "resident.move_out") == 0)
        #expect(try app.auditCount(action: "resident.merge") == 0)
        // Wrong state: 409 with the reason.
        #expect(try staff.post("/residents/\(id)/move-out", [("ended_on", "")]).status == 303)
        let twice = try staff.post("/residents/\(id)/move-out", [("ended_on", "")])
        #expect(twice.status == 409)
        #expect(twice.text.contains("该居民已迁出，无需重复操作"))
        #expect(try app.timelineCount(id) == 1)
        #expect(try app.auditCount(action: "resident.move_out") == 1)
        // Moving into a house again is the transition back to active, audited as 入住.
        let other = try ResidentRecordsTests.addHouse(app, room: "102")
        #expect(try staff.post("/residents/\(id)/move", [("house_id", String(other)), ("relation", "resident"), ("mode", "add")]).status == 303)
        #expect(try ResidentRecordsTests.row(app, id)["status"] as String == "active")
        #expect(try app.timelineCount(id) == 2)
        #expect(try app.auditCount(action: "resident.move_in") == 1)
    }
}
