-- The consent store: per person and relying party the purpose and the ESIA permission request
-- behind a consent, why it was revoked, and the history of every grant and revocation.
-- The status (active, expired, revoked) is derived from revoked_at and expires_at.
ALTER TABLE consents ADD COLUMN purpose TEXT;
ALTER TABLE consents ADD COLUMN permissions TEXT;
ALTER TABLE consents ADD COLUMN revoke_reason TEXT;

CREATE TABLE consent_history (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id    TEXT NOT NULL,
    action       TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    purpose      TEXT,
    permissions  TEXT,
    expires_at   BIGINT,
    source       TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX consent_history_user ON consent_history (user_id, created_at);
