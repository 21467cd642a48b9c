import Foundation
import Storage

/// Entry points for a benchmark script: generate a file, prepare a database, time an import.
///
///     let database = try AppDatabase(path: …)            // migrated
///     try ResidentImportBenchmark.prepareEstate(database: database)
///     try ResidentImportBenchmark.writeSampleCSV(to: "/tmp/100k.csv", rows: 100_000)
///     let result = try ResidentImportBenchmark.run(database: database, csvPath: "/tmp/100k.csv", actor: .system)
///     print(Double(result.rows) / result.seconds, "rows/s")
public enum ResidentImportBenchmark {
    public struct Result: Sendable {
        public let rows: Int
        public let created: Int
        public let updated: Int
        public let unchanged: Int
        public let errors: Int
        /// The whole import: reading, decoding, checking, writing and committing.
        public let seconds: Double
        /// The first few row errors or the file error, when there were any.
        public let problems: [String]
    }

    /// Imports the file at `csvPath` as a commit (or a dry run) in `scopePath` (nil: the whole tree).
    public static func run(database: AppDatabase, csvPath: String, actor: AuditActor,
                           scopePath: String? = nil, dryRun: Bool = false) throws -> Result {
        let started = DispatchTime.now().uptimeNanoseconds
        guard let data = FileManager.default.contents(atPath: csvPath) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: csvPath])
        }
        let report = try ResidentImporter.run(
            database: database, bytes: [UInt8](data),
            request: ImportRequest(filename: (csvPath as NSString).lastPathComponent, dryRun: dryRun,
                                   scopePath: scopePath, actor: actor, jobID: nil))
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        var problems = report.errors.prefix(5).map { "第 \($0.line) 行：\($0.message)" }
        if let fileError = report.fileError { problems.insert(fileError, at: 0) }
        return Result(rows: report.totalRows, created: report.created, updated: report.updated,
                      unchanged: report.unchanged, errors: report.errorCount, seconds: seconds, problems: problems)
    }

    /// Creates 基准社区 → 基准小区 → 第一网格 unless they exist; the sample file's rows live there.
    public static func prepareEstate(database: AppDatabase, community: String = "基准社区", estate: String = "基准小区") throws {
        try database.write { db in
            let communityID: Int64
            if let id = try Int64.fetchOne(db, sql: "SELECT id FROM grids WHERE parent_id IS NULL AND name = ?", arguments: [community]) {
                communityID = id
            } else {
                communityID = try Grids.create(db, name: community, kind: .community, parentID: nil, by: .system).id
            }
            let estateID: Int64
            if let id = try Int64.fetchOne(db, sql: "SELECT id FROM grids WHERE parent_id = ? AND name = ?", arguments: [communityID, estate]) {
                estateID = id
            } else {
                estateID = try Grids.create(db, name: estate, kind: .estate, parentID: communityID, by: .system).id
            }
            if try Int64.fetchOne(db, sql: "SELECT id FROM grids WHERE parent_id = ? AND name = '第一网格'", arguments: [estateID]) == nil {
                try Grids.create(db, name: "第一网格", kind: .grid, parentID: estateID, by: .system)
            }
        }
    }

    /// Writes `rows` plausible rows (UTF-8 with BOM, CRLF, the standard header) with valid,
    /// distinct ID numbers, spread over 40 buildings of `estate`, 6 units, 30 floors × 4 rooms.
    public static func writeSampleCSV(to path: String, rows: Int, estate: String = "基准小区", seed: UInt64 = 1) throws {
        try Data(sampleCSV(rows: rows, estate: estate, seed: seed)).write(to: URL(fileURLWithPath: path))
    }

    static func sampleCSV(rows: Int, estate: String, seed: UInt64) -> [UInt8] {
        let surnames = Array("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
        let given = Array("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国玉兰志红海燕")
        let relations = ["产权人", "常住", "常住", "租住", "户籍"]
        let statuses = ["群众", "群众", "群众", "中共党员", "共青团员", ""]
        let tags = ["", "", "", "", "", "", "独居老人", "低保户", "残疾人、低保户", "退役军人"]
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        var out: [UInt8] = [0xEF, 0xBB, 0xBF]
        out.reserveCapacity(rows * 110 + 200)
        out += Array((ImportColumn.standardOrder.map(\.rawValue).joined(separator: ",") + "\r\n").utf8)
        for index in 0..<rows {
            let name = String(surnames[Int(next() % UInt64(surnames.count))])
                + String(given[Int(next() % UInt64(given.count))])
                + (next() % 2 == 0 ? String(given[Int(next() % UInt64(given.count))]) : "")
            // Distinct numbers: the index picks the birth date and the sequence.
            let day = index / 500
            let year = 1940 + (day / 336) % 65, month = 1 + (day / 28) % 12, dayOfMonth = 1 + day % 28
            let sequence = index % 500 * 2 + Int(next() % 2)
            let first17 = String(format: "330106%04d%02d%02d%03d", year, month, dayOfMonth, sequence)
            let check = IDNumber.checkCharacter(for: Array(first17)).map(String.init) ?? "0"
            let phone = next() % 5 == 0 ? "" : String(format: "13%09d", Int(next() % 1_000_000_000))
            let building = "\(1 + index / 720 % 40)号楼"
            let unit = "\(1 + index / 120 % 6)"
            let room = "\(1 + index / 4 % 30)\(String(format: "%02d", 1 + index % 4))"
            let line = [
                name, first17 + check, phone, estate, building, unit, room,
                relations[Int(next() % UInt64(relations.count))], statuses[Int(next() % UInt64(statuses.count))],
                tags[Int(next() % UInt64(tags.count))], next() % 20 == 0 ? "\"备注，含逗号\"" : "",
            ].joined(separator: ",")
            out += Array((line + "\r\n").utf8)
        }
        return out
    }
}
