//! Registration to the simplified level (esia.md §1): surname, first name and a mobile phone
//! and/or an e-mail; the phone confirmed by an SMS code, the e-mail by a link (or by a code
//! when a phone was given too); then the password. The account is created with the
//! confirmed contacts marked verified.
//!
//! A registration in progress is a [`Draft`] in the short-lived store (`reg:{id}`); the
//! e-mail link carries its draft durably in the code's payload, since it lives 3 days.
//! A contact already bound to an account, or a freed one taken again within 30 days
//! ([`crate::store::released`]), is refused with one neutral message that says nothing of
//! whose it is.

mod applicant;
mod error;

pub use applicant::{Applicant, FormProblem, Stage, UnverifiedApplicant, mobile_phone, stage};
pub use error::{RegError, UNAVAILABLE_EN, UNAVAILABLE_RU};

use serde::{Deserialize, Serialize};

use super::codes::{self, Checked};
use super::identifiers::Login;
use super::messages::{self, Channel, Template};
use super::password_policy;
use crate::app::AppState;
use crate::cache::CacheError;
use crate::protocol::acr::Level;
use crate::store::events::{self, NewEvent};
use crate::store::users::{self, NewUser, User};
use crate::store::{StoreError, released};

pub const PURPOSE_PHONE: &str = "register_phone";
pub const PURPOSE_EMAIL_CODE: &str = "register_email_code";
pub const PURPOSE_EMAIL_LINK: &str = "register_email_link";
/// How long a started registration waits in the short-lived store between steps.
pub const DRAFT_TTL: u64 = 3600;
/// Codes (and registration starts) one client address may ask for per hour.
pub const CODES_PER_ADDRESS_PER_HOUR: i64 = 20;

/// A registration in progress.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Draft {
    pub id: String,
    pub applicant: Applicant,
    pub phone_verified: bool,
    pub email_verified: bool,
    /// The authorization request that sent the person here, to continue after.
    pub tx: Option<String>,
}

impl Draft {
    pub fn stage(&self) -> Stage {
        stage(&self.applicant, self.phone_verified, self.email_verified)
    }

    fn key(id: &str) -> String {
        format!("reg:{id}")
    }

    pub async fn load(state: &AppState, id: &str) -> Result<Option<Draft>, CacheError> {
        if id.is_empty() || id.len() > 64 {
            return Ok(None);
        }
        state.cache.get_json(&Self::key(id)).await
    }

    async fn save(&self, state: &AppState) -> Result<(), CacheError> {
        state
            .cache
            .put_json(&Self::key(&self.id), self, DRAFT_TTL)
            .await
    }
}

/// Starts a registration: checks the form, the client address's cap and the contacts, sends
/// the first code (or the link) and keeps the draft. `ip` is the client address.
pub async fn start(
    state: &AppState,
    form: &UnverifiedApplicant<'_>,
    tx: Option<String>,
    ip: &str,
) -> Result<Draft, RegError> {
    let applicant = form.parse().map_err(RegError::Form)?;
    count_address(state, ip).await?;
    ensure_available(state, &applicant).await?;
    let draft = Draft {
        id: crate::crypto::random_token(24),
        applicant,
        phone_verified: false,
        email_verified: false,
        tx,
    };
    send_code(state, &draft).await?;
    draft.save(state).await?;
    Ok(draft)
}

/// Sends a new code (or link) for the draft's current stage.
pub async fn resend(state: &AppState, draft: &Draft, ip: &str) -> Result<(), RegError> {
    count_address(state, ip).await?;
    send_code(state, draft).await
}

/// A code typed in was checked: the draft as it is now (saved), and a problem sending the
/// next code, if there is a next one and sending it failed (the page offers a resend).
pub struct Confirmed {
    pub draft: Draft,
    pub send_problem: Option<RegError>,
}

/// Checks a code typed for the draft's current stage (the SMS code or the e-mail code).
pub async fn confirm_code(
    state: &AppState,
    mut draft: Draft,
    code: &str,
) -> Result<Confirmed, RegError> {
    let (purpose, subject) = match (draft.stage(), &draft.applicant) {
        (Stage::PhoneCode, Applicant { phone: Some(p), .. }) => (PURPOSE_PHONE, p.clone()),
        (Stage::EmailCode, Applicant { email: Some(e), .. }) => (PURPOSE_EMAIL_CODE, e.clone()),
        _ => {
            return Ok(Confirmed {
                draft,
                send_problem: None,
            });
        }
    };
    match codes::check(state, purpose, &subject, code).await? {
        Checked::Accepted(_) => {}
        Checked::Wrong { remaining } => return Err(RegError::WrongCode { remaining }),
        Checked::Expired => return Err(RegError::CodeExpired),
        Checked::Exhausted | Checked::Missing => return Err(RegError::CodeExhausted),
    }
    if purpose == PURPOSE_PHONE {
        draft.phone_verified = true;
    } else {
        draft.email_verified = true;
    }
    draft.save(state).await?;
    let send_problem = match draft.stage() {
        Stage::EmailCode => send_code(state, &draft).await.err(),
        _ => None,
    };
    Ok(Confirmed {
        draft,
        send_problem,
    })
}

/// Opens an e-mail link: the draft it carries, with the e-mail confirmed, under a new id.
pub async fn confirm_link(state: &AppState, email: &str, token: &str) -> Result<Draft, RegError> {
    let Some(email) = crate::domain::identifiers::normalize_email(email) else {
        return Err(RegError::BadLink);
    };
    let payload = match codes::check(state, PURPOSE_EMAIL_LINK, &email, token).await? {
        Checked::Accepted(p) => p,
        Checked::Expired => return Err(RegError::LinkExpired),
        Checked::Wrong { .. } | Checked::Exhausted | Checked::Missing => {
            return Err(RegError::BadLink);
        }
    };
    let mut draft: Draft = payload
        .and_then(|p| serde_json::from_value(p).ok())
        .filter(|d: &Draft| d.applicant.email.as_deref() == Some(email.as_str()))
        .ok_or(RegError::BadLink)?;
    draft.id = crate::crypto::random_token(24);
    draft.email_verified = true;
    draft.save(state).await?;
    Ok(draft)
}

/// Sets the password and creates the account; the draft is spent.
pub async fn complete(
    state: &AppState,
    draft: &Draft,
    password: &str,
    again: &str,
) -> Result<User, RegError> {
    if draft.stage() != Stage::Password {
        return Err(RegError::Expired);
    }
    let personal = draft.applicant.personal();
    let personal: Vec<&str> = personal.iter().map(String::as_str).collect();
    let problems = password_policy::check(password, again, &personal);
    if !problems.is_empty() {
        return Err(RegError::Password(problems));
    }
    // Taken atomically: of two concurrent submissions only one creates the account.
    if state.cache.take(&Draft::key(&draft.id)).await?.is_none() {
        return Err(RegError::Expired);
    }
    let a = &draft.applicant;
    ensure_available(state, a).await?;
    let hash = state
        .passwords
        .hash(password)
        .await
        .map_err(StoreError::Internal)?;
    let now = state.clock.now();
    let user = users::create(
        &state.db,
        &NewUser {
            surname: a.surname.clone(),
            given_name: a.given_name.clone(),
            middle_name: a.middle_name.clone(),
            level: Some(Level::Simplified),
            phone: a.phone.clone(),
            email: a.email.clone(),
            password_hash: Some(hash),
            ..NewUser::default()
        },
        now,
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => RegError::Unavailable,
        other => RegError::Store(other),
    })?;
    for (kind, value) in contacts(a) {
        released::mark_reused(&state.db, kind, value, now).await?;
    }
    let detail = serde_json::json!({
        "level": Level::Simplified.as_str(),
        "phone_verified": a.phone.is_some(),
        "email_verified": a.email.is_some(),
        "from_client": draft.tx.is_some(),
    });
    events::record(
        state.db.write(),
        &NewEvent {
            user_id: &user.id,
            kind: "profile",
            status: "success",
            summary: "Регистрация: создана упрощённая учётная запись",
            detail: Some(&detail),
            source: "user",
        },
        now,
    )
    .await?;
    Ok(user)
}

/// (kind, value) of each contact of the applicant.
fn contacts(a: &Applicant) -> impl Iterator<Item = (&'static str, &str)> {
    a.phone
        .as_deref()
        .map(|p| ("phone", p))
        .into_iter()
        .chain(a.email.as_deref().map(|e| ("email", e)))
}

/// Refuses (neutrally) if any contact is bound to an account or was reused within 30 days.
/// Every contact is looked up, whatever the first answer, so timing says no more.
async fn ensure_available(state: &AppState, a: &Applicant) -> Result<(), RegError> {
    let now = state.clock.now();
    let mut ok = true;
    for (kind, value) in contacts(a) {
        let login = if kind == "phone" {
            Login::Phone(value.to_string())
        } else {
            Login::Email(value.to_string())
        };
        let bound = users::by_login(&state.db, &login).await?.is_some();
        let may = released::may_bind(&state.db, kind, value, now).await?;
        ok &= !bound && may;
    }
    if ok {
        Ok(())
    } else {
        Err(RegError::Unavailable)
    }
}

/// Counts one code request from `ip`; refuses past the hourly cap.
async fn count_address(state: &AppState, ip: &str) -> Result<(), RegError> {
    let n = state.cache.incr(&format!("regaddr:{ip}"), 3600).await?;
    if n > CODES_PER_ADDRESS_PER_HOUR {
        return Err(RegError::AddressCap);
    }
    Ok(())
}

/// Issues and queues the code (or link) the draft's stage waits for. The message goes to the
/// outbox; delivery happens later and never fails this request.
async fn send_code(state: &AppState, draft: &Draft) -> Result<(), RegError> {
    let now = state.clock.now();
    let a = &draft.applicant;
    match (draft.stage(), &a.phone, &a.email) {
        (Stage::PhoneCode, Some(phone), _) => {
            let code = codes::issue(state, PURPOSE_PHONE, phone, codes::SMS, None).await?;
            let t = Template::PhoneCode { code: &code };
            messages::queue(state.db.write(), Channel::Sms, phone, &t, now).await?;
        }
        (Stage::EmailCode, _, Some(email)) => {
            let code =
                codes::issue(state, PURPOSE_EMAIL_CODE, email, codes::EMAIL_CODE, None).await?;
            let t = Template::EmailCode { code: &code };
            messages::queue(state.db.write(), Channel::Email, email, &t, now).await?;
        }
        (Stage::EmailLink, _, Some(email)) => {
            let payload =
                serde_json::to_value(draft).map_err(|e| StoreError::Internal(e.to_string()))?;
            let token = codes::issue(
                state,
                PURPOSE_EMAIL_LINK,
                email,
                codes::EMAIL_LINK,
                Some(&payload),
            )
            .await?;
            let link = link_url(state, email, &token);
            let t = Template::EmailLink { link: &link };
            messages::queue(state.db.write(), Channel::Email, email, &t, now).await?;
        }
        _ => {}
    }
    Ok(())
}

/// `{issuer}/register/email?address=…&token=…`: opening it shows a button that confirms.
pub fn link_url(state: &AppState, email: &str, token: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("address", email)
        .append_pair("token", token)
        .finish();
    state.url(&format!("/register/email?{query}"))
}
