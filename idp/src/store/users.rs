//! People: the account record, looked up by internal id, OID, or any login identifier.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::db::{Db, StoreError, flag};
use crate::protocol::acr::Level;
use crate::protocol::claims::Person;

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub person: Person,
    pub level: Level,
    pub password_hash: Option<String>,
}

/// What `users create` and the demo seed supply.
#[derive(Clone, Debug, Default)]
pub struct NewUser {
    pub surname: String,
    pub given_name: String,
    pub middle_name: Option<String>,
    pub level: Option<Level>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub snils: Option<String>,
    pub inn: Option<String>,
    pub birthdate: Option<String>,
    pub birthplace: Option<String>,
    pub gender: Option<String>,
    pub password_hash: Option<String>,
}

macro_rules! columns {
    () => {
        "id, oid, level, surname, given_name, middle_name, birthdate, birthplace, gender, snils, inn, email, email_verified, phone, phone_verified, password_hash, updated_at"
    };
}

fn from_row(r: &AnyRow) -> Result<User, sqlx::Error> {
    let level = Level::parse(&r.try_get::<String, _>("level")?).unwrap_or(Level::Simplified);
    Ok(User {
        id: r.try_get("id")?,
        level,
        password_hash: r.try_get("password_hash")?,
        person: Person {
            oid: r.try_get("oid")?,
            level: Some(level),
            surname: r.try_get("surname")?,
            given_name: r.try_get("given_name")?,
            middle_name: r.try_get("middle_name")?,
            birthdate: r.try_get("birthdate")?,
            birthplace: r.try_get("birthplace")?,
            gender: r.try_get("gender")?,
            snils: r.try_get("snils")?,
            inn: r.try_get("inn")?,
            email: r.try_get("email")?,
            email_verified: flag(r, "email_verified")?,
            phone: r.try_get("phone")?,
            phone_verified: flag(r, "phone_verified")?,
            updated_at: r.try_get("updated_at")?,
        },
    })
}

pub async fn by_id(db: &Db, id: &str) -> Result<Option<User>, StoreError> {
    let row = sqlx::query(concat!("SELECT ", columns!(), " FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.read())
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Finds a standard or confirmed account by its personal INN (12 digits), for the login by
/// electronic signature.
pub async fn by_inn(db: &Db, inn: &str) -> Result<Option<User>, StoreError> {
    let row = sqlx::query(concat!("SELECT ", columns!(), " FROM users WHERE inn = $1"))
        .bind(inn)
        .fetch_optional(db.read())
        .await?;
    let user = row.as_ref().map(from_row).transpose()?;
    Ok(user.filter(|u| u.level >= Level::Standard))
}

/// Finds an account by a normalised login: `+7…` phone, lower-case e-mail, or 11-digit SNILS
/// (SNILS only for standard and confirmed accounts).
pub async fn by_login(
    db: &Db,
    login: &crate::domain::identifiers::Login,
) -> Result<Option<User>, StoreError> {
    use crate::domain::identifiers::Login;
    let (sql, value) = match login {
        Login::Phone(p) => (
            concat!("SELECT ", columns!(), " FROM users WHERE phone = $1"),
            p.as_str(),
        ),
        Login::Email(e) => (
            concat!("SELECT ", columns!(), " FROM users WHERE email = $1"),
            e.as_str(),
        ),
        Login::Snils(s) => (
            concat!("SELECT ", columns!(), " FROM users WHERE snils = $1"),
            s.as_str(),
        ),
    };
    let row = sqlx::query(sql)
        .bind(value)
        .fetch_optional(db.read())
        .await?;
    let user = row.as_ref().map(from_row).transpose()?;
    Ok(user.filter(|u| !matches!(login, Login::Snils(_)) || u.level >= Level::Standard))
}

/// The user behind an access token, and whether the token is still live (its grant not
/// revoked or expired, its `jti` not revoked): one round trip for the userinfo hot path.
pub async fn by_access_token(
    db: &Db,
    user_id: &str,
    grant_id: &str,
    jti: &str,
    now: i64,
) -> Result<Option<(User, bool)>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        ", (SELECT COUNT(*) FROM grants WHERE id = $2 AND revoked_at IS NULL AND expires_at > $4) AS live,
           (SELECT COUNT(*) FROM revoked_tokens WHERE jti = $3) AS revoked
         FROM users WHERE id = $1"
    ))
    .bind(user_id)
    .bind(grant_id)
    .bind(jti)
    .bind(now)
    .fetch_optional(db.read())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let live = row.try_get::<i64, _>("live")? == 1 && row.try_get::<i64, _>("revoked")? == 0;
    Ok(Some((from_row(&row)?, live)))
}

pub async fn list(db: &Db, limit: i64) -> Result<Vec<User>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM users ORDER BY created_at, oid LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(db.read())
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Inserts a user with a fresh random OID; `Conflict` if a phone, e-mail or SNILS is taken.
pub async fn create(db: &Db, u: &NewUser, now: i64) -> Result<User, StoreError> {
    for _ in 0..5 {
        // The internal id is the OID in text: it is also the OIDC `sub`.
        let oid = random_oid();
        let id = oid.to_string();
        let result = sqlx::query(
            "INSERT INTO users (id, oid, level, surname, given_name, middle_name, birthdate, birthplace, gender, citizenship, snils, inn, email, email_verified, phone, phone_verified, password_hash, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)",
        )
        .bind(&id)
        .bind(oid)
        .bind(u.level.unwrap_or(Level::Simplified).as_str())
        .bind(&u.surname)
        .bind(&u.given_name)
        .bind(&u.middle_name)
        .bind(&u.birthdate)
        .bind(&u.birthplace)
        .bind(&u.gender)
        .bind(if u.level.unwrap_or(Level::Simplified) >= Level::Standard { Some("RUS") } else { None })
        .bind(&u.snils)
        .bind(&u.inn)
        .bind(&u.email)
        .bind(i64::from(u.email.is_some()))
        .bind(&u.phone)
        .bind(i64::from(u.phone.is_some()))
        .bind(&u.password_hash)
        .bind(now)
        .execute(db.write())
        .await;
        match result {
            Ok(_) => {
                return by_id(db, &id)
                    .await?
                    .ok_or_else(|| StoreError::Internal("user vanished after insert".into()));
            }
            Err(e) => {
                let e = StoreError::from(e);
                // Retry only an OID collision; a taken identifier is the caller's conflict.
                if matches!(&e, StoreError::Conflict(m) if m.contains("oid") || m.contains("users.id") || m.contains("users_pkey"))
                {
                    continue;
                }
                return Err(e);
            }
        }
    }
    Err(StoreError::Internal("could not allocate an OID".into()))
}

pub async fn set_password_hash(db: &Db, id: &str, hash: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now)
        .bind(id)
        .execute(db.write())
        .await?;
    Ok(())
}

/// ESIA OIDs are ten-digit numbers; ours are random so they do not reveal the user count.
fn random_oid() -> i64 {
    let b = crate::crypto::random_bytes(8);
    let n = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    1_000_000_000 + (n % 8_999_999_999) as i64
}
