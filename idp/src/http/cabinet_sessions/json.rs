//! The JSON side of the cabinet's sessions, devices, login history, feed and notification
//! settings (`/api/{sessions,devices,logins,feed,notifications}`); the pages are the parent
//! module's, and both share its labels and loaders.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::*;

type Answer = Result<Response, JsonError>;

fn not_found(message: &str) -> JsonError {
    JsonError::new(StatusCode::NOT_FOUND, "not_found", message)
}

pub(super) async fn api_sessions(State(state): State<AppState>, headers: HeaderMap) -> Answer {
    let (current, user) = api::signed_in(&state, &headers).await?;
    let (sessions, devs) = load_sessions(&state, &user.id).await?;
    let sessions: Vec<Value> = sessions
        .iter()
        .map(|s| {
            json!({
                "sid": s.sid,
                "current": s.sid == current.sid,
                "device": user_agent::describe(s.user_agent.as_deref(), false),
                "user_agent": s.user_agent,
                "ip": s.ip,
                "amr": s.amr.split(' ').filter(|a| !a.is_empty()).collect::<Vec<_>>(),
                "method": method_label(&s.amr, Lang::Ru),
                "created_at": s.created_at,
                "auth_time": s.auth_time,
                "last_seen_at": s.last_seen_at,
            })
        })
        .collect();
    let devs: Vec<Value> = devs
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "device": user_agent::describe(d.user_agent.as_deref(), false),
                "user_agent": d.user_agent,
                "ip": d.ip,
                "created_at": d.created_at,
                "last_used_at": d.last_used_at,
            })
        })
        .collect();
    Ok(api::ok(
        StatusCode::OK,
        json!({ "sessions": sessions, "devices": devs }),
    ))
}

pub(super) async fn api_end_one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(sid): Path<String>,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    if !lh::end_one(&state, &user, &sid).await? {
        return Err(not_found("Сеанс не найден: возможно, он уже завершён."));
    }
    Ok(api::ok(StatusCode::OK, json!({ "ended": true })))
}

pub(super) async fn api_end_others(State(state): State<AppState>, headers: HeaderMap) -> Answer {
    let (current, user) = api::signed_in_for_change(&state, &headers).await?;
    let n = lh::end_others(&state, &user, &current.sid).await?;
    Ok(api::ok(StatusCode::OK, json!({ "ended": n })))
}

pub(super) async fn api_unbind(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    if !lh::unbind_device(&state, &user, &id).await? {
        return Err(not_found("Устройство не найдено."));
    }
    Ok(api::ok(StatusCode::OK, json!({ "unbound": true })))
}

/// `page` (from 1) and `per_page` (1–100, default 20) of an API list.
fn api_paging(page: Option<&str>, per_page: Option<&str>) -> (i64, i64) {
    let per = per_page
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(PAGE_SIZE)
        .clamp(1, 100);
    (page_number(page), per)
}

pub(super) async fn api_logins(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Answer {
    let (_, user) = api::signed_in(&state, &headers).await?;
    let q: FeedQuery = serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    let (page, per) = api_paging(q.page.as_deref(), q.per_page.as_deref());
    let mut list = store::list(&state.db, &user.id, per + 1, (page - 1) * per).await?;
    let more = list.len() as i64 > per;
    list.truncate(per as usize);
    let items: Vec<Value> = list
        .iter()
        .map(|l| {
            json!({
                "id": l.id,
                "time": l.created_at,
                "outcome": l.outcome,
                "reason": l.reason,
                "amr": l.method.split(' ').filter(|a| !a.is_empty()).collect::<Vec<_>>(),
                "method": method_label(&l.method, Lang::Ru),
                "device": user_agent::describe(l.user_agent.as_deref(), false),
                "user_agent": l.user_agent,
                "ip": l.ip,
            })
        })
        .collect();
    Ok(api::ok(
        StatusCode::OK,
        json!({ "items": items, "page": page, "has_more": more }),
    ))
}

pub(super) async fn api_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Answer {
    let (_, user) = api::signed_in(&state, &headers).await?;
    let q: FeedQuery = serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).map_err(|_| {
        JsonError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Не удалось прочитать параметры запроса.",
        )
    })?;
    let filter = feed_filter(&q, Lang::Ru)
        .map_err(|m| JsonError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_data", m))?;
    let (page, per) = api_paging(q.page.as_deref(), q.per_page.as_deref());
    let mut list = feed::list(&state.db, &user.id, &filter, per + 1, (page - 1) * per).await?;
    let more = list.len() as i64 > per;
    list.truncate(per as usize);
    let items: Vec<Value> = list
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "time": e.created_at,
                "type": e.kind,
                "status": e.status,
                "summary": e.summary,
                "detail": detail_of(e),
                "source": e.source,
            })
        })
        .collect();
    Ok(api::ok(
        StatusCode::OK,
        json!({ "items": items, "page": page, "has_more": more }),
    ))
}

fn settings_json(s: &store::NotificationSettings) -> Value {
    json!({
        "events": s.kinds,
        "email": s.email,
        "sms": s.sms,
        "quiet_from": s.quiet.map(|q| lh::format_hhmm(q.0)),
        "quiet_to": s.quiet.map(|q| lh::format_hhmm(q.1)),
    })
}

pub(super) async fn api_notifications(State(state): State<AppState>, headers: HeaderMap) -> Answer {
    let (_, user) = api::signed_in(&state, &headers).await?;
    let s = store::settings(&state.db, &user.id).await?;
    Ok(api::ok(StatusCode::OK, settings_json(&s)))
}

#[derive(Deserialize)]
struct SettingsBody {
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    email: bool,
    #[serde(default)]
    sms: bool,
    #[serde(default)]
    quiet_from: Option<String>,
    #[serde(default)]
    quiet_to: Option<String>,
}

pub(super) async fn api_notifications_put(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Answer {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    let b: SettingsBody = api::json_body(&headers, &body)?;
    lh::save_settings(
        &state,
        &user,
        &b.events,
        b.email,
        b.sms,
        b.quiet_from.as_deref().unwrap_or(""),
        b.quiet_to.as_deref().unwrap_or(""),
    )
    .await?
    .map_err(|e| {
        JsonError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_data",
            e.message(false),
        )
    })?;
    let s = store::settings(&state.db, &user.id).await?;
    Ok(api::ok(StatusCode::OK, settings_json(&s)))
}
