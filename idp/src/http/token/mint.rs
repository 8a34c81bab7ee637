//! Signing the token response for a user grant: access token, optional ID token and refresh token.

use serde_json::{Value, json};

use super::super::errors::{ApiError, internal};
use crate::app::AppState;
use crate::crypto::random_token;
use crate::domain::tokens::{self, AccessClaims, IdClaims};
use crate::jose::half_hash;
use crate::protocol::client::Client;
use crate::store::grants::Grant;

/// What to put in a token response besides the access token.
pub struct Extras<'a> {
    /// Sign an ID token (the code exchange). A refresh does not: OpenID Connect Core §12.2
    /// lets it omit one, the identity has not changed, and it saves a signature per refresh.
    pub id_token: bool,
    pub nonce: Option<&'a str>,
    pub refresh_token: Option<&'a str>,
}

/// The token response for `grant` (whose scope is `scope`).
pub fn user_tokens(
    state: &AppState,
    client: &Client,
    grant: &Grant,
    scope: &str,
    extras: Extras<'_>,
) -> Result<Value, ApiError> {
    let Extras {
        id_token: with_id_token,
        nonce,
        refresh_token,
    } = extras;
    let now = state.clock.now();
    let keys = state.keys.current();
    let ttl = state.config.tokens.access_token_ttl;
    let access = AccessClaims {
        iss: state.issuer.clone(),
        sub: grant.user_id.clone(),
        aud: client.id.clone(),
        client_id: client.id.clone(),
        iat: now,
        exp: now + ttl,
        jti: random_token(16),
        scope: scope.to_owned(),
        gid: Some(grant.id.clone()),
        sid: grant.sid.clone(),
        auth_time: Some(grant.auth_time),
        acr: Some(grant.acr.clone()),
    };
    let access_token = tokens::sign_access(&keys, client.access_token_alg, &access)
        .ok_or_else(|| internal("no access token signing key", false))?;
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": scope,
    });
    if with_id_token && scope.split(' ').any(|s| s == "openid") {
        let id = IdClaims {
            iss: &state.issuer,
            sub: &grant.user_id,
            aud: &client.id,
            exp: now + state.config.tokens.id_token_ttl,
            iat: now,
            auth_time: grant.auth_time,
            nonce,
            acr: &grant.acr,
            amr: &grant.amr,
            sid: grant.sid.as_deref(),
            at_hash: half_hash(&access_token),
            azp: &client.id,
        };
        let id_token = tokens::sign_id(&keys, client.id_token_alg, &id)
            .ok_or_else(|| internal("no ID token signing key", false))?;
        body["id_token"] = id_token.into();
    }
    if let Some(rt) = refresh_token {
        body["refresh_token"] = rt.into();
    }
    Ok(body)
}
