//! `/register/code`: the SMS or e-mail code (and resending it); for an e-mail-only
//! registration the same address shows "check your mail" with a resend button.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use consent_ui::{CodeChannel, Lang};
use serde::Deserialize;

use super::super::errors::PageError;
use super::super::{cookies, extract};
use super::{
    expired, messages, page_error, page_response, password_url, see_other, status_of, touch_tx,
};
use crate::app::AppState;
use crate::domain::registration::{self, Draft, RegError, Stage};

#[derive(Deserialize)]
pub struct RegQuery {
    pub(super) reg: Option<String>,
    pub(super) lang: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    reg: String,
    csrf: String,
    lang: Option<String>,
    code: String,
    action: String,
}

pub async fn code_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<RegQuery>,
) -> Result<Response, PageError> {
    let lang = extract::lang(&headers, q.lang.as_deref(), None);
    let Some(draft) = Draft::load(&state, q.reg.as_deref().unwrap_or("")).await? else {
        return Ok(expired(lang));
    };
    Ok(render_stage(
        &state,
        &headers,
        lang,
        &draft,
        &[],
        None,
        StatusCode::OK,
    ))
}

pub async fn code_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let fallback = extract::lang(&headers, None, None);
    let form: CodeForm =
        extract::parse_form(&body).map_err(|_| PageError::bad_request(fallback, "bad_request"))?;
    let lang = extract::lang(&headers, form.lang.as_deref(), None);
    let Some(draft) = Draft::load(&state, &form.reg).await? else {
        return Ok(expired(lang));
    };
    if !cookies::csrf_ok(&state, &headers, &form.csrf) {
        let e = [consent_ui::message("csrf_failed", lang).to_string()];
        return Ok(render_stage(
            &state,
            &headers,
            lang,
            &draft,
            &e,
            None,
            StatusCode::FORBIDDEN,
        ));
    }
    if form.action == "resend" {
        let ru = lang == Lang::Ru;
        return Ok(
            match registration::resend(&state, &draft, &peer.ip().to_string()).await {
                Ok(()) => {
                    let notice = if draft.stage() == Stage::EmailLink {
                        if ru {
                            "Письмо отправлено ещё раз."
                        } else {
                            "The e-mail has been sent again."
                        }
                    } else if ru {
                        "Новый код отправлен."
                    } else {
                        "A new code has been sent."
                    };
                    render_stage(
                        &state,
                        &headers,
                        lang,
                        &draft,
                        &[],
                        Some(notice),
                        StatusCode::OK,
                    )
                }
                Err(e @ (RegError::Store(_) | RegError::Cache(_))) => return Err(page_error(e)),
                Err(e) => render_stage(
                    &state,
                    &headers,
                    lang,
                    &draft,
                    &messages(&e, lang),
                    None,
                    status_of(&e),
                ),
            },
        );
    }
    touch_tx(&state, &draft).await;
    match registration::confirm_code(&state, draft.clone(), &form.code).await {
        Ok(c) if c.draft.stage() == Stage::Password => Ok(see_other(&password_url(&c.draft, lang))),
        Ok(c) => {
            let errors = c
                .send_problem
                .map(|e| messages(&e, lang))
                .unwrap_or_default();
            Ok(render_stage(
                &state,
                &headers,
                lang,
                &c.draft,
                &errors,
                None,
                StatusCode::OK,
            ))
        }
        Err(e @ (RegError::Store(_) | RegError::Cache(_))) => Err(page_error(e)),
        Err(e) => Ok(render_stage(
            &state,
            &headers,
            lang,
            &draft,
            &messages(&e, lang),
            None,
            status_of(&e),
        )),
    }
}

/// The page for the draft's stage: the code form, "check your mail", or on to the password.
fn render_stage(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    draft: &Draft,
    errors: &[String],
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let (csrf, set_cookie) = cookies::csrf_for_page(state, headers);
    let other = format!(
        "/register/code?reg={}&lang={}",
        draft.id,
        lang.other().code()
    );
    let a = &draft.applicant;
    let html = match draft.stage() {
        Stage::Password => return see_other(&password_url(draft, lang)),
        Stage::EmailLink => consent_ui::render_register_sent(&consent_ui::LinkSentPage {
            lang,
            reg: &draft.id,
            csrf: &csrf,
            email: a.email.as_deref().unwrap_or(""),
            errors,
            notice,
            other_lang_url: &other,
        }),
        stage => {
            let (channel, destination) = if stage == Stage::PhoneCode {
                (CodeChannel::Sms, a.phone.as_deref().unwrap_or(""))
            } else {
                (CodeChannel::Email, a.email.as_deref().unwrap_or(""))
            };
            consent_ui::render_register_code(&consent_ui::CodePage {
                lang,
                reg: &draft.id,
                csrf: &csrf,
                channel,
                destination,
                errors,
                notice,
                other_lang_url: &other,
            })
        }
    };
    page_response(html, status, set_cookie)
}
