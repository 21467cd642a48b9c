import AppCore

/// The resident list and search, the CSV export and the printable rosters.
enum ResidentSearch {
    static func register(_ routes: inout AppRoutes) {}
}
