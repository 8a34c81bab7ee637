//! The security settings API: the secret question asked during password recovery.
//!
//! `GET /api/security/secret-question` → `{"question": "…" | null}`.
//! `PUT /api/security/secret-question` with `{"password", "question", "answer"}` sets it, with
//! `{"password", "question": null}` clears it. Both need the SSO session cookie; the PUT also
//! needs `X-CSRF-Token` (the form token of any page of this browser) and the current password.
//! Errors are `{"error": code, "message": Russian text}`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::cookies;
use crate::app::AppState;
use crate::domain::login;
use crate::domain::secret_question::{self, SetError};
use crate::store::StoreError;
use crate::store::recovery;
use crate::store::users::User;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetRequest {
    password: String,
    question: Option<String>,
    answer: Option<String>,
}

pub async fn get(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let user = match session_user(&state, &headers).await {
        Ok(u) => u,
        Err(resp) => return resp,
    };
    match recovery::secret_question(&state.db, &user.id).await {
        Ok(q) => ok(q.map(|q| q.question)),
        Err(e) => store_error(e),
    }
}

pub async fn put(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let user = match session_user(&state, &headers).await {
        Ok(u) => u,
        Err(resp) => return resp,
    };
    let token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !cookies::csrf_ok(&state, &headers, token) {
        return error(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            "Запрос отклонён: нет или неверен заголовок X-CSRF-Token. Обновите страницу и попробуйте снова.",
        );
    }
    let Ok(req) = serde_json::from_slice::<SetRequest>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Некорректный запрос: ожидается JSON с полями password, question и answer.",
        );
    };
    let new = match (&req.question, &req.answer) {
        (Some(q), Some(a)) => Some((q.as_str(), a.as_str())),
        (Some(_), None) => {
            return error(
                StatusCode::BAD_REQUEST,
                "answer_required",
                "Введите ответ на контрольный вопрос.",
            );
        }
        (None, _) => None,
    };
    let question = new.map(|(q, a)| secret_question::validate(q, a));
    match secret_question::set(&state, &user, new, &req.password, Some(peer.ip())).await {
        Ok(()) => ok(question.and_then(Result::ok)),
        Err(SetError::WrongPassword) => {
            error(StatusCode::FORBIDDEN, "wrong_password", "Неверный пароль.")
        }
        Err(SetError::Locked) => error(
            StatusCode::TOO_MANY_REQUESTS,
            "locked",
            "Слишком много неудачных попыток ввода пароля. Повторите позже.",
        ),
        Err(SetError::Invalid(p)) => error(StatusCode::BAD_REQUEST, p.code(), &p.ru()),
        Err(SetError::Store(e)) => store_error(e),
        Err(SetError::Cache(e)) => internal(&e.to_string(), true),
        Err(SetError::Hash(e)) => internal(&e, false),
    }
}

/// The logged-in user, or a 401 answer.
async fn session_user(state: &AppState, headers: &HeaderMap) -> Result<User, Response> {
    let cookie = cookies::read(headers, cookies::SESSION);
    match login::current(state, cookie.as_deref()).await {
        Ok(Some((_, user))) => Ok(user),
        Ok(None) => Err(error(
            StatusCode::UNAUTHORIZED,
            "login_required",
            "Войдите в учётную запись.",
        )),
        Err(e) => Err(store_error(e)),
    }
}

fn ok(question: Option<String>) -> Response {
    with_no_store((StatusCode::OK, axum::Json(json!({ "question": question }))).into_response())
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "error": code, "message": message });
    with_no_store((status, axum::Json(body)).into_response())
}

fn store_error(e: StoreError) -> Response {
    let transient = matches!(e, StoreError::Unavailable(_));
    internal(&e.to_string(), transient)
}

/// Logs the detail under a reference and answers with the reference only.
fn internal(detail: &str, transient: bool) -> Response {
    let e = super::errors::internal(detail, transient);
    let reference = e
        .description
        .rsplit("ref ")
        .next()
        .unwrap_or("")
        .trim_end_matches(')');
    if transient {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            &format!("Сервис временно недоступен. Попробуйте позже (код обращения {reference})."),
        )
    } else {
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            &format!("Внутренняя ошибка. Попробуйте позже (код обращения {reference})."),
        )
    }
}

fn with_no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
