import AppCore

/// Residents 居民 and houses 房屋: lists and search, records, moves, visits, CSV in and out,
/// printable rosters. Each part registers its own routes.
public enum ResidentsFeature {
    public static func register(_ routes: inout AppRoutes) {
        ResidentRecords.register(&routes)
        ResidentSearch.register(&routes)
        ResidentImport.register(&routes)
    }
}
