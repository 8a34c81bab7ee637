//! Opening the SSO session once a person has proven who they are (password, code, second
//! factor, electronic signature, registration), and handing the browser back to the
//! authorization flow. One place for every login method, so cookies, `auth_time` and
//! session rotation are the same whichever way a person came in.

use std::net::SocketAddr;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use consent_ui::Lang;

use super::authorize::continue_flow;
use super::errors::PageError;
use super::{cookies, extract};
use crate::app::AppState;
use crate::domain::authorization::AuthTx;
use crate::domain::login;
use crate::store::sessions::Session;
use crate::store::users::User;

/// Where the request came from.
pub struct Origin<'a> {
    pub headers: &'a HeaderMap,
    pub peer: SocketAddr,
}

/// Opens (or re-authenticates) the session; returns it with its `Set-Cookie`.
/// `persistent` is false for "Чужой компьютер": the cookie dies with the browser.
pub async fn open(
    state: &AppState,
    origin: &Origin<'_>,
    user: &User,
    amr: &[String],
    persistent: bool,
) -> Result<(Session, HeaderValue), PageError> {
    let existing = login::current(
        state,
        cookies::read(origin.headers, cookies::SESSION).as_deref(),
    )
    .await?;
    // `to_str` only succeeds on visible ASCII, so slicing at a byte count is safe.
    let user_agent = origin
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| &s[..s.len().min(256)]);
    let ip = origin.peer.ip().to_string();
    let (cookie, session) = login::open_session(
        state,
        user,
        amr,
        persistent,
        existing.as_ref().map(|(s, _)| s),
        user_agent,
        Some(&ip),
    )
    .await?;
    crate::domain::login_history::succeeded(state, user, amr, user_agent, Some(&ip)).await;
    let max_age = persistent.then_some(state.config.session.absolute_ttl);
    Ok((
        session,
        cookies::set(state, cookies::SESSION, &cookie, max_age),
    ))
}

/// Opens the session, remembers the device (unless "Чужой компьютер") and continues the
/// authorization transaction `tx`.
pub async fn open_and_continue(
    state: &AppState,
    origin: &Origin<'_>,
    tx: &mut AuthTx,
    user: &User,
    amr: &[String],
    persistent: bool,
    lang: Lang,
) -> Result<Response, PageError> {
    let (session, cookie) = open(state, origin, user, amr, persistent).await?;
    tx.authenticated_at = Some(session.auth_time);
    let mut resp = continue_flow(state, tx, Some(&(session, user.clone())), lang).await;
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    let device = super::devices::remember(state, origin.headers, origin.peer, &user.id, persistent);
    if let Some(c) = device.await? {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

/// The authorization transaction a login page belongs to, or the "start again" page.
pub async fn load_tx(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    lang: Option<&str>,
) -> Result<AuthTx, PageError> {
    let lang = extract::lang(headers, lang, None);
    AuthTx::load(state, id)
        .await
        .map_err(PageError::from)?
        .ok_or_else(|| PageError::bad_request(lang, "tx_expired"))
}

/// [`load_tx`] and the page's language: the `lang` parameter, else the request's
/// `ui_locales`, else the browser's.
pub async fn load_tx_and_lang(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    lang: Option<&str>,
) -> Result<(AuthTx, Lang), PageError> {
    let tx = load_tx(state, headers, id, lang).await?;
    let lang = extract::lang(headers, lang, tx.request.ui_locales.as_deref());
    Ok((tx, lang))
}
