//! Back-channel logout (OIDC Back-Channel Logout 1.0): when a session ends, each client that
//! received tokens in it and registered a `backchannel_logout_uri` is sent a logout token.
//! Delivery runs in the background with a few retries; failures are logged for the operator.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::app::AppState;
use crate::store::grants::Grant;
use crate::store::sessions::Session;

pub async fn notify(state: &AppState, session: &Session, participants: &[Grant]) {
    let client_ids: BTreeSet<&str> = participants.iter().map(|g| g.client_id.as_str()).collect();
    for client_id in client_ids {
        let client = match state.clients.get(&state.db, client_id).await {
            Ok(Some(c)) => c,
            _ => continue,
        };
        let Some(uri) = client.backchannel_logout_uri.clone() else {
            continue;
        };
        let keys = state.keys.current();
        let Some(token) = super::tokens::logout_token(
            &keys,
            client.id_token_alg,
            &state.issuer,
            &client.id,
            &session.user_id,
            &session.sid,
            state.clock.now(),
        ) else {
            continue;
        };
        let http = state.http.clone();
        let client_id = client.id.clone();
        tokio::spawn(async move {
            for attempt in 0..3u32 {
                let sent = http
                    .post(&uri)
                    .form(&[("logout_token", token.as_str())])
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => return,
                    Ok(r) => {
                        tracing::warn!(client = %client_id, status = %r.status(), attempt, "back-channel logout refused")
                    }
                    Err(e) => {
                        tracing::warn!(client = %client_id, error = %e, attempt, "back-channel logout failed")
                    }
                }
                tokio::time::sleep(Duration::from_millis(200 * 4u64.pow(attempt))).await;
            }
            tracing::error!(client = %client_id, "back-channel logout not delivered after 3 attempts");
        });
    }
}
