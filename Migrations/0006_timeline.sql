-- The timeline of state changes: one row per transition of a record's status (a resident
-- moved out, a wish claimed, a case closed), written in the same transaction as the change
-- and its audit entry (AppCore StateChange.apply). States are the machines' raw values.
CREATE TABLE timeline_events (
    id          INTEGER PRIMARY KEY,
    entity_type TEXT NOT NULL CHECK (length(entity_type) BETWEEN 1 AND 40 AND entity_type NOT GLOB '*[^a-z_]*'),
    entity_id   INTEGER NOT NULL,
    from_state  TEXT NOT NULL CHECK (length(from_state) BETWEEN 1 AND 40),
    to_state    TEXT NOT NULL CHECK (length(to_state) BETWEEN 1 AND 40),
    action      TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 80),
    user_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    note        TEXT CHECK (note IS NULL OR length(note) <= 500),
    at          TEXT NOT NULL CHECK (at GLOB '????-??-??T??:??:??.???Z')
) STRICT;

CREATE INDEX timeline_events_entity ON timeline_events (entity_type, entity_id, id);
