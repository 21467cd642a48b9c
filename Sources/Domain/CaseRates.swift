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
    public enum Grouping: Sendable {
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

    /// The aggregate as one SQL statement. Parameters, in order: first month, last month
    /// (`YYYY-MM`), the scope's path range (lower, upper), now (seconds since 1970), and a unit
    /// subtree's path range (NULL, NULL for every unit).
    public static func sql(grouping: Grouping, scopeLength: Int) -> String {
        let key = grouping.keySQL(scopeLength: scopeLength)
        return """
            WITH base AS (
              SELECT \(key) AS k, status, accepted_at, response_seconds, response_target, due_at, resolved_in_time,
                     resolution_seconds, satisfaction
              FROM cases WHERE month >= ?1 AND month <= ?2 AND grid_path >= ?3 AND grid_path < ?4 AND status <> 'merged'
                AND (?6 IS NULL OR (unit_path >= ?6 AND unit_path < ?7))
            ),
            response AS (
              SELECT k, response_seconds AS v, row_number() OVER (PARTITION BY k ORDER BY response_seconds) AS rn,
                     count(*) OVER (PARTITION BY k) AS n
              FROM base WHERE response_seconds IS NOT NULL
            ),
            resolution AS (
              SELECT k, resolution_seconds AS v, row_number() OVER (PARTITION BY k ORDER BY resolution_seconds) AS rn,
                     count(*) OVER (PARTITION BY k) AS n
              FROM base WHERE resolution_seconds IS NOT NULL
            ),
            counts AS (
              SELECT k, count(*) AS reported,
                     sum(coalesce(accepted_at IS NOT NULL OR (status = 'reported' AND due_at < ?5), 0)) AS response_due,
                     sum(coalesce(response_seconds <= response_target, 0)) AS responded_in_time,
                     sum(status = 'resolved' OR status = 'visited' OR status = 'closed') AS resolved,
                     sum(coalesce(resolved_in_time, 0)) AS resolved_in_time,
                     sum(satisfaction IS NOT NULL) AS followed_up,
                     sum(coalesce(satisfaction = 'satisfied' OR satisfaction = 'basic', 0)) AS satisfied,
                     avg(response_seconds) AS response_average, avg(resolution_seconds) AS resolution_average
              FROM base GROUP BY k
            )
            SELECT c.*, (SELECT min(v) FROM response r WHERE r.k = c.k AND r.rn >= (9 * r.n + 9) / 10) AS response_p90,
                   (SELECT min(v) FROM resolution s WHERE s.k = c.k AND s.rn >= (9 * s.n + 9) / 10) AS resolution_p90
            FROM counts c ORDER BY c.k
            """
    }

    /// The figures of the cases reported from `firstMonth` to `lastMonth` in the subtree at
    /// `scopePath` (nil: everything), split by `grouping`.
    /// `unitPath` restricts them to the cases assigned to a unit's subtree (a unit handler's view).
    public static func figures(_ db: Database, scopePath: String?, unitPath: String? = nil, firstMonth: String, lastMonth: String,
                               grouping: Grouping, now: Int64) throws -> [Figures] {
        let path = scopePath ?? "/"
        let range = GridPath.subtreeRange(of: path)
        let units = unitPath.map(GridPath.subtreeRange)
        return try Row.fetchAll(db, sql: sql(grouping: grouping, scopeLength: path.count),
                                arguments: [firstMonth, lastMonth, range.lower, range.upper, now, units?.lower, units?.upper]).map { row in
            var figures = Figures(key: (row["k"] as DatabaseValue).plainText)
            figures.reported = row["reported"] ?? 0
            figures.responseDue = row["response_due"] ?? 0
            figures.respondedInTime = row["responded_in_time"] ?? 0
            figures.resolved = row["resolved"] ?? 0
            figures.resolvedInTime = row["resolved_in_time"] ?? 0
            figures.followedUp = row["followed_up"] ?? 0
            figures.satisfied = row["satisfied"] ?? 0
            figures.responseAverage = row["response_average"]
            figures.responseP90 = row["response_p90"]
            figures.resolutionAverage = row["resolution_average"]
            figures.resolutionP90 = row["resolution_p90"]
            return figures
        }
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
