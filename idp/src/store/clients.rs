//! Relying parties: registration records, and an in-process cache for the hot paths.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sqlx::Row;
use sqlx::any::AnyRow;

use super::db::{Db, StoreError};
use crate::cache::invalidation::{Bus, Change};
use crate::domain::assurance::Policy;
use crate::jose::Alg;
use crate::protocol::client::{AuthMethod, Client};
use crate::protocol::scope::ScopeSet;

fn from_row(r: &AnyRow) -> Result<Client, sqlx::Error> {
    let list = |col: &str| -> Result<Vec<String>, sqlx::Error> {
        let text: String = r.try_get(col)?;
        Ok(serde_json::from_str(&text).unwrap_or_default())
    };
    let alg = |col: &str| -> Result<Alg, sqlx::Error> {
        Ok(Alg::parse(&r.try_get::<String, _>(col)?).unwrap_or(Alg::RS256))
    };
    let jwks: Option<String> = r.try_get("jwks")?;
    Ok(Client {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        secret_hash: r.try_get("secret_hash")?,
        auth_method: AuthMethod::parse(&r.try_get::<String, _>("auth_method")?)
            .unwrap_or(AuthMethod::ClientSecret),
        redirect_uris: list("redirect_uris")?,
        post_logout_redirect_uris: list("post_logout_redirect_uris")?,
        scopes: ScopeSet::parse(&r.try_get::<String, _>("scopes")?).unwrap_or_default(),
        grant_types: r
            .try_get::<String, _>("grant_types")?
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        backchannel_logout_uri: r.try_get("backchannel_logout_uri")?,
        jwks: jwks.and_then(|j| serde_json::from_str(&j).ok()),
        jwks_uri: r.try_get("jwks_uri")?,
        id_token_alg: alg("id_token_alg")?,
        access_token_alg: alg("access_token_alg")?,
        created_at: r.try_get("created_at")?,
        auth_policy: Policy::parse(&r.try_get::<String, _>("auth_policy")?).unwrap_or_default(),
    })
}

macro_rules! columns {
    () => {
        "id, name, secret_hash, auth_method, redirect_uris, post_logout_redirect_uris, scopes, grant_types, backchannel_logout_uri, jwks, jwks_uri, id_token_alg, access_token_alg, created_at, auth_policy"
    };
}

pub async fn by_id(db: &Db, id: &str) -> Result<Option<Client>, StoreError> {
    // No client id holds a NUL, and PostgreSQL refuses such text outright (a 500, not "unknown").
    if id.contains('\0') {
        return Ok(None);
    }
    let row = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM clients WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db.read())
    .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn list(db: &Db) -> Result<Vec<Client>, StoreError> {
    let rows = sqlx::query(concat!("SELECT ", columns!(), " FROM clients ORDER BY id"))
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Inserts a client; `Conflict` if the id is taken.
pub async fn create(db: &Db, c: &Client) -> Result<(), StoreError> {
    sqlx::query(concat!(
        "INSERT INTO clients (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    ))
    .bind(&c.id)
    .bind(&c.name)
    .bind(&c.secret_hash)
    .bind(c.auth_method.as_str())
    .bind(serde_json::to_string(&c.redirect_uris).unwrap_or_default())
    .bind(serde_json::to_string(&c.post_logout_redirect_uris).unwrap_or_default())
    .bind(c.scopes.to_string())
    .bind(c.grant_types.join(" "))
    .bind(&c.backchannel_logout_uri)
    .bind(c.jwks.as_ref().map(|j| j.to_string()))
    .bind(&c.jwks_uri)
    .bind(c.id_token_alg.as_str())
    .bind(c.access_token_alg.as_str())
    .bind(c.created_at)
    .bind(c.auth_policy.as_string())
    .execute(db.write())
    .await?;
    Ok(())
}

/// Deletes a client and, by cascade, its grants and consents. Returns whether it existed.
pub async fn delete(db: &Db, id: &str) -> Result<bool, StoreError> {
    let r = sqlx::query("DELETE FROM clients WHERE id = $1")
        .bind(id)
        .execute(db.write())
        .await?;
    Ok(r.rows_affected() > 0)
}

/// A client and when it was read.
type CachedClient = (Arc<Client>, Instant);

/// Found clients, kept for a few seconds. A miss always reads the database, so a client
/// created by the CLI is seen at once; a changed or deleted one is forgotten on every node as
/// soon as the change is published (Redis pub/sub, `cache/invalidation.rs`), and at worst
/// within [`ClientCache::TTL`].
#[derive(Clone, Default)]
pub struct ClientCache {
    entries: Arc<RwLock<HashMap<String, CachedClient>>>,
    /// Bumped by every invalidation; a read that raced one is not cached.
    epoch: Arc<AtomicU64>,
    bus: Bus,
}

impl ClientCache {
    pub const TTL: Duration = Duration::from_secs(5);

    /// A cache that tells the other nodes about invalidations through `bus`.
    pub fn new(bus: Bus) -> ClientCache {
        ClientCache {
            bus,
            ..ClientCache::default()
        }
    }

    pub async fn get(&self, db: &Db, id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        if let Ok(map) = self.entries.read()
            && let Some((c, at)) = map.get(id)
            && at.elapsed() < Self::TTL
        {
            return Ok(Some(c.clone()));
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        let found = by_id(db, id).await?.map(Arc::new);
        if let (Some(c), Ok(mut map)) = (&found, self.entries.write())
            && self.epoch.load(Ordering::Acquire) == epoch
        {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(id.to_owned(), (c.clone(), Instant::now()));
        }
        Ok(found)
    }

    /// Forgets a client at once on this node and tells the others (after it was changed or
    /// deleted here), without waiting for Redis.
    pub fn invalidate(&self, id: &str) {
        self.forget_local(id);
        self.bus.publish_later(Change::Client(id.to_owned()));
    }

    /// Like [`ClientCache::invalidate`], waiting until Redis took the message (the CLI, which
    /// exits right after).
    pub async fn changed(&self, id: &str) {
        self.forget_local(id);
        self.bus.publish(&Change::Client(id.to_owned())).await;
    }

    /// Forgets a client on this node only (an invalidation received from another node).
    pub fn forget_local(&self, id: &str) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut map) = self.entries.write() {
            map.remove(id);
        }
    }

    /// Forgets every client on this node.
    pub fn clear_local(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut map) = self.entries.write() {
            map.clear();
        }
    }
}
