-- Closed-loop cases 诉求工单: 前端发现问题 → 网上分级分流 → 部门限时办理 → 全程跟踪督办 → 办结回访反馈.
--
-- Units 职能部门 (社区, 物业公司, 街道科室, 县直部门 …) are a tree of their own, like the grid tree
-- (a materialized path), and a new role, the unit handler 部门办理人, whose scope is a unit
-- instead of a grid node. Categories carry the response and resolution targets. A case's status
-- changes only through CaseStore (one function per transition; the timeline row in
-- timeline_events and the audit entry in the same transaction); the CHECK below holds the same
-- values as CaseStatus.
--
-- The clocks are whole seconds since 1970 (UTC) so that the rates are plain arithmetic:
-- response = accepted_at - reported_at; resolution = the seconds the resolution clock ran
-- (from accept to resolve, stopped while paused and while waiting for the follow-up after a
-- resolve, running again after a reopen). Deadlines move with the pauses, so "overdue" is
-- always `due_at < now` on the clock that is running.

CREATE TABLE units (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id  INTEGER REFERENCES units (id),
    name       TEXT NOT NULL CHECK (name = trim(name) AND length(name) BETWEEN 1 AND 40),
    -- community 社区, property 物业公司, street_office 街道科室, town 镇街, county_dept 县直部门, other.
    kind       TEXT NOT NULL CHECK (kind = 'community' OR kind = 'property' OR kind = 'street_office' OR kind = 'town'
                                    OR kind = 'county_dept' OR kind = 'other'),
    -- /1/4/9/: the ids from the root down, so a unit's subtree is a prefix range.
    path       TEXT NOT NULL UNIQUE CHECK (path GLOB '/[0-9]*/'),
    phone      TEXT NOT NULL DEFAULT '' CHECK (length(phone) <= 30),
    active     INTEGER NOT NULL DEFAULT 1 CHECK (active = 0 OR active = 1),
    created_at TEXT NOT NULL CHECK (created_at GLOB '????-??-??T??:??:??.???Z')
) STRICT;

CREATE UNIQUE INDEX units_sibling_name ON units (coalesce(parent_id, 0), name);

-- The accounts table gains the unit handler and its unit scope. SQLite cannot change a CHECK in
-- place, so the table is rebuilt (new table, copy, drop, rename; the migrator runs this with
-- foreign keys off and checks them before the commit), with its indexes as 0001 left them.
CREATE TABLE users_new (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    username             TEXT NOT NULL COLLATE NOCASE UNIQUE
                         CHECK (username = trim(username) AND length(username) BETWEEN 1 AND 64),
    display_name         TEXT NOT NULL CHECK (length(trim(display_name)) BETWEEN 1 AND 100),
    password_hash        TEXT NOT NULL CHECK (password_hash <> ''),
    role                 TEXT NOT NULL
                         CHECK (role IN ('admin', 'staff', 'grid_worker', 'coordinator', 'member', 'resident', 'unit_handler')),
    scope_grid_id        INTEGER REFERENCES grids (id),
    -- A unit handler's scope: the cases assigned to this unit or a unit below it.
    scope_unit_id        INTEGER REFERENCES units (id),
    active               INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    resident_id          INTEGER,
    must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                         CHECK (created_at GLOB '????-??-??T??:??:??.???Z'),
    updated_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                         CHECK (updated_at GLOB '????-??-??T??:??:??.???Z'),
    last_login_at        TEXT CHECK (last_login_at GLOB '????-??-??T??:??:??.???Z'),
    -- An admin has no scope; a unit handler a unit and no grid node; every other role a grid node.
    CHECK (role = 'admin'
           OR (role = 'unit_handler' AND scope_unit_id IS NOT NULL AND scope_grid_id IS NULL)
           OR (role <> 'unit_handler' AND scope_grid_id IS NOT NULL AND scope_unit_id IS NULL))
) STRICT;

INSERT INTO users_new (id, username, display_name, password_hash, role, scope_grid_id, scope_unit_id, active, resident_id,
                       must_change_password, created_at, updated_at, last_login_at)
SELECT id, username, display_name, password_hash, role, scope_grid_id, NULL, active, resident_id,
       must_change_password, created_at, updated_at, last_login_at
FROM users;

-- Keep AUTOINCREMENT's high-water mark: an id once handed out is never handed out again.
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'users'), 0))
WHERE name = 'users_new';

DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

CREATE INDEX users_scope ON users (scope_grid_id);
CREATE UNIQUE INDEX users_resident ON users (resident_id) WHERE resident_id IS NOT NULL;
CREATE INDEX users_unit ON users (scope_unit_id) WHERE scope_unit_id IS NOT NULL;

-- Categories 诉求类别, set by the admin. Targets: the response (report → accept) in minutes, the
-- resolution (accept → resolve, less pauses) in hours; 30 min / 72 h by default, urgent 10 min / 24 h.
CREATE TABLE case_categories (
    id               INTEGER PRIMARY KEY,
    code             TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 10 AND code NOT GLOB '*[^A-Z0-9]*'),
    name             TEXT NOT NULL UNIQUE CHECK (name = trim(name) AND length(name) BETWEEN 1 AND 20),
    default_unit_id  INTEGER REFERENCES units (id),
    urgent           INTEGER NOT NULL DEFAULT 0 CHECK (urgent = 0 OR urgent = 1),
    response_minutes INTEGER NOT NULL CHECK (response_minutes BETWEEN 1 AND 10080),
    resolution_hours INTEGER NOT NULL CHECK (resolution_hours BETWEEN 1 AND 8760),
    active           INTEGER NOT NULL DEFAULT 1 CHECK (active = 0 OR active = 1),
    sort_order       INTEGER NOT NULL DEFAULT 0
) STRICT;

INSERT INTO case_categories (id, code, name, urgent, response_minutes, resolution_hours, sort_order) VALUES
    (1, 'HJWS', '环境卫生', 0, 30, 72, 1),
    (2, 'SZSS', '市政设施', 0, 30, 72, 2),
    (3, 'WYGL', '物业管理', 0, 30, 72, 3),
    (4, 'AQYH', '安全隐患', 1, 10, 24, 4),
    (5, 'MDJF', '矛盾纠纷', 0, 30, 72, 5),
    (6, 'MSFW', '民生服务', 0, 30, 72, 6),
    (7, 'QT', '其他', 0, 30, 72, 99);

CREATE TABLE cases (
    id                 INTEGER PRIMARY KEY,
    category_id        INTEGER NOT NULL REFERENCES case_categories (id),
    description        TEXT NOT NULL CHECK (length(trim(description)) BETWEEN 1 AND 1000),
    location           TEXT NOT NULL DEFAULT '' CHECK (length(location) <= 200),
    -- Where: a node of the grid tree (the scope of staff and grid workers).
    grid_id            INTEGER NOT NULL REFERENCES grids (id),
    grid_path          TEXT NOT NULL CHECK (grid_path GLOB '/[0-9]*/'),
    -- The resident concerned (optional) and the account that reported it.
    resident_id        INTEGER REFERENCES residents (id),
    reporter_id        INTEGER REFERENCES users (id),
    -- grid 网格员上报, resident 居民随手拍, phone 来电 (staff for a caller), staff 社区登记.
    source             TEXT NOT NULL CHECK (source = 'grid' OR source = 'resident' OR source = 'phone' OR source = 'staff'),
    status             TEXT NOT NULL CHECK (status = 'reported' OR status = 'accepted' OR status = 'assigned'
                            OR status = 'in_progress' OR status = 'paused' OR status = 'resolved' OR status = 'visited'
                            OR status = 'closed' OR status = 'merged'),
    -- The state a paused case resumes to.
    paused_from        TEXT CHECK (paused_from IS NULL OR paused_from = 'accepted' OR paused_from = 'assigned' OR paused_from = 'in_progress'),
    -- The unit it is assigned to (the scope of unit handlers), with the unit's path.
    unit_id            INTEGER REFERENCES units (id),
    unit_path          TEXT CHECK (unit_path IS NULL OR unit_path GLOB '/[0-9]*/'),
    urgent             INTEGER NOT NULL DEFAULT 0 CHECK (urgent = 0 OR urgent = 1),
    -- The category's targets when the case was reported, in seconds.
    response_target    INTEGER NOT NULL CHECK (response_target > 0),
    resolution_target  INTEGER NOT NULL CHECK (resolution_target > 0),
    reported_at        INTEGER NOT NULL,
    -- The Beijing month of reported_at, YYYY-MM: the month the rates count the case in.
    month              TEXT NOT NULL CHECK (month GLOB '[12][0-9][0-9][0-9]-[01][0-9]'),
    accepted_at        INTEGER,
    response_seconds   INTEGER CHECK (response_seconds IS NULL OR response_seconds >= 0),
    -- The resolution deadline (moved on by each pause when the case resumes) and the first one
    -- set, kept when an escalation resets it.
    deadline           INTEGER,
    original_deadline  INTEGER,
    -- The running clock: its deadline and the moment 80 % of its time is used. NULL while no
    -- clock runs (paused, resolved, visited, closed, merged).
    due_at             INTEGER,
    warn_at            INTEGER,
    -- The resolution clock: seconds run so far, and since when it runs (NULL when stopped).
    clock_seconds      INTEGER NOT NULL DEFAULT 0 CHECK (clock_seconds >= 0),
    clock_started_at   INTEGER,
    paused_at          INTEGER,
    paused_seconds     INTEGER NOT NULL DEFAULT 0 CHECK (paused_seconds >= 0),
    resolved_at        INTEGER,
    resolution_seconds INTEGER CHECK (resolution_seconds IS NULL OR resolution_seconds >= 0),
    resolved_in_time   INTEGER CHECK (resolved_in_time IS NULL OR resolved_in_time = 0 OR resolved_in_time = 1),
    resolve_note       TEXT CHECK (resolve_note IS NULL OR length(resolve_note) <= 1000),
    -- 回访: satisfied 满意, basic 基本满意, unsatisfied 不满意 (the last one reopens the case).
    satisfaction       TEXT CHECK (satisfaction IS NULL OR satisfaction = 'satisfied' OR satisfaction = 'basic'
                                   OR satisfaction = 'unsatisfied'),
    visit_note         TEXT CHECK (visit_note IS NULL OR length(visit_note) <= 500),
    visited_at         INTEGER,
    closed_at          INTEGER,
    merged_into_id     INTEGER REFERENCES cases (id),
    reopen_count       INTEGER NOT NULL DEFAULT 0 CHECK (reopen_count >= 0),
    escalation_count   INTEGER NOT NULL DEFAULT 0 CHECK (escalation_count >= 0),
    supervision_count  INTEGER NOT NULL DEFAULT 0 CHECK (supervision_count >= 0),
    updated_at         TEXT NOT NULL CHECK (updated_at GLOB '????-??-??T??:??:??.???Z'),
    CHECK ((status = 'merged') = (merged_into_id IS NOT NULL)),
    CHECK ((status = 'assigned' OR status = 'in_progress') <= (unit_id IS NOT NULL)),
    CHECK ((unit_id IS NULL) = (unit_path IS NULL)),
    CHECK ((status = 'paused') = (paused_at IS NOT NULL))
) STRICT;

CREATE INDEX cases_grid ON cases (grid_path, status);
CREATE INDEX cases_unit ON cases (unit_path, status) WHERE unit_path IS NOT NULL;
CREATE INDEX cases_due ON cases (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX cases_month ON cases (month, grid_path);
CREATE INDEX cases_reporter ON cases (reporter_id) WHERE reporter_id IS NOT NULL;
CREATE INDEX cases_resident ON cases (resident_id) WHERE resident_id IS NOT NULL;
CREATE INDEX cases_merged ON cases (merged_into_id) WHERE merged_into_id IS NOT NULL;

-- Photos of a case: taken when it was reported, and when it was resolved (up to 3 each).
CREATE TABLE case_photos (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    hash    TEXT NOT NULL REFERENCES photos (hash),
    stage   TEXT NOT NULL CHECK (stage = 'report' OR stage = 'resolve'),
    PRIMARY KEY (case_id, stage, hash)
) STRICT, WITHOUT ROWID;
