//! The signed-in person's actions: silent refresh (the refresh token, no browser trip),
//! userinfo (refreshing first when the access token has expired), and the step-up section
//! that needs a higher account level than the login had.

use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};

use super::{AppState, CsrfForm, problem_of, see_other, signed_in};
use crate::config::Level;
use crate::oidc::OidcError;
use crate::pages::{self, Problem};
use crate::session::{SignedIn, unix_now};

/// Silent refresh: new tokens from the refresh token, no trip through the browser.
pub async fn refresh(
    State(st): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<CsrfForm>, FormRejection>,
) -> Response {
    let form = CsrfForm::from(form);
    let (id, user) = match signed_in(&st, &headers, Some(&form)) {
        Ok(v) => v,
        Err(p) => return st.problem(p),
    };
    match refresh_tokens(&st, &id, &user).await {
        Ok(expiry) => {
            let text = match expiry {
                Some(t) => format!(
                    "Токены обновлены без повторного входа. Новый access token действует до {}.",
                    pages::time(t)
                ),
                None => "Токены обновлены без повторного входа.".to_string(),
            };
            st.sessions.with(&id, |s| s.flash = Some(text));
            see_other("/", None)
        }
        Err(p) => st.problem(p),
    }
}

/// Asks the provider's userinfo endpoint again (refreshing first if the token has expired).
pub async fn userinfo(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let (id, mut user) = match signed_in(&st, &headers, None) {
        Ok(v) => v,
        Err(p) => return st.problem(p),
    };
    if user.access_expires_at.is_some_and(|t| t <= unix_now() + 5) {
        if let Err(p) = refresh_tokens(&st, &id, &user).await {
            return st.problem(p);
        }
        match st.sessions.load(Some(&id)).and_then(|(_, s)| s.user) {
            Some(u) => user = u,
            None => return st.problem(Problem::SessionExpired),
        }
    }
    match st.provider.userinfo(&user.access_token, &user.id.sub).await {
        Ok(claims) => {
            let html = pages::userinfo(&st.settings, &claims);
            st.sessions.with(&id, |s| {
                if let Some(u) = &mut s.user {
                    u.userinfo = claims;
                }
            });
            Html(html).into_response()
        }
        Err(e) => {
            if matches!(e, OidcError::TokenRejected) {
                st.sessions.sign_out(&id);
            }
            st.problem(problem_of(e))
        }
    }
}

/// A section that needs a higher level than the login: shown, or the step-up offer.
pub async fn protected(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let Some(section) = &st.settings.persona.protected else {
        return st.problem(Problem::NotFound);
    };
    let (_, user) = match signed_in(&st, &headers, None) {
        Ok(v) => v,
        Err(p) => return st.problem(p),
    };
    let level = user.id.acr.as_deref().and_then(Level::from_acr);
    if level.is_some_and(|l| l >= section.level) {
        Html(pages::protected(&st.settings, section)).into_response()
    } else {
        Html(pages::step_up(&st.settings, section, level)).into_response()
    }
}

/// Uses the refresh token and stores the new tokens; returns the new access token expiry.
async fn refresh_tokens(st: &AppState, id: &str, user: &SignedIn) -> Result<Option<i64>, Problem> {
    let Some(rt) = &user.refresh_token else {
        return Err(Problem::SessionExpired);
    };
    let tokens = match st.provider.refresh(rt, &user.id.sub).await {
        Ok(t) => t,
        Err(e) => {
            if matches!(&e, OidcError::Rejected { code, .. } if code == "invalid_grant") {
                st.sessions.sign_out(id);
            }
            return Err(problem_of(e));
        }
    };
    let expiry = tokens.access_expires_at;
    st.sessions.with(id, |s| {
        if let Some(u) = &mut s.user {
            u.access_token = tokens.access_token;
            u.access_expires_at = tokens.access_expires_at;
            if let Some(rt) = tokens.refresh_token {
                u.refresh_token = Some(rt);
            }
            if let Some(new_id) = tokens.id {
                // The session index is by sid; the provider session is the same one.
                let sid = u.id.sid.clone();
                u.id = new_id;
                u.id.sid = sid;
            }
            u.refreshed_at = Some(unix_now());
        }
    });
    Ok(expiry)
}
