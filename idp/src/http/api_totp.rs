//! The authenticator-app API (two-step login):
//!
//! - `POST /api/security/totp` → `{"secret": base32, "uri": "otpauth://totp/..."}` starts an
//!   enrolment (the QR code of the URI is drawn by the cabinet; the secret is for typing in).
//! - `POST /api/security/totp/confirm` with `{"code"}` → `{"recovery_codes": [10 codes]}`
//!   (shown once; stored hashed). From then on, logins ask for a code after the password.
//! - `DELETE /api/security/totp` with `{"password"}` turns it off.
//!
//! All need the SSO session cookie and `X-CSRF-Token` (the form token of any page of this
//! browser). Errors are `{"error": code, "message": Russian text}`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::cookies;
use crate::app::AppState;
use crate::domain::login;
use crate::domain::mfa::{self, MfaError};
use crate::store::users::User;

#[derive(Deserialize)]
struct ConfirmRequest {
    code: String,
}

#[derive(Deserialize)]
struct DisableRequest {
    password: String,
}

pub async fn enrol(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let user = match authorised(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    match mfa::enrol(&state, &user).await {
        Ok(e) => ok(json!({ "secret": e.secret, "uri": e.uri })),
        Err(e) => failure(e),
    }
}

pub async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let user = match authorised(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let Ok(req) = serde_json::from_slice::<ConfirmRequest>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Некорректный запрос: ожидается JSON с полем code.",
        );
    };
    match mfa::confirm(&state, &user, &req.code).await {
        Ok(codes) => ok(json!({ "recovery_codes": codes })),
        Err(e) => failure(e),
    }
}

pub async fn disable(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let user = match authorised(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let Ok(req) = serde_json::from_slice::<DisableRequest>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Некорректный запрос: ожидается JSON с полем password.",
        );
    };
    match mfa::disable(&state, &user, &req.password, Some(peer.ip())).await {
        Ok(()) => ok(json!({ "enabled": false })),
        Err(e) => failure(e),
    }
}

/// The logged-in user of a request carrying a valid `X-CSRF-Token`, or the error answer.
async fn authorised(state: &AppState, headers: &HeaderMap) -> Result<User, Response> {
    let cookie = cookies::read(headers, cookies::SESSION);
    let user = match login::current(state, cookie.as_deref()).await {
        Ok(Some((_, user))) => user,
        Ok(None) => {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "login_required",
                "Войдите в учётную запись.",
            ));
        }
        Err(e) => return Err(failure(MfaError::Store(e))),
    };
    let token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !cookies::csrf_ok(state, headers, token) {
        return Err(error(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            "Запрос отклонён: нет или неверен заголовок X-CSRF-Token. Обновите страницу и попробуйте снова.",
        ));
    }
    Ok(user)
}

fn failure(e: MfaError) -> Response {
    match e {
        MfaError::AlreadyEnabled => error(
            StatusCode::CONFLICT,
            "already_enabled",
            "Вход с кодом из приложения уже включён. Чтобы подключить другое приложение, сначала отключите его.",
        ),
        MfaError::NotStarted => error(
            StatusCode::CONFLICT,
            "not_started",
            "Сначала начните подключение приложения-аутентификатора.",
        ),
        MfaError::NotEnabled => error(
            StatusCode::NOT_FOUND,
            "not_enabled",
            "Вход с кодом из приложения не включён.",
        ),
        MfaError::WrongCode => error(
            StatusCode::BAD_REQUEST,
            "wrong_code",
            "Неверный код. Введите текущий код из приложения.",
        ),
        MfaError::WrongPassword => {
            error(StatusCode::FORBIDDEN, "wrong_password", "Неверный пароль.")
        }
        MfaError::Locked => error(
            StatusCode::TOO_MANY_REQUESTS,
            "locked",
            "Слишком много неудачных попыток. Повторите позже.",
        ),
        MfaError::Store(e) => internal(
            &e.to_string(),
            matches!(e, crate::store::StoreError::Unavailable(_)),
        ),
        MfaError::Cache(e) => internal(&e.to_string(), true),
    }
}

fn internal(detail: &str, transient: bool) -> Response {
    let e = super::errors::internal(detail, transient);
    let (status, code, message) = if transient {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "Сервис временно недоступен. Повторите попытку позже.",
        )
    } else {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Внутренняя ошибка сервера.",
        )
    };
    let reference = e
        .description
        .rsplit("ref ")
        .next()
        .unwrap_or("")
        .trim_end_matches(')');
    let body =
        json!({ "error": code, "message": format!("{message} Код обращения: {reference}.") });
    with_no_store((status, axum::Json(body)).into_response())
}

fn ok(body: serde_json::Value) -> Response {
    with_no_store((StatusCode::OK, axum::Json(body)).into_response())
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "error": code, "message": message });
    with_no_store((status, axum::Json(body)).into_response())
}

fn with_no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
