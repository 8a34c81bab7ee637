//! Token introspection (RFC 7662). The caller authenticates as a confidential client. Access
//! tokens are reported to any such client; refresh tokens only to the client that holds them.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::client_auth::{self, FormCredentials};
use super::errors::ApiError;
use super::extract::OAuthForm;
use crate::app::AppState;
use crate::crypto::sha256_hex;
use crate::protocol::OAuthError;
use crate::store::grants;

#[derive(Deserialize)]
pub struct IntrospectionRequest {
    token: Option<String>,
    #[serde(flatten)]
    creds: FormCredentials,
}

pub async fn handle(
    State(state): State<AppState>,
    headers: HeaderMap,
    OAuthForm(req): OAuthForm<IntrospectionRequest>,
) -> Response {
    match introspect(&state, &headers, req).await {
        Ok(body) => {
            let mut resp = axum::Json(body).into_response();
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => e.into_response(),
    }
}

async fn introspect(
    state: &AppState,
    headers: &HeaderMap,
    req: IntrospectionRequest,
) -> Result<Value, ApiError> {
    let caller = client_auth::authenticate(state, headers, &req.creds, false).await?;
    let token = req
        .token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::from(OAuthError::invalid_request("token is required")))?;
    let now = state.clock.now();
    let inactive = json!({ "active": false });
    if token.matches('.').count() == 2 {
        let keys = state.keys.current();
        let Ok(at) = state
            .verified_tokens
            .verify(&keys, &state.issuer, &token, now)
        else {
            return Ok(inactive);
        };
        let at = (*at).clone();
        if !grants::access_token_live(&state.db, at.gid.as_deref(), &at.jti, now).await? {
            return Ok(inactive);
        }
        let mut body = json!({
            "active": true,
            "token_type": "Bearer",
            "scope": at.scope,
            "client_id": at.client_id,
            "sub": at.sub,
            "aud": at.aud,
            "iss": at.iss,
            "exp": at.exp,
            "iat": at.iat,
            "jti": at.jti,
        });
        if let Some(acr) = at.acr {
            body["acr"] = acr.into();
        }
        if let Some(t) = at.auth_time {
            body["auth_time"] = t.into();
        }
        return Ok(body);
    }
    match grants::by_refresh_token(&state.db, &sha256_hex(token.as_bytes()), now).await? {
        Some((g, true)) if g.client_id == caller.id => Ok(json!({
            "active": true,
            "token_type": "refresh_token",
            "scope": g.scope,
            "client_id": g.client_id,
            "sub": g.user_id,
            "iss": state.issuer,
            "exp": g.expires_at,
            "iat": g.created_at,
        })),
        _ => Ok(inactive),
    }
}
