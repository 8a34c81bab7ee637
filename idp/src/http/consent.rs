//! The consent page: the relying party by name and each requested data item in plain words,
//! with allow and deny. An allowed consent is remembered per user, client and scope set.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::authorize::continue_flow;
use super::errors::PageError;
use super::{cookies, extract};
use crate::app::AppState;
use crate::domain::authorization::AuthTx;
use crate::domain::login;
use crate::protocol::{ErrorCode, OAuthError};
use crate::store::consents;

#[derive(Deserialize)]
pub struct PageQuery {
    tx: Option<String>,
    lang: Option<String>,
}

#[derive(Deserialize)]
pub struct ConsentForm {
    tx: String,
    csrf: String,
    decision: String,
    lang: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<PageQuery>,
) -> Result<Response, PageError> {
    let lang = extract::lang(&headers, q.lang.as_deref(), None);
    let tx = AuthTx::load(&state, q.tx.as_deref().unwrap_or(""))
        .await?
        .ok_or_else(|| PageError::bad_request(lang, "tx_expired"))?;
    let lang = extract::lang(
        &headers,
        q.lang.as_deref(),
        tx.request.ui_locales.as_deref(),
    );
    let Some((_, user)) =
        login::current(&state, cookies::read(&headers, cookies::SESSION).as_deref()).await?
    else {
        return Ok(Redirect::to(&format!("/login?tx={}", tx.id)).into_response());
    };
    let client = state
        .clients
        .get(&state.db, &tx.request.client_id)
        .await?
        .ok_or_else(|| PageError::bad_request(lang, "unknown_client"))?;
    let (csrf, set_cookie) = cookies::csrf_for_page(&state, &headers);
    let scopes = tx.request.scopes().to_vec();
    let other = format!("/consent?tx={}&lang={}", tx.id, lang.other().code());
    let name = user.person.full_name();
    let html = consent_ui::render_consent(&consent_ui::ConsentPage {
        lang,
        action: "/consent",
        tx: &tx.id,
        csrf: &csrf,
        client_name: &client.name,
        scopes: &scopes,
        user_display_name: &name,
        other_lang_url: &other,
    });
    let mut resp = Html(html).into_response();
    if let Some(c) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let fallback = extract::lang(&headers, None, None);
    let form: ConsentForm =
        extract::parse_form(&body).map_err(|_| PageError::bad_request(fallback, "bad_request"))?;
    let lang = extract::lang(&headers, form.lang.as_deref(), None);
    if !cookies::csrf_ok(&state, &headers, &form.csrf) {
        return Err(PageError::new(StatusCode::FORBIDDEN, lang, "csrf_failed"));
    }
    let mut tx = AuthTx::load(&state, &form.tx)
        .await?
        .ok_or_else(|| PageError::bad_request(lang, "tx_expired"))?;
    let Some(session) =
        login::current(&state, cookies::read(&headers, cookies::SESSION).as_deref()).await?
    else {
        return Ok(Redirect::to(&format!("/login?tx={}", tx.id)).into_response());
    };
    if form.decision != "allow" {
        tx.finish(&state).await?;
        let url = tx.error_redirect(
            &state,
            &OAuthError::new(ErrorCode::AccessDenied, "the user denied access"),
        );
        return Ok(Redirect::to(&url).into_response());
    }
    let scopes = tx.request.scopes().filter(|s| s != "openid");
    consents::grant(
        &state.db,
        &session.1.id,
        &tx.request.client_id,
        &scopes,
        state.clock.now(),
    )
    .await?;
    tx.consented = true;
    Ok(continue_flow(&state, &mut tx, Some(&session), lang).await)
}
