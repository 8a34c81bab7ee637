//! What password recovery reads and writes on the account: the lookup by INN, the secret
//! question with its hashed answer (migration 0004), and the password replacement inside the
//! caller's transaction.

use sqlx::Row;

use super::db::{Db, StoreError};
use crate::protocol::acr::Level;

/// The id of the one standard or confirmed account with this INN (12 digits). INN is not
/// unique in the schema, so an INN shared by several accounts finds none (recovery then goes
/// through another identifier), and an unverified (simplified) INN is not a recovery key.
pub async fn user_id_by_inn(db: &Db, inn: &str) -> Result<Option<String>, StoreError> {
    let rows = sqlx::query("SELECT id, level FROM users WHERE inn = $1 LIMIT 2")
        .bind(inn)
        .fetch_all(db.read())
        .await?;
    if rows.len() != 1 {
        return Ok(None);
    }
    let level: String = rows[0].try_get("level")?;
    if Level::parse(&level).unwrap_or(Level::Simplified) < Level::Standard {
        return Ok(None);
    }
    Ok(Some(rows[0].try_get("id")?))
}

/// A secret question and the Argon2id hash of its normalised answer.
#[derive(Clone, Debug)]
pub struct SecretQuestion {
    pub question: String,
    pub answer_hash: String,
}

pub async fn secret_question(db: &Db, user_id: &str) -> Result<Option<SecretQuestion>, StoreError> {
    let row = sqlx::query("SELECT secret_question, secret_answer_hash FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(db.read())
        .await?;
    let Some(row) = row else { return Ok(None) };
    let question: Option<String> = row.try_get("secret_question")?;
    let answer_hash: Option<String> = row.try_get("secret_answer_hash")?;
    Ok(question
        .zip(answer_hash)
        .map(|(question, answer_hash)| SecretQuestion {
            question,
            answer_hash,
        }))
}

/// Sets (`Some`) or clears (`None`) the secret question, inside the caller's transaction.
pub async fn set_secret_question<'e, E>(
    executor: E,
    user_id: &str,
    value: Option<&SecretQuestion>,
    now: i64,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("UPDATE users SET secret_question = $1, secret_answer_hash = $2, updated_at = $3 WHERE id = $4")
        .bind(value.map(|v| v.question.as_str()))
        .bind(value.map(|v| v.answer_hash.as_str()))
        .bind(now)
        .bind(user_id)
        .execute(executor)
        .await?;
    Ok(())
}

/// Replaces the password hash, inside the caller's transaction.
pub async fn replace_password<'e, E>(
    executor: E,
    user_id: &str,
    hash: &str,
    now: i64,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now)
        .bind(user_id)
        .execute(executor)
        .await?;
    Ok(())
}
