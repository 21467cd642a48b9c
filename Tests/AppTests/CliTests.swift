import Access
import AppCore
import Domain
import Foundation
import GRDB
import Security
import Storage
import Testing

/// The commands of the `jinlin` executable, run as child processes on temporary data folders.
@Suite struct CliTests {
    let root = JinlinBinary.packageRoot.path

    @Test func migrateAppliesOnceThenSaysUpToDate() throws {
        let data = try JinlinBinary.temporaryDirectory("cli-migrate")
        defer { try? FileManager.default.removeItem(at: data) }
        let first = try JinlinBinary.run(["migrate", "--data-dir", data.path, "--root", root])
        #expect(first.status == 0, "\(first)")
        #expect(first.stdout.contains("0001_core.sql"), "\(first)")
        #expect(first.stdout.contains("applied"), "\(first)")
        let second = try JinlinBinary.run(["migrate", "--data-dir", data.path, "--root", root])
        #expect(second.status == 0, "\(second)")
        #expect(second.stdout.contains("数据库已是最新 / database is up to date"), "\(second)")
        #expect(!second.stdout.contains("0001_core.sql"), "\(second)")
    }

    @Test func migrateRefusesAnEditedMigration() throws {
        // A resource root of our own, with a copy of Migrations/ that we can edit.
        let base = try JinlinBinary.temporaryDirectory("cli-checksum")
        defer { try? FileManager.default.removeItem(at: base) }
        let fm = FileManager.default
        let resources = base.appendingPathComponent("root")
        try fm.createDirectory(at: resources, withIntermediateDirectories: true)
        for name in ["Templates", "Public"] {
            try fm.createSymbolicLink(at: resources.appendingPathComponent(name),
                                      withDestinationURL: JinlinBinary.packageRoot.appendingPathComponent(name))
        }
        try fm.copyItem(at: JinlinBinary.packageRoot.appendingPathComponent("Migrations"),
                        to: resources.appendingPathComponent("Migrations"))
        let data = base.appendingPathComponent("data")
        let args = ["migrate", "--data-dir", data.path, "--root", resources.path]
        #expect(try JinlinBinary.run(args).status == 0)

        let file = resources.appendingPathComponent("Migrations/0001_core.sql")
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n-- edited after it was applied\n".utf8))
        try handle.close()
        let refused = try JinlinBinary.run(args)
        #expect(refused.status != 0, "\(refused)")
        #expect(refused.stderr.contains("checksum mismatch"), "\(refused)")
        #expect(refused.stderr.contains("校验和不符"), "\(refused)")
    }

    @Test func createUserThenRefuseTheDuplicateAndBadInput() throws {
        let data = try JinlinBinary.temporaryDirectory("cli-user")
        defer { try? FileManager.default.removeItem(at: data) }
        let common = ["--data-dir", data.path, "--root", root]

        // A generated password is printed once and must be changed at first sign-in.
        let admin = try JinlinBinary.run(["create-user", "--username", "boss", "--display-name", "张主任", "--role", "admin"] + common)
        #expect(admin.status == 0, "\(admin)")
        #expect(admin.stdout.contains("已创建账号"), "\(admin)")
        let line = try #require(admin.stdout.split(separator: "\n").first { $0.contains("初始密码 password") }, "\(admin)")
        let generated = try #require(line.split(separator: " ").last.map(String.init))
        #expect(generated.count == 12)

        let duplicate = try JinlinBinary.run(["create-user", "--username", "BOSS", "--display-name", "别人", "--role", "admin"] + common)
        #expect(duplicate.status != 0, "\(duplicate)")
        #expect(duplicate.stderr.contains("用户名“BOSS”已被使用"), "\(duplicate)")

        let unknownRole = try JinlinBinary.run(["create-user", "--username", "x1", "--display-name", "某人", "--role", "mayor"] + common)
        #expect(unknownRole.status != 0, "\(unknownRole)")
        #expect(unknownRole.stderr.contains("未知角色“mayor”"), "\(unknownRole)")

        let noScope = try JinlinBinary.run(["create-user", "--username", "x2", "--display-name", "某人", "--role", "staff"] + common)
        #expect(noScope.status != 0, "\(noScope)")
        #expect(noScope.stderr.contains("请选择该账号的管辖范围"), "\(noScope)")

        let badScope = try JinlinBinary.run(["create-user", "--username", "x3", "--display-name", "某人", "--role", "staff",
                                             "--scope-code", "NOPE"] + common)
        #expect(badScope.status != 0, "\(badScope)")
        #expect(badScope.stderr.contains("找不到编码为“NOPE”的网格节点"), "\(badScope)")

        // A scope by code, and a given password (no forced change).
        do {
            let database = try AppDatabase(path: JinlinBinary.databasePath(data))
            try Grids(database).createRoot(name: "测试社区", kind: .community, code: "T-01", by: .system)
            try database.close()
        }
        let staff = try JinlinBinary.run(["create-user", "--username", "wang", "--display-name", "王芳", "--role", "网格员",
                                          "--scope-code", "T-01", "--password-stdin"] + common, stdin: "given-password-1\n")
        #expect(staff.status == 0, "\(staff)")
        #expect(staff.stdout.contains("测试社区"), "\(staff)")
        #expect(!staff.stdout.contains("初始密码"), "a given password is not echoed")

        let rows = try JinlinBinary.openReadOnly(JinlinBinary.databasePath(data)).read { db in
            try Row.fetchAll(db, sql: """
                SELECT u.username, u.role, u.must_change_password, u.password_hash, g.code
                FROM users u LEFT JOIN grids g ON g.id = u.scope_grid_id ORDER BY u.id
                """)
        }
        #expect(rows.map { $0["username"] as String } == ["boss", "wang"])
        #expect(rows.map { $0["must_change_password"] as Int } == [1, 0])
        #expect(rows.map { $0["role"] as String } == ["admin", "grid_worker"])
        #expect(rows.map { $0["code"] as String? } == [nil, "T-01"])
        let hasher = PasswordHasher()
        #expect(hasher.verify(generated, against: rows[0]["password_hash"]))
        #expect(hasher.verify("given-password-1", against: rows[1]["password_hash"]))

        // A unit handler acts for a unit, not a grid node.
        do {
            let database = try AppDatabase(path: JinlinBinary.databasePath(data))
            try database.write { db in
                try db.execute(sql: "INSERT INTO units (id, name, kind, path, created_at) VALUES (7, '城管科', 'street_office', '/7/', \(Timestamp.nowSQL))")
            }
            try database.close()
        }
        let noUnit = try JinlinBinary.run(["create-user", "--username", "li", "--display-name", "李强", "--role", "unit_handler"] + common)
        #expect(noUnit.status != 0, "\(noUnit)")
        #expect(noUnit.stderr.contains("--scope-unit-id"), "\(noUnit)")
        let handler = try JinlinBinary.run(["create-user", "--username", "li", "--display-name", "李强", "--role", "部门办理人",
                                            "--scope-unit-id", "7"] + common)
        #expect(handler.status == 0, "\(handler)")
        #expect(handler.stdout.contains("城管科 (unit id 7)"), "\(handler)")
        let unit = try JinlinBinary.openReadOnly(JinlinBinary.databasePath(data)).read { db in
            try Row.fetchOne(db, sql: "SELECT role, scope_unit_id, scope_grid_id FROM users WHERE username = 'li'")
        }
        #expect(unit?["role"] as String? == "unit_handler" && unit?["scope_unit_id"] as Int64? == 7 && unit?["scope_grid_id"] as Int64? == nil)
    }

    /// The grid tree and accounts as text, to compare two databases.
    static func dump(_ path: String) throws -> String {
        try JinlinBinary.openReadOnly(path).read { db in
            let grids = try Row.fetchAll(db, sql: """
                SELECT g.kind, g.name, g.code, g.depth, p.code AS parent FROM grids g LEFT JOIN grids p ON p.id = g.parent_id
                ORDER BY g.code
                """).map { "\($0["kind"] as String)|\($0["name"] as String)|\($0["code"] as String)|\($0["depth"] as Int)|\($0["parent"] as String? ?? "-")" }
            let users = try Row.fetchAll(db, sql: """
                SELECT u.username, u.display_name, u.role, g.code FROM users u LEFT JOIN grids g ON g.id = u.scope_grid_id
                WHERE u.username <> 'admin' ORDER BY u.username
                """).map { "\($0["username"] as String)|\($0["display_name"] as String)|\($0["role"] as String)|\($0["code"] as String? ?? "-")" }
            let workers = try Row.fetchAll(db, sql: """
                SELECT u.username, g.code FROM grid_workers w JOIN users u ON u.id = w.user_id JOIN grids g ON g.id = w.grid_id
                ORDER BY u.username
                """).map { "\($0["username"] as String)@\($0["code"] as String)" }
            return (grids + [""] + users + [""] + workers).joined(separator: "\n")
        }
    }

    @Test func seedIsDeterministicAndIdempotent() throws {
        let base = try JinlinBinary.temporaryDirectory("cli-seed")
        defer { try? FileManager.default.removeItem(at: base) }
        func seed(_ folder: String, _ seed: Int) throws -> (JinlinBinary.Result, String) {
            let data = base.appendingPathComponent(folder)
            let result = try JinlinBinary.run(["seed", "--seed", "\(seed)", "--data-dir", data.path, "--root", root])
            return (result, JinlinBinary.databasePath(data))
        }
        let (first, firstDB) = try seed("a", 7)
        #expect(first.status == 0, "\(first)")
        #expect(first.stdout.contains("jinlin-demo-2026"), "\(first)")
        #expect(first.stdout.contains("gridworker1"), "\(first)")
        #expect(first.stdout.contains("staff3"), "\(first)")
        #expect(first.stdout.contains("社区 community"), "\(first)")
        let (second, secondDB) = try seed("b", 7)
        #expect(second.status == 0, "\(second)")
        let (other, otherDB) = try seed("c", 8)
        #expect(other.status == 0, "\(other)")

        let a = try Self.dump(firstDB)
        #expect(a == (try Self.dump(secondDB)), "same seed, same county")
        #expect(a != (try Self.dump(otherDB)), "another seed, another county")

        let shape = try JinlinBinary.openReadOnly(firstDB).read { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT kind, count(*) AS n FROM grids GROUP BY kind")
                .map { ($0["kind"] as String, $0["n"] as Int) })
        }
        #expect(shape["community"] == 3)
        #expect((6...12).contains(shape["estate"] ?? 0))
        #expect((12...48).contains(shape["grid"] ?? 0))
        #expect((36...384).contains(shape["building"] ?? 0))

        // Again on the same database: nothing new, nothing changed.
        let (again, _) = try seed("a", 7)
        #expect(again.status == 0, "\(again)")
        #expect(a == (try Self.dump(firstDB)))
        #expect(again.stdout.contains("已存在 existing"), "\(again)")
    }

    @Test func backupWritesACheckedCopyAndRefusesToOverwrite() throws {
        let base = try JinlinBinary.temporaryDirectory("cli-backup")
        defer { try? FileManager.default.removeItem(at: base) }
        let data = base.appendingPathComponent("data")
        let common = ["--data-dir", data.path, "--root", root]
        let seeded = try JinlinBinary.run(["seed", "--seed", "3", "--communities", "2"] + common)
        #expect(seeded.status == 0, "\(seeded)")

        let copy = base.appendingPathComponent("copy.sqlite").path
        let backup = try JinlinBinary.run(["backup", copy] + common)
        #expect(backup.status == 0, "\(backup)")
        #expect(backup.stdout.contains("备份完成"), "\(backup)")
        #expect(backup.stdout.contains("bytes"), "\(backup)")
        #expect(backup.stdout.contains(" s"), "\(backup)")

        func facts(_ path: String) throws -> (check: [String], users: Int, grids: Int) {
            try JinlinBinary.openReadOnly(path).read { db in
                (try String.fetchAll(db, sql: "PRAGMA integrity_check"),
                 try Int.fetchOne(db, sql: "SELECT count(*) FROM users") ?? -1,
                 try Int.fetchOne(db, sql: "SELECT count(*) FROM grids") ?? -1)
            }
        }
        let source = try facts(JinlinBinary.databasePath(data))
        let copied = try facts(copy)
        #expect(copied.check == ["ok"])
        #expect(copied.users == source.users)
        #expect(copied.grids == source.grids)
        #expect(source.users > 10)

        let refused = try JinlinBinary.run(["backup", copy] + common)
        #expect(refused.status != 0, "\(refused)")
        #expect(refused.stderr.contains("--force"), "\(refused)")
        let forced = try JinlinBinary.run(["backup", copy, "--force"] + common)
        #expect(forced.status == 0, "\(forced)")

        let missing = try JinlinBinary.run(["backup", base.appendingPathComponent("x.sqlite").path,
                                            "--data-dir", base.appendingPathComponent("none").path, "--root", root])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("找不到数据库文件"), "\(missing)")
    }
}
