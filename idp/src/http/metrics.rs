//! `GET /metrics` (Prometheus text format) and the middleware that times every request.
//! Access: `[metrics] enabled` (default true; off = 404) and an optional `bearer_token`.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sqlx::Row;

use crate::app::AppState;
use crate::metrics::Queues;

/// Counts and times the request under its route template (`unmatched` for the fallback).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let resp = next.run(req).await;
    state
        .metrics
        .request(&route, &method, resp.status().as_u16(), started.elapsed());
    resp
}

pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let cfg = &state.config.metrics;
    if !cfg.enabled {
        return StatusCode::NOT_FOUND.into_response();
    }
    if let Some(token) = &cfg.bearer_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let ok = crate::crypto::constant_time_eq(
            &crate::crypto::sha256(given.as_bytes()),
            &crate::crypto::sha256(token.as_bytes()),
        );
        if !ok {
            let mut resp = (StatusCode::UNAUTHORIZED, "bearer token required\n").into_response();
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"metrics\""),
            );
            return resp;
        }
    }
    let queues = queues(&state).await;
    let mut resp = state.metrics.render(queues).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Queue depths, from a short cache or two queries (bounded together by a one-second
/// timeout).
async fn queues(state: &AppState) -> Option<Queues> {
    if let Some(q) = state.metrics.cached_queues() {
        return Some(q);
    }
    let totals = sqlx::query(concat!(
        "SELECT (SELECT COUNT(*) FROM outbox WHERE status = 'pending') AS outbox, ",
        "(SELECT COUNT(*) FROM jobs WHERE status IN ('pending', 'running')) AS jobs"
    ))
    .fetch_one(state.db.read());
    let read = async {
        let row = totals.await?;
        let by_kind = crate::store::jobs::depths(&state.db).await?;
        Ok::<_, crate::store::StoreError>((row, by_kind))
    };
    let (row, by_kind) = match tokio::time::timeout(Duration::from_secs(1), read).await {
        Ok(Ok(read)) => read,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "reading queue depths for /metrics failed");
            return None;
        }
        Err(_) => {
            tracing::warn!("reading queue depths for /metrics timed out");
            return None;
        }
    };
    let q = Queues {
        outbox_pending: row.try_get::<i64, _>("outbox").unwrap_or(0),
        jobs_pending: row.try_get::<i64, _>("jobs").unwrap_or(0),
        jobs: jobs_by_kind(by_kind),
    };
    state.metrics.store_queues(q.clone());
    Some(q)
}

/// The known kinds' series, zero when absent (so alerts see them), plus any other kind found.
fn jobs_by_kind(found: Vec<(String, String, i64)>) -> Vec<(String, String, i64)> {
    use crate::domain::{backchannel, verification};
    let mut all = std::collections::BTreeMap::new();
    for kind in [
        backchannel::JOB_KIND,
        verification::IDENTITY_CHECK,
        verification::DOCUMENT_CHECK,
    ] {
        for status in ["pending", "running", "failed"] {
            all.insert((kind.to_owned(), status.to_owned()), 0);
        }
    }
    for (kind, status, n) in found {
        all.insert((kind, status), n);
    }
    all.into_iter().map(|((k, s), n)| (k, s, n)).collect()
}
