//! The confirmed level, reached from the standard one by: a code sent by registered mail, an
//! operator at a service centre, or a qualified electronic signature whose certificate names
//! the account's verified SNILS. Each records who confirmed and when.

use serde_json::json;

use super::{level_ru, notify, record};
use crate::app::AppState;
use crate::crypto::{b64url, b64url_decode};
use crate::domain::codes::{self, Checked, IssueError, Policy};
use crate::domain::documents::plain_text;
use crate::domain::identifiers::parse_snils;
use crate::domain::messages::Template;
use crate::protocol::acr::Level;
use crate::store::StoreError;
use crate::store::identity;
use crate::store::letters::{self, Letter, NewLetter};
use crate::store::operators::{self, Operator};

/// The purpose of letter codes in `one_time_codes`.
const LETTER_PURPOSE: &str = "confirm_letter";

#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error("the account is not at the standard level")]
    NotStandard,
    #[error("the account is already confirmed")]
    AlreadyConfirmed,
    #[error("the person's data are being checked")]
    Verifying,
    #[error("the postal address is missing or malformed")]
    BadAddress,
    #[error("too many letters today")]
    TooMany,
    #[error("wrong code")]
    WrongCode { remaining: i64 },
    #[error("the code expired")]
    Expired,
    #[error("the code was used or its attempts are spent")]
    Spent,
    #[error("no letter was ordered")]
    NoLetter,
    #[error("the certificate's SNILS does not match the account")]
    SnilsMismatch,
    #[error("no such account")]
    UnknownAccount,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ConfirmError {
    /// The message for the person (or the operator), in Russian.
    pub fn ru(&self) -> String {
        match self {
            ConfirmError::NotStandard => "Подтвердить можно только стандартную учётную запись: сначала личные данные должны пройти проверку.".into(),
            ConfirmError::AlreadyConfirmed => "Учётная запись уже подтверждена.".into(),
            ConfirmError::Verifying => "Личные данные сейчас на проверке. Дождитесь её окончания.".into(),
            ConfirmError::BadAddress => "Укажите почтовый адрес для письма (до 200 символов).".into(),
            ConfirmError::TooMany => "Сегодня заказано слишком много писем. Попробуйте завтра.".into(),
            ConfirmError::WrongCode { remaining } => format!("Неверный код подтверждения. Осталось попыток: {remaining}."),
            ConfirmError::Expired => "Срок действия кода истёк. Закажите новое письмо.".into(),
            ConfirmError::Spent => "Этот код уже использован или попытки исчерпаны. Закажите новое письмо.".into(),
            ConfirmError::NoLetter => "Письмо с кодом подтверждения не заказывалось.".into(),
            ConfirmError::SnilsMismatch => "СНИЛС в сертификате электронной подписи не совпадает с подтверждённым СНИЛС учётной записи.".into(),
            ConfirmError::UnknownAccount => "Учётная запись не найдена.".into(),
            ConfirmError::Store(_) => "Сервис временно недоступен. Попробуйте позже.".into(),
        }
    }
}

/// A letter as the operator prints it.
#[derive(Debug, Clone)]
pub struct PrintableLetter {
    pub letter: Letter,
    /// The code in clear while the letter waits to be printed.
    pub code: Option<String>,
}

/// Orders a letter with a confirmation code to `address`. Only one letter's code is valid at
/// a time: a new order supersedes the earlier ones.
pub async fn request_letter(
    state: &AppState,
    user_id: &str,
    address: &str,
) -> Result<Letter, ConfirmError> {
    let address = address.trim();
    if address.is_empty() || !plain_text(address) {
        return Err(ConfirmError::BadAddress);
    }
    let account = confirmable(state, user_id).await?;
    let now = state.clock.now();
    let policy = Policy {
        ttl: state.config.verification.letter_ttl_secs,
        max_attempts: 5,
        resend_after: 0,
        daily_cap: 3,
        digits: 8,
    };
    let code = match codes::issue(state, LETTER_PURPOSE, user_id, policy, None).await {
        Ok(c) => c,
        Err(IssueError::TooSoon(_) | IssueError::DailyCap) => return Err(ConfirmError::TooMany),
        Err(IssueError::Store(e)) => return Err(e.into()),
    };
    let p = &account.person;
    let recipient = match &p.middle_name {
        Some(m) => format!("{} {} {}", p.surname, p.given_name, m),
        None => format!("{} {}", p.surname, p.given_name),
    };
    let sealed = b64url(&state.secrets.seal(code.as_bytes()));
    let mut tx = state.db.write().begin().await.map_err(StoreError::from)?;
    let new = NewLetter {
        user_id,
        recipient: &recipient,
        address,
        code_sealed: &sealed,
        expires_at: now + policy.ttl,
    };
    let id = letters::create(&mut *tx, &new, now).await?;
    letters::supersede_others(&mut *tx, user_id, &id).await?;
    let detail = json!({ "letter": id });
    record(
        &mut *tx,
        user_id,
        "info",
        "Заказано письмо с кодом подтверждения личности",
        &detail,
        "user",
        now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    letters::by_id(&state.db, &id)
        .await?
        .ok_or_else(|| StoreError::Internal("letter vanished after insert".into()).into())
}

/// Checks the code typed from the letter; on success the account becomes confirmed.
pub async fn confirm_code(state: &AppState, user_id: &str, code: &str) -> Result<(), ConfirmError> {
    confirmable(state, user_id).await?;
    // A code is only good while its letter is live: confirming another way, or ordering a new
    // letter, retires it.
    let letters = letters::for_user(&state.db, user_id).await?;
    if !letters
        .iter()
        .any(|l| l.status == "pending" || l.status == "sent")
    {
        return Err(if letters.is_empty() {
            ConfirmError::NoLetter
        } else {
            ConfirmError::Spent
        });
    }
    match codes::check(state, LETTER_PURPOSE, user_id, code).await? {
        Checked::Accepted(_) => {}
        Checked::Wrong { remaining } => return Err(ConfirmError::WrongCode { remaining }),
        Checked::Expired => return Err(ConfirmError::Expired),
        Checked::Exhausted => return Err(ConfirmError::Spent),
        Checked::Missing => return Err(ConfirmError::NoLetter),
    }
    let detail = json!({ "method": "letter" });
    raise(
        state,
        user_id,
        "letter",
        "по коду из заказного письма",
        &detail,
    )
    .await
}

/// An operator confirms a person they identified in person (passport and SNILS checked).
pub async fn confirm_by_operator(
    state: &AppState,
    operator: &Operator,
    user_id: &str,
    office: Option<&str>,
) -> Result<(), ConfirmError> {
    confirmable(state, user_id).await?;
    let detail = json!({
        "method": "operator",
        "operator_id": operator.id,
        "operator_name": operator.name,
        "office": office,
    });
    let source = format!("operator:{}", operator.id);
    raise(state, user_id, &source, "в центре обслуживания", &detail).await
}

/// The hook for the strong-authentication work: a qualified electronic signature whose
/// certificate carries `certificate_snils` (OID 1.2.643.100.3) confirms the account when that
/// SNILS is the account's verified one.
pub async fn confirm_by_signature(
    state: &AppState,
    user_id: &str,
    certificate_snils: &str,
) -> Result<(), ConfirmError> {
    let account = confirmable(state, user_id).await?;
    match parse_snils(certificate_snils) {
        Some(s) if s == account.person.snils => {}
        _ => return Err(ConfirmError::SnilsMismatch),
    }
    let detail = json!({ "method": "signature" });
    raise(state, user_id, "signature", "электронной подписью", &detail).await
}

/// Letters waiting to be printed, with their codes opened.
pub async fn printable_letters(
    state: &AppState,
    limit: i64,
) -> Result<Vec<PrintableLetter>, StoreError> {
    let list = letters::list(&state.db, None, limit).await?;
    Ok(list
        .into_iter()
        .map(|letter| {
            let code = letter
                .code_sealed
                .as_deref()
                .and_then(b64url_decode)
                .and_then(|s| state.secrets.open(&s))
                .and_then(|c| String::from_utf8(c).ok());
            PrintableLetter { letter, code }
        })
        .collect())
}

/// Creates an operator; returns it with its bearer token (shown once).
pub async fn create_operator(
    state: &AppState,
    name: &str,
) -> Result<(Operator, String), StoreError> {
    let token = format!("op_{}", crate::crypto::random_token(32));
    let hash = state.secrets.hash_client_secret(&token);
    let op = operators::create(&state.db, name.trim(), &hash, state.clock.now()).await?;
    Ok((op, token))
}

/// The operator a bearer token belongs to.
pub async fn operator_by_token(
    state: &AppState,
    token: &str,
) -> Result<Option<Operator>, StoreError> {
    if token.len() > 200 {
        return Ok(None);
    }
    operators::by_token_hash(&state.db, &state.secrets.hash_client_secret(token)).await
}

/// The account if it can be confirmed now: standard, and no check under way.
async fn confirmable(
    state: &AppState,
    user_id: &str,
) -> Result<identity::AccountIdentity, ConfirmError> {
    let account = identity::of_user(&state.db, user_id)
        .await?
        .ok_or(ConfirmError::UnknownAccount)?;
    match account.level {
        Level::Confirmed => Err(ConfirmError::AlreadyConfirmed),
        _ if account.verification_status.as_deref() == Some("verifying") => {
            Err(ConfirmError::Verifying)
        }
        Level::Simplified => Err(ConfirmError::NotStandard),
        Level::Standard => Ok(account),
    }
}

/// Standard → confirmed, with the event (who and how) and a notice, in one transaction.
async fn raise(
    state: &AppState,
    user_id: &str,
    source: &str,
    how: &str,
    detail: &serde_json::Value,
) -> Result<(), ConfirmError> {
    let now = state.clock.now();
    let mut tx = state.db.write().begin().await.map_err(StoreError::from)?;
    if !identity::raise_level(&mut *tx, user_id, Level::Standard, Level::Confirmed, now).await? {
        tx.rollback().await.map_err(StoreError::from)?;
        return Err(ConfirmError::NotStandard);
    }
    letters::mark_used(&mut *tx, user_id, now).await?;
    let summary = format!(
        "Личность подтверждена {how}: учётная запись — {}",
        level_ru(Level::Confirmed)
    );
    record(&mut *tx, user_id, "success", &summary, detail, source, now).await?;
    let text = format!("Ваша личность подтверждена {how}. Учётная запись стала подтверждённой.");
    let notice = Template::Notice {
        subject: "Учётная запись подтверждена",
        text: &text,
    };
    notify(state, &mut tx, user_id, &notice, now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}
