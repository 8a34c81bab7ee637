//! The account's event log: the feed a person sees and the history of every change, with
//! time and source.

use sqlx::Row;

use super::db::{Db, StoreError};

#[derive(Clone, Debug)]
pub struct Event {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub status: String,
    pub summary: String,
    pub detail: Option<String>,
    pub source: String,
    pub created_at: i64,
}

pub struct NewEvent<'a> {
    pub user_id: &'a str,
    pub kind: &'a str,
    pub status: &'a str,
    pub summary: &'a str,
    pub detail: Option<&'a serde_json::Value>,
    pub source: &'a str,
}

/// Records an event (inside the caller's transaction when it has one).
pub async fn record<'e, E>(executor: E, e: &NewEvent<'_>, now: i64) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("INSERT INTO events (id, user_id, kind, status, summary, detail, source, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(crate::crypto::random_token(12))
        .bind(e.user_id)
        .bind(e.kind)
        .bind(e.status)
        .bind(e.summary)
        .bind(e.detail.map(|d| d.to_string()))
        .bind(e.source)
        .bind(now)
        .execute(executor)
        .await?;
    Ok(())
}

/// A user's events, newest first, optionally of one kind.
pub async fn list(
    db: &Db,
    user_id: &str,
    kind: Option<&str>,
    limit: i64,
) -> Result<Vec<Event>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, user_id, kind, status, summary, detail, source, created_at FROM events
         WHERE user_id = $1 AND ($2 = '' OR kind = $2) ORDER BY created_at DESC, id LIMIT $3",
    )
    .bind(user_id)
    .bind(kind.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Event {
                id: r.try_get("id")?,
                user_id: r.try_get("user_id")?,
                kind: r.try_get("kind")?,
                status: r.try_get("status")?,
                summary: r.try_get("summary")?,
                detail: r.try_get("detail")?,
                source: r.try_get("source")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}
