//! The pages of password recovery (`/recover`, "Не знаю пароль") and of the unlock of a
//! locked login (`/unlock`). Handlers parse the form, call one step of
//! [`crate::domain::recovery`] and render the page it leads to.

use std::net::SocketAddr;

use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use consent_ui::{Lang, RecoveryFlow, RecoveryMessage, RecoveryPage, RecoveryStep};
use serde::Deserialize;

use super::errors::PageError;
use super::{cookies, extract};
use crate::app::AppState;
use crate::domain::authorization::AuthTx;
use crate::domain::recovery::{self, Fault, Kind, Next, Notice, Outcome, Refusal};

#[derive(Deserialize)]
pub struct PageQuery {
    tx: Option<String>,
    lang: Option<String>,
    login: Option<String>,
}

#[derive(Deserialize)]
pub struct IdentifyForm {
    tx: Option<String>,
    csrf: String,
    lang: Option<String>,
    login: String,
}

#[derive(Deserialize)]
pub struct CodeForm {
    flow: String,
    csrf: String,
    lang: Option<String>,
    code: Option<String>,
    action: Option<String>,
}

#[derive(Deserialize)]
pub struct AnswerForm {
    flow: String,
    csrf: String,
    lang: Option<String>,
    answer: String,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    flow: String,
    csrf: String,
    lang: Option<String>,
    password: String,
    password_again: String,
}

pub async fn recover_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    first_page(&state, &headers, query, Kind::Recover)
}

pub async fn unlock_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    first_page(&state, &headers, query, Kind::Unlock)
}

pub async fn recover_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    start(&state, &headers, &body, Kind::Recover).await
}

pub async fn unlock_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    start(&state, &headers, &body, Kind::Unlock).await
}

pub async fn recover_code(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    code(&state, peer, &headers, &body, Kind::Recover).await
}

pub async fn unlock_code(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    code(&state, peer, &headers, &body, Kind::Unlock).await
}

pub async fn recover_answer(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let (form, lang): (AnswerForm, Lang) = parse(&headers, &body, |f: &AnswerForm| f.lang.clone())?;
    check_csrf(&state, &headers, &form.csrf, lang)?;
    let outcome = recovery::submit_answer(&state, &form.flow, &form.answer)
        .await
        .map_err(|e| fault(e, lang))?;
    show(&state, &headers, lang, Kind::Recover, outcome, "", "").await
}

pub async fn recover_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let (form, lang): (PasswordForm, Lang) =
        parse(&headers, &body, |f: &PasswordForm| f.lang.clone())?;
    check_csrf(&state, &headers, &form.csrf, lang)?;
    let outcome = recovery::submit_password(
        &state,
        &form.flow,
        &form.password,
        &form.password_again,
        Some(peer.ip()),
    )
    .await
    .map_err(|e| fault(e, lang))?;
    show(&state, &headers, lang, Kind::Recover, outcome, "", "").await
}

fn first_page(
    state: &AppState,
    headers: &HeaderMap,
    query: Result<Query<PageQuery>, QueryRejection>,
    kind: Kind,
) -> Result<Response, PageError> {
    let Ok(Query(q)) = query else {
        return Err(PageError::bad_request(
            extract::lang(headers, None, None),
            "bad_request",
        ));
    };
    let lang = extract::lang(headers, q.lang.as_deref(), None);
    let tx = q.tx.as_deref().map(clean_tx).unwrap_or_default();
    // A prefill (e.g. the login typed on the login page), cut to the field's length.
    let login: String = q.login.as_deref().unwrap_or("").chars().take(256).collect();
    let page = Page {
        kind,
        step: RecoveryStep::Identify {
            login_value: &login,
        },
        tx,
        flow_id: "",
    };
    Ok(render(
        state,
        headers,
        lang,
        &page,
        &[],
        None,
        StatusCode::OK,
    ))
}

async fn start(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    kind: Kind,
) -> Result<Response, PageError> {
    let (form, lang): (IdentifyForm, Lang) =
        parse(headers, body, |f: &IdentifyForm| f.lang.clone())?;
    let tx = form.tx.as_deref().map(clean_tx).unwrap_or_default();
    if !cookies::csrf_ok(state, headers, &form.csrf) {
        let page = Page {
            kind,
            step: RecoveryStep::Identify {
                login_value: &form.login,
            },
            tx,
            flow_id: "",
        };
        let errors = [consent_ui::message("csrf_failed", lang).to_string()];
        return Ok(render(
            state,
            headers,
            lang,
            &page,
            &errors,
            None,
            StatusCode::FORBIDDEN,
        ));
    }
    let auth_tx = (!tx.is_empty()).then(|| tx.to_string());
    let outcome = recovery::start(state, kind, &form.login, auth_tx)
        .await
        .map_err(|e| fault(e, lang))?;
    show(state, headers, lang, kind, outcome, &form.login, tx).await
}

async fn code(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &[u8],
    kind: Kind,
) -> Result<Response, PageError> {
    let (form, lang): (CodeForm, Lang) = parse(headers, body, |f: &CodeForm| f.lang.clone())?;
    check_csrf(state, headers, &form.csrf, lang)?;
    let outcome = if form.action.as_deref() == Some("resend") {
        recovery::resend(state, &form.flow).await
    } else {
        let code = form.code.as_deref().unwrap_or("");
        recovery::submit_code(state, &form.flow, code, Some(peer.ip())).await
    }
    .map_err(|e| fault(e, lang))?;
    show(state, headers, lang, kind, outcome, "", "").await
}

/// What a page shows besides messages.
struct Page<'a> {
    kind: Kind,
    step: RecoveryStep<'a>,
    tx: &'a str,
    flow_id: &'a str,
}

/// Renders the page an outcome leads to, with its refusal or notice.
async fn show(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    kind: Kind,
    outcome: Outcome,
    login_value: &str,
    tx: &str,
) -> Result<Response, PageError> {
    let (errors, status) = match &outcome.refusal {
        Some(r) => refusal_text(r, lang),
        None => (Vec::new(), StatusCode::OK),
    };
    let notice = outcome.notice.map(|n| {
        match n {
            Notice::Resent => RecoveryMessage::Resent,
            Notice::AlreadySent(wait_secs) => RecoveryMessage::AlreadySent { wait_secs },
        }
        .text(lang)
    });
    let continue_url;
    let (page, flow_tx);
    match &outcome.next {
        Next::Identify => {
            page = Page {
                kind,
                step: RecoveryStep::Identify { login_value },
                tx,
                flow_id: "",
            };
        }
        Next::Code(f) | Next::NewPassword(f) | Next::Answer(f, _) => {
            flow_tx = f.auth_tx.clone().unwrap_or_default();
            let step = match &outcome.next {
                Next::Code(_) => RecoveryStep::Code,
                Next::Answer(_, q) => RecoveryStep::Answer { question: q },
                _ => RecoveryStep::NewPassword,
            };
            page = Page {
                kind: f.kind,
                step,
                tx: &flow_tx,
                flow_id: &f.id,
            };
        }
        Next::Done { kind, auth_tx } => {
            continue_url = continue_url_for(state, auth_tx.as_deref(), lang).await?;
            page = Page {
                kind: *kind,
                step: RecoveryStep::Done {
                    continue_url: &continue_url,
                },
                tx: "",
                flow_id: "",
            };
        }
    }
    Ok(render(
        state,
        headers,
        lang,
        &page,
        &errors,
        notice.as_deref(),
        status,
    ))
}

/// Back to the login page of the authorization in progress, if it is still alive; else home.
async fn continue_url_for(
    state: &AppState,
    auth_tx: Option<&str>,
    lang: Lang,
) -> Result<String, PageError> {
    if let Some(id) = auth_tx
        && AuthTx::load(state, id).await?.is_some()
    {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("tx", id)
            .append_pair("lang", lang.code())
            .finish();
        return Ok(format!("/login?{query}"));
    }
    Ok(format!("/?lang={}", lang.code()))
}

fn refusal_text(r: &Refusal, lang: Lang) -> (Vec<String>, StatusCode) {
    let m = match r {
        Refusal::WeakPassword(problems) => {
            let texts = problems
                .iter()
                .map(|p| match lang {
                    Lang::Ru => p.ru(),
                    Lang::En => p.en(),
                })
                .collect();
            return (texts, StatusCode::BAD_REQUEST);
        }
        Refusal::DailyCap => {
            return (
                vec![RecoveryMessage::DailyCap.text(lang)],
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        Refusal::Unrecognised => RecoveryMessage::Unrecognised,
        Refusal::WrongCode { remaining } => RecoveryMessage::WrongCode {
            remaining: *remaining,
        },
        Refusal::CodeExpired => RecoveryMessage::CodeExpired,
        Refusal::CodeExhausted => RecoveryMessage::CodeExhausted,
        Refusal::WrongAnswer { remaining } => RecoveryMessage::WrongAnswer {
            remaining: *remaining,
        },
        Refusal::AnswersExhausted => RecoveryMessage::AnswersExhausted,
        Refusal::Gone => RecoveryMessage::Gone,
    };
    (vec![m.text(lang)], StatusCode::BAD_REQUEST)
}

fn render(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    page: &Page,
    errors: &[String],
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let (csrf, set_cookie) = cookies::csrf_for_page(state, headers);
    let (flow, base) = match page.kind {
        Kind::Recover => (RecoveryFlow::Recover, "/recover"),
        Kind::Unlock => (RecoveryFlow::Unlock, "/unlock"),
    };
    // Only the first step switches language by link; later steps are forms in progress.
    let other = match page.step {
        RecoveryStep::Identify { .. } => {
            let mut url = url::form_urlencoded::Serializer::new(String::new());
            if !page.tx.is_empty() {
                url.append_pair("tx", page.tx);
            }
            url.append_pair("lang", lang.other().code());
            format!("{base}?{}", url.finish())
        }
        _ => String::new(),
    };
    let html = consent_ui::render_recovery(&RecoveryPage {
        lang,
        flow,
        step: page.step,
        csrf: &csrf,
        tx: page.tx,
        flow_id: page.flow_id,
        errors,
        notice,
        other_lang_url: &other,
    });
    let mut resp = (status, Html(html)).into_response();
    let h = resp.headers_mut();
    if let Some(c) = set_cookie {
        h.append(header::SET_COOKIE, c);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Parses a form body; a malformed one gets the "bad request" page in the best language known.
fn parse<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
    lang_of: impl Fn(&T) -> Option<String>,
) -> Result<(T, Lang), PageError> {
    let fallback = extract::lang(headers, None, None);
    let form: T =
        extract::parse_form(body).map_err(|_| PageError::bad_request(fallback, "bad_request"))?;
    let lang = extract::lang(headers, lang_of(&form).as_deref(), None);
    Ok((form, lang))
}

fn check_csrf(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    lang: Lang,
) -> Result<(), PageError> {
    if cookies::csrf_ok(state, headers, token) {
        Ok(())
    } else {
        Err(PageError::new(StatusCode::FORBIDDEN, lang, "csrf_failed"))
    }
}

fn fault(e: Fault, lang: Lang) -> PageError {
    match e {
        Fault::Store(e) => {
            let transient = matches!(e, crate::store::StoreError::Unavailable(_));
            PageError::from_store(lang, e, transient)
        }
        Fault::Cache(e) => PageError::from_store(lang, e, true),
        Fault::Hash(e) => PageError::from_store(lang, e, false),
    }
}

/// An authorization transaction id as carried in a form: at most 64 URL-safe characters,
/// else none (it is only ever used to look the transaction up).
fn clean_tx(tx: &str) -> &str {
    let ok = tx.len() <= 64
        && tx
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok { tx } else { "" }
}
