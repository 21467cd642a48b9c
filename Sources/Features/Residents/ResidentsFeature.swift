import Access
import AppCore

/// Residents 居民 and houses 房屋: lists and search, records, moves, visits, CSV in and out,
/// printable rosters. Each part registers its own routes.
public enum ResidentsFeature {
    static let viewers: Set<Role> = [.staff, .gridWorker, .coordinator]
    static let managers: Set<Role> = [.staff, .gridWorker]

    public static let module = Module(
        name: "residents", routes: register,
        permissions: [.viewResidents, .manageResidents, .mergeResidents, .revealPersonalData, .importResidents,
                      .exportResidents, .visitKeyGroups],
        auditLabels: [
            ("house.create", "新建房屋"), ("resident.create", "新登记居民"),
            ("resident.update", "修改居民信息"), ("resident.move_in", "入住房屋"),
            ("resident.move", "换房"), ("resident.move_out", "迁出"),
            ("resident.end_residence", "结束人屋关系"), ("resident.merge", "合并重复记录"),
            ("resident.reveal_id", "查看完整身份证号"), ("resident.reveal_phone", "查看完整手机号"),
            ("resident.search_full_number", "按完整号码查找居民"),
            ("resident.import", "导入居民"), ("resident.export", "导出居民"),
            ("resident.reveal_export", "导出完整号码"), ("visit.create", "登记走访"),
        ],
        navigation: [("居民", path: "/residents", order: 20, permission: .viewResidents)],
        shortcuts: [
            ("居民", path: "/residents", note: "查找、登记、迁入迁出", order: 10, permission: .viewResidents),
            ("登记居民", path: "/residents/new", note: "新登记一位居民", order: 20, permission: .manageResidents),
            ("待走访重点人群", path: "/residents/visits/overdue", note: "30 天内未走访的重点人群", order: 30,
                     permission: .visitKeyGroups),
            ("导入居民", path: "/residents/import", note: "从 Excel 另存的 CSV 批量导入", order: 40,
                     permission: .importResidents),
        ],
        matrix: [
            "GET /buildings/:id/houses": viewers,
            "GET /buildings/:id/houses/new": managers,
            "POST /buildings/:id/houses/new": managers,
            "GET /houses/:id": viewers,
            "GET /residents/new": managers,
            "POST /residents/new": managers,
            "GET /residents/visits/overdue": managers,
            "GET /residents/:id": viewers,
            "GET /residents": viewers,
            "GET /residents/export.csv": [.staff, .coordinator],
            "GET /rosters/estate/:id": viewers,
            "GET /rosters/community/:id": viewers,
            "GET /residents/:id/edit": managers,
            "POST /residents/:id/edit": managers,
            "POST /residents/:id/reveal": managers,
            "POST /residents/:id/tags": managers,
            "POST /residents/:id/visits": managers,
            "GET /residents/:id/move": managers,
            "POST /residents/:id/move": managers,
            "GET /residents/:id/move-out": managers,
            "POST /residents/:id/move-out": managers,
            "POST /residents/:id/residences/:residenceId/end": managers,
            // Merging also needs Permission.mergeResidents (staff), decided after the record's
            // scope, so a missing record is a 404 for every manager.
            "GET /residents/:id/merge": managers,
            "POST /residents/:id/merge": managers,
            "GET /residents/import": [.staff],
            "POST /residents/import": [.staff],
            "GET /residents/import/jobs/:id": [.staff],
        ],
        reportSections: ResidentsReport.sections)

    public static func register(_ routes: inout AppRoutes) {
        ResidentRecords.register(&routes)
        ResidentSearch.register(&routes)
        ResidentImport.register(&routes)
    }
}
