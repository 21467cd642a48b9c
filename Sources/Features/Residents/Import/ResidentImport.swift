import AppCore

/// CSV import: dry run, row errors, all-or-nothing commit, background jobs for large files.
enum ResidentImport {
    static func register(_ routes: inout AppRoutes) {}
}
