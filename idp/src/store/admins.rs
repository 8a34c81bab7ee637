//! Administrators of the provider, who register relying parties through `/api/admin`. Like
//! operators, their bearer tokens are random, so only a keyed hash is stored and looked up.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::db::{Db, StoreError};
use crate::crypto::ServerSecrets;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admin {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

fn from_row(r: &AnyRow) -> Result<Admin, sqlx::Error> {
    Ok(Admin {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Creates an administrator with a fresh bearer token; returns the token in clear (shown
/// once: only its keyed hash is stored).
pub async fn create(
    db: &Db,
    secrets: &ServerSecrets,
    name: &str,
    now: i64,
) -> Result<(Admin, String), StoreError> {
    let token = format!("adm_{}", crate::crypto::random_token(32));
    let id = crate::crypto::random_token(8);
    let name = name.trim();
    sqlx::query("INSERT INTO admins (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&id)
        .bind(name)
        .bind(secrets.hash_client_secret(&token))
        .bind(now)
        .execute(db.write())
        .await?;
    let admin = Admin {
        id,
        name: name.to_string(),
        created_at: now,
    };
    Ok((admin, token))
}

/// The administrator a bearer token belongs to.
pub async fn by_token(
    db: &Db,
    secrets: &ServerSecrets,
    token: &str,
) -> Result<Option<Admin>, StoreError> {
    if token.len() > 200 {
        return Ok(None);
    }
    let row = sqlx::query("SELECT id, name, created_at FROM admins WHERE token_hash = $1")
        .bind(secrets.hash_client_secret(token))
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn list(db: &Db) -> Result<Vec<Admin>, StoreError> {
    let rows = sqlx::query("SELECT id, name, created_at FROM admins ORDER BY created_at, id")
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}
