import App
import ArgumentParser
import Foundation
import Storage

/// `jinlin migrate`: applies the pending SQL files of Migrations/ and says which.
struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations (数据库迁移).",
        discussion: "Runs every file of Migrations/ that the database has not seen yet, in order, each in its own transaction. Refuses (exit 2) when an applied migration was edited, renamed or removed.")

    @OptionGroup var common: CommonOptions

    @Flag(help: "Only list the pending migrations; change nothing.")
    var dryRun = false

    func run() throws {
        let config = try common.appConfiguration()
        let path = common.databasePath(config)
        do {
            try FileManager.default.createDirectory(at: config.dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw failure("无法创建数据目录 / cannot create the data directory \(config.dataDirectory.path): \(error)")
        }
        let database: AppDatabase
        do {
            database = try AppDatabase(path: path)
        } catch {
            throw failure("无法打开数据库 / cannot open the database \(path): \(error)")
        }
        defer { try? database.close() }
        print("数据库 database: \(path)")

        do {
            if dryRun {
                let pending = try Migrator.pendingMigrations(database: database, directory: config.migrationsDirectory)
                if pending.isEmpty {
                    print("数据库已是最新 / database is up to date")
                } else {
                    print("待应用的迁移 / pending migrations (\(pending.count)):")
                    for name in pending { print("  \(name)") }
                }
                return
            }
            let applied = try Migrator.migrate(database: database, directory: config.migrationsDirectory)
            if applied.isEmpty {
                let count = try Migrator.appliedMigrations(database: database).count
                print("数据库已是最新 / database is up to date (\(count) migration(s) applied earlier)")
            } else {
                print("已应用 \(applied.count) 个迁移 / applied \(applied.count) migration(s):")
                for name in applied { print("  \(name)") }
            }
        } catch let error as MigrationError {
            throw failure("\(Self.chineseSummary(of: error))\n\(error.description)", code: 2)
        } catch {
            throw failure("迁移失败 / migration failed: \(error)", code: 2)
        }
    }

    /// A first line for whoever runs the command.
    static func chineseSummary(of error: MigrationError) -> String {
        switch error {
        case .checksumMismatch(let name):
            return "迁移文件 \(name) 在应用之后被修改过（校验和不符），已拒绝执行。请恢复随程序发布的原文件。"
        case .missingFile(_, let name):
            return "已应用的迁移文件 \(name) 不见了，已拒绝执行。请恢复随程序发布的原文件。"
        case .renamed(_, let appliedName, let fileName):
            return "迁移文件 \(appliedName) 被改名为 \(fileName)，已拒绝执行。"
        case .outOfOrder(let name, _):
            return "迁移文件 \(name) 的编号早于已应用的迁移，已拒绝执行。"
        case .badFileName(let name):
            return "迁移目录中的文件 \(name) 命名不符合规则（如 0001_core.sql）。"
        case .duplicateVersion(let version, _):
            return "有两个迁移文件使用了同一个编号 \(version)。"
        case .unreadableDirectory, .unreadableFile:
            return "无法读取迁移文件。"
        case .failed(let name, _), .foreignKeyViolations(let name, _):
            return "迁移 \(name) 执行失败，已回滚。"
        }
    }
}
