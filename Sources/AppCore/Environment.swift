import Foundation
import Logging
import Security
import Storage
import Views

/// The services every feature uses, built once at start. A class: every request's `Context`
/// and every middleware holds it, and a reference is one retain where a copy was a dozen.
public final class AppEnvironment: Sendable {
    public let database: AppDatabase
    /// The database's clock: every "now" of a request.
    public var clock: Clock { database.clock }
    public let templates: TemplateLibrary
    public let users: UserStore
    public let sessions: SessionStore
    public let throttle: LoginThrottle
    public let secureCookies: Bool
    /// Read the client address from X-Forwarded-For when the peer is a proxy on this machine.
    public let trustProxy: Bool
    /// Send a Server-Timing header with every page (see `RequestTiming`).
    public let serverTiming: Bool
    public let logger: Logger
    /// What the registered modules declare: menu, shortcuts, audit labels.
    public let modules: ModuleRegistry
    /// The pages that exist, for checking where a `next=` parameter may lead.
    public let pages = PageIndex()

    public init(database: AppDatabase, templates: TemplateLibrary, secureCookies: Bool, trustProxy: Bool = false,
                serverTiming: Bool = false, logger: Logger, hasher: PasswordHasher = PasswordHasher(), modules: [Module] = []) {
        self.modules = ModuleRegistry(modules)
        self.database = database
        self.templates = templates
        self.users = UserStore(database: database, hasher: hasher)
        self.sessions = SessionStore(database: database)
        self.throttle = LoginThrottle(database: database)
        self.secureCookies = secureCookies
        self.trustProxy = trustProxy
        self.serverTiming = serverTiming
        self.logger = logger
    }
}

/// Names of the cookies the application sets.
public enum CookieName {
    public static let session = "jinlin_session"
    /// Double-submit CSRF token for forms shown before sign-in (the login form).
    public static let preSessionCSRF = "jinlin_csrf"
    public static let flash = "jinlin_flash"
}
