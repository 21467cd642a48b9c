import Access
import AppCore

/// Points 积分: the party member's points card 党员积分卡 (rules as data, automatic and manual
/// entries, approval, reversing corrections), the ranking board 公示, volunteer credits 爱心积分
/// and the reward shop 积分商城. Every change goes through `PointsStore`; automatic postings
/// through `PointsLedger` in Domain (other modules call `PointsLedger.postWishRated`).
public enum PointsFeature {
    public static let module = Module(
        name: "points", routes: register,
        permissions: [.memberRecord, .viewPointsBoard, .viewPointEntries, .managePointRules, .recordPoints, .approvePoints,
                      .reversePoints, .redeemRewards, .viewShop, .manageShop, .cancelRedemptions],
        auditLabels: [
            ("points.record", "记录积分"), ("points.apply", "申报积分"), ("points.approve", "审核通过积分"),
            ("points.reject", "退回积分申报"), ("points.reverse", "冲正积分"), ("points.rule_create", "新增积分项目"),
            ("points.rule_update", "修改积分项目"), ("points.settings", "修改积分设置"),
            ("shop.item_create", "上架商品"), ("shop.item_update", "修改商品"), ("shop.redeem", "兑换商品"),
            ("shop.fulfil", "核销兑换"), ("shop.cancel", "取消兑换"),
        ],
        navigation: [("积分公示", path: "/points/board", order: 45, permission: .viewPointsBoard),
                     ("积分商城", path: "/shop", order: 46, permission: .viewShop)],
        shortcuts: [
            ("我的爱心积分", path: "/points/credits", note: "积分余额、明细和兑换核销码", order: 6, permission: .redeemRewards),
            ("积分公示", path: "/points/board", note: "党员积分排名，可打印、导出", order: 55, permission: .viewPointsBoard),
            ("积分审核", path: "/points/approvals", note: "审核党员积分申报", order: 56, permission: .approvePoints),
            ("积分规则", path: "/points/rules", note: "维度、项目、分值与上限", order: 57, permission: .viewPointEntries),
            ("积分商城", path: "/shop", note: "爱心积分兑换与核销", order: 58, permission: .viewShop),
        ],
        matrix: [
            "GET /members/:id/card": [.admin, .staff, .gridWorker, .coordinator, .member],
            "POST /members/:id/card/entries": [.staff, .member],
            "POST /points/entries/:id/approve": [.admin, .coordinator],
            "POST /points/entries/:id/reject": [.admin, .coordinator],
            "POST /points/entries/:id/reverse": [.admin, .staff, .coordinator],
            "GET /points/approvals": [.admin, .staff, .coordinator],
            "GET /points/rules": [.admin, .staff, .coordinator],
            "POST /points/rules/new": [.admin],
            "POST /points/rules/:id": [.admin],
            "POST /points/settings": [.admin],
            "GET /points/board": [.admin, .staff, .gridWorker, .coordinator, .member],
            "GET /points/board.csv": [.admin, .staff, .gridWorker, .coordinator, .member],
            "GET /points/credits": [.member, .resident],
            "GET /shop": [.admin, .staff, .member, .resident],
            "POST /shop/new": [.admin, .staff],
            "POST /shop/:id/edit": [.admin, .staff],
            "POST /shop/:id/redeem": [.member, .resident],
            "POST /shop/redemptions/:id/fulfil": [.admin, .staff],
            "POST /shop/redemptions/:id/cancel": [.admin, .staff, .member, .resident],
        ],
        reportSections: PointsReport.sections)

    public static func register(_ routes: inout AppRoutes) {
        routes.get("/members/:id/card", .memberRecord) { try CardPages.show($0) }
        routes.post("/members/:id/card/entries", .recordPoints) { try CardPages.record($0) }
        routes.post("/points/entries/:id/approve", .approvePoints) { try CardPages.approve($0) }
        routes.post("/points/entries/:id/reject", .approvePoints) { try CardPages.reject($0) }
        routes.post("/points/entries/:id/reverse", .reversePoints) { try CardPages.reverse($0) }
        routes.get("/points/approvals", .viewPointEntries) { try CardPages.approvals($0) }
        routes.get("/points/rules", .viewPointEntries) { try RulePages.index($0) }
        routes.post("/points/rules/new", .managePointRules) { try RulePages.create($0) }
        routes.post("/points/rules/:id", .managePointRules) { try RulePages.update($0) }
        routes.post("/points/settings", .managePointRules) { try RulePages.settings($0) }
        routes.get("/points/board", .viewPointsBoard) { try BoardPages.show($0) }
        routes.get("/points/board.csv", .viewPointsBoard) { try BoardPages.csv($0) }
        routes.get("/points/credits", .redeemRewards) { try CreditsPage.show($0) }
        routes.get("/shop", .viewShop) { try ShopPages.index($0) }
        routes.post("/shop/new", .manageShop) { try ShopPages.create($0) }
        routes.post("/shop/:id/edit", .manageShop) { try ShopPages.update($0) }
        routes.post("/shop/:id/redeem", .redeemRewards) { try ShopPages.redeem($0) }
        routes.post("/shop/redemptions/:id/fulfil", .manageShop) { try ShopPages.fulfil($0) }
        routes.post("/shop/redemptions/:id/cancel", .cancelRedemptions) { try ShopPages.cancel($0) }
    }
}
