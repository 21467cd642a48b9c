import Foundation
import GRDB
import Synchronization
@testable import Storage

/// The repository's shipped migrations, found from this file's location so the tests run
/// from any working directory.
let shippedMigrations = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // StorageTests
    .deletingLastPathComponent()  // Tests
    .deletingLastPathComponent()  // package root
    .appendingPathComponent("Migrations", isDirectory: true)

/// The storage layer's own schema, 0001_core.sql, alone in a folder: these tests exercise the
/// migrator and the core tables, so later modules' migrations must not change their counts.
let coreMigrations: URL = {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("jinlin-core-migrations-\(UUID().uuidString)", isDirectory: true)
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try? FileManager.default.copyItem(at: shippedMigrations.appendingPathComponent("0001_core.sql"),
                                      to: directory.appendingPathComponent("0001_core.sql"))
    return directory
}()

/// A fresh on-disk database with the core schema.
func migratedDatabase() throws -> AppDatabase {
    let database = try AppDatabase.openTemporary()
    try Migrator.migrate(database: database, directory: coreMigrations)
    return database
}

/// A temporary directory deleted when the value is released.
final class TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("jinlin-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }

    /// Creates a subdirectory holding a copy of the core migration.
    func copyOfShippedMigrations() throws -> URL {
        let directory = url.appendingPathComponent("Migrations", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: coreMigrations.path) where !name.hasPrefix(".") {
            try FileManager.default.copyItem(
                at: coreMigrations.appendingPathComponent(name),
                to: directory.appendingPathComponent(name))
        }
        return directory
    }

    func write(_ text: String, to name: String, in directory: URL) throws {
        try Data(text.utf8).write(to: directory.appendingPathComponent(name))
    }
}

let tester = AuditActor(userID: nil, name: "tester", ip: "192.0.2.1")

/// A thread-safe counter for background work in tests.
final class Counter: Sendable {
    private let storage = Mutex(0)
    var value: Int { storage.withLock { $0 } }
    func increment() { storage.withLock { $0 += 1 } }
    func set(_ newValue: Int) { storage.withLock { $0 = newValue } }
}
