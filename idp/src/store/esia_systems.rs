//! ESIA client systems (tables `esia_systems` and `esia_certificates`, migration 0017): the
//! token signing algorithm of each system and the certificates its `client_secret` may be
//! signed with (several, for rotation). The logic is in `esia::systems`.

use sqlx::Row;

use super::db::{Db, StoreError};

/// A registered certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EsiaCertificate {
    pub client_id: String,
    pub id: String,
    pub der: Vec<u8>,
    /// `client_certificate_hash`: upper-case hex Streebog-256 of the DER.
    pub hash: String,
    /// `gost`, `rsa` or `ec`.
    pub kind: String,
    pub subject: String,
    pub not_after: i64,
    pub added_at: i64,
}

/// Sets (or replaces) the system's token algorithm.
pub async fn set_token_alg(
    db: &Db,
    client_id: &str,
    token_alg: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO esia_systems (client_id, token_alg, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (client_id) DO UPDATE SET token_alg = $2, updated_at = $3",
    )
    .bind(client_id)
    .bind(token_alg)
    .bind(now)
    .execute(db.write())
    .await?;
    Ok(())
}

/// The system's token algorithm, if it has ESIA settings.
pub async fn token_alg(db: &Db, client_id: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT token_alg FROM esia_systems WHERE client_id = $1")
        .bind(client_id)
        .fetch_optional(db.read())
        .await?;
    Ok(match row {
        Some(r) => Some(r.try_get("token_alg")?),
        None => None,
    })
}

/// Adds a certificate; a second copy of the same certificate is a conflict.
pub async fn add_certificate(db: &Db, c: &EsiaCertificate) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO esia_certificates
             (client_id, id, der, hash, kind, subject, not_after, added_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&c.client_id)
    .bind(&c.id)
    .bind(&c.der)
    .bind(&c.hash)
    .bind(&c.kind)
    .bind(&c.subject)
    .bind(c.not_after)
    .bind(c.added_at)
    .execute(db.write())
    .await?;
    Ok(())
}

/// Removes a certificate by its id or its hash; whether one was removed.
pub async fn remove_certificate(db: &Db, client_id: &str, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "DELETE FROM esia_certificates WHERE client_id = $1 AND (id = $2 OR hash = $3)",
    )
    .bind(client_id)
    .bind(id)
    .bind(id.to_ascii_uppercase())
    .execute(db.write())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The system's certificates, oldest first.
pub async fn certificates(db: &Db, client_id: &str) -> Result<Vec<EsiaCertificate>, StoreError> {
    let rows = sqlx::query(
        "SELECT client_id, id, der, hash, kind, subject, not_after, added_at
         FROM esia_certificates WHERE client_id = $1 ORDER BY added_at, id",
    )
    .bind(client_id)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(EsiaCertificate {
                client_id: r.try_get("client_id")?,
                id: r.try_get("id")?,
                der: r.try_get("der")?,
                hash: r.try_get("hash")?,
                kind: r.try_get("kind")?,
                subject: r.try_get("subject")?,
                not_after: r.try_get("not_after")?,
                added_at: r.try_get("added_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}
