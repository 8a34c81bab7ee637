//! ESIA's OAuth dialect (esia.md §4, `docs/esia-compat.md` "Endpoints"): the authorization
//! request (`/aas/oauth2/ac`, `/aas/oauth2/v2/ac`), the token exchange (`/aas/oauth2/te`,
//! `/aas/oauth2/v3/te`) and `/idp/ext/Logout`. The person logs in and consents through the
//! provider's own pages: the request becomes an ordinary [`AuthTx`] marked `esia`, whose final
//! redirect is ESIA-shaped ([`redirect`], [`error_redirect`]: no `iss`, `ESIA-0070xx` texts).
//! `access_type=offline` travels as the scope `offline_access` (shown on the consent page,
//! left out of the token's `scope` claim); it alone decides whether a refresh token is issued.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::client_secret::{self, Flavour, SecretCheck};
use super::errors::{EsiaCode, EsiaError};
use super::tokens::{self, Subject, TokenAlg};
use crate::app::AppState;
use crate::crypto::{random_bytes, sha256_hex};
use crate::domain::authorization::{AuthTx, CodeGrant, code_key, code_used_key};
use crate::protocol::acr::Level;
use crate::protocol::authorize::{AuthorizationRequest, Prompt};
use crate::protocol::pkce::CodeChallenge;
use crate::protocol::scope::{self, ScopeSet};
use crate::protocol::{ErrorCode, OAuthError, permissions};
use crate::store::grants::{self, Grant, Rotation};
use crate::store::users;

/// Request parameters, each at most once (a repeated one is ESIA-007003).
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses a query string or form body; `Err(name)` names a duplicated parameter.
    pub fn parse(raw: &[u8]) -> Result<Params, String> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (k, v) in url::form_urlencoded::parse(raw) {
            if out.iter().any(|(n, _)| *n == k) {
                return Err(k.into_owned());
            }
            out.push((k.into_owned(), v.into_owned()));
        }
        Ok(Params(out))
    }

    pub fn empty() -> Params {
        Params(Vec::new())
    }

    /// A non-empty value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The value or "" (for signed strings).
    fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    fn require(&self, names: &[&str]) -> Result<(), EsiaError> {
        match names.iter().find(|n| self.get(n).is_none()) {
            Some(n) => Err(EsiaError::with(EsiaCode::MissingParameter, *n)),
            None => Ok(()),
        }
    }
}

/// The client's redirect URI with `params` and `state` appended (no `iss`: ESIA sends none).
pub fn redirect(base: &str, params: &[(&str, &str)], state: Option<&str>) -> String {
    let Ok(mut url) = url::Url::parse(base) else {
        return base.to_owned();
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
        if let Some(s) = state {
            q.append_pair("state", s);
        }
    }
    url.to_string()
}

/// The ESIA catalogue entry for an error the login machinery ends a transaction with.
pub fn esia_code(code: ErrorCode) -> EsiaCode {
    match code {
        ErrorCode::AccessDenied
        | ErrorCode::LoginRequired
        | ErrorCode::ConsentRequired
        | ErrorCode::InvalidGrant => EsiaCode::Denied,
        ErrorCode::UnmetAuthenticationRequirements => EsiaCode::UnconfirmedAccount,
        ErrorCode::InteractionRequired => EsiaCode::SecondFactorImpossible,
        ErrorCode::InvalidScope | ErrorCode::InsufficientScope => EsiaCode::BadScope,
        ErrorCode::ServerError => EsiaCode::ServerError,
        ErrorCode::TemporarilyUnavailable => EsiaCode::Unavailable,
        ErrorCode::UnauthorizedClient | ErrorCode::InvalidClient => EsiaCode::UnauthorizedClient,
        ErrorCode::UnsupportedGrantType => EsiaCode::UnsupportedGrantType,
        _ => EsiaCode::BadParameter,
    }
}

/// An ESIA transaction's error redirect: `error`, `error_description=ESIA-0070xx: …`, `state`.
pub fn error_redirect(tx: &AuthTx, error: &OAuthError) -> String {
    EsiaError::new(esia_code(error.code))
        .redirect(&tx.request.redirect_uri, tx.request.state.as_deref())
}

fn decode_b64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let t: String = text
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' | ' ' => '-',
            '/' => '_',
            o => o,
        })
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .ok()
}

/// Checks an authorization request (after the client and `redirect_uri`) and builds the
/// request the login machinery runs; `v2` = `/aas/oauth2/v2/ac`.
pub async fn check_authorize(
    state: &AppState,
    p: &Params,
    client: &crate::protocol::client::Client,
    redirect_uri: &str,
    v2: bool,
) -> Result<AuthorizationRequest, EsiaError> {
    let mut mandatory = vec![
        "client_id",
        "scope",
        "timestamp",
        "state",
        "response_type",
        "client_secret",
    ];
    if v2 {
        mandatory.push("client_certificate_hash");
    }
    p.require(&mandatory)?;
    let st = p.text("state");
    if !client_secret::is_uuid(st) {
        return Err(EsiaError::with(EsiaCode::BadParameter, "state"));
    }
    let (scope, ts, cid) = (p.text("scope"), p.text("timestamp"), p.text("client_id"));
    let signed = if v2 {
        vec![format!(
            "{cid}{scope}{}{ts}{st}{redirect_uri}",
            p.text("scope_org")
        )]
    } else {
        vec![format!("{scope}{ts}{cid}{st}")]
    };
    client_secret::verify(
        state,
        &SecretCheck {
            flavour: if v2 {
                Flavour::Current
            } else {
                Flavour::Legacy
            },
            client_id: cid,
            signed,
            client_secret: p.text("client_secret"),
            certificate_hash: p.get("client_certificate_hash"),
            timestamp: ts,
        },
    )
    .await?;
    if p.text("response_type") != "code" {
        return Err(EsiaError::with(EsiaCode::BadParameter, "response_type"));
    }
    let offline = match p.get("access_type") {
        None | Some("online") => false,
        Some("offline") => true,
        Some(_) => return Err(EsiaError::with(EsiaCode::BadParameter, "access_type")),
    };
    let requested =
        ScopeSet::parse(scope).map_err(|_| EsiaError::with(EsiaCode::BadScope, "scope"))?;
    if !requested.contains("openid") {
        return Err(EsiaError::new(EsiaCode::NoScope));
    }
    let personal = requested.filter(|s| s != "openid");
    if let Some(bad) = personal
        .iter()
        .find(|s| !scope::is_known(s) || !client.scopes.contains(s))
    {
        return Err(EsiaError::with(EsiaCode::BadScope, bad));
    }
    let code_challenge = match p.get("code_challenge") {
        Some(c) => Some(
            CodeChallenge::parse(c, p.get("code_challenge_method"))
                .map_err(|_| EsiaError::with(EsiaCode::BadParameter, "code_challenge"))?,
        ),
        None => None,
    };
    let permissions = match p.get("permissions") {
        Some(text) => Some(
            permissions::parse(text, &personal)
                .map_err(|_| EsiaError::with(EsiaCode::BadParameter, "permissions"))?,
        ),
        None => None,
    };
    let mut acr_values = Vec::new();
    if let Some(f) = p.get("person_filter") {
        let filter = decode_b64(f)
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| EsiaError::with(EsiaCode::BadParameter, "person_filter"))?;
        match filter.trim() {
            // Only confirmed accounts: the login machinery's level check ends the
            // transaction with unmet_authentication_requirements = ESIA-007055.
            "conf_acc" => acr_values.push(Level::Confirmed.acr().to_owned()),
            // Children's accounts do not exist here: every account is an adult's.
            "acc_not_kid" => {}
            "acc_kid" => return Err(EsiaError::with(EsiaCode::UnconfirmedAccount, "acc_kid")),
            _ => return Err(EsiaError::with(EsiaCode::BadParameter, "person_filter")),
        }
    }
    let mut scope_text = personal.to_string();
    scope_text = format!("openid {scope_text}");
    if offline && !personal.contains("offline_access") {
        scope_text.push_str(" offline_access");
    }
    let scope_text = ScopeSet::parse(&scope_text).unwrap_or_default().to_string();
    Ok(AuthorizationRequest {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scope: scope_text,
        state: Some(st.to_owned()),
        nonce: None,
        code_challenge,
        prompt: Prompt::default(),
        max_age: None,
        id_token_hint: None,
        login_hint: None,
        ui_locales: None,
        acr_values,
        permissions,
    })
}

/// A refresh token in ESIA's shape: a random UUID (version 4).
fn uuid_token() -> String {
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = crate::crypto::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// `POST /aas/oauth2/te` (`v3` = false) and `/aas/oauth2/v3/te`.
pub async fn token(state: &AppState, body: &[u8], v3: bool) -> Response {
    let p = match Params::parse(body) {
        Ok(p) => p,
        Err(name) => return EsiaError::with(EsiaCode::BadParameter, name).json(None),
    };
    let st = p.get("state").map(str::to_owned);
    match exchange(state, &p, v3).await {
        Ok(mut body) => {
            body["state"] = st.into();
            let mut resp = axum::Json(body).into_response();
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp.headers_mut()
                .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            resp
        }
        Err(e) => e.json(st.as_deref()),
    }
}

fn store_err(e: impl std::fmt::Display) -> EsiaError {
    tracing::warn!(error = %e, "ESIA token exchange: store error");
    EsiaError::new(EsiaCode::Unavailable)
}

async fn exchange(state: &AppState, p: &Params, v3: bool) -> Result<Value, EsiaError> {
    p.require(&["grant_type"])?;
    let grant_type = p.text("grant_type");
    let refresh = match grant_type {
        "authorization_code" => false,
        "refresh_token" => true,
        _ => return Err(EsiaError::new(EsiaCode::UnsupportedGrantType)),
    };
    let mut mandatory = vec!["client_id", "client_secret", "state", "timestamp"];
    mandatory.push(if refresh { "refresh_token" } else { "code" });
    if !refresh {
        mandatory.push("redirect_uri");
    }
    if v3 {
        mandatory.push("client_certificate_hash");
    }
    p.require(&mandatory)?;
    if let Some(t) = p.get("token_type")
        && !t.eq_ignore_ascii_case("bearer")
    {
        return Err(EsiaError::with(EsiaCode::BadParameter, "token_type"));
    }
    let (cid, scope, ts, st) = (
        p.text("client_id"),
        p.text("scope"),
        p.text("timestamp"),
        p.text("state"),
    );
    if !client_secret::is_uuid(st) {
        return Err(EsiaError::with(EsiaCode::BadParameter, "state"));
    }
    let client = state
        .clients
        .get(&state.db, cid)
        .await
        .map_err(store_err)?
        .ok_or_else(|| EsiaError::new(EsiaCode::UnauthorizedClient))?;
    let (org, ru) = (p.text("scope_org"), p.text("redirect_uri"));
    let signed = match (v3, refresh) {
        (false, _) => vec![format!("{scope}{ts}{cid}{st}")],
        (true, false) => vec![format!("{cid}{scope}{org}{ts}{st}{ru}{}", p.text("code"))],
        (true, true) => vec![
            format!("{cid}{scope}{org}{ts}{st}{ru}"),
            format!("{cid}{scope}{ts}{st}{}", p.text("refresh_token")),
        ],
    };
    client_secret::verify(
        state,
        &SecretCheck {
            flavour: if v3 {
                Flavour::Current
            } else {
                Flavour::Legacy
            },
            client_id: cid,
            signed,
            client_secret: p.text("client_secret"),
            certificate_hash: p.get("client_certificate_hash"),
            timestamp: ts,
        },
    )
    .await?;
    let now = state.clock.now();
    let (grant, refresh_token) = if refresh {
        refresh_grant(state, &client.id, p.text("refresh_token"), now).await?
    } else {
        code_grant(state, &client.id, p, now).await?
    };
    mint(state, &client.id, &grant, refresh_token.as_deref(), now).await
}

async fn code_grant(
    state: &AppState,
    client_id: &str,
    p: &Params,
    now: i64,
) -> Result<(Grant, Option<String>), EsiaError> {
    let code = p.text("code");
    let invalid = || EsiaError::new(EsiaCode::InvalidGrant);
    let taken: Option<CodeGrant> = state
        .cache
        .take_json(&code_key(code))
        .await
        .map_err(store_err)?;
    let Some(c) = taken else {
        if let Ok(Some(grant_id)) = state.cache.take(&code_used_key(code)).await {
            let grant_id = String::from_utf8_lossy(&grant_id).into_owned();
            grants::revoke(&state.db, &grant_id, now, "code_replayed")
                .await
                .map_err(store_err)?;
            tracing::warn!(client = %client_id, "ESIA authorization code replayed; its grant is revoked");
        }
        return Err(invalid());
    };
    if c.client_id != client_id || c.expires_at <= now || c.redirect_uri != p.text("redirect_uri") {
        return Err(invalid());
    }
    match (&c.code_challenge, p.get("code_verifier")) {
        (Some(ch), Some(v)) if ch.verify(v) => {}
        (Some(_), Some(_)) => return Err(EsiaError::new(EsiaCode::PkceMismatch)),
        (Some(_), None) => {
            return Err(EsiaError::with(EsiaCode::MissingParameter, "code_verifier"));
        }
        (None, Some(_)) => return Err(EsiaError::new(EsiaCode::PkceMissing)),
        (None, None) => {}
    }
    let grant = Grant {
        id: crate::crypto::random_token(16),
        user_id: c.user_id.clone(),
        client_id: client_id.to_owned(),
        sid: Some(c.sid.clone()),
        scope: c.scope.clone(),
        auth_time: c.auth_time,
        acr: c.acr.clone(),
        amr: c.amr.clone(),
        created_at: now,
        expires_at: now + state.config.tokens.refresh_absolute_ttl,
        revoked_at: None,
    };
    let offline = c.scope.split(' ').any(|s| s == "offline_access");
    let refresh = offline.then(uuid_token);
    let first = refresh.as_deref().map(|rt| {
        (
            sha256_hex(rt.as_bytes()),
            (now + state.config.tokens.refresh_idle_ttl).min(grant.expires_at),
        )
    });
    if let Err(e) = grants::create(
        &state.db,
        &grant,
        first.as_ref().map(|(h, e)| (h.as_str(), *e)),
    )
    .await
    {
        // Nothing was written: give the code back so the system can retry (as /token does).
        let remaining = (c.expires_at - now).max(1) as u64;
        if let Err(put) = state.cache.put_json(&code_key(code), &c, remaining).await {
            tracing::warn!(error = %put, "could not restore an ESIA authorization code after a failed grant write");
        }
        return Err(store_err(e));
    }
    state
        .cache
        .put(&code_used_key(code), grant.id.as_bytes(), 600)
        .await
        .map_err(store_err)?;
    Ok((grant, refresh))
}

async fn refresh_grant(
    state: &AppState,
    client_id: &str,
    refresh_token: &str,
    now: i64,
) -> Result<(Grant, Option<String>), EsiaError> {
    let new = uuid_token();
    let rotation = grants::rotate_refresh(
        &state.db,
        &sha256_hex(refresh_token.as_bytes()),
        client_id,
        &sha256_hex(new.as_bytes()),
        now,
        state.config.tokens.refresh_idle_ttl,
    )
    .await
    .map_err(store_err)?;
    match rotation {
        Rotation::Rotated(g) => Ok((*g, Some(new))),
        Rotation::Replayed => {
            tracing::warn!(client = %client_id, "ESIA refresh token replayed; its grant is revoked");
            Err(EsiaError::new(EsiaCode::InvalidGrant))
        }
        Rotation::Invalid | Rotation::WrongClient => Err(EsiaError::new(EsiaCode::InvalidGrant)),
    }
}

async fn mint(
    state: &AppState,
    client_id: &str,
    grant: &Grant,
    refresh_token: Option<&str>,
    now: i64,
) -> Result<Value, EsiaError> {
    let user = users::by_id(&state.db, &grant.user_id)
        .await
        .map_err(store_err)?
        .ok_or_else(|| EsiaError::new(EsiaCode::InvalidGrant))?;
    let alg = super::systems::token_alg(state, client_id)
        .await
        .map_err(store_err)?;
    let alg = TokenAlg::parse(&alg).unwrap_or(TokenAlg::Rs256);
    let signers = tokens::signers(&state.config.esia).map_err(|e| {
        tracing::error!(error = %e, "ESIA signing keys cannot be loaded");
        EsiaError::new(EsiaCode::ServerError)
    })?;
    let subject = Subject {
        oid: &user.id,
        client_id,
        scope: &grant.scope,
        sid: &grant.id,
        auth_time: grant.auth_time,
        amr: &grant.amr,
        confirmed: user.level == Level::Confirmed,
    };
    let iss = &state.config.esia.issuer;
    let sign = |sbt: &str, claims: &Value| {
        signers.sign(alg, sbt, claims).map_err(|e| {
            tracing::error!(error = %e, "ESIA token signing failed");
            EsiaError::new(EsiaCode::ServerError)
        })
    };
    let access = sign("access", &tokens::access_claims(iss, now, &subject))?;
    let id = sign("id", &tokens::id_claims(iss, now, &subject))?;
    let mut body = json!({
        "access_token": access,
        "id_token": id,
        "token_type": "Bearer",
        "expires_in": tokens::TOKEN_TTL,
    });
    if let Some(rt) = refresh_token {
        body["refresh_token"] = rt.into();
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_refuse_duplicates_and_uuid_tokens_look_right() {
        assert!(Params::parse(b"a=1&b=2&a=3").is_err());
        let p = Params::parse(b"a=1&b=").unwrap();
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None);
        assert!(client_secret::is_uuid(&uuid_token()));
    }

    #[test]
    fn redirects_carry_no_iss() {
        let u = redirect("https://is.example/cb", &[("code", "c")], Some("s"));
        assert_eq!(u, "https://is.example/cb?code=c&state=s");
    }
}
