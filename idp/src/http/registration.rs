//! The registration pages: `/register` (names and contacts), `/register/code` (the SMS or
//! e-mail code, and resending), `/register/email` (the e-mail link), `/register/password`
//! (the password, or a generated one). On success the person is logged in and, when the
//! registration started from an authorization request (`tx`), the flow continues.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use consent_ui::{CodeChannel, Lang};
use serde::Deserialize;

use super::authorize::continue_flow;
use super::errors::PageError;
use super::{cookies, extract};
use crate::app::AppState;
use crate::domain::authorization::AuthTx;
use crate::domain::login;
use crate::domain::password_policy;
use crate::domain::registration::{self, Draft, RegError, Stage, UnverifiedApplicant};

#[derive(Deserialize)]
pub struct StartQuery {
    tx: Option<String>,
    lang: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StartForm {
    tx: String,
    csrf: String,
    lang: Option<String>,
    surname: String,
    given_name: String,
    middle_name: String,
    phone: String,
    email: String,
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StartQuery>,
) -> Result<Response, PageError> {
    let tx = match q.tx.as_deref() {
        Some(id) => AuthTx::load(&state, id).await?,
        None => None,
    };
    let lang = extract::lang(
        &headers,
        q.lang.as_deref(),
        tx.as_ref().and_then(|t| t.request.ui_locales.as_deref()),
    );
    let form = StartForm {
        tx: tx.map(|t| t.id).unwrap_or_default(),
        ..StartForm::default()
    };
    Ok(render_start(&state, &headers, lang, &form, None, StatusCode::OK).await)
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let fallback = extract::lang(&headers, None, None);
    let form: StartForm =
        extract::parse_form(&body).map_err(|_| PageError::bad_request(fallback, "bad_request"))?;
    let lang = extract::lang(&headers, form.lang.as_deref(), None);
    if !cookies::csrf_ok(&state, &headers, &form.csrf) {
        let e = vec![consent_ui::message("csrf_failed", lang).to_string()];
        return Ok(render_start(
            &state,
            &headers,
            lang,
            &form,
            Some(e),
            StatusCode::FORBIDDEN,
        )
        .await);
    }
    let tx = match form.tx.as_str() {
        "" => None,
        id => AuthTx::load(&state, id).await?.map(|t| t.id),
    };
    let applicant = UnverifiedApplicant {
        surname: &form.surname,
        given_name: &form.given_name,
        middle_name: &form.middle_name,
        phone: &form.phone,
        email: &form.email,
    };
    match registration::start(&state, &applicant, tx, &peer.ip().to_string()).await {
        Ok(draft) => Ok(see_other(&format!(
            "/register/code?reg={}&lang={}",
            draft.id,
            lang.code()
        ))),
        Err(e @ (RegError::Store(_) | RegError::Cache(_))) => Err(page_error(e)),
        Err(e) => {
            let status = status_of(&e);
            let invalid = match &e {
                RegError::Form(ps) => ps.iter().map(|p| p.field()).collect(),
                RegError::Unavailable => vec!["phone", "email"],
                _ => Vec::new(),
            };
            let mut resp = render_start_with(
                &state,
                &headers,
                lang,
                &form,
                &messages(&e, lang),
                &invalid,
                status,
            )
            .await;
            no_store(&mut resp);
            Ok(resp)
        }
    }
}

#[derive(Deserialize)]
pub struct RegQuery {
    reg: Option<String>,
    lang: Option<String>,
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

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    reg: String,
    csrf: String,
    lang: Option<String>,
    password: String,
    password_again: String,
    action: String,
}

pub async fn password_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<RegQuery>,
) -> Result<Response, PageError> {
    let lang = extract::lang(&headers, q.lang.as_deref(), None);
    let Some(draft) = Draft::load(&state, q.reg.as_deref().unwrap_or("")).await? else {
        return Ok(expired(lang));
    };
    if draft.stage() != Stage::Password {
        return Ok(see_other(&format!(
            "/register/code?reg={}&lang={}",
            draft.id,
            lang.code()
        )));
    }
    Ok(render_password(
        &state,
        &headers,
        lang,
        &draft,
        &[],
        None,
        None,
        StatusCode::OK,
    ))
}

pub async fn password_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let fallback = extract::lang(&headers, None, None);
    let form: PasswordForm =
        extract::parse_form(&body).map_err(|_| PageError::bad_request(fallback, "bad_request"))?;
    let lang = extract::lang(&headers, form.lang.as_deref(), None);
    let Some(draft) = Draft::load(&state, &form.reg).await? else {
        return Ok(expired(lang));
    };
    if !cookies::csrf_ok(&state, &headers, &form.csrf) {
        let e = [consent_ui::message("csrf_failed", lang).to_string()];
        return Ok(render_password(
            &state,
            &headers,
            lang,
            &draft,
            &e,
            None,
            None,
            StatusCode::FORBIDDEN,
        ));
    }
    if form.action == "generate" {
        let generated = password_policy::generate();
        let strength = password_policy::strength(&generated);
        return Ok(render_password(
            &state,
            &headers,
            lang,
            &draft,
            &[],
            Some(strength),
            Some(&generated),
            StatusCode::OK,
        ));
    }
    let user =
        match registration::complete(&state, &draft, &form.password, &form.password_again).await {
            Ok(u) => u,
            Err(e @ RegError::Password(_)) => {
                let strength = password_policy::strength(&form.password);
                return Ok(render_password(
                    &state,
                    &headers,
                    lang,
                    &draft,
                    &messages(&e, lang),
                    Some(strength),
                    None,
                    StatusCode::BAD_REQUEST,
                ));
            }
            Err(RegError::Expired) => return Ok(expired(lang)),
            Err(e @ (RegError::Store(_) | RegError::Cache(_))) => return Err(page_error(e)),
            Err(e) => {
                return Ok(message_page(
                    lang,
                    &messages(&e, lang).join(" "),
                    status_of(&e),
                ));
            }
        };
    finish(&state, &headers, peer, lang, &draft, user).await
}

/// Logs the new account in and continues the authorization request, or says "done".
async fn finish(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    lang: Lang,
    draft: &Draft,
    user: crate::store::users::User,
) -> Result<Response, PageError> {
    let existing =
        login::current(state, cookies::read(headers, cookies::SESSION).as_deref()).await?;
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| &s[..s.floor_char_boundary(256)]);
    let ip = peer.ip().to_string();
    let (cookie, session) = login::open_session(
        state,
        &user,
        &["pwd".to_string()],
        true,
        existing.as_ref().map(|(s, _)| s),
        user_agent,
        Some(&ip),
    )
    .await?;
    let tx = match draft.tx.as_deref() {
        Some(id) => AuthTx::load(state, id).await?,
        None => None,
    };
    let mut resp = match tx {
        Some(mut tx) => {
            tx.authenticated_at = Some(session.auth_time);
            continue_flow(state, &mut tx, Some(&(session, user)), lang).await
        }
        None => {
            let name = user.person.full_name();
            let html = consent_ui::render_registered(&consent_ui::RegisteredPage {
                lang,
                user_display_name: &name,
                client_expired: draft.tx.is_some(),
            });
            Html(html).into_response()
        }
    };
    let max_age = Some(state.config.session.absolute_ttl);
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(state, cookies::SESSION, &cookie, max_age),
    );
    no_store(&mut resp);
    Ok(resp)
}

async fn render_start(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    form: &StartForm,
    errors: Option<Vec<String>>,
    status: StatusCode,
) -> Response {
    render_start_with(
        state,
        headers,
        lang,
        form,
        &errors.unwrap_or_default(),
        &[],
        status,
    )
    .await
}

async fn render_start_with(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    form: &StartForm,
    errors: &[String],
    invalid: &[&str],
    status: StatusCode,
) -> Response {
    let client_name = match form.tx.as_str() {
        "" => None,
        id => match AuthTx::load(state, id).await.ok().flatten() {
            Some(tx) => state
                .clients
                .get(&state.db, &tx.request.client_id)
                .await
                .ok()
                .flatten()
                .map(|c| c.name.clone()),
            None => None,
        },
    };
    let (csrf, set_cookie) = cookies::csrf_for_page(state, headers);
    let other = format!(
        "/register?tx={}&lang={}",
        url_part(&form.tx),
        lang.other().code()
    );
    let html = consent_ui::render_register(&consent_ui::RegisterPage {
        lang,
        tx: &form.tx,
        csrf: &csrf,
        client_name: client_name.as_deref(),
        surname: &form.surname,
        given_name: &form.given_name,
        middle_name: &form.middle_name,
        phone: &form.phone,
        email: &form.email,
        errors,
        invalid,
        other_lang_url: &other,
    });
    page_response(html, status, set_cookie)
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

#[allow(clippy::too_many_arguments)]
fn render_password(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    draft: &Draft,
    errors: &[String],
    strength: Option<u8>,
    generated: Option<&str>,
    status: StatusCode,
) -> Response {
    let (csrf, set_cookie) = cookies::csrf_for_page(state, headers);
    let other = format!(
        "/register/password?reg={}&lang={}",
        draft.id,
        lang.other().code()
    );
    let html = consent_ui::render_register_password(&consent_ui::PasswordPage {
        lang,
        reg: &draft.id,
        csrf: &csrf,
        errors,
        strength,
        generated,
        other_lang_url: &other,
    });
    page_response(html, status, set_cookie)
}

/// Keeps the authorization request alive while the person registers.
async fn touch_tx(state: &AppState, draft: &Draft) {
    if let Some(id) = &draft.tx
        && let Ok(Some(tx)) = AuthTx::load(state, id).await
    {
        let _ = tx.save(state).await;
    }
}

fn messages(e: &RegError, lang: Lang) -> Vec<String> {
    e.messages(lang == Lang::Ru)
}

fn status_of(e: &RegError) -> StatusCode {
    match e {
        RegError::TooSoon(_) | RegError::DailyCap | RegError::AddressCap => {
            StatusCode::TOO_MANY_REQUESTS
        }
        RegError::Store(_) | RegError::Cache(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn page_error(e: RegError) -> PageError {
    match e {
        RegError::Store(e) => PageError::from(e),
        RegError::Cache(e) => PageError::from(e),
        _ => PageError::bad_request(Lang::Ru, "bad_request"),
    }
}

fn password_url(draft: &Draft, lang: Lang) -> String {
    format!("/register/password?reg={}&lang={}", draft.id, lang.code())
}

fn url_part(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn expired(lang: Lang) -> Response {
    message_page(
        lang,
        &RegError::Expired.messages(lang == Lang::Ru).join(" "),
        StatusCode::BAD_REQUEST,
    )
}

fn message_page(lang: Lang, message: &str, status: StatusCode) -> Response {
    let html = consent_ui::render_error(&consent_ui::ErrorPage {
        lang,
        title: consent_ui::message("error_title", lang),
        message,
        correlation_id: None,
    });
    page_response(html, status, None)
}

fn page_response(html: String, status: StatusCode, set_cookie: Option<HeaderValue>) -> Response {
    let mut resp = (status, Html(html)).into_response();
    if let Some(c) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    no_store(&mut resp);
    resp
}

fn see_other(location: &str) -> Response {
    let mut resp = Redirect::to(location).into_response();
    *resp.status_mut() = StatusCode::SEE_OTHER;
    resp
}

fn no_store(resp: &mut Response) {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}
