import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// `/members…`: the list, the form that makes a resident a member, the record with its
/// timeline and actions (edit, transfer, account, 双报到, 三评) and the 报到服务证明.
enum MemberPages {
    static let perPage = 50

    // MARK: - List

    static func index(_ ctx: Context) throws -> HTTPResponse {
        let filter = MemberFilter(query: ctx.query)
        let scope = ctx.scope
        let query = MemberQuery(filter: filter, scope: scope, year: ctx.thisYear)
        var refusal: (HTTPStatus, String)?
        if query.number == .partial {
            refusal = (.badRequest, NumberQuery.refusal + "：身份证号只能按后 4 位查找，或输入完整的 18 位号码。")
        } else if query.number.isFullNumber && !ctx.may(.revealPersonalData) {
            refusal = (.forbidden, "您的角色不能按完整号码查找党员，请输入号码的后 4 位。")
        }
        var data: [String: Any] = try ctx.database.read { db in
            let total = refusal == nil ? try query.count(db) : 0
            let pagination = Pagination(page: filter.page, perPage: perPage, total: total)
            let ids = refusal == nil ? try query.ids(db, limit: perPage, offset: pagination.offset) : []
            let members = try MemberQuery.rows(db, ids: ids)
            let reports = try MemberQuery.reportStatuses(db, ids: ids, year: ctx.thisYear)
            var data = pagination.context(path: "/members", query: filter.queryItems)
            data["rows"] = members.map { row($0, report: reports[$0.id]) }
            data["hasRows"] = !members.isEmpty
            data["total"] = total
            data["branchOptions"] = try BranchPages.options(db, scope: scope, selected: filter.branchID)
            data["gridOptions"] = try gridOptions(db, scope: scope, selected: filter.gridID, kinds: ["community", "estate", "grid"])
            return data
        }
        if let refusal {
            data["notice"] = refusal.1
        } else if query.number.isFullNumber {
            try ctx.memberStore.recordNumberSearch(query.number, matches: data["total"] as? Int ?? 0, by: ctx.actor)
        }
        data["q"] = filter.q
        data["categoryOptions"] = FormState.options(MemberVocabulary.categories.map { ($0.code, $0.label) }, selected: filter.category)
        data["reportedOptions"] = FormState.options([("yes", "已报到"), ("pending", "待确认"), ("no", "未报到")], selected: filter.reported)
        data["membershipOptions"] = FormState.options([("active", "在册"), ("transferred_out", "已转出"), ("all", "全部")],
                                                      selected: filter.membership)
        data["isFiltered"] = filter.isFiltered
        data["canRevealExport"] = ctx.may(.revealPersonalData)
        data["exportFields"] = filter.queryItems.map { ["name": $0.name, "value": $0.value] }
        data["year"] = ctx.thisYear
        data["canManage"] = ctx.may(.manageMembers)
        let queryString = FormData.encode(filter.queryItems.map { ($0.name, $0.value) })
        data["exportURL"] = "/members/export.csv" + (queryString.isEmpty ? "" : "?" + queryString)
        data["ledgerURL"] = "/members/ledger" + (queryString.isEmpty ? "" : "?" + queryString)
        return try ctx.render("members/index", title: "党员", data, status: refusal?.0 ?? .ok)
    }

    static func row(_ member: MemberRow, report: String?) -> [String: Any] {
        [
            "id": member.id, "name": member.name, "maskedID": Mask.idNumber(member.idNumber),
            "status": MemberVocabulary.label(member.status, in: MemberVocabulary.statuses),
            "category": MemberVocabulary.label(member.category, in: MemberVocabulary.categories),
            "branch": member.branchName ?? "—", "grid": member.gridName, "employer": member.employer,
            "joinedOn": member.joinedOn ?? "—",
            "report": report.map { MemberVocabulary.label($0, in: MemberVocabulary.reportStatuses) } ?? "未报到",
            "reported": report == "confirmed", "transferred": !member.isActive,
        ]
    }

    static func gridOptions(_ db: Database, scope: Scope, selected: Int64?, kinds: [String]) throws -> [any TemplateRecord] {
        let c = scope.condition(on: "path")
        let marks = kinds.map { _ in "?" }.joined(separator: ",")
        let rows = try Row.fetchAll(db, sql: """
            SELECT id, name, kind, depth FROM grids WHERE \(c.sql) AND kind IN (\(marks)) ORDER BY path LIMIT 500
            """, arguments: StatementArguments(c.arguments + kinds))
        return FormState.options(rows.map { row in
            (String(row["id"] as Int64), String(repeating: "　", count: row["depth"] as Int? ?? 0) + (row["name"] as String))
        }, selected: selected.map(String.init))
    }

    // MARK: - New member

    /// The form: find the resident by name or the last 4 characters of the ID number, then
    /// the membership fields.
    static func newForm(_ ctx: Context, state: FormState? = nil, status: HTTPStatus = .ok) throws -> HTTPResponse {
        var state = state ?? FormState(values: ["status": "full", "category": "retired"])
        let q = String((ctx.query["q"] ?? state.value("q")).trimmingCharacters(in: .whitespaces).prefix(30))
        state.values["q"] = q
        let scope = ctx.scope
        let number = NumberQuery.classify(q)
        var notice: String?
        var data: [String: Any] = try ctx.database.read { db in
            var data = state.context()
            var candidates: [[String: Any]] = []
            if number == .partial || (number.isFullNumber && !ctx.may(.revealPersonalData)) {
                notice = NumberQuery.refusal
            } else if !q.isEmpty || state.values["resident_id"] != nil {
                candidates = try residentCandidates(db, q: q, number: number, scope: scope,
                                                    chosen: state.values["resident_id"].flatMap(canonicalID))
            }
            let chosen = state.value("resident_id")
            data["candidates"] = candidates.map { c in c.merging(["checked": (c["id"] as? String) == chosen]) { $1 } }
            data["hasCandidates"] = !candidates.isEmpty
            data["searched"] = !q.isEmpty
            data["branchOptions"] = try BranchPages.options(db, scope: scope, selected: state.values["branch_id"].flatMap(canonicalID))
            return data
        }
        data["notice"] = notice
        data["statusOptions"] = FormState.options(MemberVocabulary.statuses.map { ($0.code, $0.label) }, selected: state.value("status"))
        data["categoryOptions"] = FormState.options(MemberVocabulary.categories.map { ($0.code, $0.label) }, selected: state.value("category"))
        return try ctx.render("members/new", title: "登记党员", data, status: status)
    }

    /// Residents in scope whose name contains `q`, or whose ID number ends with it; members
    /// already registered are marked.
    static func residentCandidates(_ db: Database, q: String, number: NumberQuery, scope: Scope, chosen: Int64?) throws -> [[String: Any]] {
        let c = scope.condition(on: "g.path")
        var condition: String
        var arguments: [any DatabaseValueConvertible]
        switch number {
        case .visibleTail(let tail), .fullIDNumber(let tail):
            let key = TailKey.of(tail.uppercased())
            condition = "r.id_number_rev >= ? AND r.id_number_rev < ?"
            arguments = [key, key + "~"]
        case .fullPhone(let phone):
            condition = "r.phone = ?"
            arguments = [phone]
        default:
            if q.isEmpty, let chosen {
                condition = "r.id = ?"
                arguments = [chosen]
            } else {
                condition = "r.name >= ? AND r.name < ?"
                arguments = [q, q + "\u{10FFFF}"]
            }
        }
        let rows = try Row.fetchAll(db, sql: """
            SELECT r.id, r.name, r.id_number, r.birth_date, g.name AS building, m.id AS member_id
            FROM residents r JOIN grids g ON g.id = r.building_id LEFT JOIN party_members m ON m.resident_id = r.id
            WHERE r.status = 'active' AND \(condition) AND \(c.sql) ORDER BY r.name, r.id LIMIT 20
            """, arguments: StatementArguments(arguments + c.arguments))
        return rows.map { row in
            ["id": String(row["id"] as Int64), "name": row["name"] as String, "maskedID": Mask.idNumber(row["id_number"]),
             "building": row["building"] as String, "isMember": (row["member_id"] as Int64?) != nil]
        }
    }

    static func membershipInput(_ ctx: Context, state: inout FormState) -> MembershipInput? {
        let form = ctx.form
        for name in ["status", "category", "joined_on", "branch_id", "employer", "resident_id", "q", "note"] {
            state.values[name] = String((form[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(120))
        }
        let status = state.value("status"), category = state.value("category")
        if !MemberVocabulary.contains(status, in: MemberVocabulary.statuses) { state.addError("请选择党员状态", for: "status") }
        if !MemberVocabulary.contains(category, in: MemberVocabulary.categories) { state.addError("请选择党员类别", for: "category") }
        var joinedOn: String?
        let joinedText = state.value("joined_on")
        if !joinedText.isEmpty {
            if let date = ChinaDate.parse(joinedText), date <= ChinaDate.today(ctx.clock.now), date >= "1921-07-01" {
                joinedOn = date
            } else {
                state.addError("入党日期格式应为 年-月-日，且不晚于今天", for: "joined_on")
            }
        }
        var branchID: Int64?
        if !state.value("branch_id").isEmpty {
            branchID = canonicalID(state.value("branch_id"))
            if branchID == nil { state.addError("请从列表中选择党组织", for: "branch_id") }
        }
        let employer = state.value("employer")
        if employer.count > 100 { state.addError("工作单位最多 100 个字", for: "employer") }
        if category == "employed" && employer.isEmpty { state.addError("在职党员请填写工作单位", for: "employer") }
        guard !state.hasErrors else { return nil }
        return MembershipInput(status: status, category: category, joinedOn: joinedOn, branchID: branchID, employer: employer)
    }

    static func create(_ ctx: Context) throws -> HTTPResponse {
        var state = FormState()
        let input = membershipInput(ctx, state: &state)
        let residentID = canonicalID(state.value("resident_id"))
        if residentID == nil { state.addError("请先查找并选择一位居民", for: "resident_id") }
        guard let input, let residentID else { return try newForm(ctx, state: state, status: .unprocessableContent) }
        do {
            let id = try ctx.memberStore.create(residentID: residentID, input, principal: ctx.principal, by: ctx.actor)
            return ctx.redirect("/members/\(id)", flash: .success("已登记为党员。"))
        } catch let errors as FieldErrors {
            for (field, message) in errors.errors { state.addError(message, for: field) }
            return try newForm(ctx, state: state, status: .unprocessableContent)
        } catch let conflict as Conflict {
            state.addError(conflict.message, for: "resident_id")
            return try newForm(ctx, state: state, status: .conflict)
        }
    }

    // MARK: - Record

    /// The member's record: who may see it is decided on the record (scope, or one's own).
    static func visibleMember(_ ctx: Context) throws -> MemberRow {
        let id = try ctx.request.id()
        return try ctx.database.read { db in
            do {
                if ctx.may(.viewMembers) { return try MemberStore.member(db, id, ctx.principal, .viewMembers) }
                return try MemberStore.memberForSelfService(db, id, ctx.principal, user: ctx.user)
            } catch is Forbidden {
                // Someone else's record is not disclosed to a member.
                throw NotFound()
            }
        }
    }

    /// A member's own record, from the dashboard or /me.
    static func mine(_ ctx: Context) throws -> HTTPResponse {
        let user = try ctx.requireUser()
        guard let residentID = user.residentID,
              let id = try ctx.database.read({ db in
                  try Int64.fetchOne(db, sql: "SELECT id FROM party_members WHERE resident_id = ?", arguments: [residentID])
              }) else {
            throw HTTPError(.notFound, "您的账号还没有关联党员记录，请联系社区工作人员。")
        }
        return ctx.redirect("/members/\(id)")
    }

    static func show(_ ctx: Context, editState: FormState? = nil, account: (String, String)? = nil,
                     status: HTTPStatus = .ok) throws -> HTTPResponse {
        let member = try visibleMember(ctx)
        let year = ctx.thisYear
        let scope = ctx.scope
        var data: [String: Any] = try ctx.database.read { db in
            var data: [String: Any] = [:]
            let today = ChinaDate.today(ctx.clock.now)
            data["member"] = [
                "id": member.id, "residentID": member.residentID, "name": member.name,
                "maskedID": Mask.idNumber(member.idNumber), "maskedPhone": Mask.phone(member.phone),
                "age": ChinaDate.age(birthDate: member.birthDate, today: today) ?? 0,
                "status": MemberVocabulary.label(member.status, in: MemberVocabulary.statuses),
                "category": MemberVocabulary.label(member.category, in: MemberVocabulary.categories),
                "joinedOn": member.joinedOn ?? "未登记", "branch": member.branchName ?? "未指定",
                "branchID": member.branchID as Any, "employer": member.employer.isEmpty ? "—" : member.employer,
                "grid": member.gridName, "membership": MemberVocabulary.label(member.membership, in: MemberVocabulary.memberships),
                "isActive": member.isActive, "central": member.centralHousehold,
                "roles": member.roles.map { MemberVocabulary.label($0, in: MemberVocabulary.roles) }.joined(separator: "、"),
                "hasRoles": !member.roles.isEmpty,
                "hasAccount": member.accountID != nil, "isEmployed": member.category == "employed",
            ]
            let report = try Row.fetchOne(db, sql: "SELECT * FROM member_reports WHERE member_id = ? AND year = ?",
                                          arguments: [member.id, year])
            if let report {
                let status: String = report["status"]
                data["report"] = [
                    "status": MemberVocabulary.label(status, in: MemberVocabulary.reportStatuses), "submitted": status == "submitted",
                    "confirmed": status == "confirmed", "returned": status == "returned", "employer": report["employer"] as String,
                    "employerBranch": report["employer_branch"] as String, "skills": report["skills"] as String,
                    "availableTimes": report["available_times"] as String, "reason": report["reason"] as String,
                    "submittedAt": ChinaDate.localTime(report["submitted_at"]),
                ]
            }
            data["hasReport"] = report != nil
            let evaluations = try Row.fetchAll(db, sql: "SELECT * FROM member_evaluations WHERE member_id = ? ORDER BY year DESC",
                                               arguments: [member.id])
            data["evaluations"] = evaluations.map { row -> [String: Any] in
                let grade = { (column: String) in MemberVocabulary.label(row[column] as String?, in: MemberVocabulary.grades) }
                return ["year": row["year"] as Int, "self": grade("self_grade"), "community": grade("community_grade"),
                        "org": grade("org_grade"), "selfNote": row["self_note"] as String]
            }
            data["hasEvaluations"] = !evaluations.isEmpty
            let events = try Row.fetchAll(db, sql: "SELECT * FROM member_events WHERE member_id = ? ORDER BY id DESC LIMIT 100",
                                          arguments: [member.id])
            data["events"] = events.map { row -> [String: Any] in
                let kind: String = row["kind"]
                return ["at": ChinaDate.localTime(row["at"]), "actor": row["actor_name"] as String,
                        "what": MemberVocabulary.eventLabels[kind] ?? kind, "note": row["note"] as String]
            }
            let households = try householdChoices(db, member: member)
            data["households"] = households.linked
            data["hasHouseholds"] = !households.linked.isEmpty
            if ctx.may(.manageMembers) {
                data["householdOptions"] = households.choices
                data["roleOptions"] = FormState.options(MemberVocabulary.roles.map { ($0.code, $0.label) }, selected: Set(member.roles))
                data["branchOptions"] = try BranchPages.options(db, scope: scope, selected: member.branchID)
                data["gridOptions"] = try gridOptions(db, scope: scope, selected: member.gridID, kinds: ["grid", "building"])
                data["postOptions"] = try postOptions(db, scope: scope)
            }
            return data
        }
        let canManage = ctx.may(.manageMembers)
        let isSelf = ctx.may(.ownMembership)
        data["canManage"] = canManage && member.isActive
        data["canTransferIn"] = canManage && !member.isActive
        data["canCreateAccount"] = canManage && member.isActive && member.accountID == nil
        data["canReport"] = member.isActive && (isSelf || canManage)
        data["isSelf"] = isSelf
        data["year"] = year
        data["evaluationParts"] = MemberStore.EvaluationPart.allCases.filter { ctx.may($0.permission) }.map {
            ["part": $0.rawValue, "label": $0.label]
        }
        data["gradeOptions"] = FormState.options(MemberVocabulary.grades.map { ($0.code, $0.label) }, selected: nil as String?)
        var edit = editState ?? FormState(values: [
            "status": member.status, "category": member.category, "joined_on": member.joinedOn ?? "", "employer": member.employer,
        ])
        if edit.values["status"] == nil { edit.values["status"] = member.status }
        data["edit"] = edit.context()
        data["statusOptions"] = FormState.options(MemberVocabulary.statuses.map { ($0.code, $0.label) }, selected: edit.value("status"))
        data["categoryOptions"] = FormState.options(MemberVocabulary.categories.map { ($0.code, $0.label) }, selected: edit.value("category"))
        if let account { data["newAccount"] = ["username": account.0, "password": account.1] }
        return try ctx.render("members/show", title: member.name, data, status: status)
    }

    static func update(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        var state = FormState()
        guard let input = membershipInput(ctx, state: &state) else {
            return try show(ctx, editState: state, status: .unprocessableContent)
        }
        return try ctx.memberAction(back: "/members/\(id)", success: "已保存。", onFields: { errors in
            for (field, message) in errors.errors { state.addError(message, for: field) }
            return try show(ctx, editState: state, status: .unprocessableContent)
        }) {
            try ctx.memberStore.update(id, input, note: state.value("note"), principal: ctx.principal, by: ctx.actor)
        }
    }

    static func transfer(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let out = ctx.form["direction"] != "in"
        let reason = ctx.text("reason")
        if out && reason.isEmpty { throw HTTPError(.unprocessableContent, "转出时请填写转往的党组织或原因") }
        return try ctx.memberAction(back: "/members/\(id)", success: out ? "已办理组织关系转出，记录保留。" : "已办理组织关系转入。") {
            try ctx.memberStore.transfer(id, out: out, reason: reason, principal: ctx.principal, by: ctx.actor)
        }
    }

    static func createAccount(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let username = ctx.text("username", max: 64)
        let account = try ctx.memberStore.createAccount(id, username: username, principal: ctx.principal, by: ctx.actor)
        // The password is shown once, on this page, and never stored in plain text.
        return try show(ctx, account: account)
    }

    /// Active posts in scope with places left, for placing a member when confirming a 双报到.
    static func postOptions(_ db: Database, scope: Scope) throws -> [any TemplateRecord] {
        let c = scope.condition(on: "g.path")
        let rows = try Row.fetchAll(db, sql: """
            SELECT p.id, p.title, g.name AS grid, p.capacity - (SELECT count(*) FROM post_holders h WHERE h.post_id = p.id AND h.ended_on IS NULL) AS free
            FROM posts p JOIN grids g ON g.id = p.grid_id WHERE p.active = 1 AND \(c.sql) ORDER BY g.path, p.title LIMIT 300
            """, arguments: StatementArguments(c.arguments))
        return FormState.options(rows.filter { ($0["free"] as Int? ?? 0) > 0 }.map {
            (String($0["id"] as Int64), "\($0["grid"] as String) · \($0["title"] as String)（余 \($0["free"] as Int) 个名额）")
        }, selected: nil as String?)
    }

    // MARK: - Roles and 联户

    static func setRoles(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let roles = ctx.form.values(for: "roles")
        return try ctx.memberAction(back: "/members/\(id)#roles", success: "已保存。") {
            try ctx.memberStore.setRoles(id, roles: roles, central: ctx.form["central_household"] == "1", principal: ctx.principal,
                                         by: ctx.actor)
        }
    }

    static func linkHousehold(_ ctx: Context, link: Bool) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let house = link ? ctx.form["house_id"].flatMap(canonicalID) : ctx.request.parameter("houseId").flatMap(canonicalID)
        guard let house else { throw HTTPError(.unprocessableContent, "请选择要联系的住户") }
        return try ctx.memberAction(back: "/members/\(id)#roles", success: link ? "已添加联系户。" : "已移除联系户。") {
            try ctx.memberStore.linkHousehold(id, houseID: house, link: link, principal: ctx.principal, by: ctx.actor)
        }
    }

    /// Houses of the member's grid node that a 党员中心户 may link: key-group households first.
    static func householdChoices(_ db: Database, member: MemberRow) throws -> (linked: [[String: Any]], choices: [any TemplateRecord]) {
        let range = GridPath.subtreeRange(of: member.gridPath)
        let address = """
            g.name || ' ' || h.unit || '单元 ' || h.room || '室' AS address,
            (SELECT group_concat(DISTINCT t.name) FROM residences x JOIN resident_tags rt ON rt.resident_id = x.resident_id
             JOIN tags t ON t.id = rt.tag_id AND t.key_group = 1 WHERE x.house_id = h.id AND x.ended_on IS NULL) AS key_groups
            """
        let linked = try Row.fetchAll(db, sql: """
            SELECT h.id, \(address) FROM member_households mh JOIN houses h ON h.id = mh.house_id JOIN grids g ON g.id = h.building_id
            WHERE mh.member_id = ? ORDER BY g.path, h.unit, h.room
            """, arguments: [member.id])
        let choices = try Row.fetchAll(db, sql: """
            SELECT h.id, \(address) FROM houses h JOIN grids g ON g.id = h.building_id
            WHERE g.path >= ? AND g.path < ? AND h.id NOT IN (SELECT house_id FROM member_households WHERE member_id = ?)
            ORDER BY key_groups IS NULL, g.path, h.unit, h.room LIMIT 200
            """, arguments: [range.lower, range.upper, member.id])
        func label(_ row: Row) -> String {
            (row["address"] as String) + ((row["key_groups"] as String?).map { "（\($0)）" } ?? "")
        }
        return (linked.map { ["id": $0["id"] as Int64, "address": label($0)] },
                FormState.options(choices.map { (String($0["id"] as Int64), label($0)) }, selected: nil as String?))
    }

    // MARK: - 双报到

    static func reportForm(_ ctx: Context, state: FormState? = nil, status: HTTPStatus = .ok) throws -> HTTPResponse {
        let member = try visibleMember(ctx)
        var state = state ?? FormState(values: ["employer": member.employer])
        if state.values["employer"] == nil { state.values["employer"] = member.employer }
        var data = state.context()
        data["member"] = ["id": member.id, "name": member.name]
        data["year"] = ctx.thisYear
        return try ctx.render("members/report", title: "在职党员双报到", data, status: status)
    }

    static func submitReport(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        var state = FormState()
        for (name, max) in [("employer", 100), ("employer_branch", 100), ("skills", 200), ("available_times", 200)] {
            let value = (ctx.form[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            state.values[name] = String(value.prefix(max + 20))
            if value.count > max { state.addError("最多 \(max) 个字", for: name) }
        }
        if state.value("employer").isEmpty { state.addError("请填写工作单位", for: "employer") }
        guard !state.hasErrors else { return try reportForm(ctx, state: state, status: .unprocessableContent) }
        let input = MemberStore.ReportInput(employer: state.value("employer"), employerBranch: state.value("employer_branch"),
                                            skills: state.value("skills"), availableTimes: state.value("available_times"))
        let back = ctx.may(.ownMembership) ? "/me" : "/members/\(id)"
        return try ctx.memberAction(back: back, success: "报到已提交，等待社区确认。") {
            try ctx.memberStore.submitReport(id, input, principal: ctx.principal, user: ctx.user, by: ctx.actor)
        }
    }

    static func decideReport(_ ctx: Context, confirm: Bool) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let gridID = ctx.form["grid_id"].flatMap(canonicalID)
        let postID = ctx.form["post_id"].flatMap(canonicalID)
        let reason = ctx.text("reason")
        return try ctx.memberAction(back: "/members/\(id)", success: confirm ? "已确认报到。" : "已退回报到。") {
            try ctx.memberStore.decideReport(id, confirm: confirm, gridID: gridID, postID: postID, reason: reason,
                                             principal: ctx.principal, by: ctx.actor)
        }
    }

    // MARK: - 三评

    static func evaluate(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        guard let part = MemberStore.EvaluationPart(rawValue: ctx.form["part"] ?? "") else {
            throw HTTPError(.badRequest, "请选择评议类别")
        }
        let grade = ctx.form["grade"] ?? ""
        guard MemberVocabulary.contains(grade, in: MemberVocabulary.grades) else {
            throw HTTPError(.unprocessableContent, "请选择评议等次")
        }
        let year = Int(ctx.form["year"] ?? "") ?? ctx.thisYear
        return try ctx.memberAction(back: "/members/\(id)#evaluations", success: "已记录\(year) 年\(part.label)。") {
            try ctx.memberStore.evaluate(id, year: year, part: part, grade: grade, note: ctx.text("note", max: 500),
                                         principal: ctx.principal, user: ctx.user, by: ctx.actor)
        }
    }

    // MARK: - 报到服务证明

    /// The year's service record for an in-service member's employer: report, activities,
    /// hours and posts held. Printable on A4.
    static func serviceCertificate(_ ctx: Context) throws -> HTTPResponse {
        let member = try visibleMember(ctx)
        let year = ctx.query["year"].flatMap { Int($0) }.map { min(max($0, 2000), 2100) } ?? ctx.thisYear
        let data: [String: Any] = try ctx.database.read { db in
            let report = try Row.fetchOne(db, sql: "SELECT * FROM member_reports WHERE member_id = ? AND year = ?",
                                          arguments: [member.id, year])
            let activities = try Row.fetchAll(db, sql: """
                SELECT h.served_on, h.content, h.hours FROM volunteer_hours h
                WHERE h.resident_id = ? AND h.served_on >= ? AND h.served_on <= ? ORDER BY h.served_on, h.id
                """, arguments: [member.residentID, "\(year)-01-01", "\(year)-12-31"])
            let hours = activities.reduce(0.0) { $0 + ($1["hours"] as Double) }
            let posts = try Row.fetchAll(db, sql: """
                SELECT p.title, c.name AS category, h.started_on, h.ended_on FROM post_holders h
                JOIN posts p ON p.id = h.post_id JOIN service_categories c ON c.id = p.category_id
                WHERE h.member_id = ? AND h.started_on <= ? AND (h.ended_on IS NULL OR h.ended_on >= ?) ORDER BY h.started_on
                """, arguments: [member.id, "\(year)-12-31", "\(year)-01-01"])
            let community = try String.fetchOne(db, sql: """
                SELECT c.name FROM grids g JOIN grids c ON g.path >= c.path AND g.path < c.path || '~' AND c.kind = 'community'
                WHERE g.id = ?
                """, arguments: [member.gridID]) ?? "社区"
            return [
                "name": member.name, "maskedID": Mask.idNumber(member.idNumber), "year": year, "community": community,
                "employer": (report?["employer"] as String?) ?? member.employer,
                "reportStatus": (report?["status"] as String?).map { MemberVocabulary.label($0, in: MemberVocabulary.reportStatuses) } ?? "未报到",
                "reportedAt": (report?["submitted_at"] as String?).map(ChinaDate.localTime) ?? "—",
                "activities": activities.map { ["date": $0["served_on"] as String, "content": $0["content"] as String,
                                                "hours": Self.hoursText($0["hours"] as Double)] },
                "hasActivities": !activities.isEmpty, "activityCount": activities.count, "hours": Self.hoursText(hours),
                "posts": posts.map { ["title": $0["title"] as String, "category": $0["category"] as String,
                                      "period": ($0["started_on"] as String) + " 至 " + (($0["ended_on"] as String?) ?? "今")] },
                "hasPosts": !posts.isEmpty, "issuedOn": ChinaDate.today(ctx.clock.now), "memberID": member.id,
            ]
        }
        return try ctx.render("members/service_certificate", title: "在职党员报到服务证明", data)
    }

    static func hoursText(_ hours: Double) -> String {
        hours == hours.rounded() ? String(Int(hours)) : String(format: "%.1f", hours)
    }
}
