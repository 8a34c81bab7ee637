//! WebAuthn passkeys: registration and authentication ceremonies (webauthn-rs), the
//! signature-counter check and the `amr` of a passkey login.
//!
//! - **Ceremonies.** Each ceremony's server state (challenge, policy, allowed credentials)
//!   is kept in the short-lived cache for [`CEREMONY_TTL`] seconds under the SHA-256 of its
//!   challenge, together with its purpose, the person or login it belongs to and the
//!   browser's binding (the SHA-256 of its CSRF cookie). Finishing takes the state once: a
//!   replayed or foreign answer finds nothing.
//! - **Passwordless login** uses discoverable credentials: empty `allowCredentials`, user
//!   verification required; the authenticator returns the user handle, which must be the
//!   handle of the credential's owner.
//! - **Second step** allows only the person's own passkeys.
//! - **Counters.** A non-zero counter must grow: webauthn-rs compares it with the stored
//!   credential and the store advances it only from the value that was checked, so a cloned
//!   authenticator (or two uses with the same counter racing on two nodes) is refused.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
    WebauthnError,
};

use crate::app::AppState;
use crate::cache::CacheError;
use crate::crypto::{random_token, sha256, sha256_hex};
use crate::store::StoreError;
use crate::store::passkeys::{self as store, StoredPasskey};
use crate::store::users::User;

use super::lockout::Counters;
use super::login::{self, LoginError};
use super::mfa;

/// How long a ceremony may take (the browser's own timeout is five minutes too).
pub const CEREMONY_TTL: u64 = 300;
/// The longest passkey name, in characters.
pub const NAME_MAX: usize = 64;
/// Passkeys one person may register.
pub const MAX_PER_USER: usize = 20;

/// The session's `amr` after a passwordless passkey login: a hardware- or platform-held key
/// (`hwk`), user presence and verification (`user`), and, since the authenticator verified
/// the person (PIN or biometrics), multi-factor (`mfa`) — NIST SP 800-63B counts a
/// user-verifying passkey as a multi-factor cryptographic authenticator.
pub const PASSWORDLESS_AMR: [&str; 3] = ["hwk", "user", "mfa"];

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// The `[webauthn]` configuration cannot be used (see `config.rs`).
    #[error("passkeys are not configured")]
    Config,
    /// No ceremony for this answer: expired, already finished, or another browser's.
    #[error("the ceremony expired or was already used")]
    Expired,
    /// The answer failed a WebAuthn check (signature, origin, flags, format).
    #[error("the credential was refused: {0}")]
    Refused(String),
    /// The credential is not registered, or not to the person it must belong to.
    #[error("unknown credential")]
    Unknown,
    /// The signature counter did not grow: possibly a cloned authenticator.
    #[error("the signature counter did not increase")]
    Cloned,
    /// This authenticator is registered already.
    #[error("the passkey is registered already")]
    Duplicate,
    #[error("too many passkeys")]
    TooMany,
    #[error("bad passkey name")]
    BadName,
    #[error("no such passkey")]
    NotFound,
    #[error("wrong password")]
    WrongPassword,
    #[error("the account is locked")]
    Locked,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl From<LoginError> for PasskeyError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::Failed => PasskeyError::WrongPassword,
            LoginError::Locked => PasskeyError::Locked,
            LoginError::Store(e) => PasskeyError::Store(e),
            LoginError::Cache(e) => PasskeyError::Cache(e),
        }
    }
}

impl PasskeyError {
    /// A message for people, in Russian.
    pub fn message_ru(&self) -> &'static str {
        match self {
            PasskeyError::Config => "Вход с ключом доступа на этом адресе не настроен.",
            PasskeyError::Expired => {
                "Время на подтверждение истекло или запрос уже использован. Попробуйте ещё раз."
            }
            PasskeyError::Refused(_) => {
                "Ключ доступа не прошёл проверку. Попробуйте ещё раз или войдите другим способом."
            }
            PasskeyError::Unknown => {
                "Этот ключ доступа не зарегистрирован для вашей учётной записи."
            }
            PasskeyError::Cloned => {
                "Ключ доступа мог быть скопирован: счётчик подписей не увеличился. Вход с этим ключом отклонён. Удалите ключ в личном кабинете и добавьте его заново, если вы уверены, что он не скопирован."
            }
            PasskeyError::Duplicate => "Этот ключ доступа уже добавлен.",
            PasskeyError::TooMany => "Добавлено максимальное число ключей доступа.",
            PasskeyError::BadName => "Название ключа: до 64 символов, без служебных знаков.",
            PasskeyError::NotFound => "Ключ доступа не найден.",
            PasskeyError::WrongPassword => "Неверный пароль.",
            PasskeyError::Locked => {
                "Вход временно заблокирован из-за неудачных попыток. Повторите позже."
            }
            PasskeyError::Store(_) | PasskeyError::Cache(_) => {
                "Сервис временно недоступен. Попробуйте позже."
            }
        }
    }

    /// The same in English.
    pub fn message_en(&self) -> &'static str {
        match self {
            PasskeyError::Config => "Passkey login is not configured for this address.",
            PasskeyError::Expired => "The request expired or was already used. Try again.",
            PasskeyError::Refused(_) => "The passkey did not pass the check. Try again.",
            PasskeyError::Unknown => "This passkey is not registered for your account.",
            PasskeyError::Cloned => {
                "The passkey may have been copied: its signature counter did not increase. Login with it was refused."
            }
            PasskeyError::Duplicate => "This passkey is already added.",
            PasskeyError::TooMany => "The maximum number of passkeys is reached.",
            PasskeyError::BadName => "A passkey name: up to 64 characters, no control characters.",
            PasskeyError::NotFound => "Passkey not found.",
            PasskeyError::WrongPassword => "Wrong password.",
            PasskeyError::Locked => "Login is temporarily locked. Try again later.",
            PasskeyError::Store(_) | PasskeyError::Cache(_) => {
                "The service is temporarily unavailable. Try again later."
            }
        }
    }
}

/// Whether the person has at least one passkey (used by other flows to offer it).
pub async fn has_passkeys(state: &AppState, user_id: &str) -> Result<bool, StoreError> {
    store::exists_for(&state.db, user_id).await
}

/// The WebAuthn relying party of this server, from `[webauthn]` and the issuer.
pub fn relying_party(state: &AppState) -> Result<Webauthn, PasskeyError> {
    let (rp_id, rp_name, origins) = state.config.webauthn.effective(&state.issuer);
    let urls: Vec<Url> = origins.iter().filter_map(|o| Url::parse(o).ok()).collect();
    let Some(first) = urls.first() else {
        return Err(PasskeyError::Config);
    };
    let mut builder = WebauthnBuilder::new(&rp_id, first)
        .map_err(|_| PasskeyError::Config)?
        .rp_name(&rp_name);
    for u in &urls[1..] {
        builder = builder.append_allowed_origin(u);
    }
    builder.build().map_err(|_| PasskeyError::Config)
}

/// The user handle stored in a person's passkeys: 16 bytes derived from the account id, so
/// the authenticator never holds the id itself.
pub fn user_handle(user_id: &str) -> Uuid {
    let digest = sha256(format!("passkey-user-handle:{user_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

/// What a ceremony is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    Register,
    Login,
    Second,
}

#[derive(Serialize, Deserialize)]
enum CeremonyState {
    Register(PasskeyRegistration),
    Login(DiscoverableAuthentication),
    Second(PasskeyAuthentication),
}

/// A ceremony in progress (in the cache, under its challenge).
#[derive(Serialize, Deserialize)]
struct Ceremony {
    purpose: Purpose,
    /// The person (registration, second step); None for a passwordless login.
    user_id: Option<String>,
    /// The login transaction (login) or the pending first factor (second step).
    context: String,
    /// SHA-256 of the browser's CSRF cookie.
    browser: String,
    state: CeremonyState,
}

fn ceremony_key(challenge: &[u8]) -> String {
    format!("passkey:ceremony:{}", sha256_hex(challenge))
}

/// Decodes base64url (as WebAuthn JSON uses), tolerating padding or the standard alphabet.
pub fn b64_decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(s)
        .or_else(|_| URL_SAFE.decode(s))
        .or_else(|_| STANDARD.decode(s))
        .ok()
}

/// The challenge of the options we send (`publicKey.challenge`).
fn options_challenge(options: &serde_json::Value) -> Option<Vec<u8>> {
    options
        .pointer("/publicKey/challenge")
        .and_then(|c| c.as_str())
        .and_then(b64_decode)
}

/// The challenge the browser signed: `challenge` of the credential's `clientDataJSON`.
pub fn answered_challenge(credential: &serde_json::Value) -> Option<Vec<u8>> {
    let data = credential
        .pointer("/response/clientDataJSON")
        .and_then(|c| c.as_str())
        .and_then(b64_decode)?;
    let client: serde_json::Value = serde_json::from_slice(&data).ok()?;
    client
        .get("challenge")
        .and_then(|c| c.as_str())
        .and_then(b64_decode)
}

async fn put_ceremony(
    state: &AppState,
    options: &serde_json::Value,
    ceremony: &Ceremony,
) -> Result<(), PasskeyError> {
    let challenge = options_challenge(options).ok_or(PasskeyError::Config)?;
    state
        .cache
        .put_json(&ceremony_key(&challenge), ceremony, CEREMONY_TTL)
        .await?;
    Ok(())
}

/// Takes (once) the ceremony an answer belongs to; it must be for `purpose`, `context` and
/// this browser.
async fn take_ceremony(
    state: &AppState,
    credential: &serde_json::Value,
    purpose: Purpose,
    context: &str,
    csrf_cookie: &str,
) -> Result<Ceremony, PasskeyError> {
    let challenge = answered_challenge(credential).ok_or(PasskeyError::Expired)?;
    let c: Ceremony = state
        .cache
        .take_json(&ceremony_key(&challenge))
        .await?
        .ok_or(PasskeyError::Expired)?;
    if c.purpose != purpose
        || c.context != context
        || c.browser != mfa::browser_binding(csrf_cookie)
    {
        return Err(PasskeyError::Expired);
    }
    Ok(c)
}

fn refused(e: WebauthnError) -> PasskeyError {
    match e {
        WebauthnError::CredentialPossibleCompromise => PasskeyError::Cloned,
        WebauthnError::CredentialNotFound => PasskeyError::Unknown,
        WebauthnError::MismatchedChallenge => PasskeyError::Expired,
        other => PasskeyError::Refused(format!("{other:?}")),
    }
}

fn parse_passkey(p: &StoredPasskey) -> Result<Passkey, PasskeyError> {
    serde_json::from_str(&p.passkey)
        .map_err(|e| PasskeyError::Store(StoreError::Internal(format!("passkey JSON: {e}"))))
}

/// Checks a name typed for a passkey; an empty one becomes "Ключ доступа N".
pub fn normalise_name(name: &str, existing: usize) -> Result<String, PasskeyError> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(format!("Ключ доступа {}", existing + 1));
    }
    if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(PasskeyError::BadName);
    }
    Ok(name.to_string())
}

/// Starts adding a passkey for `user` in the browser with this CSRF cookie; returns the
/// creation options for `navigator.credentials.create` (resident key required, so the
/// passkey can be used without typing a login; user verification required).
pub async fn start_registration(
    state: &AppState,
    user: &User,
    csrf_cookie: &str,
) -> Result<serde_json::Value, PasskeyError> {
    let rp = relying_party(state)?;
    let existing = store::list(&state.db, &user.id).await?;
    if existing.len() >= MAX_PER_USER {
        return Err(PasskeyError::TooMany);
    }
    let exclude = existing
        .iter()
        .map(parse_passkey)
        .map(|p| p.map(|p| p.cred_id().clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let p = &user.person;
    let account = p
        .phone
        .clone()
        .or_else(|| p.email.clone())
        .unwrap_or_else(|| user.id.clone());
    let display = format!("{} {}", p.given_name, p.surname);
    let (ccr, reg) = rp
        .start_passkey_registration(
            user_handle(&user.id),
            &account,
            display.trim(),
            Some(exclude),
        )
        .map_err(|e| PasskeyError::Refused(format!("{e:?}")))?;
    let mut options = serde_json::to_value(&ccr)
        .map_err(|e| PasskeyError::Store(StoreError::Internal(e.to_string())))?;
    if let Some(sel) = options.pointer_mut("/publicKey/authenticatorSelection") {
        sel["residentKey"] = "required".into();
        sel["requireResidentKey"] = true.into();
    }
    let ceremony = Ceremony {
        purpose: Purpose::Register,
        user_id: Some(user.id.clone()),
        context: user.id.clone(),
        browser: mfa::browser_binding(csrf_cookie),
        state: CeremonyState::Register(reg),
    };
    put_ceremony(state, &options, &ceremony).await?;
    Ok(options)
}

/// Finishes adding a passkey: checks the attestation against the ceremony, stores the
/// credential under `name` and records it in the feed.
pub async fn finish_registration(
    state: &AppState,
    user: &User,
    csrf_cookie: &str,
    name: &str,
    credential: &serde_json::Value,
) -> Result<StoredPasskey, PasskeyError> {
    let ceremony =
        take_ceremony(state, credential, Purpose::Register, &user.id, csrf_cookie).await?;
    let CeremonyState::Register(reg) = ceremony.state else {
        return Err(PasskeyError::Expired);
    };
    let existing = store::list(&state.db, &user.id).await?;
    if existing.len() >= MAX_PER_USER {
        return Err(PasskeyError::TooMany);
    }
    let name = normalise_name(name, existing.len())?;
    let answer: RegisterPublicKeyCredential = serde_json::from_value(credential.clone())
        .map_err(|e| PasskeyError::Refused(format!("malformed credential: {e}")))?;
    let rp = relying_party(state)?;
    let passkey = rp.finish_passkey_registration(&answer, &reg).map_err(|e| {
        tracing::info!(error = ?e, "passkey registration refused");
        match e {
            // What webauthn-rs answers for a credential in `excludeCredentials`.
            WebauthnError::CredentialAlteredAlgFromRequest => PasskeyError::Duplicate,
            other => refused(other),
        }
    })?;
    let credential_id = URL_SAFE_NO_PAD.encode(passkey.cred_id().as_slice());
    let json = serde_json::to_string(&passkey)
        .map_err(|e| PasskeyError::Store(StoreError::Internal(e.to_string())))?;
    let now = state.clock.now();
    let sign_count = sign_count_of(&json);
    let stored = StoredPasskey {
        id: random_token(12),
        user_id: user.id.clone(),
        credential_id,
        name,
        passkey: json,
        sign_count,
        created_at: now,
        last_used_at: None,
    };
    match store::insert(&state.db, &stored).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Err(PasskeyError::Duplicate),
        Err(e) => return Err(e.into()),
    }
    let summary = format!("Добавлен ключ доступа «{}»", stored.name);
    record(state, &user.id, "success", &summary).await?;
    Ok(stored)
}

/// The signature counter inside a webauthn-rs credential (its JSON field `cred.counter`).
fn sign_count_of(passkey_json: &str) -> i64 {
    serde_json::from_str::<serde_json::Value>(passkey_json)
        .ok()
        .and_then(|v| v.pointer("/cred/counter").and_then(|c| c.as_i64()))
        .unwrap_or(0)
}

/// Starts a passwordless login for the transaction `tx` in this browser: request options
/// with no `allowCredentials` (the authenticator offers its discoverable credentials) and
/// user verification required.
pub async fn start_login(
    state: &AppState,
    tx: &str,
    csrf_cookie: &str,
) -> Result<serde_json::Value, PasskeyError> {
    let rp = relying_party(state)?;
    let (rcr, auth) = rp
        .start_discoverable_authentication()
        .map_err(|e| PasskeyError::Refused(format!("{e:?}")))?;
    let options = serde_json::to_value(&rcr)
        .map_err(|e| PasskeyError::Store(StoreError::Internal(e.to_string())))?;
    let ceremony = Ceremony {
        purpose: Purpose::Login,
        user_id: None,
        context: tx.to_string(),
        browser: mfa::browser_binding(csrf_cookie),
        state: CeremonyState::Login(auth),
    };
    put_ceremony(state, &options, &ceremony).await?;
    Ok(options)
}

/// Finishes a passwordless login: the credential must be registered, its user handle must
/// be its owner's, the owner not locked out, the signature valid with user verification, and
/// the counter must grow. Returns the owner's id.
pub async fn finish_login(
    state: &AppState,
    tx: &str,
    csrf_cookie: &str,
    credential: &serde_json::Value,
    addr: Option<IpAddr>,
) -> Result<String, PasskeyError> {
    let ceremony = take_ceremony(state, credential, Purpose::Login, tx, csrf_cookie).await?;
    let CeremonyState::Login(auth) = ceremony.state else {
        return Err(PasskeyError::Expired);
    };
    let answer: PublicKeyCredential = serde_json::from_value(credential.clone())
        .map_err(|e| PasskeyError::Refused(format!("malformed credential: {e}")))?;
    let rp = relying_party(state)?;
    let (handle, cred_id) = rp
        .identify_discoverable_authentication(&answer)
        .map_err(|_| PasskeyError::Unknown)?;
    let stored = store::by_credential(&state.db, &URL_SAFE_NO_PAD.encode(cred_id))
        .await?
        .ok_or(PasskeyError::Unknown)?;
    if user_handle(&stored.user_id) != handle {
        return Err(PasskeyError::Unknown);
    }
    let counters = Counters::for_attempt(state, Some(&stored.user_id), "", addr).await?;
    if counters.locked(state).await? {
        return Err(PasskeyError::Locked);
    }
    let mut passkey = parse_passkey(&stored)?;
    let result = rp.finish_discoverable_authentication_v2(&answer, auth, &passkey);
    accept(state, &stored, &mut passkey, result).await?;
    Ok(stored.user_id)
}

/// Starts the second step of a two-step login with one of `user_id`'s passkeys.
pub async fn start_second(
    state: &AppState,
    pending: &str,
    user_id: &str,
    csrf_cookie: &str,
) -> Result<serde_json::Value, PasskeyError> {
    let rp = relying_party(state)?;
    let keys = store::list(&state.db, user_id)
        .await?
        .iter()
        .map(parse_passkey)
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(PasskeyError::Unknown);
    }
    let (rcr, auth) = rp
        .start_passkey_authentication(&keys)
        .map_err(|e| PasskeyError::Refused(format!("{e:?}")))?;
    let options = serde_json::to_value(&rcr)
        .map_err(|e| PasskeyError::Store(StoreError::Internal(e.to_string())))?;
    let ceremony = Ceremony {
        purpose: Purpose::Second,
        user_id: Some(user_id.to_string()),
        context: pending.to_string(),
        browser: mfa::browser_binding(csrf_cookie),
        state: CeremonyState::Second(auth),
    };
    put_ceremony(state, &options, &ceremony).await?;
    Ok(options)
}

/// Finishes the second step: the credential must be one of `user_id`'s passkeys.
pub async fn finish_second(
    state: &AppState,
    pending: &str,
    user_id: &str,
    csrf_cookie: &str,
    credential: &serde_json::Value,
) -> Result<(), PasskeyError> {
    let ceremony = take_ceremony(state, credential, Purpose::Second, pending, csrf_cookie).await?;
    let CeremonyState::Second(auth) = ceremony.state else {
        return Err(PasskeyError::Expired);
    };
    if ceremony.user_id.as_deref() != Some(user_id) {
        return Err(PasskeyError::Expired);
    }
    let answer: PublicKeyCredential = serde_json::from_value(credential.clone())
        .map_err(|e| PasskeyError::Refused(format!("malformed credential: {e}")))?;
    let stored = store::by_credential(&state.db, &URL_SAFE_NO_PAD.encode(answer.raw_id.as_slice()))
        .await?
        .filter(|s| s.user_id == user_id)
        .ok_or(PasskeyError::Unknown)?;
    let mut passkey = parse_passkey(&stored)?;
    let rp = relying_party(state)?;
    let result = rp.finish_passkey_authentication(&answer, &auth);
    accept(state, &stored, &mut passkey, result).await
}

/// The session's `amr` after a passkey as the second step: the first factor's methods plus
/// `hwk` and `mfa`.
pub fn second_step_amr(first: &[String]) -> Vec<String> {
    let mut amr = first.to_vec();
    for m in ["hwk", "mfa"] {
        if !amr.iter().any(|a| a == m) {
            amr.push(m.to_string());
        }
    }
    amr
}

/// The `amr` of a passwordless passkey login.
pub fn passwordless_amr() -> Vec<String> {
    PASSWORDLESS_AMR.iter().map(|m| m.to_string()).collect()
}

/// Applies the outcome of an assertion check: a counter that did not grow is recorded as a
/// security event and refused; a success advances the stored counter (only from the value
/// that was checked) and the last-use time.
async fn accept(
    state: &AppState,
    stored: &StoredPasskey,
    passkey: &mut Passkey,
    result: Result<webauthn_rs::prelude::AuthenticationResult, WebauthnError>,
) -> Result<(), PasskeyError> {
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            let err = refused(e);
            if matches!(err, PasskeyError::Cloned) {
                cloned(state, stored).await?;
            } else {
                tracing::info!(error = %err, "passkey assertion refused");
            }
            return Err(err);
        }
    };
    if !counter_ok(stored.sign_count, i64::from(result.counter())) {
        cloned(state, stored).await?;
        return Err(PasskeyError::Cloned);
    }
    passkey.update_credential(&result);
    let json = serde_json::to_string(passkey)
        .map_err(|e| PasskeyError::Store(StoreError::Internal(e.to_string())))?;
    let now = state.clock.now();
    let new_count = i64::from(result.counter()).max(stored.sign_count);
    if !store::record_use(
        &state.db,
        &stored.id,
        stored.sign_count,
        new_count,
        &json,
        now,
    )
    .await?
    {
        // Another use of the same counter value won the race: one of them is a copy.
        cloned(state, stored).await?;
        return Err(PasskeyError::Cloned);
    }
    Ok(())
}

/// Whether a presented signature counter is acceptable after `stored` (WebAuthn §7.2 step
/// 21): when either is non-zero, it must be greater.
pub fn counter_ok(stored: i64, presented: i64) -> bool {
    (stored == 0 && presented == 0) || presented > stored
}

async fn cloned(state: &AppState, stored: &StoredPasskey) -> Result<(), PasskeyError> {
    tracing::warn!(passkey = %stored.id, "passkey counter did not increase: possible clone");
    let summary = format!(
        "Вход с ключом доступа «{}» отклонён: ключ мог быть скопирован (счётчик подписей не увеличился)",
        stored.name
    );
    record(state, &stored.user_id, "failure", &summary).await?;
    Ok(())
}

/// A person's passkeys, oldest first.
pub async fn list(state: &AppState, user_id: &str) -> Result<Vec<StoredPasskey>, PasskeyError> {
    Ok(store::list(&state.db, user_id).await?)
}

/// Renames one of the person's passkeys.
pub async fn rename(
    state: &AppState,
    user_id: &str,
    id: &str,
    name: &str,
) -> Result<String, PasskeyError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(PasskeyError::BadName);
    }
    let name = normalise_name(name, 0)?;
    if !store::rename(&state.db, user_id, id, &name).await? {
        return Err(PasskeyError::NotFound);
    }
    Ok(name)
}

/// Removes one of the person's passkeys after the password is typed again.
pub async fn remove(
    state: &AppState,
    user: &User,
    id: &str,
    password: &str,
    addr: Option<IpAddr>,
) -> Result<(), PasskeyError> {
    let keys = store::list(&state.db, &user.id).await?;
    let Some(key) = keys.iter().find(|k| k.id == id) else {
        return Err(PasskeyError::NotFound);
    };
    login::confirm_password(state, user, password, addr).await?;
    if !store::delete(&state.db, &user.id, id).await? {
        return Err(PasskeyError::NotFound);
    }
    let summary = format!("Удалён ключ доступа «{}»", key.name);
    record(state, &user.id, "success", &summary).await?;
    Ok(())
}

async fn record(
    state: &AppState,
    user_id: &str,
    status: &str,
    summary: &str,
) -> Result<(), StoreError> {
    super::login_history::record_and_notify(state, user_id, "security", status, summary).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_must_grow_unless_both_zero() {
        assert!(counter_ok(0, 0));
        assert!(counter_ok(0, 1));
        assert!(counter_ok(5, 6));
        assert!(!counter_ok(5, 5));
        assert!(!counter_ok(5, 4));
        assert!(!counter_ok(5, 0));
    }

    #[test]
    fn amr_of_passkey_logins() {
        assert_eq!(passwordless_amr(), vec!["hwk", "user", "mfa"]);
        let first = vec!["pwd".to_string()];
        assert_eq!(second_step_amr(&first), vec!["pwd", "hwk", "mfa"]);
        let already = vec!["pwd".to_string(), "mfa".to_string()];
        assert_eq!(second_step_amr(&already), vec!["pwd", "mfa", "hwk"]);
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(
            normalise_name("  Телефон  ", 0).ok().as_deref(),
            Some("Телефон")
        );
        assert_eq!(
            normalise_name("", 2).ok().as_deref(),
            Some("Ключ доступа 3")
        );
        assert!(normalise_name(&"я".repeat(65), 0).is_err());
        assert!(normalise_name("a\u{0007}b", 0).is_err());
    }

    #[test]
    fn rp_id_and_origins_default_from_the_issuer() {
        use crate::config::WebauthnConfig;
        let none = WebauthnConfig::default();
        let (rp, name, origins) = none.effective("https://esia.example.ru");
        assert_eq!(rp, "esia.example.ru");
        assert_eq!(name, "Госуслуги");
        assert_eq!(origins, ["https://esia.example.ru"]);
        // An RP ID cannot be an IP address: the dev issuer gives localhost.
        let (rp, _, origins) = none.effective("http://127.0.0.1:8080");
        assert_eq!(rp, "localhost");
        assert_eq!(origins, ["http://localhost:8080"]);
        let set = WebauthnConfig {
            rp_id: Some("example.ru".into()),
            rp_name: Some("Портал".into()),
            origins: vec!["https://id.example.ru".into()],
        };
        let (rp, name, origins) = set.effective("https://id.example.ru");
        assert_eq!((rp.as_str(), name.as_str()), ("example.ru", "Портал"));
        assert_eq!(origins, ["https://id.example.ru"]);
    }

    #[test]
    fn origins_off_the_rp_id_are_configuration_errors() {
        let mut config = crate::config::Config::dev(std::path::Path::new("/tmp/idp-unit"), 8080);
        assert!(config.validate().is_ok());
        config.webauthn.rp_id = Some("example.ru".into());
        config.webauthn.origins = vec!["https://evil.example".into()];
        let err = config.validate().err().unwrap_or_default();
        assert!(err.contains("webauthn.origins"), "{err}");
    }

    #[test]
    fn user_handles_are_stable_and_distinct() {
        assert_eq!(user_handle("u1"), user_handle("u1"));
        assert_ne!(user_handle("u1"), user_handle("u2"));
    }

    #[test]
    fn the_answered_challenge_is_read_from_client_data() {
        let client = serde_json::json!({
            "type": "webauthn.get",
            "challenge": URL_SAFE_NO_PAD.encode(b"chal"),
            "origin": "http://localhost:8080"
        });
        let cred = serde_json::json!({
            "response": { "clientDataJSON": URL_SAFE_NO_PAD.encode(client.to_string()) }
        });
        assert_eq!(answered_challenge(&cred), Some(b"chal".to_vec()));
        assert_eq!(answered_challenge(&serde_json::json!({})), None);
    }
}
