//! The authorization endpoint (GET and POST): validate, then hand over to the flow.
//!
//! Failures of the database or the short-lived store (Redis) before the client and its
//! redirect URI are known get a page (503, in Russian); after, the browser goes back to the
//! client with `error=temporarily_unavailable` (or `server_error`), `state` and `iss`
//! (RFC 6749 §4.1.2.1, RFC 9207), so the client can tell its user and retry.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::errors::PageError;
use super::{cookies, extract};
use crate::app::AppState;
use crate::domain::authorization::{AuthTx, FlowError, Step, proceed};
use crate::domain::login;
use crate::protocol::authorize::{AuthorizeError, UnverifiedAuthorizationRequest, validate};
use crate::store::StoreError;

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<UnverifiedAuthorizationRequest>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match query {
        Ok(Query(raw)) => start(&state, &headers, raw).await,
        Err(_) => PageError::bad_request(extract::lang(&headers, None, None), "bad_request")
            .into_response(),
    }
}

pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    match extract::parse_form::<UnverifiedAuthorizationRequest>(&body) {
        Ok(raw) => start(&state, &headers, raw).await,
        Err(_) => PageError::bad_request(extract::lang(&headers, None, None), "bad_request")
            .into_response(),
    }
}

async fn start(
    state: &AppState,
    headers: &HeaderMap,
    raw: UnverifiedAuthorizationRequest,
) -> Response {
    let lang = extract::lang(headers, None, raw.ui_locales.as_deref());
    let Some(client_id) = raw.client_id.clone().filter(|c| !c.is_empty()) else {
        return PageError::bad_request(lang, "unknown_client").into_response();
    };
    let client = match state.clients.get(&state.db, &client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return PageError::bad_request(lang, "unknown_client").into_response(),
        Err(e) => return PageError::from(e).into_response(),
    };
    let explicit = raw.redirect_uri.is_some();
    let request = match validate(raw, &client) {
        Ok(r) => r,
        Err(AuthorizeError::Page(msg)) => return PageError::bad_request(lang, msg).into_response(),
        Err(AuthorizeError::Redirect {
            redirect_uri,
            state: st,
            error,
        }) => {
            let desc = error.safe_description();
            let url = crate::domain::authorization::redirect_url(
                &redirect_uri,
                &[("error", error.code.as_str()), ("error_description", &desc)],
                st.as_deref(),
                &state.issuer,
            );
            return Redirect::to(&url).into_response();
        }
    };
    let mut tx = AuthTx::new(request, explicit);
    let session =
        match login::current(state, cookies::read(headers, cookies::SESSION).as_deref()).await {
            Ok(s) => s,
            Err(e) => {
                let transient = matches!(e, StoreError::Unavailable(_));
                return back_unavailable(state, &tx, &e, transient);
            }
        };
    continue_flow(state, &mut tx, session.as_ref(), lang).await
}

/// Runs the next step of a transaction and renders it as a redirect.
pub async fn continue_flow(
    state: &AppState,
    tx: &mut AuthTx,
    session: Option<&(crate::store::sessions::Session, crate::store::users::User)>,
    // Kept for the callers: every failure from here on goes back to the client, not a page.
    _lang: consent_ui::Lang,
) -> Response {
    let step = match proceed(state, tx, session).await {
        Ok(s) => s,
        Err(e) => {
            let transient = matches!(
                e,
                FlowError::Cache(_) | FlowError::Store(StoreError::Unavailable(_))
            );
            return back_unavailable(state, tx, &e, transient);
        }
    };
    let target = match step {
        Step::Redirect(url) => return Redirect::to(&url).into_response(),
        // A forced re-authentication asks first for the strongest method the session used:
        // a signature goes to the signature page; a passkey and two steps start at the
        // login page (which offers the passkey), and the second step is then required.
        Step::Login if tx.reauth.as_deref() == Some("ds") => {
            format!("/login/signature?tx={}", tx.id)
        }
        Step::Login => format!("/login?tx={}", tx.id),
        Step::Consent => format!("/consent?tx={}", tx.id),
        Step::StepUp => format!("/login/second?tx={}", tx.id),
        Step::LevelTooLow => format!("/login/level?tx={}", tx.id),
    };
    if let Err(e) = tx.save(state).await {
        return back_unavailable(state, tx, &e, true);
    }
    (
        StatusCode::SEE_OTHER,
        [(axum::http::header::LOCATION, target)],
    )
        .into_response()
}

/// A store failure after the request was validated: back to the client with
/// `temporarily_unavailable` (`server_error` when not `transient`); the detail goes to the
/// log under the reference id the description names.
fn back_unavailable(
    state: &AppState,
    tx: &AuthTx,
    detail: &dyn std::fmt::Display,
    transient: bool,
) -> Response {
    let error = super::errors::internal(&detail.to_string(), transient);
    Redirect::to(&tx.error_redirect(state, &error)).into_response()
}
