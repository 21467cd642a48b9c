import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

extension Context {
    var points: PointsStore { PointsStore(database: database) }
    var pointsActor: PointsActor { PointsActor(principal: principal, audit: actor) }

    /// The year from `?year=` (2000…2100), this year in China otherwise.
    var pointsYear: Int {
        if let text = query["year"], let year = Int(text), (2000...2100).contains(year) { return year }
        return Int(ChinaDate.today(clock.now).prefix(4)) ?? 2000
    }
}

enum PointsVocabulary {
    static let sources = ["activity": "自动：参加活动", "wish": "自动：完成微心愿", "report": "自动：双报到确认",
                          "post": "自动：认领岗位满一季度", "staff": "工作人员记录", "member": "本人申报", "reversal": "冲正"]
    static let statuses = ["pending": "待审核", "approved": "已生效", "rejected": "已退回"]
    static let redemptionStatuses = ["pending": "待核销", "fulfilled": "已核销", "cancelled": "已取消"]
    static let creditKinds = ["activity": "志愿服务", "wish": "微心愿", "redeem": "兑换", "refund": "取消兑换退回"]

    /// The grade for a total from the bands in settings.
    static func grade(_ total: Int, _ db: Database) throws -> String {
        if total >= (try PointsLedger.setting(db, "grade_excellent")) { return "优秀" }
        if total >= (try PointsLedger.setting(db, "grade_qualified")) { return "合格" }
        if total >= (try PointsLedger.setting(db, "grade_basic")) { return "基本合格" }
        return "不合格"
    }

    static func signed(_ points: Int) -> String { points > 0 ? "+\(points)" : String(points) }
}

/// The party member's points card 党员积分卡, manual entries and their approval, corrections.
enum CardPages {
    static func show(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let year = ctx.pointsYear
        let actor = ctx.pointsActor
        guard let member = try ctx.database.read({ db in try PointsStore.member(db, id) }) else { throw NotFound() }
        try ctx.database.read { db in try PointsStore.checkCard(db, actor, member, .memberRecord) }
        try ctx.points.syncMember(id)
        let canApprove = ctx.may(.approvePoints), canReverse = ctx.may(.reversePoints), canRecord = ctx.may(.recordPoints)
        var data: [String: Any] = try ctx.database.read { db in
            let head = try Row.fetchOne(db, sql: """
                SELECT r.name, g.name AS grid, b.name AS branch FROM party_members pm JOIN residents r ON r.id = pm.resident_id
                JOIN grids g ON g.id = pm.grid_id LEFT JOIN branches b ON b.id = pm.branch_id WHERE pm.id = ?
                """, arguments: [id])!
            let scores = try PointsLedger.scores(db, memberID: id, year: year)
            let dims = try Row.fetchAll(db, sql: "SELECT code, name, max_points FROM point_dimensions ORDER BY sort_order")
            let total = min(100, scores.values.reduce(0, +))
            let entries = try Row.fetchAll(db, sql: """
                SELECT e.id, e.points, e.source, e.status, e.occurred_on, e.note, e.reason, e.reverses_id, r.item, d.name AS dimension,
                       EXISTS (SELECT 1 FROM point_entries x WHERE x.reverses_id = e.id) AS reversed
                FROM point_entries e JOIN point_rules r ON r.id = e.rule_id JOIN point_dimensions d ON d.code = e.dimension
                WHERE e.member_id = ? AND e.year = ? ORDER BY e.occurred_on DESC, e.id DESC
                """, arguments: [id, year])
            let rules = try Row.fetchAll(db, sql: """
                SELECT r.id, r.item, r.points, r.unit, r.deduction, d.name AS dimension FROM point_rules r
                JOIN point_dimensions d ON d.code = r.dimension WHERE r.active = 1 AND r.auto IS NULL ORDER BY r.sort_order, r.id
                """)
            let isMember = actor.role == .member
            return [
                "memberID": String(id), "name": head["name"] as String, "grid": head["grid"] as String,
                "branch": (head["branch"] as String?) ?? "—", "year": String(year),
                "prevYear": String(year - 1), "nextYear": String(year + 1),
                "dimensions": dims.map { d -> [String: Any] in
                    ["name": d["name"] as String, "score": scores[d["code"] as String] ?? 0, "max": d["max_points"] as Int]
                },
                "total": total, "grade": try PointsVocabulary.grade(total, db),
                "entries": entries.map { e -> [String: Any] in
                    let status: String = e["status"], source: String = e["source"]
                    let reversed: Bool = e["reversed"]
                    return ["id": String(e["id"] as Int64), "points": PointsVocabulary.signed(e["points"]), "item": e["item"] as String,
                            "dimension": e["dimension"] as String, "source": PointsVocabulary.sources[source] ?? source,
                            "status": PointsVocabulary.statuses[status] ?? status, "isPending": status == "pending",
                            "date": e["occurred_on"] as String, "note": e["note"] as String,
                            "reason": (e["reason"] as String).isEmpty ? false : e["reason"] as String,
                            "isReversed": reversed,
                            "canDecide": canApprove && status == "pending",
                            "canReverse": canReverse && status == "approved" && source != "reversal" && !reversed && (e["points"] as Int) != 0]
                },
                "hasEntries": !entries.isEmpty,
                "rules": rules.filter { !isMember || ($0["deduction"] as Int) == 0 }.map { r -> [String: Any] in
                    ["id": String(r["id"] as Int64),
                     "label": "\(r["dimension"] as String)·\(r["item"] as String)（\((r["deduction"] as Int) == 1 ? "-" : "+")\(r["points"] as Int) 分/\(r["unit"] as String)）"]
                },
                "canRecord": canRecord, "isMember": isMember, "today": ChinaDate.today(ctx.clock.now),
            ]
        }
        data["backURL"] = actor.role == .member ? "/points/credits" : "/members/\(id)"
        return try ctx.render("points/card", title: "党员积分卡", data)
    }

    static func record(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let entry = PointsStore.NewEntry(ruleID: Int64(ctx.text("rule_id", max: 20)), quantity: Int(ctx.text("quantity", max: 4)) ?? 1,
                                         occurredOn: ctx.text("occurred_on", max: 20), note: ctx.text("note", max: 500))
        let entryID = try ctx.points.recordEntry(memberID: id, entry, by: ctx.pointsActor)
        let year = try ctx.database.read { db in try Int.fetchOne(db, sql: "SELECT year FROM point_entries WHERE id = ?", arguments: [entryID]) } ?? ctx.pointsYear
        return ctx.redirect("/members/\(id)/card?year=\(year)", flash: .success("已提交，等待党建指导员审核。"))
    }

    static func approve(_ ctx: Context) throws -> HTTPResponse {
        try decide(ctx, approve: true)
    }

    static func reject(_ ctx: Context) throws -> HTTPResponse {
        try decide(ctx, approve: false)
    }

    static func decide(_ ctx: Context, approve: Bool) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let memberID = try ctx.points.decide(id, approve: approve, reason: ctx.text("reason"), by: ctx.pointsActor)
        let back = ctx.text("back", max: 10) == "list" ? "/points/approvals" : "/members/\(memberID)/card"
        return ctx.redirect(back, flash: .success(approve ? "已审核通过，积分已计入。" : "已退回。"))
    }

    static func reverse(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        let memberID = try ctx.points.reverse(id, reason: ctx.text("reason"), by: ctx.pointsActor)
        return ctx.redirect("/members/\(memberID)/card", flash: .success("已记录冲正。"))
    }

    /// Manual entries waiting for approval in the account's scope.
    static func approvals(_ ctx: Context) throws -> HTTPResponse {
        let scope = ctx.scopeCondition(on: "g.path")
        let canApprove = ctx.may(.approvePoints)
        let rows = try ctx.database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT e.id, e.member_id, e.points, e.source, e.occurred_on, e.note, r.item, d.name AS dimension, res.name
                FROM point_entries e JOIN party_members pm ON pm.id = e.member_id JOIN grids g ON g.id = pm.grid_id
                JOIN residents res ON res.id = pm.resident_id JOIN point_rules r ON r.id = e.rule_id
                JOIN point_dimensions d ON d.code = e.dimension
                WHERE e.status = 'pending' AND \(scope.sql) ORDER BY e.id LIMIT 200
                """, arguments: StatementArguments(scope.arguments))
        }
        return try ctx.render("points/approvals", title: "积分审核", [
            "entries": rows.map { e -> [String: Any] in
                ["id": String(e["id"] as Int64), "memberID": String(e["member_id"] as Int64), "name": e["name"] as String,
                 "points": PointsVocabulary.signed(e["points"]), "item": e["item"] as String, "dimension": e["dimension"] as String,
                 "source": PointsVocabulary.sources[e["source"] as String] ?? "", "date": e["occurred_on"] as String,
                 "note": e["note"] as String]
            },
            "hasEntries": !rows.isEmpty, "canApprove": canApprove,
        ])
    }
}

/// Rules, dimension maxima, grade bands and credit rates (admin changes them; staff and
/// coordinators read them).
enum RulePages {
    static func index(_ ctx: Context) throws -> HTTPResponse {
        let data: [String: Any] = try ctx.database.read { db in
            let dims = try Row.fetchAll(db, sql: "SELECT code, name, max_points FROM point_dimensions ORDER BY sort_order")
            let rules = try Row.fetchAll(db, sql: """
                SELECT r.*, d.name AS dimension_name FROM point_rules r JOIN point_dimensions d ON d.code = r.dimension
                ORDER BY d.sort_order, r.sort_order, r.id
                """)
            return [
                "dimensions": dims.map { ["code": $0["code"] as String, "name": $0["name"] as String, "max": $0["max_points"] as Int] },
                "rules": rules.map { r -> [String: Any] in
                    let code: String = r["dimension"]
                    return ["id": String(r["id"] as Int64), "dimensionName": r["dimension_name"] as String, "item": r["item"] as String,
                            "points": r["points"] as Int, "unit": r["unit"] as String,
                            "cap": (r["yearly_cap"] as Int?).map(String.init) ?? "", "isDeduction": (r["deduction"] as Int) == 1,
                            "isAuto": (r["auto"] as String?) != nil, "isActive": (r["active"] as Int) == 1,
                            "dimensionOptions": dims.map { ["code": $0["code"] as String, "name": $0["name"] as String,
                                                            "selected": ($0["code"] as String) == code] }]
                },
                "dimensionOptions": dims.map { ["code": $0["code"] as String, "name": $0["name"] as String, "selected": false] },
                "excellent": try PointsLedger.setting(db, "grade_excellent"), "qualified": try PointsLedger.setting(db, "grade_qualified"),
                "basic": try PointsLedger.setting(db, "grade_basic"), "perHour": try PointsLedger.setting(db, "credits_per_hour"),
                "perWish": try PointsLedger.setting(db, "credits_per_wish"),
                "canManage": ctx.may(.managePointRules),
            ]
        }
        return try ctx.render("points/rules", title: "积分规则", data)
    }

    static func form(_ ctx: Context) -> PointsStore.RuleForm {
        let cap = ctx.text("cap", max: 10)
        return PointsStore.RuleForm(dimension: ctx.text("dimension", max: 20), item: ctx.text("item", max: 80),
                                    points: Int(ctx.text("points", max: 10)), unit: ctx.text("unit", max: 20),
                                    cap: Int(cap), capText: cap, deduction: ctx.text("deduction", max: 5) == "1",
                                    active: ctx.form["active"] == nil ? false : ctx.text("active", max: 5) == "1")
    }

    static func create(_ ctx: Context) throws -> HTTPResponse {
        var form = form(ctx)
        form.active = true
        try ctx.points.saveRule(nil, form, by: ctx.pointsActor)
        return ctx.redirect("/points/rules", flash: .success("已新增积分项目。"))
    }

    static func update(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        try ctx.points.saveRule(id, form(ctx), by: ctx.pointsActor)
        return ctx.redirect("/points/rules", flash: .success("已保存积分项目。"))
    }

    static func settings(_ ctx: Context) throws -> HTTPResponse {
        func number(_ name: String) -> Int? { Int(ctx.text(name, max: 10)) }
        try ctx.points.saveSettings(
            maxima: ["politics": number("max_politics"), "dedication": number("max_dedication"), "image": number("max_image")],
            bands: ["grade_excellent": number("grade_excellent"), "grade_qualified": number("grade_qualified"),
                    "grade_basic": number("grade_basic")],
            rates: ["credits_per_hour": number("credits_per_hour"), "credits_per_wish": number("credits_per_wish")],
            by: ctx.pointsActor)
        return ctx.redirect("/points/rules", flash: .success("已保存维度满分、等次分数线和爱心积分标准。"))
    }
}

/// The ranking board 公示: per grid subtree (community, estate, grid) or party branch.
enum BoardPages {
    struct Filter {
        var year: Int
        var gridID: Int64?
        var gridName: String
        var range: (sql: String, arguments: [String])
        var branchID: Int64?
        var branchName: String?

        var sql: String { "t.year = ? AND \(range.sql)" + (branchID == nil ? "" : " AND t.branch_id = ?") }
        var arguments: StatementArguments {
            var args: [DatabaseValueConvertible?] = [year]
            args += range.arguments.map { $0 as DatabaseValueConvertible? }
            if let branchID { args.append(branchID) }
            return StatementArguments(args)
        }
        var query: String {
            "year=\(year)" + (gridID.map { "&scope=\($0)" } ?? "") + (branchID.map { "&branch=\($0)" } ?? "")
        }
    }

    /// `scope=` a grid node the account reaches (its own scope by default), `branch=` a party branch in it.
    static func filter(_ ctx: Context) throws -> Filter {
        let year = ctx.pointsYear
        let principal = ctx.principal
        return try ctx.database.read { db in
            var gridID: Int64? = principal?.scope.path.flatMap { GridPath.ids(in: $0).last }
            if let text = ctx.query["scope"], !text.isEmpty {
                guard let id = Int64(text) else { throw HTTPError(.badRequest, "范围参数不正确") }
                gridID = id
            }
            var range: (sql: String, arguments: [String]) = ("1", [])
            var name = "全部"
            if let gridID {
                guard let row = try Row.fetchOne(db, sql: "SELECT name, path FROM grids WHERE id = ?", arguments: [gridID]),
                      PointsReach.allows(principal, row["path"]) else { throw NotFound() }
                let sub = GridPath.subtreeRange(of: row["path"])
                range = ("(t.grid_path >= ? AND t.grid_path < ?)", [sub.lower, sub.upper])
                name = row["name"]
            } else if principal?.role != .admin {
                throw NotFound()
            }
            var branchID: Int64?, branchName: String?
            if let text = ctx.query["branch"], !text.isEmpty {
                guard let id = Int64(text), let row = try Row.fetchOne(db, sql: """
                    SELECT b.name, g.path FROM branches b JOIN grids g ON g.id = b.grid_id WHERE b.id = ?
                    """, arguments: [id]), PointsReach.allows(principal, row["path"]) else { throw NotFound() }
                branchID = id
                branchName = row["name"]
            }
            return Filter(year: year, gridID: gridID, gridName: name, range: range, branchID: branchID, branchName: branchName)
        }
    }

    static let pageSize = 100

    struct Ranked {
        let rank: Int
        let name: String
        let branch: String
        let politics: Int
        let dedication: Int
        let image: Int
        let total: Int
        let grade: String
    }

    /// Rows `offset..<offset+limit` of the ranking, with competition ranks (ties share one).
    static func ranked(_ db: Database, _ f: Filter, offset: Int, limit: Int) throws -> [Ranked] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT t.politics, t.dedication, t.image, t.total, r.name, b.name AS branch
            FROM point_totals t JOIN party_members pm ON pm.id = t.member_id JOIN residents r ON r.id = pm.resident_id
            LEFT JOIN branches b ON b.id = t.branch_id
            WHERE \(f.sql) ORDER BY t.total DESC, t.member_id LIMIT ? OFFSET ?
            """, arguments: f.arguments + [limit, offset])
        guard let first = rows.first else { return [] }
        var rank = 1 + (try Int.fetchOne(db, sql: "SELECT count(*) FROM point_totals t WHERE \(f.sql) AND t.total > ?",
                                         arguments: f.arguments + [first["total"] as Int]) ?? 0)
        let excellent = try PointsLedger.setting(db, "grade_excellent"), qualified = try PointsLedger.setting(db, "grade_qualified")
        let basic = try PointsLedger.setting(db, "grade_basic")
        var previous = first["total"] as Int
        return rows.enumerated().map { index, row in
            let total: Int = row["total"]
            if total != previous { rank = offset + index + 1; previous = total }
            let grade = total >= excellent ? "优秀" : total >= qualified ? "合格" : total >= basic ? "基本合格" : "不合格"
            return Ranked(rank: rank, name: row["name"], branch: (row["branch"] as String?) ?? "—", politics: row["politics"],
                          dedication: row["dedication"], image: row["image"], total: total, grade: grade)
        }
    }

    static func show(_ ctx: Context) throws -> HTTPResponse {
        try ctx.points.syncAll()
        let f = try filter(ctx)
        let print = ctx.query["print"] == "1"
        let page = max(1, min(10_000, Int(ctx.query["page"] ?? "") ?? 1))
        let limit = print ? 2000 : pageSize
        let offset = print ? 0 : (page - 1) * pageSize
        let principal = ctx.principal
        let (rows, count, grids, branches) = try ctx.timed(.query) {
            try ctx.database.read { db in
                let rows = try ranked(db, f, offset: offset, limit: limit)
                let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM point_totals t WHERE \(f.sql)", arguments: f.arguments) ?? 0
                let reach = PointsReach.condition(principal, on: "path")
                let grids = print ? [] : try Row.fetchAll(db, sql: """
                    SELECT id, name, depth FROM grids WHERE kind <> 'building' AND \(reach.sql) ORDER BY path LIMIT 300
                    """, arguments: StatementArguments(reach.arguments))
                let branchReach = PointsReach.condition(principal, on: "g.path")
                let branches = print ? [] : try Row.fetchAll(db, sql: """
                    SELECT b.id, b.name FROM branches b JOIN grids g ON g.id = b.grid_id WHERE \(branchReach.sql) ORDER BY b.path LIMIT 300
                    """, arguments: StatementArguments(branchReach.arguments))
                return (rows, count, grids, branches)
            }
        }
        let data: [String: Any] = [
            "year": String(f.year), "scopeName": f.gridName, "branchName": f.branchName ?? false,
            "rows": rows.map { r -> [String: Any] in
                ["rank": r.rank, "name": r.name, "branch": r.branch, "politics": r.politics, "dedication": r.dedication,
                 "image": r.image, "total": r.total, "grade": r.grade]
            },
            "hasRows": !rows.isEmpty, "count": count,
            "query": f.query,
            "gridOptions": grids.map { g -> [String: Any] in
                ["value": String(g["id"] as Int64), "label": String(repeating: "　", count: g["depth"] as Int) + (g["name"] as String),
                 "selected": (g["id"] as Int64) == f.gridID]
            },
            "branchOptions": branches.map { b -> [String: Any] in
                ["value": String(b["id"] as Int64), "label": b["name"] as String, "selected": (b["id"] as Int64) == f.branchID]
            },
            "prev": page > 1 ? "\(f.query)&page=\(page - 1)" : false,
            "next": offset + limit < count ? "\(f.query)&page=\(page + 1)" : false,
            "page": page,
        ]
        return try ctx.render(print ? "points/board_print" : "points/board", title: "党员积分公示", data)
    }

    static func csv(_ ctx: Context) throws -> HTTPResponse {
        try ctx.points.syncAll()
        let f = try filter(ctx)
        let rows = try ctx.database.read { db in try ranked(db, f, offset: 0, limit: 200_000) }
        var csv = String(decoding: CSVText.byteOrderMark, as: UTF8.self)
        csv += CSVText.record(["排名", "姓名", "所在党组织", "讲政治", "比奉献", "树形象", "总分", "等次"])
        for r in rows {
            csv += CSVText.record([String(r.rank), CSVText.inert(r.name), CSVText.inert(r.branch), String(r.politics),
                                   String(r.dedication), String(r.image), String(r.total), r.grade])
        }
        var headers = HTTPHeaders()
        headers.add("Content-Type", "text/csv; charset=utf-8")
        headers.add("Content-Disposition", "attachment; filename=\"points-board-\(f.year).csv\"; filename*=UTF-8''"
                    + FormData.percentEncode("党员积分公示-\(f.year).csv"))
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(Array(csv.utf8)))
    }
}

/// `/points/credits`: the signed-in member's or resident's volunteer credits, history and redemptions.
enum CreditsPage {
    static func show(_ ctx: Context) throws -> HTTPResponse {
        let user = try ctx.requireUser()
        let data: [String: Any] = try ctx.database.read { db in
            guard let residentID = try PointsStore.residentID(db, userID: user.id) else { return ["unlinked": true] }
            let balance = try PointsLedger.balance(db, residentID: residentID)
            let entries = try Row.fetchAll(db, sql: """
                SELECT amount, kind, note, created_at FROM credit_entries WHERE resident_id = ? ORDER BY id DESC LIMIT 100
                """, arguments: [residentID])
            let redemptions = try Row.fetchAll(db, sql: """
                SELECT s.id, s.code, s.status, s.cost, s.created_at, i.name FROM shop_redemptions s JOIN shop_items i ON i.id = s.item_id
                WHERE s.resident_id = ? ORDER BY s.id DESC LIMIT 50
                """, arguments: [residentID])
            let memberID = try Int64.fetchOne(db, sql: "SELECT id FROM party_members WHERE resident_id = ?", arguments: [residentID])
            return [
                "balance": balance,
                "entries": entries.map { e -> [String: Any] in
                    ["amount": PointsVocabulary.signed(e["amount"]), "kind": PointsVocabulary.creditKinds[e["kind"] as String] ?? "",
                     "note": e["note"] as String, "at": ChinaDate.display(e["created_at"] as String)]
                },
                "hasEntries": !entries.isEmpty,
                "redemptions": redemptions.map { r -> [String: Any] in
                    let status: String = r["status"]
                    return ["id": String(r["id"] as Int64), "name": r["name"] as String, "cost": r["cost"] as Int,
                            "code": status == "pending" ? r["code"] as String : false,
                            "status": PointsVocabulary.redemptionStatuses[status] ?? status, "isPending": status == "pending",
                            "at": ChinaDate.display(r["created_at"] as String)]
                },
                "hasRedemptions": !redemptions.isEmpty,
                "memberID": memberID.map(String.init) ?? false,
            ]
        }
        return try ctx.render("points/credits", title: "我的爱心积分", data)
    }
}
