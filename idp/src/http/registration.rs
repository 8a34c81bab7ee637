//! The registration pages: `/register` (names and contacts), `/register/code` (the SMS or
//! e-mail code, and resending), `/register/email` (the e-mail link), `/register/password`
//! (the password, or a generated one). On success the person is logged in and, when the
//! registration started from an authorization request (`tx`), the flow continues.

mod code;
mod link;
mod password;

pub use code::{code_page, code_submit};
pub use link::{link_page, link_submit};
pub use password::{password_page, password_submit};

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use consent_ui::Lang;
use serde::Deserialize;

use super::errors::PageError;
use super::{cookies, extract};
use crate::app::AppState;
use crate::domain::authorization::AuthTx;
use crate::domain::registration::{self, Draft, RegError, UnverifiedApplicant};

#[derive(Deserialize)]
pub struct StartQuery {
    tx: Option<String>,
    lang: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StartForm {
    tx: String,
    csrf: String,
    lang: Option<String>,
    surname: String,
    given_name: String,
    middle_name: String,
    phone: String,
    email: String,
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StartQuery>,
) -> Result<Response, PageError> {
    let tx = match q.tx.as_deref() {
        Some(id) => AuthTx::load(&state, id).await?,
        None => None,
    };
    let lang = extract::lang(
        &headers,
        q.lang.as_deref(),
        tx.as_ref().and_then(|t| t.request.ui_locales.as_deref()),
    );
    let form = StartForm {
        tx: tx.map(|t| t.id).unwrap_or_default(),
        ..StartForm::default()
    };
    Ok(render_start(&state, &headers, lang, &form, None, StatusCode::OK).await)
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let fallback = extract::lang(&headers, None, None);
    let form: StartForm =
        extract::parse_form(&body).map_err(|_| PageError::bad_request(fallback, "bad_request"))?;
    let lang = extract::lang(&headers, form.lang.as_deref(), None);
    if !cookies::csrf_ok(&state, &headers, &form.csrf) {
        let e = vec![consent_ui::message("csrf_failed", lang).to_string()];
        return Ok(render_start(
            &state,
            &headers,
            lang,
            &form,
            Some(e),
            StatusCode::FORBIDDEN,
        )
        .await);
    }
    let tx = match form.tx.as_str() {
        "" => None,
        id => AuthTx::load(&state, id).await?.map(|t| t.id),
    };
    let applicant = UnverifiedApplicant {
        surname: &form.surname,
        given_name: &form.given_name,
        middle_name: &form.middle_name,
        phone: &form.phone,
        email: &form.email,
    };
    match registration::start(&state, &applicant, tx, &peer.ip().to_string()).await {
        Ok(draft) => Ok(see_other(&format!(
            "/register/code?reg={}&lang={}",
            draft.id,
            lang.code()
        ))),
        Err(e @ (RegError::Store(_) | RegError::Cache(_))) => Err(page_error(e)),
        Err(e) => {
            let status = status_of(&e);
            let invalid = match &e {
                RegError::Form(ps) => ps.iter().map(|p| p.field()).collect(),
                RegError::Unavailable => vec!["phone", "email"],
                _ => Vec::new(),
            };
            let mut resp = render_start_with(
                &state,
                &headers,
                lang,
                &form,
                &messages(&e, lang),
                &invalid,
                status,
            )
            .await;
            no_store(&mut resp);
            Ok(resp)
        }
    }
}

async fn render_start(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    form: &StartForm,
    errors: Option<Vec<String>>,
    status: StatusCode,
) -> Response {
    render_start_with(
        state,
        headers,
        lang,
        form,
        &errors.unwrap_or_default(),
        &[],
        status,
    )
    .await
}

async fn render_start_with(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    form: &StartForm,
    errors: &[String],
    invalid: &[&str],
    status: StatusCode,
) -> Response {
    let client_name = match form.tx.as_str() {
        "" => None,
        id => match AuthTx::load(state, id).await.ok().flatten() {
            Some(tx) => state
                .clients
                .get(&state.db, &tx.request.client_id)
                .await
                .ok()
                .flatten()
                .map(|c| c.name.clone()),
            None => None,
        },
    };
    let (csrf, set_cookie) = cookies::csrf_for_page(state, headers);
    let other = format!(
        "/register?tx={}&lang={}",
        url_part(&form.tx),
        lang.other().code()
    );
    let html = consent_ui::render_register(&consent_ui::RegisterPage {
        lang,
        tx: &form.tx,
        csrf: &csrf,
        client_name: client_name.as_deref(),
        surname: &form.surname,
        given_name: &form.given_name,
        middle_name: &form.middle_name,
        phone: &form.phone,
        email: &form.email,
        errors,
        invalid,
        other_lang_url: &other,
    });
    page_response(html, status, set_cookie)
}

/// Keeps the authorization request alive while the person registers.
pub(super) async fn touch_tx(state: &AppState, draft: &Draft) {
    if let Some(id) = &draft.tx
        && let Ok(Some(tx)) = AuthTx::load(state, id).await
    {
        let _ = tx.save(state).await;
    }
}

pub(super) fn messages(e: &RegError, lang: Lang) -> Vec<String> {
    e.messages(lang == Lang::Ru)
}

pub(super) fn status_of(e: &RegError) -> StatusCode {
    match e {
        RegError::TooSoon(_) | RegError::DailyCap | RegError::AddressCap => {
            StatusCode::TOO_MANY_REQUESTS
        }
        RegError::Store(_) | RegError::Cache(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

pub(super) fn page_error(e: RegError) -> PageError {
    match e {
        RegError::Store(e) => PageError::from(e),
        RegError::Cache(e) => PageError::from(e),
        _ => PageError::bad_request(Lang::Ru, "bad_request"),
    }
}

pub(super) fn password_url(draft: &Draft, lang: Lang) -> String {
    format!("/register/password?reg={}&lang={}", draft.id, lang.code())
}

fn url_part(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub(super) fn expired(lang: Lang) -> Response {
    message_page(
        lang,
        &RegError::Expired.messages(lang == Lang::Ru).join(" "),
        StatusCode::BAD_REQUEST,
    )
}

pub(super) fn message_page(lang: Lang, message: &str, status: StatusCode) -> Response {
    let html = consent_ui::render_error(&consent_ui::ErrorPage {
        lang,
        title: consent_ui::message("error_title", lang),
        message,
        correlation_id: None,
    });
    page_response(html, status, None)
}

pub(super) fn page_response(
    html: String,
    status: StatusCode,
    set_cookie: Option<HeaderValue>,
) -> Response {
    let mut resp = (status, Html(html)).into_response();
    if let Some(c) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    no_store(&mut resp);
    resp
}

pub(super) fn see_other(location: &str) -> Response {
    let mut resp = Redirect::to(location).into_response();
    *resp.status_mut() = StatusCode::SEE_OTHER;
    resp
}

pub(super) fn no_store(resp: &mut Response) {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}
