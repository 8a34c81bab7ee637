//! The consent page: the relying party by name and each requested data item in plain words,
//! with allow and deny; for an ESIA permission request also its purposes, actions and
//! validity. An allowed consent is remembered per user and client (`domain::permissions`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::authorize::continue_flow;
use super::errors::PageError;
use super::{cookies, extract};
use crate::app::AppState;
use crate::domain::authorization::AuthTx;
use crate::domain::{login, permissions};
use crate::protocol::{ErrorCode, OAuthError};

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
    let permission = tx.request.permissions.as_ref().map(|p| {
        let minutes = p.validity_seconds() / 60;
        (p.purposes(), p.actions(), minutes)
    });
    let permission =
        permission.as_ref().map(
            |(purposes, actions, minutes)| consent_ui::ConsentPermission {
                purposes,
                actions,
                expire_minutes: *minutes,
                until: state.clock.now() + minutes * 60,
            },
        );
    let page = consent_ui::ConsentPage {
        lang,
        action: "/consent",
        tx: &tx.id,
        csrf: &csrf,
        client_name: &client.name,
        scopes: &scopes,
        user_display_name: &name,
        other_lang_url: &other,
    };
    let html = consent_ui::render_consent_with(&page, permission.as_ref());
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
    let client_name = state
        .clients
        .get(&state.db, &tx.request.client_id)
        .await?
        .map_or_else(|| tx.request.client_id.clone(), |c| c.name.clone());
    permissions::grant(&state, &session.1.id, &client_name, &tx.request).await?;
    tx.consented = true;
    Ok(continue_flow(&state, &mut tx, Some(&session), lang).await)
}
