//! `grant_type=authorization_code`: redeem a code once, check PKCE and the redirect URI,
//! open a grant. A code presented twice revokes the grant it produced.

use serde_json::Value;

use super::super::errors::ApiError;
use super::mint;
use crate::app::AppState;
use crate::crypto::{random_token, sha256_hex};
use crate::domain::authorization::{CodeGrant, code_key, code_used_key};
use crate::protocol::OAuthError;
use crate::protocol::client::Client;
use crate::store::grants::{self, Grant};

pub async fn exchange(
    state: &AppState,
    client: &Client,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<Value, ApiError> {
    let now = state.clock.now();
    let Some(c): Option<CodeGrant> = state.cache.take_json(&code_key(code)).await? else {
        if let Some(grant_id) = state.cache.take(&code_used_key(code)).await? {
            let grant_id = String::from_utf8_lossy(&grant_id).into_owned();
            grants::revoke(&state.db, &grant_id, now, "code_replayed").await?;
            tracing::warn!(client = %client.id, "authorization code replayed; its grant is revoked");
        }
        return Err(OAuthError::invalid_grant(
            "the authorization code is invalid, expired or already used",
        )
        .into());
    };
    if c.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the authorization code was issued to another client",
        )
        .into());
    }
    if c.expires_at <= now {
        return Err(OAuthError::invalid_grant("the authorization code has expired").into());
    }
    match (redirect_uri, c.redirect_uri_explicit) {
        (Some(r), _) if r != c.redirect_uri => {
            return Err(OAuthError::invalid_grant(
                "redirect_uri does not match the authorization request",
            )
            .into());
        }
        (None, true) => return Err(OAuthError::invalid_request("redirect_uri is required").into()),
        _ => {}
    }
    match (&c.code_challenge, verifier) {
        (Some(challenge), Some(v)) if challenge.verify(v) => {}
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier does not match the code_challenge",
            )
            .into());
        }
        (Some(_), None) => {
            return Err(OAuthError::invalid_request("code_verifier is required").into());
        }
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier sent but no code_challenge was used",
            )
            .into());
        }
        (None, None) if client.is_public() => {
            return Err(OAuthError::invalid_grant("PKCE is required").into());
        }
        (None, None) => {}
    }
    let grant = Grant {
        id: random_token(16),
        user_id: c.user_id.clone(),
        client_id: client.id.clone(),
        sid: Some(c.sid.clone()),
        scope: c.scope.clone(),
        auth_time: c.auth_time,
        acr: c.acr.clone(),
        amr: c.amr.clone(),
        created_at: now,
        expires_at: now + state.config.tokens.refresh_absolute_ttl,
        revoked_at: None,
    };
    let refresh = client
        .allows_grant("refresh_token")
        .then(|| random_token(32));
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
        // Nothing was written: give the code back so the client can retry once the
        // database answers again, instead of sending the person through the login anew.
        let remaining = (c.expires_at - now).max(1) as u64;
        if let Err(put) = state.cache.put_json(&code_key(code), &c, remaining).await {
            tracing::warn!(error = %put, "could not restore an authorization code after a failed grant write");
        }
        return Err(e.into());
    }
    state
        .cache
        .put(&code_used_key(code), grant.id.as_bytes(), 600)
        .await?;
    let extras = mint::Extras {
        id_token: true,
        nonce: c.nonce.as_deref(),
        refresh_token: refresh.as_deref(),
    };
    mint::user_tokens(state, client, &grant, &grant.scope, extras)
}
