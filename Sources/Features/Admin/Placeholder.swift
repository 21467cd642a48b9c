import AppCore

/// Placeholder until the admin pages land.
public enum AdminFeature {
    public static func register(_ routes: inout AppRoutes) {}
}
