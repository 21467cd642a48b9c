import Foundation
import GRDB
import Testing
@testable import Storage

@Suite struct AuditLogTests {
    struct Sample: Encodable {
        let name: String
        let size: Int
    }

    @Test func anEntryCommitsAndRollsBackWithTheCallersTransaction() throws {
        let database = try migratedDatabase()
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try database.write { db in
                try AuditLog.record(db, actor: tester, action: "test.lost", entityType: nil, entityId: nil,
                                    beforeJSON: nil, afterJSON: nil)
                throw Abort()
            }
        }
        #expect(try database.read { db in try AuditLog.count(db) } == 0)

        try database.write { db in
            try AuditLog.record(db, actor: tester, action: "test.kept", entityType: nil, entityId: nil,
                                beforeJSON: nil, afterJSON: nil)
        }
        #expect(try database.read { db in try AuditLog.count(db) } == 1)
    }

    @Test func encodableValuesAreStoredAsSortedJSON() throws {
        let database = try migratedDatabase()
        let entry = try database.write { db -> AuditEntry? in
            try AuditLog.record(db, actor: tester, action: "sample.update", entityType: "sample", entityId: 7,
                                before: Sample(name: "旧/old", size: 1), after: Sample(name: "新", size: 2),
                                ip: "198.51.100.9")
            return try AuditLog.entries(db).entries.first
        }
        #expect(entry?.beforeJSON == #"{"name":"旧/old","size":1}"#)
        #expect(entry?.afterJSON == #"{"name":"新","size":2}"#)
        #expect(entry?.clientIP == "198.51.100.9")  // the explicit ip wins over actor.ip
        #expect(entry?.actorName == "tester")
        #expect(entry?.entityID == 7)
        #expect(entry.flatMap { Timestamp.date(from: $0.at) } != nil)
    }

    @Test func theActorsAddressIsUsedWhenNoneIsGiven() throws {
        let database = try migratedDatabase()
        let ip = try database.write { db -> String? in
            try AuditLog.record(db, actor: tester, action: "x", entityType: nil, entityId: nil, before: nil, after: nil)
            return try AuditLog.entries(db).entries.first?.clientIP
        }
        #expect(ip == tester.ip)
    }

    @Test func filtersAndPagesNewestFirst() throws {
        let database = try migratedDatabase()
        try database.write { db in
            for i in 1...25 {
                try AuditLog.record(db, actor: tester, action: i % 2 == 0 ? "even" : "odd",
                                    entityType: "n", entityId: Int64(i), beforeJSON: nil, afterJSON: nil)
            }
        }
        try database.read { db in
            let first = try AuditLog.entries(db, filter: AuditFilter(action: "odd"), limit: 5)
            #expect(first.entries.map(\.entityID) == [25, 23, 21, 19, 17])
            let second = try AuditLog.entries(db, filter: AuditFilter(action: "odd"), before: first.nextBefore, limit: 5)
            #expect(second.entries.map(\.entityID) == [15, 13, 11, 9, 7])
            let last = try AuditLog.entries(db, filter: AuditFilter(action: "odd"), before: second.nextBefore, limit: 5)
            #expect(last.entries.map(\.entityID) == [5, 3, 1])
            #expect(last.nextBefore == nil)
            #expect(try AuditLog.count(db, filter: AuditFilter(action: "odd")) == 13)
            #expect(try AuditLog.entries(db, filter: AuditFilter(entityType: "n", entityID: 4)).entries.map(\.action) == ["even"])
            #expect(try AuditLog.count(db, filter: AuditFilter(from: "2000-01-01T00:00:00.000Z", until: "2000-01-02T00:00:00.000Z")) == 0)
            #expect(try AuditLog.count(db, filter: AuditFilter(from: "2000-01-01T00:00:00.000Z")) == 25)
        }
    }
}
