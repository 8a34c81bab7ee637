//! Shared pieces of the JSON API under `/api/...`: the signed-in person from the SSO session
//! cookie, the CSRF header check for state changes (`X-CSRF-Token`, the same token a page's
//! form carries), JSON bodies, and errors answered as `{ "error": code, "message": Russian }`.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::cookies;
use crate::app::AppState;
use crate::domain::documents::Problem;
use crate::domain::login;
use crate::store::StoreError;
use crate::store::sessions::Session;
use crate::store::users::User;

/// The header that carries the CSRF token on state-changing API calls.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An API error: status, a stable code, and a message for people in Russian.
#[derive(Debug)]
pub struct JsonError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Which input fields were wrong, when the error is about input.
    pub fields: Vec<Problem>,
}

impl JsonError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// 422 with one message per wrong field.
    pub fn invalid(problems: Vec<Problem>) -> Self {
        let message = problems.iter().map(|p| p.ru).collect::<Vec<_>>().join(" ");
        Self {
            fields: problems,
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_data", message)
        }
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Войдите в учётную запись, чтобы продолжить.",
        )
    }
}

impl From<StoreError> for JsonError {
    fn from(e: StoreError) -> Self {
        let transient = matches!(e, StoreError::Unavailable(_));
        let reference = crate::crypto::random_token(6);
        tracing::error!(reference = %reference, error = %e, "API request failed");
        let (status, code) = if transient {
            (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
        } else {
            (StatusCode::INTERNAL_SERVER_ERROR, "server_error")
        };
        Self::new(
            status,
            code,
            format!("Сервис временно недоступен. Попробуйте позже (код {reference})."),
        )
    }
}

impl IntoResponse for JsonError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": self.code, "message": self.message });
        if !self.fields.is_empty() {
            body["fields"] = self
                .fields
                .iter()
                .map(|p| serde_json::json!({ "field": p.field, "message": p.ru }))
                .collect();
        }
        let mut resp = (self.status, axum::Json(body)).into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}

/// A JSON answer with `Cache-Control: no-store` (personal data).
pub fn ok(status: StatusCode, body: serde_json::Value) -> Response {
    let mut resp = (status, axum::Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The person signed in by the SSO session cookie.
pub async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Session, User), JsonError> {
    let cookie = cookies::read(headers, cookies::SESSION);
    login::current(state, cookie.as_deref())
        .await?
        .ok_or_else(JsonError::unauthenticated)
}

/// The signed-in person, for a state-changing call: the CSRF header must match the browser's
/// CSRF cookie.
pub async fn signed_in_for_change(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Session, User), JsonError> {
    let who = signed_in(state, headers).await?;
    let token = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if token.is_empty() || !cookies::csrf_ok(state, headers, token) {
        return Err(JsonError::new(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            "Запрос отклонён: обновите страницу и повторите действие.",
        ));
    }
    Ok(who)
}

/// Parses a JSON body; anything else is a clear 400.
pub fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, JsonError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(JsonError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "Данные нужно отправить в формате JSON (Content-Type: application/json).",
        ));
    }
    serde_json::from_slice(body).map_err(|_| {
        JsonError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Не удалось прочитать данные запроса: проверьте формат JSON и названия полей.",
        )
    })
}
