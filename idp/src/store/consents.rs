//! Remembered consents: per user and client, the scopes the user allowed.

use sqlx::Row;

use super::db::{Db, StoreError};
use crate::protocol::scope::ScopeSet;

/// Scopes the user has allowed this client and not revoked (empty if none).
pub async fn granted(
    db: &Db,
    user_id: &str,
    client_id: &str,
    now: i64,
) -> Result<ScopeSet, StoreError> {
    let row = sqlx::query(
        "SELECT scopes FROM consents WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3)",
    )
    .bind(user_id)
    .bind(client_id)
    .bind(now)
    .fetch_optional(db.read())
    .await?;
    match row {
        Some(r) => Ok(ScopeSet::parse(&r.try_get::<String, _>("scopes")?).unwrap_or_default()),
        None => Ok(ScopeSet::default()),
    }
}

/// Remembers that the user allowed `scopes` (added to what was allowed before).
pub async fn grant(
    db: &Db,
    user_id: &str,
    client_id: &str,
    scopes: &ScopeSet,
    now: i64,
) -> Result<(), StoreError> {
    let merged = granted(db, user_id, client_id, now).await?.union(scopes);
    sqlx::query(
        "INSERT INTO consents (user_id, client_id, scopes, granted_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at, revoked_at = NULL, expires_at = NULL",
    )
    .bind(user_id)
    .bind(client_id)
    .bind(merged.to_string())
    .bind(now)
    .execute(db.write())
    .await?;
    Ok(())
}
