-- WebAuthn passkeys (issue 4): several per account, each with a name, creation and last-use
-- times. `credential_id` is the base64url credential id (unique across accounts); `passkey`
-- is the webauthn-rs `Passkey` as JSON (public key, algorithm, counter); `sign_count` is the
-- last accepted signature counter, checked and advanced by a conditional UPDATE.
CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    passkey       TEXT NOT NULL,
    sign_count    BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);

CREATE INDEX passkeys_user ON passkeys (user_id);
