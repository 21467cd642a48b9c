import Domain
import Foundation
import GRDB
import Storage

/// A building a row names: one that exists, or one the import creates (index into `newBuildings`).
enum BuildingRef: Hashable, Sendable {
    case existing(Int64)
    case new(Int)
}

enum HouseRef: Hashable, Sendable {
    case existing(Int64)
    case new(Int)
}

struct HouseKey: Hashable, Sendable {
    let building: BuildingRef
    let unit: String
    let room: String
}

struct NewBuilding: Sendable {
    let estateID: Int64
    let estateName: String
    let name: String
    let parentID: Int64
}

struct NewHouse: Sendable {
    let building: BuildingRef
    let unit: String
    let room: String
}

/// A resident that already exists, as far as the import compares it.
struct ExistingResident: Sendable {
    let id: Int64
    let name: String
    let phone: String?
    let politicalStatus: String
    let notes: String
    let status: String
    let buildingID: Int64?
    let buildingPath: String?
    var residences: [(id: Int64, houseID: Int64, relation: String)] = []
    var tagIDs: [Int64] = []
}

/// What the import does with one valid row.
struct PlannedRow: Sendable {
    enum Action: Sendable { case create, update, unchanged }

    let row: ImportRow
    let building: BuildingRef
    let house: HouseRef
    var action: Action
    /// For an update: the resident and the values to store.
    var existingID: Int64?
    var name: String
    var phone: String?
    var politicalStatus: String
    var notes: String
    var tagIDs: [Int64]
    var tagsChanged = false
    var fieldsChanged = false
    /// Bindings to end (id, end_reason), then whether to start the row's binding.
    var endResidences: [(id: Int64, reason: String)] = []
    var addResidence = false
    /// Whether the resident's bindings change (their home building is then recomputed).
    var homeChanged = false
}

/// Everything the import would do, computed without writing.
struct ImportPlan: Sendable {
    var rows: [PlannedRow] = []
    var errors: [ImportRowError] = []
    var newBuildings: [NewBuilding] = []
    var newHouses: [NewHouse] = []
    var created = 0
    var updated = 0
    var unchanged = 0

    func preview(tags: [Int64: String]) -> [ImportReport.PreviewRow] {
        rows.prefix(ImportReport.maxPreview).map { planned in
            let row = planned.row
            let unit = row.unit.hasSuffix("单元") ? row.unit : row.unit + "单元"
            let action = switch planned.action {
            case .create: "新增"
            case .update: "更新"
            case .unchanged: "不变"
            }
            return ImportReport.PreviewRow(
                line: row.line, action: action, name: planned.name, idNumber: Mask.idNumber(row.id.value),
                sex: row.id.isMale ? "男" : "女", birthDate: row.birthDate, phone: Mask.phone(planned.phone),
                address: "\(row.estate) \(row.building) \(unit) \(row.room)",
                relation: Vocabulary.relationName(row.relation),
                politicalStatus: Vocabulary.politicalStatusName(planned.politicalStatus),
                tags: planned.tagIDs.compactMap { tags[$0] }.joined(separator: "、"), notes: planned.notes)
        }
    }
}

/// Resolves rows against the database: estates in scope, buildings, houses, existing residents.
final class ImportPlanner {
    let db: Database
    let scopePath: String?

    struct Estate {
        let id: Int64
        let name: String
        let path: String
        let community: String?
    }

    /// The part of an estate's subtree the import needs, loaded once per estate.
    struct EstateTree {
        var buildingsByName: [String: [Int64]] = [:]
        /// Where a missing building goes, and the names already used there.
        var targetParentID: Int64
        var targetChildKinds: [String: String] = [:]
    }

    private var estatesByName: [String: [Estate]] = [:]
    private var trees: [Int64: EstateTree] = [:]
    private var houses: [HouseKey: HouseRef] = [:]
    private var newBuildingIndex: [String: Int] = [:]
    private var existing: [String: ExistingResident] = [:]
    private var plan = ImportPlan()

    init(db: Database, scopePath: String?) {
        self.db = db
        self.scopePath = scopePath
    }

    func plan(_ rows: [ImportRow], progress: (Int) -> Void) throws -> ImportPlan {
        try loadEstates()
        try loadResidents(rows.map(\.id.value))
        plan.rows.reserveCapacity(rows.count)
        for (index, row) in rows.enumerated() {
            if index % 2000 == 0 { progress(index) }
            switch try resolve(row) {
            case .success(let planned):
                switch planned.action {
                case .create: plan.created += 1
                case .update: plan.updated += 1
                case .unchanged: plan.unchanged += 1
                }
                plan.rows.append(planned)
            case .failure(let error):
                plan.errors.append(error)
            }
        }
        return plan
    }

    // MARK: Loading

    private func inScope(_ path: String) -> Bool {
        guard let scopePath else { return true }
        return GridPath.isInSubtree(path, of: scopePath)
    }

    private func loadEstates() throws {
        var estates: [(id: Int64, name: String, path: String)] = []
        let rows: [Row]
        if let scopePath {
            let range = GridPath.subtreeRange(of: scopePath)
            rows = try Row.fetchAll(db, sql: "SELECT id, name, path FROM grids WHERE path >= ? AND path < ? AND kind = 'estate'",
                                    arguments: [range.lower, range.upper])
        } else {
            rows = try Row.fetchAll(db, sql: "SELECT id, name, path FROM grids WHERE kind = 'estate'")
        }
        for row in rows { estates.append((row["id"], row["name"], row["path"])) }
        // The community of each estate: its nearest ancestor of kind community.
        let ancestorIDs = Set(estates.flatMap { GridPath.ids(in: $0.path).dropLast() })
        var communities: [Int64: String] = [:]
        for chunk in Array(ancestorIDs).chunked(500) {
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            for row in try Row.fetchAll(db, sql: "SELECT id, name FROM grids WHERE kind = 'community' AND id IN (\(placeholders))",
                                        arguments: StatementArguments(chunk)) {
                communities[row["id"]] = row["name"]
            }
        }
        for estate in estates {
            let community = GridPath.ids(in: estate.path).dropLast().reversed().lazy.compactMap { communities[$0] }.first
            estatesByName[estate.name, default: []].append(Estate(id: estate.id, name: estate.name, path: estate.path, community: community))
        }
    }

    private func tree(of estate: Estate) throws -> EstateTree {
        if let tree = trees[estate.id] { return tree }
        let range = GridPath.subtreeRange(of: estate.path)
        let nodes = try Row.fetchAll(db, sql: "SELECT id, parent_id, kind, name FROM grids WHERE path >= ? AND path < ?",
                                     arguments: [range.lower, range.upper])
        var firstGrid: Int64?
        var buildings: [String: [Int64]] = [:]
        for node in nodes {
            let id: Int64 = node["id"], parentID: Int64? = node["parent_id"], kind: String = node["kind"], name: String = node["name"]
            if kind == "building" { buildings[name, default: []].append(id) }
            if kind == "grid", parentID == estate.id, firstGrid.map({ id < $0 }) ?? true { firstGrid = id }
        }
        var tree = EstateTree(buildingsByName: buildings, targetParentID: firstGrid ?? estate.id)
        for node in nodes where (node["parent_id"] as Int64?) == tree.targetParentID {
            tree.targetChildKinds[node["name"]] = node["kind"]
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT h.id, h.building_id, h.unit, h.room FROM houses AS h JOIN grids AS g ON g.id = h.building_id
             WHERE g.path >= ? AND g.path < ?
            """, arguments: [range.lower, range.upper]) {
            houses[HouseKey(building: .existing(row["building_id"]), unit: row["unit"], room: row["room"])] = .existing(row["id"])
        }
        trees[estate.id] = tree
        return tree
    }

    private func loadResidents(_ idNumbers: [String]) throws {
        guard !idNumbers.isEmpty else { return }
        existing.reserveCapacity(min(idNumbers.count, 1 << 20))
        let chunkSize = 500
        let fullChunkSQL = Self.residentsSQL(count: chunkSize)
        for chunk in idNumbers.chunked(chunkSize) {
            let statement = chunk.count == chunkSize
                ? try db.cachedStatement(sql: fullChunkSQL) : try db.makeStatement(sql: Self.residentsSQL(count: chunk.count))
            let rows = try Row.fetchCursor(statement, arguments: StatementArguments(chunk))
            while let row = try rows.next() {
                let resident = ExistingResident(
                    id: row[0], name: row[2], phone: row[3], politicalStatus: row[4], notes: row[5], status: row[6],
                    buildingID: row[7], buildingPath: row[8])
                existing[row[1]] = resident
            }
        }
        guard !existing.isEmpty else { return }
        var byID: [Int64: String] = [:]
        for (idNumber, resident) in existing { byID[resident.id] = idNumber }
        let ids = Array(byID.keys)
        for chunk in ids.chunked(chunkSize) {
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let residences = try Row.fetchCursor(db, sql: """
                SELECT id, resident_id, house_id, relation FROM residences WHERE ended_on IS NULL AND resident_id IN (\(placeholders))
                """, arguments: StatementArguments(chunk))
            while let row = try residences.next() {
                let residentID: Int64 = row[1]
                guard let idNumber = byID[residentID] else { continue }
                existing[idNumber]?.residences.append((row[0], row[2], row[3]))
            }
            let tags = try Row.fetchCursor(db, sql: """
                SELECT resident_id, tag_id FROM resident_tags WHERE resident_id IN (\(placeholders))
                """, arguments: StatementArguments(chunk))
            while let row = try tags.next() {
                let residentID: Int64 = row[0]
                guard let idNumber = byID[residentID] else { continue }
                existing[idNumber]?.tagIDs.append(row[1])
            }
        }
    }

    static func residentsSQL(count: Int) -> String {
        let placeholders = Array(repeating: "?", count: count).joined(separator: ",")
        return """
            SELECT r.id, r.id_number, r.name, r.phone, r.political_status, r.notes, r.status, r.building_id, g.path
              FROM residents AS r LEFT JOIN grids AS g ON g.id = r.building_id
             WHERE r.id_number IN (\(placeholders))
            """
    }

    // MARK: Resolving one row

    private func resolve(_ row: ImportRow) throws -> Result<PlannedRow, ImportRowError> {
        func fail(_ message: String) -> Result<PlannedRow, ImportRowError> {
            .failure(ImportRowError(line: row.line, message: message))
        }
        var candidates = estatesByName[row.estate] ?? []
        if !row.community.isEmpty { candidates = candidates.filter { $0.community == row.community } }
        guard let estate = candidates.first else {
            if row.community.isEmpty { return fail("小区“\(row.estate)”不在您的管辖范围内或不存在") }
            return fail("社区“\(row.community)”的小区“\(row.estate)”不在您的管辖范围内或不存在")
        }
        guard candidates.count == 1 else {
            return fail("您的管辖范围内有 \(candidates.count) 个名为“\(row.estate)”的小区，请在“社区”列注明所属社区")
        }

        let tree = try self.tree(of: estate)
        let building: BuildingRef
        if let ids = tree.buildingsByName[row.building] {
            guard ids.count == 1, let id = ids.first else {
                return fail("小区“\(row.estate)”中有 \(ids.count) 个名为“\(row.building)”的楼栋，无法确定是哪一栋，请先在网格管理中改名")
            }
            building = .existing(id)
        } else {
            let key = "\(estate.id)\u{1F}\(row.building)"
            if let index = newBuildingIndex[key] {
                building = .new(index)
            } else {
                if tree.targetChildKinds[row.building] != nil {
                    return fail("小区“\(row.estate)”中已有名为“\(row.building)”的节点，但它不是楼栋")
                }
                plan.newBuildings.append(NewBuilding(estateID: estate.id, estateName: estate.name, name: row.building,
                                                     parentID: tree.targetParentID))
                let index = plan.newBuildings.count - 1
                newBuildingIndex[key] = index
                building = .new(index)
            }
        }

        let houseKey = HouseKey(building: building, unit: row.unit, room: row.room)
        let house: HouseRef
        if let found = houses[houseKey] {
            house = found
        } else {
            plan.newHouses.append(NewHouse(building: building, unit: row.unit, room: row.room))
            house = .new(plan.newHouses.count - 1)
            houses[houseKey] = house
        }

        guard let current = existing[row.id.value] else {
            return .success(PlannedRow(row: row, building: building, house: house, action: .create, name: row.name,
                                       phone: row.phone, politicalStatus: row.politicalStatus ?? "13",
                                       notes: row.notes ?? "", tagIDs: row.tagIDs ?? [], addResidence: true,
                                       homeChanged: true))
        }
        if current.status == "merged" {
            return fail("该身份证号的居民记录已合并到另一条记录，请在居民页面核对后再导入")
        }
        if current.status == "active", let path = current.buildingPath, !inScope(path) {
            return fail("该身份证号的居民登记在您管辖范围以外的地址，不能通过导入修改，请联系其所在社区办理迁出")
        }

        var planned = PlannedRow(row: row, building: building, house: house, action: .unchanged, existingID: current.id,
                                 name: row.name, phone: row.phone ?? current.phone,
                                 politicalStatus: row.politicalStatus ?? current.politicalStatus,
                                 notes: row.notes ?? current.notes, tagIDs: current.tagIDs.sorted())
        planned.fieldsChanged = planned.name != current.name || planned.phone != current.phone
            || planned.politicalStatus != current.politicalStatus || planned.notes != current.notes
        if let tagIDs = row.tagIDs, tagIDs != planned.tagIDs {
            planned.tagIDs = tagIDs
            planned.tagsChanged = true
        }
        var bound = false
        if case .existing(let houseID) = house {
            bound = current.residences.contains { $0.houseID == houseID && $0.relation == row.relation }
        }
        if !bound {
            // Home relations (常住、户籍、租住) replace each other, as a move does on the record
            // page; ownership replaces ownership. Within the same house it is a correction.
            let homes = ResidentStore.homeRelations
            let rowIsHome = homes.contains(row.relation)
            for residence in current.residences where homes.contains(residence.relation) == rowIsHome {
                if case .existing(let houseID) = house, residence.houseID == houseID {
                    planned.endResidences.append((residence.id, "corrected"))
                } else {
                    planned.endResidences.append((residence.id, "moved"))
                }
            }
            planned.addResidence = true
            planned.homeChanged = true
        }
        if current.status != "active" {
            planned.fieldsChanged = true
            planned.homeChanged = true
        }
        let changed = planned.fieldsChanged || planned.tagsChanged || planned.addResidence || planned.homeChanged
        planned.action = changed ? .update : .unchanged
        return .success(planned)
    }
}

/// Writes a plan inside the caller's transaction.
///
/// New houses, residents, their residences and tags are collected in temporary tables and then
/// copied into their tables with one `INSERT … SELECT` each (`StagedInsert`). One statement
/// matters: a statement that fires triggers keeps a journal of every page it changes, so pages
/// shared by many statements would be copied again and again. New residents get explicit ids (max + 1, …) in name order (see below); the
/// transaction holds the write lock, so nobody else can take them, and residences can name them
/// before they are copied. Updates are rarer and go row by row, after the new rows.
struct ImportWriter {
    let db: Database
    let request: ImportRequest
    let clock: ImportClock

    func apply(_ plan: ImportPlan, progress: (Int) -> Void) throws {
        let now = Timestamp.string(from: request.today)
        let today = ChinaDate.today(request.today)

        var buildingIDs: [Int64] = []
        buildingIDs.reserveCapacity(plan.newBuildings.count)
        for building in plan.newBuildings {
            let grid = try Grids.create(db, name: building.name, kind: .building, parentID: building.parentID, by: request.actor)
            buildingIDs.append(grid.id)
        }
        func buildingID(_ ref: BuildingRef) -> Int64 {
            switch ref {
            case .existing(let id): id
            case .new(let index): buildingIDs[index]
            }
        }

        let firstHouseID = (try Int64.fetchOne(db, sql: "SELECT max(id) FROM houses") ?? 0) + 1
        var houses = try StagedInsert(db, into: "houses", columns: ["id", "building_id", "unit", "room", "floor", "created_at"])
        for (index, house) in plan.newHouses.enumerated() {
            houses.rows.add(firstHouseID + Int64(index))
            houses.rows.add(buildingID(house.building))
            houses.rows.add(house.unit)
            houses.rows.add(house.room)
            houses.rows.add(HouseLabel.floor(forRoom: house.room))
            houses.rows.add(now)
            try houses.rows.endRow()
        }
        try houses.finish()
        clock.lap("houses")
        func houseID(_ ref: HouseRef) -> Int64 {
            switch ref {
            case .existing(let id): id
            case .new(let index): firstHouseID + Int64(index)
            }
        }

        // New residents, numbered in name order: the name index and the first name piece then
        // take their entries in order instead of all over the tree.
        // Bytes, as SQLite's BINARY collation compares them (Swift's String order normalizes);
        // the first 8 bytes as one number decide most comparisons.
        func prefix(_ name: String) -> UInt64 {
            var key: UInt64 = 0, count = 0
            for byte in name.utf8.prefix(8) { key = key << 8 | UInt64(byte); count += 1 }
            return key << (8 * UInt64(8 - count))
        }
        let creates = plan.rows.indices.filter { plan.rows[$0].action == .create }
            .map { (key: prefix(plan.rows[$0].name), index: $0) }
            .sorted { a, b in
                if a.key != b.key { return a.key < b.key }
                let x = plan.rows[a.index].name.utf8, y = plan.rows[b.index].name.utf8
                return x.elementsEqual(y) ? a.index < b.index : x.lexicographicallyPrecedes(y)
            }
            .map(\.index)
        clock.lap("sort")
        let firstResidentID = (try Int64.fetchOne(db, sql: "SELECT max(id) FROM residents") ?? 0) + 1
        var residents = try StagedInsert(db, into: "residents", columns: [
            "id", "name", "id_number", "id_number_rev", "sex", "birth_date", "phone", "phone_rev", "political_status",
            "notes", "status", "building_id", "created_at", "updated_at",
        ])
        var residences = try StagedInsert(db, into: "residences", columns: ["resident_id", "house_id", "relation", "started_on", "created_at"])
        var tags = try StagedInsert(db, into: "resident_tags", columns: ["resident_id", "tag_id"], orIgnore: true)
        for (offset, index) in creates.enumerated() {
            if offset % 2000 == 0 { progress(offset) }
            let planned = plan.rows[index], row = planned.row
            let id = firstResidentID + Int64(offset)
            residents.rows.add(id)
            residents.rows.add(planned.name)
            residents.rows.add(row.id.value)
            residents.rows.add(row.id.reversed)
            residents.rows.add(row.id.sexCode)
            residents.rows.add(row.birthDate)
            residents.rows.add(planned.phone)
            residents.rows.add(planned.phone.map(TailKey.of))
            residents.rows.add(planned.politicalStatus)
            residents.rows.add(planned.notes)
            residents.rows.add("active")
            residents.rows.add(buildingID(planned.building))
            residents.rows.add(now)
            residents.rows.add(now)
            try residents.rows.endRow()
            residences.rows.add(id)
            residences.rows.add(houseID(planned.house))
            residences.rows.add(row.relation)
            residences.rows.add(today)
            residences.rows.add(now)
            try residences.rows.endRow()
            for tagID in planned.tagIDs {
                tags.rows.add(id)
                tags.rows.add(tagID)
                try tags.rows.endRow()
            }
        }
        clock.lap("stage")
        // Residences and tags point at residents: the residents go in first.
        try residents.finish()
        clock.lap("copy residents")
        try residences.finish()
        try tags.finish()
        clock.lap("copy residences and tags")

        let updateResident = try db.cachedStatement(sql: """
            UPDATE residents SET name = ?, phone = ?, phone_rev = ?, political_status = ?, notes = ?,
                   status = 'active', updated_at = ?
             WHERE id = ?
            """)
        let endResidence = try db.cachedStatement(sql: """
            UPDATE residences SET ended_on = max(?, started_on), end_reason = ? WHERE id = ? AND ended_on IS NULL
            """)
        let insertResidence = try db.cachedStatement(sql: """
            INSERT INTO residences (resident_id, house_id, relation, started_on, created_at) VALUES (?, ?, ?, ?, ?)
            """)
        let deleteTags = try db.cachedStatement(sql: "DELETE FROM resident_tags WHERE resident_id = ?")
        let insertTag = try db.cachedStatement(sql: "INSERT OR IGNORE INTO resident_tags (resident_id, tag_id) VALUES (?, ?)")

        var done = creates.count
        for planned in plan.rows where planned.action == .update {
            done += 1
            if done % 2000 == 0 { progress(done) }
            guard let residentID = planned.existingID else { continue }
            let row = planned.row
            if planned.fieldsChanged {
                try updateResident.execute(arguments: [
                    planned.name, planned.phone, planned.phone.map(TailKey.of), planned.politicalStatus,
                    planned.notes, now, residentID,
                ])
            }
            for end in planned.endResidences {
                try endResidence.execute(arguments: [today, end.reason, end.id])
            }
            if planned.addResidence {
                try insertResidence.execute(arguments: [residentID, houseID(planned.house), row.relation, today, now])
                // The same rule as the record pages: the newest current home, else ownership.
                try ResidentStore.recomputeBuilding(db, residentID)
            }
            if planned.tagsChanged {
                try deleteTags.execute(arguments: [residentID])
                for tagID in planned.tagIDs { try insertTag.execute(arguments: [residentID, tagID]) }
            }
        }
        progress(plan.rows.count)
        clock.lap("updates")
    }
}

/// New rows of one table, collected in a temporary table (no index, no trigger: cheap to fill)
/// and then copied into the table with one `INSERT … SELECT`, in the order they were added.
struct StagedInsert {
    private let db: Database
    private let stage: String
    private let copySQL: String
    /// Add each row's values in `columns` order, then `endRow()`.
    var rows: BulkInsert

    init(_ db: Database, into table: String, columns: [String], orIgnore: Bool = false) throws {
        self.db = db
        stage = "temp.import_stage_\(table)"
        let list = columns.joined(separator: ", ")
        copySQL = "INSERT \(orIgnore ? "OR IGNORE " : "")INTO main.\(table) (\(list)) SELECT \(list) FROM \(stage) ORDER BY rowid"
        try db.execute(sql: "DROP TABLE IF EXISTS \(stage)")
        try db.execute(sql: "CREATE TABLE \(stage) (\(list))")
        rows = BulkInsert(db, table: stage, rowsPerStatement: 500, columns: columns)
    }

    /// Copies every staged row into the table and drops the temporary table.
    mutating func finish() throws {
        try rows.finish()
        try db.execute(sql: copySQL)
        try db.execute(sql: "DROP TABLE \(stage)")
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
