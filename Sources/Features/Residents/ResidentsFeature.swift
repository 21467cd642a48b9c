import AppCore

/// Residents 居民 and houses 房屋: lists and search, records, moves, visits, CSV in and out,
/// printable rosters.
public enum ResidentsFeature {
    public static func register(_ routes: inout AppRoutes) {}
}
