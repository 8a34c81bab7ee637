//! Service-centre operators, who confirm people's identity in person. Tokens are random, so
//! a keyed hash (looked up directly) is enough.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::db::{Db, StoreError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operator {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

fn from_row(r: &AnyRow) -> Result<Operator, sqlx::Error> {
    Ok(Operator {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn create(
    db: &Db,
    name: &str,
    token_hash: &str,
    now: i64,
) -> Result<Operator, StoreError> {
    let id = crate::crypto::random_token(8);
    sqlx::query("INSERT INTO operators (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&id)
        .bind(name)
        .bind(token_hash)
        .bind(now)
        .execute(db.write())
        .await?;
    Ok(Operator {
        id,
        name: name.to_string(),
        created_at: now,
    })
}

pub async fn by_token_hash(db: &Db, token_hash: &str) -> Result<Option<Operator>, StoreError> {
    let row = sqlx::query("SELECT id, name, created_at FROM operators WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn list(db: &Db) -> Result<Vec<Operator>, StoreError> {
    let rows = sqlx::query("SELECT id, name, created_at FROM operators ORDER BY created_at, id")
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}
