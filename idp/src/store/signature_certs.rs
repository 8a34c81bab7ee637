//! The electronic-signature certificates each person logged in with (table
//! `signature_certificates`, migration 0016): recorded at a successful signature login and
//! listed in the cabinet (`/profile/security/signature`).

use sqlx::Row;

use super::db::{Db, StoreError};

/// A certificate as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureCertificate {
    pub subject: String,
    pub issuer: String,
    /// Hex.
    pub serial: String,
    pub not_before: i64,
    pub not_after: i64,
    pub first_used_at: i64,
    pub last_used_at: i64,
}

/// Records a login with a certificate: a new row, or `last_used_at` (and the subject, which
/// a reissue under the same serial does not change in practice) of the existing one.
pub async fn record_use(
    db: &Db,
    user_id: &str,
    cert: &SignatureCertificate,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO signature_certificates
             (user_id, issuer, serial, subject, not_before, not_after, first_used_at, last_used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT (user_id, issuer, serial) DO UPDATE SET subject = $4, not_before = $5,
             not_after = $6, last_used_at = $7",
    )
    .bind(user_id)
    .bind(&cert.issuer)
    .bind(&cert.serial)
    .bind(&cert.subject)
    .bind(cert.not_before)
    .bind(cert.not_after)
    .bind(now)
    .execute(db.write())
    .await?;
    Ok(())
}

/// The person's certificates, most recently used first.
pub async fn for_user(db: &Db, user_id: &str) -> Result<Vec<SignatureCertificate>, StoreError> {
    let rows = sqlx::query(
        "SELECT subject, issuer, serial, not_before, not_after, first_used_at, last_used_at
         FROM signature_certificates WHERE user_id = $1 ORDER BY last_used_at DESC, serial",
    )
    .bind(user_id)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SignatureCertificate {
                subject: r.try_get("subject")?,
                issuer: r.try_get("issuer")?,
                serial: r.try_get("serial")?,
                not_before: r.try_get("not_before")?,
                not_after: r.try_get("not_after")?,
                first_used_at: r.try_get("first_used_at")?,
                last_used_at: r.try_get("last_used_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

/// Whether the person has logged in with any certificate.
pub async fn any_for_user(db: &Db, user_id: &str) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT 1 AS one FROM signature_certificates WHERE user_id = $1 LIMIT 1")
        .bind(user_id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.is_some())
}
