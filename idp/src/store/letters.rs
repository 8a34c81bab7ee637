//! Confirmation letters sent by registered mail: what the operator prints and posts. The code
//! itself is checked through `one_time_codes`; here it is kept sealed only until the letter
//! is marked sent.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::db::{Db, StoreError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Letter {
    pub id: String,
    pub user_id: String,
    pub recipient: String,
    pub address: String,
    /// Base64url of the sealed code; None once the letter was sent.
    pub code_sealed: Option<String>,
    /// pending | sent | used | superseded
    pub status: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub sent_at: Option<i64>,
    pub used_at: Option<i64>,
}

macro_rules! columns {
    () => {
        "id, user_id, recipient, address, code_sealed, status, created_at, expires_at, sent_at, used_at"
    };
}

fn from_row(r: &AnyRow) -> Result<Letter, sqlx::Error> {
    Ok(Letter {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        recipient: r.try_get("recipient")?,
        address: r.try_get("address")?,
        code_sealed: r.try_get("code_sealed")?,
        status: r.try_get("status")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        sent_at: r.try_get("sent_at")?,
        used_at: r.try_get("used_at")?,
    })
}

pub struct NewLetter<'a> {
    pub user_id: &'a str,
    pub recipient: &'a str,
    pub address: &'a str,
    pub code_sealed: &'a str,
    pub expires_at: i64,
}

/// Records a letter to print; earlier unused letters of the person are superseded (only the
/// newest code is valid).
pub async fn create<'e, E>(executor: E, l: &NewLetter<'_>, now: i64) -> Result<String, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let id = crate::crypto::random_token(10);
    sqlx::query(
        "INSERT INTO confirmation_letters (id, user_id, recipient, address, code_sealed, status, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)",
    )
    .bind(&id)
    .bind(l.user_id)
    .bind(l.recipient)
    .bind(l.address)
    .bind(l.code_sealed)
    .bind(now)
    .bind(l.expires_at)
    .execute(executor)
    .await?;
    Ok(id)
}

/// Marks the person's other pending or sent letters superseded, erasing their codes.
pub async fn supersede_others<'e, E>(
    executor: E,
    user_id: &str,
    keep: &str,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE confirmation_letters SET status = 'superseded', code_sealed = NULL
         WHERE user_id = $1 AND id <> $2 AND status IN ('pending', 'sent')",
    )
    .bind(user_id)
    .bind(keep)
    .execute(executor)
    .await?;
    Ok(())
}

/// Letters waiting to be printed, oldest first (`status` None = pending only).
pub async fn list(db: &Db, status: Option<&str>, limit: i64) -> Result<Vec<Letter>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM confirmation_letters WHERE status = $1 ORDER BY created_at, id LIMIT $2"
    ))
    .bind(status.unwrap_or("pending"))
    .bind(limit)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

pub async fn by_id(db: &Db, id: &str) -> Result<Option<Letter>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM confirmation_letters WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db.read())
    .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Marks a pending letter sent and erases its code; false if it was not pending.
pub async fn mark_sent(db: &Db, id: &str, now: i64) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE confirmation_letters SET status = 'sent', sent_at = $1, code_sealed = NULL WHERE id = $2 AND status = 'pending'",
    )
    .bind(now)
    .bind(id)
    .execute(db.write())
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Marks the person's live letter used.
pub async fn mark_used<'e, E>(executor: E, user_id: &str, now: i64) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE confirmation_letters SET status = 'used', used_at = $1, code_sealed = NULL
         WHERE user_id = $2 AND status IN ('pending', 'sent')",
    )
    .bind(now)
    .bind(user_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// The person's letters, newest first.
pub async fn for_user(db: &Db, user_id: &str) -> Result<Vec<Letter>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM confirmation_letters WHERE user_id = $1 ORDER BY created_at DESC, id"
    ))
    .bind(user_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}
