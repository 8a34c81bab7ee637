//! "Разрешения": the cabinet page `/profile/permissions` (active, expired and revoked
//! permissions, "Отозвать" as a plain POST form with csrf) and the JSON API
//! `GET /api/permissions`, `POST /api/permissions/{client_id}/revoke`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{self, JsonError};
use super::errors::PageError;
use super::profile::{Visit, no_store, visit};
use super::{cookies, extract};
use crate::app::AppState;
use crate::domain::permissions::{self, Overview};
use crate::store::consents::{Consent, Status};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/profile/permissions", get(page).post(revoke_form))
        .route("/api/permissions", get(list))
        .route("/api/permissions/{client_id}/revoke", post(revoke_api))
}

#[derive(Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    done: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RevokeForm {
    csrf: String,
    lang: Option<String>,
    client_id: String,
}

/// GET /profile/permissions.
async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    extract::PageParams(q): extract::PageParams<PageQuery>,
) -> Response {
    let v = match visit(&state, &headers, q.lang.as_deref()).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    match render(&state, &v, q.done.as_deref()).await {
        Ok(resp) => resp,
        Err(e) => PageError::from(e).into_response(),
    }
}

async fn render(
    state: &AppState,
    v: &Visit,
    done: Option<&str>,
) -> Result<Response, crate::store::StoreError> {
    let o = permissions::overview(state, &v.user.id).await?;
    let now = state.clock.now();
    let of = |s: Status| -> Vec<consent_ui::PermissionRow> {
        o.consents
            .iter()
            .filter(|c| c.status(now) == s)
            .map(row)
            .collect()
    };
    let history: Vec<_> = o
        .history
        .iter()
        .map(|h| consent_ui::PermissionHistoryRow {
            client_name: h.client_name.clone(),
            action: h.action.clone(),
            scopes: h.scopes.to_vec(),
            at: h.created_at,
        })
        .collect();
    let name = v.user.person.full_name();
    let html = consent_ui::render_permissions(&consent_ui::PermissionsPage {
        lang: v.lang,
        csrf: &v.csrf,
        user_display_name: &name,
        active: &of(Status::Active),
        expired: &of(Status::Expired),
        revoked: &of(Status::Revoked),
        history: &history,
        done,
    });
    let mut resp = Html(html).into_response();
    if let Some(c) = v.set_cookie.clone() {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(no_store(resp))
}

fn row(c: &Consent) -> consent_ui::PermissionRow {
    consent_ui::PermissionRow {
        client_id: c.client_id.clone(),
        client_name: c.client_name.clone(),
        scopes: c.scopes.to_vec(),
        purposes: c.purposes.clone(),
        actions: c
            .permissions
            .as_ref()
            .map(|p| p.actions())
            .unwrap_or_default(),
        granted_at: c.granted_at,
        expires_at: c.expires_at,
        revoked_at: c.revoked_at,
    }
}

/// POST /profile/permissions: revokes, then back to the page (works without JavaScript).
async fn revoke_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form: RevokeForm = extract::parse_form(&body).unwrap_or_default();
    let v = match visit(&state, &headers, form.lang.as_deref()).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    if form.csrf.is_empty() || !cookies::csrf_ok(&state, &headers, &form.csrf) {
        return PageError::new(StatusCode::FORBIDDEN, v.lang, "csrf_failed").into_response();
    }
    let done = match permissions::revoke(&state, &v.user.id, &form.client_id, "cabinet").await {
        Ok(true) => "revoked",
        Ok(false) => "none",
        Err(e) => return PageError::from(e).into_response(),
    };
    let to = format!("/profile/permissions?lang={}&done={done}", v.lang.code());
    no_store(Redirect::to(&to).into_response())
}

/// GET /api/permissions: every permission with its status, and the history.
async fn list(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, JsonError> {
    let (_, user) = api::signed_in(&state, &headers).await?;
    let Overview { consents, history } = permissions::overview(&state, &user.id).await?;
    let now = state.clock.now();
    let elements: Vec<Value> = consents.iter().map(|c| consent_json(c, now)).collect();
    let history: Vec<Value> = history
        .iter()
        .map(|h| {
            json!({
                "client_id": h.client_id,
                "client_name": h.client_name,
                "action": h.action,
                "scopes": h.scopes.to_vec(),
                "purposes": h.purposes,
                "expires_at": h.expires_at,
                "source": h.source,
                "time": h.created_at,
            })
        })
        .collect();
    Ok(api::ok(
        StatusCode::OK,
        json!({ "size": elements.len(), "elements": elements, "history": history }),
    ))
}

fn consent_json(c: &Consent, now: i64) -> Value {
    let lang = consent_ui::Lang::Ru;
    let scopes = c.scopes.to_vec();
    let items: Vec<String> = scopes
        .iter()
        .filter_map(|s| consent_ui::scope_label(s, lang))
        .collect();
    let purposes: Vec<Value> = c
        .purposes
        .iter()
        .map(|p| json!({ "sysname": p, "label": consent_ui::purpose_label(p, lang) }))
        .collect();
    json!({
        "client_id": c.client_id,
        "client_name": c.client_name,
        "status": c.status(now).as_str(),
        "scopes": scopes,
        "items": items,
        "purposes": purposes,
        "actions": c.permissions.as_ref().map(|p| p.actions()).unwrap_or_default(),
        "granted_at": c.granted_at,
        "expires_at": c.expires_at,
        "revoked_at": c.revoked_at,
    })
}

/// POST /api/permissions/{client_id}/revoke (X-CSRF-Token).
async fn revoke_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(client_id): Path<String>,
) -> Result<Response, JsonError> {
    let (_, user) = api::signed_in_for_change(&state, &headers).await?;
    if !permissions::revoke(&state, &user.id, &client_id, "cabinet").await? {
        return Err(JsonError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Действующего разрешения для этого сайта нет.",
        ));
    }
    Ok(api::ok(
        StatusCode::OK,
        json!({ "client_id": client_id, "status": "revoked" }),
    ))
}
