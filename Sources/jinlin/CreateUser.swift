import Access
import App
import AppCore
import ArgumentParser
import Foundation
import GRDB
import Storage

/// `jinlin create-user`: adds an account from the command line.
struct CreateUser: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-user",
        abstract: "Create an account (创建账号).",
        discussion: """
            Roles: admin, staff, grid_worker, coordinator, member, resident, unit_handler (or their Chinese \
            names: 系统管理员, 社区工作人员, 网格员, 党建指导员, 党员, 居民, 部门办理人). Every role but admin \
            needs a scope: a grid node given by --scope-grid-id or --scope-code; a unit handler a unit \
            given by --scope-unit-id. Without --password a random one is printed once and must be \
            changed at first sign-in.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Sign-in name: letters, digits, _ . - (at most 64).")
    var username: String

    @Option(help: "The person's name as shown in the UI.")
    var displayName: String

    @Option(help: "admin, staff, grid_worker, coordinator, member, resident or unit_handler.")
    var role: String

    @Option(help: "Id of the grid node the account is confined to.")
    var scopeGridId: Int64?

    @Option(help: "Code of the grid node the account is confined to.")
    var scopeCode: String?

    @Option(help: "Id of the unit (职能部门) a unit handler acts for.")
    var scopeUnitId: Int64?

    @Option(help: "Initial password (at least 8 characters); default: a random one, printed once. Prefer --password-stdin: arguments are visible to other users of the machine.")
    var password: String?

    @Flag(help: "Read the initial password from the first line of standard input.")
    var passwordStdin = false

    @Flag(help: "Make the account change a given password at first sign-in (always so for a generated one).")
    var mustChangePassword = false

    /// Accepts the stored names, a few spellings of grid_worker and the Chinese names.
    static func parseRole(_ text: String) -> Role? {
        let key = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let role = Role(rawValue: key) { return role }
        if ["grid-worker", "gridworker"].contains(key) { return .gridWorker }
        return Role.allCases.first { $0.displayName == key }
    }

    func run() throws {
        guard let role = Self.parseRole(role) else {
            throw failure("""
                未知角色“\(role)”。可选：admin（系统管理员）、staff（社区工作人员）、grid_worker（网格员）、coordinator（党建指导员）、member（党员）、resident（居民）、unit_handler（部门办理人）
                unknown role '\(role)'; expected one of: \(Role.allCases.map(\.rawValue).joined(separator: ", "))
                """)
        }
        if scopeGridId != nil && scopeCode != nil {
            throw failure("--scope-grid-id 和 --scope-code 只能给出一个 / give either --scope-grid-id or --scope-code, not both")
        }
        if password != nil && passwordStdin {
            throw failure("--password 和 --password-stdin 只能给出一个 / give either --password or --password-stdin, not both")
        }
        var given = password
        if passwordStdin {
            guard let line = readLine(strippingNewline: true) else {
                throw failure("标准输入中没有密码 / no password on standard input")
            }
            given = line
        }

        let config = try common.appConfiguration()
        let logger = bootstrapLogging()
        let database: AppDatabase
        do {
            database = try Application.openDatabase(config, logger: logger)
        } catch {
            throw failure("无法打开数据库 / cannot open the database: \(error)", code: 2)
        }
        defer { try? database.close() }

        var scopeID = scopeGridId
        if let code = scopeCode {
            scopeID = try database.read { db in
                try Int64.fetchOne(db, sql: "SELECT id FROM grids WHERE code = ?", arguments: [code.trimmingCharacters(in: .whitespaces)])
            }
            if scopeID == nil {
                throw failure("找不到编码为“\(code)”的网格节点 / no grid node has the code '\(code)'")
            }
        }
        if role == .admin && (scopeID != nil || scopeUnitId != nil) {
            printError("提示：系统管理员没有管辖范围，已忽略 --scope-* / note: admin accounts have no scope; ignoring the scope option")
            scopeID = nil
        }
        let unitID = role == .admin ? nil : scopeUnitId

        let generated = given == nil
        let initialPassword = given ?? UserStore.generatePassword()
        let users = UserStore(database: database)
        let user: User
        do {
            user = try users.create(
                UserStore.NewUser(username: username, displayName: displayName, role: role, scopeGridID: scopeID,
                                  scopeUnitID: unitID, password: initialPassword, mustChangePassword: generated || mustChangePassword),
                by: AuditActor(userID: nil, name: "命令行 jinlin create-user"))
        } catch let errors as FieldErrors {
            var lines = ["未能创建账号 / account not created:"]
            for field in errors.errors.keys.sorted() {
                var line = "  \(field): \(errors.errors[field] ?? "")"
                if field == "scope_grid_id" { line += "（--scope-grid-id 或 --scope-code）" }
                if field == "scope_unit_id" { line += "（--scope-unit-id）" }
                lines.append(line)
            }
            throw failure(lines.joined(separator: "\n"))
        }

        var rows = [
            ["用户名 username", user.username],
            ["姓名 name", user.displayName],
            ["角色 role", "\(user.role.displayName) (\(user.role.rawValue))"],
            ["管辖范围 scope", user.scopeName.map { "\($0) (id \(user.scopeGridID ?? 0))" }
                ?? user.unitName.map { "\($0) (unit id \(user.scopeUnitID ?? 0))" } ?? "全部 everything"],
        ]
        if generated {
            rows.append(["初始密码 password", initialPassword])
        }
        print("已创建账号 / account created")
        print(table(rows))
        if generated {
            print("此密码只显示这一次，首次登录后须修改。 / This password is shown only once and must be changed at first sign-in.")
        } else if user.mustChangePassword {
            print("首次登录后须修改密码。 / The password must be changed at first sign-in.")
        }
    }
}
