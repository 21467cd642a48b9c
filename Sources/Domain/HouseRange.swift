/// A block of houses to create in one step: every unit from `unitsFrom` to `unitsTo`, every
/// floor from `floorsFrom` to `floorsTo`, and `roomsPerFloor` rooms per floor, numbered the way
/// Chinese doors are: floor × 100 + n (101…104, 1801…1804).
public struct HouseRange: Sendable, Equatable {
    public var unitsFrom: Int
    public var unitsTo: Int
    public var floorsFrom: Int
    public var floorsTo: Int
    public var roomsPerFloor: Int

    /// The most houses one request may create (a large building has ~30 floors × 4 units × 6 rooms).
    public static let maxHouses = 2_000
    public static let maxUnits = 99
    public static let maxFloor = 99
    public static let maxRoomsPerFloor = 99

    public init(unitsFrom: Int, unitsTo: Int, floorsFrom: Int, floorsTo: Int, roomsPerFloor: Int) {
        self.unitsFrom = unitsFrom
        self.unitsTo = unitsTo
        self.floorsFrom = floorsFrom
        self.floorsTo = floorsTo
        self.roomsPerFloor = roomsPerFloor
    }

    /// One house of the range.
    public struct Room: Sendable, Equatable {
        public let unit: String
        public let room: String
        public let floor: Int
    }

    /// Problems with the numbers, keyed by form field, as Chinese messages.
    public var problems: [String: String] {
        var problems: [String: String] = [:]
        if unitsFrom < 1 || unitsFrom > Self.maxUnits { problems["units_from"] = "单元号应在 1 到 \(Self.maxUnits) 之间" }
        if unitsTo < 1 || unitsTo > Self.maxUnits { problems["units_to"] = "单元号应在 1 到 \(Self.maxUnits) 之间" }
        else if unitsTo < unitsFrom { problems["units_to"] = "结束单元不能小于起始单元" }
        if floorsFrom < 1 || floorsFrom > Self.maxFloor { problems["floors_from"] = "楼层应在 1 到 \(Self.maxFloor) 之间" }
        if floorsTo < 1 || floorsTo > Self.maxFloor { problems["floors_to"] = "楼层应在 1 到 \(Self.maxFloor) 之间" }
        else if floorsTo < floorsFrom { problems["floors_to"] = "结束楼层不能小于起始楼层" }
        if roomsPerFloor < 1 || roomsPerFloor > Self.maxRoomsPerFloor {
            problems["rooms_per_floor"] = "每层户数应在 1 到 \(Self.maxRoomsPerFloor) 之间"
        }
        if problems.isEmpty && count > Self.maxHouses {
            problems["rooms_per_floor"] = "一次最多创建 \(Self.maxHouses) 套房屋，当前为 \(count) 套，请分批创建"
        }
        return problems
    }

    /// How many houses the range names (0 when a bound is reversed).
    public var count: Int {
        let units = max(0, unitsTo - unitsFrom + 1)
        let floors = max(0, floorsTo - floorsFrom + 1)
        return units * floors * max(0, roomsPerFloor)
    }

    /// The houses, unit by unit, floor by floor. Empty when the range has problems.
    public var rooms: [Room] {
        guard problems.isEmpty else { return [] }
        var rooms: [Room] = []
        rooms.reserveCapacity(count)
        for unit in unitsFrom...unitsTo {
            for floor in floorsFrom...floorsTo {
                for n in 1...roomsPerFloor {
                    rooms.append(Room(unit: String(unit), room: String(floor * 100 + n), floor: floor))
                }
            }
        }
        return rooms
    }
}

/// How a house is written for people: `1单元 301室`.
public enum HouseLabel {
    /// `1` → `1单元`; a unit already written with 单元 (or in letters) stays as it is.
    public static func unit(_ unit: String) -> String {
        unit.allSatisfy({ $0.isASCII && $0.isNumber }) ? unit + "单元" : unit
    }

    /// `301` → `301室`.
    public static func room(_ room: String) -> String {
        room.hasSuffix("室") ? room : room + "室"
    }

    public static func house(unit: String, room: String) -> String {
        self.unit(unit) + " " + self.room(room)
    }

    /// The floor a room number implies: `301` → 3, `1804` → 18, `3A` → nil.
    public static func floor(forRoom room: String) -> Int? {
        guard room.count >= 3, room.count <= 5, room.allSatisfy({ $0.isASCII && $0.isNumber }),
              let number = Int(room) else { return nil }
        let floor = number / 100
        return (1...200).contains(floor) ? floor : nil
    }
}
