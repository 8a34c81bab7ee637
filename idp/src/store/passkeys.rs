//! WebAuthn passkeys: several per account, each with a name, creation and last-use times,
//! the webauthn-rs credential as JSON and the last accepted signature counter. The counter is
//! advanced by a conditional UPDATE, so two nodes cannot both accept the same counter value.

use sqlx::Row;

use super::db::{Db, StoreError};

/// One registered passkey.
#[derive(Clone, Debug)]
pub struct StoredPasskey {
    pub id: String,
    pub user_id: String,
    /// The credential id, base64url without padding.
    pub credential_id: String,
    pub name: String,
    /// The webauthn-rs `Passkey` as JSON.
    pub passkey: String,
    pub sign_count: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<StoredPasskey, sqlx::Error> {
    Ok(StoredPasskey {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        credential_id: r.try_get("credential_id")?,
        name: r.try_get("name")?,
        passkey: r.try_get("passkey")?,
        sign_count: r.try_get("sign_count")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

/// Stores a new passkey; a credential id registered already (by anyone) is a conflict.
pub async fn insert(db: &Db, p: &StoredPasskey) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO passkeys (id, user_id, credential_id, name, passkey, sign_count, created_at, last_used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&p.id)
    .bind(&p.user_id)
    .bind(&p.credential_id)
    .bind(&p.name)
    .bind(&p.passkey)
    .bind(p.sign_count)
    .bind(p.created_at)
    .bind(p.last_used_at)
    .execute(db.write())
    .await?;
    Ok(())
}

/// A person's passkeys, oldest first.
pub async fn list(db: &Db, user_id: &str) -> Result<Vec<StoredPasskey>, StoreError> {
    const Q: &str = concat!(
        "SELECT id, user_id, credential_id, name, passkey, sign_count, created_at, last_used_at",
        " FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"
    );
    let rows = sqlx::query(Q).bind(user_id).fetch_all(db.read()).await?;
    rows.iter()
        .map(from_row)
        .collect::<Result<_, _>>()
        .map_err(StoreError::from)
}

/// Whether a person has at least one passkey.
pub async fn exists_for(db: &Db, user_id: &str) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM passkeys WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(db.read())
        .await?;
    let n: i64 = row.try_get("n")?;
    Ok(n > 0)
}

/// The passkey with this credential id (base64url), whoever owns it.
pub async fn by_credential(
    db: &Db,
    credential_id: &str,
) -> Result<Option<StoredPasskey>, StoreError> {
    const Q: &str = concat!(
        "SELECT id, user_id, credential_id, name, passkey, sign_count, created_at, last_used_at",
        " FROM passkeys WHERE credential_id = $1"
    );
    let row = sqlx::query(Q)
        .bind(credential_id)
        .fetch_optional(db.read())
        .await?;
    row.as_ref()
        .map(from_row)
        .transpose()
        .map_err(StoreError::from)
}

/// Records a use: the new counter and credential JSON and the time. With `old_count` the
/// counter must still be the one that was checked (false otherwise: a concurrent use won).
pub async fn record_use(
    db: &Db,
    id: &str,
    old_count: i64,
    new_count: i64,
    passkey: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "UPDATE passkeys SET sign_count = $1, passkey = $2, last_used_at = $3
         WHERE id = $4 AND sign_count = $5",
    )
    .bind(new_count)
    .bind(passkey)
    .bind(now)
    .bind(id)
    .bind(old_count)
    .execute(db.write())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Renames a person's passkey; false if there is no such passkey of theirs.
pub async fn rename(db: &Db, user_id: &str, id: &str, name: &str) -> Result<bool, StoreError> {
    let r = sqlx::query("UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3")
        .bind(name)
        .bind(id)
        .bind(user_id)
        .execute(db.write())
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Removes a person's passkey; false if there is no such passkey of theirs.
pub async fn delete(db: &Db, user_id: &str, id: &str) -> Result<bool, StoreError> {
    let r = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(db.write())
        .await?;
    Ok(r.rows_affected() == 1)
}
