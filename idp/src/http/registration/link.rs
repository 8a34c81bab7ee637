//! `/register/email`: the e-mail link lands on a page whose button confirms (a GET never
//! spends the link, so mail scanners that follow links do no harm).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use consent_ui::Lang;
use serde::Deserialize;

use super::super::errors::PageError;
use super::super::{cookies, extract};
use super::{messages, page_error, page_response, password_url, see_other, status_of, touch_tx};
use crate::app::AppState;
use crate::domain::registration::{self, RegError};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LinkForm {
    address: String,
    token: String,
    csrf: String,
    lang: Option<String>,
}

/// The e-mail link lands here; a button confirms (a GET never spends the link).
pub async fn link_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(form): Query<LinkForm>,
) -> Response {
    let lang = extract::lang(&headers, form.lang.as_deref(), None);
    render_link(&state, &headers, lang, &form, &[], StatusCode::OK)
}

pub async fn link_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let fallback = extract::lang(&headers, None, None);
    let form: LinkForm =
        extract::parse_form(&body).map_err(|_| PageError::bad_request(fallback, "bad_request"))?;
    let lang = extract::lang(&headers, form.lang.as_deref(), None);
    if !cookies::csrf_ok(&state, &headers, &form.csrf) {
        let e = [consent_ui::message("csrf_failed", lang).to_string()];
        return Ok(render_link(
            &state,
            &headers,
            lang,
            &form,
            &e,
            StatusCode::FORBIDDEN,
        ));
    }
    match registration::confirm_link(&state, &form.address, &form.token).await {
        Ok(draft) => {
            touch_tx(&state, &draft).await;
            Ok(see_other(&password_url(&draft, lang)))
        }
        Err(e @ (RegError::Store(_) | RegError::Cache(_))) => Err(page_error(e)),
        Err(e) => Ok(render_link(
            &state,
            &headers,
            lang,
            &form,
            &messages(&e, lang),
            status_of(&e),
        )),
    }
}

fn render_link(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    form: &LinkForm,
    errors: &[String],
    status: StatusCode,
) -> Response {
    let (csrf, set_cookie) = cookies::csrf_for_page(state, headers);
    let html = consent_ui::render_register_confirm(&consent_ui::LinkConfirmPage {
        lang,
        address: &form.address,
        token: &form.token,
        csrf: &csrf,
        errors,
    });
    page_response(html, status, set_cookie)
}
