import Access
import AppCore
import Domain
import Foundation
import GRDB
import Storage

/// A validated resident form: what `ResidentStore.create` and `update` store.
struct ResidentInput: Sendable {
    var name: String
    var idNumber: IDNumber
    var phone: String?
    var politicalStatus: String
    var separated: Bool
    var notes: String
    var tagIDs: [Int64]
}

/// A change refused with a message shown on the page it came from (editing a merged record,
/// merging a record with itself). Status changes refused by their transition table are
/// `Conflict` (409) instead; a record out of reach is `NotFound` (404, mapped in AppCore).
struct RecordConflict: Error {
    let message: String
}

/// The ID number belongs to another record.
struct DuplicateIDNumber: Error {
    let existingID: Int64
    let name: String
    /// Whether the account may open the existing record (else it is only told that it exists).
    let visible: Bool
}

/// Records with the same name and birth date in the same estate: a warning before saving.
struct PossibleDuplicates: Error {
    struct Match: Sendable {
        let id: Int64
        let name: String
        let maskedIDNumber: String
        let building: String
        let visible: Bool
    }
    let matches: [Match]
}

/// One row of `residents`, with the path used for scope checks.
struct ResidentRow: Sendable {
    let id: Int64
    let name: String
    let idNumber: String
    let sex: String
    let birthDate: String
    let phone: String?
    let politicalStatus: String
    let separated: Bool
    let notes: String
    let status: String
    let mergedIntoID: Int64?
    let buildingID: Int64?
    let createdAt: String
    let updatedAt: String
    /// The path of the current home's building; for a moved-out or merged record, the building
    /// of its last residence. nil when the record was never bound to a house.
    let scopePath: String?

    static let selectSQL = """
        SELECT r.id, r.name, r.id_number, r.sex, r.birth_date, r.phone, r.political_status, r.separated, r.notes,
               r.status, r.merged_into_id, r.building_id, r.created_at, r.updated_at,
               COALESCE(b.path, (SELECT g.path FROM residences x JOIN houses h ON h.id = x.house_id
                                 JOIN grids g ON g.id = h.building_id
                                 WHERE x.resident_id = r.id
                                 ORDER BY x.ended_on IS NULL DESC, x.ended_on DESC, x.id DESC LIMIT 1)) AS scope_path
        FROM residents r LEFT JOIN grids b ON b.id = r.building_id
        """

    init(row: Row) {
        id = row["id"]
        name = row["name"]
        idNumber = row["id_number"]
        sex = row["sex"]
        birthDate = row["birth_date"]
        phone = row["phone"]
        politicalStatus = row["political_status"]
        separated = (row["separated"] as Int64? ?? 0) == 1
        notes = row["notes"]
        status = row["status"]
        mergedIntoID = row["merged_into_id"]
        buildingID = row["building_id"]
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
        scopePath = row["scope_path"]
    }

    var isActive: Bool { status == "active" }
    var isMerged: Bool { status == "merged" }
    var isMovedOut: Bool { status == "moved_out" }

    static func find(_ db: Database, _ id: Int64) throws -> ResidentRow? {
        try Row.fetchOne(db, sql: selectSQL + " WHERE r.id = ?", arguments: [id]).map(ResidentRow.init(row:))
    }

    /// The record when it exists and lies in `scope`; otherwise `NotFound`.
    static func require(_ db: Database, _ id: Int64, in scope: Scope) throws -> ResidentRow {
        guard let row = try find(db, id), let path = row.scopePath, scope.contains(path) else { throw NotFound() }
        return row
    }
}

/// A house with the path of its building, for scope checks.
struct HouseRow: Sendable {
    let id: Int64
    let buildingID: Int64
    let unit: String
    let room: String
    let floor: Int?
    let buildingPath: String
    let buildingName: String

    static func find(_ db: Database, _ id: Int64) throws -> HouseRow? {
        try Row.fetchOne(db, sql: """
            SELECT h.id, h.building_id, h.unit, h.room, h.floor, g.path, g.name
            FROM houses h JOIN grids g ON g.id = h.building_id WHERE h.id = ?
            """, arguments: [id]).map { row in
            HouseRow(id: row["id"], buildingID: row["building_id"], unit: row["unit"], room: row["room"], floor: row["floor"],
                     buildingPath: row["path"], buildingName: row["name"])
        }
    }
}

/// What the audit log keeps of a resident. ID and phone numbers are masked: the log is read by
/// administrators who have no need for them (个人信息保护法).
struct ResidentSnapshot: Encodable, Sendable {
    let name: String
    let id_number: String
    let sex: String
    let birth_date: String
    let phone: String
    let political_status: String
    let separated: Bool
    let notes: String
    let status: String
    let merged_into_id: Int64?
    let building_id: Int64?
    let tags: [String]
    /// Current residences as `house_id:relation:started_on`.
    let residences: [String]
    let visits: Int

    static func load(_ db: Database, _ id: Int64) throws -> ResidentSnapshot? {
        guard let row = try ResidentRow.find(db, id) else { return nil }
        let tags = try String.fetchAll(db, sql: """
            SELECT t.name FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id WHERE rt.resident_id = ? ORDER BY t.sort_order, t.id
            """, arguments: [id])
        let residences = try Row.fetchAll(db, sql: """
            SELECT house_id, relation, started_on FROM residences WHERE resident_id = ? AND ended_on IS NULL ORDER BY id
            """, arguments: [id]).map { row -> String in
            let house: Int64 = row["house_id"]
            let relation: String = row["relation"]
            let started: String = row["started_on"]
            return "\(house):\(relation):\(started)"
        }
        let visits = try Int.fetchOne(db, sql: "SELECT count(*) FROM visits WHERE resident_id = ?", arguments: [id]) ?? 0
        return ResidentSnapshot(name: row.name, id_number: Mask.idNumber(row.idNumber), sex: row.sex, birth_date: row.birthDate,
                                phone: Mask.phone(row.phone), political_status: row.politicalStatus, separated: row.separated,
                                notes: row.notes, status: row.status, merged_into_id: row.mergedIntoID,
                                building_id: row.buildingID, tags: tags, residences: residences, visits: visits)
    }
}

/// Resident records: every transition is one transaction that checks the record's state and the
/// account's scope, writes the change, keeps `residents.building_id` in step with the current
/// residences, and records its audit entry.
struct ResidentStore: Sendable {
    let database: AppDatabase

    /// Relations that make a house someone's home (for `building_id` and for 换房).
    static let homeRelations = ["resident", "hukou", "tenant"]

    // MARK: - Create and update

    /// Registers a person bound to `houseID` with `relation` since `startedOn`.
    func create(_ input: ResidentInput, houseID: Int64, relation: String, startedOn: String,
                confirmDuplicate: Bool, principal: Principal?, by actor: AuditActor) throws -> Int64 {
        try database.write { db in
            try Policy.require(principal, .manageResidents)
            let scope = principal?.scope ?? .nothing
            guard let house = try HouseRow.find(db, houseID), scope.contains(house.buildingPath) else {
                throw FieldErrors("house_id", "所选房屋不存在或不在您的管辖范围内")
            }
            try Self.ensureUniqueIDNumber(db, input.idNumber.value, excluding: nil, scope: scope)
            if !confirmDuplicate {
                try Self.checkSameNameAndBirth(db, name: input.name, birthDate: input.idNumber.birthDateText,
                                               buildingPath: house.buildingPath, excluding: nil, scope: scope)
            }
            try Self.ensureTags(db, input.tagIDs, residentID: nil)
            try db.execute(sql: """
                INSERT INTO residents (name, id_number, id_number_rev, sex, birth_date, phone, phone_rev, political_status,
                                       separated, notes)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [input.name, input.idNumber.value, input.idNumber.reversed, input.idNumber.sexCode,
                                 input.idNumber.birthDateText, input.phone, input.phone.map(TailKey.of),
                                 input.politicalStatus, input.separated ? 1 : 0, input.notes])
            let id = db.lastInsertedRowID
            try db.execute(sql: "INSERT INTO residences (resident_id, house_id, relation, started_on) VALUES (?, ?, ?, ?)",
                           arguments: [id, houseID, relation, startedOn])
            try Self.replaceTags(db, id, input.tagIDs)
            try Self.recomputeBuilding(db, id)
            try AuditLog.record(db, actor: actor, action: "resident.create", entityType: "resident", entityId: id,
                                before: nil as ResidentSnapshot?, after: try ResidentSnapshot.load(db, id))
            return id
        }
    }

    /// Changes the person's own fields and tags (houses change through moves, which keep history).
    func update(_ id: Int64, _ input: ResidentInput, confirmDuplicate: Bool, principal: Principal?, by actor: AuditActor) throws {
        try database.write { db in
            try Policy.require(principal, .manageResidents)
            let scope = principal?.scope ?? .nothing
            let current = try ResidentRow.require(db, id, in: scope)
            if current.isMerged { throw RecordConflict(message: "该记录已合并到其他记录，不能再修改") }
            try Self.ensureUniqueIDNumber(db, input.idNumber.value, excluding: id, scope: scope)
            let identityChanged = current.name != input.name || current.birthDate != input.idNumber.birthDateText
            if identityChanged, !confirmDuplicate, let path = current.scopePath, current.isActive {
                try Self.checkSameNameAndBirth(db, name: input.name, birthDate: input.idNumber.birthDateText,
                                               buildingPath: path, excluding: id, scope: scope)
            }
            try Self.ensureTags(db, input.tagIDs, residentID: id)
            let before = try ResidentSnapshot.load(db, id)
            try db.execute(sql: """
                UPDATE residents SET name = ?, id_number = ?, id_number_rev = ?, sex = ?, birth_date = ?, phone = ?, phone_rev = ?,
                       political_status = ?, separated = ?, notes = ?, updated_at = \(Timestamp.nowSQL)
                WHERE id = ?
                """, arguments: [input.name, input.idNumber.value, input.idNumber.reversed, input.idNumber.sexCode,
                                 input.idNumber.birthDateText, input.phone, input.phone.map(TailKey.of),
                                 input.politicalStatus, input.separated ? 1 : 0, input.notes, id])
            try Self.replaceTags(db, id, input.tagIDs)
            try AuditLog.record(db, actor: actor, action: "resident.update", entityType: "resident", entityId: id,
                                before: before, after: try ResidentSnapshot.load(db, id))
        }
    }

    /// Sets the key-group tags alone (the quick form on the detail page).
    func setTags(_ id: Int64, _ tagIDs: [Int64], principal: Principal?, by actor: AuditActor) throws {
        try database.write { db in
            try Policy.require(principal, .manageResidents)
            let scope = principal?.scope ?? .nothing
            let current = try ResidentRow.require(db, id, in: scope)
            if current.isMerged { throw RecordConflict(message: "该记录已合并到其他记录，不能再修改") }
            try Self.ensureTags(db, tagIDs, residentID: id)
            let before = try ResidentSnapshot.load(db, id)
            try Self.replaceTags(db, id, tagIDs)
            try db.execute(sql: "UPDATE residents SET updated_at = \(Timestamp.nowSQL) WHERE id = ?", arguments: [id])
            try AuditLog.record(db, actor: actor, action: "resident.update", entityType: "resident", entityId: id,
                                before: before, after: try ResidentSnapshot.load(db, id))
        }
    }

    // MARK: - Moves

    /// 入住: binds the person to another house as well (a person may own one house and live in
    /// another). A moved-out person becomes active again.
    func addResidence(_ id: Int64, houseID: Int64, relation: String, startedOn: String, principal: Principal?,
                      by actor: AuditActor) throws {
        try database.write { db in
            let (current, house) = try Self.prepareMove(db, id, houseID: houseID, relation: relation, scope: principal?.scope ?? .nothing)
            try Self.changeHomes(db, current, principal, actor: actor, action: "resident.move_in") { db in
                try db.execute(sql: "INSERT INTO residences (resident_id, house_id, relation, started_on) VALUES (?, ?, ?, ?)",
                               arguments: [id, house.id, relation, startedOn])
            }
        }
    }

    /// A change of someone's houses, audited as `action`. For someone moved out it is also the
    /// transition back to active, through the gate (with its timeline row).
    static func changeHomes(_ db: Database, _ current: ResidentRow, _ principal: Principal?, actor: AuditActor, action: String,
                            _ change: (Database) throws -> Void) throws {
        let id = current.id
        func changeAndRecount(_ db: Database) throws {
            try change(db)
            if !current.isActive {
                try db.execute(sql: "UPDATE residents SET status = 'active' WHERE id = ?", arguments: [id])
            }
            try recomputeBuilding(db, id)
        }
        if current.statusValue == .movedOut {
            try StateChange.apply(db, principal, actor: actor, id: id, from: current.statusValue, gridPath: current.policyPath,
                                  to: .active, action: action,
                                  snapshot: { try ResidentSnapshot.load($0, id) }, change: changeAndRecount)
            return
        }
        try Policy.require(principal, .manageResidents, gridPath: current.policyPath)
        let before = try ResidentSnapshot.load(db, id)
        try changeAndRecount(db)
        try AuditLog.record(db, actor: actor, action: action, entityType: "resident", entityId: id,
                            before: before, after: try ResidentSnapshot.load(db, id))
    }

    /// 换房: ends the current home residences (常住、户籍、租住; ownership stays) as `moved` on
    /// `startedOn` and starts the new one.
    func move(_ id: Int64, houseID: Int64, relation: String, startedOn: String, principal: Principal?, by actor: AuditActor) throws {
        try database.write { db in
            let (current, house) = try Self.prepareMove(db, id, houseID: houseID, relation: relation, scope: principal?.scope ?? .nothing)
            let homes = Self.homeRelations.map { "'\($0)'" }.joined(separator: ", ")
            if let latest = try String.fetchOne(db, sql: """
                SELECT max(started_on) FROM residences WHERE resident_id = ? AND ended_on IS NULL AND relation IN (\(homes))
                """, arguments: [id]), latest > startedOn {
                throw FieldErrors("started_on", "换房日期不能早于原住房的开始日期（\(latest)）")
            }
            try Self.changeHomes(db, current, principal, actor: actor, action: "resident.move") { db in
                try db.execute(sql: """
                    UPDATE residences SET ended_on = ?, end_reason = 'moved'
                    WHERE resident_id = ? AND ended_on IS NULL AND relation IN (\(homes))
                    """, arguments: [startedOn, id])
                try db.execute(sql: "INSERT INTO residences (resident_id, house_id, relation, started_on) VALUES (?, ?, ?, ?)",
                               arguments: [id, house.id, relation, startedOn])
            }
        }
    }

    /// 迁出: ends every current residence as `moved_out`; the record stays, with its history.
    func moveOut(_ id: Int64, endedOn: String, principal: Principal?, by actor: AuditActor) throws {
        try database.write { db in
            guard let current = try ResidentRow.find(db, id) else { throw NotFound() }
            try StateChange.apply(db, principal, actor: actor, id: id, from: current.statusValue, gridPath: current.policyPath,
                                  to: .movedOut, snapshot: { try ResidentSnapshot.load($0, id) }) { db in
                if let latest = try String.fetchOne(db, sql: """
                    SELECT max(started_on) FROM residences WHERE resident_id = ? AND ended_on IS NULL
                    """, arguments: [id]), latest > endedOn {
                    throw FieldErrors("ended_on", "迁出日期不能早于入住日期（\(latest)）")
                }
                try db.execute(sql: """
                    UPDATE residences SET ended_on = ?, end_reason = 'moved_out' WHERE resident_id = ? AND ended_on IS NULL
                    """, arguments: [endedOn, id])
                try db.execute(sql: """
                    UPDATE residents SET status = 'moved_out', building_id = NULL, updated_at = \(Timestamp.nowSQL) WHERE id = ?
                    """, arguments: [id])
            }
        }
    }

    /// Ends one current residence (sold the house, registered by mistake). The last one cannot
    /// end this way: that is a move-out.
    func endResidence(_ id: Int64, residenceID: Int64, endedOn: String, reason: String, principal: Principal?,
                      by actor: AuditActor) throws {
        try database.write { db in
            try Policy.require(principal, .manageResidents)
            let scope = principal?.scope ?? .nothing
            let current = try ResidentRow.require(db, id, in: scope)
            if current.isMerged { throw RecordConflict(message: "该记录已合并到其他记录，不能再修改") }
            guard let started = try String.fetchOne(db, sql: """
                SELECT started_on FROM residences WHERE id = ? AND resident_id = ? AND ended_on IS NULL
                """, arguments: [residenceID, id]) else { throw RecordConflict(message: "该人屋关系不存在或已结束") }
            let open = try Int.fetchOne(db, sql: "SELECT count(*) FROM residences WHERE resident_id = ? AND ended_on IS NULL",
                                        arguments: [id]) ?? 0
            if open <= 1 { throw RecordConflict(message: "这是该居民唯一的人屋关系，不能单独结束；如已搬离本辖区，请使用“迁出”") }
            let endedOn = reason == "corrected" ? max(endedOn, started) : endedOn
            if started > endedOn { throw RecordConflict(message: "结束日期不能早于开始日期（\(started)）") }
            let before = try ResidentSnapshot.load(db, id)
            try db.execute(sql: "UPDATE residences SET ended_on = ?, end_reason = ? WHERE id = ?",
                           arguments: [endedOn, reason, residenceID])
            try Self.recomputeBuilding(db, id)
            try AuditLog.record(db, actor: actor, action: "resident.end_residence", entityType: "resident", entityId: id,
                                before: before, after: try ResidentSnapshot.load(db, id))
        }
    }

    // MARK: - Merge

    /// Folds the duplicate `otherID` into `keptID`: its residences (history copied, current ones
    /// ended as `merged` and started again on the kept record), tags and visits move over, a
    /// missing phone is taken, and the duplicate is marked `merged` into the kept record.
    func merge(_ otherID: Int64, into keptID: Int64, principal: Principal?, by actor: AuditActor) throws {
        let scope = principal?.scope ?? .nothing
        try database.write { db in
            guard keptID != otherID else { throw RecordConflict(message: "不能与自己合并") }
            let kept = try ResidentRow.require(db, keptID, in: scope)
            guard let other = try ResidentRow.find(db, otherID), let otherPath = other.scopePath, scope.contains(otherPath) else {
                throw RecordConflict(message: "要合并的记录不存在或不在您的管辖范围内")
            }
            if kept.isMerged { throw RecordConflict(message: "当前记录已合并到其他记录，请在保留的记录上操作") }
            func snapshot(_ db: Database) throws -> MergeSnapshot {
                MergeSnapshot(kept: try ResidentSnapshot.load(db, keptID), duplicate: try ResidentSnapshot.load(db, otherID))
            }
            let before = try snapshot(db)
            // The duplicate's change (and its audit entry) goes through the gate; the kept
            // record gets its own entry below, so both pages show the merge in their history.
            try StateChange.apply(db, principal, actor: actor, id: otherID, from: other.statusValue, gridPath: other.policyPath,
                                  to: .merged, snapshot: snapshot) { db in
                try Self.fold(db, otherID, into: kept, other: other, clock: database.clock)
            }
            try AuditLog.record(db, actor: actor, action: "resident.merge", entityType: "resident", entityId: keptID,
                                before: before, after: try snapshot(db))
        }
    }

    /// The rows of a merge: history, current residences, tags, visits, account, notes, status.
    private static func fold(_ db: Database, _ otherID: Int64, into kept: ResidentRow, other: ResidentRow, clock: Clock) throws {
        let keptID = kept.id
        let today = ChinaDate.today(clock.now)

        // History first: the duplicate's ended residences are copied as they were.
        try db.execute(sql: """
            INSERT INTO residences (resident_id, house_id, relation, started_on, ended_on, end_reason)
            SELECT ?, house_id, relation, started_on, ended_on, end_reason FROM residences
            WHERE resident_id = ? AND ended_on IS NOT NULL ORDER BY id
            """, arguments: [keptID, otherID])
        // Current residences continue on the kept record, unless it has the same one already.
        try db.execute(sql: """
            INSERT INTO residences (resident_id, house_id, relation, started_on)
            SELECT ?, x.house_id, x.relation, x.started_on FROM residences x
            WHERE x.resident_id = ? AND x.ended_on IS NULL
              AND NOT EXISTS (SELECT 1 FROM residences k WHERE k.resident_id = ? AND k.house_id = x.house_id
                              AND k.relation = x.relation AND k.ended_on IS NULL)
            ORDER BY x.id
            """, arguments: [keptID, otherID, keptID])
        try db.execute(sql: """
            UPDATE residences SET ended_on = max(?, started_on), end_reason = 'merged' WHERE resident_id = ? AND ended_on IS NULL
            """, arguments: [today, otherID])
        try db.execute(sql: """
            INSERT OR IGNORE INTO resident_tags (resident_id, tag_id) SELECT ?, tag_id FROM resident_tags WHERE resident_id = ?
            """, arguments: [keptID, otherID])
        try db.execute(sql: "UPDATE visits SET resident_id = ? WHERE resident_id = ?", arguments: [keptID, otherID])
        // An account linked to the duplicate follows the person, unless the kept record has one.
        try db.execute(sql: """
            UPDATE users SET resident_id = ? WHERE resident_id = ?
              AND NOT EXISTS (SELECT 1 FROM users WHERE resident_id = ?)
            """, arguments: [keptID, otherID, keptID])

        var notes = kept.notes
        let otherNotes = other.notes.trimmingCharacters(in: .whitespacesAndNewlines)
        if !otherNotes.isEmpty && !notes.contains(otherNotes) {
            let addition = (notes.isEmpty ? "" : "\n") + "（合并自 \(other.name)）" + otherNotes
            notes = String((notes + addition).prefix(2000))
        }
        let phone = kept.phone ?? other.phone
        try db.execute(sql: """
            UPDATE residents SET phone = ?, phone_rev = ?, separated = ?, notes = ?,
                   status = CASE WHEN EXISTS (SELECT 1 FROM residences x WHERE x.resident_id = residents.id AND x.ended_on IS NULL)
                                 THEN 'active' ELSE status END,
                   updated_at = \(Timestamp.nowSQL)
            WHERE id = ?
            """, arguments: [phone, phone.map(TailKey.of), (kept.separated || other.separated) ? 1 : 0, notes, keptID])
        try db.execute(sql: """
            UPDATE residents SET status = 'merged', merged_into_id = ?, building_id = NULL, updated_at = \(Timestamp.nowSQL)
            WHERE id = ?
            """, arguments: [keptID, otherID])
        try Self.recomputeBuilding(db, keptID)
    }

    struct MergeSnapshot: Encodable {
        let kept: ResidentSnapshot?
        let duplicate: ResidentSnapshot?
    }

    // MARK: - Export

    /// The audit entry of a CSV export, written before the file streams: `resident.export` when
    /// masked, `resident.reveal_export` with the reason when full values were asked for. Both
    /// name the filter, the scope and the number of residents.
    func recordExport(_ query: ResidentSearchQuery, filter: ResidentFilter, disclosure: Disclosure, principal: Principal?,
                      by actor: AuditActor) throws {
        try database.write { db in
            guard Policy.decide(principal, .exportResidents) == .allow,
                  disclosure.isMasked || Policy.decide(principal, .revealPersonalData) == .allow else { throw Forbidden() }
            let residents = try query.count(db)
            let entry = ResidentExport.AuditRecord(filter: filter.auditRecord, scope: principal?.scope.path, masked: disclosure.isMasked,
                                                   reason: disclosure.reason, residents: residents)
            try AuditLog.record(db, actor: actor, action: disclosure.isMasked ? "resident.export" : "resident.reveal_export",
                                entityType: nil, entityId: nil, before: nil as ResidentExport.AuditRecord?, after: entry)
        }
    }

    // MARK: - Reveal and visits

    enum RevealField: String, Sendable {
        case idNumber = "id_number"
        case phone
    }

    /// The full ID number or phone, with its audit entry (`resident.reveal_id` / `reveal_phone`).
    func reveal(_ id: Int64, _ field: RevealField, reason: String, principal: Principal?, by actor: AuditActor) throws -> String? {
        try database.write { db in
            try Policy.require(principal, .revealPersonalData)
            let current = try ResidentRow.require(db, id, in: principal?.scope ?? .nothing)
            let value = field == .idNumber ? current.idNumber : current.phone
            guard let value else { return nil }
            struct Revealed: Encodable { let field: String; let reason: String }
            try AuditLog.record(db, actor: actor, action: field == .idNumber ? "resident.reveal_id" : "resident.reveal_phone",
                                entityType: "resident", entityId: id, before: nil as Revealed?,
                                after: Revealed(field: field.rawValue, reason: reason))
            return value
        }
    }

    /// A search by a complete ID number or phone, audited like a reveal: who, when, the numbers
    /// masked, and how many residents matched.
    func recordNumberSearch(_ numbers: [NumberQuery], matches: Int, by actor: AuditActor) throws {
        struct Searched: Encodable { let numbers: [String]; let matches: Int }
        try database.write { db in
            try AuditLog.record(db, actor: actor, action: "resident.search_full_number", entityType: nil, entityId: nil,
                                before: nil as Searched?, after: Searched(numbers: numbers.map(\.maskedForAudit), matches: matches))
        }
    }

    /// 走访: records a visit to a key-group resident.
    func addVisit(_ id: Int64, visitedOn: String, note: String, userID: Int64, principal: Principal?,
                  by actor: AuditActor) throws -> Int64 {
        try database.write { db in
            try Policy.require(principal, .visitKeyGroups)
            let scope = principal?.scope ?? .nothing
            let current = try ResidentRow.require(db, id, in: scope)
            if !current.isActive { throw RecordConflict(message: current.isMerged ? "该记录已合并，请在保留的记录上登记走访" : "该居民已迁出，不能再登记走访") }
            let keyGroup = try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id WHERE rt.resident_id = ? AND t.key_group = 1)
                """, arguments: [id]) ?? false
            if !keyGroup { throw FieldErrors("note", "该居民没有重点人群标签，无需登记走访；如需走访请先添加标签") }
            try db.execute(sql: "INSERT INTO visits (resident_id, visited_on, user_id, note) VALUES (?, ?, ?, ?)",
                           arguments: [id, visitedOn, userID, note])
            let visitID = db.lastInsertedRowID
            struct Visit: Encodable { let visit_id: Int64; let visited_on: String; let note: String }
            try AuditLog.record(db, actor: actor, action: "visit.create", entityType: "resident", entityId: id,
                                before: nil as Visit?, after: Visit(visit_id: visitID, visited_on: visitedOn, note: note))
            return visitID
        }
    }

    // MARK: - Checks and upkeep inside the caller's transaction

    static func prepareMove(_ db: Database, _ id: Int64, houseID: Int64, relation: String,
                            scope: Scope) throws -> (ResidentRow, HouseRow) {
        let current = try ResidentRow.require(db, id, in: scope)
        if current.isMerged { throw RecordConflict(message: "该记录已合并到其他记录，请在保留的记录上操作") }
        guard let house = try HouseRow.find(db, houseID), scope.contains(house.buildingPath) else {
            throw FieldErrors("house_id", "所选房屋不存在或不在您的管辖范围内")
        }
        if try Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM residences WHERE resident_id = ? AND house_id = ? AND relation = ? AND ended_on IS NULL)
            """, arguments: [id, houseID, relation]) == true {
            throw FieldErrors("house_id", "该居民已经是这套房屋的\(Vocabulary.relationName(relation))，无需重复登记")
        }
        return (current, house)
    }

    /// `residents.building_id` = the building of the current home: the newest current residence
    /// as 常住/户籍/租住, else the newest as 产权人; NULL without a current residence.
    static func recomputeBuilding(_ db: Database, _ id: Int64) throws {
        try db.execute(sql: """
            UPDATE residents SET building_id = (
                SELECT h.building_id FROM residences x JOIN houses h ON h.id = x.house_id
                WHERE x.resident_id = residents.id AND x.ended_on IS NULL
                ORDER BY x.relation = 'owner', x.started_on DESC, x.id DESC LIMIT 1),
                updated_at = \(Timestamp.nowSQL)
            WHERE id = ?
            """, arguments: [id])
    }

    static func ensureUniqueIDNumber(_ db: Database, _ value: String, excluding id: Int64?, scope: Scope) throws {
        guard let existing = try Int64.fetchOne(db, sql: "SELECT id FROM residents WHERE id_number = ? AND id IS NOT ?",
                                                arguments: [value, id]),
              let row = try ResidentRow.find(db, existing) else { return }
        // A merged record keeps its number; point at the record it was merged into.
        let target = try row.mergedIntoID.flatMap { try ResidentRow.find(db, $0) } ?? row
        let visible = target.scopePath.map(scope.contains) ?? false
        throw DuplicateIDNumber(existingID: target.id, name: target.name, visible: visible)
    }

    /// Warns about active records with the same name and birth date in the same estate (小区).
    static func checkSameNameAndBirth(_ db: Database, name: String, birthDate: String, buildingPath: String,
                                      excluding id: Int64?, scope: Scope) throws {
        let area = try estatePath(db, forBuildingPath: buildingPath)
        let range = GridPath.subtreeRange(of: area)
        let rows = try Row.fetchAll(db, sql: """
            SELECT r.id, r.name, r.id_number, b.name AS building, b.path
            FROM residents r JOIN grids b ON b.id = r.building_id
            WHERE r.name = ? AND r.birth_date = ? AND r.status = 'active' AND b.path >= ? AND b.path < ? AND r.id IS NOT ?
            ORDER BY r.id LIMIT 10
            """, arguments: [name, birthDate, range.lower, range.upper, id])
        guard !rows.isEmpty else { return }
        throw PossibleDuplicates(matches: rows.map { row in
            let path: String = row["path"]
            let idNumber: String = row["id_number"]
            return PossibleDuplicates.Match(id: row["id"], name: row["name"], maskedIDNumber: Mask.idNumber(idNumber),
                                            building: row["building"], visible: scope.contains(path))
        })
    }

    /// The path of the estate (小区) a building lies in: its nearest ancestor of kind estate, else
    /// its parent, else the building itself.
    static func estatePath(_ db: Database, forBuildingPath path: String) throws -> String {
        let ids = GridPath.ids(in: path)
        guard ids.count > 1 else { return path }
        let marks = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        if let estate = try String.fetchOne(db, sql: """
            SELECT path FROM grids WHERE id IN (\(marks)) AND kind = 'estate' ORDER BY depth DESC LIMIT 1
            """, arguments: StatementArguments(ids)) {
            return estate
        }
        let parentID = ids[ids.count - 2]
        return try String.fetchOne(db, sql: "SELECT path FROM grids WHERE id = ?", arguments: [parentID]) ?? path
    }

    /// Tags must exist; new ones must be active (an inactive tag a record already has may stay).
    static func ensureTags(_ db: Database, _ tagIDs: [Int64], residentID: Int64?) throws {
        guard !tagIDs.isEmpty else { return }
        let marks = Array(repeating: "?", count: tagIDs.count).joined(separator: ", ")
        let allowed = try Int64.fetchAll(db, sql: """
            SELECT id FROM tags WHERE id IN (\(marks))
              AND (active = 1 OR id IN (SELECT tag_id FROM resident_tags WHERE resident_id IS ?))
            """, arguments: StatementArguments(tagIDs) + [residentID])
        if Set(allowed) != Set(tagIDs) { throw FieldErrors("tags", "所选标签不存在或已停用，请刷新页面后重新选择") }
    }

    static func replaceTags(_ db: Database, _ id: Int64, _ tagIDs: [Int64]) throws {
        try db.execute(sql: "DELETE FROM resident_tags WHERE resident_id = ?", arguments: [id])
        for tag in Set(tagIDs) {
            try db.execute(sql: "INSERT INTO resident_tags (resident_id, tag_id) VALUES (?, ?)", arguments: [id, tag])
        }
    }
}
