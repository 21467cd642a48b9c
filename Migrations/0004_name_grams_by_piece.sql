-- Name pieces are looked up by piece (the primary key, gram then resident). The second index,
-- by resident, served only the rename trigger's DELETE; every new resident paid for it with a
-- B-tree insert per piece (about 5 % of the instructions of a 100,000-row import into a 1M
-- database, and 28 MiB of file). The rename trigger now deletes the old name's pieces through
-- the primary key.
DROP INDEX resident_name_grams_resident;

DROP TRIGGER residents_grams_update;
CREATE TRIGGER residents_grams_update AFTER UPDATE OF name ON residents
BEGIN
    DELETE FROM resident_name_grams
     WHERE resident_id = OLD.id
       AND gram IN (SELECT substr(OLD.name, n, 2) FROM name_positions WHERE n < length(OLD.name));
    INSERT OR IGNORE INTO resident_name_grams (gram, resident_id)
        SELECT substr(NEW.name, n, 2), NEW.id FROM name_positions WHERE n < length(NEW.name);
END;
