//! The one place errors become HTTP: OAuth JSON errors (with `Cache-Control: no-store` and
//! `WWW-Authenticate` where the RFCs ask), and friendly HTML pages in Russian or English.
//! A 500 never shows internals: a reference id is shown and the detail goes to the log.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use consent_ui::Lang;

use crate::cache::CacheError;
use crate::protocol::{ErrorCode, OAuthError};
use crate::store::StoreError;

/// An error answered as OAuth JSON.
#[derive(Debug)]
pub struct ApiError {
    pub error: OAuthError,
    /// `WWW-Authenticate` scheme to challenge with (Basic for client auth, Bearer for tokens).
    pub challenge: Option<&'static str>,
}

impl ApiError {
    pub fn new(error: OAuthError) -> Self {
        Self {
            error,
            challenge: None,
        }
    }

    pub fn with_challenge(mut self, scheme: &'static str) -> Self {
        self.challenge = Some(scheme);
        self
    }
}

impl From<OAuthError> for ApiError {
    fn from(error: OAuthError) -> Self {
        ApiError::new(error)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::new(internal(
            &e.to_string(),
            matches!(e, StoreError::Unavailable(_)),
        ))
    }
}

impl From<CacheError> for ApiError {
    fn from(e: CacheError) -> Self {
        ApiError::new(internal(&e.to_string(), true))
    }
}

/// Logs the detail with a reference id and returns a generic error that names only the id.
pub fn internal(detail: &str, transient: bool) -> OAuthError {
    let reference = crate::crypto::random_token(6);
    if transient {
        tracing::warn!(reference = %reference, detail, "backing store unavailable");
        OAuthError::new(
            ErrorCode::TemporarilyUnavailable,
            format!("the service is temporarily unavailable, retry later (ref {reference})"),
        )
    } else {
        tracing::error!(reference = %reference, detail, "internal error");
        OAuthError::new(
            ErrorCode::ServerError,
            format!("internal error (ref {reference})"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.error.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let body = serde_json::json!({
            "error": self.error.code.as_str(),
            "error_description": self.error.safe_description(),
        });
        let mut resp = (status, axum::Json(body)).into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let Some(scheme) = self.challenge {
            let value = if scheme == "Bearer" && self.error.code != ErrorCode::InvalidRequest {
                format!(
                    r#"Bearer error="{}", error_description="{}""#,
                    self.error.code.as_str(),
                    self.error.safe_description()
                )
            } else if scheme == "Bearer" {
                "Bearer".to_string()
            } else {
                format!(r#"{scheme} realm="idp""#)
            };
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            h.insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
        resp
    }
}

/// An error shown to a person as a page.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub lang: Lang,
    /// A message key of `consent_ui::message`.
    pub message: &'static str,
    pub reference: Option<String>,
}

impl PageError {
    pub fn new(status: StatusCode, lang: Lang, message: &'static str) -> Self {
        Self {
            status,
            lang,
            message,
            reference: None,
        }
    }

    pub fn bad_request(lang: Lang, message: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, lang, message)
    }

    pub fn from_store(lang: Lang, e: impl std::fmt::Display, transient: bool) -> Self {
        let err = internal(&e.to_string(), transient);
        let reference = err
            .description
            .rsplit("ref ")
            .next()
            .map(|s| s.trim_end_matches(')').to_string());
        if transient {
            Self {
                status: StatusCode::SERVICE_UNAVAILABLE,
                lang,
                message: "unavailable",
                reference,
            }
        } else {
            Self {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                lang,
                message: "server_error",
                reference,
            }
        }
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        let transient = matches!(e, StoreError::Unavailable(_));
        PageError::from_store(Lang::Ru, e, transient)
    }
}

impl From<CacheError> for PageError {
    fn from(e: CacheError) -> Self {
        PageError::from_store(Lang::Ru, e, true)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title_key = match self.status.as_u16() {
            404 => "not_found",
            400 => "bad_request_title",
            _ => "error_title",
        };
        let html = consent_ui::render_error(&consent_ui::ErrorPage {
            lang: self.lang,
            title: consent_ui::message(title_key, self.lang),
            message: consent_ui::message(self.message, self.lang),
            correlation_id: self.reference.as_deref(),
        });
        let mut resp = (self.status, Html(html)).into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn oauth_errors_map_to_status_and_headers() {
        let table = [
            (
                ErrorCode::InvalidClient,
                Some("Basic"),
                401,
                Some(r#"Basic realm="idp""#),
            ),
            (ErrorCode::InvalidGrant, None, 400, None),
            (
                ErrorCode::InvalidToken,
                Some("Bearer"),
                401,
                Some(r#"Bearer error="invalid_token", error_description="x""#),
            ),
            (ErrorCode::TemporarilyUnavailable, None, 503, None),
        ];
        for (code, challenge, status, www) in table {
            let mut e = ApiError::new(OAuthError::new(code, "x"));
            e.challenge = challenge;
            let resp = e.into_response();
            assert_eq!(resp.status().as_u16(), status, "{code:?}");
            assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
            assert_eq!(
                resp.headers()
                    .get(header::WWW_AUTHENTICATE)
                    .map(|v| v.to_str().unwrap()),
                www
            );
        }
    }

    #[test]
    fn internal_errors_hide_the_detail() {
        let e = internal("password authentication failed for user secret_user", false);
        assert_eq!(e.code, ErrorCode::ServerError);
        assert!(!e.description.contains("secret_user"));
        assert!(e.description.contains("ref "));
    }
}
