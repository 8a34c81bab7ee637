//! The profile a person keeps up to date: contacts ([`contacts`]: mobile and e-mail changes
//! confirmed by code or link, home phone without), addresses and vehicles ([`sections`]),
//! children ([`kids`]: link codes), organisations ([`orgs`]: confirmed persons only), the
//! claims these feed, the history of changes, and account deletion ([`deletion`]).
//!
//! Every change and its history event (`kind = "profile"`, detail `{field, old, new}`) are
//! written in one transaction. Refusals are [`ProfileError`]s with a Russian message that
//! says nothing about other accounts.

pub mod checks;
pub mod contacts;
pub mod deletion;
pub mod kids;
pub mod orgs;
pub mod sections;

use sqlx::AnyConnection;

use crate::app::AppState;
use crate::protocol::claims::profile::{self as shapes, Profile};
use crate::protocol::scope::ScopeSet;
use crate::store::users::User;
use crate::store::{StoreError, events};

/// A field the person must correct.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub field: &'static str,
    pub ru: &'static str,
    pub en: &'static str,
}

impl Problem {
    pub const fn new(field: &'static str, ru: &'static str, en: &'static str) -> Self {
        Self { field, ru, en }
    }
}

/// Why a profile change was refused (nothing changed), or a fault of the server.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("invalid input")]
    Invalid(Vec<Problem>),
    #[error("wrong code")]
    WrongCode { remaining: i64 },
    #[error("code expired")]
    CodeExpired,
    #[error("code used up")]
    CodeUsedUp,
    #[error("no code was sent")]
    NoCode,
    #[error("a new code in {0} s")]
    TooSoon(i64),
    #[error("too many codes today")]
    DailyCap,
    /// The contact cannot be bound (another account has it, or it was reused lately): one
    /// neutral answer for every reason.
    #[error("contact unavailable")]
    ContactUnavailable,
    #[error("same value")]
    SameValue,
    #[error("account not confirmed")]
    NotConfirmed,
    #[error("organisation already registered")]
    OrgRegistered,
    #[error("duplicate")]
    Duplicate,
    #[error("limit reached")]
    Limit,
    #[error("not found")]
    NotFound,
    #[error("cannot link")]
    CannotLink,
    #[error("wrong password")]
    WrongPassword,
    #[error("locked")]
    Locked,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
}

impl From<super::codes::IssueError> for ProfileError {
    fn from(e: super::codes::IssueError) -> Self {
        match e {
            super::codes::IssueError::TooSoon(s) => ProfileError::TooSoon(s),
            super::codes::IssueError::DailyCap => ProfileError::DailyCap,
            super::codes::IssueError::Store(s) => ProfileError::Store(s),
        }
    }
}

impl From<sqlx::Error> for ProfileError {
    fn from(e: sqlx::Error) -> Self {
        ProfileError::Store(e.into())
    }
}

impl ProfileError {
    pub fn invalid(field: &'static str, ru: &'static str, en: &'static str) -> Self {
        ProfileError::Invalid(vec![Problem::new(field, ru, en)])
    }

    /// The machine-readable code of the JSON answer.
    pub fn code(&self) -> &'static str {
        match self {
            ProfileError::Invalid(_) => "invalid_input",
            ProfileError::WrongCode { .. } => "wrong_code",
            ProfileError::CodeExpired => "code_expired",
            ProfileError::CodeUsedUp => "code_used_up",
            ProfileError::NoCode => "no_code",
            ProfileError::TooSoon(_) => "too_soon",
            ProfileError::DailyCap => "too_many_codes",
            ProfileError::ContactUnavailable => "contact_unavailable",
            ProfileError::SameValue => "same_value",
            ProfileError::NotConfirmed => "account_not_confirmed",
            ProfileError::OrgRegistered => "organization_registered",
            ProfileError::Duplicate => "duplicate",
            ProfileError::Limit => "limit_reached",
            ProfileError::NotFound => "not_found",
            ProfileError::CannotLink => "cannot_link",
            ProfileError::WrongPassword => "wrong_password",
            ProfileError::Locked => "locked",
            ProfileError::Store(_) | ProfileError::Cache(_) => "server_error",
        }
    }

    /// The HTTP status that fits.
    pub fn status(&self) -> u16 {
        match self {
            ProfileError::NotConfirmed | ProfileError::WrongPassword => 403,
            ProfileError::NotFound => 404,
            ProfileError::ContactUnavailable
            | ProfileError::OrgRegistered
            | ProfileError::Duplicate => 409,
            ProfileError::TooSoon(_) | ProfileError::DailyCap | ProfileError::Locked => 429,
            ProfileError::Store(StoreError::Unavailable(_)) | ProfileError::Cache(_) => 503,
            ProfileError::Store(_) => 500,
            _ => 400,
        }
    }

    /// The message for the person, in Russian or English.
    pub fn message(&self, en: bool) -> String {
        let pick = |ru: &str, e: &str| if en { e.to_string() } else { ru.to_string() };
        match self {
            ProfileError::Invalid(ps) => ps
                .iter()
                .map(|p| if en { p.en } else { p.ru })
                .collect::<Vec<_>>()
                .join(" "),
            ProfileError::WrongCode { remaining } => {
                if en {
                    format!("Wrong code. Attempts left: {remaining}.")
                } else {
                    format!("Неверный код. Осталось попыток: {remaining}.")
                }
            }
            ProfileError::CodeExpired => pick(
                "Срок действия кода истёк. Запросите новый код.",
                "The code has expired. Request a new one.",
            ),
            ProfileError::CodeUsedUp => pick(
                "Код уже использован или попытки закончились. Запросите новый код.",
                "The code has been used or has no attempts left. Request a new one.",
            ),
            ProfileError::NoCode => pick(
                "Код не запрашивался. Сначала укажите новое значение и получите код.",
                "No code was requested. Enter the new value and get a code first.",
            ),
            ProfileError::TooSoon(s) => {
                if en {
                    format!("A new code can be requested in {s} s.")
                } else {
                    format!("Новый код можно запросить через {s} с.")
                }
            }
            ProfileError::DailyCap => pick(
                "Превышено число кодов за сутки. Попробуйте завтра.",
                "Too many codes today. Try again tomorrow.",
            ),
            ProfileError::ContactUnavailable => pick(
                "Этот контакт нельзя привязать к учётной записи. Укажите другой.",
                "This contact cannot be bound to the account. Enter another one.",
            ),
            ProfileError::SameValue => pick(
                "Это значение уже указано в вашей учётной записи.",
                "This value is already in your account.",
            ),
            ProfileError::NotConfirmed => pick(
                "Зарегистрировать организацию может только пользователь с подтверждённой учётной записью.",
                "Only a person with a confirmed account can register an organisation.",
            ),
            ProfileError::OrgRegistered => pick(
                "Организация с таким ОГРН уже зарегистрирована. Чтобы действовать от её имени, обратитесь к руководителю или администратору организации.",
                "An organisation with this OGRN is already registered. Ask its chief or administrator to add you.",
            ),
            ProfileError::Duplicate => pick(
                "Такая запись уже есть в профиле.",
                "This entry is already in the profile.",
            ),
            ProfileError::Limit => pick(
                "Достигнуто наибольшее число записей в этом разделе.",
                "This section has reached its maximum number of entries.",
            ),
            ProfileError::NotFound => pick("Запись не найдена.", "Entry not found."),
            ProfileError::CannotLink => pick(
                "Эту учётную запись нельзя привязать как учётную запись ребёнка.",
                "This account cannot be linked as a child's account.",
            ),
            ProfileError::WrongPassword => pick("Неверный пароль.", "Wrong password."),
            ProfileError::Locked => pick(
                "Слишком много неудачных попыток. Попробуйте позже.",
                "Too many failed attempts. Try again later.",
            ),
            ProfileError::Store(StoreError::Unavailable(_)) | ProfileError::Cache(_) => pick(
                "Сервис временно недоступен. Попробуйте позже.",
                "The service is temporarily unavailable. Try again later.",
            ),
            ProfileError::Store(_) => pick(
                "Внутренняя ошибка. Попробуйте позже.",
                "Internal error. Try again later.",
            ),
        }
    }
}

/// Writes a history event for a change the person made (inside the caller's transaction).
pub(crate) async fn record(
    conn: &mut AnyConnection,
    user_id: &str,
    summary: &str,
    detail: &serde_json::Value,
    source: &str,
    now: i64,
) -> Result<(), StoreError> {
    events::record(
        conn,
        &events::NewEvent {
            user_id,
            kind: "profile",
            status: "success",
            summary,
            detail: Some(detail),
            source,
        },
        now,
    )
    .await
}

/// Opens the write transaction a change and its history event share.
pub(crate) async fn begin(
    state: &AppState,
) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
    Ok(state.db.write().begin().await?)
}

/// A store `Conflict` is the person's duplicate; anything else is a server fault.
pub(crate) fn conflict_is(e: StoreError, refusal: ProfileError) -> ProfileError {
    match e {
        StoreError::Conflict(_) => refusal,
        other => ProfileError::Store(other),
    }
}

/// Everything in the profile (for the API overview and the claims).
pub async fn load(
    state: &AppState,
    user: &User,
    want: shapes::Wanted,
) -> Result<Profile, StoreError> {
    use crate::store::profile as store;
    let db = &state.db;
    Ok(Profile {
        contacts: if want.contacts {
            contacts::list(state, user).await?
        } else {
            Vec::new()
        },
        addresses: if want.addresses {
            store::addresses(db, &user.id).await?
        } else {
            Vec::new()
        },
        vehicles: if want.vehicles {
            store::vehicles(db, &user.id).await?
        } else {
            Vec::new()
        },
        kids: if want.kids {
            store::kids::list(db, &user.id).await?
        } else {
            Vec::new()
        },
        orgs: if want.orgs {
            store::orgs::for_user(db, &user.id).await?
        } else {
            Vec::new()
        },
    })
}

/// Adds the profile claims for `scopes` to a userinfo answer; loads only what they need.
pub async fn add_claims(
    state: &AppState,
    scopes: &ScopeSet,
    user: &User,
    claims: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), StoreError> {
    let want = shapes::wanted(scopes);
    if want.any() {
        let profile = load(state, user, want).await?;
        shapes::release(scopes, &profile, claims);
    }
    Ok(())
}

/// Every section.
pub const ALL: shapes::Wanted = shapes::Wanted {
    contacts: true,
    addresses: true,
    vehicles: true,
    kids: true,
    orgs: true,
};
