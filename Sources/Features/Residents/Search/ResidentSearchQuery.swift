import AppCore
import Domain
import Foundation
import GRDB
import Storage
import Views

/// A piece of SQL with its arguments, so conditions compose without losing track of the `?`s.
struct SQLPart: Sendable {
    var sql: String
    var arguments: [DatabaseValue]

    init(_ sql: String, _ arguments: [any DatabaseValueConvertible] = []) {
        self.sql = sql
        self.arguments = arguments.map(\.databaseValue)
    }

    var statementArguments: StatementArguments { StatementArguments(arguments) }

    /// The prepared statement. `cached` keeps it prepared for the connection's lifetime: only for
    /// SQL that comes in a bounded number of shapes (see `ResidentSearchQuery.cachesStatements`),
    /// since the cache keeps every text it is given.
    func statement(_ db: Database, cached: Bool) throws -> Statement {
        cached ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
    }

    /// How many rows this query yields, through a cached statement.
    func rowCount(_ db: Database) throws -> Int {
        let count = SQLPart("SELECT count(*) FROM (") + self + SQLPart(")")
        return try Int.fetchOne(count.statement(db, cached: true), arguments: count.statementArguments) ?? 0
    }

    static func joined(_ parts: [SQLPart], separator: String) -> SQLPart {
        var result = SQLPart(parts.map(\.sql).joined(separator: separator))
        result.arguments = parts.flatMap(\.arguments)
        return result
    }

    static func + (a: SQLPart, b: SQLPart) -> SQLPart {
        var result = SQLPart(a.sql + b.sql)
        result.arguments = a.arguments + b.arguments
        return result
    }
}

/// The resident list's SQL: the count, the page of ids and the export batches share one set of
/// conditions on `residents r`; the rows shown are then read by `ResidentDetails`.
///
/// At a million residents the plan matters more than anything, and SQLite has no statistics
/// here (no ANALYZE), so the query picks its own plan from rough row estimates:
/// * Every condition has a *driving* form that an index serves (the scope's buildings through
///   `residents_building`; a search word as `r.id IN (…)` of index lookups: name grams, a name
///   range, reversed phone / ID prefixes, houses; a tag; a political status; a birth-date
///   range) and a *checking* form written so that no index of `residents` applies (`+col`),
///   evaluated on the rows the driver yields.
/// * The condition expected to yield the fewest rows drives; the others check.
/// * For a page in a large, dense result, walking the sort's index (name, birth date, id, or
///   the buildings) and stopping after 50 matches beats collecting and sorting everything;
///   the known total decides which is cheaper.
/// * The count uses the same conditions on `residents` alone: no join serves only the display;
///   with no condition but the area it sums the per-building counts the schema keeps.
/// * The export reads batches of ids by keyset (`r.id > last`), driven the same way when the
///   driver is small, otherwise by one forward walk of the table.
struct ResidentSearchQuery: Sendable {
    /// Rough sizes for the estimates, read cheaply at the start of each request.
    struct Stats: Sendable {
        /// The largest resident id: about the number of residents, read from the rowid b-tree.
        var residents: Double = 1
        /// The largest grid id: a little more than the number of buildings, which are most of
        /// the tree's nodes (counting them costs a quarter of a millisecond at county scale).
        var buildings: Double = 1
        var areaBuildings: Double = 1
        /// Buildings under grid nodes named like each search word (for `gridName` estimates).
        var gridNameBuildings: [String: Double] = [:]
        /// Residents whose name holds each two-character piece (for `nameContains` estimates),
        /// counted up to `gramCountLimit`.
        var gramPostings: [String: Double] = [:]
    }

    /// Name pieces are counted up to this many residents; a piece that common is estimated so.
    static let gramCountLimit = 5_000

    struct Condition {
        /// The form an index serves; nil when it never drives.
        var drive: SQLPart?
        /// The form evaluated on each row found otherwise (lookups per row allowed).
        var check: SQLPart
        /// A form that builds a set once per statement instead of a lookup per row: better
        /// when one statement visits many rows, worse when the statement runs once per batch.
        var setCheck: SQLPart?
        /// Rows visited when this condition drives.
        var estimate: Double
    }

    /// How the rows are reached.
    enum Access: Equatable {
        /// The condition at this index drives.
        case driven(Int)
        /// Walk this index of residents in the sort's order, checking every condition.
        case index(String)
        /// Walk the table by rowid.
        case rowid
    }

    static let pageSize = 50
    /// Above this many driven rows, per-row lookups give way to sets built once.
    static let largeDriver = 50_000.0

    let filter: ResidentFilter
    /// The subtree residents' buildings must lie in: the grid filter's node, else the account's
    /// scope; nil means the whole tree.
    let areaPath: String?
    /// The grid filter named a node that does not exist or lies outside the scope.
    let matchesNothing: Bool
    let today: ChinaDay
    let stats: Stats
    let words: [[SearchAlternative]]

    init(filter: ResidentFilter, areaPath: String?, matchesNothing: Bool = false, today: ChinaDay, stats: Stats = Stats()) {
        self.filter = filter
        self.areaPath = areaPath
        let text = SearchText(filter.q)
        // A partial number is refused before a query is made; should one get here, it matches nothing.
        self.matchesNothing = matchesNothing || text.hasPartialNumber
        self.today = today
        self.stats = stats
        self.words = text.words
    }

    /// Resolves the grid filter against the scope, reads the estimates and builds the query.
    /// `refused`: the search was not allowed (see `NumberSearch`): the query matches nothing.
    static func make(_ db: Database, filter: ResidentFilter, scopePath: String?, today: ChinaDay,
                     refused: Bool = false) throws -> ResidentSearchQuery {
        var areaPath = scopePath
        var matchesNothing = refused
        if let gridID = filter.gridID {
            let path = try String.fetchOne(db.cachedStatement(sql: "SELECT path FROM grids WHERE id = ?"), arguments: [gridID])
            if let path, scopePath.map({ GridPath.isInSubtree(path, of: $0) }) ?? true {
                areaPath = path
            } else {
                matchesNothing = true
            }
        }
        var query = ResidentSearchQuery(filter: filter, areaPath: areaPath, matchesNothing: matchesNothing, today: today)
        var stats = Stats()
        stats.residents = max(1, Double(try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(id) FROM residents")) ?? 1))
        stats.buildings = max(1, Double(try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(id) FROM grids")) ?? 1))
        stats.areaBuildings = Double(try query.areaBuildings.rowCount(db))
        for word in query.words {
            for alternative in word {
                let name: String
                switch alternative {
                case .gridName(let text): name = text
                case .house(let text?, _, _): name = text
                case .nameContains(let text):
                    // The posting list the search reads: most names are rare enough that the
                    // page and the total come from one statement (`fewMatches`).
                    let gram = String(text.prefix(2))
                    stats.gramPostings[gram] = Double(try SQLPart(
                        "SELECT resident_id FROM resident_name_grams WHERE gram = ? LIMIT ?", [gram, Self.gramCountLimit]
                    ).rowCount(db))
                    continue
                default: continue
                }
                stats.gridNameBuildings[name] = Double(try query.buildings(underGridsNamed: name).rowCount(db))
            }
        }
        query = ResidentSearchQuery(filter: filter, areaPath: areaPath, matchesNothing: matchesNothing, today: today, stats: stats)
        return query
    }

    // MARK: - Estimates

    var residentsPerBuilding: Double { stats.residents / stats.buildings }
    var areaEstimate: Double { stats.areaBuildings * residentsPerBuilding }
    var movedOutEstimate: Double { min(areaEstimate, stats.residents / 20) }
    /// No area narrows the list: a moved-out resident's last home is in it anyway. (A scope
    /// that happens to hold every building is not treated so; its plans are merely slower.)
    var areaIsEverything: Bool { areaPath == nil }

    func estimate(_ alternative: SearchAlternative) -> Double {
        let n = stats.residents
        switch alternative {
        case .surname: return n / 20
        // The posting list of the first two characters is read whatever the length.
        case .nameContains(let text): return stats.gramPostings[String(text.prefix(2))] ?? n / 300
        case .gridName(let text): return (stats.gridNameBuildings[text] ?? stats.areaBuildings) * residentsPerBuilding
        case .house(let name, let unit, let room):
            let base = name.map { (stats.gridNameBuildings[$0] ?? stats.areaBuildings) * residentsPerBuilding } ?? areaEstimate
            // Every house of the buildings is looked at; the residents found are fewer.
            return base / 2.5 + base / (unit != nil && room != nil ? 150 : room != nil ? 40 : 4)
        case .phoneTail(let digits): return max(1, n / pow(10, Double(digits.count)))
        case .idTail(let text): return max(1, n / pow(10, Double(min(text.count, 6))))
        }
    }

    static func politicalShare(_ code: String) -> Double {
        switch code {
        case "13": 0.85
        case "01": 0.07
        case "03": 0.05
        default: 0.01
        }
    }

    /// The share of people in an age band, from a rough population pyramid.
    static func ageShare(_ band: AgeBand) -> Double {
        let pieces: [(from: Int, to: Int, share: Double)] = [(0, 17, 0.17), (18, 59, 0.58), (60, 79, 0.2), (80, 120, 0.05)]
        let high = band.maximum ?? 150
        var share = 0.0
        for piece in pieces {
            let overlap = min(high, piece.to) - max(band.minimum, piece.from) + 1
            if overlap > 0 { share += piece.share * Double(overlap) / Double(piece.to - piece.from + 1) }
        }
        return max(share, 0.001)
    }

    // MARK: - Building sets

    /// Ids of the buildings in the area.
    var areaBuildings: SQLPart {
        guard let areaPath else { return SQLPart("SELECT id FROM grids WHERE kind = 'building'") }
        let range = GridPath.subtreeRange(of: areaPath)
        return SQLPart("SELECT id FROM grids WHERE path >= ? AND path < ? AND kind = 'building'", [range.lower, range.upper])
    }

    /// Buildings of the area under a grid node whose name contains `text`. Within an area only
    /// the area's own nodes are searched by name (a community's few thousand, not the county's
    /// tens of thousands); an ancestor of the area so named stands for all of its buildings.
    func buildings(underGridsNamed text: String) -> SQLPart {
        let pattern = "%" + likeEscaped(text) + "%"
        let subtree = """
            SELECT b.id FROM grids m CROSS JOIN grids b ON b.path >= m.path AND b.path < substr(m.path, 1, length(m.path) - 1) || '0' \
            WHERE m.name LIKE ? ESCAPE '\\' AND +b.kind = 'building'
            """
        guard let areaPath else { return SQLPart(subtree, [pattern]) }
        let range = GridPath.subtreeRange(of: areaPath)
        let ancestors = GridPath.ids(in: areaPath).dropLast()
        var part = SQLPart(subtree + " AND m.path >= ? AND m.path < ?", [pattern, range.lower, range.upper])
        if !ancestors.isEmpty {
            part = part + SQLPart(" UNION ALL ") + areaBuildings + SQLPart(
                " AND EXISTS (SELECT 1 FROM grids a WHERE a.id IN (\(ancestors.map { _ in "?" }.joined(separator: ", "))) AND a.name LIKE ? ESCAPE '\\')",
                ancestors.map { $0 as any DatabaseValueConvertible } + [pattern])
        }
        return part
    }

    // MARK: - Conditions

    var conditions: [Condition] {
        var list = [statusCondition]
        for word in words {
            let union = SQLPart.joined(word.map(alternativeIDs), separator: " UNION ALL ")
            let check = SQLPart.joined(word.map { alternativeCheck($0, asSet: false) }, separator: " OR ")
            let setCheck = SQLPart.joined(word.map { alternativeCheck($0, asSet: true) }, separator: " OR ")
            list.append(Condition(drive: SQLPart("r.id IN (") + union + SQLPart(")"), check: check, setCheck: setCheck,
                                  estimate: word.map(estimate).reduce(0, +)))
        }
        if let tagID = filter.tagID {
            let set = "r.id IN (SELECT resident_id FROM resident_tags WHERE tag_id = ?)"
            list.append(Condition(
                drive: SQLPart(set, [tagID]),
                check: SQLPart("EXISTS (SELECT 1 FROM resident_tags t WHERE t.resident_id = r.id AND t.tag_id = ?)", [tagID]),
                setCheck: SQLPart("+" + set, [tagID]), estimate: stats.residents / 30))
        }
        if let band = filter.ageBand {
            let range = band.birthDateRange(on: today)
            var drive = SQLPart("r.birth_date <= ?", [range.upper])
            var check = SQLPart("+r.birth_date <= ?", [range.upper])
            if let lower = range.lowerExclusive {
                drive = drive + SQLPart(" AND r.birth_date > ?", [lower])
                check = check + SQLPart(" AND +r.birth_date > ?", [lower])
            }
            list.append(Condition(drive: drive, check: check, estimate: stats.residents * Self.ageShare(band)))
        }
        if let political = filter.politicalStatus {
            list.append(Condition(drive: SQLPart("r.political_status = ?", [political]),
                                  check: SQLPart("+r.political_status = ?", [political]),
                                  estimate: stats.residents * Self.politicalShare(political)))
        }
        if let relation = filter.relation {
            // No index on relation: a lookup per row for few rows, one pass over residences for many.
            list.append(Condition(
                drive: nil,
                check: SQLPart("EXISTS (SELECT 1 FROM residences x WHERE x.resident_id = r.id AND x.ended_on IS NULL AND x.relation = ?)",
                               [relation]),
                setCheck: SQLPart("+r.id IN (SELECT resident_id FROM residences WHERE ended_on IS NULL AND relation = ?)", [relation]),
                estimate: .infinity))
        }
        return list
    }

    /// Current residents live in a building of the area; moved-out ones are placed by the
    /// building of their last residence.
    var statusCondition: Condition {
        let area = areaBuildings
        let activeDrive = SQLPart("r.building_id IN (") + area + SQLPart(") AND r.status = 'active'")
        let activeCheck = SQLPart("+r.building_id IN (") + area + SQLPart(") AND +r.status = 'active'")
        var movedCheck = SQLPart("+r.status = 'moved_out' AND +r.building_id IS NULL")
        if !areaIsEverything {
            movedCheck = movedCheck + SQLPart("""
                 AND (SELECT h.building_id FROM residences x JOIN houses h ON h.id = x.house_id WHERE x.resident_id = r.id \
                ORDER BY x.ended_on DESC, x.id DESC LIMIT 1) IN (
                """) + area + SQLPart(")")
        }
        // Who moved out of the area: through its houses when the area is small, else through
        // the index entry of all moved-out residents.
        let movedIDs = areaEstimate < stats.residents / 20
            ? SQLPart("SELECT x.resident_id FROM houses h JOIN residences x ON x.house_id = h.id WHERE h.building_id IN (")
                + area + SQLPart(") AND x.ended_on IS NOT NULL")
            : SQLPart("SELECT id FROM residents WHERE building_id IS NULL AND status = 'moved_out'")
        switch filter.status {
        case .active:
            return Condition(drive: activeDrive, check: activeCheck, estimate: areaEstimate)
        case .movedOut:
            return Condition(drive: SQLPart("r.id IN (") + movedIDs + SQLPart(") AND ") + movedCheck, check: movedCheck,
                             estimate: movedOutEstimate)
        case .all where areaIsEverything:
            // Everyone but merged records: no index helps, the table is read once.
            let either = SQLPart("((+r.status = 'active' AND +r.building_id IS NOT NULL) OR (+r.status = 'moved_out' AND +r.building_id IS NULL))")
            return Condition(drive: nil, check: either, estimate: stats.residents)
        case .all:
            let either = SQLPart("((") + activeCheck + SQLPart(") OR (") + movedCheck + SQLPart("))")
            let ids = SQLPart("SELECT id FROM residents WHERE building_id IN (") + area
                + SQLPart(") AND status = 'active' UNION ALL ") + movedIDs
            return Condition(drive: SQLPart("r.id IN (") + ids + SQLPart(") AND ") + either, check: either,
                             estimate: areaEstimate + movedOutEstimate)
        }
    }

    /// An alternative tested on a row found otherwise: on the row's own columns where it can
    /// be (no set to build), with `+` so that no index is tried.
    func alternativeCheck(_ alternative: SearchAlternative, asSet: Bool) -> SQLPart {
        switch alternative {
        case .surname(let text):
            return SQLPart("(+r.name >= ? AND +r.name < ?)", [text, prefixUpperBound(text)])
        case .nameContains(let text):
            return SQLPart("+r.name LIKE ? ESCAPE '\\'", ["%" + likeEscaped(text) + "%"])
        case .gridName(let text):
            return SQLPart("+r.building_id IN (") + buildings(underGridsNamed: text) + SQLPart(")")
        case .house(let gridName, let unit, let room):
            if asSet { return SQLPart("+r.id IN (") + alternativeIDs(alternative) + SQLPart(")") }
            var part = SQLPart("""
                EXISTS (SELECT 1 FROM residences x JOIN houses h ON h.id = x.house_id \
                WHERE x.resident_id = r.id AND x.ended_on IS NULL AND h.building_id IN (
                """) + (gridName.map(buildings(underGridsNamed:)) ?? areaBuildings) + SQLPart(")")
            if let unit { part = part + SQLPart(" AND h.unit IN (?, ?)", [unit, unit + "单元"]) }
            if let room { part = part + SQLPart(" AND h.room IN (?, ?)", [room, room + "室"]) }
            return part + SQLPart(")")
        case .phoneTail(let digits):
            return SQLPart("(+r.phone_rev >= ? AND +r.phone_rev < ?)", Self.tailRange(digits))
        case .idTail(let text):
            return SQLPart("(+r.id_number_rev >= ? AND +r.id_number_rev < ?)", Self.tailRange(text.uppercased()))
        }
    }

    /// The range of reversed keys (`phone_rev`, `id_number_rev`) that end with `tail`.
    static func tailRange(_ tail: String) -> [String] {
        let reversed = TailKey.of(tail)
        return [reversed, prefixUpperBound(reversed)]
    }

    func alternativeIDs(_ alternative: SearchAlternative) -> SQLPart {
        switch alternative {
        case .surname(let text):
            return SQLPart("SELECT id FROM residents WHERE name >= ? AND name < ?", [text, prefixUpperBound(text)])
        case .nameContains(let text):
            let gram = String(text.prefix(2))
            if text.count == 2 {
                return SQLPart("SELECT resident_id FROM resident_name_grams WHERE gram = ?", [gram])
            }
            return SQLPart("""
                SELECT g.resident_id FROM resident_name_grams g JOIN residents n ON n.id = g.resident_id \
                WHERE g.gram = ? AND n.name LIKE ? ESCAPE '\\'
                """, [gram, "%" + likeEscaped(text) + "%"])
        case .gridName(let text):
            return SQLPart("SELECT id FROM residents WHERE building_id IN (") + buildings(underGridsNamed: text) + SQLPart(")")
        case .house(let gridName, let unit, let room):
            var part = SQLPart("""
                SELECT x.resident_id FROM houses h JOIN residences x ON x.house_id = h.id AND x.ended_on IS NULL \
                WHERE h.building_id IN (
                """) + (gridName.map(buildings(underGridsNamed:)) ?? areaBuildings) + SQLPart(")")
            if let unit { part = part + SQLPart(" AND h.unit IN (?, ?)", [unit, unit + "单元"]) }
            if let room { part = part + SQLPart(" AND h.room IN (?, ?)", [room, room + "室"]) }
            return part
        case .phoneTail(let digits):
            return SQLPart("SELECT id FROM residents WHERE phone_rev >= ? AND phone_rev < ?", Self.tailRange(digits))
        case .idTail(let text):
            return SQLPart("SELECT id FROM residents WHERE id_number_rev >= ? AND id_number_rev < ?", Self.tailRange(text.uppercased()))
        }
    }

    // MARK: - Plans

    /// The condition expected to yield the fewest rows.
    var bestDriver: (index: Int, estimate: Double) {
        var best = (index: 0, estimate: Double.infinity)
        for (index, condition) in conditions.enumerated() where condition.drive != nil && condition.estimate < best.estimate {
            best = (index, condition.estimate)
        }
        return best
    }

    /// - Parameters:
    ///   - rowsVisited: how many rows the access is expected to visit: sets pay off for many.
    ///   - repeated: the statement runs once per batch, so sets would be rebuilt each time.
    func whereClause(_ access: Access, rowsVisited: Double, repeated: Bool = false) -> SQLPart {
        if matchesNothing { return SQLPart("0") }
        let list = conditions
        let parts: [SQLPart] = list.enumerated().map { index, condition in
            if access == .driven(index), let drive = condition.drive { return drive }
            if !repeated && rowsVisited > Self.largeDriver, let set = condition.setCheck { return set }
            return condition.check
        }
        return SQLPart("(") + SQLPart.joined(parts, separator: ") AND (") + SQLPart(")")
    }

    func from(_ access: Access) -> String {
        switch access {
        case .driven: "residents r"
        case .index(let name): "residents r INDEXED BY \(name)"
        case .rowid: "residents r NOT INDEXED"
        }
    }

    /// The walk that yields rows already in the sort's order, if any.
    var sortWalk: (access: Access, range: Double)? {
        switch filter.sort {
        case .address: filter.status == .active ? (.driven(0), areaEstimate) : nil
        case .name: (.index("residents_name"), stats.residents)
        case .age, .ageDesc: (.index("residents_birth"), stats.residents)
        case .created: (.rowid, stats.residents)
        }
    }

    /// ORDER BY for an access path; a `+` keeps the planner from walking an index for the order
    /// when another condition drives.
    func orderBy(_ access: Access) -> String {
        let inOrder = sortWalk?.access == access
        let plus = inOrder ? "" : "+"
        switch filter.sort {
        case .address: return "\(plus)r.building_id, r.id"
        case .name: return "\(plus)r.name, r.id"
        case .age: return "\(plus)r.birth_date DESC, r.id DESC"
        case .ageDesc: return "\(plus)r.birth_date, r.id"
        case .created: return "\(plus)r.id DESC"
        }
    }

    /// How to read one page, given the total, and about how many rows that visits: walk the
    /// sort's index when the matches are dense enough that 50 of them come soon, else drive by
    /// the best condition and sort.
    func pageAccess(total: Int, limit: Int, offset: Int) -> (access: Access, rowsVisited: Double) {
        let best = bestDriver
        guard total > 0, let walk = sortWalk else { return (.driven(best.index), best.estimate) }
        let walkCost = Double(offset + limit) * walk.range / Double(total)
        let sortCost = best.estimate + Double(total)
        return walkCost < sortCost ? (walk.access, walkCost) : (.driven(best.index), best.estimate)
    }

    /// Batches by id: driven while the driver is small (it is re-read for every batch), else
    /// one forward walk of the table in rowid order, a window of ids at a time.
    var exportAccess: Access {
        let best = bestDriver
        let batches = max(1, best.estimate / 1000)
        return best.estimate * batches <= stats.residents ? .driven(best.index) : .rowid
    }

    // MARK: - Statements

    /// Nothing but the area narrows the list of current residents, so the total is the sum of
    /// the per-building counts the schema keeps (`building_resident_counts`).
    var countsCurrentResidentsOnly: Bool {
        !matchesNothing && words.isEmpty && filter.status == .active && filter.tagID == nil && filter.ageBand == nil
            && filter.relation == nil && filter.politicalStatus == nil
    }

    var countStatement: SQLPart {
        if countsCurrentResidentsOnly {
            return SQLPart("SELECT coalesce(sum(active), 0) FROM building_resident_counts WHERE building_id IN (")
                + areaBuildings + SQLPart(")")
        }
        let best = bestDriver
        let access = Access.driven(best.index)
        return SQLPart("SELECT count(*) FROM \(from(access)) WHERE ") + whereClause(access, rowsVisited: best.estimate)
    }

    func pageStatement(total: Int, limit: Int, offset: Int) -> SQLPart {
        let (access, rowsVisited) = pageAccess(total: total, limit: limit, offset: offset)
        return SQLPart("SELECT r.id FROM \(from(access)) WHERE ") + whereClause(access, rowsVisited: rowsVisited)
            + SQLPart(" ORDER BY \(orderBy(access)) LIMIT ? OFFSET ?", [limit, offset])
    }

    /// The next batch of the export after `lastID`: at most `limit` ids when driven, else the
    /// matches among the next `window` ids of the table.
    func batchStatement(after lastID: Int64, limit: Int, window: Int64) -> SQLPart {
        let access = exportAccess
        let start = SQLPart("SELECT r.id FROM \(from(access)) WHERE ") + whereClause(access, rowsVisited: stats.residents, repeated: true)
        if access == .rowid {
            return start + SQLPart(" AND r.id > ? AND r.id <= ? ORDER BY r.id", [lastID, lastID + window])
        }
        return start + SQLPart(" AND r.id > ? ORDER BY r.id LIMIT ?", [lastID, limit])
    }

    /// Whether this query's statements stay prepared: with at most one search word their SQL
    /// comes in a bounded set of shapes (the filters and the kinds of word), and preparing
    /// them costs as much as running them for a selective search.
    var cachesStatements: Bool { words.count <= 1 }

    /// A search whose best condition is expected to match at most this many rows reads every
    /// match in one statement, and takes the total and the page from it: one statement where
    /// a count and a page were two (a phone or ID tail, most names).
    static let fewMatches = 1_000

    /// Page `page` of the results, with the pagination around it (`page` is clamped).
    func page(_ db: Database, page: Int, perPage: Int) throws -> (pagination: Pagination, ids: [Int64]) {
        if !countsCurrentResidentsOnly, !matchesNothing, bestDriver.estimate <= Double(Self.fewMatches) {
            let all = try pageIDs(db, total: 0, limit: Self.fewMatches + 1, offset: 0)
            if all.count <= Self.fewMatches {
                let pagination = Pagination(page: page, perPage: perPage, total: all.count)
                return (pagination, Array(all.dropFirst(pagination.offset).prefix(perPage)))
            }
        }
        let total = try count(db)
        let pagination = Pagination(page: page, perPage: perPage, total: total)
        return (pagination, try pageIDs(db, total: total, limit: perPage, offset: pagination.offset))
    }

    func count(_ db: Database) throws -> Int {
        let statement = countStatement
        return try Int.fetchOne(statement.statement(db, cached: cachesStatements), arguments: statement.statementArguments) ?? 0
    }

    func pageIDs(_ db: Database, total: Int, limit: Int, offset: Int) throws -> [Int64] {
        let statement = pageStatement(total: total, limit: limit, offset: offset)
        return try Int64.fetchAll(statement.statement(db, cached: cachesStatements), arguments: statement.statementArguments)
    }

    /// One batch of the export and where the next one starts; nil when there are no more.
    func exportBatch(_ db: Database, after lastID: Int64, limit: Int = 1_000, window: Int64 = 20_000) throws
        -> (ids: [Int64], next: Int64?)
    {
        let statement = batchStatement(after: lastID, limit: limit, window: window)
        let ids = try Int64.fetchAll(db, sql: statement.sql, arguments: statement.statementArguments)
        if exportAccess == .rowid {
            let end = lastID + window
            let more = try Int64.fetchOne(db, sql: "SELECT id FROM residents WHERE id > ? ORDER BY id LIMIT 1", arguments: [end])
            return (ids, more == nil ? nil : end)
        }
        return (ids, ids.count == limit ? ids.last : nil)
    }
}
