//! One-time codes: stored as hashes, with an attempt cap, an expiry and single use enforced by
//! conditional UPDATEs (safe across nodes).

use sqlx::Row;

use super::db::{Db, StoreError};

pub struct NewCode<'a> {
    pub purpose: &'a str,
    pub subject: &'a str,
    pub code_hash: &'a str,
    pub max_attempts: i64,
    pub payload: Option<&'a str>,
    pub expires_at: i64,
}

pub async fn insert(db: &Db, c: &NewCode<'_>, now: i64) -> Result<String, StoreError> {
    let id = crate::crypto::random_token(16);
    sqlx::query(
        "INSERT INTO one_time_codes (id, purpose, subject, code_hash, attempts, max_attempts, payload, created_at, expires_at)
         VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(c.purpose)
    .bind(c.subject)
    .bind(c.code_hash)
    .bind(c.max_attempts)
    .bind(c.payload)
    .bind(now)
    .bind(c.expires_at)
    .execute(db.write())
    .await?;
    Ok(id)
}

/// The newest code for (purpose, subject): its id, creation time and how many were created
/// since `since` (for resend cool-downs and daily caps).
pub async fn recent(
    db: &Db,
    purpose: &str,
    subject: &str,
    since: i64,
) -> Result<(Option<i64>, i64), StoreError> {
    let row = sqlx::query("SELECT MAX(created_at) AS last, COUNT(*) AS n FROM one_time_codes WHERE purpose = $1 AND subject = $2 AND created_at >= $3")
        .bind(purpose)
        .bind(subject)
        .bind(since)
        .fetch_one(db.read())
        .await?;
    Ok((row.try_get("last")?, row.try_get("n")?))
}

/// A live code's state for checking.
pub struct CodeRow {
    pub id: String,
    pub code_hash: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub payload: Option<String>,
}

/// The newest code for (purpose, subject).
pub async fn newest(db: &Db, purpose: &str, subject: &str) -> Result<Option<CodeRow>, StoreError> {
    let row = sqlx::query(
        "SELECT id, code_hash, attempts, max_attempts, expires_at, used_at, payload FROM one_time_codes
         WHERE purpose = $1 AND subject = $2 ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(purpose)
    .bind(subject)
    .fetch_optional(db.read())
    .await?;
    row.map(|r| {
        Ok(CodeRow {
            id: r.try_get("id")?,
            code_hash: r.try_get("code_hash")?,
            attempts: r.try_get("attempts")?,
            max_attempts: r.try_get("max_attempts")?,
            expires_at: r.try_get("expires_at")?,
            used_at: r.try_get("used_at")?,
            payload: r.try_get("payload")?,
        })
    })
    .transpose()
    .map_err(|e: sqlx::Error| StoreError::from(e))
}

/// Counts one attempt if attempts remain and the code is unused; false when none remain.
pub async fn spend_attempt(db: &Db, id: &str) -> Result<bool, StoreError> {
    let r = sqlx::query("UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = $1 AND used_at IS NULL AND attempts < max_attempts")
        .bind(id)
        .execute(db.write())
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Marks the code used; false if it was used already (a concurrent use won).
pub async fn mark_used(db: &Db, id: &str, now: i64) -> Result<bool, StoreError> {
    let r = sqlx::query("UPDATE one_time_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(db.write())
        .await?;
    Ok(r.rows_affected() == 1)
}
