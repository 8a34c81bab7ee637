//! Liveness (the process answers) and readiness (the database and the short-lived store answer).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use crate::app::AppState;

/// How long readiness waits for each dependency before calling it down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

pub async fn live() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

/// 200 when the database answers `SELECT 1` and the cache answers (Redis `PING`; always for
/// the in-process store), each within [`PROBE_TIMEOUT`]; 503 naming what failed otherwise.
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let (db, cache) = tokio::join!(
        tokio::time::timeout(PROBE_TIMEOUT, state.db.ping()),
        tokio::time::timeout(PROBE_TIMEOUT, state.cache.ping()),
    );
    let db = matches!(db, Ok(Ok(())));
    let cache = matches!(cache, Ok(Ok(())));
    let failed: Vec<&str> = [("database", db), ("cache", cache)]
        .into_iter()
        .filter(|(_, ok)| !ok)
        .map(|(name, _)| name)
        .collect();
    let status = if failed.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |ok: bool| if ok { "ok" } else { "down" };
    (
        status,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::Json(json!({
            "status": if failed.is_empty() { "ready" } else { "unavailable" },
            "database": word(db),
            "cache": word(cache),
            "failed": failed,
        })),
    )
}
