//! Login by a one-time code (`/login/code`: phone or e-mail, then the code) and the second
//! step of two-step login (`/login/second`: the authenticator code or a recovery code).
//!
//! No enumeration: an unknown phone or e-mail gets the same pages (nothing is sent, and the
//! code page counts attempts and expiry the same way). A code login opens a session with
//! `amr = ["sms"]` (phone) or `["otp"]` (e-mail); after a second factor the session's `amr`
//! is the first factor's methods plus `otp` and `mfa`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use consent_ui::{Lang, StrongAuthPage, StrongAuthStep};
use serde::{Deserialize, Serialize};

use super::errors::PageError;
use super::session_start::{self, load_tx};
use super::{cookies, extract};
use crate::app::AppState;
use crate::crypto::random_token;
use crate::domain::authorization::AuthTx;
use crate::domain::codes::{self, Checked, IssueError};
use crate::domain::identifiers::Login;
use crate::domain::messages::{self, Channel, Template};
use crate::domain::mfa;
use crate::store::users::{self, User};

/// The code purpose of login codes.
pub const PURPOSE: &str = "login";
/// How long a code-login flow lives in the cache.
const FLOW_TTL: u64 = 900;

#[derive(Deserialize)]
pub struct PageQuery {
    tx: Option<String>,
    lang: Option<String>,
}

#[derive(Deserialize)]
pub struct StartForm {
    tx: String,
    csrf: String,
    login: String,
    lang: Option<String>,
}

#[derive(Deserialize)]
pub struct CodeForm {
    flow: String,
    csrf: String,
    code: Option<String>,
    action: Option<String>,
    lang: Option<String>,
}

#[derive(Deserialize)]
pub struct SecondForm {
    pending: String,
    csrf: String,
    code: String,
    lang: Option<String>,
}

/// A code login in progress (in the cache, bound to the browser).
#[derive(Serialize, Deserialize)]
struct Flow {
    tx: String,
    /// None for an unknown phone or e-mail (nothing was sent).
    user_id: Option<String>,
    /// "sms" or "email".
    channel: String,
    recipient: String,
    browser: String,
    /// For unknown logins: when the "code" was "sent" and how many attempts were made, so
    /// the pages answer as for a real code.
    sent_at: i64,
    attempts: i64,
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<PageQuery>,
) -> Result<Response, PageError> {
    let tx = load_tx(
        &state,
        &headers,
        q.tx.as_deref().unwrap_or(""),
        q.lang.as_deref(),
    )
    .await?;
    let lang = extract::lang(
        &headers,
        q.lang.as_deref(),
        tx.request.ui_locales.as_deref(),
    );
    let hint = tx.request.login_hint.clone().unwrap_or_default();
    Ok(render(
        &state,
        &headers,
        &tx.id,
        lang,
        StrongAuthStep::Identify { login_value: &hint },
        None,
        None,
        StatusCode::OK,
    ))
}

/// POST /login/code: sends a code if the phone or e-mail belongs to an account.
pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let fallback = extract::lang(&headers, None, None);
    let form: StartForm =
        extract::parse_form(&body).map_err(|_| PageError::bad_request(fallback, "bad_request"))?;
    let tx = load_tx(&state, &headers, &form.tx, form.lang.as_deref()).await?;
    let lang = extract::lang(
        &headers,
        form.lang.as_deref(),
        tx.request.ui_locales.as_deref(),
    );
    let identify = |error: String, status| {
        render(
            &state,
            &headers,
            &tx.id,
            lang,
            StrongAuthStep::Identify {
                login_value: &form.login,
            },
            Some(&error),
            None,
            status,
        )
    };
    if !cookies::csrf_ok(&state, &headers, &form.csrf) {
        return Ok(identify(
            consent_ui::message("csrf_failed", lang).to_string(),
            StatusCode::FORBIDDEN,
        ));
    }
    let browser = cookies::read(&headers, cookies::CSRF).unwrap_or_default();
    let login = Login::parse(&form.login);
    let (channel, recipient) = match &login {
        Some(Login::Phone(p)) => ("sms", p.clone()),
        Some(Login::Email(e)) => ("email", e.clone()),
        _ => {
            let msg = pick(
                lang,
                "Введите номер мобильного телефона или адрес электронной почты.",
                "Enter a mobile phone number or an e-mail address.",
            );
            return Ok(identify(msg.to_string(), StatusCode::BAD_REQUEST));
        }
    };
    let user = match &login {
        Some(l) => users::by_login(&state.db, l).await?,
        None => None,
    };
    let now = state.clock.now();
    if let Some(user) = &user {
        // A cool-down or the daily cap sends nothing, silently: the page is the same as for
        // an unknown login (the previous code, if any, still works).
        send(&state, user, channel, &recipient).await?;
    }
    let flow = Flow {
        tx: tx.id.clone(),
        user_id: user.map(|u| u.id),
        channel: channel.to_string(),
        recipient,
        browser: mfa::browser_binding(&browser),
        sent_at: now,
        attempts: 0,
    };
    let id = random_token(24);
    state
        .cache
        .put_json(&flow_key(&id), &flow, FLOW_TTL)
        .await?;
    Ok(render(
        &state,
        &headers,
        &tx.id,
        lang,
        StrongAuthStep::Code { flow: &id },
        None,
        None,
        StatusCode::OK,
    ))
}

/// POST /login/code/verify: checks the code (or sends a new one).
pub async fn verify(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let fallback = extract::lang(&headers, None, None);
    let form: CodeForm =
        extract::parse_form(&body).map_err(|_| PageError::bad_request(fallback, "bad_request"))?;
    let lang = extract::lang(&headers, form.lang.as_deref(), None);
    if !cookies::csrf_ok(&state, &headers, &form.csrf) {
        return Err(PageError::new(StatusCode::FORBIDDEN, lang, "csrf_failed"));
    }
    let browser = cookies::read(&headers, cookies::CSRF).unwrap_or_default();
    let key = flow_key(&form.flow);
    let mut flow = match state.cache.get_json::<Flow>(&key).await? {
        Some(f) if f.browser == mfa::browser_binding(&browser) => f,
        _ => return Err(PageError::bad_request(lang, "tx_expired")),
    };
    let mut tx = load_tx(&state, &headers, &flow.tx, form.lang.as_deref()).await?;
    let now = state.clock.now();
    let user = match &flow.user_id {
        Some(id) => users::by_id(&state.db, id).await?,
        None => None,
    };
    let code_page = |error: Option<String>, notice: Option<String>, status| {
        render(
            &state,
            &headers,
            &tx.id,
            lang,
            StrongAuthStep::Code { flow: &form.flow },
            error.as_deref(),
            notice.as_deref(),
            status,
        )
    };
    if form.action.as_deref() == Some("resend") {
        let wait = match &user {
            Some(u) => match send(&state, u, &flow.channel, &flow.recipient).await? {
                Sent::Yes => 0,
                Sent::TooSoon(w) => w,
                Sent::DailyCap => {
                    let msg = pick(
                        lang,
                        "Превышено число запросов кода на сегодня. Попробуйте завтра.",
                        "Too many codes have been requested today. Try again tomorrow.",
                    );
                    return Ok(code_page(
                        Some(msg.into()),
                        None,
                        StatusCode::TOO_MANY_REQUESTS,
                    ));
                }
            },
            None => (flow.sent_at + codes::SMS.resend_after - now).max(0),
        };
        if wait > 0 {
            let msg = if lang == Lang::Ru {
                format!("Код уже отправлен. Новый можно запросить через {wait} с.")
            } else {
                format!("A code has already been sent. A new one can be requested in {wait} s.")
            };
            return Ok(code_page(None, Some(msg), StatusCode::OK));
        }
        flow.sent_at = now;
        flow.attempts = 0;
        state.cache.put_json(&key, &flow, FLOW_TTL).await?;
        let msg = pick(lang, "Новый код отправлен.", "A new code has been sent.");
        return Ok(code_page(None, Some(msg.into()), StatusCode::OK));
    }
    let code = form.code.as_deref().unwrap_or("");
    let checked = match &user {
        Some(u) => codes::check(&state, PURPOSE, &u.id, code).await?,
        None => {
            let policy = policy(&flow.channel);
            if flow.sent_at + policy.ttl <= now {
                Checked::Expired
            } else if flow.attempts >= policy.max_attempts {
                Checked::Exhausted
            } else {
                flow.attempts += 1;
                state.cache.put_json(&key, &flow, FLOW_TTL).await?;
                Checked::Wrong {
                    remaining: policy.max_attempts - flow.attempts,
                }
            }
        }
    };
    let user = match (checked, user) {
        (Checked::Accepted(_), Some(u)) => u,
        (Checked::Wrong { remaining }, _) if remaining > 0 => {
            let msg = if lang == Lang::Ru {
                format!("Неверный код. Осталось попыток: {remaining}.")
            } else {
                format!("Wrong code. Attempts left: {remaining}.")
            };
            return Ok(code_page(Some(msg), None, StatusCode::UNAUTHORIZED));
        }
        (Checked::Expired, _) => {
            let msg = pick(
                lang,
                "Срок действия кода истёк. Запросите новый код.",
                "The code has expired. Request a new code.",
            );
            return Ok(code_page(Some(msg.into()), None, StatusCode::UNAUTHORIZED));
        }
        _ => {
            let msg = pick(
                lang,
                "Неверный код. Попытки ввода этого кода закончились: запросите новый код.",
                "Wrong code. No attempts are left for this code: request a new code.",
            );
            return Ok(code_page(Some(msg.into()), None, StatusCode::UNAUTHORIZED));
        }
    };
    state.cache.delete(&key).await?;
    let amr = vec![if flow.channel == "sms" { "sms" } else { "otp" }.to_string()];
    first_factor_done(&state, &headers, peer, &mut tx, &user, amr, true, lang).await
}

/// POST /login/second: the second factor of a two-step login.
pub async fn second(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let fallback = extract::lang(&headers, None, None);
    let form: SecondForm =
        extract::parse_form(&body).map_err(|_| PageError::bad_request(fallback, "bad_request"))?;
    let lang = extract::lang(&headers, form.lang.as_deref(), None);
    if !cookies::csrf_ok(&state, &headers, &form.csrf) {
        return Err(PageError::new(StatusCode::FORBIDDEN, lang, "csrf_failed"));
    }
    let browser = cookies::read(&headers, cookies::CSRF);
    let Some(pending) = mfa::get_pending(&state, &form.pending, browser.as_deref()).await? else {
        return Err(PageError::bad_request(lang, "tx_expired"));
    };
    let mut tx = load_tx(&state, &headers, &pending.tx, form.lang.as_deref()).await?;
    let again = |msg: &str, status| {
        render(
            &state,
            &headers,
            &tx.id,
            lang,
            StrongAuthStep::SecondFactor {
                pending: &form.pending,
            },
            Some(msg),
            None,
            status,
        )
    };
    match mfa::check_second_factor(&state, &pending.user_id, &form.code).await {
        Ok(_) => {}
        Err(mfa::MfaError::WrongCode) => {
            if mfa::pending_failed(&state, &form.pending).await? {
                let msg = pick(
                    lang,
                    "Слишком много неверных кодов. Войдите заново.",
                    "Too many wrong codes. Log in again.",
                );
                return Ok(render(
                    &state,
                    &headers,
                    &tx.id,
                    lang,
                    StrongAuthStep::Identify { login_value: "" },
                    Some(msg),
                    None,
                    StatusCode::TOO_MANY_REQUESTS,
                ));
            }
            let msg = pick(
                lang,
                "Неверный или уже использованный код. Введите новый код из приложения.",
                "Wrong or already used code. Enter a new code from the app.",
            );
            return Ok(again(msg, StatusCode::UNAUTHORIZED));
        }
        Err(mfa::MfaError::Locked) => {
            let msg = pick(
                lang,
                "Слишком много неудачных попыток. Повторите позже.",
                "Too many failed attempts. Please try again later.",
            );
            return Ok(again(msg, StatusCode::TOO_MANY_REQUESTS));
        }
        Err(mfa::MfaError::Store(e)) => return Err(e.into()),
        Err(mfa::MfaError::Cache(e)) => return Err(e.into()),
        Err(e) => return Err(PageError::from_store(lang, e, false)),
    }
    mfa::drop_pending(&state, &form.pending).await?;
    let Some(user) = users::by_id(&state.db, &pending.user_id).await? else {
        return Err(PageError::bad_request(lang, "tx_expired"));
    };
    let amr = mfa::combined_amr(&pending.amr);
    let origin = session_start::Origin {
        headers: &headers,
        peer,
    };
    session_start::open_and_continue(
        &state,
        &origin,
        &mut tx,
        &user,
        &amr,
        pending.persistent,
        lang,
    )
    .await
}

/// After a first factor: asks for the second one when the account has two-step login on,
/// else opens the session and continues the authorization flow.
#[allow(clippy::too_many_arguments)]
pub async fn first_factor_done(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    tx: &mut AuthTx,
    user: &User,
    amr: Vec<String>,
    persistent: bool,
    lang: Lang,
) -> Result<Response, PageError> {
    if crate::store::totp::confirmed(&state.db, &user.id).await? {
        // The form token of this page is a MAC of the CSRF cookie: the cookie exists here.
        let browser = cookies::read(headers, cookies::CSRF).unwrap_or_default();
        let pending = mfa::Pending {
            user_id: user.id.clone(),
            tx: tx.id.clone(),
            amr,
            persistent,
            browser: mfa::browser_binding(&browser),
        };
        let id = mfa::put_pending(state, &pending).await?;
        return Ok(render(
            state,
            headers,
            &tx.id,
            lang,
            StrongAuthStep::SecondFactor { pending: &id },
            None,
            None,
            StatusCode::OK,
        ));
    }
    let origin = session_start::Origin { headers, peer };
    session_start::open_and_continue(state, &origin, tx, user, &amr, persistent, lang).await
}

enum Sent {
    Yes,
    TooSoon(i64),
    DailyCap,
}

/// Issues a login code for `user` and queues it to `recipient`.
async fn send(
    state: &AppState,
    user: &User,
    channel: &str,
    recipient: &str,
) -> Result<Sent, PageError> {
    match codes::issue(state, PURPOSE, &user.id, policy(channel), None).await {
        Ok(code) => {
            let channel = if channel == "sms" {
                Channel::Sms
            } else {
                Channel::Email
            };
            messages::queue(
                state.db.write(),
                channel,
                recipient,
                &Template::LoginCode { code: &code },
                state.clock.now(),
            )
            .await?;
            Ok(Sent::Yes)
        }
        Err(IssueError::TooSoon(w)) => Ok(Sent::TooSoon(w)),
        Err(IssueError::DailyCap) => Ok(Sent::DailyCap),
        Err(IssueError::Store(e)) => Err(e.into()),
    }
}

fn policy(channel: &str) -> codes::Policy {
    if channel == "sms" {
        codes::SMS
    } else {
        codes::EMAIL_CODE
    }
}

fn flow_key(id: &str) -> String {
    format!("codelogin:{id}")
}

fn pick(lang: Lang, ru: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::Ru { ru } else { en }
}

#[allow(clippy::too_many_arguments)]
fn render(
    state: &AppState,
    headers: &HeaderMap,
    tx: &str,
    lang: Lang,
    step: StrongAuthStep<'_>,
    error: Option<&str>,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let (csrf, set_cookie) = cookies::csrf_for_page(state, headers);
    let other = match step {
        StrongAuthStep::Identify { .. } => {
            format!("/login/code?tx={tx}&lang={}", lang.other().code())
        }
        _ => String::new(),
    };
    let html = consent_ui::render_strong_auth(&StrongAuthPage {
        lang,
        step,
        csrf: &csrf,
        tx,
        error,
        notice,
        other_lang_url: &other,
    });
    let mut resp = (status, Html(html)).into_response();
    if let Some(c) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
