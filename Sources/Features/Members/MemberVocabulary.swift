/// The codes the members tables store and their Chinese names (one table each, so forms, lists,
/// the ledger CSV and the import read the same words).
enum MemberVocabulary {
    typealias Entry = (code: String, label: String)

    static let statuses: [Entry] = [("full", "正式党员"), ("probationary", "预备党员")]
    static let categories: [Entry] = [
        ("retired", "离退休"), ("employed", "在职"), ("mobile", "流动"), ("new_sector", "新就业群体"), ("other", "其他"),
    ]
    static let roles: [Entry] = [("building_leader", "楼栋长"), ("street_leader", "街巷长"), ("neighbour_leader", "红色近邻长")]
    static let branchKinds: [Entry] = [
        ("committee", "社区党委"), ("general", "党总支"), ("branch", "党支部"), ("joint", "联合党支部"), ("group", "党小组"),
    ]
    static let grades: [Entry] = [("excellent", "优秀"), ("qualified", "合格"), ("basic", "基本合格"), ("unqualified", "不合格")]
    static let reportStatuses: [Entry] = [("submitted", "待确认"), ("confirmed", "已确认"), ("returned", "已退回")]
    static let memberships: [Entry] = [("active", "在册"), ("transferred_out", "已转出")]

    static func label(_ code: String?, in entries: [Entry]) -> String {
        guard let code else { return "" }
        return entries.first { $0.code == code }?.label ?? code
    }

    /// The code for a code or a Chinese name (the ledger CSV carries names).
    static func code(_ text: String, in entries: [Entry]) -> String? {
        let text = text.trimmingCharacters(in: .whitespaces)
        return entries.first { $0.code == text || $0.label == text }?.code
    }

    static func contains(_ code: String, in entries: [Entry]) -> Bool { entries.contains { $0.code == code } }

    /// What a member's timeline calls each event.
    static let eventLabels: [String: String] = [
        "created": "登记为党员", "imported": "台账导入", "updated": "修改党员信息", "transfer_out": "组织关系转出",
        "transfer_in": "组织关系转入", "category": "变更党员类别", "branch": "变更所在党组织", "account": "开通党员账号",
        "report": "提交双报到", "report_confirmed": "双报到已确认", "report_returned": "双报到被退回", "evaluation": "年度评议",
    ]
}
