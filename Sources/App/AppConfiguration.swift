import Foundation
import Storage
import Views

/// Where the application finds its files and how it is served.
public struct AppConfiguration: Sendable {
    /// Folder holding `Public/`, `Templates/` and `Migrations/` (the package root in development).
    public var resourceRoot: URL
    /// Folder holding the SQLite database and uploads; created if missing.
    public var dataDirectory: URL
    /// Mark cookies Secure (when served behind TLS).
    public var secureCookies = false
    /// Behind a reverse proxy on this machine: take the client address from X-Forwarded-For.
    public var trustProxy = false
    /// Send a Server-Timing header (session, query, render, total) with every page.
    public var serverTiming = false
    /// Registers the benchmark's test-only routes (`/bench/sleep`); never in production.
    public var benchRoutes = false
    /// How long a `/healthz` database check stands for (seconds).
    public var healthCheckInterval: Double = 1
    /// The time the application reads (tests fix it).
    public var clock: Clock = .live
    /// Run after every page render (the tests compare with swift-mustache).
    public var templateCheck: TemplateLibrary.RenderCheck?

    public init(resourceRoot: URL, dataDirectory: URL) {
        self.resourceRoot = resourceRoot
        self.dataDirectory = dataDirectory
    }

    public var publicDirectory: URL { resourceRoot.appendingPathComponent("Public") }
    public var templatesDirectory: URL { resourceRoot.appendingPathComponent("Templates") }
    public var migrationsDirectory: URL { resourceRoot.appendingPathComponent("Migrations") }

    /// Finds the resource root: an explicit path, else the working directory, else the folders
    /// above the executable (a `swift build` product sits three levels below the package root).
    public static func locateResourceRoot(explicit: String?, executablePath: String) -> URL? {
        let fm = FileManager.default
        func looksLikeRoot(_ url: URL) -> Bool {
            var isDir: ObjCBool = false
            return fm.fileExists(atPath: url.appendingPathComponent("Templates").path, isDirectory: &isDir) && isDir.boolValue
                && fm.fileExists(atPath: url.appendingPathComponent("Public").path)
        }
        if let explicit, !explicit.isEmpty {
            let url = URL(fileURLWithPath: explicit)
            return looksLikeRoot(url) ? url : nil
        }
        let cwd = URL(fileURLWithPath: fm.currentDirectoryPath)
        if looksLikeRoot(cwd) { return cwd }
        var dir = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            if looksLikeRoot(dir) { return dir }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }
}
