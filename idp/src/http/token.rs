//! The token endpoint: authenticate the client, parse the request by `grant_type`, and hand
//! it to the module for that grant.

mod authorization_code;
mod client_credentials;
mod mint;
mod refresh;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::client_auth::{self, FormCredentials};
use super::errors::ApiError;
use super::extract::OAuthForm;
use crate::app::AppState;
use crate::protocol::token_request::{TokenRequest, UnverifiedTokenRequest};
use crate::protocol::{ErrorCode, OAuthError};

pub async fn handle(
    State(state): State<AppState>,
    headers: HeaderMap,
    OAuthForm(raw): OAuthForm<UnverifiedTokenRequest>,
) -> Response {
    match exchange(&state, &headers, raw).await {
        Ok(body) => {
            let mut resp = axum::Json(body).into_response();
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp.headers_mut()
                .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            resp
        }
        Err(e) => e.into_response(),
    }
}

async fn exchange(
    state: &AppState,
    headers: &HeaderMap,
    raw: UnverifiedTokenRequest,
) -> Result<serde_json::Value, ApiError> {
    let request = TokenRequest::try_from(&raw)?;
    let creds = FormCredentials {
        client_id: raw.client_id,
        client_secret: raw.client_secret,
        client_assertion_type: raw.client_assertion_type,
        client_assertion: raw.client_assertion,
    };
    let allow_public = !matches!(request, TokenRequest::ClientCredentials { .. });
    let client = client_auth::authenticate(state, headers, &creds, allow_public).await?;
    if !client.allows_grant(request.grant_type()) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use this grant_type",
        )
        .into());
    }
    let grant_type = request.grant_type();
    let issued = match request {
        TokenRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            authorization_code::exchange(
                state,
                &client,
                &code,
                redirect_uri.as_deref(),
                code_verifier.as_deref(),
            )
            .await
        }
        TokenRequest::RefreshToken {
            refresh_token,
            scope,
        } => refresh::exchange(state, &client, &refresh_token, scope).await,
        TokenRequest::ClientCredentials { scope } => {
            client_credentials::exchange(state, &client, scope).await
        }
    }?;
    state.metrics.token(grant_type);
    Ok(issued)
}
