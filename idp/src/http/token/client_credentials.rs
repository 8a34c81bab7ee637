//! `grant_type=client_credentials`: a token for the client itself (no user, no refresh).

use serde_json::{Value, json};

use super::super::errors::{ApiError, internal};
use crate::app::AppState;
use crate::crypto::random_token;
use crate::domain::tokens::{self, AccessClaims};
use crate::protocol::client::Client;
use crate::protocol::scope::ScopeSet;
use crate::protocol::{ErrorCode, OAuthError};

pub fn exchange(
    state: &AppState,
    client: &Client,
    scope: Option<ScopeSet>,
) -> Result<Value, ApiError> {
    let scope = scope.unwrap_or_default().filter(|s| s != "openid");
    if !scope.is_subset(&client.scopes) {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "a requested scope is not allowed for this client",
        )
        .into());
    }
    let now = state.clock.now();
    let ttl = state.config.tokens.access_token_ttl;
    let claims = AccessClaims {
        iss: state.issuer.clone(),
        sub: client.id.clone(),
        aud: client.id.clone(),
        client_id: client.id.clone(),
        iat: now,
        exp: now + ttl,
        jti: random_token(16),
        scope: scope.to_string(),
        gid: None,
        sid: None,
        auth_time: None,
        acr: None,
    };
    let keys = state.keys.current();
    let token = tokens::sign_access(&keys, client.access_token_alg, &claims)
        .ok_or_else(|| internal("no access token signing key", false))?;
    Ok(
        json!({ "access_token": token, "token_type": "Bearer", "expires_in": ttl, "scope": claims.scope }),
    )
}
