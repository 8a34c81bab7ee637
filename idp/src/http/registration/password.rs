//! `/register/password`: the password typed twice (or generated); on success the account
//! is created, the person logged in, and the authorization request continues.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use consent_ui::Lang;
use serde::Deserialize;

use super::super::authorize::continue_flow;
use super::super::errors::PageError;
use super::super::{cookies, extract};
use super::code::RegQuery;
use super::{
    expired, message_page, messages, no_store, page_error, page_response, see_other, status_of,
};
use crate::app::AppState;
use crate::domain::authorization::AuthTx;
use crate::domain::password_policy;
use crate::domain::registration::{self, Draft, RegError, Stage};
use crate::http::session_start;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    reg: String,
    csrf: String,
    lang: Option<String>,
    password: String,
    password_again: String,
    action: String,
}

pub async fn password_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<RegQuery>,
) -> Result<Response, PageError> {
    let lang = extract::lang(&headers, q.lang.as_deref(), None);
    let Some(draft) = Draft::load(&state, q.reg.as_deref().unwrap_or("")).await? else {
        return Ok(expired(lang));
    };
    if draft.stage() != Stage::Password {
        return Ok(see_other(&format!(
            "/register/code?reg={}&lang={}",
            draft.id,
            lang.code()
        )));
    }
    Ok(render_password(
        &state,
        &headers,
        lang,
        &draft,
        &[],
        None,
        None,
        StatusCode::OK,
    ))
}

pub async fn password_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let fallback = extract::lang(&headers, None, None);
    let form: PasswordForm =
        extract::parse_form(&body).map_err(|_| PageError::bad_request(fallback, "bad_request"))?;
    let lang = extract::lang(&headers, form.lang.as_deref(), None);
    let Some(draft) = Draft::load(&state, &form.reg).await? else {
        return Ok(expired(lang));
    };
    if !cookies::csrf_ok(&state, &headers, &form.csrf) {
        let e = [consent_ui::message("csrf_failed", lang).to_string()];
        return Ok(render_password(
            &state,
            &headers,
            lang,
            &draft,
            &e,
            None,
            None,
            StatusCode::FORBIDDEN,
        ));
    }
    if form.action == "generate" {
        let generated = password_policy::generate();
        let strength = password_policy::strength(&generated);
        return Ok(render_password(
            &state,
            &headers,
            lang,
            &draft,
            &[],
            Some(strength),
            Some(&generated),
            StatusCode::OK,
        ));
    }
    let user =
        match registration::complete(&state, &draft, &form.password, &form.password_again).await {
            Ok(u) => u,
            Err(e @ RegError::Password(_)) => {
                let strength = password_policy::strength(&form.password);
                return Ok(render_password(
                    &state,
                    &headers,
                    lang,
                    &draft,
                    &messages(&e, lang),
                    Some(strength),
                    None,
                    StatusCode::BAD_REQUEST,
                ));
            }
            Err(RegError::Expired) => return Ok(expired(lang)),
            Err(e @ (RegError::Store(_) | RegError::Cache(_))) => return Err(page_error(e)),
            Err(e) => {
                return Ok(message_page(
                    lang,
                    &messages(&e, lang).join(" "),
                    status_of(&e),
                ));
            }
        };
    finish(&state, &headers, peer, lang, &draft, user).await
}

/// Logs the new account in and continues the authorization request, or says "done".
async fn finish(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    lang: Lang,
    draft: &Draft,
    user: crate::store::users::User,
) -> Result<Response, PageError> {
    let origin = session_start::Origin { headers, peer };
    let (session, session_cookie) =
        session_start::open(state, &origin, &user, &["pwd".to_string()], true).await?;
    let tx = match draft.tx.as_deref() {
        Some(id) => AuthTx::load(state, id).await?,
        None => None,
    };
    let mut resp = match tx {
        Some(mut tx) => {
            tx.authenticated_at = Some(session.auth_time);
            continue_flow(state, &mut tx, Some(&(session, user)), lang).await
        }
        None => {
            let name = user.person.full_name();
            let html = consent_ui::render_registered(&consent_ui::RegisteredPage {
                lang,
                user_display_name: &name,
                client_expired: draft.tx.is_some(),
            });
            Html(html).into_response()
        }
    };
    resp.headers_mut()
        .append(header::SET_COOKIE, session_cookie);
    no_store(&mut resp);
    Ok(resp)
}

#[allow(clippy::too_many_arguments)]
fn render_password(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    draft: &Draft,
    errors: &[String],
    strength: Option<u8>,
    generated: Option<&str>,
    status: StatusCode,
) -> Response {
    let (csrf, set_cookie) = cookies::csrf_for_page(state, headers);
    let other = format!(
        "/register/password?reg={}&lang={}",
        draft.id,
        lang.other().code()
    );
    let html = consent_ui::render_register_password(&consent_ui::PasswordPage {
        lang,
        reg: &draft.id,
        csrf: &csrf,
        errors,
        strength,
        generated,
        other_lang_url: &other,
    });
    page_response(html, status, set_cookie)
}
