//! Grants (what a user allowed a client, from one login) and their refresh-token chains;
//! revoked access-token ids. Single use of refresh tokens is enforced by a conditional
//! UPDATE, so two nodes cannot both rotate the same token.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::db::{Db, StoreError};

#[derive(Clone, Debug)]
pub struct Grant {
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    pub sid: Option<String>,
    pub scope: String,
    pub auth_time: i64,
    pub acr: String,
    pub amr: Vec<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

macro_rules! columns {
    () => {
        "g.id, g.user_id, g.client_id, g.sid, g.scope, g.auth_time, g.acr, g.amr, g.created_at, g.expires_at, g.revoked_at"
    };
}

fn from_row(r: &AnyRow) -> Result<Grant, sqlx::Error> {
    Ok(Grant {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        client_id: r.try_get("client_id")?,
        sid: r.try_get("sid")?,
        scope: r.try_get("scope")?,
        auth_time: r.try_get("auth_time")?,
        acr: r.try_get("acr")?,
        amr: r
            .try_get::<String, _>("amr")?
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

/// Creates a grant and, optionally, its first refresh token, atomically.
pub async fn create(
    db: &Db,
    g: &Grant,
    first_refresh: Option<(&str, i64)>,
) -> Result<(), StoreError> {
    let mut tx = db.write().begin().await?;
    // A grant ends no later than the consent it rests on (an ESIA permission's `expire`).
    sqlx::query(
        "INSERT INTO grants (id, user_id, client_id, sid, scope, auth_time, acr, amr, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
             COALESCE((SELECT CASE WHEN c.expires_at < $10 THEN c.expires_at ELSE $10 END FROM consents c
                       WHERE c.user_id = $2 AND c.client_id = $3 AND c.revoked_at IS NULL AND c.expires_at IS NOT NULL), $10))",
    )
    .bind(&g.id)
    .bind(&g.user_id)
    .bind(&g.client_id)
    .bind(&g.sid)
    .bind(&g.scope)
    .bind(g.auth_time)
    .bind(&g.acr)
    .bind(g.amr.join(" "))
    .bind(g.created_at)
    .bind(g.expires_at)
    .execute(&mut *tx)
    .await?;
    if let Some((hash, expires_at)) = first_refresh {
        insert_refresh(&mut tx, hash, &g.id, g.created_at, expires_at).await?;
    }
    tx.commit().await?;
    db.grant_memo.put(g);
    Ok(())
}

async fn insert_refresh(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    hash: &str,
    grant_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO refresh_tokens (hash, grant_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(hash)
        .bind(grant_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// What happened to a presented refresh token.
#[derive(Debug)]
pub enum Rotation {
    /// Rotated: the old token is spent and `new_hash` stored.
    Rotated(Box<Grant>),
    /// Not found, expired, or its grant revoked or expired.
    Invalid,
    /// Belongs to another client: refused, nothing changed.
    WrongClient,
    /// Already spent: a replay. The whole grant was revoked.
    Replayed,
}

/// Spends `hash` and stores `new_hash` in its place, in one transaction. A spent token
/// presented again revokes its grant (the token family) and everything issued from it.
pub async fn rotate_refresh(
    db: &Db,
    hash: &str,
    client_id: &str,
    new_hash: &str,
    now: i64,
    idle_ttl: i64,
) -> Result<Rotation, StoreError> {
    // The common case is one statement: it spends the token only if it is unspent, unexpired
    // and its grant belongs to this client, is live and unexpired; the trigger of migration
    // 0009 inserts the successor in the same statement. Of concurrent rotations one matches.
    let spent = sqlx::query(
        "UPDATE refresh_tokens SET used_at = $1, successor = $2,
             successor_expires_at = CASE WHEN $3 < (SELECT expires_at FROM grants WHERE grants.id = refresh_tokens.grant_id)
                                         THEN $3 ELSE (SELECT expires_at FROM grants WHERE grants.id = refresh_tokens.grant_id) END
         WHERE hash = $4 AND used_at IS NULL AND expires_at > $1
           AND grant_id IN (SELECT id FROM grants WHERE client_id = $5 AND revoked_at IS NULL AND expires_at > $1)
         RETURNING grant_id",
    )
    .bind(now)
    .bind(new_hash)
    .bind(now + idle_ttl)
    .bind(hash)
    .bind(client_id)
    .fetch_optional(db.write())
    .await?;
    if let Some(row) = spent {
        let grant_id: String = row.try_get("grant_id")?;
        // A grant's identity fields never change: remembered ones need no read.
        if let Some(g) = db.grant_memo.get(&grant_id) {
            return Ok(Rotation::Rotated(Box::new(g)));
        }
        let sql = concat!("SELECT ", columns!(), " FROM grants g WHERE g.id = $1");
        let row = sqlx::query(sql)
            .bind(&grant_id)
            .fetch_one(db.read())
            .await?;
        let grant = from_row(&row)?;
        db.grant_memo.put(&grant);
        return Ok(Rotation::Rotated(Box::new(grant)));
    }
    classify_refused(db, hash, client_id, now).await
}

/// Why a refresh token was not rotated; a spent token presented again revokes its family.
async fn classify_refused(
    db: &Db,
    hash: &str,
    client_id: &str,
    now: i64,
) -> Result<Rotation, StoreError> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        ", rt.expires_at AS rt_expires_at, rt.used_at FROM refresh_tokens rt JOIN grants g ON g.id = rt.grant_id WHERE rt.hash = $1"
    );
    let Some(row) = sqlx::query(sql)
        .bind(hash)
        .fetch_optional(db.write())
        .await?
    else {
        return Ok(Rotation::Invalid);
    };
    let grant = from_row(&row)?;
    let used_at: Option<i64> = row.try_get("used_at")?;
    if grant.client_id != client_id {
        return Ok(Rotation::WrongClient);
    }
    if used_at.is_some() {
        revoke(db, &grant.id, now, "refresh_token_replayed").await?;
        return Ok(Rotation::Replayed);
    }
    Ok(Rotation::Invalid)
}

/// Grants' immutable fields (everything but `revoked_at`), remembered after first use so a
/// refresh needs one statement. Revocation and expiry are always decided by the database.
#[derive(Clone, Debug, Default)]
pub struct GrantMemo {
    map: std::sync::Arc<std::sync::RwLock<std::collections::HashMap<String, Grant>>>,
}

impl GrantMemo {
    const MAX: usize = 100_000;

    pub fn get(&self, id: &str) -> Option<Grant> {
        self.map.read().ok()?.get(id).cloned()
    }

    pub fn put(&self, g: &Grant) {
        if let Ok(mut m) = self.map.write() {
            if m.len() >= Self::MAX {
                m.clear();
            }
            m.insert(
                g.id.clone(),
                Grant {
                    revoked_at: None,
                    ..g.clone()
                },
            );
        }
    }
}

async fn revoke_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    grant_id: &str,
    now: i64,
    reason: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE grants SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL")
        .bind(now)
        .bind(reason)
        .bind(grant_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Revokes a grant: its refresh tokens and the access tokens that name it stop working.
pub async fn revoke(db: &Db, grant_id: &str, now: i64, reason: &str) -> Result<(), StoreError> {
    let mut tx = db.write().begin().await?;
    revoke_in(&mut tx, grant_id, now, reason).await?;
    tx.commit().await?;
    Ok(())
}

/// Revokes every live grant of `user_id` at `client_id` (a revoked permission) inside the
/// caller's transaction; returns the grants it ended, for the back-channel logout.
pub async fn revoke_for_user_client(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    client_id: &str,
    now: i64,
) -> Result<Vec<Grant>, StoreError> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM grants g WHERE g.user_id = $1 AND g.client_id = $2 AND g.revoked_at IS NULL AND g.expires_at > $3"
    );
    let rows = sqlx::query(sql)
        .bind(user_id)
        .bind(client_id)
        .bind(now)
        .fetch_all(&mut **tx)
        .await?;
    sqlx::query("UPDATE grants SET revoked_at = $1, revoke_reason = 'consent_revoked' WHERE user_id = $2 AND client_id = $3 AND revoked_at IS NULL")
        .bind(now)
        .bind(user_id)
        .bind(client_id)
        .execute(&mut **tx)
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// The grant a refresh token belongs to, if the token is live (for introspection/revocation).
pub async fn by_refresh_token(
    db: &Db,
    hash: &str,
    now: i64,
) -> Result<Option<(Grant, bool)>, StoreError> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        ", rt.expires_at AS rt_expires_at, rt.used_at FROM refresh_tokens rt JOIN grants g ON g.id = rt.grant_id WHERE rt.hash = $1"
    );
    let Some(row) = sqlx::query(sql)
        .bind(hash)
        .fetch_optional(db.read())
        .await?
    else {
        return Ok(None);
    };
    let grant = from_row(&row)?;
    let live = row.try_get::<Option<i64>, _>("used_at")?.is_none()
        && row.try_get::<i64, _>("rt_expires_at")? > now
        && grant.revoked_at.is_none()
        && grant.expires_at > now;
    Ok(Some((grant, live)))
}

/// Whether an access token is still good: its grant (if any) live and its `jti` not revoked.
/// One round trip.
pub async fn access_token_live(
    db: &Db,
    grant_id: Option<&str>,
    jti: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM grants WHERE id = $1 AND revoked_at IS NULL AND expires_at > $3) AS live,
                (SELECT COUNT(*) FROM revoked_tokens WHERE jti = $2) AS revoked",
    )
    .bind(grant_id.unwrap_or(""))
    .bind(jti)
    .bind(now)
    .fetch_one(db.read())
    .await?;
    let live: i64 = row.try_get("live")?;
    let revoked: i64 = row.try_get("revoked")?;
    Ok(revoked == 0 && (grant_id.is_none() || live == 1))
}

/// Records a revoked access token until it would have expired anyway.
pub async fn revoke_access_token(db: &Db, jti: &str, expires_at: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING",
    )
    .bind(jti)
    .bind(expires_at)
    .execute(db.write())
    .await?;
    Ok(())
}

/// Grants made in session `sid` (for logout), live or not.
pub async fn by_sid(db: &Db, sid: &str) -> Result<Vec<Grant>, StoreError> {
    let sql = concat!("SELECT ", columns!(), " FROM grants g WHERE g.sid = $1");
    let rows = sqlx::query(sql).bind(sid).fetch_all(db.read()).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Revokes the session-bound grants of `sid` (those without `offline_access`).
pub async fn revoke_session_grants_in(
    conn: &mut AnyConnection,
    sid: &str,
    now: i64,
) -> Result<u64, StoreError> {
    let r = sqlx::query(
        "UPDATE grants SET revoked_at = $1, revoke_reason = 'logout' WHERE sid = $2 AND revoked_at IS NULL AND scope NOT LIKE '%offline_access%'",
    )
    .bind(now)
    .bind(sid)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected())
}

/// Deletes expired rows (refresh tokens, revoked token ids) past their use; returns rows removed.
pub async fn purge_expired(db: &Db, now: i64) -> Result<u64, StoreError> {
    let a = sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < $1")
        .bind(now)
        .execute(db.write())
        .await?;
    let b = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < $1")
        .bind(now)
        .execute(db.write())
        .await?;
    Ok(a.rows_affected() + b.rows_affected())
}
