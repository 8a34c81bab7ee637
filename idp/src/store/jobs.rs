//! Durable background jobs: enqueued in the same transaction as the change that needs them,
//! claimed by any node with a lease (a conditional UPDATE, like the outbox), finished or
//! retried with backoff. A job whose worker died is claimed again once its lease ends.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::db::{Db, StoreError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub user_id: Option<String>,
    pub payload: serde_json::Value,
    pub status: String,
    /// Attempts so far, this one included once claimed.
    pub attempts: i64,
    pub run_at: i64,
    pub locked_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

macro_rules! columns {
    () => {
        "id, kind, user_id, payload, status, attempts, run_at, locked_until, last_error, created_at, finished_at"
    };
}

fn from_row(r: &AnyRow) -> Result<Job, sqlx::Error> {
    let payload: String = r.try_get("payload")?;
    Ok(Job {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        user_id: r.try_get("user_id")?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        run_at: r.try_get("run_at")?,
        locked_until: r.try_get("locked_until")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

/// Queues a job due at `run_at` (inside the caller's transaction when it has one).
pub async fn enqueue<'e, E>(
    executor: E,
    kind: &str,
    user_id: Option<&str>,
    payload: &serde_json::Value,
    run_at: i64,
    now: i64,
) -> Result<String, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let id = crate::crypto::random_token(16);
    sqlx::query(
        "INSERT INTO jobs (id, kind, user_id, payload, status, attempts, run_at, created_at)
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6)",
    )
    .bind(&id)
    .bind(kind)
    .bind(user_id)
    .bind(payload.to_string())
    .bind(run_at)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(id)
}

/// Which kinds of job a claim takes.
#[derive(Clone, Copy, Debug)]
pub enum Kinds<'a> {
    All,
    Only(&'a [&'a str]),
    Except(&'a [&'a str]),
}

impl Kinds<'_> {
    /// The SQL condition on `kind`, its placeholders numbered from `first`.
    fn condition(&self, first: usize) -> String {
        let list = |names: &[&str]| {
            (0..names.len())
                .map(|i| format!("${}", first + i))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Kinds::All => String::new(),
            Kinds::Only([]) => " AND 1 = 0".into(),
            Kinds::Except([]) => String::new(),
            Kinds::Only(names) => format!(" AND kind IN ({})", list(names)),
            Kinds::Except(names) => format!(" AND kind NOT IN ({})", list(names)),
        }
    }

    fn names(&self) -> &[&str] {
        match self {
            Kinds::All => &[],
            Kinds::Only(n) | Kinds::Except(n) => n,
        }
    }
}

/// Claims up to `limit` due jobs for `lease` seconds: pending ones whose time has come, and
/// running ones whose lease ran out (their worker died). One conditional UPDATE per job, so
/// two nodes never run the same attempt.
pub async fn claim_due(db: &Db, now: i64, lease: i64, limit: i64) -> Result<Vec<Job>, StoreError> {
    claim_due_of(db, Kinds::All, now, lease, limit).await
}

/// Like [`claim_due`], only jobs of `kinds`.
pub async fn claim_due_of(
    db: &Db,
    kinds: Kinds<'_>,
    now: i64,
    lease: i64,
    limit: i64,
) -> Result<Vec<Job>, StoreError> {
    let sql = format!(
        "SELECT id FROM jobs
         WHERE ((status = 'pending' AND run_at <= $1) OR (status = 'running' AND locked_until < $1)){}
         ORDER BY run_at LIMIT $2",
        kinds.condition(3)
    );
    // Safe: the only text added is numbered placeholders; the kinds are bound.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now).bind(limit);
    for name in kinds.names() {
        query = query.bind(*name);
    }
    let candidates = query.fetch_all(db.read()).await?;
    let mut claimed = Vec::new();
    for row in candidates {
        let id: String = row.try_get("id")?;
        let won = sqlx::query(
            "UPDATE jobs SET status = 'running', locked_until = $1, attempts = attempts + 1
             WHERE id = $2 AND ((status = 'pending' AND run_at <= $3) OR (status = 'running' AND locked_until < $3))",
        )
        .bind(now + lease)
        .bind(&id)
        .bind(now)
        .execute(db.write())
        .await?
        .rows_affected()
            == 1;
        if won && let Some(job) = by_id(db, &id).await? {
            claimed.push(job);
        }
    }
    Ok(claimed)
}

/// Marks a claimed attempt done (or failed) and erases its payload, which may hold personal
/// data no longer needed; false if the claim was lost (lease ended, another node took it), in
/// which case the caller must not commit the job's effects.
pub async fn finish<'e, E>(
    executor: E,
    job: &Job,
    status: &str,
    error: Option<&str>,
    now: i64,
) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let n = sqlx::query(
        "UPDATE jobs SET status = $1, last_error = $2, finished_at = $3, locked_until = NULL, payload = '{}'
         WHERE id = $4 AND status = 'running' AND attempts = $5",
    )
    .bind(status)
    .bind(error.map(|e| &e[..e.len().min(500)]))
    .bind(now)
    .bind(&job.id)
    .bind(job.attempts)
    .execute(executor)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Gives a claimed attempt back to the queue, to run again at `run_at`.
pub async fn retry(db: &Db, job: &Job, error: &str, run_at: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE jobs SET status = 'pending', run_at = $1, last_error = $2, locked_until = NULL
         WHERE id = $3 AND status = 'running' AND attempts = $4",
    )
    .bind(run_at)
    .bind(&error[..error.len().min(500)])
    .bind(&job.id)
    .bind(job.attempts)
    .execute(db.write())
    .await?;
    Ok(())
}

pub async fn by_id(db: &Db, id: &str) -> Result<Option<Job>, StoreError> {
    let row = sqlx::query(concat!("SELECT ", columns!(), " FROM jobs WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// A person's jobs, newest first.
pub async fn for_user(db: &Db, user_id: &str, limit: i64) -> Result<Vec<Job>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM jobs WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT $2"
    ))
    .bind(user_id)
    .bind(limit)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Whether the person has a job of `kind` not yet finished.
pub async fn open_for_user(db: &Db, user_id: &str, kind: &str) -> Result<bool, StoreError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM jobs WHERE user_id = $1 AND kind = $2 AND status IN ('pending', 'running')",
    )
    .bind(user_id)
    .bind(kind)
    .fetch_one(db.read())
    .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

/// Jobs not done, by kind and status (`pending`, `running`, `failed`), for `/metrics`.
pub async fn depths(db: &Db) -> Result<Vec<(String, String, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT kind, status, COUNT(*) AS n FROM jobs
         WHERE status IN ('pending', 'running', 'failed') GROUP BY kind, status ORDER BY kind, status",
    )
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("kind")?, r.try_get("status")?, r.try_get("n")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

/// Deletes up to `limit` jobs of `kind` finished (done or failed) before `before`; returns
/// how many went. Their payloads were already erased when they finished.
pub async fn purge_finished(
    db: &Db,
    kind: &str,
    before: i64,
    limit: i64,
) -> Result<u64, StoreError> {
    let n = sqlx::query(
        "DELETE FROM jobs WHERE id IN (
             SELECT id FROM jobs WHERE kind = $1 AND status IN ('done', 'failed') AND finished_at < $2 LIMIT $3)",
    )
    .bind(kind)
    .bind(before)
    .bind(limit)
    .execute(db.write())
    .await?
    .rows_affected();
    Ok(n)
}

/// The jobs of `kind`, newest first (the operator's view of a queue; tests).
pub async fn of_kind(db: &Db, kind: &str, limit: i64) -> Result<Vec<Job>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM jobs WHERE kind = $1 ORDER BY created_at DESC, id LIMIT $2"
    ))
    .bind(kind)
    .bind(limit)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}
