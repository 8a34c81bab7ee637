//! The outbox: messages queued in the same database as the change that caused them, then
//! claimed by a worker (on any node) and marked sent, or retried with backoff, or dead.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::db::{Db, StoreError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: String,
    pub channel: String,
    pub recipient: String,
    pub template: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub transport: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

macro_rules! columns {
    () => {
        "id, channel, recipient, template, subject, body, status, transport, attempts, last_error, created_at, sent_at"
    };
}

fn from_row(r: &AnyRow) -> Result<OutboxMessage, sqlx::Error> {
    Ok(OutboxMessage {
        id: r.try_get("id")?,
        channel: r.try_get("channel")?,
        recipient: r.try_get("recipient")?,
        template: r.try_get("template")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        status: r.try_get("status")?,
        transport: r.try_get("transport")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        sent_at: r.try_get("sent_at")?,
    })
}

/// A message to queue.
pub struct NewMessage<'a> {
    pub channel: &'a str,
    pub recipient: &'a str,
    pub template: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

/// Queues a message (inside the caller's transaction when it has one).
pub async fn enqueue<'e, E>(executor: E, m: &NewMessage<'_>, now: i64) -> Result<String, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let id = crate::crypto::random_token(16);
    sqlx::query(
        "INSERT INTO outbox (id, channel, recipient, template, subject, body, status, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7)",
    )
    .bind(&id)
    .bind(m.channel)
    .bind(m.recipient)
    .bind(m.template)
    .bind(m.subject)
    .bind(m.body)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(id)
}

/// Claims up to `limit` due messages for `lease` seconds; another node cannot claim them
/// meanwhile (a conditional UPDATE per message).
pub async fn claim_due(
    db: &Db,
    now: i64,
    lease: i64,
    limit: i64,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let candidates = sqlx::query(
        "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until < $1)
         ORDER BY next_attempt_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db.read())
    .await?;
    let mut claimed = Vec::new();
    for row in candidates {
        let id: String = row.try_get("id")?;
        let won = sqlx::query(
            "UPDATE outbox SET locked_until = $1, attempts = attempts + 1
             WHERE id = $2 AND status = 'pending' AND (locked_until IS NULL OR locked_until < $3)",
        )
        .bind(now + lease)
        .bind(&id)
        .bind(now)
        .execute(db.write())
        .await?
        .rows_affected()
            == 1;
        if won {
            let row = sqlx::query(concat!("SELECT ", columns!(), " FROM outbox WHERE id = $1"))
                .bind(&id)
                .fetch_one(db.read())
                .await?;
            claimed.push(from_row(&row)?);
        }
    }
    Ok(claimed)
}

pub async fn mark_sent(db: &Db, id: &str, transport: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE outbox SET status = 'sent', transport = $1, sent_at = $2, locked_until = NULL, last_error = NULL WHERE id = $3")
        .bind(transport)
        .bind(now)
        .bind(id)
        .execute(db.write())
        .await?;
    Ok(())
}

/// Records a failed attempt: retried at `retry_at`, or `dead` (visible to the operator) when
/// `retry_at` is None.
pub async fn mark_failed(
    db: &Db,
    id: &str,
    error: &str,
    retry_at: Option<i64>,
) -> Result<(), StoreError> {
    let status = if retry_at.is_some() {
        "pending"
    } else {
        "dead"
    };
    sqlx::query("UPDATE outbox SET status = $1, next_attempt_at = COALESCE($2, next_attempt_at), locked_until = NULL, last_error = $3 WHERE id = $4")
        .bind(status)
        .bind(retry_at)
        .bind(&error[..error.len().min(500)])
        .bind(id)
        .execute(db.write())
        .await?;
    Ok(())
}

/// Newest messages first, optionally for one recipient (the dev page, `idp outbox`, tests).
pub async fn list(
    db: &Db,
    recipient: Option<&str>,
    limit: i64,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let rows = match recipient {
        Some(r) => {
            sqlx::query(concat!(
                "SELECT ",
                columns!(),
                " FROM outbox WHERE recipient = $1 ORDER BY created_at DESC, id LIMIT $2"
            ))
            .bind(r)
            .bind(limit)
            .fetch_all(db.read())
            .await?
        }
        None => {
            sqlx::query(concat!(
                "SELECT ",
                columns!(),
                " FROM outbox ORDER BY created_at DESC, id LIMIT $1"
            ))
            .bind(limit)
            .fetch_all(db.read())
            .await?
        }
    };
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Counts by status, for the operator (`pending`, `sent`, `dead`).
pub async fn counts(db: &Db) -> Result<Vec<(String, i64)>, StoreError> {
    let rows =
        sqlx::query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status ORDER BY status")
            .fetch_all(db.read())
            .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("status")?, r.try_get("n")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}
