//! Login by a one-time code (`/login/code`: phone or e-mail, then the code), the second step
//! of two-step login and of a step-up (`/login/second`: an authenticator or recovery code,
//! an SMS code, a passkey or a signature, the person's preferred one first), the page "your
//! account level is too low" (`/login/level`), and remembered devices (`idp_device`).
//!
//! No enumeration: an unknown phone or e-mail gets the same pages (nothing is sent, and the
//! code page counts attempts and expiry the same way). A code login opens a session with
//! `amr = ["sms"]` (phone) or `["otp"]` (e-mail); after a second factor the session's `amr`
//! is the first factor's methods plus the second's (`otp`, `sms`, `hwk`, `ds`) and `mfa`.
//! When the second step is asked is decided in `domain::assurance`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use consent_ui::{Lang, SecondChoice, StrongAuthPage, StrongAuthStep};
use serde::{Deserialize, Serialize};

use super::errors::PageError;
use super::session_start::{self, load_tx, load_tx_and_lang};
use super::{cookies, extract};
use crate::app::AppState;
use crate::crypto::random_token;
use crate::domain::assurance;
use crate::domain::authorization::{AuthTx, TooLow, level_shortfall};
use crate::domain::codes::{self, Checked, IssueError};
use crate::domain::identifiers::Login;
use crate::domain::login;
use crate::domain::login_history;
use crate::domain::messages::{self, Channel, Template};
use crate::domain::mfa;
use crate::protocol::{ErrorCode, OAuthError};
use crate::store::login_settings;
use crate::store::users::{self, User};

/// The code purpose of login codes.
pub const PURPOSE: &str = "login";
/// The code purpose of SMS codes of the second step.
pub const SECOND_PURPOSE: &str = "login-second";
/// How long a code-login flow lives in the cache.
const FLOW_TTL: u64 = 900;

#[derive(Deserialize)]
pub struct PageQuery {
    pub(super) tx: Option<String>,
    pub(super) lang: Option<String>,
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
    #[serde(default)]
    code: String,
    /// "totp" (the default: an authenticator or recovery code) or "sms".
    method: Option<String>,
    /// "send_sms": send an SMS code for the second step.
    action: Option<String>,
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
    let (tx, lang) = load_tx_and_lang(
        &state,
        &headers,
        q.tx.as_deref().unwrap_or(""),
        q.lang.as_deref(),
    )
    .await?;
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
        send(&state, user, PURPOSE, channel, &recipient).await?;
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
            Some(u) => match send(&state, u, PURPOSE, &flow.channel, &flow.recipient).await? {
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
    if let Some(u) = user
        .as_ref()
        .filter(|_| !matches!(checked, Checked::Accepted(_)))
    {
        let reason = match &checked {
            Checked::Expired => "code_expired",
            Checked::Exhausted | Checked::Missing => "code_exhausted",
            _ => "wrong_code",
        };
        let method = if flow.channel == "sms" { "sms" } else { "otp" };
        let user_agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok());
        let ip = peer.ip().to_string();
        login_history::failed(&state, &u.id, method, reason, user_agent, Some(&ip)).await;
    }
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

/// POST /login/second: the second factor of a two-step login or of a step-up: a TOTP or
/// recovery code (`method` = "totp", the default), an SMS code (`method` = "sms"), or
/// `action` = "send_sms" to have that code sent.
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
    let Some(user) = users::by_id(&state.db, &pending.user_id).await? else {
        return Err(PageError::bad_request(lang, "tx_expired"));
    };
    let view = SecondView {
        state: &state,
        headers: &headers,
        tx: &tx.id,
        lang,
        id: &form.pending,
        pending: &pending,
        user: &user,
    };
    let sms_phone = sms_phone(&user).filter(|_| !pending.amr.iter().any(|a| a == "sms"));
    if form.action.as_deref() == Some("send_sms") {
        let Some(phone) = sms_phone else {
            return Err(PageError::bad_request(lang, "bad_request"));
        };
        let (error, notice, status) = match send(&state, &user, SECOND_PURPOSE, "sms", &phone)
            .await?
        {
            Sent::Yes => (
                None,
                Some(pick(lang, "Код отправлен.", "The code has been sent.").to_string()),
                StatusCode::OK,
            ),
            Sent::TooSoon(w) => {
                let msg = if lang == Lang::Ru {
                    format!("Код уже отправлен. Новый можно запросить через {w} с.")
                } else {
                    format!("A code has already been sent. A new one can be requested in {w} s.")
                };
                (None, Some(msg), StatusCode::OK)
            }
            Sent::DailyCap => (
                Some(
                    pick(
                        lang,
                        "Превышено число запросов кода на сегодня. Выберите другой способ.",
                        "Too many codes have been requested today. Choose another way.",
                    )
                    .to_string(),
                ),
                None,
                StatusCode::TOO_MANY_REQUESTS,
            ),
        };
        return view
            .render(error.as_deref(), notice.as_deref(), status, true)
            .await;
    }
    let by_sms = form.method.as_deref() == Some("sms");
    let factor = if by_sms { "sms" } else { "otp" };
    let ip = peer.ip().to_string();
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    // (message, status, the reason recorded in the login history)
    let refused: Option<(String, StatusCode, &str)> = if by_sms {
        if sms_phone.is_none() {
            return Err(PageError::bad_request(lang, "bad_request"));
        }
        match codes::check(&state, SECOND_PURPOSE, &user.id, &form.code).await? {
            Checked::Accepted(_) => None,
            Checked::Wrong { remaining } if remaining > 0 => Some((
                if lang == Lang::Ru {
                    format!("Неверный код. Осталось попыток: {remaining}.")
                } else {
                    format!("Wrong code. Attempts left: {remaining}.")
                },
                StatusCode::UNAUTHORIZED,
                "wrong_code",
            )),
            Checked::Expired => Some((
                pick(
                    lang,
                    "Срок действия кода истёк. Запросите новый код.",
                    "The code has expired. Request a new code.",
                )
                .into(),
                StatusCode::UNAUTHORIZED,
                "code_expired",
            )),
            _ => Some((
                pick(
                    lang,
                    "Неверный код. Попытки ввода этого кода закончились: запросите новый код.",
                    "Wrong code. No attempts are left for this code: request a new code.",
                )
                .into(),
                StatusCode::UNAUTHORIZED,
                "code_exhausted",
            )),
        }
    } else {
        match mfa::check_second_factor(&state, &pending.user_id, &form.code).await {
            Ok(_) => None,
            Err(mfa::MfaError::WrongCode) => Some((
                pick(
                    lang,
                    "Неверный или уже использованный код. Введите новый код из приложения.",
                    "Wrong or already used code. Enter a new code from the app.",
                )
                .into(),
                StatusCode::UNAUTHORIZED,
                "wrong_code",
            )),
            Err(mfa::MfaError::Locked) => {
                mfa::second_factor_failed(
                    &state,
                    &pending,
                    factor,
                    "locked",
                    user_agent,
                    Some(&ip),
                )
                .await;
                let msg = pick(
                    lang,
                    "Слишком много неудачных попыток. Повторите позже.",
                    "Too many failed attempts. Please try again later.",
                );
                return view
                    .render(Some(msg), None, StatusCode::TOO_MANY_REQUESTS, false)
                    .await;
            }
            Err(mfa::MfaError::Store(e)) => return Err(e.into()),
            Err(mfa::MfaError::Cache(e)) => return Err(e.into()),
            Err(e) => return Err(PageError::from_store(lang, e, false)),
        }
    };
    if let Some((msg, status, reason)) = refused {
        mfa::second_factor_failed(&state, &pending, factor, reason, user_agent, Some(&ip)).await;
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
        return view.render(Some(&msg), None, status, by_sms).await;
    }
    mfa::drop_pending(&state, &form.pending).await?;
    let amr = mfa::combined_amr_with(&pending.amr, factor);
    complete_login(
        &state,
        &headers,
        peer,
        &mut tx,
        &user,
        &amr,
        pending.persistent,
        lang,
    )
    .await
}

/// GET /login/second?tx=…: a step-up. The browser's session is fine but the request (or
/// the client, or a re-authentication) needs a second factor: only that is asked; the
/// session is then re-opened with the combined `amr`. An account without a usable second
/// factor sends the client `unmet_authentication_requirements`.
pub async fn step_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<PageQuery>,
) -> Result<Response, PageError> {
    let (tx, lang) = load_tx_and_lang(
        &state,
        &headers,
        q.tx.as_deref().unwrap_or(""),
        q.lang.as_deref(),
    )
    .await?;
    let session =
        login::current(&state, cookies::read(&headers, cookies::SESSION).as_deref()).await?;
    let Some((session, user)) = session else {
        tx.save(&state).await?;
        return Ok(see_other(&format!("/login?tx={}", tx.id)));
    };
    let settings = login_settings::get(&state.db, &user.id).await?;
    let methods = available_factors(&state, &user, &session.amr, &settings).await?;
    if methods.is_empty() {
        return no_second_factor(&state, &tx).await;
    }
    // The pending login is bound to the CSRF cookie: make one now if the browser has none.
    let (cookie, set_cookie) = match cookies::read(&headers, cookies::CSRF) {
        Some(v) => (v, None),
        None => {
            let v = random_token(32);
            let c = cookies::set(&state, cookies::CSRF, &v, None);
            (v, Some(c))
        }
    };
    let pending = mfa::Pending {
        user_id: user.id.clone(),
        tx: tx.id.clone(),
        amr: session.amr.clone(),
        persistent: session.persistent,
        browser: mfa::browser_binding(&cookie),
    };
    let id = mfa::put_pending(&state, &pending).await?;
    let csrf = state.secrets.cookie_mac(cookie.as_bytes());
    let phone = sms_phone(&user).map(|p| mask_phone(&p)).unwrap_or_default();
    let mut resp = render_with(
        &csrf,
        &tx.id,
        lang,
        StrongAuthStep::SecondFactor {
            pending: &id,
            choice: SecondChoice {
                methods: &methods,
                phone_hint: &phone,
                sms_sent: false,
            },
        },
        None,
        None,
        StatusCode::OK,
    );
    if let Some(c) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

/// After a first factor: asks for a second one when the request, the client or a
/// re-authentication needs it, or when the person has two-step login on (always, or on a
/// browser that is not a remembered device); else opens the session and continues.
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
    let policy = state
        .clients
        .get(&state.db, &tx.request.client_id)
        .await?
        .map(|c| c.auth_policy)
        .unwrap_or_default();
    // An account below the level the site needs goes to the explanation before anything
    // else: no second step is asked and no session opens for a login that cannot succeed.
    if let Some(wanted) = level_shortfall(&tx.request.acr_values, &policy, user.level) {
        tx.too_low = Some(TooLow {
            level: user.level.as_str().to_owned(),
            wanted: wanted.as_str().to_owned(),
        });
        tx.save(state).await?;
        return Ok(see_other(&format!("/login/level?tx={}", tx.id)));
    }
    let required = assurance::required(&tx.request.acr_values, &policy, tx.reauth.is_some());
    let settings = login_settings::get(&state.db, &user.id).await?;
    let totp_on = crate::store::totp::confirmed(&state.db, &user.id).await?;
    let two_step_on = totp_on || settings.preferred.is_some();
    let remembered = two_step_on
        && !settings.always
        && super::devices::remembered(state, headers, peer, &user.id).await?;
    if assurance::second_step_needed(required, &amr, two_step_on, settings.always, remembered) {
        let methods = available_factors(state, user, &amr, &settings).await?;
        if !methods.is_empty() {
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
            let view = SecondView {
                state,
                headers,
                tx: &tx.id,
                lang,
                id: &id,
                pending: &pending,
                user,
            };
            return view.render(None, None, StatusCode::OK, false).await;
        }
        if !assurance::meets(required, &amr) {
            return no_second_factor(state, tx).await;
        }
    }
    complete_login(state, headers, peer, tx, user, &amr, persistent, lang).await
}

/// Opens the session, continues the flow, and remembers the device (not on "Чужой
/// компьютер").
#[allow(clippy::too_many_arguments)]
pub async fn complete_login(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    tx: &mut AuthTx,
    user: &User,
    amr: &[String],
    persistent: bool,
    lang: Lang,
) -> Result<Response, PageError> {
    let origin = session_start::Origin { headers, peer };
    session_start::open_and_continue(state, &origin, tx, user, amr, persistent, lang).await
}

/// The client gets `unmet_authentication_requirements`: a second factor is needed and the
/// account has none it can use.
async fn no_second_factor(state: &AppState, tx: &AuthTx) -> Result<Response, PageError> {
    let e = OAuthError::new(
        ErrorCode::UnmetAuthenticationRequirements,
        "a second factor is required and the account has none it can use",
    );
    let url = tx.error_redirect(state, &e);
    tx.finish(state).await?;
    Ok(see_other(&url))
}

/// The confirmed phone SMS codes of the second step go to.
fn sms_phone(user: &User) -> Option<String> {
    user.person
        .phone
        .clone()
        .filter(|_| user.person.phone_verified)
}

/// "+7 *** ***-01-01".
fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return "***".into();
    }
    let n = digits.len();
    format!(
        "+7 *** ***-{}{}-{}{}",
        digits[n - 4],
        digits[n - 3],
        digits[n - 2],
        digits[n - 1]
    )
}

/// The second factors `user` can use after `first_amr`, preferred first.
async fn available_factors(
    state: &AppState,
    user: &User,
    first_amr: &[String],
    settings: &login_settings::LoginSettings,
) -> Result<Vec<&'static str>, PageError> {
    let totp = crate::store::totp::confirmed(&state.db, &user.id).await?;
    let passkey = crate::domain::passkeys::has_passkeys(state, &user.id).await?;
    // A signature finds the account by SNILS, INN or e-mail (domain::signature).
    let signature = !state.config.signature.trust_anchors.is_empty()
        && (user.person.snils.is_some() || user.person.inn.is_some());
    Ok(assurance::second_factor_order(
        totp,
        sms_phone(user).is_some(),
        passkey,
        signature,
        settings.preferred.as_deref(),
        first_amr,
    ))
}

/// The second step of one pending login, rendered.
struct SecondView<'a> {
    state: &'a AppState,
    headers: &'a HeaderMap,
    tx: &'a str,
    lang: Lang,
    id: &'a str,
    pending: &'a mfa::Pending,
    user: &'a User,
}

impl SecondView<'_> {
    async fn render(
        &self,
        error: Option<&str>,
        notice: Option<&str>,
        status: StatusCode,
        sms_sent: bool,
    ) -> Result<Response, PageError> {
        let settings = login_settings::get(&self.state.db, &self.user.id).await?;
        let methods =
            available_factors(self.state, self.user, &self.pending.amr, &settings).await?;
        let phone = sms_phone(self.user)
            .map(|p| mask_phone(&p))
            .unwrap_or_default();
        Ok(render(
            self.state,
            self.headers,
            self.tx,
            self.lang,
            StrongAuthStep::SecondFactor {
                pending: self.id,
                choice: SecondChoice {
                    methods: &methods,
                    phone_hint: &phone,
                    sms_sent,
                },
            },
            error,
            notice,
            status,
        ))
    }
}

/// A 303 to `location` (400 if it cannot be a header value).
pub(super) fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => (StatusCode::SEE_OTHER, [(header::LOCATION, v)]).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

enum Sent {
    Yes,
    TooSoon(i64),
    DailyCap,
}

/// Issues a login code (`purpose`) for `user` and queues it to `recipient`.
async fn send(
    state: &AppState,
    user: &User,
    purpose: &str,
    channel: &str,
    recipient: &str,
) -> Result<Sent, PageError> {
    match codes::issue(state, purpose, &user.id, policy(channel), None).await {
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
    let mut resp = render_with(&csrf, tx, lang, step, error, notice, status);
    if let Some(c) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

/// A page with a given form token.
fn render_with(
    csrf: &str,
    tx: &str,
    lang: Lang,
    step: StrongAuthStep<'_>,
    error: Option<&str>,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let other = match step {
        StrongAuthStep::Identify { .. } => {
            format!("/login/code?tx={tx}&lang={}", lang.other().code())
        }
        _ => String::new(),
    };
    let html = consent_ui::render_strong_auth(&StrongAuthPage {
        lang,
        step,
        csrf,
        tx,
        error,
        notice,
        other_lang_url: &other,
    });
    let mut resp = (status, Html(html)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
