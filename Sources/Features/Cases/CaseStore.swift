import Access
import AppCore
import Domain
import Foundation
import GRDB
import Storage

/// One case as the store decides on it: identity, place, unit and the clocks.
struct CaseRow: Sendable, Encodable {
    let id: Int64
    var status: String
    var pausedFrom: String?
    let categoryID: Int64
    let gridPath: String
    let reporterID: Int64?
    let residentID: Int64?
    var unitID: Int64?
    var unitPath: String?
    var satisfaction: String?
    var resolveNote: String?
    var visitNote: String?
    var visitedAt: Int64?
    var closedAt: Int64?
    var mergedIntoID: Int64?
    var reopenCount: Int
    var escalationCount: Int
    var supervisionCount: Int
    var clock: CaseClock

    var state: CaseStatus { CaseStatus(rawValue: status) ?? .closed }

    private enum CodingKeys: String, CodingKey {
        case status, unitID, satisfaction, resolveNote, visitNote, mergedIntoID, reopenCount, escalationCount, supervisionCount
        case deadline, dueAt
    }

    /// What the audit log keeps (before/after) of a case.
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(status, forKey: .status)
        try c.encodeIfPresent(unitID, forKey: .unitID)
        try c.encodeIfPresent(satisfaction, forKey: .satisfaction)
        try c.encodeIfPresent(resolveNote, forKey: .resolveNote)
        try c.encodeIfPresent(visitNote, forKey: .visitNote)
        try c.encodeIfPresent(mergedIntoID, forKey: .mergedIntoID)
        try c.encode(reopenCount, forKey: .reopenCount)
        try c.encode(escalationCount, forKey: .escalationCount)
        try c.encode(supervisionCount, forKey: .supervisionCount)
        try c.encodeIfPresent(clock.deadline, forKey: .deadline)
        try c.encodeIfPresent(clock.dueAt, forKey: .dueAt)
    }

    static func find(_ db: Database, _ id: Int64) throws -> CaseRow? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM cases WHERE id = ?", arguments: [id]) else { return nil }
        return CaseRow(row: row)
    }

    init(row: Row) {
        id = row["id"]
        status = row["status"]
        pausedFrom = row["paused_from"]
        categoryID = row["category_id"]
        gridPath = row["grid_path"]
        reporterID = row["reporter_id"]
        residentID = row["resident_id"]
        unitID = row["unit_id"]
        unitPath = row["unit_path"]
        satisfaction = row["satisfaction"]
        resolveNote = row["resolve_note"]
        visitNote = row["visit_note"]
        visitedAt = row["visited_at"]
        closedAt = row["closed_at"]
        mergedIntoID = row["merged_into_id"]
        reopenCount = row["reopen_count"]
        escalationCount = row["escalation_count"]
        supervisionCount = row["supervision_count"]
        clock = CaseClock(
            reportedAt: row["reported_at"], responseTarget: row["response_target"], resolutionTarget: row["resolution_target"],
            acceptedAt: row["accepted_at"], responseSeconds: row["response_seconds"], deadline: row["deadline"],
            originalDeadline: row["original_deadline"], dueAt: row["due_at"], warnAt: row["warn_at"],
            clockSeconds: row["clock_seconds"], clockStartedAt: row["clock_started_at"], pausedAt: row["paused_at"],
            pausedSeconds: row["paused_seconds"], resolvedAt: row["resolved_at"], resolutionSeconds: row["resolution_seconds"],
            resolvedInTime: (row["resolved_in_time"] as Int64?).map { $0 == 1 })
    }

    /// Writes every field a transition may change.
    func save(_ db: Database) throws {
        try db.execute(sql: """
            UPDATE cases SET status = ?, paused_from = ?, unit_id = ?, unit_path = ?, satisfaction = ?, resolve_note = ?,
                   visit_note = ?, visited_at = ?, closed_at = ?, merged_into_id = ?, reopen_count = ?, escalation_count = ?,
                   supervision_count = ?, accepted_at = ?, response_seconds = ?, deadline = ?, original_deadline = ?, due_at = ?,
                   warn_at = ?, clock_seconds = ?, clock_started_at = ?, paused_at = ?, paused_seconds = ?, resolved_at = ?,
                   resolution_seconds = ?, resolved_in_time = ?, updated_at = \(Timestamp.nowSQL)
            WHERE id = ?
            """, arguments: [
                status, pausedFrom, unitID, unitPath, satisfaction, resolveNote, visitNote, visitedAt, closedAt, mergedIntoID,
                reopenCount, escalationCount, supervisionCount, clock.acceptedAt, clock.responseSeconds, clock.deadline,
                clock.originalDeadline, clock.dueAt, clock.warnAt, clock.clockSeconds, clock.clockStartedAt, clock.pausedAt,
                clock.pausedSeconds, clock.resolvedAt, clock.resolutionSeconds, clock.resolvedInTime.map { $0 ? 1 : 0 }, id,
            ])
    }
}

/// A new case from the form.
struct NewCase: Sendable {
    var categoryID: Int64?
    var description: String
    var location: String
    var gridID: Int64?
    var residentID: Int64?
    /// Staff registering a phone call (来电) rather than a report of their own.
    var phoneCall: Bool = false
    var photos: [StoredPhoto] = []
}

/// Every case transition: one function each. Each checks role (403), scope (404: the grid for
/// staff and grid workers, the unit for unit handlers) and state (409) through
/// `StateChange.apply` inside one write transaction, which also writes the timeline row (with
/// the note), the audit entry and the notifications. The clocks are `CaseClock`'s arithmetic.
struct CaseStore: Sendable {
    let database: AppDatabase

    var now: Int64 { Self.seconds(database.clock.now) }

    static func seconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }

    static func load(_ db: Database, _ id: Int64) throws -> CaseRow {
        guard let row = try CaseRow.find(db, id) else { throw NotFound("没有找到这条诉求工单。") }
        return row
    }

    // MARK: - Notifications

    static func notifyUnit(_ db: Database, unitID: Int64?, caseID: Int64, _ text: String) throws {
        guard let unitID else { return }
        for userID in try Int64.fetchAll(db, sql: "SELECT id FROM users WHERE role = 'unit_handler' AND active = 1 AND scope_unit_id = ?",
                                         arguments: [unitID]) {
            try Notifications.post(db, userID: userID, text: text, link: "/cases/\(caseID)")
        }
    }

    /// Staff whose scope holds the case (the community's dispatchers).
    static func notifyStaff(_ db: Database, gridPath: String, caseID: Int64, _ text: String) throws {
        for userID in try Int64.fetchAll(db, sql: """
            SELECT u.id FROM users u JOIN grids g ON g.id = u.scope_grid_id
            WHERE u.role = 'staff' AND u.active = 1 AND instr(?, g.path) = 1
            """, arguments: [gridPath]) {
            try Notifications.post(db, userID: userID, text: text, link: "/cases/\(caseID)")
        }
    }

    static func notifyReporter(_ db: Database, _ row: CaseRow, _ text: String) throws {
        guard let reporter = row.reporterID,
              try String.fetchOne(db, sql: "SELECT role FROM users WHERE id = ? AND active = 1", arguments: [reporter]) != nil
        else { return }
        try Notifications.post(db, userID: reporter, text: text, link: "/cases/\(row.id)")
    }

    // MARK: - Report

    func report(_ new: NewCase, principal: Principal?, actor: AuditActor) throws -> Int64 {
        try Policy.require(principal, .reportCases)
        guard let principal else { throw Forbidden() }
        var errors: [String: String] = [:]
        let description = new.description.trimmingCharacters(in: .whitespacesAndNewlines)
        if description.isEmpty { errors["description"] = "请描述发现的问题" } else if description.count > 1000 { errors["description"] = "问题描述最多 1000 字" }
        let location = new.location.trimmingCharacters(in: .whitespacesAndNewlines)
        if location.count > 200 { errors["location"] = "位置最多 200 字" }
        if new.categoryID == nil { errors["category"] = "请选择问题类别" }
        if new.photos.count > 3 { errors["photo"] = "最多上传 3 张照片" }
        guard errors.isEmpty else { throw FieldErrors(errors) }
        let now = self.now
        return try database.write { db in
            guard let categoryID = new.categoryID, let category = try Row.fetchOne(db, sql: """
                SELECT name, urgent, response_minutes, resolution_hours FROM case_categories WHERE id = ? AND active = 1
                """, arguments: [categoryID]) else { throw FieldErrors("category", "所选类别不存在") }
            // The resident concerned: a resident or member reports for themselves.
            var residentID = new.residentID
            if principal.role == .resident || principal.role == .member {
                residentID = try Int64.fetchOne(db, sql: "SELECT resident_id FROM users WHERE id = ?", arguments: [principal.userID])
            }
            var residentBuilding: Int64?
            if let residentID {
                guard let resident = try Row.fetchOne(db, sql: """
                    SELECT r.building_id, g.path FROM residents r LEFT JOIN grids g ON g.id = r.building_id WHERE r.id = ?
                    """, arguments: [residentID]) else { throw FieldErrors("resident_id", "所选居民不存在") }
                residentBuilding = resident["building_id"]
                if principal.role != .resident && principal.role != .member {
                    guard let path: String = resident["path"], principal.scope.contains(path) else {
                        throw FieldErrors("resident_id", "所选居民不在您的管辖范围内")
                    }
                }
            }
            // Where: the grid chosen, or the reporter's own (a resident's home building).
            var gridID = new.gridID ?? residentBuilding
            if gridID == nil {
                gridID = try Int64.fetchOne(db, sql: "SELECT scope_grid_id FROM users WHERE id = ?", arguments: [principal.userID])
            }
            guard let gridID, let gridPath = try String.fetchOne(db, sql: "SELECT path FROM grids WHERE id = ?", arguments: [gridID]) else {
                throw FieldErrors("grid_id", "请选择问题所在的网格")
            }
            guard principal.scope.contains(gridPath) else { throw FieldErrors("grid_id", "所选网格不在您的管辖范围内") }
            let source: String = switch principal.role {
            case .gridWorker: "grid"
            case .resident, .member: "resident"
            default: new.phoneCall ? "phone" : "staff"
            }
            let urgent: Int = category["urgent"]
            let responseTarget = Int64(category["response_minutes"] as Int) * 60
            let resolutionTarget = Int64(category["resolution_hours"] as Int) * 3600
            let clock = CaseClock.reported(at: now, responseTarget: responseTarget, resolutionTarget: resolutionTarget)
            let month = String(ChinaDate.today(Date(timeIntervalSince1970: TimeInterval(now))).prefix(7))
            try db.execute(sql: """
                INSERT INTO cases (category_id, description, location, grid_id, grid_path, resident_id, reporter_id, source, status,
                                   urgent, response_target, resolution_target, reported_at, month, due_at, warn_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'reported', ?, ?, ?, ?, ?, ?, ?, \(Timestamp.nowSQL))
                """, arguments: [categoryID, description, location, gridID, gridPath, residentID, principal.userID, source, urgent,
                                 responseTarget, resolutionTarget, now, month, clock.dueAt, clock.warnAt])
            let id = db.lastInsertedRowID
            for photo in new.photos {
                try PhotoFiles.record(db, photo)
                try db.execute(sql: "INSERT OR IGNORE INTO case_photos (case_id, hash, stage) VALUES (?, ?, 'report')",
                               arguments: [id, photo.hash])
            }
            try db.execute(sql: """
                INSERT INTO timeline_events (entity_type, entity_id, from_state, to_state, action, user_id, note, at)
                VALUES ('case', ?, 'reported', 'reported', 'case.report', ?, ?, \(Timestamp.nowSQL))
                """, arguments: [id, actor.userID, String(description.prefix(500))])
            try AuditLog.record(db, actor: actor, action: "case.report", entityType: "case", entityId: id,
                                before: nil as CaseRow?, after: try CaseRow.find(db, id))
            let name: String = category["name"]
            try Self.notifyStaff(db, gridPath: gridPath, caseID: id, "新的诉求工单 #\(id)（\(name)）待受理，请在时限内受理。")
            return id
        }
    }

    // MARK: - Transitions

    /// The one path of every transition: load, decide (`StateChange.apply`), change the row, save.
    @discardableResult
    private func move(_ id: Int64, to next: CaseStatus, using: String? = nil, note: String?, principal: Principal?,
                      actor: AuditActor, change: (Database, inout CaseRow, Int64) throws -> Void,
                      then: (Database, CaseRow) throws -> Void = { _, _ in }) throws -> CaseRow {
        let now = self.now
        return try database.write { db in
            let before = try Self.load(db, id)
            var after = before
            try StateChange.apply(db, principal, actor: actor, id: id, from: before.state, gridPath: before.gridPath,
                                  unitPath: before.unitPath, to: next, using: using, note: note.flatMap { $0.isEmpty ? nil : String($0.prefix(500)) },
                                  snapshot: { try CaseRow.find($0, id) }) { db in
                after.status = next.rawValue
                try change(db, &after, now)
                try after.save(db)
            }
            try then(db, after)
            return after
        }
    }

    static func required(_ text: String, field: String, _ message: String) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw FieldErrors(field, message) }
        return String(trimmed.prefix(500))
    }

    /// 受理: stops the response clock, starts the resolution clock with the category's deadline.
    func accept(_ id: Int64, note: String, principal: Principal?, actor: AuditActor) throws {
        try move(id, to: .accepted, using: "case.accept", note: note, principal: principal, actor: actor) { _, row, now in
            row.clock.accept(at: now)
        }
    }

    /// 派单 to a unit, with a deadline (the category's by default).
    func assign(_ id: Int64, unitID: Int64?, deadline: Int64?, note: String, principal: Principal?, actor: AuditActor) throws {
        guard let unitID else { throw FieldErrors("unit_id", "请选择承办部门") }
        try move(id, to: .assigned, using: "case.assign", note: note, principal: principal, actor: actor) { db, row, now in
            guard let unit = try Units.find(db, unitID), unit.active else { throw FieldErrors("unit_id", "所选部门不存在或已停用") }
            if let deadline, deadline <= now { throw FieldErrors("deadline", "办理时限必须晚于现在") }
            row.unitID = unit.id
            row.unitPath = unit.path
            row.clock.setDeadline(deadline ?? row.clock.deadline ?? now + row.clock.resolutionTarget, at: now, keepAsOriginal: true)
        } then: { db, row in
            try Self.notifyUnit(db, unitID: row.unitID, caseID: id, "新派诉求工单 #\(id)，请签收办理。")
        }
    }

    /// The unit signs for the case (签收).
    func unitAccept(_ id: Int64, note: String, principal: Principal?, actor: AuditActor) throws {
        try move(id, to: .inProgress, using: "case.unit_accept", note: note, principal: principal, actor: actor) { _, _, _ in }
    }

    /// The unit returns it to dispatch, with a reason (退回).
    func giveBack(_ id: Int64, reason: String, principal: Principal?, actor: AuditActor) throws {
        let reason = try Self.required(reason, field: "reason", "请填写退回原因")
        var unitName = ""
        try move(id, to: .accepted, using: "case.return", note: reason, principal: principal, actor: actor) { db, row, _ in
            unitName = try row.unitID.flatMap { try Units.find(db, $0) }?.name ?? ""
            row.unitID = nil
            row.unitPath = nil
        } then: { db, row in
            try Self.notifyStaff(db, gridPath: row.gridPath, caseID: id, "诉求工单 #\(id) 被\(unitName)退回：\(reason)，请重新派单。")
        }
    }

    /// 吹哨: to a unit higher up the unit tree; the deadline may be reset (the original is kept).
    func escalate(_ id: Int64, unitID: Int64?, deadline: Int64?, reason: String, principal: Principal?, actor: AuditActor) throws {
        let reason = try Self.required(reason, field: "reason", "请填写吹哨上报的原因")
        guard let unitID else { throw FieldErrors("unit_id", "请选择上报的上级部门") }
        try move(id, to: .assigned, using: "case.escalate", note: reason, principal: principal, actor: actor) { db, row, now in
            guard let unit = try Units.find(db, unitID), unit.active else { throw FieldErrors("unit_id", "所选部门不存在或已停用") }
            let current = try row.unitID.flatMap { try Units.find(db, $0) }
            guard let current, unit.depth < current.depth else { throw FieldErrors("unit_id", "吹哨只能上报给更高一级的部门") }
            if let deadline, deadline <= now { throw FieldErrors("deadline", "办理时限必须晚于现在") }
            row.unitID = unit.id
            row.unitPath = unit.path
            row.escalationCount += 1
            if let deadline { row.clock.setDeadline(deadline, at: now, keepAsOriginal: true) }
        } then: { db, row in
            try Self.notifyUnit(db, unitID: row.unitID, caseID: id, "诉求工单 #\(id) 吹哨上报到本部门：\(reason)")
        }
    }

    /// 挂起/待补充: the resolution clock stops.
    func pause(_ id: Int64, reason: String, principal: Principal?, actor: AuditActor) throws {
        let reason = try Self.required(reason, field: "reason", "请填写挂起原因")
        try move(id, to: .paused, note: reason, principal: principal, actor: actor) { db, row, now in
            row.pausedFrom = try String.fetchOne(db, sql: "SELECT status FROM cases WHERE id = ?", arguments: [id])
            row.clock.pause(at: now)
        }
    }

    /// 恢复办理: back to where it was paused; the deadline moves on by the pause.
    func resume(_ id: Int64, note: String, principal: Principal?, actor: AuditActor) throws {
        let back = try database.read { db in try Self.load(db, id) }
        let to = back.pausedFrom.flatMap(CaseStatus.init(rawValue:)) ?? .inProgress
        try move(id, to: back.state == .paused ? to : .inProgress, using: "case.resume", note: note, principal: principal, actor: actor) { _, row, now in
            row.pausedFrom = nil
            row.clock.resume(at: now)
        }
    }

    /// 办结, with a note and photos.
    func resolve(_ id: Int64, note: String, photos: [StoredPhoto], principal: Principal?, actor: AuditActor) throws {
        let note = try Self.required(note, field: "note", "请填写办理结果")
        guard photos.count <= 3 else { throw FieldErrors("photo", "最多上传 3 张照片") }
        try move(id, to: .resolved, note: note, principal: principal, actor: actor) { db, row, now in
            row.resolveNote = note
            row.clock.resolve(at: now)
            for photo in photos {
                try PhotoFiles.record(db, photo)
                try db.execute(sql: "INSERT OR IGNORE INTO case_photos (case_id, hash, stage) VALUES (?, ?, 'resolve')",
                               arguments: [id, photo.hash])
            }
        } then: { db, row in
            try Self.notifyReporter(db, row, "您反映的问题（工单 #\(id)）已办结：\(note)")
        }
    }

    /// 回访: satisfied or basically satisfied → visited; unsatisfied → back to its unit (reopened).
    func visit(_ id: Int64, satisfaction: String, note: String, principal: Principal?, actor: AuditActor) throws {
        guard let satisfaction = Satisfaction(rawValue: satisfaction) else { throw FieldErrors("satisfaction", "请选择满意度") }
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        if satisfaction == .unsatisfied, note.isEmpty { throw FieldErrors("note", "不满意时请填写居民的意见，工单将退回承办部门重新办理") }
        let text = satisfaction.label + (note.isEmpty ? "" : "：" + note)
        if satisfaction == .unsatisfied {
            try move(id, to: .inProgress, using: "case.reopen", note: text, principal: principal, actor: actor) { _, row, now in
                row.satisfaction = satisfaction.rawValue
                row.visitNote = String(note.prefix(500))
                row.visitedAt = now
                row.reopenCount += 1
                row.clock.reopen(at: now)
            } then: { db, row in
                try Self.notifyUnit(db, unitID: row.unitID, caseID: id, "诉求工单 #\(id) 回访不满意，已退回重新办理：\(note)")
            }
        } else {
            try move(id, to: .visited, note: text, principal: principal, actor: actor) { _, row, now in
                row.satisfaction = satisfaction.rawValue
                row.visitNote = note.isEmpty ? nil : String(note.prefix(500))
                row.visitedAt = now
            }
        }
    }

    func close(_ id: Int64, note: String, principal: Principal?, actor: AuditActor) throws {
        try move(id, to: .closed, note: note, principal: principal, actor: actor) { _, row, now in
            row.closedAt = now
        }
    }

    /// Folds a duplicate into an earlier case: both timelines keep an event, the reporter is told.
    func merge(_ id: Int64, into targetID: Int64?, note: String, principal: Principal?, actor: AuditActor) throws {
        guard let targetID else { throw FieldErrors("target_id", "请填写要合并到的工单编号") }
        guard targetID != id else { throw FieldErrors("target_id", "不能合并到自身") }
        try move(id, to: .merged, note: "合并到工单 #\(targetID)" + (note.isEmpty ? "" : "：" + note), principal: principal, actor: actor) { db, row, _ in
            guard let target = try CaseRow.find(db, targetID),
                  Policy.decide(principal, .dispatchCases, targetGridPath: target.gridPath) == .allow else {
                throw FieldErrors("target_id", "没有找到工单 #\(targetID)")
            }
            guard target.id < id else { throw FieldErrors("target_id", "只能合并到更早登记的工单") }
            guard target.state != .merged else { throw FieldErrors("target_id", "工单 #\(targetID) 已被合并，请合并到它所并入的工单") }
            row.mergedIntoID = targetID
            row.clock.dueAt = nil
        } then: { db, row in
            let target = try Self.load(db, targetID)
            try db.execute(sql: """
                INSERT INTO timeline_events (entity_type, entity_id, from_state, to_state, action, user_id, note, at)
                VALUES ('case', ?, ?, ?, 'case.merged_in', ?, ?, \(Timestamp.nowSQL))
                """, arguments: [targetID, target.status, target.status, actor.userID, "合并了重复工单 #\(id)"])
            try Self.notifyReporter(db, row, "您反映的问题（工单 #\(id)）与工单 #\(targetID) 重复，已合并办理，可在该工单查看进展。")
        }
    }

    /// 督办: an overdue case gets an event and the unit (or the dispatchers) a notification.
    func supervise(_ id: Int64, note: String, principal: Principal?, actor: AuditActor) throws {
        let current = try database.read { db in try Self.load(db, id) }
        let now = self.now
        try move(id, to: current.state, using: "case.supervise", note: note.isEmpty ? "请加快办理" : note, principal: principal, actor: actor) { _, row, _ in
            guard row.clock.isOverdue(at: now) else { throw Conflict("只能督办已超时的工单。") }
            row.supervisionCount += 1
        } then: { db, row in
            let text = "督办：诉求工单 #\(id) 已超时，请加快办理。" + (note.isEmpty ? "" : note)
            if row.unitID != nil {
                try Self.notifyUnit(db, unitID: row.unitID, caseID: id, text)
            } else {
                try Self.notifyStaff(db, gridPath: row.gridPath, caseID: id, text)
            }
        }
    }
}
