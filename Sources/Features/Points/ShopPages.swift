import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// The reward shop 积分商城: items, redemption with a 核销码, write-off and cancellation.
enum ShopPages {
    static func index(_ ctx: Context) throws -> HTTPResponse {
        let user = try ctx.requireUser()
        let canManage = ctx.may(.manageShop), canRedeem = ctx.may(.redeemRewards)
        let principal = ctx.principal
        let reach = canManage ? ctx.scopeCondition(on: "g.path") : PointsReach.condition(principal, on: "g.path")
        let scope = ctx.scopeCondition(on: "s.grid_path")
        var data: [String: Any] = try ctx.database.read { db in
            let items = try Row.fetchAll(db, sql: """
                SELECT i.id, i.name, i.description, i.picture, i.cost, i.stock, i.active, i.grid_id, g.name AS grid
                FROM shop_items i JOIN grids g ON g.id = i.grid_id
                WHERE \(reach.sql) \(canManage ? "" : "AND i.active = 1") ORDER BY i.active DESC, i.cost, i.id LIMIT 300
                """, arguments: StatementArguments(reach.arguments))
            let residentID = try PointsStore.residentID(db, userID: user.id)
            let balance = try residentID.map { try PointsLedger.balance(db, residentID: $0) } ?? 0
            let pending = canManage ? try Row.fetchAll(db, sql: """
                SELECT s.id, s.cost, s.created_at, i.name AS item, r.name FROM shop_redemptions s
                JOIN shop_items i ON i.id = s.item_id JOIN residents r ON r.id = s.resident_id
                WHERE s.status = 'pending' AND \(scope.sql) ORDER BY s.id LIMIT 200
                """, arguments: StatementArguments(scope.arguments)) : []
            let gridScope = ctx.scopeCondition(on: "path")
            let grids = canManage ? try Row.fetchAll(db, sql: """
                SELECT id, name, depth FROM grids WHERE kind <> 'building' AND \(gridScope.sql) ORDER BY path LIMIT 300
                """, arguments: StatementArguments(gridScope.arguments)) : []
            func options(_ selected: Int64?) -> [[String: Any]] {
                grids.map { g in
                    ["value": String(g["id"] as Int64), "label": String(repeating: "　", count: g["depth"] as Int) + (g["name"] as String),
                     "selected": (g["id"] as Int64) == selected]
                }
            }
            return [
                "items": items.map { i -> [String: Any] in
                    let picture: String = i["picture"], description: String = i["description"]
                    let cost: Int = i["cost"], stock: Int = i["stock"]
                    return ["id": String(i["id"] as Int64), "name": i["name"] as String, "description": description,
                            "hasDescription": !description.isEmpty, "picture": picture.isEmpty ? false : picture,
                            "pictureValue": picture, "cost": cost, "stock": stock, "grid": i["grid"] as String,
                            "isActive": (i["active"] as Int) == 1, "soldOut": stock == 0,
                            "canRedeem": canRedeem && residentID != nil && stock > 0 && balance >= cost,
                            "short": canRedeem && residentID != nil && balance < cost,
                            "gridOptions": options(i["grid_id"])]
                },
                "hasItems": !items.isEmpty,
                "pending": pending.map { p -> [String: Any] in
                    ["id": String(p["id"] as Int64), "item": p["item"] as String, "name": Mask.name(p["name"] as String),
                     "cost": p["cost"] as Int, "at": ChinaDate.display(p["created_at"] as String)]
                },
                "hasPending": !pending.isEmpty,
                "gridOptions": options(nil),
                "balance": balance, "showBalance": canRedeem, "unlinked": canRedeem && residentID == nil,
            ]
        }
        data["canManage"] = canManage
        return try ctx.render("points/shop", title: "积分商城", data)
    }

    static func form(_ ctx: Context) -> PointsStore.ItemForm {
        PointsStore.ItemForm(name: ctx.text("name", max: 80), description: ctx.text("description", max: 600),
                             picture: ctx.text("picture", max: 300), cost: Int(ctx.text("cost", max: 10)),
                             stock: Int(ctx.text("stock", max: 10)), gridID: Int64(ctx.text("grid_id", max: 20)),
                             active: ctx.form["active"] == nil || ctx.text("active", max: 5) == "1")
    }

    static func create(_ ctx: Context) throws -> HTTPResponse {
        _ = try ctx.points.saveItem(nil, form(ctx), by: ctx.pointsActor)
        return ctx.redirect("/shop", flash: .success("已上架新商品。"))
    }

    static func update(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        _ = try ctx.points.saveItem(id, form(ctx), by: ctx.pointsActor)
        return ctx.redirect("/shop", flash: .success("已保存商品。"))
    }

    static func redeem(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        _ = try ctx.points.redeem(id, by: ctx.pointsActor)
        return ctx.redirect("/points/credits", flash: .success("兑换成功，请凭核销码到社区领取。"))
    }

    static func fulfil(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        try ctx.points.fulfil(id, code: ctx.text("code", max: 20), by: ctx.pointsActor)
        return ctx.redirect("/shop", flash: .success("核销成功，请将物品交给兑换人。"))
    }

    static func cancel(_ ctx: Context) throws -> HTTPResponse {
        let id = try ctx.request.id()
        try ctx.points.cancel(id, by: ctx.pointsActor)
        let back = ctx.may(.manageShop) ? "/shop" : "/points/credits"
        return ctx.redirect(back, flash: .success("已取消兑换，积分和库存已退回。"))
    }
}
