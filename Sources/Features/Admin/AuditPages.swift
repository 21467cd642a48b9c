import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// `/admin/audit`: the audit log, newest first, read only.
enum AuditPages {
    static let perPage = 50

    static let entityTypes: [(type: String, label: String)] = [
        ("user", "账号"),
        ("grid", "网格节点"),
    ]

    /// Chinese names of snapshot fields, for the "changed fields" summary.
    static let fieldLabels: [String: String] = [
        "username": "用户名", "displayName": "姓名", "role": "角色", "scopeGridID": "管辖范围", "active": "状态",
        "name": "名称", "kind": "层级", "code": "编码", "parent_id": "上级节点", "path": "路径", "depth": "层级深度",
    ]

    /// Fields that change with every write and say nothing by themselves.
    static let ignoredFields: Set<String> = ["updated_at", "updatedAt", "created_at", "createdAt"]

    // MARK: - Page

    static func index(_ ctx: Context) throws -> HTTPResponse {
        let query = ctx.query
        func text(_ name: String, max: Int = 100) -> String {
            String((query[name] ?? "").trimmingCharacters(in: .whitespaces).prefix(max))
        }
        let action = text("action")
        let entityType = text("entity_type")
        let entityIDText = text("entity_id", max: 20)
        let actor = text("actor")
        let fromText = text("from", max: 10)
        let untilText = text("until", max: 10)
        let before = Int64(text("before", max: 20)).flatMap { $0 > 0 ? $0 : nil }

        var filter = AuditFilter()
        var problems: [String] = []
        if !action.isEmpty { filter.action = action }
        if !entityType.isEmpty { filter.entityType = entityType }
        if !entityIDText.isEmpty {
            if let id = Int64(entityIDText) { filter.entityID = id } else { problems.append("对象编号应为数字，已忽略。") }
        }
        if !fromText.isEmpty {
            if let day = AuditDate.day(fromText) { filter.from = Timestamp.string(from: day) } else {
                problems.append("开始日期格式应为 YYYY-MM-DD，已忽略。")
            }
        }
        if !untilText.isEmpty {
            // The end date is inclusive: entries before the start of the next day.
            if let day = AuditDate.day(untilText) { filter.until = Timestamp.string(from: day.addingTimeInterval(86_400)) } else {
                problems.append("截止日期格式应为 YYYY-MM-DD，已忽略。")
            }
        }

        let page: AuditPage = try ctx.database.read { db in
            if !actor.isEmpty {
                // A username first (usernames may be all digits), then an account id.
                if let id = try Int64.fetchOne(db, sql: "SELECT id FROM users WHERE username = ?", arguments: [actor]) {
                    filter.actorUserID = id
                } else if let id = Int64(actor) {
                    filter.actorUserID = id
                } else {
                    problems.append("找不到用户名为“\(actor)”的账号。")
                    filter.actorUserID = -1
                }
            }
            return try AuditLog.entries(db, filter: filter, before: before, limit: perPage)
        }

        var keep: [(String, String)] = []
        for (name, value) in [("action", action), ("entity_type", entityType), ("entity_id", entityIDText),
                              ("actor", actor), ("from", fromText), ("until", untilText)] where !value.isEmpty {
            keep.append((name, value))
        }
        let base = "/admin/audit"
        var data: [String: Any] = [
            "action": action, "entityType": entityType, "entityID": entityIDText, "actor": actor,
            "from": fromText, "until": untilText,
            "hasEntityID": !entityIDText.isEmpty,
            "actionOptions": options(ctx.env.modules.auditLabels.map { ($0.action, "\($0.action) \($0.label)") }, selected: action),
            "entityTypeOptions": options(entityTypes.map { ($0.type, "\($0.type) \($0.label)") }, selected: entityType),
            "entries": page.entries.map { row($0, labels: ctx.env.modules) },
            "hasEntries": !page.entries.isEmpty,
            "filtered": !keep.isEmpty,
            "problems": problems,
            "hasProblems": !problems.isEmpty,
            "isOlderPage": before != nil,
            "newestURL": keep.isEmpty ? base : base + "?" + FormData.encode(keep),
            "clearURL": base,
        ]
        if let next = page.nextBefore {
            data["hasOlder"] = true
            data["olderURL"] = base + "?" + FormData.encode(keep + [("before", String(next))])
        } else {
            data["hasOlder"] = false
        }
        return try ctx.render("admin/audit_index", title: "审计日志", data)
    }

    /// Select options; a value that is not in the list (an action of a newer module, typed
    /// into the address bar) is added so the form shows what is being filtered.
    static func options(_ list: [(value: String, label: String)], selected: String) -> [any TemplateRecord] {
        var list = list
        if !selected.isEmpty && !list.contains(where: { $0.value == selected }) { list.append((selected, selected)) }
        return FormState.options(list, selected: selected)
    }

    // MARK: - Rows

    /// One entry for a template (also used by the account page's recent changes).
    static func row(_ entry: AuditEntry, labels: ModuleRegistry) -> [String: Any] {
        var row: [String: Any] = [
            "id": entry.id,
            "at": AdminFormat.time(entry.at),
            "actorName": entry.actorName,
            "action": entry.action,
            "ip": entry.clientIP.flatMap { $0.isEmpty ? nil : $0 } ?? "—",
        ]
        if let actorID = entry.actorUserID {
            row["actorURL"] = "/admin/users/\(actorID)"
            row["hasActorURL"] = true
        } else {
            row["hasActorURL"] = false
        }
        if let label = labels.auditLabelByAction[entry.action] {
            row["actionLabel"] = label
            row["hasActionLabel"] = true
        } else {
            row["hasActionLabel"] = false
        }
        if let type = entry.entityType {
            row["entity"] = entry.entityID.map { "\(type) #\($0)" } ?? type
            row["hasEntity"] = true
            switch (type, entry.entityID) {
            case ("user", let id?):
                row["entityURL"] = "/admin/users/\(id)"
                row["hasEntityURL"] = true
            case ("grid", let id?):
                row["entityURL"] = "/grids/\(id)"
                row["hasEntityURL"] = true
            default:
                row["hasEntityURL"] = false
            }
        } else {
            row["hasEntity"] = false
            row["hasEntityURL"] = false
        }
        row["hasBefore"] = entry.beforeJSON != nil
        row["hasAfter"] = entry.afterJSON != nil
        row["hasJSON"] = entry.beforeJSON != nil || entry.afterJSON != nil
        row["before"] = entry.beforeJSON.map(JSONText.pretty) ?? ""
        row["after"] = entry.afterJSON.map(JSONText.pretty) ?? ""
        let changed = changedFields(before: entry.beforeJSON, after: entry.afterJSON)
        row["changed"] = changed.joined(separator: "、")
        row["hasChanged"] = !changed.isEmpty
        if let reason = AuditLog.reason(inJSON: entry.afterJSON) { row["reason"] = reason }
        return row
    }

    /// The top-level fields whose values differ, when both sides are JSON objects.
    static func changedFields(before: String?, after: String?) -> [String] {
        guard let before = before.flatMap(JSONText.object), let after = after.flatMap(JSONText.object) else { return [] }
        let keys = Set(before.keys).union(after.keys).subtracting(ignoredFields).sorted()
        return keys.compactMap { key in
            JSONText.fragment(before[key]) == JSONText.fragment(after[key]) ? nil : (fieldLabels[key] ?? key)
        }
    }
}

/// Dates typed into the audit filter (`<input type="date">`: `YYYY-MM-DD`), read as Beijing days.
enum AuditDate {
    static func day(_ text: String) -> Date? { ChinaDate.startOfDay(text) }
}

/// Display helpers for the stored before/after JSON.
enum JSONText {
    /// Re-indents JSON text without parsing its values, so what is shown is exactly what is
    /// stored (numbers, booleans and strings untouched). Text that is not JSON comes back
    /// unchanged in substance (only whitespace outside strings is rearranged).
    static func pretty(_ json: String) -> String {
        var out = ""
        out.reserveCapacity(json.count + json.count / 4)
        var depth = 0
        var inString = false
        var escaped = false
        func newline() {
            out.append("\n")
            out.append(String(repeating: "  ", count: max(depth, 0)))
        }
        var previous: Character = " "
        for ch in json {
            if inString {
                out.append(ch)
                if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == "\"" { inString = false }
                previous = ch
                continue
            }
            switch ch {
            case "\"":
                inString = true
                out.append(ch)
            case "{", "[":
                out.append(ch)
                depth += 1
                newline()
            case "}", "]":
                depth -= 1
                if previous == "{" || previous == "[" {
                    // Empty container: undo the line break.
                    while let last = out.last, last == " " || last == "\n" { out.removeLast() }
                } else {
                    newline()
                }
                out.append(ch)
            case ",":
                out.append(ch)
                newline()
            case ":":
                out.append(": ")
            case " ", "\n", "\r", "\t":
                continue
            default:
                out.append(ch)
            }
            previous = ch
        }
        return out
    }

    static func object(_ json: String) -> [String: Any]? {
        guard let data = json.data(using: .utf8) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    /// A value re-serialized for comparison; both sides go through the same encoder.
    static func fragment(_ value: Any?) -> String {
        guard let value else { return "∅" }
        // Wrapped in an array so that scalars serialize too; checked first because an invalid
        // object would trap inside Foundation rather than throw.
        let wrapped: [Any] = [value]
        guard JSONSerialization.isValidJSONObject(wrapped),
              let data = try? JSONSerialization.data(withJSONObject: wrapped, options: [.sortedKeys]) else {
            return String(describing: value)
        }
        return String(decoding: data, as: UTF8.self)
    }
}
