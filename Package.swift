// swift-tools-version:6.1
import PackageDescription

// Dependency direction (see README "Map of the targets" and ARCHITECTURE.md):
//   jinlin → App → features → AppCore → {Web, Views, Access, Security}
//   Access → Domain → Storage ; Seeding → AppCore, Domain ; Web → HTTPCore ; HTTPServer → HTTPCore
// The HTTP layer (HTTPCore, HTTPServer, Web) knows nothing of the application; no feature
// depends on another feature.
let feature: [Target.Dependency] = [
    "AppCore", "Access", "Domain", "Storage", "Views", "Web", "HTTPCore", "Security",
    .product(name: "GRDB", package: "GRDB.swift"),
]

let package = Package(
    name: "jinlin",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "jinlin", targets: ["jinlin"]),
        .executable(name: "HTTPFuzz", targets: ["HTTPFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", exact: "2.1.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
    ],
    targets: [
        // System libraries
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCrypt", providers: [.apt(["libcrypt-dev"])]),
        // epoll, eventfd and timerfd for the server's event loops (Linux headers, always there).
        .systemLibrary(name: "CEpoll"),

        // HTTP layer: messages and parser; sockets and connections; routing, forms, files.
        .target(name: "HTTPCore", dependencies: ["CZlib"]),
        .target(name: "HTTPServer", dependencies: [
            "HTTPCore", "CEpoll", .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: [
            // A connection's state lives in class properties touched only on its loop's thread;
            // the runtime's exclusivity bookkeeping on each access was ~5 % of a request's
            // instructions. Debug builds (and so the tests) keep checking.
            .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
        ]),
        .target(name: "Web", dependencies: [
            "HTTPCore", .product(name: "Logging", package: "swift-log"),
        ]),

        // Application core
        .target(name: "Storage", dependencies: [
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "Views"),
        // What several modules share: ID and phone numbers, masks, vocabularies, house
        // addresses, days in China, and the grid tree with its repository.
        .target(name: "Domain", dependencies: [
            "Storage", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // Roles, the one authorization policy, and the scope of a grid subtree.
        .target(name: "Access", dependencies: ["Domain"]),
        .target(name: "Security", dependencies: ["CCrypt", .product(name: "Crypto", package: "swift-crypto")]),
        // What every feature stands on: accounts, sessions, CSRF, pages, routes with permissions.
        .target(name: "AppCore", dependencies: [
            "HTTPCore", "Web", "Storage", "Domain", "Views", "Security", "Access",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Features: one folder each with its routes, queries and view models.
        .target(name: "AccountsFeature", dependencies: feature, path: "Sources/Features/Accounts"),
        .target(name: "GridsFeature", dependencies: feature, path: "Sources/Features/Grids"),
        .target(name: "DashboardFeature", dependencies: feature, path: "Sources/Features/Dashboard"),
        .target(name: "AdminFeature", dependencies: feature, path: "Sources/Features/Admin"),
        .target(name: "ResidentsFeature", dependencies: feature, path: "Sources/Features/Residents"),
        .target(name: "MembersFeature", dependencies: feature, path: "Sources/Features/Members"),
        .target(name: "VolunteeringFeature", dependencies: feature, path: "Sources/Features/Volunteering"),
        .target(name: "RegistrationFeature", dependencies: feature, path: "Sources/Features/Registration"),
        .target(name: "WishesFeature", dependencies: feature, path: "Sources/Features/Wishes"),
        .target(name: "PointsFeature", dependencies: feature, path: "Sources/Features/Points"),
        .target(name: "CasesFeature", dependencies: feature, path: "Sources/Features/Cases"),
        .target(name: "ReportsFeature", dependencies: feature, path: "Sources/Features/Reports"),
        // The deterministic demo county (`jinlin seed`); later modules add their data.
        .target(name: "Seeding", dependencies: feature),

        // The composition root.
        .target(name: "App", dependencies: [
            "HTTPCore", "HTTPServer", "Web", "Storage", "Domain", "Views", "Security", "Access", "AppCore",
            "AccountsFeature", "GridsFeature", "DashboardFeature", "AdminFeature", "ResidentsFeature", "MembersFeature",
            "VolunteeringFeature", "WishesFeature", "PointsFeature", "RegistrationFeature", "CasesFeature", "ReportsFeature", "Seeding",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Executables
        .executableTarget(name: "jinlin", dependencies: [
            "App", "AppCore", "Access", "Domain", "Storage", "Seeding", "HTTPServer", "CasesFeature", "ReportsFeature",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // libFuzzer entry point for the request parser; build it only with
        // `swift build --sanitize=fuzzer --scratch-path .build-fuzz --product HTTPFuzz`.
        .executableTarget(name: "HTTPFuzz", dependencies: ["HTTPCore"]),

        // Tests
        .target(name: "HTTPTestSupport", path: "Tests/Support"),
        // swift-mustache renders every page of the tests a second time, as the reference.
        .target(name: "TemplateTestSupport", dependencies: ["Views", .product(name: "Mustache", package: "swift-mustache")],
                path: "Tests/TemplateSupport"),
        .testTarget(name: "HTTPCoreTests", dependencies: ["HTTPCore"], exclude: ["Fixtures"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "HTTPCore", "Web", "HTTPTestSupport"]),
        .testTarget(name: "WebTests", dependencies: ["Web", "HTTPCore"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "Domain"]),
        .testTarget(name: "ViewsTests", dependencies: ["Views", "TemplateTestSupport"]),
        .testTarget(name: "SecurityTests", dependencies: ["Security"]),
        .testTarget(name: "DomainTests", dependencies: ["Domain"]),
        .testTarget(name: "AppTests", dependencies: [
            "App", "AppCore", "Access", "Domain", "Storage", "HTTPServer", "HTTPCore", "Web", "Security", "HTTPTestSupport", "ResidentsFeature",
            "WishesFeature", "PointsFeature", "CasesFeature", "TemplateTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
