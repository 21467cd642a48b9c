import Domain


/// Draws the houses and residents of the demo county, building by building, as batches of
/// rows with batch-local references (a residence names its resident and house by their index
/// in the batch). The writer turns those into ids. Everything comes from the seed: the same
/// seed, county and resident count give the same rows in the same order.
struct ResidentGenerator: Sendable {
    /// One building of the county with its drawn shape.
    struct Building: Sendable {
        let id: Int64
        let code: String
        /// Index of its community in the plan (picks the community's usual area code).
        let community: Int
        let shape: DemoResidents.BuildingShape
    }

    struct HouseRow: Sendable {
        let buildingID: Int64
        let unit: String
        let room: String
        let floor: Int
    }

    struct ResidentRow: Sendable {
        let name: String
        let idNumber: String
        let idNumberReversed: String
        let male: Bool
        let birthDate: String
        let phone: String?
        let phoneReversed: String?
        let politicalStatus: String
        let separated: Bool
        let notes: String
        let movedOut: Bool
        let buildingID: Int64
    }

    struct ResidenceRow: Sendable {
        let resident: Int
        let house: Int
        let relation: String
        let startedOn: String
        /// Set for people who moved out (end reason moved_out).
        let endedOn: String?
    }

    struct Batch: Sendable {
        var houses: [HouseRow] = []
        var residents: [ResidentRow] = []
        var residences: [ResidenceRow] = []
        /// (resident index in the batch, tag name).
        var tags: [(resident: Int, tag: String)] = []
        var occupiedHouses = 0
    }

    /// Running figures for the summary.
    struct Tally: Sendable {
        var ageBands = [Int](repeating: 0, count: 4) // 0–14, 15–59, 60–79, 80+
        var political: [String: Int] = [:]
        var relations: [String: Int] = [:]
        var tags: [String: Int] = [:]
        var withPhone = 0
        var separated = 0
        var movedOut = 0
        var households = 0
        var householdSizes = [Int](repeating: 0, count: 9)
    }

    private let buildings: [Building]
    private var rng: SplitMix64
    /// Household size per occupied house, in house order.
    private var sizes: [UInt8]
    /// Houses left to visit and households left to place (selection sampling).
    private var housesLeft: Int
    private var householdsLeft: Int
    private var nextBuilding = 0
    private var nextHousehold = 0
    private var ids: IDNumberAllocator
    private(set) var tally = Tally()
    /// The reference day (the clock's today in China) as a day number: every demo date lies
    /// before it, and a member drawn as `age` is `age` years old on it.
    private let today: Int
    private let todayParts: (year: Int, month: Int, day: Int)

    /// Fails only when `residents` cannot fit: more than 8 per house.
    init(seed: UInt64, residents: Int, buildings: [Building], existingIDNumbers: Set<String>, today: ChinaDay) throws {
        guard IDNumberAllocator.agreesWithIDNumber() else {
            throw ResidentSeedError("the seed's ID check character disagrees with IDNumber.checkCharacter")
        }
        self.buildings = buildings
        self.today = CivilDate.dayNumber(year: today.year, month: today.month, day: today.day)
        todayParts = (today.year, today.month, today.day)
        rng = SplitMix64(seed: seed, stream: "residents")
        ids = IDNumberAllocator(seed: seed, existing: existingIDNumbers)
        let houses = buildings.reduce(0) { $0 + $1.shape.houses }
        housesLeft = houses
        guard residents >= 0, residents <= houses * Self.maximumHouseholdSize else {
            throw ResidentSeedError("\(residents) residents do not fit into \(houses) houses")
        }
        var households = Int((Double(residents) / DemoResidents.meanHouseholdSize).rounded())
        households = min(max(households, residents > 0 ? 1 : 0), houses, residents)
        households = max(households, (residents + Self.maximumHouseholdSize - 1) / Self.maximumHouseholdSize)
        householdsLeft = households

        // Household sizes from the census-like table, then nudged one person at a time
        // (at random households) until they add up to exactly `residents`.
        var sizes = [UInt8](repeating: 1, count: households)
        var total = 0
        for i in 0..<households {
            let size = Self.householdSizes.draw(&rng)
            sizes[i] = UInt8(size)
            total += size
        }
        while total < residents {
            let i = rng.below(households)
            if sizes[i] < Self.maximumHouseholdSize { sizes[i] += 1; total += 1 }
        }
        while total > residents {
            let i = rng.below(households)
            if sizes[i] > 1 { sizes[i] -= 1; total -= 1 }
        }
        self.sizes = sizes
    }

    static let maximumHouseholdSize = 8
    /// Persons per household (mean ≈ 2.8).
    static let householdSizes = WeightedTable([(1, 18), (2, 28), (3, 26), (4, 15), (5, 8), (6, 5)])

    /// The next batch: whole buildings until it holds at least `limit` residents; nil when
    /// every building is done.
    mutating func nextBatch(limit: Int) -> Batch? {
        guard nextBuilding < buildings.count else { return nil }
        var batch = Batch()
        while nextBuilding < buildings.count && batch.residents.count < limit {
            generate(buildings[nextBuilding], into: &batch)
            nextBuilding += 1
        }
        return batch
    }

    // MARK: - Houses

    private mutating func generate(_ building: Building, into batch: inout Batch) {
        let shape = building.shape
        for unit in 1...shape.units {
            let unitText = String(unit)
            for floor in 1...shape.floors {
                for room in 1...shape.roomsPerFloor {
                    let houseIndex = batch.houses.count
                    batch.houses.append(HouseRow(buildingID: building.id, unit: unitText,
                                                 room: String(floor * 100 + room), floor: floor))
                    // Selection sampling (Knuth's algorithm S): exactly `households` of the
                    // houses are occupied, spread evenly over the county.
                    let occupied = housesLeft > 0 && rng.below(housesLeft) < householdsLeft
                    housesLeft -= 1
                    guard occupied, nextHousehold < sizes.count else { continue }
                    householdsLeft -= 1
                    let size = Int(sizes[nextHousehold])
                    nextHousehold += 1
                    batch.occupiedHouses += 1
                    household(size: size, house: houseIndex, building: building, into: &batch)
                }
            }
        }
    }

    // MARK: - Households

    private struct Member {
        var surname: String
        var male: Bool
        var age: Int
        var head = false
    }

    /// Age ranges with weights, for the person a household is built around.
    private static let singleAges = WeightedTable([((20, 29), 18), ((30, 39), 11), ((40, 49), 9), ((50, 59), 12),
                                                   ((60, 69), 18), ((70, 79), 18), ((80, 89), 11), ((90, 100), 3)])
    private static let coupleAges = WeightedTable([((24, 34), 16), ((35, 49), 9), ((50, 59), 20), ((60, 69), 27),
                                                   ((70, 79), 19), ((80, 95), 9)])
    private static let parentAges = WeightedTable([((26, 29), 8), ((30, 34), 18), ((35, 39), 20), ((40, 44), 18),
                                                   ((45, 49), 16), ((50, 54), 12), ((55, 60), 8)])
    static let surnames = WeightedTable(ResidentNames.surnames)
    static let prefixes = WeightedTable(ResidentNames.mobilePrefixes)

    private mutating func age(from table: WeightedTable<(Int, Int)>) -> Int {
        let (low, high) = table.draw(&rng)
        return rng.int(in: low...high)
    }

    private mutating func surname() -> String {
        Self.surnames.draw(&rng)
    }

    private mutating func household(size: Int, house: Int, building: Building, into batch: inout Batch) {
        var members: [Member] = []
        members.reserveCapacity(size)
        func clampAge(_ value: Int) -> Int { min(100, max(0, value)) }

        switch size {
        case 1:
            members.append(Member(surname: surname(), male: rng.chance(0.45), age: age(from: Self.singleAges), head: true))
        case 2 where rng.chance(0.62):
            // A couple.
            let head = Member(surname: surname(), male: rng.chance(0.8), age: age(from: Self.coupleAges), head: true)
            members.append(head)
            let offset = head.male ? rng.int(in: -6...2) : rng.int(in: -2...6)
            members.append(Member(surname: surname(), male: !head.male, age: max(20, clampAge(head.age + offset))))
        case 2:
            // One parent and a child.
            let head = Member(surname: surname(), male: rng.chance(0.35), age: age(from: Self.parentAges), head: true)
            members.append(head)
            members.append(Member(surname: head.male || rng.chance(0.5) ? head.surname : surname(),
                                  male: rng.chance(0.515), age: max(0, head.age - rng.int(in: 22...36))))
        default:
            if size >= 4 && rng.chance(0.25) {
                // Three generations around an older couple: their grown child and grandchildren.
                let head = Member(surname: surname(), male: rng.chance(0.85), age: rng.int(in: 52...75), head: true)
                members.append(head)
                members.append(Member(surname: surname(), male: !head.male, age: clampAge(head.age + rng.int(in: -4...3))))
                let child = Member(surname: head.male ? head.surname : surname(), male: rng.chance(0.55),
                                   age: max(18, head.age - rng.int(in: 24...32)))
                members.append(child)
                let grandSurname = child.male ? child.surname : surname()
                while members.count < size {
                    members.append(Member(surname: grandSurname, male: rng.chance(0.52),
                                          age: max(0, child.age - rng.int(in: 22...34) + rng.int(in: 0...6))))
                }
            } else {
                // Parents (or one parent) with children, sometimes grandparents.
                let head = Member(surname: surname(), male: rng.chance(0.75), age: age(from: Self.parentAges), head: true)
                members.append(head)
                if rng.chance(0.85) {
                    let offset = head.male ? rng.int(in: -5...2) : rng.int(in: -2...5)
                    members.append(Member(surname: surname(), male: !head.male, age: max(20, clampAge(head.age + offset))))
                }
                let fatherSurname = members.first { $0.male }?.surname
                let remaining = size - members.count
                let grandparents = size >= 5 ? min(2, remaining - 1) : (remaining >= 2 && rng.chance(0.25) ? 1 : 0)
                for _ in 0..<(remaining - grandparents) {
                    let childSurname = fatherSurname ?? (rng.chance(0.5) ? head.surname : surname())
                    members.append(Member(surname: childSurname, male: rng.chance(0.515),
                                          age: max(0, head.age - rng.int(in: 22...38))))
                }
                for _ in 0..<grandparents {
                    let male = rng.chance(0.4)
                    members.append(Member(surname: male ? (fatherSurname ?? head.surname) : surname(), male: male,
                                          age: clampAge(head.age + rng.int(in: 24...32))))
                }
            }
        }
        emit(members, house: house, building: building, into: &batch)
    }

    // MARK: - Persons

    private mutating func emit(_ members: [Member], house: Int, building: Building, into batch: inout Batch) {
        tally.households += 1
        tally.householdSizes[min(members.count, tally.householdSizes.count - 1)] += 1
        let tenant = rng.chance(0.08)
        let poor = rng.chance(0.01)
        let allOld = members.count >= 2 && members.allSatisfy { $0.age >= 60 }
        let alone = members.count == 1
        let headBirthYear = todayParts.year - 1 - (members.first?.age ?? 40)
        // When the household moved in.
        let moveIn: Int
        if tenant {
            moveIn = today - 3 * 365 + rng.below(3 * 365)
        } else {
            let firstYear = min(todayParts.year - 1, max(1995, headBirthYear + 22))
            let firstDay = CivilDate.dayNumber(year: firstYear, month: 1, day: 1)
            moveIn = firstDay + rng.below(today - firstDay)
        }
        let communityArea = ResidentNames.localAreas[building.community % ResidentNames.localAreas.count]
        let lastDay = today - 1

        for member in members {
            // Born after today's date `age + 1` years ago and before it `age` years ago (a day
            // short, so a birth day the allocator moves on by one is still not in the future).
            let earliest = CivilDate.dayNumber(year: todayParts.year - member.age - 1, month: todayParts.month, day: todayParts.day) + 1
            let latest = CivilDate.dayNumber(year: todayParts.year - member.age, month: todayParts.month, day: todayParts.day) - 1
            let drawnBirthDay = earliest + rng.below(max(1, latest - earliest + 1))
            let birthYear = CivilDate.components(drawnBirthDay).year
            let separated = rng.chance(tenant ? 0.45 : 0.017)
            let area: String
            if (separated || tenant) && rng.chance(0.7) {
                area = rng.element(of: ResidentNames.outsideAreas) ?? communityArea
            } else {
                area = rng.chance(0.75) ? communityArea : (rng.element(of: ResidentNames.localAreas) ?? communityArea)
            }
            let (idNumber, birthDay) = ids.allocate(area: area, birthDay: drawnBirthDay, male: member.male)
            let name = member.surname + givenName(birthYear: birthYear, male: member.male)

            let phone = self.phone(age: member.age)
            let political = politicalStatus(age: member.age)
            let movedOut = rng.chance(0.02)

            // Tags.
            var tags: [String] = []
            if alone && member.age >= 60 && rng.chance(0.92) { tags.append("独居老人") }
            if allOld && rng.chance(0.9) { tags.append("空巢老人") }
            if member.age >= 80 && rng.chance(0.97) { tags.append("高龄老人") }
            let disabled = rng.chance(member.age < 60 ? 0.01 : member.age < 80 ? 0.025 : 0.05)
            if disabled { tags.append("残疾人") }
            if poor { tags.append("低保户") }
            if (alone && member.age >= 60 && rng.chance(0.04)) || rng.chance(0.0005) { tags.append("特困人员") }
            if member.age < 16 && rng.chance(0.005) { tags.append("留守儿童") }
            if member.male ? (30...85).contains(member.age) && rng.chance(0.035) : rng.chance(0.002) { tags.append("退役军人") }
            if rng.chance(member.age < 60 ? 0.003 : 0.015) { tags.append("重病患者") }
            var notes = ""
            if tags.contains("独居老人") && rng.chance(0.3) {
                notes = rng.element(of: ResidentNames.lonelyElderNotes) ?? ""
            }

            let residentIndex = batch.residents.count
            batch.residents.append(ResidentRow(
                name: name, idNumber: idNumber, idNumberReversed: TailKey.of(idNumber), male: member.male,
                birthDate: CivilDate.text(birthDay), phone: phone, phoneReversed: phone.map(TailKey.of),
                politicalStatus: political, separated: separated, notes: notes, movedOut: movedOut, buildingID: building.id))
            for tag in tags {
                batch.tags.append((residentIndex, tag))
                tally.tags[tag, default: 0] += 1
            }

            // Residences: tenants rent; in an owned home the head is usually the owner (and
            // often registered there too, an owner + hukou pair); the others live there.
            let start = max(moveIn, birthDay)
            let end = movedOut ? start + rng.below(max(1, lastDay - start + 1)) : nil
            var relations: [String]
            if tenant {
                relations = ["tenant"]
            } else if member.head && rng.chance(0.7) {
                relations = rng.chance(0.35) ? ["owner", "hukou"] : ["owner"]
            } else {
                relations = [rng.chance(0.1) ? "hukou" : "resident"]
            }
            for relation in relations {
                batch.residences.append(ResidenceRow(resident: residentIndex, house: house, relation: relation,
                                                     startedOn: CivilDate.text(start), endedOn: end.map(CivilDate.text)))
                tally.relations[relation, default: 0] += 1
            }

            tally.ageBands[member.age < 15 ? 0 : member.age < 60 ? 1 : member.age < 80 ? 2 : 3] += 1
            tally.political[political, default: 0] += 1
            if phone != nil { tally.withPhone += 1 }
            if separated { tally.separated += 1 }
            if movedOut { tally.movedOut += 1 }
        }
    }

    private mutating func givenName(birthYear: Int, male: Bool) -> String {
        let pool = ResidentNames.pool(era: ResidentNames.Era(birthYear: birthYear), male: male)
        if rng.chance(0.3) {
            return rng.element(of: pool.single) ?? "明"
        }
        return (rng.element(of: pool.first) ?? "建") + (rng.element(of: pool.second) ?? "华")
    }

    private mutating func phone(age: Int) -> String? {
        let share: Double = age < 12 ? 0.15 : age < 18 ? 0.8 : age < 75 ? 0.99 : 0.85
        guard rng.chance(share) else { return nil }
        var bytes = Array(Self.prefixes.draw(&rng).utf8)
        appendDigits(rng.below(100_000_000), width: 8, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// 政治面貌 codes of GB/T 4762 (see `Vocabulary.politicalStatuses`).
    private mutating func politicalStatus(age: Int) -> String {
        if age >= 18 {
            let party: Double = age < 25 ? 0.035 : age < 35 ? 0.085 : age < 60 ? 0.095 : 0.11
            if rng.chance(party) { return "01" }
            if age <= 35 && rng.chance(0.045) { return "02" }
        }
        if (14...28).contains(age) && rng.chance(0.36) { return "03" }
        if age >= 25 && rng.chance(0.004) {
            return ["04", "05", "06", "07", "08", "09", "10", "11", "12"][rng.below(9)]
        }
        return "13"
    }
}

/// Hands out ID numbers that are unique by construction: for each area, birth date and sex
/// it counts the people so far and gives the next free sequence number (odd for men, even for
/// women), starting from a point that depends on the seed so the numbers look scattered.
/// Numbers already in the database are skipped.
struct IDNumberAllocator: Sendable {
    private let seed: UInt64
    private let existing: Set<String>
    private var used: [UInt64: UInt16] = [:]
    /// Sequence numbers per area, date and sex: 001…997 (odd) for men, 002…998 (even) for women.
    static let sequencesPerKey = 499

    static let areas = ResidentNames.localAreas + ResidentNames.outsideAreas

    init(seed: UInt64, existing: Set<String>) {
        self.seed = seed
        self.existing = existing
    }

    /// GB 11643 check character of 17 ASCII digits, on bytes: the same as
    /// `IDNumber.checkCharacter(for:)` (`agreesWithIDNumber` makes sure) without its per-call
    /// generic Character handling, which showed up as a fifth of drawing a million residents.
    static func checkByte(_ digits: ArraySlice<UInt8>) -> UInt8 {
        var sum = 0
        for (digit, weight) in zip(digits, weights) { sum += Int(digit &- 0x30) * weight }
        return checkBytes[sum % 11]
    }

    private static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    private static let checkBytes = Array("10X98765432".utf8)

    /// Whether `checkByte` gives what `IDNumber.checkCharacter` gives, on numbers that reach
    /// every check character.
    static func agreesWithIDNumber() -> Bool {
        var rng = SplitMix64(seed: 20_260_101)
        for _ in 0..<200 {
            var bytes: [UInt8] = []
            appendDigits(rng.below(1_000_000_000), width: 9, to: &bytes)
            appendDigits(rng.below(100_000_000), width: 8, to: &bytes)
            let text = String(decoding: bytes, as: UTF8.self)
            guard let expected = IDNumber.checkCharacter(for: text),
                  Character(UnicodeScalar(checkByte(bytes[...]))) == expected else { return false }
        }
        return true
    }

    /// The ID number and the birth day it encodes: the day asked for, unless all 499 numbers
    /// of that day and sex are taken in every area, when the next day is used.
    mutating func allocate(area: String, birthDay: Int, male: Bool) -> (idNumber: String, birthDay: Int) {
        let areas = Self.areas
        var areaCode = area
        var day = birthDay
        var attempts = 0
        while true {
            let areaNumber = UInt64(areaCode) ?? 0
            // Day numbers are negative before 1970: shift them (1800-01-01 and later map to ≥ 0).
            let dayKey = UInt64(max(0, day + 100_000))
            let key = (areaNumber &* 1_000_000 &+ dayKey) &* 2 &+ (male ? 1 : 0)
            let count = Int(used[key] ?? 0)
            if count < Self.sequencesPerKey {
                used[key] = UInt16(count + 1)
                var mixer = SplitMix64(seed: seed ^ (key &* 0x9e37_79b9_7f4a_7c15))
                let start = Int(mixer.next() % UInt64(Self.sequencesPerKey))
                let slot = (start + count) % Self.sequencesPerKey
                let sequence = male ? 2 * slot + 1 : 2 * slot + 2
                var bytes = Array(areaCode.utf8)
                let date = CivilDate.components(day)
                appendDigits(date.year, width: 4, to: &bytes)
                appendDigits(date.month, width: 2, to: &bytes)
                appendDigits(date.day, width: 2, to: &bytes)
                appendDigits(sequence, width: 3, to: &bytes)
                bytes.append(Self.checkByte(bytes[0..<17]))
                let value = String(decoding: bytes, as: UTF8.self)
                if !existing.contains(value) { return (value, day) }
                continue
            }
            // All numbers of this area, day and sex are taken: try the next area, and after
            // every area the next day (this ends: each try uses up a number).
            attempts += 1
            if attempts % areas.count == 0 { day += 1 }
            let index = areas.firstIndex(of: areaCode) ?? 0
            areaCode = areas[(index + 1) % areas.count]
        }
    }
}

/// Appends `value` as `width` decimal digits (zero-padded; higher digits dropped).
func appendDigits(_ value: Int, width: Int, to bytes: inout [UInt8]) {
    var digits = [UInt8](repeating: 0x30, count: width)
    var rest = value
    var i = width - 1
    while i >= 0 {
        digits[i] = UInt8(0x30 + rest % 10)
        rest /= 10
        i -= 1
    }
    bytes.append(contentsOf: digits)
}

/// Proleptic Gregorian dates as day numbers (days since 1970-01-01), so drawing a date in a
/// range is drawing an integer. All demo dates lie before the generator's reference day, so
/// the same seed and day give the same rows.
enum CivilDate {
    static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }
    static func daysIn(year: Int) -> Int { isLeap(year) ? 366 : 365 }

    /// Howard Hinnant's days_from_civil.
    static func dayNumber(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Howard Hinnant's civil_from_days.
    static func components(_ dayNumber: Int) -> (year: Int, month: Int, day: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// "YYYY-MM-DD".
    static func text(_ dayNumber: Int) -> String {
        let date = components(dayNumber)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(10)
        appendDigits(date.year, width: 4, to: &bytes)
        bytes.append(0x2D)
        appendDigits(date.month, width: 2, to: &bytes)
        bytes.append(0x2D)
        appendDigits(date.day, width: 2, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
