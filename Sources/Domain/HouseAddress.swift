/// How an address reads in lists, rosters and exports: 社区 / 小区 / 楼栋 / 单元 / 室.
public enum HouseAddress {
    /// "3单元" for a unit stored as "3"; a unit already written with 单元 is kept.
    public static func unitLabel(_ unit: String) -> String {
        unit.isEmpty || endsWith(unit, "单元") ? unit : unit + "单元"
    }

    /// "301室" for a room stored as "301"; a room already written with 室 is kept.
    public static func roomLabel(_ room: String) -> String {
        room.isEmpty || endsWith(room, "室") ? room : room + "室"
    }

    /// A byte-wise `hasSuffix` (the list labels every address on the page).
    static func endsWith(_ text: String, _ suffix: String) -> Bool {
        text.utf8.count >= suffix.utf8.count && text.utf8.suffix(suffix.utf8.count).elementsEqual(suffix.utf8)
    }

    /// The parts that are present, joined with " / ".
    public static func line(community: String?, estate: String?, building: String?, unit: String?, room: String?) -> String {
        var line = ""
        line.reserveCapacity(96)
        func add(_ part: String?) {
            guard let part, !part.isEmpty else { return }
            if !line.isEmpty { line += " / " }
            line += part
        }
        add(community)
        add(estate)
        add(building)
        add(unit.map(unitLabel))
        add(room.map(roomLabel))
        return line
    }
}
