//! Two-step login settings per account: whether the second step is asked on every login
//! and which second factor is offered first. An account without a row has the defaults.

use sqlx::Row;

use super::db::{Db, StoreError};

/// The second factors a person can prefer.
pub const METHODS: [&str; 4] = ["totp", "sms", "passkey", "signature"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginSettings {
    /// Ask the second step on every login (true, the default), or only on devices not
    /// remembered and when a site demands it.
    pub always: bool,
    /// One of [`METHODS`], or none (the first available is offered).
    pub preferred: Option<String>,
}

impl Default for LoginSettings {
    fn default() -> Self {
        Self {
            always: true,
            preferred: None,
        }
    }
}

pub async fn get(db: &Db, user_id: &str) -> Result<LoginSettings, StoreError> {
    let row = sqlx::query(
        "SELECT second_factor_always, preferred_method FROM login_settings WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(db.read())
    .await?;
    match row {
        None => Ok(LoginSettings::default()),
        Some(r) => Ok(LoginSettings {
            always: r.try_get::<i64, _>("second_factor_always")? != 0,
            preferred: r.try_get("preferred_method")?,
        }),
    }
}

/// Stores the settings; a `preferred` value outside [`METHODS`] is stored as none.
pub async fn put(
    db: &Db,
    user_id: &str,
    settings: &LoginSettings,
    now: i64,
) -> Result<(), StoreError> {
    let preferred = settings
        .preferred
        .as_deref()
        .filter(|m| METHODS.contains(m));
    sqlx::query(
        "INSERT INTO login_settings (user_id, second_factor_always, preferred_method, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO UPDATE SET second_factor_always = $2, preferred_method = $3,
             updated_at = $4",
    )
    .bind(user_id)
    .bind(i64::from(settings.always))
    .bind(preferred)
    .bind(now)
    .execute(db.write())
    .await?;
    Ok(())
}
