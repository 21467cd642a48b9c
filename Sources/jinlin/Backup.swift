import App
import ArgumentParser
import Foundation
import Storage

/// `jinlin backup FILE`: an online copy of the live database.
struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a consistent copy of the database while the server keeps serving (在线备份).",
        discussion: "Uses SQLite's online backup API, checks the copy with PRAGMA integrity_check and only then renames it onto FILE, so FILE is either complete or untouched. Uploaded photos are copied into the folder FILE.photos beside it.")

    @OptionGroup var common: CommonOptions

    @Argument(help: "Where to write the copy.")
    var file: String

    @Flag(help: "Replace FILE if it exists.")
    var force = false

    func run() throws {
        let config = try common.appConfiguration()
        let source = common.databasePath(config)
        let fm = FileManager.default
        guard fm.fileExists(atPath: source) else {
            throw failure("找不到数据库文件 / no database at \(source) (check --data-dir)")
        }
        let destination = URL(fileURLWithPath: file).standardizedFileURL
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: destination.path, isDirectory: &isDirectory) {
            if isDirectory.boolValue {
                throw failure("目标是一个目录 / \(destination.path) is a directory; give a file name")
            }
            if !force {
                throw failure("目标文件已存在，未覆盖（加 --force 覆盖）/ \(destination.path) exists; pass --force to replace it")
            }
        }
        let folder = destination.deletingLastPathComponent()
        guard fm.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw failure("目标目录不存在 / the folder \(folder.path) does not exist")
        }

        let database: AppDatabase
        do {
            database = try AppDatabase(path: source)
        } catch {
            throw failure("无法打开数据库 / cannot open the database \(source): \(error)", code: 2)
        }
        defer { try? database.close() }

        let clock = ContinuousClock()
        let start = clock.now
        do {
            try database.backup(to: destination.path)
        } catch let error as BackupError {
            throw failure("备份失败 / backup failed: \(error.description)", code: 2)
        } catch {
            throw failure("备份失败 / backup failed: \(error)", code: 2)
        }
        // Photos after the database: every photo the copy names was on disk before it was
        // committed, so the folder holds at least what the copy refers to.
        let photos: Int
        do {
            photos = try PhotoFolder.copy(from: PhotoFolder.url(besideDatabase: source),
                                          to: PhotoFolder.backupURL(forBackup: destination.path))
        } catch {
            throw failure("照片备份失败 / copying the photos failed: \(error)", code: 2)
        }
        let elapsed = clock.now - start
        let size = (try? fm.attributesOfItem(atPath: destination.path)[.size] as? NSNumber)?.int64Value ?? 0
        print("备份完成 / backup written: \(destination.path)")
        print(table([
            ["大小 size", formatSize(size)],
            ["用时 time", formatSeconds(elapsed)],
            ["校验 check", "PRAGMA integrity_check = ok"],
            ["照片 photos", "\(photos) new → \(PhotoFolder.backupURL(forBackup: destination.path).path)"],
        ]))
    }
}
