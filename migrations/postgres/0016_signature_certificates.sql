-- The electronic-signature certificates a person logged in with (issue 5: the cabinet lists
-- them). One row per account and certificate (issuer + serial); a new login with the same
-- certificate updates `last_used_at`. Validity is the certificate's, in Unix seconds.
CREATE TABLE signature_certificates (
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    issuer        TEXT NOT NULL,
    serial        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    not_before    BIGINT NOT NULL,
    not_after     BIGINT NOT NULL,
    first_used_at BIGINT NOT NULL,
    last_used_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, issuer, serial)
);
