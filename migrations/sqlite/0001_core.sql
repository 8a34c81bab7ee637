-- Core schema: people, relying parties, signing keys, sessions, grants, refresh tokens, consents.
-- Times are Unix seconds. Secrets are stored only as hashes.
CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    oid             INTEGER NOT NULL UNIQUE,
    level           TEXT NOT NULL,
    surname         TEXT NOT NULL,
    given_name      TEXT NOT NULL,
    middle_name     TEXT,
    birthdate       TEXT,
    birthplace      TEXT,
    gender          TEXT,
    citizenship     TEXT,
    snils           TEXT UNIQUE,
    inn             TEXT,
    email           TEXT UNIQUE,
    email_verified  INTEGER NOT NULL DEFAULT 0,
    phone           TEXT UNIQUE,
    phone_verified  INTEGER NOT NULL DEFAULT 0,
    password_hash   TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE clients (
    id                          TEXT PRIMARY KEY,
    name                        TEXT NOT NULL,
    secret_hash                 TEXT,
    auth_method                 TEXT NOT NULL,
    redirect_uris               TEXT NOT NULL,
    post_logout_redirect_uris   TEXT NOT NULL,
    scopes                      TEXT NOT NULL,
    grant_types                 TEXT NOT NULL,
    backchannel_logout_uri      TEXT,
    jwks                        TEXT,
    jwks_uri                    TEXT,
    id_token_alg                TEXT NOT NULL,
    access_token_alg            TEXT NOT NULL,
    created_at                  INTEGER NOT NULL
);

CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    alg           TEXT NOT NULL,
    private_key   BLOB NOT NULL,
    public_jwk    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    activates_at  INTEGER NOT NULL,
    retires_at    INTEGER,
    expires_at    INTEGER
);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    sid           TEXT NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    auth_time     INTEGER NOT NULL,
    amr           TEXT NOT NULL,
    persistent    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    user_agent    TEXT,
    ip            TEXT,
    ended_at      INTEGER
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE grants (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id     TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    sid           TEXT,
    scope         TEXT NOT NULL,
    auth_time     INTEGER NOT NULL,
    acr           TEXT NOT NULL,
    amr           TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER,
    revoke_reason TEXT
);
CREATE INDEX grants_sid ON grants(sid);
CREATE INDEX grants_user ON grants(user_id);

CREATE TABLE refresh_tokens (
    hash        TEXT PRIMARY KEY,
    grant_id    TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens(grant_id);

CREATE TABLE revoked_tokens (
    jti         TEXT PRIMARY KEY,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE consents (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    scopes      TEXT NOT NULL,
    granted_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    revoked_at  INTEGER,
    PRIMARY KEY (user_id, client_id)
);
