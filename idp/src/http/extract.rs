//! Request extractors that fail in the protocol's own terms: a bad form body at an OAuth
//! endpoint is `invalid_request` JSON, never axum's plain-text rejection.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use consent_ui::Lang;
use serde::de::DeserializeOwned;

use super::errors::{ApiError, PageError};
use crate::protocol::OAuthError;

/// A `application/x-www-form-urlencoded` body for OAuth endpoints.
pub struct OAuthForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OAuthForm<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let form_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';').next().is_some_and(|m| {
                    m.trim()
                        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                })
            });
        if !form_type {
            return Err(OAuthError::invalid_request(
                "the body must be application/x-www-form-urlencoded",
            )
            .into());
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| {
                ApiError::from(OAuthError::invalid_request(
                    "the request body is too large or unreadable",
                ))
            })?;
        parse_form(&bytes).map(OAuthForm)
    }
}

/// The query string of a page. A malformed one (say, a repeated parameter) gets the
/// friendly "bad request" page, not axum's plain-text rejection.
pub struct PageParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for PageParams<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, PageError> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or(""))
            .map(PageParams)
            .map_err(|_| PageError::bad_request(lang(&parts.headers, None, None), "bad_request"))
    }
}

/// Parses a urlencoded form; a repeated parameter is an error (RFC 6749 §3.1).
pub fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_urlencoded::from_bytes(bytes).map_err(|e| {
        let msg = if e.to_string().contains("duplicate") {
            "a parameter is repeated"
        } else {
            "the form cannot be parsed"
        };
        ApiError::from(OAuthError::invalid_request(msg))
    })
}

/// The language of a page: `lang` parameter, then `ui_locales`, then Accept-Language.
pub fn lang(headers: &HeaderMap, explicit: Option<&str>, ui_locales: Option<&str>) -> Lang {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::negotiate(explicit, ui_locales, accept)
}

/// The bearer token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}
