//! The userinfo endpoint: GET or POST, the token in the `Authorization` header or (POST) in
//! the form body. Revoked tokens are refused.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::errors::ApiError;
use super::extract::{self, parse_form};
use crate::app::AppState;
use crate::protocol::claims;
use crate::protocol::scope::ScopeSet;
use crate::protocol::{ErrorCode, OAuthError};
use crate::store::users;

#[derive(Deserialize, Default)]
struct BodyToken {
    access_token: Option<String>,
}

pub async fn get(State(state): State<AppState>, headers: HeaderMap) -> Response {
    respond(&state, extract::bearer(&headers)).await
}

pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let from_body = if body.is_empty() {
        BodyToken::default()
    } else {
        parse_form::<BodyToken>(&body).unwrap_or_default()
    };
    let header_token = extract::bearer(&headers);
    if header_token.is_some() && from_body.access_token.is_some() {
        return bearer_error(OAuthError::invalid_request(
            "send the token in one place only",
        ))
        .into_response();
    }
    respond(&state, header_token.or(from_body.access_token.as_deref())).await
}

async fn respond(state: &AppState, token: Option<&str>) -> Response {
    match claims_for(state, token).await {
        Ok(body) => {
            let mut resp = axum::Json(body).into_response();
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => e.into_response(),
    }
}

fn bearer_error(e: OAuthError) -> ApiError {
    ApiError::new(e).with_challenge("Bearer")
}

async fn claims_for(state: &AppState, token: Option<&str>) -> Result<serde_json::Value, ApiError> {
    let token = token
        .ok_or_else(|| bearer_error(OAuthError::invalid_request("an access token is required")))?;
    let now = state.clock.now();
    let keys = state.keys.current();
    let at = state
        .verified_tokens
        .verify(&keys, &state.issuer, token, now)
        .map_err(|_| {
            bearer_error(OAuthError::invalid_token(
                "the access token is invalid or expired",
            ))
        })?;
    let Some(gid) = at.gid.as_deref() else {
        return Err(bearer_error(OAuthError::invalid_token(
            "this token was not issued for a user",
        )));
    };
    let scopes = ScopeSet::parse(&at.scope).unwrap_or_default();
    if !scopes.contains("openid") {
        let e = OAuthError::new(
            ErrorCode::InsufficientScope,
            "the token lacks the openid scope",
        );
        return Err(ApiError::new(e).with_challenge("Bearer"));
    }
    match users::by_access_token(&state.db, &at.sub, gid, &at.jti, now).await? {
        Some((user, true)) => Ok(serde_json::Value::Object(claims::release(
            &scopes,
            &user.person,
        ))),
        Some((_, false)) => Err(bearer_error(OAuthError::invalid_token(
            "the access token has been revoked",
        ))),
        None => Err(bearer_error(OAuthError::invalid_token(
            "the user no longer exists",
        ))),
    }
}
