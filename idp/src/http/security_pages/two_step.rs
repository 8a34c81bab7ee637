//! `/profile/security/two-step`: the authenticator app and the login settings.
//!
//! An enrolment in progress (a secret stored but not yet confirmed by a first code) is shown
//! whenever the page is opened: the QR code of the `otpauth://` URI, the secret grouped for
//! typing and the form for the first code. The confirmation answers with the ten recovery
//! codes on the page itself (shown once, `no-store`), not a redirect.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use consent_ui::{Lang, TwoStepPage};

use super::{Extra, PageQuery, TWO_STEP, done, frame, html, locked, notice, submitted, tr};
use crate::app::AppState;
use crate::domain::mfa::{self, MfaError};
use crate::domain::{passkeys, totp};
use crate::http::errors::PageError;
use crate::http::extract;
use crate::http::profile::{Visit, visit};
use crate::store::login_settings::{self, LoginSettings, METHODS};
use crate::store::users::User;
use crate::store::{StoreError, events, totp as totp_store};

/// The account name in the `otpauth://` URI (as `domain::mfa::enrol` makes it).
fn account_name(user: &User) -> String {
    user.person
        .phone
        .clone()
        .or_else(|| user.person.email.clone())
        .unwrap_or_else(|| user.id.clone())
}

/// Which second factors the person can use now, in the order of [`METHODS`].
pub(super) async fn available_methods(
    state: &AppState,
    user: &User,
) -> Result<Vec<(&'static str, bool)>, StoreError> {
    let mut out = Vec::with_capacity(METHODS.len());
    for m in METHODS {
        let ok = match m {
            "totp" => totp_store::confirmed(&state.db, &user.id).await?,
            "sms" => user.person.phone.is_some() && user.person.phone_verified,
            "passkey" => passkeys::has_passkeys(state, &user.id).await?,
            "signature" => super::signature_certs::has_certificates(state, &user.id).await?,
            _ => false,
        };
        out.push((m, ok));
    }
    Ok(out)
}

async fn render(state: &AppState, v: Visit, extra: Extra, status: StatusCode) -> Response {
    match render_page(state, &v, &extra, status).await {
        Ok(r) => r,
        Err(e) => PageError::from(e).into_response(),
    }
}

async fn render_page(
    state: &AppState,
    v: &Visit,
    extra: &Extra,
    status: StatusCode,
) -> Result<Response, StoreError> {
    let cred = totp_store::get(&state.db, &v.user.id).await?;
    let enabled = cred.as_ref().is_some_and(|c| c.confirmed_at.is_some());
    let pending = cred
        .filter(|c| c.confirmed_at.is_none())
        .and_then(|c| state.secrets.open(&c.secret_sealed))
        .map(|secret| {
            (
                totp::base32_encode(&secret),
                totp::otpauth_uri("Госуслуги", &account_name(&v.user), &secret),
            )
        });
    let recovery_left = if enabled {
        totp_store::recovery_codes_left(&state.db, &v.user.id).await?
    } else {
        0
    };
    let settings = login_settings::get(&state.db, &v.user.id).await?;
    let methods = available_methods(state, &v.user).await?;
    let name = v.user.person.full_name();
    let page = TwoStepPage {
        totp_enabled: enabled,
        recovery_left,
        enrolment: pending.as_ref().map(|(s, u)| (s.as_str(), u.as_str())),
        recovery_codes: &extra.recovery_codes,
        always: settings.always,
        preferred: settings.preferred.as_deref(),
        methods: &methods,
    };
    let body = consent_ui::render_security_two_step(&frame(v, &name, extra), &page);
    Ok(html(v, body, status))
}

pub(super) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<PageQuery>,
) -> Response {
    let v = match visit(&state, &headers, q.lang.as_deref()).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let extra = Extra {
        notice: notice(q.done.as_deref(), v.lang),
        ..Extra::default()
    };
    render(&state, v, extra, StatusCode::OK).await
}

pub(super) async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (v, form) = match submitted(&state, &headers, &body, |v, e| {
        render(&state, v, e, StatusCode::FORBIDDEN)
    })
    .await
    {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let lang = v.lang;
    let (status, message) = match form.action.as_str() {
        "enrol" => match mfa::enrol(&state, &v.user).await {
            Ok(_) => return done(TWO_STEP, lang, "started"),
            Err(e) => failure(e, lang),
        },
        "cancel" => match totp_store::get(&state.db, &v.user.id).await {
            Ok(Some(c)) if c.confirmed_at.is_none() => {
                match totp_store::delete(&state.db, &v.user.id).await {
                    Ok(_) => return done(TWO_STEP, lang, "cancelled"),
                    Err(e) => return PageError::from(e).into_response(),
                }
            }
            Ok(_) => failure(MfaError::NotStarted, lang),
            Err(e) => return PageError::from(e).into_response(),
        },
        "confirm" => match mfa::confirm(&state, &v.user, &form.code).await {
            Ok(codes) => {
                let extra = Extra {
                    notice: Some(tr(
                        lang,
                        "Вход с кодом из приложения включён. Сохраните резервные коды.",
                        "Login with an app code is on. Keep the recovery codes.",
                    )),
                    recovery_codes: codes,
                    ..Extra::default()
                };
                return render(&state, v, extra, StatusCode::OK).await;
            }
            Err(e) => failure(e, lang),
        },
        "disable" => match mfa::disable(&state, &v.user, &form.password, Some(peer.ip())).await {
            Ok(()) => return done(TWO_STEP, lang, "disabled"),
            Err(e) => failure(e, lang),
        },
        "settings" => match save_settings(&state, &v.user, &form.always, &form.preferred).await {
            Ok(None) => return done(TWO_STEP, lang, "settings"),
            Ok(Some(problem)) => (StatusCode::UNPROCESSABLE_ENTITY, problem(lang)),
            Err(e) => return PageError::from(e).into_response(),
        },
        _ => return PageError::bad_request(lang, "bad_request").into_response(),
    };
    if status.is_server_error() {
        return PageError::from_store(lang, &message, status == StatusCode::SERVICE_UNAVAILABLE)
            .into_response();
    }
    let extra = Extra {
        errors: vec![message],
        ..Extra::default()
    };
    render(&state, v, extra, status).await
}

/// A refusal's status and message; errors of the store come back as 5xx with the detail.
fn failure(e: MfaError, lang: Lang) -> (StatusCode, String) {
    let m = |ru: &'static str, en: &'static str| tr(lang, ru, en).to_string();
    match e {
        MfaError::AlreadyEnabled => (
            StatusCode::CONFLICT,
            m(
                "Вход с кодом из приложения уже включён. Чтобы подключить другое приложение, сначала отключите его.",
                "Login with an app code is already on. To connect another app, turn it off first.",
            ),
        ),
        MfaError::NotStarted => (
            StatusCode::CONFLICT,
            m(
                "Сначала начните подключение приложения.",
                "Start connecting the app first.",
            ),
        ),
        MfaError::NotEnabled => (
            StatusCode::CONFLICT,
            m(
                "Вход с кодом из приложения не включён.",
                "Login with an app code is not on.",
            ),
        ),
        MfaError::WrongCode => (
            StatusCode::UNPROCESSABLE_ENTITY,
            m(
                "Неверный код. Введите текущий код из приложения.",
                "Wrong code. Enter the app's current code.",
            ),
        ),
        MfaError::WrongPassword => (StatusCode::FORBIDDEN, super::wrong_password(lang)),
        MfaError::Locked => (StatusCode::TOO_MANY_REQUESTS, locked(lang)),
        MfaError::Store(e) => {
            let status = if matches!(e, StoreError::Unavailable(_)) {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            (status, e.to_string())
        }
        MfaError::Cache(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// Why settings are refused, as a message in a language.
type Problem = fn(Lang) -> String;

/// Validates and stores the login settings; `Ok(Some(_))` is a refusal.
async fn save_settings(
    state: &AppState,
    user: &User,
    always: &str,
    preferred: &str,
) -> Result<Option<Problem>, StoreError> {
    let always = match always {
        "1" => true,
        "0" => false,
        _ => {
            return Ok(Some(|lang| {
                tr(
                    lang,
                    "Выберите, когда запрашивать второй шаг.",
                    "Choose when to ask for the second step.",
                )
                .to_string()
            }));
        }
    };
    let preferred = match preferred.trim() {
        "" => None,
        m => {
            let available = available_methods(state, user).await?;
            match available.iter().find(|(name, _)| *name == m) {
                None => {
                    return Ok(Some(|lang| {
                        tr(lang, "Неизвестный способ входа.", "Unknown login method.").to_string()
                    }));
                }
                Some((_, false)) => {
                    return Ok(Some(unavailable_problem(m)));
                }
                Some((name, true)) => Some((*name).to_string()),
            }
        }
    };
    let settings = LoginSettings { always, preferred };
    let now = state.clock.now();
    login_settings::put(&state.db, &user.id, &settings, now).await?;
    let detail = serde_json::json!({
        "always": settings.always,
        "preferred": settings.preferred,
    });
    events::record(
        state.db.write(),
        &events::NewEvent {
            user_id: &user.id,
            kind: "security",
            status: "success",
            summary: "Изменены настройки двухэтапного входа",
            detail: Some(&detail),
            source: "user",
        },
        now,
    )
    .await?;
    Ok(None)
}

/// The refusal of a preferred method that is not set up.
fn unavailable_problem(method: &str) -> Problem {
    match method {
        "totp" => |lang| {
            tr(
                lang,
                "Приложение-аутентификатор не подключено: сначала подключите его.",
                "The authenticator app is not connected: connect it first.",
            )
            .to_string()
        },
        "sms" => |lang| {
            tr(
                lang,
                "Нет подтверждённого номера телефона для кодов в SMS.",
                "There is no confirmed phone number for SMS codes.",
            )
            .to_string()
        },
        "passkey" => |lang| {
            tr(
                lang,
                "Ключей доступа нет: сначала добавьте ключ доступа.",
                "There are no passkeys: add a passkey first.",
            )
            .to_string()
        },
        _ => |lang| {
            tr(
                lang,
                "Вы ещё не входили по электронной подписи: сначала войдите с её помощью.",
                "You have not logged in by electronic signature yet: log in with it first.",
            )
            .to_string()
        },
    }
}
