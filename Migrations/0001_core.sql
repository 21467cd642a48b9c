-- 0001_core: grid tree, accounts, sessions, audit log, login throttling.
--
-- Conventions for every migration:
-- * Rules live in the schema (NOT NULL, CHECK, UNIQUE, foreign keys) so that no code
--   path, present or future, can store what the application considers impossible.
-- * STRICT tables: a column declared INTEGER refuses 'abc' instead of storing it.
-- * Times are fixed-width ISO-8601 UTC text, '2025-01-02T03:04:05.678Z' (SQLite:
--   strftime('%Y-%m-%dT%H:%M:%fZ', 'now')). Fixed width makes text order equal time
--   order, so ranges and ORDER BY work on plain indexes; the GLOB checks keep it so.
-- * Booleans are INTEGER 0/1 with a CHECK.
-- * Tables whose rows other rows point to (grids, users) use AUTOINCREMENT so an id is
--   never reused after a delete: the audit log refers to entities by id forever.
-- * No BEGIN/COMMIT here: the migrator runs each file in its own transaction.

-- The grid tree: community → estate → grid → building. The levels are data: a
-- district may use 3 to 5 of them, so `kind` does not constrain which kind may sit
-- under which.
--
-- `path` is the materialized path of ids from the root, '/1/5/12/' for node 12 under 5
-- under 1. A subtree is every row whose path starts with the node's path, queried as
-- the index range `path >= '/1/5/' AND path < '/1/50'` ('0' is the byte after '/'),
-- never with recursive walks. `depth` is the number of ancestors (a root has 0).
-- Insert rows with an explicit id: the path CHECK cannot see an id that SQLite has not
-- assigned yet (Grids.swift allocates it inside the inserting transaction).
CREATE TABLE grids (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id  INTEGER REFERENCES grids (id),
    kind       TEXT NOT NULL CHECK (kind IN ('community', 'estate', 'grid', 'building')),
    name       TEXT NOT NULL CHECK (name = trim(name) AND length(name) BETWEEN 1 AND 100),
    -- A short stable identifier for imports and exports (e.g. an administrative code).
    code       TEXT NOT NULL UNIQUE
               CHECK (length(code) BETWEEN 1 AND 64 AND code NOT GLOB '*[^A-Za-z0-9._-]*'),
    path       TEXT NOT NULL UNIQUE,
    depth      INTEGER NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
               CHECK (created_at GLOB '????-??-??T??:??:??.???Z'),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
               CHECK (updated_at GLOB '????-??-??T??:??:??.???Z'),
    -- The path is '/', then ids separated by '/', then '/', and ends with the row's own
    -- id. Ending with the own id also means two rows can never share a path, even
    -- halfway through the one UPDATE that rewrites a moved subtree.
    CHECK (path GLOB '/[0-9]*/' AND path NOT GLOB '*[^0-9/]*' AND path NOT GLOB '*//*'
           AND substr(path, -length(id) - 2) = '/' || id || '/'),
    CHECK (depth = length(path) - length(replace(path, '/', '')) - 2),
    CHECK ((parent_id IS NULL) = (depth = 0)),
    CHECK (parent_id IS NULL OR parent_id <> id),
    -- Sibling names are unique. This index also serves children lookups and the
    -- parent_id foreign key.
    UNIQUE (parent_id, name)
) STRICT;

-- NULLs are distinct in UNIQUE, so UNIQUE (parent_id, name) does not cover roots.
CREATE UNIQUE INDEX grids_root_name ON grids (name) WHERE parent_id IS NULL;

-- Accounts. Every role except admin is confined to the subtree of scope_grid_id.
CREATE TABLE users (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    username             TEXT NOT NULL COLLATE NOCASE UNIQUE
                         CHECK (username = trim(username) AND length(username) BETWEEN 1 AND 64),
    display_name         TEXT NOT NULL CHECK (length(trim(display_name)) BETWEEN 1 AND 100),
    -- A slow salted KDF string such as yescrypt '$y$...'; never a plain password.
    password_hash        TEXT NOT NULL CHECK (password_hash <> ''),
    role                 TEXT NOT NULL
                         CHECK (role IN ('admin', 'staff', 'grid_worker', 'coordinator', 'member', 'resident')),
    scope_grid_id        INTEGER REFERENCES grids (id),
    active               INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    -- Links a member's or resident's account to their resident record. The residents
    -- table comes in a later migration; its link is checked there (SQLite cannot add a
    -- foreign key to an existing column without rebuilding the table).
    resident_id          INTEGER,
    must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                         CHECK (created_at GLOB '????-??-??T??:??:??.???Z'),
    updated_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                         CHECK (updated_at GLOB '????-??-??T??:??:??.???Z'),
    last_login_at        TEXT CHECK (last_login_at GLOB '????-??-??T??:??:??.???Z'),
    -- Only an admin may be without scope (an admin sees everything; a scope set on an
    -- admin is ignored).
    CHECK (role = 'admin' OR scope_grid_id IS NOT NULL)
) STRICT;

CREATE INDEX users_scope ON users (scope_grid_id);
-- One account per person.
CREATE UNIQUE INDEX users_resident ON users (resident_id) WHERE resident_id IS NOT NULL;

-- Sign-in sessions. Only the SHA-256 of the cookie token is stored, so a copy of the
-- database (a backup) does not hand out live sessions.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY
                 CHECK (length(token_hash) = 64 AND token_hash NOT GLOB '*[^0-9a-f]*'),
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL CHECK (length(csrf_token) >= 16),
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                 CHECK (created_at GLOB '????-??-??T??:??:??.???Z'),
    -- For the idle timeout.
    last_seen_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                 CHECK (last_seen_at GLOB '????-??-??T??:??:??.???Z'),
    -- Absolute end, however active the session is.
    expires_at   TEXT NOT NULL CHECK (expires_at GLOB '????-??-??T??:??:??.???Z'),
    user_agent   TEXT,
    ip           TEXT,
    CHECK (expires_at > created_at)
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Who changed what, when, from where, with the entity before and after as JSON.
-- Append-only: the triggers below refuse UPDATE and DELETE for every connection, so
-- no code path can rewrite history. (A later migration could still drop the table;
-- that is visible in review and in schema_migrations.)
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                  CHECK (at GLOB '????-??-??T??:??:??.???Z'),
    -- NULL for the system itself (migrations, scheduled jobs, the command line).
    -- No ON DELETE action: a user who appears here cannot be deleted, only deactivated.
    actor_user_id INTEGER REFERENCES users (id),
    -- The actor's name at the time, so the entry still reads right after a rename.
    actor_name    TEXT NOT NULL CHECK (actor_name <> ''),
    -- Dotted verb such as 'grid.create', 'grid.move', 'resident.reveal_id'.
    action        TEXT NOT NULL CHECK (action <> ''),
    entity_type   TEXT,
    entity_id     INTEGER,
    before_json   TEXT CHECK (before_json IS NULL OR json_valid(before_json)),
    after_json    TEXT CHECK (after_json IS NULL OR json_valid(after_json)),
    client_ip     TEXT,
    CHECK (entity_id IS NULL OR entity_type IS NOT NULL)
) STRICT;

CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END;

-- Grid workers 网格员 assigned to grids (a worker may have several grids, a grid
-- several workers).
CREATE TABLE grid_workers (
    grid_id     INTEGER NOT NULL REFERENCES grids (id),
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assigned_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                CHECK (assigned_at GLOB '????-??-??T??:??:??.???Z'),
    PRIMARY KEY (grid_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX grid_workers_user ON grid_workers (user_id);

-- Every sign-in attempt, for throttling by account and by address. The username is
-- stored as typed (it may name no account at all).
CREATE TABLE login_attempts (
    id        INTEGER PRIMARY KEY,
    username  TEXT NOT NULL COLLATE NOCASE,
    ip        TEXT NOT NULL,
    at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
              CHECK (at GLOB '????-??-??T??:??:??.???Z'),
    succeeded INTEGER NOT NULL CHECK (succeeded IN (0, 1))
) STRICT;

CREATE INDEX login_attempts_username ON login_attempts (username, at);
CREATE INDEX login_attempts_ip ON login_attempts (ip, at);
