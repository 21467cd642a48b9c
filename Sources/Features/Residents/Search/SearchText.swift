import Domain
import Foundation

/// What one word of the search box can mean, chosen by its shape.
enum SearchAlternative: Sendable, Equatable {
    /// One character: names starting with it (the surname), an index range on `name`.
    case surname(String)
    /// Two or more characters inside a name: the `resident_name_grams` posting list of the
    /// first two characters, then `LIKE` on the few names it yields.
    case nameContains(String)
    /// A community, estate, grid or building whose name contains the text: residents of
    /// buildings in that subtree.
    case gridName(String)
    /// A unit and/or room (`3单元`, `301`, `301室`, `3单元301`, `3-301`), optionally within
    /// buildings whose grid names contain `gridName` (`1号楼301`).
    case house(gridName: String?, unit: String?, room: String?)
    /// The last digits of a mobile number: a prefix range on `phone_rev`.
    case phoneTail(String)
    /// The last characters of an ID number (uppercase X): a prefix range on `id_number_rev`.
    case idTail(String)
}

/// The search box, split into words; a resident matches when every word matches one of its
/// alternatives.
struct SearchText: Sendable, Equatable {
    static let maximumWords = 4
    static let maximumLength = 50

    let words: [[SearchAlternative]]
    /// The words that name a complete ID number or phone: only roles that may reveal search so,
    /// and each such search is audited.
    let fullNumbers: [NumberQuery]
    /// A word asked for more of a number than its visible tail without naming all of it.
    let hasPartialNumber: Bool

    var isEmpty: Bool { words.isEmpty }

    init(_ raw: String) {
        let text = Self.normalized(String(raw.prefix(Self.maximumLength)))
        let parts = text.split(whereSeparator: { $0.isWhitespace || $0 == "," || $0 == "，" || $0 == "、" })
            .prefix(Self.maximumWords).map(String.init)
        let numbers = parts.map(NumberQuery.classify)
        fullNumbers = numbers.filter(\.isFullNumber)
        hasPartialNumber = numbers.contains(.partial)
        words = hasPartialNumber ? [] : parts.map(Self.alternatives(for:)).filter { !$0.isEmpty }
    }

    /// Full-width ASCII (`１２３４`, `Ｘ`) as typed by Chinese input methods becomes half-width.
    static func normalized(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if (0xFF01...0xFF5E).contains(scalar.value), let half = Unicode.Scalar(scalar.value - 0xFEE0) {
                scalars.append(half)
            } else if scalar.value == 0x3000 {
                scalars.append(" ")
            } else {
                scalars.append(scalar)
            }
        }
        return String(scalars).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }

    static func alternatives(for word: String) -> [SearchAlternative] {
        let chars = Array(word)
        guard !chars.isEmpty else { return [] }
        // Numbers: the visible tail of a phone or ID number, or a complete one (see NumberQuery).
        switch NumberQuery.classify(word) {
        case .visibleTail(let tail):
            return tail.hasSuffix("X") ? [.idTail(tail)] : [.phoneTail(tail), .idTail(tail)]
        case .fullPhone(let phone): return [.phoneTail(phone)]
        case .fullIDNumber(let id): return [.idTail(id)]
        case .partial: return []
        case .none: break
        }
        // Up to three digits: a room number.
        if chars.allSatisfy(isDigit) { return [.house(gridName: nil, unit: nil, room: word)] }
        if let house = house(in: chars) { return [house] }
        if chars.count == 1 { return [.surname(word)] }
        // Names hold no digits: "1号楼" can only be a place.
        if chars.contains(where: isDigit) { return [.gridName(word)] }
        return [.nameContains(word), .gridName(word)]
    }

    /// `3单元`, `301`, `301室`, `3单元301(室)`, `3-301`, each optionally after a building name.
    static func house(in chars: [Character]) -> SearchAlternative? {
        var rest = chars[...]
        var room: String?
        var unit: String?
        let roomMarked = rest.last == "室"
        if roomMarked { rest = rest.dropLast() }
        let trailingDigits = rest.reversed().prefix(while: isDigit).count
        if trailingDigits > 0 {
            room = String(rest.suffix(trailingDigits))
            rest = rest.dropLast(trailingDigits)
        } else if roomMarked {
            return nil
        }
        if rest.last == "-", room != nil {
            // 3-301: unit 3, room 301.
            let before = rest.dropLast()
            let unitDigits = before.reversed().prefix(while: isDigit).count
            guard unitDigits > 0 else { return nil }
            unit = String(before.suffix(unitDigits))
            rest = before.dropLast(unitDigits)
        } else if rest.count >= 2, rest.suffix(2).elementsEqual("单元") {
            let before = rest.dropLast(2)
            let unitDigits = before.reversed().prefix(while: isDigit).count
            guard unitDigits > 0 else { return nil }
            unit = String(before.suffix(unitDigits))
            rest = before.dropLast(unitDigits)
        }
        guard unit != nil || room != nil else { return nil }
        // "1号楼301" is building 1号楼, room 301; but "阳光2" is no address.
        if room != nil && unit == nil && !roomMarked && !rest.isEmpty && !(rest.last == "楼" || rest.last == "栋" || rest.last == "幢" || rest.last == "座") {
            return nil
        }
        let name = String(rest).trimmingCharacters(in: .whitespaces)
        return .house(gridName: name.isEmpty ? nil : name, unit: unit, room: room)
    }
}

/// The exclusive upper bound of the strings starting with `prefix` in binary (UTF-8, code
/// point) order: the prefix with its last character incremented.
func prefixUpperBound(_ prefix: String) -> String {
    var scalars = Array(prefix.unicodeScalars)
    while let last = scalars.popLast() {
        var next = last.value + 1
        if next == 0xD800 { next = 0xE000 }
        if let scalar = Unicode.Scalar(next) {
            scalars.append(scalar)
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            return String(view)
        }
    }
    // Only U+10FFFF characters: nothing sorts after the prefix but the prefix itself.
    return prefix + "\u{10FFFF}"
}
