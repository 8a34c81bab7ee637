//! `grant_type=refresh_token`: rotate the token (single use); a replayed token revokes the
//! whole family; a token of another client is refused.

use serde_json::Value;

use super::super::errors::ApiError;
use super::mint;
use crate::app::AppState;
use crate::crypto::{random_token, sha256_hex};
use crate::protocol::client::Client;
use crate::protocol::scope::ScopeSet;
use crate::protocol::{ErrorCode, OAuthError};
use crate::store::grants::{self, Rotation};

pub async fn exchange(
    state: &AppState,
    client: &Client,
    refresh_token: &str,
    scope: Option<ScopeSet>,
) -> Result<Value, ApiError> {
    let now = state.clock.now();
    let hash = sha256_hex(refresh_token.as_bytes());
    // A refused scope must not spend the token (the client would be left with a spent one,
    // and its next use would revoke the grant as a replay). A grant's scope never changes,
    // so checking it before the atomic rotation is safe.
    if let Some(requested) = &scope
        && let Some((g, _)) = grants::by_refresh_token(&state.db, &hash, now).await?
        && g.client_id == client.id
    {
        narrowed(Some(requested), &g.scope)?;
    }
    let new = random_token(32);
    let rotation = grants::rotate_refresh(
        &state.db,
        &hash,
        &client.id,
        &sha256_hex(new.as_bytes()),
        now,
        state.config.tokens.refresh_idle_ttl,
    )
    .await?;
    let grant = match rotation {
        Rotation::Rotated(g) => *g,
        Rotation::Invalid => {
            return Err(OAuthError::invalid_grant(
                "the refresh token is invalid, expired or revoked",
            )
            .into());
        }
        Rotation::WrongClient => {
            return Err(OAuthError::invalid_grant(
                "the refresh token was issued to another client",
            )
            .into());
        }
        Rotation::Replayed => {
            tracing::warn!(client = %client.id, "refresh token replayed; its grant is revoked");
            return Err(OAuthError::invalid_grant(
                "the refresh token was already used; the grant is revoked",
            )
            .into());
        }
    };
    let scope = narrowed(scope.as_ref(), &grant.scope)?;
    let extras = mint::Extras {
        id_token: false,
        nonce: None,
        refresh_token: Some(&new),
    };
    mint::user_tokens(state, client, &grant, &scope, extras)
}

/// The scope of the refreshed tokens: the requested one if it narrows the grant's, else the grant's.
fn narrowed(requested: Option<&ScopeSet>, granted: &str) -> Result<String, OAuthError> {
    let granted_set = ScopeSet::parse(granted).unwrap_or_default();
    match requested {
        Some(s) if !s.is_subset(&granted_set) => Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "a refresh may only narrow the scope",
        )),
        Some(s) if !s.is_empty() => Ok(s.to_string()),
        _ => Ok(granted.to_owned()),
    }
}
