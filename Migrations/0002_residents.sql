-- Residents 居民 and houses 房屋 (人屋关联), key-group tags 重点人群, visits 走访记录,
-- and the background CSV import jobs. Nothing here is hard-deleted: moving out ends a
-- residence, merging marks a record as merged into another.

-- A house: a room in a unit of a building. The building is a grid node of kind 'building'.
CREATE TABLE houses (
    id          INTEGER PRIMARY KEY,
    building_id INTEGER NOT NULL REFERENCES grids (id),
    -- As written on the door: unit '1', room '301' (text: some rooms are '3A' or '101-1').
    unit        TEXT NOT NULL CHECK (unit = trim(unit) AND length(unit) BETWEEN 1 AND 20),
    room        TEXT NOT NULL CHECK (room = trim(room) AND length(room) BETWEEN 1 AND 20),
    floor       INTEGER CHECK (floor IS NULL OR floor BETWEEN -10 AND 200),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                CHECK (created_at GLOB '????-??-??T??:??:??.???Z'),
    UNIQUE (building_id, unit, room)
) STRICT;

-- A CHECK cannot look at another table: a trigger keeps houses on buildings only.
CREATE TRIGGER houses_on_buildings_insert BEFORE INSERT ON houses
WHEN (SELECT kind FROM grids WHERE id = NEW.building_id) IS NOT 'building'
BEGIN
    SELECT RAISE(ABORT, 'houses.building_id must name a grid node of kind building');
END;

CREATE TRIGGER houses_on_buildings_update BEFORE UPDATE OF building_id ON houses
WHEN (SELECT kind FROM grids WHERE id = NEW.building_id) IS NOT 'building'
BEGIN
    SELECT RAISE(ABORT, 'houses.building_id must name a grid node of kind building');
END;

-- Key-group tags 重点人群: a list kept as data, seeded with the usual groups.
CREATE TABLE tags (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE CHECK (name = trim(name) AND length(name) BETWEEN 1 AND 20),
    -- Whether residents with this tag count as a key group that grid workers visit.
    key_group  INTEGER NOT NULL DEFAULT 1 CHECK (key_group IN (0, 1)),
    active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    sort_order INTEGER NOT NULL DEFAULT 0
) STRICT;

INSERT INTO tags (name, sort_order) VALUES
    ('独居老人', 1), ('空巢老人', 2), ('高龄老人', 3), ('残疾人', 4), ('低保户', 5),
    ('特困人员', 6), ('留守儿童', 7), ('退役军人', 8), ('重病患者', 9);

-- A person. The ID number (GB 11643, 18 characters, check digit validated by the
-- application) is unique; birth date and sex are derived from it, stored for filters.
CREATE TABLE residents (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL CHECK (name = trim(name) AND length(name) BETWEEN 1 AND 50),
    id_number        TEXT NOT NULL UNIQUE
                     CHECK (length(id_number) = 18 AND substr(id_number, 1, 17) NOT GLOB '*[^0-9]*'
                            AND substr(id_number, 18) GLOB '[0-9X]'),
    -- The ID number reversed, so a tail search ('…1234') is an indexed prefix range.
    id_number_rev    TEXT NOT NULL,
    sex              TEXT NOT NULL CHECK (sex IN ('M', 'F')),
    birth_date       TEXT NOT NULL CHECK (birth_date GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    -- Mainland mobile number: 11 digits starting with 1.
    phone            TEXT CHECK (phone IS NULL OR (length(phone) = 11 AND phone GLOB '1*'
                                                   AND phone NOT GLOB '*[^0-9]*')),
    phone_rev        TEXT,
    -- 政治面貌, GB/T 4762 codes: 01 中共党员, 02 中共预备党员, 03 共青团员, 04–11 民主党派,
    -- 12 无党派人士, 13 群众.
    political_status TEXT NOT NULL DEFAULT '13'
                     CHECK (political_status IN ('01', '02', '03', '04', '05', '06', '07', '08', '09',
                                                 '10', '11', '12', '13')),
    -- 人户分离: registered (户籍) in one place, living in another.
    separated        INTEGER NOT NULL DEFAULT 0 CHECK (separated IN (0, 1)),
    notes            TEXT NOT NULL DEFAULT '' CHECK (length(notes) <= 2000),
    -- active: lives here; moved_out: 迁出, kept and findable; merged: a duplicate record
    -- folded into merged_into_id.
    status           TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'moved_out', 'merged')),
    merged_into_id   INTEGER REFERENCES residents (id),
    -- The building of the resident's current home, for scope filters (the repository keeps
    -- it in step with residences). NULL once moved out.
    building_id      INTEGER REFERENCES grids (id),
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                     CHECK (created_at GLOB '????-??-??T??:??:??.???Z'),
    updated_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                     CHECK (updated_at GLOB '????-??-??T??:??:??.???Z'),
    CHECK ((status = 'merged') = (merged_into_id IS NOT NULL)),
    CHECK (merged_into_id IS NULL OR merged_into_id <> id),
    CHECK ((phone IS NULL) = (phone_rev IS NULL))
) STRICT;

CREATE INDEX residents_building ON residents (building_id, status);
CREATE INDEX residents_name ON residents (name);
CREATE INDEX residents_id_rev ON residents (id_number_rev);
CREATE INDEX residents_phone_rev ON residents (phone_rev) WHERE phone_rev IS NOT NULL;
CREATE INDEX residents_birth ON residents (birth_date);
CREATE INDEX residents_political ON residents (political_status);
CREATE INDEX residents_merged_into ON residents (merged_into_id) WHERE merged_into_id IS NOT NULL;

-- Two-character pieces of every name, so a substring search of a 2-character name ('王芳')
-- is an index lookup instead of a scan of a million names (FTS5's trigram tokenizer needs at
-- least 3 characters). Kept by the triggers below.
CREATE TABLE resident_name_grams (
    gram        TEXT NOT NULL,
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    PRIMARY KEY (gram, resident_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX resident_name_grams_resident ON resident_name_grams (resident_id);

-- 1..50 (the longest name): lets a trigger cut a name into pieces without a CTE.
CREATE TABLE name_positions (n INTEGER PRIMARY KEY) STRICT;
INSERT INTO name_positions (n)
    SELECT value FROM (WITH RECURSIVE c(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM c WHERE value < 50)
                       SELECT value FROM c);

CREATE TRIGGER residents_grams_insert AFTER INSERT ON residents
BEGIN
    INSERT OR IGNORE INTO resident_name_grams (gram, resident_id)
        SELECT substr(NEW.name, n, 2), NEW.id FROM name_positions WHERE n < length(NEW.name);
END;

CREATE TRIGGER residents_grams_update AFTER UPDATE OF name ON residents
BEGIN
    DELETE FROM resident_name_grams WHERE resident_id = NEW.id;
    INSERT OR IGNORE INTO resident_name_grams (gram, resident_id)
        SELECT substr(NEW.name, n, 2), NEW.id FROM name_positions WHERE n < length(NEW.name);
END;

-- 人屋关联: who is bound to which house, how, and since when. A person may own one house
-- and live in another; ended rows are the history.
CREATE TABLE residences (
    id          INTEGER PRIMARY KEY,
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    house_id    INTEGER NOT NULL REFERENCES houses (id),
    -- owner 产权人, hukou 户籍, resident 常住, tenant 租住
    relation    TEXT NOT NULL CHECK (relation IN ('owner', 'hukou', 'resident', 'tenant')),
    started_on  TEXT NOT NULL CHECK (started_on GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    ended_on    TEXT CHECK (ended_on IS NULL OR ended_on GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    -- moved_out 迁出, moved 换房, merged 合并, corrected 更正
    end_reason  TEXT CHECK (end_reason IS NULL OR end_reason IN ('moved_out', 'moved', 'merged', 'corrected')),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                CHECK (created_at GLOB '????-??-??T??:??:??.???Z'),
    CHECK ((ended_on IS NULL) = (end_reason IS NULL)),
    CHECK (ended_on IS NULL OR ended_on >= started_on)
) STRICT;

-- One current binding per person, house and relation.
CREATE UNIQUE INDEX residences_current ON residences (resident_id, house_id, relation) WHERE ended_on IS NULL;
CREATE INDEX residences_house ON residences (house_id, ended_on);
CREATE INDEX residences_resident ON residences (resident_id, started_on);

CREATE TABLE resident_tags (
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    tag_id      INTEGER NOT NULL REFERENCES tags (id),
    PRIMARY KEY (resident_id, tag_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX resident_tags_tag ON resident_tags (tag_id, resident_id);

-- 走访记录: a visit to a key-group resident.
CREATE TABLE visits (
    id          INTEGER PRIMARY KEY,
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    visited_on  TEXT NOT NULL CHECK (visited_on GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    user_id     INTEGER NOT NULL REFERENCES users (id),
    note        TEXT NOT NULL CHECK (length(trim(note)) BETWEEN 1 AND 2000),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                CHECK (created_at GLOB '????-??-??T??:??:??.???Z')
) STRICT;

CREATE INDEX visits_resident ON visits (resident_id, visited_on);

-- CSV imports run in the background for large files; the progress page reads this row,
-- so a reload (or another tab) shows where the import stands.
CREATE TABLE import_jobs (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users (id),
    filename       TEXT NOT NULL,
    -- pending → running → done | failed
    status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
    dry_run        INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
    total_rows     INTEGER NOT NULL DEFAULT 0,
    processed_rows INTEGER NOT NULL DEFAULT 0,
    -- JSON: counts (created, updated, unchanged, houses_created, …), row errors, preview rows.
    report_json    TEXT CHECK (report_json IS NULL OR json_valid(report_json)),
    error          TEXT,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                   CHECK (created_at GLOB '????-??-??T??:??:??.???Z'),
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                   CHECK (updated_at GLOB '????-??-??T??:??:??.???Z')
) STRICT;

CREATE INDEX import_jobs_user ON import_jobs (user_id, id);
