// swift-tools-version:6.0
// The benchmark peer of Tests/bench/http-bench.sh: a minimal Hummingbird 2 server answering
// the same /healthz and static files as jinlin, so the benchmark can compare jinlin's own HTTP
// server with a SwiftNIO-based one on the same machine. It is a package of its own and never a
// dependency of the product (the top-level Package.swift does not know it).

import PackageDescription

let package = Package(
    name: "bench-peer",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "bench-peer", targets: ["bench-peer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
    ],
    targets: [
        .executableTarget(
            name: "bench-peer",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
