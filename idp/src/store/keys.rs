//! Signing keys: sealed private halves, published public halves, and their time windows.
//! A key signs from `activates_at` until `retires_at`, and is published until `expires_at`.

use sqlx::Row;

use super::db::{Db, StoreError};

#[derive(Clone, Debug)]
pub struct StoredKey {
    pub kid: String,
    pub alg: String,
    pub sealed_private: Vec<u8>,
    pub public_jwk: String,
    pub created_at: i64,
    pub activates_at: i64,
    pub retires_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// Keys still published at `now` (not past `expires_at`), newest first.
pub async fn published(db: &Db, now: i64) -> Result<Vec<StoredKey>, StoreError> {
    let rows = sqlx::query(
        "SELECT kid, alg, private_key, public_jwk, created_at, activates_at, retires_at, expires_at FROM signing_keys
         WHERE expires_at IS NULL OR expires_at > $1 ORDER BY activates_at DESC, created_at DESC",
    )
    .bind(now)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StoredKey {
                kid: r.try_get("kid")?,
                alg: r.try_get("alg")?,
                sealed_private: r.try_get("private_key")?,
                public_jwk: r.try_get("public_jwk")?,
                created_at: r.try_get("created_at")?,
                activates_at: r.try_get("activates_at")?,
                retires_at: r.try_get("retires_at")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

/// Adds `new` keys and schedules the current keys of the same algorithms to retire when the
/// new ones activate and to stop being published `overlap` seconds later, in one transaction.
pub async fn rotate_in(db: &Db, new: &[StoredKey], overlap: i64) -> Result<(), StoreError> {
    let mut tx = db.write().begin().await?;
    for k in new {
        sqlx::query("UPDATE signing_keys SET retires_at = $1, expires_at = $2 WHERE alg = $3 AND retires_at IS NULL")
            .bind(k.activates_at)
            .bind(k.activates_at + overlap)
            .bind(&k.alg)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, activates_at, retires_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)",
        )
        .bind(&k.kid)
        .bind(&k.alg)
        .bind(&k.sealed_private)
        .bind(&k.public_jwk)
        .bind(k.created_at)
        .bind(k.activates_at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
