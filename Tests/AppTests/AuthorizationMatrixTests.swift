import Access
import App
import AppCore
import Foundation
import HTTPCore
import HTTPTestSupport
import Testing
import Web

/// Every route × every role: the roles expected to pass the policy do, the others get 403 (or,
/// signed out, the login page). The expectations are written by hand in the modules'
/// descriptors, so a new route fails this test until someone decides who may use it.
@Suite struct AuthorizationMatrixTests {
    /// "METHOD pattern" → roles that may use it; nil = no sign-in needed. Each module writes its
    /// rows by hand in its descriptor (`Module.matrix`); App adds its own.
    static let expected: [String: Set<Role>?] = ModuleRegistry(Application.modules).matrix
        .merging(Application.matrix) { first, _ in first }

    @Test func everyRouteIsInTheTableAndHasAnExpectation() throws {
        let app = try TestApp()
        let table = Set(app.app.routeTable.map { "\($0.method) \($0.pattern)" })
        let routed = Set(app.app.handler.router.routes.map { "\($0.method) \($0.pattern)" })
        #expect(routed == table, "routes registered without a permission: \(routed.subtracting(table).sorted())")
        let missing = table.subtracting(Self.expected.keys)
        #expect(missing.isEmpty, "decide who may use these routes and add them to the matrix: \(missing.sorted())")
        for entry in app.app.routeTable {
            let key = "\(entry.method) \(entry.pattern)"
            guard let roles = Self.expected[key] else { continue }
            #expect((roles ?? Set(Role.allCases)) == entry.permission.roles || (roles == nil && entry.permission == .anonymous),
                    "\(key): policy grants \(entry.permission.roles.map(\.rawValue).sorted()), matrix expects \(roles.map { $0.map(\.rawValue).sorted() } ?? ["anonymous"])")
        }
    }

    @Test func everyRoleGetsWhatThePolicyGrantsOverHTTP() throws {
        let app = try TestApp()
        let target = try app.makeUser("matrix-target", role: .gridWorker)
        let ids: [String: String] = ["id": "\(app.grid.id)", "userId": "\(target.id)"]
        for entry in app.app.routeTable {
            let key = "\(entry.method) \(entry.pattern)"
            guard let allowed = Self.expected[key] else { continue }
            let path = "/" + entry.pattern.split(separator: "/").map { part in
                part.hasPrefix(":") ? ids[String(part.dropFirst()), default: "\(app.grid.id)"] : String(part)
            }.joined(separator: "/")
            // Users' pages take a user id.
            let concrete = path.hasPrefix("/admin/users/") ? path.replacingOccurrences(of: "/\(app.grid.id)", with: "/\(target.id)") : path

            for role in Role.allCases {
                let client = try app.signedIn(role)
                let response = try request(client, entry.method, concrete)
                let granted = allowed?.contains(role) ?? true
                if granted {
                    #expect(response.status != 403, "\(role) \(key) → 403, expected access")
                    #expect(!(response.header("location")?.hasPrefix("/login?next=") ?? false), "\(role) \(key) → sent to login")
                } else {
                    #expect(response.status == 403, "\(role) \(key) → \(response.status), expected 403")
                }
            }
            let anonymous = AppClient(port: app.port)
            let response = try request(anonymous, entry.method, concrete)
            if allowed == nil {
                #expect(response.status != 403 && !(response.header("location")?.hasPrefix("/login?") ?? false), "anonymous \(key)")
            } else {
                #expect(response.status == 403 || response.header("location")?.hasPrefix("/login") == true,
                        "anonymous \(key) → \(response.status)")
            }
        }
    }

    private func request(_ client: AppClient, _ method: HTTPMethod, _ path: String) throws -> TestResponse {
        if method == .get { return try client.get(path) }
        if client.csrf == nil { try client.get("/login") }
        return try client.post(path, [])
    }
}

@Suite struct MethodTests {
    @Test func unknownMethodsGet405NotACSRFRefusal() throws {
        let app = try TestApp()
        let client = AppClient(port: app.port)
        let foo = try client.send("FOO", "/healthz", body: [], headers: [])
        #expect(foo.status == 405)
        #expect(foo.header("allow") == "GET, HEAD")
        // A state-changing method still needs the token.
        #expect(try client.send("DELETE", "/", body: [], headers: []).status == 403)
    }
}
