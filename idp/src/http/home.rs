//! The landing page, static assets, and the 404 page.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::errors::PageError;
use super::{cookies, extract};
use crate::app::AppState;
use crate::domain::login;

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<LangQuery>,
) -> Result<Response, PageError> {
    let lang = extract::lang(&headers, q.lang.as_deref(), None);
    let session =
        login::current(&state, cookies::read(&headers, cookies::SESSION).as_deref()).await?;
    let name = session.as_ref().map(|(_, u)| u.person.full_name());
    let (csrf, set_cookie) = cookies::csrf_for_page(&state, &headers);
    let other = format!("/?lang={}", lang.other().code());
    let upstreams: Vec<(String, String)> = state
        .config
        .upstream
        .iter()
        .map(|u| (u.id.clone(), u.name.clone()))
        .collect();
    let html = consent_ui::render_home(&consent_ui::HomePage {
        lang,
        issuer: &state.issuer,
        user_display_name: name.as_deref(),
        csrf: &csrf,
        other_lang_url: &other,
        upstreams: &upstreams,
    });
    let mut resp = Html(html).into_response();
    if let Some(c) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    resp
}

pub async fn stylesheet() -> Response {
    asset(consent_ui::STYLESHEET, "text/css; charset=utf-8")
}

/// The brand mark as the site icon (also at `/favicon.ico`, where browsers look by default).
pub async fn favicon() -> Response {
    asset(consent_ui::FAVICON, "image/svg+xml")
}

pub async fn script() -> Response {
    asset(consent_ui::SCRIPT, "text/javascript; charset=utf-8")
}

pub async fn not_found(headers: HeaderMap) -> PageError {
    PageError::new(
        StatusCode::NOT_FOUND,
        extract::lang(&headers, None, None),
        "not_found",
    )
}
