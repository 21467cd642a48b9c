-- Wish claims 微心愿: a resident's small wish (or staff's on their behalf), reviewed by staff,
-- claimed by a party member, fulfilled with a note and a photo 结单, rated by the wisher.
-- Status changes go through WishStore (one function per transition, timeline and audit in the
-- same transaction); the CHECKs below hold the same values as WishStatus.

-- Categories are data: staff may add more later.
CREATE TABLE wish_categories (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE CHECK (name = trim(name) AND length(name) BETWEEN 1 AND 20),
    sort_order INTEGER NOT NULL DEFAULT 0
) STRICT;

INSERT INTO wish_categories (id, name, sort_order) VALUES
    (1, '生活帮扶', 1), (2, '学习用品', 2), (3, '家电维修', 3), (4, '陪伴关爱', 4),
    (5, '代办跑腿', 5), (6, '健康助医', 6), (7, '其他', 99);

-- Settings of the module, one row each (days and counts are whole numbers):
-- publish_days N: a published wish nobody claims expires after N days;
-- claim_days M: a claim not completed after M days goes back to published (the claimant told);
-- max_open_claims K: claims a member may hold at once; value_cap: the largest value in yuan.
CREATE TABLE wish_settings (
    key   TEXT PRIMARY KEY CHECK (key = 'publish_days' OR key = 'claim_days' OR key = 'max_open_claims' OR key = 'value_cap'),
    value INTEGER NOT NULL CHECK (value BETWEEN 1 AND 100000)
) STRICT, WITHOUT ROWID;

INSERT INTO wish_settings (key, value) VALUES
    ('publish_days', 30), ('claim_days', 14), ('max_open_claims', 3), ('value_cap', 500);

-- Uploaded photos, stored under the data directory as photos/<hash> (content-addressed,
-- metadata stripped before hashing). The owner is the wish whose 结单 carried it.
CREATE TABLE photos (
    hash       TEXT PRIMARY KEY CHECK (length(hash) = 64 AND hash NOT GLOB '*[^0-9a-f]*'),
    mime       TEXT NOT NULL CHECK (mime = 'image/jpeg' OR mime = 'image/png' OR mime = 'image/webp'),
    size       INTEGER NOT NULL CHECK (size BETWEEN 1 AND 5242880),
    wish_id    INTEGER REFERENCES wishes (id),
    created_at TEXT NOT NULL CHECK (created_at GLOB '????-??-??T??:??:??.???Z')
) STRICT, WITHOUT ROWID;

CREATE TABLE wishes (
    id                   INTEGER PRIMARY KEY,
    -- The short code a member types at /w/CODE (the printed 心愿墙 shows it).
    code                 TEXT NOT NULL UNIQUE CHECK (length(code) = 6 AND code NOT GLOB '*[^A-HJ-NP-Z2-9]*'),
    title                TEXT NOT NULL CHECK (title = trim(title) AND length(title) BETWEEN 1 AND 60),
    description          TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
    category_id          INTEGER NOT NULL REFERENCES wish_categories (id),
    -- Estimated value in yuan, at most the value_cap setting (checked by the store).
    value_yuan           INTEGER NOT NULL CHECK (value_yuan BETWEEN 0 AND 100000),
    -- The wisher, and the building of their home when the wish was posted (the scope).
    resident_id          INTEGER NOT NULL REFERENCES residents (id),
    grid_id              INTEGER NOT NULL REFERENCES grids (id),
    grid_path            TEXT NOT NULL CHECK (grid_path GLOB '/[0-9]*/'),
    posted_by            INTEGER REFERENCES users (id),
    status               TEXT NOT NULL CHECK (status = 'submitted' OR status = 'published' OR status = 'rejected'
                              OR status = 'claimed' OR status = 'completed' OR status = 'rated' OR status = 'closed'
                              OR status = 'cancelled' OR status = 'expired'),
    reject_reason        TEXT CHECK (reject_reason IS NULL OR length(reject_reason) <= 200),
    -- The claiming member (their resident record and account) while claimed and afterwards.
    claimant_resident_id INTEGER REFERENCES residents (id),
    claimant_user_id     INTEGER REFERENCES users (id),
    -- Set once the claimant was told the claim is about to expire.
    claim_warned         INTEGER NOT NULL DEFAULT 0 CHECK (claim_warned = 0 OR claim_warned = 1),
    note                 TEXT CHECK (note IS NULL OR length(note) <= 500),
    photo_hash           TEXT REFERENCES photos (hash),
    rating               INTEGER CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
    comment              TEXT CHECK (comment IS NULL OR length(comment) <= 500),
    -- Staff rated on the wisher's behalf.
    rated_on_behalf      INTEGER NOT NULL DEFAULT 0 CHECK (rated_on_behalf = 0 OR rated_on_behalf = 1),
    created_at           TEXT NOT NULL CHECK (created_at GLOB '????-??-??T??:??:??.???Z'),
    published_at         TEXT CHECK (published_at IS NULL OR published_at GLOB '????-??-??T??:??:??.???Z'),
    claimed_at           TEXT CHECK (claimed_at IS NULL OR claimed_at GLOB '????-??-??T??:??:??.???Z'),
    completed_at         TEXT CHECK (completed_at IS NULL OR completed_at GLOB '????-??-??T??:??:??.???Z'),
    rated_at             TEXT CHECK (rated_at IS NULL OR rated_at GLOB '????-??-??T??:??:??.???Z'),
    updated_at           TEXT NOT NULL CHECK (updated_at GLOB '????-??-??T??:??:??.???Z'),
    CHECK ((claimant_user_id IS NULL) = (claimant_resident_id IS NULL)),
    CHECK ((status = 'claimed' OR status = 'completed' OR status = 'rated' OR status = 'closed') = (claimant_user_id IS NOT NULL)),
    CHECK ((status = 'rated' OR status = 'closed') = (rating IS NOT NULL)),
    CHECK (status <> 'rejected' OR reject_reason IS NOT NULL)
) STRICT;

CREATE INDEX wishes_path ON wishes (grid_path, status);
CREATE INDEX wishes_status ON wishes (status, published_at);
CREATE INDEX wishes_claimant ON wishes (claimant_resident_id, status);
CREATE INDEX wishes_resident ON wishes (resident_id);
CREATE INDEX photos_wish ON photos (wish_id);

-- In-app notifications (the bell in the header). No e-mail or SMS.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    text       TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 300),
    link       TEXT NOT NULL DEFAULT '' CHECK (link = '' OR link GLOB '/*'),
    read_at    TEXT CHECK (read_at IS NULL OR read_at GLOB '????-??-??T??:??:??.???Z'),
    created_at TEXT NOT NULL CHECK (created_at GLOB '????-??-??T??:??:??.???Z')
) STRICT;

CREATE INDEX notifications_user ON notifications (user_id, read_at, id);
