import Domain
import Foundation
import GRDB
import Testing
@testable import Storage

@Suite struct GridsTests {
    /// 东城社区 ─┬─ 春晖小区 ── 一网格 ─┬─ 1号楼
    ///           │                      └─ 2号楼
    ///           └─ 秋实小区
    struct Tree {
        let grids: Grids
        let community: Grid, estateA: Grid, estateB: Grid, grid1: Grid, building1: Grid, building2: Grid

        init() throws {
            grids = Grids(try migratedDatabase())
            community = try grids.createRoot(name: "东城社区", kind: .community, code: "DC", by: tester)
            estateA = try grids.createChild(of: community.id, name: "春晖小区", kind: .estate, by: tester)
            estateB = try grids.createChild(of: community.id, name: "秋实小区", kind: .estate, by: tester)
            grid1 = try grids.createChild(of: estateA.id, name: "一网格", kind: .grid, by: tester)
            building1 = try grids.createChild(of: grid1.id, name: "1号楼", kind: .building, by: tester)
            building2 = try grids.createChild(of: grid1.id, name: "2号楼", kind: .building, by: tester)
        }

        func reload(_ grid: Grid) throws -> Grid? { try grids.find(grid.id) }
    }

    @Test func createComputesPathAndDepth() throws {
        let tree = try Tree()
        #expect(tree.community.path == "/\(tree.community.id)/")
        #expect(tree.community.depth == 0)
        #expect(tree.community.parentID == nil)
        #expect(tree.community.code == "DC")
        #expect(tree.building1.path == "/\(tree.community.id)/\(tree.estateA.id)/\(tree.grid1.id)/\(tree.building1.id)/")
        #expect(tree.building1.depth == 3)
        #expect(tree.building1.ancestorIDs == [tree.community.id, tree.estateA.id, tree.grid1.id])
        #expect(tree.estateA.code == "G\(tree.estateA.id)")  // generated when none is given
        #expect(try tree.grids.ancestors(of: tree.building1.id).map(\.name) == ["东城社区", "春晖小区", "一网格"])
        #expect(try tree.grids.children(of: tree.grid1.id).map(\.name) == ["1号楼", "2号楼"])
        #expect(try tree.grids.children(of: nil).map(\.name) == ["东城社区"])
    }

    @Test func createRecordsAnAuditEntryInTheSameTransaction() throws {
        let tree = try Tree()
        let entries = try tree.grids.database.read { db in
            try AuditLog.entries(db, filter: AuditFilter(action: "grid.create", entityType: "grid", entityID: tree.grid1.id))
        }.entries
        #expect(entries.count == 1)
        #expect(entries.first?.beforeJSON == nil)
        #expect(entries.first?.afterJSON?.contains(#""path":"\#(tree.grid1.path)""#) == true)
        #expect(entries.first?.clientIP == tester.ip)
    }

    @Test func namesAreTrimmedAndValidated() throws {
        let tree = try Tree()
        let trimmed = try tree.grids.createChild(of: tree.community.id, name: "\u{3000} 新华小区 \n", kind: .estate, by: tester)
        #expect(trimmed.name == "新华小区")
        let blankCode = try tree.grids.createChild(of: tree.community.id, name: "和平小区", kind: .estate, code: "  ", by: tester)
        #expect(blankCode.code == "G\(blankCode.id)")
        #expect(throws: GridError.invalidName) {
            try tree.grids.createChild(of: tree.community.id, name: "   ", kind: .estate, by: tester)
        }
        #expect(throws: GridError.invalidName) {
            try tree.grids.createChild(of: tree.community.id, name: String(repeating: "长", count: 101), kind: .estate, by: tester)
        }
        #expect(throws: GridError.invalidCode) {
            try tree.grids.createChild(of: tree.community.id, name: "X", kind: .estate, code: "a b", by: tester)
        }
        #expect(throws: GridError.parentNotFound(id: 9999)) {
            try tree.grids.createChild(of: 9999, name: "X", kind: .estate, by: tester)
        }
    }

    @Test func siblingNamesAndCodesAreUnique() throws {
        let tree = try Tree()
        let error = #expect(throws: GridError.self) {
            try tree.grids.createChild(of: tree.community.id, name: "春晖小区", kind: .estate, by: tester)
        }
        #expect(error == .duplicateName("春晖小区"))
        #expect(error?.userMessage == "同一上级下已有名为“春晖小区”的节点")
        // The same name under another parent is fine.
        _ = try tree.grids.createChild(of: tree.estateB.id, name: "一网格", kind: .grid, by: tester)
        #expect(throws: GridError.duplicateName("东城社区")) {
            try tree.grids.createRoot(name: "东城社区", kind: .community, by: tester)
        }
        #expect(throws: GridError.duplicateCode("DC")) {
            try tree.grids.createRoot(name: "西城社区", kind: .community, code: "DC", by: tester)
        }
        #expect(throws: GridError.duplicateName("2号楼")) {
            try tree.grids.rename(tree.building1.id, to: "2号楼", by: tester)
        }
    }

    @Test func renameChangeKindAndCode() throws {
        let tree = try Tree()
        let renamed = try tree.grids.rename(tree.grid1.id, to: "第一网格", by: tester)
        #expect(renamed.name == "第一网格")
        #expect(renamed.path == tree.grid1.path)
        let rekinded = try tree.grids.changeKind(tree.grid1.id, to: .estate, by: tester)
        #expect(rekinded.kind == .estate)
        let recoded = try tree.grids.changeCode(tree.grid1.id, to: "W-01", by: tester)
        #expect(recoded.code == "W-01")
        let actions = try tree.grids.database.read { db in
            try AuditLog.entries(db, filter: AuditFilter(entityType: "grid", entityID: tree.grid1.id)).entries.map(\.action)
        }
        #expect(actions == ["grid.change_code", "grid.change_kind", "grid.rename", "grid.create"])
        #expect(throws: GridError.notFound(id: 4242)) { try tree.grids.rename(4242, to: "X", by: tester) }
    }

    @Test func moveRewritesTheWholeSubtree() throws {
        let tree = try Tree()
        // Move 一网格 (with its two buildings) from 春晖小区 to 秋实小区.
        let moved = try tree.grids.move(tree.grid1.id, to: tree.estateB.id, by: tester)
        let prefix = "/\(tree.community.id)/\(tree.estateB.id)/\(tree.grid1.id)/"
        #expect(moved.parentID == tree.estateB.id)
        #expect(moved.path == prefix)
        #expect(moved.depth == 2)
        #expect(try tree.reload(tree.building1)?.path == prefix + "\(tree.building1.id)/")
        #expect(try tree.reload(tree.building2)?.path == prefix + "\(tree.building2.id)/")
        #expect(try tree.reload(tree.building1)?.depth == 3)
        #expect(try tree.reload(tree.building1)?.parentID == tree.grid1.id)  // children keep their parent
        #expect(try tree.reload(tree.estateA) == tree.estateA)  // the old parent is untouched
        #expect(try tree.grids.subtree(of: tree.estateA.id).map(\.id) == [tree.estateA.id])
        #expect(Set(try tree.grids.subtree(of: tree.estateB.id).map(\.id))
            == [tree.estateB.id, tree.grid1.id, tree.building1.id, tree.building2.id])
        #expect(try tree.grids.isWithin(tree.building2.id, scope: tree.estateB.id))
        #expect(try !tree.grids.isWithin(tree.building2.id, scope: tree.estateA.id))

        let audit = try tree.grids.database.read { db in
            try AuditLog.entries(db, filter: AuditFilter(action: "grid.move")).entries
        }
        #expect(audit.count == 1)
        #expect(audit.first?.beforeJSON?.contains(#""parent_id":\#(tree.estateA.id)"#) == true)
        #expect(audit.first?.afterJSON?.contains(#""parent_id":\#(tree.estateB.id)"#) == true)
    }

    @Test func moveToTheTopLevelAndBack() throws {
        let tree = try Tree()
        let root = try tree.grids.move(tree.grid1.id, to: nil, by: tester)
        #expect(root.parentID == nil)
        #expect(root.depth == 0)
        #expect(root.path == "/\(tree.grid1.id)/")
        #expect(try tree.reload(tree.building2)?.path == "/\(tree.grid1.id)/\(tree.building2.id)/")
        #expect(try tree.reload(tree.building2)?.depth == 1)

        let back = try tree.grids.move(tree.grid1.id, to: tree.estateA.id, by: tester)
        #expect(back.path == tree.grid1.path)
        #expect(try tree.reload(tree.building2)?.path == tree.building2.path)
        #expect(try tree.reload(tree.building2)?.depth == tree.building2.depth)
    }

    @Test func moveUnderItselfOrItsDescendantIsRefused() throws {
        let tree = try Tree()
        for target in [tree.estateA, tree.grid1, tree.building2] {
            let error = #expect(throws: GridError.self) {
                try tree.grids.move(tree.estateA.id, to: target.id, by: tester)
            }
            #expect(error == .moveIntoOwnSubtree)
            #expect(error?.userMessage == "不能把节点移到它自己或它的下级节点之下")
        }
        // Nothing changed.
        #expect(try tree.reload(tree.building2) == tree.building2)
        #expect(throws: GridError.parentNotFound(id: 777)) {
            try tree.grids.move(tree.grid1.id, to: 777, by: tester)
        }
    }

    @Test func moveRefusesANameTakenUnderTheNewParent() throws {
        let tree = try Tree()
        _ = try tree.grids.createChild(of: tree.estateB.id, name: "一网格", kind: .grid, by: tester)
        #expect(throws: GridError.duplicateName("一网格")) {
            try tree.grids.move(tree.grid1.id, to: tree.estateB.id, by: tester)
        }
    }

    @Test func subtreeRangeDoesNotCatchIdsThatMerelyShareDigits() throws {
        // Node 5 must not include node 50 (paths '/…/5/' and '/…/50/').
        let database = try migratedDatabase()
        let grids = Grids(database)
        let nodes = try database.write { db in
            try (1...60).map { try Grids.create(db, name: "N\($0)", kind: .grid, parentID: nil, by: tester) }
        }
        let five = try #require(nodes.first { $0.id == 5 })
        let fifty = try #require(nodes.first { $0.id == 50 })
        let child = try grids.createChild(of: five.id, name: "child", kind: .building, by: tester)
        _ = try grids.createChild(of: fifty.id, name: "other", kind: .building, by: tester)
        #expect(try grids.subtree(of: five.id).map(\.id) == [five.id, child.id])
        #expect(GridPath.subtreeRange(of: "/1/5/") == ("/1/5/", "/1/50"))
        #expect(!GridPath.isInSubtree("/50/", of: "/5/"))
    }

    @Test func deleteIsRefusedWhileChildrenAreAttached() throws {
        let tree = try Tree()
        _ = try tree.grids.createChild(of: tree.grid1.id, name: "3号楼", kind: .building, by: tester)
        let error = #expect(throws: GridError.self) {
            try tree.grids.delete(tree.grid1.id, by: tester)
        }
        #expect(error == .inUse(children: 3, users: 0, workers: 0))
        #expect(error?.userMessage == "该节点下还有 3 个子节点，不能删除")
        #expect(try tree.reload(tree.grid1) != nil)
    }

    @Test func deleteIsRefusedWhileUsersOrWorkersAreAttached() throws {
        let tree = try Tree()
        let userID = try tree.grids.database.write { db -> Int64 in
            try db.execute(sql: """
                INSERT INTO users (username, display_name, password_hash, role, scope_grid_id)
                VALUES ('wang', '王网格员', '$y$x', 'grid_worker', ?)
                """, arguments: [tree.building1.id])
            return db.lastInsertedRowID
        }
        try tree.grids.assignWorker(userID: userID, to: tree.building1.id, by: tester)
        try tree.grids.assignWorker(userID: userID, to: tree.building1.id, by: tester)  // idempotent
        #expect(try tree.grids.workers(of: tree.building1.id) == [userID])
        let error = #expect(throws: GridError.self) {
            try tree.grids.delete(tree.building1.id, by: tester)
        }
        #expect(error?.userMessage == "该节点下还有 1 个以此为管理范围的账号、1 名网格员，不能删除")

        try tree.grids.removeWorker(userID: userID, from: tree.building1.id, by: tester)
        try tree.grids.database.write { db in
            try db.execute(sql: "UPDATE users SET scope_grid_id = ? WHERE id = ?", arguments: [tree.grid1.id, userID])
        }
        try tree.grids.delete(tree.building1.id, by: tester)
        #expect(try tree.reload(tree.building1) == nil)
    }

    @Test func deleteOfALeafIsAuditedAndItsIdNeverReused() throws {
        let tree = try Tree()
        try tree.grids.delete(tree.building2.id, by: tester)
        #expect(try tree.reload(tree.building2) == nil)
        let entry = try tree.grids.database.read { db in
            try AuditLog.entries(db, filter: AuditFilter(action: "grid.delete")).entries.first
        }
        #expect(entry?.entityID == tree.building2.id)
        #expect(entry?.beforeJSON?.contains(#""name":"2号楼""#) == true)
        #expect(entry?.afterJSON == nil)
        // building2 had the highest id; the next node must not get it back.
        let next = try tree.grids.createChild(of: tree.grid1.id, name: "2号楼", kind: .building, by: tester)
        #expect(next.id > tree.building2.id)
        #expect(throws: GridError.notFound(id: tree.building2.id)) { try tree.grids.delete(tree.building2.id, by: tester) }
    }

    @Test func deleteRefusedByOtherTablesForeignKeys() throws {
        let tree = try Tree()
        // A later migration's table pointing at grids, simulated here.
        try tree.grids.database.write { db in
            try db.execute(sql: "CREATE TABLE houses (id INTEGER PRIMARY KEY, grid_id INTEGER NOT NULL REFERENCES grids (id)) STRICT")
            try db.execute(sql: "INSERT INTO houses (grid_id) VALUES (?)", arguments: [tree.building1.id])
        }
        let error = #expect(throws: GridError.self) { try tree.grids.delete(tree.building1.id, by: tester) }
        #expect(error == .stillReferenced)
        #expect(try tree.grids.database.read { db in try AuditLog.count(db, filter: AuditFilter(action: "grid.delete")) } == 0)
    }

    @Test func countsPerNode() throws {
        let tree = try Tree()
        try tree.grids.database.write { db in
            for (i, grid) in [tree.grid1, tree.grid1, tree.estateB].enumerated() {
                try db.execute(sql: """
                    INSERT INTO users (username, display_name, password_hash, role, scope_grid_id)
                    VALUES (?, '用户', '$y$x', 'staff', ?)
                    """, arguments: ["user\(i)", grid.id])
                try Grids.assignWorker(db, userID: db.lastInsertedRowID, to: grid.id, by: tester)
            }
        }
        let counts = try tree.grids.counts(inSubtreeOf: tree.community.id)
        #expect(counts.count == 6)
        #expect(counts[tree.community.id] == GridCounts(children: 2, descendants: 5, users: 0, workers: 0))
        #expect(counts[tree.estateA.id] == GridCounts(children: 1, descendants: 3, users: 0, workers: 0))
        #expect(counts[tree.grid1.id] == GridCounts(children: 2, descendants: 2, users: 2, workers: 2))
        #expect(counts[tree.estateB.id] == GridCounts(children: 0, descendants: 0, users: 1, workers: 1))
        #expect(counts[tree.building1.id] == GridCounts())
        // A subtree's counts do not include what lies outside it.
        let sub = try tree.grids.counts(inSubtreeOf: tree.estateA.id)
        #expect(Set(sub.keys) == [tree.estateA.id, tree.grid1.id, tree.building1.id, tree.building2.id])
    }
}
