/// Chinese names of every action the audit log records, in the order filters list them. One
/// table, so the audit pages and each record's history name an action the same way.
public enum AuditLabels {
    public static let actions: [(action: String, label: String)] = [
        ("session.login", "登录"),
        ("session.logout", "退出"),
        ("user.create", "创建账号"),
        ("user.update", "修改账号"),
        ("user.deactivate", "停用账号"),
        ("user.activate", "启用账号"),
        ("user.reset_password", "重置密码"),
        ("user.change_password", "修改密码"),
        ("grid.create", "新建网格节点"),
        ("grid.rename", "重命名节点"),
        ("grid.change_code", "修改节点编码"),
        ("grid.change_kind", "修改节点层级"),
        ("grid.move", "移动节点"),
        ("grid.delete", "删除节点"),
        ("grid.assign_worker", "指派网格员"),
        ("grid.remove_worker", "移除网格员"),
        ("house.create", "新建房屋"),
        ("resident.create", "新登记居民"),
        ("resident.update", "修改居民信息"),
        ("resident.move_in", "入住房屋"),
        ("resident.move", "换房"),
        ("resident.move_out", "迁出"),
        ("resident.end_residence", "结束人屋关系"),
        ("resident.merge", "合并重复记录"),
        ("resident.reveal_id", "查看完整身份证号"),
        ("resident.reveal_phone", "查看完整手机号"),
        ("resident.import", "导入居民"),
        ("resident.export", "导出居民"),
        ("resident.reveal_export", "导出完整号码"),
        ("visit.create", "登记走访"),
    ]

    public static let byAction: [String: String] = Dictionary(actions.map { ($0.action, $0.label) }, uniquingKeysWith: { a, _ in a })

    public static func label(_ action: String) -> String { byAction[action] ?? action }
}
