//! Request ids: `X-Request-Id` from a trusted proxy (`server.trusted_proxies`) is kept, any
//! other request gets a fresh one; the id is echoed in the response and every log line
//! written while the request is handled carries it (a tracing span `request` with the id,
//! the method and the route template; never the query string, cookies or headers).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::app::AppState;

pub const HEADER: &str = "x-request-id";

/// The id of the request being handled (a request extension).
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// An id we accept from a proxy: 1 to 128 characters of `[A-Za-z0-9._:-]`, so it can go
/// into logs and headers without escaping.
fn acceptable(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    ok.then(|| s.to_owned())
}

pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let given = if super::client_ip::from_trusted(&req, &state) {
        req.headers().get(HEADER).and_then(acceptable)
    } else {
        None
    };
    let id = given.unwrap_or_else(|| crate::crypto::random_token(12));
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().clone();
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let started = Instant::now();
    let mut resp = next.run(req).instrument(span.clone()).await;
    let status = resp.status().as_u16();
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    // Probes and scrapes come every few seconds: their lines only at debug level.
    let routine = route.starts_with("/health/") || route == "/metrics";
    span.in_scope(|| {
        if routine {
            tracing::debug!(status, elapsed_ms, "answered");
        } else {
            tracing::info!(status, elapsed_ms, "answered");
        }
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(HEADER, v);
    }
    resp
}
