-- Wishes and cases keep their grid's path (scope checks and subtree lists read it by range).
-- Moving a grid node rewrites the paths of its whole subtree in one UPDATE of `grids`
-- (Grids.move); these triggers carry each node's new path to its wishes and cases, so a moved
-- grid's work stays visible to the new ancestors' staff and leaves the old ones'. The cases'
-- monthly figures follow through their own update trigger (0013).
CREATE TRIGGER grids_path_to_wishes AFTER UPDATE OF path ON grids WHEN NEW.path <> OLD.path
BEGIN
    UPDATE wishes SET grid_path = NEW.path WHERE grid_path = OLD.path;
END;

CREATE TRIGGER grids_path_to_cases AFTER UPDATE OF path ON grids WHEN NEW.path <> OLD.path
BEGIN
    UPDATE cases SET grid_path = NEW.path WHERE grid_path = OLD.path;
END;
