//! ESIA's endpoints (issue 8, `docs/esia-compat.md` "Endpoints"): `/aas/oauth2/ac`,
//! `/aas/oauth2/v2/ac`, `/aas/oauth2/te`, `/aas/oauth2/v3/te`, `/idp/ext/Logout` and the
//! signing certificates as files. The protocol itself is in `esia::protocol`.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::errors::PageError;
use super::{cookies, extract};
use crate::app::AppState;
use crate::domain::authorization::AuthTx;
use crate::domain::login;
use crate::esia::errors::EsiaError;
use crate::esia::protocol::{self, Params};
use crate::esia::tokens;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/aas/oauth2/ac", get(ac_legacy))
        .route("/aas/oauth2/v2/ac", get(ac_v2))
        .route("/aas/oauth2/te", post(te_legacy))
        .route("/aas/oauth2/v3/te", post(te_v3))
        .route("/idp/ext/Logout", get(logout))
        .route("/esia/certificates/rsa.cer", get(rsa_certificate))
        .route("/esia/certificates/gost.cer", get(gost_certificate))
}

async fn ac_legacy(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    authorize(&state, &headers, q.as_deref().unwrap_or(""), false).await
}

async fn ac_v2(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    authorize(&state, &headers, q.as_deref().unwrap_or(""), true).await
}

async fn te_legacy(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    counted(&state, &body, protocol::token(&state, &body, false).await)
}

async fn te_v3(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    counted(&state, &body, protocol::token(&state, &body, true).await)
}

/// Counts a successful token response in `idp_tokens_issued_total{protocol="esia"}`, by the
/// request's grant type (only the two the endpoints accept, so labels stay bounded).
fn counted(state: &AppState, body: &[u8], resp: Response) -> Response {
    if resp.status().is_success() {
        let p = Params::parse(body).unwrap_or_else(|_| Params::empty());
        let grant = p
            .get("grant_type")
            .filter(|g| matches!(*g, "authorization_code" | "refresh_token"))
            .unwrap_or("other");
        state.metrics.esia_token(grant);
    }
    resp
}

/// Checks the request; an unknown system or an unregistered `redirect_uri` (ESIA-007005,
/// 007023) gets a page, never a redirect; every other error goes back to the system.
async fn authorize(state: &AppState, headers: &HeaderMap, query: &str, v2: bool) -> Response {
    let lang = extract::lang(headers, None, None);
    let Ok(p) = Params::parse(query.as_bytes()) else {
        return PageError::bad_request(lang, "bad_request").into_response();
    };
    let Some(client_id) = p.get("client_id") else {
        return PageError::bad_request(lang, "unknown_client").into_response();
    };
    let client = match state.clients.get(&state.db, client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return PageError::bad_request(lang, "unknown_client").into_response(),
        Err(e) => return PageError::from(e).into_response(),
    };
    let redirect_uri = match p.get("redirect_uri") {
        Some(u) if client.has_redirect_uri(u) => u.to_owned(),
        _ => return PageError::bad_request(lang, "bad_redirect_uri").into_response(),
    };
    let request = match protocol::check_authorize(state, &p, &client, &redirect_uri, v2).await {
        Ok(r) => r,
        Err(e) => return back(&e, &redirect_uri, p.get("state")),
    };
    let mut tx = AuthTx::new(request, true);
    tx.esia = true;
    let session =
        match login::current(state, cookies::read(headers, cookies::SESSION).as_deref()).await {
            Ok(s) => s,
            Err(e) => return PageError::from(e).into_response(),
        };
    super::authorize::continue_flow(state, &mut tx, session.as_ref(), lang).await
}

fn back(e: &EsiaError, redirect_uri: &str, state: Option<&str>) -> Response {
    Redirect::to(&e.redirect(redirect_uri, state)).into_response()
}

/// `GET /idp/ext/Logout?client_id=…&redirect_url=…`: ends the SSO session (its grants are
/// revoked, participants get back-channel notices) and goes to `redirect_url` only when the
/// system registered it (as a redirect or post-logout URI); otherwise the "logged out" page.
async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let lang = extract::lang(&headers, None, None);
    let p =
        Params::parse(q.as_deref().unwrap_or("").as_bytes()).unwrap_or_else(|_| Params::empty());
    let client = match p.get("client_id") {
        Some(id) => match state.clients.get(&state.db, id).await {
            Ok(c) => c,
            Err(e) => return PageError::from(e).into_response(),
        },
        None => None,
    };
    let target = p.get("redirect_url").filter(|u| {
        client.as_ref().is_some_and(|c| {
            c.has_redirect_uri(u) || c.post_logout_redirect_uris.iter().any(|r| r == u)
        })
    });
    match login::current(&state, cookies::read(&headers, cookies::SESSION).as_deref()).await {
        Ok(Some((s, _))) => {
            if let Err(e) = login::end_session(&state, &s.sid).await {
                return PageError::from(e).into_response();
            }
        }
        Ok(None) => {}
        Err(e) => return PageError::from(e).into_response(),
    }
    let mut resp = match target {
        Some(u) => Redirect::to(u).into_response(),
        None => Html(consent_ui::render_logged_out(&consent_ui::LoggedOutPage {
            lang,
        }))
        .into_response(),
    };
    resp.headers_mut()
        .append(header::SET_COOKIE, cookies::clear(&state, cookies::SESSION));
    resp
}

fn certificate(der: &[u8], name: &str) -> Response {
    let mut resp = der.to_vec().into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pkix-cert"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// The certificate named by `pick` (503 when the signing keys cannot be loaded).
fn published(state: &AppState, name: &str, pick: fn(&tokens::Signers) -> &[u8]) -> Response {
    match tokens::signers(&state.config.esia) {
        Ok(s) => certificate(pick(&s), name),
        Err(e) => {
            tracing::error!(error = %e, "ESIA signing keys cannot be loaded");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "Сертификат недоступен",
            )
                .into_response()
        }
    }
}

/// The RS256 token certificate (DER).
async fn rsa_certificate(State(state): State<AppState>) -> Response {
    published(&state, "rsa.cer", |s| &s.rsa_certificate)
}

/// The GOST3410_2012_256 token certificate (DER).
async fn gost_certificate(State(state): State<AppState>) -> Response {
    published(&state, "gost.cer", |s| &s.gost_certificate)
}
