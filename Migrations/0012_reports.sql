-- Monthly reports 月度报表: a closed month's report kept as it was printed and signed. The
-- report itself is computed from the other modules' tables (each module contributes its
-- section); only the archive lives here.
--
-- Closing a month for a grid node stores version 1: the figures (JSON) and the rendered page.
-- Re-generating a closed month is an explicit, audited action that stores the next version
-- with a reason; the page shows the highest version and every earlier one is kept. The table
-- is append-only (triggers below): an archived report is never edited or deleted.
CREATE TABLE report_snapshots (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The scope's node (a coordinator's report; the whole tree is not archived).
    grid_id        INTEGER NOT NULL REFERENCES grids (id),
    -- The month in China time, 'YYYY-MM'.
    month          TEXT NOT NULL CHECK (length(month) = 7 AND month GLOB '2[0-9][0-9][0-9]-[01][0-9]'
                                        AND substr(month, 6, 2) BETWEEN '01' AND '12'),
    version        INTEGER NOT NULL CHECK (version >= 1),
    -- The report's figures, tables and chart series as computed at closing (ReportArchive).
    figures_json   TEXT NOT NULL CHECK (json_valid(figures_json)),
    -- The rendered report (the printable part of the page), served as it was.
    page_html      TEXT NOT NULL CHECK (length(page_html) > 0),
    -- Why a closed month was generated again (empty for the first closing only).
    reason         TEXT NOT NULL DEFAULT '' CHECK (length(reason) <= 200),
    closed_by      INTEGER NOT NULL REFERENCES users (id),
    -- The account's name at the time, so the archive still reads right after a rename.
    closed_by_name TEXT NOT NULL CHECK (length(closed_by_name) BETWEEN 1 AND 200),
    closed_at      TEXT NOT NULL CHECK (closed_at GLOB '????-??-??T??:??:??.???Z'),
    UNIQUE (grid_id, month, version),
    CHECK (version = 1 OR length(trim(reason)) > 0)
) STRICT;

CREATE TRIGGER report_snapshots_no_update BEFORE UPDATE ON report_snapshots
BEGIN
    SELECT RAISE(ABORT, 'report_snapshots is append-only');
END;

CREATE TRIGGER report_snapshots_no_delete BEFORE DELETE ON report_snapshots
BEGIN
    SELECT RAISE(ABORT, 'report_snapshots is append-only');
END;

-- The residents' section of the report counts moves in and out of a month and the people
-- present at a month's end from the residences' dates (ResidentsReport); these indexes make
-- those date ranges index look-ups instead of scans of every residence in the county.
CREATE INDEX residences_started ON residences (started_on);
CREATE INDEX residences_ended ON residences (ended_on) WHERE ended_on IS NOT NULL;
