//! TOTP credentials (one per account, secret sealed) and the single-use recovery codes.
//! Single use is enforced by conditional UPDATEs, safe across nodes.

use sqlx::Row;

use super::db::{Db, StoreError};

/// An authenticator of one account.
pub struct TotpCredential {
    pub secret_sealed: Vec<u8>,
    pub confirmed_at: Option<i64>,
    pub last_step: i64,
}

pub async fn get(db: &Db, user_id: &str) -> Result<Option<TotpCredential>, StoreError> {
    let row = sqlx::query(
        "SELECT secret_sealed, confirmed_at, last_step FROM totp_credentials WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(db.read())
    .await?;
    row.map(|r| {
        Ok(TotpCredential {
            secret_sealed: r.try_get("secret_sealed")?,
            confirmed_at: r.try_get("confirmed_at")?,
            last_step: r.try_get("last_step")?,
        })
    })
    .transpose()
}

/// Whether the account has a confirmed authenticator.
pub async fn confirmed(db: &Db, user_id: &str) -> Result<bool, StoreError> {
    Ok(get(db, user_id)
        .await?
        .is_some_and(|c| c.confirmed_at.is_some()))
}

/// Starts (or restarts) an enrolment: replaces an unconfirmed secret. Returns false when a
/// confirmed authenticator already exists (it is left alone).
pub async fn start(db: &Db, user_id: &str, sealed: &[u8], now: i64) -> Result<bool, StoreError> {
    sqlx::query("DELETE FROM totp_credentials WHERE user_id = $1 AND confirmed_at IS NULL")
        .bind(user_id)
        .execute(db.write())
        .await?;
    let r = sqlx::query(
        "INSERT INTO totp_credentials (user_id, secret_sealed, created_at, confirmed_at, last_step)
         VALUES ($1, $2, $3, NULL, 0) ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(sealed)
    .bind(now)
    .execute(db.write())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Records an accepted step (and confirms the credential if it was not yet); false if a
/// later or equal step was already accepted (the code was used).
pub async fn accept_step(db: &Db, user_id: &str, step: i64, now: i64) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "UPDATE totp_credentials SET last_step = $1, confirmed_at = COALESCE(confirmed_at, $2)
         WHERE user_id = $3 AND last_step < $1",
    )
    .bind(step)
    .bind(now)
    .bind(user_id)
    .execute(db.write())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Removes the authenticator and the recovery codes.
pub async fn delete(db: &Db, user_id: &str) -> Result<bool, StoreError> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(db.write())
        .await?;
    let r = sqlx::query("DELETE FROM totp_credentials WHERE user_id = $1")
        .bind(user_id)
        .execute(db.write())
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Replaces the account's recovery codes by these hashes.
pub async fn replace_recovery_codes(
    db: &Db,
    user_id: &str,
    hashes: &[String],
    now: i64,
) -> Result<(), StoreError> {
    let mut tx = db.write().begin().await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    for h in hashes {
        sqlx::query(
            "INSERT INTO recovery_codes (user_id, code_hash, created_at, used_at) VALUES ($1, $2, $3, NULL)",
        )
        .bind(user_id)
        .bind(h)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Spends a recovery code; false if there is no such unused code.
pub async fn use_recovery_code(
    db: &Db,
    user_id: &str,
    hash: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let r = sqlx::query(
        "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .bind(hash)
    .execute(db.write())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// How many recovery codes are left.
pub async fn recovery_codes_left(db: &Db, user_id: &str) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(db.read())
    .await?;
    Ok(row.try_get("n")?)
}
