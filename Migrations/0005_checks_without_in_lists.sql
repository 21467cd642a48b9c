-- Cheaper row checks for the two tables every import and every move writes, with the same rules.
--
-- A CHECK with an IN list of three or more values is compiled into a temporary B-tree that is
-- built again for every row written: SQLite codes table constraints without its
-- once-per-statement shortcut for constant lists. The two of residents (政治面貌 and status)
-- were 22 % of the instructions of a 100,000-row import into a 1M database (2.54G of 11.50G);
-- residences paid for two more on every binding. They are now ranges and comparisons.
--
-- Each function a CHECK calls on a text column first copies the value (an allocation and a
-- copy per argument). The ID number's shape took three calls and the phone's three; each is
-- now one GLOB pattern. With both changes the copy of 100,000 new residents into a 1M database
-- takes 8.2G instructions instead of 11.5G.
--
-- SQLite cannot change a constraint in place, so both tables are rebuilt (its documented
-- procedure: new table, copy, drop, rename; the migrator runs it with foreign keys off and
-- checks them before the commit), with their indexes and triggers exactly as 0002–0004 left
-- them. Nothing else changes.
CREATE TABLE residents_new (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL CHECK (name = trim(name) AND length(name) BETWEEN 1 AND 50),
    -- 17 digits and a check character (GB 11643).
    id_number        TEXT NOT NULL UNIQUE
                     CHECK (id_number GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9X]'),
    -- The ID number reversed, so a tail search ('…1234') is an indexed prefix range.
    id_number_rev    TEXT NOT NULL,
    sex              TEXT NOT NULL CHECK (sex = 'M' OR sex = 'F'),
    birth_date       TEXT NOT NULL CHECK (birth_date GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    -- Mainland mobile number: 11 digits starting with 1.
    phone            TEXT CHECK (phone IS NULL OR phone GLOB '1[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
    phone_rev        TEXT,
    -- 政治面貌, GB/T 4762 codes 01–13: 01 中共党员, 02 中共预备党员, 03 共青团员, 04–11 民主党派,
    -- 12 无党派人士, 13 群众.
    political_status TEXT NOT NULL DEFAULT '13'
                     CHECK (political_status GLOB '[01][0-9]' AND political_status BETWEEN '01' AND '13'),
    -- 人户分离: registered (户籍) in one place, living in another.
    separated        INTEGER NOT NULL DEFAULT 0 CHECK (separated = 0 OR separated = 1),
    notes            TEXT NOT NULL DEFAULT '' CHECK (length(notes) <= 2000),
    -- active: lives here; moved_out: 迁出, kept and findable; merged: a duplicate record
    -- folded into merged_into_id.
    status           TEXT NOT NULL DEFAULT 'active'
                     CHECK (status = 'active' OR status = 'moved_out' OR status = 'merged'),
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

INSERT INTO residents_new (id, name, id_number, id_number_rev, sex, birth_date, phone, phone_rev, political_status,
                           separated, notes, status, merged_into_id, building_id, created_at, updated_at)
    SELECT id, name, id_number, id_number_rev, sex, birth_date, phone, phone_rev, political_status,
           separated, notes, status, merged_into_id, building_id, created_at, updated_at
      FROM residents ORDER BY id;

DROP TABLE residents;
ALTER TABLE residents_new RENAME TO residents;

CREATE INDEX residents_building ON residents (building_id, status);
CREATE INDEX residents_name ON residents (name);
CREATE INDEX residents_id_rev ON residents (id_number_rev);
CREATE INDEX residents_phone_rev ON residents (phone_rev) WHERE phone_rev IS NOT NULL;
CREATE INDEX residents_birth ON residents (birth_date);
CREATE INDEX residents_political ON residents (political_status);
CREATE INDEX residents_merged_into ON residents (merged_into_id) WHERE merged_into_id IS NOT NULL;

-- The triggers of 0002 (name pieces, as changed by 0004) and 0003 (counts per building).
CREATE TRIGGER residents_grams_insert AFTER INSERT ON residents
BEGIN
    INSERT OR IGNORE INTO resident_name_grams (gram, resident_id)
        SELECT substr(NEW.name, n, 2), NEW.id FROM name_positions WHERE n < length(NEW.name);
END;

CREATE TRIGGER residents_grams_update AFTER UPDATE OF name ON residents
BEGIN
    DELETE FROM resident_name_grams
     WHERE resident_id = OLD.id
       AND gram IN (SELECT substr(OLD.name, n, 2) FROM name_positions WHERE n < length(OLD.name));
    INSERT OR IGNORE INTO resident_name_grams (gram, resident_id)
        SELECT substr(NEW.name, n, 2), NEW.id FROM name_positions WHERE n < length(NEW.name);
END;

CREATE TRIGGER residents_count_insert AFTER INSERT ON residents
WHEN NEW.status = 'active' AND NEW.building_id IS NOT NULL
BEGIN
    INSERT INTO building_resident_counts (building_id, active) VALUES (NEW.building_id, 1)
        ON CONFLICT (building_id) DO UPDATE SET active = active + 1;
END;

CREATE TRIGGER residents_count_leave AFTER UPDATE OF status, building_id ON residents
WHEN OLD.status = 'active' AND OLD.building_id IS NOT NULL
     AND (NEW.status IS NOT 'active' OR NEW.building_id IS NOT OLD.building_id)
BEGIN
    UPDATE building_resident_counts SET active = active - 1 WHERE building_id = OLD.building_id;
END;

CREATE TRIGGER residents_count_arrive AFTER UPDATE OF status, building_id ON residents
WHEN NEW.status = 'active' AND NEW.building_id IS NOT NULL
     AND (OLD.status IS NOT 'active' OR OLD.building_id IS NOT NEW.building_id)
BEGIN
    INSERT INTO building_resident_counts (building_id, active) VALUES (NEW.building_id, 1)
        ON CONFLICT (building_id) DO UPDATE SET active = active + 1;
END;

CREATE TRIGGER residents_count_delete AFTER DELETE ON residents
WHEN OLD.status = 'active' AND OLD.building_id IS NOT NULL
BEGIN
    UPDATE building_resident_counts SET active = active - 1 WHERE building_id = OLD.building_id;
END;

-- 人屋关联, as in 0002, with the relation and the end reason as comparisons.
CREATE TABLE residences_new (
    id          INTEGER PRIMARY KEY,
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    house_id    INTEGER NOT NULL REFERENCES houses (id),
    -- owner 产权人, hukou 户籍, resident 常住, tenant 租住
    relation    TEXT NOT NULL
                CHECK (relation = 'owner' OR relation = 'hukou' OR relation = 'resident' OR relation = 'tenant'),
    started_on  TEXT NOT NULL CHECK (started_on GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    ended_on    TEXT CHECK (ended_on IS NULL OR ended_on GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
    -- moved_out 迁出, moved 换房, merged 合并, corrected 更正
    end_reason  TEXT CHECK (end_reason IS NULL OR end_reason = 'moved_out' OR end_reason = 'moved'
                            OR end_reason = 'merged' OR end_reason = 'corrected'),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                CHECK (created_at GLOB '????-??-??T??:??:??.???Z'),
    CHECK ((ended_on IS NULL) = (end_reason IS NULL)),
    CHECK (ended_on IS NULL OR ended_on >= started_on)
) STRICT;

INSERT INTO residences_new (id, resident_id, house_id, relation, started_on, ended_on, end_reason, created_at)
    SELECT id, resident_id, house_id, relation, started_on, ended_on, end_reason, created_at
      FROM residences ORDER BY id;

DROP TABLE residences;
ALTER TABLE residences_new RENAME TO residences;

CREATE UNIQUE INDEX residences_current ON residences (resident_id, house_id, relation) WHERE ended_on IS NULL;
CREATE INDEX residences_house ON residences (house_id, ended_on);
CREATE INDEX residences_resident ON residences (resident_id, started_on);
