//! The userinfo endpoint: GET or POST, the token in the `Authorization` header or (POST) in
//! the form body. Revoked tokens are refused.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
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
    respond(&state, &headers, extract::bearer(&headers)).await
}

pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let from_body = if body.is_empty() {
        BodyToken::default()
    } else {
        match parse_form::<BodyToken>(&body) {
            Ok(form) => form,
            Err(e) => return e.with_challenge("Bearer").into_response(),
        }
    };
    let header_token = extract::bearer(&headers);
    if header_token.is_some() && from_body.access_token.is_some() {
        return bearer_error(OAuthError::invalid_request(
            "send the token in one place only",
        ))
        .into_response();
    }
    respond(
        &state,
        &headers,
        header_token.or(from_body.access_token.as_deref()),
    )
    .await
}

async fn respond(state: &AppState, headers: &HeaderMap, token: Option<&str>) -> Response {
    let Some(token) = token else {
        if headers.contains_key(header::AUTHORIZATION) {
            return bearer_error(OAuthError::invalid_request(
                "the Authorization header carries no bearer token",
            ))
            .into_response();
        }
        return missing_token();
    };
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

/// RFC 6750 §3.1: a request without any authentication gets 401 and a bare `Bearer`
/// challenge, with no error code. (A malformed `Authorization` header is `invalid_request`.)
fn missing_token() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::WWW_AUTHENTICATE, "Bearer"),
            (header::CACHE_CONTROL, "no-store"),
        ],
    )
        .into_response()
}

fn bearer_error(e: OAuthError) -> ApiError {
    ApiError::new(e).with_challenge("Bearer")
}

async fn claims_for(state: &AppState, token: &str) -> Result<serde_json::Value, ApiError> {
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
        Some((user, true)) => {
            let mut released = claims::release(&scopes, &user.person);
            crate::domain::verification::release_documents(state, &user, &scopes, &mut released)
                .await?;
            crate::domain::profile::add_claims(state, &scopes, &user, &mut released).await?;
            Ok(serde_json::Value::Object(released))
        }
        Some((_, false)) => Err(bearer_error(OAuthError::invalid_token(
            "the access token has been revoked",
        ))),
        None => Err(bearer_error(OAuthError::invalid_token(
            "the user no longer exists",
        ))),
    }
}
