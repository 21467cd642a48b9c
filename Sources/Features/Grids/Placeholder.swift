import AppCore

/// Placeholder until the grid pages land.
public enum GridsFeature {
    public static func register(_ routes: inout AppRoutes) {}
}
