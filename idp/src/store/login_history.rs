//! Login history (every success and failure, with method, device and place), the live
//! sessions as the cabinet shows them (with device and place), and notification settings.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::db::{Db, StoreError, flag};

#[derive(Clone, Debug)]
pub struct LoginRecord {
    pub id: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// The `amr` values joined by spaces (`pwd`, `pwd otp`, `sms`, ...).
    pub method: String,
    pub reason: Option<String>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: i64,
}

pub struct NewLogin<'a> {
    pub user_id: &'a str,
    pub outcome: &'a str,
    pub method: &'a str,
    pub reason: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
}

pub async fn record(db: &Db, l: &NewLogin<'_>, now: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO login_history (id, user_id, outcome, method, reason, user_agent, ip, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(crate::crypto::random_token(12))
    .bind(l.user_id)
    .bind(l.outcome)
    .bind(l.method)
    .bind(l.reason)
    .bind(l.user_agent)
    .bind(l.ip)
    .bind(now)
    .execute(db.write())
    .await?;
    Ok(())
}

/// One page of a person's logins, newest first (`limit` rows from `offset`).
pub async fn list(
    db: &Db,
    user_id: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<LoginRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, outcome, method, reason, user_agent, ip, created_at FROM login_history
         WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT $2 OFFSET $3",
    )
    .bind(user_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LoginRecord {
                id: r.try_get("id")?,
                outcome: r.try_get("outcome")?,
                method: r.try_get("method")?,
                reason: r.try_get("reason")?,
                user_agent: r.try_get("user_agent")?,
                ip: r.try_get("ip")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

/// Deletes logins recorded before `before`; returns how many.
pub async fn purge_before(db: &Db, before: i64) -> Result<u64, StoreError> {
    let r = sqlx::query("DELETE FROM login_history WHERE created_at < $1")
        .bind(before)
        .execute(db.write())
        .await?;
    Ok(r.rows_affected())
}

/// A live session with its device and place.
#[derive(Clone, Debug)]
pub struct SessionView {
    pub sid: String,
    pub amr: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: i64,
    pub auth_time: i64,
    pub last_seen_at: i64,
}

/// The live sessions of a person (not ended, not past their end, used within `idle_ttl`),
/// most recently used first.
pub async fn sessions(
    db: &Db,
    user_id: &str,
    now: i64,
    idle_ttl: i64,
) -> Result<Vec<SessionView>, StoreError> {
    let rows = sqlx::query(
        "SELECT sid, amr, user_agent, ip, created_at, auth_time, last_seen_at FROM sessions
         WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2 AND last_seen_at > $3
         ORDER BY last_seen_at DESC, sid",
    )
    .bind(user_id)
    .bind(now)
    .bind(now - idle_ttl)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SessionView {
                sid: r.try_get("sid")?,
                amr: r.try_get("amr")?,
                user_agent: r.try_get("user_agent")?,
                ip: r.try_get("ip")?,
                created_at: r.try_get("created_at")?,
                auth_time: r.try_get("auth_time")?,
                last_seen_at: r.try_get("last_seen_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

/// Which events notify a person, how, and when SMS keep quiet.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NotificationSettings {
    /// Event kinds that notify: `login`, `security`, `profile`, `permissions`, `verification`.
    pub kinds: Vec<String>,
    pub email: bool,
    pub sms: bool,
    /// Quiet hours for SMS, minutes after midnight Moscow time: (from, to); may wrap midnight.
    pub quiet: Option<(i64, i64)>,
}

impl NotificationSettings {
    pub fn wants(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k == kind)
    }
}

fn settings_from_row(r: &AnyRow) -> Result<NotificationSettings, sqlx::Error> {
    let from: Option<i64> = r.try_get("quiet_from")?;
    let to: Option<i64> = r.try_get("quiet_to")?;
    Ok(NotificationSettings {
        kinds: r
            .try_get::<String, _>("kinds")?
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        email: flag(r, "email")?,
        sms: flag(r, "sms")?,
        quiet: from.zip(to),
    })
}

/// The person's settings; none saved yet means nothing notifies.
pub async fn settings(db: &Db, user_id: &str) -> Result<NotificationSettings, StoreError> {
    let row = sqlx::query(
        "SELECT kinds, email, sms, quiet_from, quiet_to FROM notification_settings WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(db.read())
    .await?;
    Ok(row
        .as_ref()
        .map(settings_from_row)
        .transpose()?
        .unwrap_or_default())
}

pub async fn save_settings(
    db: &Db,
    user_id: &str,
    s: &NotificationSettings,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO notification_settings (user_id, kinds, email, sms, quiet_from, quiet_to, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (user_id) DO UPDATE SET kinds = $2, email = $3, sms = $4, quiet_from = $5,
         quiet_to = $6, updated_at = $7",
    )
    .bind(user_id)
    .bind(s.kinds.join(" "))
    .bind(i64::from(s.email))
    .bind(i64::from(s.sms))
    .bind(s.quiet.map(|q| q.0))
    .bind(s.quiet.map(|q| q.1))
    .bind(now)
    .execute(db.write())
    .await?;
    Ok(())
}
