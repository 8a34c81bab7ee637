//! Client authentication at the token, introspection and revocation endpoints:
//! `client_secret_basic`, `client_secret_post`, `private_key_jwt` (RFC 7523), and `none`
//! for public clients where the endpoint allows it.

use std::sync::Arc;

use axum::http::{HeaderMap, header};
use serde::Deserialize;
use serde_json::Value;

use super::errors::ApiError;
use crate::app::AppState;
use crate::jose::{self, VerifyingKey};
use crate::protocol::OAuthError;
use crate::protocol::client::{AuthMethod, Client};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Client credentials as they may appear in a form body.
#[derive(Debug, Default, Deserialize)]
pub struct FormCredentials {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

fn unauthorized(basic: bool) -> ApiError {
    let e = ApiError::new(OAuthError::invalid_client("client authentication failed"));
    if basic { e.with_challenge("Basic") } else { e }
}

/// Authenticates the caller. `allow_public`: a public client may identify itself by
/// `client_id` alone (its proof is PKCE or the token it holds).
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    form: &FormCredentials,
    allow_public: bool,
) -> Result<Arc<Client>, ApiError> {
    let basic = basic_credentials(headers)?;
    let methods = usize::from(basic.is_some())
        + usize::from(form.client_secret.is_some())
        + usize::from(form.client_assertion.is_some());
    if methods > 1 {
        return Err(
            OAuthError::invalid_request("use exactly one client authentication method").into(),
        );
    }
    if let Some((id, secret)) = basic {
        if form.client_id.as_deref().is_some_and(|f| f != id) {
            return Err(OAuthError::invalid_request(
                "client_id does not match the Authorization header",
            )
            .into());
        }
        return by_secret(state, &id, &secret)
            .await
            .map_err(|e| e.unwrap_or_else(|| unauthorized(true)));
    }
    if let Some(secret) = &form.client_secret {
        let id = form
            .client_id
            .as_deref()
            .ok_or_else(|| ApiError::from(OAuthError::invalid_request("client_id is required")))?;
        return by_secret(state, id, secret)
            .await
            .map_err(|e| e.unwrap_or_else(|| unauthorized(false)));
    }
    if let Some(assertion) = &form.client_assertion {
        if form.client_assertion_type.as_deref() != Some(JWT_BEARER) {
            return Err(
                OAuthError::invalid_request("client_assertion_type must be jwt-bearer").into(),
            );
        }
        return by_assertion(state, form.client_id.as_deref(), assertion).await;
    }
    let Some(id) = form.client_id.as_deref() else {
        return Err(unauthorized(false));
    };
    match state.clients.get(&state.db, id).await? {
        Some(c) if c.is_public() && allow_public => Ok(c),
        _ => Err(unauthorized(false)),
    }
}

/// `Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, ApiError> {
    let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let Some((scheme, rest)) = v.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| unauthorized(true))?;
    let (id, secret) = decoded.split_once(':').ok_or_else(|| unauthorized(true))?;
    let dec = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((dec(id), dec(secret))))
}

async fn by_secret(
    state: &AppState,
    id: &str,
    secret: &str,
) -> Result<Arc<Client>, Option<ApiError>> {
    let client = state
        .clients
        .get(&state.db, id)
        .await
        .map_err(|e| Some(ApiError::from(e)))?;
    match client {
        Some(c)
            if c.auth_method == AuthMethod::ClientSecret
                && c.secret_hash
                    .as_deref()
                    .is_some_and(|h| state.secrets.verify_client_secret(secret, h)) =>
        {
            Ok(c)
        }
        _ => Err(None),
    }
}

async fn by_assertion(
    state: &AppState,
    form_client_id: Option<&str>,
    assertion: &str,
) -> Result<Arc<Client>, ApiError> {
    let fail = || unauthorized(false);
    let jws = jose::UnverifiedJws::parse(assertion).map_err(|_| fail())?;
    let unverified = jws.claims_unverified().map_err(|_| fail())?;
    let iss = unverified
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(fail)?;
    if form_client_id.is_some_and(|c| c != iss) {
        return Err(fail());
    }
    let client = state
        .clients
        .get(&state.db, iss)
        .await?
        .filter(|c| c.auth_method == AuthMethod::PrivateKeyJwt)
        .ok_or_else(fail)?;
    let keys = client_keys(state, &client).await?;
    let claims = jose::verify_with_any(assertion, &keys).map_err(|_| fail())?;
    let now = state.clock.now();
    let str_claim = |n: &str| claims.get(n).and_then(Value::as_str);
    let audience_ok = match claims.get("aud") {
        Some(Value::String(a)) => accepted_audience(state, a),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .any(|a| accepted_audience(state, a)),
        _ => false,
    };
    let exp = claims.get("exp").and_then(Value::as_i64).ok_or_else(fail)?;
    let jti = str_claim("jti").ok_or_else(fail)?;
    if str_claim("sub") != Some(&client.id) || !audience_ok || exp <= now || exp > now + 3600 {
        return Err(fail());
    }
    let replay_key = format!(
        "jti:{}:{}",
        client.id,
        crate::crypto::sha256_hex(jti.as_bytes())
    );
    if !state
        .cache
        .put_new(&replay_key, b"1", (exp - now + 1) as u64)
        .await?
    {
        return Err(ApiError::new(OAuthError::invalid_client(
            "client assertion was already used",
        )));
    }
    Ok(client)
}

fn accepted_audience(state: &AppState, aud: &str) -> bool {
    aud == state.issuer
        || aud == state.url("/token")
        || aud == state.url("/introspect")
        || aud == state.url("/revoke")
}

/// The client's public keys: registered inline, or fetched from its `jwks_uri` (kept 5 minutes).
async fn client_keys(state: &AppState, client: &Client) -> Result<Vec<VerifyingKey>, ApiError> {
    let jwks = if let Some(j) = &client.jwks {
        j.clone()
    } else if let Some(uri) = &client.jwks_uri {
        let cache_key = format!("cjwks:{}", client.id);
        match state.cache.get_json::<Value>(&cache_key).await? {
            Some(j) => j,
            None => {
                let j: Value = async {
                    state
                        .http
                        .get(uri)
                        .send()
                        .await?
                        .error_for_status()?
                        .json()
                        .await
                }
                .await
                .map_err(|e: reqwest::Error| {
                    tracing::warn!(client = %client.id, error = %e, "cannot fetch client JWKS");
                    unauthorized(false)
                })?;
                state.cache.put_json(&cache_key, &j, 300).await?;
                j
            }
        }
    } else {
        return Err(unauthorized(false));
    };
    Ok(jwks
        .get("keys")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(|k| VerifyingKey::from_jwk(k).ok())
                .collect()
        })
        .unwrap_or_default())
}
