import Access
import AppCore
import Domain
import Foundation
import GRDB
import HTTPCore
import Storage
import Views
import Web

/// Wish claims 微心愿: 居民点单、社区下单、党员接单. A resident (or staff for them) posts a wish,
/// staff publish or reject it, a party member claims it, fulfils it with a note and a photo
/// (结单), and the wisher (or staff) rates it. Every change goes through `WishStore`; in-app
/// notifications (`/notifications`) tell the people concerned.
public enum WishesFeature {
    /// Everyone but unit handlers, whose accounts see only their unit's cases.
    static let everyone: Set<Role> = Set(Role.allCases).subtracting([.unitHandler])
    static let posters: Set<Role> = [.staff, .gridWorker, .resident]
    static let reviewers: Set<Role> = [.admin, .staff]
    static let members: Set<Role> = [.member]
    static let raters: Set<Role> = [.staff, .resident]

    /// A 结单 upload: the photo (≤ 5 MB, checked by the handler with a Chinese 413, so a phone's
    /// 12 MB original gets the explanation; beyond this the server answers a plain 413) and the form.
    static let uploadLimit = 16 << 20

    public static let module = Module(
        name: "wishes", routes: register,
        permissions: [.viewWishes, .postWishes, .reviewWishes, .claimWishes, .rateWishes, .cancelWishes, .notifications],
        auditLabels: [
            ("wish.create", "提交心愿"), ("wish.approve", "审核发布心愿"), ("wish.reject", "心愿未通过审核"),
            ("wish.claim", "认领心愿"), ("wish.release", "放弃认领心愿"), ("wish.complete", "心愿结单"),
            ("wish.rate", "评价心愿"), ("wish.close", "心愿办结"), ("wish.cancel", "撤销心愿"),
            ("wish.expire", "心愿过期"), ("wish.claim_expire", "认领超时退回"), ("wish.reveal_phone", "查看许愿人电话"),
        ],
        navigation: [("微心愿", path: "/wishes", order: 45, permission: .viewWishes)],
        shortcuts: [("微心愿", path: "/wishes", note: "居民点单、社区下单、党员接单", order: 45, permission: .viewWishes)],
        matrix: [
            "GET /wishes": everyone,
            "GET /wishes/new": posters,
            "POST /wishes/new": posters,
            "GET /wishes/wall": everyone,
            "GET /wishes/:id": everyone,
            "GET /wishes/:id/photo": everyone,
            "GET /w/:code": everyone,
            "GET /w": everyone,
            "POST /wishes/:id/approve": reviewers,
            "POST /wishes/:id/reject": reviewers,
            "POST /wishes/:id/claim": members,
            "POST /wishes/:id/release": members,
            "POST /wishes/:id/complete": members,
            "POST /wishes/:id/phone": members,
            "POST /wishes/:id/rate": raters,
            "POST /wishes/:id/cancel": raters,
            "GET /notifications": Set(Role.allCases),
            "POST /notifications/read": Set(Role.allCases),
        ],
        reportSections: WishesReport.sections)

    public static func register(_ routes: inout AppRoutes) {
        routes.get("/wishes", .viewWishes) { try WishPages.index($0) }
        routes.get("/wishes/new", .postWishes) { try WishPages.newForm($0) }
        routes.post("/wishes/new", .postWishes) { try WishPages.create($0) }
        routes.get("/wishes/wall", .viewWishes) { try WishPages.wall($0) }
        routes.get("/wishes/:id", .viewWishes) { try WishPages.show($0) }
        routes.get("/wishes/:id/photo", .viewWishes) { try WishPages.photo($0) }
        routes.get("/w/:code", .viewWishes) { try WishPages.byCode($0) }
        routes.get("/w", .viewWishes) { try WishPages.codeForm($0) }
        routes.post("/wishes/:id/approve", .reviewWishes) { try WishPages.approve($0) }
        routes.post("/wishes/:id/reject", .reviewWishes) { try WishPages.reject($0) }
        routes.post("/wishes/:id/claim", .claimWishes) { try WishPages.claim($0) }
        routes.post("/wishes/:id/release", .claimWishes) { try WishPages.release($0) }
        routes.post("/wishes/:id/complete", .claimWishes, options: RouteOptions(bodyLimit: uploadLimit, offload: true)) {
            try WishPages.complete($0)
        }
        routes.post("/wishes/:id/phone", .claimWishes) { try WishPages.phone($0) }
        routes.post("/wishes/:id/rate", .rateWishes) { try WishPages.rate($0) }
        routes.post("/wishes/:id/cancel", .cancelWishes) { try WishPages.cancel($0) }
        routes.get("/notifications", .notifications) { try NotificationPages.index($0) }
        routes.post("/notifications/read", .notifications) { try NotificationPages.markRead($0) }
    }
}
