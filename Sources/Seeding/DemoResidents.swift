import Domain
import Foundation
import GRDB
import Storage

/// Houses 房屋 and residents 居民 for the demo county (`jinlin seed --residents N`).
///
/// Every building of the county gets its houses: units (1–6) × floors (6–33) × rooms per
/// floor (2–4), drawn from the seed and the building's code alone, in three realistic kinds
/// (walk-ups, mid-rises, high-rises). Then exactly N residents move in: about 2.8 per
/// occupied house, with the occupied houses spread evenly over the county (selection
/// sampling), in households whose ages, surnames and relations fit together. ID numbers are
/// valid (area codes of Hangzhou and Ningbo, or of the provinces people come from), unique by
/// construction, and agree with birth date and sex. About 2% have moved out (their residence
/// ended, no current building), 5% live away from their registration (人户分离), 85% have a
/// phone; political status and key-group tags come at realistic rates.
///
/// Rows are written in batches of whole buildings (about `batchSize` residents) in one
/// transaction each, up to 2,000 rows per INSERT statement (see `BulkInsert`), statements prepared
/// once per batch and ids assigned here, not by per-row lookups; the next batch is drawn on
/// another thread meanwhile. The name-gram
/// triggers still fire for every resident.
public struct DemoResidents: Sendable {
    /// Residents per occupied house, on average.
    public static let meanHouseholdSize = 2.8
    /// Share of houses with someone living in them, when the county is only as large as needed.
    public static let occupancy = 0.88
    public static let defaultBatchSize = 50_000

    public var seed: UInt64
    public var residents: Int
    public var batchSize: Int
    /// The day ages are counted on (the clock's today in China).
    public var today: ChinaDay

    public init(seed: UInt64, residents: Int, batchSize: Int = DemoResidents.defaultBatchSize, today: ChinaDay) {
        self.seed = seed
        self.today = today
        self.residents = residents
        self.batchSize = max(1, batchSize)
    }

    // MARK: - Buildings

    /// The houses of one building: `units` × `floors` × `roomsPerFloor`.
    public struct BuildingShape: Sendable, Hashable {
        public enum Kind: String, Sendable {
            /// 多层 walk-up, 6–7 floors.
            case walkUp = "多层"
            /// 小高层, 11–18 floors.
            case midRise = "小高层"
            /// 高层, 24–33 floors.
            case highRise = "高层"
        }

        public var kind: Kind
        public var units: Int
        public var floors: Int
        public var roomsPerFloor: Int
        public var houses: Int { units * floors * roomsPerFloor }
    }

    private static let walkUpUnits = WeightedTable([(1, 5), (2, 30), (3, 35), (4, 20), (5, 6), (6, 4)])
    private static let midRiseUnits = WeightedTable([(1, 40), (2, 45), (3, 15)])
    private static let highRiseUnits = WeightedTable([(1, 60), (2, 40)])

    /// A building's shape, from the seed and its code only: the same building always has the
    /// same houses, however many residents or communities are asked for.
    public static func shape(seed: UInt64, buildingCode: String) -> BuildingShape {
        var rng = SplitMix64(seed: seed, stream: "houses:" + buildingCode)
        let roll = rng.below(100)
        if roll < 55 {
            return BuildingShape(kind: .walkUp, units: walkUpUnits.draw(&rng), floors: rng.chance(0.7) ? 6 : 7,
                                 roomsPerFloor: rng.chance(0.85) ? 2 : 3)
        } else if roll < 80 {
            return BuildingShape(kind: .midRise, units: midRiseUnits.draw(&rng), floors: rng.int(in: 11...18),
                                 roomsPerFloor: rng.int(in: 2...4))
        } else {
            return BuildingShape(kind: .highRise, units: highRiseUnits.draw(&rng), floors: rng.int(in: 24...33),
                                 roomsPerFloor: rng.int(in: 2...4))
        }
    }

    /// Houses per community of a plan, in plan order.
    public static func houses(in plan: [DemoCounty.CommunityPlan], seed: UInt64) -> [Int] {
        plan.map { community in
            buildingCodes(of: community.tree).reduce(0) { $0 + shape(seed: seed, buildingCode: $1).houses }
        }
    }

    static func buildingCodes(of node: DemoCounty.Node) -> [String] {
        node.kind == .building ? [node.code] : node.children.flatMap(buildingCodes)
    }

    // MARK: - How many communities

    /// How many communities a number of residents needs.
    public struct CommunityRule: Sendable {
        public var residents: Int
        /// What `--communities` asked for.
        public var requested: Int
        /// The fewest communities whose houses hold the residents at `occupancy` and
        /// `meanHouseholdSize`.
        public var needed: Int
        /// max(requested, needed).
        public var chosen: Int
        /// Houses in the chosen communities.
        public var houses: Int

        public var explanation: String {
            let housesNeeded = Int((Double(residents) / DemoResidents.meanHouseholdSize).rounded(.up))
            var text = "规则 rule: \(residents) residents ÷ \(DemoResidents.meanHouseholdSize) per occupied house = \(housesNeeded) households; "
                + "at \(Int(DemoResidents.occupancy * 100))% occupancy that takes the houses of \(needed) communit\(needed == 1 ? "y" : "ies") "
                + "(each 2–4 estates × 2–4 grids × 3–8 buildings, a building 1–6 units × 6–33 floors × 2–4 rooms)"
            if chosen > requested {
                text += "; --communities \(requested) raised to \(chosen)"
            } else {
                text += "; using the \(chosen) requested"
            }
            let share = houses > 0 ? Double(housesNeeded) / Double(houses) * 100 : 0
            return text + String(format: ": %d houses, %.0f%% occupied", houses, min(share, 100))
        }
    }

    public static let maximumCommunities = DemoCounty.communityRange.upperBound

    /// The rule for `residents` with at least `requested` communities. Throws when even the
    /// largest county (200 communities) is too small.
    public static func communities(forResidents residents: Int, seed: UInt64, requested: Int) throws -> CommunityRule {
        let plan = DemoCounty(seed: seed, communities: maximumCommunities).plan()
        let perCommunity = houses(in: plan, seed: seed)
        let capacityPerHouse = occupancy * meanHouseholdSize
        var needed = 0
        var capacity = 0.0
        while capacity < Double(residents) {
            guard needed < perCommunity.count else {
                throw ResidentSeedError("""
                    \(residents) 名居民超出演示县的容量（最多约 \(Int(capacity)) 名，\(maximumCommunities) 个社区） / \
                    \(residents) residents need more than the \(maximumCommunities) communities the demo county can have \
                    (at most about \(Int(capacity)))
                    """)
            }
            capacity += Double(perCommunity[needed]) * capacityPerHouse
            needed += 1
        }
        let chosen = max(requested, needed, 1)
        let houses = perCommunity.prefix(chosen).reduce(0, +)
        return CommunityRule(residents: residents, requested: requested, needed: needed, chosen: chosen, houses: houses)
    }

    // MARK: - Writing

    /// Progress after each committed batch.
    public struct Progress: Sendable {
        public var residents: Int
        public var total: Int
        public var elapsed: Duration
    }

    /// Writes the houses and residents of `county` (a plan already written by
    /// `DemoCounty.populate`, whose ids are in `gridIDs`). Refuses when the county's buildings
    /// already have houses, so running the same seed twice never duplicates anyone.
    public func populate(database: AppDatabase, county: [DemoCounty.CommunityPlan], gridIDs: [String: Int64],
                         progress: ((Progress) -> Void)? = nil) throws -> ResidentSeedSummary {
        let clock = ContinuousClock()
        let start = clock.now
        var buildings: [ResidentGenerator.Building] = []
        for (index, community) in county.enumerated() {
            for code in Self.buildingCodes(of: community.tree) {
                guard let id = gridIDs[code] else {
                    throw ResidentSeedError("demo plan: building \(code) is not in the database")
                }
                buildings.append(ResidentGenerator.Building(id: id, code: code, community: index,
                                                            shape: Self.shape(seed: seed, buildingCode: code)))
            }
        }

        let (existingHouses, existingResidents, existingIDs, tagIDs) = try database.read { db in
            var houses = 0, residents = 0
            // Chunks of ids keep each statement well below SQLite's variable limit.
            var index = 0
            while index < buildings.count {
                let chunk = buildings[index..<min(index + 500, buildings.count)].map(\.id)
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                houses += try Int.fetchOne(db, sql: "SELECT count(*) FROM houses WHERE building_id IN (\(marks))",
                                           arguments: StatementArguments(chunk)) ?? 0
                residents += try Int.fetchOne(db, sql: "SELECT count(*) FROM residents WHERE building_id IN (\(marks))",
                                              arguments: StatementArguments(chunk)) ?? 0
                index += 500
            }
            // Other residents (another county, hand-made records) keep their ID numbers.
            var ids = Set<String>()
            if houses == 0, try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM residents)") == true {
                ids = try Set(String.fetchAll(db, sql: "SELECT id_number FROM residents"))
            }
            var tags: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, name FROM tags") {
                tags[row["name"]] = row["id"]
            }
            return (houses, residents, ids, tags)
        }
        if existingHouses > 0 || existingResidents > 0 {
            throw ResidentSeedError.alreadySeeded(seed: seed, houses: existingHouses, residents: existingResidents)
        }

        let generator = try ResidentGenerator(seed: seed, residents: residents, buildings: buildings,
                                              existingIDNumbers: existingIDs, today: today)
        var summary = ResidentSeedSummary(seed: seed, buildings: buildings.count)
        summary.houses = buildings.reduce(0) { $0 + $1.shape.houses }
        for building in buildings { summary.buildingKinds[building.shape.kind.rawValue, default: 0] += 1 }

        // A big page cache while writing: the indexes on residents (ID number, name, reversed
        // ID and phone) and the name grams take random inserts. Restored afterwards.
        let saved = try database.bulkWrite { db -> (Int, Int) in
            let cache = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000
            let temp = try Int.fetchOne(db, sql: "PRAGMA temp_store") ?? 0
            try db.execute(sql: "PRAGMA cache_size = -262144") // 256 MiB
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            return (cache, temp)
        }
        defer {
            try? database.bulkWrite { db in
                try db.execute(sql: "PRAGMA cache_size = \(saved.0)")
                try db.execute(sql: "PRAGMA temp_store = \(saved.1)")
            }
        }

        // Draw on another thread while this one writes: the next batch is ready when the
        // current one commits.
        let channel = BatchChannel(capacity: 2)
        let limit = batchSize
        let producer = generator
        Thread.detachNewThread {
            var generator = producer
            let clock = ContinuousClock()
            var generating = Duration.zero
            while true {
                let t0 = clock.now
                guard let batch = generator.nextBatch(limit: limit) else { break }
                generating += clock.now - t0
                if !channel.put(batch) { return }
            }
            channel.finish(tally: generator.tally, generating: generating)
        }
        do {
            while let batch = channel.take() {
                try database.write { db in
                    try write(batch, tagIDs: tagIDs, db, summary: &summary)
                }
                summary.batches += 1
                progress?(Progress(residents: summary.residents, total: residents, elapsed: clock.now - start))
            }
        } catch {
            channel.cancel()
            throw error
        }
        (summary.tally, summary.timings.generate) = channel.result
        summary.nameGrams = try database.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM resident_name_grams WHERE resident_id BETWEEN ? AND ?",
                             arguments: [summary.firstResidentID, summary.lastResidentID]) ?? 0
        }
        summary.elapsed = clock.now - start
        return summary
    }

    private func write(_ batch: ResidentGenerator.Batch, tagIDs: [String: Int64], _ db: Database,
                       summary: inout ResidentSeedSummary) throws {
        let clock = ContinuousClock()
        // Ids continue after whatever is there; read once per batch, inside its transaction.
        let houseBase = (try Int64.fetchOne(db, sql: "SELECT max(id) FROM houses") ?? 0) + 1
        let residentBase = (try Int64.fetchOne(db, sql: "SELECT max(id) FROM residents") ?? 0) + 1
        let residenceBase = (try Int64.fetchOne(db, sql: "SELECT max(id) FROM residences") ?? 0) + 1

        var t = clock.now
        var houses = BulkInsert(db, table: "houses", columns: ["id", "building_id", "unit", "room", "floor"])
        for (i, house) in batch.houses.enumerated() {
            houses.add(houseBase + Int64(i))
            houses.add(house.buildingID)
            houses.add(house.unit)
            houses.add(house.room)
            houses.add(house.floor)
            try houses.endRow()
        }
        try houses.finish()
        summary.timings.houses += clock.now - t

        t = clock.now
        let cpu0 = threadCPUTime()
        var residents = BulkInsert(db, table: "residents", columns: [
            "id", "name", "id_number", "id_number_rev", "sex", "birth_date", "phone", "phone_rev",
            "political_status", "separated", "notes", "status", "building_id",
        ])
        for (i, r) in batch.residents.enumerated() {
            residents.add(residentBase + Int64(i))
            residents.add(r.name)
            residents.add(r.idNumber)
            residents.add(r.idNumberReversed)
            residents.add(r.male ? "M" : "F")
            residents.add(r.birthDate)
            residents.add(r.phone)
            residents.add(r.phoneReversed)
            residents.add(r.politicalStatus)
            residents.add(r.separated ? 1 : 0)
            residents.add(r.notes)
            residents.add(r.movedOut ? "moved_out" : "active")
            residents.add(r.movedOut ? nil : r.buildingID)
            try residents.endRow()
        }
        try residents.finish()
        summary.timings.residents += clock.now - t
        summary.timings.residentsCPU += threadCPUTime() - cpu0

        t = clock.now
        var residences = BulkInsert(db, table: "residences", columns: [
            "id", "resident_id", "house_id", "relation", "started_on", "ended_on", "end_reason",
        ])
        for (i, r) in batch.residences.enumerated() {
            residences.add(residenceBase + Int64(i))
            residences.add(residentBase + Int64(r.resident))
            residences.add(houseBase + Int64(r.house))
            residences.add(r.relation)
            residences.add(r.startedOn)
            residences.add(r.endedOn)
            residences.add(r.endedOn == nil ? nil : "moved_out")
            try residences.endRow()
        }
        try residences.finish()
        summary.timings.residences += clock.now - t

        t = clock.now
        var tags = BulkInsert(db, table: "resident_tags", columns: ["resident_id", "tag_id"])
        for (resident, tag) in batch.tags {
            guard let tagID = tagIDs[tag] else { continue } // a tag removed from the list: skip it
            tags.add(residentBase + Int64(resident))
            tags.add(tagID)
            try tags.endRow()
        }
        try tags.finish()
        let tagRows = tags.rowsWritten
        summary.timings.tags += clock.now - t

        if summary.firstResidentID == 0 && !batch.residents.isEmpty { summary.firstResidentID = residentBase }
        if !batch.residents.isEmpty { summary.lastResidentID = residentBase + Int64(batch.residents.count) - 1 }
        summary.housesWritten += batch.houses.count
        summary.occupiedHouses += batch.occupiedHouses
        summary.residents += batch.residents.count
        summary.residences += batch.residences.count
        summary.tagRows += tagRows
    }
}

/// What `DemoResidents.populate` wrote.
public struct ResidentSeedSummary: Sendable {
    public struct Timings: Sendable {
        /// Drawing the rows (no database).
        public var generate = Duration.zero
        public var houses = Duration.zero
        /// Residents rows, including the name-gram trigger.
        public var residents = Duration.zero
        /// CPU time of the writing thread for the residents rows (wall time minus waiting for a core).
        public var residentsCPU = Duration.zero
        public var residences = Duration.zero
        public var tags = Duration.zero
    }

    public var seed: UInt64
    public var buildings: Int
    public var buildingKinds: [String: Int] = [:]
    /// Houses of the plan (all written).
    public var houses = 0
    public var housesWritten = 0
    public var occupiedHouses = 0
    public var residents = 0
    public var residences = 0
    public var tagRows = 0
    public var nameGrams = 0
    public var batches = 0
    public var firstResidentID: Int64 = 0
    public var lastResidentID: Int64 = 0
    public var elapsed = Duration.zero
    public var timings = Timings()
    var tally = ResidentGenerator.Tally()

    init(seed: UInt64, buildings: Int) {
        self.seed = seed
        self.buildings = buildings
    }

    public var households: Int { tally.households }
    public var withPhone: Int { tally.withPhone }
    public var separated: Int { tally.separated }
    public var movedOut: Int { tally.movedOut }
    /// Residents per age band: 0–14, 15–59, 60–79, 80+.
    public var ageBands: [Int] { tally.ageBands }
    /// Residents per political status code.
    public var politicalStatuses: [String: Int] { tally.political }
    /// Residence rows per relation code.
    public var relations: [String: Int] { tally.relations }
    /// Residents per tag name.
    public var tags: [String: Int] { tally.tags }
    /// Households by size (index = persons; the last counts 8 or more).
    public var householdSizes: [Int] { tally.householdSizes }
    public var elapsedSeconds: Double { elapsed.seconds }
    /// Rows of all four tables per second of the whole run.
    public var rowsPerSecond: Double {
        let seconds = elapsed.seconds
        return seconds > 0 ? Double(housesWritten + residents + residences + tagRows) / seconds : 0
    }
}

public struct ResidentSeedError: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// True when refused because the county already has houses and residents.
    public var alreadySeeded = false

    init(_ description: String) {
        self.description = description
    }

    static func alreadySeeded(seed: UInt64, houses: Int, residents: Int) -> ResidentSeedError {
        var error = ResidentSeedError("""
            演示县（seed \(seed)）已有 \(houses) 套房屋、\(residents) 名居民，未再生成。如需重新生成，请使用新的数据目录。 / \
            the demo county of seed \(seed) already has \(houses) houses and \(residents) residents; nothing was added. \
            To seed residents again, use a fresh data directory.
            """)
        error.alreadySeeded = true
        return error
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}

/// CPU time used by the calling thread so far.
func threadCPUTime() -> Duration {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
}
