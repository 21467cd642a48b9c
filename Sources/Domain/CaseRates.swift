import GRDB

/// The one definition of the cases' rates (诉求工单考核指标). The rates page, the overdue lists,
/// the monthly report and every export read them from here; the README gives the same formulas.
///
/// Cases count in the month (Beijing time) they were reported; merged duplicates are left out.
///
/// - 响应及时率 = responded in time / response due. *Response due*: accepted cases, and cases not
///   accepted whose response deadline has passed. *In time*: accepted within the category's
///   response target (accept − report ≤ target).
/// - 按期办结率 = resolved by the deadline / resolved. *Resolved*: resolved, followed up or closed
///   (a reopened case counts again when it is resolved again); *by the deadline*: at or before it.
/// - 办结率 = resolved / reported.
/// - 满意率 = (满意 + 基本满意) / followed up (the latest follow-up of each case).
/// - Response time = accept − report; resolution time = the seconds the resolution clock ran
///   (accept → resolve, less paused periods and the wait for a follow-up before a reopen).
///   Average, and the 90th percentile by nearest rank (the smallest value with at least 90 % of
///   the values at or below it).
public enum CaseRates {
    /// How the figures are split.
    public enum Grouping: Sendable, Hashable {
        /// One row for the whole scope (key 0).
        case total
        /// By the child of the scope's node that holds the case (key: its grid id; 0 for cases on
        /// the scope's node itself).
        case childGrid
        /// By the unit the case is (or was last) assigned to (0: never assigned).
        case unit
        case category
        /// By month, `YYYY-MM`.
        case month

        public func keySQL(scopeLength: Int) -> String {
            switch self {
            case .total: "0"
            case .childGrid:
                "CAST(substr(grid_path, \(scopeLength + 1), instr(substr(grid_path, \(scopeLength + 1)), '/') - 1) AS INTEGER)"
            case .unit: "coalesce(unit_id, 0)"
            case .category: "category_id"
            case .month: "month"
            }
        }
    }

    /// The figures of one group.
    public struct Figures: Sendable, Equatable {
        public var key: String
        public var reported = 0
        public var responseDue = 0
        public var respondedInTime = 0
        public var resolved = 0
        public var resolvedInTime = 0
        public var followedUp = 0
        public var satisfied = 0
        /// Seconds.
        public var responseAverage: Double?
        public var responseP90: Int64?
        public var resolutionAverage: Double?
        public var resolutionP90: Int64?

        public init(key: String) { self.key = key }

        /// 响应及时率.
        public var responseRate: Double? { ratio(respondedInTime, responseDue) }
        /// 按期办结率.
        public var onTimeRate: Double? { ratio(resolvedInTime, resolved) }
        /// 办结率.
        public var resolutionRate: Double? { ratio(resolved, reported) }
        /// 满意率.
        public var satisfactionRate: Double? { ratio(satisfied, followedUp) }

        func ratio(_ part: Int, _ whole: Int) -> Double? { whole > 0 ? Double(part) / Double(whole) : nil }
    }

    /// The counts and averages as one SQL statement over the running sums of
    /// `case_month_figures` (migration 0013 keeps them from `cases` by triggers), with the cases
    /// not accepted past their response deadline read live (that depends on the hour; the unary
    /// `+` keeps SQLite on the index of running cases rather than every case of the months).
    /// Parameters, in order: first month, last month (`YYYY-MM`), the scope's path range (lower,
    /// upper; `/` and `0` for the whole tree), now (seconds since 1970), and a unit subtree's path
    /// range (NULL, NULL for every unit).
    /// `unitScoped`: a unit subtree's range is given (the roll-up rows then do not serve).
    public static func sql(grouping: Grouping, scopeLength: Int, unitScoped: Bool) -> String {
        // The rows of the scope's node, or of the roots for the whole tree; by child grid, the
        // rows of the node's children and the node's own cases (key 0).
        let nodes: String
        let key: String
        switch grouping {
        case .childGrid:
            nodes = """
                (f.node_id IN (SELECT id FROM grids WHERE parent_id IS (SELECT id FROM scope_node))
                 OR (f.own = 1 AND f.node_id = (SELECT id FROM scope_node)))
                """
            key = "CASE WHEN f.node_id = (SELECT id FROM scope_node) THEN 0 ELSE f.node_id END"
        default:
            nodes = "f.node_id IN (SELECT id FROM scope_node UNION ALL SELECT id FROM grids WHERE ?3 = '/' AND parent_id IS NULL)"
            key = switch grouping {
            case .total, .childGrid: "0"
            case .unit: "f.unit_id"
            case .category: "f.category_id"
            case .month: "f.month"
            }
        }
        // The roll-up rows (every unit and category) serve the total, the grids and the months;
        // the detail rows the split by unit or category, and anything a unit's range restricts.
        let rows = switch grouping {
        case .unit, .category: "f.unit_id >= 0"
        case .total, .childGrid, .month: unitScoped ? "f.unit_id >= 0" : "f.unit_id = -1"
        }
        return """
            WITH scope_node AS (SELECT id FROM grids WHERE path = ?3),
            figures AS (
              SELECT \(key) AS k, reported, accepted AS response_due, responded_in_time, resolved, resolved_in_time, followed_up,
                     satisfied, response_total, response_count, resolution_total, resolution_count
              FROM case_month_figures f
              WHERE \(nodes) AND f.month >= ?1 AND f.month <= ?2 AND \(rows)
                AND (?6 IS NULL OR f.unit_id IN (SELECT id FROM units WHERE path >= ?6 AND path < ?7))
              UNION ALL
              SELECT \(grouping.keySQL(scopeLength: scopeLength)), 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0
              FROM cases WHERE status = 'reported' AND due_at < ?5 AND +month >= ?1 AND +month <= ?2
                AND +grid_path >= ?3 AND +grid_path < ?4 AND (?6 IS NULL OR (unit_path >= ?6 AND unit_path < ?7))
            )
            SELECT k, sum(reported) AS reported, sum(response_due) AS response_due, sum(responded_in_time) AS responded_in_time,
                   sum(resolved) AS resolved, sum(resolved_in_time) AS resolved_in_time, sum(followed_up) AS followed_up,
                   sum(satisfied) AS satisfied,
                   CAST(sum(response_total) AS REAL) / nullif(sum(response_count), 0) AS response_average,
                   CAST(sum(resolution_total) AS REAL) / nullif(sum(resolution_count), 0) AS resolution_average
            FROM figures GROUP BY k HAVING sum(reported) > 0 ORDER BY k
            """
    }

    /// The response and resolution times of the cases behind the percentiles, with every
    /// grouping's key. Same parameters as `sql`.
    public static func timesSQL(scopeLength: Int) -> String {
        let keys = [Grouping.childGrid, .unit, .category, .month].map { $0.keySQL(scopeLength: scopeLength) }
        return """
            SELECT \(keys.joined(separator: ", ")), response_seconds, resolution_seconds
            FROM cases WHERE month >= ?1 AND month <= ?2 AND grid_path >= ?3 AND grid_path < ?4 AND status <> 'merged'
              AND (response_seconds IS NOT NULL OR resolution_seconds IS NOT NULL)
              AND (?6 IS NULL OR (unit_path >= ?6 AND unit_path < ?7))
            """
    }

    /// The 90th percentile by nearest rank: the smallest value with at least 90 % of the
    /// values at or below it.
    public static func p90(_ values: [Int64]) -> Int64? {
        guard !values.isEmpty else { return nil }
        return values.sorted()[(9 * values.count + 9) / 10 - 1]
    }

    /// The figures of the cases reported from `firstMonth` to `lastMonth` in the subtree at
    /// `scopePath` (nil: everything), split by each of `groupings`. `unitPath` restricts them
    /// to the cases assigned to a unit's subtree (a unit handler's view). `percentiles` false
    /// leaves the 90th percentiles out (they read every case of the months; the counts do not).
    public static func figures(_ db: Database, scopePath: String?, unitPath: String? = nil, firstMonth: String, lastMonth: String,
                               groupings: [Grouping], percentiles: Bool = true, now: Int64) throws -> [Grouping: [Figures]] {
        let path = scopePath ?? "/"
        let range = GridPath.subtreeRange(of: path)
        let units = unitPath.map(GridPath.subtreeRange)
        let arguments: StatementArguments = [firstMonth, lastMonth, range.lower, range.upper, now, units?.lower, units?.upper]
        var result: [Grouping: [Figures]] = [:]
        for grouping in groupings {
            let statement = sql(grouping: grouping, scopeLength: path.count, unitScoped: unitPath != nil)
            result[grouping] = try Row.fetchAll(db, sql: statement, arguments: arguments).map { row in
                var figures = Figures(key: (row["k"] as DatabaseValue).plainText)
                figures.reported = row["reported"] ?? 0
                figures.responseDue = row["response_due"] ?? 0
                figures.respondedInTime = row["responded_in_time"] ?? 0
                figures.resolved = row["resolved"] ?? 0
                figures.resolvedInTime = row["resolved_in_time"] ?? 0
                figures.followedUp = row["followed_up"] ?? 0
                figures.satisfied = row["satisfied"] ?? 0
                figures.responseAverage = row["response_average"]
                figures.resolutionAverage = row["resolution_average"]
                return figures
            }
        }
        guard percentiles, !groupings.isEmpty else { return result }
        // One pass over the months' times collects the values of every group of every grouping.
        var times: [Grouping: [String: (response: [Int64], resolution: [Int64])]] = [:]
        let cursor = try Row.fetchCursor(db, sql: timesSQL(scopeLength: path.count), arguments: arguments)
        while let row = try cursor.next() {
            let response: Int64? = row[4], resolution: Int64? = row[5]
            for grouping in groupings {
                let key = switch grouping {
                case .total: "0"
                case .childGrid: (row[0] as DatabaseValue).plainText
                case .unit: (row[1] as DatabaseValue).plainText
                case .category: (row[2] as DatabaseValue).plainText
                case .month: (row[3] as DatabaseValue).plainText
                }
                if let response { times[grouping, default: [:]][key, default: ([], [])].response.append(response) }
                if let resolution { times[grouping, default: [:]][key, default: ([], [])].resolution.append(resolution) }
            }
        }
        for grouping in groupings {
            result[grouping] = result[grouping]?.map { figures in
                var figures = figures
                let values = times[grouping]?[figures.key]
                figures.responseP90 = p90(values?.response ?? [])
                figures.resolutionP90 = p90(values?.resolution ?? [])
                return figures
            }
        }
        return result
    }

    /// The figures split by one grouping.
    public static func figures(_ db: Database, scopePath: String?, unitPath: String? = nil, firstMonth: String, lastMonth: String,
                               grouping: Grouping, percentiles: Bool = true, now: Int64) throws -> [Figures] {
        try figures(db, scopePath: scopePath, unitPath: unitPath, firstMonth: firstMonth, lastMonth: lastMonth, groupings: [grouping],
                    percentiles: percentiles, now: now)[grouping] ?? []
    }

    /// The whole scope's figures (zeros when no case was reported).
    public static func total(_ db: Database, scopePath: String?, unitPath: String? = nil, firstMonth: String, lastMonth: String,
                             now: Int64) throws -> Figures {
        try figures(db, scopePath: scopePath, unitPath: unitPath, firstMonth: firstMonth, lastMonth: lastMonth, grouping: .total,
                    now: now).first
            ?? Figures(key: "0")
    }

    /// A rate as people read it: `98.6%`, or `—` when nothing counts.
    public static func percent(_ rate: Double?) -> String {
        guard let rate else { return "—" }
        return String(format: "%.1f%%", rate * 100)
    }

    /// A duration as people read it: `25 分钟`, `3.5 小时`, `2.1 天`.
    public static func duration(_ seconds: Double?) -> String {
        guard let seconds else { return "—" }
        if seconds < 3600 { return "\(Int((seconds / 60).rounded())) 分钟" }
        if seconds < 86_400 * 2 { return String(format: "%.1f 小时", seconds / 3600) }
        return String(format: "%.1f 天", seconds / 86_400)
    }
}

extension DatabaseValue {
    /// A group key as plain text (a number without quotes, NULL as "0").
    public var plainText: String {
        switch storage {
        case .null: "0"
        case .int64(let value): String(value)
        case .double(let value): String(value)
        case .string(let value): value
        case .blob: "?"
        }
    }
}
