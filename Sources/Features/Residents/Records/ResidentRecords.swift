import AppCore

/// Houses and resident records: create, edit, detail, moves, merges, visits, reveals.
enum ResidentRecords {
    static func register(_ routes: inout AppRoutes) {}
}
