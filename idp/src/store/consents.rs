//! The consent store: per person and relying party, the scopes allowed, the purpose and ESIA
//! permission request behind them, when they were granted, until when, and whether they were
//! revoked; plus `consent_history`, one row for every grant and revocation.
//!
//! A consent's status is derived, never stored: revoked if `revoked_at` is set, expired if
//! `expires_at` has passed, active otherwise (a stored status would go stale at expiry).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::db::{Db, StoreError};
use crate::protocol::permissions::Permissions;
use crate::protocol::scope::ScopeSet;

/// Where a consent stands now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Active,
    Expired,
    Revoked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Expired => "expired",
            Status::Revoked => "revoked",
        }
    }
}

/// A stored consent with the relying party's name.
#[derive(Clone, Debug)]
pub struct Consent {
    pub client_id: String,
    /// The client's registered name (its id if the client is gone).
    pub client_name: String,
    pub scopes: ScopeSet,
    /// Purpose sysnames (from the permission request), space-separated in the table.
    pub purposes: Vec<String>,
    pub permissions: Option<Permissions>,
    pub granted_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub revoke_reason: Option<String>,
}

impl Consent {
    pub fn status(&self, now: i64) -> Status {
        if self.revoked_at.is_some() {
            Status::Revoked
        } else if self.expires_at.is_some_and(|e| e <= now) {
            Status::Expired
        } else {
            Status::Active
        }
    }
}

/// One line of a person's consent history.
#[derive(Clone, Debug)]
pub struct HistoryEntry {
    pub client_id: String,
    pub client_name: String,
    /// "granted" or "revoked".
    pub action: String,
    pub scopes: ScopeSet,
    pub purposes: Vec<String>,
    pub expires_at: Option<i64>,
    /// "consent" (the consent page), "cabinet" (the permissions page or API).
    pub source: String,
    pub created_at: i64,
}

/// What the person allowed on the consent page.
pub struct NewConsent<'a> {
    pub scopes: &'a ScopeSet,
    pub permissions: Option<&'a Permissions>,
    pub now: i64,
}

/// Scopes the user has allowed this client and not revoked (empty if none).
pub async fn granted(
    db: &Db,
    user_id: &str,
    client_id: &str,
    now: i64,
) -> Result<ScopeSet, StoreError> {
    Ok(live(db, user_id, client_id, now)
        .await?
        .map(|(scopes, _)| scopes)
        .unwrap_or_default())
}

/// Like [`granted`], for a request that may carry an ESIA permission request: a consent
/// counts for it only if it was given to the same permission request (same purposes,
/// actions, scopes and validity); otherwise the person is asked again.
pub async fn granted_for(
    db: &Db,
    user_id: &str,
    client_id: &str,
    permissions: Option<&Permissions>,
    now: i64,
) -> Result<ScopeSet, StoreError> {
    let Some((scopes, stored)) = live(db, user_id, client_id, now).await? else {
        return Ok(ScopeSet::default());
    };
    match permissions {
        None => Ok(scopes),
        Some(p) if stored.as_deref() == Some(p.to_json().as_str()) => Ok(scopes),
        Some(_) => Ok(ScopeSet::default()),
    }
}

async fn live(
    db: &Db,
    user_id: &str,
    client_id: &str,
    now: i64,
) -> Result<Option<(ScopeSet, Option<String>)>, StoreError> {
    let row = sqlx::query(
        "SELECT scopes, permissions FROM consents WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3)",
    )
    .bind(user_id)
    .bind(client_id)
    .bind(now)
    .fetch_optional(db.read())
    .await?;
    match row {
        Some(r) => Ok(Some((
            ScopeSet::parse(&r.try_get::<String, _>("scopes")?).unwrap_or_default(),
            r.try_get("permissions")?,
        ))),
        None => Ok(None),
    }
}

/// Remembers that the user allowed `scopes` (added to what was allowed before), with no
/// permission request and no expiry.
pub async fn grant(
    db: &Db,
    user_id: &str,
    client_id: &str,
    scopes: &ScopeSet,
    now: i64,
) -> Result<(), StoreError> {
    let c = NewConsent {
        scopes,
        permissions: None,
        now,
    };
    grant_with(db, user_id, client_id, &c).await
}

/// Remembers that the user allowed `c.scopes` (added to what is allowed now), with the
/// purpose and validity of the permission request if there was one, and writes the history
/// line, in one transaction. The consent's validity is that of this latest decision.
pub async fn grant_with(
    db: &Db,
    user_id: &str,
    client_id: &str,
    c: &NewConsent<'_>,
) -> Result<(), StoreError> {
    let merged = granted(db, user_id, client_id, c.now)
        .await?
        .union(c.scopes);
    let purpose = c.permissions.map(|p| p.purposes().join(" "));
    let json = c.permissions.map(Permissions::to_json);
    let expires_at = c.permissions.map(|p| c.now + p.validity_seconds());
    let mut tx = db.write().begin().await?;
    sqlx::query(
        "INSERT INTO consents (user_id, client_id, scopes, granted_at, expires_at, purpose, permissions) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at, revoked_at = NULL, revoke_reason = NULL,
             expires_at = excluded.expires_at, purpose = excluded.purpose, permissions = excluded.permissions",
    )
    .bind(user_id)
    .bind(client_id)
    .bind(merged.to_string())
    .bind(c.now)
    .bind(expires_at)
    .bind(&purpose)
    .bind(&json)
    .execute(&mut *tx)
    .await?;
    let line = Line {
        user_id,
        client_id,
        action: "granted",
        scopes: &merged.to_string(),
        purpose: purpose.as_deref(),
        permissions: json.as_deref(),
        expires_at,
        source: "consent",
    };
    history_line(&mut tx, &line, c.now).await?;
    tx.commit().await?;
    Ok(())
}

/// Revokes the active consent of `user_id` for `client_id` inside the caller's transaction
/// and writes the history line; `None` if there was no active consent.
pub async fn revoke_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    client_id: &str,
    now: i64,
    source: &str,
) -> Result<Option<ScopeSet>, StoreError> {
    let row = sqlx::query(
        "UPDATE consents SET revoked_at = $1, revoke_reason = $2
         WHERE user_id = $3 AND client_id = $4 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)
         RETURNING scopes, purpose, permissions, expires_at",
    )
    .bind(now)
    .bind(source)
    .bind(user_id)
    .bind(client_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let scopes: String = row.try_get("scopes")?;
    let purpose: Option<String> = row.try_get("purpose")?;
    let permissions: Option<String> = row.try_get("permissions")?;
    let line = Line {
        user_id,
        client_id,
        action: "revoked",
        scopes: &scopes,
        purpose: purpose.as_deref(),
        permissions: permissions.as_deref(),
        expires_at: row.try_get("expires_at")?,
        source,
    };
    history_line(tx, &line, now).await?;
    Ok(Some(ScopeSet::parse(&scopes).unwrap_or_default()))
}

/// Every consent of a person (active, expired and revoked), newest first.
pub async fn list(db: &Db, user_id: &str) -> Result<Vec<Consent>, StoreError> {
    let rows = sqlx::query(
        "SELECT c.client_id, cl.name AS client_name, c.scopes, c.purpose, c.permissions, c.granted_at, c.expires_at, c.revoked_at, c.revoke_reason
         FROM consents c LEFT JOIN clients cl ON cl.id = c.client_id
         WHERE c.user_id = $1 ORDER BY c.granted_at DESC, c.client_id",
    )
    .bind(user_id)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(consent).collect::<Result<_, _>>()?)
}

/// A person's consent history, newest first.
pub async fn history(db: &Db, user_id: &str, limit: i64) -> Result<Vec<HistoryEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT h.client_id, cl.name AS client_name, h.action, h.scopes, h.purpose, h.expires_at, h.source, h.created_at
         FROM consent_history h LEFT JOIN clients cl ON cl.id = h.client_id
         WHERE h.user_id = $1 ORDER BY h.created_at DESC, h.id LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            let client_id: String = r.try_get("client_id")?;
            Ok(HistoryEntry {
                client_name: r
                    .try_get::<Option<String>, _>("client_name")?
                    .unwrap_or_else(|| client_id.clone()),
                client_id,
                action: r.try_get("action")?,
                scopes: ScopeSet::parse(&r.try_get::<String, _>("scopes")?).unwrap_or_default(),
                purposes: words(r.try_get("purpose")?),
                expires_at: r.try_get("expires_at")?,
                source: r.try_get("source")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

fn consent(r: &AnyRow) -> Result<Consent, sqlx::Error> {
    let client_id: String = r.try_get("client_id")?;
    Ok(Consent {
        client_name: r
            .try_get::<Option<String>, _>("client_name")?
            .unwrap_or_else(|| client_id.clone()),
        client_id,
        scopes: ScopeSet::parse(&r.try_get::<String, _>("scopes")?).unwrap_or_default(),
        purposes: words(r.try_get("purpose")?),
        permissions: r
            .try_get::<Option<String>, _>("permissions")?
            .as_deref()
            .and_then(Permissions::from_json),
        granted_at: r.try_get("granted_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
        revoke_reason: r.try_get("revoke_reason")?,
    })
}

fn words(text: Option<String>) -> Vec<String> {
    text.unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

struct Line<'a> {
    user_id: &'a str,
    client_id: &'a str,
    action: &'a str,
    scopes: &'a str,
    purpose: Option<&'a str>,
    permissions: Option<&'a str>,
    expires_at: Option<i64>,
    source: &'a str,
}

async fn history_line(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    l: &Line<'_>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO consent_history (id, user_id, client_id, action, scopes, purpose, permissions, expires_at, source, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(crate::crypto::random_token(12))
    .bind(l.user_id)
    .bind(l.client_id)
    .bind(l.action)
    .bind(l.scopes)
    .bind(l.purpose)
    .bind(l.permissions)
    .bind(l.expires_at)
    .bind(l.source)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
