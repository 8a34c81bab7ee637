//! The login page: phone, e-mail or SNILS plus password; "someone else's computer" makes
//! the session cookie die with the browser.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use consent_ui::Lang;
use serde::Deserialize;

use super::errors::PageError;
use super::session_start::{load_tx, load_tx_and_lang};
use super::{cookies, extract};
use crate::app::AppState;
use crate::domain::authorization::AuthTx;
use crate::domain::login::{self, LoginError};

#[derive(Deserialize)]
pub struct PageQuery {
    tx: Option<String>,
    lang: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    tx: String,
    csrf: String,
    login: String,
    password: String,
    foreign_computer: Option<String>,
    lang: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<PageQuery>,
) -> Result<Response, PageError> {
    let (tx, lang) = load_tx_and_lang(
        &state,
        &headers,
        q.tx.as_deref().unwrap_or(""),
        q.lang.as_deref(),
    )
    .await?;
    let hint = tx.request.login_hint.clone().unwrap_or_default();
    Ok(render(&state, &headers, &tx, lang, &hint, None, StatusCode::OK).await)
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let fallback = extract::lang(&headers, None, None);
    let form: LoginForm =
        extract::parse_form(&body).map_err(|_| PageError::bad_request(fallback, "bad_request"))?;
    let mut tx = load_tx(&state, &headers, &form.tx, form.lang.as_deref()).await?;
    let lang = extract::lang(
        &headers,
        form.lang.as_deref(),
        tx.request.ui_locales.as_deref(),
    );
    // A transaction that ended with "account level too low" only returns to the client.
    if let Some(resp) = super::level::ended(&state, &tx).await? {
        return Ok(resp);
    }
    if !cookies::csrf_ok(&state, &headers, &form.csrf) {
        return Ok(render(
            &state,
            &headers,
            &tx,
            lang,
            &form.login,
            Some("csrf_failed"),
            StatusCode::FORBIDDEN,
        )
        .await);
    }
    let user = match login::check_password_from(
        &state,
        &form.login,
        &form.password,
        Some(peer.ip()),
    )
    .await
    {
        Ok(u) => u,
        Err(LoginError::Failed) => {
            return Ok(render(
                &state,
                &headers,
                &tx,
                lang,
                &form.login,
                Some("login_failed"),
                StatusCode::UNAUTHORIZED,
            )
            .await);
        }
        Err(LoginError::Locked) => {
            return Ok(render(
                &state,
                &headers,
                &tx,
                lang,
                &form.login,
                Some("login_locked"),
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await);
        }
        Err(LoginError::Store(e)) => return Err(PageError::from(e)),
        Err(LoginError::Cache(e)) => return Err(PageError::from(e)),
    };
    // The second step, when the request, the client or the account asks for it, comes
    // before the session opens (strong_auth::first_factor_done).
    let amr = vec!["pwd".to_string()];
    let persistent = form.foreign_computer.is_none();
    super::strong_auth::first_factor_done(
        &state, &headers, peer, &mut tx, &user, amr, persistent, lang,
    )
    .await
}

async fn render(
    state: &AppState,
    headers: &HeaderMap,
    tx: &AuthTx,
    lang: Lang,
    login_value: &str,
    error: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let client = state
        .clients
        .get(&state.db, &tx.request.client_id)
        .await
        .ok()
        .flatten();
    let (csrf, set_cookie) = cookies::csrf_for_page(state, headers);
    let other = format!("/login?tx={}&lang={}", tx.id, lang.other().code());
    let html = consent_ui::render_login(&consent_ui::LoginPage {
        lang,
        action: "/login",
        tx: &tx.id,
        csrf: &csrf,
        client_name: client.as_ref().map(|c| c.name.as_str()),
        login_value,
        error: error.map(|k| consent_ui::message(k, lang)),
        locked: error == Some("login_locked"),
        other_lang_url: &other,
    });
    let mut resp = (status, Html(html)).into_response();
    if let Some(c) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    resp
}
