-- Messages that leave the system (SMS, e-mail): a durable outbox drained by a worker.
CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    channel          TEXT NOT NULL,          -- sms | email
    recipient        TEXT NOT NULL,          -- +7XXXXXXXXXX or an e-mail address
    template         TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    status           TEXT NOT NULL,          -- pending | sent | dead
    transport        TEXT,                   -- dev | smtp | sms-gateway, once sent
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    locked_until     INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_recipient ON outbox(recipient, created_at);

-- One-time codes and links (registration, recovery, unlock, contact change): only a hash is
-- kept; attempts are capped; use is single (a conditional UPDATE).
CREATE TABLE one_time_codes (
    id            TEXT PRIMARY KEY,
    purpose       TEXT NOT NULL,
    subject       TEXT NOT NULL,             -- what the code proves: a phone, an e-mail, a user id
    code_hash     TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL,
    payload       TEXT,                      -- JSON the flow needs after the code is accepted
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
);
CREATE INDEX one_time_codes_subject ON one_time_codes(purpose, subject, created_at);

-- What happened to an account: the event feed and the profile history.
CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,               -- login, security, profile, permission, verification, ...
    status      TEXT NOT NULL,               -- success | failure | info
    summary     TEXT NOT NULL,
    detail      TEXT,                        -- JSON
    source      TEXT NOT NULL,               -- who or what made the change: user, operator:<id>, registry, system
    created_at  INTEGER NOT NULL
);
CREATE INDEX events_user ON events(user_id, created_at);
