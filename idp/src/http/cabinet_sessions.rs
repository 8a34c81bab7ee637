//! Cabinet pages and JSON APIs for sessions and devices, login history, the event feed (with
//! its CSV export) and notification settings:
//!
//! - `/profile/sessions` (GET; POST `action` = `end` + `id`, `end_others`, `unbind` + `id`),
//!   `/profile/logins?page=`, `/profile/history?from=&to=&type=&status=&page=`,
//!   `/profile/history.csv` (same filter), `/profile/notifications` (GET, POST);
//! - `GET /api/sessions`, `DELETE /api/sessions/{sid}`, `POST /api/sessions/end-others`,
//!   `DELETE /api/devices/{id}`, `GET /api/logins`, `GET /api/feed`,
//!   `GET|PUT /api/notifications`.
//!
//! See `docs/cabinet.md` for the choices.

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post};
use consent_ui::{
    CabinetFrame, DeviceRow, FeedFilter, FeedRow, Lang, LoginRow, NotificationForm, Paging,
    SessionRow,
};
use serde::Deserialize;
use serde_json::Value;

use super::api::{self, JsonError};
use super::errors::PageError;
use super::profile::{Visit, no_store, visit};
use super::{cookies, extract};
use crate::app::AppState;
use crate::domain::login;
use crate::domain::login_history::{self as lh, KINDS};
use crate::domain::user_agent;
use crate::store::events::Event;
use crate::store::feed::{self, Filter};
use crate::store::login_history as store;
use crate::store::{StoreError, devices};

/// Rows per page on the pages and, by default, in the API.
const PAGE_SIZE: i64 = 20;
/// At most this many rows in one CSV export.
const CSV_LIMIT: i64 = 10_000;

mod json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/profile/sessions", get(sessions_page).post(sessions_post))
        .route("/profile/logins", get(logins_page))
        .route("/profile/history", get(feed_page))
        .route("/profile/history.csv", get(feed_csv))
        .route(
            "/profile/notifications",
            get(notifications_page).post(notifications_post),
        )
        .route("/api/sessions", get(json::api_sessions))
        .route("/api/sessions/end-others", post(json::api_end_others))
        .route("/api/sessions/{sid}", delete(json::api_end_one))
        .route("/api/devices/{id}", delete(json::api_unbind))
        .route("/api/logins", get(json::api_logins))
        .route("/api/feed", get(json::api_feed))
        .route(
            "/api/notifications",
            get(json::api_notifications).put(json::api_notifications_put),
        )
}

// ---------------------------------------------------------------------------------------
// Labels

fn en(lang: Lang) -> bool {
    lang == Lang::En
}

/// The login methods (`amr`) for people: "пароль + код из приложения".
fn method_label(amr: &str, lang: Lang) -> String {
    let en = en(lang);
    let parts: Vec<&str> = amr
        .split(' ')
        .filter(|m| !m.is_empty() && *m != "mfa")
        .map(|m| match (m, en) {
            ("pwd", false) => "пароль",
            ("pwd", true) => "password",
            ("sms", false) => "код из SMS",
            ("sms", true) => "SMS code",
            ("otp", false) => "одноразовый код",
            ("otp", true) => "one-time code",
            ("hwk" | "swk", false) => "ключ доступа",
            ("hwk" | "swk", true) => "passkey",
            ("ds", false) => "электронная подпись",
            ("ds", true) => "electronic signature",
            ("fed", false) => "внешний поставщик",
            ("fed", true) => "external provider",
            (other, _) => other,
        })
        .collect();
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join(" + ")
    }
}

fn kind_label(kind: &str, lang: Lang) -> String {
    let en = en(lang);
    match (kind, en) {
        ("login", false) => "Входы",
        ("login", true) => "Logins",
        ("security", false) => "Безопасность",
        ("security", true) => "Security",
        ("profile", false) => "Изменения профиля",
        ("profile", true) => "Profile changes",
        ("permissions", false) => "Разрешения",
        ("permissions", true) => "Permissions",
        ("verification", false) => "Проверки данных",
        ("verification", true) => "Data checks",
        ("account", false) => "Учётная запись",
        ("account", true) => "Account",
        (other, _) => other,
    }
    .to_string()
}

fn status_label(status: &str, lang: Lang) -> String {
    match (status, en(lang)) {
        ("success", false) => "Успешно",
        ("success", true) => "Success",
        ("failure", false) => "Неудачно",
        ("failure", true) => "Failure",
        ("info", false) => "Сведения",
        ("info", true) => "Information",
        (other, _) => other,
    }
    .to_string()
}

fn reason_label(reason: Option<&str>, lang: Lang) -> &'static str {
    match (reason, en(lang)) {
        (Some("wrong_password"), false) => "неверный пароль",
        (Some("wrong_password"), true) => "wrong password",
        (Some("wrong_code"), false) => "неверный код",
        (Some("wrong_code"), true) => "wrong code",
        (Some("locked"), false) => "вход заблокирован",
        (Some("locked"), true) => "login locked",
        (Some("code_expired"), false) => "срок кода истёк",
        (Some("code_expired"), true) => "code expired",
        (Some("code_exhausted"), false) => "попытки исчерпаны",
        (Some("code_exhausted"), true) => "no attempts left",
        (
            Some("passkey_refused" | "unknown_passkey" | "passkey_cloned" | "ceremony_expired"),
            false,
        ) => "ключ доступа не принят",
        (
            Some("passkey_refused" | "unknown_passkey" | "passkey_cloned" | "ceremony_expired"),
            true,
        ) => "passkey refused",
        (Some("signature_refused"), false) => "подпись не принята",
        (Some("signature_refused"), true) => "signature refused",
        _ => "",
    }
}

fn time(t: i64) -> String {
    consent_ui::format_utc(t)
}

fn place(ip: Option<&str>) -> String {
    ip.filter(|i| !i.is_empty()).unwrap_or("—").to_string()
}

/// "old → new" from an event's detail (as the profile history shows it), or the login's
/// method, device and address.
fn change_of(detail: &Value) -> String {
    let show = |v: &Value| match v {
        Value::Null => "—".to_string(),
        Value::String(s) => s.clone(),
        Value::Object(m) => m
            .values()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    };
    if detail.get("old").is_some() || detail.get("new").is_some() {
        return format!("{} → {}", show(&detail["old"]), show(&detail["new"]));
    }
    ["device", "ip"]
        .iter()
        .filter_map(|k| detail.get(*k).and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(", ")
}

fn detail_of(e: &Event) -> Value {
    e.detail
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or(Value::Null)
}

// ---------------------------------------------------------------------------------------
// Pages: common parts

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    lang: Option<String>,
    done: Option<String>,
    page: Option<String>,
}

fn page_number(p: Option<&str>) -> i64 {
    p.and_then(|p| p.parse::<i64>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1)
        .min(10_000)
}

fn notice(done: Option<&str>, lang: Lang) -> Option<&'static str> {
    let en = en(lang);
    Some(match (done?, en) {
        ("ended", false) => "Сеанс завершён.",
        ("ended", true) => "The session has ended.",
        ("ended_others", false) => "Все другие сеансы завершены.",
        ("ended_others", true) => "All other sessions have ended.",
        ("unbound", false) => "Устройство отвязано.",
        ("unbound", true) => "The device was unbound.",
        ("saved", false) => "Настройки сохранены.",
        ("saved", true) => "Settings saved.",
        _ => return None,
    })
}

fn html_page(v: &Visit, status: StatusCode, html: String) -> Response {
    let mut resp = no_store((status, Html(html)).into_response());
    if let Some(c) = &v.set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    resp
}

fn frame<'a>(
    v: &'a Visit,
    name: &'a str,
    errors: &'a [String],
    notice: Option<&'a str>,
) -> CabinetFrame<'a> {
    CabinetFrame {
        lang: v.lang,
        csrf: &v.csrf,
        user_display_name: name,
        errors,
        notice,
    }
}

/// Every field the cabinet forms here post; each action reads its own.
#[derive(Deserialize, Default)]
#[serde(default)]
struct SessionsForm {
    csrf: String,
    lang: Option<String>,
    action: String,
    id: String,
}

// ---------------------------------------------------------------------------------------
// /profile/sessions

async fn sessions_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<PageQuery>,
) -> Response {
    let v = match visit(&state, &headers, q.lang.as_deref()).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let notice = notice(q.done.as_deref(), v.lang);
    render_sessions(&state, &headers, &v, &[], notice, StatusCode::OK).await
}

async fn render_sessions(
    state: &AppState,
    headers: &HeaderMap,
    v: &Visit,
    errors: &[String],
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let current = match current_sid(state, headers).await {
        Ok(c) => c,
        Err(e) => return PageError::from(e).into_response(),
    };
    let (sessions, devs) = match load_sessions(state, &v.user.id).await {
        Ok(x) => x,
        Err(e) => return PageError::from(e).into_response(),
    };
    let en = en(v.lang);
    let rows: Vec<SessionRow> = sessions
        .iter()
        .map(|s| SessionRow {
            sid: s.sid.clone(),
            device: user_agent::describe(s.user_agent.as_deref(), en),
            place: place(s.ip.as_deref()),
            method: method_label(&s.amr, v.lang),
            started: time(s.created_at),
            last_active: time(s.last_seen_at),
            current: Some(&s.sid) == current.as_ref(),
        })
        .collect();
    let dev_rows: Vec<DeviceRow> = devs
        .iter()
        .map(|d| DeviceRow {
            id: d.id.clone(),
            device: user_agent::describe(d.user_agent.as_deref(), en),
            place: place(d.ip.as_deref()),
            added: time(d.created_at),
            last_used: time(d.last_used_at),
        })
        .collect();
    let name = v.user.person.full_name();
    let html = consent_ui::render_sessions(&frame(v, &name, errors, notice), &rows, &dev_rows);
    html_page(v, status, html)
}

async fn current_sid(state: &AppState, headers: &HeaderMap) -> Result<Option<String>, StoreError> {
    let cookie = cookies::read(headers, cookies::SESSION);
    Ok(login::current(state, cookie.as_deref())
        .await?
        .map(|(s, _)| s.sid))
}

async fn load_sessions(
    state: &AppState,
    user_id: &str,
) -> Result<(Vec<store::SessionView>, Vec<devices::Device>), StoreError> {
    let now = state.clock.now();
    let sessions = store::sessions(&state.db, user_id, now, state.config.session.idle_ttl).await?;
    let devs = devices::list(&state.db, user_id).await?;
    Ok((sessions, devs))
}

async fn sessions_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form: SessionsForm = match extract::parse_form(&body) {
        Ok(f) => f,
        Err(_) => {
            return PageError::bad_request(extract::lang(&headers, None, None), "bad_request")
                .into_response();
        }
    };
    let v = match visit(&state, &headers, form.lang.as_deref()).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    if !cookies::csrf_ok(&state, &headers, &form.csrf) {
        let msg = consent_ui::message("csrf_failed", v.lang).to_string();
        return render_sessions(&state, &headers, &v, &[msg], None, StatusCode::FORBIDDEN).await;
    }
    let en = en(v.lang);
    let outcome = match form.action.as_str() {
        "end" => lh::end_one(&state, &v.user, &form.id)
            .await
            .map(|ok| ok.then_some("ended")),
        "end_others" => match current_sid(&state, &headers).await {
            Ok(Some(sid)) => lh::end_others(&state, &v.user, &sid)
                .await
                .map(|_| Some("ended_others")),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        },
        "unbind" => lh::unbind_device(&state, &v.user, &form.id)
            .await
            .map(|ok| ok.then_some("unbound")),
        _ => Ok(None),
    };
    match outcome {
        Ok(Some(done)) => Redirect::to(&format!(
            "/profile/sessions?lang={}&done={done}",
            v.lang.code()
        ))
        .into_response(),
        Ok(None) => {
            let msg = if en {
                "This session or device was not found: it may have ended already."
            } else {
                "Сеанс или устройство не найдены: возможно, они уже завершены."
            };
            let errors = [msg.to_string()];
            render_sessions(&state, &headers, &v, &errors, None, StatusCode::NOT_FOUND).await
        }
        Err(e) => PageError::from(e).into_response(),
    }
}

// ---------------------------------------------------------------------------------------
// /profile/logins

async fn logins_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<PageQuery>,
) -> Response {
    let v = match visit(&state, &headers, q.lang.as_deref()).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let page = page_number(q.page.as_deref());
    let mut list =
        match store::list(&state.db, &v.user.id, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE).await {
            Ok(l) => l,
            Err(e) => return PageError::from(e).into_response(),
        };
    let more = list.len() as i64 > PAGE_SIZE;
    list.truncate(PAGE_SIZE as usize);
    let en = en(v.lang);
    let rows: Vec<LoginRow> = list
        .iter()
        .map(|l| {
            let success = l.outcome == "success";
            let mut outcome = status_label(&l.outcome, v.lang);
            let reason = reason_label(l.reason.as_deref(), v.lang);
            if !reason.is_empty() {
                outcome = format!("{outcome}: {reason}");
            }
            LoginRow {
                time: time(l.created_at),
                success,
                outcome,
                method: method_label(&l.method, v.lang),
                device: user_agent::describe(l.user_agent.as_deref(), en),
                place: place(l.ip.as_deref()),
            }
        })
        .collect();
    let link = |p: i64| format!("/profile/logins?lang={}&page={p}", v.lang.code());
    let paging = Paging {
        page,
        prev: if page > 1 {
            link(page - 1)
        } else {
            String::new()
        },
        next: if more { link(page + 1) } else { String::new() },
    };
    let name = v.user.person.full_name();
    let html = consent_ui::render_logins(
        &frame(&v, &name, &[], None),
        &rows,
        &paging,
        state.config.login.login_history_days,
    );
    html_page(&v, StatusCode::OK, html)
}

// ---------------------------------------------------------------------------------------
// /profile/history and its CSV

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct FeedQuery {
    lang: Option<String>,
    from: String,
    to: String,
    #[serde(rename = "type")]
    kind: String,
    status: String,
    page: Option<String>,
    per_page: Option<String>,
}

const FEED_KINDS: [&str; 6] = [
    "login",
    "security",
    "profile",
    "permissions",
    "verification",
    "account",
];
const STATUSES: [&str; 3] = ["success", "failure", "info"];

/// Why a filter was refused, in the page's language.
fn feed_filter(q: &FeedQuery, lang: Lang) -> Result<Filter, String> {
    let en = en(lang);
    let date = |s: &str| -> Result<Option<i64>, String> {
        if s.trim().is_empty() {
            return Ok(None);
        }
        lh::parse_date(s).map(Some).ok_or_else(|| {
            if en {
                "Give dates as YYYY-MM-DD.".to_string()
            } else {
                "Даты укажите в формате ГГГГ-ММ-ДД.".to_string()
            }
        })
    };
    let from = date(&q.from)?;
    let until = date(&q.to)?.map(|t| t + 86_400);
    if let (Some(f), Some(u)) = (from, until)
        && f >= u
    {
        return Err(if en {
            "The start date is after the end date.".into()
        } else {
            "Дата начала позже даты окончания.".into()
        });
    }
    let kind = q.kind.trim();
    if !kind.is_empty() && !FEED_KINDS.contains(&kind) {
        return Err(if en {
            "Unknown event type.".into()
        } else {
            "Неизвестный тип событий.".into()
        });
    }
    let status = q.status.trim();
    if !status.is_empty() && !STATUSES.contains(&status) {
        return Err(if en {
            "Unknown outcome.".into()
        } else {
            "Неизвестный результат.".into()
        });
    }
    Ok(Filter {
        kind: kind.to_string(),
        status: status.to_string(),
        from,
        until,
    })
}

/// The filter's query string (without `page`), URL-encoded.
fn filter_query(q: &FeedQuery, lang: Lang) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("lang", lang.code())
        .append_pair("from", q.from.trim())
        .append_pair("to", q.to.trim())
        .append_pair("type", q.kind.trim())
        .append_pair("status", q.status.trim())
        .finish()
}

async fn feed_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<FeedQuery>,
) -> Response {
    let v = match visit(&state, &headers, q.lang.as_deref()).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let page = page_number(q.page.as_deref());
    let (events, more, errors, status) = match feed_filter(&q, v.lang) {
        Ok(filter) => {
            match feed::list(
                &state.db,
                &v.user.id,
                &filter,
                PAGE_SIZE + 1,
                (page - 1) * PAGE_SIZE,
            )
            .await
            {
                Ok(mut list) => {
                    let more = list.len() as i64 > PAGE_SIZE;
                    list.truncate(PAGE_SIZE as usize);
                    (list, more, Vec::new(), StatusCode::OK)
                }
                Err(e) => return PageError::from(e).into_response(),
            }
        }
        Err(msg) => (Vec::new(), false, vec![msg], StatusCode::BAD_REQUEST),
    };
    let rows: Vec<FeedRow> = events
        .iter()
        .map(|e| FeedRow {
            time: time(e.created_at),
            kind: kind_label(&e.kind, v.lang),
            status: status_label(&e.status, v.lang),
            status_code: e.status.clone(),
            summary: e.summary.clone(),
            change: change_of(&detail_of(e)),
        })
        .collect();
    let any = if en(v.lang) { "Any" } else { "Любой" };
    let options = |all: &[&str], chosen: &str, label: &dyn Fn(&str) -> String| {
        std::iter::once((String::new(), any.to_string(), chosen.is_empty()))
            .chain(
                all.iter()
                    .map(|k| ((*k).to_string(), label(k), *k == chosen)),
            )
            .collect::<Vec<_>>()
    };
    let query = filter_query(&q, v.lang);
    let filter = FeedFilter {
        from: q.from.trim().to_string(),
        to: q.to.trim().to_string(),
        kinds: options(&FEED_KINDS, q.kind.trim(), &|k| kind_label(k, v.lang)),
        statuses: options(&STATUSES, q.status.trim(), &|s| status_label(s, v.lang)),
        csv_url: format!("/profile/history.csv?{query}"),
    };
    let link = |p: i64| format!("/profile/history?{query}&page={p}");
    let paging = Paging {
        page,
        prev: if page > 1 {
            link(page - 1)
        } else {
            String::new()
        },
        next: if more { link(page + 1) } else { String::new() },
    };
    let name = v.user.person.full_name();
    let html = consent_ui::render_feed(&frame(&v, &name, &errors, None), &filter, &rows, &paging);
    html_page(&v, status, html)
}

/// One CSV cell: always quoted, quotes doubled, and a leading `= + - @` (a formula to Excel)
/// defused with an apostrophe.
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The feed as CSV for Excel: UTF-8 with a BOM, `;` between cells, CRLF line ends.
pub fn feed_csv_text(events: &[Event], lang: Lang) -> String {
    let header: [&str; 6] = if en(lang) {
        [
            "Time (UTC)",
            "Type",
            "Outcome",
            "Event",
            "Details",
            "Source",
        ]
    } else {
        [
            "Время (UTC)",
            "Тип",
            "Результат",
            "Событие",
            "Подробности",
            "Источник",
        ]
    };
    let mut out = String::from("\u{feff}");
    let line = |cells: &[String]| cells.join(";") + "\r\n";
    out.push_str(&line(&header.map(csv_cell)));
    for e in events {
        out.push_str(&line(&[
            csv_cell(&time(e.created_at)),
            csv_cell(&kind_label(&e.kind, lang)),
            csv_cell(&status_label(&e.status, lang)),
            csv_cell(&e.summary),
            csv_cell(&change_of(&detail_of(e))),
            csv_cell(&e.source),
        ]));
    }
    out
}

async fn feed_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<FeedQuery>,
) -> Response {
    let v = match visit(&state, &headers, q.lang.as_deref()).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let filter = match feed_filter(&q, v.lang) {
        Ok(f) => f,
        Err(_) => return PageError::bad_request(v.lang, "bad_request").into_response(),
    };
    let events = match feed::list(&state.db, &v.user.id, &filter, CSV_LIMIT, 0).await {
        Ok(l) => l,
        Err(e) => return PageError::from(e).into_response(),
    };
    let mut resp = no_store(feed_csv_text(&events, v.lang).into_response());
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"events.csv\""),
    );
    resp
}

// ---------------------------------------------------------------------------------------
// /profile/notifications

fn notification_form(s: &store::NotificationSettings, lang: Lang) -> NotificationForm {
    NotificationForm {
        kinds: KINDS
            .iter()
            .map(|k| ((*k).to_string(), kind_label(k, lang), s.wants(k)))
            .collect(),
        email: s.email,
        sms: s.sms,
        quiet_from: s.quiet.map(|q| lh::format_hhmm(q.0)).unwrap_or_default(),
        quiet_to: s.quiet.map(|q| lh::format_hhmm(q.1)).unwrap_or_default(),
    }
}

async fn notifications_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<PageQuery>,
) -> Response {
    let v = match visit(&state, &headers, q.lang.as_deref()).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let settings = match store::settings(&state.db, &v.user.id).await {
        Ok(s) => s,
        Err(e) => return PageError::from(e).into_response(),
    };
    let name = v.user.person.full_name();
    let notice = notice(q.done.as_deref(), v.lang);
    let html = consent_ui::render_notifications(
        &frame(&v, &name, &[], notice),
        &notification_form(&settings, v.lang),
    );
    html_page(&v, StatusCode::OK, html)
}

async fn notifications_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form: HashMap<String, String> = match extract::parse_form(&body) {
        Ok(f) => f,
        Err(_) => {
            return PageError::bad_request(extract::lang(&headers, None, None), "bad_request")
                .into_response();
        }
    };
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let v = match visit(&state, &headers, form.get("lang").map(String::as_str)).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let typed = store::NotificationSettings {
        kinds: KINDS
            .iter()
            .filter(|k| !field(&format!("kind_{k}")).is_empty())
            .map(|k| (*k).to_string())
            .collect(),
        email: !field("email").is_empty(),
        sms: !field("sms").is_empty(),
        quiet: None,
    };
    let again = |msg: String, status: StatusCode| {
        let name = v.user.person.full_name();
        let mut shown = notification_form(&typed, v.lang);
        shown.quiet_from = field("quiet_from").chars().take(5).collect();
        shown.quiet_to = field("quiet_to").chars().take(5).collect();
        let html = consent_ui::render_notifications(&frame(&v, &name, &[msg], None), &shown);
        html_page(&v, status, html)
    };
    if !cookies::csrf_ok(&state, &headers, field("csrf")) {
        return again(
            consent_ui::message("csrf_failed", v.lang).to_string(),
            StatusCode::FORBIDDEN,
        );
    }
    match lh::save_settings(
        &state,
        &v.user,
        &typed.kinds,
        typed.email,
        typed.sms,
        field("quiet_from"),
        field("quiet_to"),
    )
    .await
    {
        Ok(Ok(())) => Redirect::to(&format!(
            "/profile/notifications?lang={}&done=saved",
            v.lang.code()
        ))
        .into_response(),
        Ok(Err(e)) => again(
            e.message(en(v.lang)).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => PageError::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("a;b"), "\"a;b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("строка\nвторая"), "\"строка\nвторая\"");
    }

    #[test]
    fn methods_for_people() {
        assert_eq!(
            method_label("pwd otp mfa", Lang::Ru),
            "пароль + одноразовый код"
        );
        assert_eq!(method_label("ds", Lang::En), "electronic signature");
        assert_eq!(method_label("", Lang::Ru), "—");
    }
}
