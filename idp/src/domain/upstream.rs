//! Identity confirmation through an upstream OpenID provider: an online bank that already
//! knows the person (esia.md §1, the confirmed level). We are the bank's relying party: an
//! authorization-code flow with PKCE S256, `state` and `nonce`; the bank's ID token is checked
//! against its JWKS, its userinfo is compared with the account (verified SNILS, surname and
//! given name), and when the bank is marked `verifies_identity` a standard account becomes
//! confirmed.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::app::AppState;
use crate::config::UpstreamConfig;
use crate::crypto::{b64url, random_token, sha256};
use crate::domain::identifiers::parse_snils;
use crate::domain::messages::Template;
use crate::domain::verification::{level_ru, notify, record};
use crate::jose::{VerifyingKey, verify_with_any};
use crate::protocol::acr::Level;
use crate::store::StoreError;
use crate::store::identity;
use crate::store::users::User;

/// How long a started bank login may take.
const PENDING_TTL: u64 = 600;
/// Tolerated clock difference with the bank, in seconds.
const LEEWAY: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("no such upstream provider")]
    Unknown,
    #[error("the account is not at the standard level")]
    NotStandard,
    #[error("the account is already confirmed")]
    AlreadyConfirmed,
    #[error("a check of the account's data is in progress")]
    Verifying,
    #[error("unknown, expired or foreign state")]
    BadState,
    #[error("the person refused or the bank answered an error: {0}")]
    Denied(String),
    #[error("the bank's data does not match the account")]
    Mismatch,
    #[error("the bank misbehaved: {0}")]
    Bank(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a finished bank login did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The account was raised to confirmed.
    Confirmed,
    /// The data matched, but this bank does not verify identity: nothing changed.
    Matched,
}

/// A started bank login, kept in the cache under its `state`.
#[derive(Serialize, Deserialize)]
struct Pending {
    upstream: String,
    user_id: String,
    verifier: String,
    nonce: String,
    /// The browser's CSRF form token: the callback must come from the same browser.
    browser: String,
    tx: Option<String>,
}

/// The parts of the bank's discovery document we use.
#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    userinfo_endpoint: String,
}

/// The configured upstream `id`.
pub fn find<'a>(state: &'a AppState, id: &str) -> Result<&'a UpstreamConfig, UpstreamError> {
    state
        .config
        .upstream
        .iter()
        .find(|u| u.id == id)
        .ok_or(UpstreamError::Unknown)
}

/// Where our callback for `upstream` is.
pub fn redirect_uri(state: &AppState, upstream: &UpstreamConfig) -> String {
    state.url(&format!("/upstream/{}/callback", upstream.id))
}

/// Starts a bank login for `user`; returns the URL of the bank's authorization endpoint.
pub async fn start(
    state: &AppState,
    upstream: &UpstreamConfig,
    user: &User,
    browser: &str,
    tx: Option<String>,
) -> Result<String, UpstreamError> {
    eligible(state, user).await?;
    let discovery = discover(state, upstream).await?;
    let key = random_token(32);
    let pending = Pending {
        upstream: upstream.id.clone(),
        user_id: user.id.clone(),
        verifier: random_token(32),
        nonce: random_token(16),
        browser: browser.to_owned(),
        tx,
    };
    let challenge = b64url(&sha256(pending.verifier.as_bytes()));
    state
        .cache
        .put_json(&cache_key(&key), &pending, PENDING_TTL)
        .await
        .map_err(|e| UpstreamError::Store(StoreError::Internal(e.0)))?;
    let redirect = redirect_uri(state, upstream);
    let url = url::Url::parse_with_params(
        &discovery.authorization_endpoint,
        &[
            ("response_type", "code"),
            ("client_id", upstream.client_id.as_str()),
            ("redirect_uri", redirect.as_str()),
            ("scope", upstream.scopes.as_str()),
            ("state", key.as_str()),
            ("nonce", pending.nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .map_err(|e| UpstreamError::Bank(format!("bad authorization_endpoint: {e}")))?;
    Ok(url.into())
}

/// The bank's answer at our callback: `code` or `error`, and `state`.
pub struct Callback {
    pub state: String,
    pub code: Option<String>,
    pub error: Option<String>,
}

/// Finishes the bank login; returns what happened and the authorization flow to go back to.
pub async fn finish(
    state: &AppState,
    upstream: &UpstreamConfig,
    user: &User,
    browser: &str,
    cb: Callback,
) -> Result<(Outcome, Option<String>), UpstreamError> {
    let pending: Pending = state
        .cache
        .take_json(&cache_key(&cb.state))
        .await
        .map_err(|e| UpstreamError::Store(StoreError::Internal(e.0)))?
        .ok_or(UpstreamError::BadState)?;
    if pending.upstream != upstream.id || pending.user_id != user.id || pending.browser != browser {
        return Err(UpstreamError::BadState);
    }
    if let Some(error) = cb.error {
        return Err(UpstreamError::Denied(error));
    }
    let code = cb.code.ok_or(UpstreamError::Denied("no code".into()))?;
    eligible(state, user).await?;
    let source = format!("upstream:{}", upstream.id);
    let person = match bank_person(state, upstream, &pending, &code).await {
        Ok(p) => p,
        Err(e) => {
            failure(state, user, &source, &e.to_string()).await?;
            return Err(e);
        }
    };
    if !matches(user, &person) {
        failure(state, user, &source, "data mismatch").await?;
        return Err(UpstreamError::Mismatch);
    }
    if !upstream.verifies_identity {
        return Ok((Outcome::Matched, pending.tx));
    }
    raise(state, upstream, user, &source).await?;
    Ok((Outcome::Confirmed, pending.tx))
}

/// Only a standard account (verified SNILS) can be confirmed, and not during a check.
async fn eligible(state: &AppState, user: &User) -> Result<(), UpstreamError> {
    match user.level {
        Level::Confirmed => return Err(UpstreamError::AlreadyConfirmed),
        Level::Simplified => return Err(UpstreamError::NotStandard),
        Level::Standard if user.person.snils.is_none() => return Err(UpstreamError::NotStandard),
        Level::Standard => {}
    }
    let account = identity::of_user(&state.db, &user.id).await?;
    if account.and_then(|a| a.verification_status).as_deref() == Some("verifying") {
        return Err(UpstreamError::Verifying);
    }
    Ok(())
}

/// Code → tokens → verified ID token → userinfo.
async fn bank_person(
    state: &AppState,
    upstream: &UpstreamConfig,
    pending: &Pending,
    code: &str,
) -> Result<Map<String, Value>, UpstreamError> {
    let discovery = discover(state, upstream).await?;
    let tokens = exchange(state, upstream, &discovery, pending, code).await?;
    let id_token = tokens
        .get("id_token")
        .and_then(Value::as_str)
        .ok_or_else(|| UpstreamError::Bank("no id_token".into()))?;
    let access_token = tokens
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| UpstreamError::Bank("no access_token".into()))?;
    let keys = jwks(state, &discovery).await?;
    let claims = verify_with_any(id_token, &keys)
        .map_err(|e| UpstreamError::Bank(format!("ID token signature: {e}")))?;
    check_id_token(state, upstream, &discovery, pending, &claims)?;
    let info = fetch_json(
        state
            .http
            .get(&discovery.userinfo_endpoint)
            .bearer_auth(access_token),
    )
    .await?;
    if info.get("sub") != claims.get("sub") {
        return Err(UpstreamError::Bank(
            "userinfo sub differs from the ID token".into(),
        ));
    }
    Ok(info)
}

async fn exchange(
    state: &AppState,
    upstream: &UpstreamConfig,
    discovery: &Discovery,
    pending: &Pending,
    code: &str,
) -> Result<Map<String, Value>, UpstreamError> {
    // client_secret_basic: both parts form-urlencoded first (RFC 6749 §2.3.1).
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let redirect = redirect_uri(state, upstream);
    let request = state
        .http
        .post(&discovery.token_endpoint)
        .basic_auth(enc(&upstream.client_id), Some(enc(&upstream.client_secret)))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect.as_str()),
            ("code_verifier", pending.verifier.as_str()),
        ]);
    fetch_json(request).await
}

fn check_id_token(
    state: &AppState,
    upstream: &UpstreamConfig,
    discovery: &Discovery,
    pending: &Pending,
    claims: &Map<String, Value>,
) -> Result<(), UpstreamError> {
    let bad = |what: &str| Err(UpstreamError::Bank(format!("ID token: {what}")));
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(discovery.issuer.as_str()) {
        return bad("wrong iss");
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => *a == upstream.client_id,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(&upstream.client_id)),
        _ => false,
    };
    if !aud_ok {
        return bad("wrong aud");
    }
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp + LEEWAY < state.clock.now() {
        return bad("expired");
    }
    if text("nonce") != Some(pending.nonce.as_str()) {
        return bad("wrong nonce");
    }
    if text("sub").is_none() {
        return bad("no sub");
    }
    Ok(())
}

/// The same person: the bank's SNILS equals the account's verified SNILS, and the surname and
/// given name are the same (case-insensitive, ё = е).
fn matches(user: &User, bank: &Map<String, Value>) -> bool {
    let text = |name: &str| bank.get(name).and_then(Value::as_str).unwrap_or("");
    let fold = |s: &str| s.trim().to_lowercase().replace('ё', "е");
    let snils_ok = match (parse_snils(text("snils")), &user.person.snils) {
        (Some(theirs), Some(ours)) => theirs == *ours,
        _ => false,
    };
    snils_ok
        && !text("family_name").is_empty()
        && fold(text("family_name")) == fold(&user.person.surname)
        && fold(text("given_name")) == fold(&user.person.given_name)
}

/// Standard → confirmed, the event and the e-mail notice, in one transaction.
async fn raise(
    state: &AppState,
    upstream: &UpstreamConfig,
    user: &User,
    source: &str,
) -> Result<(), UpstreamError> {
    let now = state.clock.now();
    let mut tx = state.db.write().begin().await.map_err(StoreError::from)?;
    if !identity::raise_level(&mut *tx, &user.id, Level::Standard, Level::Confirmed, now).await? {
        tx.rollback().await.map_err(StoreError::from)?;
        return Err(UpstreamError::NotStandard);
    }
    let summary = format!(
        "Личность подтверждена через {}: учётная запись — {}",
        upstream.name,
        level_ru(Level::Confirmed)
    );
    let detail = serde_json::json!({ "upstream": upstream.id });
    record(
        &mut *tx, &user.id, "success", &summary, &detail, source, now,
    )
    .await?;
    let text = format!(
        "Ваша личность подтверждена через {}. Учётная запись стала подтверждённой.",
        upstream.name
    );
    let notice = Template::Notice {
        subject: "Учётная запись подтверждена",
        text: &text,
    };
    notify(state, &mut tx, &user.id, &notice, now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

async fn failure(
    state: &AppState,
    user: &User,
    source: &str,
    reason: &str,
) -> Result<(), UpstreamError> {
    let detail = serde_json::json!({ "reason": reason });
    let summary = "Не удалось подтвердить личность через банк";
    record(
        state.db.write(),
        &user.id,
        "failure",
        summary,
        &detail,
        source,
        state.clock.now(),
    )
    .await?;
    Ok(())
}

async fn discover(state: &AppState, upstream: &UpstreamConfig) -> Result<Discovery, UpstreamError> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        upstream.issuer.trim_end_matches('/')
    );
    let doc = fetch_json(state.http.get(&url)).await?;
    let discovery: Discovery = serde_json::from_value(Value::Object(doc))
        .map_err(|e| UpstreamError::Bank(format!("discovery: {e}")))?;
    if discovery.issuer.trim_end_matches('/') != upstream.issuer.trim_end_matches('/') {
        return Err(UpstreamError::Bank(
            "discovery issuer differs from the configured one".into(),
        ));
    }
    Ok(discovery)
}

async fn jwks(state: &AppState, discovery: &Discovery) -> Result<Vec<VerifyingKey>, UpstreamError> {
    let doc = fetch_json(state.http.get(&discovery.jwks_uri)).await?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|k| VerifyingKey::from_jwk(k).ok())
                .collect()
        })
        .unwrap_or_default();
    Ok(keys)
}

async fn fetch_json(request: reqwest::RequestBuilder) -> Result<Map<String, Value>, UpstreamError> {
    let resp = request
        .send()
        .await
        .map_err(|e| UpstreamError::Bank(format!("request failed: {e}")))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(UpstreamError::Bank(format!(
            "HTTP {status} from {}",
            resp.url()
        )));
    }
    resp.json()
        .await
        .map_err(|e| UpstreamError::Bank(format!("not JSON: {e}")))
}

fn cache_key(state_param: &str) -> String {
    format!("upstream:{state_param}")
}
