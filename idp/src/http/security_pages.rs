//! The security pages of the personal account (forms for browsers without JavaScript, over
//! the same domain functions as the JSON APIs `/api/security/...`):
//!
//! - `GET|POST /profile/security/two-step` ([`two_step`]): the authenticator app (enrolment
//!   with a QR code, the first code, ten recovery codes shown once, disabling after the
//!   password) and the login settings (`store::login_settings`);
//! - `GET|POST /profile/security/password` ([`password`]): the password change, which ends
//!   every other session of the person;
//! - `GET|POST /profile/security/question`: the secret question (set, replace, remove;
//!   always after the password);
//! - `GET /profile/security/signature`: the certificates the person logged in with.
//!
//! Every POST carries the page's `csrf`; a change that succeeds redirects back with
//! `?done=` (post/redirect/get), except the two answers that show something once (the
//! recovery codes). A refusal shows the page again with the message in the page's language.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use consent_ui::{Lang, SecurityFrame};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::secret_question::{self, SetError};
use crate::http::errors::PageError;
use crate::http::profile::{Visit, no_store, visit};
use crate::http::{cookies, extract};
use crate::store::recovery;

mod password;
mod signature_certs;
mod two_step;

pub(crate) const TWO_STEP: &str = "/profile/security/two-step";
pub(crate) const PASSWORD: &str = "/profile/security/password";
pub(crate) const QUESTION: &str = "/profile/security/question";
pub(crate) const SIGNATURE: &str = "/profile/security/signature";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(TWO_STEP, get(two_step::page).post(two_step::submit))
        .route(PASSWORD, get(password::page).post(password::submit))
        .route(QUESTION, get(question_page).post(question_submit))
        .route(SIGNATURE, get(signature_certs::page))
}

#[derive(Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    done: Option<String>,
}

/// Every field the security forms post; each action reads its own.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Form {
    csrf: String,
    lang: Option<String>,
    action: String,
    code: String,
    password: String,
    current: String,
    again: String,
    always: String,
    preferred: String,
    question: String,
    answer: String,
}

/// What a page shows besides its stored data.
#[derive(Default)]
struct Extra {
    errors: Vec<String>,
    notice: Option<&'static str>,
    recovery_codes: Vec<String>,
    typed: String,
}

/// Parses the form and checks its CSRF token; a refusal is the page with the message.
async fn submitted<F, Fut>(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    render: F,
) -> Result<(Visit, Form), Response>
where
    F: FnOnce(Visit, Extra) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let form: Form = extract::parse_form(body).map_err(|_| {
        PageError::bad_request(extract::lang(headers, None, None), "bad_request").into_response()
    })?;
    let v = visit(state, headers, form.lang.as_deref()).await?;
    if !cookies::csrf_ok(state, headers, &form.csrf) {
        let extra = Extra {
            errors: vec![consent_ui::message("csrf_failed", v.lang).to_string()],
            ..Extra::default()
        };
        let mut resp = render(v, extra).await;
        *resp.status_mut() = StatusCode::FORBIDDEN;
        return Err(resp);
    }
    Ok((v, form))
}

/// The page as HTML with `no-store` and the CSRF cookie if it was new.
fn html(v: &Visit, html: String, status: StatusCode) -> Response {
    let mut resp = no_store((status, Html(html)).into_response());
    if let Some(c) = &v.set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    resp
}

/// Post/redirect/get: back to the page with a notice.
fn done(path: &str, lang: Lang, what: &str) -> Response {
    Redirect::to(&format!("{path}?lang={}&done={what}", lang.code())).into_response()
}

fn tr(lang: Lang, ru: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::Ru { ru } else { en }
}

/// The notice of a `?done=` value.
fn notice(done: Option<&str>, lang: Lang) -> Option<&'static str> {
    Some(match done? {
        "started" => tr(
            lang,
            "Отсканируйте QR-код и введите код из приложения.",
            "Scan the QR code and enter the code from the app.",
        ),
        "cancelled" => tr(
            lang,
            "Подключение приложения отменено.",
            "Connecting the app was cancelled.",
        ),
        "disabled" => tr(
            lang,
            "Вход с кодом из приложения отключён.",
            "Login with an app code is turned off.",
        ),
        "settings" => tr(lang, "Настройки входа сохранены.", "Login settings saved."),
        "password" => tr(
            lang,
            "Пароль изменён. Все другие сеансы входа завершены.",
            "The password was changed. Every other login session has ended.",
        ),
        "question_set" => tr(
            lang,
            "Контрольный вопрос сохранён.",
            "The secret question was saved.",
        ),
        "question_cleared" => tr(
            lang,
            "Контрольный вопрос удалён.",
            "The secret question was removed.",
        ),
        _ => return None,
    })
}

/// "Wrong password" and "locked" in the page's language.
fn wrong_password(lang: Lang) -> String {
    tr(lang, "Неверный пароль.", "Wrong password.").to_string()
}

fn locked(lang: Lang) -> String {
    tr(
        lang,
        "Слишком много неудачных попыток ввода пароля. Повторите позже.",
        "Too many wrong passwords. Try again later.",
    )
    .to_string()
}

fn frame<'a>(v: &'a Visit, name: &'a str, extra: &'a Extra) -> SecurityFrame<'a> {
    SecurityFrame {
        lang: v.lang,
        csrf: &v.csrf,
        user_display_name: name,
        errors: &extra.errors,
        notice: extra.notice,
    }
}

// --- the secret question -------------------------------------------------------------

async fn render_question(state: &AppState, v: Visit, extra: Extra, status: StatusCode) -> Response {
    let current = match recovery::secret_question(&state.db, &v.user.id).await {
        Ok(q) => q.map(|q| q.question),
        Err(e) => return PageError::from(e).into_response(),
    };
    let name = v.user.person.full_name();
    let page = consent_ui::render_security_question(
        &frame(&v, &name, &extra),
        current.as_deref(),
        &extra.typed,
    );
    html(&v, page, status)
}

async fn question_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<PageQuery>,
) -> Response {
    let v = match visit(&state, &headers, q.lang.as_deref()).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let extra = Extra {
        notice: notice(q.done.as_deref(), v.lang),
        ..Extra::default()
    };
    render_question(&state, v, extra, StatusCode::OK).await
}

async fn question_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (v, form) = match submitted(&state, &headers, &body, |v, e| {
        render_question(&state, v, e, StatusCode::FORBIDDEN)
    })
    .await
    {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let new = match form.action.as_str() {
        "set" => Some((form.question.as_str(), form.answer.as_str())),
        "clear" => None,
        _ => return PageError::bad_request(v.lang, "bad_request").into_response(),
    };
    let lang = v.lang;
    let result = secret_question::set(&state, &v.user, new, &form.password, Some(peer.ip())).await;
    let (status, message) = match result {
        Ok(()) => {
            let what = if new.is_some() {
                "question_set"
            } else {
                "question_cleared"
            };
            return done(QUESTION, lang, what);
        }
        Err(SetError::WrongPassword) => (StatusCode::FORBIDDEN, wrong_password(lang)),
        Err(SetError::Locked) => (StatusCode::TOO_MANY_REQUESTS, locked(lang)),
        Err(SetError::Invalid(p)) => (StatusCode::UNPROCESSABLE_ENTITY, p.ru()),
        Err(SetError::Store(e)) => return PageError::from(e).into_response(),
        Err(SetError::Cache(e)) => return PageError::from(e).into_response(),
        Err(SetError::Hash(e)) => return PageError::from_store(lang, e, false).into_response(),
    };
    let extra = Extra {
        errors: vec![message],
        typed: form.question.clone(),
        ..Extra::default()
    };
    render_question(&state, v, extra, status).await
}
