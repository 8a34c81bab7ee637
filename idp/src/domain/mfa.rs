//! Two-step login with an authenticator app: enrolment (a sealed secret, confirmed by a first
//! code, ten single-use recovery codes), the check of a second factor (a TOTP code accepted
//! once, or a recovery code), disabling (after the password again), and the pending first
//! factor kept in the cache between the two login pages, bound to the browser.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::cache::CacheError;
use crate::crypto::{random_bytes, random_token, sha256_hex};
use crate::store::users::User;
use crate::store::{StoreError, totp as store};

use super::login::{self, LoginError};
use super::totp;

/// How long the second page waits for the second factor.
pub const PENDING_TTL: u64 = 300;
/// Wrong second factors allowed per pending login.
pub const PENDING_ATTEMPTS: i64 = 5;
/// Wrong second factors allowed per account in [`FAILURE_WINDOW`] seconds.
pub const ACCOUNT_ATTEMPTS: i64 = 10;
pub const FAILURE_WINDOW: u64 = 900;
/// Recovery codes issued at confirmation.
pub const RECOVERY_CODES: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("a confirmed authenticator already exists")]
    AlreadyEnabled,
    #[error("no enrolment in progress")]
    NotStarted,
    #[error("no authenticator")]
    NotEnabled,
    #[error("wrong code")]
    WrongCode,
    #[error("wrong password")]
    WrongPassword,
    #[error("too many attempts")]
    Locked,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl From<LoginError> for MfaError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::Failed => MfaError::WrongPassword,
            LoginError::Locked => MfaError::Locked,
            LoginError::Store(e) => MfaError::Store(e),
            LoginError::Cache(e) => MfaError::Cache(e),
        }
    }
}

/// What an enrolment shows: the secret (base32) and the `otpauth://` URI for a QR code.
pub struct Enrolment {
    pub secret: String,
    pub uri: String,
}

/// Starts an enrolment (replacing an unconfirmed one).
pub async fn enrol(state: &AppState, user: &User) -> Result<Enrolment, MfaError> {
    let secret = random_bytes(20);
    let sealed = state.secrets.seal(&secret);
    if !store::start(&state.db, &user.id, &sealed, state.clock.now()).await? {
        return Err(MfaError::AlreadyEnabled);
    }
    let account = user
        .person
        .phone
        .clone()
        .or_else(|| user.person.email.clone())
        .unwrap_or_else(|| user.id.clone());
    Ok(Enrolment {
        secret: totp::base32_encode(&secret),
        uri: totp::otpauth_uri("Госуслуги", &account, &secret),
    })
}

/// Confirms an enrolment by a first code; returns the recovery codes (shown once).
pub async fn confirm(state: &AppState, user: &User, code: &str) -> Result<Vec<String>, MfaError> {
    let cred = store::get(&state.db, &user.id)
        .await?
        .ok_or(MfaError::NotStarted)?;
    if cred.confirmed_at.is_some() {
        return Err(MfaError::AlreadyEnabled);
    }
    let secret = state
        .secrets
        .open(&cred.secret_sealed)
        .ok_or(MfaError::NotStarted)?;
    let now = state.clock.now();
    let step = totp::verify(&secret, code, now, cred.last_step).ok_or(MfaError::WrongCode)?;
    if !store::accept_step(&state.db, &user.id, step, now).await? {
        return Err(MfaError::WrongCode);
    }
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| recovery_hash(state, &user.id, c))
        .collect();
    store::replace_recovery_codes(&state.db, &user.id, &hashes, now).await?;
    record(
        state,
        &user.id,
        "success",
        "Включён вход с подтверждением кодом из приложения",
    )
    .await?;
    Ok(codes)
}

/// Turns two-step login off after the password is typed again.
pub async fn disable(
    state: &AppState,
    user: &User,
    password: &str,
    addr: Option<IpAddr>,
) -> Result<(), MfaError> {
    login::confirm_password(state, user, password, addr).await?;
    if !store::delete(&state.db, &user.id).await? {
        return Err(MfaError::NotEnabled);
    }
    record(
        state,
        &user.id,
        "success",
        "Отключён вход с подтверждением кодом из приложения",
    )
    .await?;
    Ok(())
}

/// Which second factor was accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum SecondFactor {
    Totp,
    RecoveryCode,
}

/// Checks a second factor for `user_id`: a 6-digit TOTP code (accepted once) or a recovery
/// code (spent). Wrong answers are counted per account.
pub async fn check_second_factor(
    state: &AppState,
    user_id: &str,
    answer: &str,
) -> Result<SecondFactor, MfaError> {
    let fail_key = format!("mfa:fail:{user_id}");
    let failures = state
        .cache
        .get(&fail_key)
        .await?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(0);
    if failures >= ACCOUNT_ATTEMPTS {
        return Err(MfaError::Locked);
    }
    let now = state.clock.now();
    let digits: String = answer.chars().filter(|c| !c.is_whitespace()).collect();
    let accepted =
        if digits.len() == totp::DIGITS as usize && digits.bytes().all(|b| b.is_ascii_digit()) {
            match store::get(&state.db, user_id).await? {
                Some(cred) if cred.confirmed_at.is_some() => {
                    match state.secrets.open(&cred.secret_sealed) {
                        Some(secret) => match totp::verify(&secret, &digits, now, cred.last_step) {
                            Some(step) => store::accept_step(&state.db, user_id, step, now)
                                .await?
                                .then_some(SecondFactor::Totp),
                            None => None,
                        },
                        None => None,
                    }
                }
                _ => None,
            }
        } else {
            let hash = recovery_hash(state, user_id, answer);
            if store::use_recovery_code(&state.db, user_id, &hash, now).await? {
                let left = store::recovery_codes_left(&state.db, user_id).await?;
                let summary = format!("Использован резервный код входа; осталось кодов: {left}");
                record(state, user_id, "success", &summary).await?;
                Some(SecondFactor::RecoveryCode)
            } else {
                None
            }
        };
    match accepted {
        Some(f) => {
            state.cache.delete(&fail_key).await?;
            Ok(f)
        }
        None => {
            let failures = state.cache.incr(&fail_key, FAILURE_WINDOW).await?;
            if failures == ACCOUNT_ATTEMPTS {
                // This failure locks the account's second step for the window.
                state.metrics.lockout("second_factor");
            }
            Err(MfaError::WrongCode)
        }
    }
}

/// A refused second factor `factor` (`otp`, `sms`, `hwk`, `ds`) of the pending login
/// `pending`, for `reason` (`wrong_code`, `code_expired`, `locked`, `passkey_refused`, ...):
/// counted in `idp_logins_total` and written to the person's login history and feed like a
/// wrong password, with the `amr` the login would have had (`pwd otp mfa`).
pub async fn second_factor_failed(
    state: &AppState,
    pending: &Pending,
    factor: &str,
    reason: &str,
    user_agent: Option<&str>,
    ip: Option<&str>,
) {
    let method = combined_amr_with(&pending.amr, factor).join(" ");
    super::login_history::failed(state, &pending.user_id, &method, reason, user_agent, ip).await;
}

/// A first factor passed, waiting for the second one.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pending {
    pub user_id: String,
    /// The authorization transaction.
    pub tx: String,
    /// Methods of the first factor (`pwd`, `sms`, `otp`).
    pub amr: Vec<String>,
    pub persistent: bool,
    /// SHA-256 of the browser's CSRF cookie: the pending login works only in that browser.
    pub browser: String,
}

/// Keeps a pending first factor; returns its id (a hidden field of the second page).
pub async fn put_pending(state: &AppState, p: &Pending) -> Result<String, CacheError> {
    let id = random_token(24);
    state
        .cache
        .put_json(&format!("mfa:pending:{id}"), p, PENDING_TTL)
        .await?;
    // The transaction's newest pending login: a signature given on the signature page of
    // that transaction completes it (the signature as a second factor).
    state
        .cache
        .put(
            &format!("mfa:pending-tx:{}", p.tx),
            id.as_bytes(),
            PENDING_TTL,
        )
        .await?;
    Ok(id)
}

/// The pending login of transaction `tx` in this browser, with its id.
pub async fn pending_for_tx(
    state: &AppState,
    tx: &str,
    csrf_cookie: Option<&str>,
) -> Result<Option<(String, Pending)>, CacheError> {
    let Some(id) = state
        .cache
        .get(&format!("mfa:pending-tx:{tx}"))
        .await?
        .and_then(|b| String::from_utf8(b).ok())
    else {
        return Ok(None);
    };
    Ok(get_pending(state, &id, csrf_cookie)
        .await?
        .filter(|p| p.tx == tx)
        .map(|p| (id, p)))
}

/// The pending first factor `id`, if it is alive and belongs to this browser.
pub async fn get_pending(
    state: &AppState,
    id: &str,
    csrf_cookie: Option<&str>,
) -> Result<Option<Pending>, CacheError> {
    let Some(cookie) = csrf_cookie else {
        return Ok(None);
    };
    let p: Option<Pending> = state.cache.get_json(&format!("mfa:pending:{id}")).await?;
    Ok(p.filter(|p| p.browser == browser_binding(cookie)))
}

/// Counts a wrong answer on a pending login; true when it must be abandoned.
pub async fn pending_failed(state: &AppState, id: &str) -> Result<bool, CacheError> {
    let n = state
        .cache
        .incr(&format!("mfa:pending-fail:{id}"), PENDING_TTL)
        .await?;
    if n >= PENDING_ATTEMPTS {
        drop_pending(state, id).await?;
        return Ok(true);
    }
    Ok(false)
}

pub async fn drop_pending(state: &AppState, id: &str) -> Result<(), CacheError> {
    state.cache.delete(&format!("mfa:pending:{id}")).await
}

/// The binding of a pending login to the browser's CSRF cookie.
pub fn browser_binding(csrf_cookie: &str) -> String {
    sha256_hex(csrf_cookie.as_bytes())
}

/// The session's `amr` after a second factor: the first factor's methods, `otp`, `mfa`.
pub fn combined_amr(first: &[String]) -> Vec<String> {
    combined_amr_with(first, "otp")
}

/// The session's `amr` after the second factor `method` (`otp`, `sms`, `hwk`, `ds`).
pub fn combined_amr_with(first: &[String], method: &str) -> Vec<String> {
    let mut amr = first.to_vec();
    for m in [method, "mfa"] {
        if !amr.iter().any(|a| a == m) {
            amr.push(m.to_string());
        }
    }
    amr
}

/// A recovery code: 10 characters from an unambiguous alphabet, shown as `xxxxx-xxxxx`.
fn recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let bytes = random_bytes(10);
    let s: String = bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &s[..5], &s[5..])
}

/// The keyed hash of a recovery code as typed (case, spaces and dashes ignored).
fn recovery_hash(state: &AppState, user_id: &str, code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    state
        .secrets
        .code_hash(&format!("totp-recovery:{user_id}"), &normal)
}

async fn record(
    state: &AppState,
    user_id: &str,
    status: &str,
    summary: &str,
) -> Result<(), StoreError> {
    super::login_history::record_and_notify(state, user_id, "security", status, summary).await
}
