-- Registration: identifiers freed by account deletion. esia.md §1: "a freed number can be
-- reused at most once a month". Read as: after a release, the value may be bound to a new
-- account, but at most once in any 30 days (`reused_at` records that binding), so a number
-- cannot be cycled through throwaway accounts.
CREATE TABLE released_identifiers (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,              -- phone | email
    value        TEXT NOT NULL,              -- normalised: +7XXXXXXXXXX or lower-case e-mail
    released_at  INTEGER NOT NULL,
    reused_at    INTEGER                     -- when a new account took it after this release
);
CREATE INDEX released_identifiers_value ON released_identifiers(kind, value, released_at);
