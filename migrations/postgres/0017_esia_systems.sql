-- ESIA client systems ("ИС", issue 8): an ordinary client (its client_id is the system's
-- mnemonic) plus its ESIA settings and the certificates its client_secret is signed with.
-- Several certificates per system allow rotation. Times are Unix seconds.
CREATE TABLE esia_systems (
    client_id  TEXT PRIMARY KEY REFERENCES clients(id) ON DELETE CASCADE,
    -- 'RS256' or 'GOST3410_2012_256': how the system's ESIA tokens are signed.
    token_alg  TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE esia_certificates (
    client_id  TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    der        BYTEA NOT NULL,
    -- client_certificate_hash: upper-case hex Streebog-256 of the DER.
    hash       TEXT NOT NULL,
    -- 'gost', 'rsa' or 'ec'.
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    not_after  BIGINT NOT NULL,
    added_at   BIGINT NOT NULL,
    PRIMARY KEY (client_id, id)
);
CREATE UNIQUE INDEX esia_certificates_hash ON esia_certificates (client_id, hash);
