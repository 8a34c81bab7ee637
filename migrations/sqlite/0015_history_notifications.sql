-- Login history (issue 5): every successful and failed login of an account, with the method
-- (`amr` values joined by spaces), the browser's User-Agent and the client address. Rows
-- older than `login.login_history_days` are purged by the upkeep worker.
CREATE TABLE login_history (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    outcome     TEXT NOT NULL,               -- success | failure
    method      TEXT NOT NULL,               -- pwd, "pwd otp", sms, ...
    reason      TEXT,                        -- why a failure failed: wrong_password, locked
    user_agent  TEXT,
    ip          TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX login_history_user ON login_history (user_id, created_at);
CREATE INDEX login_history_time ON login_history (created_at);

-- Notification settings: which event kinds notify (space-separated: login security profile
-- permissions verification), over which channels, and quiet hours for SMS (minutes after
-- midnight, Moscow time; both set or both null).
CREATE TABLE notification_settings (
    user_id     TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    kinds       TEXT NOT NULL,
    email       INTEGER NOT NULL,
    sms         INTEGER NOT NULL,
    quiet_from  INTEGER,
    quiet_to    INTEGER,
    updated_at  INTEGER NOT NULL
);
