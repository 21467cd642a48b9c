-- The cases' monthly figures kept as running sums (CaseRates reads them): one row per grid
-- node holding a case (the case's own grid and each of its ancestors), month reported, unit
-- and category, and beside those a roll-up row per node and month for every unit and category
-- (unit_id = category_id = -1). Triggers on `cases` add a case's contribution when it is
-- written and take the old one away when it changes, so the rates of a county over twelve
-- months read a few thousand rows instead of every case. A merged duplicate contributes nothing.
--
-- A case's contribution is defined once, by the view `case_contributions` below; the first
-- fill and every trigger read it.
-- What depends on the hour (a case not accepted past its response deadline) and the
-- percentiles are read from `cases` itself.
CREATE TABLE case_month_figures (
    node_id           INTEGER NOT NULL REFERENCES grids (id),
    month             TEXT NOT NULL,
    -- The unit the case is (or was last) assigned to; 0 when never assigned; -1 on roll-up rows.
    unit_id           INTEGER NOT NULL,
    -- -1 on roll-up rows.
    category_id       INTEGER NOT NULL,
    -- 1 on the row of the case's own grid, 0 on its ancestors' rows (a node's "cases on this
    -- node itself" are its rows with own = 1).
    own               INTEGER NOT NULL CHECK (own = 0 OR own = 1),
    reported          INTEGER NOT NULL,
    accepted          INTEGER NOT NULL,
    responded_in_time INTEGER NOT NULL,
    resolved          INTEGER NOT NULL,
    resolved_in_time  INTEGER NOT NULL,
    followed_up       INTEGER NOT NULL,
    satisfied         INTEGER NOT NULL,
    response_total    INTEGER NOT NULL,
    response_count    INTEGER NOT NULL,
    resolution_total  INTEGER NOT NULL,
    resolution_count  INTEGER NOT NULL,
    PRIMARY KEY (node_id, month, unit_id, category_id, own),
    CHECK ((unit_id = -1) = (category_id = -1))
) STRICT, WITHOUT ROWID;

-- What one case adds: a row for each node of its grid path ('/1/5/23/' read as the JSON array
-- [1,5,23]), each once on its detail row (unit and category) and once on the roll-up row. A
-- merged duplicate adds nothing. The README's formulas read these columns.
CREATE VIEW case_contributions AS
SELECT c.id AS case_id, j.value AS node_id, c.month AS month,
       CASE WHEN r.value THEN -1 ELSE coalesce(c.unit_id, 0) END AS unit_id,
       CASE WHEN r.value THEN -1 ELSE c.category_id END AS category_id,
       j.value = c.grid_id AS own,
       1 AS reported,
       c.accepted_at IS NOT NULL AS accepted,
       coalesce(c.response_seconds <= c.response_target, 0) AS responded_in_time,
       c.status = 'resolved' OR c.status = 'visited' OR c.status = 'closed' AS resolved,
       coalesce(c.resolved_in_time, 0) AS resolved_in_time,
       c.satisfaction IS NOT NULL AS followed_up,
       coalesce(c.satisfaction = 'satisfied' OR c.satisfaction = 'basic', 0) AS satisfied,
       coalesce(c.response_seconds, 0) AS response_total, c.response_seconds IS NOT NULL AS response_count,
       coalesce(c.resolution_seconds, 0) AS resolution_total, c.resolution_seconds IS NOT NULL AS resolution_count
FROM cases c, json_each('[' || replace(substr(c.grid_path, 2, length(c.grid_path) - 2), '/', ',') || ']') j, json_each('[0,1]') r
WHERE c.status <> 'merged';

INSERT INTO case_month_figures
SELECT node_id, month, unit_id, category_id, own, sum(reported), sum(accepted), sum(responded_in_time), sum(resolved),
       sum(resolved_in_time), sum(followed_up), sum(satisfied), sum(response_total), sum(response_count), sum(resolution_total),
       sum(resolution_count)
FROM case_contributions GROUP BY 1, 2, 3, 4, 5;

-- Applying a case's contribution with a sign: +1 adds it as the case is now, -1 takes it away
-- (the rows it subtracts from exist: its last addition made them). Written once, as the
-- INSTEAD OF trigger of this empty view; the triggers on `cases` insert into it.
CREATE VIEW case_figure_changes AS SELECT 0 AS case_id, 0 AS sign WHERE 0;

CREATE TRIGGER case_figure_changes_apply INSTEAD OF INSERT ON case_figure_changes
BEGIN
    INSERT INTO case_month_figures
    SELECT node_id, month, unit_id, category_id, own, NEW.sign * reported, NEW.sign * accepted, NEW.sign * responded_in_time,
           NEW.sign * resolved, NEW.sign * resolved_in_time, NEW.sign * followed_up, NEW.sign * satisfied, NEW.sign * response_total,
           NEW.sign * response_count, NEW.sign * resolution_total, NEW.sign * resolution_count
    FROM case_contributions WHERE case_id = NEW.case_id
    ON CONFLICT DO UPDATE SET
        reported = reported + excluded.reported, accepted = accepted + excluded.accepted,
        responded_in_time = responded_in_time + excluded.responded_in_time, resolved = resolved + excluded.resolved,
        resolved_in_time = resolved_in_time + excluded.resolved_in_time, followed_up = followed_up + excluded.followed_up,
        satisfied = satisfied + excluded.satisfied, response_total = response_total + excluded.response_total,
        response_count = response_count + excluded.response_count, resolution_total = resolution_total + excluded.resolution_total,
        resolution_count = resolution_count + excluded.resolution_count;
END;

-- A case's contribution is added when it is written and again after each change of what it
-- counts; before the change (or a deletion by hand: the product never deletes cases) the old
-- one is taken away.
CREATE TRIGGER cases_figures_insert AFTER INSERT ON cases
BEGIN
    INSERT INTO case_figure_changes VALUES (NEW.id, 1);
END;

CREATE TRIGGER cases_figures_before_update BEFORE UPDATE OF status, grid_id, grid_path, unit_id, category_id, month, accepted_at,
    response_seconds, response_target, resolution_seconds, resolved_in_time, satisfaction ON cases
BEGIN
    INSERT INTO case_figure_changes VALUES (OLD.id, -1);
END;

CREATE TRIGGER cases_figures_after_update AFTER UPDATE OF status, grid_id, grid_path, unit_id, category_id, month, accepted_at,
    response_seconds, response_target, resolution_seconds, resolved_in_time, satisfaction ON cases
BEGIN
    INSERT INTO case_figure_changes VALUES (NEW.id, 1);
END;

CREATE TRIGGER cases_figures_delete BEFORE DELETE ON cases
BEGIN
    INSERT INTO case_figure_changes VALUES (OLD.id, -1);
END;

-- The percentiles read one month's response and resolution times of a subtree: this index
-- holds every column they need, so they never touch the cases' rows.
CREATE INDEX cases_month_times ON cases (month, grid_path, status, category_id, unit_id, unit_path, response_seconds,
                                         resolution_seconds);

-- The month index above starts with the same two columns.
DROP INDEX cases_month;

-- The monthly report lists the cases overdue at a month's end: those not resolved by then
-- (never resolved, or resolved later) are found by this index, not by reading every case.
CREATE INDEX cases_resolved ON cases (resolved_at);
