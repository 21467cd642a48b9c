import Access
import App
import AppCore
import Foundation
import HTTPCore
import HTTPTestSupport
import Testing
import Web

/// Every route × every role: the roles expected to pass the policy do, the others get 403 (or,
/// signed out, the login page). The expectations are written here by hand, so a new route fails
/// this test until someone decides who may use it.
@Suite struct AuthorizationMatrixTests {
    static let everyone = Set(Role.allCases)
    static let gridReaders: Set<Role> = [.admin, .staff, .coordinator]
    static let gridManagers: Set<Role> = [.admin, .staff]
    static let admins: Set<Role> = [.admin]
    static let residentViewers: Set<Role> = [.staff, .gridWorker, .coordinator]
    static let residentManagers: Set<Role> = [.staff, .gridWorker]
    static let memberViewers: Set<Role> = [.admin, .staff, .gridWorker, .coordinator]
    static let memberManagers: Set<Role> = [.admin, .staff]
    static let memberRecord: Set<Role> = [.admin, .staff, .gridWorker, .coordinator, .member]
    static let volunteerViewers: Set<Role> = [.staff, .gridWorker, .coordinator, .member]
    static let volunteerManagers: Set<Role> = [.staff, .gridWorker]
    static let volunteers: Set<Role> = [.member]

    /// "METHOD pattern" → roles that may use it; nil = no sign-in needed.
    static let expected: [String: Set<Role>?] = [
        "GET /healthz": nil,
        "GET /login": nil,
        "POST /login": nil,
        "POST /logout": everyone,
        "GET /": everyone,
        "GET /account/password": everyone,
        "POST /account/password": everyone,
        "GET /admin/users": admins,
        "GET /admin/users/new": admins,
        "POST /admin/users/new": admins,
        "GET /admin/users/:id": admins,
        "GET /admin/users/:id/edit": admins,
        "POST /admin/users/:id/edit": admins,
        "GET /admin/users/:id/reset-password": admins,
        "POST /admin/users/:id/reset-password": admins,
        "GET /admin/users/:id/deactivate": admins,
        "POST /admin/users/:id/deactivate": admins,
        "POST /admin/users/:id/activate": admins,
        "GET /branches": memberViewers,
        "GET /branches/new": memberManagers,
        "POST /branches/new": memberManagers,
        "GET /branches/:id": memberViewers,
        "POST /branches/:id/grids": memberManagers,
        "GET /members": memberViewers,
        "GET /members/new": memberManagers,
        "POST /members/new": memberManagers,
        "GET /members/export.csv": memberViewers,
        "GET /members/import": memberManagers,
        "POST /members/import": memberManagers,
        "GET /members/ledger": memberViewers,
        "GET /members/mine": [.member],
        "GET /members/:id": memberRecord,
        "POST /members/:id/edit": memberManagers,
        "POST /members/:id/transfer": memberManagers,
        "POST /members/:id/account": memberManagers,
        "POST /members/:id/roles": memberManagers,
        "POST /members/:id/households": memberManagers,
        "POST /members/:id/households/:houseId/remove": memberManagers,
        "GET /members/:id/report": memberRecord,
        "POST /members/:id/report": memberRecord,
        "POST /members/:id/report/confirm": memberManagers,
        "POST /members/:id/report/return": memberManagers,
        "POST /members/:id/evaluations": memberRecord,
        "GET /members/:id/service-certificate": memberRecord,
        "GET /admin/locks": admins,
        "POST /admin/locks/lift": admins,
        "GET /admin/audit": admins,
        "GET /grids": gridReaders,
        "GET /grids/:id": gridReaders,
        "GET /grids/new": gridManagers,
        "POST /grids/new": gridManagers,
        "POST /grids": gridManagers,
        "GET /grids/:id/edit": gridManagers,
        "POST /grids/:id/edit": gridManagers,
        "POST /grids/:id/move": gridManagers,
        "GET /grids/:id/delete": gridManagers,
        "POST /grids/:id/delete": gridManagers,
        "POST /grids/:id/workers": gridManagers,
        "POST /grids/:id/workers/:userId/remove": gridManagers,
        // Resident records and houses (merging additionally needs the staff role, checked in the handler
        // after the record's scope, so a missing record is a 404 for every manager).
        "GET /buildings/:id/houses": residentViewers,
        "GET /buildings/:id/houses/new": residentManagers,
        "POST /buildings/:id/houses/new": residentManagers,
        "GET /houses/:id": residentViewers,
        "GET /residents/new": residentManagers,
        "POST /residents/new": residentManagers,
        "GET /residents/visits/overdue": residentManagers,
        "GET /residents/:id": residentViewers,
        "GET /residents": residentViewers,
        "GET /residents/export.csv": [.staff, .coordinator],
        "GET /rosters/estate/:id": residentViewers,
        "GET /rosters/community/:id": residentViewers,
        "GET /residents/:id/edit": residentManagers,
        "POST /residents/:id/edit": residentManagers,
        "POST /residents/:id/reveal": residentManagers,
        "POST /residents/:id/tags": residentManagers,
        "POST /residents/:id/visits": residentManagers,
        "GET /residents/:id/move": residentManagers,
        "POST /residents/:id/move": residentManagers,
        "GET /residents/:id/move-out": residentManagers,
        "POST /residents/:id/move-out": residentManagers,
        "POST /residents/:id/residences/:residenceId/end": residentManagers,
        "GET /residents/:id/merge": residentManagers,
        "POST /residents/:id/merge": residentManagers,
        // Resident CSV import: staff only.
        "GET /residents/import": [.staff],
        "POST /residents/import": [.staff],
        "GET /residents/import/jobs/:id": [.staff],
        // Volunteering: teams, posts, activities (members claim, sign up and cancel; staff and
        // grid workers create, add team people, check in and close), the phone home, certificates
        // (a member only their own, checked in the handler).
        "GET /teams": volunteerViewers,
        "GET /teams/new": volunteerManagers,
        "POST /teams/new": volunteerManagers,
        "GET /teams/:id": volunteerViewers,
        "POST /teams/:id/members": volunteerManagers,
        "POST /teams/:id/members/:residentId/remove": volunteerManagers,
        "POST /teams/:id/leader": volunteerManagers,
        "GET /posts": volunteerViewers,
        "GET /posts/new": volunteerManagers,
        "POST /posts/new": volunteerManagers,
        "POST /posts/:id/claim": volunteers,
        "POST /posts/:id/leave": volunteers,
        "GET /activities": volunteerViewers,
        "GET /activities/new": volunteerManagers,
        "POST /activities/new": volunteerManagers,
        "GET /activities/:id": volunteerViewers,
        "POST /activities/:id/signup": volunteers,
        "POST /activities/:id/cancel": volunteers,
        "POST /activities/:id/checkin": volunteerManagers,
        "POST /activities/:id/close": volunteerManagers,
        "GET /me": volunteers,
        "GET /volunteers/:id/certificate": volunteerViewers,
    ]

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
