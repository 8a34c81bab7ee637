//! "Your account level is too low" (`/login/level`): what the site needs, how to raise the
//! level, and a button that ends the transaction with `unmet_authentication_requirements`
//! for the site; a transaction that ended so answers every later step with that error.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::errors::PageError;
use super::session_start::{load_tx, load_tx_and_lang};
use super::strong_auth::{PageQuery, see_other};
use super::{cookies, extract};
use crate::app::AppState;
use crate::domain::authorization::AuthTx;

#[derive(Deserialize)]
pub struct LevelForm {
    tx: String,
    csrf: String,
    lang: Option<String>,
}

/// GET /login/level?tx=…: the account level is below what the site needs: what it needs,
/// how to raise the level, and a button back to the site.
pub async fn level_page(
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
    let Some(too_low) = tx.too_low.clone() else {
        return Err(PageError::bad_request(lang, "tx_expired"));
    };
    let client = state.clients.get(&state.db, &tx.request.client_id).await?;
    let (csrf, set_cookie) = cookies::csrf_for_page(&state, &headers);
    let other = format!("/login/level?tx={}&lang={}", tx.id, lang.other().code());
    let html = consent_ui::render_level_too_low(&consent_ui::LevelTooLowPage {
        lang,
        tx: &tx.id,
        csrf: &csrf,
        client_name: client.as_ref().map(|c| c.name.as_str()),
        wanted: &too_low.wanted,
        level: &too_low.level,
        other_lang_url: &other,
    });
    let mut resp = (StatusCode::OK, Html(html)).into_response();
    if let Some(c) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// POST /login/level: back to the site with `unmet_authentication_requirements`.
pub async fn level_back(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let fallback = extract::lang(&headers, None, None);
    let form: LevelForm =
        extract::parse_form(&body).map_err(|_| PageError::bad_request(fallback, "bad_request"))?;
    let lang = extract::lang(&headers, form.lang.as_deref(), None);
    if !cookies::csrf_ok(&state, &headers, &form.csrf) {
        return Err(PageError::new(StatusCode::FORBIDDEN, lang, "csrf_failed"));
    }
    let tx = load_tx(&state, &headers, &form.tx, form.lang.as_deref()).await?;
    match ended(&state, &tx).await? {
        Some(resp) => Ok(resp),
        None => Err(PageError::bad_request(lang, "tx_expired")),
    }
}

/// A transaction that already ended with "level too low" answers every further step with
/// the error for the client (and is finished).
pub async fn ended(state: &AppState, tx: &AuthTx) -> Result<Option<Response>, PageError> {
    let Some(url) = tx.too_low_redirect(state) else {
        return Ok(None);
    };
    tx.finish(state).await?;
    Ok(Some(see_other(&url)))
}
