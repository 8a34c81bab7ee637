//! Back-channel logout (OIDC Back-Channel Logout 1.0): when a session ends, each client that
//! received tokens in it and registered a `backchannel_logout_uri` is sent a logout token.
//!
//! Delivery is a durable job (`store::jobs`, kind [`JOB_KIND`]) queued with the end of the
//! session, so neither a node killed nor a relying party down loses a logout: any node's
//! worker (`domain::jobs`) delivers it, retrying with backoff up to
//! `jobs.backchannel_max_attempts` / `jobs.backchannel_max_age_secs`, then marks it failed and
//! logs it for the operator. The token is built and signed at delivery (the current key); the
//! job keeps only the client, `sub`, `sid` and a `jti` chosen at queueing. Delivery is at
//! least once (a node killed mid-delivery leaves a lease that runs out, and another node sends
//! again): every attempt of one logout carries the same `jti`, so a relying party can dedupe.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use sqlx::AnyConnection;

use crate::app::AppState;
use crate::domain::tokens;
use crate::protocol::client::Client;
use crate::store::StoreError;
use crate::store::grants::Grant;
use crate::store::jobs::{self, Job};

/// The job kind.
pub const JOB_KIND: &str = "backchannel_logout";

/// How long one delivery may take (OIDC Back-Channel Logout leaves it to the OP).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// What a queued logout keeps until delivery.
#[derive(Debug, Deserialize)]
struct Notice {
    client_id: String,
    sub: String,
    sid: String,
    jti: String,
}

/// Queues, in a transaction of its own, a logout for each client of `participants` that
/// registered a back-channel URI: for callers whose change is already committed.
pub async fn notify(
    state: &AppState,
    sub: &str,
    sid: &str,
    participants: &[Grant],
) -> Result<(), StoreError> {
    let clients = targets(state, participants).await?;
    if clients.is_empty() {
        return Ok(());
    }
    let mut tx = state.db.write().begin().await?;
    queue(&mut tx, &clients, sub, sid, state.clock.now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Like [`notify`], inside the caller's transaction (committed with the session's end).
pub async fn enqueue(
    state: &AppState,
    conn: &mut AnyConnection,
    sub: &str,
    sid: &str,
    participants: &[Grant],
) -> Result<(), StoreError> {
    let clients = targets(state, participants).await?;
    queue(conn, &clients, sub, sid, state.clock.now()).await
}

/// The clients among `participants` with a back-channel URI (the client cache; a client
/// without one gets no job at all).
async fn targets(state: &AppState, participants: &[Grant]) -> Result<Vec<String>, StoreError> {
    let ids: BTreeSet<&str> = participants.iter().map(|g| g.client_id.as_str()).collect();
    let mut out = Vec::new();
    for id in ids {
        if let Some(c) = state.clients.get(&state.db, id).await?
            && c.backchannel_logout_uri.is_some()
        {
            out.push(c.id.clone());
        }
    }
    Ok(out)
}

/// One job per client. `user_id` stays empty on purpose: erasing an account drops the
/// person's jobs, and its logouts must still go out.
async fn queue(
    conn: &mut AnyConnection,
    clients: &[String],
    sub: &str,
    sid: &str,
    now: i64,
) -> Result<(), StoreError> {
    for client_id in clients {
        let payload = json!({
            "client_id": client_id,
            "sub": sub,
            "sid": sid,
            "jti": crate::crypto::random_token(16),
        });
        jobs::enqueue(&mut *conn, JOB_KIND, None, &payload, now, now).await?;
    }
    Ok(())
}

/// One attempt of a claimed logout job: done on a 2xx, skipped when the client is gone or
/// has no URI any more, retried with backoff otherwise, failed when out of attempts or time.
pub async fn deliver(state: &AppState, job: &Job) -> Result<(), StoreError> {
    let Ok(notice) = Notice::deserialize(&job.payload) else {
        tracing::error!(job = %job.id, "back-channel logout job with a malformed payload; marked failed");
        return close(state, job, "failed", Some("malformed payload")).await;
    };
    let client = state.clients.get(&state.db, &notice.client_id).await?;
    let Some((client, uri)) = client.and_then(|c| c.backchannel_logout_uri.clone().map(|u| (c, u)))
    else {
        let why = "skipped: the client is gone or has no back-channel logout URI";
        return close(state, job, "done", Some(why)).await;
    };
    let now = state.clock.now();
    let Some(token) = logout_token(state, &client, &notice, now) else {
        tracing::error!(job = %job.id, client = %client.id, alg = ?client.id_token_alg, "no signing key for the client's algorithm; back-channel logout marked failed");
        return close(state, job, "failed", Some("no signing key")).await;
    };
    let reason = match post(state, &uri, &token).await {
        Ok(()) => return close(state, job, "done", None).await,
        Err(reason) => reason,
    };
    let cfg = &state.config.jobs;
    if job.attempts >= cfg.backchannel_max_attempts
        || now - job.created_at >= cfg.backchannel_max_age_secs
    {
        tracing::error!(job = %job.id, client = %client.id, attempts = job.attempts, reason = %reason, "back-channel logout not delivered; given up");
        return close(state, job, "failed", Some(&reason)).await;
    }
    let wait = super::jobs::backoff(cfg.backchannel_retry_base_secs, job.attempts);
    tracing::warn!(job = %job.id, client = %client.id, attempt = job.attempts, wait, reason = %reason, "back-channel logout not delivered; will retry");
    jobs::retry(&state.db, job, &reason, now + wait).await
}

/// The logout token, signed now with the current key.
fn logout_token(state: &AppState, client: &Client, n: &Notice, now: i64) -> Option<String> {
    let notice = tokens::LogoutNotice {
        client_id: &client.id,
        sub: &n.sub,
        sid: &n.sid,
        jti: &n.jti,
    };
    let keys = state.keys.current();
    tokens::logout_token(&keys, client.id_token_alg, &state.issuer, &notice, now)
}

/// POSTs the token; the error is what the operator sees (never the token).
async fn post(state: &AppState, uri: &str, token: &str) -> Result<(), String> {
    let sent = state
        .http
        .post(uri)
        .timeout(DELIVERY_TIMEOUT)
        .form(&[("logout_token", token)])
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
        Err(e) if e.is_timeout() => Err("no answer within 5 s".into()),
        Err(e) if e.is_connect() => Err("connection failed".into()),
        Err(e) => Err(e.without_url().to_string()),
    }
}

/// Marks the attempt finished; a lost claim (the lease ran out and another node took the
/// job) only means the logout may be sent twice, which its `jti` lets the client see.
async fn close(
    state: &AppState,
    job: &Job,
    status: &str,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let now = state.clock.now();
    if !jobs::finish(state.db.write(), job, status, error, now).await? {
        tracing::info!(job = %job.id, "back-channel logout finished after its lease ran out");
    }
    Ok(())
}
