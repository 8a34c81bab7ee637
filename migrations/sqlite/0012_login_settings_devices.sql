-- Two-step login settings per account (issue 4) and devices remembered for login (issue 5).
-- `second_factor_always` = 1: the second step is asked on every login; 0: only on devices
-- not remembered, and whenever a site or a request demands it. `preferred_method` is the
-- second factor offered first: totp, sms, passkey or signature.
CREATE TABLE login_settings (
    user_id              TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    second_factor_always INTEGER NOT NULL DEFAULT 1,
    preferred_method     TEXT,
    updated_at           INTEGER NOT NULL
);

-- A browser remembered after a login that was not on "someone else's computer": a random
-- token in a long-lived cookie, only its SHA-256 stored.
CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    user_agent   TEXT,
    ip           TEXT,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL
);
CREATE INDEX devices_user ON devices (user_id);
