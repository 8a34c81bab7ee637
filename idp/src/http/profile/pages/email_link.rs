//! The e-mail confirmation link: a page with a button (so mail scanners that open links
//! spend nothing), and its POST, which needs no session: the token is the proof.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use consent_ui::Lang;
use serde::Deserialize;

use super::{Form, no_store, text};
use crate::app::AppState;
use crate::domain::profile::ProfileError;
use crate::domain::profile::contacts;
use crate::http::errors::PageError;
use crate::http::{cookies, extract};

#[derive(Deserialize)]
pub struct LinkQuery {
    u: Option<String>,
    token: Option<String>,
    lang: Option<String>,
}

/// The link from the e-mail: a button that confirms (no session needed).
pub(super) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<LinkQuery>,
) -> Response {
    let lang = extract::lang(&headers, q.lang.as_deref(), None);
    let (csrf, set_cookie) = cookies::csrf_for_page(&state, &headers);
    let html = consent_ui::render_profile_email_link(&consent_ui::EmailLinkPage {
        lang,
        csrf: &csrf,
        user: text(&q.u),
        token: text(&q.token),
        errors: &[],
        done: None,
    });
    let mut resp = no_store(Html(html).into_response());
    if let Some(c) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

pub(super) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let fallback = extract::lang(&headers, None, None);
    let Ok(f) = extract::parse_form::<Form>(&body) else {
        return PageError::bad_request(fallback, "bad_request").into_response();
    };
    let lang = extract::lang(&headers, f.lang.as_deref(), None);
    let (csrf, _) = cookies::csrf_for_page(&state, &headers);
    let (user, token) = (text(&f.u), text(&f.token));
    // None: the form's CSRF token is wrong.
    let outcome = if cookies::csrf_ok(&state, &headers, &f.csrf) {
        contacts::confirm_email_link(&state, user, token)
            .await
            .map_err(Some)
    } else {
        Err(None)
    };
    let (errors, done, status) = match outcome {
        Ok(c) => (Vec::new(), Some(c.value), StatusCode::OK),
        Err(None) => (
            vec![consent_ui::message("csrf_failed", lang).to_string()],
            None,
            StatusCode::FORBIDDEN,
        ),
        Err(Some(ProfileError::Store(e))) => return PageError::from(e).into_response(),
        Err(Some(e)) => (
            vec![e.message(lang == Lang::En)],
            None,
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
        ),
    };
    let html = consent_ui::render_profile_email_link(&consent_ui::EmailLinkPage {
        lang,
        csrf: &csrf,
        user,
        token,
        errors: &errors,
        done: done.as_deref(),
    });
    no_store((status, Html(html)).into_response())
}
