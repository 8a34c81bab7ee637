//! Devices remembered for login: after a complete login that was not on "someone else's
//! computer", the browser gets a long-lived random cookie (the server keeps its SHA-256 in
//! `store::devices`); a remembered device may skip the second step when the person allows it.

use std::net::SocketAddr;

use axum::http::{HeaderMap, HeaderValue, header};

use super::cookies;
use super::errors::PageError;
use crate::app::AppState;
use crate::crypto::{random_token, sha256_hex};
use crate::store::devices;

/// The cookie of a remembered device (a random token; the server keeps its SHA-256).
pub const COOKIE: &str = "idp_device";
/// How long a device stays remembered in the browser: a year.
const TTL: i64 = 365 * 86_400;

/// Whether this browser is a remembered device of `user_id` (its use is recorded).
pub async fn remembered(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    user_id: &str,
) -> Result<bool, PageError> {
    let Some(token) = cookies::read(headers, COOKIE) else {
        return Ok(false);
    };
    let ip = peer.ip().to_string();
    Ok(devices::touch(
        &state.db,
        user_id,
        &sha256_hex(token.as_bytes()),
        Some(&ip),
        state.clock.now(),
    )
    .await?
    .is_some())
}

/// After a complete login on a browser that is not "someone else's computer": remembers the
/// device (a new random cookie; only its hash is stored), unless it already is this person's.
pub async fn remember(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    user_id: &str,
    persistent: bool,
) -> Result<Option<HeaderValue>, PageError> {
    if !persistent {
        return Ok(None);
    }
    if remembered(state, headers, peer, user_id).await? {
        return Ok(None);
    }
    let token = random_token(32);
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| &s[..s.len().min(256)]);
    let ip = peer.ip().to_string();
    devices::remember(
        &state.db,
        &random_token(16),
        user_id,
        &sha256_hex(token.as_bytes()),
        user_agent,
        Some(&ip),
        state.clock.now(),
    )
    .await?;
    Ok(Some(cookies::set(state, COOKIE, &token, Some(TTL))))
}
