import Domain
import Foundation
import Web

/// The list's filters as read from the query string (and carried into the export link).
/// Unknown or malformed values are dropped, so a hand-edited URL never errors.
struct ResidentFilter: Sendable, Equatable {
    enum Status: String, Sendable, CaseIterable {
        case active
        case movedOut = "moved_out"
        case all

        var label: String {
            switch self {
            case .active: "在住"
            case .movedOut: "已迁出"
            case .all: "全部（含迁出）"
            }
        }
    }

    enum Sort: String, Sendable, CaseIterable {
        /// By building, then in the order records were made: follows the index on building.
        case address
        case name
        /// Youngest first.
        case age
        /// Oldest first.
        case ageDesc = "age_desc"
        /// Newest records first.
        case created

        var label: String {
            switch self {
            case .address: "按楼栋"
            case .name: "按姓名"
            case .age: "按年龄（从小到大）"
            case .ageDesc: "按年龄（从大到小）"
            case .created: "按登记时间（最新在前）"
            }
        }
    }

    var q = ""
    var gridID: Int64?
    var tagID: Int64?
    var ageBand: AgeBand?
    var relation: String?
    var politicalStatus: String?
    var status = Status.active
    var sort = Sort.address
    var page = 1

    init() {}

    init(query: FormData) {
        q = SearchText.normalized(String((query["q"] ?? "").prefix(SearchText.maximumLength)))
        gridID = Self.positiveID(query["grid"])
        tagID = Self.positiveID(query["tag"])
        ageBand = query["age"].flatMap(AgeBand.init(parameter:))
        if let value = query["relation"], Vocabulary.relations.contains(where: { $0.code == value }) { relation = value }
        if let value = query["political_status"], Vocabulary.politicalStatuses.contains(where: { $0.code == value }) {
            politicalStatus = value
        }
        status = query["status"].flatMap(Status.init(rawValue:)) ?? .active
        sort = query["sort"].flatMap(Sort.init(rawValue:)) ?? .address
        page = query["page"].flatMap { Int($0) }.map { min(max($0, 1), 100_000) } ?? 1
    }

    static func positiveID(_ text: String?) -> Int64? {
        guard let text, let value = Int64(text.trimmingCharacters(in: .whitespaces)), value > 0 else { return nil }
        return value
    }

    /// The filter as query parameters (without the page), only those that differ from the defaults.
    var queryItems: [(name: String, value: String)] {
        var items: [(name: String, value: String)] = []
        if !q.isEmpty { items.append(("q", q)) }
        if let gridID { items.append(("grid", String(gridID))) }
        if let tagID { items.append(("tag", String(tagID))) }
        if let ageBand { items.append(("age", ageBand.parameter)) }
        if let relation { items.append(("relation", relation)) }
        if let politicalStatus { items.append(("political_status", politicalStatus)) }
        if status != .active { items.append(("status", status.rawValue)) }
        if sort != .address { items.append(("sort", sort.rawValue)) }
        return items
    }

    var queryString: String { FormData.encode(queryItems.map { ($0.name, $0.value) }) }

    /// Whether anything narrows the list beyond the scope.
    var isFiltered: Bool {
        !q.isEmpty || gridID != nil || tagID != nil || ageBand != nil || relation != nil || politicalStatus != nil
            || status != .active
    }

    /// For the audit entry of an export.
    /// The filter as the audit log keeps it: complete numbers in the search text masked.
    var auditRecord: [String: String] {
        Dictionary(uniqueKeysWithValues: queryItems.map { item in
            guard item.name == "q" else { return (item.name, item.value) }
            let words = item.value.split(separator: " ").map { word in
                let number = NumberQuery.classify(String(word))
                return number.isFullNumber ? number.maskedForAudit : String(word)
            }
            return (item.name, words.joined(separator: " "))
        })
    }
}
