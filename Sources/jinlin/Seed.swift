import Access
import App
import AppCore
import ArgumentParser
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
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Random seed: the same seed gives the same county.")
    var seed: Int = 1

    @Option(help: "Number of communities (1…200).")
    var communities: Int = 3

    @Option(help: "The password shared by the demo accounts (at least 8 characters).")
    var password: String = DemoCounty.defaultPassword

    func validate() throws {
        guard seed >= 0 else { throw ValidationError("--seed must be 0 or more") }
        guard DemoCounty.communityRange.contains(communities) else {
            throw ValidationError("--communities must be \(DemoCounty.communityRange.lowerBound)…\(DemoCounty.communityRange.upperBound)")
        }
        guard password.count >= UserStore.minimumPasswordLength else {
            throw ValidationError("--password must have at least \(UserStore.minimumPasswordLength) characters")
        }
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

        let clock = ContinuousClock()
        let start = clock.now
        // The same first-run administrator as `serve` makes, so a seeded database can be
        // signed in to straight away.
        let adminPassword = try app.createFirstAdminIfNeeded()
        let county = DemoCounty(seed: UInt64(seed), communities: communities, password: password)
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
