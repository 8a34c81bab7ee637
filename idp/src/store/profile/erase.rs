//! The storage side of deleting an account: its open grants (to revoke and announce), and
//! the erasure of the person's data in one transaction, leaving only a tombstone event.

use sqlx::{AnyConnection, Row};

use crate::store::db::{Db, StoreError};
use crate::store::{events, released};

/// A grant still open when the account is deleted.
#[derive(Clone, Debug)]
pub struct OpenGrant {
    pub id: String,
    pub client_id: String,
    pub sid: Option<String>,
}

/// The person's grants not yet revoked (live, offline, or expired but unrevoked).
pub async fn open_grants(db: &Db, user_id: &str) -> Result<Vec<OpenGrant>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, client_id, sid FROM grants WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(OpenGrant {
                id: r.try_get("id")?,
                client_id: r.try_get("client_id")?,
                sid: r.try_get("sid")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

/// Revokes every open grant of the person: their access and refresh tokens stop working.
pub async fn revoke_grants(db: &Db, user_id: &str, now: i64) -> Result<u64, StoreError> {
    let r = sqlx::query(
        "UPDATE grants SET revoked_at = $1, revoke_reason = 'account_deleted' WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(user_id)
    .execute(db.write())
    .await?;
    Ok(r.rows_affected())
}

/// What identifies the account's contacts, so messages and codes sent to them go too.
pub struct Erasure<'a> {
    pub user_id: &'a str,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
}

/// Deletes the account and everything personal about it, inside the caller's transaction:
/// the phone and e-mail are released for reuse ([`released`]), codes and delivered messages
/// to them are removed, the event history is replaced by one tombstone without personal
/// data, pending jobs are dropped, and the user row goes with every row that references it
/// (sessions, grants, tokens, consents, documents, profile sections: ON DELETE CASCADE).
pub async fn erase(conn: &mut AnyConnection, e: &Erasure<'_>, now: i64) -> Result<(), StoreError> {
    let contacts: Vec<(&str, &str)> = e
        .phone
        .map(|p| ("phone", p))
        .into_iter()
        .chain(e.email.map(|m| ("email", m)))
        .collect();
    for (kind, value) in &contacts {
        released::release_identifier(&mut *conn, kind, value, now).await?;
        sqlx::query("DELETE FROM outbox WHERE recipient = $1 AND status <> 'pending'")
            .bind(*value)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM one_time_codes WHERE subject = $1")
            .bind(*value)
            .execute(&mut *conn)
            .await?;
    }
    for sql in [
        "DELETE FROM one_time_codes WHERE subject = $1",
        "DELETE FROM jobs WHERE user_id = $1",
        "DELETE FROM events WHERE user_id = $1",
        "DELETE FROM users WHERE id = $1",
    ] {
        sqlx::query(sql).bind(e.user_id).execute(&mut *conn).await?;
    }
    events::record(
        &mut *conn,
        &events::NewEvent {
            user_id: e.user_id,
            kind: "account",
            status: "success",
            summary: "Учётная запись удалена",
            detail: None,
            source: "user",
        },
        now,
    )
    .await
}
