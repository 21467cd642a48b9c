-- Party organisations 党组织, party members 党员 and their 双报到 reports and year-end
-- evaluations 三评, volunteer teams 志愿服务队, posts 岗位 and activities 活动 with sign-ups
-- and credited hours. A member is a resident (never a second copy of the person) plus the
-- membership. Nothing is hard-deleted: a member transferred out keeps the row and timeline.

-- A party organisation, attached to a grid node; organisations form a tree of their own
-- (社区党委/党总支 → 小区/网格党支部 → 楼栋党小组), kept as a materialized path like grids.
CREATE TABLE branches (
    id         INTEGER PRIMARY KEY,
    parent_id  INTEGER REFERENCES branches (id),
    -- committee 党委, general 党总支, branch 党支部, joint 联合党支部, group 党小组
    kind       TEXT NOT NULL CHECK (kind IN ('committee', 'general', 'branch', 'joint', 'group')),
    name       TEXT NOT NULL CHECK (name = trim(name) AND length(name) BETWEEN 1 AND 60),
    grid_id    INTEGER NOT NULL REFERENCES grids (id),
    secretary  TEXT NOT NULL DEFAULT '' CHECK (length(secretary) <= 50),
    path       TEXT NOT NULL UNIQUE CHECK (path GLOB '/[0-9]*/' AND path NOT GLOB '*[^0-9/]*'),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
               CHECK (created_at GLOB '????-??-??T??:??:??.???Z'),
    CHECK (parent_id IS NULL OR parent_id <> id),
    UNIQUE (parent_id, name)
) STRICT;

CREATE INDEX branches_grid ON branches (grid_id);

-- The further estates a 联合党支部 covers (its own grid node is the first).
CREATE TABLE branch_grids (
    branch_id INTEGER NOT NULL REFERENCES branches (id),
    grid_id   INTEGER NOT NULL REFERENCES grids (id),
    PRIMARY KEY (branch_id, grid_id)
) STRICT, WITHOUT ROWID;

-- A party member. `grid_id` is where the member is placed for scope and "near me": the
-- home building at first; staff may place an in-service member (双报到) in a grid.
CREATE TABLE party_members (
    id                INTEGER PRIMARY KEY,
    resident_id       INTEGER NOT NULL UNIQUE REFERENCES residents (id),
    -- full 正式党员, probationary 预备党员
    status            TEXT NOT NULL CHECK (status IN ('full', 'probationary')),
    -- retired 离退休, employed 在职, mobile 流动, new_sector 新就业群体, other 其他
    category          TEXT NOT NULL CHECK (category IN ('retired', 'employed', 'mobile', 'new_sector', 'other')),
    joined_on         TEXT CHECK (joined_on IS NULL OR joined_on GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    branch_id         INTEGER REFERENCES branches (id),
    employer          TEXT NOT NULL DEFAULT '' CHECK (length(employer) <= 100),
    grid_id           INTEGER NOT NULL REFERENCES grids (id),
    -- 党员中心户
    central_household INTEGER NOT NULL DEFAULT 0 CHECK (central_household IN (0, 1)),
    -- Roles in the neighbourhood, as codes joined by ',': building_leader 楼栋长,
    -- street_leader 街巷长, neighbour_leader 红色近邻长.
    roles             TEXT NOT NULL DEFAULT '' CHECK (roles NOT GLOB '*[^a-z_,]*'),
    -- active: in this community's organisation; transferred_out: 转出 (kept, findable)
    membership        TEXT NOT NULL DEFAULT 'active' CHECK (membership IN ('active', 'transferred_out')),
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                      CHECK (created_at GLOB '????-??-??T??:??:??.???Z'),
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                      CHECK (updated_at GLOB '????-??-??T??:??:??.???Z')
) STRICT;

CREATE INDEX party_members_grid ON party_members (grid_id, id);
CREATE INDEX party_members_branch ON party_members (branch_id, id);

-- The members' names for the member list's name search: a derived index kept by triggers (the
-- name itself lives in residents), so a search scans 80,000 short rows instead of reading
-- 80,000 residents scattered over a million.
CREATE TABLE member_names (
    member_id INTEGER PRIMARY KEY REFERENCES party_members (id),
    name      TEXT NOT NULL
) STRICT;

CREATE TRIGGER party_members_name AFTER INSERT ON party_members
BEGIN
    INSERT INTO member_names (member_id, name) SELECT NEW.id, name FROM residents WHERE id = NEW.resident_id;
END;

CREATE TRIGGER residents_member_name AFTER UPDATE OF name ON residents
BEGIN
    UPDATE member_names SET name = NEW.name WHERE member_id = (SELECT id FROM party_members WHERE resident_id = NEW.id);
END;

-- 联户: the households a 党员中心户 looks after.
CREATE TABLE member_households (
    member_id INTEGER NOT NULL REFERENCES party_members (id),
    house_id  INTEGER NOT NULL REFERENCES houses (id),
    PRIMARY KEY (member_id, house_id)
) STRICT, WITHOUT ROWID;

-- A member's timeline: every membership change (created, transferred, category changed,
-- report submitted / confirmed / returned, account created). Append-only.
CREATE TABLE member_events (
    id         INTEGER PRIMARY KEY,
    member_id  INTEGER NOT NULL REFERENCES party_members (id),
    at         TEXT NOT NULL CHECK (at GLOB '????-??-??T??:??:??.???Z'),
    user_id    INTEGER REFERENCES users (id),
    actor_name TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 40),
    note       TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 500)
) STRICT;

CREATE INDEX member_events_member ON member_events (member_id, id);

CREATE TRIGGER member_events_no_update BEFORE UPDATE ON member_events
BEGIN
    SELECT RAISE(ABORT, 'member_events is append-only');
END;

CREATE TRIGGER member_events_no_delete BEFORE DELETE ON member_events
BEGIN
    SELECT RAISE(ABORT, 'member_events is append-only');
END;

-- 在职党员双报到: an in-service member reports to the community where they live, once a year;
-- staff confirm it (placing the member in a grid) or return it with a reason.
CREATE TABLE member_reports (
    id              INTEGER PRIMARY KEY,
    member_id       INTEGER NOT NULL REFERENCES party_members (id),
    year            INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    employer        TEXT NOT NULL CHECK (length(trim(employer)) BETWEEN 1 AND 100),
    employer_branch TEXT NOT NULL DEFAULT '' CHECK (length(employer_branch) <= 100),
    skills          TEXT NOT NULL DEFAULT '' CHECK (length(skills) <= 200),
    available_times TEXT NOT NULL DEFAULT '' CHECK (length(available_times) <= 200),
    -- submitted → confirmed | returned (a returned report may be submitted again)
    status          TEXT NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'confirmed', 'returned')),
    reason          TEXT NOT NULL DEFAULT '' CHECK (length(reason) <= 200),
    submitted_at    TEXT NOT NULL CHECK (submitted_at GLOB '????-??-??T??:??:??.???Z'),
    decided_at      TEXT CHECK (decided_at IS NULL OR decided_at GLOB '????-??-??T??:??:??.???Z'),
    decided_by      INTEGER REFERENCES users (id),
    UNIQUE (member_id, year)
) STRICT;

CREATE INDEX member_reports_status ON member_reports (status, year);

-- Year-end 三评: 自评 by the member, 社区测评 by staff, 组织考评 by the coordinator.
-- Grades: excellent 优秀, qualified 合格, basic 基本合格, unqualified 不合格.
CREATE TABLE member_evaluations (
    member_id       INTEGER NOT NULL REFERENCES party_members (id),
    year            INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    self_grade      TEXT CHECK (self_grade IS NULL OR self_grade IN ('excellent', 'qualified', 'basic', 'unqualified')),
    self_note       TEXT NOT NULL DEFAULT '' CHECK (length(self_note) <= 500),
    community_grade TEXT CHECK (community_grade IS NULL OR community_grade IN ('excellent', 'qualified', 'basic', 'unqualified')),
    org_grade       TEXT CHECK (org_grade IS NULL OR org_grade IN ('excellent', 'qualified', 'basic', 'unqualified')),
    updated_at      TEXT NOT NULL CHECK (updated_at GLOB '????-??-??T??:??:??.???Z'),
    PRIMARY KEY (member_id, year)
) STRICT, WITHOUT ROWID;

-- Volunteer teams 志愿服务队 / 帮帮团. The kind (爱幼, 亲老, 济困, 和事, 惠民, …) is data.
CREATE TABLE team_kinds (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE CHECK (name = trim(name) AND length(name) BETWEEN 1 AND 20),
    sort_order INTEGER NOT NULL DEFAULT 0
) STRICT;

INSERT INTO team_kinds (name, sort_order) VALUES ('爱幼', 1), ('亲老', 2), ('济困', 3), ('和事', 4), ('惠民', 5);

CREATE TABLE teams (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL CHECK (name = trim(name) AND length(name) BETWEEN 1 AND 60),
    kind_id     INTEGER NOT NULL REFERENCES team_kinds (id),
    grid_id     INTEGER NOT NULL REFERENCES grids (id),
    -- The leader is one of the team's people (a resident, often a party member).
    leader_id   INTEGER REFERENCES residents (id),
    description TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                CHECK (created_at GLOB '????-??-??T??:??:??.???Z'),
    UNIQUE (grid_id, name)
) STRICT;

-- The team's people: party members and resident volunteers alike, by resident record.
CREATE TABLE team_members (
    team_id     INTEGER NOT NULL REFERENCES teams (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    joined_on   TEXT NOT NULL CHECK (joined_on GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    PRIMARY KEY (team_id, resident_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX team_members_resident ON team_members (resident_id);

-- The seven post categories (莒南): data, also used for activities.
CREATE TABLE service_categories (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE CHECK (name = trim(name) AND length(name) BETWEEN 1 AND 20),
    sort_order INTEGER NOT NULL DEFAULT 0
) STRICT;

INSERT INTO service_categories (name, sort_order) VALUES
    ('居民自治', 1), ('教育培训', 2), ('助老扶幼', 3), ('环境提升', 4), ('爱心关怀', 5), ('便民利民', 6), ('精准暖心', 7);

-- A volunteer post 岗位 in a grid, with a duty and a number of places.
CREATE TABLE posts (
    id          INTEGER PRIMARY KEY,
    category_id INTEGER NOT NULL REFERENCES service_categories (id),
    grid_id     INTEGER NOT NULL REFERENCES grids (id),
    title       TEXT NOT NULL CHECK (title = trim(title) AND length(title) BETWEEN 1 AND 60),
    duty        TEXT NOT NULL DEFAULT '' CHECK (length(duty) <= 500),
    capacity    INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 100),
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                CHECK (created_at GLOB '????-??-??T??:??:??.???Z')
) STRICT;

CREATE INDEX posts_grid ON posts (grid_id);

-- Who holds a post: a claim starts a row, leaving ends it (history kept).
CREATE TABLE post_holders (
    id         INTEGER PRIMARY KEY,
    post_id    INTEGER NOT NULL REFERENCES posts (id),
    member_id  INTEGER NOT NULL REFERENCES party_members (id),
    started_on TEXT NOT NULL CHECK (started_on GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    ended_on   TEXT CHECK (ended_on IS NULL OR ended_on GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    CHECK (ended_on IS NULL OR ended_on >= started_on)
) STRICT;

CREATE UNIQUE INDEX post_holders_current ON post_holders (post_id, member_id) WHERE ended_on IS NULL;
CREATE INDEX post_holders_member ON post_holders (member_id, ended_on);

-- An activity with 接龙 sign-up: capacity, a sign-up deadline and the hours it credits.
CREATE TABLE activities (
    id              INTEGER PRIMARY KEY,
    title           TEXT NOT NULL CHECK (title = trim(title) AND length(title) BETWEEN 1 AND 80),
    category_id     INTEGER NOT NULL REFERENCES service_categories (id),
    team_id         INTEGER REFERENCES teams (id),
    grid_id         INTEGER NOT NULL REFERENCES grids (id),
    place           TEXT NOT NULL DEFAULT '' CHECK (length(place) <= 100),
    description     TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
    starts_at       TEXT NOT NULL CHECK (starts_at GLOB '????-??-??T??:??'),
    ends_at         TEXT NOT NULL CHECK (ends_at GLOB '????-??-??T??:??'),
    signup_deadline TEXT NOT NULL CHECK (signup_deadline GLOB '????-??-??T??:??'),
    capacity        INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 10000),
    hours           REAL NOT NULL CHECK (hours >= 0 AND hours <= 24),
    -- A short code attendees show or type for check-in.
    checkin_code    TEXT NOT NULL CHECK (length(checkin_code) = 6),
    -- open → closed (hours credited) | cancelled
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'cancelled')),
    created_by      INTEGER REFERENCES users (id),
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                    CHECK (created_at GLOB '????-??-??T??:??:??.???Z'),
    closed_at       TEXT CHECK (closed_at IS NULL OR closed_at GLOB '????-??-??T??:??:??.???Z'),
    CHECK (ends_at >= starts_at),
    CHECK (signup_deadline <= ends_at)
) STRICT;

CREATE INDEX activities_grid ON activities (grid_id, starts_at);
CREATE INDEX activities_starts ON activities (starts_at);

-- A sign-up. `seq` is the arrival order (the waitlist moves up in it). A cancelled row
-- stays; a person has at most one live sign-up per activity.
CREATE TABLE activity_signups (
    id            INTEGER PRIMARY KEY,
    activity_id   INTEGER NOT NULL REFERENCES activities (id),
    resident_id   INTEGER NOT NULL REFERENCES residents (id),
    seq           INTEGER NOT NULL,
    -- confirmed → cancelled | attended | no_show; waitlisted → confirmed | cancelled
    status        TEXT NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'cancelled', 'attended', 'no_show')),
    signed_up_at  TEXT NOT NULL CHECK (signed_up_at GLOB '????-??-??T??:??:??.???Z'),
    cancelled_at  TEXT CHECK (cancelled_at IS NULL OR cancelled_at GLOB '????-??-??T??:??:??.???Z'),
    checked_in_at TEXT CHECK (checked_in_at IS NULL OR checked_in_at GLOB '????-??-??T??:??:??.???Z'),
    UNIQUE (activity_id, seq)
) STRICT;

CREATE UNIQUE INDEX activity_signups_live ON activity_signups (activity_id, resident_id) WHERE status <> 'cancelled';
CREATE INDEX activity_signups_resident ON activity_signups (resident_id, activity_id);

-- Volunteer hours 志愿服务时长: a ledger-ready record per credited service. `source_key`
-- (e.g. 'activity:12:resident:34') makes every credit happen exactly once; a correction
-- is a reversing row with negative hours. Append-only.
CREATE TABLE volunteer_hours (
    id          INTEGER PRIMARY KEY,
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    hours       REAL NOT NULL CHECK (hours <> 0 AND hours BETWEEN -24 AND 24),
    served_on   TEXT NOT NULL CHECK (served_on GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    content     TEXT NOT NULL CHECK (length(content) BETWEEN 1 AND 200),
    activity_id INTEGER REFERENCES activities (id),
    source_key  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL CHECK (created_at GLOB '????-??-??T??:??:??.???Z')
) STRICT;

CREATE INDEX volunteer_hours_resident ON volunteer_hours (resident_id, served_on);

CREATE TRIGGER volunteer_hours_no_update BEFORE UPDATE ON volunteer_hours
BEGIN
    SELECT RAISE(ABORT, 'volunteer_hours is append-only');
END;

CREATE TRIGGER volunteer_hours_no_delete BEFORE DELETE ON volunteer_hours
BEGIN
    SELECT RAISE(ABORT, 'volunteer_hours is append-only');
END;
