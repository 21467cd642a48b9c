/// Coded values of the residents module with their Chinese names, in display order.
public enum Vocabulary {
    /// 政治面貌, GB/T 4762.
    public static let politicalStatuses: [(code: String, name: String)] = [
        ("01", "中共党员"), ("02", "中共预备党员"), ("03", "共青团员"), ("04", "民革会员"), ("05", "民盟盟员"),
        ("06", "民建会员"), ("07", "民进会员"), ("08", "农工党党员"), ("09", "致公党党员"), ("10", "九三学社社员"),
        ("11", "台盟盟员"), ("12", "无党派人士"), ("13", "群众"),
    ]

    public static func politicalStatusName(_ code: String) -> String {
        politicalStatuses.first { $0.code == code }?.name ?? code
    }

    /// The code for a name as people write it in spreadsheets ("党员" and "中共党员" alike).
    public static func politicalStatusCode(forName name: String) -> String? {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        if let hit = politicalStatuses.first(where: { $0.name == trimmed || $0.code == trimmed }) { return hit.code }
        switch trimmed {
        case "党员", "中国共产党党员": return "01"
        case "预备党员", "中国共产党预备党员": return "02"
        case "团员", "中国共产主义青年团团员": return "03"
        case "无党派", "无党派民主人士": return "12"
        case "": return "13"
        default: return nil
        }
    }

    /// 与房屋关系.
    public static let relations: [(code: String, name: String)] = [
        ("owner", "产权人"), ("hukou", "户籍"), ("resident", "常住"), ("tenant", "租住"),
    ]

    public static func relationName(_ code: String) -> String {
        relations.first { $0.code == code }?.name ?? code
    }

    public static func relationCode(forName name: String) -> String? {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        return relations.first { $0.name == trimmed || $0.code == trimmed }?.code
    }
}

import Foundation
