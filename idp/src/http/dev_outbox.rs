//! `GET /dev/outbox`: the development outbox page (only with `messages.dev_outbox = true`;
//! otherwise the page does not exist). Newest messages first, `?to=` filters by recipient,
//! `?limit=` (1..=500, default 50).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::errors::PageError;
use crate::app::AppState;
use crate::domain::identifiers::{normalize_email, normalize_phone};
use crate::store::outbox;

#[derive(Deserialize)]
pub struct OutboxQuery {
    to: Option<String>,
    limit: Option<i64>,
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<OutboxQuery>,
) -> Result<Response, PageError> {
    if !state.config.messages.dev_outbox {
        return Ok(super::home::not_found(headers).await.into_response());
    }
    let filter = q.to.as_deref().map(str::trim).unwrap_or("");
    let recipient = recipient(filter);
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let messages = outbox::list(&state.db, recipient.as_deref(), limit).await?;
    let counts = outbox::counts(&state.db).await?;
    let rows: Vec<consent_ui::OutboxRow> = messages
        .iter()
        .map(|m| consent_ui::OutboxRow {
            created_at: m.created_at,
            channel: &m.channel,
            recipient: &m.recipient,
            template: &m.template,
            subject: &m.subject,
            body: &m.body,
            status: &m.status,
            transport: m.transport.as_deref(),
            attempts: m.attempts,
            last_error: m.last_error.as_deref(),
        })
        .collect();
    let html = consent_ui::render_outbox(&consent_ui::OutboxPage {
        filter,
        counts: &counts,
        rows: &rows,
    });
    let mut resp = Html(html).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// A typed recipient in its stored form (`8 900 …` → `+7900…`, e-mail lower-cased); None
/// for an empty filter.
pub fn recipient(filter: &str) -> Option<String> {
    if filter.is_empty() {
        return None;
    }
    let stored = if filter.contains('@') {
        normalize_email(filter)
    } else {
        normalize_phone(filter)
    };
    Some(stored.unwrap_or_else(|| filter.to_string()))
}
