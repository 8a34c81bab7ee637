//! Permissions (разрешения) a person gave relying parties: the list the cabinet shows and
//! revocation. Revoking ends at once every live grant of that person at that client (its
//! refresh tokens fail with `invalid_grant`, its access tokens are refused by userinfo and
//! introspection), tells the client by back-channel logout for each affected session, and
//! records the change in the feed and the consent history. See docs/permissions.md.

use std::collections::BTreeMap;

use crate::app::AppState;
use crate::protocol::authorize::AuthorizationRequest;
use crate::store::consents::{self, Consent, HistoryEntry};
use crate::store::{StoreError, events, grants};

/// The feed's kind for permission changes.
pub const EVENT_KIND: &str = "permissions";

/// A person's permissions and their history.
pub struct Overview {
    pub consents: Vec<Consent>,
    pub history: Vec<HistoryEntry>,
}

pub async fn overview(state: &AppState, user_id: &str) -> Result<Overview, StoreError> {
    Ok(Overview {
        consents: consents::list(&state.db, user_id).await?,
        history: consents::history(&state.db, user_id, 200).await?,
    })
}

/// Stores what the person allowed on the consent page and records it in the feed.
pub async fn grant(
    state: &AppState,
    user_id: &str,
    client_name: &str,
    req: &AuthorizationRequest,
) -> Result<(), StoreError> {
    let now = state.clock.now();
    let scopes = req.scopes().filter(|s| s != "openid");
    let c = consents::NewConsent {
        scopes: &scopes,
        permissions: req.permissions.as_ref(),
        now,
    };
    consents::grant_with(&state.db, user_id, &req.client_id, &c).await?;
    let summary = format!("Выдано разрешение для «{client_name}»");
    let detail = serde_json::json!({
        "client_id": req.client_id,
        "scopes": scopes.to_vec(),
        "purposes": req.permissions.as_ref().map(|p| p.purposes()),
        "expires_at": req.permissions.as_ref().map(|p| now + p.validity_seconds()),
    });
    let event = events::NewEvent {
        user_id,
        kind: EVENT_KIND,
        status: "success",
        summary: &summary,
        detail: Some(&detail),
        source: "consent",
    };
    events::record(state.db.write(), &event, now).await?;
    super::login_history::notify_user(state, user_id, EVENT_KIND, &summary).await
}

/// Revokes the active permission of `user_id` for `client_id`. `false` if there was none.
pub async fn revoke(
    state: &AppState,
    user_id: &str,
    client_id: &str,
    source: &str,
) -> Result<bool, StoreError> {
    let now = state.clock.now();
    // Read before the write transaction, which on SQLite holds the one writer.
    let name = state
        .clients
        .get(&state.db, client_id)
        .await?
        .map(|c| c.name.clone())
        .unwrap_or_else(|| client_id.to_owned());
    let mut tx = state.db.write().begin().await?;
    let Some(scopes) = consents::revoke_in(&mut tx, user_id, client_id, now, source).await? else {
        return Ok(false);
    };
    let ended = grants::revoke_for_user_client(&mut tx, user_id, client_id, now).await?;
    let summary = format!("Отозвано разрешение для «{name}»");
    let detail = serde_json::json!({
        "client_id": client_id,
        "scopes": scopes.to_vec(),
        "grants_ended": ended.len(),
    });
    events::record(
        &mut *tx,
        &events::NewEvent {
            user_id,
            kind: EVENT_KIND,
            status: "success",
            summary: &summary,
            detail: Some(&detail),
            source,
        },
        now,
    )
    .await?;
    tell_the_client(state, &mut tx, user_id, ended).await?;
    tx.commit().await?;
    super::login_history::notify_user(state, user_id, EVENT_KIND, &summary).await?;
    Ok(true)
}

/// Queues a back-channel logout for each session the ended grants were made in, in the
/// revocation's transaction.
async fn tell_the_client(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    user_id: &str,
    ended: Vec<grants::Grant>,
) -> Result<(), StoreError> {
    let mut by_sid: BTreeMap<String, Vec<grants::Grant>> = BTreeMap::new();
    for g in ended {
        if let Some(sid) = g.sid.clone() {
            by_sid.entry(sid).or_default().push(g);
        }
    }
    for (sid, participants) in by_sid {
        super::backchannel::enqueue(state, conn, user_id, &sid, &participants).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::protocol::permissions::{ACTIONS, PURPOSES};

    #[test]
    fn every_known_purpose_and_action_has_words() {
        for lang in [consent_ui::Lang::Ru, consent_ui::Lang::En] {
            for p in PURPOSES {
                assert!(consent_ui::purpose_label(p, lang).is_some(), "{p}");
            }
            for a in ACTIONS {
                assert!(consent_ui::action_label(a, lang).is_some(), "{a}");
            }
        }
    }
}
