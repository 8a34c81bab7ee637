//! RP-initiated logout (`end_session_endpoint`): `id_token_hint`, `client_id`,
//! `post_logout_redirect_uri` (exact match only, never an open redirect) and `state`.
//! Without a hint naming the current session, the person confirms on a page first.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use consent_ui::Lang;
use serde::Deserialize;
use serde_json::Value;

use super::errors::PageError;
use super::{cookies, extract};
use crate::app::AppState;
use crate::domain::{login, tokens};
use crate::protocol::client::Client;

#[derive(Deserialize, Default)]
pub struct LogoutRequest {
    id_token_hint: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    ui_locales: Option<String>,
    lang: Option<String>,
    confirm: Option<String>,
    csrf: Option<String>,
}

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<LogoutRequest>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PageError> {
    let Ok(Query(req)) = query else {
        return Err(PageError::bad_request(
            extract::lang(&headers, None, None),
            "logout_bad_request",
        ));
    };
    handle(&state, &headers, req, false).await
}

pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let lang = extract::lang(&headers, None, None);
    let req: LogoutRequest = extract::parse_form(&body)
        .map_err(|_| PageError::bad_request(lang, "logout_bad_request"))?;
    handle(&state, &headers, req, true).await
}

async fn handle(
    state: &AppState,
    headers: &HeaderMap,
    req: LogoutRequest,
    is_post: bool,
) -> Result<Response, PageError> {
    let lang = extract::lang(headers, req.lang.as_deref(), req.ui_locales.as_deref());
    let bad = || PageError::bad_request(lang, "logout_bad_request");
    let keys = state.keys.current();
    let hint = match req.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
        Some(h) => Some(tokens::verify_own_id_token(&keys, &state.issuer, h).ok_or_else(bad)?),
        None => None,
    };
    let hint_aud = hint.as_ref().and_then(|c| match c.get("aud") {
        Some(Value::String(a)) => Some(a.clone()),
        Some(Value::Array(a)) => a.first().and_then(Value::as_str).map(str::to_owned),
        _ => None,
    });
    let client_id = match (&req.client_id, &hint_aud) {
        (Some(c), Some(a)) if c != a => return Err(bad()),
        (Some(c), _) => Some(c.clone()),
        (None, a) => a.clone(),
    };
    let client: Option<std::sync::Arc<Client>> = match &client_id {
        Some(id) => Some(state.clients.get(&state.db, id).await?.ok_or_else(bad)?),
        None => None,
    };
    let redirect = match req
        .post_logout_redirect_uri
        .as_deref()
        .filter(|u| !u.is_empty())
    {
        Some(uri) => {
            let registered = client
                .as_ref()
                .is_some_and(|c| c.post_logout_redirect_uris.iter().any(|r| r == uri));
            if !registered {
                return Err(bad());
            }
            Some(uri.to_owned())
        }
        None => None,
    };
    let session =
        login::current(state, cookies::read(headers, cookies::SESSION).as_deref()).await?;
    if let Some((s, _)) = &session {
        let hint_names_session = hint.as_ref().is_some_and(|c| {
            c.get("sid").and_then(Value::as_str) == Some(s.sid.as_str())
                || c.get("sub").and_then(Value::as_str) == Some(s.user_id.as_str())
        });
        let confirmed = is_post
            && req.confirm.as_deref() == Some("yes")
            && req
                .csrf
                .as_deref()
                .is_some_and(|c| cookies::csrf_ok(state, headers, c));
        if !hint_names_session && !confirmed {
            return Ok(confirm_page(state, headers, &req, lang, client.as_deref()));
        }
        login::end_session(state, &s.sid).await?;
    }
    let mut resp = match redirect {
        Some(uri) => {
            let mut url = url::Url::parse(&uri).map_err(|_| bad())?;
            if let Some(st) = &req.state {
                url.query_pairs_mut().append_pair("state", st);
            }
            Redirect::to(url.as_str()).into_response()
        }
        None => Html(consent_ui::render_logged_out(&consent_ui::LoggedOutPage {
            lang,
        }))
        .into_response(),
    };
    resp.headers_mut()
        .append(header::SET_COOKIE, cookies::clear(state, cookies::SESSION));
    Ok(resp)
}

fn confirm_page(
    state: &AppState,
    headers: &HeaderMap,
    req: &LogoutRequest,
    lang: Lang,
    client: Option<&Client>,
) -> Response {
    let (csrf, set_cookie) = cookies::csrf_for_page(state, headers);
    let mut hidden: Vec<(&str, &str)> = Vec::new();
    for (name, value) in [
        ("id_token_hint", &req.id_token_hint),
        ("client_id", &req.client_id),
        ("post_logout_redirect_uri", &req.post_logout_redirect_uri),
        ("state", &req.state),
        ("ui_locales", &req.ui_locales),
    ] {
        if let Some(v) = value {
            hidden.push((name, v.as_str()));
        }
    }
    let html = consent_ui::render_logout_confirm(&consent_ui::LogoutConfirmPage {
        lang,
        action: "/logout",
        csrf: &csrf,
        hidden: &hidden,
        client_name: client.map(|c| c.name.as_str()),
    });
    let mut resp = Html(html).into_response();
    if let Some(c) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}
