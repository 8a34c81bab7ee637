//! Single sign-on sessions. The cookie value is never stored: the row key is its SHA-256.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::db::{Db, StoreError, flag};

#[derive(Clone, Debug)]
pub struct Session {
    pub id_hash: String,
    /// The public session id carried in tokens (`sid`).
    pub sid: String,
    pub user_id: String,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub persistent: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

fn from_row(r: &AnyRow) -> Result<Session, sqlx::Error> {
    Ok(Session {
        id_hash: r.try_get("id")?,
        sid: r.try_get("sid")?,
        user_id: r.try_get("user_id")?,
        auth_time: r.try_get("auth_time")?,
        amr: r
            .try_get::<String, _>("amr")?
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        persistent: flag(r, "persistent")?,
        created_at: r.try_get("created_at")?,
        last_seen_at: r.try_get("last_seen_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub sid: &'a str,
    pub user_id: &'a str,
    pub auth_time: i64,
    pub amr: &'a [String],
    pub persistent: bool,
    pub expires_at: i64,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
}

pub async fn create(db: &Db, s: &NewSession<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (id, sid, user_id, auth_time, amr, persistent, created_at, last_seen_at, expires_at, user_agent, ip)
         VALUES ($1, $2, $3, $4, $5, $6, $4, $4, $7, $8, $9)",
    )
    .bind(s.id_hash)
    .bind(s.sid)
    .bind(s.user_id)
    .bind(s.auth_time)
    .bind(s.amr.join(" "))
    .bind(i64::from(s.persistent))
    .bind(s.expires_at)
    .bind(s.user_agent)
    .bind(s.ip)
    .execute(db.write())
    .await?;
    Ok(())
}

/// A live session by the hash of its cookie: not ended, not past its absolute end, and used
/// within `idle_ttl`.
pub async fn active(
    db: &Db,
    id_hash: &str,
    now: i64,
    idle_ttl: i64,
) -> Result<Option<Session>, StoreError> {
    let row = sqlx::query(
        "SELECT id, sid, user_id, auth_time, amr, persistent, created_at, last_seen_at, expires_at FROM sessions
         WHERE id = $1 AND ended_at IS NULL AND expires_at > $2 AND last_seen_at > $3",
    )
    .bind(id_hash)
    .bind(now)
    .bind(now - idle_ttl)
    .fetch_optional(db.read())
    .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn touch(db: &Db, id_hash: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id_hash)
        .execute(db.write())
        .await?;
    Ok(())
}

/// Re-authentication inside a session: a new cookie (hash), a new `auth_time` and methods.
pub async fn reauthenticate(
    db: &Db,
    old_hash: &str,
    new_hash: &str,
    auth_time: i64,
    amr: &[String],
) -> Result<bool, StoreError> {
    let r = sqlx::query("UPDATE sessions SET id = $1, auth_time = $2, amr = $3, last_seen_at = $2 WHERE id = $4 AND ended_at IS NULL")
        .bind(new_hash)
        .bind(auth_time)
        .bind(amr.join(" "))
        .bind(old_hash)
        .execute(db.write())
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Ends a session by its public `sid`; returns the session if it was live.
pub async fn end_by_sid(db: &Db, sid: &str, now: i64) -> Result<Option<Session>, StoreError> {
    let mut tx = db.write().begin().await?;
    let session = end_by_sid_in(&mut tx, sid, now).await?;
    tx.commit().await?;
    Ok(session)
}

/// [`end_by_sid`] inside the caller's transaction.
pub async fn end_by_sid_in(
    conn: &mut AnyConnection,
    sid: &str,
    now: i64,
) -> Result<Option<Session>, StoreError> {
    let row = sqlx::query(
        "SELECT id, sid, user_id, auth_time, amr, persistent, created_at, last_seen_at, expires_at FROM sessions WHERE sid = $1 AND ended_at IS NULL",
    )
    .bind(sid)
    .fetch_optional(&mut *conn)
    .await?;
    let session = row.as_ref().map(from_row).transpose()?;
    if session.is_some() {
        sqlx::query("UPDATE sessions SET ended_at = $1 WHERE sid = $2")
            .bind(now)
            .bind(sid)
            .execute(&mut *conn)
            .await?;
    }
    Ok(session)
}

/// The live sessions of a user (not ended, not past their absolute end), oldest first: for
/// ending them all after a password reset or an account deletion.
pub async fn live_for_user(db: &Db, user_id: &str, now: i64) -> Result<Vec<Session>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, sid, user_id, auth_time, amr, persistent, created_at, last_seen_at, expires_at FROM sessions
         WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2 ORDER BY created_at, sid",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}
