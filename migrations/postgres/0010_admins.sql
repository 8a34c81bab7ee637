-- Administrators of the provider: they register relying parties through /api/admin.
-- A bearer token, kept only as a keyed hash (like operators).
CREATE TABLE admins (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);
