import Domain
import Foundation

/// One data row of the file after the checks that need no database: every value normalized.
/// Optional fields are nil when the cell was blank ("leave the stored value as it is").
struct ImportRow: Sendable {
    let line: Int
    let name: String
    let id: IDNumber
    /// "YYYY-MM-DD", from the ID number.
    let birthDate: String
    let phone: String?
    let community: String
    let estate: String
    let building: String
    let unit: String
    let room: String
    /// A `residences.relation` code; a blank cell means 常住.
    let relation: String
    /// A GB/T 4762 code; nil when blank (群众 for a new resident, unchanged for an existing one).
    let politicalStatus: String?
    /// Tag ids, sorted; nil when blank (unchanged for an existing resident).
    let tagIDs: [Int64]?
    let notes: String?
}

/// A row that cannot be imported, with the file's line number and the reasons in Chinese.
struct ImportRowError: Error, Sendable, Codable, Equatable {
    let line: Int
    let message: String
}

/// The row checks that need no database besides the tag list.
struct ImportRowValidator {
    let header: ImportHeader
    /// Active tag names → ids.
    let tags: [String: Int64]
    let today: ChinaDay

    init(header: ImportHeader, tags: [String: Int64], today: Date) {
        self.header = header
        self.tags = tags
        self.today = ChinaDay.of(today)
    }

    /// Names as spreadsheets write them → codes, looked up before the general functions.
    static let politicalCodes: [String: String] = {
        var codes: [String: String] = [:]
        for (code, name) in Vocabulary.politicalStatuses { codes[name] = code; codes[code] = code }
        for name in ["党员", "中国共产党党员", "预备党员", "中国共产党预备党员", "团员", "中国共产主义青年团团员", "无党派", "无党派民主人士"] {
            codes[name] = Vocabulary.politicalStatusCode(forName: name)
        }
        return codes
    }()

    static let relationAliases: [String: String] = [
        "业主": "owner", "房主": "owner", "产权人": "owner", "户籍": "hukou", "户籍人口": "hukou",
        "常住": "resident", "居住": "resident", "实住": "resident", "租住": "tenant", "租户": "tenant", "租客": "tenant",
    ]

    func validate(_ record: CSVRecord) -> Result<ImportRow, ImportRowError> {
        let fields = record.fields
        var problems: [String] = []

        let name = header.value(.name, in: fields)
        if name.isEmpty {
            problems.append("姓名不能为空")
        } else if ImportText.length(name) > 50 {
            problems.append("姓名不能超过 50 个字")
        } else if ImportText.hasControlCharacters(name) {
            problems.append("姓名含有不可见字符")
        }

        let idText = header.value(.idNumber, in: fields)
        var id: IDNumber?
        switch IDNumber.parse(idText, on: today) {
        case .success(let parsed): id = parsed
        case .failure(let problem):
            if idText.uppercased().contains("E+") {
                problems.append("身份证号被 Excel 显示成了科学计数法（\(idText)），请把该列设为“文本”格式并重新填写号码")
            } else {
                problems.append(problem.message)
            }
        }

        var phone: String?
        switch ImportFastPaths.phone(header.value(.phone, in: fields)) {
        case .success(let parsed): phone = parsed
        case .failure(let problem): problems.append(problem.message)
        }

        let estate = header.value(.estate, in: fields)
        if estate.isEmpty { problems.append("小区不能为空") }
        let community = header.value(.community, in: fields)

        let building = header.value(.building, in: fields)
        if building.isEmpty {
            problems.append("楼栋不能为空")
        } else if ImportText.length(building) > 100 || ImportText.hasControlCharacters(building) {
            problems.append("楼栋名称不能超过 100 个字")
        }
        let unit = header.value(.unit, in: fields)
        if unit.isEmpty {
            problems.append("单元不能为空")
        } else if ImportText.length(unit) > 20 {
            problems.append("单元不能超过 20 个字")
        }
        let room = header.value(.room, in: fields)
        if room.isEmpty {
            problems.append("房号不能为空")
        } else if ImportText.length(room) > 20 {
            problems.append("房号不能超过 20 个字")
        }

        let relationText = header.value(.relation, in: fields)
        var relation = "resident"
        if !relationText.isEmpty {
            if let code = Self.relationAliases[relationText] ?? Vocabulary.relationCode(forName: relationText) {
                relation = code
            } else {
                problems.append("与房屋关系“\(relationText)”无法识别，可填：产权人、户籍、常住、租住")
            }
        }

        let politicalText = header.value(.politicalStatus, in: fields)
        var political: String?
        if !politicalText.isEmpty {
            if let code = Self.politicalCodes[politicalText] ?? Vocabulary.politicalStatusCode(forName: politicalText) {
                political = code
            } else {
                problems.append("政治面貌“\(politicalText)”无法识别，可填：中共党员、中共预备党员、共青团员、群众等")
            }
        }

        let tagText = header.value(.tags, in: fields)
        var tagIDs: [Int64]?
        if !tagText.isEmpty {
            var ids: Set<Int64> = []
            var unknown: [String] = []
            for tagName in ImportText.splitTags(tagText) {
                if let tagID = tags[tagName] { ids.insert(tagID) } else { unknown.append(tagName) }
            }
            if unknown.isEmpty {
                tagIDs = ids.sorted()
            } else {
                problems.append("标签“\(unknown.joined(separator: "、"))”不存在，请使用系统中已有的重点人群标签")
            }
        }

        let notesText = header.value(.notes, in: fields)
        var notes: String?
        if !notesText.isEmpty {
            if ImportText.length(notesText) > 2000 {
                problems.append("备注不能超过 2000 字")
            } else {
                notes = notesText
            }
        }

        if !problems.isEmpty {
            return .failure(ImportRowError(line: record.line, message: problems.joined(separator: "；")))
        }
        guard let id else {
            return .failure(ImportRowError(line: record.line, message: IDNumber.Problem.empty.message))
        }
        return .success(ImportRow(line: record.line, name: name, id: id, birthDate: id.birthDateText, phone: phone, community: community,
                                  estate: estate, building: building, unit: unit, room: room, relation: relation,
                                  politicalStatus: political, tagIDs: tagIDs, notes: notes))
    }
}
