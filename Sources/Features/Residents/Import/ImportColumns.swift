import Domain
import Foundation

/// The columns of the import file, named in Chinese in the header row. The export writes the
/// same names in this order (社区 may be added to tell estates of the same name apart).
enum ImportColumn: String, CaseIterable, Sendable {
    case name = "姓名"
    case idNumber = "身份证号"
    case phone = "手机号"
    case estate = "小区"
    case building = "楼栋"
    case unit = "单元"
    case room = "房号"
    case relation = "与房屋关系"
    case politicalStatus = "政治面貌"
    case tags = "标签"
    case notes = "备注"
    case community = "社区"

    static let required: [ImportColumn] = [.name, .idNumber, .estate, .building, .unit, .room]

    /// The column list of the sample and of the export, in order.
    static let standardOrder: [ImportColumn] = [
        .name, .idNumber, .phone, .estate, .building, .unit, .room, .relation, .politicalStatus, .tags, .notes,
    ]

    /// Other names people give the same columns in their own sheets.
    static let aliases: [String: ImportColumn] = [
        "身份证号码": .idNumber, "公民身份号码": .idNumber, "身份证": .idNumber,
        "手机号码": .phone, "手机": .phone, "联系电话": .phone, "电话": .phone,
        "小区名称": .estate, "楼栋号": .building, "楼号": .building, "楼": .building,
        "单元号": .unit, "房间号": .room, "门牌号": .room, "房屋关系": .relation, "人屋关系": .relation,
        "居民标签": .tags, "重点人群": .tags, "所属社区": .community,
    ]

    /// What the form page explains about each column.
    var explanation: String {
        switch self {
        case .name: "必填，1–50 个字"
        case .idNumber: "必填，18 位（15 位旧号码会自动升位），末位 X 大小写均可；出生日期和性别由号码自动得出"
        case .phone: "选填，11 位手机号"
        case .estate: "必填，须是您管辖范围内已有的小区"
        case .building: "必填，如“3号楼”；小区内没有的楼栋会自动新建"
        case .unit: "必填，如“1”"
        case .room: "必填，如“301”；没有的房屋会自动新建"
        case .relation: "选填：产权人、户籍、常住、租住，留空视为常住"
        case .politicalStatus: "选填：中共党员、中共预备党员、共青团员、群众等，新居民留空视为群众"
        case .tags: "选填：重点人群标签，多个用顿号、逗号、分号或空格分开，须是系统中已有的标签"
        case .notes: "选填，不超过 2000 字"
        case .community: "选填：有同名小区时用来区分"
        }
    }
}

/// Where each known column sits in a file, and what else the header has.
struct ImportHeader: Sendable {
    var index: [ImportColumn: Int] = [:]
    var unknown: [String] = []

    /// Maps the header's cells; throws a message naming missing or repeated columns.
    static func map(_ cells: [String]) throws(CSVFileError) -> ImportHeader {
        var header = ImportHeader()
        var duplicates: [String] = []
        for (position, raw) in cells.enumerated() {
            let name = ImportText.clean(raw)
            if name.isEmpty { continue }
            guard let column = ImportColumn(rawValue: name) ?? ImportColumn.aliases[name] else {
                header.unknown.append(name)
                continue
            }
            if header.index[column] != nil {
                duplicates.append(column.rawValue)
                continue
            }
            header.index[column] = position
        }
        if !duplicates.isEmpty {
            throw CSVFileError(message: "表头中“\(duplicates.joined(separator: "、"))”列出现了不止一次，请只保留一列")
        }
        let missing = ImportColumn.required.filter { header.index[$0] == nil }
        if !missing.isEmpty {
            throw CSVFileError(message: "表头缺少必填列：\(missing.map(\.rawValue).joined(separator: "、"))。第一行应为列名：\(ImportColumn.standardOrder.map(\.rawValue).joined(separator: "、"))")
        }
        return header
    }

    func value(_ column: ImportColumn, in fields: [String]) -> String {
        guard let position = index[column], position < fields.count else { return "" }
        return ImportText.clean(fields[position])
    }

    func has(_ column: ImportColumn) -> Bool { index[column] != nil }
}

/// Text clean-up shared by the header and the cells.
enum ImportText {
    /// Trims ASCII and full-width spaces, tabs, line breaks and a stray BOM.
    static func clean(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.first, let last = scalars.last, isTrimmed(first) || isTrimmed(last) else { return text }
        var start = scalars.startIndex, end = scalars.endIndex
        while start < end, isTrimmed(scalars[start]) { start = scalars.index(after: start) }
        while end > start, isTrimmed(scalars[scalars.index(before: end)]) { end = scalars.index(before: end) }
        return String(scalars[start..<end])
    }

    private static func isTrimmed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF: true
        default: false
        }
    }

    /// Length as SQLite's length() counts it (code points).
    static func length(_ text: String) -> Int { text.unicodeScalars.count }

    static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    /// Tag cells list names separated by 、 , ， ; ； | or spaces.
    static func splitTags(_ text: String) -> [String] {
        text.split(whereSeparator: { "、,，;；|｜ \u{3000}\t".contains($0) }).map(String.init).filter { !$0.isEmpty }
    }
}
