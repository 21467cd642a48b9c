import Foundation
import GRDB
import GRDBSQLite

/// Bulk INSERT for the seed and the resident import: many rows per statement, values bound
/// straight through SQLite's C API, which skips GRDB's per-call argument wrapping and most of
/// the per-statement work.
/// Long statements, because every INSERT into `residents` fires the name-gram trigger and each
/// statement keeps its own journal of the pages it touches (see also `StagedInsert`).
///
/// The statements are GRDB's (it finalizes them), run on the connection GRDB handed us inside
/// GRDB's transaction, and are reset after every run, so GRDB never sees one half-run.
public struct BulkInsert {
    enum Value {
        case integer(Int64)
        case text(String)
        case null
    }

    private unowned let db: Database
    private let prefix: String
    private let rowSQL: String
    private let columns: Int
    private let rowsPerStatement: Int
    private var full: Statement?
    private var values: [Value] = []
    public private(set) var rowsWritten = 0

    /// SQLite copies the bytes of a text value while binding.
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    public init(_ db: Database, table: String, rowsPerStatement: Int = 2_000, columns: [String]) {
        self.db = db
        self.columns = columns.count
        // SQLite allows 32,766 variables per statement.
        self.rowsPerStatement = max(1, min(rowsPerStatement, 30_000 / max(1, columns.count)))
        prefix = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
        rowSQL = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        values.reserveCapacity(self.rowsPerStatement * columns.count)
    }

    public mutating func add(_ value: Int64) { values.append(.integer(value)) }
    public mutating func add(_ value: Int) { values.append(.integer(Int64(value))) }
    public mutating func add(_ value: Int64?) { values.append(value.map { .integer($0) } ?? .null) }
    public mutating func add(_ value: Int?) { values.append(value.map { .integer(Int64($0)) } ?? .null) }
    public mutating func add(_ value: String) { values.append(.text(value)) }
    public mutating func add(_ value: String?) { values.append(value.map { .text($0) } ?? .null) }

    /// Ends a row (all its columns added); runs a statement when enough rows are waiting.
    public mutating func endRow() throws {
        guard values.count % columns == 0 else {
            throw DatabaseError(message: "bulk insert: a row has \(values.count % columns) values too many or few (\(prefix))")
        }
        if values.count == rowsPerStatement * columns { try flush() }
    }

    /// Writes the rows still waiting.
    public mutating func finish() throws {
        try flush()
    }

    private mutating func flush() throws {
        let rows = values.count / columns
        guard rows > 0 else { return }
        let statement: Statement
        if rows == rowsPerStatement, let full {
            statement = full
        } else {
            statement = try db.makeStatement(sql: prefix + Array(repeating: rowSQL, count: rows).joined(separator: ", "))
            if rows == rowsPerStatement { full = statement }
        }
        let handle = statement.sqliteStatement
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            switch value {
            case .integer(let n): sqlite3_bind_int64(handle, index, n)
            case .text(let text): _ = text.withCString { sqlite3_bind_text(handle, index, $0, -1, Self.transient) }
            case .null: sqlite3_bind_null(handle, index)
            }
        }
        let code = sqlite3_step(handle)
        if code != SQLITE_DONE {
            let message = String(cString: sqlite3_errmsg(sqlite3_db_handle(handle)))
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: prefix + "…")
        }
        sqlite3_reset(handle)
        rowsWritten += rows
        values.removeAll(keepingCapacity: true)
    }
}

