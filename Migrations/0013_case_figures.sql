-- The cases' monthly figures kept as running sums (CaseRates reads them): one row per grid
-- node holding a case (the case's own grid and each of its ancestors), month reported, unit
-- and category, and beside those a roll-up row per node and month for every unit and category
-- (unit_id = category_id = -1). Triggers on `cases` add a case's contribution when it is
-- written and take the old one away when it changes, so the rates of a county over twelve
-- months read a few thousand rows instead of every case. A merged duplicate contributes nothing.
--
-- A case's contribution (the README's formulas read these columns):
--   reported 1; accepted: accepted_at set; responded_in_time: response_seconds <= response_target;
--   resolved: status resolved, visited or closed; resolved_in_time: resolved_in_time;
--   followed_up: satisfaction set; satisfied: satisfaction satisfied or basic;
--   response_total/response_count: response_seconds and whether it is set; the same for
--   resolution_seconds.
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

-- The nodes of a grid path '/1/5/23/' as rows: json_each('[1,5,23]'); each case once on a
-- detail row (r = 0) and once on the roll-up row (r = 1).
INSERT INTO case_month_figures
SELECT j.value, c.month, CASE WHEN r.r THEN -1 ELSE coalesce(c.unit_id, 0) END, CASE WHEN r.r THEN -1 ELSE c.category_id END,
       j.value = c.grid_id, count(*),
       sum(c.accepted_at IS NOT NULL), sum(coalesce(c.response_seconds <= c.response_target, 0)),
       sum(c.status = 'resolved' OR c.status = 'visited' OR c.status = 'closed'), sum(coalesce(c.resolved_in_time, 0)),
       sum(c.satisfaction IS NOT NULL), sum(coalesce(c.satisfaction = 'satisfied' OR c.satisfaction = 'basic', 0)),
       sum(coalesce(c.response_seconds, 0)), sum(c.response_seconds IS NOT NULL),
       sum(coalesce(c.resolution_seconds, 0)), sum(c.resolution_seconds IS NOT NULL)
FROM cases c, json_each('[' || replace(substr(c.grid_path, 2, length(c.grid_path) - 2), '/', ',') || ']') j,
     (SELECT 0 AS r UNION ALL SELECT 1) r
WHERE c.status <> 'merged'
GROUP BY 1, 2, 3, 4, 5;

CREATE TRIGGER cases_figures_insert AFTER INSERT ON cases WHEN NEW.status <> 'merged'
BEGIN
    INSERT INTO case_month_figures
    SELECT j.value, NEW.month, CASE WHEN r.r THEN -1 ELSE coalesce(NEW.unit_id, 0) END, CASE WHEN r.r THEN -1 ELSE NEW.category_id END,
           j.value = NEW.grid_id, 1,
           NEW.accepted_at IS NOT NULL, coalesce(NEW.response_seconds <= NEW.response_target, 0),
           NEW.status = 'resolved' OR NEW.status = 'visited' OR NEW.status = 'closed', coalesce(NEW.resolved_in_time, 0),
           NEW.satisfaction IS NOT NULL, coalesce(NEW.satisfaction = 'satisfied' OR NEW.satisfaction = 'basic', 0),
           coalesce(NEW.response_seconds, 0), NEW.response_seconds IS NOT NULL,
           coalesce(NEW.resolution_seconds, 0), NEW.resolution_seconds IS NOT NULL
    FROM json_each('[' || replace(substr(NEW.grid_path, 2, length(NEW.grid_path) - 2), '/', ',') || ']') j,
         (SELECT 0 AS r UNION ALL SELECT 1) r WHERE true
    ON CONFLICT DO UPDATE SET
        reported = reported + excluded.reported, accepted = accepted + excluded.accepted,
        responded_in_time = responded_in_time + excluded.responded_in_time, resolved = resolved + excluded.resolved,
        resolved_in_time = resolved_in_time + excluded.resolved_in_time, followed_up = followed_up + excluded.followed_up,
        satisfied = satisfied + excluded.satisfied, response_total = response_total + excluded.response_total,
        response_count = response_count + excluded.response_count, resolution_total = resolution_total + excluded.resolution_total,
        resolution_count = resolution_count + excluded.resolution_count;
END;

-- A change takes the old contribution away (its rows exist: the insert or an earlier change
-- made them) and adds the new one.
CREATE TRIGGER cases_figures_update AFTER UPDATE OF status, grid_id, grid_path, unit_id, category_id, month, accepted_at,
    response_seconds, response_target, resolution_seconds, resolved_in_time, satisfaction ON cases
BEGIN
    UPDATE case_month_figures SET
        reported = reported - 1, accepted = accepted - (OLD.accepted_at IS NOT NULL),
        responded_in_time = responded_in_time - coalesce(OLD.response_seconds <= OLD.response_target, 0),
        resolved = resolved - (OLD.status = 'resolved' OR OLD.status = 'visited' OR OLD.status = 'closed'),
        resolved_in_time = resolved_in_time - coalesce(OLD.resolved_in_time, 0),
        followed_up = followed_up - (OLD.satisfaction IS NOT NULL),
        satisfied = satisfied - coalesce(OLD.satisfaction = 'satisfied' OR OLD.satisfaction = 'basic', 0),
        response_total = response_total - coalesce(OLD.response_seconds, 0),
        response_count = response_count - (OLD.response_seconds IS NOT NULL),
        resolution_total = resolution_total - coalesce(OLD.resolution_seconds, 0),
        resolution_count = resolution_count - (OLD.resolution_seconds IS NOT NULL)
    WHERE OLD.status <> 'merged' AND month = OLD.month
      AND ((unit_id = coalesce(OLD.unit_id, 0) AND category_id = OLD.category_id) OR (unit_id = -1 AND category_id = -1))
      AND node_id IN (SELECT value FROM json_each('[' || replace(substr(OLD.grid_path, 2, length(OLD.grid_path) - 2), '/', ',') || ']'))
      AND own = (node_id = OLD.grid_id);
    INSERT INTO case_month_figures
    SELECT j.value, NEW.month, CASE WHEN r.r THEN -1 ELSE coalesce(NEW.unit_id, 0) END, CASE WHEN r.r THEN -1 ELSE NEW.category_id END,
           j.value = NEW.grid_id, 1,
           NEW.accepted_at IS NOT NULL, coalesce(NEW.response_seconds <= NEW.response_target, 0),
           NEW.status = 'resolved' OR NEW.status = 'visited' OR NEW.status = 'closed', coalesce(NEW.resolved_in_time, 0),
           NEW.satisfaction IS NOT NULL, coalesce(NEW.satisfaction = 'satisfied' OR NEW.satisfaction = 'basic', 0),
           coalesce(NEW.response_seconds, 0), NEW.response_seconds IS NOT NULL,
           coalesce(NEW.resolution_seconds, 0), NEW.resolution_seconds IS NOT NULL
    FROM json_each('[' || replace(substr(NEW.grid_path, 2, length(NEW.grid_path) - 2), '/', ',') || ']') j,
         (SELECT 0 AS r UNION ALL SELECT 1) r WHERE NEW.status <> 'merged'
    ON CONFLICT DO UPDATE SET
        reported = reported + excluded.reported, accepted = accepted + excluded.accepted,
        responded_in_time = responded_in_time + excluded.responded_in_time, resolved = resolved + excluded.resolved,
        resolved_in_time = resolved_in_time + excluded.resolved_in_time, followed_up = followed_up + excluded.followed_up,
        satisfied = satisfied + excluded.satisfied, response_total = response_total + excluded.response_total,
        response_count = response_count + excluded.response_count, resolution_total = resolution_total + excluded.resolution_total,
        resolution_count = resolution_count + excluded.resolution_count;
END;

-- Cases are never deleted by the product; a deletion by hand still keeps the sums right.
CREATE TRIGGER cases_figures_delete AFTER DELETE ON cases WHEN OLD.status <> 'merged'
BEGIN
    UPDATE case_month_figures SET
        reported = reported - 1, accepted = accepted - (OLD.accepted_at IS NOT NULL),
        responded_in_time = responded_in_time - coalesce(OLD.response_seconds <= OLD.response_target, 0),
        resolved = resolved - (OLD.status = 'resolved' OR OLD.status = 'visited' OR OLD.status = 'closed'),
        resolved_in_time = resolved_in_time - coalesce(OLD.resolved_in_time, 0),
        followed_up = followed_up - (OLD.satisfaction IS NOT NULL),
        satisfied = satisfied - coalesce(OLD.satisfaction = 'satisfied' OR OLD.satisfaction = 'basic', 0),
        response_total = response_total - coalesce(OLD.response_seconds, 0),
        response_count = response_count - (OLD.response_seconds IS NOT NULL),
        resolution_total = resolution_total - coalesce(OLD.resolution_seconds, 0),
        resolution_count = resolution_count - (OLD.resolution_seconds IS NOT NULL)
    WHERE month = OLD.month
      AND ((unit_id = coalesce(OLD.unit_id, 0) AND category_id = OLD.category_id) OR (unit_id = -1 AND category_id = -1))
      AND node_id IN (SELECT value FROM json_each('[' || replace(substr(OLD.grid_path, 2, length(OLD.grid_path) - 2), '/', ',') || ']'))
      AND own = (node_id = OLD.grid_id);
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
