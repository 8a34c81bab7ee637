//! The account's verified person data and level, as the registry checks and confirmations
//! change them (the rest of the account lives in `store::users`).

use sqlx::Row;

use super::db::{Db, StoreError};
use crate::domain::verification::registry::PersonData;
use crate::protocol::acr::Level;

/// The person data on the account with its level and the state of its check.
#[derive(Clone, Debug)]
pub struct AccountIdentity {
    pub level: Level,
    /// None | verifying | verified | rejected | failed
    pub verification_status: Option<String>,
    pub person: PersonData,
}

pub async fn of_user(db: &Db, user_id: &str) -> Result<Option<AccountIdentity>, StoreError> {
    let row = sqlx::query(
        "SELECT level, verification_status, surname, given_name, middle_name, birthdate, birthplace, gender, citizenship, snils, inn
         FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_optional(db.read())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let text = |c: &str| -> Result<String, sqlx::Error> {
        Ok(r.try_get::<Option<String>, _>(c)?.unwrap_or_default())
    };
    Ok(Some(AccountIdentity {
        level: Level::parse(&text("level")?).unwrap_or(Level::Simplified),
        verification_status: r.try_get("verification_status")?,
        person: PersonData {
            surname: text("surname")?,
            given_name: text("given_name")?,
            middle_name: r.try_get("middle_name")?,
            birthdate: text("birthdate")?,
            birthplace: text("birthplace")?,
            gender: text("gender")?,
            citizenship: text("citizenship")?,
            snils: text("snils")?,
            inn: r.try_get("inn")?,
        },
    }))
}

/// Sets the level and the state of the check.
pub async fn set_state<'e, E>(
    executor: E,
    user_id: &str,
    level: Level,
    status: Option<&str>,
    now: i64,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE users SET level = $1, verification_status = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(level.as_str())
    .bind(status)
    .bind(now)
    .bind(user_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// Writes person data the registries confirmed, with the resulting level. `Conflict` when the
/// SNILS is bound to another account.
pub async fn apply_verified<'e, E>(
    executor: E,
    user_id: &str,
    p: &PersonData,
    level: Level,
    now: i64,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE users SET surname = $1, given_name = $2, middle_name = $3, birthdate = $4, birthplace = $5, gender = $6,
                citizenship = $7, snils = $8, inn = $9, level = $10, verification_status = 'verified', updated_at = $11
         WHERE id = $12",
    )
    .bind(&p.surname)
    .bind(&p.given_name)
    .bind(&p.middle_name)
    .bind(&p.birthdate)
    .bind(&p.birthplace)
    .bind(&p.gender)
    .bind(&p.citizenship)
    .bind(&p.snils)
    .bind(&p.inn)
    .bind(level.as_str())
    .bind(now)
    .bind(user_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// Raises the level from `from` to `to` unless a check is in progress; false when the
/// account was not at `from` (or is being checked).
pub async fn raise_level<'e, E>(
    executor: E,
    user_id: &str,
    from: Level,
    to: Level,
    now: i64,
) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let n = sqlx::query(
        "UPDATE users SET level = $1, updated_at = $2
         WHERE id = $3 AND level = $4 AND COALESCE(verification_status, '') <> 'verifying'",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(user_id)
    .bind(from.as_str())
    .execute(executor)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// The account holding this SNILS (any level), for the operator's search.
pub async fn by_snils(db: &Db, snils: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT id FROM users WHERE snils = $1")
        .bind(snils)
        .fetch_optional(db.read())
        .await?;
    Ok(row.map(|r| r.try_get("id")).transpose()?)
}
