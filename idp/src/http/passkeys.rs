//! Passkeys over HTTP (see docs/passkeys.md):
//!
//! - cabinet API (session cookie + `X-CSRF-Token`): `POST /api/security/passkeys/options` →
//!   creation options; `POST /api/security/passkeys` `{name, credential}` → the new passkey;
//!   `GET /api/security/passkeys` → the list; `PATCH /api/security/passkeys/{id}` `{name}`;
//!   `DELETE /api/security/passkeys/{id}` `{password}`;
//! - the page `/profile/security/passkeys` (list, rename and removal work without JS);
//! - passwordless login: `POST /login/passkey/options` `{tx, csrf}` and `POST /login/passkey`
//!   `{tx, csrf, credential, foreign_computer?}` → `{redirect}` plus the session cookie;
//! - second step: `POST /login/second/passkey/options` `{pending, csrf}` and
//!   `POST /login/second/passkey` `{pending, csrf, credential}` → `{redirect}`;
//! - `/assets/passkeys.js`, the browser side.
//!
//! Errors are `{"error": code, "message": text}` (Russian, or English with `lang: "en"`).

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, patch, post};
use consent_ui::{Lang, PasskeyRow, PasskeysPage};
use serde::Deserialize;
use serde_json::json;

use super::api::{self, JsonError};
use super::errors::PageError;
use super::profile::{Visit, no_store, visit};
use super::{cookies, extract, session_start};
use crate::app::AppState;
use crate::cache::CacheError;
use crate::domain::authorization::AuthTx;
use crate::domain::mfa;
use crate::domain::passkeys::{self as domain, PasskeyError};
use crate::store::passkeys::StoredPasskey;
use crate::store::users;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/assets/passkeys.js", get(script))
        .route("/api/security/passkeys", get(api_list).post(api_register))
        .route("/api/security/passkeys/options", post(api_options))
        .route(
            "/api/security/passkeys/{id}",
            patch(api_rename).delete(api_remove),
        )
        .route("/profile/security/passkeys", get(page).post(page_post))
        .route("/login/passkey/options", post(login_options))
        .route("/login/passkey", post(login_finish))
        .route("/login/second/passkey/options", post(second_options))
        .route("/login/second/passkey", post(second_finish))
}

async fn script() -> Response {
    let mut resp = consent_ui::PASSKEYS_SCRIPT.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    resp
}

fn is_en(lang: Option<&str>) -> bool {
    lang == Some("en")
}

/// A passkey failure as a JSON error.
fn failure(e: PasskeyError, en: bool) -> JsonError {
    let (status, code) = match &e {
        PasskeyError::Store(_) | PasskeyError::Cache(_) => {
            let transient = matches!(
                e,
                PasskeyError::Cache(_)
                    | PasskeyError::Store(crate::store::StoreError::Unavailable(_))
            );
            tracing::error!(error = %e, "passkey request failed");
            if transient {
                (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
            } else {
                (StatusCode::INTERNAL_SERVER_ERROR, "server_error")
            }
        }
        PasskeyError::Config => (StatusCode::SERVICE_UNAVAILABLE, "not_configured"),
        PasskeyError::Expired => (StatusCode::BAD_REQUEST, "ceremony_expired"),
        PasskeyError::Refused(_) => (StatusCode::UNAUTHORIZED, "passkey_refused"),
        PasskeyError::Unknown => (StatusCode::UNAUTHORIZED, "unknown_passkey"),
        PasskeyError::Cloned => (StatusCode::FORBIDDEN, "passkey_cloned"),
        PasskeyError::Duplicate => (StatusCode::CONFLICT, "already_registered"),
        PasskeyError::TooMany => (StatusCode::CONFLICT, "too_many_passkeys"),
        PasskeyError::BadName => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_name"),
        PasskeyError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        PasskeyError::WrongPassword => (StatusCode::FORBIDDEN, "wrong_password"),
        PasskeyError::Locked => (StatusCode::TOO_MANY_REQUESTS, "locked"),
    };
    let message = if en { e.message_en() } else { e.message_ru() };
    JsonError::new(status, code, message)
}

fn cache_failure(e: CacheError) -> JsonError {
    failure(PasskeyError::Cache(e), false)
}

fn csrf_failed() -> JsonError {
    JsonError::new(
        StatusCode::FORBIDDEN,
        "csrf_failed",
        "Запрос отклонён: обновите страницу и повторите действие.",
    )
}

fn row_json(p: &StoredPasskey) -> serde_json::Value {
    json!({
        "id": p.id,
        "name": p.name,
        "created_at": p.created_at,
        "last_used_at": p.last_used_at,
    })
}

/// The browser's CSRF cookie (the ceremony binding); present whenever a CSRF check passed.
fn browser(headers: &HeaderMap) -> String {
    cookies::read(headers, cookies::CSRF).unwrap_or_default()
}

// ----- cabinet API -----

#[derive(Deserialize)]
struct RegisterRequest {
    #[serde(default)]
    name: String,
    credential: serde_json::Value,
}

#[derive(Deserialize)]
struct RenameRequest {
    name: String,
}

#[derive(Deserialize)]
struct RemoveRequest {
    password: String,
}

async fn api_options(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (_, user) = match api::signed_in_for_change(&state, &headers).await {
        Ok(w) => w,
        Err(e) => return e.into_response(),
    };
    match domain::start_registration(&state, &user, &browser(&headers)).await {
        Ok(options) => api::ok(StatusCode::OK, options),
        Err(e) => failure(e, false).into_response(),
    }
}

async fn api_register(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (_, user) = match api::signed_in_for_change(&state, &headers).await {
        Ok(w) => w,
        Err(e) => return e.into_response(),
    };
    let req: RegisterRequest = match api::json_body(&headers, &body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match domain::finish_registration(
        &state,
        &user,
        &browser(&headers),
        &req.name,
        &req.credential,
    )
    .await
    {
        Ok(p) => api::ok(StatusCode::CREATED, row_json(&p)),
        Err(e) => failure(e, false).into_response(),
    }
}

async fn api_list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (_, user) = match api::signed_in(&state, &headers).await {
        Ok(w) => w,
        Err(e) => return e.into_response(),
    };
    match domain::list(&state, &user.id).await {
        Ok(list) => api::ok(
            StatusCode::OK,
            json!({ "passkeys": list.iter().map(row_json).collect::<Vec<_>>() }),
        ),
        Err(e) => failure(e, false).into_response(),
    }
}

async fn api_rename(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let (_, user) = match api::signed_in_for_change(&state, &headers).await {
        Ok(w) => w,
        Err(e) => return e.into_response(),
    };
    let req: RenameRequest = match api::json_body(&headers, &body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match domain::rename(&state, &user.id, &id, &req.name).await {
        Ok(name) => api::ok(StatusCode::OK, json!({ "id": id, "name": name })),
        Err(e) => failure(e, false).into_response(),
    }
}

async fn api_remove(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let (_, user) = match api::signed_in_for_change(&state, &headers).await {
        Ok(w) => w,
        Err(e) => return e.into_response(),
    };
    let req: RemoveRequest = match api::json_body(&headers, &body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match domain::remove(&state, &user, &id, &req.password, Some(peer.ip())).await {
        Ok(()) => api::ok(StatusCode::OK, json!({ "removed": id })),
        Err(e) => failure(e, false).into_response(),
    }
}

// ----- the cabinet page -----

#[derive(Deserialize)]
struct PageQuery {
    lang: Option<String>,
}

#[derive(Deserialize)]
struct PageForm {
    csrf: String,
    lang: Option<String>,
    action: String,
    id: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    name: String,
}

async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<PageQuery>,
) -> Response {
    let v = match visit(&state, &headers, q.lang.as_deref()).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    render_page(&state, v, Vec::new(), None, StatusCode::OK).await
}

async fn page_post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let fallback = extract::lang(&headers, None, None);
    let Ok(form) = extract::parse_form::<PageForm>(&body) else {
        return PageError::bad_request(fallback, "bad_request").into_response();
    };
    let v = match visit(&state, &headers, form.lang.as_deref()).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let en = v.lang == Lang::En;
    if !cookies::csrf_ok(&state, &headers, &form.csrf) {
        let msg = consent_ui::message("csrf_failed", v.lang).to_string();
        return render_page(&state, v, vec![msg], None, StatusCode::FORBIDDEN).await;
    }
    let outcome = match form.action.as_str() {
        "remove" => domain::remove(&state, &v.user, &form.id, &form.password, Some(peer.ip()))
            .await
            .map(|()| {
                if en {
                    "The passkey is removed."
                } else {
                    "Ключ доступа удалён."
                }
            }),
        "rename" => domain::rename(&state, &v.user.id, &form.id, &form.name)
            .await
            .map(|_| {
                if en {
                    "The passkey is renamed."
                } else {
                    "Ключ доступа переименован."
                }
            }),
        _ => Err(PasskeyError::NotFound),
    };
    match outcome {
        Ok(notice) => render_page(&state, v, Vec::new(), Some(notice), StatusCode::OK).await,
        Err(e @ (PasskeyError::Store(_) | PasskeyError::Cache(_))) => {
            PageError::from_store(v.lang, &e, true).into_response()
        }
        Err(e) => {
            let status = match e {
                PasskeyError::WrongPassword => StatusCode::FORBIDDEN,
                PasskeyError::Locked => StatusCode::TOO_MANY_REQUESTS,
                PasskeyError::NotFound => StatusCode::NOT_FOUND,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let msg = if en { e.message_en() } else { e.message_ru() };
            render_page(&state, v, vec![msg.to_string()], None, status).await
        }
    }
}

async fn render_page(
    state: &AppState,
    v: Visit,
    errors: Vec<String>,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let list = match domain::list(state, &v.user.id).await {
        Ok(l) => l,
        Err(e) => return PageError::from_store(v.lang, &e, true).into_response(),
    };
    let rows: Vec<PasskeyRow> = list
        .iter()
        .map(|p| PasskeyRow {
            id: p.id.clone(),
            name: p.name.clone(),
            created_at: consent_ui::format_utc(p.created_at),
            last_used_at: p.last_used_at.map(consent_ui::format_utc),
        })
        .collect();
    let p = &v.user.person;
    let display = format!("{} {}", p.given_name, p.surname);
    let html = consent_ui::render_passkeys(&PasskeysPage {
        lang: v.lang,
        csrf: &v.csrf,
        user_display_name: display.trim(),
        errors: &errors,
        notice,
        passkeys: &rows,
    });
    let mut resp = (status, Html(html)).into_response();
    if let Some(c) = v.set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    no_store(resp)
}

// ----- passwordless login -----

#[derive(Deserialize)]
struct LoginOptionsRequest {
    tx: String,
    csrf: String,
    lang: Option<String>,
}

#[derive(Deserialize)]
struct LoginRequest {
    tx: String,
    csrf: String,
    credential: serde_json::Value,
    #[serde(default)]
    foreign_computer: bool,
    lang: Option<String>,
}

fn tx_expired(en: bool) -> JsonError {
    let msg = if en {
        "The login has expired. Return to the site and start again."
    } else {
        "Время на вход истекло. Вернитесь на сайт и начните вход заново."
    };
    JsonError::new(StatusCode::BAD_REQUEST, "tx_expired", msg)
}

async fn login_options(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let req: LoginOptionsRequest = match api::json_body(&headers, &body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let en = is_en(req.lang.as_deref());
    if let Err(e) = checked_tx(&state, &headers, &req.tx, &req.csrf, en).await {
        return e.into_response();
    }
    match domain::start_login(&state, &req.tx, &browser(&headers)).await {
        Ok(options) => api::ok(StatusCode::OK, options),
        Err(e) => failure(e, en).into_response(),
    }
}

async fn login_finish(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let req: LoginRequest = match api::json_body(&headers, &body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let en = is_en(req.lang.as_deref());
    let mut tx = match checked_tx(&state, &headers, &req.tx, &req.csrf, en).await {
        Ok(tx) => tx,
        Err(e) => return e.into_response(),
    };
    let user_id = match domain::finish_login(
        &state,
        &req.tx,
        &browser(&headers),
        &req.credential,
        Some(peer.ip()),
    )
    .await
    {
        Ok(id) => id,
        Err(e) => {
            // No account to write a history line to (the credential names it only when it
            // is known; a cloned one has its own feed event): counted in the metrics only.
            if let Some(reason) = refusal_reason(&e) {
                state.metrics.login("hwk", reason);
            }
            return failure(e, en).into_response();
        }
    };
    let login = Login {
        user_id: &user_id,
        amr: &domain::passwordless_amr(),
        persistent: !req.foreign_computer,
        unknown: failure(PasskeyError::Unknown, en),
    };
    log_in(&state, &headers, peer, &mut tx, login, en).await
}

/// The login-history reason of a refused passkey; `None` when the fault is ours (store, cache).
fn refusal_reason(e: &PasskeyError) -> Option<&'static str> {
    match e {
        PasskeyError::Store(_) | PasskeyError::Cache(_) => None,
        PasskeyError::Unknown => Some("unknown_passkey"),
        PasskeyError::Cloned => Some("passkey_cloned"),
        PasskeyError::Expired => Some("ceremony_expired"),
        _ => Some("passkey_refused"),
    }
}

/// A person proven by a passkey, for [`log_in`].
struct Login<'a> {
    user_id: &'a str,
    amr: &'a [String],
    persistent: bool,
    /// The answer when the account no longer exists.
    unknown: JsonError,
}

/// Opens the session for `login` and continues the authorization, answering the script
/// with `{"redirect": …}` and the session cookie.
async fn log_in(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    tx: &mut AuthTx,
    login: Login<'_>,
    en: bool,
) -> Response {
    let user = match users::by_id(&state.db, login.user_id).await {
        Ok(Some(u)) => u,
        Ok(None) => return login.unknown.into_response(),
        Err(e) => return JsonError::from(e).into_response(),
    };
    let lang = if en { Lang::En } else { Lang::Ru };
    let origin = session_start::Origin { headers, peer };
    let resp = session_start::open_and_continue(
        state,
        &origin,
        tx,
        &user,
        login.amr,
        login.persistent,
        lang,
    )
    .await;
    as_json(resp)
}

/// The authorization transaction of a login-page request, after its CSRF token.
async fn checked_tx(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    csrf: &str,
    en: bool,
) -> Result<AuthTx, JsonError> {
    if !cookies::csrf_ok(state, headers, csrf) {
        return Err(csrf_failed());
    }
    match AuthTx::load(state, id).await {
        Ok(Some(tx)) => Ok(tx),
        Ok(None) => Err(tx_expired(en)),
        Err(e) => Err(cache_failure(e)),
    }
}

/// Turns the response of `open_and_continue` (a redirect with the session cookie) into
/// `{"redirect": Location}` with the same cookies, for the script; anything else (an error
/// page) is passed through.
fn as_json(resp: Result<Response, PageError>) -> Response {
    let resp = match resp {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let Some(location) = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return resp;
    };
    let mut out = api::ok(StatusCode::OK, json!({ "redirect": location }));
    for c in resp.headers().get_all(header::SET_COOKIE) {
        out.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    out
}

// ----- second step -----

#[derive(Deserialize)]
struct SecondOptionsRequest {
    pending: String,
    csrf: String,
    lang: Option<String>,
}

#[derive(Deserialize)]
struct SecondRequest {
    pending: String,
    csrf: String,
    credential: serde_json::Value,
    lang: Option<String>,
}

async fn pending_of(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    csrf: &str,
    en: bool,
) -> Result<mfa::Pending, JsonError> {
    if !cookies::csrf_ok(state, headers, csrf) {
        return Err(csrf_failed());
    }
    let cookie = cookies::read(headers, cookies::CSRF);
    match mfa::get_pending(state, id, cookie.as_deref()).await {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(tx_expired(en)),
        Err(e) => Err(cache_failure(e)),
    }
}

async fn second_options(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let req: SecondOptionsRequest = match api::json_body(&headers, &body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let en = is_en(req.lang.as_deref());
    let pending = match pending_of(&state, &headers, &req.pending, &req.csrf, en).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    match domain::start_second(&state, &req.pending, &pending.user_id, &browser(&headers)).await {
        Ok(options) => api::ok(StatusCode::OK, options),
        Err(e) => failure(e, en).into_response(),
    }
}

async fn second_finish(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let req: SecondRequest = match api::json_body(&headers, &body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let en = is_en(req.lang.as_deref());
    let pending = match pending_of(&state, &headers, &req.pending, &req.csrf, en).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = domain::finish_second(
        &state,
        &req.pending,
        &pending.user_id,
        &browser(&headers),
        &req.credential,
    )
    .await
    {
        if let Some(reason) = refusal_reason(&e) {
            let user_agent = headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok());
            let ip = Some(peer.ip().to_string());
            let ip = ip.as_deref();
            mfa::second_factor_failed(&state, &pending, "hwk", reason, user_agent, ip).await;
            // Counts like a wrong code: the pending login is abandoned after a few.
            if let Err(ce) = mfa::pending_failed(&state, &req.pending).await {
                return cache_failure(ce).into_response();
            }
        }
        return failure(e, en).into_response();
    }
    if let Err(e) = mfa::drop_pending(&state, &req.pending).await {
        return cache_failure(e).into_response();
    }
    let mut tx = match AuthTx::load(&state, &pending.tx).await {
        Ok(Some(tx)) => tx,
        Ok(None) => return tx_expired(en).into_response(),
        Err(e) => return cache_failure(e).into_response(),
    };
    let login = Login {
        user_id: &pending.user_id,
        amr: &domain::second_step_amr(&pending.amr),
        persistent: pending.persistent,
        unknown: tx_expired(en),
    };
    log_in(&state, &headers, peer, &mut tx, login, en).await
}
