import Access
import AppCore
import Foundation
import GRDB
import Seeding
import Storage
import Testing

@Suite struct SeedTests {
    @Test func splitMixIsStableAndUniform() {
        // Reference values of SplitMix64 for seed 0 (Vigna's splitmix64.c).
        var rng = SplitMix64(seed: 0)
        #expect(rng.next() == 0xe220_a839_7b1d_cdaf)
        #expect(rng.next() == 0x6e78_9e6a_a1b9_65f4)
        var counts = [Int](repeating: 0, count: 5)
        for _ in 0..<5000 { counts[rng.below(5)] += 1 }
        #expect(counts.allSatisfy { (850...1150).contains($0) }, "\(counts)")
        var a = SplitMix64(seed: 7, stream: "grids"), b = SplitMix64(seed: 7, stream: "people")
        #expect(a.next() != b.next())
    }

    @Test func samePlanForTheSameSeed() {
        let plan = DemoCounty(seed: 7).plan()
        #expect(plan == DemoCounty(seed: 7).plan())
        #expect(plan != DemoCounty(seed: 8).plan())
        #expect(plan.count == 3)
        var codes = Set<String>(), usernames = Set<String>()
        func visit(_ node: DemoCounty.Node) {
            #expect(codes.insert(node.code).inserted, "duplicate code \(node.code)")
            switch node.kind {
            case .community: #expect(node.name.hasSuffix("社区")); #expect((2...4).contains(node.children.count))
            case .estate: #expect((2...4).contains(node.children.count))
            case .grid: #expect(node.name.hasPrefix("第") && node.name.hasSuffix("网格")); #expect((3...8).contains(node.children.count))
            case .building: #expect(node.name.hasSuffix("号楼")); #expect(node.children.isEmpty)
            }
            node.children.forEach(visit)
        }
        for community in plan {
            visit(community.tree)
            for account in community.accounts {
                #expect(usernames.insert(account.username).inserted, "duplicate username \(account.username)")
                #expect(codes.contains(account.scopeCode))
            }
        }
        let roles = Set(plan.flatMap(\.accounts).map(\.role))
        #expect(roles == [.staff, .gridWorker, .coordinator, .member, .resident])
        // More communities extend the same county rather than redraw it.
        #expect(Array(DemoCounty(seed: 7, communities: 5).plan().prefix(3)) == plan)
        // Many communities: names stay unique among siblings.
        let big = DemoCounty(seed: 1, communities: 70).plan()
        #expect(Set(big.map(\.tree.name)).count == 70)
    }

    @Test func populateIsIdempotentAndAccountsSignIn() throws {
        let app = try TestApp()
        let users = UserStore(database: app.database, hasher: TestApp.hasher)
        let county = DemoCounty(seed: 7, communities: 2)
        let summary = try county.populate(database: app.database, users: users)
        let plan = county.plan()
        let gridCount = plan.flatMap { community in
            community.tree.children.flatMap(\.children)
        }.count
        #expect(summary.created[.community] == 2)
        #expect(summary.created[.grid] == gridCount)
        #expect(summary.workerAssignments == gridCount)
        #expect(summary.createdAccounts == summary.accounts.count)
        let workers = try app.database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM grid_workers w JOIN grids g ON g.id = w.grid_id WHERE g.kind = 'grid'")
        }
        #expect(workers == gridCount)

        let again = try county.populate(database: app.database, users: users)
        #expect(again.created.values.reduce(0, +) == 0)
        #expect(again.createdAccounts == 0)
        #expect(again.workerAssignments == 0)
        #expect(again.gridIDs == summary.gridIDs)

        // Another seed on the same database: its own nodes (names told apart when taken).
        let other = try DemoCounty(seed: 8, communities: 2).populate(database: app.database, users: users)
        #expect(other.created[.community] == 2)

        let staff = try #require(summary.accounts.first { $0.role == .staff })
        let client = AppClient(port: app.port)
        let login = try client.signIn(username: staff.username, password: DemoCounty.defaultPassword)
        #expect(login.status == 303)
        #expect(login.header("location") == "/")
        let home = try client.get("/")
        #expect(home.status == 200)
        #expect(home.text.contains(staff.displayName))
    }

    @Test func refusesAShortPassword() throws {
        let app = try TestApp()
        #expect(throws: FieldErrors.self) {
            try DemoCounty(seed: 1, communities: 1, password: "short").populate(
                database: app.database, users: UserStore(database: app.database, hasher: TestApp.hasher))
        }
    }
}
