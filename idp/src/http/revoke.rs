//! Token revocation (RFC 7009): always 200 once the client is authenticated. A refresh token
//! revokes its whole grant; an access token is revoked by its `jti`. A client can only revoke
//! its own tokens.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::client_auth::{self, FormCredentials};
use super::errors::ApiError;
use super::extract::OAuthForm;
use crate::app::AppState;
use crate::crypto::sha256_hex;
use crate::domain::tokens::{AccessClaims, AccessTokenError, verify_access};
use crate::protocol::OAuthError;
use crate::store::grants;

#[derive(Deserialize)]
pub struct RevocationRequest {
    token: Option<String>,
    #[serde(flatten)]
    creds: FormCredentials,
}

pub async fn handle(
    State(state): State<AppState>,
    headers: HeaderMap,
    OAuthForm(req): OAuthForm<RevocationRequest>,
) -> Response {
    match revoke(&state, &headers, req).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn revoke(
    state: &AppState,
    headers: &HeaderMap,
    req: RevocationRequest,
) -> Result<(), ApiError> {
    let caller = client_auth::authenticate(state, headers, &req.creds, true).await?;
    let token = req
        .token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::from(OAuthError::invalid_request("token is required")))?;
    let now = state.clock.now();
    if token.matches('.').count() == 2 {
        if let Some(at) = own_access_token(state, &token, now)
            && at.client_id == caller.id
        {
            grants::revoke_access_token(&state.db, &at.jti, at.exp).await?;
        }
        return Ok(());
    }
    if let Some((g, _)) =
        grants::by_refresh_token(&state.db, &sha256_hex(token.as_bytes()), now).await?
        && g.client_id == caller.id
    {
        grants::revoke(&state.db, &g.id, now, "revoked_by_client").await?;
    }
    Ok(())
}

fn own_access_token(state: &AppState, token: &str, now: i64) -> Option<AccessClaims> {
    let keys = state.keys.current();
    match verify_access(&keys, &state.issuer, token, now) {
        Ok(c) => Some(c),
        Err(AccessTokenError::Expired) => None, // already dead
        Err(_) => None,
    }
}
