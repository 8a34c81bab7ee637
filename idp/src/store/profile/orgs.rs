//! Organisations (by OGRN, unique) and the people who act for them, with their roles.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::protocol::claims::profile::OrgRole;
use crate::store::db::{Db, StoreError};

macro_rules! role_query {
    ($where:literal) => {
        concat!(
            "SELECT o.oid, o.full_name, o.short_name, o.ogrn, o.inn, o.type, m.role
             FROM org_members m JOIN organizations o ON o.id = m.org_id WHERE ",
            $where
        )
    };
}

fn from_row(r: &AnyRow) -> Result<OrgRole, sqlx::Error> {
    Ok(OrgRole {
        oid: r.try_get("oid")?,
        full_name: r.try_get("full_name")?,
        short_name: r.try_get("short_name")?,
        ogrn: r.try_get("ogrn")?,
        inn: r.try_get("inn")?,
        kind: r.try_get("type")?,
        role: r.try_get("role")?,
    })
}

/// The organisations a person acts for, in the order they joined.
pub async fn for_user(db: &Db, user_id: &str) -> Result<Vec<OrgRole>, StoreError> {
    let rows = sqlx::query(role_query!("m.user_id = $1 ORDER BY m.created_at, o.oid"))
        .bind(user_id)
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Whether an organisation with this OGRN is registered.
pub async fn ogrn_taken(db: &Db, ogrn: &str) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM organizations WHERE ogrn = $1")
        .bind(ogrn)
        .fetch_one(db.read())
        .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

/// Registers the organisation `o` with `user_id` as its first member in role `o.role`;
/// `Conflict` if the OGRN is taken.
pub async fn register(
    conn: &mut AnyConnection,
    user_id: &str,
    o: &OrgRole,
    now: i64,
) -> Result<(), StoreError> {
    let id = crate::crypto::random_token(12);
    sqlx::query(
        "INSERT INTO organizations (id, oid, ogrn, inn, full_name, short_name, type, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(o.oid)
    .bind(&o.ogrn)
    .bind(&o.inn)
    .bind(&o.full_name)
    .bind(&o.short_name)
    .bind(&o.kind)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO org_members (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(&o.role)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends the person's membership in the organisation `oid`; returns it if there was one.
pub async fn leave(
    conn: &mut AnyConnection,
    user_id: &str,
    oid: i64,
) -> Result<Option<OrgRole>, StoreError> {
    let row = sqlx::query(role_query!("m.user_id = $1 AND o.oid = $2"))
        .bind(user_id)
        .bind(oid)
        .fetch_optional(&mut *conn)
        .await?;
    let old = row.as_ref().map(from_row).transpose()?;
    if old.is_some() {
        sqlx::query(
            "DELETE FROM org_members WHERE user_id = $1 AND org_id = (SELECT id FROM organizations WHERE oid = $2)",
        )
        .bind(user_id)
        .bind(oid)
        .execute(conn)
        .await?;
    }
    Ok(old)
}
