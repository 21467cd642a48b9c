-- The party member's points card 党员积分卡 (rules as data, an append-only ledger of entries,
-- per-member-year totals for the ranking board 公示) and volunteer credits 爱心积分 with the
-- reward shop 积分商城 (an append-only ledger, balances kept by a trigger that never lets one
-- go negative, items whose stock never goes below zero, redemptions with a 核销码).

-- Settings of this module: credit rates and grade bands (numbers as text).
CREATE TABLE points_settings (
    key   TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 40),
    value TEXT NOT NULL CHECK (length(value) <= 100)
) STRICT, WITHOUT ROWID;

INSERT INTO points_settings (key, value) VALUES
    ('credits_per_hour', '10'), ('credits_per_wish', '20'),
    ('grade_excellent', '90'), ('grade_qualified', '75'), ('grade_basic', '60');

-- The three dimensions of the card and their maxima (the store keeps their sum at 100).
CREATE TABLE point_dimensions (
    code       TEXT PRIMARY KEY CHECK (code IN ('politics', 'dedication', 'image')),
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 20),
    max_points INTEGER NOT NULL CHECK (max_points BETWEEN 0 AND 100),
    sort_order INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO point_dimensions (code, name, max_points, sort_order) VALUES
    ('politics', '讲政治', 30, 1), ('dedication', '比奉献', 50, 2), ('image', '树形象', 20, 3);

-- An item rule: so many points per unit, capped per year; a deduction rule takes points off.
-- `auto` names the event an automatic rule is posted from (activity, wish, report, post).
CREATE TABLE point_rules (
    id          INTEGER PRIMARY KEY,
    dimension   TEXT NOT NULL REFERENCES point_dimensions (code),
    item        TEXT NOT NULL CHECK (item = trim(item) AND length(item) BETWEEN 1 AND 60),
    points      INTEGER NOT NULL CHECK (points BETWEEN 1 AND 100),
    unit        TEXT NOT NULL DEFAULT '次' CHECK (length(unit) BETWEEN 1 AND 10),
    yearly_cap  INTEGER CHECK (yearly_cap IS NULL OR yearly_cap BETWEEN 1 AND 100),
    deduction   INTEGER NOT NULL DEFAULT 0 CHECK (deduction IN (0, 1)),
    auto        TEXT UNIQUE CHECK (auto IS NULL OR auto IN ('activity', 'wish', 'report', 'post')),
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    sort_order  INTEGER NOT NULL DEFAULT 0,
    CHECK (auto IS NULL OR deduction = 0)
) STRICT;

INSERT INTO point_rules (dimension, item, points, unit, yearly_cap, deduction, auto, sort_order) VALUES
    ('politics', '参加组织生活（三会一课、主题党日）', 2, '次', 20, 0, NULL, 1),
    ('politics', '在职党员到社区报到（双报到）', 10, '年', 10, 0, 'report', 2),
    ('dedication', '参加志愿服务活动', 2, '次', 30, 0, 'activity', 3),
    ('dedication', '完成微心愿并获评价', 3, '个', 15, 0, 'wish', 4),
    ('dedication', '认领志愿岗位满一季度', 5, '季度', 20, 0, 'post', 5),
    ('image', '好人好事、受到表彰', 5, '次', 20, 0, NULL, 6),
    ('image', '违反社区公约或党员纪律', 5, '次', 20, 1, NULL, 7);

-- The card's ledger. Automatic entries carry a unique `source_key` (posted exactly once) and
-- are approved when posted; manual entries (recorded by staff, applied for by a member) wait
-- for a coordinator. A correction is a reversing entry (`reverses_id`, negative points, a
-- reason); amounts are never edited and rows never deleted.
CREATE TABLE point_entries (
    id          INTEGER PRIMARY KEY,
    member_id   INTEGER NOT NULL REFERENCES party_members (id),
    year        INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    rule_id     INTEGER NOT NULL REFERENCES point_rules (id),
    dimension   TEXT NOT NULL REFERENCES point_dimensions (code),
    points      INTEGER NOT NULL CHECK (points BETWEEN -100 AND 100),
    -- activity, wish, report, post (automatic), staff, member (manual), reversal
    source      TEXT NOT NULL CHECK (source IN ('activity', 'wish', 'report', 'post', 'staff', 'member', 'reversal')),
    source_key  TEXT UNIQUE,
    occurred_on TEXT NOT NULL CHECK (occurred_on GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    note        TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    reason      TEXT NOT NULL DEFAULT '' CHECK (length(reason) <= 200),
    reverses_id INTEGER UNIQUE REFERENCES point_entries (id),
    created_by  INTEGER REFERENCES users (id),
    created_at  TEXT NOT NULL CHECK (created_at GLOB '????-??-??T??:??:??.???Z'),
    decided_by  INTEGER REFERENCES users (id),
    decided_at  TEXT CHECK (decided_at IS NULL OR decided_at GLOB '????-??-??T??:??:??.???Z'),
    CHECK ((source = 'reversal') = (reverses_id IS NOT NULL))
) STRICT;

CREATE INDEX point_entries_member ON point_entries (member_id, year, id);
CREATE INDEX point_entries_pending ON point_entries (status, id) WHERE status = 'pending';

CREATE TRIGGER point_entries_no_delete BEFORE DELETE ON point_entries
BEGIN
    SELECT RAISE(ABORT, 'point_entries is append-only');
END;

CREATE TRIGGER point_entries_fixed BEFORE UPDATE OF member_id, year, rule_id, dimension, points, source, source_key,
    occurred_on, note, reverses_id, created_by, created_at ON point_entries
BEGIN
    SELECT RAISE(ABORT, 'point_entries amounts are append-only');
END;

-- Only a pending entry is decided, once.
CREATE TRIGGER point_entries_decided_once BEFORE UPDATE OF status ON point_entries
WHEN OLD.status <> 'pending' OR NEW.status = 'pending'
BEGIN
    SELECT RAISE(ABORT, 'point_entries: only a pending entry is decided');
END;

-- The card's figures per member and year, recomputed by the posting function from the
-- approved entries (rule caps and dimension maxima applied), with the member's grid path and
-- branch for the board: the county's top rows come from `point_totals_rank` alone.
CREATE TABLE point_totals (
    member_id  INTEGER NOT NULL REFERENCES party_members (id),
    year       INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    grid_path  TEXT NOT NULL,
    branch_id  INTEGER REFERENCES branches (id),
    politics   INTEGER NOT NULL DEFAULT 0,
    dedication INTEGER NOT NULL DEFAULT 0,
    image      INTEGER NOT NULL DEFAULT 0,
    total      INTEGER NOT NULL DEFAULT 0 CHECK (total BETWEEN 0 AND 100),
    PRIMARY KEY (member_id, year)
) STRICT, WITHOUT ROWID;

CREATE INDEX point_totals_rank ON point_totals (year, total DESC, member_id);
CREATE INDEX point_totals_grid ON point_totals (year, grid_path, total DESC);
CREATE INDEX point_totals_branch ON point_totals (year, branch_id, total DESC);

-- Volunteer credits 爱心积分 of members and resident volunteers, by resident record.
-- Append-only; a redemption spends (negative), its cancellation returns (positive).
CREATE TABLE credit_entries (
    id            INTEGER PRIMARY KEY,
    resident_id   INTEGER NOT NULL REFERENCES residents (id),
    amount        INTEGER NOT NULL CHECK (amount <> 0),
    -- activity (hours), wish (rated), redeem, refund (cancelled redemption)
    kind          TEXT NOT NULL CHECK (kind IN ('activity', 'wish', 'redeem', 'refund')),
    source_key    TEXT NOT NULL UNIQUE,
    note          TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 200),
    redemption_id INTEGER REFERENCES shop_redemptions (id),
    created_by    INTEGER REFERENCES users (id),
    created_at    TEXT NOT NULL CHECK (created_at GLOB '????-??-??T??:??:??.???Z')
) STRICT;

CREATE INDEX credit_entries_resident ON credit_entries (resident_id, id);

-- The balance per person, kept by the trigger below; the CHECK refuses a negative balance.
CREATE TABLE credit_balances (
    resident_id INTEGER PRIMARY KEY REFERENCES residents (id),
    balance     INTEGER NOT NULL CHECK (balance >= 0)
) STRICT;

CREATE TRIGGER credit_entries_balance AFTER INSERT ON credit_entries
BEGIN
    INSERT OR IGNORE INTO credit_balances (resident_id, balance) VALUES (NEW.resident_id, 0);
    UPDATE credit_balances SET balance = balance + NEW.amount WHERE resident_id = NEW.resident_id;
END;

CREATE TRIGGER credit_entries_no_update BEFORE UPDATE ON credit_entries
BEGIN
    SELECT RAISE(ABORT, 'credit_entries is append-only');
END;

CREATE TRIGGER credit_entries_no_delete BEFORE DELETE ON credit_entries
BEGIN
    SELECT RAISE(ABORT, 'credit_entries is append-only');
END;

-- The reward shop's items, offered in a grid subtree (a community usually).
CREATE TABLE shop_items (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL CHECK (name = trim(name) AND length(name) BETWEEN 1 AND 60),
    description TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    -- A picture's address under /img or elsewhere on this site (optional).
    picture     TEXT NOT NULL DEFAULT '' CHECK (length(picture) <= 200),
    cost        INTEGER NOT NULL CHECK (cost BETWEEN 1 AND 100000),
    stock       INTEGER NOT NULL CHECK (stock >= 0),
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    grid_id     INTEGER NOT NULL REFERENCES grids (id),
    created_at  TEXT NOT NULL CHECK (created_at GLOB '????-??-??T??:??:??.???Z')
) STRICT;

CREATE INDEX shop_items_grid ON shop_items (grid_id);

-- A redemption: pending (code shown to the person) → fulfilled (handed over, code typed by
-- staff) | cancelled (credits and stock returned).
CREATE TABLE shop_redemptions (
    id           INTEGER PRIMARY KEY,
    item_id      INTEGER NOT NULL REFERENCES shop_items (id),
    resident_id  INTEGER NOT NULL REFERENCES residents (id),
    user_id      INTEGER NOT NULL REFERENCES users (id),
    -- The redeemer's home grid (for staff's scope).
    grid_path    TEXT NOT NULL,
    cost         INTEGER NOT NULL CHECK (cost >= 1),
    code         TEXT NOT NULL CHECK (length(code) = 6 AND code NOT GLOB '*[^0-9]*'),
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'fulfilled', 'cancelled')),
    created_at   TEXT NOT NULL CHECK (created_at GLOB '????-??-??T??:??:??.???Z'),
    decided_at   TEXT CHECK (decided_at IS NULL OR decided_at GLOB '????-??-??T??:??:??.???Z'),
    decided_by   INTEGER REFERENCES users (id)
) STRICT;

CREATE INDEX shop_redemptions_resident ON shop_redemptions (resident_id, id);
CREATE INDEX shop_redemptions_status ON shop_redemptions (status, grid_path);

-- Where the board's sync of automatic entries has got to: the last `volunteer_hours` id
-- posted ('hours'), and when (Unix seconds) confirmed reports and post quarters were last
-- looked for ('full'; at most every few minutes, so a board view stays cheap).
CREATE TABLE points_sync (
    source  TEXT PRIMARY KEY CHECK (source IN ('hours', 'full')),
    last_id INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;

INSERT INTO points_sync (source, last_id) VALUES ('hours', 0), ('full', 0);
