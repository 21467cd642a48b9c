import Access
import App
import AppCore
import ArgumentParser
import Domain
import Foundation
import Seeding
import Storage

/// `jinlin seed`: the deterministic demo county.
struct Seed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a deterministic demo county (演示数据).",
        discussion: """
            K communities 社区, each with 2–4 estates 小区 of 2–4 grids 网格 of 3–8 buildings 楼栋, \
            and demo accounts (staff, coordinators, a grid worker per grid, members, residents) sharing \
            one password. The same --seed always gives the same names, codes and usernames. Running it \
            again adds only what is missing: grid nodes are matched by code, accounts by username.

            With --residents N every building also gets its houses (1–6 units × 6–33 floors × 2–4 rooms) \
            and exactly N residents move in (about 2.8 per occupied house), with valid and unique ID \
            numbers, phones, relations, political status and key-group tags. When the requested \
            communities cannot hold N residents at 88% occupancy, more are added (the rule is printed). \
            Residents are seeded once: if the county already has houses or residents, nothing is added.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Random seed: the same seed gives the same county.")
    var seed: Int = 1

    @Option(help: "Number of communities (1…200).")
    var communities: Int = 3

    @Option(help: "The password shared by the demo accounts (at least 8 characters).")
    var password: String = DemoCounty.defaultPassword

    @Option(help: "Also create houses and this many residents (0…\(Seed.maximumResidents)); adds communities when needed.")
    var residents: Int = 0

    @Option(help: ArgumentHelp("Residents per transaction while seeding residents.", visibility: .hidden))
    var batchSize: Int = DemoResidents.defaultBatchSize

    static let maximumResidents = 1_500_000

    func validate() throws {
        guard seed >= 0 else { throw ValidationError("--seed must be 0 or more") }
        guard DemoCounty.communityRange.contains(communities) else {
            throw ValidationError("--communities must be \(DemoCounty.communityRange.lowerBound)…\(DemoCounty.communityRange.upperBound)")
        }
        guard password.count >= UserStore.minimumPasswordLength else {
            throw ValidationError("--password must have at least \(UserStore.minimumPasswordLength) characters")
        }
        guard (0...Self.maximumResidents).contains(residents) else {
            throw ValidationError("--residents must be 0…\(Self.maximumResidents)")
        }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        let config = try common.appConfiguration()
        let logger = bootstrapLogging()
        let database: AppDatabase
        let app: Application
        do {
            database = try Application.openDatabase(config, logger: logger)
            app = try Application(configuration: config, database: database, logger: logger)
        } catch {
            throw failure("无法打开数据库 / cannot open the database: \(error)", code: 2)
        }
        defer { try? database.close() }

        // How many communities the residents need (the rule is printed with the results).
        var rule: DemoResidents.CommunityRule?
        if residents > 0 {
            do {
                rule = try DemoResidents.communities(forResidents: residents, seed: UInt64(seed), requested: communities)
            } catch let error as ResidentSeedError {
                throw failure(error.description)
            }
            if let rule { printError(rule.explanation) }
        }

        let clock = ContinuousClock()
        let start = clock.now
        // The same first-run administrator as `serve` makes, so a seeded database can be
        // signed in to straight away.
        let adminPassword = try app.createFirstAdminIfNeeded()
        let county = DemoCounty(seed: UInt64(seed), communities: rule?.chosen ?? communities, password: password)
        let summary: SeedSummary
        do {
            summary = try county.populate(database: database, users: app.environment.users)
        } catch let errors as FieldErrors {
            throw failure("未能生成演示数据 / seeding failed: " + errors.errors.values.sorted().joined(separator: "；"))
        } catch let error as UserFacingError {
            throw failure("未能生成演示数据 / seeding failed: \(error.userMessage) (\(error))", code: 2)
        }
        let elapsed = clock.now - start
        print(Self.report(summary, adminPassword: adminPassword, path: common.databasePath(config), elapsed: formatSeconds(elapsed)))
        // Members come from residents: with residents already seeded they are added now,
        // otherwise after the residents below.
        let members = DemoMembers(seed: UInt64(seed), today: ChinaDay.of(database.clock.now))
        // Each module's demo data is added once (each step skips what exists), so running the
        // seed again on a county with residents fills in modules that came later.
        func seedMembers() throws {
            let today = ChinaDay.of(database.clock.now)
            let result = try members.populate(database: database, county: county.plan(), gridIDs: summary.gridIDs)
            let communities = county.plan().compactMap { summary.gridIDs[$0.tree.code] }
            let volunteering = try DemoVolunteering(seed: UInt64(seed), today: today).populate(database: database, communities: communities)
            let wishes = try DemoWishes(seed: UInt64(seed), today: today).populate(database: database, communities: communities)
            let points = try DemoPoints(seed: UInt64(seed), today: today).populate(database: database)
            let cases = try DemoCases(seed: UInt64(seed), today: today)
                .populate(database: database, communities: communities, passwordHash: try app.environment.users.hasher.hash(password))
            let visits = try DemoVisits(seed: UInt64(seed), today: today).populate(database: database)
            guard result.members + volunteering.teams + wishes + points.entries + points.items + cases.units + visits > 0 else { return }
            print("")
            print("党员 members: \(result.members)，党组织 branches: \(result.branches)，双报到 reports: \(result.reports)，"
                  + "关联党员账号 linked member accounts: \(result.linkedAccounts)")
            print("志愿服务队 teams: \(volunteering.teams)，岗位 posts: \(volunteering.posts)，活动 activities: \(volunteering.activities)，"
                  + "报名 sign-ups: \(volunteering.signups)，记录时长 hour records: \(volunteering.hours)")
            print("微心愿 wishes: \(wishes)")
            print("积分 card entries: \(points.entries)，爱心积分 credit entries: \(points.credits)，"
                  + "商城物品 shop items: \(points.items)，兑换 redemptions: \(points.redemptions)")
            print("职能部门 units: \(cases.units)（部门办理人账号 unit handler accounts unitID，密码同上 same password），"
                  + "诉求工单 cases: \(cases.cases)")
            print("重点人群走访 key-group visits: \(visits)")
        }
        guard let rule else { return try seedMembers() }

        print("")
        print(rule.explanation)
        fflush(nil)
        let seeding = DemoResidents(seed: UInt64(seed), residents: residents, batchSize: batchSize,
                                    today: ChinaDay.of(database.clock.now))
        let result: ResidentSeedSummary
        do {
            var lastReport = clock.now
            result = try seeding.populate(database: database, county: county.plan(), gridIDs: summary.gridIDs) { progress in
                // A line per batch, at most every 2 s, on standard error.
                guard clock.now - lastReport >= .seconds(2) || progress.residents == progress.total else { return }
                lastReport = clock.now
                let seconds = max(progress.elapsed.seconds, 0.001)
                printError(String(format: "  居民 residents %d / %d  %.1f s  %.0f residents/s",
                                  progress.residents, progress.total, seconds, Double(progress.residents) / seconds))
            }
        } catch let error as ResidentSeedError {
            throw failure(error.description, code: error.alreadySeeded ? 3 : 1)
        }
        // Fold the WAL into the file so the size printed is the database's.
        try database.checkpoint()
        let path = common.databasePath(config)
        let size = fileSize(path) + fileSize(path + "-wal")
        print("")
        print(Self.residentsReport(result, databaseSize: size, peakMemory: peakMemory()))
        try seedMembers()
    }

    static func residentsReport(_ s: ResidentSeedSummary, databaseSize: Int64, peakMemory: Int64?) -> String {
        func percent(_ part: Int, of whole: Int) -> String {
            whole > 0 ? String(format: "%.1f%%", Double(part) / Double(whole) * 100) : "–"
        }
        func rate(_ rows: Int, _ duration: Duration) -> String {
            let seconds = duration.seconds
            return seconds > 0 ? String(format: "%.0f rows/s", Double(rows) / seconds) : "–"
        }
        var out: [String] = []
        out.append(String(format: "居民与房屋 / residents and houses, seed %llu: %.1f s, %.0f rows/s (all four tables)",
                          s.seed, s.elapsedSeconds, s.rowsPerSecond))
        var rows = [["表 table", "行数 rows", "写入耗时 time", "速度 rate"]]
        rows.append(["房屋 houses", "\(s.housesWritten)", formatSeconds(s.timings.houses), rate(s.housesWritten, s.timings.houses)])
        rows.append(["居民 residents（含姓名片段触发器 incl. name-gram trigger）", "\(s.residents)", formatSeconds(s.timings.residents),
                     rate(s.residents, s.timings.residents) + " (CPU \(formatSeconds(s.timings.residentsCPU)))"])
        rows.append(["人屋关联 residences", "\(s.residences)", formatSeconds(s.timings.residences), rate(s.residences, s.timings.residences)])
        rows.append(["重点人群标签 resident_tags", "\(s.tagRows)", formatSeconds(s.timings.tags), rate(s.tagRows, s.timings.tags)])
        rows.append(["姓名片段 resident_name_grams (trigger)", "\(s.nameGrams)", "", ""])
        rows.append(["生成 generating rows (no database)", "", formatSeconds(s.timings.generate), ""])
        rows.append(["合计 total (\(s.batches) transactions)", "\(s.housesWritten + s.residents + s.residences + s.tagRows)",
                     formatSeconds(s.elapsed), String(format: "%.0f rows/s", s.rowsPerSecond)])
        out.append(table(rows))
        out.append("")
        var facts = [["", ""]]
        facts.removeAll()
        let kinds = s.buildingKinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        facts.append(["楼栋 buildings", "\(s.buildings) (\(kinds))"])
        facts.append(["房屋 houses", "\(s.houses), occupied \(s.occupiedHouses) (\(percent(s.occupiedHouses, of: s.houses))), "
                      + String(format: "%.2f residents per occupied house", s.occupiedHouses > 0 ? Double(s.residents) / Double(s.occupiedHouses) : 0)])
        facts.append(["户规模 household sizes", (1..<s.householdSizes.count).map { "\($0): \(percent(s.householdSizes[$0], of: s.households))" }
                        .joined(separator: "  ")])
        let bands = s.ageBands
        facts.append(["年龄 ages", "0–14 \(percent(bands[0], of: s.residents)), 15–59 \(percent(bands[1], of: s.residents)), "
                      + "60–79 \(percent(bands[2], of: s.residents)), 80+ \(percent(bands[3], of: s.residents))"])
        facts.append(["手机 phone", percent(s.withPhone, of: s.residents)])
        facts.append(["迁出 moved out", "\(s.movedOut) (\(percent(s.movedOut, of: s.residents)))"])
        facts.append(["人户分离 separated", "\(s.separated) (\(percent(s.separated, of: s.residents)))"])
        // 民主党派 and 无党派人士 (04–12) are rare: one figure for them.
        let others = s.politicalStatuses.filter { !["01", "02", "03", "13"].contains($0.key) }.values.reduce(0, +)
        let political = ["01", "02", "03"].map { "\(Vocabulary.politicalStatusName($0)) \(percent(s.politicalStatuses[$0] ?? 0, of: s.residents))" }
            + ["民主党派及无党派 \(percent(others, of: s.residents))", "群众 \(percent(s.politicalStatuses["13"] ?? 0, of: s.residents))"]
        facts.append(["政治面貌 political status", political.joined(separator: ", ")])
        let relations = Vocabulary.relations.map { "\($0.name) \(s.relations[$0.code] ?? 0)" }.joined(separator: ", ")
        facts.append(["与房屋关系 relations (rows)", relations])
        let tags = s.tags.sorted { $0.value > $1.value }.map { "\($0.key) \(percent($0.value, of: s.residents))" }
        facts.append(["重点人群 tags", tags.joined(separator: ", ")])
        facts.append(["数据库 database size", formatSize(databaseSize)])
        if let peakMemory { facts.append(["峰值内存 peak RSS (VmHWM)", formatSize(peakMemory)]) }
        out.append(table(facts))
        return out.joined(separator: "\n")
    }

    static func report(_ summary: SeedSummary, adminPassword: String?, path: String, elapsed: String) -> String {
        var out: [String] = []
        out.append("近邻演示数据 / demo county, seed \(summary.seed), \(summary.communities.count) communities (\(elapsed))")
        out.append("数据库 database: \(path)")
        out.append("")
        var levels = [["层级 level", "新建 created", "已有 existing"]]
        for kind in GridKind.allCases {
            levels.append(["\(kind.label) \(kind.rawValue)", "\(summary.created[kind] ?? 0)", "\(summary.existing[kind] ?? 0)"])
        }
        let accountsCreated = summary.createdAccounts
        levels.append(["账号 account", "\(accountsCreated)", "\(summary.accounts.count - accountsCreated)"])
        levels.append(["网格员分配 assignment", "\(summary.workerAssignments)", ""])
        out.append(table(levels))
        out.append("")
        out.append("社区 communities:")
        out.append(table(summary.communities.map { [$0.name, $0.code] }))
        out.append("")
        out.append("账号 accounts（共用演示密码 shared demo password: \(summary.password)）:")
        var rows = [["角色 role", "用户名 username", "姓名 name", "范围 scope", ""]]
        if let adminPassword {
            rows.append(["系统管理员 admin", "admin", "系统管理员", "全部", "新建，密码 \(adminPassword)（首次登录须修改 / change at first sign-in）"])
        }
        for account in summary.accounts {
            rows.append(["\(account.role.displayName) \(account.role.rawValue)", account.username, account.displayName,
                         "\(account.scopeName) (\(account.scopeCode))", account.created ? "" : "已存在 existing, unchanged"])
        }
        out.append(table(rows))
        out.append("")
        out.append("演示密码仅用于演示环境，请勿在正式环境使用。 / The demo password is for demo installations only.")
        return out.joined(separator: "\n")
    }
}

/// Size of a file in bytes (0 when it does not exist).
func fileSize(_ path: String) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
}

/// The process's peak resident set (VmHWM in /proc/self/status), where Linux reports it.
func peakMemory() -> Int64? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let fields = line.split(separator: " ")
        if fields.count >= 2, let kib = Int64(fields[1]) { return kib * 1024 }
    }
    return nil
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
