-- Self-registration 居民注册: a resident signs up with name, ID number, phone and a password.
-- When all three match a resident record the account is made at once; otherwise the request
-- waits here for staff of the community the applicant chose to confirm or refuse it.
CREATE TABLE registration_requests (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    id_number     TEXT NOT NULL CHECK (length(id_number) = 18),
    phone         TEXT NOT NULL CHECK (length(phone) = 11),
    password_hash TEXT NOT NULL CHECK (password_hash <> ''),
    -- The community the applicant says they live in: whose staff see the request.
    grid_id       INTEGER NOT NULL REFERENCES grids (id),
    -- pending → approved (an account was made) | refused (with a reason)
    status        TEXT NOT NULL DEFAULT 'pending' CHECK (status = 'pending' OR status = 'approved' OR status = 'refused'),
    reason        TEXT NOT NULL DEFAULT '' CHECK (length(reason) <= 200),
    user_id       INTEGER REFERENCES users (id),
    created_at    TEXT NOT NULL CHECK (created_at GLOB '????-??-??T??:??:??.???Z'),
    decided_at    TEXT CHECK (decided_at IS NULL OR decided_at GLOB '????-??-??T??:??:??.???Z'),
    decided_by    INTEGER REFERENCES users (id)
) STRICT;

CREATE INDEX registration_requests_grid ON registration_requests (grid_id, status);
