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
    let new = random_token(32);
    let rotation = grants::rotate_refresh(
        &state.db,
        &sha256_hex(refresh_token.as_bytes()),
        &client.id,
        &sha256_hex(new.as_bytes()),
        now,
        state.config.tokens.refresh_idle_ttl,
    )
    .await?;
    let grant = match rotation {
        Rotation::Rotated(g) => g,
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
    let granted = ScopeSet::parse(&grant.scope).unwrap_or_default();
    let scope = match scope {
        Some(s) if !s.is_subset(&granted) => {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                "a refresh may only narrow the scope",
            )
            .into());
        }
        Some(s) if !s.is_empty() => s.to_string(),
        _ => grant.scope.clone(),
    };
    mint::user_tokens(state, client, &grant, &scope, None, Some(&new))
}
