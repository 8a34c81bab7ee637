//! People's documents (passport, driving licence, …) and the registries' verdict on each.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::db::{Db, StoreError};
use crate::domain::documents::{CivilDate, Document, DocumentKind};

/// `verification` values.
pub const NOT_VERIFIED: &str = "NOT_VERIFIED";
pub const VERIFYING: &str = "VERIFYING";
pub const VERIFIED: &str = "VERIFIED";
pub const REJECTED: &str = "REJECTED";

/// A stored document.
#[derive(Clone, Debug)]
pub struct StoredDocument {
    pub id: String,
    pub user_id: String,
    pub document: Document,
    pub verification: String,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! columns {
    () => {
        "id, user_id, kind, series, number, issue_date, issued_by, issuer_code, expiry_date, verification, created_at, updated_at"
    };
}

fn from_row(r: &AnyRow) -> Result<Option<StoredDocument>, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    let Some(kind) = DocumentKind::parse(&kind) else {
        return Ok(None);
    };
    let date = |col: &str| -> Result<Option<CivilDate>, sqlx::Error> {
        Ok(r.try_get::<Option<String>, _>(col)?
            .as_deref()
            .and_then(CivilDate::parse))
    };
    Ok(Some(StoredDocument {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        document: Document {
            kind,
            series: r.try_get("series")?,
            number: r.try_get("number")?,
            issue_date: date("issue_date")?,
            issued_by: r.try_get("issued_by")?,
            issuer_code: r.try_get("issuer_code")?,
            expiry_date: date("expiry_date")?,
        },
        verification: r.try_get("verification")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    }))
}

fn collect(rows: &[AnyRow]) -> Result<Vec<StoredDocument>, StoreError> {
    let mut out = Vec::new();
    for r in rows {
        if let Some(d) = from_row(r)? {
            out.push(d);
        }
    }
    Ok(out)
}

/// Inserts a document in state `verification`; returns its id.
pub async fn insert<'e, E>(
    executor: E,
    user_id: &str,
    d: &Document,
    verification: &str,
    now: i64,
) -> Result<String, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let id = crate::crypto::random_token(12);
    sqlx::query(
        "INSERT INTO documents (id, user_id, kind, series, number, issue_date, issued_by, issuer_code, expiry_date, verification, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(d.kind.as_str())
    .bind(&d.series)
    .bind(&d.number)
    .bind(d.issue_date.map(CivilDate::iso))
    .bind(&d.issued_by)
    .bind(&d.issuer_code)
    .bind(d.expiry_date.map(CivilDate::iso))
    .bind(verification)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(id)
}

/// A person's documents, newest first.
pub async fn for_user(db: &Db, user_id: &str) -> Result<Vec<StoredDocument>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM documents WHERE user_id = $1 ORDER BY created_at DESC, id"
    ))
    .bind(user_id)
    .fetch_all(db.read())
    .await?;
    collect(&rows)
}

pub async fn by_id(db: &Db, id: &str) -> Result<Option<StoredDocument>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM documents WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db.read())
    .await?;
    Ok(match row {
        Some(r) => from_row(&r)?,
        None => None,
    })
}

/// The newest verified document of `kind`.
pub async fn verified(
    db: &Db,
    user_id: &str,
    kind: DocumentKind,
) -> Result<Option<StoredDocument>, StoreError> {
    Ok(for_user(db, user_id)
        .await?
        .into_iter()
        .find(|d| d.document.kind == kind && d.verification == VERIFIED))
}

/// Sets a document's verdict (only from VERIFYING, so a stale job cannot overwrite a newer
/// state); true when it changed.
pub async fn set_verification<'e, E>(
    executor: E,
    id: &str,
    verification: &str,
    now: i64,
) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let n = sqlx::query(
        "UPDATE documents SET verification = $1, updated_at = $2 WHERE id = $3 AND verification = 'VERIFYING'",
    )
    .bind(verification)
    .bind(now)
    .bind(id)
    .execute(executor)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Removes the person's other documents of `kind` except `keep`; with `only_unverified`,
/// verified ones stay (a new document waiting for its check must not erase the verified one).
pub async fn remove_others<'e, E>(
    executor: E,
    user_id: &str,
    kind: DocumentKind,
    keep: &str,
    only_unverified: bool,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "DELETE FROM documents WHERE user_id = $1 AND kind = $2 AND id <> $3 AND ($4 = 0 OR verification <> 'VERIFIED')",
    )
    .bind(user_id)
    .bind(kind.as_str())
    .bind(keep)
    .bind(i64::from(only_unverified))
    .execute(executor)
    .await?;
    Ok(())
}

/// The owners of a document of `kind` with this series and number (operator search).
pub async fn owners(
    db: &Db,
    kind: DocumentKind,
    series: Option<&str>,
    number: &str,
) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT DISTINCT user_id FROM documents WHERE kind = $1 AND number = $2 AND COALESCE(series, '') = $3",
    )
    .bind(kind.as_str())
    .bind(number)
    .bind(series.unwrap_or(""))
    .fetch_all(db.read())
    .await?;
    rows.iter()
        .map(|r| r.try_get("user_id"))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}
