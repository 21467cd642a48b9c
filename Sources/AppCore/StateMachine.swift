import Access
import GRDB
import Storage
import Web

/// The role may not do this, or the target is someone else's: a 403 page.
public struct Forbidden: Error, Sendable {
    /// Why, for the page (nil: the generic 403 page).
    public let message: String?
    public init(_ message: String? = nil) { self.message = message }
}

/// The target does not exist, or lies outside the principal's scope: a 404 page.
public struct NotFound: Error, Sendable {
    public let message: String?
    public init(_ message: String? = nil) { self.message = message }
}

/// The target's state does not allow the change (moving out someone already moved out): a 409
/// page with `message`.
public struct Conflict: Error, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// A record's status as a state machine: stored as its raw text (the schema CHECKs the same
/// values), changed only along `transitions`, each change written with its timeline and audit rows.
public protocol StateMachine: RawRepresentable, CaseIterable, Hashable, Sendable where RawValue == String {
    /// The entity type named in the timeline and the audit log (`resident`).
    static var entityType: String { get }
    /// The table of allowed changes.
    static var transitions: [Transition<Self>] { get }
    /// Why the change from `state` to `next` is refused, in Chinese.
    static func refusal(from state: Self, to next: Self) -> String
}

/// One row of a transition table: from these states to `to`, by whom, logged as `action`.
public struct Transition<State: StateMachine>: Sendable {
    public let from: Set<State>
    public let to: State
    public let permission: Permission
    /// Only the target's owner may make it ("my own wish").
    public let ownerOnly: Bool
    /// The audit action (`resident.move_out`).
    public let action: String

    public init(from: Set<State>, to: State, permission: Permission, ownerOnly: Bool = false, action: String) {
        self.from = from
        self.to = to
        self.permission = permission
        self.ownerOnly = ownerOnly
        self.action = action
    }
}

/// The one gate for state changes: it runs inside the store method's write transaction.
public enum StateChange {
    /// Decides (role 403, scope 404, owner 403, state 409), then runs `change`, and writes the
    /// timeline row and the audit entry (`snapshot` before and after). All in `db`'s transaction:
    /// a refusal or an error in `change` writes nothing. `action` names the audit entry when the
    /// transition is part of a larger change (a moved-out resident moving into a house).
    /// `using` picks the transition by its action when several lead to the same state (a wish
    /// goes back to published when its claimant releases it, and when the claim expires).
    @discardableResult
    public static func apply<State: StateMachine>(
        _ db: Database, _ principal: Principal?, actor: AuditActor, id: Int64, from state: State, gridPath: String?,
        unitPath: String? = nil, ownerID: Int64? = nil, to next: State, using: String? = nil, action: String? = nil, note: String? = nil,
        snapshot: (Database) throws -> (any Encodable)?, change: (Database) throws -> Void
    ) throws -> Transition<State> {
        let candidates = State.transitions.filter { $0.to == next && (using == nil || $0.action == using) }
        guard let first = candidates.first else { throw Conflict(State.refusal(from: state, to: next)) }
        // Role and scope come before the state, so a refusal says nothing about a record one may not see.
        try Policy.require(principal, first.permission, gridPath: gridPath, unitPath: unitPath)
        guard let transition = candidates.first(where: { $0.from.contains(state) }) else {
            throw Conflict(State.refusal(from: state, to: next))
        }
        try Policy.require(principal, transition.permission, gridPath: gridPath, unitPath: unitPath, ownerID: ownerID,
                           ownerOnly: transition.ownerOnly)
        let before = try snapshot(db)
        try change(db)
        try db.execute(sql: """
            INSERT INTO timeline_events (entity_type, entity_id, from_state, to_state, action, user_id, note, at)
            VALUES (?, ?, ?, ?, ?, ?, ?, \(Timestamp.nowSQL))
            """, arguments: [State.entityType, id, state.rawValue, next.rawValue, transition.action,
                             actor.userID, note])
        try AuditLog.record(db, actor: actor, action: action ?? transition.action, entityType: State.entityType, entityId: id,
                            before: before, after: try snapshot(db))
        return transition
    }

    /// The timeline of one entity, oldest first.
    public static func timeline(_ db: Database, entityType: String, id: Int64) throws -> [Row] {
        try Row.fetchAll(db, sql: """
            SELECT from_state, to_state, action, user_id, note, at FROM timeline_events
            WHERE entity_type = ? AND entity_id = ? ORDER BY id
            """, arguments: [entityType, id])
    }
}

/// The stores' errors as pages, mapped once for every feature (`AppRoutes` applies it).
public enum DomainErrors {
    public static func mapped(_ error: any Error) -> any Error {
        switch error {
        case let notFound as NotFound: return HTTPError(.notFound, notFound.message)
        case let forbidden as Forbidden: return HTTPError(.forbidden, forbidden.message)
        case let conflict as Conflict: return HTTPError(.conflict, conflict.message)
        case let fields as FieldErrors: return HTTPError(.unprocessableContent, fields.errors.sorted { $0.key < $1.key }.map(\.value).joined(separator: "；"))
        default: return error
        }
    }
}

extension Policy {
    /// `decide` for a store method inside its transaction: throws `Forbidden` (403) or
    /// `NotFound` (404) unless allowed.
    public static func require(_ principal: Principal?, _ permission: Permission, gridPath: String? = nil,
                               unitPath: String? = nil, ownerID: Int64? = nil, ownerOnly: Bool = false) throws {
        switch decide(principal, permission, targetGridPath: gridPath, targetUnitPath: unitPath, ownerID: ownerID,
                      ownerOnly: ownerOnly) {
        case .allow: return
        case .forbidden: throw Forbidden()
        case .notFound: throw NotFound()
        }
    }
}
