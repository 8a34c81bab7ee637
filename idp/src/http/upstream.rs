//! Identity confirmation through a bank: `GET /upstream/{id}/start` sends a logged-in person to
//! the bank's authorization endpoint, `GET /upstream/{id}/callback` takes the bank's answer and
//! shows the outcome. The flow itself lives in `domain/upstream.rs`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use consent_ui::{Lang, UpstreamMessage, UpstreamPage};
use serde::Deserialize;

use super::errors::PageError;
use super::{cookies, extract};
use crate::app::AppState;
use crate::config::UpstreamConfig;
use crate::domain::login;
use crate::domain::upstream::{self, Callback, Outcome, UpstreamError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/upstream/{id}/start", get(start))
        .route("/upstream/{id}/callback", get(callback))
}

#[derive(Deserialize)]
struct StartQuery {
    /// An authorization flow to return to afterwards.
    tx: Option<String>,
    /// Only `confirm` for now.
    purpose: Option<String>,
    lang: Option<String>,
}

#[derive(Deserialize)]
struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    #[allow(dead_code)]
    error_description: Option<String>,
    #[allow(dead_code)]
    iss: Option<String>,
}

async fn start(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<StartQuery>,
) -> Result<Response, PageError> {
    let lang = extract::lang(&headers, q.lang.as_deref(), None);
    let bank = upstream::find(&state, &id)
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, lang, "not_found"))?;
    if q.purpose.as_deref().is_some_and(|p| p != "confirm") {
        return Err(PageError::bad_request(lang, "bad_request"));
    }
    let Some((_, user)) =
        login::current(&state, cookies::read(&headers, cookies::SESSION).as_deref()).await?
    else {
        return Ok(outcome_page(
            lang,
            bank,
            UpstreamMessage::LoginRequired,
            "",
            None,
        ));
    };
    let (csrf, set_cookie) = cookies::csrf_for_page(&state, &headers);
    let tx = q.tx.filter(|t| is_token(t));
    let mut resp = match upstream::start(&state, bank, &user, &csrf, tx.clone()).await {
        Ok(url) => redirect(&url),
        Err(e) => error_page(lang, bank, e, &continue_url(tx.as_deref())),
    };
    if let Some(c) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

async fn callback(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<CallbackQuery>,
) -> Result<Response, PageError> {
    let lang = extract::lang(&headers, None, None);
    let bank = upstream::find(&state, &id)
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, lang, "not_found"))?;
    let Some((_, user)) =
        login::current(&state, cookies::read(&headers, cookies::SESSION).as_deref()).await?
    else {
        return Ok(outcome_page(
            lang,
            bank,
            UpstreamMessage::LoginRequired,
            "",
            None,
        ));
    };
    // Without a CSRF cookie this is a fresh token that matches no pending login.
    let (browser, _) = cookies::csrf_for_page(&state, &headers);
    let cb = Callback {
        state: q.state.unwrap_or_default(),
        code: q.code,
        error: q.error,
    };
    Ok(
        match upstream::finish(&state, bank, &user, &browser, cb).await {
            Ok((outcome, tx)) => {
                let message = match outcome {
                    Outcome::Confirmed => UpstreamMessage::Confirmed,
                    Outcome::Matched => UpstreamMessage::Matched,
                };
                let next = continue_url(tx.as_deref());
                outcome_page(lang, bank, message, &next, Some(StatusCode::OK))
            }
            Err(e) => error_page(lang, bank, e, ""),
        },
    )
}

fn error_page(lang: Lang, bank: &UpstreamConfig, e: UpstreamError, next: &str) -> Response {
    let (message, status) = match e {
        UpstreamError::NotStandard => (UpstreamMessage::NeedStandard, StatusCode::FORBIDDEN),
        UpstreamError::AlreadyConfirmed => (UpstreamMessage::AlreadyConfirmed, StatusCode::OK),
        UpstreamError::Verifying => (UpstreamMessage::Verifying, StatusCode::CONFLICT),
        UpstreamError::BadState => (UpstreamMessage::BadState, StatusCode::BAD_REQUEST),
        UpstreamError::Denied(_) => (UpstreamMessage::Denied, StatusCode::OK),
        UpstreamError::Mismatch => (UpstreamMessage::Mismatch, StatusCode::FORBIDDEN),
        UpstreamError::Unknown => (UpstreamMessage::BankFailed, StatusCode::NOT_FOUND),
        UpstreamError::Bank(ref detail) => {
            tracing::warn!(upstream = %bank.id, %detail, "upstream provider refused or misbehaved");
            (UpstreamMessage::BankFailed, StatusCode::BAD_GATEWAY)
        }
        UpstreamError::Store(ref err) => {
            tracing::error!(upstream = %bank.id, error = %err, "upstream confirmation failed");
            (UpstreamMessage::BankFailed, StatusCode::SERVICE_UNAVAILABLE)
        }
    };
    // Going back to the website makes sense only when nothing failed on our side.
    let next = if message == UpstreamMessage::AlreadyConfirmed {
        next
    } else {
        ""
    };
    outcome_page(lang, bank, message, next, Some(status))
}

fn outcome_page(
    lang: Lang,
    bank: &UpstreamConfig,
    message: UpstreamMessage,
    next: &str,
    status: Option<StatusCode>,
) -> Response {
    let status = status.unwrap_or(StatusCode::UNAUTHORIZED);
    let html = consent_ui::render_upstream(&UpstreamPage {
        lang,
        message,
        bank: &bank.name,
        continue_url: next,
        other_lang_url: "",
    });
    let mut resp = (status, Html(html)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn redirect(url: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(url) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn continue_url(tx: Option<&str>) -> String {
    tx.map(|t| format!("/consent?tx={t}")).unwrap_or_default()
}

fn is_token(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
