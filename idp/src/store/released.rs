//! Identifiers freed by account deletion, and the once-a-month rule for binding them again.
//!
//! esia.md §1: "a freed number can be reused at most once a month". Our reading: after a
//! release the value may be bound to a new account, but no more than once in any 30 days
//! (`reused_at` marks that binding). A value never released is not limited here; a value
//! bound to a live account is refused by the users table's uniqueness anyway.

use sqlx::Row;

use super::db::{Db, StoreError};

/// How long after a reuse the value cannot be bound to yet another new account.
pub const REUSE_WINDOW: i64 = 30 * 86_400;

/// Records that `value` (a normalised phone or e-mail) of `kind` ("phone" | "email") left an
/// account at `now`. The deletion flow calls this inside its transaction.
pub async fn release_identifier<'e, E>(
    executor: E,
    kind: &str,
    value: &str,
    now: i64,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO released_identifiers (id, kind, value, released_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(crate::crypto::random_token(12))
    .bind(kind)
    .bind(value)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

/// Whether `value` may be bound to a new account at `now` (see the module doc).
pub async fn may_bind(db: &Db, kind: &str, value: &str, now: i64) -> Result<bool, StoreError> {
    let row = sqlx::query(
        "SELECT MAX(reused_at) AS last FROM released_identifiers WHERE kind = $1 AND value = $2",
    )
    .bind(kind)
    .bind(value)
    .fetch_one(db.read())
    .await?;
    let last: Option<i64> = row.try_get("last")?;
    Ok(reuse_allowed(last, now))
}

/// Marks the newest unreused release of `value` as taken by a new account at `now` (no-op
/// when the value was never released).
pub async fn mark_reused(db: &Db, kind: &str, value: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE released_identifiers SET reused_at = $1
         WHERE id = (SELECT id FROM released_identifiers WHERE kind = $2 AND value = $3 AND reused_at IS NULL
                     ORDER BY released_at DESC, id DESC LIMIT 1)",
    )
    .bind(now)
    .bind(kind)
    .bind(value)
    .execute(db.write())
    .await?;
    Ok(())
}

/// The rule itself: allowed unless a reuse happened less than [`REUSE_WINDOW`] ago.
pub fn reuse_allowed(last_reuse: Option<i64>, now: i64) -> bool {
    last_reuse.is_none_or(|t| now - t >= REUSE_WINDOW)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_reuse_per_thirty_days() {
        let now = 1_800_000_000;
        assert!(reuse_allowed(None, now), "never reused");
        assert!(!reuse_allowed(Some(now), now));
        assert!(!reuse_allowed(Some(now - REUSE_WINDOW + 1), now));
        assert!(reuse_allowed(Some(now - REUSE_WINDOW), now));
        assert!(reuse_allowed(Some(now - 90 * 86_400), now));
    }
}
