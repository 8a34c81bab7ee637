//! Devices remembered for login: a browser that completed a login not marked "someone else's
//! computer" gets a long-lived random cookie; only its SHA-256 is stored here. A remembered
//! device may skip the second step when the person allows it; unbinding forgets it.

use sqlx::Row;

use super::db::{Db, StoreError};

#[derive(Clone, Debug)]
pub struct Device {
    pub id: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
}

/// Remembers a device by the hash of its cookie token.
pub async fn remember(
    db: &Db,
    id: &str,
    user_id: &str,
    token_hash: &str,
    user_agent: Option<&str>,
    ip: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO devices (id, user_id, token_hash, user_agent, ip, created_at, last_used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(id)
    .bind(user_id)
    .bind(token_hash)
    .bind(user_agent)
    .bind(ip)
    .bind(now)
    .execute(db.write())
    .await?;
    Ok(())
}

/// The device of `user_id` with this cookie hash, marked as used now; none if unknown or
/// bound to another person.
pub async fn touch(
    db: &Db,
    user_id: &str,
    token_hash: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(
        "UPDATE devices SET last_used_at = $3, ip = COALESCE($4, ip)
         WHERE user_id = $1 AND token_hash = $2 RETURNING id",
    )
    .bind(user_id)
    .bind(token_hash)
    .bind(now)
    .bind(ip)
    .fetch_optional(db.write())
    .await?;
    row.map(|r| r.try_get("id")).transpose().map_err(Into::into)
}

/// The person's remembered devices, most recently used first.
pub async fn list(db: &Db, user_id: &str) -> Result<Vec<Device>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, user_agent, ip, created_at, last_used_at FROM devices
         WHERE user_id = $1 ORDER BY last_used_at DESC, id",
    )
    .bind(user_id)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Device {
                id: r.try_get("id")?,
                user_agent: r.try_get("user_agent")?,
                ip: r.try_get("ip")?,
                created_at: r.try_get("created_at")?,
                last_used_at: r.try_get("last_used_at")?,
            })
        })
        .collect()
}

/// Forgets one device; false if it was not the person's.
pub async fn unbind(db: &Db, user_id: &str, id: &str) -> Result<bool, StoreError> {
    let r = sqlx::query("DELETE FROM devices WHERE user_id = $1 AND id = $2")
        .bind(user_id)
        .bind(id)
        .execute(db.write())
        .await?;
    Ok(r.rows_affected() == 1)
}
