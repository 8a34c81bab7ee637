//! The event feed with filters: by date range, kind and status, one page at a time.

use sqlx::Row;

use super::db::{Db, StoreError};
use super::events::Event;

/// What to show; empty strings and `None` mean "any".
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub kind: String,
    pub status: String,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub until: Option<i64>,
}

/// Events of `user_id` matching `f`, newest first, `limit` from `offset`.
pub async fn list(
    db: &Db,
    user_id: &str,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> Result<Vec<Event>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, user_id, kind, status, summary, detail, source, created_at FROM events
         WHERE user_id = $1 AND ($2 = '' OR kind = $2) AND ($3 = '' OR status = $3)
         AND created_at >= $4 AND created_at < $5
         ORDER BY created_at DESC, id LIMIT $6 OFFSET $7",
    )
    .bind(user_id)
    .bind(f.kind.as_str())
    .bind(f.status.as_str())
    .bind(f.from.unwrap_or(i64::MIN))
    .bind(f.until.unwrap_or(i64::MAX))
    .bind(limit)
    .bind(offset)
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
