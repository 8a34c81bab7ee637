//! Children: links from a parent's account to a child's account (made with a link code), and
//! records a parent keeps for a child without an account. A linked child's data is read live
//! from the child's own account.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::protocol::acr::Level;
use crate::protocol::claims::profile::Kid;
use crate::store::db::{Db, StoreError};

macro_rules! kid_query {
    ($where:literal) => {
        concat!(
            "SELECT k.id, k.child_id, k.surname, k.given_name, k.middle_name, k.birthdate, k.gender, k.snils, k.inn,
                    u.surname AS u_surname, u.given_name AS u_given_name, u.middle_name AS u_middle_name,
                    u.birthdate AS u_birthdate, u.gender AS u_gender, u.snils AS u_snils, u.inn AS u_inn,
                    u.level AS u_level, p.level AS p_level
             FROM kids k JOIN users p ON p.id = k.parent_id LEFT JOIN users u ON u.id = k.child_id
             WHERE ",
            $where
        )
    };
}

fn from_row(r: &AnyRow) -> Result<Kid, sqlx::Error> {
    let child: Option<String> = r.try_get("child_id")?;
    let verified = |col: &str| -> Result<bool, sqlx::Error> {
        let level: Option<String> = r.try_get(col)?;
        Ok(level
            .as_deref()
            .and_then(Level::parse)
            .is_some_and(|l| l >= Level::Standard))
    };
    // A linked child's data comes from their account; a record's from the parent.
    let p = if child.is_some() { "u_" } else { "" };
    let col = |name: &str| format!("{p}{name}");
    Ok(Kid {
        id: r.try_get("id")?,
        surname: r
            .try_get::<Option<String>, _>(col("surname").as_str())?
            .unwrap_or_default(),
        given_name: r
            .try_get::<Option<String>, _>(col("given_name").as_str())?
            .unwrap_or_default(),
        middle_name: r.try_get(col("middle_name").as_str())?,
        birthdate: r.try_get(col("birthdate").as_str())?,
        gender: r.try_get(col("gender").as_str())?,
        snils: r.try_get(col("snils").as_str())?,
        inn: r.try_get(col("inn").as_str())?,
        linked: child.is_some(),
        verified_ids: if child.is_some() {
            verified("u_level")?
        } else {
            verified("p_level")?
        },
    })
}

/// A parent's children, in the order they were added.
pub async fn list(db: &Db, parent_id: &str) -> Result<Vec<Kid>, StoreError> {
    let rows = sqlx::query(kid_query!("k.parent_id = $1 ORDER BY k.created_at, k.id"))
        .bind(parent_id)
        .fetch_all(db.read())
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Stores a record of a child without an account.
pub async fn add_record(
    conn: &mut AnyConnection,
    parent_id: &str,
    k: &Kid,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO kids (id, parent_id, child_id, surname, given_name, middle_name, birthdate, gender, snils, inn, created_at)
         VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&k.id)
    .bind(parent_id)
    .bind(&k.surname)
    .bind(&k.given_name)
    .bind(&k.middle_name)
    .bind(&k.birthdate)
    .bind(&k.gender)
    .bind(&k.snils)
    .bind(&k.inn)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Links `child_id`'s account to `parent_id`'s; `Conflict` if already linked.
pub async fn link(
    conn: &mut AnyConnection,
    id: &str,
    parent_id: &str,
    child_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO kids (id, parent_id, child_id, created_at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(parent_id)
        .bind(child_id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether `child_id` is already linked to `parent_id`.
pub async fn is_linked(db: &Db, parent_id: &str, child_id: &str) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM kids WHERE parent_id = $1 AND child_id = $2")
        .bind(parent_id)
        .bind(child_id)
        .fetch_one(db.read())
        .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

/// Removes a child from the parent's list (the child's account stays); returns it.
pub async fn remove(
    conn: &mut AnyConnection,
    parent_id: &str,
    id: &str,
) -> Result<Option<Kid>, StoreError> {
    let row = sqlx::query(kid_query!("k.id = $1 AND k.parent_id = $2"))
        .bind(id)
        .bind(parent_id)
        .fetch_optional(&mut *conn)
        .await?;
    let old = row.as_ref().map(from_row).transpose()?;
    if old.is_some() {
        sqlx::query("DELETE FROM kids WHERE id = $1 AND parent_id = $2")
            .bind(id)
            .bind(parent_id)
            .execute(conn)
            .await?;
    }
    Ok(old)
}
