//! Liveness (the process answers) and readiness (the database and the short-lived store answer).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use crate::app::AppState;

pub async fn live() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let db = state.db.ping().await.is_ok();
    let cache = state.cache.ping().await.is_ok();
    let status = if db && cache {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(
            json!({ "database": if db { "ok" } else { "down" }, "cache": if cache { "ok" } else { "down" } }),
        ),
    )
}
