import Access
import AppCore
import Domain
import Foundation
import GRDB
import Storage

/// The deterministic demo county behind `jinlin seed`: communities 社区 → estates 小区 →
/// grids 网格 → buildings 楼栋, and accounts of every role but admin, all sharing one demo
/// password.
///
/// Same `seed` and `communities` → same names, codes and usernames. The plan is drawn
/// first, from the seed alone, and only then written, so what is already in the database
/// never changes what is drawn. Writing is idempotent: grid nodes are matched by code and
/// accounts by username, and whatever exists is left as it is. Later modules (residents,
/// members, …) extend the county by reading `SeedSummary.gridIDs` and drawing from their
/// own `SplitMix64(seed:stream:)`, so their draws never shift the grid tree's.
public struct DemoCounty: Sendable {
    public static let defaultPassword = "jinlin-demo-2026"
    public static let communityRange = 1...200

    public var seed: UInt64
    public var communities: Int
    /// The password every demo account gets (admin excepted: it is never touched).
    public var password: String

    public init(seed: UInt64 = 1, communities: Int = 3, password: String = DemoCounty.defaultPassword) {
        self.seed = seed
        self.communities = communities
        self.password = password
    }

    // MARK: - The plan

    /// One node of the planned tree.
    public struct Node: Sendable, Hashable {
        public var kind: GridKind
        public var name: String
        /// Stable identifier: `D<seed>-C01`, `D<seed>-C01-E02`, `…-G03`, `…-B07`.
        public var code: String
        public var children: [Node]
    }

    /// One planned account.
    public struct Account: Sendable, Hashable {
        public var username: String
        public var displayName: String
        public var role: Role
        /// Code of the node the account is scoped to.
        public var scopeCode: String
        /// Grid workers are also assigned to their grid (`grid_workers`).
        public var assignedGridCode: String?
    }

    /// What one community brings: its subtree and its accounts (written in one transaction).
    public struct CommunityPlan: Sendable, Hashable {
        public var tree: Node
        public var accounts: [Account]
    }

    /// The whole county, drawn from the seed alone.
    public func plan() -> [CommunityPlan] {
        var rng = SplitMix64(seed: seed, stream: "grids")
        var people = SplitMix64(seed: seed, stream: "people")
        let prefix = "D\(seed)"
        let stems = rng.shuffled(DemoNames.communityStems)
        let estateNames = rng.shuffled(DemoNames.estates)
        var estateIndex = 0
        var gridWorkerIndex = 0
        var memberIndex = 0
        var residentIndex = 0

        func personName() -> String {
            (people.element(of: DemoNames.surnames) ?? "王") + (people.element(of: DemoNames.givenNames) ?? "明")
        }

        var result: [CommunityPlan] = []
        for c in 0..<max(0, communities) {
            let round = c / stems.count
            let stem = stems[c % stems.count]
            let communityName = stem + (round == 0 ? "" : DemoNames.numeral(round + 1)) + "社区"
            let communityCode = prefix + "-C" + twoDigits(c + 1)
            var accounts: [Account] = []
            var gridCodes: [String] = []
            var buildingCodes: [String] = []
            var estates: [Node] = []
            for e in 0..<rng.int(in: 2...4) {
                let estateRound = estateIndex / estateNames.count
                let estateName = estateNames[estateIndex % estateNames.count]
                    + (estateRound == 0 ? "" : DemoNames.numeral(estateRound + 1) + "期")
                estateIndex += 1
                let estateCode = communityCode + "-E" + twoDigits(e + 1)
                var buildingNumber = 0
                var grids: [Node] = []
                for g in 0..<rng.int(in: 2...4) {
                    let gridCode = estateCode + "-G" + twoDigits(g + 1)
                    var buildings: [Node] = []
                    for _ in 0..<rng.int(in: 3...8) {
                        buildingNumber += 1
                        let code = gridCode + "-B" + twoDigits(buildingNumber)
                        buildings.append(Node(kind: .building, name: "\(buildingNumber)号楼", code: code, children: []))
                        buildingCodes.append(code)
                    }
                    grids.append(Node(kind: .grid, name: "第\(DemoNames.numeral(g + 1))网格", code: gridCode, children: buildings))
                    gridCodes.append(gridCode)
                    gridWorkerIndex += 1
                    accounts.append(Account(username: "gridworker\(gridWorkerIndex)", displayName: personName(),
                                            role: .gridWorker, scopeCode: gridCode, assignedGridCode: gridCode))
                }
                estates.append(Node(kind: .estate, name: estateName, code: estateCode, children: grids))
            }
            let tree = Node(kind: .community, name: communityName, code: communityCode, children: estates)

            // Community-wide roles first, then people living in the community.
            var own: [Account] = [
                Account(username: "staff\(c + 1)", displayName: personName(), role: .staff,
                        scopeCode: communityCode, assignedGridCode: nil),
                Account(username: "coordinator\(c + 1)", displayName: personName(), role: .coordinator,
                        scopeCode: communityCode, assignedGridCode: nil),
            ]
            for _ in 0..<2 {
                memberIndex += 1
                own.append(Account(username: "member\(memberIndex)", displayName: personName(), role: .member,
                                   scopeCode: people.element(of: gridCodes) ?? communityCode, assignedGridCode: nil))
            }
            for _ in 0..<2 {
                residentIndex += 1
                own.append(Account(username: "resident\(residentIndex)", displayName: personName(), role: .resident,
                                   scopeCode: people.element(of: buildingCodes) ?? communityCode, assignedGridCode: nil))
            }
            accounts = own + accounts
            result.append(CommunityPlan(tree: tree, accounts: accounts))
        }
        return result
    }

    // MARK: - Writing

    /// Writes the plan: one transaction per community (its nodes, accounts, assignments and
    /// their audit entries). Nodes whose code exists and accounts whose username exists are
    /// skipped. The demo password is hashed once with `users.hasher` and that hash is shared
    /// by every demo account (they share the password anyway), which keeps seeding fast with
    /// the production KDF cost.
    public func populate(database: AppDatabase, users: UserStore,
                         by actor: AuditActor = AuditActor(userID: nil, name: "jinlin seed")) throws -> SeedSummary {
        guard Self.communityRange.contains(communities) else {
            throw FieldErrors("communities", "社区数量应在 \(Self.communityRange.lowerBound)–\(Self.communityRange.upperBound) 之间")
        }
        if password.count < UserStore.minimumPasswordLength {
            throw FieldErrors("password", "密码至少 \(UserStore.minimumPasswordLength) 位")
        }
        let hash = try users.hasher.hash(password)
        var summary = SeedSummary(seed: seed, password: password)
        for community in plan() {
            try database.write { db in
                try write(community.tree, parentID: nil, db, actor: actor, summary: &summary)
                for account in community.accounts {
                    try write(account, hash: hash, db, actor: actor, summary: &summary)
                }
            }
            summary.communities.append(SeedSummary.Community(name: summary.names[community.tree.code] ?? community.tree.name,
                                                             code: community.tree.code))
        }
        return summary
    }

    private func write(_ node: Node, parentID: Int64?, _ db: Database, actor: AuditActor,
                       summary: inout SeedSummary) throws {
        let id: Int64
        if let existing = try Row.fetchOne(db, sql: "SELECT id, name FROM grids WHERE code = ?", arguments: [node.code]) {
            id = try existing.decode(forColumn: "id")
            summary.names[node.code] = try existing.decode(forColumn: "name")
            summary.existing[node.kind, default: 0] += 1
        } else {
            // Another county (another seed) may already use this name among the siblings:
            // sibling names are unique, so tell ours apart by its seed.
            var name = node.name
            let taken = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM grids WHERE parent_id IS ? AND name = ?)",
                                          arguments: [parentID, name]) ?? false
            if taken { name += "（演示\(seed)）" }
            let grid = try Grids.create(db, name: name, kind: node.kind, parentID: parentID, code: node.code, by: actor)
            id = grid.id
            summary.names[node.code] = grid.name
            summary.created[node.kind, default: 0] += 1
        }
        summary.gridIDs[node.code] = id
        for child in node.children {
            try write(child, parentID: id, db, actor: actor, summary: &summary)
        }
    }

    /// What the audit log keeps of an account; the same shape as `UserStore` records.
    private struct AccountSnapshot: Encodable {
        let username, displayName, role: String
        let scopeGridID: Int64?
        let active: Bool
    }

    private func write(_ account: Account, hash: String, _ db: Database, actor: AuditActor,
                       summary: inout SeedSummary) throws {
        guard let scopeID = summary.gridIDs[account.scopeCode] else {
            throw StorageDecodingError(message: "demo plan: account \(account.username) names unknown scope \(account.scopeCode)")
        }
        let scopeName = summary.names[account.scopeCode] ?? account.scopeCode
        var seeded = SeededAccount(username: account.username, displayName: account.displayName, role: account.role,
                                   scopeName: scopeName, scopeCode: account.scopeCode, created: false)
        if let existing = try Row.fetchOne(db, sql: "SELECT id, display_name, scope_grid_id FROM users WHERE username = ?",
                                           arguments: [account.username]) {
            // Leave it as it is. Re-running the same seed still completes its assignment.
            let existingScope: Int64? = try existing.decode(forColumn: "scope_grid_id")
            seeded.displayName = try existing.decode(forColumn: "display_name")
            if let gridCode = account.assignedGridCode, let gridID = summary.gridIDs[gridCode], existingScope == gridID {
                let userID: Int64 = try existing.decode(forColumn: "id")
                try Grids.assignWorker(db, userID: userID, to: gridID, by: actor)
            }
            summary.accounts.append(seeded)
            return
        }
        try db.execute(sql: """
            INSERT INTO users (username, display_name, password_hash, role, scope_grid_id, must_change_password)
            VALUES (?, ?, ?, ?, ?, 0)
            """, arguments: [account.username, account.displayName, hash, account.role.rawValue, scopeID])
        let userID = db.lastInsertedRowID
        try AuditLog.record(db, actor: actor, action: "user.create", entityType: "user", entityId: userID, before: nil,
                            after: AccountSnapshot(username: account.username, displayName: account.displayName,
                                                   role: account.role.rawValue, scopeGridID: scopeID, active: true))
        if let gridCode = account.assignedGridCode, let gridID = summary.gridIDs[gridCode] {
            try Grids.assignWorker(db, userID: userID, to: gridID, by: actor)
            summary.workerAssignments += 1
        }
        seeded.created = true
        summary.accounts.append(seeded)
    }
}

private func twoDigits(_ n: Int) -> String {
    n < 10 ? "0\(n)" : String(n)
}

/// One demo account as seeding left it.
public struct SeededAccount: Sendable, Hashable {
    public var username: String
    public var displayName: String
    public var role: Role
    public var scopeName: String
    public var scopeCode: String
    /// False when an account of that username already existed and was left alone.
    public var created: Bool
}

/// What `DemoCounty.populate` created or found.
public struct SeedSummary: Sendable {
    public struct Community: Sendable, Hashable {
        public var name: String
        public var code: String
    }

    public var seed: UInt64
    public var password: String
    public var communities: [Community] = []
    /// Nodes created by this run, per kind.
    public var created: [GridKind: Int] = [:]
    /// Nodes of the plan that already existed (matched by code), per kind.
    public var existing: [GridKind: Int] = [:]
    /// Accounts of the plan, in plan order (community by community).
    public var accounts: [SeededAccount] = []
    /// New grid-worker assignments.
    public var workerAssignments = 0
    /// Database id of every planned node, by code (for modules that extend the county).
    public var gridIDs: [String: Int64] = [:]
    /// Stored name of every planned node, by code.
    public var names: [String: String] = [:]

    public init(seed: UInt64, password: String) {
        self.seed = seed
        self.password = password
    }

    public var createdAccounts: Int { accounts.filter(\.created).count }
}
