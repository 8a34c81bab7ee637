-- Identity documents, state-registry verification as durable jobs, the confirmed level
-- (registered-mail letters, service-centre operators). See docs/verification.md.

-- A person's documents. `verification` is the state registries' verdict on this document:
-- NOT_VERIFIED | VERIFYING | VERIFIED | REJECTED. Only VERIFIED documents feed claims.
CREATE TABLE documents (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,              -- RF_PASSPORT | FRGN_PASS | RF_DRIVING_LICENSE | MLTR_ID | MDCL_PLCY | RF_BRTH_CERT | FID_DOC
    series       TEXT,
    number       TEXT NOT NULL,
    issue_date   TEXT,                       -- YYYY-MM-DD
    issued_by    TEXT,
    issuer_code  TEXT,                       -- division code XXX-XXX (passport RF)
    expiry_date  TEXT,                       -- YYYY-MM-DD
    verification TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX documents_user ON documents(user_id, kind);
CREATE INDEX documents_number ON documents(kind, number);

-- The state of the person's data check: NULL (never submitted) | verifying | verified |
-- rejected | failed (the registries could not be reached; the person may submit again).
ALTER TABLE users ADD COLUMN verification_status TEXT;

-- Durable background jobs (registry checks): claimed with a lease by a conditional UPDATE,
-- retried with backoff, and picked up again by any node after a crash or restart.
CREATE TABLE jobs (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    user_id       TEXT,
    payload       TEXT NOT NULL,             -- JSON
    status        TEXT NOT NULL,             -- pending | running | done | failed
    attempts      BIGINT NOT NULL DEFAULT 0,
    run_at        BIGINT NOT NULL,
    locked_until  BIGINT,
    last_error    TEXT,
    created_at    BIGINT NOT NULL,
    finished_at   BIGINT
);
CREATE INDEX jobs_due ON jobs(status, run_at);
CREATE INDEX jobs_user ON jobs(user_id, created_at);

-- Service-centre operators: a bearer token, kept only as a keyed hash.
CREATE TABLE operators (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

-- Confirmation letters sent by registered mail. The code is checked through one_time_codes
-- (hashed, single use, expiring); the letter keeps it sealed (AES-GCM under the master key)
-- only until the operator marks the letter sent, so it can be printed.
CREATE TABLE confirmation_letters (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    recipient    TEXT NOT NULL,              -- full name on the envelope
    address      TEXT NOT NULL,
    code_sealed  TEXT,                       -- base64url of the sealed code; NULL once sent
    status       TEXT NOT NULL,              -- pending | sent | used | superseded
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    sent_at      BIGINT,
    used_at      BIGINT
);
CREATE INDEX confirmation_letters_status ON confirmation_letters(status, created_at);
CREATE INDEX confirmation_letters_user ON confirmation_letters(user_id);
