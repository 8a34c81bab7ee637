//! Logout, both ways. RP-initiated: the site ends its own session first, then sends the
//! browser to the provider's `end_session_endpoint` with `id_token_hint`,
//! `post_logout_redirect_uri` and a `state` it recognises on the way back. Back-channel: the
//! provider POSTs a logout token; once verified, every site session of that provider `sid`
//! is signed out.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{AppState, CsrfForm, see_other, signed_in};
use crate::pages::Problem;
use crate::session;

/// `POST /logout` from the site's own button.
pub async fn start(
    State(st): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<CsrfForm>, FormRejection>,
) -> Response {
    let form = CsrfForm::from(form);
    let id = match signed_in(&st, &headers, Some(&form)) {
        Ok((id, _)) => id,
        Err(Problem::NotSignedIn) => return see_other("/", None),
        Err(p) => return st.problem(p),
    };
    let Some(user) = st.sessions.sign_out(&id) else {
        return see_other("/", None);
    };
    let state = session::random();
    st.sessions
        .with(&id, |s| s.logout_state = Some(state.clone()));
    match st.provider.logout_url(&user.id.raw, &state).await {
        Ok(url) => see_other(url.as_str(), None),
        Err(e) => {
            tracing::warn!(error = %e, "cannot reach the provider's end_session_endpoint");
            st.sessions.with(&id, |s| {
                s.flash = Some(
                    "Вы вышли с сайта. ЕСИА сейчас недоступна: чтобы выйти и из ЕСИА, откройте её позже."
                        .into(),
                )
            });
            see_other("/", None)
        }
    }
}

#[derive(Deserialize)]
pub struct BackchannelForm {
    logout_token: Option<String>,
}

/// `POST /backchannel-logout` from the provider (OIDC Back-Channel Logout 1.0 §2.5, §2.8).
pub async fn backchannel(
    State(st): State<AppState>,
    form: Result<axum::Form<BackchannelForm>, FormRejection>,
) -> Response {
    let token = form
        .ok()
        .and_then(|f| f.0.logout_token)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return refuse("logout_token is required");
    };
    let event = match st.provider.verify_logout_token(&token).await {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "logout token refused");
            return refuse(&e.to_string());
        }
    };
    match st.sessions.end_provider_session(&event) {
        Some(ended) => {
            tracing::info!(sid = ?event.sid, ended, "back-channel logout");
            (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")]).into_response()
        }
        None => refuse("the logout token was already used"),
    }
}

fn refuse(description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "error": "invalid_request", "error_description": description })),
    )
        .into_response()
}
